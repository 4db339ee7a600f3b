/* hdf5_d4rl.c - a D4RL HDF5 file read into a data set (data/hdf5_d4rl.h).
 *
 * The file is checked whole before any data is read: the keys D4RL's
 * loader requires (observations, actions, rewards, terminals), their
 * types and shapes, every key's row count against observations', and the
 * sizes against the task's. Then whole datasets are read, converted by
 * HDF5 to float, and checked value by value: floats finite, flags 0 or 1.
 * The layout and the next_observations policy: docs/design.md section 10.
 */
#include "data/hdf5_d4rl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

#ifndef PARPI_HDF5

int pp_hdf5_import(const char *path, const pp_hdf5_import_opts *o, pp_dataset **out, pp_hdf5_report *rep)
{
    (void)path, (void)o, (void)rep;
    *out = NULL;
    return pp_hdf5_not_built();
}

#else

#include "data/hdf5_impl.h"

#define MAX_ITEMS PP_DATASET_MAX_COLS

enum { K_DATA, K_FLAG }; /* float data, or a 0/1 flag read as bool */

/* One dataset of the file that becomes a column. */
typedef struct {
    char key[PP_COLUMN_NAME_MAX];
    hid_t ds;
    int kind;
    int64_t rows, width; /* width 0: [N] (or [N, 1] for rewards and flags) */
} item;

typedef struct {
    const char *path;
    hid_t file;
    item it[MAX_ITEMS];
    int n;
    pp_hdf5_report *rep;
} reader;

static const char *const required[] = {"observations", "actions", "rewards", "terminals"};
static const char *const known[] = {"observations", "actions", "rewards", "terminals", "timeouts",
                                    "next_observations", "infos", "metadata"};

static int is_known(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(name, known[i]) == 0) return 1;
    return 0;
}

static const char *class_name(H5T_class_t c, size_t size)
{
    switch (c) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return size == 4 ? "float32" : size == 8 ? "float64" : "a float";
    case H5T_STRING: return "a string";
    case H5T_ENUM: return "an enum";
    case H5T_COMPOUND: return "a compound type";
    case H5T_ARRAY: return "an array type";
    case H5T_VLEN: return "a variable-length type";
    default: return "of another type";
    }
}

/* The shape of ds as "[1000,11]". */
static const char *shape_of(int ndim, const hsize_t *dims, char *buf, size_t cap)
{
    int64_t s[PP_MAX_DIMS];
    for (int k = 0; k < ndim && k < PP_MAX_DIMS; k++) s[k] = (int64_t)dims[k];
    return pp_shape_str(ndim < PP_MAX_DIMS ? ndim : PP_MAX_DIMS, s, buf, cap);
}

/* Open key as a column of kind: its type and rank checked. skip_ok: a key
 * that does not fit is skipped with a note (1 returned) instead of failing. */
static int add_item(reader *r, const char *key, int kind, int skip_ok)
{
    if (r->n == MAX_ITEMS)
        return pp_fail("%s: more than %d columns (at %s)", r->path, MAX_ITEMS, key);
    if (strlen(key) >= PP_COLUMN_NAME_MAX)
        return pp_fail("%s: %s: a name longer than %d bytes", r->path, key, PP_COLUMN_NAME_MAX - 1);
    hid_t ds = H5Oopen(r->file, key, H5P_DEFAULT);
    if (ds < 0) return pp_h5_fail("%s: cannot open %s", r->path, key);
    if (H5Iget_type(ds) != H5I_DATASET) {
        H5Oclose(ds);
        if (skip_ok) {
            pp_h5_note(r->rep->notes, sizeof r->rep->notes, "skipped %s: a group", key);
            return 1;
        }
        return pp_fail("%s: %s is a group, expected a dataset", r->path, key);
    }
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
    H5T_class_t c = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t size = type >= 0 ? H5Tget_size(type) : 0;
    int ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[PP_MAX_DIMS] = {0};
    if (ndim > 0 && ndim <= PP_MAX_DIMS) H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (ndim < 0) {
        H5Dclose(ds);
        return pp_h5_fail("%s: cannot read the shape of %s", r->path, key);
    }
    /* h5py's bools are an enum over one byte; flags may also be 0/1 numbers */
    if (kind == K_DATA && c == H5T_ENUM && size == 1 && skip_ok) kind = K_FLAG;
    int type_ok = kind == K_DATA ? c == H5T_FLOAT || c == H5T_INTEGER
                                 : c == H5T_ENUM || c == H5T_INTEGER || c == H5T_FLOAT;
    int one_col = kind == K_FLAG || strcmp(key, "rewards") == 0;
    int shape_ok = one_col  ? ndim == 1 || (ndim == 2 && dims[1] == 1)
                   : skip_ok ? ndim == 1 || (ndim == 2 && dims[1] >= 1)
                             : ndim == 2 && dims[1] >= 1; /* observations, actions, next_observations */
    char sh[64];
    const char *why = NULL, *want = NULL;
    if (!type_ok) {
        why = class_name(c, size);
        want = kind == K_DATA ? "expected float32 (or another float or integer type)"
                              : "expected bool (h5py's enum), an integer or a float of 0 and 1";
    } else if (!shape_ok) {
        why = shape_of(ndim, dims, sh, sizeof sh);
        want = kind == K_FLAG || one_col ? "expected [N] or [N,1]"
               : skip_ok                 ? "expected [N] or [N,width]"
                                         : "expected [N,width]";
    }
    if (why) {
        H5Dclose(ds);
        if (skip_ok && strncmp(key, "infos/", 6) != 0) {
            pp_h5_note(r->rep->notes, sizeof r->rep->notes, "skipped %s: %s, %s", key, why, want);
            return 1;
        }
        return pp_fail("%s: %s is %s, %s", r->path, key, why, want);
    }
    item *it = &r->it[r->n++];
    memset(it, 0, sizeof *it);
    strcpy(it->key, key);
    it->ds = ds;
    it->kind = kind;
    it->rows = (int64_t)dims[0];
    it->width = !one_col && ndim == 2 ? (int64_t)dims[1] : 0;
    return 0;
}

static item *find(reader *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->it[i].key, key) == 0) return &r->it[i];
    return NULL;
}

/* The names under a group, for messages ("it has: a, b, c"). */
static herr_t list_name(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    (void)g, (void)li;
    char *buf = data;
    size_t n = strlen(buf);
    if (n + strlen(name) + 8 < 256) snprintf(buf + n, 256 - n, "%s%s", n ? ", " : "", name);
    else if (n + 6 < 256 && !strstr(buf, "...")) strcat(buf, ", ...");
    return 0;
}

/* infos/ and the other groups: every dataset under prefix becomes a column. */
typedef struct {
    reader *r;
    char prefix[PP_COLUMN_NAME_MAX];
    int failed;
} group_walk;

static herr_t infos_item(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    (void)g;
    group_walk *w = data;
    char key[256];
    snprintf(key, sizeof key, "%s/%s", w->prefix, name);
    if (li->type != H5L_TYPE_HARD) {
        pp_h5_note(w->r->rep->notes, sizeof w->r->rep->notes, "skipped %s: a soft or external link", key);
        return 0;
    }
    hid_t obj = H5Oopen(w->r->file, key, H5P_DEFAULT);
    if (obj < 0) {
        w->failed = 1;
        pp_h5_fail("%s: cannot open %s", w->r->path, key);
        return -1;
    }
    int is_group = H5Iget_type(obj) == H5I_GROUP;
    H5Oclose(obj);
    if (is_group) {
        pp_h5_note(w->r->rep->notes, sizeof w->r->rep->notes, "skipped %s: a group inside %s", key, w->prefix);
        return 0;
    }
    if (add_item(w->r, key, K_DATA, 1) < 0) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

/* Every top-level key other than D4RL's: a dataset of N rows is a column,
 * anything else a note. */
static herr_t other_item(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    (void)g;
    group_walk *w = data;
    if (is_known(name)) return 0;
    if (li->type != H5L_TYPE_HARD) {
        pp_h5_note(w->r->rep->notes, sizeof w->r->rep->notes, "skipped %s: a soft or external link", name);
        return 0;
    }
    if (add_item(w->r, name, K_DATA, 1) < 0) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

/* Find and check every column: 0 or -1. */
static int open_items(reader *r, const pp_hdf5_import_opts *o)
{
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!pp_h5_has(r->file, required[i])) {
            char names[256] = "";
            H5Literate(r->file, H5_INDEX_NAME, H5_ITER_INC, NULL, list_name, names);
            H5Eclear2(H5E_DEFAULT);
            return pp_fail("%s: no key %s (a D4RL file has observations, actions, rewards and terminals; this "
                           "one has: %s)",
                           r->path, required[i], names[0] ? names : "nothing");
        }
    /* the columns in dataset.h's order, a replay file's */
    if (add_item(r, "observations", K_DATA, 0) != 0 || add_item(r, "actions", K_DATA, 0) != 0 ||
        add_item(r, "rewards", K_DATA, 0) != 0)
        return -1;
    if (pp_h5_has(r->file, "next_observations") && add_item(r, "next_observations", K_DATA, 0) != 0) return -1;
    if (add_item(r, "terminals", K_FLAG, 0) != 0) return -1;
    if (pp_h5_has(r->file, "timeouts")) {
        if (add_item(r, "timeouts", K_FLAG, 0) != 0) return -1;
    } else
        r->rep->timeouts_absent = 1; /* read_items adds it after terminals */
    group_walk w = {.r = r};
    if (pp_h5_has(r->file, "infos")) {
        hid_t g = H5Oopen(r->file, "infos", H5P_DEFAULT);
        if (g < 0) return pp_h5_fail("%s: cannot open infos", r->path);
        if (H5Iget_type(g) == H5I_GROUP) {
            strcpy(w.prefix, "infos");
            herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, infos_item, &w);
            H5Oclose(g);
            if (w.failed) return -1;
            if (e < 0) return pp_h5_fail("%s: reading the group infos", r->path);
        } else {
            H5Oclose(g);
            if (add_item(r, "infos", K_DATA, 1) < 0) return -1;
        }
    }
    if (H5Literate(r->file, H5_INDEX_NAME, H5_ITER_INC, NULL, other_item, &w) < 0 || w.failed)
        return w.failed ? -1 : pp_h5_fail("%s: reading the file's keys", r->path);

    /* rows and sizes */
    item *obs = find(r, "observations"), *act = find(r, "actions"), *next = find(r, "next_observations");
    int64_t n = obs->rows;
    if (n == 0) return pp_fail("%s: observations has no rows", r->path);
    for (int i = 0; i < r->n; i++)
        if (r->it[i].rows != n)
            return pp_fail("%s: %s has %lld rows, but observations has %lld", r->path, r->it[i].key,
                           (long long)r->it[i].rows, (long long)n);
    if (next && next->width != obs->width)
        return pp_fail("%s: next_observations is [%lld,%lld], but observations is [%lld,%lld]", r->path,
                       (long long)n, (long long)next->width, (long long)n, (long long)obs->width);
    const char *env = o->env && o->env[0] ? o->env : "the task";
    if (o->obs_dim > 0 && obs->width != o->obs_dim)
        return pp_fail("%s: observations is [%lld,%lld], but %s has observations of %d dimensions", r->path,
                       (long long)n, (long long)obs->width, env, o->obs_dim);
    if (o->act_dim > 0 && act->width != o->act_dim)
        return pp_fail("%s: actions is [%lld,%lld], but %s has actions of %d dimensions", r->path, (long long)n,
                       (long long)act->width, env, o->act_dim);
    return 0;
}

/* The first value that is not finite: "row R column C is nan". */
static int check_finite(const char *path, const pp_column *c, int64_t rows)
{
    const float *x = c->data;
    int64_t w = c->width ? c->width : 1, total = rows * w;
    for (int64_t k = 0; k < total; k++)
        if (!isfinite(x[k])) {
            const char *v = isnan(x[k]) ? "nan" : x[k] > 0 ? "inf" : "-inf";
            if (c->width)
                return pp_fail("%s: %s row %lld column %lld is %s", path, c->name, (long long)(k / w),
                               (long long)(k % w), v);
            return pp_fail("%s: %s row %lld is %s", path, c->name, (long long)k, v);
        }
    return 0;
}

/* A flag column read as double (HDF5 converts enums, integers and floats
 * alike), each value 0 or 1. */
static int read_flags(reader *r, const item *it, pp_column *c, int64_t rows)
{
    if (pp_check_memory((double)rows * sizeof(double)) != 0) return pp_fail_prefix("%s: reading %s: ", r->path, it->key);
    double *tmp = pp_xmalloc((size_t)rows * sizeof *tmp);
    int rc = 0;
    if (H5Dread(it->ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0)
        rc = pp_h5_fail("%s: reading %s", r->path, it->key);
    uint8_t *dst = c->data;
    for (int64_t k = 0; rc == 0 && k < rows; k++) {
        if (tmp[k] != 0 && tmp[k] != 1)
            rc = pp_fail("%s: %s row %lld is %g, expected 0 or 1 (false or true)", r->path, it->key, (long long)k,
                         tmp[k]);
        dst[k] = tmp[k] != 0;
    }
    free(tmp);
    return rc;
}

static int read_items(reader *r, pp_dataset *d)
{
    for (int i = 0; i < r->n; i++) {
        const item *it = &r->it[i];
        pp_column *c = pp_dataset_add_column(d, it->key, it->kind == K_FLAG ? PP_BOOL : PP_F32, it->width);
        if (!c) return pp_fail_prefix("%s: ", r->path);
        if (it->kind == K_FLAG) {
            if (read_flags(r, it, c, d->rows) != 0) return -1;
            if (strcmp(it->key, "terminals") == 0 && r->rep->timeouts_absent &&
                !pp_dataset_add_column(d, "timeouts", PP_BOOL, 0))
                return pp_fail_prefix("%s: ", r->path);
            continue;
        }
        if (H5Dread(it->ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data) < 0)
            return pp_h5_fail("%s: reading %s", r->path, it->key);
        if (check_finite(r->path, c, d->rows) != 0) return -1;
    }
    return 0;
}

/* The task: --env, else the file's "env" attribute. */
static int read_env(reader *r, const pp_hdf5_import_opts *o, pp_dataset *d)
{
    char *file_env = NULL;
    if (H5Aexists(r->file, "env") > 0) {
        hid_t a = H5Aopen(r->file, "env", H5P_DEFAULT);
        char what[600];
        snprintf(what, sizeof what, "%s: the attribute env", r->path);
        int rc = a < 0 ? pp_h5_fail("%s", what) : pp_h5_read_str(a, 1, what, &file_env);
        if (a >= 0) H5Aclose(a);
        if (rc != 0) return -1;
    }
    H5Eclear2(H5E_DEFAULT);
    const char *env = o->env && o->env[0] ? o->env : file_env;
    if (env && strlen(env) >= sizeof d->env) {
        free(file_env);
        return pp_fail("%s: the task name '%.40s...' is longer than %zu bytes", r->path, env, sizeof d->env - 1);
    }
    if (env) strcpy(d->env, env);
    r->rep->env_from_file = env && env == file_env;
    if (file_env && o->env && o->env[0] && strcmp(file_env, o->env) != 0)
        pp_h5_note(r->rep->notes, sizeof r->rep->notes, "the file says it is for %s; --env %s is used", file_env,
                   o->env);
    free(file_env);
    return 0;
}

int pp_hdf5_import(const char *path, const pp_hdf5_import_opts *o, pp_dataset **out, pp_hdf5_report *rep)
{
    *out = NULL;
    pp_hdf5_report own;
    if (!rep) rep = &own;
    memset(rep, 0, sizeof *rep);
    if (access(path, R_OK) != 0) return pp_fail("cannot read %s: %s", path, strerror(errno));
    if (!pp_hdf5_is_hdf5(path)) return pp_fail("%s is not an HDF5 file (it has no HDF5 signature)", path);
    pp_h5_quiet();
    reader r = {.path = path, .rep = rep};
    r.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r.file < 0) return pp_h5_fail("%s: not a readable HDF5 file, truncated or damaged", path);
    pp_dataset *d = NULL;
    int rc = open_items(&r, o);
    if (rc == 0) rc = pp_dataset_new(&d, r.it[0].rows);
    if (rc == 0) rc = read_items(&r, d);
    if (rc == 0) rc = pp_h5_meta_read(r.file, path, d->meta, rep->notes, sizeof rep->notes);
    if (rc == 0) rc = read_env(&r, o, d);
    for (int i = 0; i < r.n; i++) H5Dclose(r.it[i].ds);
    if (H5Fclose(r.file) < 0 && rc == 0) rc = pp_h5_fail("%s: closing it", path);
    if (rc == 0 && !o->keep_rows) {
        rc = pp_dataset_pair_next(d, &rep->next);
        if (rc != 0) pp_fail_prefix("%s: ", path);
        else if (d->rows == 0)
            rc = pp_fail("%s: no row has a next observation in its episode (no terminal row, and every "
                         "episode is one row long, ending in a timeout or the end of the data)", path);
    }
    if (rc != 0) {
        pp_dataset_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

#endif
