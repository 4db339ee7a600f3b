/* opt.h - one declarative option table per program or stage.
 *
 * Each row names an option once: its type, bounds, default, help text,
 * choices and checkpoint key. The same table drives
 *   parsing      pp_opt_parse (getopt_long built from the rows),
 *   --help       pp_opt_help (and through --help the shell completions,
 *                which read the choices from the "a|b|c" argument names),
 *   checkpoints  pp_config_save / pp_config_load in stage/stage_config.h.
 * A row's field lives in the caller's config struct at `offset`:
 *
 *   typedef struct { int hidden; double lr; int target; } cfg;
 *   static const char *const targets[] = {"sac", "sql", NULL};
 *   static const pp_opt table[] = {
 *       PP_OPT_INT("hidden", cfg, hidden, 1, 65536, "256", "width of each hidden layer", PP_OPT_SHAPE),
 *       PP_OPT_DOUBLE("lr", cfg, lr, 0, 1, "3e-4", "Adam learning rate", 0),
 *       PP_OPT_CHOICE("target", cfg, target, targets, "sac", "bootstrap target", PP_OPT_SHAPE),
 *       PP_OPT_END};
 *
 * The checkpoint key is the option name with '-' as '_' ("max-batch" is
 * config.max_batch) unless the row names another key or has none
 * (PP_OPT_NOSAVE); PP_OPT_ROW spells out every column. Messages for a bad value have one wording everywhere:
 *   --hidden: 'x', expected an integer 1..65536
 *   --lr: '2', expected a number in [0, 1]
 *   --target: 'x', expected one of sac, sql
 */
#ifndef PP_OPT_H
#define PP_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    PP_OPT_T_INT,    /* int in [lo, hi] */
    PP_OPT_T_COUNT,  /* long long whole number in [lo, hi]; "1e6" is accepted */
    PP_OPT_T_DOUBLE, /* finite double in [lo, hi] */
    PP_OPT_T_SEED,   /* unsigned long long, 0 .. 2^63 - 1 (it is saved as an i64) */
    PP_OPT_T_CHOICE, /* int: the index of the value in choices */
    PP_OPT_T_STRING, /* char[hi]: the value is copied (too long is an error) */
    PP_OPT_T_FLAG,   /* int set to 1; takes no value */
} pp_opt_type;

enum {
    PP_OPT_SHAPE = 1,  /* fixes the network or buffers: on resume it must equal the
                          checkpoint's when it was given or the stage is built */
    PP_OPT_NOSAVE = 2, /* not part of the checkpoint config */
    PP_OPT_KEEP = 4,   /* saved, but on resume the option (or default) wins over the
                          checkpoint even when not given (file paths, cadences) */
    PP_OPT_NEWKEY = 8, /* a checkpoint without this key (older) keeps the option's value */
    PP_OPT_F32 = 16,   /* DOUBLE held at float precision, as the network uses it (so that
                          config.* and metrics say what is used) */
};

typedef struct {
    const char *name;            /* long option without the dashes; NULL ends a table */
    pp_opt_type type;
    size_t offset;               /* of the field in the config struct */
    double lo, hi;               /* bounds; for STRING hi is the field's size in bytes */
    const char *def;             /* the default, as it would be typed; NULL: zero / empty */
    const char *const *choices;  /* CHOICE: NULL-terminated names */
    const char *arg;             /* the value's name in --help ("N", "X", "PATH") */
    const char *help;            /* one line */
    const char *key;             /* checkpoint key (without "config."); NULL: from the name */
    unsigned flags;
} pp_opt;

/* The full row, for a row whose value name or checkpoint key is not the usual one:
 * PP_OPT_ROW(name, type, struct, field, lo, hi, default, choices, arg, help, key, flags). */
#define PP_OPT_ROW(n, t, S, f, l, h, d, c, a, hl, k, fl) \
    {(n), (t), offsetof(S, f), (l), (h), (d), (c), (a), (hl), (k), (fl)}
#define PP_OPT_INT(n, S, f, lo, hi, def, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_INT, S, f, lo, hi, def, NULL, "N", help, NULL, fl)
#define PP_OPT_COUNT(n, S, f, lo, hi, def, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_COUNT, S, f, lo, hi, def, NULL, "N", help, NULL, fl)
#define PP_OPT_DOUBLE(n, S, f, lo, hi, def, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_DOUBLE, S, f, lo, hi, def, NULL, "X", help, NULL, fl)
#define PP_OPT_SEED(n, S, f, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_SEED, S, f, 0, 0, "0", NULL, "N", help, NULL, fl)
#define PP_OPT_CHOICE(n, S, f, choices, def, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_CHOICE, S, f, 0, 0, def, choices, NULL, help, NULL, fl)
#define PP_OPT_STRING(n, S, f, arg, def, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_STRING, S, f, 0, sizeof(((S *)0)->f), def, NULL, arg, help, NULL, fl)
#define PP_OPT_FLAG(n, S, f, help, fl) \
    PP_OPT_ROW(n, PP_OPT_T_FLAG, S, f, 0, 1, NULL, NULL, NULL, help, NULL, fl)
#define PP_OPT_END {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0}

/* The most rows one table may have (the given-set is a 64-bit mask). */
#define PP_OPT_MAX_ROWS 64

/* Set every field to its row's default. 0, or -1 if a default does not parse
 * (a bug in the table: the message names the row). */
int pp_opt_defaults(const pp_opt *table, void *cfg);

/* Parse argv (argv[0] is the program; --name VALUE and --name=VALUE) into
 * cfg, which should hold the defaults already. *given (may be NULL) gets bit
 * i set for each row i that appeared. Unknown options, a missing value and
 * stray arguments are errors. 0 or -1 with the message. */
int pp_opt_parse(const pp_opt *table, void *cfg, int argc, char **argv, uint64_t *given);

/* pp_opt_defaults, then pp_opt_parse: a config from the command line alone. */
int pp_opt_read(const pp_opt *table, void *cfg, int argc, char **argv, uint64_t *given);

/* Parse one value for one row (the same checks and message as parsing). */
int pp_opt_set(const pp_opt *row, void *cfg, const char *value);

/* The number of rows of a table. */
size_t pp_opt_rows(const pp_opt *table);
/* One table of a's rows, then b's, in out (room for PP_OPT_MAX_ROWS + 1
 * rows): a program that takes a stage's options and some of its own (bit i
 * of a given mask is then row i of a for i < *na). 0, or -1 if too many. */
int pp_opt_concat(pp_opt *out, const pp_opt *a, const pp_opt *b, size_t *na);

/* The row named name (without dashes), or NULL. */
const pp_opt *pp_opt_find(const pp_opt *table, const char *name);

/* The options as --help prints them, one per line:
 *   "  --target sac|sql       bootstrap target (default: sac)" */
void pp_opt_help(const pp_opt *table, FILE *out);

/* The row's value as text in buf ("256", "0.0003", "sac"; "" for an unset string). */
void pp_opt_format(const pp_opt *row, const void *cfg, char *buf, size_t cap);

/* The row's checkpoint key without "config." into buf; 0, or 1 if not saved. */
int pp_opt_key(const pp_opt *row, char *buf, size_t cap);

/* x rounded to float precision (PP_OPT_F32 rows). */
double pp_opt_round_f32(double x);

/* One seed and one count parser for every option that takes them. */
int pp_opt_parse_seed(const char *opt, const char *arg, unsigned long long *out);
int pp_opt_parse_count(const char *opt, const char *arg, long long lo, long long hi,
                       long long *out);

#endif
