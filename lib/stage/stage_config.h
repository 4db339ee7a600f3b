/* stage_config.h - a stage's option table in its checkpoint: config.<key>.
 *
 * Saving writes one field per row that has a key: INT, COUNT and SEED as
 * i64, DOUBLE as f64, CHOICE and STRING as str, FLAG as bool.
 *
 * Loading is the resume rule of every stage (docs/design.md, "Resume"):
 *   - a SHAPE row (network sizes, the kind of target...) takes the
 *     checkpoint's value; if the option was given, or the stage is already
 *     built, and differs, it is an error naming both values;
 *   - a KEEP row keeps the option's value (paths, cadences);
 *   - any other row takes the checkpoint's value unless the option was given
 *     on this command line, which wins (a lower --lr when resuming).
 * The config is changed only when the whole load succeeds.
 */
#ifndef PP_STAGE_CONFIG_H
#define PP_STAGE_CONFIG_H

#include <stdint.h>

#include "base/opt.h"
#include "frame/frame.h"

int pp_config_save(const pp_opt *table, const void *cfg, pp_frame *ck);
/* cfg_size: sizeof the config struct; given: the mask pp_opt_parse returned;
 * built: the stage's buffers exist already (every SHAPE row must match). */
int pp_config_load(const pp_opt *table, void *cfg, size_t cfg_size, pp_frame *ck,
                   uint64_t given, int built);

#endif
