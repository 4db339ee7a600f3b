/* temperature.c - learned or fixed entropy temperature (see temperature.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "rl/temperature.h"
#include "nn/adam.h"

int pp_temperature_init(pp_temperature *t, int learned, double init_alpha, double target_entropy,
                        float lr)
{
    memset(t, 0, sizeof *t);
    /* a fixed temperature may be 0 (BRAC, docs/algorithm.md section 14); a
     * learned one lives in log alpha and needs > 0 */
    if (!isfinite(init_alpha) || init_alpha < 0.0 || (learned && init_alpha == 0.0))
        return pp_fail("alpha %g, expected a finite number > 0%s", init_alpha,
                       learned ? "" : " (or 0 for a fixed temperature)");
    t->learned = learned;
    t->target_entropy = target_entropy;
    t->fixed_alpha = init_alpha;
    /* log_alpha is the learned parameter; a fixed temperature never reads it */
    t->log_alpha[0] = learned ? (float)log(init_alpha) : 0.0f;
    if (learned && pp_adam_init(&t->adam, 1, lr) != 0) return -1;
    return 0;
}

void pp_temperature_free(pp_temperature *t)
{
    if (t->learned) pp_adam_free(&t->adam);
}

double pp_temperature_alpha(const pp_temperature *t)
{
    return t->learned ? exp((double)t->log_alpha[0]) : t->fixed_alpha;
}

double pp_temperature_loss(const pp_temperature *t, double mean_logp)
{
    return -pp_temperature_alpha(t) * (mean_logp + t->target_entropy);
}

int pp_temperature_step(pp_temperature *t, double mean_logp)
{
    if (!t->learned) return 0;
    double g = -pp_temperature_alpha(t) * (mean_logp + t->target_entropy);
    if (!isfinite(g)) return pp_fail("temperature: gradient is %g (mean log pi %g)", g, mean_logp);
    /* Adam changes its moments; keep a copy so a bad step leaves no trace. */
    float m = t->adam.m[0], v = t->adam.v[0], la = t->log_alpha[0];
    long long steps = t->adam.t;
    t->grad[0] = (float)g;
    pp_adam_step(&t->adam, t->log_alpha, t->grad);
    if (!isfinite(t->log_alpha[0]) || !isfinite(exp((double)t->log_alpha[0]))) {
        t->adam.m[0] = m;
        t->adam.v[0] = v;
        t->adam.t = steps;
        t->log_alpha[0] = la;
        return pp_fail("temperature: log alpha would become non-finite");
    }
    return 0;
}

int pp_temperature_save(const pp_temperature *t, pp_frame *f, const char *prefix)
{
    if (!t->learned) return 0;
    char p[128];
    int64_t one[1] = {1};
    snprintf(p, sizeof p, "%s.log_alpha", prefix);
    if (pp_frame_put_tensor(f, p, PP_F32, 1, one, t->log_alpha) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_m", prefix);
    if (pp_frame_put_tensor(f, p, PP_F32, 1, one, t->adam.m) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_v", prefix);
    if (pp_frame_put_tensor(f, p, PP_F32, 1, one, t->adam.v) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_t", prefix);
    return pp_frame_set_i64(f, p, t->adam.t);
}

int pp_temperature_load(pp_temperature *t, pp_frame *f, const char *prefix)
{
    if (!t->learned) return 0;
    char p[128];
    int64_t one[1] = {1}, steps;
    snprintf(p, sizeof p, "%s.log_alpha", prefix);
    if (pp_frame_read_tensor(f, p, PP_F32, 1, one, t->log_alpha, NULL) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_m", prefix);
    if (pp_frame_read_tensor(f, p, PP_F32, 1, one, t->adam.m, NULL) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_v", prefix);
    if (pp_frame_read_tensor(f, p, PP_F32, 1, one, t->adam.v, NULL) != 0) return -1;
    snprintf(p, sizeof p, "%s.adam_t", prefix);
    if (pp_frame_get_i64(f, p, &steps) != 0) return -1;
    if (steps < 0) return pp_fail("%s is %lld, expected >= 0", p, (long long)steps);
    t->adam.t = steps;
    return 0;
}
