/* opt.c - the declarative option table: defaults, parsing, --help (opt.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "base/optarg.h"

#define FIELD(row, cfg, type) ((type *)((char *)(cfg) + (row)->offset))
#define CFIELD(row, cfg, type) ((const type *)((const char *)(cfg) + (row)->offset))

int pp_opt_parse_seed(const char *opt, const char *arg, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || v > (unsigned long long)INT64_MAX)
        return pp_fail("%s: '%s', expected a whole number 0..%lld", opt, arg, (long long)INT64_MAX);
    *out = v;
    return 0;
}

int pp_opt_parse_count(const char *opt, const char *arg, long long lo, long long hi,
                       long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (!errno && end != arg && (*end == 'e' || *end == 'E' || *end == '.')) {
        /* 1e6, 2.5e5: a whole number written as a float */
        errno = 0;
        double d = strtod(arg, &end);
        if (errno || *end || !(fabs(d) < 9e15) || d != floor(d)) end = (char *)"x";
        else v = (long long)d;
    }
    if (errno || end == arg || *end || v < lo || v > hi)
        return pp_fail("%s: '%s', expected a whole number %lld..%lld", opt, arg, lo, hi);
    *out = v;
    return 0;
}

/* One store per call, out of line: GCC 12.2 at -O2 drops the rounding when
 * two such assignments to neighbouring doubles are vectorised together
 * (c->a = (float)c->a; c->b = (float)c->b; keeps the doubles as they were). */
__attribute__((noinline)) double pp_opt_round_f32(double x)
{
    volatile float f = (float)x;
    return f;
}

int pp_opt_set(const pp_opt *row, void *cfg, const char *value)
{
    char opt[80];
    snprintf(opt, sizeof opt, "--%s", row->name);
    switch (row->type) {
    case PP_OPT_T_INT:
        return pp_optarg_int(opt, value, (long)row->lo, (long)row->hi, FIELD(row, cfg, int));
    case PP_OPT_T_COUNT:
        return pp_opt_parse_count(opt, value, (long long)row->lo, (long long)row->hi,
                                  FIELD(row, cfg, long long));
    case PP_OPT_T_DOUBLE: {
        double *d = FIELD(row, cfg, double);
        if (pp_optarg_double(opt, value, row->lo, row->hi, d) != 0) return -1;
        if (row->flags & PP_OPT_F32) *d = pp_opt_round_f32(*d);
        return 0;
    }
    case PP_OPT_T_SEED: return pp_opt_parse_seed(opt, value, FIELD(row, cfg, unsigned long long));
    case PP_OPT_T_CHOICE: return pp_optarg_choice(opt, value, row->choices, FIELD(row, cfg, int));
    case PP_OPT_T_STRING: {
        size_t n = strlen(value), cap = (size_t)row->hi;
        if (n >= cap) return pp_fail("%s: value too long (%zu bytes at most)", opt, cap - 1);
        memcpy(FIELD(row, cfg, char), value, n + 1);
        return 0;
    }
    case PP_OPT_T_FLAG: *FIELD(row, cfg, int) = 1; return 0;
    }
    return pp_fail("%s: unknown option type %d", opt, (int)row->type);
}

int pp_opt_defaults(const pp_opt *table, void *cfg)
{
    for (const pp_opt *row = table; row->name; row++) {
        if (row->type == PP_OPT_T_FLAG) {
            *FIELD(row, cfg, int) = 0;
            continue;
        }
        if (row->type == PP_OPT_T_STRING && !row->def) {
            FIELD(row, cfg, char)[0] = '\0';
            continue;
        }
        if (pp_opt_set(row, cfg, row->def ? row->def : "0") != 0)
            return pp_fail_prefix("the default of ");
    }
    return 0;
}

size_t pp_opt_rows(const pp_opt *table)
{
    size_t n = 0;
    while (table[n].name) n++;
    return n;
}

int pp_opt_concat(pp_opt *out, const pp_opt *a, const pp_opt *b, size_t *na)
{
    const size_t n = pp_opt_rows(a), m = pp_opt_rows(b);
    if (n + m > PP_OPT_MAX_ROWS) return pp_fail("over %d options in one table", PP_OPT_MAX_ROWS);
    memcpy(out, a, n * sizeof *out);
    memcpy(out + n, b, (m + 1) * sizeof *out);
    *na = n;
    return 0;
}

const pp_opt *pp_opt_find(const pp_opt *table, const char *name)
{
    for (const pp_opt *row = table; row->name; row++)
        if (strcmp(row->name, name) == 0) return row;
    return NULL;
}

int pp_opt_parse(const pp_opt *table, void *cfg, int argc, char **argv, uint64_t *given)
{
    struct option lo[PP_OPT_MAX_ROWS + 1];
    int n = 0;
    for (const pp_opt *row = table; row->name; row++) {
        if (n == PP_OPT_MAX_ROWS) return pp_fail("option table over %d rows", PP_OPT_MAX_ROWS);
        lo[n] = (struct option){row->name, row->type == PP_OPT_T_FLAG ? no_argument : required_argument,
                                NULL, 256 + n};
        n++;
    }
    lo[n] = (struct option){0, 0, 0, 0};
    if (given) *given = 0;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        if (c == ':') return pp_optarg_unknown(argv, optind, optopt, 1);
        if (c < 256 || c >= 256 + n) return pp_optarg_unknown(argv, optind, optopt, 0);
        const pp_opt *row = &table[c - 256];
        if (pp_opt_set(row, cfg, optarg ? optarg : "") != 0) return -1;
        if (given) *given |= (uint64_t)1 << (c - 256);
    }
    if (optind < argc) return pp_fail("unexpected argument '%s'", argv[optind]);
    return 0;
}

int pp_opt_read(const pp_opt *table, void *cfg, int argc, char **argv, uint64_t *given)
{
    if (pp_opt_defaults(table, cfg) != 0) return -1;
    return pp_opt_parse(table, cfg, argc, argv, given);
}

void pp_opt_format(const pp_opt *row, const void *cfg, char *buf, size_t cap)
{
    switch (row->type) {
    case PP_OPT_T_INT:
    case PP_OPT_T_FLAG: snprintf(buf, cap, "%d", *CFIELD(row, cfg, int)); break;
    case PP_OPT_T_COUNT: snprintf(buf, cap, "%lld", *CFIELD(row, cfg, long long)); break;
    case PP_OPT_T_DOUBLE: snprintf(buf, cap, "%.17g", *CFIELD(row, cfg, double)); break;
    case PP_OPT_T_SEED: snprintf(buf, cap, "%llu", *CFIELD(row, cfg, unsigned long long)); break;
    case PP_OPT_T_CHOICE: snprintf(buf, cap, "%s", row->choices[*CFIELD(row, cfg, int)]); break;
    case PP_OPT_T_STRING: snprintf(buf, cap, "%s", CFIELD(row, cfg, char)); break;
    }
}

int pp_opt_key(const pp_opt *row, char *buf, size_t cap)
{
    if (row->flags & PP_OPT_NOSAVE) return 1;
    snprintf(buf, cap, "%s", row->key ? row->key : row->name);
    for (char *p = buf; *p; p++)
        if (*p == '-') *p = '_';
    return 0;
}

void pp_opt_help(const pp_opt *table, FILE *out)
{
    for (const pp_opt *row = table; row->name; row++) {
        char left[128];
        int n = snprintf(left, sizeof left, "  --%s", row->name);
        if (row->type == PP_OPT_T_CHOICE) {
            for (int i = 0; row->choices[i] && n < (int)sizeof left - 2; i++)
                n += snprintf(left + n, sizeof left - (size_t)n, "%c%s", i ? '|' : ' ',
                              row->choices[i]);
        } else if (row->arg) {
            snprintf(left + n, sizeof left - (size_t)n, " %s", row->arg);
        }
        if (strlen(left) > 24) fprintf(out, "%s\n%-25s", left, "");
        else fprintf(out, "%-25s", left);
        fputs(row->help, out);
        if (row->def && row->def[0] && row->type != PP_OPT_T_FLAG) fprintf(out, " (default %s)", row->def);
        fputc('\n', out);
    }
}
