/* test_eval_worker.c - the evaluator's thread of work (stage/eval_worker.h):
 * results taken oldest first and equal, bit for bit, to pp_evaluate run in
 * this thread on an env of its own; at most PP_EVAL_QUEUE in flight; the
 * synchronous worker the same; a discard stops a long evaluation at once and
 * leaves the worker usable; freeing it with jobs in flight does not hang. */
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "check.h"
#include "env/env.h"
#include "rl/actor.h"
#include "stage/eval_worker.h"

enum { NPOL = 5, K = 3 };

static pp_actor *make_actor(int seed)
{
    pp_netmap spec = {.obs_dim = 3, .act_dim = 1, .hidden = 16, .layers = 2};
    strcpy(spec.arch, "gaussian-tanh");
    pp_actor *a = NULL;
    pp_actor_create(&spec, 1, &a);
    pp_rng r;
    pp_rng_seed(&r, (uint64_t)seed);
    pp_policy_init_params(pp_actor_gaussian(a), pp_actor_params(a), &r);
    return a;
}

/* Fill the free slot with policy k's parameters (a copy, as the stage makes). */
static void fill(pp_eval_job *j, pp_actor *src, long long step)
{
    if (!j->actor) pp_actor_create(pp_actor_spec(src), 1, &j->actor);
    memcpy(pp_actor_params(j->actor), pp_actor_params(src), pp_actor_nparams(src) * sizeof(float));
    j->step = step;
}

static int same(const pp_eval_result *a, const pp_eval_result *b)
{
    return a->return_mean == b->return_mean && a->return_std == b->return_std && a->return_min == b->return_min &&
           a->return_max == b->return_max && a->length_mean == b->length_mean && a->episodes == b->episodes;
}

static void run_queue(int threaded, pp_actor **pol, const pp_eval_result *ref)
{
    const char *mode = threaded ? "threaded" : "synchronous";
    pp_env *env = NULL;
    CHECK(pp_env_create("Pendulum-v1", NULL, &env) == 0, "%s: env", mode);
    pp_eval_worker *w = NULL;
    CHECK(pp_eval_worker_start(&w, env, "Pendulum-v1", K, 1, 7, threaded) == 0, "%s: worker started", mode);
    int next = 0, taken = 0, order_ok = 1, equal = 1, bound_ok = 1;
    while (taken < NPOL) {
        pp_eval_job *j;
        while (next < NPOL && (j = pp_eval_worker_slot(w)) != NULL) {
            fill(j, pol[next], 1000LL * (next + 1));
            pp_eval_worker_submit(w);
            next++;
        }
        bound_ok &= pp_eval_worker_pending(w) <= PP_EVAL_QUEUE;
        if (next < NPOL) bound_ok &= pp_eval_worker_slot(w) == NULL;
        j = pp_eval_worker_oldest(w, 1);
        if (!j) break;
        order_ok &= j->step == 1000LL * (taken + 1) && j->rc == 0;
        equal &= same(&j->r, &ref[taken]);
        pp_eval_worker_release(w);
        taken++;
    }
    CHECK(taken == NPOL && order_ok, "%s: %d evaluations taken, oldest first", mode, taken);
    CHECK(bound_ok, "%s: never more than %d in flight", mode, PP_EVAL_QUEUE);
    CHECK(equal, "%s: each result is pp_evaluate's in this thread, bit for bit", mode);
    CHECK(pp_eval_worker_oldest(w, 0) == NULL && pp_eval_worker_pending(w) == 0, "%s: nothing left", mode);
    pp_eval_worker_free(w);
    pp_env_free(env);
}

int main(void)
{
    pp_actor *pol[NPOL];
    pp_eval_result ref[NPOL];
    pp_env *env = NULL;
    CHECK(pp_env_create("Pendulum-v1", NULL, &env) == 0, "reference env");
    for (int k = 0; k < NPOL; k++) {
        pol[k] = make_actor(100 + k);
        pp_evaluate(env, "Pendulum-v1", pol[k], pp_actor_params(pol[k]), K, 1, 7, NULL, NULL, &ref[k]);
    }
    CHECK(ref[0].return_mean != ref[1].return_mean, "the policies differ (%g, %g)", ref[0].return_mean,
          ref[1].return_mean);
    pp_env_free(env);
    run_queue(1, pol, ref);
    run_queue(0, pol, ref);

    /* a discard stops a running evaluation within an env step */
    pp_env *e2 = NULL;
    pp_env_create("Pendulum-v1", NULL, &e2);
    pp_eval_worker *w = NULL;
    pp_eval_worker_start(&w, e2, "Pendulum-v1", 100000, 1, 7, 1); /* 2e7 env steps: minutes */
    fill(pp_eval_worker_slot(w), pol[0], 1);
    pp_eval_worker_submit(w);
    fill(pp_eval_worker_slot(w), pol[1], 2);
    pp_eval_worker_submit(w);
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL); /* the first is running */
    double t0 = pp_now();
    pp_eval_worker_discard(w);
    double dt = pp_now() - t0;
    CHECK(dt < 0.5 && pp_eval_worker_pending(w) == 0, "a discard stops a long evaluation at once (%.3f s)", dt);
    pp_eval_worker_free(w);
    /* and the worker goes on after one: the next result is right */
    pp_eval_worker_start(&w, e2, "Pendulum-v1", K, 1, 7, 1);
    fill(pp_eval_worker_slot(w), pol[2], 3);
    pp_eval_worker_submit(w);
    pp_eval_worker_discard(w);
    fill(pp_eval_worker_slot(w), pol[3], 4);
    pp_eval_worker_submit(w);
    pp_eval_job *j = pp_eval_worker_oldest(w, 1);
    CHECK(j && j->step == 4 && j->rc == 0 && same(&j->r, &ref[3]), "after a discard the next evaluation is right");
    pp_eval_worker_release(w);
    /* freed with a long job running: the thread is stopped and joined */
    pp_eval_worker_free(w);
    pp_eval_worker_start(&w, e2, "Pendulum-v1", 100000, 1, 7, 1);
    fill(pp_eval_worker_slot(w), pol[4], 5);
    pp_eval_worker_submit(w);
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    t0 = pp_now();
    pp_eval_worker_free(w);
    CHECK(pp_now() - t0 < 0.5, "freeing a worker with a job in flight returns at once");
    pp_env_free(e2);
    for (int k = 0; k < NPOL; k++) pp_actor_free(pol[k]);
    return check_done();
}
