/* hdf5_impl.h - what the HDF5 files of lib/data share (private; only built
 * with PARPI_HDF5): HDF5's errors as pp_fail messages, h5py's bool and
 * string types, the notes an import collects, the metadata group. */
#ifndef PP_HDF5_IMPL_H
#define PP_HDF5_IMPL_H

#include <hdf5.h>
#include <stddef.h>

#include "frame/frame.h"

/* Stop HDF5 printing its error stack on stderr (every call's failure
 * becomes a pp_fail message instead). Idempotent. */
void pp_h5_quiet(void);

/* pp_fail with the formatted message and, after it, the innermost error
 * HDF5 recorded ("...: HDF5: truncated file: eof = 96, ..."); clears
 * HDF5's error stack. Returns -1. */
int pp_h5_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Append one line to an import's notes (cut short when full). */
void pp_h5_note(char *notes, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* h5py's bool: an enum over int8 {FALSE = 0, TRUE = 1}. base: H5T_STD_I8LE
 * for the file, H5T_NATIVE_SCHAR for memory. Close with H5Tclose. */
hid_t pp_h5_bool_type(hid_t base);

/* A fixed-size, NULL-padded string (numpy's bytes, as h5py writes
 * np.string_) as dataset name under loc (lcpl: link creation properties),
 * or with attr as an attribute of loc. 0 or -1. */
int pp_h5_write_str(hid_t loc, const char *name, const char *s, hid_t lcpl, int attr);

/* The string dataset or attribute obj (attr: an attribute), scalar, fixed
 * or variable size, as a malloc'd C string in *out. Fixed-size strings
 * are read into a type one byte longer (NULLTERM) or the last character
 * would be lost. 0 or -1 with a message naming what. */
int pp_h5_read_str(hid_t obj, int attr, const char *what, char **out);

/* 1 if loc has a hard link at path ("infos/qpos": each part checked),
 * 0 if not. */
int pp_h5_has(hid_t loc, const char *path);

/* The metadata/ group of file into the frame meta (strings, numbers,
 * booleans, arrays as tensors, groups as maps); what it cannot hold is
 * skipped with a note. No group: nothing. 0 or -1. */
int pp_h5_meta_read(hid_t file, const char *path, pp_frame *meta, char *notes, size_t cap);

/* The frame meta as the metadata/ group of file (nothing when empty).
 * Arrays, nil, bin and ext values are refused, naming the field. */
int pp_h5_meta_write(hid_t file, pp_frame *meta);

#endif
