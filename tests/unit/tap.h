/*
 * tap.h - a tiny TAP (Test Anything Protocol) harness for the C unit tests.
 *
 *   plan(n)                 announce n tests up front (or call done_testing()
 *                           at the end without a plan)
 *   ok(cond, fmt, ...)      one test; prints "ok N - name" / "not ok N - name"
 *   is_int(got, want, ...)  integer equality, with got/expected diagnostics
 *   is_str(got, want, ...)  string equality (NULL-safe)
 *   diag(fmt, ...)          a "# ..." comment line
 *   done_testing()          trailing plan if none was given, summary line
 *                           "# N passed, M failed", and the exit status:
 *                           0 only if every test passed and the plan matched
 *
 * Single-threaded: call the assertions from the main thread only (worker
 * threads and child processes report back and the main thread asserts).
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

static inline void diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static inline int tap_vok(int pass, const char *file, int line,
                          const char *fmt, va_list ap)
{
    tap_run++;
    if (!pass) {
        tap_failed++;
    }
    printf("%s %d - ", pass ? "ok" : "not ok", tap_run);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    if (!pass) {
        printf("#   Failed test at %s line %d.\n", file, line);
    }
    fflush(stdout);
    return pass;
}

static inline int tap_ok(int pass, const char *file, int line,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int tap_ok(int pass, const char *file, int line,
                         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vok(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

static inline int tap_is_int(long long got, long long want,
                             const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline int tap_is_int(long long got, long long want,
                             const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int pass = (got == want);

    va_start(ap, fmt);
    tap_vok(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass) {
        printf("#          got: %lld\n#     expected: %lld\n", got, want);
        fflush(stdout);
    }
    return pass;
}

static inline int tap_is_str(const char *got, const char *want,
                             const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline int tap_is_str(const char *got, const char *want,
                             const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int pass = (got == NULL || want == NULL) ? got == want
                                             : strcmp(got, want) == 0;

    va_start(ap, fmt);
    tap_vok(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass) {
        printf("#          got: %s%s%s\n#     expected: %s%s%s\n",
               got ? "'" : "", got ? got : "NULL", got ? "'" : "",
               want ? "'" : "", want ? want : "NULL", want ? "'" : "");
        fflush(stdout);
    }
    return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
    tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
               __VA_ARGS__)
#define is_str(got, want, ...) \
    tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* Finish: returns the process exit status. */
static inline int done_testing(void)
{
    if (tap_planned < 0) {
        printf("1..%d\n", tap_run);
    }
    else if (tap_planned != tap_run) {
        printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
    }
    printf("# %d passed, %d failed\n", tap_run - tap_failed, tap_failed);
    fflush(stdout);
    return (tap_failed || (tap_planned >= 0 && tap_planned != tap_run))
           ? 1 : 0;
}

#endif /* TAP_H */
