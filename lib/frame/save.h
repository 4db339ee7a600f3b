/* save.h - files written whole and atomically, ending in a checksum.
 *
 * A save writes a temporary file next to its target (PATH.tmp.XXXXXX, which
 * pp_frame_remove_stale_temps removes when a save was killed half way),
 * keeps the CRC-32C of every byte written, and on commit fsyncs it, renames
 * it over PATH and fsyncs the directory: a crash leaves the old file or the
 * new one, never a torn one, and a failed save leaves the old one untouched.
 *
 * The checksum entry ends a file's last map: the key "checksum" and a
 * uint32 in its 5-byte form, so its last 14 bytes are always
 *     a8 'c' 'h' 'e' 'c' 'k' 's' 'u' 'm' ce X X X X
 * and X (big-endian) is the CRC-32C of every byte of the file before those
 * four (parpi-frame(5), "Checkpoint"). A checkpoint is one map ending so
 * (frame_file.c); a replay or data set stream's end frame does (data/rows.c).
 */
#ifndef PP_SAVE_H
#define PP_SAVE_H

#include <stddef.h>
#include <stdint.h>

#define PP_SUM_ENTRY_BYTES 14 /* "checksum" (fixstr), ce, four bytes */

typedef struct pp_save pp_save;

/* Start a save to path: refuses a path that exists and is not a regular
 * file (the rename would destroy a device or a FIFO), makes the temporary. */
int pp_save_open(pp_save **out, const char *path);
/* Append bytes (buffered; large writes go straight through). */
int pp_save_write(pp_save *s, const void *p, size_t n);
/* Append the checksum entry; the map it ends must have counted it. */
int pp_save_sum(pp_save *s);
/* fsync, rename over the target, fsync its directory; frees s. On failure
 * the temporary is removed and the target is as before. */
int pp_save_commit(pp_save *s);
/* Give up: remove the temporary, free s (NULL: nothing). */
void pp_save_abort(pp_save *s);
/* The temporary's name, for a writer that opens the file by name itself
 * (HDF5: data/hdf5_export.c) and appends nothing through s; commit then
 * syncs and renames what it wrote. */
const char *pp_save_temp(const pp_save *s);

/* Check the checksum entry at the end of buf[0..len); crc is the CRC-32C of
 * the file's bytes before buf (0 when buf starts the file). 1: present and
 * right; 0: buf does not end in one; -1: wrong (pp_fail naming path). */
int pp_sum_check(uint32_t crc, const uint8_t *buf, size_t len, const char *path);

#endif
