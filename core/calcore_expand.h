/*
 * calcore_expand.h - recurrence expansion (RFC 5545 3.8.5, RFC 4791 9.6.5,
 * 9.9), written on libical's icalrecur_iterator only
 * (icalcomponent_foreach_recurrence is wrong in 3.0.16 and never used).
 *
 * The recurrence set of an object:
 *   - DTSTART is always the first instance, even when it does not match the
 *     RRULE (it then counts towards COUNT, as RFC 5545 says);
 *   - every RRULE (the deprecated multiple RRULEs are merged), every RDATE
 *     (DATE, DATE-TIME with its own TZID, PERIOD with its own end);
 *   - minus EXDATE (DATE-TIME compared in UTC; a DATE EXDATE excludes the
 *     instances on that local date) and EXRULE instances;
 *   - an override (component with RECURRENCE-ID) replaces the master's
 *     instance with that RECURRENCE-ID; its own DTSTART/DTEND may move it
 *     into or out of a window.  An override that matches no master instance
 *     is an instance of its own.  RANGE=THISANDFUTURE is treated as a
 *     single-instance override.  Without a master, a component with both
 *     RRULE and RECURRENCE-ID acts as the master.
 *
 * Instance times: DATE and floating values are wall times in the "floating
 * zone" given by the caller (calendar-timezone; NULL = UTC); RRULEs are
 * iterated in wall-clock time and each instance is converted to UTC with
 * the DTSTART's zone (so 09:00 Europe/Berlin is 08:00Z in winter and 07:00Z
 * in summer).  Duration of an instance: exact DTEND-DTSTART (or DUE for
 * VTODO); DURATION with its days/weeks nominal (local days) and the rest
 * exact; no end: one day for a DATE DTSTART, zero otherwise.
 *
 * Threads: an object (and its tree) is used by one thread at a time; the
 * expander walks the components with libical's per-component iterators (do
 * not call it from inside such a loop over the same components).  It also
 * keeps, in the object, what calcore_object_parse()'s limit check walked
 * (the span, the instances), and calcore_expand_span() / calcore_expand()
 * reuse that instead of walking the rules again whenever it gives exactly
 * the result of a fresh walk (same floating zone, a budget at least as
 * large, a window the earlier walk covered; calcore_expand.c).
 *
 * Everything is bounded: at most max_instances instances are reported, at
 * most max_steps iterator steps and max_time are spent; a bounded result
 * says so (truncated, complete_until).  Windows far from DTSTART are reached
 * with icalrecur_iterator_set_start() for rules without COUNT.
 */
#ifndef CALCORE_EXPAND_H
#define CALCORE_EXPAND_H

#include <apr_pools.h>
#include <libical/ical.h>

#include "calcore_types.h"
#include "calcore_object.h"

/* How an instance [start, end] overlaps a query range [qs, qe) (RFC 4791
 * 9.9; qs/qe are the range's start and end). */
typedef enum {
    CALCORE_TR_INTERVAL = 0,  /* start < qe && end > qs: VEVENT with a
                                 duration, VTODO DTSTART<DUE, DATE
                                 VJOURNAL, VAVAILABILITY, AVAILABLE,
                                 the hull of the FREEBUSY periods of a
                                 VFREEBUSY without DTSTART+DTEND       */
    CALCORE_TR_POINT,         /* qs <= start && start < qe: zero-length
                                 VEVENT, DATE-TIME VJOURNAL, VTODO with
                                 DTSTART only                          */
    CALCORE_TR_CLOSED_END,    /* qs <= end && qe > start: VTODO
                                 DTSTART+DURATION, VFREEBUSY
                                 DTSTART/DTEND                         */
    CALCORE_TR_CLOSED,        /* qs <= end && qe >= start: VTODO with
                                 DTSTART=DUE, COMPLETED and/or CREATED
                                 (start=min, end=max of the two)       */
    CALCORE_TR_DUE,           /* qs < end && qe >= end: VTODO with DUE
                                 only (start = end = DUE)              */
    CALCORE_TR_AFTER,         /* qe > start: VTODO with CREATED only
                                 (end = CALCORE_TIME_MAX)              */
    CALCORE_TR_ALWAYS         /* VTODO without any date: every range
                                 (start MIN, end MAX)                  */
} calcore_tr_e;

/* One instance.  'comp' belongs to the object's tree. */
typedef struct calcore_instance_t {
    calcore_time_t start;          /* UTC                                 */
    calcore_time_t end;            /* UTC, >= start                       */
    calcore_time_t recurrence_id;  /* UTC start the master gives this
                                      instance (an override's
                                      RECURRENCE-ID); == start for
                                      non-recurring components           */
    icalcomponent *comp;           /* master or override                  */
    unsigned flags;                /* CALCORE_INST_*                      */
    calcore_tr_e rule;             /* overlap rule for this instance      */
} calcore_instance_t;

#define CALCORE_INST_OVERRIDE  0x01  /* 'comp' has a RECURRENCE-ID          */
#define CALCORE_INST_RDATE     0x02  /* comes from an RDATE                 */
#define CALCORE_INST_DATE      0x04  /* all-day (DATE DTSTART)              */
#define CALCORE_INST_FLOATING  0x08  /* floating DATE-TIME                  */
#define CALCORE_INST_RECURRING 0x10  /* member of a recurrence set          */

/* Does 'inst' overlap [qs, qe)?  Applies inst->rule.  Cannot fail. */
int calcore_instance_overlaps(const calcore_instance_t *inst,
                              calcore_time_t qs, calcore_time_t qe);

/* Expansion options; a zeroed structure gives the defaults. */
typedef struct calcore_expand_opts_t {
    const icaltimezone *floating;  /* DATE and floating values; NULL = UTC */
    unsigned max_instances;        /* instances reported; 0 =
                                      CALCORE_MAX_INSTANCES_HARD           */
    unsigned max_steps;            /* recurrence iterator steps; 0 =
                                      2 * max_instances + 1000             */
    apr_interval_time_t max_time;  /* wall-clock budget; 0 = 2 s           */
} calcore_expand_opts_t;

typedef struct calcore_expand_result_t {
    unsigned count;                /* instances passed to the callback    */
    int truncated;                 /* a limit (instances, steps, time) was
                                      hit: instances starting at or after
                                      complete_until may be missing       */
    calcore_time_t complete_until; /* every instance overlapping the range
                                      and starting before this was
                                      reported (= range end unless
                                      truncated)                          */
    int more_after;                /* an instance starts at or after the
                                      range end                           */
} calcore_expand_result_t;

/* Called once per instance, in order of start (then recurrence-id).  A
 * status other than APR_SUCCESS stops the expansion and is returned. */
typedef apr_status_t calcore_instance_cb(void *baton,
                                         const calcore_instance_t *inst);

/* Report the instances of 'obj' that overlap [start, end) (use
 * CALCORE_TIME_MIN/MAX for open ends), by calcore_instance_overlaps().
 * 'cb' may be NULL (just count).  'res' may be NULL.  Temporary memory comes
 * from 'scratch' (a few dozen bytes per instance in the range).
 *
 * Returns APR_SUCCESS (check res->truncated), the callback's status, or
 * APR_EINVAL when start > end.  A recurrence rule libical refuses is
 * skipped (objects that passed calcore_object_parse() have none). */
apr_status_t calcore_expand(const calcore_object_t *obj,
                            calcore_time_t start, calcore_time_t end,
                            const calcore_expand_opts_t *opts,
                            calcore_instance_cb *cb, void *baton,
                            calcore_expand_result_t *res,
                            apr_pool_t *scratch);

/* calcore_expand() for a recurrence set that is not a whole object: the
 * AVAILABLE sub-components of a VAVAILABILITY (RFC 7953), grouped by UID
 * by the caller.  'comps' (icalcomponent *) are the members: the first one
 * without RECURRENCE-ID is the master, those with one override its
 * instances, exactly as for an object.  AVAILABLE is read like VEVENT
 * (DTSTART, DTEND or DURATION; INTERVAL/POINT overlap).  TZIDs resolve
 * through 'tzset' (may be NULL: system zones only).  The components must
 * not be iterated by the caller during the call (see above).  Same
 * results, limits and failure modes as calcore_expand(). */
apr_status_t calcore_expand_components(const apr_array_header_t *comps,
                                       const calcore_tzset_t *tzset,
                                       calcore_time_t start,
                                       calcore_time_t end,
                                       const calcore_expand_opts_t *opts,
                                       calcore_instance_cb *cb, void *baton,
                                       calcore_expand_result_t *res,
                                       apr_pool_t *scratch);

/* The time covered by the whole recurrence set. */
typedef struct calcore_span_t {
    calcore_time_t start;   /* UTC start of the earliest instance          */
    calcore_time_t end;     /* UTC end of the latest instance;
                               CALCORE_TIME_MAX when unbounded or
                               truncated                                   */
    int unbounded;          /* an RRULE without COUNT and UNTIL            */
    int truncated;          /* a bounded set too long to walk within the
                               limits: end is CALCORE_TIME_MAX as a safe
                               upper bound                                 */
    int empty;              /* no instance at all (VJOURNAL without
                               DTSTART, everything excluded): start is
                               CALCORE_TIME_MAX, end CALCORE_TIME_MIN      */
} calcore_span_t;

/* Compute the span of 'obj'.  For each instance, [start, end] is widened to
 * what calcore_instance_overlaps() can match (a VTODO with only CREATED
 * reaches CALCORE_TIME_MAX, one without dates covers everything), so the
 * span is a safe pre-filter for any time-range query.  Same limits as
 * calcore_expand(); returns APR_SUCCESS. */
apr_status_t calcore_expand_span(const calcore_object_t *obj,
                                 const calcore_expand_opts_t *opts,
                                 calcore_span_t *span, apr_pool_t *scratch);

#endif /* CALCORE_EXPAND_H */
