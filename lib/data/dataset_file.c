/* dataset_file.c - data sets to and from files: the chunk stream of
 * data/rows.h (parpi-replay(5)); a replay file of any version reads as a
 * data set of its six columns, oldest row first. */
#include <string.h>

#include "base/err.h"
#include "data/dataset.h"
#include "data/rows.h"

int pp_dataset_save(const pp_dataset *d, const char *path)
{
    pp_rows_head h = {.rows = d->rows, .ncols = d->ncols, .meta = d->meta};
    memcpy(h.col, d->col, sizeof d->col);
    memcpy(h.env, d->env, sizeof h.env);
    if (pp_rows_save(path, &h, 0) != 0) return pp_fail_prefix("saving data set to %s: ", path);
    return 0;
}

/* D4RL's flags are bool, whatever the file stored (a replay file: f32). */
static pp_dtype dtype_for(const pp_column *c)
{
    int flag = strcmp(c->name, "terminals") == 0 || strcmp(c->name, "timeouts") == 0;
    return flag && c->width == 0 ? PP_BOOL : c->dtype;
}

int pp_dataset_load(pp_dataset **out, const char *path)
{
    *out = NULL;
    pp_rows_reader *in = NULL;
    pp_dataset *d = NULL;
    if (pp_rows_open(&in, path) != 0) return -1;
    pp_rows_head *h = pp_rows_head_of(in);
    int rc = pp_dataset_new(&d, h->rows);
    for (int i = 0; rc == 0 && i < h->ncols; i++)
        if (!pp_dataset_add_column(d, h->col[i].name, dtype_for(&h->col[i]), h->col[i].width)) rc = -1;
    if (rc != 0) pp_fail_prefix("%s: ", path);
    if (rc == 0) rc = pp_rows_read(in, d->col, d->ncols, pp_rows_oldest(h), 0);
    if (rc == 0) {
        memcpy(d->env, h->env, sizeof d->env);
        pp_frame_free(d->meta);
        d->meta = h->meta; /* the reader's, taken */
        h->meta = NULL;
    }
    pp_rows_close(in);
    if (rc != 0) {
        pp_dataset_free(d);
        return -1;
    }
    *out = d;
    return 0;
}
