/* temperature.h - the entropy temperature alpha (docs/algorithm.md section 5).
 *
 * Learned: the parameter is log alpha (float32, so Adam and checkpoints treat
 * it like any other blob of one float), minimised on
 *   L(log alpha) = -alpha * (mean log pi + target_entropy),
 *   dL/dlog alpha = -alpha * (mean log pi + target_entropy),
 * with Adam (lr 3e-4 by default) and target_entropy = -d by default. When the
 * policy's entropy -mean log pi is below the target, the gradient is negative
 * and alpha rises; above the target it falls.
 * Fixed: alpha never changes (the --alpha flag); 0 is allowed.
 */
#ifndef PP_TEMPERATURE_H
#define PP_TEMPERATURE_H

#include "frame/frame.h"
#include "nn/mlp.h"
#include "nn/adam.h"

typedef struct {
    int learned;
    double target_entropy;
    double fixed_alpha;
    float log_alpha[1];  /* the learned parameter */
    float grad[1];
    pp_adam adam;
} pp_temperature;

/* learned: initial alpha init_alpha (> 0), Adam lr; fixed: alpha = init_alpha
 * (>= 0: 0 is no entropy term, BRAC's default). */
int pp_temperature_init(pp_temperature *t, int learned, double init_alpha, double target_entropy,
                        float lr);
void pp_temperature_free(pp_temperature *t);
double pp_temperature_alpha(const pp_temperature *t);
/* The loss -alpha (mean_logp + target) at the current alpha (no step). */
double pp_temperature_loss(const pp_temperature *t, double mean_logp);
/* One Adam step on the loss (no-op when fixed). -1 (nothing changed) if the
 * step would make log alpha non-finite. */
int pp_temperature_step(pp_temperature *t, double mean_logp);

/* Checkpoint: prefix.{log_alpha, adam_m, adam_v, adam_t} (learned only). */
int pp_temperature_save(const pp_temperature *t, pp_frame *f, const char *prefix);
int pp_temperature_load(pp_temperature *t, pp_frame *f, const char *prefix);

#endif
