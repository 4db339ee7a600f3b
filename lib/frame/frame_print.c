/* frame_print.c - frames as text: a summary for people, JSON, CSV, field lists. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame_impl.h"

/* ---- numbers: the shortest text that reads back to the same value ---- */
static void fmt_f64(char *b, size_t cap, double v)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(b, cap, "%.*g", p, v);
        if (strtod(b, NULL) == v) return;
    }
}

static void fmt_f32(char *b, size_t cap, float v)
{
    for (int p = 6; p <= 9; p++) {
        snprintf(b, cap, "%.*g", p, (double)v);
        if (strtof(b, NULL) == v) return;
    }
}

/* JSON keeps floats distinguishable from integers: "1" becomes "1.0". */
static void mark_float(char *b, size_t cap)
{
    if (strpbrk(b, ".eEn")) return; /* has a point or exponent (or is nan/inf) */
    size_t n = strlen(b);
    if (n + 2 < cap) memcpy(b + n, ".0", 3);
}

/* Element i of a tensor as double (data may be unaligned). */
static double elem_f64(pp_dtype dt, const uint8_t *p, size_t i)
{
    switch (dt) {
    case PP_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case PP_F64: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case PP_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case PP_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    case PP_U8: return p[i];
    default: return p[i] != 0;
    }
}

/* Element i as text; nonfinite as null (JSON) or nan/inf (CSV). */
static void fmt_elem(char *b, size_t cap, pp_dtype dt, const uint8_t *p, size_t i, bool json)
{
    double d = 0;
    switch (dt) {
    case PP_F32: {
        float v;
        memcpy(&v, p + 4 * i, 4);
        d = v;
        if (!isfinite(v)) break;
        fmt_f32(b, cap, v);
        if (json) mark_float(b, cap);
        return;
    }
    case PP_F64:
        memcpy(&d, p + 8 * i, 8);
        if (!isfinite(d)) break;
        fmt_f64(b, cap, d);
        if (json) mark_float(b, cap);
        return;
    case PP_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); snprintf(b, cap, "%d", v); return; }
    case PP_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); snprintf(b, cap, "%lld", (long long)v); return; }
    case PP_U8: snprintf(b, cap, "%u", p[i]); return;
    default: snprintf(b, cap, "%s", json ? (p[i] ? "true" : "false") : (p[i] ? "1" : "0")); return;
    }
    snprintf(b, cap, "%s", json ? "null" : isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
}

static void fmt_scalar(char *b, size_t cap, const pp_node *n, bool json)
{
    switch (n->type) {
    case PP_NODE_NIL: snprintf(b, cap, "%s", json ? "null" : "nil"); break;
    case PP_NODE_BOOL: snprintf(b, cap, "%s", n->v.b ? "true" : "false"); break;
    case PP_NODE_INT: snprintf(b, cap, "%lld", (long long)n->v.i); break;
    case PP_NODE_UINT: snprintf(b, cap, "%llu", (unsigned long long)n->v.u); break;
    case PP_NODE_FLOAT:
        if (isfinite(n->v.f)) {
            fmt_f64(b, cap, n->v.f);
            if (json) mark_float(b, cap);
        } else snprintf(b, cap, "%s", json ? "null" : isnan(n->v.f) ? "nan" : n->v.f > 0 ? "inf" : "-inf");
        break;
    default: b[0] = '\0';
    }
}

static bool is_scalar(const pp_node *n) { return n->type <= PP_NODE_FLOAT; }

/* ---- summary ---- */
typedef struct {
    char path[1024];
    size_t len;
} pathbuf;

static size_t path_push(pathbuf *pb, const pp_node *e, long index)
{
    size_t old = pb->len;
    int n;
    if (index >= 0) n = snprintf(pb->path + pb->len, sizeof pb->path - pb->len, "[%ld]", index);
    else n = snprintf(pb->path + pb->len, sizeof pb->path - pb->len, "%s%.*s", pb->len ? "." : "",
                      (int)e->keylen, e->key);
    if (n > 0) pb->len += (size_t)n;
    if (pb->len >= sizeof pb->path) pb->len = sizeof pb->path - 1;
    return old;
}

static void path_pop(pathbuf *pb, size_t old)
{
    pb->len = old;
    pb->path[old] = '\0';
}

static void print_quoted(FILE *out, const char *s, size_t len, size_t max)
{
    fputc('"', out);
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f) fprintf(out, "\\x%02x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
    if (len > max) fprintf(out, "... (%zu bytes)", len);
}

static void tensor_stats(FILE *out, const pp_tensor_hdr *t)
{
    char sb[192];
    int64_t n = pp_shape_numel(t->ndim, t->shape);
    fprintf(out, "%s%s", pp_dtype_name(t->dtype), pp_shape_str(t->ndim, t->shape, sb, sizeof sb));
    if (n == 0) {
        fprintf(out, "  (empty)");
        return;
    }
    const uint8_t *p = t->data;
    if (n == 1) {
        char b[48];
        fmt_elem(b, sizeof b, t->dtype, p, 0, false);
        fprintf(out, "  value %s", b);
        return;
    }
    if (t->dtype == PP_BOOL) {
        int64_t yes = 0;
        for (int64_t i = 0; i < n; i++) yes += p[i] != 0;
        fprintf(out, "  true %lld/%lld", (long long)yes, (long long)n);
        return;
    }
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    int64_t nan = 0, inf = 0, finite = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = elem_f64(t->dtype, p, (size_t)i);
        if (isnan(v)) { nan++; continue; }
        if (isinf(v)) { inf++; continue; }
        finite++;
        sum += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (finite) fprintf(out, "  min %.6g  mean %.6g  max %.6g", lo, sum / (double)finite, hi);
    if (nan) fprintf(out, "  nan %lld", (long long)nan);
    if (inf) fprintf(out, "  inf %lld", (long long)inf);
}

static void summary_node(FILE *out, const pp_node *n, pathbuf *pb, int width);

static void summary_line(FILE *out, const pp_node *n, pathbuf *pb, int width)
{
    char b[64];
    fprintf(out, "%-*s  ", width, pb->path);
    switch (n->type) {
    case PP_NODE_NIL: fprintf(out, "nil"); break;
    case PP_NODE_BOOL: case PP_NODE_INT: case PP_NODE_UINT: case PP_NODE_FLOAT:
        fmt_scalar(b, sizeof b, n, false);
        fprintf(out, "%-6s %s", pp_node_type_name((pp_node_type)n->type), b);
        break;
    case PP_NODE_STR: fprintf(out, "str    "); print_quoted(out, n->v.s.p, n->v.s.len, 72); break;
    case PP_NODE_BIN: fprintf(out, "bin    %zu bytes", n->v.s.len); break;
    case PP_NODE_EXT: fprintf(out, "ext    type %d, %zu bytes", n->ext_type, n->v.s.len); break;
    case PP_NODE_MAP: fprintf(out, "map    (empty)"); break;
    case PP_NODE_ARRAY:
        fprintf(out, "array  [");
        for (uint32_t i = 0; i < n->v.c.count && i < 16; i++) {
            const pp_node *e = n->v.c.items[i];
            if (e->type == PP_NODE_STR) print_quoted(out, e->v.s.p, e->v.s.len, 24);
            else if (is_scalar(e)) { fmt_scalar(b, sizeof b, e, false); fputs(b, out); }
            else fprintf(out, "%s", pp_node_type_name((pp_node_type)e->type));
            if (i + 1 < n->v.c.count) fputs(", ", out);
        }
        fprintf(out, "%s]", n->v.c.count > 16 ? "..." : "");
        if (n->v.c.count > 16) fprintf(out, " (%u elements)", n->v.c.count);
        break;
    case PP_NODE_TENSOR: fprintf(out, "tensor "); tensor_stats(out, n->v.t); break;
    }
    fputc('\n', out);
}

static void summary_node(FILE *out, const pp_node *n, pathbuf *pb, int width)
{
    if (n->type == PP_NODE_MAP && n->v.c.count > 0) {
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            size_t old = path_push(pb, n->v.c.items[i], -1);
            summary_node(out, n->v.c.items[i], pb, width);
            path_pop(pb, old);
        }
        return;
    }
    summary_line(out, n, pb, width);
    if (n->type == PP_NODE_ARRAY) /* nested maps, arrays and tensors get lines of their own */
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            const pp_node *e = n->v.c.items[i];
            if (is_scalar(e) || e->type == PP_NODE_STR) continue;
            size_t old = path_push(pb, e, (long)i);
            summary_node(out, e, pb, width);
            path_pop(pb, old);
        }
}

static void widest(const pp_node *n, pathbuf *pb, int *w)
{
    if (n->type == PP_NODE_MAP && n->v.c.count > 0) {
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            size_t old = path_push(pb, n->v.c.items[i], -1);
            widest(n->v.c.items[i], pb, w);
            path_pop(pb, old);
        }
        return;
    }
    if ((int)pb->len > *w) *w = (int)pb->len;
}

int pp_frame_print_summary(pp_frame *f, FILE *out)
{
    pathbuf pb = {.len = 0};
    int w = 0;
    widest(f->root, &pb, &w);
    if (w > 48) w = 48;
    if (f->root->v.c.count == 0) fprintf(out, "(empty frame)\n");
    else summary_node(out, f->root, &pb, w);
    return 0;
}

/* ---- field list ---- */
static void fields_node(FILE *out, const pp_node *n, pathbuf *pb)
{
    if (n->type == PP_NODE_MAP && n->v.c.count > 0) {
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            size_t old = path_push(pb, n->v.c.items[i], -1);
            fields_node(out, n->v.c.items[i], pb);
            path_pop(pb, old);
        }
        return;
    }
    fprintf(out, "%s\n", pb->path);
}

int pp_frame_print_fields(pp_frame *f, FILE *out)
{
    pathbuf pb = {.len = 0};
    if (f->root->v.c.count) fields_node(out, f->root, &pb);
    return 0;
}

/* ---- JSON ---- */
static void json_string(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') { fprintf(out, "\\%c", ch); i++; continue; }
        if (ch < 0x20) {
            const char *esc = ch == '\n' ? "\\n" : ch == '\t' ? "\\t" : ch == '\r' ? "\\r" : NULL;
            if (esc) fputs(esc, out);
            else fprintf(out, "\\u%04x", ch);
            i++;
            continue;
        }
        if (ch < 0x80) { fputc(ch, out); i++; continue; }
        /* Pass valid UTF-8 through; each invalid byte becomes U+FFFD. */
        size_t n = ch >= 0xf0 && ch <= 0xf4 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 && ch <= 0xdf ? 2 : 0;
        bool ok = n > 0 && i + n <= len && !(ch >= 0xe0 && n == 3 && ch > 0xef);
        for (size_t k = 1; ok && k < n; k++) ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && n == 3 && ((ch == 0xe0 && p[i + 1] < 0xa0) || (ch == 0xed && p[i + 1] >= 0xa0))) ok = false;
        if (ok && n == 4 && ((ch == 0xf0 && p[i + 1] < 0x90) || (ch == 0xf4 && p[i + 1] >= 0x90))) ok = false;
        if (ok) { fwrite(p + i, 1, n, out); i += n; }
        else { fputs("\\ufffd", out); i++; }
    }
    fputc('"', out);
}

static void json_base64(FILE *out, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(tab[v >> 18 & 63], out);
        fputc(tab[v >> 12 & 63], out);
        fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? tab[v & 63] : '=', out);
    }
    fputc('"', out);
}

static void json_tensor_dims(FILE *out, const pp_tensor_hdr *t, int dim, size_t *i)
{
    char b[48];
    if (dim == t->ndim) {
        fmt_elem(b, sizeof b, t->dtype, t->data, (*i)++, true);
        fputs(b, out);
        return;
    }
    fputc('[', out);
    for (int64_t k = 0; k < t->shape[dim]; k++) {
        if (k) fputc(',', out);
        json_tensor_dims(out, t, dim + 1, i);
    }
    fputc(']', out);
}

static void json_node(FILE *out, const pp_node *n, int flags)
{
    char b[64];
    switch (n->type) {
    case PP_NODE_NIL: case PP_NODE_BOOL: case PP_NODE_INT: case PP_NODE_UINT: case PP_NODE_FLOAT:
        fmt_scalar(b, sizeof b, n, true);
        fputs(b, out);
        break;
    case PP_NODE_STR: json_string(out, n->v.s.p, n->v.s.len); break;
    case PP_NODE_BIN: json_base64(out, (const uint8_t *)n->v.s.p, n->v.s.len); break;
    case PP_NODE_EXT:
        fprintf(out, "{\"ext\":%d,\"data\":", n->ext_type);
        json_base64(out, (const uint8_t *)n->v.s.p, n->v.s.len);
        fputc('}', out);
        break;
    case PP_NODE_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            if (i) fputc(',', out);
            json_node(out, n->v.c.items[i], flags);
        }
        fputc(']', out);
        break;
    case PP_NODE_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            const pp_node *e = n->v.c.items[i];
            if (i) fputc(',', out);
            json_string(out, e->key, e->keylen);
            fputc(':', out);
            json_node(out, e, flags);
        }
        fputc('}', out);
        break;
    case PP_NODE_TENSOR: {
        const pp_tensor_hdr *t = n->v.t;
        size_t i = 0;
        if (!(flags & PP_JSON_TENSOR_OBJECT)) {
            json_tensor_dims(out, t, 0, &i);
            break;
        }
        fprintf(out, "{\"dtype\":\"%s\",\"shape\":[", pp_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) fprintf(out, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        fputs("],\"data\":[", out);
        int64_t numel = pp_shape_numel(t->ndim, t->shape);
        for (int64_t k = 0; k < numel; k++) {
            if (k) fputc(',', out);
            fmt_elem(b, sizeof b, t->dtype, t->data, (size_t)k, true);
            fputs(b, out);
        }
        fputs("]}", out);
        break;
    }
    }
}

int pp_frame_print_json_opts(pp_frame *f, FILE *out, int flags)
{
    json_node(out, f->root, flags);
    fputc('\n', out);
    return 0;
}

int pp_frame_print_json(pp_frame *f, FILE *out) { return pp_frame_print_json_opts(f, out, 0); }

/* ---- CSV ---- */
typedef struct {
    const pp_node *n;
    int64_t rows, cols;
} csv_col;

static int csv_shape(pp_frame *f, const char *path, csv_col *c)
{
    c->n = pp_frame_get(f, path);
    if (!c->n) return pp_fail("missing field %s", path);
    c->rows = c->cols = 1;
    if (is_scalar(c->n) || c->n->type == PP_NODE_STR) return 0;
    if (c->n->type != PP_NODE_TENSOR)
        return pp_fail("field %s is %s: CSV takes numbers, strings and 0-, 1- or 2-D tensors", path,
                       pp_node_type_name((pp_node_type)c->n->type));
    const pp_tensor_hdr *t = c->n->v.t;
    if (t->ndim > 2) {
        char sb[192];
        return pp_fail("field %s is %s%s: CSV takes 0-, 1- or 2-D tensors", path, pp_dtype_name(t->dtype),
                       pp_shape_str(t->ndim, t->shape, sb, sizeof sb));
    }
    if (t->ndim >= 1) c->rows = t->shape[0];
    if (t->ndim == 2) c->cols = t->shape[1];
    return 0;
}

static const char *last_component(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

int pp_frame_print_csv(pp_frame *f, const char *const *fields, int nfields, bool header, FILE *out)
{
    enum { MAXF = 64 };
    csv_col cols[MAXF];
    if (nfields < 1 || nfields > MAXF) return pp_fail("CSV takes 1 to %d fields, got %d", MAXF, nfields);
    for (int k = 0; k < nfields; k++) {
        if (csv_shape(f, fields[k], &cols[k])) return -1;
        if (cols[k].rows != cols[0].rows)
            return pp_fail("fields %s and %s have different numbers of rows (%lld and %lld)", fields[0],
                           fields[k], (long long)cols[0].rows, (long long)cols[k].rows);
    }
    if (header) {
        bool clash = false; /* short names unless two fields end alike */
        for (int a = 0; a < nfields; a++)
            for (int b = a + 1; b < nfields; b++)
                clash |= strcmp(last_component(fields[a]), last_component(fields[b])) == 0;
        bool first = true;
        for (int k = 0; k < nfields; k++) {
            const char *name = clash ? fields[k] : last_component(fields[k]);
            bool matrix = cols[k].n->type == PP_NODE_TENSOR && cols[k].n->v.t->ndim == 2;
            for (int64_t j = 0; j < cols[k].cols; j++) {
                fputs(first ? "" : ",", out);
                first = false;
                if (matrix) fprintf(out, "%s%lld", name, (long long)j);
                else fputs(name, out);
            }
        }
        fputc('\n', out);
    }
    char b[64];
    for (int64_t r = 0; r < cols[0].rows; r++) {
        bool first = true;
        for (int k = 0; k < nfields; k++) {
            const pp_node *n = cols[k].n;
            for (int64_t j = 0; j < cols[k].cols; j++) {
                fputs(first ? "" : ",", out);
                first = false;
                if (n->type == PP_NODE_TENSOR) {
                    fmt_elem(b, sizeof b, n->v.t->dtype, n->v.t->data, (size_t)(r * cols[k].cols + j), false);
                    fputs(b, out);
                } else if (n->type == PP_NODE_STR) {
                    fputc('"', out);
                    for (size_t i = 0; i < n->v.s.len; i++) {
                        if (n->v.s.p[i] == '"') fputc('"', out);
                        fputc(n->v.s.p[i], out);
                    }
                    fputc('"', out);
                } else if (n->type == PP_NODE_BOOL) {
                    fputc(n->v.b ? '1' : '0', out);
                } else {
                    fmt_scalar(b, sizeof b, n, false);
                    fputs(b, out);
                }
            }
        }
        fputc('\n', out);
    }
    return 0;
}
