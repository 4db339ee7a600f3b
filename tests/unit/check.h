/* check.h - a tiny TAP test harness for the C unit tests.
 *
 *   CHECK(cond, "name %d", i);               ok / not ok with the location on failure
 *   CHECK_NEAR(got, want, tol, "name");      |got - want| <= tol
 *   CHECK_REL(got, want, rtol, "name");      relative error, reported
 *   SKIP("reason");                          a skipped test, said so
 *   return check_done();                     prints the plan; exit status 1 on failure
 */
#ifndef PP_CHECK_H
#define PP_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int check_count, check_failures;

static void check_result(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check_result(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", ok ? "ok" : "not ok", ++check_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        printf("#   failed at %s:%d\n", file, line);
        check_failures++;
    }
    fflush(stdout);
}

#define CHECK(cond, ...) check_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define CHECK_NEAR(got, want, tol, ...)                                                     \
    do {                                                                                    \
        double g_ = (double)(got), w_ = (double)(want), t_ = (double)(tol);                 \
        int ok_ = fabs(g_ - w_) <= t_;                                                      \
        if (!ok_) printf("#   got %.9g, want %.9g (tolerance %.3g)\n", g_, w_, t_);         \
        check_result(ok_, __FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)

#define CHECK_REL(got, want, rtol, ...)                                                     \
    do {                                                                                    \
        double g_ = (double)(got), w_ = (double)(want), t_ = (double)(rtol);                \
        double r_ = fabs(g_ - w_) / fmax(fmax(fabs(g_), fabs(w_)), 1e-30);                  \
        printf("#   relative error %.3g (bound %.3g)\n", r_, t_);                           \
        check_result(r_ <= t_, __FILE__, __LINE__, __VA_ARGS__);                            \
    } while (0)

#define SKIP(...)                                                                           \
    do {                                                                                    \
        printf("ok %d # skip ", ++check_count);                                             \
        printf(__VA_ARGS__);                                                                \
        printf("\n");                                                                       \
    } while (0)

static inline int check_done(void)
{
    printf("1..%d\n", check_count);
    return check_failures ? 1 : 0;
}

#endif
