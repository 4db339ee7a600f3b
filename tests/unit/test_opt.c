/* test_opt.c - the declarative option table (base/opt.h) and its checkpoint
 * config (stage/stage_config.h): defaults, parsing, one wording for a bad
 * value, --help, save and the resume rule (shape rows, given options win). */
#include <stdarg.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "check.h"
#include "stage/stage_config.h"

typedef struct {
    int hidden, target, flag;
    double lr, eps, eps2;
    long long steps;
    unsigned long long seed;
    char path[16];
} cfg;

static const char *const targets[] = {"sac", "sql", NULL};
static const pp_opt table[] = {
    PP_OPT_INT("hidden", cfg, hidden, 1, 4096, "256", "width", PP_OPT_SHAPE),
    PP_OPT_CHOICE("target", cfg, target, targets, "sac", "bootstrap target", PP_OPT_SHAPE),
    PP_OPT_DOUBLE("lr", cfg, lr, 0, 1, "3e-4", "learning rate", 0),
    PP_OPT_COUNT("max-steps", cfg, steps, 0, 1000000, "1000", "steps", 0),
    PP_OPT_SEED("seed", cfg, seed, "seed", 0),
    PP_OPT_STRING("log", cfg, path, "PATH", NULL, "log file", PP_OPT_KEEP),
    PP_OPT_FLAG("verbose", cfg, flag, "say more", PP_OPT_NOSAVE),
    PP_OPT_DOUBLE("eps", cfg, eps, 0, 1, "0.1", "step size", PP_OPT_F32),
    PP_OPT_DOUBLE("eps2", cfg, eps2, 0, 1, "0.3", "another", PP_OPT_F32),
    PP_OPT_END};

static int parse(cfg *c, uint64_t *given, int n, ...)
{
    char *argv[16] = {"prog"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    if (pp_opt_defaults(table, c) != 0) return -1;
    return pp_opt_parse(table, c, n + 1, argv, given);
}

int main(void)
{
    cfg c;
    uint64_t given;
    CHECK(parse(&c, &given, 0) == 0 && c.hidden == 256 && c.target == 0 && c.lr == 3e-4 &&
           c.steps == 1000 && c.seed == 0 && c.path[0] == 0 && c.flag == 0 && given == 0,
       "defaults come from the rows");
    CHECK(parse(&c, &given, 8, "--hidden", "64", "--target=sql", "--max-steps", "1e5", "--verbose",
             "--seed", "42") == 0 &&
           c.hidden == 64 && c.target == 1 && c.steps == 100000 && c.flag == 1 && c.seed == 42 &&
           given == (1u | 2u | 8u | 16u | 64u),
       "values, --name=value, a count written 1e5, a flag; given marks the rows seen");
    CHECK(parse(&c, NULL, 2, "--hidden", "x") != 0 &&
           strcmp(pp_error(), "--hidden: 'x', expected an integer 1..4096") == 0,
       "bad integer: %s", pp_error());
    CHECK(parse(&c, NULL, 2, "--lr", "2") != 0 && strcmp(pp_error(), "--lr: '2', expected a number in [0, 1]") == 0,
       "out-of-range number: %s", pp_error());
    CHECK(parse(&c, NULL, 2, "--lr", "nan") != 0, "NaN is refused");
    CHECK(parse(&c, NULL, 2, "--target", "td3") != 0 &&
           strcmp(pp_error(), "--target: 'td3', expected one of sac, sql") == 0,
       "bad choice: %s", pp_error());
    CHECK(parse(&c, NULL, 2, "--max-steps", "1.5") != 0 &&
           strcmp(pp_error(), "--max-steps: '1.5', expected a whole number 0..1000000") == 0,
       "a count is whole: %s", pp_error());
    CHECK(parse(&c, NULL, 2, "--seed", "1.5") != 0 && parse(&c, NULL, 2, "--seed", "-1") != 0 &&
           parse(&c, NULL, 2, "--seed", "9223372036854775808") != 0,
       "a seed is a whole number 0..2^63-1: %s", pp_error());
    CHECK(parse(&c, NULL, 2, "--seed", "9223372036854775807") == 0 && c.seed == 9223372036854775807ull,
       "the largest seed parses");
    CHECK(parse(&c, NULL, 2, "--log", "a-path-far-too-long-for-it") != 0, "a string too long: %s", pp_error());
    CHECK(parse(&c, NULL, 1, "--nope") != 0 && strcmp(pp_error(), "unknown option --nope") == 0,
       "unknown option: %s", pp_error());
    CHECK(parse(&c, NULL, 1, "--hidden") != 0 && strcmp(pp_error(), "option --hidden needs an argument") == 0,
       "missing value: %s", pp_error());
    CHECK(parse(&c, NULL, 1, "stray") != 0 && strcmp(pp_error(), "unexpected argument 'stray'") == 0,
       "stray argument: %s", pp_error());

    CHECK(parse(&c, NULL, 0) == 0 && c.eps == (double)0.1f && c.eps2 == (double)0.3f,
          "F32 rows hold their value at float precision (two neighbours: GCC 12.2's SLP bug)");
    CHECK(parse(&c, NULL, 2, "--eps", "0.7") == 0 && c.eps == (double)0.7f, "also when given");

    char buf[4096];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    pp_opt_help(table, mem);
    fclose(mem);
    CHECK(strstr(buf, "  --target sac|sql       bootstrap target (default sac)\n") != NULL,
       "--help shows the choices and the default");
    CHECK(strstr(buf, "  --verbose              say more\n") != NULL, "a flag has no value name");

    /* checkpoint config */
    pp_frame *ck = pp_frame_new();
    parse(&c, NULL, 6, "--hidden", "64", "--lr", "0.01", "--log", "a.csv");
    CHECK(pp_config_save(table, &c, ck) == 0, "save");
    int64_t v;
    const char *s;
    size_t len;
    CHECK(pp_frame_get_i64(ck, "config.hidden", &v) == 0 && v == 64 &&
           pp_frame_get_str(ck, "config.target", &s, &len) == 0 && len == 3 && !memcmp(s, "sac", 3) &&
           pp_frame_get_i64(ck, "config.max_steps", &v) == 0 && v == 1000 && !pp_frame_get(ck, "config.verbose"),
       "keys: the name with '_', choices as names, NOSAVE rows absent");

    cfg d;
    parse(&d, &given, 0);
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) == 0 && d.hidden == 64 && d.lr == 0.01 &&
           d.path[0] == 0,
       "resume takes the checkpoint's values, except KEEP rows");
    parse(&d, &given, 2, "--lr", "0.5");
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) == 0 && d.lr == 0.5 && d.hidden == 64,
       "a tunable given on the command line wins");
    parse(&d, &given, 2, "--hidden", "32");
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) != 0 && d.hidden == 32 &&
           strcmp(pp_error(), "the checkpoint has --hidden 64, but this stage has --hidden 32") == 0,
       "a shape given and different is an error, config untouched: %s", pp_error());
    parse(&d, &given, 0);
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 1) != 0 && d.hidden == 256,
       "a built stage's shape must match even when not given: %s", pp_error());
    pp_frame_set_i64(ck, "config.hidden", 99999);
    parse(&d, &given, 0);
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) != 0 && d.hidden == 256,
       "an out-of-range value in the checkpoint is refused: %s", pp_error());
    pp_frame_remove(ck, "config.lr");
    pp_frame_set_i64(ck, "config.hidden", 64);
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) != 0 && strstr(pp_error(), "config.lr"),
       "a missing key is named: %s", pp_error());
    pp_frame_set_str(ck, "config.lr", "fast");
    CHECK(pp_config_load(table, &d, sizeof d, ck, given, 0) != 0, "a key of the wrong type: %s", pp_error());
    pp_frame_free(ck);
    return check_done();
}
