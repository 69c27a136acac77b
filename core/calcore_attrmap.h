/*
 * calcore_attrmap.h - the attribute map of imports: aliases for vendor X-
 * properties (X-ORACLE-*, X-MICROSOFT-*) and default values (a SUMMARY for
 * items that have none), applied to every imported component at the text
 * level.  Used by caldavctl import --map FILE and by POST imports
 * (CalDAVImportMap FILE).  The format is documented in docs/import.md:
 *
 *   # comment
 *   alias [COMPONENT|*] VENDOR-PROPERTY PROPERTY [VENDOR-VALUE=VALUE ...]
 *   default COMPONENT|* PROPERTY VALUE
 *
 *   alias X-MICROSOFT-CDO-BUSYSTATUS TRANSP FREE=TRANSPARENT *=OPAQUE
 *   default VEVENT SUMMARY "(no title)"
 *
 * An alias adds PROPERTY to a component that lacks it and has
 * VENDOR-PROPERTY: with the vendor property's value, or, when mappings are
 * given, with the VALUE of the first VENDOR-VALUE that matches it
 * (ASCII-case-insensitively; '*' matches anything; no match: nothing is
 * added).  The vendor property stays.  A default adds "PROPERTY:VALUE" to
 * a component that lacks PROPERTY.  Aliases are applied first, then
 * defaults, each in the order of the file; a property added by an earlier
 * rule counts as present for later ones.  COMPONENT is VEVENT, VTODO,
 * VJOURNAL, VFREEBUSY, VAVAILABILITY or '*' (any of them; the default for
 * aliases).  Values are written as they are given: the text after the ':'
 * of a content line (escape ',' ';' '\' in TEXT values yourself).  Words
 * with blanks are quoted ("...", with \" and \\ inside); a '#' that starts
 * a word starts a comment.
 *
 * Lines are added before the component's END line, folded at 75 octets
 * (without splitting a UTF-8 sequence), with the component's own line
 * break; every other byte of the component is kept.  Only the component's
 * own properties count (not those of a VALARM inside it).
 *
 * A map is immutable once parsed: one map may be applied from any number
 * of threads at once.  Nothing here calls libical.
 */
#ifndef CALCORE_ATTRMAP_H
#define CALCORE_ATTRMAP_H

#include <apr_pools.h>

#include "calcore_types.h"

typedef struct calcore_attrmap_t calcore_attrmap_t;

/* Largest map file accepted (octets). */
#define CALCORE_ATTRMAP_MAX_FILE ((apr_size_t)1024 * 1024)

/* Parse the map text 'text' ('len' octets, UTF-8, LF or CRLF line ends).
 * On success *map is allocated from 'pool' (an empty text is an empty map)
 * and *error is NULL.  On a syntax error returns CALCORE_EINVALID, *map is
 * NULL and *error (from 'pool') says where and why ("line 3: unknown
 * component VEVNT").  Cannot fail otherwise. */
apr_status_t calcore_attrmap_parse(calcore_attrmap_t **map, const char *text,
                                   apr_size_t len, const char **error,
                                   apr_pool_t *pool);

/* Read the file 'path' and parse it.  Errors: CALCORE_EINVALID as
 * calcore_attrmap_parse() with *error prefixed by the path ("FILE: line 3:
 * ..."), or the APR error reading the file (APR_EINVAL for a file larger
 * than CALCORE_ATTRMAP_MAX_FILE) with *error saying so. */
apr_status_t calcore_attrmap_load(calcore_attrmap_t **map, const char *path,
                                  const char **error, apr_pool_t *pool);

/* The number of rules of 'map' (aliases and defaults).  Cannot fail. */
int calcore_attrmap_count(const calcore_attrmap_t *map);

/* Apply 'map' to ONE component's text ('text', 'len' octets: its BEGIN
 * line to the line break after its END line, as calcore_import_t cuts
 * it): *out is 'text' itself when nothing is added (*outlen = 'len'),
 * else a new NUL-terminated text from 'pool' with the lines added before
 * the END line.  *added (if not NULL) gets the number of lines added.  A
 * text that is not one terminated component is returned unchanged.
 * Cannot fail. */
void calcore_attrmap_apply(const calcore_attrmap_t *map, const char *text,
                           apr_size_t len, const char **out,
                           apr_size_t *outlen, int *added, apr_pool_t *pool);

#endif /* CALCORE_ATTRMAP_H */
