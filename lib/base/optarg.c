/* optarg.c - option argument parsing with named errors (see optarg.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/optarg.h"

int pp_optarg_int(const char *opt, const char *arg, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi)
        return pp_fail("%s: '%s', expected an integer %ld..%ld", opt, arg, lo, hi);
    *out = (int)v;
    return 0;
}

int pp_optarg_double(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < lo || v > hi)
        return pp_fail("%s: '%s', expected a number in [%g, %g]", opt, arg, lo, hi);
    *out = v;
    return 0;
}

int pp_optarg_choice(const char *opt, const char *arg, const char *const *choices, int *out)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(arg, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return pp_fail("%s: '%s', expected one of %s", opt, arg, list);
}

int pp_optarg_unknown(char **argv, int optind_after, int optopt_val, int missing_arg)
{
    const char *word = optind_after > 0 ? argv[optind_after - 1] : "?";
    if (missing_arg) return pp_fail("option %s needs an argument", word);
    if (optopt_val > 0 && (word[0] != '-' || word[1] != '-'))
        return pp_fail("unknown option -%c", optopt_val);
    return pp_fail("unknown option %s", word);
}

int pp_edit_distance(const char *a, const char *b, int fold_case)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 99;
    int prev[64], cur[64];
    for (size_t j = 0; j <= m; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int x = (unsigned char)a[i - 1], y = (unsigned char)b[j - 1];
            if (fold_case) x = tolower(x), y = tolower(y);
            int sub = prev[j - 1] + (x != y), del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (m + 1) * sizeof *prev);
    }
    return prev[m];
}
