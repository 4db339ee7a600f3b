/* hdf5_meta.c - D4RL's metadata/ group and a data set's metadata frame,
 * both ways (data/hdf5_impl.h).
 *
 * A group is a map, a scalar string a string, a number, an h5py bool or an
 * array of them a tensor of its type (float32/float64, int32/int64, uint8,
 * bool; a scalar is a 0-d tensor, which reads as a number):
 * metadata/policy/fc0/weight is the frame's policy.fc0.weight. Written back,
 * each keeps its type; numbers and booleans of the frame itself are written
 * as int64, float64 and bool.
 * What the frame cannot hold (string arrays, compound types, names with a
 * '.', links that are not hard links, arrays of more than
 * META_MAX_ELEMENTS) is skipped and named in the import's notes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#ifdef PARPI_HDF5

#include "data/hdf5_impl.h"

#define META_MAX_ELEMENTS ((hssize_t)1 << 24)
#define META_MAX_DEPTH 16

/* ---- reading ---- */

typedef struct {
    pp_frame *meta;
    char *notes;
    size_t cap;
    const char *file;
    char path[512]; /* the frame path of the group being walked ("policy.fc0") */
    char key[512];  /* its HDF5 name ("metadata/policy/fc0") */
    int depth;
    int failed;
} meta_walk;

/* An integer or float type as a tensor dtype and the memory type to read
 * it with; an enum over one byte as bool. 0, or -1 if none fits. */
static int meta_dtype(hid_t type, pp_dtype *dt, hid_t *mem)
{
    H5T_class_t c = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (c == H5T_FLOAT) {
        *dt = size <= 4 ? PP_F32 : PP_F64;
        *mem = size <= 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    } else if (c == H5T_INTEGER) {
        int sign = H5Tget_sign(type) == H5T_SGN_2;
        if (!sign && size == 1) *dt = PP_U8, *mem = H5T_NATIVE_UINT8;
        else if (size < 4 || (sign && size == 4)) *dt = PP_I32, *mem = H5T_NATIVE_INT32;
        else *dt = PP_I64, *mem = H5T_NATIVE_INT64;
    } else if (c == H5T_ENUM && size == 1) {
        *dt = PP_BOOL;
        *mem = H5T_NATIVE_UINT8;
    } else
        return -1;
    return 0;
}

static int meta_dataset(meta_walk *w, hid_t ds, const char *key, const char *path)
{
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
    int rc = 0;
    if (type < 0 || space < 0) {
        rc = pp_h5_fail("%s: %s: cannot read its type", w->file, key);
        goto done;
    }
    int ndim = H5Sget_simple_extent_ndims(space);
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    pp_dtype dt;
    hid_t mem;
    if (H5Tget_class(type) == H5T_STRING) {
        if (ndim != 0) {
            pp_h5_note(w->notes, w->cap, "skipped %s: an array of strings", key);
            goto done;
        }
        char *s = NULL;
        char what[2048];
        snprintf(what, sizeof what, "%s: %s", w->file, key);
        rc = pp_h5_read_str(ds, 0, what, &s);
        if (rc == 0) rc = pp_frame_set_str(w->meta, path, s);
        free(s);
        goto done;
    }
    if (ndim < 0 || ndim > PP_MAX_DIMS || meta_dtype(type, &dt, &mem) != 0) {
        pp_h5_note(w->notes, w->cap, "skipped %s: neither a string, a number, a bool nor an array of them", key);
        goto done;
    }
    if (npoints > META_MAX_ELEMENTS) {
        pp_h5_note(w->notes, w->cap, "skipped %s: %lld elements, more than metadata keeps (%lld)", key,
                   (long long)npoints, (long long)META_MAX_ELEMENTS);
        goto done;
    }
    /* a scalar is a 0-d tensor: it reads as a number (pp_frame_get_i64) and
     * is written back with its own type (metadata/iteration stays int32) */
    hsize_t dims[PP_MAX_DIMS];
    int64_t shape[PP_MAX_DIMS];
    if (ndim > 0) H5Sget_simple_extent_dims(space, dims, NULL);
    for (int k = 0; k < ndim; k++) shape[k] = (int64_t)dims[k];
    void *dst = pp_frame_put_tensor_uninit(w->meta, path, dt, ndim, shape);
    if (!dst) {
        rc = pp_fail_prefix("%s: %s: ", w->file, key);
        goto done;
    }
    if (npoints > 0 && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        rc = pp_h5_fail("%s: reading %s", w->file, key);
        goto done;
    }
    if (dt == PP_BOOL)
        for (hssize_t k = 0; k < npoints; k++)
            if (((unsigned char *)dst)[k] > 1) {
                pp_frame_remove(w->meta, path);
                pp_h5_note(w->notes, w->cap, "skipped %s: an enum with values other than 0 and 1", key);
                break;
            }
done:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return rc;
}

static herr_t meta_item(hid_t g, const char *name, const H5L_info_t *li, void *data);

static int meta_group(meta_walk *w, hid_t g)
{
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, meta_item, w) < 0 && !w->failed)
        return pp_h5_fail("%s: reading the group %s", w->file, w->key);
    return w->failed ? -1 : 0;
}

static herr_t meta_item(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    meta_walk *w = data;
    size_t pl = strlen(w->path), kl = strlen(w->key);
    char key[1024];
    snprintf(key, sizeof key, "%s/%s", w->key, name);
    if (li->type != H5L_TYPE_HARD) {
        pp_h5_note(w->notes, w->cap, "skipped %s: a soft or external link", key);
        return 0;
    }
    if (!name[0] || strchr(name, '.') || pl + strlen(name) + 2 > sizeof w->path ||
        kl + strlen(name) + 2 > sizeof w->key) {
        pp_h5_note(w->notes, w->cap, "skipped %s: a name with a '.' (or too long) is no frame path", key);
        return 0;
    }
    hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
    if (obj < 0) {
        w->failed = 1;
        pp_h5_fail("%s: cannot open %s", w->file, key);
        return -1;
    }
    H5I_type_t t = H5Iget_type(obj);
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", w->path, pl ? "." : "", name);
    int rc = 0;
    if (t == H5I_GROUP) {
        if (w->depth + 1 >= META_MAX_DEPTH) {
            pp_h5_note(w->notes, w->cap, "skipped %s: groups nested deeper than %d", key, META_MAX_DEPTH);
        } else {
            strcpy(w->path, path);
            strcpy(w->key, key);
            w->depth++;
            rc = meta_group(w, obj);
            w->depth--;
            w->path[pl] = '\0';
            w->key[kl] = '\0';
        }
    } else if (t == H5I_DATASET) {
        rc = meta_dataset(w, obj, key, path);
    } else {
        pp_h5_note(w->notes, w->cap, "skipped %s: a named type", key);
    }
    H5Oclose(obj);
    if (rc != 0) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

int pp_h5_meta_read(hid_t file, const char *path, pp_frame *meta, char *notes, size_t cap)
{
    if (!pp_h5_has(file, "metadata")) return 0;
    hid_t g = H5Oopen(file, "metadata", H5P_DEFAULT);
    if (g < 0) return pp_h5_fail("%s: cannot open metadata", path);
    if (H5Iget_type(g) != H5I_GROUP) {
        H5Oclose(g);
        pp_h5_note(notes, cap, "skipped metadata: not a group");
        return 0;
    }
    meta_walk w = {.meta = meta, .notes = notes, .cap = cap, .file = path};
    strcpy(w.key, "metadata");
    int rc = meta_group(&w, g);
    H5Oclose(g);
    return rc;
}

/* ---- writing ---- */

static hid_t file_type(pp_dtype dt)
{
    switch (dt) {
    case PP_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case PP_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case PP_I32: return H5Tcopy(H5T_STD_I32LE);
    case PP_I64: return H5Tcopy(H5T_STD_I64LE);
    case PP_U8: return H5Tcopy(H5T_STD_U8LE);
    case PP_BOOL: return pp_h5_bool_type(H5T_STD_I8LE);
    default: return -1;
    }
}

static hid_t mem_type(pp_dtype dt)
{
    switch (dt) {
    case PP_F32: return H5Tcopy(H5T_NATIVE_FLOAT);
    case PP_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case PP_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case PP_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case PP_U8: return H5Tcopy(H5T_NATIVE_UINT8);
    case PP_BOOL: return pp_h5_bool_type(H5T_NATIVE_SCHAR);
    default: return -1;
    }
}

/* One value or tensor as the dataset name of g: ndim 0 is a scalar. */
static int write_value(hid_t g, const char *name, const char *field, pp_dtype dt, int ndim, const int64_t *shape,
                       const void *data)
{
    hsize_t dims[PP_MAX_DIMS];
    for (int k = 0; k < ndim; k++) dims[k] = (hsize_t)shape[k];
    hid_t ft = file_type(dt), mt = mem_type(dt);
    hid_t space = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR), ds = -1;
    int ok = ft >= 0 && mt >= 0 && space >= 0 &&
             (ds = H5Dcreate2(g, name, ft, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             (pp_shape_numel(ndim, shape) == 0 || H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0 && H5Dclose(ds) < 0) ok = 0;
    if (space >= 0) H5Sclose(space);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return ok ? 0 : pp_h5_fail("writing metadata.%s", field);
}

static int write_map(pp_frame *meta, hid_t g, const pp_node *map, char *field, size_t cap, int depth)
{
    const char *key;
    size_t klen, fl = strlen(field);
    pp_node *v;
    for (int i = pp_node_map_next(map, 0, &key, &klen, &v); i >= 0; i = pp_node_map_next(map, i, &key, &klen, &v)) {
        char name[256];
        if (klen == 0 || klen >= sizeof name || fl + klen + 2 > cap || memchr(key, '/', klen) ||
            memchr(key, '.', klen) || memchr(key, '\0', klen))
            return pp_fail("metadata%s%s: a key of %zu bytes, empty, too long or with '/', '.' or NUL: not an "
                           "HDF5 name", fl ? "." : "", field, klen);
        memcpy(name, key, klen);
        name[klen] = '\0';
        snprintf(field + fl, cap - fl, "%s%s", fl ? "." : "", name);
        int rc = 0;
        pp_node_type t = pp_node_type_of(v);
        if (t == PP_NODE_MAP) {
            hid_t sub = depth + 1 < META_MAX_DEPTH ? H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
            if (sub < 0) rc = depth + 1 < META_MAX_DEPTH ? pp_h5_fail("writing the group metadata.%s", field)
                                                         : pp_fail("metadata.%s: maps nested deeper than %d", field,
                                                                   META_MAX_DEPTH);
            else {
                rc = write_map(meta, sub, v, field, cap, depth + 1);
                if (H5Gclose(sub) < 0 && rc == 0) rc = pp_h5_fail("writing the group metadata.%s", field);
            }
        } else if (t == PP_NODE_STR) {
            size_t n;
            const char *s = pp_node_bytes(v, &n);
            char *z = pp_xmalloc(n + 1);
            memcpy(z, s, n);
            z[n] = '\0';
            rc = memchr(s, '\0', n) ? pp_fail("metadata.%s: a string with a NUL byte", field)
                                    : pp_h5_write_str(g, name, z, H5P_DEFAULT, 0);
            free(z);
        } else if (t == PP_NODE_INT) {
            int64_t x;
            rc = pp_frame_get_i64(meta, field, &x);
            if (rc == 0) rc = write_value(g, name, field, PP_I64, 0, NULL, &x);
        } else if (t == PP_NODE_FLOAT) {
            double x;
            pp_node_as_f64(v, &x);
            rc = write_value(g, name, field, PP_F64, 0, NULL, &x);
        } else if (t == PP_NODE_BOOL) {
            double x;
            pp_node_as_f64(v, &x);
            signed char b = x != 0;
            rc = write_value(g, name, field, PP_BOOL, 0, NULL, &b);
        } else if (t == PP_NODE_TENSOR) {
            pp_dtype dt;
            int ndim;
            int64_t shape[PP_MAX_DIMS];
            const void *data;
            rc = pp_node_tensor(v, &dt, &ndim, shape, &data);
            if (rc == 0) rc = write_value(g, name, field, dt, ndim, shape, data);
        } else {
            rc = pp_fail("metadata.%s is %s: HDF5 metadata holds strings, numbers, booleans, tensors and maps",
                         field, pp_node_type_name(t));
        }
        field[fl] = '\0';
        if (rc != 0) return -1;
    }
    return 0;
}

int pp_h5_meta_write(hid_t file, pp_frame *meta)
{
    pp_node *root = pp_frame_root(meta);
    if (pp_node_len(root) == 0) return 0;
    hid_t g = H5Gcreate2(file, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return pp_h5_fail("writing the group metadata");
    char field[1024] = "";
    int rc = write_map(meta, g, root, field, sizeof field, 0);
    if (H5Gclose(g) < 0 && rc == 0) rc = pp_h5_fail("writing the group metadata");
    return rc;
}

#endif
