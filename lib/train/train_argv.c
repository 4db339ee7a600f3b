/* train_argv.c - argument vectors and the shell quoting of the run's config
 * file (train.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "train/train.h"

void pp_argv_add(pp_argv *a, const char *s)
{
    if (a->argc >= PP_TRAIN_MAX_ARGS - 1) {
        fprintf(stderr, "%s: too many arguments for one stage (over %d)\n", pp_progname(),
                PP_TRAIN_MAX_ARGS - 1);
        exit(PP_EXIT_USAGE);
    }
    size_t n = strlen(s) + 1;
    a->argv[a->argc] = memcpy(pp_xmalloc(n), s, n);
    a->argc++;
    a->argv[a->argc] = NULL;
}

void pp_argv_addf(pp_argv *a, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pp_argv_add(a, buf);
}

void pp_argv_free(pp_argv *a)
{
    for (int i = 0; i < a->argc; i++) free(a->argv[i]);
    a->argc = 0;
    a->argv[0] = NULL;
}

static int shell_safe(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_./=,:+@%", *s)) return 0;
    return 1;
}

void pp_shell_quote(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0) return;
    if (shell_safe(s)) {
        snprintf(out, cap, "%s", s);
        return;
    }
    out[o++] = '\'';
    for (; *s && o + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else out[o++] = *s;
    }
    if (o + 1 < cap) out[o++] = '\'';
    out[o] = '\0';
}

int pp_shell_split(const char *line, pp_argv *out)
{
    char word[4096];
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '\n') return 0;
        size_t n = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                p++;
                while (*p && *p != '\'') {
                    if (n + 1 >= sizeof word) return pp_fail("word too long");
                    word[n++] = *p++;
                }
                if (*p != '\'') return pp_fail("unterminated quote in '%s'", line);
                p++;
            } else if (*p == '\\' && p[1]) {
                if (n + 1 >= sizeof word) return pp_fail("word too long");
                word[n++] = p[1];
                p += 2;
            } else {
                if (n + 1 >= sizeof word) return pp_fail("word too long");
                word[n++] = *p++;
            }
        }
        word[n] = '\0';
        pp_argv_add(out, word);
    }
}
