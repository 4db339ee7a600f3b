/* optarg.h - parse a stage option's argument with a message naming the option.
 *   pp_optarg_int("--hidden", optarg, 1, 65536, &v)  ->  "--hidden: 'x', expected an integer 1..65536"
 * All return 0 or -1 (pp_fail). */
#ifndef PP_OPTARG_H
#define PP_OPTARG_H

int pp_optarg_int(const char *opt, const char *arg, long lo, long hi, int *out);
int pp_optarg_double(const char *opt, const char *arg, double lo, double hi, double *out);
/* arg must be one of the NULL-terminated choices; *out = its index. */
int pp_optarg_choice(const char *opt, const char *arg, const char *const *choices, int *out);
/* Levenshtein distance between a and b, for "did you mean" suggestions;
 * fold_case compares letters case-insensitively. Strings longer than 63
 * bytes count as far (99). */
int pp_edit_distance(const char *a, const char *b, int fold_case);

/* The message for an unknown option or a missing argument after getopt_long
 * returned '?' or ':' (argv and optind as getopt_long left them). Returns -1. */
int pp_optarg_unknown(char **argv, int optind_after, int optopt_val, int missing_arg);

#endif
