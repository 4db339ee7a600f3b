/* optarg.c - option argument parsing with named errors (see optarg.h). */
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
