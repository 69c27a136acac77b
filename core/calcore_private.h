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
