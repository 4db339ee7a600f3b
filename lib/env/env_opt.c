/* env_opt.c - the "k=v,k=v" option strings of the environment constructors
 * and their value parsers (declared in env_impl.h and env_opt.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "env/env_impl.h"
#include "env/env_opt.h"
#include "base/err.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

int pp_env_parse_options(const char *options,
                         int (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
    if (!options) return 0;
    size_t len = strlen(options);
    char *buf = pp_xmalloc(len + 1);
    memcpy(buf, options, len + 1);
    if (*trim(buf) == '\0') {
        free(buf);
        return 0;
    }
    int rc = 0;
    char *p = buf;
    /* at most one key per two characters ("a=1,b=2") */
    const char **keys = pp_xmalloc((len / 2 + 1) * sizeof *keys);
    size_t nkeys = 0;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        char *item = trim(p);
        char *eq = strchr(item, '=');
        if (*item == '\0') {
            rc = pp_fail("options \"%s\": empty entry, expected key=value[,key=value...]",
                         options);
            break;
        }
        if (!eq) {
            rc = pp_fail("options \"%s\": '%s' has no value, expected key=value", options,
                         item);
            break;
        }
        *eq = '\0';
        char *key = trim(item), *value = trim(eq + 1);
        if (*key == '\0' || *value == '\0') {
            rc = pp_fail("options \"%s\": '%s=%s' has an empty %s, expected key=value",
                         options, key, value, *key ? "value" : "key");
            break;
        }
        /* A key given twice is a mistake, not an override. */
        int dup = 0;
        for (size_t k = 0; k < nkeys && !dup; k++) dup = strcmp(keys[k], key) == 0;
        if (dup) {
            rc = pp_fail("options \"%s\": '%s' given twice", options, key);
            break;
        }
        keys[nkeys++] = key;
        if (fn(ctx, key, value) != 0) {
            rc = -1;
            break;
        }
        if (!comma) break;
        p = comma + 1;
    }
    free(keys);
    free(buf);
    return rc;
}

int pp_env_opt_f64(const char *key, const char *value, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
        return pp_fail("option %s=%s: expected a finite number", key, value);
    *out = v;
    return 0;
}

int pp_env_opt_int(const char *key, const char *value, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return pp_fail("option %s=%s: expected a whole number in [%ld, %ld]", key, value, lo,
                       hi);
    *out = v;
    return 0;
}

int pp_env_opt_bool(const char *key, const char *value, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(value, no[i]) == 0) return *out = 0, 0;
    }
    return pp_fail("option %s=%s: expected 0/1/true/false", key, value);
}

int pp_env_opt_unknown(const char *env_name, const char *key, const char *accepted)
{
    return pp_fail("%s: unknown option '%s', expected one of: %s", env_name, key, accepted);
}

