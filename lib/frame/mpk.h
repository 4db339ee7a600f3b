/* mpk.h - a small msgpack codec of our own: header reading, a bounded and
 * allocation-free "measure one object" scanner, and encoders.
 *
 * Why not msgpack-c's unpacker: it allocates zones sized by the lengths an
 * object declares (a 5-byte input can ask for gigabytes), it copies every
 * bin payload, and it cannot say at which byte or field an input went wrong.
 * parpi reads untrusted files and pipes, passes large parameter tensors
 * through every stage, and must report "byte N (field.path)": so it parses
 * msgpack itself. Nothing here allocates except pp_buf growth on encoding.
 */
#ifndef PP_MPK_H
#define PP_MPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PP_MPK_NIL = 0,
    PP_MPK_BOOL,
    PP_MPK_INT,     /* value in .i (fits int64) */
    PP_MPK_UINT,    /* value in .u, above INT64_MAX */
    PP_MPK_F32,     /* value in .f */
    PP_MPK_F64,     /* value in .f */
    PP_MPK_STR,     /* .len payload bytes follow the header */
    PP_MPK_BIN,
    PP_MPK_EXT,     /* .len payload bytes, type in .ext_type */
    PP_MPK_ARRAY,   /* .len elements follow */
    PP_MPK_MAP      /* .len key/value pairs follow */
} pp_mpk_kind;

typedef struct {
    pp_mpk_kind kind;
    size_t hdr;       /* bytes of the header (type byte, lengths, scalar value) */
    uint64_t len;     /* payload bytes (str/bin/ext) or element/entry count */
    int64_t i;
    uint64_t u;
    double f;
    bool b;
    int8_t ext_type;
} pp_mpk_head;

const char *pp_mpk_kind_name(pp_mpk_kind k);
/* What a first byte announces, for messages ("int", "map", ...); "invalid" for 0xc1. */
const char *pp_mpk_byte_name(uint8_t b);
/* Header size announced by a first byte (1..9; 0 for the invalid 0xc1). */
size_t pp_mpk_head_size(uint8_t b);

/* Read the header at p[0..avail). 1: read; 0: the header is incomplete;
 * -1: the reserved byte 0xc1. No bounds are checked on the payload. */
int pp_mpk_head_read(const uint8_t *p, size_t avail, pp_mpk_head *h);

/* Find where one msgpack object ends, feeding its bytes as they arrive.
 * Keeps only a position and a count of pending objects: no stack, no
 * allocation, any nesting depth (depth is checked by the decoder). */
typedef struct {
    uint64_t pos;      /* next header to read (may lie beyond the bytes fed) */
    uint64_t pending;  /* objects still to read */
    uint64_t need;     /* after 0: the object needs at least this many bytes */
} pp_mpk_scan;

void pp_mpk_scan_init(pp_mpk_scan *s);
/* buf[0..avail) is the object's beginning (avail only grows between calls).
 * 1: complete, length in s->pos; 0: needs more bytes (at least s->need in
 * all); -1: corrupt or larger than limit bytes, pp_fail("byte N: ...") with
 * N relative to buf. Each byte is examined once over all calls. */
int pp_mpk_scan_feed(pp_mpk_scan *s, const uint8_t *buf, size_t avail, size_t limit);

/* ---- encoding ---- */
/* Writers into a buffer the caller has sized (see pp_mpk_size_*). Each
 * returns the pointer after what it wrote. */
uint8_t *pp_mpk_put_nil(uint8_t *p);
uint8_t *pp_mpk_put_bool(uint8_t *p, bool v);
uint8_t *pp_mpk_put_int(uint8_t *p, int64_t v);
uint8_t *pp_mpk_put_uint(uint8_t *p, uint64_t v);
uint8_t *pp_mpk_put_f64(uint8_t *p, double v);
uint8_t *pp_mpk_put_str_hdr(uint8_t *p, uint64_t len);
uint8_t *pp_mpk_put_bin_hdr(uint8_t *p, uint64_t len);
uint8_t *pp_mpk_put_ext_hdr(uint8_t *p, int8_t type, uint64_t len);
uint8_t *pp_mpk_put_array_hdr(uint8_t *p, uint64_t n);
uint8_t *pp_mpk_put_map_hdr(uint8_t *p, uint64_t n);
uint8_t *pp_mpk_put_str(uint8_t *p, const void *s, size_t len);
uint8_t *pp_mpk_put_bin(uint8_t *p, const void *s, size_t len);

size_t pp_mpk_size_int(int64_t v);
size_t pp_mpk_size_uint(uint64_t v);
size_t pp_mpk_size_str_hdr(uint64_t len);
size_t pp_mpk_size_bin_hdr(uint64_t len);
size_t pp_mpk_size_ext_hdr(uint64_t len);
size_t pp_mpk_size_array_hdr(uint64_t n);
size_t pp_mpk_size_map_hdr(uint64_t n);

#endif
