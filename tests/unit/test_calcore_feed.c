/*
 * test_calcore_feed.c - cutting the top-level components out of stored
 * objects (octets unchanged, CRLF and LF, case-insensitive BEGIN/END,
 * nested components, VTIMEZONE TZIDs with folding, malformed text) and
 * TEXT property lines (escaping, folding at 75 octets, UTF-8 kept whole).
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "calcore.h"
#include "tap.h"

static apr_pool_t *pool;

typedef struct parts_t {
    const char *names;          /* "VTIMEZONE(Europe/Berlin) VEVENT ..."  */
    const char *texts;          /* the parts' octets, concatenated, '|'  */
    int stop_after;             /* 0 = never                               */
    int n;
} parts_t;

static apr_status_t part_cb(void *baton, const char *name, const char *text,
                            apr_size_t len, const char *tzid,
                            apr_pool_t *scratch)
{
    parts_t *p = baton;

    (void)scratch;
    p->names = apr_psprintf(pool, "%s%s%s%s%s%s", p->names,
                            *p->names ? " " : "", name, tzid ? "(" : "",
                            tzid ? tzid : "", tzid ? ")" : "");
    p->texts = apr_psprintf(pool, "%s%s%.*s", p->texts, *p->texts ? "|" : "",
                            (int)len, text);
    if (++p->n == p->stop_after) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static parts_t split(const char *text, int stop_after, apr_status_t *rv)
{
    parts_t p = { "", "", stop_after, 0 };
    apr_pool_t *scratch;

    apr_pool_create(&scratch, pool);
    *rv = calcore_feed_split(text, strlen(text), part_cb, &p, scratch);
    apr_pool_destroy(scratch);
    return p;
}

static void test_split(void)
{
    const char *tz =
        "BEGIN:VTIMEZONE\r\nTZID:Europe/\r\n Berlin\r\n"
        "BEGIN:STANDARD\r\nTZID:not-this\r\nDTSTART:19701025T030000\r\n"
        "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n";
    const char *ev =
        "BEGIN:VEVENT\r\nUID:a\r\nX-FOO;X-P=1:kept\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\n";
    const char *ov =
        "begin:vevent\r\nUID:a\r\nRECURRENCE-ID:20240101T000000Z\r\n"
        "end:vevent\r\n";
    const char *text = apr_pstrcat(pool, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                   "PRODID:-//t//EN\r\n", tz, ev, ov,
                                   "END:VCALENDAR\r\n", NULL);
    const char *lf = "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:t\nEND:VTODO\n"
                     "BEGIN:X-THING\nA:b\nEND:X-THING\nEND:VCALENDAR";
    apr_status_t rv;
    parts_t p;

    p = split(text, 0, &rv);
    is_int(rv, APR_SUCCESS, "split succeeds");
    is_str(p.names, "VTIMEZONE(Europe/Berlin) VEVENT VEVENT",
           "three top-level components; the VTIMEZONE's own TZID, unfolded "
           "(not the one inside STANDARD); names upper-cased");
    is_str(p.texts, apr_pstrcat(pool, tz, "|", ev, "|", ov, NULL),
           "each part is its exact octets, nested VALARM included");

    p = split(lf, 0, &rv);
    is_str(p.names, "VTODO X-THING", "LF line ends, an unknown component");
    is_str(p.texts, "BEGIN:VTODO\nUID:t\nEND:VTODO\n|"
                    "BEGIN:X-THING\nA:b\nEND:X-THING\n",
           "... octets unchanged");

    p = split(text, 2, &rv);
    is_int(rv, APR_EGENERAL, "a callback status stops the split");
    is_int(p.n, 2, "... after the second part");

    p = split("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", 0, &rv);
    is_str(p.names, "", "an unterminated component is not reported");
    p = split("garbage\r\nEND:VEVENT\r\nEND:VEVENT\r\n", 0, &rv);
    is_int(rv, APR_SUCCESS, "stray END lines are harmless");
    is_str(p.names, "", "... and report nothing");
    p = split("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nEND:VTIMEZONE\r\n"
              "END:VCALENDAR\r\n", 0, &rv);
    is_str(p.names, "VTIMEZONE", "a VTIMEZONE without TZID: tzid NULL");
    p = split("", 0, &rv);
    is_int(p.n, 0, "empty text");
}

static void test_text_line(void)
{
    const char *l;
    char *s;
    int ok_len = 1, i;

    is_str(calcore_feed_text_line(pool, "X-WR-CALNAME", "Work"),
           "X-WR-CALNAME:Work\r\n", "a plain value");
    is_str(calcore_feed_text_line(pool, "X-WR-CALDESC", "a;b,c\\d\ne\r\nf"),
           "X-WR-CALDESC:a\\;b\\,c\\\\d\\ne\\nf\r\n",
           "backslash, semicolon, comma and newlines escaped, CR dropped");
    l = calcore_feed_text_line(pool, "X",
                               "0123456789012345678901234567890123456789"
                               "0123456789012345678901234567890123456789");
    is_str(l, "X:01234567890123456789012345678901234567890123456789012345"
              "67890123456789012\r\n 3456789\r\n",
           "folded after 75 octets, continuation starts with a space");
    /* 40 two-octet characters: no line longer than 75 octets, no sequence
     * split across a fold */
    s = apr_pcalloc(pool, 81);
    for (i = 0; i < 40; i++) {
        s[2 * i] = (char)0xC3;
        s[2 * i + 1] = (char)0xA4;             /* U+00E4 */
    }
    l = calcore_feed_text_line(pool, "X-WR-CALNAME", s);
    {
        const char *p = l, *e;

        while ((e = strstr(p, "\r\n")) != NULL) {
            if (e - p > 75) {
                ok_len = 0;
            }
            if (e[2] == ' ' && ((unsigned char)e[3] & 0xC0) == 0x80) {
                ok_len = 0;
            }
            p = e + 2;
        }
    }
    ok(ok_len, "UTF-8: lines of at most 75 octets, no sequence split");
    {
        /* unfolding gives the value back */
        char *u = apr_pstrdup(pool, l), *o = u;
        const char *p;

        for (p = l; *p; p++) {
            if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
                p += 2;
                continue;
            }
            *o++ = *p;
        }
        *o = '\0';
        is_str(u, apr_pstrcat(pool, "X-WR-CALNAME:", s, "\r\n", NULL),
               "... and unfolds to the value");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_split();
    test_text_line();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
