/* d4rl.c - D4RL reference returns for normalised scores.
 *
 * From D4RL's d4rl/infos.py (Farama-Foundation/D4RL at commit
 * 0ace16de1795f9e99b0e413f3617f797a997b57e), REF_MIN_SCORE / REF_MAX_SCORE for
 * the <task>-random-v0 entries, which that file also assigns to every v1 and
 * v2 gym-MuJoCo data set of the task:
 *
 *   task          REF_MIN_SCORE (random)   REF_MAX_SCORE (expert)
 *   halfcheetah   -280.178953              12135.0
 *   hopper        -20.272305               3234.3
 *   walker2d      1.629008                 4592.3
 *   ant           -325.6                   3879.7
 *
 * normalised score = 100 * (return - random) / (expert - random).
 * Humanoid, Pendulum and MultiGoal have no D4RL reference.
 */
#include <string.h>
#include <strings.h>

#include "data/d4rl.h"

static const struct {
    const char *task;
    double random, expert;
} d4rl_ref[] = {
    {"halfcheetah", -280.178953, 12135.0},
    {"hopper", -20.272305, 3234.3},
    {"walker2d", 1.629008, 4592.3},
    {"ant", -325.6, 3879.7},
};

int pp_d4rl_reference(const char *name, double *random_return, double *expert_return)
{
    *random_return = *expert_return = 0.0;
    if (!name) return 0;
    for (size_t i = 0; i < sizeof d4rl_ref / sizeof d4rl_ref[0]; i++) {
        size_t n = strlen(d4rl_ref[i].task);
        /* "Hopper-v3", "hopper", "hopper-medium-v2"; not "antmaze-..." */
        if (strncasecmp(name, d4rl_ref[i].task, n) == 0 &&
            (name[n] == '\0' || name[n] == '-' || name[n] == '_')) {
            *random_return = d4rl_ref[i].random;
            *expert_return = d4rl_ref[i].expert;
            return 1;
        }
    }
    return 0;
}
