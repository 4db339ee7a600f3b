/* clock.h - seconds on the monotonic clock, for rates, timings and ETAs. */
#ifndef PP_CLOCK_H
#define PP_CLOCK_H

#include <time.h>

static inline double pp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
