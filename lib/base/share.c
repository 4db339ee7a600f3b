/* share.c - locate share/parpi (MJCF models, presets, plot scripts). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/share.h"

#ifndef PARPI_SHAREDIR
#define PARPI_SHAREDIR "/usr/local/share/parpi"
#endif

static int exists(const char *p) { return access(p, R_OK) == 0; }

int pp_share_path(const char *relative, char *buf, size_t cap)
{
    const char *env = getenv("PARPI_SHARE");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, relative);
        if (exists(buf)) return 0;
        return pp_fail("%s not found (PARPI_SHARE is %s)", relative, env);
    }
    /* Next to the program: <prefix>/bin/prog -> <prefix>/share/parpi (an
     * install), or <checkout>/build/bin/prog -> <checkout>/share/parpi. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = '\0';
            snprintf(buf, cap, "%s/share/parpi/%s", exe, relative);
            if (exists(buf)) return 0;
        }
    }
    snprintf(buf, cap, "%s/%s", PARPI_SHAREDIR, relative);
    if (exists(buf)) return 0;
    return pp_fail("%s not found: set PARPI_SHARE to the share/parpi directory "
                   "(looked next to the program and in %s)", relative, PARPI_SHAREDIR);
}
