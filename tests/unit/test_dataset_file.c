/* test_dataset_file.c - data sets through files (the chunk stream of
 * parpi-replay(5)): every column, the env and the metadata round-trip in
 * chunks of any size; a replay file of any version reads as a data set
 * (oldest row first, flags as bool); a data set with the six columns loads
 * into a replay buffer (any capacity); a damaged chunk is named by file,
 * column and row. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "data/dataset.h"
#include "data/replay.h"
#include "frame/frame.h"
#include "frame/save.h"

#include "tmpdir.h"

static void chunks_of(int rows)
{
    char v[32];
    snprintf(v, sizeof v, "%d", rows);
    if (rows > 0) setenv("PARPI_CHUNK_ROWS", v, 1);
    else unsetenv("PARPI_CHUNK_ROWS");
}

/* N rows: the six D4RL columns and four more of other dtypes and widths. */
static pp_dataset *make(int64_t n)
{
    pp_dataset *d;
    pp_dataset_new(&d, n);
    float *obs = pp_dataset_add_column(d, "observations", PP_F32, 4)->data;
    float *act = pp_dataset_add_column(d, "actions", PP_F32, 2)->data;
    float *rew = pp_dataset_add_column(d, "rewards", PP_F32, 0)->data;
    float *nobs = pp_dataset_add_column(d, "next_observations", PP_F32, 4)->data;
    uint8_t *term = pp_dataset_add_column(d, "terminals", PP_BOOL, 0)->data;
    uint8_t *tout = pp_dataset_add_column(d, "timeouts", PP_BOOL, 0)->data;
    double *qpos = pp_dataset_add_column(d, "infos/qpos", PP_F64, 5)->data;
    float *logp = pp_dataset_add_column(d, "infos/action_log_probs", PP_F32, 0)->data;
    int32_t *goal = pp_dataset_add_column(d, "infos/goal", PP_I32, 2)->data;
    uint8_t *mask = pp_dataset_add_column(d, "mask", PP_U8, 1)->data;
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++) obs[4 * i + k] = (float)i + 0.25f * k, nobs[4 * i + k] = (float)i + 1 + 0.25f * k;
        act[2 * i] = 0.01f * (float)i, act[2 * i + 1] = -0.5f;
        rew[i] = 0.1f * (float)i;
        term[i] = i % 7 == 3, tout[i] = i % 5 == 4;
        for (int k = 0; k < 5; k++) qpos[5 * i + k] = 1e-3 * (double)i + k;
        logp[i] = -(float)i;
        goal[2 * i] = (int32_t)i, goal[2 * i + 1] = -(int32_t)i;
        mask[i] = (uint8_t)(i * 37);
    }
    strcpy(d->env, "Hopper-v3");
    int64_t s3[1] = {3};
    float mean[3] = {1, 2, 3};
    pp_frame_set_str(d->meta, "algorithm", "SAC");
    pp_frame_set_f64(d->meta, "policy.return", 123.5);
    pp_frame_put_tensor(d->meta, "policy.mean", PP_F32, 1, s3, mean);
    return d;
}

static int same_frame(pp_frame *a, pp_frame *b)
{
    uint8_t *ea = NULL, *eb = NULL;
    size_t ca = 0, cb = 0, la = 0, lb = 0;
    pp_frame_encode(a, &ea, &ca, &la);
    pp_frame_encode(b, &eb, &cb, &lb);
    int same = la == lb && memcmp(ea, eb, la) == 0;
    free(ea);
    free(eb);
    return same;
}

static int same_dataset(const pp_dataset *a, const pp_dataset *b)
{
    if (a->rows != b->rows || a->ncols != b->ncols || strcmp(a->env, b->env) != 0) return 0;
    for (int i = 0; i < a->ncols; i++) {
        const pp_column *x = &a->col[i], *y = &b->col[i];
        if (strcmp(x->name, y->name) || x->dtype != y->dtype || x->width != y->width ||
            memcmp(x->data, y->data, (size_t)a->rows * pp_column_row_bytes(x)) != 0)
            return 0;
    }
    return same_frame(a->meta, b->meta);
}

static void test_round_trip(void)
{
    pp_dataset *d = make(37), *back;
    const int chunk_rows[] = {1, 5, 36, 37, 0};
    for (size_t c = 0; c < sizeof chunk_rows / sizeof *chunk_rows; c++) {
        chunks_of(chunk_rows[c]);
        CHECK(pp_dataset_save(d, tmp("d.mp")) == 0 && pp_dataset_load(&back, tmp("d.mp")) == 0 &&
                  same_dataset(d, back),
              "chunks of %d rows: every column (f32, f64, i32, u8, bool), env and metadata round-trip: %s",
              chunk_rows[c], pp_error());
        pp_dataset_free(back);
    }
    chunks_of(0);
    pp_dataset_free(d);

    d = make(0);
    CHECK(pp_dataset_save(d, tmp("empty.mp")) == 0 && pp_dataset_load(&back, tmp("empty.mp")) == 0 &&
              same_dataset(d, back),
          "an empty data set round-trips: %s", pp_error());
    pp_dataset_free(back);
    pp_replay *r;
    CHECK(pp_replay_load(&r, tmp("empty.mp"), 0) == 0 && r->size == 0 && r->capacity == 1,
          "an empty data set loads as an empty replay buffer: %s", pp_error());
    pp_replay_free(r);
    pp_dataset_free(d);

    /* no metadata, no env: still a map and "" */
    pp_dataset_new(&d, 3);
    pp_dataset_add_column(d, "x", PP_F32, 0);
    CHECK(pp_dataset_save(d, tmp("bare.mp")) == 0 && pp_dataset_load(&back, tmp("bare.mp")) == 0 &&
              same_dataset(d, back) && back->env[0] == 0 && pp_node_len(pp_frame_root(back->meta)) == 0,
          "a data set without env or metadata: %s", pp_error());
    pp_dataset_free(back);
    /* chunk frames hold first and count beside the columns */
    strcpy(d->col[0].name, "count");
    CHECK(pp_dataset_save(d, tmp("bad.mp")) == -1 && strstr(pp_error(), "bad.mp") && strstr(pp_error(), "count"),
          "a column called count is refused: %s", pp_error());
    pp_dataset_free(d);
}

static void add_k(pp_replay *r, int k)
{
    float obs[3] = {k, k + 0.5f, -k}, nobs[3] = {k + 1, k + 1.5f, -k - 1};
    float act[2] = {0.001f * k, -0.5f};
    pp_replay_add(r, obs, act, 0.1f * k, nobs, k % 7 == 0, k % 5 == 0);
}

/* A wrapped replay file as a data set: its rows oldest first, flags bool. */
static void test_replay_as_dataset(void)
{
    pp_replay *r;
    pp_dataset *d;
    pp_replay_create(&r, 12, 3, 2);
    for (int k = 0; k < 17; k++) add_k(r, k); /* rows 5..16, the oldest at next = 5 */
    chunks_of(5);
    pp_replay_save(r, tmp("r.mp"));
    chunks_of(0);
    CHECK(pp_dataset_load(&d, tmp("r.mp")) == 0 && d->rows == 12 && d->ncols == 6, "a replay file loads as a data set: %s",
          pp_error());
    pp_column *obs = pp_dataset_need(d, "observations", PP_F32, 3), *act = pp_dataset_need(d, "actions", PP_F32, 2),
              *rew = pp_dataset_need(d, "rewards", PP_F32, 0), *term = pp_dataset_need(d, "terminals", PP_BOOL, 0),
              *tout = pp_dataset_need(d, "timeouts", PP_BOOL, 0),
              *nobs = pp_dataset_need(d, "next_observations", PP_F32, 3);
    CHECK(obs && act && rew && term && tout && nobs, "its six columns, terminals and timeouts bool: %s", pp_error());
    int ok = obs && act && rew && term && tout && nobs;
    for (int i = 0; ok && i < 12; i++) {
        int k = 5 + i;
        ok &= ((float *)obs->data)[3 * i] == k && ((float *)nobs->data)[3 * i] == k + 1 &&
              ((float *)act->data)[2 * i] == 0.001f * k && ((float *)rew->data)[i] == 0.1f * k &&
              ((uint8_t *)term->data)[i] == (k % 7 == 0) && ((uint8_t *)tout->data)[i] == (k % 5 == 0);
    }
    CHECK(ok, "rows oldest first (transitions 5..16), flags 0/1");
    pp_dataset_free(d);
    pp_replay_free(r);

    /* parpi 0.1's replay file (version 1) */
    CHECK(pp_dataset_load(&d, "tests/fixtures/compat-0.1.0/expected/replay.mp") == 0 && d->rows == 300 &&
              pp_dataset_need(d, "timeouts", PP_BOOL, 0) && pp_dataset_need(d, "observations", PP_F32, 3),
          "parpi 0.1's replay file loads as a data set of 300 rows: %s", pp_error());
    pp_dataset_free(d);
}

/* A data set with the six columns into a replay buffer. */
static void test_dataset_as_replay(void)
{
    pp_dataset *d = make(37);
    pp_replay *r;
    chunks_of(6);
    pp_dataset_save(d, tmp("d.mp"));
    CHECK(pp_replay_load(&r, tmp("d.mp"), 0) == 0 && r->capacity == 37 && r->size == 37 && r->next == 0 &&
              r->added == 37 && r->obs_dim == 4 && r->act_dim == 2,
          "capacity 0: the data set's 37 rows, a full ring from row 0: %s", pp_error());
    int ok = 1;
    for (int i = 0; r && i < 37; i++)
        ok &= r->data.obs[4 * i + 1] == i + 0.25f && r->data.act[2 * i] == 0.01f * i && r->data.rew[i] == 0.1f * i &&
              r->data.terminated[i] == (i % 7 == 3) && r->data.truncated[i] == (i % 5 == 4) &&
              r->data.next_obs[4 * i] == i + 1;
    CHECK(ok, "rows as in the data set, bool flags as 0/1");
    pp_replay_free(r);
    CHECK(pp_replay_load(&r, tmp("d.mp"), 10) == 0 && r->capacity == 10 && r->size == 10 && r->next == 0 &&
              r->data.obs[0] == 27 && r->data.obs[4 * 9] == 36,
          "capacity 10: the newest rows 27..36: %s", pp_error());
    pp_replay_free(r);
    CHECK(pp_replay_load(&r, tmp("d.mp"), 100) == 0 && r->size == 37 && r->next == 37 && r->data.obs[0] == 0,
          "capacity 100: all 37 rows and room for more: %s", pp_error());
    pp_replay_free(r);

    /* flags stored as f32 */
    pp_dataset *f;
    pp_dataset_new(&f, 4);
    const char *names[6] = {"observations", "actions", "rewards", "next_observations", "terminals", "timeouts"};
    int64_t widths[6] = {2, 1, 0, 2, 0, 0};
    for (int i = 0; i < 6; i++) pp_dataset_add_column(f, names[i], PP_F32, widths[i]);
    ((float *)f->col[4].data)[2] = 1;
    pp_dataset_save(f, tmp("f.mp"));
    CHECK(pp_replay_load(&r, tmp("f.mp"), 0) == 0 && r->data.terminated[2] == 1 && r->data.terminated[1] == 0,
          "terminals as f32: %s", pp_error());
    pp_replay_free(r);
    pp_dataset *back;
    CHECK(pp_dataset_load(&back, tmp("f.mp")) == 0 && pp_dataset_need(back, "terminals", PP_BOOL, 0) &&
              ((uint8_t *)pp_dataset_column(back, "terminals")->data)[2] == 1,
          "and as a data set, bool: %s", pp_error());
    pp_dataset_free(back);
    /* without timeouts */
    f->ncols = 5;
    pp_dataset_save(f, tmp("five.mp"));
    f->ncols = 6;
    CHECK(pp_replay_load(&r, tmp("five.mp"), 0) == -1 && strstr(pp_error(), "five.mp: no column timeouts"),
          "a data set without timeouts is no replay buffer: %s", pp_error());
    /* actions without a width */
    pp_dataset_free(f);
    pp_dataset_new(&f, 4);
    for (int i = 0; i < 6; i++) pp_dataset_add_column(f, names[i], PP_F32, i == 1 ? 0 : widths[i]);
    pp_dataset_save(f, tmp("w.mp"));
    CHECK(pp_replay_load(&r, tmp("w.mp"), 0) == -1 && strstr(pp_error(), "w.mp: column actions has width 0"),
          "actions [N] is refused: %s", pp_error());
    pp_dataset_free(f);
    chunks_of(0);
    pp_dataset_free(d);
}

/* A stream rewritten with one chunk's column of the wrong shape, with a
 * right checksum: named by file, row and column before the checksum. */
static void test_bad_chunk(void)
{
    pp_dataset *d = make(10), *back;
    chunks_of(4);
    pp_dataset_save(d, tmp("d.mp"));
    chunks_of(0);
    pp_reader *in = pp_reader_open_path(tmp("d.mp"), 0);
    pp_frame *f = pp_frame_new();
    pp_save *s;
    pp_save_open(&s, tmp("bad.mp"));
    uint8_t *enc = NULL;
    size_t cap = 0, len;
    for (int k = 0; pp_reader_next(in, f) == 1; k++) {
        if (k == 2) { /* the chunk of rows 4..7 */
            int64_t shape[2] = {4, 4};
            double q[16] = {0};
            pp_frame_put_tensor(f, "infos/qpos", PP_F64, 2, shape, q);
        }
        if (k == 4) break; /* the end frame: written below */
        pp_frame_encode(f, &enc, &cap, &len);
        pp_save_write(s, enc, len);
    }
    uint8_t end[] = {0x82, 0xa4, 'r', 'o', 'w', 's', 0x0a};
    pp_save_write(s, end, sizeof end);
    pp_save_sum(s);
    CHECK(pp_save_commit(s) == 0, "a stream rewritten by hand");
    CHECK(pp_dataset_load(&back, tmp("bad.mp")) == -1 && strstr(pp_error(), "bad.mp: row 4 (the chunk at byte") &&
              strstr(pp_error(), "column infos/qpos is f64[4,4], expected f64[4,5]"),
          "the file, the row and the column named: %s", pp_error());
    free(enc);
    pp_frame_free(f);
    pp_reader_close(in);
    pp_dataset_free(d);
}

int main(void)
{
    if (tmpdir_make("dataset") != 0) return 1;
    test_round_trip();
    test_replay_as_dataset();
    test_dataset_as_replay();
    test_bad_chunk();
    tmpdir_remove();
    return check_done();
}
