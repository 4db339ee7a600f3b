/* frame_impl.h - the inside of frames, shared by frame.c, frame_print.c,
 * stream.c and checkpoint.c. Not installed for users of the library. */
#ifndef PP_FRAME_IMPL_H
#define PP_FRAME_IMPL_H

#include "frame/frame.h"

/* A bump allocator of chunks. Reset keeps the chunks: the same sequence of
 * allocations after a reset needs no new memory. */
typedef struct {
    uint8_t *mem;
    size_t cap, used;
} pp_chunk;

typedef struct {
    pp_chunk *chunks;
    int n, cap, cur;
} pp_arena;

void *pp_arena_alloc(pp_arena *a, size_t size, size_t align);
void pp_arena_reset(pp_arena *a);
void pp_arena_release(pp_arena *a);

typedef struct {
    pp_dtype dtype;
    int ndim;
    int64_t shape[PP_MAX_DIMS];
    const void *data; /* into the input (unaligned) or the arena (64-aligned) */
} pp_tensor_hdr;

struct pp_node {
    uint8_t type;      /* pp_node_type */
    uint8_t changed;   /* raw is absent or stale: encode from the fields */
    int8_t ext_type;
    uint32_t keylen;   /* key in the parent map (not NUL-terminated) */
    const char *key;
    const uint8_t *raw; /* the node's original encoding, rawlen bytes */
    size_t rawlen;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct { const char *p; size_t len; } s;           /* str, bin, ext */
        struct { pp_node **items; uint32_t count, cap; } c; /* array, map */
        pp_tensor_hdr *t;
    } v;
};

struct pp_frame {
    pp_arena arena;
    pp_node *root;
};

/* Parse one value at data[0..len) into a new node of f's arena (used for
 * frame copies); error offsets are relative to base. */
int pp_frame_decode_node(pp_frame *f, const uint8_t *data, size_t len, size_t base, pp_node **out);
size_t pp_node_encoded_size(const pp_node *n);
uint8_t *pp_node_encode(const pp_node *n, uint8_t *p);

/* Write all of p[0..n) to fd, retrying EINTR; -1 with errno on failure. */
int pp_write_all(int fd, const uint8_t *p, size_t n);

#endif
