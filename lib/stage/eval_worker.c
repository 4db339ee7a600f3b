/* eval_worker.c - the evaluator's thread of work (see eval_worker.h). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stage/eval_worker.h"

enum { FREE, QUEUED, RUNNING, DONE };

struct pp_eval_worker {
    pp_env *env;
    char env_name[64];
    int episodes, deterministic;
    unsigned long long seed;
    int threaded;
    pp_eval_job job[PP_EVAL_QUEUE];
    int state[PP_EVAL_QUEUE]; /* under mu */
    int head;                 /* the oldest job in flight: written under mu (the stage's thread), read by both */
    int count;                /* how many are in flight (the stage's thread only) */
    atomic_int cancel;        /* the running job stops within an environment step */
    int quit;                 /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t thread;
};

static void run_job(pp_eval_worker *w, pp_eval_job *j)
{
    j->rc = pp_evaluate_until(w->env, w->env_name, j->actor, pp_actor_params(j->actor), w->episodes,
                              w->deterministic, w->seed, NULL, NULL, &j->r, &w->cancel);
    if (j->rc != 0) snprintf(j->err, sizeof j->err, "%s", pp_error());
}

/* The worker: the oldest queued job, run outside the lock, marked done. */
static void *worker_main(void *arg)
{
    pp_eval_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        int k = -1;
        for (int i = 0; i < PP_EVAL_QUEUE && k < 0; i++) {
            int s = (w->head + i) % PP_EVAL_QUEUE;
            if (w->state[s] == QUEUED) k = s;
        }
        if (w->quit) break;
        if (k < 0) {
            pthread_cond_wait(&w->work, &w->mu);
            continue;
        }
        w->state[k] = RUNNING;
        pthread_mutex_unlock(&w->mu);
        run_job(w, &w->job[k]);
        pthread_mutex_lock(&w->mu);
        w->state[k] = DONE;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int pp_eval_worker_start(pp_eval_worker **out, pp_env *env, const char *env_name, int episodes,
                         int deterministic, unsigned long long seed, int threaded)
{
    pp_eval_worker *w = pp_xcalloc(1, sizeof *w);
    w->env = env;
    snprintf(w->env_name, sizeof w->env_name, "%s", env_name);
    w->episodes = episodes;
    w->deterministic = deterministic;
    w->seed = seed;
    w->threaded = threaded;
    atomic_init(&w->cancel, 0);
    *out = w;
    if (!threaded) return 0;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    /* the thread starts with every signal blocked: SIGINT and SIGTERM go to
     * the stage's thread, whose loop looks at them between frames */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->done);
        pthread_mutex_destroy(&w->mu);
        w->threaded = 0;
        pp_eval_worker_free(w);
        *out = NULL;
        return pp_fail("cannot start the evaluation thread: %s", strerror(rc));
    }
    return 0;
}

pp_eval_job *pp_eval_worker_slot(pp_eval_worker *w)
{
    if (w->count == PP_EVAL_QUEUE) return NULL;
    return &w->job[(w->head + w->count) % PP_EVAL_QUEUE];
}

void pp_eval_worker_submit(pp_eval_worker *w)
{
    int k = (w->head + w->count) % PP_EVAL_QUEUE;
    w->count++;
    if (!w->threaded) {
        run_job(w, &w->job[k]);
        w->state[k] = DONE;
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->state[k] = QUEUED;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

int pp_eval_worker_pending(const pp_eval_worker *w) { return w->count; }

long long pp_eval_worker_oldest_step(const pp_eval_worker *w) { return w->count ? w->job[w->head].step : -1; }

pp_eval_job *pp_eval_worker_oldest(pp_eval_worker *w, int wait)
{
    if (w->count == 0) return NULL;
    if (!w->threaded) return &w->job[w->head];
    pthread_mutex_lock(&w->mu);
    while (wait && w->state[w->head] != DONE) pthread_cond_wait(&w->done, &w->mu);
    int done = w->state[w->head] == DONE;
    pthread_mutex_unlock(&w->mu);
    return done ? &w->job[w->head] : NULL;
}

void pp_eval_worker_release(pp_eval_worker *w)
{
    if (w->count == 0) return;
    /* head under the lock too: the worker reads it to run the oldest first */
    if (w->threaded) pthread_mutex_lock(&w->mu);
    w->state[w->head] = FREE;
    w->head = (w->head + 1) % PP_EVAL_QUEUE;
    if (w->threaded) pthread_mutex_unlock(&w->mu);
    w->count--;
}

void pp_eval_worker_discard(pp_eval_worker *w)
{
    if (!w || w->count == 0) return;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        /* the waiting jobs are not started; the running one is told to stop */
        for (int i = 0; i < PP_EVAL_QUEUE; i++)
            if (w->state[i] == QUEUED) w->state[i] = DONE;
        atomic_store(&w->cancel, 1);
        for (int i = 0; i < PP_EVAL_QUEUE; i++)
            while (w->state[i] == RUNNING) pthread_cond_wait(&w->done, &w->mu);
        atomic_store(&w->cancel, 0);
        pthread_mutex_unlock(&w->mu);
    }
    while (w->count) pp_eval_worker_release(w);
}

void pp_eval_worker_free(pp_eval_worker *w)
{
    if (!w) return;
    pp_eval_worker_discard(w);
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    for (int i = 0; i < PP_EVAL_QUEUE; i++) {
        pp_actor_free(w->job[i].actor);
        pp_frame_free(w->job[i].policy);
    }
    if (w->threaded) {
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->done);
        pthread_mutex_destroy(&w->mu);
    }
    free(w);
}
