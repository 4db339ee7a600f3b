/* env_opt.h - parsing option values for environment constructors (private to lib/).
 *
 * Each constructor passes a callback to pp_env_parse_options (env_impl.h);
 * the callback converts the value with one of these, which fail with a
 * message naming the key and what was expected:
 *   "option g=abc: expected a number"
 *   "option terminate_when_unhealthy=maybe: expected 0/1/true/false"
 */
#ifndef PP_ENV_OPT_H
#define PP_ENV_OPT_H

/* A finite number (strtod syntax, whole value consumed). */
int pp_env_opt_f64(const char *key, const char *value, double *out);
/* A whole number in [lo, hi]. */
int pp_env_opt_int(const char *key, const char *value, long lo, long hi, long *out);
/* 1/0, true/false, yes/no, on/off (any case). */
int pp_env_opt_bool(const char *key, const char *value, int *out);
/* The error for a key a family does not know; accepted is a ", "-separated list. */
int pp_env_opt_unknown(const char *env_name, const char *key, const char *accepted);

#endif
