/* stage_config.c - save and load a stage's option table as config.* (stage_config.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stage/stage_config.h"

#define FIELD(row, cfg) ((char *)(cfg) + (row)->offset)

int pp_config_save(const pp_opt *table, const void *cfg, pp_frame *ck)
{
    for (const pp_opt *row = table; row->name; row++) {
        char key[96], path[104];
        if (pp_opt_key(row, key, sizeof key) != 0) continue;
        snprintf(path, sizeof path, "config.%s", key);
        const char *p = (const char *)cfg + row->offset;
        int rc = 0;
        switch (row->type) {
        case PP_OPT_T_INT: rc = pp_frame_set_i64(ck, path, *(const int *)p); break;
        case PP_OPT_T_COUNT: rc = pp_frame_set_i64(ck, path, *(const long long *)p); break;
        case PP_OPT_T_SEED: rc = pp_frame_set_i64(ck, path, (int64_t)*(const unsigned long long *)p); break;
        case PP_OPT_T_DOUBLE: rc = pp_frame_set_f64(ck, path, *(const double *)p); break;
        case PP_OPT_T_CHOICE: rc = pp_frame_set_str(ck, path, row->choices[*(const int *)p]); break;
        case PP_OPT_T_STRING: rc = pp_frame_set_str(ck, path, p); break;
        case PP_OPT_T_FLAG: rc = pp_frame_set_bool(ck, path, *(const int *)p != 0); break;
        }
        if (rc != 0) return -1;
    }
    return 0;
}

/* Read config.<key> of one row into the field of tmp, with the row's checks. */
static int read_row(const pp_opt *row, void *tmp, pp_frame *ck, const char *path)
{
    pp_node *n = pp_frame_get(ck, path);
    if (!n) return pp_fail("missing field %s", path);
    char *p = FIELD(row, tmp);
    char text[4096];
    switch (row->type) {
    case PP_OPT_T_INT:
    case PP_OPT_T_COUNT:
    case PP_OPT_T_SEED: {
        int64_t v;
        if (pp_frame_get_i64(ck, path, &v) != 0) return -1;
        if (row->type == PP_OPT_T_SEED) {
            if (v < 0) return pp_fail("%s is %lld, expected a seed >= 0", path, (long long)v);
            *(unsigned long long *)p = (unsigned long long)v;
            return 0;
        }
        if ((double)v < row->lo || (double)v > row->hi)
            return pp_fail("%s is %lld, expected %.0f..%.0f", path, (long long)v, row->lo, row->hi);
        if (row->type == PP_OPT_T_INT) *(int *)p = (int)v;
        else *(long long *)p = v;
        return 0;
    }
    case PP_OPT_T_DOUBLE: {
        double v;
        if (pp_frame_get_f64(ck, path, &v) != 0) return -1;
        if (!isfinite(v) || v < row->lo || v > row->hi)
            return pp_fail("%s is %g, expected a number in [%g, %g]", path, v, row->lo, row->hi);
        *(double *)p = (row->flags & PP_OPT_F32) ? pp_opt_round_f32(v) : v;
        return 0;
    }
    case PP_OPT_T_FLAG: {
        double v;
        if (pp_node_as_f64(n, &v) != 0)
            return pp_fail("field %s is %s, expected a bool", path, pp_node_type_name(pp_node_type_of(n)));
        *(int *)p = v != 0.0;
        return 0;
    }
    case PP_OPT_T_CHOICE:
    case PP_OPT_T_STRING: {
        const char *s;
        size_t len;
        if (pp_frame_get_str(ck, path, &s, &len) != 0) return -1;
        if (len >= sizeof text) return pp_fail("%s is too long (%zu bytes)", path, len);
        memcpy(text, s, len);
        text[len] = '\0';
        if (memchr(text, '\0', len)) return pp_fail("%s holds a NUL byte", path);
        if (pp_opt_set(row, tmp, text) != 0) return pp_fail_prefix("%s: ", path);
        return 0;
    }
    }
    return pp_fail("%s: unknown option type", path);
}

static int same_value(const pp_opt *row, const void *a, const void *b)
{
    char x[4096], y[4096];
    pp_opt_format(row, a, x, sizeof x);
    pp_opt_format(row, b, y, sizeof y);
    return strcmp(x, y) == 0;
}

int pp_config_load(const pp_opt *table, void *cfg, size_t cfg_size, pp_frame *ck,
                   uint64_t given, int built)
{
    void *tmp = pp_xmalloc(cfg_size);
    memcpy(tmp, cfg, cfg_size);
    int rc = 0, i = 0;
    for (const pp_opt *row = table; rc == 0 && row->name; row++, i++) {
        char key[96], path[104];
        if (pp_opt_key(row, key, sizeof key) != 0 || (row->flags & PP_OPT_KEEP)) continue;
        snprintf(path, sizeof path, "config.%s", key);
        if ((row->flags & PP_OPT_NEWKEY) && !pp_frame_get(ck, path)) continue;
        int was_given = (given >> i) & 1;
        if (!(row->flags & PP_OPT_SHAPE) && was_given) continue; /* the command line wins */
        if (read_row(row, tmp, ck, path) != 0) {
            rc = -1;
            break;
        }
        if ((row->flags & PP_OPT_SHAPE) && (was_given || built) && !same_value(row, tmp, cfg)) {
            char saved[256], mine[256];
            pp_opt_format(row, tmp, saved, sizeof saved);
            pp_opt_format(row, cfg, mine, sizeof mine);
            rc = pp_fail("the checkpoint has --%s %s, but this stage has --%s %s%s", row->name,
                         saved, row->name, mine, was_given ? "" : " (its default)");
        }
    }
    if (rc == 0) memcpy(cfg, tmp, cfg_size);
    free(tmp);
    return rc;
}
