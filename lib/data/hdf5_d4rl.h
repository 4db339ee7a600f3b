/* hdf5_d4rl.h - D4RL's HDF5 files to and from a data set (data/dataset.h).
 *
 * The layout is D4RL's gym-MuJoCo one (docs/design.md section 10):
 * observations f32 [N, O], actions f32 [N, A], rewards f32 [N] (or [N, 1]
 * on reading), terminals and timeouts bool [N] (h5py's enum over int8
 * {FALSE = 0, TRUE = 1}; u8, i8 and float 0/1 are read too),
 * next_observations f32 [N, O] when present, infos/<name> [N] or [N, w]
 * columns, and a metadata/ group of strings, numbers and small arrays,
 * which becomes the data set's metadata frame (metadata/policy/fc0/weight
 * is the frame's policy.fc0.weight). The task is the root attribute "env".
 *
 * Whole datasets are read with HDF5's conversion to float (h5py's chunks
 * split columns, so row-wise reads would touch every chunk many times).
 * Writing: float32, gzip level 4, chunked, as h5py's compression='gzip'
 * writes; strings fixed-size and NULL-padded, as numpy's bytes are.
 *
 * Built with HDF5 (make HDF5=1, the default where pkg-config finds it);
 * without it pp_hdf5_built() is 0 and import and export fail with a message
 * saying so.
 */
#ifndef PP_HDF5_D4RL_H
#define PP_HDF5_D4RL_H

#include <stdint.h>

#include "data/dataset.h"
#include "data/dataset_next.h"

/* 1 if this parpi was built with HDF5. */
int pp_hdf5_built(void);
/* -1 with the message import and export give when it was not. */
int pp_hdf5_not_built(void);

/* 1 if path starts as an HDF5 file does (its signature; with HDF5 built,
 * also after a user block), 0 if not or unreadable. */
int pp_hdf5_is_hdf5(const char *path);

typedef struct {
    const char *env;      /* the task the rows are for (NULL or "": the file's "env" attribute, if any) */
    int obs_dim, act_dim; /* > 0: observations and actions must have this many columns */
    int keep_rows;        /* 1: the file's rows as they are; a file without next_observations
                             gets none (parpi-dataset info). 0: pp_dataset_pair_next pairs them */
} pp_hdf5_import_opts;

typedef struct {
    int timeouts_absent;    /* no timeouts key: read as all false */
    int env_from_file;      /* the task came from the file's "env" attribute */
    pp_next_report next;    /* next_observations derived (next.derived), terminal rows kept, rows dropped */
    char notes[1024];       /* what else was skipped or assumed, one line each ("" none) */
} pp_hdf5_report;

/* Read a D4RL HDF5 file into a new data set. Every check is made before the
 * data is read: the keys, their types and shapes, the row counts (every key
 * N rows), the sizes against o->obs_dim / act_dim; then every float value is
 * finite and every flag 0 or 1. An error names the file, the key and the row
 * ("d.hdf5: observations row 17 column 3 is nan"). rep may be NULL. */
int pp_hdf5_import(const char *path, const pp_hdf5_import_opts *o, pp_dataset **out, pp_hdf5_report *rep);

/* Write d as a D4RL HDF5 file: observations, actions, rewards, terminals,
 * timeouts (bool), next_observations and every other column by its name
 * (infos/qpos in group infos), the metadata frame under metadata/, the env
 * as the root attribute "env". Atomic: written to PATH.tmp.XXXXXX next to
 * path and renamed over it only when complete, so an error leaves no
 * output file (and any earlier file as it was). */
int pp_hdf5_export(const pp_dataset *d, const char *path);

#endif
