#include "base/err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static _Thread_local char err_msg[2048];
static const char *progname = "parpi";

int pp_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    return -1;
}

int pp_fail_prefix(const char *fmt, ...)
{
    char prefix[1024], old[sizeof err_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err_msg, sizeof old);
    size_t plen = strlen(prefix), olen = strlen(old);
    if (plen > sizeof err_msg - 1) plen = sizeof err_msg - 1;
    if (olen > sizeof err_msg - 1 - plen) olen = sizeof err_msg - 1 - plen;
    memcpy(err_msg, prefix, plen);
    memcpy(err_msg + plen, old, olen);
    err_msg[plen + olen] = '\0';
    return -1;
}

const char *pp_error(void) { return err_msg; }
void pp_error_clear(void) { err_msg[0] = '\0'; }

void pp_set_progname(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    progname = slash ? slash + 1 : (argv0 ? argv0 : "parpi");
}

const char *pp_progname(void) { return progname; }

void pp_die_error(int code)
{
    fprintf(stderr, "%s: %s\n", progname, err_msg[0] ? err_msg : "unknown error");
    exit(code);
}

void pp_die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

/* Out of memory is an error like the others: a message and exit 1, not
 * abort() (a core file, and "killed by signal 6" from parpi-train). */
static void oom(size_t n)
{
    fprintf(stderr, "%s: out of memory allocating %zu bytes\n", progname, n);
    exit(PP_EXIT_FAILURE);
}

void *pp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *pp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(size && n > SIZE_MAX / size ? SIZE_MAX : n * size);
    return p;
}

void *pp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

float *pp_xalloc_f32(size_t n)
{
    if (n > (SIZE_MAX - 63) / sizeof(float)) oom(SIZE_MAX);
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) oom(bytes);
    memset(p, 0, bytes ? bytes : 64);
    return p;
}

int pp_check_memory(double bytes)
{
    const double gib = (double)(1u << 30);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (phys > 0 && bytes > phys)
        return pp_fail("needs %.1f GiB, more than this machine's %.1f GiB", bytes / gib, phys / gib);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && bytes > (double)rl.rlim_cur)
        return pp_fail("needs %.1f GiB, more than the address-space limit (ulimit -v) of %.1f GiB", bytes / gib,
                       (double)rl.rlim_cur / gib);
    return 0;
}
