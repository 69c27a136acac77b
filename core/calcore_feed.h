/*
 * calcore_feed.h - pieces for writing many calendar objects as one
 * VCALENDAR (a feed, an export): the top-level components of a stored
 * object, cut out of its text without re-serialising it, and iCalendar
 * TEXT property lines.
 *
 * The components are cut at the octet level, so a feed carries every
 * object's bytes as the client stored them (X- properties and parameters,
 * unknown components, folding and line breaks included).
 */
#ifndef CALCORE_FEED_H
#define CALCORE_FEED_H

#include <apr_pools.h>

/* Called for each component directly inside the VCALENDAR of an object's
 * text, in order: 'name' is its upper-cased component name ("VEVENT",
 * "VTIMEZONE", "X-FOO", ...); 'text'/'len' the component's octets from its
 * BEGIN line to the line break after its END line (the last line may lack
 * a line break when the object's text does); 'tzid' the unfolded TZID
 * value of a VTIMEZONE (NULL for other components, or when missing).
 * Allocations from 'scratch'.  A non-APR_SUCCESS return stops the split and
 * is returned. */
typedef apr_status_t calcore_feed_part_cb(void *baton, const char *name,
                                          const char *text, apr_size_t len,
                                          const char *tzid,
                                          apr_pool_t *scratch);

/* Split the text of one calendar object resource ('text', 'len' octets: a
 * VCALENDAR that passed calcore_object_parse(), or anything: text outside
 * a VCALENDAR and lines that are not BEGIN/END are skipped, an unterminated
 * component is not reported) into its top-level components.  Lines end in
 * CRLF or LF; BEGIN and END are matched case-insensitively.  Never reads
 * past 'len'.  Returns APR_SUCCESS or the callback's status. */
apr_status_t calcore_feed_split(const char *text, apr_size_t len,
                                calcore_feed_part_cb *cb, void *baton,
                                apr_pool_t *scratch);

/* "NAME:value\r\n" for a TEXT property: the value escaped (RFC 5545
 * 3.3.11: backslash, semicolon, comma, newline) and the line folded at 75
 * octets without splitting a UTF-8 sequence.  From 'pool'. */
const char *calcore_feed_text_line(apr_pool_t *pool, const char *name,
                                   const char *value);

#endif /* CALCORE_FEED_H */
