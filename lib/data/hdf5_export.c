/* hdf5_export.c - a data set written as a D4RL HDF5 file (data/hdf5_d4rl.h).
 *
 * What h5py's create_dataset(k, data, compression='gzip') writes, so that
 * d4rl.qlearning_dataset and h5py read it unchanged: float32 columns,
 * terminals and timeouts as h5py's bool (an enum over int8), gzip level 4
 * on chunks of whole rows (about CHUNK_BYTES each), "infos/qpos" in a
 * group infos made on the way. The file is written under the temporary
 * name of a save (frame/save.h: PATH.tmp.XXXXXX next to PATH, cleared up
 * after a crash by pp_frame_prepare_save), synced and renamed only when
 * complete.
 */
#include "data/hdf5_d4rl.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "frame/save.h"

#ifndef PARPI_HDF5

int pp_hdf5_export(const pp_dataset *d, const char *path)
{
    (void)d, (void)path;
    return pp_hdf5_not_built();
}

#else

#include "data/hdf5_impl.h"

#define CHUNK_BYTES ((size_t)1 << 20)
#define GZIP_LEVEL 4

static hid_t column_type(pp_dtype dt, int file)
{
    switch (dt) {
    case PP_F32: return H5Tcopy(file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT);
    case PP_F64: return H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    case PP_I32: return H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
    case PP_I64: return H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
    case PP_U8: return H5Tcopy(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8);
    case PP_BOOL: return pp_h5_bool_type(file ? H5T_STD_I8LE : H5T_NATIVE_SCHAR);
    default: return -1;
    }
}

static int write_column(hid_t file, hid_t lcpl, const pp_column *c, int64_t rows)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)c->width}, chunk[2];
    int rank = c->width ? 2 : 1;
    size_t rb = pp_column_row_bytes(c);
    int64_t crows = (int64_t)(CHUNK_BYTES / rb);
    chunk[0] = (hsize_t)(crows < 1 ? 1 : crows > rows ? rows : crows);
    chunk[1] = dims[1];
    hid_t ft = column_type(c->dtype, 1), mt = column_type(c->dtype, 0);
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    int ok = ft >= 0 && mt >= 0 && space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
             H5Pset_deflate(dcpl, GZIP_LEVEL) >= 0 &&
             (ds = H5Dcreate2(file, c->name, ft, space, lcpl, dcpl, H5P_DEFAULT)) >= 0 &&
             H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data) >= 0;
    if (ds >= 0 && H5Dclose(ds) < 0) ok = 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return ok ? 0 : pp_h5_fail("writing %s", c->name);
}

/* What D4RL's loader needs, in the types h5py users expect. */
static int check_layout(const pp_dataset *d)
{
    if (d->rows == 0) return pp_fail("the data set has no rows");
    if (!pp_dataset_need(d, "observations", PP_F32, -1) || !pp_dataset_need(d, "actions", PP_F32, -1) ||
        !pp_dataset_need(d, "rewards", PP_F32, 0) || !pp_dataset_need(d, "terminals", PP_BOOL, 0) ||
        !pp_dataset_need(d, "timeouts", PP_BOOL, 0))
        return -1;
    if (pp_dataset_column(d, "observations")->width < 1 || pp_dataset_column(d, "actions")->width < 1)
        return pp_fail("observations and actions must be [N, width]");
    return 0;
}

static int write_file(const pp_dataset *d, hid_t file)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        if (lcpl >= 0) H5Pclose(lcpl);
        return pp_h5_fail("link creation properties");
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < d->ncols; i++) rc = write_column(file, lcpl, &d->col[i], d->rows);
    H5Pclose(lcpl);
    if (rc == 0) rc = pp_h5_meta_write(file, d->meta);
    if (rc == 0 && d->env[0]) rc = pp_h5_write_str(file, "env", d->env, H5P_DEFAULT, 1);
    return rc;
}

int pp_hdf5_export(const pp_dataset *d, const char *path)
{
    if (check_layout(d) != 0) return pp_fail_prefix("writing %s: ", path);
    pp_save *sv = NULL;
    if (pp_save_open(&sv, path) != 0) return -1;
    const char *tmp = pp_save_temp(sv);
    pp_h5_quiet();
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = file < 0 ? pp_h5_fail("cannot create %s", tmp) : write_file(d, file);
    if (file >= 0 && H5Fclose(file) < 0 && rc == 0) rc = pp_h5_fail("closing %s", tmp);
    if (rc != 0) {
        pp_save_abort(sv);
        return pp_fail_prefix("writing %s: ", path);
    }
    return pp_save_commit(sv);
}

#endif
