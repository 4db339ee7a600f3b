/* stage.c - the registry of stage kinds.
 *
 * Each stage file defines one `const pp_stage_ops pp_stage_<kind>`; the
 * table below refers to all of them, so any program that looks a stage up
 * links every stage out of the static library.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "stage/stage.h"

#define STAGE(name) extern const pp_stage_ops pp_stage_##name;
STAGE(collect)
STAGE(dual)
STAGE(critic)
STAGE(langevin)
STAGE(discrim)
STAGE(policy)
STAGE(eval)
#undef STAGE

/* The one list of kinds, in ring order. */
static const pp_stage_ops *const registry[] = {&pp_stage_collect, &pp_stage_dual,
                                               &pp_stage_critic, &pp_stage_langevin,
                                               &pp_stage_discrim, &pp_stage_policy,
                                               &pp_stage_eval, NULL};

const char *const *pp_stage_kinds(void)
{
    static const char *kinds[sizeof registry / sizeof *registry];
    if (!kinds[0])
        for (int i = 0; registry[i]; i++) kinds[i] = registry[i]->kind;
    return kinds;
}

const pp_stage_ops *pp_stage_lookup(const char *kind)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(kind, registry[i]->kind) == 0) return registry[i];
    return NULL;
}

int pp_stage_create(const char *kind, int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    const pp_stage_ops *ops = pp_stage_lookup(kind);
    if (!ops) {
        char list[256] = "";
        for (int i = 0; registry[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     registry[i]->kind);
        return pp_fail("unknown stage kind '%s' (%s)", kind, list);
    }
    return ops->create(argc, argv, out);
}

pp_stage *pp_stage_new(const pp_stage_ops *ops, void *self)
{
    pp_stage *s = pp_xcalloc(1, sizeof *s);
    s->ops = ops;
    s->self = self;
    return s;
}

int pp_stage_created(pp_stage *s, int rc, pp_stage **out)
{
    if (rc != 0) {
        s->ops->destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

void pp_stage_free(pp_stage *s)
{
    if (s) s->ops->destroy(s);
}
