/*
 * calcore_feed.c - components cut out of stored objects, TEXT lines (see
 * calcore_feed.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "calcore_feed.h"

/* Does the line [p, end) (no line break) read "<word>:<rest>" with 'word'
 * matched case-insensitively?  Sets *rest. */
static int line_is(const char *p, const char *end, const char *word,
                   const char **rest)
{
    apr_size_t n = strlen(word);

    if ((apr_size_t)(end - p) <= n || p[n] != ':'
        || strncasecmp(p, word, n) != 0) {
        return 0;
    }
    *rest = p + n + 1;
    return 1;
}

/* The upper-cased component name of a BEGIN/END value [p, end). */
static const char *comp_name(const char *p, const char *end,
                             apr_pool_t *pool)
{
    char *s, *o;

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    s = o = apr_pstrmemdup(pool, p, end - p);
    for (; *o; o++) {
        *o = (char)apr_toupper((unsigned char)*o);
    }
    return s;
}

/* The unfolded value of the first "TZID:" line directly inside the
 * VTIMEZONE [p, end), or NULL. */
static const char *vtimezone_tzid(const char *p, const char *end,
                                  apr_pool_t *pool)
{
    int depth = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *le = nl ? nl : end, *rest;
        const char *ce = le > p && le[-1] == '\r' ? le - 1 : le;

        if (line_is(p, ce, "BEGIN", &rest)) {
            depth++;
        }
        else if (line_is(p, ce, "END", &rest)) {
            depth--;
        }
        else if (depth == 1 && line_is(p, ce, "TZID", &rest)) {
            /* the value, with continuation lines (a line break followed
             * by a space or a tab) joined */
            char *v = apr_pstrmemdup(pool, rest, ce - rest);
            const char *q = nl ? nl + 1 : end;

            while (q < end && (*q == ' ' || *q == '\t')) {
                const char *n2 = memchr(q, '\n', end - q);
                const char *l2 = n2 ? n2 : end;
                const char *c2 = l2 > q && l2[-1] == '\r' ? l2 - 1 : l2;

                if (c2 > q + 1) {
                    v = apr_pstrcat(pool, v, apr_pstrmemdup(
                                                 pool, q + 1,
                                                 (apr_size_t)(c2 - q - 1)),
                                    NULL);
                }
                q = n2 ? n2 + 1 : end;
            }
            return v;
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

apr_status_t calcore_feed_split(const char *text, apr_size_t len,
                                calcore_feed_part_cb *cb, void *baton,
                                apr_pool_t *scratch)
{
    const char *p = text, *end = text + len, *part = NULL;
    const char *name = NULL;
    int depth = 0;
    apr_status_t rv;

    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *le = nl ? nl : end, *next = nl ? nl + 1 : end, *rest;
        const char *ce = le > p && le[-1] == '\r' ? le - 1 : le;

        if (line_is(p, ce, "BEGIN", &rest)) {
            depth++;
            if (depth == 2) {
                part = p;
                name = comp_name(rest, ce, scratch);
            }
        }
        else if (line_is(p, ce, "END", &rest) && depth > 0) {
            if (depth == 2 && part) {
                const char *tzid = strcmp(name, "VTIMEZONE") == 0
                                   ? vtimezone_tzid(part, next, scratch)
                                   : NULL;

                rv = cb(baton, name, part, (apr_size_t)(next - part), tzid,
                        scratch);
                if (rv != APR_SUCCESS) {
                    return rv;
                }
                part = NULL;
            }
            depth--;
        }
        p = next;
    }
    return APR_SUCCESS;
}

const char *calcore_feed_text_line(apr_pool_t *pool, const char *name,
                                   const char *value)
{
    apr_size_t n = strlen(value), i, col, cap;
    char *esc, *o, *out, *w;
    const char *s;

    esc = o = apr_palloc(pool, 2 * n + 1);
    for (i = 0; i < n; i++) {
        char c = value[i];

        if (c == '\\' || c == ';' || c == ',') {
            *o++ = '\\';
            *o++ = c;
        }
        else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (c != '\r') {
            *o++ = c;
        }
    }
    *o = '\0';

    s = apr_pstrcat(pool, name, ":", esc, NULL);
    n = strlen(s);
    cap = n + 3 * (n / 74 + 1) + 3;
    out = w = apr_palloc(pool, cap);
    for (i = 0, col = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        apr_size_t seq = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
                         : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4
                         : 1;

        /* fold before a character that would make the line longer than
         * 75 octets; a UTF-8 sequence is never split (continuation octets
         * 10xxxxxx stay with their lead octet) */
        if ((c & 0xC0) != 0x80 && col + seq > 75) {
            *w++ = '\r';
            *w++ = '\n';
            *w++ = ' ';
            col = 1;
        }
        *w++ = s[i];
        col++;
    }
    *w++ = '\r';
    *w++ = '\n';
    *w = '\0';
    return out;
}
