/* test_hdf5_d4rl - D4RL HDF5 files in and out (lib/data/hdf5_d4rl.c) and the
 * next_observations policy (lib/data/dataset_next.c; docs/design.md section
 * 10).
 *
 * Tiny files in D4RL's layout are written here with the HDF5 C API, as
 * h5py would write them (bool as an enum over int8, fixed NULL-padded
 * strings), imported, exported, and imported again. Every bad input is
 * refused with a message naming the key and the row, and leaves no output.
 * Without HDF5 (make HDF5=0) the file tests are skipped and import and
 * export must say that HDF5 was not built.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "check.h"
#include "data/dataset.h"
#include "data/dataset_next.h"
#include "data/hdf5_d4rl.h"

/* ---- the next_observations policy, on a data set made by hand ---- */

/* 10 rows: episode 0..3 ends terminal, 4..6 timeout, 7..9 the tail */
static pp_dataset *ten_rows(int terminal_at, int timeout_at)
{
    pp_dataset *d;
    pp_dataset_new(&d, 10);
    pp_column *o = pp_dataset_add_column(d, "observations", PP_F32, 2);
    pp_column *r = pp_dataset_add_column(d, "rewards", PP_F32, 0);
    pp_column *q = pp_dataset_add_column(d, "infos/qpos", PP_F32, 3);
    pp_column *t = pp_dataset_add_column(d, "terminals", PP_BOOL, 0);
    pp_column *u = pp_dataset_add_column(d, "timeouts", PP_BOOL, 0);
    for (int i = 0; i < 10; i++) {
        ((float *)o->data)[2 * i] = (float)i;
        ((float *)o->data)[2 * i + 1] = 100.0f + (float)i;
        ((float *)r->data)[i] = (float)i;
        for (int k = 0; k < 3; k++) ((float *)q->data)[3 * i + k] = (float)(10 * i + k);
    }
    if (terminal_at >= 0) ((uint8_t *)t->data)[terminal_at] = 1;
    if (timeout_at >= 0) ((uint8_t *)u->data)[timeout_at] = 1;
    return d;
}

static void test_pair_next(void)
{
    pp_dataset *d = ten_rows(3, 6);
    pp_next_report rep;
    CHECK(pp_dataset_pair_next(d, &rep) == 0, "pair_next: runs (%s)", pp_error());
    static const int keep[] = {0, 1, 2, 3, 4, 5, 7, 8};
    CHECK(d->rows == 8, "pair_next: 10 rows, the timeout and the tail's last row dropped: 8 stay (got %lld)",
          (long long)d->rows);
    CHECK(rep.derived && rep.terminal_placeholder == 1 && rep.dropped_timeout == 1 && rep.dropped_tail == 1 &&
              rep.marked_timeout == 1,
          "pair_next: the report: 1 terminal kept with a placeholder, 1 timeout and 1 tail row dropped, 1 row marked");
    const float *o = pp_dataset_column(d, "observations")->data, *n = pp_dataset_column(d, "next_observations")->data;
    const float *r = pp_dataset_column(d, "rewards")->data, *q = pp_dataset_column(d, "infos/qpos")->data;
    const uint8_t *t = pp_dataset_column(d, "terminals")->data, *u = pp_dataset_column(d, "timeouts")->data;
    int rows_ok = 1, next_ok = 1, flags_ok = 1;
    for (int j = 0; j < 8; j++) {
        int i = keep[j], ni = i == 3 ? 3 : i + 1; /* the terminal row 3: its own observation */
        rows_ok &= o[2 * j] == (float)i && o[2 * j + 1] == 100.0f + (float)i && r[j] == (float)i &&
                   q[3 * j + 2] == (float)(10 * i + 2);
        next_ok &= n[2 * j] == (float)ni && n[2 * j + 1] == 100.0f + (float)ni;
        /* the terminal stays; row 5 is the new last row of the timeout
         * episode; row 2 (before the terminal) is not cut */
        flags_ok &= t[j] == (i == 3) && u[j] == (i == 5);
    }
    CHECK(rows_ok, "pair_next: every column keeps rows 0 1 2 3 4 5 7 8, in order");
    CHECK(next_ok, "pair_next: next_observations[j] is observations of the row after, never across episodes; "
                   "the terminal row's is its own");
    CHECK(flags_ok, "pair_next: the terminal stays; the new last row of the timeout episode is a timeout, the row "
                    "before the terminal and the tail's last row stay unflagged");
    pp_dataset_free(d);

    /* a one-row terminal episode first, and a terminal last row: every row stays */
    d = ten_rows(0, -1);
    ((uint8_t *)pp_dataset_column(d, "terminals")->data)[9] = 1;
    CHECK(pp_dataset_pair_next(d, &rep) == 0 && d->rows == 10 && rep.terminal_placeholder == 2 &&
              rep.dropped_timeout == 0 && rep.dropped_tail == 0 && rep.marked_timeout == 0,
          "pair_next: a one-row terminal episode stays; a terminal last row is no tail");
    u = pp_dataset_column(d, "timeouts")->data;
    n = pp_dataset_column(d, "next_observations")->data;
    CHECK(u[8] == 0 && n[2 * 8] == 9.0f && n[2 * 9] == 9.0f && n[0] == 0.0f,
          "pair_next: row 8 pairs with the terminal row 9, unflagged; rows 0 and 9 have their own observation");
    pp_dataset_free(d);

    /* a one-row timeout episode first, and a row with both flags */
    d = ten_rows(-1, 0);
    ((uint8_t *)pp_dataset_column(d, "terminals")->data)[5] = 1;
    ((uint8_t *)pp_dataset_column(d, "timeouts")->data)[5] = 1;
    CHECK(pp_dataset_pair_next(d, &rep) == 0 && d->rows == 8 && rep.terminal_placeholder == 1 &&
              rep.dropped_timeout == 1 && rep.dropped_tail == 1 && rep.marked_timeout == 0,
          "pair_next: a one-row timeout episode goes whole; terminal and timeout together stays as a terminal");
    o = pp_dataset_column(d, "observations")->data;
    t = pp_dataset_column(d, "terminals")->data;
    u = pp_dataset_column(d, "timeouts")->data;
    CHECK(o[0] == 1.0f && o[2 * 4] == 5.0f && t[4] == 1 && u[3] == 0,
          "pair_next: rows 1..8 stay; row 4 (before the terminal row 5) is not cut");
    pp_dataset_free(d);

    /* a data set with next_observations is left alone */
    d = ten_rows(3, -1);
    pp_dataset_add_column(d, "next_observations", PP_F32, 2);
    CHECK(pp_dataset_pair_next(d, &rep) == 0 && d->rows == 10 && !rep.derived,
          "pair_next: next_observations present: nothing changes");
    pp_dataset_free(d);
}

#ifndef PARPI_HDF5

int main(void)
{
    test_pair_next();
    pp_dataset *d = NULL;
    pp_hdf5_import_opts o = {0};
    CHECK(!pp_hdf5_built(), "HDF5=0: pp_hdf5_built is 0");
    CHECK(pp_hdf5_import("x.hdf5", &o, &d, NULL) != 0 && strstr(pp_error(), "HDF5 support was not built"),
          "HDF5=0: import says HDF5 was not built (%s)", pp_error());
    pp_dataset_new(&d, 1);
    CHECK(pp_hdf5_export(d, "x.hdf5") != 0 && strstr(pp_error(), "HDF5 support was not built"),
          "HDF5=0: export says HDF5 was not built");
    pp_dataset_free(d);
    SKIP("HDF5 files: this parpi was built without HDF5 (make HDF5=0)");
    return check_done();
}

#else

#include <hdf5.h>

#include "tmpdir.h"

/* ---- writing files as h5py does ---- */

static hid_t lcpl(void)
{
    static hid_t p = -1;
    if (p < 0) {
        p = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(p, 1);
    }
    return p;
}

static void put(hid_t f, const char *name, hid_t ftype, hid_t mtype, int rank, hsize_t d0, hsize_t d1,
                const void *data)
{
    hsize_t dims[2] = {d0, d1};
    hid_t s = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(f, name, ftype, s, lcpl(), H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || (data && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
        printf("# could not write %s\n", name);
    H5Dclose(ds);
    H5Sclose(s);
}

static void put_f32(hid_t f, const char *name, hsize_t rows, hsize_t width, const float *x)
{
    put(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, width ? 2 : 1, rows, width, x);
}

static hid_t h5py_bool(hid_t base)
{
    hid_t t = H5Tenum_create(base);
    signed char v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

static void put_bool(hid_t f, const char *name, hsize_t rows, const uint8_t *x)
{
    hid_t ft = h5py_bool(H5T_STD_I8LE), mt = h5py_bool(H5T_NATIVE_SCHAR);
    put(f, name, ft, mt, 1, rows, 0, x);
    H5Tclose(ft);
    H5Tclose(mt);
}

static void put_str(hid_t f, const char *name, const char *s, int variable)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, variable ? H5T_VARIABLE : strlen(s));
    if (!variable) H5Tset_strpad(t, H5T_STR_NULLPAD);
    if (variable) put(f, name, t, t, 0, 0, 0, &s);
    else put(f, name, t, t, 0, 0, 0, s);
    H5Tclose(t);
}

enum {
    F_NO_NEXT = 1,      /* without next_observations */
    F_NO_TIMEOUTS = 2,  /* without timeouts */
    F_REW_N1 = 4,       /* rewards [N, 1] */
    F_FLAGS_U8 = 8,     /* terminals u8, timeouts f32 */
    F_FLAGS_I8 = 16,    /* terminals i8, timeouts i8 */
    F_NO_META = 32,
};

#define N 10
#define O 2
#define A 3

/* The tiny D4RL file: obs[i] = (i, 100 + i), next = obs[i + 1], act[i] =
 * (i, -i, 0.5), rewards i / 2, terminal at row 3, timeout at row 6, the tail
 * 7..9; infos/qpos [N, 3], infos/action_log_probs [N]; metadata as
 * collect_data.py writes it. */
static void write_d4rl(const char *path, unsigned flags)
{
    float obs[N * O], next[N * O], act[N * A], rew[N], qpos[N * 3], logp[N], w[4 * 3];
    uint8_t term[N] = {0}, tout[N] = {0};
    for (int i = 0; i < N; i++) {
        obs[O * i] = (float)i, obs[O * i + 1] = 100.0f + (float)i;
        next[O * i] = (float)(i + 1), next[O * i + 1] = 101.0f + (float)i;
        act[A * i] = (float)i, act[A * i + 1] = -(float)i, act[A * i + 2] = 0.5f;
        rew[i] = (float)i / 2;
        for (int k = 0; k < 3; k++) qpos[3 * i + k] = (float)(i * 10 + k);
        logp[i] = -1.5f * (float)i;
    }
    for (int k = 0; k < 12; k++) w[k] = 0.25f * (float)k;
    term[3] = 1;
    tout[6] = 1;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    put_f32(f, "observations", N, O, obs);
    if (!(flags & F_NO_NEXT)) put_f32(f, "next_observations", N, O, next);
    put_f32(f, "actions", N, A, act);
    put_f32(f, "rewards", N, (flags & F_REW_N1) ? 1 : 0, rew);
    if (flags & F_FLAGS_U8) {
        float tf[N];
        for (int i = 0; i < N; i++) tf[i] = tout[i];
        put(f, "terminals", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, N, 0, term);
        if (!(flags & F_NO_TIMEOUTS)) put(f, "timeouts", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, N, 0, tf);
    } else if (flags & F_FLAGS_I8) {
        put(f, "terminals", H5T_STD_I8LE, H5T_NATIVE_UINT8, 1, N, 0, term);
        if (!(flags & F_NO_TIMEOUTS)) put(f, "timeouts", H5T_STD_I8LE, H5T_NATIVE_UINT8, 1, N, 0, tout);
    } else {
        put_bool(f, "terminals", N, term);
        if (!(flags & F_NO_TIMEOUTS)) put_bool(f, "timeouts", N, tout);
    }
    put_f32(f, "infos/qpos", N, 3, qpos);
    put_f32(f, "infos/action_log_probs", N, 0, logp);
    if (!(flags & F_NO_META)) {
        int iteration = 7;
        double tau = 0.005;
        put_str(f, "metadata/algorithm", "SAC", 0);
        put_str(f, "metadata/policy/nonlinearity", "relu", 1);
        put(f, "metadata/iteration", H5T_STD_I32LE, H5T_NATIVE_INT, 0, 0, 0, &iteration);
        put(f, "metadata/tau", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, 0, 0, &tau);
        put(f, "metadata/policy/fc0/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, 4, 3, w);
    }
    H5Fclose(f);
}

static pp_dataset *import(const char *path, unsigned keep_rows, pp_hdf5_report *rep)
{
    pp_hdf5_import_opts o = {.env = "Test-v0", .keep_rows = (int)keep_rows};
    pp_dataset *d = NULL;
    if (pp_hdf5_import(path, &o, &d, rep) != 0) {
        printf("# import %s: %s\n", path, pp_error());
        return NULL;
    }
    return d;
}

static int same_column(const pp_dataset *a, const pp_dataset *b, const char *name)
{
    const pp_column *x = pp_dataset_column(a, name), *y = pp_dataset_column(b, name);
    if (!x || !y || x->dtype != y->dtype || x->width != y->width || a->rows != b->rows) return 0;
    return memcmp(x->data, y->data, (size_t)a->rows * pp_column_row_bytes(x)) == 0;
}

static int same_data(const pp_dataset *a, const pp_dataset *b)
{
    if (a->ncols != b->ncols || a->rows != b->rows || strcmp(a->env, b->env) != 0) return 0;
    for (int i = 0; i < a->ncols; i++)
        if (!same_column(a, b, a->col[i].name)) return 0;
    return 1;
}

/* ---- import ---- */

static void test_import(void)
{
    const char *p = tmp("d4rl.hdf5");
    write_d4rl(p, 0);
    pp_hdf5_report rep;
    pp_dataset *d = import(p, 0, &rep);
    CHECK(d != NULL, "import: a D4RL file with every key");
    if (!d) return;
    CHECK(d->rows == N && !rep.next.derived && !rep.timeouts_absent && rep.notes[0] == '\0',
          "import: next_observations given: every row stays, nothing to note (%s)", rep.notes);
    CHECK(pp_dataset_need(d, "observations", PP_F32, O) && pp_dataset_need(d, "actions", PP_F32, A) &&
              pp_dataset_need(d, "rewards", PP_F32, 0) && pp_dataset_need(d, "next_observations", PP_F32, O) &&
              pp_dataset_need(d, "terminals", PP_BOOL, 0) && pp_dataset_need(d, "timeouts", PP_BOOL, 0) &&
              pp_dataset_need(d, "infos/qpos", PP_F32, 3) && pp_dataset_need(d, "infos/action_log_probs", PP_F32, 0),
          "import: D4RL's names, f32 data, bool flags, infos/* (%s)", pp_error());
    CHECK(d->ncols == 8, "import: 8 columns (got %d)", d->ncols);
    const float *act = pp_dataset_column(d, "actions")->data, *rew = pp_dataset_column(d, "rewards")->data;
    const uint8_t *t = pp_dataset_column(d, "terminals")->data, *u = pp_dataset_column(d, "timeouts")->data;
    CHECK(act[A * 9 + 1] == -9.0f && rew[5] == 2.5f && t[3] == 1 && u[6] == 1 && t[6] == 0 && u[3] == 0,
          "import: the values, in place");
    CHECK(strcmp(d->env, "Test-v0") == 0, "import: the env is --env's");
    const char *s = NULL;
    size_t len = 0;
    int64_t it = 0;
    double tau = 0;
    float w[12];
    int64_t shape[2] = {4, 3};
    CHECK(pp_frame_get_str(d->meta, "algorithm", &s, &len) == 0 && len == 3 && memcmp(s, "SAC", 3) == 0,
          "import: metadata/algorithm, a fixed 3-byte string, is 'SAC' whole (read with size + 1)");
    CHECK(pp_frame_get_str(d->meta, "policy.nonlinearity", &s, &len) == 0 && len == 4 && memcmp(s, "relu", 4) == 0,
          "import: a variable-length string");
    CHECK(pp_frame_get_i64(d->meta, "iteration", &it) == 0 && it == 7, "import: metadata/iteration (int32) is 7");
    CHECK(pp_frame_get_f64(d->meta, "tau", &tau) == 0 && tau == 0.005, "import: a float64 scalar");
    CHECK(pp_frame_read_tensor(d->meta, "policy.fc0.weight", PP_F32, 2, shape, w, NULL) == 0 && w[11] == 2.75f,
          "import: metadata/policy/fc0/weight is the tensor policy.fc0.weight [4,3]");
    pp_dataset_free(d);

    /* rewards [N, 1], flags as u8 / f32 / i8: the same data set */
    pp_dataset *ref = import(p, 0, NULL);
    const unsigned variants[] = {F_REW_N1, F_FLAGS_U8, F_FLAGS_I8};
    const char *what[] = {"rewards [N,1]", "terminals u8, timeouts f32 0/1", "terminals and timeouts i8"};
    for (int v = 0; v < 3; v++) {
        const char *q = tmp("variant.hdf5");
        write_d4rl(q, variants[v]);
        d = import(q, 0, NULL);
        CHECK(d && ref && same_data(d, ref), "import: %s reads as the same data set", what[v]);
        pp_dataset_free(d);
    }
    pp_dataset_free(ref);

    /* no timeouts: all false, said */
    const char *q = tmp("notimeouts.hdf5");
    write_d4rl(q, F_NO_TIMEOUTS);
    d = import(q, 1, &rep);
    int none = d != NULL;
    for (int i = 0; d && i < N; i++) none &= ((uint8_t *)pp_dataset_column(d, "timeouts")->data)[i] == 0;
    CHECK(none && rep.timeouts_absent, "import: no timeouts key: all false, and the report says so");
    pp_dataset_free(d);
}

/* A file without next_observations: pairs within episodes, keeps the
 * terminal row 3 with its own observation as next, drops the timeout row 6
 * and the tail's row 9. */
static void test_import_next_policy(void)
{
    const char *p = tmp("nonext.hdf5");
    write_d4rl(p, F_NO_NEXT);
    pp_hdf5_report rep;
    pp_dataset *d = import(p, 0, &rep);
    CHECK(d && d->rows == 8 && rep.next.derived && rep.next.terminal_placeholder == 1 &&
              rep.next.dropped_timeout == 1 && rep.next.dropped_tail == 1 && rep.next.marked_timeout == 1,
          "next policy: 10 rows, 3 episodes (terminal, timeout, tail): 8 stay, the report names the terminal kept "
          "and the 2 dropped");
    if (d) {
        static const int keep[] = {0, 1, 2, 3, 4, 5, 7, 8};
        const float *n = pp_dataset_column(d, "next_observations")->data;
        const float *q = pp_dataset_column(d, "infos/qpos")->data;
        const uint8_t *t = pp_dataset_column(d, "terminals")->data, *u = pp_dataset_column(d, "timeouts")->data;
        int ok = 1;
        for (int j = 0; j < 8; j++)
            ok &= n[O * j] == (float)(keep[j] == 3 ? 3 : keep[j] + 1) && q[3 * j] == (float)(10 * keep[j]) &&
                  t[j] == (keep[j] == 3) && u[j] == (keep[j] == 5);
        CHECK(ok, "next policy: next = observations[i + 1] within the episode, the terminal's its own; infos "
                  "follow; the terminal stays, the new last row of the timeout episode is a timeout");
    }
    pp_dataset_free(d);
    d = import(p, 1, &rep);
    CHECK(d && d->rows == N && !pp_dataset_column(d, "next_observations") && !rep.next.derived,
          "next policy: keep_rows (info): the file's rows as they are, no next_observations");
    pp_dataset_free(d);
}

/* ---- export ---- */

/* The exported file, read with the C API as h5py would see it. */
static void check_written(const char *p)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "export: the file opens");
    if (f < 0) return;
    hid_t ds = H5Dopen2(f, "terminals", H5P_DEFAULT), t = H5Dget_type(ds);
    hid_t base = H5Tget_super(t);
    char *m0 = H5Tget_member_name(t, 0), *m1 = H5Tget_member_name(t, 1);
    CHECK(H5Tget_class(t) == H5T_ENUM && H5Tequal(base, H5T_STD_I8LE) > 0 && H5Tget_nmembers(t) == 2 &&
              strcmp(m0, "FALSE") == 0 && strcmp(m1, "TRUE") == 0,
          "export: terminals is h5py's bool, enum over int8 {FALSE=0, TRUE=1}");
    H5free_memory(m0);
    H5free_memory(m1);
    H5Tclose(base);
    H5Tclose(t);
    H5Dclose(ds);
    ds = H5Dopen2(f, "observations", H5P_DEFAULT);
    t = H5Dget_type(ds);
    hid_t dcpl = H5Dget_create_plist(ds);
    unsigned fl, cd[4];
    size_t ncd = 4;
    H5Z_filter_t filter = H5Pget_nfilters(dcpl) == 1 ? H5Pget_filter2(dcpl, 0, &fl, &ncd, cd, 0, NULL, NULL) : -1;
    CHECK(H5Tequal(t, H5T_IEEE_F32LE) > 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && filter == H5Z_FILTER_DEFLATE &&
              ncd >= 1 && cd[0] == 4,
          "export: observations float32, chunked, gzip level 4");
    H5Pclose(dcpl);
    H5Tclose(t);
    H5Dclose(ds);
    ds = H5Dopen2(f, "rewards", H5P_DEFAULT);
    hid_t s = H5Dget_space(ds);
    CHECK(H5Sget_simple_extent_ndims(s) == 1, "export: rewards is [N]");
    H5Sclose(s);
    H5Dclose(ds);
    ds = H5Dopen2(f, "metadata/algorithm", H5P_DEFAULT);
    t = H5Dget_type(ds);
    CHECK(H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) && H5Tget_size(t) == 3 &&
              H5Tget_strpad(t) == H5T_STR_NULLPAD,
          "export: metadata/algorithm a fixed 3-byte NULL-padded string, as np.string_('SAC')");
    H5Tclose(t);
    H5Dclose(ds);
    CHECK(H5Lexists(f, "infos", H5P_DEFAULT) > 0 && H5Lexists(f, "infos/qpos", H5P_DEFAULT) > 0,
          "export: infos/qpos in the group infos");
    H5Fclose(f);
}

static int temps_tmp(void)
{
    DIR *dd = opendir(tmpdir_path);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
    if (dd) closedir(dd);
    return n;
}

static void test_export(void)
{
    const char *p = tmp("src.hdf5"), *q = tmp("out.hdf5"), *q2 = tmp("out2.hdf5");
    write_d4rl(p, 0);
    pp_dataset *a = import(p, 0, NULL);
    if (!a) return;
    CHECK(pp_hdf5_export(a, q) == 0, "export: writes (%s)", pp_error());
    check_written(q);
    pp_hdf5_report rep;
    pp_hdf5_import_opts o = {0};
    pp_dataset *b = NULL;
    CHECK(pp_hdf5_import(q, &o, &b, &rep) == 0 && same_data(a, b) && rep.env_from_file,
          "export -> import: the same columns, bytes and env (from the file's env attribute)");
    int64_t it = 0;
    CHECK(b && pp_frame_get_i64(b->meta, "iteration", &it) == 0 && it == 7, "export -> import: the metadata");
    CHECK(b && pp_hdf5_export(b, q2) == 0, "export again");
    pp_dataset *c = import(q2, 0, NULL);
    CHECK(c && same_data(a, c), "export -> import -> export -> import: still the same");
    pp_dataset_free(b);
    pp_dataset_free(c);

    /* a failure after the columns were written leaves nothing, and the old file as it was */
    struct stat before, after;
    stat(q, &before);
    pp_frame_set_str(a->meta, "bad/name", "x");
    CHECK(pp_hdf5_export(a, q) != 0 && strstr(pp_error(), "not an HDF5 name"),
          "export: a metadata key with '/' is refused (%s)", pp_error());
    stat(q, &after);
    CHECK(after.st_size == before.st_size && after.st_ino == before.st_ino && temps_tmp() == 0,
          "export: after a failure the old file is untouched and no temporary is left");
    const char *fresh = tmp("fresh.hdf5");
    CHECK(pp_hdf5_export(a, fresh) != 0 && access(fresh, F_OK) != 0, "export: a failed export makes no file");
    pp_frame_remove(a->meta, "bad/name");
    CHECK(pp_hdf5_export(a, tmp("no/such/dir.hdf5")) != 0 && strstr(pp_error(), "no/such/dir.hdf5"),
          "export: a missing directory is an error naming the path");
    pp_dataset *e;
    pp_dataset_new(&e, 4);
    pp_dataset_add_column(e, "observations", PP_F32, 2);
    CHECK(pp_hdf5_export(e, fresh) != 0 && strstr(pp_error(), "no column actions") && access(fresh, F_OK) != 0,
          "export: a data set without actions is refused before anything is written (%s)", pp_error());
    pp_dataset_free(e);
    pp_dataset_free(a);
}

/* ---- bad input ---- */

typedef void (*spoil_fn)(hid_t f);

static void spoil_missing(hid_t f) { H5Ldelete(f, "terminals", H5P_DEFAULT); }
static void spoil_obs_1d(hid_t f)
{
    float x[N] = {0};
    H5Ldelete(f, "observations", H5P_DEFAULT);
    put_f32(f, "observations", N, 0, x);
}
static void spoil_rew_2(hid_t f)
{
    float x[2 * N] = {0};
    H5Ldelete(f, "rewards", H5P_DEFAULT);
    put_f32(f, "rewards", N, 2, x);
}
static void spoil_obs_string(hid_t f)
{
    H5Ldelete(f, "observations", H5P_DEFAULT);
    put_str(f, "observations", "oops", 0);
}
static void spoil_term_2(hid_t f)
{
    uint8_t x[N] = {0, 0, 0, 0, 2};
    H5Ldelete(f, "terminals", H5P_DEFAULT);
    put(f, "terminals", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, N, 0, x);
}
static void spoil_act_rows(hid_t f)
{
    float x[(N - 1) * A] = {0};
    H5Ldelete(f, "actions", H5P_DEFAULT);
    put_f32(f, "actions", N - 1, A, x);
}
static void spoil_qpos_rows(hid_t f)
{
    float x[(N + 1) * 3] = {0};
    H5Ldelete(f, "infos/qpos", H5P_DEFAULT);
    put_f32(f, "infos/qpos", N + 1, 3, x);
}
static void spoil_next_width(hid_t f)
{
    float x[N * 3] = {0};
    H5Ldelete(f, "next_observations", H5P_DEFAULT);
    put_f32(f, "next_observations", N, 3, x);
}
static void set_value(hid_t f, const char *name, hsize_t row, hsize_t col, int rank, float v)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT), s = H5Dget_space(ds);
    hsize_t at[2] = {row, col}, one[2] = {1, 1};
    H5Sselect_hyperslab(s, H5S_SELECT_SET, at, NULL, one, NULL);
    hid_t m = H5Screate_simple(rank, one, NULL);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, m, s, H5P_DEFAULT, &v);
    H5Sclose(m);
    H5Sclose(s);
    H5Dclose(ds);
}
static void spoil_obs_nan(hid_t f) { set_value(f, "observations", 5, 1, 2, NAN); }
static void spoil_rew_inf(hid_t f) { set_value(f, "rewards", 7, 0, 1, INFINITY); }
static void spoil_qpos_nan(hid_t f) { set_value(f, "infos/qpos", 2, 2, 2, NAN); }
static void spoil_empty(hid_t f)
{
    const char *keys[] = {"observations", "next_observations", "actions"};
    int w[] = {O, O, A};
    for (int k = 0; k < 3; k++) {
        H5Ldelete(f, keys[k], H5P_DEFAULT);
        put(f, keys[k], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, 0, (hsize_t)w[k], NULL);
    }
}

static void test_bad_input(void)
{
    static const struct {
        spoil_fn spoil;
        const char *want, *what;
    } cases[] = {
        {spoil_missing, "no key terminals", "a missing key"},
        {spoil_obs_1d, "observations is [10], expected [N,width]", "observations [N]"},
        {spoil_rew_2, "rewards is [10,2], expected [N] or [N,1]", "rewards [N,2]"},
        {spoil_obs_string, "observations is a string", "observations a string"},
        {spoil_term_2, "terminals row 4 is 2, expected 0 or 1", "a terminal of 2"},
        {spoil_act_rows, "actions has 9 rows, but observations has 10", "actions one row short"},
        {spoil_qpos_rows, "infos/qpos has 11 rows, but observations has 10", "infos/qpos one row long"},
        {spoil_next_width, "next_observations is [10,3], but observations is [10,2]", "next_observations too wide"},
        {spoil_obs_nan, "observations row 5 column 1 is nan", "a NaN observation"},
        {spoil_rew_inf, "rewards row 7 is inf", "an infinite reward"},
        {spoil_qpos_nan, "infos/qpos row 2 column 2 is nan", "a NaN in infos/qpos"},
        {spoil_empty, "observations has no rows", "no rows"},
    };
    const char *p = tmp("bad.hdf5");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        write_d4rl(p, 0);
        hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
        cases[k].spoil(f);
        H5Fclose(f);
        pp_dataset *d = (pp_dataset *)1;
        pp_hdf5_import_opts o = {0};
        int rc = pp_hdf5_import(p, &o, &d, NULL);
        CHECK(rc != 0 && d == NULL && strstr(pp_error(), cases[k].want) && strstr(pp_error(), p),
              "bad input: %s: \"%s\"", cases[k].what, pp_error());
    }

    /* sizes against the task */
    write_d4rl(p, 0);
    pp_dataset *d = NULL;
    pp_hdf5_import_opts o = {.env = "Hopper-v3", .obs_dim = 11, .act_dim = 3};
    CHECK(pp_hdf5_import(p, &o, &d, NULL) != 0 &&
              strstr(pp_error(), "observations is [10,2], but Hopper-v3 has observations of 11 dimensions"),
          "bad input: obs dims against --env: \"%s\"", pp_error());
    o.obs_dim = 2, o.act_dim = 6;
    CHECK(pp_hdf5_import(p, &o, &d, NULL) != 0 &&
              strstr(pp_error(), "actions is [10,3], but Hopper-v3 has actions of 6 dimensions"),
          "bad input: act dims against --env: \"%s\"", pp_error());

    /* not HDF5, truncated, missing */
    const char *txt = tmp("text.hdf5");
    FILE *fp = fopen(txt, "w");
    fputs("observations,actions\n1,2\n", fp);
    fclose(fp);
    o = (pp_hdf5_import_opts){0};
    CHECK(pp_hdf5_import(txt, &o, &d, NULL) != 0 && strstr(pp_error(), "is not an HDF5 file"),
          "bad input: a text file: \"%s\"", pp_error());
    CHECK(pp_hdf5_import(tmp("none.hdf5"), &o, &d, NULL) != 0 && strstr(pp_error(), "No such file"),
          "bad input: a missing file: \"%s\"", pp_error());
    struct stat st;
    stat(p, &st);
    long cuts[] = {st.st_size / 2, 600, 100};
    for (int k = 0; k < 3; k++) {
        if (truncate(p, cuts[k]) != 0) break;
        CHECK(pp_hdf5_import(p, &o, &d, NULL) != 0 && strstr(pp_error(), p) && d == NULL,
              "bad input: the file cut to %ld of %ld bytes: \"%s\"", cuts[k], (long)st.st_size, pp_error());
    }
}

/* Metadata the frame cannot hold is skipped and noted, not fatal. */
static void test_meta_notes(void)
{
    const char *p = tmp("notes.hdf5");
    write_d4rl(p, 0);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    put_str(f, "metadata/a.b", "dotted", 0);
    H5Lcreate_soft("/observations", f, "metadata/link", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    pp_hdf5_report rep;
    pp_dataset *d = import(p, 0, &rep);
    CHECK(d && strstr(rep.notes, "skipped metadata/a.b") && strstr(rep.notes, "skipped metadata/link"),
          "metadata: a dotted name and a soft link are skipped, with notes");
    CHECK(d && pp_frame_get(d->meta, "algorithm"), "metadata: the rest is read");
    pp_dataset_free(d);
}

int main(void)
{
    if (tmpdir_make("hdf5") != 0) return 1;
    CHECK(pp_hdf5_built(), "HDF5 built");
    test_pair_next();
    test_import();
    test_import_next_policy();
    test_export();
    test_bad_input();
    test_meta_notes();
    tmpdir_remove();
    return check_done();
}

#endif
