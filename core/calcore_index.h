/*
 * calcore_index.h - the attribute mapping of a calendar object resource: the
 * record the store keeps next to the object so that calendar-query and
 * free-busy can pick candidates without parsing every object (cf. Cyrus'
 * struct caldav_data).
 *
 * The record selects candidates (the span and the instance list); the exact
 * RFC 4791 filter is evaluated on the parsed object unless the record
 * decides by itself (calcore_index_may_overlap on an exact record that
 * covers the range).  Times that came from floating or DATE values were
 * computed with the floating zone given at build time (the collection's
 * calendar-timezone): the record says so (CALCORE_INDEX_FLOATING) and names
 * that zone (floating_zone); for a query in another floating zone (a
 * C:timezone, a calendar-timezone changed since) its times are only good to
 * +-14 h.
 */
#ifndef CALCORE_INDEX_H
#define CALCORE_INDEX_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "calcore_types.h"
#include "calcore_object.h"
#include "calcore_expand.h"
#include "calcore_tz.h"

/* STATUS (RFC 5545 3.8.1.11). */
typedef enum {
    CALCORE_STATUS_NONE = 0,
    CALCORE_STATUS_TENTATIVE,
    CALCORE_STATUS_CONFIRMED,
    CALCORE_STATUS_CANCELLED,
    CALCORE_STATUS_NEEDS_ACTION,
    CALCORE_STATUS_COMPLETED,
    CALCORE_STATUS_IN_PROCESS,
    CALCORE_STATUS_DRAFT,
    CALCORE_STATUS_FINAL,
    CALCORE_STATUS_OTHER          /* an X- or unknown value */
} calcore_status_e;

/* TRANSP (RFC 5545 3.8.2.7); absent means OPAQUE for VEVENT. */
typedef enum {
    CALCORE_TRANSP_NONE = 0,
    CALCORE_TRANSP_OPAQUE,
    CALCORE_TRANSP_TRANSPARENT
} calcore_transp_e;

/* FBTYPE of a VFREEBUSY period (RFC 5545 3.2.9). */
typedef enum {
    CALCORE_FB_NONE = 0,          /* not a FREEBUSY period */
    CALCORE_FB_FREE,
    CALCORE_FB_BUSY,
    CALCORE_FB_BUSY_UNAVAILABLE,
    CALCORE_FB_BUSY_TENTATIVE
} calcore_fbtype_e;

typedef struct calcore_attendee_t {
    const char *address;          /* the cal-address ("mailto:...")       */
    const char *partstat;         /* PARTSTAT as written, "NEEDS-ACTION"
                                     when absent                          */
} calcore_attendee_t;

typedef struct calcore_index_inst_t {
    calcore_time_t start;         /* UTC                                  */
    calcore_time_t end;           /* UTC                                  */
    calcore_time_t recurrence_id; /* UTC                                  */
    unsigned char flags;          /* CALCORE_INST_* of calcore_expand.h    */
    unsigned char rule;           /* calcore_tr_e                          */
    unsigned char status;         /* calcore_status_e of the instance's
                                     component                            */
    unsigned char transp;         /* calcore_transp_e, idem                */
    unsigned char fbtype;         /* calcore_fbtype_e (VFREEBUSY periods)  */
} calcore_index_inst_t;

/* calcore_index_t.flags */
#define CALCORE_INDEX_RECURRING    0x0001 /* RRULE, RDATE or overrides      */
#define CALCORE_INDEX_UNBOUNDED    0x0002 /* span.end is CALCORE_TIME_MAX   */
#define CALCORE_INDEX_EMPTY        0x0004 /* no instance at all: matches no
                                             time-range                    */
#define CALCORE_INDEX_HAS_ALARMS   0x0008 /* a VALARM somewhere             */
#define CALCORE_INDEX_PAST_HORIZON 0x0010 /* instances exist after
                                             inst_until (not listed)       */
#define CALCORE_INDEX_TRUNCATED    0x0020 /* the list stopped at
                                             max_instances before the
                                             horizon                       */
#define CALCORE_INDEX_FLOATING     0x0040 /* floating or DATE times were
                                             read in the floating zone     */
#define CALCORE_INDEX_LOSSY        0x0080 /* calcore_object_lossy() != 0    */

typedef struct calcore_index_t {
    calcore_comp_e kind;
    const char *uid;
    unsigned flags;               /* CALCORE_INDEX_*                       */
    calcore_time_t start;         /* span (calcore_expand_span); for an
                                     EMPTY record start = MAX, end = MIN  */
    calcore_time_t end;
    calcore_status_e status;      /* of the master (else first component)  */
    calcore_transp_e transp;      /* idem                                  */
    const char *organizer;        /* cal-address or NULL                   */
    apr_array_header_t *attendees;/* calcore_attendee_t: every distinct
                                     ATTENDEE of any component (first
                                     occurrence wins, master first)       */
    unsigned max_attendees;       /* most ATTENDEEs of one component
                                     (= per instance)                      */
    calcore_time_t inst_from;     /* the instance list is complete for     */
    calcore_time_t inst_until;    /* instances starting in [from, until)   */
    apr_array_header_t *instances;/* calcore_index_inst_t, by start; for a
                                     VFREEBUSY its FREEBUSY periods        */
    apr_uint64_t floating_zone;   /* calcore_tz_zone_id() of the floating
                                     zone the times were computed in
                                     (CALCORE_TZ_ID_UNKNOWN in a version 1
                                     record)                               */
} calcore_index_t;

/* Defaults of calcore_index_opts_t. */
#define CALCORE_INDEX_PAST_DEFAULT    ((calcore_time_t)366 * 86400)
#define CALCORE_INDEX_FUTURE_DEFAULT  CALCORE_HORIZON_DEFAULT
#define CALCORE_INDEX_MAX_INSTANCES   2000u

/* A zeroed structure gives the defaults. */
typedef struct calcore_index_opts_t {
    const icaltimezone *floating; /* NULL = UTC                            */
    calcore_time_t now;           /* 0 = calcore_time_now()                */
    calcore_time_t from;          /* 0 = now - CALCORE_INDEX_PAST_DEFAULT   */
    calcore_time_t until;         /* 0 = now + CALCORE_INDEX_FUTURE_DEFAULT */
    unsigned max_instances;       /* 0 = CALCORE_INDEX_MAX_INSTANCES        */
} calcore_index_opts_t;

/* Build the record of 'obj'.  Strings point into the object's tree or are
 * copied into 'pool' (copied: the record may outlive the object if 'pool'
 * does).  Returns APR_SUCCESS; cannot fail otherwise (expansion limits
 * show up as flags). */
apr_status_t calcore_index_build(calcore_index_t **idx,
                                 const calcore_object_t *obj,
                                 const calcore_index_opts_t *opts,
                                 apr_pool_t *pool);

/* Current format version written by calcore_index_serialize(). */
#define CALCORE_INDEX_VERSION 2

/* Serialise 'idx' (big-endian integers, length-prefixed strings, layout in
 * calcore_index.c) into a buffer from 'pool'.  Cannot fail. */
apr_status_t calcore_index_serialize(const calcore_index_t *idx,
                                     unsigned char **buf, apr_size_t *len,
                                     apr_pool_t *pool);

/* Parse a serialised record; everything is allocated from 'pool' (nothing
 * points into 'buf').  Returns CALCORE_EVERSION for another format version,
 * CALCORE_ECORRUPT for anything malformed (truncated, bad magic, counts
 * larger than the data, trailing bytes); never reads outside 'buf'. */
apr_status_t calcore_index_parse(calcore_index_t **idx,
                                 const unsigned char *buf, apr_size_t len,
                                 apr_pool_t *pool);

/* Can the instance list answer a query for [qs, qe) by itself (qs at or
 * after inst_from and qe before inst_until)?  If not, use the span and
 * evaluate the object. */
int calcore_index_covers(const calcore_index_t *idx, calcore_time_t qs,
                         calcore_time_t qe);

/* Are the record's times exactly those a query with the floating zone
 * 'zone' (calcore_tz_zone_id: the query's C:timezone, else the calendar's
 * calendar-timezone) computes?  True without floating or DATE values, or
 * when the record was built in that very zone. */
int calcore_index_exact(const calcore_index_t *idx, apr_uint64_t zone);

/* Might the object overlap [qs, qe) for a query in the floating zone
 * 'zone'?  On an exact record (calcore_index_exact) that covers the range
 * (calcore_index_covers), other than a VFREEBUSY, the answer is exact: the
 * instance list with the RFC 4791 9.9 rule of each instance.  Otherwise
 * the span, widened by 14 h when the record is not exact (a VFREEBUSY's
 * list holds its FREEBUSY periods, but DTSTART/DTEND decide when both are
 * present): a pre-filter that may say yes wrongly, never no wrongly. */
int calcore_index_may_overlap(const calcore_index_t *idx, calcore_time_t qs,
                              calcore_time_t qe, apr_uint64_t zone);

#endif /* CALCORE_INDEX_H */
