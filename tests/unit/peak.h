/* peak.h - a process's memory as /proc/self/status tells it, for the tests
 * and benchmarks that bound peak memory (test_replay_long, bench_replay).
 *
 *   pk_status_bytes("VmRSS")   resident bytes now; "VmHWM" the peak so far
 *   pk_reset_peak()            VmHWM back to VmRSS (/proc/self/clear_refs, 5)
 * (seconds on the monotonic clock: pp_now, base/clock.h)
 */
#ifndef PP_TEST_PEAK_H
#define PP_TEST_PEAK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"


/* A "Key: N kB" line of /proc/self/status in bytes; -1 when unreadable. */
static inline double pk_status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':') v = 1024.0 * atof(line + n + 1);
    if (f) fclose(f);
    return v;
}

/* Start a new peak. 0, or -1 where the kernel does not allow it. */
static inline int pk_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
