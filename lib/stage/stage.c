/* stage.c - the registry of stage kinds.
 *
 * Each stage file defines one `const pp_stage_ops pp_stage_<kind>`; the
 * table below refers to all of them, so any program that looks a stage up
 * links every stage out of the static library.
 */
#include <string.h>

#include "base/err.h"
#include "stage/stage.h"

#define STAGE(name) extern const pp_stage_ops pp_stage_##name;
STAGE(collect)
STAGE(critic)
STAGE(langevin)
STAGE(discrim)
STAGE(policy)
STAGE(eval)
#undef STAGE

static const char *const kinds[] = {"collect", "critic", "langevin", "discrim", "policy", "eval",
                                    NULL};

const char *const *pp_stage_kinds(void) { return kinds; }

const pp_stage_ops *pp_stage_lookup(const char *kind)
{
    const pp_stage_ops *table[] = {&pp_stage_collect, &pp_stage_critic, &pp_stage_langevin,
                                   &pp_stage_discrim, &pp_stage_policy, &pp_stage_eval};
    for (int i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0) return table[i];
    return NULL;
}

int pp_stage_create(const char *kind, int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    int known = 0;
    for (int i = 0; kinds[i]; i++) known |= strcmp(kind, kinds[i]) == 0;
    if (!known) return pp_fail("unknown stage kind '%s' (collect, critic, langevin, discrim, policy, eval)", kind);
    const pp_stage_ops *ops = pp_stage_lookup(kind);
    if (!ops) return pp_fail("stage '%s' is not built into this libparpi", kind);
    return ops->create(argc, argv, out);
}

void pp_stage_free(pp_stage *s)
{
    if (s) s->ops->destroy(s);
}
