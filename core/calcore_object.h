/*
 * calcore_object.h - parse and validate a calendar object resource
 * (RFC 4791 4.1 and the PUT/COPY/MOVE preconditions of 5.3.2.1).
 *
 * The client's octets are never modified: an object keeps the exact text it
 * was parsed from, and that text is what the store keeps and GET returns.
 * libical is used to read it, never to write it back.
 *
 * What is rejected, with which precondition (the reason string names the
 * offending component, property or TZID):
 *
 *   max-resource-size        longer than limits->max_resource_size
 *   valid-calendar-data      empty; NUL or control characters other than
 *                            HTAB/CR/LF; CR not followed by LF; invalid UTF-8;
 *                            unbalanced or mismatched BEGIN/END, nesting
 *                            deeper than 16, text after the last END; not a
 *                            VCALENDAR; VERSION missing or not 2.0;
 *                            CALSCALE other than GREGORIAN; libical parse
 *                            errors that lose or misread data (bad values,
 *                            lines without a name, bad parameters, empty
 *                            values of non-TEXT properties); a TZID
 *                            that resolves neither to a VTIMEZONE of the
 *                            object nor to a system or Windows zone; an
 *                            unusable VTIMEZONE; an impossible date (Feb
 *                            30); VEVENT/VTODO/VJOURNAL/VFREEBUSY/
 *                            VAVAILABILITY without exactly one DTSTAMP;
 *                            VEVENT without DTSTART; more than one DTSTART,
 *                            DTEND, DUE, DURATION or RECURRENCE-ID; DTEND
 *                            and DURATION (or DUE and DURATION) together;
 *                            DTEND/DUE before DTSTART; negative DURATION;
 *                            DURATION, RRULE, RDATE or EXDATE without
 *                            DTSTART; an RRULE that can never match, that
 *                            has BYHOUR/BYMINUTE/BYSECOND or a sub-daily
 *                            FREQ with a DATE DTSTART, or that libical can
 *                            only expand by searching second by second
 *                            (FREQ=SECONDLY with any day-level BY part,
 *                            FREQ=MINUTELY with BYMONTH/BYWEEKNO/BYYEARDAY);
 *                            a recurring DTSTART after 2582; an RDATE period
 *                            ending before it starts; VALARM without exactly
 *                            one ACTION and one TRIGGER; a component not
 *                            allowed where it is (VALARM at the top level,
 *                            VEVENT inside VEVENT, ...)
 *   valid-calendar-object-resource
 *                            more than one VCALENDAR; METHOD; no calendar
 *                            component; more than one component type besides
 *                            VTIMEZONE; a component without exactly one UID;
 *                            UIDs that differ; more than one component
 *                            without RECURRENCE-ID; two components with the
 *                            same RECURRENCE-ID
 *   supported-calendar-component
 *                            the type is not in limits->components (or not
 *                            one calcore knows: VPOLL, ...)
 *   min-date-time / max-date-time
 *                            the first instance starts before min-date-time,
 *                            or the last one ends after max-date-time (an
 *                            unbounded rule - or a bounded one too long to
 *                            walk - fails only if its first instance starts
 *                            at or after max-date-time: an endless rule is
 *                            not "after" max-date-time by itself)
 *   max-instances            more instances than limits->max_instances: all
 *                            instances of a bounded recurrence set, those
 *                            starting before now + horizon for an unbounded
 *                            one
 *   max-attendees-per-instance
 *                            a component (master or override) with more
 *                            ATTENDEE properties than the limit
 *
 * Tolerated (what real clients send): a TZID without VTIMEZONE that names a
 * system or Windows zone; floating times; DATE values; a DATE/DATE-TIME mix
 * between DTSTART and DTEND; DTEND equal to DTSTART; a missing PRODID; a
 * single component with both RRULE and RECURRENCE-ID (it acts as the master
 * when there is no other); overrides whose RECURRENCE-ID matches no
 * instance (they are instances of their own); empty TEXT and X- values,
 * unknown IANA properties, X- properties, X- parameters, X- and unknown
 * components (libical drops or hides them: see calcore_object_lossy()).
 */
#ifndef CALCORE_OBJECT_H
#define CALCORE_OBJECT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <libical/ical.h>

#include "calcore_types.h"
#include "calcore_tz.h"

typedef struct calcore_object_t calcore_object_t;

/* Default for limits->horizon: instances of unbounded rules are looked at
 * (and indexed) up to now + 2 years. */
#define CALCORE_HORIZON_DEFAULT ((calcore_time_t)2 * 366 * 86400)

/* Hard cap on instances counted or expanded when no max-instances limit is
 * configured. */
#define CALCORE_MAX_INSTANCES_HARD 100000u

/* Limits of the target collection.  A zeroed structure means "no limits"
 * (every field documents its 0). */
typedef struct calcore_limits_t {
    apr_size_t max_resource_size;    /* bytes; 0 = none                    */
    unsigned components;             /* CALCORE_COMP_* mask; 0 = every kind
                                        calcore knows                      */
    calcore_time_t min_date_time;    /* UTC; 0 = none                      */
    calcore_time_t max_date_time;    /* UTC; 0 = none                      */
    unsigned max_instances;          /* 0 = CALCORE_MAX_INSTANCES_HARD      */
    unsigned max_attendees_per_instance; /* 0 = none                        */
    const icaltimezone *floating;    /* zone for floating and DATE values
                                        (the collection's calendar-timezone);
                                        NULL = UTC                          */
    calcore_time_t now;              /* 0 = calcore_time_now()             */
    calcore_time_t horizon;          /* seconds after now; 0 =
                                        CALCORE_HORIZON_DEFAULT             */
} calcore_limits_t;

/* Flags of calcore_object_lossy(): what libical does not represent. */
#define CALCORE_LOSSY_UNKNOWN_PROPERTY  0x01  /* unknown IANA property   */
#define CALCORE_LOSSY_EMPTY_VALUE       0x02  /* property with empty value */
#define CALCORE_LOSSY_X_COMPONENT       0x04  /* X- or unknown component  */

/* Parse and fully validate 'len' bytes at 'data' (need not be
 * NUL-terminated; may start with a UTF-8 byte-order mark) against 'limits'
 * (NULL = a zeroed structure: no collection limits, but the recurrence set
 * is still expanded and CALCORE_MAX_INSTANCES_HARD applies).
 *
 * On success returns APR_SUCCESS, *precond = CALCORE_PRECOND_NONE, *reason
 * = NULL and *obj, allocated from 'pool' together with a private copy of the
 * text; the libical tree is freed by a cleanup on 'pool'.  When the data is
 * rejected returns CALCORE_EINVALID, *obj = NULL, *precond says which
 * precondition fails and *reason (from 'pool') why, for a human.  Other
 * return values: APR_ENOMEM; CALCORE_ENOTINIT before calcore_init().
 * 'precond' and 'reason' may not be NULL. */
apr_status_t calcore_object_parse(calcore_object_t **obj,
                                  calcore_precond_e *precond,
                                  const char **reason,
                                  const char *data, apr_size_t len,
                                  const calcore_limits_t *limits,
                                  apr_pool_t *pool);

/* Load an object that was validated when it was stored: parse it and build
 * the structure (component list, master, zone set) without the raw-text,
 * limit and per-property checks, for reports and free-busy.  A TZID that no
 * longer resolves (tzdata changed) makes its values floating instead of
 * failing.  Same ownership as calcore_object_parse(); returns
 * CALCORE_EINVALID (with *reason) only if the text is not a usable calendar
 * object at all. */
apr_status_t calcore_object_load(calcore_object_t **obj, const char **reason,
                                 const char *data, apr_size_t len,
                                 apr_pool_t *pool);

/* The exact text the object was parsed from (a private NUL-terminated copy,
 * BOM included if there was one), and its length.  Valid as long as the
 * object's pool. */
const char *calcore_object_text(const calcore_object_t *obj,
                                apr_size_t *len);

/* The parsed VCALENDAR.  Owned by the object; read it, do not modify it
 * (the zone set points into it) and do not free it.  Beware: a libical
 * component has ONE property and ONE sub-component iterator, shared by
 * every caller; calcore_expand(), calcore_expand_span() and
 * calcore_index_build() use them, so never call those from inside a
 * get_first/get_next loop over the object's components. */
icalcomponent *calcore_object_vcalendar(const calcore_object_t *obj);

/* The component type of the object (one of CALCORE_COMP_*). */
calcore_comp_e calcore_object_kind(const calcore_object_t *obj);

/* The UID shared by all components (owned by the object). */
const char *calcore_object_uid(const calcore_object_t *obj);

/* The master component (no RECURRENCE-ID), or NULL when the object holds
 * only overrides. */
icalcomponent *calcore_object_master(const calcore_object_t *obj);

/* All components of the object's type (icalcomponent *), in document order,
 * master included.  Owned by the object. */
const apr_array_header_t *calcore_object_components(
                                          const calcore_object_t *obj);

/* The object's VTIMEZONEs in front of the system zones. */
const calcore_tzset_t *calcore_object_tzset(const calcore_object_t *obj);

/* Does any component carry RRULE or RDATE (or are there overrides)? */
int calcore_object_is_recurring(const calcore_object_t *obj);

/* CALCORE_LOSSY_* flags: what libical-generated output (partial
 * calendar-data, expand) would lose compared to the stored text. */
unsigned calcore_object_lossy(const calcore_object_t *obj);

#endif /* CALCORE_OBJECT_H */
