/*
 * calcore_types.h - basic types shared by every calcore module: UTC time
 * values, status codes, CalDAV precondition codes and component kinds.
 *
 * No libical type appears here, so the adapter and the store can use these
 * definitions without pulling in libical.
 */
#ifndef CALCORE_TYPES_H
#define CALCORE_TYPES_H

#include <apr.h>
#include <apr_errno.h>
#include <apr_time.h>

/* ---- time --------------------------------------------------------------- */

/* A UTC instant in whole seconds since 1970-01-01T00:00:00Z (iCalendar has
 * second resolution).  Every value computed by calcore lies in
 * [CALCORE_TIME_MIN, CALCORE_TIME_MAX]; arithmetic on in-range values with
 * durations of less than a few thousand years cannot overflow. */
typedef apr_int64_t calcore_time_t;

/* 0000-01-01T00:00:00Z: before anything iCalendar can express. */
#define CALCORE_TIME_MIN ((calcore_time_t)-62167219200LL)
/* 10000-01-01T00:00:00Z: after anything iCalendar can express; used as
 * "no end" (unbounded recurrence, open time ranges). */
#define CALCORE_TIME_MAX ((calcore_time_t)253402300800LL)

/* Conversions from/to apr_time_t (microseconds).  Sub-second parts are
 * truncated towards minus infinity; results are clamped to the range. */
calcore_time_t calcore_time_from_apr(apr_time_t t);
apr_time_t calcore_time_to_apr(calcore_time_t t);

/* The current time.  Cannot fail. */
calcore_time_t calcore_time_now(void);

/* Format 't' as an iCalendar UTC DATE-TIME ("20240131T120000Z") into 'buf'
 * (at least CALCORE_TIME_STRLEN bytes).  CALCORE_TIME_MIN/MAX format as
 * "00000101T000000Z" / "99991231T235959Z".  Returns 'buf'. */
#define CALCORE_TIME_STRLEN 17
char *calcore_time_format(calcore_time_t t, char *buf);

/* Parse a UTC DATE-TIME in the form RFC 4791 requires for time-range and
 * expand attributes ("20240131T120000Z"; exactly that form, upper or lower
 * case T/Z).  Returns APR_SUCCESS or APR_EINVAL (bad syntax, impossible
 * date such as Feb 30, field out of range).  Cannot fail otherwise. */
apr_status_t calcore_time_parse(const char *s, calcore_time_t *t);

/* ---- status codes ------------------------------------------------------- */

/* calcore-specific apr_status_t values (the store uses +3100..). */
#define CALCORE_START       (APR_OS_START_USERERR + 3000)
#define CALCORE_EINVALID    (CALCORE_START + 1)  /* data rejected; a
                                                    precondition code and a
                                                    reason say why          */
#define CALCORE_ECORRUPT    (CALCORE_START + 2)  /* a serialised record
                                                    failed to decode        */
#define CALCORE_EVERSION    (CALCORE_START + 3)  /* a serialised record of an
                                                    unknown format version  */
#define CALCORE_ENOTINIT    (CALCORE_START + 4)  /* calcore_init() was not
                                                    called (or failed)      */
#define CALCORE_ENOZONES    (CALCORE_START + 5)  /* no system time zone data
                                                    found at init           */

/* A static text for the codes above (falls back to apr_strerror for others,
 * using 'buf').  Cannot fail. */
const char *calcore_strerror(apr_status_t rv, char *buf, apr_size_t bufsize);

/* ---- CalDAV preconditions ----------------------------------------------- */

/* The RFC 4791 precondition (all in the CALDAV: namespace
 * "urn:ietf:params:xml:ns:caldav") that a rejected request violates.  The
 * adapter turns each into a 403 (or 409 where the RFC says so) with
 * <C:name/> inside DAV:error; calcore_precond_name() gives the element
 * name (the enum names spell it in upper case). */
typedef enum {
    CALCORE_PRECOND_NONE = 0,
    CALCORE_PRECOND_SUPPORTED_CALENDAR_DATA,
    CALCORE_PRECOND_VALID_CALENDAR_DATA,
    CALCORE_PRECOND_VALID_CALENDAR_OBJECT_RESOURCE,
    CALCORE_PRECOND_SUPPORTED_CALENDAR_COMPONENT,
    CALCORE_PRECOND_CALENDAR_COLLECTION_LOCATION_OK,
    CALCORE_PRECOND_MAX_RESOURCE_SIZE,
    CALCORE_PRECOND_MIN_DATE_TIME,
    CALCORE_PRECOND_MAX_DATE_TIME,
    CALCORE_PRECOND_MAX_INSTANCES,
    CALCORE_PRECOND_MAX_ATTENDEES_PER_INSTANCE,
    CALCORE_PRECOND_NO_UID_CONFLICT,
    CALCORE_PRECOND_VALID_FILTER,
    CALCORE_PRECOND_SUPPORTED_FILTER,
    CALCORE_PRECOND_SUPPORTED_COLLATION,
    CALCORE_PRECOND__COUNT
} calcore_precond_e;

/* The local name of the CALDAV: element for 'code' ("valid-calendar-data"),
 * or NULL for CALCORE_PRECOND_NONE and unknown values.  Static storage;
 * cannot fail. */
const char *calcore_precond_name(calcore_precond_e code);

/* ---- component kinds ---------------------------------------------------- */

/* Calendar component types a calendar object resource can hold, as a bit
 * mask (for CALDAV:supported-calendar-component-set). */
typedef enum {
    CALCORE_COMP_NONE          = 0,
    CALCORE_COMP_VEVENT        = 1 << 0,
    CALCORE_COMP_VTODO         = 1 << 1,
    CALCORE_COMP_VJOURNAL      = 1 << 2,
    CALCORE_COMP_VFREEBUSY     = 1 << 3,
    CALCORE_COMP_VAVAILABILITY = 1 << 4
} calcore_comp_e;

/* Every kind above. */
#define CALCORE_COMP_ALL  (CALCORE_COMP_VEVENT | CALCORE_COMP_VTODO \
                           | CALCORE_COMP_VJOURNAL | CALCORE_COMP_VFREEBUSY \
                           | CALCORE_COMP_VAVAILABILITY)
/* What a calendar collection accepts when supported-calendar-component-set
 * was not given at creation. */
#define CALCORE_COMP_DEFAULT  (CALCORE_COMP_VEVENT | CALCORE_COMP_VTODO \
                               | CALCORE_COMP_VJOURNAL)

/* "VEVENT" etc. for a single kind; NULL for anything else.  Static. */
const char *calcore_comp_name(calcore_comp_e kind);

/* The kind named 'name' (case-insensitive, "VEVENT"); CALCORE_COMP_NONE if
 * it is not one of the kinds above.  Cannot fail. */
calcore_comp_e calcore_comp_from_name(const char *name);

#endif /* CALCORE_TYPES_H */
