/*
 * calcore_caldata.h - CALDAV:calendar-data in REPORT responses (RFC 4791
 * 9.6): the whole object, or a generated subset: partial retrieval
 * (C:comp / C:prop), C:expand, C:limit-recurrence-set and
 * C:limit-freebusy-set.
 *
 * The stored octets are returned unchanged whenever the request asks for
 * the whole object.  Anything else is generated from the parsed tree with
 * libical's property serialiser (CRLF, folded at 75 octets), so what
 * libical does not represent is missing from generated output (X- and
 * unknown components, unknown IANA properties, empty values, all but the
 * first value of multi-valued parameters: calcore_object_lossy()).
 *
 * Semantics (decisions where the RFC is silent marked "decision"):
 *
 *   C:comp        selects a component by name (case-insensitive).  A comp
 *                 element with neither prop/allprop nor comp/allcomp
 *                 children selects the whole component (RFC 4791 7.8.1's
 *                 <C:comp name="VTIMEZONE"/> returns the full VTIMEZONE);
 *                 otherwise properties come only from allprop or the prop
 *                 list, sub-components only from allcomp or the comp list
 *                 (decision).  The first comp of a name wins.  Output keeps
 *                 the document order of the stored object.
 *   C:prop        novalue="yes": the property with its parameters and an
 *                 empty value.
 *   C:expand      VEVENT, VTODO and VJOURNAL objects are replaced by their
 *                 instances overlapping [start, end) (RFC 4791 9.9 rules,
 *                 overrides, EXDATE and RDATE applied), in order of start,
 *                 each one component without RRULE, RDATE, EXDATE, EXRULE;
 *                 every DATE-TIME with a TZID or floating becomes UTC
 *                 (floating ones read in 'floating'); DTSTART/DTEND/DUE
 *                 are the instance's; instances of a recurrence set carry
 *                 RECURRENCE-ID (UTC) where the RRULE was, a non-recurring
 *                 component gets none (as RFC 4791 7.8.3 shows); DATE
 *                 values stay DATEs (all-day instances, decision);
 *                 DURATION is kept; VTIMEZONEs are dropped.  Other kinds
 *                 (VFREEBUSY, VAVAILABILITY) are returned unexpanded.
 *   C:limit-recurrence-set
 *                 the master and the overrides whose own instance or whose
 *                 original instance (RECURRENCE-ID + the master's
 *                 duration; exact seconds, decision) overlaps the range.
 *   C:limit-freebusy-set
 *                 VFREEBUSY components keep only the FREEBUSY periods that
 *                 overlap [start, end) (whole periods, as in RFC 4791
 *                 7.8.4; FREEBUSY values are one per property in libical).
 *
 * Threads: as calcore_filter.h (one thread per object; the object's
 * component iterators are used).
 */
#ifndef CALCORE_CALDATA_H
#define CALCORE_CALDATA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <libical/ical.h>

#include "calcore_types.h"
#include "calcore_object.h"
#include "calcore_filter.h"

/* Nesting limit of C:comp elements (VCALENDAR is depth 1). */
#define CALCORE_CALDATA_MAX_DEPTH 32

typedef struct calcore_caldata_prop_t {
    const char *name;
    int novalue;                      /* novalue="yes"                      */
} calcore_caldata_prop_t;

typedef struct calcore_caldata_comp_t {
    const char *name;
    int allprop;
    int allcomp;
    apr_array_header_t *props;        /* calcore_caldata_prop_t (by value);
                                         NULL = none                        */
    apr_array_header_t *comps;        /* calcore_caldata_comp_t *; NULL =
                                         none                               */
} calcore_caldata_comp_t;

typedef struct calcore_caldata_t {
    calcore_caldata_comp_t *comp;     /* NULL = the whole object           */
    int expand;                       /* C:expand                          */
    calcore_timerange_t expand_range;
    int limit_recurrence;             /* C:limit-recurrence-set            */
    calcore_timerange_t limit_recurrence_range;
    int limit_freebusy;               /* C:limit-freebusy-set              */
    calcore_timerange_t limit_freebusy_range;
    unsigned max_instances;           /* C:expand writes at most this many
                                         instances (the first ones); 0 =
                                         CALCORE_MAX_INSTANCES_HARD.  Set it
                                         (e.g. to max-instances) to bound
                                         the size of a response.            */
} calcore_caldata_t;

/* Validate a calendar-data request element.  Rejects with CALCORE_EINVALID,
 * *code = CALCORE_PRECOND_NONE (the adapter answers 400 Bad Request: RFC
 * 4791 defines no precondition for these) and a *reason (static or from
 * 'pool' - static here, so 'pool' is not needed): a root comp not named
 * VCALENDAR; a comp or prop without a name; allprop together with prop
 * elements or allcomp together with comp elements; comps nested deeper
 * than CALCORE_CALDATA_MAX_DEPTH; expand together with
 * limit-recurrence-set; an expand, limit-recurrence-set or
 * limit-freebusy-set range without start or end (CALCORE_TIME_MIN /
 * CALCORE_TIME_MAX: both attributes are required) or with start >= end.
 * 'spec' NULL is valid.  Returns APR_SUCCESS (*code = NONE, *reason =
 * NULL) otherwise; 'code' and 'reason' may not be NULL.  Cannot fail
 * otherwise. */
apr_status_t calcore_caldata_check(const calcore_caldata_t *spec,
                                   calcore_precond_e *code,
                                   const char **reason);

/* Is 'spec' a request for the whole stored object (NULL; or no expand or
 * limit and either no comp, an empty VCALENDAR comp, or one with allprop
 * and allcomp)?  Then calcore_caldata_render() returns the stored octets.
 * Cannot fail. */
int calcore_caldata_is_whole(const calcore_caldata_t *spec);

/* Render the calendar-data of 'obj' for 'spec' (checked by
 * calcore_caldata_check()).  *text (NUL-terminated) and *len are the
 * stored text itself (calcore_object_text(), valid as long as the object)
 * when calcore_caldata_is_whole(spec), otherwise generated iCalendar from
 * 'pool'.  Floating DATE-TIME and DATE values are read in 'floating' for
 * expand and the limits (NULL = UTC).  Expansion is bounded by the
 * expander's limits.  Returns APR_SUCCESS, or APR_ENOMEM when libical
 * fails to allocate. */
apr_status_t calcore_caldata_render(const calcore_caldata_t *spec,
                                    const calcore_object_t *obj,
                                    const icaltimezone *floating,
                                    const char **text, apr_size_t *len,
                                    apr_pool_t *pool);

#endif /* CALCORE_CALDATA_H */
