/*
 * calcore_jcal.h - iCalendar <-> jCal (RFC 7265, application/calendar+json)
 * and xCal (RFC 6321, application/calendar+xml).
 *
 * All four directions go through one model: components holding properties
 * whose parameters are decoded (quotes removed, RFC 6868 ^-escapes undone,
 * lists split) and whose values are typed.  The iCalendar side is read by a
 * content-line tokenizer of our own, not by libical (which drops unknown
 * IANA properties, multi-valued parameters, empty values, X- components and
 * rewrites escapes: see /work/shared/reference/libical-and-bdb.md), and no
 * TZID is ever resolved: TZID stays a parameter like any other.  Nothing in
 * this module calls libical, so it needs no calcore_init() and is
 * thread-safe.
 *
 * The value type of a property is its VALUE parameter if it has one, else
 * the default from ONE table in calcore_jcal.c (RFC 5545, RFC 7986, RFC
 * 7953, RFC 7808, RFC 9073, RFC 9074, RFC 9253 properties); any other
 * property (X- and unknown IANA names) is "unknown" in jCal and <unknown> in
 * xCal, its value kept as the raw iCalendar text (RFC 7265 5, RFC 6321 5).
 * Without a VALUE parameter, DTSTART, DTEND, DUE, RECURRENCE-ID, EXDATE and
 * RDATE whose value is a bare DATE are typed "date", an RDATE holding a '/'
 * "period", and a TRIGGER that starts with a digit "date-time" (what
 * clients send without the VALUE parameter RFC 5545 requires).
 *
 * Values, per type (the jCal and xCal forms are those of the RFCs):
 *   text         unescaped; CATEGORIES, RESOURCES, LOCATION-TYPE and
 *                properties we do not know: one value per list item (an
 *                unescaped comma separates them); other known properties
 *                keep an unescaped comma in their one value;
 *                REQUEST-STATUS: ["2.0", "Success"(, data)] / <code>
 *                <description> <data>
 *   date, date-time, time, utc-offset
 *                "2008-10-06", "2008-02-05T19:12:24Z", "12:30:00",
 *                "+05:00" (seconds kept when present)
 *   duration     as in iCalendar, in upper case
 *   binary       as in iCalendar, white space removed
 *   uri, cal-address
 *                as in iCalendar
 *   float, integer
 *                JSON numbers (digits kept as written: no binary floating
 *                point round trip); GEO is [lat, lon] / <latitude>
 *                <longitude>
 *   boolean      true / false
 *   period       ["1997-03-08T16:00:00Z", "P1D"] / <period><start>
 *                <end>|<duration>; a string "start/end" is accepted on
 *                input as well
 *   recur        {"freq": "YEARLY", "count": 5, "byday": ["-1SU", "2MO"]}
 *                / <recur><freq>..</freq>.. (one element per value);
 *                integer parts as numbers, BYMONTH "5L" (RFC 7529) as a
 *                string, UNTIL as date or date-time; FREQ written first in
 *                iCalendar
 *   unknown, and types named by a VALUE parameter we do not know (X-)
 *                the raw iCalendar text, as one string
 * EXDATE, RDATE, FREEBUSY and any list-valued typed property give one jCal
 * value (one xCal value element) per item.  jCal/xCal input with several
 * values where iCalendar could not give them back as the same values - a
 * known single-valued TEXT property, uri, cal-address, recur, unknown and
 * X- types - is refused.  Parameters: names lower-case, values strings;
 * more than one value (MEMBER, DELEGATED-TO, DELEGATED-FROM, DISPLAY,
 * FEATURE, SCHEDULE-STATUS, X-/unknown ones written as a list, and a
 * single-valued one given twice, which is written back repeated:
 * TZID=a;TZID=b) gives a JSON array / several xCal value elements.  In
 * xCal, parameter values are wrapped in their type (<cal-address>, <uri>,
 * <boolean> for RSVP, <text>), unknown parameters in <unknown> (as in RFC
 * 6321 section 5); a boolean parameter comes back from xCal as TRUE or
 * FALSE.  The VALUE parameter is never written as a parameter in
 * jCal/xCal (a "value" member in jCal parameters is ignored); going back
 * to iCalendar, VALUE=<TYPE> is written (last) when the type is not the
 * property's default and not "unknown".  No property may be named BEGIN or
 * END.
 *
 * iCalendar output: CRLF line ends, lines folded at 75 octets without
 * splitting a UTF-8 sequence, FREQ first in recurrence rules, parameter
 * values quoted when they contain ':' ';' or ',', and ^-encoded (RFC 6868)
 * when they contain '"', '^' or a line break.  jCal output is compact JSON
 * (no white space), xCal output has no white space between elements;
 * U+FFFE and U+FFFF, which XML cannot carry, are written as U+FFFD there,
 * and names XML cannot carry (a property "1X") make calcore_to_xcal()
 * fail.  Whatever these functions accept converts back and forth stably:
 * jCal -> iCalendar -> jCal gives the same jCal (and likewise for xCal and
 * for iCalendar -> jCal -> iCalendar, up to the normalisations above).
 *
 * iCalendar input is read leniently where libical is (a stored object
 * passed calcore_object_parse()): LF line ends, lower-case names, 't'/'z'
 * in date-times and lower-case durations, a '"' inside an unquoted
 * parameter value.
 *
 * Input limits: CALCORE_JCAL_MAX_INPUT octets, JSON and component nesting
 * CALCORE_JCAL_MAX_DEPTH levels (recursion in this module is bounded by
 * it), valid UTF-8 only, no control characters other than HTAB in values
 * (and line breaks in TEXT values, which become "\n" escapes).  Everything
 * is allocated from the caller's pool; a failed conversion leaves garbage
 * there but no other state.  'reason' may be NULL in every function; on
 * success *reason is set to NULL.
 *
 * Not supported: vCard; xCal extension elements in other namespaces are
 * skipped on input and never written; xCal XML attributes (xml:lang...) are
 * ignored; value elements of unknown ("x-") types are taken as raw text;
 * vendor-property aliases and default values (issue 5's attribute map) are
 * not part of this module.
 */
#ifndef CALCORE_JCAL_H
#define CALCORE_JCAL_H

#include <apr_pools.h>

#include "calcore_types.h"

/* The xCal namespace. */
#define CALCORE_XCAL_NS "urn:ietf:params:xml:ns:icalendar-2.0"

/* Largest input any function here accepts (octets). */
#define CALCORE_JCAL_MAX_INPUT ((apr_size_t)64 * 1024 * 1024)

/* Deepest JSON nesting (arrays and objects) and component nesting
 * accepted. */
#define CALCORE_JCAL_MAX_DEPTH 64

/* ---- whole documents ---------------------------------------------------- */

/* Convert iCalendar text ('ical', 'len' octets, CRLF or LF line ends, an
 * optional UTF-8 byte-order mark, one or more VCALENDARs) to jCal: the
 * ["vcalendar", [props], [comps]] array for one VCALENDAR, an array of
 * them for several.  On success *out is NUL-terminated UTF-8 JSON from
 * 'pool' and *outlen its length.  Returns CALCORE_EINVALID with *reason (if
 * 'reason' is not NULL; from 'pool', e.g. "iCalendar: line 7: DTSTART:
 * invalid DATE-TIME value \"2006\"") when the text is not a VCALENDAR
 * stream or a value does not parse as its type. */
apr_status_t calcore_to_jcal(const char *ical, apr_size_t len,
                             const char **out, apr_size_t *outlen,
                             const char **reason, apr_pool_t *pool);

/* The same, to an xCal document: an XML declaration and one <icalendar>
 * element in CALCORE_XCAL_NS holding one <vcalendar> per VCALENDAR. */
apr_status_t calcore_to_xcal(const char *ical, apr_size_t len,
                             const char **out, apr_size_t *outlen,
                             const char **reason, apr_pool_t *pool);

/* Convert jCal ('json', 'len' octets of UTF-8 JSON: one vcalendar array or
 * an array of them) to iCalendar text (CRLF, folded at 75 octets), e.g. for
 * a PUT in application/calendar+json.  On success *ical is NUL-terminated,
 * from 'pool', and *icallen its length.  Malformed input - not JSON,
 * truncated, nested deeper than CALCORE_JCAL_MAX_DEPTH, a top-level
 * component other than vcalendar, wrong element types, values that do not
 * match their type, control characters - gives CALCORE_EINVALID and a
 * readable *reason (from 'pool'), such as
 * "JSON: unexpected end of input at offset 42" or "jCal: vcalendar/vevent:
 * dtstart: invalid date-time value \"2006-01-02\"".  The result is not
 * validated as a calendar object resource: pass it to
 * calcore_object_parse() like any other PUT body. */
apr_status_t calcore_from_jcal(const char *json, apr_size_t len,
                               const char **ical, apr_size_t *icallen,
                               const char **reason, apr_pool_t *pool);

/* The same from xCal ('xml', 'len' octets: an <icalendar> root in
 * CALCORE_XCAL_NS with one or more <vcalendar> children), parsed with
 * apr_xml (which refuses entity declarations).  Reasons look like "xCal:
 * not well-formed XML: mismatched tag (7)" or "xCal: vcalendar/vevent:
 * <dtstart>: invalid date-time value \"2008\"". */
apr_status_t calcore_from_xcal(const char *xml, apr_size_t len,
                               const char **ical, apr_size_t *icallen,
                               const char **reason, apr_pool_t *pool);

/* ---- streaming (feeds, reports) ---------------------------------------- */

/* A feed can be written piece by piece without building it in memory:
 *
 *   jCal:  calcore_jcal_calendar_open(props)  ["vcalendar",[...],[
 *          calcore_jcal_component(comp 1)     ["vevent",...]
 *          CALCORE_JCAL_SEPARATOR              ,
 *          calcore_jcal_component(comp 2)     ...
 *          CALCORE_JCAL_CALENDAR_CLOSE         ]]
 *
 *   xCal:  calcore_xcal_calendar_open(props)  <?xml ...?><icalendar ...>
 *                                             <vcalendar><properties>...
 *                                             </properties><components>
 *          calcore_xcal_component(comp) ...   <vevent>...</vevent>
 *          CALCORE_XCAL_CALENDAR_CLOSE         </components></vcalendar>
 *                                             </icalendar>
 *
 * The concatenation is a complete jCal / xCal document, the same as
 * calcore_to_jcal() / calcore_to_xcal() of the whole VCALENDAR (except that
 * xCal always has the <components> element). */
#define CALCORE_JCAL_SEPARATOR      ","
#define CALCORE_JCAL_CALENDAR_CLOSE "]]"
#define CALCORE_XCAL_CALENDAR_CLOSE "</components></vcalendar></icalendar>"

/* The opening of a jCal vcalendar: '["vcalendar",[' the properties in
 * 'props' '],['.  'props' ('len' octets) holds VCALENDAR property lines
 * only ("VERSION:2.0\r\nPRODID:...\r\n", folded or not; no BEGIN/END;
 * may be empty).  Output and errors as calcore_to_jcal(). */
apr_status_t calcore_jcal_calendar_open(const char *props, apr_size_t len,
                                        const char **out,
                                        apr_size_t *outlen,
                                        const char **reason,
                                        apr_pool_t *pool);

/* The xCal counterpart: the XML declaration, <icalendar xmlns=...>,
 * <vcalendar>, the <properties> (omitted when 'props' has none) and
 * <components>. */
apr_status_t calcore_xcal_calendar_open(const char *props, apr_size_t len,
                                        const char **out,
                                        apr_size_t *outlen,
                                        const char **reason,
                                        apr_pool_t *pool);

/* Convert ONE component's iCalendar text - exactly one BEGIN:x ... END:x
 * block of any name with its sub-components, e.g. a VEVENT or VTIMEZONE as
 * calcore_feed_split() cuts it out of a stored object - to its jCal array
 * ('["vevent",[...],[...]]').  Output and errors as calcore_to_jcal(). */
apr_status_t calcore_jcal_component(const char *ical, apr_size_t len,
                                    const char **out, apr_size_t *outlen,
                                    const char **reason, apr_pool_t *pool);

/* The same, to its xCal element ('<vevent>...</vevent>', no namespace
 * declaration: it belongs inside the document of
 * calcore_xcal_calendar_open()). */
apr_status_t calcore_xcal_component(const char *ical, apr_size_t len,
                                    const char **out, apr_size_t *outlen,
                                    const char **reason, apr_pool_t *pool);

/* ---- the mapping table -------------------------------------------------- */

/* The default value type of the iCalendar property 'name'
 * (case-insensitive), as the lower-case jCal type name ("date-time",
 * "text", "recur", ...), or "unknown" for X- and unrecognised properties.
 * Static storage; cannot fail. */
const char *calcore_jcal_default_type(const char *name);

#endif /* CALCORE_JCAL_H */
