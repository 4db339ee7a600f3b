/* err.h - the one error-handling style of libparpi.
 *
 * Every fallible function returns int: 0 on success, -1 on failure (or, for
 * readers, 1 = got one, 0 = end of input, -1 = error). On failure it has
 * called pp_fail() with a message that names the file/field and what was
 * expected; the caller may add context with pp_fail_prefix() and returns -1
 * in turn. Programs print pp_error() once, prefixed by their name, and exit
 * with PP_EXIT_FAILURE (1); usage errors exit PP_EXIT_USAGE (2).
 */
#ifndef PP_ERR_H
#define PP_ERR_H

#include <stddef.h>

#define PP_EXIT_OK 0
#define PP_EXIT_FAILURE 1
#define PP_EXIT_USAGE 2

#if defined(__GNUC__)
#define PP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PP_PRINTF(a, b)
#endif

/* Set the error message (replacing any earlier one) and return -1. */
int pp_fail(const char *fmt, ...) PP_PRINTF(1, 2);
/* Prepend context ("reading run/q.ckpt: ") to the current message; returns -1. */
int pp_fail_prefix(const char *fmt, ...) PP_PRINTF(1, 2);
/* The current message ("" if none). Thread-local. */
const char *pp_error(void);
void pp_error_clear(void);

/* For programs: the name used in messages ("parpi-critic"). */
void pp_set_progname(const char *argv0);
const char *pp_progname(void);
/* Print "prog: <pp_error()>" to stderr and exit(code). */
void pp_die_error(int code) __attribute__((noreturn));
/* Print "prog: <formatted>" to stderr and exit(code). */
void pp_die(int code, const char *fmt, ...) PP_PRINTF(2, 3) __attribute__((noreturn));

/* Allocation that never returns NULL: on OOM it prints "prog: out of memory
 * allocating N bytes" and exits PP_EXIT_FAILURE (no abort(), no core).
 * Only for bounded sizes; sizes derived from input are bounded by the caller,
 * and sizes that options choose are checked first with pp_check_memory. */
void *pp_xmalloc(size_t n);
void *pp_xcalloc(size_t n, size_t size);
void *pp_xrealloc(void *p, size_t n);
/* 64-byte aligned, zeroed; free with free(). */
float *pp_xalloc_f32(size_t n);

/* 0 if bytes fit in the memory a program may have: the machine's physical
 * memory, and the address-space limit (ulimit -v) when one is set. Else -1
 * with "needs 64.0 GiB, more than this machine's 23.5 GiB" (or "... more
 * than the address-space limit (ulimit -v) of 2.0 GiB") for the caller to
 * prefix with what needs it and the option that sized it. */
int pp_check_memory(double bytes);

#endif
