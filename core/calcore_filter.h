/*
 * calcore_filter.h - the CALDAV:filter of a calendar-query REPORT (RFC 4791
 * 9.7) as plain C structures, its validation, its evaluation on a calendar
 * object resource, and the index hints derived from it.
 *
 * The adapter builds the tree from the request XML (names as written, the
 * collation attribute mapped by calcore_collation_from_name()), calls
 * calcore_filter_check() once before producing any output, then
 * calcore_filter_hints() to ask the store for candidates, and
 * calcore_filter_match() on each candidate.
 *
 * Semantics (RFC 4791 9.7, 9.9; decisions where the RFC is silent marked
 * "decision"):
 *
 *   comp-filter   matches when a component of that name exists in the
 *                 current scope and every nested test holds for one and
 *                 the same component; with is-not-defined, when none
 *                 exists.  Names are case-insensitive.  The root is always
 *                 VCALENDAR.  VEVENT, VTODO, VJOURNAL and VAVAILABILITY
 *                 are evaluated per recurrence instance (calcore_expand:
 *                 overrides, EXDATE, RDATE applied): a time-range tests the
 *                 instance (9.9 rules incl. the VTODO table), and the nested
 *                 prop-filters and comp-filters are evaluated on the
 *                 component that produced that instance (master or
 *                 override); the object matches when ANY instance passes
 *                 all tests.  VFREEBUSY: DTSTART+DTEND, else each FREEBUSY
 *                 period (9.9 table).  VALARM: a time-range matches when a
 *                 trigger of the alarm (TRIGGER relative to the instance's
 *                 start or end, or absolute; plus REPEAT x DURATION) falls
 *                 into [start, end).  AVAILABLE (RFC 7953): per instance of
 *                 its VAVAILABILITY's AVAILABLE set.  VTIMEZONE, STANDARD,
 *                 DAYLIGHT: per component, no time-range.  Unknown names
 *                 (X- components, VPOLL, ...) never exist here: a positive
 *                 comp-filter on them matches nothing, is-not-defined
 *                 matches (decision: libical drops such components).
 *   prop-filter   matches when one property of that name satisfies all its
 *                 tests (text-match, time-range, every param-filter); empty:
 *                 the property exists; is-not-defined: it does not.  A
 *                 property that does not exist never satisfies a text-match,
 *                 negated or not (decision, as most servers).  Property
 *                 values as written in the component (decision: DTSTART of
 *                 a recurring master is its first start, not the
 *                 instance's).  time-range (9.9 last paragraph):
 *                 start <= value < end, value in UTC (TZID resolved,
 *                 floating and DATE values in 'floating'); DTEND missing
 *                 from a VEVENT and DUE from a VTODO are replaced by
 *                 DTSTART+DURATION.  Allowed on COMPLETED, CREATED, DTEND,
 *                 DTSTAMP, DTSTART, DUE, LAST-MODIFIED (RFC), and as an
 *                 extension on RECURRENCE-ID, EXDATE, RDATE, TRIGGER
 *                 (absolute), ACKNOWLEDGED and X- properties whose value is
 *                 a DATE or DATE-TIME.
 *   param-filter  on the property being tested: exists / is-not-defined /
 *                 text-match on the parameter value (unquoted).
 *   text-match    substring ("contains") match after the collation's
 *                 folding; negate-condition inverts the result for the
 *                 property (or parameter) at hand.  TEXT values are
 *                 compared unescaped, other values in their iCalendar
 *                 form (CAL-ADDRESS "mailto:...", STATUS "CANCELLED").
 *
 * Collations: i;octet compares bytes; i;ascii-casemap folds a-z only;
 * i;unicode-casemap (RFC 5051) maps each character to its simple titlecase
 * and then to NFKD, for U+0000-U+052F (ASCII, Latin-1 Supplement, Latin
 * Extended-A/B, IPA, Greek and Coptic, Cyrillic and its Supplement),
 * U+1E00-U+1FFF (Latin Extended Additional, Greek Extended) and
 * U+FF00-U+FFEF (half- and fullwidth forms), from a table generated from
 * Unicode 14.0; other characters compare as themselves, and combining
 * marks are not reordered (so "e" matches "\u00e9" and "E\u0301", but an
 * Armenian or Georgian capital does not match its small letter).
 *
 * Threads: every function may be called from any thread; an object (and its
 * libical tree) must be used by one thread at a time.  Evaluation uses the
 * component iterators of the object's tree (see calcore_object.h): do not
 * call calcore_filter_match() from inside such a loop.
 */
#ifndef CALCORE_FILTER_H
#define CALCORE_FILTER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <libical/ical.h>

#include "calcore_types.h"
#include "calcore_object.h"

/* Nesting limit of comp-filters (VCALENDAR is depth 1).  Real filters use
 * 3 (VCALENDAR > VEVENT > VALARM). */
#define CALCORE_FILTER_MAX_DEPTH 32

/* Limit on the number of filter elements (comp-, prop-, param-filters,
 * text-matches, time-ranges) in one filter: more is supported-filter. */
#define CALCORE_FILTER_MAX_NODES 1000

typedef enum {
    CALCORE_COLL_ASCII_CASEMAP = 0,   /* "i;ascii-casemap" (the default)   */
    CALCORE_COLL_OCTET,               /* "i;octet"                         */
    CALCORE_COLL_UNICODE_CASEMAP      /* "i;unicode-casemap"               */
} calcore_collation_e;

typedef struct calcore_textmatch_t {
    const char *text;                 /* UTF-8, not NULL                   */
    calcore_collation_e collation;
    int negate;                       /* negate-condition="yes"            */
} calcore_textmatch_t;

/* A UTC range [start, end); CALCORE_TIME_MIN / CALCORE_TIME_MAX for an
 * absent bound. */
typedef struct calcore_timerange_t {
    calcore_time_t start;
    calcore_time_t end;
} calcore_timerange_t;

typedef struct calcore_paramfilter_t {
    const char *name;
    int is_not_defined;
    calcore_textmatch_t *text_match;  /* NULL = none                       */
} calcore_paramfilter_t;

typedef struct calcore_propfilter_t {
    const char *name;
    int is_not_defined;
    calcore_timerange_t *time_range;  /* NULL = none                       */
    calcore_textmatch_t *text_match;  /* NULL = none                       */
    apr_array_header_t *param_filters; /* calcore_paramfilter_t *; NULL =
                                          none                             */
} calcore_propfilter_t;

typedef struct calcore_compfilter_t {
    const char *name;
    int is_not_defined;
    calcore_timerange_t *time_range;  /* NULL = none                       */
    apr_array_header_t *prop_filters; /* calcore_propfilter_t *; NULL =
                                         none                              */
    apr_array_header_t *comp_filters; /* calcore_compfilter_t *; NULL =
                                         none                              */
} calcore_compfilter_t;

/* Map a collation name of the text-match "collation" attribute
 * ("i;ascii-casemap", "i;octet", "i;unicode-casemap"; exact, as RFC 4790
 * registers them) to *out.  Returns 1, or 0 for any other name (the
 * adapter answers CALDAV:supported-collation) leaving *out untouched.  A
 * NULL name (attribute absent) gives the default i;ascii-casemap.  Cannot
 * fail otherwise. */
int calcore_collation_from_name(const char *name, calcore_collation_e *out);

/* The registered name of 'coll' (for CALDAV:supported-collation-set), or
 * NULL for an unknown value.  Static storage. */
const char *calcore_collation_name(calcore_collation_e coll);

/* Validate a filter before any output is produced.  Rejects, with
 * CALCORE_EINVALID, *code and a human-readable *reason (from 'pool'):
 *
 *   valid-filter       NULL root, a root not named VCALENDAR; a missing
 *                      or empty name; comp-filters nested deeper than
 *                      CALCORE_FILTER_MAX_DEPTH (checked without deeper
 *                      recursion, so a filter nested 1000 deep is cheap to
 *                      reject); is-not-defined together with any other
 *                      test in the same element; a prop-filter with both
 *                      time-range and text-match; a time-range with start
 *                      >= end or a bound outside [CALCORE_TIME_MIN,
 *                      CALCORE_TIME_MAX]; a time-range on a component
 *                      other than VEVENT, VTODO, VJOURNAL, VFREEBUSY,
 *                      VALARM, VAVAILABILITY, AVAILABLE or an unknown one;
 *                      a time-range on a property that never has a DATE or
 *                      DATE-TIME value (SUMMARY, ...); a known component
 *                      directly inside a known component where it can
 *                      never occur (VEVENT inside VEVENT, VALARM outside
 *                      VEVENT/VTODO, STANDARD/DAYLIGHT outside VTIMEZONE,
 *                      AVAILABLE outside VAVAILABILITY, VTIMEZONE not
 *                      below VCALENDAR; VCALENDAR anywhere below the
 *                      root); a text-match without text; a NULL array
 *                      element or a list whose element size is not a
 *                      pointer's
 *   supported-collation a collation value outside calcore_collation_e
 *   supported-filter   more than CALCORE_FILTER_MAX_NODES elements
 *
 * Unknown component, property and parameter names are accepted (they just
 * do not match).  'code' and 'reason' may not be NULL.  Returns
 * APR_SUCCESS (*code = CALCORE_PRECOND_NONE, *reason = NULL) otherwise.
 * Cannot fail otherwise; does not recurse deeper than the limit. */
apr_status_t calcore_filter_check(const calcore_compfilter_t *root,
                                  calcore_precond_e *code,
                                  const char **reason, apr_pool_t *pool);

/* Does 'obj' (parsed or loaded) match the filter 'root', which
 * calcore_filter_check() accepted?  Floating DATE-TIME and DATE values are
 * read in 'floating' (the query's C:timezone, else the collection's
 * calendar-timezone; NULL = UTC).  Temporary memory comes from 'scratch'
 * (clear it between objects).  Bounded: recurrence expansion stops at the
 * expander's default limits (CALCORE_MAX_INSTANCES_HARD instances, 2 s);
 * instances beyond a limit are not seen.  Returns 1 or 0; an unchecked
 * filter the evaluator cannot make sense of gives 0.  Never fails. */
int calcore_filter_match(const calcore_compfilter_t *root,
                         const calcore_object_t *obj,
                         const icaltimezone *floating, apr_pool_t *scratch);

/* Index hints for the store: a necessary condition every matching object
 * satisfies (a safe superset, never the final word).
 *
 *   *start, *end   a matching object has an instance overlapping
 *                  [*start, *end) by calcore_instance_overlaps() rules (the
 *                  rules calcore_index_may_overlap() applies; for a
 *                  VFREEBUSY test the record's span, not its list of
 *                  FREEBUSY periods, as that function does).  Both
 *                  CALCORE_TIME_MIN and CALCORE_TIME_MAX: no time
 *                  constraint at all - objects without any instance
 *                  (CALCORE_INDEX_EMPTY) may match too.  Derived from the
 *                  time-range of a first-level comp-filter (the narrowest
 *                  one when there are several); a time-range nested deeper
 *                  (VALARM: alarms can fire long before or after their
 *                  event) or on a property gives no constraint.
 *   *comp_mask     the object's kind is one of these calcore_comp_e bits;
 *                  0 = any kind.  From first-level comp-filters: a positive
 *                  one on VEVENT, VTODO, VJOURNAL, VFREEBUSY or
 *                  VAVAILABILITY requires that kind, an is-not-defined one
 *                  excludes it.  A filter no object can satisfy (two
 *                  different kinds required) still yields 0 (any).
 *
 * Floating times: the store must widen the range for records built with
 * another floating zone (see calcore_index.h).  'root' must have passed
 * calcore_filter_check(); NULL gives no constraint.  Output pointers may
 * not be NULL.  Cannot fail. */
void calcore_filter_hints(const calcore_compfilter_t *root,
                          calcore_time_t *start, calcore_time_t *end,
                          unsigned *comp_mask);

/* Does 'text' contain 'tm->text' under tm's collation (negate not
 * applied)?  'text' may be NULL (no match).  Exposed for tests and for the
 * adapter's own text-match uses (CardDAV-style).  Temporary memory from
 * 'scratch'.  Cannot fail. */
int calcore_textmatch_contains(const calcore_textmatch_t *tm,
                               const char *text, apr_pool_t *scratch);

#endif /* CALCORE_FILTER_H */
