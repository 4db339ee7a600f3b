/* parpi-model - MOPO's dynamics ensemble: train it on a data set, and
 * evaluate it on one; see man/man1/parpi-model.1 and docs/algorithm.md
 * section 18.
 *
 * One program, subcommands in a table (as parpi-dataset): each row is a name,
 * its synopsis, its option table (lib/base/opt.h: parsing, --help,
 * completion) and the function that runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "data/dataset.h"
#include "frame/frame.h"
#include "offline/model.h"

#include "common.h"

/* The options of both subcommands, each table taking the fields it needs. */
typedef struct {
    char dataset[4096], out[4096], model[4096];
    int ensemble, layers, hidden, elites, batch_size, patience, csv;
    long long max_epochs, rows;
    double lr, holdout;
    unsigned long long seed;
} md_opts;

static const pp_opt train_options[] = {
    PP_OPT_STRING("dataset", md_opts, dataset, "FILE", NULL,
                  "the data set to learn from (required; with next_observations)", 0),
    PP_OPT_STRING("out", md_opts, out, "FILE", NULL, "the model checkpoint to write (required)", 0),
    PP_OPT_INT("ensemble", md_opts, ensemble, 1, PP_MODEL_MAX_MEMBERS, "7", "members of the ensemble", 0),
    PP_OPT_INT("elites", md_opts, elites, 1, PP_MODEL_MAX_MEMBERS, "5",
               "members of lowest holdout MSE kept as elites (at most --ensemble)", 0),
    PP_OPT_INT("layers", md_opts, layers, 1, PP_MLP_MAX_LAYERS - 1, "4", "hidden layers per member", 0),
    PP_OPT_INT("hidden", md_opts, hidden, 1, 4096, "200", "units per hidden layer (swish)", 0),
    PP_OPT_DOUBLE("lr", md_opts, lr, 1e-12, 1e12, "1e-3", "Adam's step size", 0),
    PP_OPT_INT("batch-size", md_opts, batch_size, 1, 1 << 20, "256",
               "rows per step, shared by the members", 0),
    PP_OPT_DOUBLE("holdout", md_opts, holdout, 0, 0.99, "0.2",
                  "fraction of the rows held out (at most 5000 rows, as MOPO)", 0),
    PP_OPT_INT("patience", md_opts, patience, 0, 1 << 20, "5",
               "stop after more than N epochs without a member improving its holdout MSE by 1%", 0),
    PP_OPT_COUNT("max-epochs", md_opts, max_epochs, 0, 1e12, "0", "at most N epochs (0: the early stop only)", 0),
    PP_OPT_SEED("seed", md_opts, seed, "weights, the holdout split and the batches", 0),
    PP_OPT_END,
};

static const pp_opt eval_options[] = {
    PP_OPT_STRING("model", md_opts, model, "FILE", NULL, "the model checkpoint (required)", 0),
    PP_OPT_STRING("dataset", md_opts, dataset, "FILE", NULL, "the data set to evaluate on (required)", 0),
    PP_OPT_COUNT("rows", md_opts, rows, 0, 1e12, "0", "the first N rows only (0: all)", 0),
    PP_OPT_FLAG("csv", md_opts, csv, "print CSV (member,mse,nll,elite) instead of the table", 0),
    PP_OPT_END,
};

typedef struct {
    const char *name;
    const char *synopsis; /* after "parpi-model NAME " */
    const char *summary;  /* one line */
    const pp_opt *options;
    int (*run)(const md_opts *o);
} subcommand;

static int run_train(const md_opts *o);
static int run_eval(const md_opts *o);

static const subcommand subcommands[] = {
    {"train", "--dataset FILE --out MODEL [OPTIONS]",
     "Train MOPO's dynamics ensemble on a data set, with early stopping on a holdout", train_options, run_train},
    {"eval", "--model MODEL --dataset FILE [--rows N] [--csv]",
     "Each member's one-step MSE and NLL on a data set, and the zero-delta baseline", eval_options, run_eval},
};
#define NSUB ((int)(sizeof subcommands / sizeof *subcommands))

static void usage(FILE *out)
{
    fputs("Usage: parpi-model COMMAND [OPTIONS]\n"
          "MOPO's dynamics ensemble: (s, a) -> Gaussian (s' - s, r), trained on a data set.\n\n",
          out);
    for (int i = 0; i < NSUB; i++)
        fprintf(out, "  parpi-model %s %s\n      %s\n", subcommands[i].name, subcommands[i].synopsis,
                subcommands[i].summary);
    fputs("\nCOMMAND is one of ", out);
    for (int i = 0; i < NSUB; i++) fprintf(out, "%s%s", i ? ", " : "", subcommands[i].name);
    fputs(". 'parpi-model COMMAND --help' lists its options.\n"
          "  -h, --help             this text;  --version  the version\n"
          "\nExit status: 0 done, 1 failure (nothing written), 2 usage error.\n"
          "See parpi-model(1).\n",
          out);
}

static void sub_usage(const subcommand *s, FILE *out)
{
    fprintf(out, "Usage: parpi-model %s %s\n%s.\n\nOptions:\n", s->name, s->synopsis, s->summary);
    pp_opt_help(s->options, out);
    fputs("  -h, --help             this text\n", out);
}

static void sub_usage_at(int i, FILE *out) { sub_usage(&subcommands[i], out); }

static int usage_error(const char *sub) { return pp_cmd_usage_error("parpi-model", sub); }

int main(int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    int status, index = pp_cmd_subcommand(argc, argv, "parpi-model", subcommands, NSUB, sizeof *subcommands, usage,
                                          sub_usage_at, &status);
    if (index < 0) return status;
    const subcommand *s = &subcommands[index];
    md_opts o;
    uint64_t given = 0;
    argv[1] = argv[0]; /* the options after the command, argv[0] first for pp_opt_read */
    int rc = pp_opt_read(s->options, &o, argc - 1, argv + 1, &given);
    if (rc == 0 && !o.dataset[0]) rc = pp_fail("%s needs --dataset FILE", s->name);
    if (rc == 0 && s->run == run_train && !o.out[0]) rc = pp_fail("train needs --out FILE");
    if (rc == 0 && s->run == run_eval && !o.model[0]) rc = pp_fail("eval needs --model FILE");
    if (rc == 0 && s->run == run_train && o.elites > o.ensemble)
        rc = pp_fail("--elites %d: expected at most --ensemble (%d)", o.elites, o.ensemble);
    if (rc != 0) return usage_error(s->name);
    return s->run(&o);
}

/* ---- the subcommands: each returns the exit status ---- */

/* One line on stderr per epoch. */
static void train_progress(void *ctx, long long epoch, double loss, const double *mse, int E)
{
    (void)ctx;
    double best = mse[0];
    for (int e = 1; e < E; e++)
        if (mse[e] < best) best = mse[e];
    fprintf(stderr, "%s: epoch %lld: train loss %.6g, best holdout mse %.6g\n", pp_progname(), epoch, loss, best);
}

static int run_train(const md_opts *o)
{
    if (pp_frame_prepare_save(o->out) != 0) pp_die_error(PP_EXIT_FAILURE);
    pp_dataset *d = NULL;
    if (pp_dataset_load(&d, o->dataset) != 0) pp_die_error(PP_EXIT_FAILURE);
    pp_model_config c = {.ensemble = o->ensemble,
                         .layers = o->layers,
                         .hidden = o->hidden,
                         .elites = o->elites,
                         .batch_size = o->batch_size,
                         .patience = o->patience,
                         .max_epochs = o->max_epochs,
                         .lr = o->lr,
                         .holdout = o->holdout,
                         .seed = o->seed};
    pp_model *m = NULL;
    if (pp_model_train(&m, d, &c, train_progress, NULL) != 0) {
        pp_dataset_free(d);
        pp_fail_prefix("%s: ", o->dataset);
        pp_die_error(PP_EXIT_FAILURE);
    }
    pp_dataset_free(d);
    int rc = pp_model_save(m, o->out);
    if (rc == 0) {
        double best = m->holdout_mse[0];
        for (int e = 1; e < c.ensemble; e++)
            if (m->holdout_mse[e] < best) best = m->holdout_mse[e];
        fprintf(stderr, "%s: wrote %s: %d members, %lld epochs, best holdout mse %.6g\n", pp_progname(), o->out,
                c.ensemble, m->epochs, best);
    }
    pp_model_free(m);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}

static int run_eval(const md_opts *o)
{
    pp_model *m = NULL;
    if (pp_model_load(&m, o->model) != 0) pp_die_error(PP_EXIT_FAILURE);
    pp_dataset *d = NULL;
    if (pp_dataset_load(&d, o->dataset) != 0) {
        pp_model_free(m);
        pp_die_error(PP_EXIT_FAILURE);
    }
    int E = m->c.ensemble;
    double *mse = pp_xcalloc((size_t)E, sizeof *mse), *nll = pp_xcalloc((size_t)E, sizeof *nll), base = 0;
    int rc = pp_model_eval(m, d, o->rows, mse, nll, &base);
    if (rc != 0) pp_fail_prefix("%s: ", o->dataset);
    else if (o->csv) {
        printf("member,mse,nll,elite\n");
        for (int e = 0; e < E; e++) printf("%d,%.9g,%.9g,%d\n", e, mse[e], nll[e], m->elite[e]);
        printf("baseline,%.9g,,\n", base);
    } else {
        printf("%-8s %14s %14s %s\n", "member", "mse", "nll", "elite");
        for (int e = 0; e < E; e++) printf("%-8d %14.6g %14.6g %s\n", e, mse[e], nll[e], m->elite[e] ? "*" : "");
        printf("%-8s %14.6g %14s\n", "baseline", base, "-");
    }
    free(mse);
    free(nll);
    pp_dataset_free(d);
    pp_model_free(m);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return pp_cmd_flush_stdout();
}
