/* eval_worker.h - the evaluator's thread of work (stage_eval.c; not
 * installed API).
 *
 * The eval stage hands each due evaluation over as a job: the step, its own
 * copy of the policy's parameters (an actor of its own, filled from the
 * frame) and, with --best, a copy of the frame's policy map. One worker
 * thread runs the jobs one after another, oldest first, on the worker's own
 * environment, while the stage's thread goes on passing frames; the stage
 * takes the results back oldest first (pp_eval_worker_oldest), so they are
 * written in step order whatever the timing.
 *
 * At most PP_EVAL_QUEUE jobs are in flight: one running and one waiting.
 * When a third is due the stage waits for the oldest. Why two: an
 * evaluation's cost grows with the policy (Hopper's episodes go from tens of
 * steps to 1000 as it learns), so one can outlast the interval between two
 * evaluations now and then, and a waiting slot lets training go on through
 * that; more would only let evaluation fall further behind (one thread runs
 * them, so a longer queue adds no throughput), hold more copies of the
 * policy, and lengthen the wait at a snapshot or a stop, which completes
 * every job in flight.
 *
 * Synchronous (threaded 0: parpi-eval --sync): no thread; a job runs at
 * once, in the caller's thread, when it is submitted. Same jobs, same
 * environment, same order, so the same results.
 *
 * Threads (docs/design.md section 7): the worker touches only its
 * environment, the jobs it has been handed and its own locals; the stage's
 * thread fills a slot only while it is free and reads it only once it is
 * done, each hand-over under the mutex (which orders the writes before it
 * for the other side). The worker acts with pp_actor_act_row (no BLAS), has
 * every signal blocked (they go to the stage's thread, which looks at them
 * between frames) and reports a failure as the job's message.
 */
#ifndef PP_EVAL_WORKER_H
#define PP_EVAL_WORKER_H

#include "env/env.h"
#include "frame/frame.h"
#include "rl/actor.h"
#include "stage/eval.h"

#define PP_EVAL_QUEUE 2

typedef struct {
    long long step;   /* the step whose policy it evaluates */
    pp_actor *actor;  /* its own copy of the parameters (created at the slot's first use, then reused) */
    pp_frame *policy; /* the frame's policy map, for --best; NULL when not kept */
    pp_eval_result r; /* once done, with rc 0 */
    int rc;           /* once done: 0, or -1 with err */
    char err[1024];
} pp_eval_job;

typedef struct pp_eval_worker pp_eval_worker;

/* The worker for K episodes (deterministic or not, seed) of env_name on env,
 * which it uses from now on (the caller does not touch env until
 * pp_eval_worker_free). threaded 0: no thread (--sync). 0, or -1 if the
 * thread cannot start. */
int pp_eval_worker_start(pp_eval_worker **out, pp_env *env, const char *env_name, int episodes,
                         int deterministic, unsigned long long seed, int threaded);
/* The next free slot to fill (step, actor's parameters, policy), or NULL
 * when PP_EVAL_QUEUE jobs are in flight. */
pp_eval_job *pp_eval_worker_slot(pp_eval_worker *w);
/* Hand the slot just filled over (synchronous: run it now). */
void pp_eval_worker_submit(pp_eval_worker *w);
/* Jobs in flight (submitted, not yet released), and the oldest one's step. */
int pp_eval_worker_pending(const pp_eval_worker *w);
long long pp_eval_worker_oldest_step(const pp_eval_worker *w);
/* The oldest job in flight once it is done (wait: until it is), else NULL
 * (none in flight; or not done yet and wait 0). */
pp_eval_job *pp_eval_worker_oldest(pp_eval_worker *w, int wait);
/* The oldest job's result is taken: its slot is free again. */
void pp_eval_worker_release(pp_eval_worker *w);
/* Drop every job in flight: the running one stops within an environment
 * step, and its result and those of the waiting ones are thrown away. */
void pp_eval_worker_discard(pp_eval_worker *w);
/* Discard, stop the thread, free the slots. NULL is fine. */
void pp_eval_worker_free(pp_eval_worker *w);

#endif
