/* parpi-collect - act in an environment and keep the replay buffer; see
 * man/man1/parpi-collect.1. Standalone (--steps / --episodes / --list-envs)
 * the program is here; otherwise it is the ring stage of
 * lib/stage/stage_collect.c, run by cmd/common.c's pp_stage_main.
 *
 * Standalone output: one frame per episode (or per --chunk transitions) with
 * D4RL's names, so the stream concatenates into a data set:
 *   {step, episode, observations [n,O], actions [n,A] (env units),
 *    rewards [n], next_observations [n,O], terminals [n], timeouts [n] (f32 0/1),
 *    return (f64, when the frame ends an episode), length}
 * Ctrl-C (SIGINT/SIGTERM) stops after the current step; the partial chunk is
 * written and the replay file saved atomically, so it is always valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "common.h"
#include "frame/frame.h"
#include "rl/policy_file.h"
#include "stage/collect.h"

static const char usage_head[] =
    "Usage: parpi-collect --env NAME --steps N|--episodes N [--policy CKPT] [--replay FILE] [OPTIONS] >stream\n"
    "       parpi-collect --env NAME [OPTIONS] <frames >frames      (ring mode)\n"
    "       parpi-collect --list-envs\n"
    "Act in an environment (uniform random actions, or a policy checkpoint) and keep\n"
    "the replay buffer. Standalone, it writes the transitions as a frame stream (one\n"
    "frame per episode, D4RL names) and/or appends them to a replay file. In the ring,\n"
    "it steps the env once per frame with the frame's policy and emits a fresh batch.\n\n";

static void usage(FILE *out)
{
    fputs(usage_head, out);
    fputs("Options:\n", out);
    pp_collect_help(out);
    fputc('\n', out);
    pp_stage_common_help("Ring mode also takes the options of every stage:", out);
}

typedef struct {
    int O, A, cap, n;
    float *obs, *act, *rew, *next_obs, *term, *trunc;
} chunk;

static int put_chunk(pp_frame *f, pp_writer *w, chunk *ch, const pp_collector *c, int episode_end)
{
    if (ch->n == 0) return 0;
    int64_t n = ch->n, so[2] = {n, ch->O}, sa[2] = {n, ch->A}, s1[1] = {n};
    pp_frame_clear(f);
    int rc = 0;
    rc |= pp_frame_set_i64(f, "step", c->step);
    rc |= pp_frame_set_i64(f, "episode", c->episodes + (episode_end ? 0 : 1));
    rc |= pp_frame_set_str(f, "env", c->env_name);
    rc |= pp_frame_put_tensor(f, "observations", PP_F32, 2, so, ch->obs);
    rc |= pp_frame_put_tensor(f, "actions", PP_F32, 2, sa, ch->act);
    rc |= pp_frame_put_tensor(f, "rewards", PP_F32, 1, s1, ch->rew);
    rc |= pp_frame_put_tensor(f, "next_observations", PP_F32, 2, so, ch->next_obs);
    rc |= pp_frame_put_tensor(f, "terminals", PP_F32, 1, s1, ch->term);
    rc |= pp_frame_put_tensor(f, "timeouts", PP_F32, 1, s1, ch->trunc);
    if (episode_end) {
        rc |= pp_frame_set_f64(f, "return", c->last_return);
        rc |= pp_frame_set_i64(f, "length", c->last_length);
    }
    if (rc) return -1;
    ch->n = 0;
    return w ? pp_writer_put(w, f) : 0;
}

static int run_standalone(pp_collector *c)
{
    if (pp_collector_open(c) != 0) return -1;
    const int O = c->info->obs_dim, A = c->info->act_dim;
    /* policy */
    if (c->policy_path[0]) {
        if (pp_actor_from_file(c->policy_path, 1, &c->actor) != 0) return pp_fail_prefix("--policy: ");
        const pp_netmap *spec = pp_actor_spec(c->actor);
        if (spec->obs_dim != O || spec->act_dim != A)
            return pp_fail("--policy %s is for obs %d / act %d, but %s has obs %d / act %d",
                           c->policy_path, spec->obs_dim, spec->act_dim, c->env_name, O, A);
    }
    /* output */
    int want_stream = c->out_path[0] || !c->replay_path[0];
    int out_fd = STDOUT_FILENO;
    if (want_stream && !c->out_path[0] && isatty(STDOUT_FILENO))
        return pp_fail("stdout is a terminal: give --out FILE or --replay FILE, or pipe the "
                       "stream (e.g. into parpi-cat)");
    if (c->out_path[0]) {
        out_fd = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0) return pp_fail("cannot write %s: %s", c->out_path, strerror(errno));
    }
    pp_writer *w = want_stream ? pp_writer_open_fd(out_fd, c->out_path[0] ? c->out_path : "stdout") : NULL;
    chunk ch = {.O = O, .A = A, .cap = c->chunk};
    ch.obs = pp_xalloc_f32((size_t)ch.cap * O);
    ch.next_obs = pp_xalloc_f32((size_t)ch.cap * O);
    ch.act = pp_xalloc_f32((size_t)ch.cap * A);
    ch.rew = pp_xalloc_f32((size_t)ch.cap);
    ch.term = pp_xalloc_f32((size_t)ch.cap);
    ch.trunc = pp_xalloc_f32((size_t)ch.cap);
    pp_frame *f = pp_frame_new();

    pp_stop_on_signals(PP_STOP_SECOND_KILLS);

    int rc = 0;
    double ret_sum = 0, ret_sq = 0;
    long long start_episodes = c->episodes;
    while (!pp_stop_signal) {
        if (c->want_steps && c->step >= c->want_steps) break;
        if (c->want_episodes && c->episodes - start_episodes >= c->want_episodes) break;
        if (c->actor) {
            for (int i = 0; i < O; i++) c->obs_f[i] = (float)c->obs[i];
            if (pp_actor_act(c->actor, pp_actor_params(c->actor), c->obs_f, 1, c->deterministic,
                             &c->act_rng, c->act) != 0) {
                rc = -1;
                break;
            }
        } else pp_collector_random_action(c);
        int row = ch.n;
        for (int i = 0; i < O; i++) ch.obs[(size_t)row * O + i] = (float)c->obs[i];
        if (pp_collector_env_step(c, c->act) != 0) {
            rc = -1;
            break;
        }
        for (int i = 0; i < O; i++) ch.next_obs[(size_t)row * O + i] = (float)c->next_obs[i];
        for (int i = 0; i < A; i++) ch.act[(size_t)row * A + i] = (float)c->act_env[i];
        ch.rew[row] = (float)c->reward;
        ch.term[row] = (float)c->terminated;
        ch.trunc[row] = (float)c->truncated;
        ch.n++;
        if (c->episode_ended) {
            ret_sum += c->last_return;
            ret_sq += c->last_return * c->last_return;
        }
        if ((c->episode_ended || ch.n == ch.cap) && put_chunk(f, w, &ch, c, c->episode_ended) != 0) {
            rc = -1;
            break;
        }
    }
    /* the partial chunk (also after Ctrl-C), then the replay: both complete */
    if (rc == 0 && put_chunk(f, w, &ch, c, 0) != 0) rc = -1;
    if (pp_collector_save_replay(c) != 0) rc = -1;
    if (rc == 0) {
        long long k = c->episodes - start_episodes;
        double mean = k ? ret_sum / (double)k : 0, var = k ? ret_sq / (double)k - mean * mean : 0;
        fprintf(stderr, "%s: %lld steps, %lld episodes finished%s", pp_progname(), c->step, k,
                pp_stop_signal ? " (interrupted)" : "");
        if (k) fprintf(stderr, ", return %.2f +- %.2f", mean, sqrt(var > 0 ? var : 0));
        if (c->replay_path[0]) fprintf(stderr, "; replay %s holds %lld", c->replay_path, (long long)c->replay->size);
        fputc('\n', stderr);
    }
    pp_frame_free(f);
    if (w) pp_writer_close(w);
    if (c->out_path[0]) close(out_fd);
    free(ch.obs);
    free(ch.next_obs);
    free(ch.act);
    free(ch.rew);
    free(ch.term);
    free(ch.trunc);
    return rc;
}

int main(int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    switch (pp_cmd_help_or_version(argc, argv)) {
    case PP_CMD_HELP: usage(stdout); return pp_cmd_flush_stdout();
    case PP_CMD_VERSION: return pp_cmd_version("parpi-collect");
    }
    static const char *const standalone[] = {"list-envs", "steps", "episodes", NULL};
    int ring = pp_cmd_ring_mode("collect", argc, argv, standalone,
                                "no --steps or --episodes, and stdin is a terminal: give --steps N to "
                                "collect on its own, or pipe frames in (ring mode; see --help)");
    if (ring >= 0) return ring;
    pp_collector c;
    if (pp_collector_parse(&c, argc, argv, 1) != 0) {
        fprintf(stderr, "%s: %s\nTry 'parpi-collect --help'.\n", pp_progname(), pp_error());
        return PP_EXIT_USAGE;
    }
    if (c.list_envs) {
        pp_env_list(stdout);
        return pp_cmd_flush_stdout();
    }
    pp_env *probe = NULL; /* an unknown task is a usage error: the message lists the names */
    if (pp_env_create(c.env_name, c.env_options[0] ? c.env_options : NULL, &probe) != 0) {
        fprintf(stderr, "%s: --env %s: %s\n", pp_progname(), c.env_name, pp_error());
        return PP_EXIT_USAGE;
    }
    pp_env_free(probe);
    int rc = run_standalone(&c);
    pp_collector_close(&c);
    if (rc != 0 && pp_cmd_stdout_closed()) return PP_EXIT_OK; /* | head: the replay is saved */
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return pp_stop_status();
}
