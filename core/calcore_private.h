/*
 * calcore_private.h - helpers shared between calcore's own .c files.  Not a
 * public header: nothing outside core/calcore*.c may include it.  Names use
 * the "calcore__" prefix (Subversion's convention for library-private
 * symbols).
 */
#ifndef CALCORE_PRIVATE_H
#define CALCORE_PRIVATE_H

#include <apr_pools.h>
#include <libical/ical.h>

#include "calcore_types.h"

/* Is calcore_init() done? */
int calcore__initialised(void);

/* Build the system zone map (calcore_tz.c).  Single-threaded, from
 * calcore_init() only.  'ptemp' is for temporary allocations. */
apr_status_t calcore__tz_init(apr_pool_t *ptemp);

/* Number of distinct object VTIMEZONE definitions shared so far (the
 * process-wide zone cache of calcore_tz.c).  For tests. */
unsigned calcore__tzcache_count(void);

/* Check raw iCalendar text before libical sees it (calcore_object.c): no
 * NUL or other control characters but HTAB/CR/LF, CR only before LF, valid
 * UTF-8, BEGIN/END properly nested and named alike, nesting depth bounded,
 * nothing but blank lines after the outermost END.  'skip' receives the
 * number of leading bytes libical must not see (a UTF-8 byte-order mark).
 * Returns APR_SUCCESS or CALCORE_EINVALID with *reason from 'pool'. */
apr_status_t calcore__raw_check(const char *text, apr_size_t len,
                                apr_size_t *skip, const char **reason,
                                apr_pool_t *pool);

/* Parse 'text' (raw-checked already; text[len] must be '\0') with
 * libical and reject parser errors that mean lost or misread data (see
 * calcore_object.c for the tolerated ones).  On success *root is the tree,
 * freed by a cleanup on 'pool', and *lossy (if not NULL) is set when libical
 * dropped something the raw text holds (unknown IANA property, empty
 * value).  Returns CALCORE_EINVALID with *reason otherwise. */
apr_status_t calcore__parse(icalcomponent **root, int *lossy,
                            const char *text, apr_size_t len,
                            const char **reason, apr_pool_t *pool);

/* Can the BYMONTH/BYMONTHDAY combination of 'rule' ever match a day?  (A
 * rule such as BYMONTH=2;BYMONTHDAY=30 makes libical search for 20000
 * years.) */
int calcore__rrule_feasible(const struct icalrecurrencetype *rule);

/* Number of values in a libical BY* array. */
int calcore__by_count(const short *by, int size);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d, and back. */
apr_int64_t calcore__days_from_civil(apr_int64_t y, unsigned m, unsigned d);
void calcore__civil_from_days(apr_int64_t z, apr_int64_t *y, unsigned *m,
                              unsigned *d);

/* What the expander computed for an object, kept in the object (which is
 * immutable after parsing) so that a later call with compatible options
 * reuses it instead of walking the recurrence rules again.  A PUT parses
 * (calcore_object_parse's limit check: the span, then the count of the
 * instances) and builds the index record (the span again, then the
 * instances in the index window): with the memo, the rules are walked once
 * or twice instead of four times.  calcore_expand.c decides when reuse
 * gives exactly what a fresh walk gives (same floating zone, no budget
 * hit, a budget at least as large, a window the recording covers). */
typedef struct calcore__expand_memo_t {
    /* calcore_expand_span()'s last result (without a budget hit) */
    int span_valid;
    const icaltimezone *span_floating;  /* floating zone                  */
    apr_interval_time_t span_max_time;  /* time budget it had             */
    unsigned span_steps;           /* iterator steps it took               */
    unsigned span_offers;          /* instances offered (UINT_MAX: unknown) */
    calcore_time_t span_start, span_end;
    int span_unbounded, span_truncated, span_empty;
    unsigned span_reused;          /* times reused (for tests)             */
    /* every instance a walk offered, in order (calcore_expand.c), for
     * calcore_expand() to replay instead of walking */
    int rec_valid;
    const icaltimezone *rec_floating;
    apr_interval_time_t rec_max_time;
    unsigned rec_steps;            /* iterator steps it took               */
    calcore_time_t rec_until;      /* complete for windows ending at or
                                      before this                          */
    calcore_time_t rec_lo_pad;     /* a window starting at ws would make a
                                      rule without COUNT jump ahead when
                                      ws - rec_lo_pad > rec_no_jump_lo     */
    calcore_time_t rec_no_jump_lo;
    int rec_streams;               /* DTSTART + one per RRULE              */
    int rec_n;
    void *rec;                     /* the entries (calcore_expand.c)       */
    unsigned rec_reused;           /* times replayed (for tests)           */
} calcore__expand_memo_t;

struct calcore_object_t;
struct calcore_expand_opts_t;
struct calcore_expand_result_t;
struct calcore_span_t;

/* The object's memo (calcore_object.c), and in *pool the object's pool for
 * what the memo keeps.  Writing it through a const object is fine: an
 * object is used by one thread at a time, and the memo only ever holds
 * what a fresh computation would give. */
calcore__expand_memo_t *calcore__object_memo(
                            const struct calcore_object_t *obj,
                            apr_pool_t **pool);

/* calcore_expand_span() that also gives an upper bound of the number of
 * instances of the whole recurrence set (*bound, may be NULL; UINT_MAX when
 * unknown: an unbounded rule, or a step or time budget ran out), as
 * calcore_expand() over [CALCORE_TIME_MIN, CALCORE_TIME_MAX) with the same
 * options counts them; with 'record', the instances of a bounded set are
 * also kept for calcore_expand() to replay. */
apr_status_t calcore__expand_span(const struct calcore_object_t *obj,
                                  const struct calcore_expand_opts_t *opts,
                                  struct calcore_span_t *span,
                                  unsigned *bound, int record,
                                  apr_pool_t *scratch);

/* calcore_expand() without callback that keeps what it walked for a later
 * calcore_expand() (any window ending at or before 'end') to replay. */
apr_status_t calcore__expand_count(const struct calcore_object_t *obj,
                                   calcore_time_t start, calcore_time_t end,
                                   const struct calcore_expand_opts_t *opts,
                                   struct calcore_expand_result_t *res,
                                   apr_pool_t *scratch);

/* Tests only: 0 turns the memo and the shortcuts it allows off (the results
 * must not change), 1 (the default) back on.  Not thread-safe. */
void calcore__expand_memo_enable(int on);

/* Clamp to [CALCORE_TIME_MIN, CALCORE_TIME_MAX]. */
static APR_INLINE calcore_time_t calcore__clamp(calcore_time_t t)
{
    return t < CALCORE_TIME_MIN ? CALCORE_TIME_MIN
           : t > CALCORE_TIME_MAX ? CALCORE_TIME_MAX : t;
}

/* Saturating a + b for in-range a and any b of moderate size. */
static APR_INLINE calcore_time_t calcore__add(calcore_time_t a,
                                              apr_int64_t b)
{
    if (a >= CALCORE_TIME_MAX && b >= 0) {
        return CALCORE_TIME_MAX;
    }
    if (a <= CALCORE_TIME_MIN && b <= 0) {
        return CALCORE_TIME_MIN;
    }
    return calcore__clamp(a + b);
}

#endif /* CALCORE_PRIVATE_H */
