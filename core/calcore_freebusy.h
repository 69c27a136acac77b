/*
 * calcore_freebusy.h - the CALDAV:free-busy-query REPORT (RFC 4791 7.10):
 * an accumulator that collects busy time from index records or parsed
 * objects and renders one VFREEBUSY.  Computed here, never with libical's
 * icalspanlist (wrong in 3.0.16: see libical-and-bdb.md 1.7).
 *
 * What counts (RFC 4791 7.10, RFC 7953):
 *
 *   VEVENT        each instance overlapping the range (overrides, EXDATE,
 *                 RDATE applied) unless its component is TRANSP:TRANSPARENT
 *                 or STATUS:CANCELLED; STATUS:TENTATIVE gives BUSY-TENTATIVE,
 *                 anything else BUSY.  Zero-length instances block no time
 *                 and are skipped (decision).
 *   VFREEBUSY     each FREEBUSY period with its FBTYPE (absent = BUSY;
 *                 FREE ignored; X- and unknown types count as BUSY, as RFC
 *                 5545 3.2.9 requires).
 *   VAVAILABILITY (RFC 7953; from parsed objects only) inside the
 *                 component's [DTSTART, DTEND or DTSTART+DURATION) (open
 *                 ends when absent), the time not covered by an instance of
 *                 its AVAILABLE sub-components is busy with its BUSYTYPE
 *                 (default and unknown values: BUSY-UNAVAILABLE).  Several
 *                 VAVAILABILITYs are layered by PRIORITY as RFC 7953 4
 *                 describes: 1 is the highest, 9 the lowest, 0 (or
 *                 absent) below 9; a higher one replaces lower ones where
 *                 it applies, equal ones in the order they were added.
 *                 AVAILABLE sets are grouped by UID (master and
 *                 RECURRENCE-ID overrides); at most 10000 AVAILABLE
 *                 instances per VAVAILABILITY are looked at.  Not
 *                 covered (the simple subset): a VAVAILABILITY with
 *                 RECURRENCE-ID counts as one more layer, it does not
 *                 replace anything.
 *   VTODO, VJOURNAL  nothing.
 *
 * Everything is clipped to the range.  Rendering merges, per instant, the
 * busiest type present - BUSY over BUSY-UNAVAILABLE over BUSY-TENTATIVE -
 * and joins adjacent or overlapping periods of the same type, so no two
 * periods of the output overlap.  Output follows RFC 4791 7.10.1: one
 * FREEBUSY property per period, "start/duration" in UTC, FBTYPE omitted
 * for BUSY, sorted by start.
 *
 * Threads: an accumulator belongs to one thread.
 */
#ifndef CALCORE_FREEBUSY_H
#define CALCORE_FREEBUSY_H

#include <apr_pools.h>
#include <libical/ical.h>

#include "calcore_types.h"
#include "calcore_object.h"
#include "calcore_index.h"

/* PRODID of the generated VCALENDAR. */
#define CALCORE_FB_PRODID "-//mod_caldav//calcore//EN"

/* An accumulator. */
typedef struct calcore_fb_t calcore_fb_t;

/* A new accumulator for [start, end) (UTC; start < end, the adapter checks
 * the request), allocated from 'pool', which also holds every period
 * added.  DTSTAMP defaults to the current time.  Cannot fail. */
calcore_fb_t *calcore_fb_create(calcore_time_t start, calcore_time_t end,
                                apr_pool_t *pool);

/* The accumulator's range. */
void calcore_fb_range(const calcore_fb_t *fb, calcore_time_t *start,
                      calcore_time_t *end);

/* Use 't' as DTSTAMP instead of the current time (tests). */
void calcore_fb_set_dtstamp(calcore_fb_t *fb, calcore_time_t t);

/* Can 'rec' alone answer for the accumulator's range, i.e. does
 * calcore_fb_add_record() give exactly what calcore_fb_add_object() would?
 * True for VTODO and VJOURNAL records (they add nothing), and for VEVENT
 * and VFREEBUSY records whose instance list covers the range
 * (calcore_index_covers); false for VAVAILABILITY and everything else.
 * The record must have been built with the floating zone of the query.
 * Cannot fail. */
int calcore_fb_record_sufficient(const calcore_fb_t *fb,
                                 const calcore_index_t *rec);

/* Add the busy time of an index record: its VEVENT instances (per-instance
 * STATUS and TRANSP) or its VFREEBUSY periods (FBTYPE), clipped to the
 * range.  Only instances the record lists are seen: use
 * calcore_fb_record_sufficient() first.  Returns APR_SUCCESS, or
 * APR_ENOTIMPL for a VAVAILABILITY record (call calcore_fb_add_object()).
 * Cannot fail otherwise. */
apr_status_t calcore_fb_add_record(calcore_fb_t *fb,
                                   const calcore_index_t *rec);

/* Add the busy time of a parsed (or loaded) object, expanding its
 * recurrence set over the range (floating and DATE values in 'floating',
 * NULL = UTC; bounded by the expander's default limits).  Temporary memory
 * from 'scratch'; what is kept goes to the accumulator's pool.  Returns
 * APR_SUCCESS; cannot fail otherwise. */
apr_status_t calcore_fb_add_object(calcore_fb_t *fb,
                                   const calcore_object_t *obj,
                                   const icaltimezone *floating,
                                   apr_pool_t *scratch);

/* Render the VFREEBUSY (see above) into *text (NUL-terminated) / *len from
 * 'pool':
 *
 *   BEGIN:VCALENDAR / VERSION:2.0 / PRODID / BEGIN:VFREEBUSY / DTSTAMP /
 *   DTSTART / DTEND / FREEBUSY;FBTYPE=...:start/duration ... /
 *   END:VFREEBUSY / END:VCALENDAR, CRLF line ends.
 *
 * May be called more than once (adding more in between is allowed).
 * Returns APR_SUCCESS; cannot fail otherwise. */
apr_status_t calcore_fb_render(calcore_fb_t *fb, const char **text,
                               apr_size_t *len, apr_pool_t *pool);

/* The merged result as periods, for tests and other consumers: an array of
 * calcore_fb_period_t sorted by start, from 'pool'. */
typedef struct calcore_fb_period_t {
    calcore_time_t start;
    calcore_time_t end;
    calcore_fbtype_e type;        /* BUSY, BUSY_UNAVAILABLE, BUSY_TENTATIVE */
} calcore_fb_period_t;

apr_array_header_t *calcore_fb_periods(calcore_fb_t *fb, apr_pool_t *pool);

/* RFC 5545 dur-value of 'secs' (>= 0) into 'buf' (at least
 * CALCORE_DURATION_STRLEN bytes): "PT1H", "P1DT2H30M", "P2D", "PT0S".
 * Weeks are not used.  Returns 'buf'. */
#define CALCORE_DURATION_STRLEN 48
char *calcore_duration_format(apr_int64_t secs, char *buf);

/* Parse a positive RFC 5545 dur-value ("P6W", "P30D", "PT12H", "P1DT2H30M",
 * upper or lower case, no sign) into *secs.  APR_EINVAL for anything else,
 * for zero, or above 100 years.  Cannot fail otherwise. */
apr_status_t calcore_duration_parse(const char *s, apr_int64_t *secs);

#endif /* CALCORE_FREEBUSY_H */
