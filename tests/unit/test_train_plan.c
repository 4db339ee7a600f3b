/* test_train_plan.c - parpi-train's plan: the ring of each algorithm, the
 * --drop computed from the stages' reads and owns lists, and the run's
 * config file (written and read back; one written by parpi 0.1.0 before the
 * common options were structured). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "check.h"
#include "stage/stage.h"
#include "train/train.h"

static int index_of(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) return i;
    return -1;
}

static int in_list(const char *const *list, const char *name)
{
    for (int i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

/* Does stage i's --drop name field? */
static int drops(const pp_train *t, int i, const char *field)
{
    char buf[sizeof t->stage[0].common.drop];
    snprintf(buf, sizeof buf, "%s", t->stage[i].common.drop);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        if (strcmp(tok, field) == 0) return 1;
    return 0;
}

static int plan_set(pp_train *t, const char *algo, const char *base, const char *set)
{
    memset(t, 0, sizeof *t);
    if (set) pp_argv_add(&t->o.sets, set);
    snprintf(t->o.env, sizeof t->o.env, "Pendulum-v1");
    snprintf(t->o.preset, sizeof t->o.preset, "none");
    snprintf(t->o.dir, sizeof t->o.dir, "/tmp/run");
    t->o.algo = index_of(pp_train_algos, algo);
    t->o.base = index_of(pp_train_bases, base);
    t->o.divergence = index_of(pp_train_divergences, "wd");
    t->o.steps = 1000;
    t->o.eval_every = t->o.log_every = 100;
    t->o.eval_episodes = 1;
    t->o.save_every = 500;
    t->o.threads = 1;
    return pp_train_plan(t);
}

static int plan(pp_train *t, const char *algo, const char *base) { return plan_set(t, algo, base, NULL); }

/* The drop rule, checked field by field: a dropped field is owned by another
 * stage W, read by the dropper, and read by no stage after it up to and
 * including W; an owned field that another stage reads, and W does not, is
 * dropped by exactly one stage. */
/* What stage i reads with the options the plan gives it (stage.h: reads_for). */
static const char *const *stage_reads(const pp_train *t, int i)
{
    const pp_stage_ops *ops = pp_stage_lookup(t->stage[i].kind);
    if (!ops->reads_for) return ops->reads;
    char *argv[PP_TRAIN_MAX_ARGS + 2] = {"stage"};
    for (int a = 0; a < t->stage[i].own.argc; a++) argv[a + 1] = t->stage[i].own.argv[a];
    const char *const *r = ops->reads_for(t->stage[i].own.argc + 1, argv);
    return r ? r : ops->reads;
}

static void check_drops(const pp_train *t, const char *name)
{
    const int n = t->nstages;
    const pp_stage_ops *ops[PP_TRAIN_MAX_STAGES];
    const char *const *reads[PP_TRAIN_MAX_STAGES];
    for (int i = 0; i < n; i++) {
        ops[i] = pp_stage_lookup(t->stage[i].kind);
        reads[i] = stage_reads(t, i);
    }
    for (int w = 0; w < n; w++)
        for (int k = 0; ops[w]->owns[k]; k++) {
            const char *f = ops[w]->owns[k];
            int droppers = 0, dropper = -1, other_reader = 0;
            for (int i = 0; i < n; i++) {
                if (i != w && in_list(reads[i], f)) other_reader = 1;
                if (drops(t, i, f)) {
                    droppers++;
                    dropper = i;
                }
            }
            int want = other_reader && !in_list(reads[w], f);
            CHECK(droppers == want, "%s: %s (owned by %s) is dropped by %d stage(s), want %d", name, f,
                  t->stage[w].kind, droppers, want);
            if (dropper < 0) continue;
            CHECK(dropper != w && in_list(reads[dropper], f), "%s: %s reads the %s it drops", name,
                  t->stage[dropper].kind, f);
            int later = 0;
            for (int i = (dropper + 1) % n;; i = (i + 1) % n) {
                if (in_list(reads[i], f)) later = 1;
                if (i == w) break;
            }
            CHECK(!later, "%s: no stage after %s reads %s before %s writes it anew", name,
                  t->stage[dropper].kind, f, t->stage[w].kind);
        }
}

static void check_ring(const char *algo, const char *base, const char *kinds, const char *want_drops)
{
    pp_train t;
    char name[64], got[256] = "";
    snprintf(name, sizeof name, "%s/%s", algo, base);
    int rc = plan(&t, algo, base);
    CHECK(rc == 0, "%s: the plan is made (%s)", name, rc ? pp_error() : "ok");
    if (rc != 0) return;
    for (int i = 0; i < t.nstages; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "", t.stage[i].kind);
    CHECK(strcmp(got, kinds) == 0, "%s: the ring is %s (got %s)", name, kinds, got);
    CHECK(strcmp(t.stage[t.prime_index].kind, "policy") == 0, "%s: the policy stage primes the ring", name);
    /* every stage saves at the ring's snapshots; the collector starts them */
    for (int i = 0; i < t.nstages; i++) {
        const pp_stage_common *c = &t.stage[i].common;
        int first = i == 0;
        if (strcmp(c->snapshots, "ckpt") != 0 || c->checkpoint[0] || c->threads != 1 ||
            pp_stage_common_given(c, "snapshot-every") != first || (first && c->snapshot_every != 500) ||
            (first ? strlen(c->run_id) != 16 : c->run_id[0] != '\0'))
            CHECK(0, "%s: %s's common options", name, t.stage[i].kind);
    }
    CHECK(strcmp(t.stage[0].kind, "collect") == 0, "%s: the collector starts the ring and its snapshots", name);
    check_drops(&t, name);
    char all[512] = "";
    for (int i = 0; i < t.nstages; i++)
        if (t.stage[i].common.drop[0])
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s:%s", all[0] ? " " : "",
                     t.stage[i].kind, t.stage[i].common.drop);
    CHECK(strcmp(all, want_drops) == 0, "%s: the drops are %s (got %s)", name, want_drops, all);
    pp_train_free(&t);
}

/* The plan written to DIR/config reads back as the same command lines. */
static void check_config_round_trip(const char *dir)
{
    pp_train t, back;
    if (plan(&t, "parpi", "sql") != 0) {
        CHECK(0, "config: the plan (%s)", pp_error());
        return;
    }
    pp_argv_add(&t.o.sets, "critic.gamma=0.9");
    snprintf(t.o.dir, sizeof t.o.dir, "%s", dir);
    int rc = pp_train_config_write(&t);
    CHECK(rc == 0, "config: written (%s)", rc ? pp_error() : "ok");
    memset(&back, 0, sizeof back);
    pp_argv words = {0};
    rc = pp_train_config_read(&back, dir, &words);
    CHECK(rc == 0, "config: read back (%s)", rc ? pp_error() : "ok");
    CHECK(back.nstages == t.nstages && back.prime_index == t.prime_index, "config: the stages and the primer");
    for (int i = 0; i < t.nstages && i < back.nstages; i++) {
        pp_argv a = {0}, b = {0};
        pp_train_stage_argv(&t, &t.stage[i], "x", &a);
        pp_train_stage_argv(&t, &back.stage[i], "x", &b);
        int same = a.argc == b.argc;
        for (int k = 0; same && k < a.argc; k++) same = strcmp(a.argv[k], b.argv[k]) == 0;
        CHECK(same, "config: stage %s reads back as written", t.stage[i].kind);
        pp_argv_free(&a);
        pp_argv_free(&b);
    }
    int algo = -1, set = -1;
    for (int i = 0; i + 1 < words.argc; i++) {
        if (strcmp(words.argv[i], "--algo") == 0 && strcmp(words.argv[i + 1], "parpi") == 0) algo = i;
        if (strcmp(words.argv[i], "--set") == 0 && strcmp(words.argv[i + 1], "critic.gamma=0.9") == 0) set = i;
    }
    CHECK(algo >= 0 && set >= 0, "config: the train line holds the run's options");
    pp_argv_free(&words);
    pp_train_free(&t);
    pp_train_free(&back);
}

/* A config written by parpi 0.1.0 (hand-written --drop, no step or
 * particles drops, a checkpoint per stage, paths as typed at its start):
 * it reads back as written, and upgrades to today's with the same stage
 * options, its paths relative to the run directory. */
static void check_old_config(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp,
            "# parpi-train run (parpi 0.1.0). The stage lines are the full command lines\n"
            "train --env Pendulum-v1 --algo parpi --base sac --divergence wd --steps 150 --seed 11 "
            "--eval-every 100 --eval-episodes 1 --log-every 1000 --save-every 10000 --threads 1 --preset none "
            "--set collect.learning-starts=100\n"
            "stage parpi-collect --checkpoint=%s/ckpt/collect.ckpt --save-every=10000 --threads=1 -- --env "
            "Pendulum-v1 --seed=11 --until=150 --replay=%s/replay.mp --log=%s/episodes.csv --learning-starts 100\n"
            "stage parpi-critic --checkpoint=%s/ckpt/critic.ckpt --save-every=10000 --threads=1 -- --seed=11\n"
            "stage parpi-langevin --checkpoint=%s/ckpt/langevin.ckpt --save-every=10000 --threads=1 "
            "--drop=q,policy -- --seed=11 --steps 5 --eps 3e-3\n"
            "stage parpi-discrim --checkpoint=%s/ckpt/discrim.ckpt --save-every=10000 --threads=1 -- --seed=11 "
            "--divergence=wd\n"
            "stage parpi-policy --checkpoint=%s/ckpt/policy.ckpt --save-every=10000 --threads=1 "
            "--drop=q,disc,particles,batch -- --seed=11 --update=parpi --obs-dim=3 --act-dim=1 --prime\n"
            "stage parpi-eval --checkpoint=%s/ckpt/eval.ckpt --save-every=10000 --threads=1 -- --env Pendulum-v1 "
            "--seed=11 --every=100 --episodes=1 --log=%s/eval.csv\n",
            dir, dir, dir, dir, dir, dir, dir, dir, dir);
    fclose(fp);
    pp_train t;
    memset(&t, 0, sizeof t);
    pp_argv words = {0};
    int rc = pp_train_config_read(&t, dir, &words);
    CHECK(rc == 0, "old config: read (%s)", rc ? pp_error() : "ok");
    CHECK(t.nstages == 6 && t.prime_index == 4, "old config: six stages, the policy primes");
    CHECK(strcmp(t.stage[2].common.drop, "q,policy") == 0 && strcmp(t.stage[4].common.drop, "q,disc,particles,batch") == 0 &&
              t.stage[3].common.drop[0] == '\0',
          "old config: its --drop lists are kept as written");
    snprintf(path, sizeof path, "%s/ckpt/critic.ckpt", dir);
    CHECK(strcmp(t.stage[1].common.checkpoint, path) == 0 && t.stage[1].common.save_every == 10000 &&
              t.stage[1].common.threads == 1 && !t.stage[1].common.resume[0],
          "old config: --checkpoint, --save-every, --threads; no --resume");
    CHECK(t.stage[4].own.argc == 5 && strcmp(t.stage[4].own.argv[4], "--prime") == 0, "old config: own options");
    CHECK(words.argc > 4 && strcmp(words.argv[0], "--env") == 0, "old config: the train line's words");
    t.o.save_every = 10000;
    t.o.threads = 1;
    snprintf(t.o.dir, sizeof t.o.dir, "/elsewhere/moved");
    rc = pp_train_config_upgrade(&t);
    CHECK(rc == 1, "old config: upgraded (%s)", rc < 0 ? pp_error() : "ok");
    int ok = 1;
    for (int i = 0; i < t.nstages; i++)
        ok &= !t.stage[i].common.checkpoint[0] && !pp_stage_common_given(&t.stage[i].common, "save-every") &&
              strcmp(t.stage[i].common.snapshots, "ckpt") == 0;
    CHECK(ok && t.stage[0].common.snapshot_every == 10000 && strlen(t.stage[0].common.run_id) == 16,
          "old config: snapshots instead of --checkpoint, the collector starts them");
    snprintf(path, sizeof path, "%s/replay.mp", dir);
    CHECK(strcmp(t.legacy_replay, path + strlen(dir) + 1) == 0, "old config: its replay buffer is read once (%s)",
          t.legacy_replay);
    pp_argv a = {0};
    pp_train_stage_argv(&t, &t.stage[0], "parpi-collect", &a);
    int log = 0, replay = 0;
    for (int k = 0; k < a.argc; k++) {
        log |= strcmp(a.argv[k], "--log=/elsewhere/moved/episodes.csv") == 0;
        replay |= strncmp(a.argv[k], "--replay", 8) == 0;
    }
    CHECK(log && !replay, "old config: its paths follow the run directory, and --replay is gone");
    pp_argv_free(&a);
    CHECK(pp_train_config_upgrade(&t) == 0, "old config: upgraded once");
    pp_argv_free(&words);
    pp_train_free(&t);
}

/* Paths: the plan's are relative to the run directory, and the stages get
 * them joined to where the run is now; a relative path given with --set is
 * the user's, made absolute at the start. */
static void check_paths(void)
{
    pp_train t;
    if (plan_set(&t, "parpi", "sac", "langevin.prior=data/prior.mp") != 0) {
        CHECK(0, "paths: the plan (%s)", pp_error());
        return;
    }
    int rel = 0;
    for (int k = 0; k < t.stage[5].own.argc; k++) rel |= strcmp(t.stage[5].own.argv[k], "--log=eval.csv") == 0;
    CHECK(rel, "paths: the plan holds eval's log relative to the run directory");
    char cwd[1024], want[1200];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "paths: cwd");
    snprintf(want, sizeof want, "%s/data/prior.mp", cwd);
    int prior = 0;
    for (int k = 0; k + 1 < t.stage[2].own.argc; k++)
        prior |= strcmp(t.stage[2].own.argv[k], "--prior") == 0 && strcmp(t.stage[2].own.argv[k + 1], want) == 0;
    CHECK(prior, "paths: --set langevin.prior=data/prior.mp is made absolute");
    snprintf(t.o.dir, sizeof t.o.dir, "runs/x");
    pp_argv a = {0};
    pp_train_stage_argv(&t, &t.stage[5], "parpi-eval", &a);
    int log = 0, status = 0, snaps = 0;
    for (int k = 0; k < a.argc; k++) {
        log |= strcmp(a.argv[k], "--log=runs/x/eval.csv") == 0;
        status |= strcmp(a.argv[k], "--status=runs/x/status") == 0;
        snaps |= strcmp(a.argv[k], "--snapshots=runs/x/ckpt") == 0;
    }
    CHECK(log && status && snaps, "paths: the stage gets them joined to the run directory");
    pp_argv_free(&a);
    /* the run id: the same for the same course, another for another seed */
    char id1[64], id2[64], id3[64];
    pp_train_run_id(&t, id1, sizeof id1);
    pp_train_set_steps(&t, 5000);
    pp_train_run_id(&t, id2, sizeof id2);
    CHECK(strcmp(id1, id2) == 0, "run id: --steps does not change it (%s)", id1);
    pp_argv_add(&t.stage[1].own, "--lr=1e-4");
    pp_train_run_id(&t, id3, sizeof id3);
    CHECK(strcmp(id1, id3) != 0, "run id: a stage option does (%s, %s)", id1, id3);
    pp_train_free(&t);
}

int main(void)
{
    /* The policy reads q only for its sac and svgd updates, the critic the
     * policy only for the SAC target (reads_for), so ParPI's q stops at the
     * Langevin stage and the SQL baseline's policy after the collector. */
    check_ring("sac", "sac", "collect critic policy eval",
               "critic:policy,alpha policy:batch,q eval:step");
    check_ring("sql", "sac", "collect critic policy eval",
               "collect:policy critic:alpha policy:batch,q eval:step");
    check_ring("parpi", "sac", "collect critic langevin discrim policy eval",
               "langevin:q,policy,alpha discrim:particles policy:batch,disc eval:step");
    check_ring("parpi", "sql", "collect critic langevin discrim policy eval",
               "langevin:q,policy,alpha discrim:particles policy:batch,disc eval:step");
    /* offline (the plan does not read the data set): BC reads only the
     * batch; BRAC's penalty stops at the critic, its dual map at the actor */
    check_ring("bc", "sac", "collect policy eval", "collect:policy policy:batch eval:step");
    check_ring("brac", "sac", "collect dual critic policy eval",
               "critic:penalty,policy,alpha policy:batch,dual,q eval:step");
    check_ring("parpi", "brac", "collect dual critic langevin discrim policy eval",
               "critic:penalty langevin:q,policy,alpha discrim:particles policy:batch,disc eval:step");

    char dir[] = "/tmp/parpi-test-plan-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return check_done();
    }
    check_config_round_trip(dir);
    check_old_config(dir);
    check_paths();
    char path[1200];
    snprintf(path, sizeof path, "%s/config", dir);
    unlink(path);
    rmdir(dir);
    return check_done();
}
