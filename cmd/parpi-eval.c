/* parpi-eval - evaluation episodes of a policy; see man/man1/parpi-eval.1.
 * Standalone (--policy CKPT) the program is here; otherwise it is the ring
 * stage of lib/stage/stage_eval.c, run by cmd/common.c's pp_stage_main. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "common.h"
#include "frame/frame.h"
#include "rl/policy_file.h"
#include "stage/eval.h"

static void usage(FILE *out)
{
    fputs("Usage: parpi-eval --env NAME --policy CKPT [--episodes K] [--log CSV]\n"
          "       parpi-eval --env NAME --every N [OPTIONS] <frames >frames   (ring mode)\n"
          "Evaluation episodes of a policy (the mean action unless --stochastic): mean, std,\n"
          "min and max of return and length, and the D4RL-normalised score where the task\n"
          "has reference returns. Standalone prints one 'name value' line per figure.\n\n"
          "Options:\n",
          out);
    pp_eval_help(out);
    fputc('\n', out);
    pp_stage_common_help("Ring mode also takes the options of every stage:", out);
}

int main(int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    switch (pp_cmd_help_or_version(argc, argv)) {
    case PP_CMD_HELP: usage(stdout); return pp_cmd_flush_stdout();
    case PP_CMD_VERSION: return pp_cmd_version("parpi-eval");
    }
    static const char *const standalone[] = {"policy", NULL};
    int ring = pp_cmd_ring_mode("eval", argc, argv, standalone,
                                "no --policy, and stdin is a terminal: give --policy CKPT to evaluate a "
                                "checkpoint, or pipe frames in (ring mode; see --help)");
    if (ring >= 0) return ring;
    pp_eval_config o;
    if (pp_eval_parse(&o, argc, argv, 1, NULL) != 0) {
        fprintf(stderr, "%s: %s\nTry 'parpi-eval --help'.\n", pp_progname(), pp_error());
        return PP_EXIT_USAGE;
    }
    pp_env *env = NULL;
    if (pp_env_create(o.env_name, o.env_options[0] ? o.env_options : NULL, &env) != 0) {
        fprintf(stderr, "%s: --env %s: %s\n", pp_progname(), o.env_name, pp_error());
        return PP_EXIT_USAGE;
    }
    pp_actor *actor = NULL;
    int rc = 0;
    if (pp_actor_from_file(o.policy_path, 1, &actor) != 0) rc = pp_fail_prefix("--policy: ");
    int64_t step = -1;
    if (rc == 0) { /* the step of a checkpoint, when it says */
        pp_frame *pf = pp_frame_new();
        uint8_t *buf = NULL;
        if (pp_frame_load_file(pf, o.policy_path, &buf) == 0 && pp_frame_get(pf, "step"))
            pp_frame_get_i64(pf, "step", &step);
        pp_frame_free(pf);
        free(buf);
    }
    const pp_env_info *info = pp_env_get_info(env);
    if (rc == 0 && (pp_actor_spec(actor)->obs_dim != info->obs_dim || pp_actor_spec(actor)->act_dim != info->act_dim))
        rc = pp_fail("--policy %s is for obs %d / act %d, but %s has obs %d / act %d", o.policy_path,
                     pp_actor_spec(actor)->obs_dim, pp_actor_spec(actor)->act_dim, o.env_name, info->obs_dim,
                     info->act_dim);
    pp_eval_result r;
    if (rc == 0)
        rc = pp_evaluate(env, o.env_name, actor, pp_actor_params(actor), o.episodes, o.deterministic, o.seed,
                         NULL, NULL, &r);
    if (rc == 0) {
        pp_eval_print(&r, stdout);
        if (fflush(stdout) != 0) rc = pp_fail("writing stdout: %s", strerror(errno));
    }
    if (rc == 0 && o.log_path[0]) {
        FILE *fp = pp_eval_log_open(o.log_path);
        if (!fp) rc = -1;
        else {
            rc = pp_eval_csv_row(fp, o.log_path, step, &r);
            if (fclose(fp) != 0 && rc == 0) rc = pp_fail("writing %s: %s", o.log_path, strerror(errno));
        }
    }
    pp_actor_free(actor);
    pp_env_free(env);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}
