/* frame_decode.c - msgpack bytes to a frame's node tree.
 *
 * Every length is checked against the bytes present before anything is
 * allocated, and every element takes at least one input byte, so a frame's
 * arena stays within a constant times the input size (about 80 bytes of
 * nodes per input byte in the worst case of an array of nils, about the input
 * size for real frames, whose bulk is tensor data that is never copied).
 * Errors say "byte N (field.path): what was found, what was expected".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"

typedef struct {
    const char *key; /* NULL: an array index */
    uint32_t keylen;
    uint64_t index;
} path_part;

typedef struct {
    pp_frame *f;
    const uint8_t *d;
    size_t len, base;
    int depth;
    path_part path[PP_MAX_DEPTH + 4];
} dec;

static void path_push_key(dec *c, const char *key, uint32_t len)
{
    c->path[c->depth].key = key;
    c->path[c->depth].keylen = len;
    c->depth++;
}

static void path_push_index(dec *c, uint64_t i)
{
    c->path[c->depth].key = NULL;
    c->path[c->depth].index = i;
    c->depth++;
}

static void path_format(const dec *c, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->depth && at + 1 < cap; i++) {
        const path_part *p = &c->path[i];
        if (!p->key) {
            at += (size_t)snprintf(buf + at, cap - at, "[%llu]", (unsigned long long)p->index);
            continue;
        }
        if (i > 0 && at + 1 < cap) buf[at++] = '.';
        for (uint32_t k = 0; k < p->keylen && k < 64 && at + 1 < cap; k++) {
            char ch = p->key[k];
            buf[at++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
        }
        buf[at] = '\0';
    }
    if (at >= cap) buf[cap - 1] = '\0';
}

static int dec_fail(dec *c, size_t at, const char *fmt, ...) PP_PRINTF(3, 4);
static int dec_fail(dec *c, size_t at, const char *fmt, ...)
{
    char msg[512], path[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    path_format(c, path, sizeof path);
    if (path[0])
        return pp_fail("byte %zu (%s): %s", c->base + at, path, msg);
    return pp_fail("byte %zu: %s", c->base + at, msg);
}

static size_t off(const dec *c, const pp_node *n) { return (size_t)(n->raw - c->d); }

static pp_node *new_node(dec *c)
{
    pp_node *n = pp_arena_alloc(&c->f->arena, sizeof *n, 8);
    memset(n, 0, sizeof *n);
    return n;
}

static int parse_value(dec *c, size_t *pos, pp_node *n, int level);

/* Fail about a tensor entry, with its key in the path. */
static int entry_fail(dec *c, const pp_node *e, const char *msg)
{
    path_push_key(c, e->key, e->keylen);
    dec_fail(c, off(c, e), "%s", msg);
    c->depth--;
    return -1;
}

static bool key_is(const pp_node *e, const char *k)
{
    size_t n = strlen(k);
    return e->keylen == n && memcmp(e->key, k, n) == 0;
}

static const char *type_name(const pp_node *n) { return pp_node_type_name((pp_node_type)n->type); }

/* Little-endian numpy scalar bytes to a number node. */
static void scalar_from_bytes(pp_node *n, pp_dtype dt, const uint8_t *p)
{
    switch (dt) {
    case PP_F32: { float v; memcpy(&v, p, 4); n->type = PP_NODE_FLOAT; n->v.f = v; break; }
    case PP_F64: { double v; memcpy(&v, p, 8); n->type = PP_NODE_FLOAT; n->v.f = v; break; }
    case PP_I32: { int32_t v; memcpy(&v, p, 4); n->type = PP_NODE_INT; n->v.i = v; break; }
    case PP_I64: { int64_t v; memcpy(&v, p, 8); n->type = PP_NODE_INT; n->v.i = v; break; }
    case PP_U8: n->type = PP_NODE_INT; n->v.i = p[0]; break;
    default: n->type = PP_NODE_BOOL; n->v.b = p[0] != 0; break;
    }
}

/* A map with an "nd" key: a msgpack-numpy array (nd true) or scalar (nd false). */
static int tensor_convert(dec *c, pp_node *n, size_t at)
{
    pp_node *nd = NULL, *type = NULL, *kind = NULL, *shape = NULL, *data = NULL;
    for (uint32_t i = 0; i < n->v.c.count; i++) {
        pp_node *e = n->v.c.items[i];
        pp_node **slot = key_is(e, "nd") ? &nd : key_is(e, "type") ? &type : key_is(e, "kind") ? &kind
                       : key_is(e, "shape") ? &shape : key_is(e, "data") ? &data : NULL;
        if (!slot)
            return entry_fail(c, e, "unexpected key in a tensor (expected nd, type, kind, shape, data)");
        if (*slot) return entry_fail(c, e, "key repeated in a tensor");
        *slot = e;
    }
    if (nd->type != PP_NODE_BOOL) {
        char m[96];
        snprintf(m, sizeof m, "expected true or false (the msgpack-numpy tensor marker), got %s", type_name(nd));
        return entry_fail(c, nd, m);
    }
    if (!type) return dec_fail(c, at, "tensor has no 'type' (expected a numpy type such as \"<f4\")");
    if (!data) return dec_fail(c, at, "tensor has no 'data'");
    pp_dtype dt;
    if (type->type != PP_NODE_STR && type->type != PP_NODE_BIN) return entry_fail(c, type, "expected a str such as \"<f4\"");
    if (pp_dtype_parse(type->v.s.p, type->v.s.len, &dt) != 0) {
        char m[160];
        snprintf(m, sizeof m, "unsupported dtype '%.*s', expected <f4, <f8, <i4, <i8, |u1 or |b1",
                 (int)(type->v.s.len > 16 ? 16 : type->v.s.len), type->v.s.p);
        return entry_fail(c, type, m);
    }
    if (kind) {
        if (kind->type != PP_NODE_STR && kind->type != PP_NODE_BIN) return entry_fail(c, kind, "expected a str or bin");
        if (kind->v.s.len == 1 && kind->v.s.p[0] == 'O')
            return entry_fail(c, kind, "kind 'O' (pickled Python objects) is refused: parpi never unpickles");
        if (kind->v.s.len != 0) {
            char m[96];
            snprintf(m, sizeof m, "kind '%.*s' is not supported (only plain numeric arrays, kind '')",
                     (int)(kind->v.s.len > 8 ? 8 : kind->v.s.len), kind->v.s.p);
            return entry_fail(c, kind, m);
        }
    }
    size_t isz = pp_dtype_size(dt);
    if (data->type != PP_NODE_BIN && data->type != PP_NODE_STR) return entry_fail(c, data, "expected bin (the array's bytes)");
    if (!nd->v.b) { /* numpy scalar: {nd: false, type, data} */
        if (data->v.s.len != isz) {
            char m[96];
            snprintf(m, sizeof m, "numpy scalar of type %s has %zu bytes, expected %zu", pp_dtype_numpy(dt),
                     data->v.s.len, isz);
            return entry_fail(c, data, m);
        }
        scalar_from_bytes(n, dt, (const uint8_t *)data->v.s.p);
        return 0;
    }
    if (!shape) return dec_fail(c, at, "tensor has no 'shape'");
    if (shape->type != PP_NODE_ARRAY) return entry_fail(c, shape, "expected an array of dimensions");
    if (shape->v.c.count > PP_MAX_DIMS) {
        char m[96];
        snprintf(m, sizeof m, "tensor has %u dimensions, at most %d are supported", shape->v.c.count, PP_MAX_DIMS);
        return entry_fail(c, shape, m);
    }
    pp_tensor_hdr *t = pp_arena_alloc(&c->f->arena, sizeof *t, 8);
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = (int)shape->v.c.count;
    for (int i = 0; i < t->ndim; i++) {
        pp_node *d = shape->v.c.items[i];
        if (d->type != PP_NODE_INT || d->v.i < 0) {
            char m[96];
            if (d->type == PP_NODE_INT) snprintf(m, sizeof m, "dimension %lld is negative", (long long)d->v.i);
            else snprintf(m, sizeof m, "expected a non-negative integer, got %s", type_name(d));
            path_push_key(c, shape->key, shape->keylen);
            path_push_index(c, (uint64_t)i);
            dec_fail(c, off(c, d), "%s", m);
            c->depth -= 2;
            return -1;
        }
        t->shape[i] = d->v.i;
    }
    char sb[192];
    int64_t numel = pp_shape_numel(t->ndim, t->shape);
    if (numel < 0 || (uint64_t)numel > (uint64_t)INT64_MAX / isz) {
        char m[256];
        snprintf(m, sizeof m, "shape %s has too many elements", pp_shape_str(t->ndim, t->shape, sb, sizeof sb));
        return entry_fail(c, shape, m);
    }
    if ((uint64_t)data->v.s.len != (uint64_t)numel * isz) {
        char m[320];
        snprintf(m, sizeof m, "data has %zu bytes, expected %llu for %s%s", data->v.s.len,
                 (unsigned long long)numel * isz, pp_dtype_name(dt),
                 pp_shape_str(t->ndim, t->shape, sb, sizeof sb));
        return entry_fail(c, data, m);
    }
    t->data = data->v.s.p;
    n->type = PP_NODE_TENSOR;
    n->v.t = t;
    return 0;
}

static int parse_value(dec *c, size_t *pos, pp_node *n, int level)
{
    size_t at = *pos;
    pp_mpk_head h;
    int r = pp_mpk_head_read(c->d + at, c->len - at, &h);
    if (r < 0) return dec_fail(c, at, "invalid msgpack byte 0xc1");
    if (r == 0) {
        if (at >= c->len) return dec_fail(c, at, "truncated: the input ends where a value should start");
        return dec_fail(c, at, "truncated: the input ends inside a %s header", pp_mpk_byte_name(c->d[at]));
    }
    size_t p = at + h.hdr, remain = c->len - p;
    n->raw = c->d + at;
    n->changed = 0;
    switch (h.kind) {
    case PP_MPK_NIL: n->type = PP_NODE_NIL; break;
    case PP_MPK_BOOL: n->type = PP_NODE_BOOL; n->v.b = h.b; break;
    case PP_MPK_INT: n->type = PP_NODE_INT; n->v.i = h.i; break;
    case PP_MPK_UINT: n->type = PP_NODE_UINT; n->v.u = h.u; break;
    case PP_MPK_F32: case PP_MPK_F64: n->type = PP_NODE_FLOAT; n->v.f = h.f; break;
    case PP_MPK_STR: case PP_MPK_BIN: case PP_MPK_EXT:
        if (h.len > remain)
            return dec_fail(c, at, "%s of %llu bytes, but only %zu bytes remain", pp_mpk_kind_name(h.kind),
                            (unsigned long long)h.len, remain);
        n->type = h.kind == PP_MPK_STR ? PP_NODE_STR : h.kind == PP_MPK_BIN ? PP_NODE_BIN : PP_NODE_EXT;
        n->ext_type = h.ext_type;
        n->v.s.p = (const char *)c->d + p;
        n->v.s.len = (size_t)h.len;
        p += (size_t)h.len;
        break;
    case PP_MPK_ARRAY: case PP_MPK_MAP: {
        bool is_map = h.kind == PP_MPK_MAP;
        if (level > PP_MAX_DEPTH) return dec_fail(c, at, "nested deeper than %d levels", PP_MAX_DEPTH);
        if (h.len > (is_map ? remain / 2 : remain))
            return dec_fail(c, at, "%s of %llu %s, but only %zu bytes remain", pp_mpk_kind_name(h.kind),
                            (unsigned long long)h.len, is_map ? "entries" : "elements", remain);
        n->type = is_map ? PP_NODE_MAP : PP_NODE_ARRAY;
        uint32_t count = (uint32_t)h.len;
        n->v.c.count = n->v.c.cap = count;
        n->v.c.items = count ? pp_arena_alloc(&c->f->arena, count * sizeof(pp_node *), 8) : NULL;
        size_t first_bin_key = SIZE_MAX;
        bool has_nd = false;
        for (uint32_t i = 0; i < count; i++) {
            pp_node *child = new_node(c);
            n->v.c.items[i] = child;
            if (!is_map) {
                path_push_index(c, i);
                int rc = parse_value(c, &p, child, level + 1);
                c->depth--;
                if (rc) return -1;
                continue;
            }
            pp_mpk_head k;
            int kr = pp_mpk_head_read(c->d + p, c->len - p, &k);
            if (kr < 0) return dec_fail(c, p, "invalid msgpack byte 0xc1");
            if (kr == 0) {
                if (p >= c->len) return dec_fail(c, p, "truncated: the input ends where a map key should start");
                return dec_fail(c, p, "truncated: the input ends inside a map key header");
            }
            if (k.kind != PP_MPK_STR && k.kind != PP_MPK_BIN)
                return dec_fail(c, p, "map key is %s, expected str", pp_mpk_kind_name(k.kind));
            if (k.len > c->len - p - k.hdr)
                return dec_fail(c, p, "map key of %llu bytes, but only %zu bytes remain",
                                (unsigned long long)k.len, c->len - p - k.hdr);
            if (k.kind == PP_MPK_BIN && first_bin_key == SIZE_MAX) first_bin_key = p;
            child->key = (const char *)c->d + p + k.hdr;
            child->keylen = (uint32_t)k.len;
            if (k.len == 2 && memcmp(child->key, "nd", 2) == 0) has_nd = true;
            p += k.hdr + (size_t)k.len;
            path_push_key(c, child->key, child->keylen);
            int rc = parse_value(c, &p, child, level + 1);
            c->depth--;
            if (rc) return -1;
        }
        n->rawlen = p - at;
        if (has_nd) {
            if (tensor_convert(c, n, at)) return -1;
        } else if (first_bin_key != SIZE_MAX) {
            return dec_fail(c, first_bin_key, "map key is bin, expected str (bin keys only in tensors)");
        }
        break;
    }
    }
    n->rawlen = p - at;
    *pos = p;
    return 0;
}

int pp_frame_decode_node(pp_frame *f, const uint8_t *data, size_t len, size_t base, pp_node **out)
{
    dec c = {.f = f, .d = data, .len = len, .base = base};
    pp_node *n = new_node(&c);
    size_t pos = 0;
    if (parse_value(&c, &pos, n, 1)) return -1;
    if (pos != len) return dec_fail(&c, pos, "%zu bytes of trailing data after the value", len - pos);
    *out = n;
    return 0;
}

int pp_frame_decode(pp_frame *f, const uint8_t *data, size_t len, size_t base_offset)
{
    pp_frame_clear(f);
    dec c = {.f = f, .d = data, .len = len, .base = base_offset};
    if (len == 0) return dec_fail(&c, 0, "empty input, expected a frame (a msgpack map)");
    pp_mpk_head h;
    int r = pp_mpk_head_read(data, len, &h);
    if (r > 0 && h.kind != PP_MPK_MAP)
        return dec_fail(&c, 0, "a frame must be a map, got %s", pp_mpk_kind_name(h.kind));
    pp_node *n = new_node(&c);
    size_t pos = 0;
    if (parse_value(&c, &pos, n, 1)) {
        pp_frame_clear(f);
        return -1;
    }
    if (n->type != PP_NODE_MAP) {
        pp_frame_clear(f);
        return dec_fail(&c, 0, "a frame must be a map of fields, got a %s", pp_node_type_name((pp_node_type)n->type));
    }
    if (pos != len) {
        pp_frame_clear(f);
        return dec_fail(&c, pos, "%zu bytes of trailing data after the frame", len - pos);
    }
    f->root = n;
    return 0;
}
