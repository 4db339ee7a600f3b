/* mpk.c - msgpack headers, the measuring scanner and encoders (see mpk.h for
 * why parpi does not use msgpack-c's unpacker). */
#include "frame/mpk.h"

#include <string.h>

#include "base/err.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

const char *pp_mpk_kind_name(pp_mpk_kind k)
{
    static const char *const names[] = {"nil", "bool", "int", "int", "float", "float",
                                        "str", "bin", "ext", "array", "map"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

size_t pp_mpk_head_size(uint8_t b)
{
    if (b <= 0xbf || b >= 0xe0) return 1; /* fixint, fixmap, fixarray, fixstr, negfixint */
    switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return 1;
    case 0xc1: return 0;
    case 0xc4: case 0xd9: return 2;          /* bin8, str8 */
    case 0xc5: case 0xda: case 0xdc: case 0xde: return 3; /* 16-bit lengths */
    case 0xc6: case 0xdb: case 0xdd: case 0xdf: return 5; /* 32-bit lengths */
    case 0xc7: return 3;                     /* ext8: len, type */
    case 0xc8: return 4;
    case 0xc9: return 6;
    case 0xca: return 5;
    case 0xcb: return 9;
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: return 3;
    case 0xce: case 0xd2: return 5;
    case 0xcf: case 0xd3: return 9;
    default: return 2;                       /* 0xd4..0xd8 fixext: type byte */
    }
}

const char *pp_mpk_byte_name(uint8_t b)
{
    if (b == 0xc1) return "the reserved byte 0xc1";
    pp_mpk_head h;
    uint8_t tmp[9] = {b};
    pp_mpk_head_read(tmp, sizeof tmp, &h);
    return pp_mpk_kind_name(h.kind);
}

int pp_mpk_head_read(const uint8_t *p, size_t avail, pp_mpk_head *h)
{
    if (avail == 0) return 0;
    uint8_t b = p[0];
    size_t need = pp_mpk_head_size(b);
    if (need == 0) return -1;
    if (avail < need) return 0;
    memset(h, 0, sizeof *h);
    h->hdr = need;
    if (b <= 0x7f) { h->kind = PP_MPK_INT; h->i = b; return 1; }
    if (b >= 0xe0) { h->kind = PP_MPK_INT; h->i = (int8_t)b; return 1; }
    if (b <= 0x8f) { h->kind = PP_MPK_MAP; h->len = b & 0x0f; return 1; }
    if (b <= 0x9f) { h->kind = PP_MPK_ARRAY; h->len = b & 0x0f; return 1; }
    if (b <= 0xbf) { h->kind = PP_MPK_STR; h->len = b & 0x1f; return 1; }
    switch (b) {
    case 0xc0: h->kind = PP_MPK_NIL; break;
    case 0xc2: case 0xc3: h->kind = PP_MPK_BOOL; h->b = b == 0xc3; break;
    case 0xc4: h->kind = PP_MPK_BIN; h->len = p[1]; break;
    case 0xc5: h->kind = PP_MPK_BIN; h->len = be16(p + 1); break;
    case 0xc6: h->kind = PP_MPK_BIN; h->len = be32(p + 1); break;
    case 0xc7: h->kind = PP_MPK_EXT; h->len = p[1]; h->ext_type = (int8_t)p[2]; break;
    case 0xc8: h->kind = PP_MPK_EXT; h->len = be16(p + 1); h->ext_type = (int8_t)p[3]; break;
    case 0xc9: h->kind = PP_MPK_EXT; h->len = be32(p + 1); h->ext_type = (int8_t)p[5]; break;
    case 0xca: {
        uint32_t u = be32(p + 1);
        float f;
        memcpy(&f, &u, 4);
        h->kind = PP_MPK_F32;
        h->f = f;
        break;
    }
    case 0xcb: {
        uint64_t u = be64(p + 1);
        double d;
        memcpy(&d, &u, 8);
        h->kind = PP_MPK_F64;
        h->f = d;
        break;
    }
    case 0xcc: h->kind = PP_MPK_INT; h->i = p[1]; break;
    case 0xcd: h->kind = PP_MPK_INT; h->i = be16(p + 1); break;
    case 0xce: h->kind = PP_MPK_INT; h->i = be32(p + 1); break;
    case 0xcf: {
        uint64_t u = be64(p + 1);
        if (u > (uint64_t)INT64_MAX) { h->kind = PP_MPK_UINT; h->u = u; }
        else { h->kind = PP_MPK_INT; h->i = (int64_t)u; }
        break;
    }
    case 0xd0: h->kind = PP_MPK_INT; h->i = (int8_t)p[1]; break;
    case 0xd1: h->kind = PP_MPK_INT; h->i = (int16_t)be16(p + 1); break;
    case 0xd2: h->kind = PP_MPK_INT; h->i = (int32_t)be32(p + 1); break;
    case 0xd3: h->kind = PP_MPK_INT; h->i = (int64_t)be64(p + 1); break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        h->kind = PP_MPK_EXT;
        h->len = (uint64_t)1 << (b - 0xd4);
        h->ext_type = (int8_t)p[1];
        break;
    case 0xd9: h->kind = PP_MPK_STR; h->len = p[1]; break;
    case 0xda: h->kind = PP_MPK_STR; h->len = be16(p + 1); break;
    case 0xdb: h->kind = PP_MPK_STR; h->len = be32(p + 1); break;
    case 0xdc: h->kind = PP_MPK_ARRAY; h->len = be16(p + 1); break;
    case 0xdd: h->kind = PP_MPK_ARRAY; h->len = be32(p + 1); break;
    case 0xde: h->kind = PP_MPK_MAP; h->len = be16(p + 1); break;
    case 0xdf: h->kind = PP_MPK_MAP; h->len = be32(p + 1); break;
    }
    return 1;
}

void pp_mpk_scan_init(pp_mpk_scan *s)
{
    s->pos = 0;
    s->pending = 1;
    s->need = 1;
}

int pp_mpk_scan_feed(pp_mpk_scan *s, const uint8_t *buf, size_t avail, size_t limit)
{
    while (s->pending > 0) {
        if (s->pos >= avail) {
            s->need = s->pos + 1;
            return 0;
        }
        pp_mpk_head h;
        int r = pp_mpk_head_read(buf + s->pos, avail - s->pos, &h);
        if (r < 0)
            return pp_fail("byte %llu: invalid msgpack byte 0xc1", (unsigned long long)s->pos);
        if (r == 0) {
            s->need = s->pos + pp_mpk_head_size(buf[s->pos]);
            return 0;
        }
        s->pending--;
        uint64_t end = s->pos + h.hdr;
        if (h.kind == PP_MPK_STR || h.kind == PP_MPK_BIN || h.kind == PP_MPK_EXT) {
            if (h.len > limit || end + h.len > limit)
                return pp_fail("byte %llu: %s of %llu bytes does not fit in the %zu-byte frame limit",
                               (unsigned long long)s->pos, pp_mpk_kind_name(h.kind),
                               (unsigned long long)h.len, limit);
            end += h.len;
        } else if (h.kind == PP_MPK_ARRAY || h.kind == PP_MPK_MAP) {
            /* Every element takes at least one byte. */
            uint64_t items = h.kind == PP_MPK_MAP ? 2 * h.len : h.len;
            if (end > limit || items > limit - end || s->pending > limit - end - items)
                return pp_fail("byte %llu: %s of %llu %s does not fit in the %zu-byte frame limit",
                               (unsigned long long)s->pos, pp_mpk_kind_name(h.kind),
                               (unsigned long long)h.len,
                               h.kind == PP_MPK_MAP ? "entries" : "elements", limit);
            s->pending += items;
        }
        s->pos = end;
    }
    if (s->pos > avail) {
        s->need = s->pos;
        return 0;
    }
    return 1;
}

/* ---- encoding ---- */
static uint8_t *w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}
static uint8_t *w32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}
static uint8_t *w64(uint8_t *p, uint64_t v)
{
    w32(p, (uint32_t)(v >> 32));
    return w32(p + 4, (uint32_t)v);
}

uint8_t *pp_mpk_put_nil(uint8_t *p)
{
    *p = 0xc0;
    return p + 1;
}

uint8_t *pp_mpk_put_bool(uint8_t *p, bool v)
{
    *p = v ? 0xc3 : 0xc2;
    return p + 1;
}

uint8_t *pp_mpk_put_uint(uint8_t *p, uint64_t v)
{
    if (v <= 0x7f) { *p = (uint8_t)v; return p + 1; }
    if (v <= 0xff) { p[0] = 0xcc; p[1] = (uint8_t)v; return p + 2; }
    if (v <= 0xffff) { *p = 0xcd; return w16(p + 1, (uint16_t)v); }
    if (v <= 0xffffffffu) { *p = 0xce; return w32(p + 1, (uint32_t)v); }
    *p = 0xcf;
    return w64(p + 1, v);
}

uint8_t *pp_mpk_put_int(uint8_t *p, int64_t v)
{
    if (v >= 0) return pp_mpk_put_uint(p, (uint64_t)v);
    if (v >= -32) { *p = (uint8_t)(int8_t)v; return p + 1; }
    if (v >= INT8_MIN) { p[0] = 0xd0; p[1] = (uint8_t)(int8_t)v; return p + 2; }
    if (v >= INT16_MIN) { *p = 0xd1; return w16(p + 1, (uint16_t)(int16_t)v); }
    if (v >= INT32_MIN) { *p = 0xd2; return w32(p + 1, (uint32_t)(int32_t)v); }
    *p = 0xd3;
    return w64(p + 1, (uint64_t)v);
}

size_t pp_mpk_size_uint(uint64_t v)
{
    return v <= 0x7f ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

size_t pp_mpk_size_int(int64_t v)
{
    if (v >= 0) return pp_mpk_size_uint((uint64_t)v);
    return v >= -32 ? 1 : v >= INT8_MIN ? 2 : v >= INT16_MIN ? 3 : v >= INT32_MIN ? 5 : 9;
}

uint8_t *pp_mpk_put_f64(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    *p = 0xcb;
    return w64(p + 1, u);
}

uint8_t *pp_mpk_put_str_hdr(uint8_t *p, uint64_t len)
{
    if (len <= 31) { *p = (uint8_t)(0xa0 | len); return p + 1; }
    if (len <= 0xff) { p[0] = 0xd9; p[1] = (uint8_t)len; return p + 2; }
    if (len <= 0xffff) { *p = 0xda; return w16(p + 1, (uint16_t)len); }
    *p = 0xdb;
    return w32(p + 1, (uint32_t)len);
}

size_t pp_mpk_size_str_hdr(uint64_t len) { return len <= 31 ? 1 : len <= 0xff ? 2 : len <= 0xffff ? 3 : 5; }

uint8_t *pp_mpk_put_bin_hdr(uint8_t *p, uint64_t len)
{
    if (len <= 0xff) { p[0] = 0xc4; p[1] = (uint8_t)len; return p + 2; }
    if (len <= 0xffff) { *p = 0xc5; return w16(p + 1, (uint16_t)len); }
    *p = 0xc6;
    return w32(p + 1, (uint32_t)len);
}

size_t pp_mpk_size_bin_hdr(uint64_t len) { return len <= 0xff ? 2 : len <= 0xffff ? 3 : 5; }

uint8_t *pp_mpk_put_ext_hdr(uint8_t *p, int8_t type, uint64_t len)
{
    static const uint8_t fix[17] = {[1] = 0xd4, [2] = 0xd5, [4] = 0xd6, [8] = 0xd7, [16] = 0xd8};
    if (len <= 16 && fix[len]) { p[0] = fix[len]; p[1] = (uint8_t)type; return p + 2; }
    if (len <= 0xff) { p[0] = 0xc7; p[1] = (uint8_t)len; p[2] = (uint8_t)type; return p + 3; }
    if (len <= 0xffff) { *p = 0xc8; p = w16(p + 1, (uint16_t)len); *p = (uint8_t)type; return p + 1; }
    *p = 0xc9;
    p = w32(p + 1, (uint32_t)len);
    *p = (uint8_t)type;
    return p + 1;
}

size_t pp_mpk_size_ext_hdr(uint64_t len)
{
    if (len == 1 || len == 2 || len == 4 || len == 8 || len == 16) return 2;
    return len <= 0xff ? 3 : len <= 0xffff ? 4 : 6;
}

uint8_t *pp_mpk_put_array_hdr(uint8_t *p, uint64_t n)
{
    if (n <= 15) { *p = (uint8_t)(0x90 | n); return p + 1; }
    if (n <= 0xffff) { *p = 0xdc; return w16(p + 1, (uint16_t)n); }
    *p = 0xdd;
    return w32(p + 1, (uint32_t)n);
}

uint8_t *pp_mpk_put_map_hdr(uint8_t *p, uint64_t n)
{
    if (n <= 15) { *p = (uint8_t)(0x80 | n); return p + 1; }
    if (n <= 0xffff) { *p = 0xde; return w16(p + 1, (uint16_t)n); }
    *p = 0xdf;
    return w32(p + 1, (uint32_t)n);
}

size_t pp_mpk_size_array_hdr(uint64_t n) { return n <= 15 ? 1 : n <= 0xffff ? 3 : 5; }
size_t pp_mpk_size_map_hdr(uint64_t n) { return n <= 15 ? 1 : n <= 0xffff ? 3 : 5; }

uint8_t *pp_mpk_put_str(uint8_t *p, const void *s, size_t len)
{
    p = pp_mpk_put_str_hdr(p, len);
    if (len) memcpy(p, s, len);
    return p + len;
}

uint8_t *pp_mpk_put_bin(uint8_t *p, const void *s, size_t len)
{
    p = pp_mpk_put_bin_hdr(p, len);
    if (len) memcpy(p, s, len);
    return p + len;
}
