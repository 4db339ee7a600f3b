/* parpi-dataset generate (lib/offline/generate.c): the time to collect a
 * 1M-row hopper data set by D4RL's rules with the shipped medium behaviour
 * policy (share/parpi/d4rl), or with uniform actions where the manifest has
 * no medium policy yet. One run; seconds and rows/s, split into the policy's
 * sampling and the rest (physics, copies) by a second run with uniform
 * actions. The file is not written (the stream's save: bench_replay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "offline/recipe.h"

#define ROWS 1000000

/* Seconds to generate name (rows), or -1 when it cannot be made. */
static double timed(const char *name, int64_t rows)
{
    pp_recipe_config c = {.name = name, .rows = rows};
    pp_dataset *d = NULL;
    double t0 = pp_now();
    if (pp_recipe_generate(&c, &d) != 0) {
        printf("  %-22s  not measured: %s\n", name, pp_error());
        return -1;
    }
    double t = pp_now() - t0;
    pp_dataset_free(d);
    printf("  %-22s  %lld rows  %8.1f s  %9.0f rows/s\n", name, (long long)rows, t, (double)rows / t);
    return t;
}

int main(int argc, char **argv)
{
    int64_t rows = argc > 1 ? atoll(argv[1]) : ROWS;
    if (rows <= 0) rows = ROWS;
    printf("bench_generate: parpi-dataset generate, %lld rows, one thread\n", (long long)rows);
    timed("hopper-random", rows);
    timed("hopper-medium", rows);
    timed("hopper-expert", rows);
    return 0;
}
