/* frame.c - the frame tree: arena, paths, getters and setters, encoding.
 *
 * Nodes parsed from input keep their original bytes (raw); encoding copies
 * every unchanged node's raw bytes with one memcpy, so fields a stage does
 * not touch pass through byte for byte and a 1 MB parameter tensor costs one
 * copy. Setters mark the nodes along their path as changed; only those are
 * re-encoded.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"

/* ---- arena ---- */
void *pp_arena_alloc(pp_arena *a, size_t size, size_t align)
{
    for (; a->cur < a->n; a->cur++) {
        pp_chunk *c = &a->chunks[a->cur];
        size_t at = (c->used + align - 1) & ~(align - 1);
        if (at <= c->cap && size <= c->cap - at) {
            c->used = at + size;
            return c->mem + at;
        }
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->chunks = pp_xrealloc(a->chunks, (size_t)a->cap * sizeof *a->chunks);
    }
    size_t cap = a->n ? 2 * a->chunks[a->n - 1].cap : (size_t)16 << 10;
    if (cap > ((size_t)64 << 20)) cap = (size_t)64 << 20;
    if (cap < size + align) cap = size + align;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, cap) != 0) {
        pp_die(PP_EXIT_FAILURE, "out of memory allocating %zu bytes for a frame", cap);
    }
    pp_chunk *c = &a->chunks[a->n];
    c->mem = mem;
    c->cap = cap;
    c->used = size; /* mem is 64-aligned, so offset 0 suits any align <= 64 */
    a->cur = a->n++;
    return c->mem;
}

void pp_arena_reset(pp_arena *a)
{
    for (int i = 0; i < a->n; i++) a->chunks[i].used = 0;
    a->cur = 0;
}

void pp_arena_release(pp_arena *a)
{
    for (int i = 0; i < a->n; i++) free(a->chunks[i].mem);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

/* ---- frames ---- */
static pp_node *node_new(pp_frame *f, pp_node_type type)
{
    pp_node *n = pp_arena_alloc(&f->arena, sizeof *n, 8);
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->changed = 1;
    return n;
}

pp_frame *pp_frame_new(void)
{
    pp_frame *f = pp_xcalloc(1, sizeof *f);
    pp_frame_clear(f);
    return f;
}

void pp_frame_free(pp_frame *f)
{
    if (!f) return;
    pp_arena_release(&f->arena);
    free(f);
}

void pp_frame_clear(pp_frame *f)
{
    pp_arena_reset(&f->arena);
    f->root = node_new(f, PP_NODE_MAP);
}

pp_node *pp_frame_root(pp_frame *f) { return f->root; }

pp_node_type pp_node_type_of(const pp_node *n) { return n ? (pp_node_type)n->type : PP_NODE_NIL; }

const char *pp_node_type_name(pp_node_type t)
{
    static const char *const names[] = {"nil", "bool", "int", "int", "float", "str",
                                        "bin", "ext", "array", "map", "tensor"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

/* ---- paths ---- */
static pp_node *map_find(const pp_node *map, const char *key, size_t len, uint32_t *index)
{
    for (uint32_t i = 0; i < map->v.c.count; i++) {
        pp_node *e = map->v.c.items[i];
        if (e->keylen == len && memcmp(e->key, key, len) == 0) {
            if (index) *index = i;
            return e;
        }
    }
    return NULL;
}

static pp_node *lookup(pp_frame *f, const char *path)
{
    pp_node *n = f->root;
    if (!path || !*path) return n;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (n->type != PP_NODE_MAP) return NULL;
        n = map_find(n, p, len, NULL);
        if (!n || !dot) return n;
        p = dot + 1;
    }
}

pp_node *pp_frame_get(pp_frame *f, const char *path) { return lookup(f, path); }

static void map_append(pp_frame *f, pp_node *map, pp_node *child)
{
    if (map->v.c.count == map->v.c.cap) {
        uint32_t cap = map->v.c.cap ? 2 * map->v.c.cap : 8;
        pp_node **items = pp_arena_alloc(&f->arena, cap * sizeof *items, 8);
        if (map->v.c.count) memcpy(items, map->v.c.items, map->v.c.count * sizeof *items);
        map->v.c.items = items;
        map->v.c.cap = cap;
    }
    map->v.c.items[map->v.c.count++] = child;
}

static const char *arena_strdup(pp_frame *f, const char *s, size_t len)
{
    char *d = pp_arena_alloc(&f->arena, len + 1, 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* The node at path, created (as nil) if absent, with every map on the way
 * marked changed. Existing leaf: returned as is, marked changed, raw dropped. */
static pp_node *node_for_set(pp_frame *f, const char *path)
{
    if (!path || !*path) {
        pp_fail("empty field path");
        return NULL;
    }
    int parts = 1;
    for (const char *q = path; *q; q++) parts += *q == '.';
    if (parts >= PP_MAX_DEPTH) { /* readers refuse deeper nesting */
        pp_fail("field path %s has %d components, at most %d", path, parts, PP_MAX_DEPTH - 1);
        return NULL;
    }
    pp_node *n = f->root;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > UINT32_MAX) {
            pp_fail("field path '%s' has an empty component", path);
            return NULL;
        }
        if (n->type != PP_NODE_MAP) {
            pp_fail("setting %s: %.*s is %s, expected a map", path, (int)(p - 1 - path), path,
                    pp_node_type_name((pp_node_type)n->type));
            return NULL;
        }
        n->changed = 1;
        pp_node *child = map_find(n, p, len, NULL);
        if (!child) {
            child = node_new(f, dot ? PP_NODE_MAP : PP_NODE_NIL);
            child->key = arena_strdup(f, p, len);
            child->keylen = (uint32_t)len;
            map_append(f, n, child);
        }
        if (!dot) {
            child->changed = 1;
            child->raw = NULL;
            child->rawlen = 0;
            return child;
        }
        n = child;
        p = dot + 1;
    }
}

/* ---- getters ---- */
static int get_typed(pp_frame *f, const char *path, pp_node **out)
{
    *out = lookup(f, path);
    if (!*out) return pp_fail("missing field %s", path);
    return 0;
}

/* A one-element tensor read as a number (Python writes np.float32 scalars as
 * 0-d or 1-element arrays easily). */
static int tensor_scalar(const pp_node *n, double *d, int64_t *i, bool *is_int)
{
    const pp_tensor_hdr *t = n->v.t;
    if (pp_shape_numel(t->ndim, t->shape) != 1) return -1;
    const uint8_t *p = t->data;
    *is_int = true;
    switch (t->dtype) {
    case PP_F32: { float v; memcpy(&v, p, 4); *d = v; *is_int = false; break; }
    case PP_F64: { memcpy(d, p, 8); *is_int = false; break; }
    case PP_I32: { int32_t v; memcpy(&v, p, 4); *i = v; break; }
    case PP_I64: memcpy(i, p, 8); break;
    default: *i = p[0]; break;
    }
    if (*is_int) *d = (double)*i;
    return 0;
}

int pp_node_as_f64(const pp_node *n, double *out)
{
    int64_t i;
    bool is_int;
    switch (n ? n->type : PP_NODE_NIL) {
    case PP_NODE_INT: *out = (double)n->v.i; return 0;
    case PP_NODE_UINT: *out = (double)n->v.u; return 0;
    case PP_NODE_FLOAT: *out = n->v.f; return 0;
    case PP_NODE_BOOL: *out = n->v.b; return 0;
    case PP_NODE_TENSOR: return tensor_scalar(n, out, &i, &is_int);
    default: return -1;
    }
}

int pp_frame_get_f64(pp_frame *f, const char *path, double *out)
{
    pp_node *n;
    if (get_typed(f, path, &n)) return -1;
    if (n->type == PP_NODE_BOOL || pp_node_as_f64(n, out) != 0)
        return pp_fail("field %s is %s, expected a number", path, pp_node_type_name((pp_node_type)n->type));
    return 0;
}

int pp_frame_get_i64(pp_frame *f, const char *path, int64_t *out)
{
    pp_node *n;
    if (get_typed(f, path, &n)) return -1;
    if (n->type == PP_NODE_INT) {
        *out = n->v.i;
        return 0;
    }
    if (n->type == PP_NODE_UINT) return pp_fail("field %s is %llu, too large for a signed 64-bit integer", path,
                                                (unsigned long long)n->v.u);
    double d;
    bool is_int;
    if (n->type == PP_NODE_TENSOR && tensor_scalar(n, &d, out, &is_int) == 0 && is_int) return 0;
    return pp_fail("field %s is %s, expected an integer", path, pp_node_type_name((pp_node_type)n->type));
}

int pp_frame_get_str(pp_frame *f, const char *path, const char **s, size_t *len)
{
    pp_node *n;
    if (get_typed(f, path, &n)) return -1;
    if (n->type != PP_NODE_STR)
        return pp_fail("field %s is %s, expected a str", path, pp_node_type_name((pp_node_type)n->type));
    *s = n->v.s.p;
    if (len) *len = n->v.s.len;
    return 0;
}

int pp_node_tensor(const pp_node *n, pp_dtype *dtype, int *ndim, int64_t shape[PP_MAX_DIMS], const void **data)
{
    if (!n || n->type != PP_NODE_TENSOR) return -1;
    const pp_tensor_hdr *t = n->v.t;
    if (dtype) *dtype = t->dtype;
    if (ndim) *ndim = t->ndim;
    if (shape) for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    if (data) *data = t->data;
    return 0;
}

int pp_frame_get_tensor_info(pp_frame *f, const char *path, pp_dtype *dtype, int *ndim, int64_t shape[PP_MAX_DIMS])
{
    pp_node *n;
    if (get_typed(f, path, &n)) return -1;
    if (n->type != PP_NODE_TENSOR)
        return pp_fail("field %s is %s, expected a tensor", path, pp_node_type_name((pp_node_type)n->type));
    return pp_node_tensor(n, dtype, ndim, shape, NULL);
}

int pp_frame_read_tensor(pp_frame *f, const char *path, pp_dtype dtype, int ndim, const int64_t *expected_shape,
                         void *dst, int64_t *got_shape)
{
    pp_node *n;
    if (get_typed(f, path, &n)) return -1;
    if (n->type != PP_NODE_TENSOR)
        return pp_fail("field %s is %s, expected a tensor %s", path, pp_node_type_name((pp_node_type)n->type),
                       pp_dtype_name(dtype));
    const pp_tensor_hdr *t = n->v.t;
    bool ok = t->dtype == dtype && t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        if (expected_shape[i] >= 0 && expected_shape[i] != t->shape[i]) ok = false;
    if (!ok) {
        char a[160], b[160];
        return pp_fail("%s is %s%s, expected %s%s", path, pp_dtype_name(t->dtype),
                       pp_shape_str(t->ndim, t->shape, a, sizeof a), pp_dtype_name(dtype),
                       pp_shape_str(ndim, expected_shape, b, sizeof b));
    }
    if (got_shape) for (int i = 0; i < ndim; i++) got_shape[i] = t->shape[i];
    size_t bytes = (size_t)pp_shape_numel(t->ndim, t->shape) * pp_dtype_size(t->dtype);
    if (bytes) memcpy(dst, t->data, bytes);
    return 0;
}

/* ---- setters ---- */
int pp_frame_set_f64(pp_frame *f, const char *path, double v)
{
    pp_node *n = node_for_set(f, path);
    if (!n) return -1;
    n->type = PP_NODE_FLOAT;
    n->v.f = v;
    return 0;
}

int pp_frame_set_i64(pp_frame *f, const char *path, int64_t v)
{
    pp_node *n = node_for_set(f, path);
    if (!n) return -1;
    n->type = PP_NODE_INT;
    n->v.i = v;
    return 0;
}

int pp_frame_set_bool(pp_frame *f, const char *path, bool v)
{
    pp_node *n = node_for_set(f, path);
    if (!n) return -1;
    n->type = PP_NODE_BOOL;
    n->v.b = v;
    return 0;
}

int pp_frame_set_str(pp_frame *f, const char *path, const char *s)
{
    size_t len = strlen(s);
    if (len > UINT32_MAX) return pp_fail("setting %s: string of %zu bytes is too long", path, len);
    pp_node *n = node_for_set(f, path);
    if (!n) return -1;
    n->type = PP_NODE_STR;
    n->v.s.p = arena_strdup(f, s, len);
    n->v.s.len = len;
    return 0;
}

void *pp_frame_put_tensor_uninit(pp_frame *f, const char *path, pp_dtype dtype, int ndim, const int64_t *shape)
{
    char sb[192];
    if ((unsigned)dtype >= PP_DTYPE_COUNT) {
        pp_fail("setting %s: unknown dtype %d", path, (int)dtype);
        return NULL;
    }
    if (ndim < 0 || ndim > PP_MAX_DIMS) {
        pp_fail("setting %s: %d dimensions, expected 0 to %d", path, ndim, PP_MAX_DIMS);
        return NULL;
    }
    int64_t numel = pp_shape_numel(ndim, shape);
    size_t isz = pp_dtype_size(dtype);
    if (numel < 0 || (uint64_t)numel > UINT32_MAX / isz) { /* msgpack bin holds at most 4 GiB */
        pp_fail("setting %s: shape %s is negative or larger than msgpack's 4 GiB bin", path,
                pp_shape_str(ndim, shape, sb, sizeof sb));
        return NULL;
    }
    pp_node *n = node_for_set(f, path);
    if (!n) return NULL;
    size_t bytes = (size_t)numel * isz;
    pp_tensor_hdr *t = pp_arena_alloc(&f->arena, sizeof *t, 8);
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    void *data = pp_arena_alloc(&f->arena, bytes ? bytes : 1, 64);
    memset(data, 0, bytes);
    t->data = data;
    n->type = PP_NODE_TENSOR;
    n->v.t = t;
    return data;
}

int pp_frame_put_tensor(pp_frame *f, const char *path, pp_dtype dtype, int ndim, const int64_t *shape,
                        const void *data)
{
    void *dst = pp_frame_put_tensor_uninit(f, path, dtype, ndim, shape);
    if (!dst) return -1;
    size_t bytes = (size_t)pp_shape_numel(ndim, shape) * pp_dtype_size(dtype);
    if (bytes) memcpy(dst, data, bytes);
    return 0;
}

int pp_frame_remove(pp_frame *f, const char *path)
{
    if (!path || !*path) return pp_fail("empty field path");
    const char *last = strrchr(path, '.');
    pp_node *parent = f->root;
    if (last) {
        char buf[512];
        size_t plen = (size_t)(last - path);
        if (plen >= sizeof buf) return pp_fail("field path %s is too long", path);
        memcpy(buf, path, plen);
        buf[plen] = '\0';
        parent = lookup(f, buf);
        if (!parent || parent->type != PP_NODE_MAP) return 0;
    }
    const char *key = last ? last + 1 : path;
    uint32_t idx;
    if (!map_find(parent, key, strlen(key), &idx)) return 0;
    memmove(&parent->v.c.items[idx], &parent->v.c.items[idx + 1],
            (parent->v.c.count - idx - 1) * sizeof(pp_node *));
    parent->v.c.count--;
    /* Mark the maps along the path as changed. */
    pp_node *n = f->root;
    n->changed = 1;
    for (const char *p = path; last && p <= last;) {
        const char *dot = strchr(p, '.');
        n = map_find(n, p, (size_t)(dot - p), NULL);
        n->changed = 1;
        p = dot + 1;
    }
    return 0;
}

int pp_frame_copy(pp_frame *dst, const char *dst_path, pp_frame *src, const char *src_path)
{
    pp_node *s = lookup(src, src_path);
    if (!s) return pp_fail("copying: missing field %s", src_path ? src_path : "(root)");
    size_t size = pp_node_encoded_size(s);
    if (size == SIZE_MAX) return -1;
    uint8_t *bytes = pp_arena_alloc(&dst->arena, size ? size : 1, 8);
    pp_node_encode(s, bytes);
    pp_node *copy;
    if (pp_frame_decode_node(dst, bytes, size, 0, &copy)) return pp_fail_prefix("copying %s: ", src_path);
    if (!dst_path || !*dst_path) {
        if (copy->type != PP_NODE_MAP) return pp_fail("copying %s: the root must be a map", src_path);
        dst->root = copy;
        return 0;
    }
    pp_node *n = node_for_set(dst, dst_path);
    if (!n) return -1;
    const char *key = n->key;
    uint32_t keylen = n->keylen;
    *n = *copy;
    n->key = key;
    n->keylen = keylen;
    return 0;
}

/* ---- node access ---- */
int pp_node_map_next(const pp_node *map, int idx, const char **key, size_t *keylen, pp_node **value)
{
    if (!map || map->type != PP_NODE_MAP || idx < 0 || (uint32_t)idx >= map->v.c.count) return -1;
    pp_node *e = map->v.c.items[idx];
    if (key) *key = e->key;
    if (keylen) *keylen = e->keylen;
    if (value) *value = e;
    return idx + 1;
}

size_t pp_node_len(const pp_node *n)
{
    if (!n) return 0;
    switch (n->type) {
    case PP_NODE_MAP: case PP_NODE_ARRAY: return n->v.c.count;
    case PP_NODE_STR: case PP_NODE_BIN: case PP_NODE_EXT: return n->v.s.len;
    default: return 0;
    }
}

pp_node *pp_node_array_at(const pp_node *arr, size_t i)
{
    if (!arr || arr->type != PP_NODE_ARRAY || i >= arr->v.c.count) return NULL;
    return arr->v.c.items[i];
}

const char *pp_node_bytes(const pp_node *n, size_t *len)
{
    if (!n || (n->type != PP_NODE_STR && n->type != PP_NODE_BIN && n->type != PP_NODE_EXT)) return NULL;
    if (len) *len = n->v.s.len;
    return n->v.s.p;
}

/* ---- encoding ---- */
static const char *const tensor_keys[5] = {"nd", "type", "kind", "shape", "data"};

size_t pp_tensor_head_encode(uint8_t *buf, pp_dtype dtype, int ndim, const int64_t *shape)
{
    /* The msgpack-numpy layout: keys as bin (msgpack-numpy 0.4.8 ignores
     * str keys), type as str, kind as bin "". */
    size_t bytes = (size_t)pp_shape_numel(ndim, shape) * pp_dtype_size(dtype);
    uint8_t *p = pp_mpk_put_map_hdr(buf, 5);
    p = pp_mpk_put_bin(p, tensor_keys[0], 2);
    p = pp_mpk_put_bool(p, true);
    p = pp_mpk_put_bin(p, tensor_keys[1], 4);
    p = pp_mpk_put_str(p, pp_dtype_numpy(dtype), 3);
    p = pp_mpk_put_bin(p, tensor_keys[2], 4);
    p = pp_mpk_put_bin(p, "", 0);
    p = pp_mpk_put_bin(p, tensor_keys[3], 5);
    p = pp_mpk_put_array_hdr(p, (uint64_t)ndim);
    for (int i = 0; i < ndim; i++) p = pp_mpk_put_int(p, shape[i]);
    p = pp_mpk_put_bin(p, tensor_keys[4], 4);
    p = pp_mpk_put_bin_hdr(p, bytes);
    return (size_t)(p - buf);
}

/* SIZE_MAX (with pp_fail) if something cannot be encoded in msgpack. */
size_t pp_node_encoded_size(const pp_node *n)
{
    if (n->raw && !n->changed) return n->rawlen;
    switch (n->type) {
    case PP_NODE_NIL: case PP_NODE_BOOL: return 1;
    case PP_NODE_INT: return pp_mpk_size_int(n->v.i);
    case PP_NODE_UINT: return pp_mpk_size_uint(n->v.u);
    case PP_NODE_FLOAT: return 9;
    case PP_NODE_STR: case PP_NODE_BIN: case PP_NODE_EXT:
        if (n->v.s.len > UINT32_MAX) break;
        return (n->type == PP_NODE_STR   ? pp_mpk_size_str_hdr(n->v.s.len)
                : n->type == PP_NODE_BIN ? pp_mpk_size_bin_hdr(n->v.s.len)
                                         : pp_mpk_size_ext_hdr(n->v.s.len)) + n->v.s.len;
    case PP_NODE_ARRAY: case PP_NODE_MAP: {
        size_t s = pp_mpk_size_map_hdr(n->v.c.count);
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            const pp_node *e = n->v.c.items[i];
            if (n->type == PP_NODE_MAP) s += pp_mpk_size_str_hdr(e->keylen) + e->keylen;
            size_t es = pp_node_encoded_size(e);
            if (es == SIZE_MAX) return SIZE_MAX;
            s += es;
        }
        return s;
    }
    case PP_NODE_TENSOR: {
        const pp_tensor_hdr *t = n->v.t;
        size_t bytes = (size_t)pp_shape_numel(t->ndim, t->shape) * pp_dtype_size(t->dtype);
        /* map(1) + five bin keys (10 + 19) + true(1) + "<f4"(4) + bin ""(2) */
        size_t s = 37 + pp_mpk_size_array_hdr((uint64_t)t->ndim);
        for (int i = 0; i < t->ndim; i++) s += pp_mpk_size_int(t->shape[i]);
        return s + pp_mpk_size_bin_hdr(bytes) + bytes;
    }
    }
    pp_fail("a value of %zu bytes is too large for msgpack", n->v.s.len);
    return SIZE_MAX;
}

uint8_t *pp_node_encode(const pp_node *n, uint8_t *p)
{
    if (n->raw && !n->changed) {
        memcpy(p, n->raw, n->rawlen);
        return p + n->rawlen;
    }
    switch (n->type) {
    case PP_NODE_NIL: return pp_mpk_put_nil(p);
    case PP_NODE_BOOL: return pp_mpk_put_bool(p, n->v.b);
    case PP_NODE_INT: return pp_mpk_put_int(p, n->v.i);
    case PP_NODE_UINT: return pp_mpk_put_uint(p, n->v.u);
    case PP_NODE_FLOAT: return pp_mpk_put_f64(p, n->v.f);
    case PP_NODE_STR: return pp_mpk_put_str(p, n->v.s.p, n->v.s.len);
    case PP_NODE_BIN: return pp_mpk_put_bin(p, n->v.s.p, n->v.s.len);
    case PP_NODE_EXT:
        p = pp_mpk_put_ext_hdr(p, n->ext_type, n->v.s.len);
        memcpy(p, n->v.s.p, n->v.s.len);
        return p + n->v.s.len;
    case PP_NODE_ARRAY: case PP_NODE_MAP:
        p = n->type == PP_NODE_MAP ? pp_mpk_put_map_hdr(p, n->v.c.count) : pp_mpk_put_array_hdr(p, n->v.c.count);
        for (uint32_t i = 0; i < n->v.c.count; i++) {
            const pp_node *e = n->v.c.items[i];
            if (n->type == PP_NODE_MAP) p = pp_mpk_put_str(p, e->key, e->keylen);
            p = pp_node_encode(e, p);
        }
        return p;
    case PP_NODE_TENSOR: {
        const pp_tensor_hdr *t = n->v.t;
        size_t bytes = (size_t)pp_shape_numel(t->ndim, t->shape) * pp_dtype_size(t->dtype);
        p += pp_tensor_head_encode(p, t->dtype, t->ndim, t->shape);
        memcpy(p, t->data, bytes);
        return p + bytes;
    }
    }
    return p;
}

int pp_frame_encode(pp_frame *f, uint8_t **buf, size_t *cap, size_t *len)
{
    size_t size = pp_node_encoded_size(f->root);
    if (size == SIZE_MAX) return -1;
    if (*cap < size || !*buf) {
        size_t c = *cap ? *cap : 4096;
        while (c < size) c *= 2;
        free(*buf);
        *buf = pp_xmalloc(c);
        *cap = c;
    }
    uint8_t *end = pp_node_encode(f->root, *buf);
    *len = (size_t)(end - *buf);
    if (*len != size) pp_die(PP_EXIT_FAILURE, "internal error: frame encoded to %zu bytes, sized %zu", *len, size);
    return 0;
}

int pp_frame_remove_list(pp_frame *f, const char *list)
{
    char path[256];
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n >= sizeof path) return pp_fail("field path '%.*s...' is too long", 40, list);
        if (n > 0) {
            memcpy(path, list, n);
            path[n] = '\0';
            if (pp_frame_remove(f, path) != 0) return -1;
        }
        list += n;
        if (*list == ',') list++;
    }
    return 0;
}
