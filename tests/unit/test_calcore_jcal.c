/*
 * test_calcore_jcal.c - iCalendar <-> jCal (RFC 7265) and xCal (RFC 6321):
 * the RFC example documents both ways (jCal compared as JSON trees, xCal as
 * XML trees, iCalendar line by line after unfolding), every value type in
 * all four directions, parameters (quoting, RFC 6868, lists), escaping,
 * folding at 75 octets, round trips, the streaming functions, the mapping
 * table, and malformed input of every kind with its exact reason.
 *
 * The JSON comparison uses a small parser of its own (not the module's),
 * so the module's writer is checked by an independent reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xml.h>

#include "calcore.h"
#include "tap.h"

static apr_pool_t *pool;

/* ---- helpers: text ------------------------------------------------------ */

/* 's' with every ' turned into " (JSON fixtures stay readable in C). */
static const char *Q(const char *s)
{
    char *r = apr_pstrdup(pool, s), *o;

    for (o = r; *o; o++) {
        if (*o == '\'') {
            *o = '"';
        }
    }
    return r;
}

/* Unfold (CRLF or LF + space/tab) and return the content lines joined by
 * "\n" (empty lines dropped). */
static const char *unfolded(const char *s)
{
    apr_size_t n = strlen(s), i;
    char *r = apr_palloc(pool, n + 2), *o = r;

    for (i = 0; i < n; i++) {
        if (s[i] == '\r' && s[i + 1] == '\n') {
            continue;
        }
        if (s[i] == '\n') {
            if (s[i + 1] == ' ' || s[i + 1] == '\t') {
                i++;
                continue;
            }
            if (o > r && o[-1] != '\n') {
                *o++ = '\n';
            }
            continue;
        }
        *o++ = s[i];
    }
    if (o > r && o[-1] != '\n') {
        *o++ = '\n';
    }
    *o = '\0';
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Canonical form of unfolded lines [*i, ...) up to the END of the current
 * component: its property lines sorted, then its components in order. */
static const char *canon_comp(char **lines, int nlines, int *i)
{
    apr_array_header_t *props = apr_array_make(pool, 8, sizeof(char *));
    const char *head = lines[(*i)++], *subs = "", *out;
    int k;

    while (*i < nlines && strncmp(lines[*i], "END:", 4) != 0) {
        if (strncmp(lines[*i], "BEGIN:", 6) == 0) {
            subs = apr_pstrcat(pool, subs, canon_comp(lines, nlines, i),
                               NULL);
        }
        else {
            APR_ARRAY_PUSH(props, char *) = lines[(*i)++];
        }
    }
    qsort(props->elts, props->nelts, sizeof(char *), cmp_str);
    out = apr_pstrcat(pool, head, "\n", NULL);
    for (k = 0; k < props->nelts; k++) {
        out = apr_pstrcat(pool, out, APR_ARRAY_IDX(props, k, char *), "\n",
                          NULL);
    }
    return apr_pstrcat(pool, out, subs, *i < nlines ? lines[(*i)++] : "",
                       "\n", NULL);
}

/* Unfolded lines, each component's properties in sorted order (property
 * order carries no meaning in iCalendar, and the RFC's jCal lists them in
 * another order than its iCalendar). */
static const char *canonical(const char *s)
{
    char *u = apr_pstrdup(pool, unfolded(s)), *last, *l;
    apr_array_header_t *a = apr_array_make(pool, 32, sizeof(char *));
    const char *out = "";
    int i = 0;

    for (l = apr_strtok(u, "\n", &last); l;
         l = apr_strtok(NULL, "\n", &last)) {
        APR_ARRAY_PUSH(a, char *) = l;
    }
    while (i < a->nelts) {
        out = apr_pstrcat(pool, out, canon_comp((char **)a->elts, a->nelts,
                                                &i), NULL);
    }
    return out;
}

/* Longest physical line (octets, without CRLF); sets *split when a
 * continuation line starts inside a UTF-8 sequence, *bad_end when a line
 * break is not CRLF. */
static apr_size_t longest_line(const char *s, int *split, int *bad_end)
{
    apr_size_t max = 0;
    const char *p = s, *e;

    *split = *bad_end = 0;
    while ((e = strchr(p, '\n')) != NULL) {
        apr_size_t n = (apr_size_t)(e - p);

        if (n == 0 || p[n - 1] != '\r') {
            *bad_end = 1;
        }
        else {
            n--;
        }
        if (n > max) {
            max = n;
        }
        if (p[0] == ' ' && ((unsigned char)p[1] & 0xC0) == 0x80) {
            *split = 1;
        }
        p = e + 1;
    }
    return max;
}

/* 'n' copies of 'c'. */
static const char *rep(char c, int n)
{
    char *r = apr_palloc(pool, (apr_size_t)n + 1);

    memset(r, c, (apr_size_t)n);
    r[n] = '\0';
    return r;
}

/* ---- helpers: an independent JSON reader for comparisons ---------------- */

typedef struct tj_t {
    char type;                  /* a o s n t f z */
    const char *s;
    double num;
    struct tj_t **kids;         /* o: key, value, key, value ... */
    int n;
} tj_t;

static const char *tj_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

static void put_utf8(char **o, unsigned long cp)
{
    char *b = *o;

    if (cp < 0x80) {
        *b++ = (char)cp;
    }
    else if (cp < 0x800) {
        *b++ = (char)(0xC0 | (cp >> 6));
        *b++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *b++ = (char)(0xE0 | (cp >> 12));
        *b++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *b++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *b++ = (char)(0xF0 | (cp >> 18));
        *b++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *b++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *b++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = b;
}

static tj_t *tj_parse(const char **pp)
{
    const char *p = tj_ws(*pp);
    tj_t *t = apr_pcalloc(pool, sizeof(*t));

    if (*p == '[' || *p == '{') {
        apr_array_header_t *k = apr_array_make(pool, 4, sizeof(tj_t *));
        char close = *p == '[' ? ']' : '}';

        t->type = *p == '[' ? 'a' : 'o';
        p = tj_ws(p + 1);
        if (*p == close) {
            p++;
        }
        else {
            for (;;) {
                tj_t *kid;

                if (t->type == 'o') {
                    if (!(kid = tj_parse(&p)) || kid->type != 's') {
                        return NULL;
                    }
                    APR_ARRAY_PUSH(k, tj_t *) = kid;
                    p = tj_ws(p);
                    if (*p++ != ':') {
                        return NULL;
                    }
                }
                if (!(kid = tj_parse(&p))) {
                    return NULL;
                }
                APR_ARRAY_PUSH(k, tj_t *) = kid;
                p = tj_ws(p);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p++ == close) {
                    break;
                }
                return NULL;
            }
        }
        t->kids = (tj_t **)k->elts;
        t->n = k->nelts;
    }
    else if (*p == '"') {
        char *b = apr_palloc(pool, strlen(p) * 2 + 1), *o = b;

        t->type = 's';
        for (p++; *p != '"'; p++) {
            if (!*p) {
                return NULL;
            }
            if (*p == '\\') {
                unsigned long cp;

                switch (*++p) {
                case 'n':
                    *o++ = '\n';
                    break;
                case 't':
                    *o++ = '\t';
                    break;
                case 'r':
                    *o++ = '\r';
                    break;
                case 'b':
                    *o++ = '\b';
                    break;
                case 'f':
                    *o++ = '\f';
                    break;
                case 'u':
                    cp = strtoul(apr_pstrndup(pool, p + 1, 4), NULL, 16);
                    p += 4;
                    if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\') {
                        unsigned long lo = strtoul(apr_pstrndup(pool, p + 3,
                                                                4), NULL, 16);

                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    }
                    put_utf8(&o, cp);
                    break;
                default:
                    *o++ = *p;
                }
            }
            else {
                *o++ = *p;
            }
        }
        p++;
        *o = '\0';
        t->s = b;
    }
    else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0
             || strncmp(p, "null", 4) == 0) {
        t->type = *p == 'n' ? 'z' : *p;
        p += *p == 'f' ? 5 : 4;
    }
    else {
        char *e;

        t->type = 'n';
        t->num = strtod(p, &e);
        if (e == p) {
            return NULL;
        }
        p = e;
    }
    *pp = p;
    return t;
}

static tj_t *tj(const char *s)
{
    const char *p = s;
    tj_t *t = tj_parse(&p);

    return t && *tj_ws(p) == '\0' ? t : NULL;
}

/* Deep equality; object members in any order. */
static int tj_eq(const tj_t *a, const tj_t *b)
{
    int i, j;

    if (!a || !b || a->type != b->type) {
        return 0;
    }
    switch (a->type) {
    case 's':
        return strcmp(a->s, b->s) == 0;
    case 'n':
        return a->num == b->num;
    case 'a':
        if (a->n != b->n) {
            return 0;
        }
        for (i = 0; i < a->n; i++) {
            if (!tj_eq(a->kids[i], b->kids[i])) {
                return 0;
            }
        }
        return 1;
    case 'o':
        if (a->n != b->n) {
            return 0;
        }
        for (i = 0; i < a->n; i += 2) {
            for (j = 0; j < b->n; j += 2) {
                if (strcmp(a->kids[i]->s, b->kids[j]->s) == 0) {
                    break;
                }
            }
            if (j >= b->n || !tj_eq(a->kids[i + 1], b->kids[j + 1])) {
                return 0;
            }
        }
        return 1;
    default:
        return 1;
    }
}

/* jCal components equal: same name, the same properties in any order
 * (each deep-equal), the same sub-components in order. */
static int jcal_eq(const tj_t *a, const tj_t *b)
{
    int i, j;
    char *used;

    if (!a || !b || a->type != 'a' || b->type != 'a') {
        return 0;
    }
    if (a->n && a->kids[0]->type == 'a') {          /* several vcalendars */
        if (a->n != b->n) {
            return 0;
        }
        for (i = 0; i < a->n; i++) {
            if (!jcal_eq(a->kids[i], b->kids[i])) {
                return 0;
            }
        }
        return 1;
    }
    if (a->n != 3 || b->n != 3 || !tj_eq(a->kids[0], b->kids[0])
        || a->kids[1]->n != b->kids[1]->n || a->kids[2]->n != b->kids[2]->n) {
        return 0;
    }
    used = apr_pcalloc(pool, (apr_size_t)b->kids[1]->n + 1);
    for (i = 0; i < a->kids[1]->n; i++) {
        for (j = 0; j < b->kids[1]->n; j++) {
            if (!used[j] && tj_eq(a->kids[1]->kids[i], b->kids[1]->kids[j])) {
                used[j] = 1;
                break;
            }
        }
        if (j >= b->kids[1]->n) {
            return 0;
        }
    }
    for (i = 0; i < a->kids[2]->n; i++) {
        if (!jcal_eq(a->kids[2]->kids[i], b->kids[2]->kids[i])) {
            return 0;
        }
    }
    return 1;
}

/* ---- helpers: XML trees ------------------------------------------------- */

static apr_xml_doc *xml(const char *s)
{
    apr_xml_parser *xp = apr_xml_parser_create(pool);
    apr_xml_doc *doc = NULL;

    if (apr_xml_parser_feed(xp, s, strlen(s)) != APR_SUCCESS
        || apr_xml_parser_done(xp, &doc) != APR_SUCCESS) {
        return NULL;
    }
    return doc;
}

static const char *x_uri(const apr_xml_doc *d, const apr_xml_elem *e)
{
    return e->ns >= 0 ? APR_XML_GET_URI_ITEM(d->namespaces, e->ns) : "";
}

static const char *x_text(const apr_xml_elem *e)
{
    const apr_text *t;
    const char *s = "";

    for (t = e->first_cdata.first; t; t = t->next) {
        s = apr_pstrcat(pool, s, t->text, NULL);
    }
    return s;
}

/* Same name and namespace, same children in order; leaves have the same
 * text (white space between elements is not compared). */
static int x_eq(const apr_xml_doc *da, const apr_xml_elem *a,
                const apr_xml_doc *db, const apr_xml_elem *b)
{
    const apr_xml_elem *ca, *cb;

    if (strcmp(a->name, b->name) != 0
        || strcmp(x_uri(da, a), x_uri(db, b)) != 0) {
        diag("element <%s> vs <%s>", a->name, b->name);
        return 0;
    }
    if (!a->first_child && !b->first_child) {
        if (strcmp(x_text(a), x_text(b)) != 0) {
            diag("<%s>: '%s' vs '%s'", a->name, x_text(a), x_text(b));
            return 0;
        }
        return 1;
    }
    for (ca = a->first_child, cb = b->first_child; ca && cb;
         ca = ca->next, cb = cb->next) {
        if (!x_eq(da, ca, db, cb)) {
            return 0;
        }
    }
    if (ca || cb) {
        diag("<%s>: different number of children", a->name);
    }
    return !ca && !cb;
}

static int xml_eq(const char *a, const char *b)
{
    apr_xml_doc *da = xml(a), *db = xml(b);

    return da && db && x_eq(da, da->root, db, db->root);
}

/* ---- helpers: one property in each direction ---------------------------- */

static const char *strip(const char *s, const char *head, const char *tail)
{
    apr_size_t n = s ? strlen(s) : 0, h = strlen(head), t = strlen(tail);

    if (!s || n < h + t || strncmp(s, head, h) != 0
        || strcmp(s + n - t, tail) != 0) {
        return apr_pstrcat(pool, "UNEXPECTED: ", s ? s : "(null)", NULL);
    }
    return apr_pstrndup(pool, s + h, n - h - t);
}

/* iCalendar line -> jCal property (as text). */
static const char *prop_j(const char *line)
{
    const char *in = apr_pstrcat(pool, "BEGIN:VEVENT\r\n", line,
                                 "\r\nEND:VEVENT\r\n", NULL), *out, *why;
    apr_size_t n;

    if (calcore_jcal_component(in, strlen(in), &out, &n, &why, pool)) {
        return apr_pstrcat(pool, "ERROR: ", why, NULL);
    }
    return strip(out, "[\"vevent\",[", "],[]]");
}

/* iCalendar line -> xCal property element. */
static const char *prop_x(const char *line)
{
    const char *in = apr_pstrcat(pool, "BEGIN:VEVENT\r\n", line,
                                 "\r\nEND:VEVENT\r\n", NULL), *out, *why;
    apr_size_t n;

    if (calcore_xcal_component(in, strlen(in), &out, &n, &why, pool)) {
        return apr_pstrcat(pool, "ERROR: ", why, NULL);
    }
    return strip(out, "<vevent><properties>", "</properties></vevent>");
}

/* jCal property -> its iCalendar content line, as written (folded, CRLF
 * line ends, the last CRLF stripped). */
static const char *prop_ij_raw(const char *prop)
{
    const char *in = apr_pstrcat(pool, "[\"vcalendar\",[],[[\"vevent\",[",
                                 prop, "],[]]]]", NULL), *out, *why;
    apr_size_t n;

    if (calcore_from_jcal(in, strlen(in), &out, &n, &why, pool)) {
        return apr_pstrcat(pool, "ERROR: ", why, NULL);
    }
    return strip(out, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
                 "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
}

/* jCal property -> its iCalendar content line, unfolded. */
static const char *prop_ij(const char *prop)
{
    const char *s = prop_ij_raw(prop);

    return strncmp(s, "ERROR", 5) == 0 ? s : strip(unfolded(s), "", "\n");
}

/* xCal property element -> its iCalendar content line, unfolded. */
static const char *prop_ix(const char *prop)
{
    const char *in = apr_pstrcat(pool, "<icalendar xmlns=\"" CALCORE_XCAL_NS
                                 "\"><vcalendar><components><vevent>"
                                 "<properties>", prop, "</properties>"
                                 "</vevent></components></vcalendar>"
                                 "</icalendar>", NULL), *out, *why;
    apr_size_t n;

    if (calcore_from_xcal(in, strlen(in), &out, &n, &why, pool)) {
        return apr_pstrcat(pool, "ERROR: ", why, NULL);
    }
    out = strip(out, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
                "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    return strip(unfolded(out), "", "\n");
}

/* ---- the RFC examples --------------------------------------------------- */

/* RFC 7265 Appendix B.1 (iCalendar and jCal as printed). */
static const char rfc7265_b1_ical[] =
    "BEGIN:VCALENDAR\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "PRODID:-//Example Inc.//Example Calendar//EN\r\n"
    "VERSION:2.0\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTAMP:20080205T191224Z\r\n"
    "DTSTART;VALUE=DATE:20081006\r\n"
    "SUMMARY:Planning meeting\r\n"
    "UID:4088E990AD89CB3DBB484909\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static const char rfc7265_b1_jcal[] =
    "[\"vcalendar\",\n"
    "  [\n"
    "    [\"calscale\", {}, \"text\", \"GREGORIAN\"],\n"
    "    [\"prodid\", {}, \"text\", "
    "\"-//Example Inc.//Example Calendar//EN\"],\n"
    "    [\"version\", {}, \"text\", \"2.0\"]\n"
    "  ],\n"
    "  [\n"
    "    [\"vevent\",\n"
    "      [\n"
    "        [\"dtstamp\", {}, \"date-time\", \"2008-02-05T19:12:24Z\"],\n"
    "        [\"dtstart\", {}, \"date\", \"2008-10-06\"],\n"
    "        [\"summary\", {}, \"text\", \"Planning meeting\"],\n"
    "        [\"uid\", {}, \"text\", \"4088E990AD89CB3DBB484909\"]\n"
    "      ],\n"
    "      []\n"
    "    ]\n"
    "  ]\n"
    "]\n";

/* RFC 7265 Appendix B.2: the iCalendar as printed (folding included). */
static const char rfc7265_b2_ical[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Example Corp.//Example Client//EN\r\n"
    "BEGIN:VTIMEZONE\r\n"
    "LAST-MODIFIED:20040110T032845Z\r\n"
    "TZID:US/Eastern\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "DTSTART:20000404T020000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n"
    "TZNAME:EDT\r\n"
    "TZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:20001026T020000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "TZNAME:EST\r\n"
    "TZOFFSETFROM:-0400\r\n"
    "TZOFFSETTO:-0500\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTAMP:20060206T001121Z\r\n"
    "DTSTART;TZID=US/Eastern:20060102T120000\r\n"
    "DURATION:PT1H\r\n"
    "RRULE:FREQ=DAILY;COUNT=5\r\n"
    "RDATE;TZID=US/Eastern;VALUE=PERIOD:20060102T150000/PT2H\r\n"
    "SUMMARY:Event #2\r\n"
    "DESCRIPTION:We are having a meeting all this week at 12 pm fo\r\n"
    " r one hour\\, with an additional meeting on the first day 2 h\r\n"
    " ours long.\\nPlease bring your own lunch for the 12 pm meetin\r\n"
    " gs.\r\n"
    "UID:00959BC664CA650E933C892C@example.com\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTAMP:20060206T001121Z\r\n"
    "DTSTART;TZID=US/Eastern:20060104T140000\r\n"
    "DURATION:PT1H\r\n"
    "RECURRENCE-ID;TZID=US/Eastern:20060104T120000\r\n"
    "SUMMARY:Event #2 bis\r\n"
    "UID:00959BC664CA650E933C892C@example.com\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

/* RFC 7265 Appendix B.2, the jCal, with the corrections every
 * implementation's copy of it needs: the description is one JSON string
 * (the RFC splits it with JavaScript '+', noting that this is not JSON),
 * the period is the array of section 3.6.9, and the STANDARD rule and the
 * override follow the iCalendar of the same appendix (copies of the printed
 * jCal differ there: "1SU", DTSTART 2006-01-02T14:00:00, "Event #2"). */
static const char rfc7265_b2_jcal[] =
    "['vcalendar',\n"
    "  [\n"
    "    ['prodid', {}, 'text', '-//Example Corp.//Example Client//EN'],\n"
    "    ['version', {}, 'text', '2.0']\n"
    "  ],\n"
    "  [\n"
    "    ['vtimezone',\n"
    "      [\n"
    "        ['last-modified', {}, 'date-time', '2004-01-10T03:28:45Z'],\n"
    "        ['tzid', {}, 'text', 'US/Eastern']\n"
    "      ],\n"
    "      [\n"
    "        ['daylight',\n"
    "          [\n"
    "            ['dtstart', {}, 'date-time', '2000-04-04T02:00:00'],\n"
    "            ['rrule',\n"
    "             {},\n"
    "             'recur',\n"
    "             {\n"
    "               'freq': 'YEARLY',\n"
    "               'byday': '1SU',\n"
    "               'bymonth': 4\n"
    "             }\n"
    "            ],\n"
    "            ['tzname', {}, 'text', 'EDT'],\n"
    "            ['tzoffsetfrom', {}, 'utc-offset', '-05:00'],\n"
    "            ['tzoffsetto', {}, 'utc-offset', '-04:00']\n"
    "          ],\n"
    "          []\n"
    "        ],\n"
    "        ['standard',\n"
    "          [\n"
    "            ['dtstart', {}, 'date-time', '2000-10-26T02:00:00'],\n"
    "            ['rrule',\n"
    "             {},\n"
    "             'recur',\n"
    "             {\n"
    "               'freq': 'YEARLY',\n"
    "               'byday': '-1SU',\n"
    "               'bymonth': 10\n"
    "             }\n"
    "            ],\n"
    "            ['tzname', {}, 'text', 'EST'],\n"
    "            ['tzoffsetfrom', {}, 'utc-offset', '-04:00'],\n"
    "            ['tzoffsetto', {}, 'utc-offset', '-05:00']\n"
    "          ],\n"
    "          []\n"
    "        ]\n"
    "      ]\n"
    "    ],\n"
    "    ['vevent',\n"
    "      [\n"
    "        ['dtstamp', {}, 'date-time', '2006-02-06T00:11:21Z'],\n"
    "        ['dtstart',\n"
    "         { 'tzid': 'US/Eastern' },\n"
    "         'date-time',\n"
    "         '2006-01-02T12:00:00'\n"
    "        ],\n"
    "        ['duration', {}, 'duration', 'PT1H'],\n"
    "        ['rrule', {}, 'recur', { 'freq': 'DAILY', 'count': 5 } ],\n"
    "        ['rdate',\n"
    "         { 'tzid': 'US/Eastern' },\n"
    "         'period',\n"
    "         ['2006-01-02T15:00:00', 'PT2H']\n"
    "        ],\n"
    "        ['summary', {}, 'text', 'Event #2'],\n"
    "        ['description',\n"
    "         {},\n"
    "         'text',\n"
    "         'We are having a meeting all this week at 12 pm for one "
    "hour, with an additional meeting on the first day 2 hours long."
    "\\nPlease bring your own lunch for the 12 pm meetings.'\n"
    "        ],\n"
    "        ['uid', {}, 'text', '00959BC664CA650E933C892C@example.com']\n"
    "      ],\n"
    "      []\n"
    "    ],\n"
    "    ['vevent',\n"
    "      [\n"
    "        ['dtstamp', {}, 'date-time', '2006-02-06T00:11:21Z'],\n"
    "        ['dtstart',\n"
    "         { 'tzid': 'US/Eastern' },\n"
    "         'date-time',\n"
    "         '2006-01-04T14:00:00'\n"
    "        ],\n"
    "        ['duration', {}, 'duration', 'PT1H'],\n"
    "        ['recurrence-id',\n"
    "         { 'tzid': 'US/Eastern' },\n"
    "         'date-time',\n"
    "         '2006-01-04T12:00:00'\n"
    "        ],\n"
    "        ['summary', {}, 'text', 'Event #2 bis'],\n"
    "        ['uid', {}, 'text', '00959BC664CA650E933C892C@example.com']\n"
    "      ],\n"
    "      []\n"
    "    ]\n"
    "  ]\n"
    "]\n";

/* RFC 6321 Appendix B.1.1 with verified erratum 3892 (DTSTART carries
 * VALUE=DATE, as the XML of B.1.2 says), and B.1.2 as printed. */
static const char rfc6321_b1_ical[] =
    "BEGIN:VCALENDAR\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "PRODID:-//Example Inc.//Example Calendar//EN\r\n"
    "VERSION:2.0\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTAMP:20080205T191224Z\r\n"
    "DTSTART;VALUE=DATE:20081006\r\n"
    "SUMMARY:Planning meeting\r\n"
    "UID:4088E990AD89CB3DBB484909\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static const char rfc6321_b1_xcal[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<icalendar xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\">\n"
    " <vcalendar>\n"
    "  <properties>\n"
    "   <calscale>\n"
    "     <text>GREGORIAN</text>\n"
    "   </calscale>\n"
    "   <prodid>\n"
    "    <text>-//Example Inc.//Example Calendar//EN</text>\n"
    "   </prodid>\n"
    "   <version>\n"
    "     <text>2.0</text>\n"
    "   </version>\n"
    "  </properties>\n"
    "  <components>\n"
    "   <vevent>\n"
    "    <properties>\n"
    "     <dtstamp>\n"
    "       <date-time>2008-02-05T19:12:24Z</date-time>\n"
    "     </dtstamp>\n"
    "     <dtstart>\n"
    "       <date>2008-10-06</date>\n"
    "     </dtstart>\n"
    "     <summary>\n"
    "      <text>Planning meeting</text>\n"
    "     </summary>\n"
    "     <uid>\n"
    "      <text>4088E990AD89CB3DBB484909</text>\n"
    "     </uid>\n"
    "    </properties>\n"
    "   </vevent>\n"
    "  </components>\n"
    " </vcalendar>\n"
    "</icalendar>\n";

static void test_rfc7265_appendix_b(void)
{
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;

    rv = calcore_to_jcal(rfc7265_b1_ical, strlen(rfc7265_b1_ical), &out, &n,
                         &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 7265 B.1: iCalendar -> jCal");
    is_int(n, strlen(out), "... *outlen is the length");
    ok(tj(out) != NULL, "... the output is JSON");
    ok(jcal_eq(tj(out), tj(rfc7265_b1_jcal)),
       "... the same tree as the RFC's jCal");
    is_str(out, "[\"vcalendar\",[[\"calscale\",{},\"text\",\"GREGORIAN\"],"
                "[\"prodid\",{},\"text\",\"-//Example Inc.//Example Calendar"
                "//EN\"],[\"version\",{},\"text\",\"2.0\"]],[[\"vevent\",[["
                "\"dtstamp\",{},\"date-time\",\"2008-02-05T19:12:24Z\"],["
                "\"dtstart\",{},\"date\",\"2008-10-06\"],[\"summary\",{},"
                "\"text\",\"Planning meeting\"],[\"uid\",{},\"text\","
                "\"4088E990AD89CB3DBB484909\"]],[]]]]",
           "... written compactly, in the document's order");

    rv = calcore_from_jcal(rfc7265_b1_jcal, strlen(rfc7265_b1_jcal), &out,
                           &n, &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 7265 B.1: jCal -> iCalendar");
    is_str(why, NULL, "... no reason on success");
    is_str(out, rfc7265_b1_ical, "... exactly the RFC's iCalendar");

    rv = calcore_to_jcal(rfc7265_b2_ical, strlen(rfc7265_b2_ical), &out, &n,
                         &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 7265 B.2: iCalendar -> jCal");
    ok(jcal_eq(tj(out), tj(Q(rfc7265_b2_jcal))),
       "... the same tree as the RFC's jCal (properties in any order)");
    ok(!jcal_eq(tj(out), tj(Q(rfc7265_b1_jcal))),
       "... (and the comparison does tell documents apart)");

    rv = calcore_from_jcal(Q(rfc7265_b2_jcal), strlen(rfc7265_b2_jcal), &out,
                           &n, &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 7265 B.2: jCal -> iCalendar");
    is_str(canonical(out), canonical(rfc7265_b2_ical),
           "... the RFC's content lines after unfolding (property order "
           "normalised within each component)");
    ok(strstr(out, "RDATE;TZID=US/Eastern;VALUE=PERIOD:20060102T150000/PT2H"
                   "\r\n") != NULL,
       "... VALUE=PERIOD written after TZID, as in the RFC");
    ok(strstr(unfolded(out), "DESCRIPTION:We are having a meeting all this "
                             "week at 12 pm for one hour\\, with an "
                             "additional meeting on the first day 2 hours "
                             "long.\\nPlease bring your own lunch for the 12 "
                             "pm meetings.\n") != NULL,
       "... the comma escaped again, the newline as \\n");
}

static void test_rfc6321_appendix_b(void)
{
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;

    rv = calcore_to_xcal(rfc6321_b1_ical, strlen(rfc6321_b1_ical), &out, &n,
                         &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 6321 B.1: iCalendar -> xCal");
    is_int(n, strlen(out), "... *outlen is the length");
    ok(xml_eq(out, rfc6321_b1_xcal), "... the same XML tree as the RFC's");
    is_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<icalendar xmlns="
                "\"urn:ietf:params:xml:ns:icalendar-2.0\"><vcalendar>"
                "<properties><calscale><text>GREGORIAN</text></calscale>"
                "<prodid><text>-//Example Inc.//Example Calendar//EN</text>"
                "</prodid><version><text>2.0</text></version></properties>"
                "<components><vevent><properties><dtstamp><date-time>"
                "2008-02-05T19:12:24Z</date-time></dtstamp><dtstart><date>"
                "2008-10-06</date></dtstart><summary><text>Planning meeting"
                "</text></summary><uid><text>4088E990AD89CB3DBB484909</text>"
                "</uid></properties></vevent></components></vcalendar>"
                "</icalendar>",
           "... no white space between elements, no empty <components>");

    rv = calcore_from_xcal(rfc6321_b1_xcal, strlen(rfc6321_b1_xcal), &out,
                           &n, &why, pool);
    is_int(rv, APR_SUCCESS, "RFC 6321 B.1: xCal -> iCalendar");
    is_str(out, rfc6321_b1_ical, "... exactly the RFC's iCalendar");

    /* the B.2 iCalendar of RFC 7265 is also RFC 6321's B.2 example
     * (erratum 2929 fixes its header); xCal both ways */
    rv = calcore_to_xcal(rfc7265_b2_ical, strlen(rfc7265_b2_ical), &out, &n,
                         &why, pool);
    is_int(rv, APR_SUCCESS, "B.2 iCalendar -> xCal");
    ok(strstr(out, "<rdate><parameters><tzid><text>US/Eastern</text></tzid>"
                   "</parameters><period><start>2006-01-02T15:00:00</start>"
                   "<duration>PT2H</duration></period></rdate>") != NULL,
       "... the RDATE period as in RFC 6321 B.2.2");
    ok(strstr(out, "<rrule><recur><freq>YEARLY</freq><byday>-1SU</byday>"
                   "<bymonth>10</bymonth></recur></rrule>") != NULL,
       "... a rule as in RFC 6321 B.2.2");
    rv = calcore_from_xcal(out, n, &out, &n, &why, pool);
    is_int(rv, APR_SUCCESS, "... and back");
    is_str(unfolded(out), unfolded(rfc7265_b2_ical),
           "... the same content lines, in order");
}

/* ---- value types, parameters -------------------------------------------- */

typedef struct vrow_t {
    const char *what;
    const char *ical;           /* content line read                       */
    const char *jcal;           /* its jCal property (' for ")             */
    const char *xcal;           /* its xCal property element               */
    const char *back;           /* the line written back; NULL = 'ical'    */
} vrow_t;

static const vrow_t rows[] = {
    { "binary",
      "ATTACH;ENCODING=BASE64;VALUE=BINARY:SGVsbG8gV29ybGQh",
      "['attach',{'encoding':'BASE64'},'binary','SGVsbG8gV29ybGQh']",
      "<attach><parameters><encoding><text>BASE64</text></encoding>"
      "</parameters><binary>SGVsbG8gV29ybGQh</binary></attach>", NULL },
    { "boolean",
      "X-NON-SMOKING;VALUE=BOOLEAN:TRUE",
      "['x-non-smoking',{},'boolean',true]",
      "<x-non-smoking><boolean>true</boolean></x-non-smoking>", NULL },
    { "cal-address",
      "ORGANIZER;CN=John Smith:mailto:jsmith@example.com",
      "['organizer',{'cn':'John Smith'},'cal-address',"
      "'mailto:jsmith@example.com']",
      "<organizer><parameters><cn><text>John Smith</text></cn></parameters>"
      "<cal-address>mailto:jsmith@example.com</cal-address></organizer>",
      NULL },
    { "date",
      "DTSTART;VALUE=DATE:20110517",
      "['dtstart',{},'date','2011-05-17']",
      "<dtstart><date>2011-05-17</date></dtstart>", NULL },
    { "a bare DATE without VALUE=DATE",
      "DTSTART:20110517",
      "['dtstart',{},'date','2011-05-17']",
      "<dtstart><date>2011-05-17</date></dtstart>",
      "DTSTART;VALUE=DATE:20110517" },
    { "floating date-time",
      "DTSTART:20121017T120000",
      "['dtstart',{},'date-time','2012-10-17T12:00:00']",
      "<dtstart><date-time>2012-10-17T12:00:00</date-time></dtstart>",
      NULL },
    { "UTC date-time",
      "DTSTAMP:20121017T120000Z",
      "['dtstamp',{},'date-time','2012-10-17T12:00:00Z']",
      "<dtstamp><date-time>2012-10-17T12:00:00Z</date-time></dtstamp>",
      NULL },
    { "date-time with TZID (kept, not resolved)",
      "DTSTART;TZID=Europe/Berlin:20111017T120000",
      "['dtstart',{'tzid':'Europe/Berlin'},'date-time',"
      "'2011-10-17T12:00:00']",
      "<dtstart><parameters><tzid><text>Europe/Berlin</text></tzid>"
      "</parameters><date-time>2011-10-17T12:00:00</date-time></dtstart>",
      NULL },
    { "date-time list",
      "EXDATE:20120225T120000Z,20120226T120000Z",
      "['exdate',{},'date-time','2012-02-25T12:00:00Z',"
      "'2012-02-26T12:00:00Z']",
      "<exdate><date-time>2012-02-25T12:00:00Z</date-time><date-time>"
      "2012-02-26T12:00:00Z</date-time></exdate>", NULL },
    { "date list",
      "RDATE;VALUE=DATE:20121001,20121002",
      "['rdate',{},'date','2012-10-01','2012-10-02']",
      "<rdate><date>2012-10-01</date><date>2012-10-02</date></rdate>",
      NULL },
    { "duration",
      "DURATION:P1DT2H30M",
      "['duration',{},'duration','P1DT2H30M']",
      "<duration><duration>P1DT2H30M</duration></duration>", NULL },
    { "negative duration",
      "TRIGGER;RELATED=END:-PT15M",
      "['trigger',{'related':'END'},'duration','-PT15M']",
      "<trigger><parameters><related><text>END</text></related>"
      "</parameters><duration>-PT15M</duration></trigger>", NULL },
    { "TRIGGER date-time without VALUE",
      "TRIGGER:19980101T050000Z",
      "['trigger',{},'date-time','1998-01-01T05:00:00Z']",
      "<trigger><date-time>1998-01-01T05:00:00Z</date-time></trigger>",
      "TRIGGER;VALUE=DATE-TIME:19980101T050000Z" },
    { "float",
      "X-GRADE;VALUE=FLOAT:+01.50",
      "['x-grade',{},'float',1.50]",
      "<x-grade><float>1.50</float></x-grade>",
      "X-GRADE;VALUE=FLOAT:1.50" },
    { "integer",
      "PERCENT-COMPLETE:42",
      "['percent-complete',{},'integer',42]",
      "<percent-complete><integer>42</integer></percent-complete>", NULL },
    { "integer list",
      "X-COUNTS;VALUE=INTEGER:-7,08",
      "['x-counts',{},'integer',-7,8]",
      "<x-counts><integer>-7</integer><integer>8</integer></x-counts>",
      "X-COUNTS;VALUE=INTEGER:-7,8" },
    { "geo",
      "GEO:37.386013;-122.082932",
      "['geo',{},'float',[37.386013,-122.082932]]",
      "<geo><latitude>37.386013</latitude><longitude>-122.082932"
      "</longitude></geo>", NULL },
    { "period with duration",
      "FREEBUSY;FBTYPE=FREE:19970308T160000Z/P1D",
      "['freebusy',{'fbtype':'FREE'},'period',['1997-03-08T16:00:00Z',"
      "'P1D']]",
      "<freebusy><parameters><fbtype><text>FREE</text></fbtype>"
      "</parameters><period><start>1997-03-08T16:00:00Z</start><duration>"
      "P1D</duration></period></freebusy>", NULL },
    { "period list with an end",
      "FREEBUSY:19970308T160000Z/19970308T170000Z,19970309T160000Z/PT1H",
      "['freebusy',{},'period',['1997-03-08T16:00:00Z',"
      "'1997-03-08T17:00:00Z'],['1997-03-09T16:00:00Z','PT1H']]",
      "<freebusy><period><start>1997-03-08T16:00:00Z</start><end>"
      "1997-03-08T17:00:00Z</end></period><period><start>"
      "1997-03-09T16:00:00Z</start><duration>PT1H</duration></period>"
      "</freebusy>", NULL },
    { "RDATE period without VALUE=PERIOD",
      "RDATE:19960403T020000Z/19960403T040000Z",
      "['rdate',{},'period',['1996-04-03T02:00:00Z',"
      "'1996-04-03T04:00:00Z']]",
      "<rdate><period><start>1996-04-03T02:00:00Z</start><end>"
      "1996-04-03T04:00:00Z</end></period></rdate>",
      "RDATE;VALUE=PERIOD:19960403T020000Z/19960403T040000Z" },
    { "recur",
      "RRULE:FREQ=YEARLY;COUNT=5;BYDAY=-1SU,2MO;BYMONTH=10",
      "['rrule',{},'recur',{'freq':'YEARLY','count':5,'byday':['-1SU',"
      "'2MO'],'bymonth':10}]",
      "<rrule><recur><freq>YEARLY</freq><count>5</count><byday>-1SU</byday>"
      "<byday>2MO</byday><bymonth>10</bymonth></recur></rrule>", NULL },
    { "recur with UNTIL, INTERVAL, WKST, BYSETPOS",
      "RRULE:FREQ=MONTHLY;UNTIL=20131001T220000Z;INTERVAL=2;WKST=SU;"
      "BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
      "['rrule',{},'recur',{'freq':'MONTHLY','until':'2013-10-01T22:00:00Z',"
      "'interval':2,'wkst':'SU','bysetpos':-1,'byday':['MO','TU','WE','TH',"
      "'FR']}]",
      "<rrule><recur><freq>MONTHLY</freq><until>2013-10-01T22:00:00Z</until>"
      "<interval>2</interval><wkst>SU</wkst><bysetpos>-1</bysetpos><byday>"
      "MO</byday><byday>TU</byday><byday>WE</byday><byday>TH</byday><byday>"
      "FR</byday></recur></rrule>", NULL },
    { "recur with a DATE UNTIL and number lists",
      "EXRULE:FREQ=DAILY;UNTIL=20131001;BYHOUR=9,17;BYMINUTE=0,30",
      "['exrule',{},'recur',{'freq':'DAILY','until':'2013-10-01','byhour':"
      "[9,17],'byminute':[0,30]}]",
      "<exrule><recur><freq>DAILY</freq><until>2013-10-01</until><byhour>9"
      "</byhour><byhour>17</byhour><byminute>0</byminute><byminute>30"
      "</byminute></recur></exrule>", NULL },
    { "recur with RFC 7529 parts, FREQ moved first",
      "RRULE:RSCALE=CHINESE;FREQ=YEARLY;BYMONTH=5L;SKIP=FORWARD",
      "['rrule',{},'recur',{'rscale':'CHINESE','freq':'YEARLY','bymonth':"
      "'5L','skip':'FORWARD'}]",
      "<rrule><recur><rscale>CHINESE</rscale><freq>YEARLY</freq><bymonth>5L"
      "</bymonth><skip>FORWARD</skip></recur></rrule>",
      "RRULE:FREQ=YEARLY;RSCALE=CHINESE;BYMONTH=5L;SKIP=FORWARD" },
    { "text: escapes removed",
      "SUMMARY:a\\,b\\;c\\\\d\\ne\\Nf",
      "['summary',{},'text','a,b;c\\\\d\\ne\\nf']",
      "<summary><text>a,b;c\\d\ne\nf</text></summary>",
      "SUMMARY:a\\,b\\;c\\\\d\\ne\\nf" },
    { "text list: one value per item",
      "CATEGORIES:vacation,work\\,play",
      "['categories',{},'text','vacation','work,play']",
      "<categories><text>vacation</text><text>work,play</text></categories>",
      NULL },
    { "text with XML specials",
      "LOCATION:<Tom & Jerry>",
      "['location',{},'text','<Tom & Jerry>']",
      "<location><text>&lt;Tom &amp; Jerry&gt;</text></location>", NULL },
    { "time",
      "X-TIME-LOCAL;VALUE=TIME:123000",
      "['x-time-local',{},'time','12:30:00']",
      "<x-time-local><time>12:30:00</time></x-time-local>", NULL },
    { "UTC time",
      "X-TIME-UTC;VALUE=TIME:123000Z",
      "['x-time-utc',{},'time','12:30:00Z']",
      "<x-time-utc><time>12:30:00Z</time></x-time-utc>", NULL },
    { "uri",
      "TZURL:http://example.org/tz/Europe-Berlin.ics",
      "['tzurl',{},'uri','http://example.org/tz/Europe-Berlin.ics']",
      "<tzurl><uri>http://example.org/tz/Europe-Berlin.ics</uri></tzurl>",
      NULL },
    { "uri with a comma; VALUE of the default type dropped",
      "URL;VALUE=URI:http://example.org/a,b",
      "['url',{},'uri','http://example.org/a,b']",
      "<url><uri>http://example.org/a,b</uri></url>",
      "URL:http://example.org/a,b" },
    { "utc-offset",
      "TZOFFSETFROM:-0500",
      "['tzoffsetfrom',{},'utc-offset','-05:00']",
      "<tzoffsetfrom><utc-offset>-05:00</utc-offset></tzoffsetfrom>", NULL },
    { "utc-offset with seconds",
      "TZOFFSETTO:+013045",
      "['tzoffsetto',{},'utc-offset','+01:30:45']",
      "<tzoffsetto><utc-offset>+01:30:45</utc-offset></tzoffsetto>", NULL },
    { "X- property: unknown, raw text",
      "X-COMPLEX:foo;bar,baz\\,x",
      "['x-complex',{},'unknown','foo;bar,baz\\\\,x']",
      "<x-complex><unknown>foo;bar,baz\\,x</unknown></x-complex>", NULL },
    { "unknown IANA property",
      "DRESSCODE:CASUAL",
      "['dresscode',{},'unknown','CASUAL']",
      "<dresscode><unknown>CASUAL</unknown></dresscode>", NULL },
    { "a value type we do not know",
      "X-FOO;VALUE=X-THING:abc",
      "['x-foo',{},'x-thing','abc']",
      "<x-foo><x-thing>abc</x-thing></x-foo>", NULL },
    { "text on an X- property",
      "X-WR-CALNAME;VALUE=TEXT:Work\\, home",
      "['x-wr-calname',{},'text','Work, home']",
      "<x-wr-calname><text>Work, home</text></x-wr-calname>", NULL },
    { "request-status",
      "REQUEST-STATUS:2.0;Success",
      "['request-status',{},'text',['2.0','Success']]",
      "<request-status><code>2.0</code><description>Success</description>"
      "</request-status>", NULL },
    { "request-status with data",
      "REQUEST-STATUS:3.7;Invalid Calendar User;ATTENDEE:"
      "mailto:jsmith@example.org",
      "['request-status',{},'text',['3.7','Invalid Calendar User',"
      "'ATTENDEE:mailto:jsmith@example.org']]",
      "<request-status><code>3.7</code><description>Invalid Calendar User"
      "</description><data>ATTENDEE:mailto:jsmith@example.org</data>"
      "</request-status>", NULL },
    { "request-status with escapes",
      "REQUEST-STATUS:2.8;Success\\, repeating event ignored;RRULE:"
      "FREQ=WEEKLY\\;INTERVAL=2",
      "['request-status',{},'text',['2.8','Success, repeating event "
      "ignored','RRULE:FREQ=WEEKLY;INTERVAL=2']]",
      "<request-status><code>2.8</code><description>Success, repeating "
      "event ignored</description><data>RRULE:FREQ=WEEKLY;INTERVAL=2</data>"
      "</request-status>", NULL },
    { "empty unknown value",
      "X-EMPTY:",
      "['x-empty',{},'unknown','']",
      "<x-empty><unknown></unknown></x-empty>", NULL },
    { "empty text",
      "DESCRIPTION:",
      "['description',{},'text','']",
      "<description><text></text></description>", NULL },
    { "multi-valued parameter",
      "ATTENDEE;DELEGATED-TO=\"mailto:jsmith@example.org\","
      "\"mailto:jdoe@example.org\":mailto:jdoe@example.com",
      "['attendee',{'delegated-to':['mailto:jsmith@example.org',"
      "'mailto:jdoe@example.org']},'cal-address','mailto:jdoe@example.com']",
      "<attendee><parameters><delegated-to><cal-address>"
      "mailto:jsmith@example.org</cal-address><cal-address>"
      "mailto:jdoe@example.org</cal-address></delegated-to></parameters>"
      "<cal-address>mailto:jdoe@example.com</cal-address></attendee>",
      NULL },
    { "a list parameter with one value",
      "ATTENDEE;MEMBER=\"mailto:ietf-calsch@example.org\":"
      "mailto:jsmith@example.com",
      "['attendee',{'member':'mailto:ietf-calsch@example.org'},"
      "'cal-address','mailto:jsmith@example.com']",
      "<attendee><parameters><member><cal-address>"
      "mailto:ietf-calsch@example.org</cal-address></member></parameters>"
      "<cal-address>mailto:jsmith@example.com</cal-address></attendee>",
      NULL },
    { "boolean and cal-address parameters",
      "ATTENDEE;RSVP=TRUE;SENT-BY=\"mailto:sray@example.com\":"
      "mailto:a@example.com",
      "['attendee',{'rsvp':'TRUE','sent-by':'mailto:sray@example.com'},"
      "'cal-address','mailto:a@example.com']",
      "<attendee><parameters><rsvp><boolean>true</boolean></rsvp><sent-by>"
      "<cal-address>mailto:sray@example.com</cal-address></sent-by>"
      "</parameters><cal-address>mailto:a@example.com</cal-address>"
      "</attendee>", NULL },
    { "quoted parameter, RFC 6868",
      "ATTENDEE;CN=\"Doe, Jane ^'JJ^' ^^ x\";X-LINES=a^nb:"
      "mailto:jane@example.com",
      "['attendee',{'cn':'Doe, Jane \\'JJ\\' ^ x','x-lines':'a\\nb'},"
      "'cal-address','mailto:jane@example.com']",
      "<attendee><parameters><cn><text>Doe, Jane \"JJ\" ^ x</text></cn>"
      "<x-lines><unknown>a\nb</unknown></x-lines></parameters><cal-address>"
      "mailto:jane@example.com</cal-address></attendee>", NULL },
    { "X- property with parameters",
      "X-ORACLE-EVENTTYPE;X-ORACLE-P=\"a;b\",c;X-E=:Daily note\\, work",
      "['x-oracle-eventtype',{'x-oracle-p':['a;b','c'],'x-e':''},'unknown',"
      "'Daily note\\\\, work']",
      "<x-oracle-eventtype><parameters><x-oracle-p><unknown>a;b</unknown>"
      "<unknown>c</unknown></x-oracle-p><x-e><unknown></unknown></x-e>"
      "</parameters><unknown>Daily note\\, work</unknown>"
      "</x-oracle-eventtype>", NULL }
};

static void test_value_types(void)
{
    unsigned i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const vrow_t *r = &rows[i];
        const char *back = r->back ? r->back : r->ical;

        is_str(prop_j(r->ical), Q(r->jcal), "%s: iCalendar -> jCal", r->what);
        is_str(prop_ij(Q(r->jcal)), back, "%s: jCal -> iCalendar", r->what);
        is_str(prop_x(r->ical), r->xcal, "%s: iCalendar -> xCal", r->what);
        is_str(prop_ix(r->xcal), back, "%s: xCal -> iCalendar", r->what);
    }

    /* what the readers accept besides the canonical forms */
    is_str(prop_ij(Q("['freebusy',{},'period','1997-03-08T16:00:00Z/P1D']")),
           "FREEBUSY:19970308T160000Z/P1D",
           "jCal: a period as a string \"start/end\" is accepted");
    is_str(prop_ij(Q("['geo',{},'float',37.5,-122.25]")), "GEO:37.5;-122.25",
           "jCal: GEO as two values is accepted");
    is_str(prop_ij(Q("['x-tiny',{},'float',1e-7,2.5E2,-3e0]")),
           "X-TINY;VALUE=FLOAT:0.0000001,250,-3",
           "jCal: exponents are written in plain decimal");
    is_str(prop_ij(Q("['sequence',{},'integer',4.0]")), "SEQUENCE:4",
           "jCal: an integer with a zero fraction");
    is_str(prop_ij(Q("['dtstart',{'value':'DATE-TIME'},'date','2011-05-17']")),
           "DTSTART;VALUE=DATE:20110517",
           "jCal: a 'value' parameter is ignored, the type element decides");
    is_str(prop_ij(Q("['x-n',{},'unknown',42]")), "X-N:42",
           "jCal: an unknown value given as a number");
    is_str(prop_ij(Q("['x-b',{},'boolean','false']")),
           "X-B;VALUE=BOOLEAN:FALSE",
           "jCal: a boolean given as a string");
    is_str(prop_ij(Q("['rrule',{},'recur',{'freq':'WEEKLY','byday':'MO',"
                 "'count':'3','until':'2024-01-01'}]")),
           "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3;UNTIL=20240101",
           "jCal: numeric rule parts given as strings");
    is_str(prop_ix("<x-bin><binary>SGVs\n  bG8=</binary></x-bin>"),
           "X-BIN;VALUE=BINARY:SGVsbG8=",
           "xCal: white space inside binary is dropped");
    is_str(prop_ix("<dtstart>\n <date-time> 2011-05-17T12:00:00 </date-time>\n"
               "</dtstart>"),
           "DTSTART:20110517T120000",
           "xCal: white space around a date-time is dropped");
    is_str(prop_ix("<summary><text> keep  spaces </text></summary>"),
           "SUMMARY: keep  spaces ", "xCal: ... but kept in text");
    is_str(prop_ix("<summary><parameters><language><text>de</text></language>"
               "</parameters><x:extra xmlns:x=\"urn:x\">ignored</x:extra>"
               "<text>Hallo</text></summary>"),
           "SUMMARY;LANGUAGE=de:Hallo",
           "xCal: elements of other namespaces are skipped");
    is_str(prop_ix("<categories><text>a</text><text>b,c</text></categories>"),
           "CATEGORIES:a,b\\,c", "xCal: several text values");

    /* values that must come back as they went out */
    is_str(prop_j("DTSTART;TZID=A;TZID=B:20240101T120000"),
           "[\"dtstart\",{\"tzid\":[\"A\",\"B\"]},\"date-time\","
           "\"2024-01-01T12:00:00\"]",
           "a single-valued parameter given twice is kept as a list");
    is_str(prop_ij("[\"dtstart\",{\"tzid\":[\"A\",\"B\"]},\"date-time\","
                   "\"2024-01-01T12:00:00\"]"),
           "DTSTART;TZID=A;TZID=B:20240101T120000",
           "... and written repeated, not joined by a comma");
    is_str(prop_j("X-TAGS;VALUE=TEXT:a,b\\,c"),
           "[\"x-tags\",{},\"text\",\"a\",\"b,c\"]",
           "TEXT of an unknown property: an unescaped comma separates values");
    is_str(prop_ij("[\"x-tags\",{},\"text\",\"a\",\"b,c\"]"),
           "X-TAGS;VALUE=TEXT:a,b\\,c", "... and back");
    is_str(prop_j("SUMMARY:a,b"), "[\"summary\",{},\"text\",\"a,b\"]",
           "... but not of a known single-valued one");
    is_str(prop_x("X-A:\xEF\xBF\xBF"), "<x-a><unknown>\xEF\xBF\xBD</unknown>"
           "</x-a>", "U+FFFF, not an XML character, is U+FFFD in xCal");
    is_str(prop_x("RRULE:FREQ=DAILY;1X=2"),
           "ERROR: xCal: rrule: rule part \"1x\" is not an XML name",
           "a rule part XML cannot carry");

    /* lenient iCalendar reading (stored objects libical let through) */
    is_str(prop_j("X-A;X-P=say \"hi\":v"),
           "[\"x-a\",{\"x-p\":\"say \\\"hi\\\"\"},\"unknown\",\"v\"]",
           "a '\"' inside an unquoted parameter value is taken literally");
    is_str(prop_ij("[\"x-a\",{\"x-p\":\"say \\\"hi\\\"\"},\"unknown\","
                   "\"v\"]"),
           "X-A;X-P=say ^'hi^':v", "... and written back RFC 6868-encoded");
    is_str(prop_j("DTSTART:20240101t120000z"),
           "[\"dtstart\",{},\"date-time\",\"2024-01-01T12:00:00Z\"]",
           "lower-case t and z in a DATE-TIME");
    is_str(prop_j("TRIGGER:-pt1h"),
           "[\"trigger\",{},\"duration\",\"-PT1H\"]",
           "a lower-case DURATION, written in upper case");
    is_str(prop_ij("[\"duration\",{},\"duration\",\"p1dt1m\"]"),
           "DURATION:P1DT1M", "... from jCal too");
}

/* ---- escaping and folding ----------------------------------------------- */

static void test_escaping(void)
{
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;
    const char *js;

    /* JSON escapes in, UTF-8 out */
    is_str(prop_ij("[\"summary\",{},\"text\",\"t\\tq\\\"b\\\\s\\/ \\u00e9"
               "\\ud83d\\ude00 \\u2713\"]"),
           "SUMMARY:t\tq\"b\\\\s/ \xC3\xA9\xF0\x9F\x98\x80 \xE2\x9C\x93",
           "jCal -> iCalendar: \\t \\\" \\\\ \\/ \\u escapes and a "
           "surrogate pair decoded, backslash escaped for iCalendar");
    is_str(prop_ij("[\"description\",{},\"text\",\"a\\r\\nb\\rc\\nd\"]"),
           "DESCRIPTION:a\\nb\\nc\\nd",
           "jCal -> iCalendar: CRLF, CR and LF all become \\n");
    /* and the JSON writer */
    js = prop_j("SUMMARY:t\tq\"b\\\\s\\n\xC3\xA9");
    is_str(js, "[\"summary\",{},\"text\",\"t\\tq\\\"b\\\\s\\n\xC3\xA9\"]",
           "iCalendar -> jCal: tab, quote, backslash and newline escaped, "
           "UTF-8 written as is");
    ok(tj_eq(tj(js), tj("[\"summary\",{},\"text\",\"t\\tq\\\"b\\\\s\\n"
                        "\\u00e9\"]")),
       "... and reads back as the same string");
    is_str(prop_j("X-A;X-Q=\"a\\b\":v"), "[\"x-a\",{\"x-q\":\"a\\\\b\"},"
                                     "\"unknown\",\"v\"]",
           "a backslash in a parameter is escaped in JSON");

    /* control characters */
    js = Q("['vcalendar',[['x-a',{},'unknown','a\\u0001']],[]]");
    rv = calcore_from_jcal(js, strlen(js), &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "a control character in a jCal value");
    is_str(why, "jCal: vcalendar: x-a: control character or line break in "
                "value", "... its reason");
    js = Q("['vcalendar',[['x-a',{},'unknown','a\\nb']],[]]");
    rv = calcore_from_jcal(js, strlen(js), &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "a line break in a raw (unknown) value");
    is_str(why, "jCal: vcalendar: x-a: control character or line break in "
                "value", "... its reason");
    js = Q("['vcalendar',[['summary',{'x-p':'a\\u0007'},'text','x']],[]]");
    rv = calcore_from_jcal(js, strlen(js), &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "a control character in a parameter");
    is_str(why, "jCal: vcalendar: summary: parameter x-p: control character "
                "in value", "... its reason");
}

static void test_folding(void)
{
    const char *out, *why, *in, *s, *u;
    char big[600];
    apr_size_t n, max;
    apr_status_t rv;
    int split, bad_end, i;

    /* "SUMMARY:" is 8 octets */
    s = prop_ij_raw(apr_psprintf(pool, "[\"summary\",{},\"text\",\"%s\xC3\xA9"
                                 "bbb\"]", rep('a', 65)));
    is_str(s, apr_psprintf(pool, "SUMMARY:%s\xC3\xA9\r\n bbb", rep('a', 65)),
           "a 2-octet character ending at octet 75 stays on the line");
    s = prop_ij_raw(apr_psprintf(pool, "[\"summary\",{},\"text\",\"%s\xC3\xA9"
                                 "bbb\"]", rep('a', 66)));
    is_str(s, apr_psprintf(pool, "SUMMARY:%s\r\n \xC3\xA9" "bbb",
                           rep('a', 66)),
           "a 2-octet character that would end at octet 76 moves on (the "
           "line has 74)");
    s = prop_ij_raw(apr_psprintf(pool, "[\"summary\",{},\"text\",\"%s"
                                 "\xF0\x9F\x98\x80z\"]", rep('a', 64)));
    is_str(s, apr_psprintf(pool, "SUMMARY:%s\r\n \xF0\x9F\x98\x80z",
                           rep('a', 64)),
           "a 4-octet character that would end at octet 76 moves on");
    s = prop_ij_raw(apr_psprintf(pool, "[\"summary\",{},\"text\",\"%s\"]",
                                 rep('c', 67 + 74 + 10)));
    is_str(s, apr_psprintf(pool, "SUMMARY:%s\r\n %s\r\n %s", rep('c', 67),
                           rep('c', 74), rep('c', 10)),
           "ASCII: 75 octets, then a space and 74 octets per line");
    s = prop_ij_raw(apr_psprintf(pool, "[\"summary\",{},\"text\",\"%s\"]",
                                 rep('c', 67)));
    is_str(s, apr_psprintf(pool, "SUMMARY:%s", rep('c', 67)),
           "exactly 75 octets: not folded");

    /* a long mixed value: every line at most 75 octets, no sequence split */
    big[0] = '\0';
    for (i = 0; i < 40; i++) {
        strcat(big, i % 3 == 0   ? "\xC3\xA9"
                    : i % 3 == 1 ? "\xE2\x9C\x93x"
                                 : "\xF0\x9F\x98\x80yz");
    }
    in = apr_pstrcat(pool, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:", big,
                     big, big, "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", NULL);
    rv = calcore_to_jcal(in, strlen(in), &out, &n, &why, pool);
    is_int(rv, APR_SUCCESS, "long UTF-8 text -> jCal");
    rv = calcore_from_jcal(out, n, &out, &n, &why, pool);
    is_int(rv, APR_SUCCESS, "... and back");
    max = longest_line(out, &split, &bad_end);
    ok(max <= 75, "... no line longer than 75 octets (longest %d)", (int)max);
    ok(max >= 72, "... lines are filled (longest %d)", (int)max);
    is_int(split, 0, "... no continuation line starts inside a UTF-8 "
                     "sequence");
    is_int(bad_end, 0, "... every line ends in CRLF");
    u = unfolded(out);
    is_str(u, unfolded(in), "... unfolds to the original");
}

/* ---- round trips -------------------------------------------------------- */

static const char kitchen_sink[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//mod_caldav//jCal test//EN\r\n"
    "X-WR-CALNAME:Team\r\n"
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Berlin\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:kitchen-sink@example.com\r\n"
    "DTSTAMP:20240101T120000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20240115T090000\r\n"
    "DTEND;TZID=Europe/Berlin:20240115T100000\r\n"
    "RRULE:FREQ=WEEKLY;UNTIL=20241231T235959Z;BYDAY=MO,WE\r\n"
    "EXDATE;TZID=Europe/Berlin:20240117T090000,20240122T090000\r\n"
    "RDATE;VALUE=PERIOD:20240201T080000Z/PT2H\r\n"
    "SUMMARY:Weekly sync\\, with \"quotes\" and a long summary that needs fol"
    "ding: \r\n \xC3\xA9 \xC3\xBC \xF0\x9F\x98\x80 \xE2\x9C\x93 and more "
    "text\r\n"
    "DESCRIPTION:Line 1\\nLine 2\\; semi\\\\back\r\n"
    "LOCATION;ALTREP=\"http://example.com/room?a=1&b=2\":Room 1\r\n"
    "CATEGORIES:work,meeting\\,weekly\r\n"
    "GEO:48.137154;11.576124\r\n"
    "PRIORITY:5\r\n"
    "CLASS:PUBLIC\r\n"
    "ORGANIZER;CN=\"Smith, John\";SENT-BY=\"mailto:assistant@example.com\":"
    "mailto:jo\r\n hn@example.com\r\n"
    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;DELEGATED-"
    "FRO\r\n M=\"mailto:a@example.com\",\"mailto:b@example.com\";CN=Jane ^'JJ^"
    "' Doe:mailto:\r\n jane@example.com\r\n"
    "ATTACH;FMTTYPE=text/plain;ENCODING=BASE64;VALUE=BINARY:SGVsbG8=\r\n"
    "URL:http://example.com/event?x=1,2\r\n"
    "REQUEST-STATUS:2.0;Success\r\n"
    "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
    "X-ORACLE-P;X-A=\"x;y\",z;X-B=:raw\\,value;with;semis\r\n"
    "FUTUREPROP;FOO=bar:anything goes\r\n"
    "X-EMPTY:\r\n"
    "X-NUM;VALUE=INTEGER:1,-2\r\n"
    "BEGIN:VALARM\r\n"
    "ACTION:DISPLAY\r\n"
    "TRIGGER;RELATED=START:-PT15M\r\n"
    "DESCRIPTION:Reminder\r\n"
    "END:VALARM\r\n"
    "END:VEVENT\r\n"
    "BEGIN:X-CUSTOM-COMP\r\n"
    "X-FOO:bar\r\n"
    "END:X-CUSTOM-COMP\r\n"
    "END:VCALENDAR\r\n";

static void test_round_trips(void)
{
    const char *j, *x, *back, *j2, *why;
    apr_size_t jn, xn, bn, j2n;
    apr_status_t rv;
    int split, bad_end;

    rv = calcore_to_jcal(kitchen_sink, strlen(kitchen_sink), &j, &jn, &why,
                         pool);
    is_int(rv, APR_SUCCESS, "kitchen sink -> jCal");
    rv = calcore_from_jcal(j, jn, &back, &bn, &why, pool);
    is_int(rv, APR_SUCCESS, "... -> iCalendar");
    is_str(back, kitchen_sink,
           "... octet for octet the original (same folding too)");
    is_str(unfolded(back), unfolded(kitchen_sink),
           "... the same content lines after unfolding");
    rv = calcore_to_jcal(back, bn, &j2, &j2n, &why, pool);
    is_str(j2, j, "jCal -> iCalendar -> jCal gives the same jCal");

    rv = calcore_to_xcal(kitchen_sink, strlen(kitchen_sink), &x, &xn, &why,
                         pool);
    is_int(rv, APR_SUCCESS, "kitchen sink -> xCal");
    ok(xml(x) != NULL, "... well-formed XML");
    rv = calcore_from_xcal(x, xn, &back, &bn, &why, pool);
    is_int(rv, APR_SUCCESS, "... -> iCalendar");
    is_str(unfolded(back), unfolded(kitchen_sink),
           "... the same content lines after unfolding");
    ok(longest_line(back, &split, &bad_end) <= 75 && !split && !bad_end,
       "... folded at 75 octets with CRLF");

    /* LF line ends and lower-case names are read too */
    {
        const char *lf = "begin:vcalendar\nversion:2.0\nbegin:vtodo\n"
                         "uid:x\nsummary;language=en:Hi\n there\n"
                         "end:vtodo\nend:vcalendar\n";

        rv = calcore_to_jcal(lf, strlen(lf), &j, &jn, &why, pool);
        is_str(j, "[\"vcalendar\",[[\"version\",{},\"text\",\"2.0\"]],[["
                  "\"vtodo\",[[\"uid\",{},\"text\",\"x\"],[\"summary\",{"
                  "\"language\":\"en\"},\"text\",\"Hithere\"]],[]]]]",
               "LF line ends, lower-case names, folding with LF");
    }
    /* a byte-order mark */
    {
        const char *bom = "\xEF\xBB\xBF"
                          "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";

        rv = calcore_to_jcal(bom, strlen(bom), &j, &jn, &why, pool);
        is_str(j, "[\"vcalendar\",[],[]]", "a UTF-8 BOM is skipped");
        const char *bj = "\xEF\xBB\xBF[\"vcalendar\",[],[]]";

        rv = calcore_from_jcal(bj, strlen(bj), &back, &bn, &why, pool);
        is_str(back, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
               "... in JSON too");
    }
    /* two VCALENDARs */
    {
        const char *two = "BEGIN:VCALENDAR\r\nPRODID:a\r\nEND:VCALENDAR\r\n"
                          "BEGIN:VCALENDAR\r\nPRODID:b\r\nEND:VCALENDAR\r\n";

        rv = calcore_to_jcal(two, strlen(two), &j, &jn, &why, pool);
        is_str(j, "[[\"vcalendar\",[[\"prodid\",{},\"text\",\"a\"]],[]],"
                  "[\"vcalendar\",[[\"prodid\",{},\"text\",\"b\"]],[]]]",
               "two VCALENDARs: an array of two vcalendar arrays");
        rv = calcore_from_jcal(j, jn, &back, &bn, &why, pool);
        is_str(back, two, "... and back");
        rv = calcore_to_xcal(two, strlen(two), &x, &xn, &why, pool);
        rv = calcore_from_xcal(x, xn, &back, &bn, &why, pool);
        is_str(back, two, "... through xCal: two <vcalendar> elements");
    }
}

/* ---- streaming ---------------------------------------------------------- */

typedef struct parts_t {
    const char *jcal;
    const char *xcal;
    int n;
} parts_t;

static apr_status_t part_cb(void *baton, const char *name, const char *text,
                            apr_size_t len, const char *tzid,
                            apr_pool_t *scratch)
{
    parts_t *p = baton;
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;

    rv = calcore_jcal_component(text, len, &out, &n, &why, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    p->jcal = apr_pstrcat(pool, p->jcal, p->n ? CALCORE_JCAL_SEPARATOR : "",
                          out, NULL);
    rv = calcore_xcal_component(text, len, &out, &n, &why, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    p->xcal = apr_pstrcat(pool, p->xcal, out, NULL);
    p->n++;
    return APR_SUCCESS;
}

static void test_streaming(void)
{
    const char *props = "VERSION:2.0\r\nPRODID:-//mod_caldav//jCal test//EN"
                        "\r\nX-WR-CALNAME:Team\r\n";
    const char *whole, *head, *why;
    apr_size_t n;
    apr_status_t rv;
    parts_t parts = { "", "", 0 };
    apr_pool_t *scratch;

    apr_pool_create(&scratch, pool);
    rv = calcore_feed_split(kitchen_sink, strlen(kitchen_sink), part_cb,
                            &parts, scratch);
    is_int(rv, APR_SUCCESS, "each component of a stored object converted");
    is_int(parts.n, 3, "... three components");

    rv = calcore_jcal_calendar_open(props, strlen(props), &head, &n, &why,
                                    pool);
    is_int(rv, APR_SUCCESS, "jCal calendar opening");
    is_str(head, "[\"vcalendar\",[[\"version\",{},\"text\",\"2.0\"],["
                 "\"prodid\",{},\"text\",\"-//mod_caldav//jCal test//EN\"],["
                 "\"x-wr-calname\",{},\"unknown\",\"Team\"]],[",
           "... the properties, then the components array opened");
    calcore_to_jcal(kitchen_sink, strlen(kitchen_sink), &whole, &n, &why,
                    pool);
    is_str(apr_pstrcat(pool, head, parts.jcal, CALCORE_JCAL_CALENDAR_CLOSE,
                       NULL), whole,
           "opening + components + close == the whole jCal document");

    rv = calcore_xcal_calendar_open(props, strlen(props), &head, &n, &why,
                                    pool);
    is_int(rv, APR_SUCCESS, "xCal calendar opening");
    calcore_to_xcal(kitchen_sink, strlen(kitchen_sink), &whole, &n, &why,
                    pool);
    is_str(apr_pstrcat(pool, head, parts.xcal, CALCORE_XCAL_CALENDAR_CLOSE,
                       NULL), whole,
           "opening + components + close == the whole xCal document");
    rv = calcore_xcal_calendar_open("", 0, &head, &n, &why, pool);
    is_str(head, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<icalendar "
                 "xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\"><vcalendar>"
                 "<components>", "no properties: no <properties>");
    whole = apr_pstrcat(pool, head, CALCORE_XCAL_CALENDAR_CLOSE, NULL);
    rv = calcore_from_xcal(whole, strlen(whole), &head, &n, &why, pool);
    is_str(head, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
           "... an empty feed is a valid document");

    whole = "BEGIN:VEVENT\r\nEND:VEVENT\r\n";
    rv = calcore_jcal_calendar_open(whole, strlen(whole), &head, &n, &why,
                                    pool);
    is_int(rv, CALCORE_EINVALID, "a component among calendar properties");
    is_str(why, "iCalendar: line 1: BEGIN:VEVENT among calendar properties",
           "... its reason");
    whole = "BEGIN:VEVENT\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nEND:VTODO\r\n";
    rv = calcore_jcal_component(whole, strlen(whole), &head, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "two components given to the component "
                                 "function");
    is_str(why, "iCalendar: line 3: more than one component", "... reason");
    rv = calcore_xcal_component("", 0, &head, &n, NULL, pool);
    is_int(rv, CALCORE_EINVALID, "no component (reason may be NULL)");
    whole = "BEGIN:1X\r\nEND:1X\r\n";
    rv = calcore_xcal_component(whole, strlen(whole), &head, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "a name XML cannot carry");
    is_str(why, "xCal: component name \"1x\" is not an XML name",
           "... its reason");
    apr_pool_destroy(scratch);
}

/* ---- the mapping table -------------------------------------------------- */

static void test_table(void)
{
    static const char *const map[][2] = {
        { "ACKNOWLEDGED", "date-time" }, { "ACTION", "text" },
        { "ATTACH", "uri" }, { "ATTENDEE", "cal-address" },
        { "BUSYTYPE", "text" }, { "CALENDAR-ADDRESS", "cal-address" },
        { "CALSCALE", "text" }, { "CATEGORIES", "text" },
        { "CLASS", "text" }, { "COLOR", "text" }, { "COMMENT", "text" },
        { "COMPLETED", "date-time" }, { "CONCEPT", "uri" },
        { "CONFERENCE", "uri" }, { "CONTACT", "text" },
        { "CREATED", "date-time" }, { "DESCRIPTION", "text" },
        { "DTEND", "date-time" }, { "DTSTAMP", "date-time" },
        { "DTSTART", "date-time" }, { "DUE", "date-time" },
        { "DURATION", "duration" }, { "EXDATE", "date-time" },
        { "EXRULE", "recur" }, { "FREEBUSY", "period" }, { "GEO", "float" },
        { "IMAGE", "uri" }, { "LAST-MODIFIED", "date-time" },
        { "LINK", "uri" }, { "LOCATION", "text" },
        { "LOCATION-TYPE", "text" }, { "METHOD", "text" },
        { "NAME", "text" }, { "ORGANIZER", "cal-address" },
        { "PARTICIPANT-TYPE", "text" }, { "PERCENT-COMPLETE", "integer" },
        { "PRIORITY", "integer" }, { "PRODID", "text" },
        { "PROXIMITY", "text" }, { "RDATE", "date-time" },
        { "RECURRENCE-ID", "date-time" }, { "REFID", "text" },
        { "REFRESH-INTERVAL", "duration" }, { "RELATED-TO", "text" },
        { "REPEAT", "integer" }, { "REQUEST-STATUS", "text" },
        { "RESOURCE-TYPE", "text" }, { "RESOURCES", "text" },
        { "RRULE", "recur" }, { "SEQUENCE", "integer" },
        { "SOURCE", "uri" }, { "STATUS", "text" }, { "SUMMARY", "text" },
        { "TRANSP", "text" }, { "TRIGGER", "duration" }, { "TZID", "text" },
        { "TZID-ALIAS-OF", "text" }, { "TZNAME", "text" },
        { "TZOFFSETFROM", "utc-offset" }, { "TZOFFSETTO", "utc-offset" },
        { "TZUNTIL", "date-time" }, { "TZURL", "uri" }, { "UID", "text" },
        { "URL", "uri" }, { "VERSION", "text" },
        { "X-WR-CALNAME", "unknown" }, { "DRESSCODE", "unknown" },
        { "", "unknown" }, { "ZZZ", "unknown" }, { "AAA", "unknown" }
    };
    unsigned i, bad = 0;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(calcore_jcal_default_type(map[i][0]), map[i][1]) != 0) {
            diag("%s: %s, expected %s", map[i][0],
                 calcore_jcal_default_type(map[i][0]), map[i][1]);
            bad++;
        }
    }
    is_int(bad, 0, "the default type of every property in the table (and "
                   "unknown for others)");
    is_str(calcore_jcal_default_type("dtStart"), "date-time",
           "names are matched case-insensitively");
    is_str(calcore_jcal_default_type(NULL), "unknown", "NULL: unknown");
}

/* ---- malformed input ---------------------------------------------------- */

typedef struct bad_t {
    const char *what;
    const char *in;
    const char *reason;
} bad_t;

static void test_bad_json(void)
{
    static const bad_t cases[] = {
        { "truncated", "[\"vcalendar\",[],[",
          "JSON: unexpected end of input at offset 17" },
        { "truncated inside a string", "[\"vcalendar\",[[\"prodid\",{},\"t",
          "JSON: unexpected end of input at offset 29" },
        { "wrong nesting", "[\"vcalendar\",[],[}",
          "JSON: unexpected character at offset 17" },
        { "wrong closing bracket", "[\"vcalendar\",[],[]}",
          "JSON: expected ',' or ']' at offset 18" },
        { "object without ':'", "[\"vcalendar\",[[\"a\",{\"b\" 1}]],[]]",
          "JSON: expected ':' at offset 24" },
        { "data after the value", "[\"vcalendar\",[],[]] []",
          "JSON: data after the JSON value at offset 20" },
        { "empty", "", "JSON: unexpected end of input at offset 0" },
        { "bad literal", "[tru]", "JSON: unexpected character at offset 1" },
        { "bad number", "[\"vcalendar\",[],[01]]",
          "JSON: expected ',' or ']' at offset 18" },
        { "bad number (no digits after the point)", "[1.]",
          "JSON: invalid number at offset 3" },
        { "unpaired high surrogate",
          "[\"vcalendar\",[[\"x-a\",{},\"unknown\",\"\\ud800x\"]],[]]",
          "JSON: unpaired surrogate in \\u escape at offset 35" },
        { "unpaired low surrogate",
          "[\"vcalendar\",[[\"x-a\",{},\"unknown\",\"\\udc00\"]],[]]",
          "JSON: unpaired surrogate in \\u escape at offset 35" },
        { "bad \\u escape", "[\"\\u12g4\"]",
          "JSON: invalid \\u escape at offset 2" },
        { "NUL", "[\"a\\u0000\"]",
          "JSON: NUL character (\\u0000) at offset 3" },
        { "bad escape", "[\"a\\x\"]", "JSON: invalid escape at offset 3" },
        { "raw control character", "[\"a\tb\"]",
          "JSON: control character in string at offset 3" },
        { "invalid UTF-8", "[\"a\xC3(\"]",
          "JSON: invalid UTF-8 at offset 3" },
        { "not an array", "{\"vcalendar\":[]}",
          "jCal: document: a component must be an array [name, properties, "
          "components]" },
        { "a top-level component other than vcalendar",
          "[\"vevent\",[],[]]",
          "jCal: the top-level component is \"vevent\", not vcalendar" },
        { "a component of two elements", "[\"vcalendar\",[]]",
          "jCal: document: a component must be an array [name, properties, "
          "components]" },
        { "properties not an array", "[\"vcalendar\",{},[]]",
          "jCal: vcalendar: the properties must be an array, not an object" },
        { "a sub-component not an array",
          "[\"vcalendar\",[],[\"vevent\"]]",
          "jCal: vcalendar: a component must be an array [name, properties, "
          "components]" },
        { "a bad component name", "[\"vcalendar\",[],[[\"v event\",[],[]]]]",
          "jCal: vcalendar: bad component name \"v event\"" },
        { "a property not an array", "[\"vcalendar\",[\"prodid\"],[]]",
          "jCal: vcalendar: a property must be an array [name, parameters, "
          "type, value...]" },
        { "a property without value", "[\"vcalendar\",[[\"prodid\",{},"
          "\"text\"]],[]]",
          "jCal: vcalendar: a property must be an array [name, parameters, "
          "type, value...]" },
        { "a property name that is a number",
          "[\"vcalendar\",[[5,{},\"text\",\"x\"]],[]]",
          "jCal: vcalendar: bad property name a number" },
        { "parameters not an object",
          "[\"vcalendar\",[[\"prodid\",[],\"text\",\"x\"]],[]]",
          "jCal: vcalendar: prodid: the parameters must be an object, not "
          "an array" },
        { "a parameter value that is a number",
          "[\"vcalendar\",[[\"prodid\",{\"x-a\":1},\"text\",\"x\"]],[]]",
          "jCal: vcalendar: prodid: parameter x-a must be a string or an "
          "array of strings" },
        { "an empty parameter array",
          "[\"vcalendar\",[[\"prodid\",{\"x-a\":[]},\"text\",\"x\"]],[]]",
          "jCal: vcalendar: prodid: parameter x-a has no value" },
        { "a parameter twice",
          "[\"vcalendar\",[[\"prodid\",{\"x-a\":\"1\",\"X-A\":\"2\"},\"text\","
          "\"x\"]],[]]",
          "jCal: vcalendar: prodid: parameter X-A given twice" },
        { "a property named END", "[\"vcalendar\",[[\"end\",{},\"text\","
          "\"vcalendar\"]],[]]",
          "jCal: vcalendar: end: not a property name" },
        { "a type that is a number",
          "[\"vcalendar\",[[\"prodid\",{},1,\"x\"]],[]]",
          "jCal: vcalendar: prodid: bad value type a number" },
        { "text given a number", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"summary\",{},\"text\",5]],[]]]]",
          "jCal: vcalendar/vevent: summary: a text value must be a string, "
          "not a number" },
        { "integer given a word", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"sequence\",{},\"integer\",\"x\"]],[]]]]",
          "jCal: vcalendar/vevent: sequence: invalid integer value \"x\"" },
        { "integer given a fraction", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"sequence\",{},\"integer\",1.5]],[]]]]",
          "jCal: vcalendar/vevent: sequence: invalid integer value \"1.5\"" },
        { "float given an array", "[\"vcalendar\",[[\"x-f\",{},\"float\","
          "[1]]],[]]",
          "jCal: vcalendar: x-f: a float value must be a number, not an "
          "array" },
        { "boolean given a number", "[\"vcalendar\",[[\"x-b\",{},\"boolean\","
          "1]],[]]",
          "jCal: vcalendar: x-b: a boolean value must be true or false" },
        { "a date-time that is a date", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"dtstart\",{},\"date-time\",\"2006-01-02\"]],[]]]]",
          "jCal: vcalendar/vevent: dtstart: invalid date-time value "
          "\"2006-01-02\"" },
        { "an iCalendar date in jCal", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"dtstart\",{},\"date\",\"20060102\"]],[]]]]",
          "jCal: vcalendar/vevent: dtstart: invalid date value "
          "\"20060102\"" },
        { "an impossible month", "[\"vcalendar\",[],[[\"vevent\",[["
          "\"dtstart\",{},\"date\",\"2006-13-02\"]],[]]]]",
          "jCal: vcalendar/vevent: dtstart: invalid date value "
          "\"2006-13-02\"" },
        { "a bad utc-offset", "[\"vcalendar\",[[\"tzoffsetto\",{},"
          "\"utc-offset\",\"+0100\"]],[]]",
          "jCal: vcalendar: tzoffsetto: invalid utc-offset value "
          "\"+0100\"" },
        { "a bad duration", "[\"vcalendar\",[[\"duration\",{},\"duration\","
          "\"P1H\"]],[]]",
          "jCal: vcalendar: duration: invalid duration value \"P1H\"" },
        { "a period of one element", "[\"vcalendar\",[[\"freebusy\",{},"
          "\"period\",[\"1997-03-08T16:00:00Z\"]]],[]]",
          "jCal: vcalendar: freebusy: a period value must be an array "
          "[start, end or duration]" },
        { "a period with a bad end", "[\"vcalendar\",[[\"freebusy\",{},"
          "\"period\",[\"1997-03-08T16:00:00Z\",\"tomorrow\"]]],[]]",
          "jCal: vcalendar: freebusy: invalid period value "
          "\"1997-03-08T16:00:00Z/tomorrow\"" },
        { "recur not an object", "[\"vcalendar\",[[\"rrule\",{},\"recur\","
          "\"FREQ=DAILY\"]],[]]",
          "jCal: vcalendar: rrule: a recur value must be a non-empty "
          "object" },
        { "recur with a bad count", "[\"vcalendar\",[[\"rrule\",{},\"recur\","
          "{\"freq\":\"DAILY\",\"count\":\"many\"}]],[]]",
          "jCal: vcalendar: rrule: invalid count value \"many\"" },
        { "recur with a separator in a value", "[\"vcalendar\",[[\"rrule\",{},"
          "\"recur\",{\"freq\":\"DAILY;COUNT=2\"}]],[]]",
          "jCal: vcalendar: rrule: invalid freq value \"DAILY;COUNT=2\"" },
        { "recur with an object value", "[\"vcalendar\",[[\"rrule\",{},"
          "\"recur\",{\"freq\":{}}]],[]]",
          "jCal: vcalendar: rrule: invalid freq value an object" },
        { "two recur values", "[\"vcalendar\",[[\"rrule\",{},\"recur\","
          "{\"freq\":\"DAILY\"},{\"freq\":\"DAILY\"}]],[]]",
          "jCal: vcalendar: rrule: more than one recur value" },
        { "two values of a single-valued text property",
          "[\"vcalendar\",[[\"prodid\",{},\"text\",\"a\",\"b\"]],[]]",
          "jCal: vcalendar: prodid: more than one text value" },
        { "two raw values", "[\"vcalendar\",[[\"x-a\",{},\"unknown\",\"a\","
          "\"b\"]],[]]",
          "jCal: vcalendar: x-a: more than one unknown value" },
        { "geo of one number", "[\"vcalendar\",[[\"geo\",{},\"float\","
          "[1]]],[]]",
          "jCal: vcalendar: geo: the value must be an array of two "
          "numbers" },
        { "request-status as a string", "[\"vcalendar\",[[\"request-status\","
          "{},\"text\",\"2.0;Success\"]],[]]",
          "jCal: vcalendar: request-status: the value must be an array of 2 "
          "or 3 strings" },
        { "a uri given null", "[\"vcalendar\",[[\"url\",{},\"uri\",null]],[]]",
          "jCal: vcalendar: url: a uri value must be a string, not null" }
    };
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;
    unsigned i;
    char *deep;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = "(unset)";
        rv = calcore_from_jcal(cases[i].in, strlen(cases[i].in), &out, &n,
                               &why, pool);
        is_int(rv, CALCORE_EINVALID, "malformed jCal (%s) is refused",
               cases[i].what);
        is_str(why, cases[i].reason, "... with its reason");
    }

    /* nesting: 64 levels are fine for the parser, 65 are not */
    deep = apr_palloc(pool, 200);
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    rv = calcore_from_jcal(deep, 128, &out, &n, &why, pool);
    is_str(why, "jCal: document: a component must be an array [name, "
                "properties, components]",
           "64 nested arrays parse (and are then no jCal)");
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    rv = calcore_from_jcal(deep, 130, &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "65 nested arrays are refused");
    is_str(why, "JSON: nested deeper than 64 levels at offset 64",
           "... with its reason");
    deep = apr_palloc(pool, 1000001);
    memset(deep, '[', 1000000);
    deep[1000000] = '\0';
    rv = calcore_from_jcal(deep, 1000000, &out, &n, &why, pool);
    is_str(why, "JSON: nested deeper than 64 levels at offset 64",
           "a million '[' stop at the limit (no stack exhaustion)");
    rv = calcore_from_jcal("[1]", CALCORE_JCAL_MAX_INPUT + 1, &out, &n, &why,
                           pool);
    is_str(why, "jCal: longer than 67108864 octets", "the size limit");
}

static void test_bad_xml(void)
{
#define NS "xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\""
#define DOC(body) "<icalendar " NS "><vcalendar><components><vevent>" \
                  "<properties>" body "</properties></vevent></components>" \
                  "</vcalendar></icalendar>"
    static const bad_t cases[] = {
        { "truncated", "<icalendar " NS "><vcalendar>",
          "xCal: not well-formed XML: no element found (3)" },
        { "wrong nesting", "<icalendar " NS "><vcalendar></icalendar>"
          "</vcalendar>",
          "xCal: not well-formed XML: mismatched tag (7)" },
        { "empty", "", "xCal: not well-formed XML: no element found (3)" },
        { "an entity declaration",
          "<!DOCTYPE icalendar [<!ENTITY e \"xxxxxxxx\">]><icalendar " NS
          "/>",
          "xCal: not well-formed XML: parsing aborted (35)" },
        { "another root", "<vcalendar " NS "/>",
          "xCal: the root element must be <icalendar> in the namespace "
          "urn:ietf:params:xml:ns:icalendar-2.0" },
        { "no namespace", "<icalendar><vcalendar/></icalendar>",
          "xCal: the root element must be <icalendar> in the namespace "
          "urn:ietf:params:xml:ns:icalendar-2.0" },
        { "no vcalendar", "<icalendar " NS "/>",
          "xCal: no <vcalendar> in <icalendar>" },
        { "another component at the top", "<icalendar " NS "><vevent/>"
          "</icalendar>",
          "xCal: unexpected element <vevent> in <icalendar>" },
        { "text in a structural element", "<icalendar " NS "><vcalendar>"
          "hello</vcalendar></icalendar>",
          "xCal: vcalendar: text directly inside <vcalendar>" },
        { "an unexpected element in a component", "<icalendar " NS
          "><vcalendar><summary/></vcalendar></icalendar>",
          "xCal: vcalendar: unexpected element <summary>" },
        { "two <properties>", "<icalendar " NS "><vcalendar><properties/>"
          "<properties/></vcalendar></icalendar>",
          "xCal: vcalendar: more than one <properties>" },
        { "a value element with an element inside",
          DOC("<summary><text><b/>x</text></summary>"),
          "xCal: vcalendar/vevent: <summary>: <text> must not contain "
          "elements" },
        { "a property named BEGIN", DOC("<begin><text>VEVENT</text></begin>"),
          "xCal: vcalendar/vevent: <begin>: not a property name" },
        { "a property without value", DOC("<summary/>"),
          "xCal: vcalendar/vevent: <summary>: no value" },
        { "a bad date-time", DOC("<dtstart><date-time>2008</date-time>"
                                 "</dtstart>"),
          "xCal: vcalendar/vevent: <dtstart>: invalid date-time value "
          "\"2008\"" },
        { "a bad integer", DOC("<sequence><integer>one</integer>"
                               "</sequence>"),
          "xCal: vcalendar/vevent: <sequence>: invalid integer value "
          "\"one\"" },
        { "a bad boolean", DOC("<x-b><boolean>yes</boolean></x-b>"),
          "xCal: vcalendar/vevent: <x-b>: invalid boolean value \"yes\"" },
        { "mixed value types", DOC("<exdate><date>2008-01-01</date>"
                                   "<date-time>2008-01-01T00:00:00</date-time>"
                                   "</exdate>"),
          "xCal: vcalendar/vevent: <exdate>: values of different types "
          "<date> and <date-time>" },
        { "a period without start", DOC("<freebusy><period><end>"
                                        "2008-01-01T00:00:00Z</end></period>"
                                        "</freebusy>"),
          "xCal: vcalendar/vevent: <freebusy>: a <period> needs <start> and "
          "<end> or <duration>" },
        { "a bad recur part", DOC("<rrule><recur><freq>DAILY</freq><count>"
                                  "x</count></recur></rrule>"),
          "xCal: vcalendar/vevent: <rrule>: invalid <count> value \"x\"" },
        { "an empty recur", DOC("<rrule><recur/></rrule>"),
          "xCal: vcalendar/vevent: <rrule>: empty <recur>" },
        { "geo without longitude", DOC("<geo><latitude>1</latitude>"
                                       "</geo>"),
          "xCal: vcalendar/vevent: <geo>: expected <latitude> and "
          "<longitude>" },
        { "request-status out of order",
          DOC("<request-status><description>x</description><code>2.0</code>"
              "</request-status>"),
          "xCal: vcalendar/vevent: <request-status>: values of different "
          "types <description> and <code>" },
        { "two values of a single-valued property",
          DOC("<summary><text>a</text><text>b</text></summary>"),
          "xCal: vcalendar/vevent: <summary>: more than one <text> value" },
        { "two <recur>", DOC("<rrule><recur><freq>DAILY</freq></recur><recur>"
                             "<freq>DAILY</freq></recur></rrule>"),
          "xCal: vcalendar/vevent: <rrule>: more than one <recur> value" },
        { "a parameter without value",
          DOC("<summary><parameters><language/></parameters><text>x</text>"
              "</summary>"),
          "xCal: vcalendar/vevent: <summary>: parameter <language> has no "
          "value" },
        { "a control character in a value",
          DOC("<x-a><unknown>a&#x9;b&#xA;c</unknown></x-a>"),
          "xCal: vcalendar/vevent: <x-a>: control character or line break "
          "in value" }
    };
    const char *out, *why, *doc;
    apr_size_t n;
    apr_status_t rv;
    unsigned i;
    int d;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = "(unset)";
        rv = calcore_from_xcal(cases[i].in, strlen(cases[i].in), &out, &n,
                               &why, pool);
        is_int(rv, CALCORE_EINVALID, "malformed xCal (%s) is refused",
               cases[i].what);
        is_str(why, cases[i].reason, "... with its reason");
    }

    /* 64 levels of components (vcalendar + 63) are fine, 65 are not */
    {
        const char *open = "", *close = "", *path = "vcalendar";

        for (d = 0; d < 63; d++) {
            open = apr_pstrcat(pool, open, "<components><x>", NULL);
            close = apr_pstrcat(pool, "</x></components>", close, NULL);
            path = apr_pstrcat(pool, path, "/x", NULL);
        }
        doc = apr_pstrcat(pool, "<icalendar " NS "><vcalendar>", open, close,
                          "</vcalendar></icalendar>", NULL);
        rv = calcore_from_xcal(doc, strlen(doc), &out, &n, &why, pool);
        is_int(rv, APR_SUCCESS, "64 levels of components are accepted");
        doc = apr_pstrcat(pool, "<icalendar " NS "><vcalendar>", open,
                          "<components><x/></components>", close,
                          "</vcalendar></icalendar>", NULL);
        rv = calcore_from_xcal(doc, strlen(doc), &out, &n, &why, pool);
        is_int(rv, CALCORE_EINVALID, "65 levels are refused");
        is_str(why, apr_psprintf(pool, "xCal: %s: components nested "
                                 "deeper than 64", path),
               "... with its reason");
    }
#undef DOC
#undef NS
}

static void test_bad_ical(void)
{
    static const bad_t cases[] = {
        { "END that does not match",
          "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 3: END:VCALENDAR does not match BEGIN:VEVENT" },
        { "missing END", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
          "iCalendar: missing END:VCALENDAR" },
        { "END without BEGIN", "END:VCALENDAR\r\n",
          "iCalendar: line 1: END:VCALENDAR without BEGIN" },
        { "not a VCALENDAR", "BEGIN:VEVENT\r\nEND:VEVENT\r\n",
          "iCalendar: line 1: BEGIN:VEVENT outside a VCALENDAR" },
        { "nothing", "\r\n\r\n", "iCalendar: no VCALENDAR" },
        { "a property outside", "VERSION:2.0\r\n",
          "iCalendar: line 1: VERSION outside a component" },
        { "no colon", "BEGIN:VCALENDAR\r\nVERSION\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 2: VERSION: expected ':'" },
        { "no name", "BEGIN:VCALENDAR\r\n:x\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 2: no property name" },
        { "unterminated quote", "BEGIN:VCALENDAR\r\nX-A;X-P=\"abc:d\r\n"
          "END:VCALENDAR\r\n",
          "iCalendar: line 2: X-A: unterminated quoted value of parameter "
          "X-P" },
        { "a bad DATE-TIME", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"
          "DTSTART:2006\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 3: DTSTART: invalid DATE-TIME value \"2006\"" },
        { "a bad INTEGER", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"
          "SEQUENCE:1.5\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 3: SEQUENCE: invalid INTEGER value \"1.5\"" },
        { "a bad GEO", "BEGIN:VCALENDAR\r\nGEO:1;2;3\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 2: GEO: invalid GEO value \"1;2;3\"" },
        { "a bad RECUR", "BEGIN:VCALENDAR\r\nRRULE:FREQ=DAILY;COUNT=x\r\n"
          "END:VCALENDAR\r\n",
          "iCalendar: line 2: RRULE: invalid RECUR value "
          "\"FREQ=DAILY;COUNT=x\" (bad COUNT value)" },
        { "a bad PERIOD", "BEGIN:VCALENDAR\r\nFREEBUSY:20080101T000000Z\r\n"
          "END:VCALENDAR\r\n",
          "iCalendar: line 2: FREEBUSY: invalid PERIOD value "
          "\"20080101T000000Z\"" },
        { "a bad UTC-OFFSET (line numbers count folded lines)",
          "BEGIN:VCALENDAR\r\nX-A:b\r\n c\r\nTZOFFSETTO:+25\r\n 00\r\n"
          "END:VCALENDAR\r\n",
          "iCalendar: line 4: TZOFFSETTO: invalid UTC-OFFSET value "
          "\"+2500\"" },
        { "invalid UTF-8", "BEGIN:VCALENDAR\r\nX-A:\xC3\x28\r\n"
          "END:VCALENDAR\r\n", "iCalendar: line 2: invalid UTF-8" },
        { "a control character", "BEGIN:VCALENDAR\r\nX-A:a\x01\r\n"
          "END:VCALENDAR\r\n", "iCalendar: line 2: control character" },
        { "a lone CR", "BEGIN:VCALENDAR\rX-A:a\r\nEND:VCALENDAR\r\n",
          "iCalendar: line 1: CR without LF" }
    };
    const char *out, *why;
    apr_size_t n;
    apr_status_t rv;
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = "(unset)";
        rv = calcore_to_jcal(cases[i].in, strlen(cases[i].in), &out, &n, &why,
                             pool);
        is_int(rv, CALCORE_EINVALID, "malformed iCalendar (%s) is refused",
               cases[i].what);
        is_str(why, cases[i].reason, "... with its reason");
    }
    out = "BEGIN:VCALENDAR\r\n";
    rv = calcore_to_xcal(out, strlen(out), &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "calcore_to_xcal refuses the same");
    is_str(why, "iCalendar: missing END:VCALENDAR", "... with its reason");
    out = "BEGIN:VCALENDAR\r\n1X:a\r\nEND:VCALENDAR\r\n";
    rv = calcore_to_xcal(out, strlen(out), &out, &n, &why, pool);
    is_int(rv, CALCORE_EINVALID, "a property name XML cannot carry");
    is_str(why, "xCal: property name \"1x\" is not an XML name",
           "... its reason");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_rfc7265_appendix_b();
    test_rfc6321_appendix_b();
    test_value_types();
    test_escaping();
    test_folding();
    test_round_trips();
    test_streaming();
    test_table();
    test_bad_json();
    test_bad_xml();
    test_bad_ical();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
