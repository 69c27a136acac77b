/*
 * calcore_tz.h - time zone resolution and UTC conversion, done by calcore
 * instead of libical.
 *
 * libical 3.0.16 resolves a TZID it cannot find in the object by opening
 * "<zoneinfo dir>/<TZID>" (path traversal) and appending the result to a
 * global, unlocked array (a race between threads and unbounded growth).  So
 * no libical datetime accessor that resolves TZIDs
 * (icalcomponent_get_dtstart/dtend/due, icalproperty_get_exdate,
 * icalproperty_get_datetime_with_component, icaltimezone_get_builtin_*) is
 * ever called outside calcore_init().  Instead a TZID is resolved here, in
 * this order:
 *
 *   (a) a VTIMEZONE with that TZID in the same VCALENDAR;
 *   (b) a system zone name or alias (Debian tzdata), preloaded by
 *       calcore_init(): only [A-Za-z0-9/_+-] names that exist in the map,
 *       also in the prefixed forms "/freeassociation.sourceforge.net/NAME",
 *       "/freeassociation.sourceforge.net/Tzfile/NAME" and the Evolution /
 *       Lightning / Citadel forms "/mozilla.org/<ver>/NAME",
 *       "/softwarestudio.org/<ver>/NAME", "/citadel.org/<ver>/NAME";
 *   (c) a Windows zone id ("W. Europe Standard Time"), mapped through the
 *       CLDR windowsZones table (territory 001) kept in calcore_tz.c.
 *
 * Anything else is unresolvable and makes an object invalid.  Lookups only
 * read a map built before any thread exists: they take no lock of ours and
 * never touch the file system.  UTC conversions use libical's per-zone
 * transition tables (guarded by libical's own mutex).
 */
#ifndef CALCORE_TZ_H
#define CALCORE_TZ_H

#include <apr_pools.h>
#include <libical/ical.h>

#include "calcore_types.h"

/* ---- the system zone map (b, c) ----------------------------------------- */

/* Resolve 'tzid' by rules (b) and (c) only.  Returns the preloaded zone
 * (owned by libical, valid for the life of the process) or NULL when the
 * name is unknown or calcore_init() has not run.  Thread-safe; never opens
 * a file; cannot fail otherwise. */
icaltimezone *calcore_tz_system(const char *tzid);

/* The IANA name a Windows zone id maps to ("W. Europe Standard Time" ->
 * "Europe/Berlin"), or NULL.  Static storage; works before init. */
const char *calcore_tz_windows_to_iana(const char *windows_id);

/* Is 'name' a syntactically acceptable system zone name: 1..128 bytes of
 * [A-Za-z0-9/_+-], no leading or trailing '/', no empty segment (the
 * charset already excludes "." and ".."). */
int calcore_tz_name_is_safe(const char *name);

/* Number of names (IANA names, aliases, Windows ids) in the map; 0 before
 * calcore_init().  For diagnostics and tests. */
unsigned calcore_tz_system_count(void);

/* ---- per-object resolution (a, then b, c) ------------------------------- */

/* The time zones of one VCALENDAR: its VTIMEZONE components (by TZID) in
 * front of the system map. */
typedef struct calcore_tzset_t calcore_tzset_t;

/* Build the zone set of 'vcalendar' and validate its VTIMEZONE components:
 * each needs exactly one non-empty TZID, unique within the object, and at
 * least one STANDARD/DAYLIGHT sub-component with a DTSTART (DATE-TIME, no
 * TZID parameter) and a TZOFFSETTO; a sub-component RRULE must be
 * FREQ=YEARLY without BYHOUR/BYMINUTE/BYSECOND and produce few changes per
 * year (so libical's expansion of the zone stays cheap).  A zone is the
 * process-wide shared zone of the same definition (a VTIMEZONE serialising
 * to the same text, cached up to a bound: libical then expands its
 * transitions once per process, not once per object) or else points into
 * the libical tree of 'vcalendar', which must therefore outlive the set and
 * must not be modified while the set is used.
 *
 * 'vcalendar' may be NULL (an empty set: system zones only).  On success
 * *set is allocated from 'pool'.  Returns CALCORE_EINVALID with *reason
 * (from 'pool') when a VTIMEZONE is unusable. */
apr_status_t calcore_tzset_create(calcore_tzset_t **set,
                                  icalcomponent *vcalendar,
                                  const char **reason, apr_pool_t *pool);

/* Resolve 'tzid' through 'set' (a), then the system map (b, c).  'set' may
 * be NULL.  Returns NULL when unresolvable.  The zone stays valid as long as
 * 'set' (for a) or the process (b, c).  Cannot fail otherwise. */
icaltimezone *calcore_tzset_resolve(const calcore_tzset_t *set,
                                    const char *tzid);

/* Read the DATE or DATE-TIME value of 'prop' (DTSTART, DTEND, DUE,
 * RECURRENCE-ID, EXDATE, RDATE, COMPLETED, ...) and resolve its TZID
 * through 'set'.  On success *tt is the value with tt->zone set to the UTC
 * zone for UTC values, to the resolved zone for TZID values, and NULL for
 * floating DATE-TIMEs and for DATEs (a TZID on a DATE is ignored).  For an
 * RDATE of type PERIOD, *tt is the period start and *period (if not NULL)
 * receives the whole period with the same zone on start and end; otherwise
 * period->start is set to the null time.
 *
 * Returns APR_SUCCESS, CALCORE_EINVALID when the TZID does not resolve or
 * the value is not a date/time (then *tzid_out, if not NULL, points to the
 * offending TZID string in the tree or is NULL).  Never touches the file
 * system; does not allocate. */
apr_status_t calcore_tz_prop_time(const calcore_tzset_t *set,
                                  icalproperty *prop,
                                  struct icaltimetype *tt,
                                  struct icalperiodtype *period,
                                  const char **tzid_out);

/* calcore_tz_prop_time() followed by calcore_tz_to_utc(): the UTC instant of
 * a DATE/DATE-TIME property ('floating' for floating and DATE values, NULL =
 * UTC).  Returns APR_SUCCESS or CALCORE_EINVALID (as calcore_tz_prop_time). */
apr_status_t calcore_tz_prop_utc(const calcore_tzset_t *set,
                                 icalproperty *prop,
                                 const icaltimezone *floating,
                                 calcore_time_t *t);

/* ---- conversions -------------------------------------------------------- */

/* Convert 'tt' to a UTC instant.  UTC values convert directly; values with a
 * zone (tt.zone) are wall times in that zone; floating DATE-TIMEs and DATEs
 * (midnight) are wall times in 'floating' (NULL = UTC).  Non-existent wall
 * times (spring-forward gap) use the offset in force before the gap and
 * ambiguous ones (fall-back) the first occurrence, as RFC 5545 3.3.5 says.
 * Results are clamped to [CALCORE_TIME_MIN, CALCORE_TIME_MAX].  Thread-safe;
 * cannot fail. */
calcore_time_t calcore_tz_to_utc(struct icaltimetype tt,
                                 const icaltimezone *floating);

/* Wall-clock seconds (seconds since 1970-01-01T00:00:00 in the zone's local
 * time, as if the zone were UTC) of 'tt', ignoring any zone. */
calcore_time_t calcore_tz_wall_seconds(struct icaltimetype tt);

/* UTC instant of the wall time 'wall' (as from calcore_tz_wall_seconds) in
 * 'zone' (NULL or the UTC zone = no offset), with the gap/overlap rules of
 * calcore_tz_to_utc(). */
calcore_time_t calcore_tz_wall_to_utc(calcore_time_t wall,
                                      const icaltimezone *zone);

/* The wall time in 'zone' (NULL = UTC) of the UTC instant 'utc', as
 * wall-clock seconds. */
calcore_time_t calcore_tz_utc_to_wall(calcore_time_t utc,
                                      const icaltimezone *zone);

/* The UTC offset (seconds east of Greenwich) of 'zone' at 'utc'. */
int calcore_tz_offset_at(const icaltimezone *zone, calcore_time_t utc);

/* Wall-clock seconds -> icaltimetype (is_date 0, zone NULL) and back. */
struct icaltimetype calcore_tz_wall_to_icaltime(calcore_time_t wall,
                                                int is_date);

/* ---- CALDAV:calendar-timezone / C:timezone ------------------------------ */

/* Identities of floating zones (calcore_tz_zone_id). */
#define CALCORE_TZ_ID_UTC      APR_UINT64_C(0)
#define CALCORE_TZ_ID_UNKNOWN  (~APR_UINT64_C(0))

/* A stable identity of 'zone' as a floating zone, the same in every process
 * and across restarts: CALCORE_TZ_ID_UTC for NULL and the UTC zone, a hash
 * of the definition for a zone that calcore_tz_parse_vtimezone() or an
 * object's VTIMEZONE produced from the shared zone cache (two zones with the
 * same id convert every time identically), CALCORE_TZ_ID_UNKNOWN for any
 * other zone (never equal to anything: callers must then not rely on times
 * computed with it).  Thread-safe. */
apr_uint64_t calcore_tz_zone_id(const icaltimezone *zone);

/* Validate a CALDAV:calendar-timezone property value (or a calendar-query
 * C:timezone): exactly one VCALENDAR containing exactly one VTIMEZONE (valid
 * as for calcore_tzset_create) and nothing else but VERSION, PRODID,
 * CALSCALE:GREGORIAN and X- properties.  'text' need not be NUL-terminated.
 * Returns APR_SUCCESS or CALCORE_EINVALID with *reason (from 'pool'); the
 * precondition is CALDAV:valid-calendar-data. */
apr_status_t calcore_tz_validate_vtimezone(const char *text, apr_size_t len,
                                           const char **reason,
                                           apr_pool_t *pool);

/* Validate as above and return the zone for use as a floating zone.  The
 * parsed tree and the zone are freed when 'pool' is cleared; *tzid (if not
 * NULL) is the VTIMEZONE's TZID, from 'pool'. */
apr_status_t calcore_tz_parse_vtimezone(icaltimezone **zone,
                                        const char **tzid,
                                        const char *text, apr_size_t len,
                                        const char **reason,
                                        apr_pool_t *pool);

#endif /* CALCORE_TZ_H */
