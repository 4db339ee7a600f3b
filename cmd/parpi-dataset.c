/* parpi-dataset - data sets: import D4RL HDF5 files, export them back, and
 * describe them; see man/man1/parpi-dataset.1 and docs/design.md section
 * 10.
 *
 * One program, subcommands in a table: each row is a name, its synopsis,
 * its option table (lib/base/opt.h: parsing, --help, completion) and the
 * function that runs it. A new subcommand is a row and its function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "data/dataset.h"
#include "data/dataset_stats.h"
#include "data/hdf5_d4rl.h"
#include "env/env.h"
#include "frame/frame.h"
#include "offline/recipe.h"

#include "common.h"

/* The options of every subcommand, each table taking the fields it needs. */
typedef struct {
    char out[4096];
    char env[64];
    char env_options[256];
    char manifest[4096], run_dir[4096]; /* generate */
    long long rows;
    unsigned long long seed;
} ds_opts;

static const pp_opt import_options[] = {
    PP_OPT_STRING("out", ds_opts, out, "FILE", NULL, "the data set to write (required)", 0),
    PP_OPT_STRING("env", ds_opts, env, "NAME", NULL,
                  "the task the rows are for: observation and action sizes are checked against it", 0),
    PP_OPT_STRING("env-options", ds_opts, env_options, "K=V,..", NULL, "the task's constructor options", 0),
    PP_OPT_END,
};

static const pp_opt export_options[] = {
    PP_OPT_STRING("out", ds_opts, out, "FILE", NULL, "the HDF5 file to write (required)", 0),
    PP_OPT_END,
};

static const pp_opt info_options[] = {
    PP_OPT_STRING("env", ds_opts, env, "NAME", NULL, "the task, for the D4RL score (default: the data set's)", 0),
    PP_OPT_END,
};

static const pp_opt generate_options[] = {
    PP_OPT_STRING("out", ds_opts, out, "FILE", NULL, "the data set to write (required)", 0),
    PP_OPT_COUNT("rows", ds_opts, rows, 0, 1e10, "0",
                 "rows to collect (0: the manifest's, 1e6 as D4RL's; medium-expert 2e6)", 0),
    PP_OPT_SEED("seed", ds_opts, seed, "the collection's seed (default: the manifest's)", 0),
    PP_OPT_STRING("manifest", ds_opts, manifest, "FILE", NULL,
                  "the behaviour policies (default: share/parpi/d4rl/manifest)", 0),
    PP_OPT_STRING("run-dir", ds_opts, run_dir, "DIR", NULL,
                  "medium-replay: the training run's directory, kept, and resumed if it exists "
                  "(default: the --out file's name with .run)", 0),
    PP_OPT_END,
};

typedef struct {
    const char *name;
    const char *synopsis; /* after "parpi-dataset NAME " */
    const char *summary;  /* one line */
    const pp_opt *options;
    int needs_out;        /* --out is required */
    int needs_hdf5;       /* fails without HDF5 built in */
    int (*run)(const char *in, const ds_opts *o, uint64_t given);
} subcommand;

static int run_import(const char *in, const ds_opts *o, uint64_t given);
static int run_export(const char *in, const ds_opts *o, uint64_t given);
static int run_info(const char *in, const ds_opts *o, uint64_t given);
static int run_generate(const char *name, const ds_opts *o, uint64_t given);

static const subcommand subcommands[] = {
    {"import", "FILE.hdf5 --out DATASET [--env NAME]", "Read a D4RL HDF5 file into a data set", import_options, 1,
     1, run_import},
    {"export", "DATASET --out FILE.hdf5", "Write a data set as a D4RL HDF5 file", export_options, 1, 1, run_export},
    {"info", "DATASET|FILE.hdf5 [--env NAME]", "Rows, episodes, returns, D4RL score, ranges and columns of a data set",
     info_options, 0, 0, run_info},
    {"generate", "TASK-KIND --out DATASET [--rows N] [--seed N]",
     "Collect a data set by D4RL's recipe with parpi's behaviour policies (hopper-medium, ...)", generate_options, 1,
     0, run_generate},
};
#define NSUB ((int)(sizeof subcommands / sizeof *subcommands))

static const char hdf5_missing[] =
    "HDF5 support was not built into this parpi (make HDF5=0, or no libhdf5-dev): import and export fail, and so\n"
    "does info of an .hdf5 file.\n";

static void usage(FILE *out)
{
    fputs("Usage: parpi-dataset COMMAND ARGS [OPTIONS]\n"
          "Data sets: D4RL HDF5 files in and out, what a data set holds, and new ones by D4RL's recipe.\n\n",
          out);
    for (int i = 0; i < NSUB; i++)
        fprintf(out, "  parpi-dataset %s %s\n      %s\n", subcommands[i].name, subcommands[i].synopsis,
                subcommands[i].summary);
    fputs("\nCOMMAND is one of ", out);
    for (int i = 0; i < NSUB; i++) fprintf(out, "%s%s", i ? ", " : "", subcommands[i].name);
    fputs(". 'parpi-dataset COMMAND --help' lists its options.\n"
          "  -h, --help             this text;  --version  the version\n",
          out);
    if (!pp_hdf5_built()) fprintf(out, "\n%s", hdf5_missing);
    fputs("\nExit status: 0 done, 1 failure (a bad file, named with the key and row), 2 usage error.\n"
          "See parpi-dataset(1).\n",
          out);
}

static void sub_usage(const subcommand *s, FILE *out)
{
    fprintf(out, "Usage: parpi-dataset %s %s\n%s.\n\nOptions:\n", s->name, s->synopsis, s->summary);
    pp_opt_help(s->options, out);
    fputs("  -h, --help             this text\n", out);
    if (s->needs_hdf5 && !pp_hdf5_built()) fprintf(out, "\n%s", hdf5_missing);
}

static void sub_usage_at(int i, FILE *out) { sub_usage(&subcommands[i], out); }

static int usage_error(const char *sub) { return pp_cmd_usage_error("parpi-dataset", sub); }

/* The words after the subcommand: the files (*files, *nfiles) and the
 * options (argv[0] first, for pp_opt_parse). A word is an option's value
 * when it follows an option of the table that takes one, written without
 * '='; after "--" every word is a file. */
static void split(const subcommand *s, int argc, char **argv, char **opts, int *nopts, char **files, int *nfiles)
{
    *nopts = *nfiles = 0;
    opts[(*nopts)++] = argv[0];
    int only_files = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!only_files && strcmp(a, "--") == 0) {
            only_files = 1;
            continue;
        }
        if (only_files || a[0] != '-' || a[1] == '\0') {
            files[(*nfiles)++] = argv[i];
            continue;
        }
        opts[(*nopts)++] = argv[i];
        if (strncmp(a, "--", 2) != 0 || strchr(a, '=') || i + 1 >= argc) continue;
        for (const pp_opt *row = s->options; row->name; row++)
            if (strcmp(a + 2, row->name) == 0 && row->type != PP_OPT_T_FLAG) opts[(*nopts)++] = argv[++i];
    }
    opts[*nopts] = NULL;
}

int main(int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    int status, index = pp_cmd_subcommand(argc, argv, "parpi-dataset", subcommands, NSUB, sizeof *subcommands, usage,
                                          sub_usage_at, &status);
    if (index < 0) return status;
    const subcommand *s = &subcommands[index];
    char **opts = pp_xcalloc((size_t)argc + 1, sizeof *opts), **files = pp_xcalloc((size_t)argc + 1, sizeof *files);
    int nopts, nfiles;
    ds_opts o;
    uint64_t given = 0;
    split(s, argc, argv, opts, &nopts, files, &nfiles);
    int rc = pp_opt_read(s->options, &o, nopts, opts, &given);
    const char *file = nfiles ? files[0] : NULL;
    if (rc == 0 && nfiles != 1)
        rc = nfiles ? pp_fail("%s takes one file, got '%s' and '%s'", s->name, files[0], files[1])
                    : pp_fail("%s needs a file: parpi-dataset %s %s", s->name, s->name, s->synopsis);
    if (rc == 0 && s->needs_out && !o.out[0]) rc = pp_fail("%s needs --out FILE", s->name);
    free(opts);
    free(files);
    if (rc != 0) return usage_error(s->name);
    if (s->needs_hdf5 && !pp_hdf5_built()) {
        pp_hdf5_not_built();
        pp_die_error(PP_EXIT_FAILURE);
    }
    return s->run(file, &o, given);
}

/* ---- the subcommands: each returns the exit status ---- */

/* The observation and action sizes of --env (a usage error when unknown). */
static int env_dims(const ds_opts *o, int *obs_dim, int *act_dim)
{
    pp_env *e = NULL;
    if (pp_env_create(o->env, o->env_options[0] ? o->env_options : NULL, &e) != 0) {
        pp_fail_prefix("--env %s: ", o->env);
        return -1;
    }
    *obs_dim = pp_env_get_info(e)->obs_dim;
    *act_dim = pp_env_get_info(e)->act_dim;
    pp_env_free(e);
    return 0;
}

/* What an import assumed or skipped, on stderr. */
static void tell(const char *in, const pp_hdf5_report *r)
{
    const char *p = pp_progname();
    if (r->timeouts_absent) fprintf(stderr, "%s: %s has no timeouts: read as all false\n", p, in);
    if (r->next.derived) {
        fprintf(stderr,
                "%s: %s has no next_observations: paired observations[i+1] within episodes; kept the terminal "
                "rows with their own observation as a placeholder next (never bootstrapped) %lld; dropped the "
                "rows without one (timeout %lld, at the end of the data %lld); rows now ending their episode "
                "as a timeout: %lld\n",
                p, in, (long long)r->next.terminal_placeholder, (long long)r->next.dropped_timeout,
                (long long)r->next.dropped_tail, (long long)r->next.marked_timeout);
    }
    for (const char *n = r->notes; *n;) {
        size_t len = strcspn(n, "\n");
        fprintf(stderr, "%s: %s: %.*s\n", p, in, (int)len, n);
        n += len + (n[len] == '\n');
    }
}

static int run_import(const char *in, const ds_opts *o, uint64_t given)
{
    (void)given;
    pp_hdf5_import_opts io = {.env = o->env};
    if (o->env[0] && env_dims(o, &io.obs_dim, &io.act_dim) != 0) return usage_error("import");
    if (pp_frame_prepare_save(o->out) != 0) pp_die_error(PP_EXIT_FAILURE);
    pp_dataset *d = NULL;
    pp_hdf5_report rep;
    if (pp_hdf5_import(in, &io, &d, &rep) != 0) pp_die_error(PP_EXIT_FAILURE);
    tell(in, &rep);
    int rc = pp_dataset_save(d, o->out);
    if (rc == 0)
        fprintf(stderr, "%s: wrote %s: %lld rows, %d columns%s%s\n", pp_progname(), o->out, (long long)d->rows,
                d->ncols, d->env[0] ? ", env " : "", d->env);
    pp_dataset_free(d);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}

static int run_export(const char *in, const ds_opts *o, uint64_t given)
{
    (void)given;
    if (pp_frame_prepare_save(o->out) != 0) pp_die_error(PP_EXIT_FAILURE);
    if (pp_hdf5_is_hdf5(in))
        pp_die(PP_EXIT_FAILURE, "%s is an HDF5 file: export writes one from a data set (parpi-dataset import "
                                "makes one from it)", in);
    pp_dataset *d = NULL;
    if (pp_dataset_load(&d, in) != 0) pp_die_error(PP_EXIT_FAILURE);
    int rc = pp_hdf5_export(d, o->out);
    if (rc == 0) fprintf(stderr, "%s: wrote %s: %lld rows\n", pp_progname(), o->out, (long long)d->rows);
    pp_dataset_free(d);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}

/* A data set file, or an HDF5 file read as it is (no rows dropped). */
static int run_info(const char *in, const ds_opts *o, uint64_t given)
{
    (void)given;
    pp_dataset *d = NULL;
    if (pp_hdf5_is_hdf5(in)) {
        pp_hdf5_import_opts io = {.env = o->env, .keep_rows = 1};
        pp_hdf5_report rep;
        if (pp_hdf5_import(in, &io, &d, &rep) != 0) pp_die_error(PP_EXIT_FAILURE);
        tell(in, &rep);
    } else if (pp_dataset_load(&d, in) != 0)
        pp_die_error(PP_EXIT_FAILURE);
    pp_dataset_stats st;
    if (pp_dataset_stats_compute(d, o->env, &st) != 0) {
        pp_dataset_free(d);
        pp_fail_prefix("%s: ", in);
        pp_die_error(PP_EXIT_FAILURE);
    }
    pp_dataset_stats_print(&st, d, o->env, stdout);
    pp_dataset_stats_free(&st);
    pp_dataset_free(d);
    return pp_cmd_flush_stdout();
}

/* A line on stderr every tenth of the rows. */
static void generate_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
    int64_t *next = ctx;
    if (done < *next && done < total) return;
    fprintf(stderr, "%s: %s: %lld of %lld rows\n", pp_progname(), what, (long long)done, (long long)total);
    *next = done + (total + 9) / 10;
}

/* Whether --seed was given (its row's bit in given). */
static int seed_given(uint64_t given)
{
    for (int i = 0; generate_options[i].name; i++)
        if (strcmp(generate_options[i].name, "seed") == 0) return (int)((given >> i) & 1);
    return 0;
}

static int run_generate(const char *name, const ds_opts *o, uint64_t given)
{
    if (pp_frame_prepare_save(o->out) != 0) pp_die_error(PP_EXIT_FAILURE);
    int64_t next = 0;
    char run_dir[sizeof o->out + 8];
    snprintf(run_dir, sizeof run_dir, "%s.run", o->out);
    pp_recipe_config c = {.manifest = o->manifest[0] ? o->manifest : NULL,
                          .name = name,
                          .rows = o->rows,
                          .has_seed = seed_given(given),
                          .seed = o->seed,
                          .run_dir = o->run_dir[0] ? o->run_dir : run_dir,
                          .progress = generate_progress,
                          .ctx = &next};
    pp_dataset *d = NULL;
    if (pp_recipe_generate(&c, &d) != 0) pp_die_error(PP_EXIT_FAILURE);
    int rc = pp_dataset_save(d, o->out);
    if (rc == 0)
        fprintf(stderr, "%s: wrote %s: %lld rows of %s\n", pp_progname(), o->out, (long long)d->rows, d->env);
    pp_dataset_free(d);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}
