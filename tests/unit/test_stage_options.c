/* test_stage_options.c - every option row of every stage has sane bounds
 * (issue 9, R13: "Bounds on every learning rate and step size"): numbers are
 * bounded on both sides well inside a double (no FLT_MAX, no open end), every
 * learning rate, step size, discount and Polyak rate is at most 1 and not
 * negative, sizes a frame's map carries are at most PP_NETMAP_MAX_DIM, counts
 * are not negative, and each default parses and lies within its row's bounds.
 * The stage tables, the standalone programs' extra rows and the common rows
 * all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "base/opt.h"
#include "nn/netmap.h"
#include "stage/collect.h"
#include "stage/eval.h"
#include "stage/stage.h"
#include "stage/stage_run.h"

/* Rows whose value is a rate or fraction in [0, 1]. */
static int is_rate(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "lr") == 0 || (n > 3 && strcmp(name + n - 3, "-lr") == 0) ||
           strcmp(name, "eps") == 0 || strcmp(name, "gamma") == 0 || strcmp(name, "tau") == 0;
}

/* Rows that size a network or a map that frames carry. */
static int is_net_size(const char *name)
{
    return strcmp(name, "hidden") == 0 || strcmp(name, "obs-dim") == 0 ||
           strcmp(name, "act-dim") == 0;
}

static void check_table(const char *who, const pp_opt *t)
{
    int rows = 0, bad = 0;
    for (const pp_opt *r = t; r->name; r++, rows++) {
        char why[160] = "";
        if (r->type == PP_OPT_T_DOUBLE) {
            if (!isfinite(r->lo) || !isfinite(r->hi) || !(r->lo < r->hi) || fabs(r->lo) > 1e12 ||
                fabs(r->hi) > 1e12)
                snprintf(why, sizeof why, "[%g, %g] is not a bounded range within +-1e12", r->lo, r->hi);
            else if (is_rate(r->name) && (r->lo < 0 || r->hi > 1))
                snprintf(why, sizeof why, "a rate or step in [%g, %g], expected within [0, 1]", r->lo,
                         r->hi);
        } else if (r->type == PP_OPT_T_INT || r->type == PP_OPT_T_COUNT) {
            if (r->lo < 0 || !(r->lo <= r->hi) || r->hi > 1e15)
                snprintf(why, sizeof why, "%g..%g is not a count range within 0..1e15", r->lo, r->hi);
            else if (is_net_size(r->name) && r->hi > PP_NETMAP_MAX_DIM)
                snprintf(why, sizeof why, "up to %g, but a frame's map holds at most %d", r->hi,
                         PP_NETMAP_MAX_DIM);
        }
        if (!why[0] && r->def) {
            /* the default parses through the row (and so lies in its bounds) */
            pp_opt one[2] = {*r, PP_OPT_END};
            static _Alignas(16) char cfg[1 << 16];
            size_t need = r->offset + (r->type == PP_OPT_T_STRING ? (size_t)r->hi : 16);
            memset(cfg, 0, sizeof cfg);
            if (need > sizeof cfg)
                snprintf(why, sizeof why, "the row's field lies past %zu bytes", sizeof cfg);
            else if (pp_opt_defaults(one, cfg) != 0)
                snprintf(why, sizeof why, "the default '%s' does not parse: %s", r->def, pp_error());
        }
        if (why[0]) {
            bad++;
            CHECK(0, "%s --%s: %s", who, r->name, why);
        }
    }
    CHECK(bad == 0, "%s: all %d option rows have sane bounds", who, rows);
}

int main(void)
{
    const char *const *kinds = pp_stage_kinds();
    int n = 0;
    for (int k = 0; kinds[k]; k++, n++) {
        const pp_stage_ops *ops = pp_stage_lookup(kinds[k]);
        CHECK(ops && ops->options, "stage %s has an option table", kinds[k]);
        if (ops && ops->options) check_table(kinds[k], ops->options);
    }
    CHECK(n == 7, "seven stages (%d)", n);
    check_table("parpi-collect standalone", pp_collect_standalone_options);
    check_table("parpi-eval standalone", pp_eval_standalone_options);
    check_table("common", pp_stage_common_options);

    /* and the rows the review named (R13) refuse what they took before */
    const pp_stage_ops *discrim = pp_stage_lookup("discrim"), *langevin = pp_stage_lookup("langevin");
    const pp_opt *lr = discrim ? pp_opt_find(discrim->options, "lr") : NULL;
    const pp_opt *eps = langevin ? pp_opt_find(langevin->options, "eps") : NULL;
    CHECK(lr && lr->lo > 0 && lr->hi == 1, "discrim --lr is positive and at most 1");
    CHECK(eps && eps->lo > 0 && eps->hi == 1, "langevin --eps is positive and at most 1");
    return check_done();
}
