/* share.h - locate files of share/parpi (lib/base/share.c). */
#ifndef PP_SHARE_H
#define PP_SHARE_H

#include <stddef.h>

/* Where share/parpi lives (MJCF models, presets, plot scripts): $PARPI_SHARE, else the compiled-in
 * PARPI_SHAREDIR (installed), else share/parpi/envs next to the binary's
 * source tree (running from a checkout). Writes the path of file into buf. */
int pp_share_path(const char *relative, char *buf, size_t cap);

#endif
