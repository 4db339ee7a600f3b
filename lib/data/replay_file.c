/* replay_file.c - replay buffers to and from parpi files (the chunk stream
 * of data/rows.h, parpi-replay(5)), and sampled batches into frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "data/replay.h"
#include "data/rows.h"

int pp_replay_sample_to_frame(pp_replay *r, pp_rng *rng, int64_t n, pp_frame *f,
                              const char *prefix)
{
    char path[256];
    int64_t s_obs[2] = {n, r->obs_dim}, s_act[2] = {n, r->act_dim}, s_1[1] = {n};
    pp_transitions out;
#define SLOT(field, name, nd, shape)                                                       \
    snprintf(path, sizeof path, "%s.%s", prefix, name);                                    \
    out.field = pp_frame_put_tensor_uninit(f, path, PP_F32, nd, shape);                    \
    if (!out.field) return pp_fail_prefix("replay batch: ");
    SLOT(obs, "obs", 2, s_obs)
    SLOT(act, "act", 2, s_act)
    SLOT(rew, "rew", 1, s_1)
    SLOT(next_obs, "next_obs", 2, s_obs)
    SLOT(terminated, "done", 1, s_1)
    SLOT(truncated, "truncated", 1, s_1)
#undef SLOT
    return pp_replay_sample(r, rng, n, &out);
}

/* ---- files: the chunk stream of data/rows.h ---- */

_Static_assert(PP_REPLAY_VERSION == PP_ROWS_VERSION, "replay.h and rows.h name one format");

/* The buffer's six arrays as the file's columns, D4RL's names; flags
 * (terminals, timeouts) are f32 in memory and in the file. */
static void columns(const pp_replay *r, pp_column col[6])
{
    static const char *const names[6] = {"observations", "actions", "rewards", "next_observations", "terminals",
                                         "timeouts"};
    float *data[6] = {r->data.obs, r->data.act, r->data.rew, r->data.next_obs, r->data.terminated, r->data.truncated};
    int64_t width[6] = {r->obs_dim, r->act_dim, 0, r->obs_dim, 0, 0};
    for (int i = 0; i < 6; i++) {
        memset(&col[i], 0, sizeof col[i]);
        strcpy(col[i].name, names[i]);
        col[i].dtype = PP_F32;
        col[i].width = width[i];
        col[i].data = data[i];
    }
}

int pp_replay_save(const pp_replay *r, const char *path)
{
    pp_rows_head h = {.rows = r->size, .ncols = 6, .ring = true, .capacity = r->capacity, .next = r->next,
                      .added = r->added, .obs_dim = r->obs_dim, .act_dim = r->act_dim};
    columns(r, h.col);
    if (pp_rows_save(path, &h, 0) != 0) return pp_fail_prefix("saving replay buffer to %s: ", path);
    return 0;
}

/* The width of column name of the file: observations and actions must be
 * [rows, width] (and the ring's obs_dim, act_dim). */
static int width_of(const pp_rows_head *h, const char *path, const char *name, int ring_dim, int *out)
{
    for (int i = 0; i < h->ncols; i++) {
        const pp_column *c = &h->col[i];
        if (strcmp(c->name, name) != 0) continue;
        if (c->width < 1 || (h->ring && c->width != ring_dim))
            return pp_fail("%s: column %s has width %lld, expected %s%d", path, name, (long long)c->width,
                           h->ring ? "" : "1..", h->ring ? ring_dim : 1 << 20);
        *out = (int)c->width;
        return 0;
    }
    return pp_fail("%s: no column %s: not a replay buffer or a data set of transitions", path, name);
}

int pp_replay_load(pp_replay **out, const char *path, int64_t capacity)
{
    *out = NULL;
    pp_rows_reader *in = NULL;
    pp_replay *r = NULL;
    if (pp_rows_open(&in, path) != 0) return -1;
    const pp_rows_head *h = pp_rows_head_of(in);
    int obs_dim = 0, act_dim = 0, rc = -1;
    if (width_of(h, path, "observations", h->obs_dim, &obs_dim) != 0 ||
        width_of(h, path, "actions", h->act_dim, &act_dim) != 0)
        goto done;
    /* The file's capacity (a data set's: its rows) keeps the file's layout,
     * so that sampling goes on as if never saved; another keeps the newest
     * rows, oldest first. */
    int64_t start = 0, drop = 0, size = h->rows, next, added = h->ring ? h->added : h->rows;
    bool keep = h->ring && (capacity <= 0 || capacity == h->capacity);
    if (keep) capacity = h->capacity;
    else if (capacity <= 0) capacity = h->rows > 0 ? h->rows : 1;
    if (pp_replay_create(&r, capacity, obs_dim, act_dim) != 0) {
        pp_fail_prefix("%s: ", path);
        goto done;
    }
    if (keep) next = h->next;
    else {
        size = h->rows < r->capacity ? h->rows : r->capacity;
        start = pp_rows_oldest(h);
        drop = h->rows - size;
        next = size % r->capacity;
    }
    pp_column col[6];
    columns(r, col);
    if (pp_rows_read(in, col, 6, start, drop) != 0) goto done;
    r->size = size, r->next = next, r->added = added;
    rc = 0;
done:
    pp_rows_close(in);
    if (rc == 0) *out = r;
    else pp_replay_free(r);
    return rc;
}
