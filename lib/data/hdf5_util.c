/* hdf5_util.c - HDF5 errors as pp_fail messages, h5py's bool and string
 * types, the notes of an import (data/hdf5_impl.h); whether HDF5 was built
 * and whether a file is one (data/hdf5_d4rl.h). */
#include "data/hdf5_d4rl.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

int pp_hdf5_not_built(void)
{
    return pp_fail("HDF5 support was not built into this parpi (make HDF5=0, or libhdf5-dev was "
                   "missing): install libhdf5-dev and rebuild to read or write .hdf5 files");
}

/* HDF5's signature, at byte 0 of a file without a user block */
static int has_signature(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char buf[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n == (ssize_t)sizeof buf && memcmp(buf, sig, sizeof sig) == 0;
}

#ifndef PARPI_HDF5

int pp_hdf5_built(void) { return 0; }
int pp_hdf5_is_hdf5(const char *path) { return has_signature(path); }

#else

#include "data/hdf5_impl.h"

int pp_hdf5_built(void) { return 1; }

int pp_hdf5_is_hdf5(const char *path)
{
    if (has_signature(path)) return 1;
    if (access(path, R_OK) != 0) return 0;
    pp_h5_quiet();
    htri_t r = H5Fis_hdf5(path); /* also finds the signature after a user block */
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

void pp_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
    char msg[256];
    int got;
} h5_err;

/* Walked upward: the first entry is the innermost, the most specific. */
static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    h5_err *x = data;
    if (x->got) return 0;
    if (e->desc && e->desc[0]) snprintf(x->msg, sizeof x->msg, "%s", e->desc);
    else if (H5Eget_msg(e->min_num, NULL, x->msg, sizeof x->msg) <= 0) return 0;
    x->got = 1;
    return 0;
}

int pp_h5_fail(const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    h5_err x = {{0}, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &x);
    H5Eclear2(H5E_DEFAULT);
    return x.got ? pp_fail("%s (HDF5: %s)", buf, x.msg) : pp_fail("%s", buf);
}

void pp_h5_note(char *notes, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(notes);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + n, cap - n, fmt, ap);
    va_end(ap);
    n = strlen(notes);
    if (n + 1 < cap) strcpy(notes + n, "\n");
    else strcpy(notes + cap - 5, "...\n"); /* full: say so */
}

hid_t pp_h5_bool_type(hid_t base)
{
    hid_t t = H5Tenum_create(base);
    signed char v = 0;
    if (t >= 0 && H5Tenum_insert(t, "FALSE", &v) >= 0) {
        v = 1;
        if (H5Tenum_insert(t, "TRUE", &v) >= 0) return t;
    }
    if (t >= 0) H5Tclose(t);
    return -1;
}

int pp_h5_write_str(hid_t loc, const char *name, const char *s, hid_t lcpl, int attr)
{
    size_t n = strlen(s);
    int utf8 = 0;
    for (size_t i = 0; i < n; i++) utf8 |= (unsigned char)s[i] >= 0x80;
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), obj = -1;
    herr_t rc = -1;
    if (type >= 0 && space >= 0 && H5Tset_size(type, n ? n : 1) >= 0 &&
        H5Tset_strpad(type, H5T_STR_NULLPAD) >= 0 &&
        H5Tset_cset(type, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) >= 0) {
        if (attr) {
            obj = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            if (obj >= 0) rc = H5Awrite(obj, type, s);
        } else {
            obj = H5Dcreate2(loc, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
            if (obj >= 0) rc = H5Dwrite(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
        }
    }
    if (obj >= 0 && (attr ? H5Aclose(obj) : H5Dclose(obj)) < 0) rc = -1;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return rc < 0 ? pp_h5_fail("writing the string %s", name) : 0;
}

int pp_h5_read_str(hid_t obj, int attr, const char *what, char **out)
{
    *out = NULL;
    hid_t type = attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mem = -1;
    int rc = -1;
    if (type < 0 || space < 0) {
        rc = pp_h5_fail("%s: cannot read its type", what);
        goto done;
    }
    if (H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1) {
        rc = pp_fail("%s is not one string", what);
        goto done;
    }
    mem = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mem, H5Tget_cset(type));
    if (H5Tis_variable_str(type) > 0) {
        char *p = NULL;
        H5Tset_size(mem, H5T_VARIABLE);
        if ((attr ? H5Aread(obj, mem, &p) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p)) < 0) {
            rc = pp_h5_fail("reading %s", what);
            goto done;
        }
        size_t n = p ? strlen(p) : 0;
        *out = pp_xmalloc(n + 1);
        memcpy(*out, p ? p : "", n + 1);
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mem, space, H5P_DEFAULT, &p);
#else
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &p);
#endif
        rc = 0;
    } else {
        size_t n = H5Tget_size(type);
        if (n == 0 || n > ((size_t)1 << 20)) {
            rc = pp_fail("%s is a string of %zu bytes, expected 1 byte to 1 MiB", what, n);
            goto done;
        }
        /* one byte more, NUL-terminated: a NULLPAD string of its full size
         * read into the same size loses its last character */
        H5Tset_size(mem, n + 1);
        H5Tset_strpad(mem, H5T_STR_NULLTERM);
        *out = pp_xcalloc(n + 1, 1);
        if ((attr ? H5Aread(obj, mem, *out) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out)) < 0) {
            free(*out);
            *out = NULL;
            rc = pp_h5_fail("reading %s", what);
            goto done;
        }
        rc = 0;
    }
done:
    if (mem >= 0) H5Tclose(mem);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return rc;
}

int pp_h5_has(hid_t loc, const char *path)
{
    char part[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof part) return 0;
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        memcpy(part, path, i);
        part[i] = '\0';
        H5L_info_t li;
        if (H5Lexists(loc, part, H5P_DEFAULT) <= 0 || H5Lget_info(loc, part, &li, H5P_DEFAULT) < 0 ||
            li.type != H5L_TYPE_HARD) {
            H5Eclear2(H5E_DEFAULT);
            return 0;
        }
    }
    return 1;
}

#endif
