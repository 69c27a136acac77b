/*
 * calcore_import.h - an iCalendar stream (an export of another system, a
 * feed, a concatenation of files) as calendar object resources: the text
 * half of importing, shared by caldavctl import and POST to a calendar
 * collection.  The store half (create-or-modify by UID, transactions) is
 * repos/calstore_import.h.
 *
 *   1. cutting: the input is cut into its VCALENDARs and their components
 *      at the octet level (only BEGIN/END nesting and a few property names
 *      are followed; every other rule is left to the validator), so every
 *      object keeps the input's bytes: X- properties, parameters, folding;
 *   2. grouping: the components that share a UID - a recurrence master and
 *      its RECURRENCE-ID overrides, wherever they are in the input - form
 *      one object; a component without UID gets one derived from its bytes
 *      (CALCORE_IMPORT_UID_PREFIX + SHA-1), so importing the same input
 *      again finds the same objects instead of duplicating them;
 *   3. texts: each object's text is its first component's VCALENDAR lines
 *      without METHOD, the VTIMEZONEs its TZID parameters name, its
 *      components (a generated UID written right after each BEGIN line),
 *      END:VCALENDAR; optionally an attribute map (calcore_attrmap.h) adds
 *      lines to each component.
 *
 * Nothing here validates: the texts go to calcore_object_parse() like any
 * PUT body.  Nothing here calls libical, so no calcore_init() is needed.
 */
#ifndef CALCORE_IMPORT_H
#define CALCORE_IMPORT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "calcore_types.h"
#include "calcore_attrmap.h"

/* Components without UID get this prefix and the hex SHA-1 of their
 * octets (and "-2", "-3", ... for identical copies). */
#define CALCORE_IMPORT_UID_PREFIX "caldavctl-"

/* Longest member name derived from a UID, before "-<hash>" and ".ics". */
#define CALCORE_IMPORT_NAME_MAX 160

/* A raw (folded) line of the input. */
typedef struct calcore_import_line_t {
    const char *name;           /* upper-cased property name               */
    const char *text;           /* the octets, line breaks included        */
    apr_size_t len;
} calcore_import_line_t;

/* One VCALENDAR of the input. */
typedef struct calcore_import_vcal_t {
    const char *begin;          /* its BEGIN line (with the line break)    */
    apr_size_t begin_len;
    const char *end;            /* its END line, NULL when missing         */
    apr_size_t end_len;
    apr_array_header_t *props;  /* calcore_import_line_t: its own property
                                   lines                                   */
    unsigned line;              /* line number of its BEGIN line           */
} calcore_import_vcal_t;

/* One component directly inside a VCALENDAR of the input. */
typedef struct calcore_import_comp_t {
    const char *name;           /* upper case: "VEVENT", "VTIMEZONE", ...  */
    const char *text;           /* its octets, BEGIN line to the line break
                                   after its END line (into the input)    */
    apr_size_t len;
    apr_size_t begin_len;       /* length of its BEGIN line with the break */
    const char *eol;            /* the line break of its BEGIN line        */
    const char *uid;            /* its UID (unfolded, unescaped), or NULL  */
    int has_recurrence_id;
    const char *tzid;           /* a VTIMEZONE's TZID, or NULL             */
    apr_array_header_t *tzrefs; /* const char *: TZID parameters used, or
                                   NULL                                    */
    int vcal;                   /* index of its VCALENDAR                  */
    unsigned line;              /* line number of its BEGIN line           */
} calcore_import_comp_t;

/* A component that could not be cut out: the object is lost. */
typedef struct calcore_import_broken_t {
    const char *name;           /* its component name                      */
    const char *text;           /* its octets, to the end of the input     */
    apr_size_t len;
    const char *uid;            /* its UID, or one generated from its
                                   octets (see 'generated')                */
    int generated;
    unsigned line;              /* line number of its BEGIN line           */
    const char *reason;         /* "VEVENT is not terminated (...)"        */
} calcore_import_broken_t;

/* One calendar object to be: the components sharing a UID. */
typedef struct calcore_import_group_t {
    const char *uid;            /* the UID (generated: see 'generated')    */
    int generated;              /* the components had no UID               */
    apr_array_header_t *comps;  /* const calcore_import_comp_t *, in input
                                   order                                   */
} calcore_import_group_t;

/* An input cut and grouped. */
typedef struct calcore_import_t {
    apr_array_header_t *vcals;  /* calcore_import_vcal_t                   */
    apr_array_header_t *comps;  /* calcore_import_comp_t, in input order   */
    apr_array_header_t *groups; /* calcore_import_group_t, in order of
                                   first appearance: the objects           */
    apr_array_header_t *broken; /* calcore_import_broken_t: components not
                                   terminated (objects lost)               */
    apr_array_header_t *warnings; /* const char *: what was ignored (text
                                   outside any VCALENDAR, a VCALENDAR
                                   without END, components that are
                                   neither a calendar component nor a
                                   VTIMEZONE: X-..., VPOLL)               */
    apr_hash_t *first_tz;       /* TZID -> the first VTIMEZONE
                                   (calcore_import_comp_t *) with it       */
    apr_hash_t *vcal_tz;        /* "<VCALENDAR index>\n<TZID>" -> the
                                   first VTIMEZONE with it in that
                                   VCALENDAR                               */
} calcore_import_t;

/* Cut 'text' ('len' octets; lines end in CRLF or LF; folded lines are
 * followed; an optional UTF-8 byte-order mark) into VCALENDARs and their
 * components, and group the calendar components (VEVENT, VTODO, VJOURNAL,
 * VFREEBUSY, VAVAILABILITY) by UID into objects.  Everything is allocated
 * from 'pool'; the results point into 'text', which must outlive them.
 * Cannot fail: what cannot be made sense of is listed in (*imp)->broken
 * and (*imp)->warnings. */
void calcore_import_read(calcore_import_t **imp, const char *text,
                         apr_size_t len, apr_pool_t *pool);

/* The text of object 'g' of 'imp': the VCALENDAR lines of its first
 * component's VCALENDAR without METHOD (a calendar object resource has
 * none), each VTIMEZONE its components' TZID parameters name, once (that
 * of the component's own VCALENDAR, else the first in the input; a TZID
 * without VTIMEZONE is left to the validator), the components (with a
 * "UID:" line right after each BEGIN line when the UID was generated, and
 * with what 'map' adds, if 'map' is not NULL: calcore_attrmap_apply()),
 * END:VCALENDAR.  *len gets its length; the text is NUL-terminated and
 * from 'pool'.  Cannot fail. */
const char *calcore_import_text(const calcore_import_t *imp,
                                const calcore_import_group_t *g,
                                const calcore_attrmap_t *map,
                                apr_size_t *len, apr_pool_t *pool);

/* How object 'g' is named in messages: "UID x (line 12)" or "VEVENT
 * without UID (line 40)".  From 'pool'.  Cannot fail. */
const char *calcore_import_label(const calcore_import_group_t *g,
                                 apr_pool_t *pool);

/* The line number of the first component of 'g'.  Cannot fail. */
unsigned calcore_import_line(const calcore_import_group_t *g);

/* The member name for a new object with 'uid', try 'attempt' (0, 1, ...):
 * the UID with every character outside [A-Za-z0-9._@+-] replaced by '_'
 * (and a leading '.' too), cut at CALCORE_IMPORT_NAME_MAX octets; when
 * anything was replaced or cut, "-" and 8 hex digits of the UID's SHA-1
 * keep different UIDs apart; then "-<attempt>" from the second try on,
 * then ".ics".  From 'pool'.  Cannot fail. */
const char *calcore_import_name(const char *uid, int attempt,
                                apr_pool_t *pool);

#endif /* CALCORE_IMPORT_H */
