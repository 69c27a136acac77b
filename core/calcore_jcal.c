/*
 * calcore_jcal.c - iCalendar <-> jCal (RFC 7265) and xCal (RFC 6321) (see
 * calcore_jcal.h).
 *
 * Layout of this file:
 *
 *   1. the mapping table: value types, properties and their default types,
 *      parameters and their xCal types;
 *   2. small tools: output buffer, errors, UTF-8, character checks;
 *   3. the model (components, properties, typed values) and the value
 *      syntaxes (iCalendar <-> jCal/xCal forms of dates, numbers, ...);
 *   4. iCalendar reader (our own content-line tokenizer) and writer;
 *   5. JSON parser and writer, jCal reader and writer;
 *   6. xCal reader (apr_xml) and writer;
 *   7. the public functions.
 *
 * Readers build the model and validate every value against its type, so
 * the writers cannot fail (except the xCal writer, for names that are not
 * XML names).  Every recursion (JSON values, components) is bounded by
 * CALCORE_JCAL_MAX_DEPTH.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xml.h>

#include "calcore_jcal.h"

/* iCalendar names and syntax are ASCII: character classes and case
 * mapping here never depend on the C locale (apr_cstr_casecmp is ASCII
 * too). */
#define A_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define A_ALPHA(c) (((c) >= 'a' && (c) <= 'z') \
                    || ((c) >= 'A' && (c) <= 'Z'))
#define A_UPPER(c) ((char)((c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 'A' : (c)))
#define A_LOWER(c) ((char)((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' + 'a' : (c)))

/* ==== 1. the mapping table ============================================== */

/* Value types (RFC 5545 3.3; the jCal/xCal names are type_names[]). */
typedef enum {
    JT_UNKNOWN = 0,
    JT_BINARY,
    JT_BOOLEAN,
    JT_CAL_ADDRESS,
    JT_DATE,
    JT_DATE_TIME,
    JT_DURATION,
    JT_FLOAT,
    JT_INTEGER,
    JT_PERIOD,
    JT_RECUR,
    JT_TEXT,
    JT_TIME,
    JT_URI,
    JT_UTC_OFFSET,
    JT_OTHER                    /* a VALUE we do not know (X-/IANA name) */
} jtype_e;

static const char *const type_names[] = {
    "unknown", "binary", "boolean", "cal-address", "date", "date-time",
    "duration", "float", "integer", "period", "recur", "text", "time", "uri",
    "utc-offset"
};
#define JT_NAMED (sizeof(type_names) / sizeof(type_names[0]))

/* Property flags. */
#define PF_LIST       0x01      /* a comma-separated list of values       */
#define PF_GEO        0x02      /* FLOAT ";" FLOAT                         */
#define PF_RSTATUS    0x04      /* code ";" description [";" data]        */
#define PF_ALT_DATE   0x08      /* a bare DATE without VALUE means DATE   */
#define PF_ALT_PERIOD 0x10      /* "a/b" without VALUE means PERIOD       */
#define PF_ALT_DT     0x20      /* a leading digit means DATE-TIME        */
#define PF_VERBATIM   0x40      /* TEXT never escaped (VERSION "2.0;2.1") */

typedef struct prop_def_t {
    const char *name;
    jtype_e type;
    unsigned flags;
} prop_def_t;

/* THE table: iCalendar properties and their default value types.  Sorted
 * by name (strcasecmp order) for bsearch.  Sources: RFC 5545 (3.7, 3.8),
 * RFC 7986 (NAME, REFRESH-INTERVAL, SOURCE, COLOR, IMAGE, CONFERENCE), RFC
 * 7953 (BUSYTYPE), RFC 7808 (TZUNTIL, TZID-ALIAS-OF), RFC 9073
 * (LOCATION-TYPE, PARTICIPANT-TYPE, RESOURCE-TYPE, CALENDAR-ADDRESS), RFC
 * 9074 (ACKNOWLEDGED, PROXIMITY), RFC 9253 (LINK, REFID, CONCEPT).
 * Everything else is "unknown". */
static const prop_def_t prop_defs[] = {
    { "ACKNOWLEDGED",     JT_DATE_TIME,  0 },
    { "ACTION",           JT_TEXT,       0 },
    { "ATTACH",           JT_URI,        0 },
    { "ATTENDEE",         JT_CAL_ADDRESS, 0 },
    { "BUSYTYPE",         JT_TEXT,       0 },
    { "CALENDAR-ADDRESS", JT_CAL_ADDRESS, 0 },
    { "CALSCALE",         JT_TEXT,       0 },
    { "CATEGORIES",       JT_TEXT,       PF_LIST },
    { "CLASS",            JT_TEXT,       0 },
    { "COLOR",            JT_TEXT,       0 },
    { "COMMENT",          JT_TEXT,       0 },
    { "COMPLETED",        JT_DATE_TIME,  0 },
    { "CONCEPT",          JT_URI,        0 },
    { "CONFERENCE",       JT_URI,        0 },
    { "CONTACT",          JT_TEXT,       0 },
    { "CREATED",          JT_DATE_TIME,  0 },
    { "DESCRIPTION",      JT_TEXT,       0 },
    { "DTEND",            JT_DATE_TIME,  PF_ALT_DATE },
    { "DTSTAMP",          JT_DATE_TIME,  0 },
    { "DTSTART",          JT_DATE_TIME,  PF_ALT_DATE },
    { "DUE",              JT_DATE_TIME,  PF_ALT_DATE },
    { "DURATION",         JT_DURATION,   0 },
    { "EXDATE",           JT_DATE_TIME,  PF_LIST | PF_ALT_DATE },
    { "EXRULE",           JT_RECUR,      0 },
    { "FREEBUSY",         JT_PERIOD,     PF_LIST },
    { "GEO",              JT_FLOAT,      PF_GEO },
    { "IMAGE",            JT_URI,        0 },
    { "LAST-MODIFIED",    JT_DATE_TIME,  0 },
    { "LINK",             JT_URI,        0 },
    { "LOCATION",         JT_TEXT,       0 },
    { "LOCATION-TYPE",    JT_TEXT,       PF_LIST },
    { "METHOD",           JT_TEXT,       0 },
    { "NAME",             JT_TEXT,       0 },
    { "ORGANIZER",        JT_CAL_ADDRESS, 0 },
    { "PARTICIPANT-TYPE", JT_TEXT,       0 },
    { "PERCENT-COMPLETE", JT_INTEGER,    0 },
    { "PRIORITY",         JT_INTEGER,    0 },
    { "PRODID",           JT_TEXT,       0 },
    { "PROXIMITY",        JT_TEXT,       0 },
    { "RDATE",            JT_DATE_TIME,  PF_LIST | PF_ALT_DATE
                                         | PF_ALT_PERIOD },
    { "RECURRENCE-ID",    JT_DATE_TIME,  PF_ALT_DATE },
    { "REFID",            JT_TEXT,       0 },
    { "REFRESH-INTERVAL", JT_DURATION,   0 },
    { "RELATED-TO",       JT_TEXT,       0 },
    { "REPEAT",           JT_INTEGER,    0 },
    { "REQUEST-STATUS",   JT_TEXT,       PF_RSTATUS },
    { "RESOURCE-TYPE",    JT_TEXT,       0 },
    { "RESOURCES",        JT_TEXT,       PF_LIST },
    { "RRULE",            JT_RECUR,      0 },
    { "SEQUENCE",         JT_INTEGER,    0 },
    { "SOURCE",           JT_URI,        0 },
    { "STATUS",           JT_TEXT,       0 },
    { "SUMMARY",          JT_TEXT,       0 },
    { "TRANSP",           JT_TEXT,       0 },
    { "TRIGGER",          JT_DURATION,   PF_ALT_DT },
    { "TZID",             JT_TEXT,       0 },
    { "TZID-ALIAS-OF",    JT_TEXT,       0 },
    { "TZNAME",           JT_TEXT,       0 },
    { "TZOFFSETFROM",     JT_UTC_OFFSET, 0 },
    { "TZOFFSETTO",       JT_UTC_OFFSET, 0 },
    { "TZUNTIL",          JT_DATE_TIME,  0 },
    { "TZURL",            JT_URI,        0 },
    { "UID",              JT_TEXT,       0 },
    { "URL",              JT_URI,        0 },
    { "VERSION",          JT_TEXT,       PF_VERBATIM }
};

/* Parameter flags. */
#define PA_MULTI 0x01           /* a comma-separated list of values */

typedef struct param_def_t {
    const char *name;
    jtype_e type;               /* the xCal value element */
    unsigned flags;
} param_def_t;

/* Parameters (RFC 5545 3.2, RFC 7986 6, RFC 6638 7, RFC 9073 5, RFC 9253
 * 6), sorted.  Unknown parameters are <unknown> in xCal; their values are
 * split at unquoted commas like PA_MULTI ones, so that both the list and
 * the quoted form round-trip. */
static const param_def_t param_defs[] = {
    { "ALTREP",              JT_URI,         0 },
    { "CN",                  JT_TEXT,        0 },
    { "CUTYPE",              JT_TEXT,        0 },
    { "DELEGATED-FROM",      JT_CAL_ADDRESS, PA_MULTI },
    { "DELEGATED-TO",        JT_CAL_ADDRESS, PA_MULTI },
    { "DERIVED",             JT_BOOLEAN,     0 },
    { "DIR",                 JT_URI,         0 },
    { "DISPLAY",             JT_TEXT,        PA_MULTI },
    { "EMAIL",               JT_TEXT,        0 },
    { "ENCODING",            JT_TEXT,        0 },
    { "FBTYPE",              JT_TEXT,        0 },
    { "FEATURE",             JT_TEXT,        PA_MULTI },
    { "FMTTYPE",             JT_TEXT,        0 },
    { "GAP",                 JT_DURATION,    0 },
    { "LABEL",               JT_TEXT,        0 },
    { "LANGUAGE",            JT_TEXT,        0 },
    { "MEMBER",              JT_CAL_ADDRESS, PA_MULTI },
    { "ORDER",               JT_INTEGER,     0 },
    { "PARTSTAT",            JT_TEXT,        0 },
    { "RANGE",               JT_TEXT,        0 },
    { "RELATED",             JT_TEXT,        0 },
    { "RELTYPE",             JT_TEXT,        0 },
    { "ROLE",                JT_TEXT,        0 },
    { "RSVP",                JT_BOOLEAN,     0 },
    { "SCHEDULE-AGENT",      JT_TEXT,        0 },
    { "SCHEDULE-FORCE-SEND", JT_TEXT,        0 },
    { "SCHEDULE-STATUS",     JT_TEXT,        PA_MULTI },
    { "SCHEMA",              JT_URI,         0 },
    { "SENT-BY",             JT_CAL_ADDRESS, 0 },
    { "TZID",                JT_TEXT,        0 }
};

static int def_cmp(const void *key, const void *elt)
{
    return apr_cstr_casecmp((const char *)key, *(const char *const *)elt);
}

static const prop_def_t *prop_def(const char *name)
{
    return bsearch(name, prop_defs, sizeof(prop_defs) / sizeof(prop_defs[0]),
                   sizeof(prop_defs[0]), def_cmp);
}

static const param_def_t *param_def(const char *name)
{
    return bsearch(name, param_defs,
                   sizeof(param_defs) / sizeof(param_defs[0]),
                   sizeof(param_defs[0]), def_cmp);
}

/* The type named 's' (case-insensitive), JT_OTHER if none. */
static jtype_e type_from_name(const char *s)
{
    unsigned i;

    for (i = 0; i < JT_NAMED; i++) {
        if (apr_cstr_casecmp(s, type_names[i]) == 0) {
            return (jtype_e)i;
        }
    }
    return JT_OTHER;
}

const char *calcore_jcal_default_type(const char *name)
{
    const prop_def_t *def = name ? prop_def(name) : NULL;

    return type_names[def ? def->type : JT_UNKNOWN];
}

/* ==== 2. small tools ===================================================== */

/* A growing output buffer in a pool. */
typedef struct sbuf_t {
    apr_pool_t *pool;
    char *data;
    apr_size_t len, cap;
} sbuf_t;

static void sb_init(sbuf_t *b, apr_pool_t *pool, apr_size_t cap)
{
    b->pool = pool;
    b->cap = cap < 64 ? 64 : cap;
    b->data = apr_palloc(pool, b->cap);
    b->len = 0;
}

static void sb_grow(sbuf_t *b, apr_size_t need)
{
    apr_size_t cap = b->cap;
    char *n;

    if (b->len + need + 1 <= b->cap) {
        return;
    }
    while (cap < b->len + need + 1) {
        cap *= 2;
    }
    n = apr_palloc(b->pool, cap);
    memcpy(n, b->data, b->len);
    b->data = n;
    b->cap = cap;
}

static void sb_addn(sbuf_t *b, const char *s, apr_size_t n)
{
    sb_grow(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void sb_adds(sbuf_t *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_addc(sbuf_t *b, char c)
{
    sb_grow(b, 1);
    b->data[b->len++] = c;
}

/* The contents, NUL-terminated (the buffer stays usable). */
static const char *sb_str(sbuf_t *b)
{
    sb_grow(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}

/* Conversion context: the pool and the first error. */
typedef struct cx_t {
    apr_pool_t *pool;
    const char *reason;
} cx_t;

static apr_status_t fail(cx_t *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static apr_status_t fail(cx_t *cx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cx->reason = apr_pvsprintf(cx->pool, fmt, ap);
    va_end(ap);
    return CALCORE_EINVALID;
}

/* Length of the valid UTF-8 sequence at 's' ('n' octets available), 0 if
 * it is not one (overlong forms, surrogates and values above U+10FFFF are
 * not). */
static apr_size_t utf8_len(const unsigned char *s, apr_size_t n)
{
    unsigned c = s[0];

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80
            || (c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80
            || (s[3] & 0xC0) != 0x80 || (c == 0xF0 && s[1] < 0x90)
            || (c == 0xF4 && s[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* Append code point 'cp' as UTF-8. */
static void utf8_put(sbuf_t *b, unsigned long cp)
{
    if (cp < 0x80) {
        sb_addc(b, (char)cp);
    }
    else if (cp < 0x800) {
        sb_addc(b, (char)(0xC0 | (cp >> 6)));
        sb_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
    else if (cp < 0x10000) {
        sb_addc(b, (char)(0xE0 | (cp >> 12)));
        sb_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
    else {
        sb_addc(b, (char)(0xF0 | (cp >> 18)));
        sb_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sb_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Is 's' a name token: 1*(ALPHA / DIGIT / "-") (RFC 5545 iana-token and
 * x-name)? */
static int is_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!A_ALPHA(*s) && !A_DIGIT(*s) && *s != '-') {
            return 0;
        }
    }
    return 1;
}

/* BEGIN and END delimit components: no property may have those names. */
static int structural(const char *name)
{
    return apr_cstr_casecmp(name, "BEGIN") == 0
           || apr_cstr_casecmp(name, "END") == 0;
}

/* Is token 's' also an XML element name (starts with a letter)? */
static int is_xml_name(const char *s)
{
    return A_ALPHA(*s);
}

static char *str_upper(apr_pool_t *p, const char *s)
{
    char *r = apr_pstrdup(p, s), *o;

    for (o = r; *o; o++) {
        *o = A_UPPER(*o);
    }
    return r;
}

static char *str_lower(apr_pool_t *p, const char *s)
{
    char *r = apr_pstrdup(p, s), *o;

    for (o = r; *o; o++) {
        *o = A_LOWER(*o);
    }
    return r;
}

/* A value quoted for an error message: at most 40 octets, cut at a UTF-8
 * boundary. */
static const char *shown(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);

    if (n <= 40) {
        return apr_psprintf(p, "\"%s\"", s);
    }
    n = 40;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return apr_psprintf(p, "\"%.*s...\"", (int)n, s);
}

/* Check a decoded value (from JSON or XML) before it goes into iCalendar:
 * no control characters but HTAB, and line breaks only where 'breaks'.
 * Returns NULL or what is wrong. */
static const char *bad_chars(const char *s, int breaks)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20 && c != '\t' && !(breaks && (c == '\n' || c == '\r')))
            || c == 0x7F) {
            return breaks ? "control character in value"
                          : "control character or line break in value";
        }
    }
    return NULL;
}

/* 's' without leading and trailing white space (space, tab, CR, LF);
 * with 'all', without any (base64 may be wrapped, white space carries no
 * meaning there). */
static const char *ws_trim(apr_pool_t *p, const char *s, int all)
{
    char *r = apr_pstrdup(p, s), *o = r;
    const char *q;

    if (all) {
        for (q = s; *q; q++) {
            if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
                *o++ = *q;
            }
        }
        *o = '\0';
        return r;
    }
    while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
        r++;
    }
    o = r + strlen(r);
    while (o > r && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\n'
                     || o[-1] == '\r')) {
        *--o = '\0';
    }
    return r;
}

/* ==== 3. the model and the value syntaxes ================================ */

/* A typed value. */
typedef enum {
    JV_STR,                     /* s: text, or the jCal form of a date...  */
    JV_NUM,                     /* s: a JSON number lexeme, plain decimal  */
    JV_BOOL,                    /* s: "true" / "false"                     */
    JV_PERIOD,                  /* a: start, b: end or duration            */
    JV_GEO,                     /* a: latitude, b: longitude (lexemes)     */
    JV_RSTATUS,                 /* parts: 2 or 3 strings                   */
    JV_RECUR                    /* parts: rpart_t                          */
} jvkind_e;

typedef struct jval_t {
    jvkind_e kind;
    const char *s;
    const char *a, *b;
    apr_array_header_t *parts;
} jval_t;

/* A recurrence rule part: lower-case name, values (JV_STR or JV_NUM). */
typedef struct rpart_t {
    const char *name;
    apr_array_header_t *vals;
} rpart_t;

typedef struct jparam_t {
    const char *name;                   /* upper-case                    */
    apr_array_header_t *vals;           /* const char *, decoded         */
} jparam_t;

typedef struct jprop_t {
    const char *name;                   /* upper-case                    */
    apr_array_header_t *params;         /* jparam_t, VALUE excluded      */
    jtype_e type;
    const char *type_name;              /* lower-case jCal/xCal name     */
    apr_array_header_t *vals;           /* jval_t                        */
} jprop_t;

typedef struct jcomp_t {
    const char *name;                   /* upper-case                    */
    apr_array_header_t *props;          /* jprop_t *                     */
    apr_array_header_t *comps;          /* jcomp_t *                     */
} jcomp_t;

static jcomp_t *comp_new(apr_pool_t *p, const char *name)
{
    jcomp_t *c = apr_palloc(p, sizeof(*c));

    c->name = name;
    c->props = apr_array_make(p, 8, sizeof(jprop_t *));
    c->comps = apr_array_make(p, 2, sizeof(jcomp_t *));
    return c;
}

static jprop_t *prop_new(apr_pool_t *p, const char *name)
{
    jprop_t *pr = apr_pcalloc(p, sizeof(*pr));

    pr->name = name;
    pr->params = apr_array_make(p, 2, sizeof(jparam_t));
    pr->vals = apr_array_make(p, 1, sizeof(jval_t));
    return pr;
}

static jval_t *val_add(jprop_t *pr, jvkind_e kind, const char *s)
{
    jval_t *v = apr_array_push(pr->vals);

    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->s = s;
    return v;
}

/* Add a parameter value (merging repeated parameters into one list). */
static void param_add(apr_pool_t *p, jprop_t *pr, const char *name,
                      const char *value)
{
    jparam_t *pa = NULL;
    int i;

    for (i = 0; i < pr->params->nelts; i++) {
        jparam_t *q = &APR_ARRAY_IDX(pr->params, i, jparam_t);

        if (strcmp(q->name, name) == 0) {
            pa = q;
            break;
        }
    }
    if (!pa) {
        pa = apr_array_push(pr->params);
        pa->name = name;
        pa->vals = apr_array_make(p, 1, sizeof(const char *));
    }
    APR_ARRAY_PUSH(pa->vals, const char *) = value;
}

/* Can 'pr' carry only one value?  A known TEXT property that is not a
 * list, and the raw types (uri, cal-address, unknown, X-), whose values may
 * hold commas: several values would not come back as the same values. */
static int single_valued(const jprop_t *pr, const prop_def_t *def)
{
    switch (pr->type) {
    case JT_TEXT:
        return def && !(def->flags & PF_LIST);
    case JT_URI:
    case JT_CAL_ADDRESS:
    case JT_UNKNOWN:
    case JT_OTHER:
    case JT_RECUR:
        return 1;
    default:
        return 0;
    }
}

static int digits(const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (!A_DIGIT(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Range checks of the digit groups (any year, month 1-12, day 1-31, hour
 * 0-23, minute 0-59, second 0-60). */
static int ymd_ok(const char *mm, const char *dd)
{
    return num2(mm) >= 1 && num2(mm) <= 12 && num2(dd) >= 1
           && num2(dd) <= 31;
}

static int hms_ok(const char *hh, const char *mi, const char *ss)
{
    return num2(hh) <= 23 && num2(mi) <= 59 && num2(ss) <= 60;
}

/* iCalendar -> jCal forms.  Each returns NULL when 's' ('n' octets) is not
 * a value of the type. */

/* DATE "20081006" -> "2008-10-06" */
static const char *date_i2j(apr_pool_t *p, const char *s, apr_size_t n)
{
    if (n != 8 || !digits(s, 8) || !ymd_ok(s + 4, s + 6)) {
        return NULL;
    }
    return apr_psprintf(p, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
}

/* TIME "123000[Z]" -> "12:30:00[Z]" */
static const char *time_i2j(apr_pool_t *p, const char *s, apr_size_t n)
{
    int z = n == 7 && (s[6] == 'Z' || s[6] == 'z');

    if ((n != 6 && !z) || !digits(s, 6) || !hms_ok(s, s + 2, s + 4)) {
        return NULL;
    }
    return apr_psprintf(p, "%.2s:%.2s:%.2s%s", s, s + 2, s + 4, z ? "Z" : "");
}

/* DATE-TIME "20080205T191224[Z]" -> "2008-02-05T19:12:24[Z]" */
static const char *datetime_i2j(apr_pool_t *p, const char *s, apr_size_t n)
{
    const char *d, *t;

    if (n < 15 || (s[8] != 'T' && s[8] != 't') || !(d = date_i2j(p, s, 8))
        || !(t = time_i2j(p, s + 9, n - 9))) {
        return NULL;
    }
    return apr_pstrcat(p, d, "T", t, NULL);
}

/* UTC-OFFSET "-0500" / "+013045" -> "-05:00" / "+01:30:45" */
static const char *offset_i2j(apr_pool_t *p, const char *s, apr_size_t n)
{
    if ((n != 5 && n != 7) || (s[0] != '+' && s[0] != '-')
        || !digits(s + 1, n - 1) || num2(s + 1) > 23 || num2(s + 3) > 59
        || (n == 7 && num2(s + 5) > 59)) {
        return NULL;
    }
    if (n == 5) {
        return apr_psprintf(p, "%c%.2s:%.2s", s[0], s + 1, s + 3);
    }
    return apr_psprintf(p, "%c%.2s:%.2s:%.2s", s[0], s + 1, s + 3, s + 5);
}

/* DURATION (the same in all three formats): [+-]P then either nW or
 * [nD][T[nH][nM][nS]] with at least one element, no empty T part; letters
 * in either case (ABNF literals are case-insensitive). */
static int duration_ok(const char *s, apr_size_t n)
{
    static const char units[] = "WDTHMS";
    apr_size_t i = 0;
    int last = -1, any = 0, t_at = -1;

    if (i < n && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    if (i >= n || A_UPPER(s[i]) != 'P') {
        return 0;
    }
    i++;
    while (i < n) {
        apr_size_t d = i;
        const char *u;
        int k, c;

        if (A_UPPER(s[i]) == 'T') {
            if (t_at >= 0 || last > 1) {
                return 0;
            }
            t_at = last = 2;
            i++;
            continue;
        }
        while (i < n && A_DIGIT(s[i])) {
            i++;
        }
        c = i < n ? A_UPPER(s[i]) : 0;
        if (i == d || !c || !(u = strchr(units, c)) || c == 'T') {
            return 0;
        }
        k = (int)(u - units);
        /* W and D before T; H, M, S after it; each once, in order; W
         * never with anything else */
        if (k <= last || (k >= 3) != (t_at >= 0) || (k == 0 && any)
            || (last == 0)) {
            return 0;
        }
        last = k;
        any = 1;
        i++;
    }
    return any && !(t_at >= 0 && last == 2);
}

/* A DURATION [s, s+n) in upper case, or NULL if it is not one. */
static const char *dur_norm(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *r, *o;

    if (!duration_ok(s, n)) {
        return NULL;
    }
    r = apr_pstrmemdup(p, s, n);
    for (o = r; *o; o++) {
        *o = A_UPPER(*o);
    }
    return r;
}

/* iCalendar INTEGER/FLOAT -> a JSON number lexeme: sign '+' dropped,
 * leading zeros of the integer part removed, digits otherwise kept. */
static const char *num_i2j(apr_pool_t *p, const char *s, apr_size_t n,
                           int integer)
{
    apr_size_t i = 0, int_start, int_end;
    int neg = 0;

    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    int_start = i;
    while (i < n && A_DIGIT(s[i])) {
        i++;
    }
    int_end = i;
    if (int_end == int_start) {
        return NULL;
    }
    if (i < n) {
        apr_size_t f;

        if (integer || s[i] != '.') {
            return NULL;
        }
        f = ++i;
        while (i < n && A_DIGIT(s[i])) {
            i++;
        }
        if (i == f || i != n) {
            return NULL;
        }
    }
    while (int_end - int_start > 1 && s[int_start] == '0') {
        int_start++;
    }
    return apr_psprintf(p, "%s%.*s", neg ? "-" : "",
                        (int)(n - int_start), s + int_start);
}

/* jCal -> iCalendar forms; NULL when 's' is not of the jCal form. */

/* "2008-10-06" -> "20081006" */
static const char *date_j2i(apr_pool_t *p, const char *s)
{
    if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2)
        || s[7] != '-' || !digits(s + 8, 2) || !ymd_ok(s + 5, s + 8)) {
        return NULL;
    }
    return apr_psprintf(p, "%.4s%.2s%.2s", s, s + 5, s + 8);
}

/* "12:30:00[Z]" -> "123000[Z]" */
static const char *time_j2i(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    int z = n == 9 && s[8] == 'Z';

    if ((n != 8 && !z) || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2)
        || s[5] != ':' || !digits(s + 6, 2) || !hms_ok(s, s + 3, s + 6)) {
        return NULL;
    }
    return apr_psprintf(p, "%.2s%.2s%.2s%s", s, s + 3, s + 6, z ? "Z" : "");
}

/* "2008-02-05T19:12:24[Z]" -> "20080205T191224[Z]" */
static const char *datetime_j2i(apr_pool_t *p, const char *s)
{
    const char *d, *t;

    if (strlen(s) < 19 || s[10] != 'T'
        || !(d = date_j2i(p, apr_pstrmemdup(p, s, 10)))
        || !(t = time_j2i(p, s + 11))) {
        return NULL;
    }
    return apr_pstrcat(p, d, "T", t, NULL);
}

/* "-05:00" / "+01:30:45" -> "-0500" / "+013045" */
static const char *offset_j2i(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);

    if ((n != 6 && n != 9) || (s[0] != '+' && s[0] != '-')
        || !digits(s + 1, 2) || s[3] != ':' || !digits(s + 4, 2)
        || num2(s + 1) > 23 || num2(s + 4) > 59
        || (n == 9 && (s[6] != ':' || !digits(s + 7, 2)
                       || num2(s + 7) > 59))) {
        return NULL;
    }
    if (n == 6) {
        return apr_psprintf(p, "%c%.2s%.2s", s[0], s + 1, s + 4);
    }
    return apr_psprintf(p, "%c%.2s%.2s%.2s", s[0], s + 1, s + 4, s + 7);
}

/* Check a JSON number lexeme (or a numeric string from JSON or XML) and
 * return it in plain decimal notation as iCalendar needs it: exponents
 * expanded ("1e-7" -> "0.0000001", "1.5E2" -> "150"), a '+' sign and
 * leading zeros dropped.  For 'integer' a fraction of zeros is dropped and
 * any other fraction refused.  NULL when not a number (or an exponent
 * beyond +-400). */
static const char *num_plain(apr_pool_t *p, const char *s, int integer)
{
    const char *ip, *fp = "", *q = s;
    apr_size_t il, fl = 0, nd, i;
    long e = 0;
    int neg = 0;
    sbuf_t d, out;
    long pos;

    if (*q == '-' || *q == '+') {
        neg = *q == '-';
        q++;
    }
    ip = q;
    while (A_DIGIT(*q)) {
        q++;
    }
    il = (apr_size_t)(q - ip);
    if (il == 0) {
        return NULL;
    }
    if (*q == '.') {
        fp = ++q;
        while (A_DIGIT(*q)) {
            q++;
        }
        fl = (apr_size_t)(q - fp);
        if (fl == 0) {
            return NULL;
        }
    }
    if (*q == 'e' || *q == 'E') {
        int eneg = 0;
        const char *es;

        q++;
        if (*q == '+' || *q == '-') {
            eneg = *q == '-';
            q++;
        }
        es = q;
        while (A_DIGIT(*q)) {
            if (e < 100000) {
                e = e * 10 + (*q - '0');
            }
            q++;
        }
        if (q == es) {
            return NULL;
        }
        if (e > 400) {
            return NULL;
        }
        e = eneg ? -e : e;
    }
    if (*q) {
        return NULL;
    }
    /* all digits, and where the point goes */
    sb_init(&d, p, il + fl + 1);
    sb_addn(&d, ip, il);
    sb_addn(&d, fp, fl);
    nd = d.len;
    pos = (long)il + e;
    sb_init(&out, p, nd + 8 + (apr_size_t)(e < 0 ? -e : e));
    if (pos <= 0) {
        sb_adds(&out, "0.");
        for (i = 0; i < (apr_size_t)-pos; i++) {
            sb_addc(&out, '0');
        }
        sb_addn(&out, d.data, nd);
    }
    else if ((apr_size_t)pos >= nd) {
        sb_addn(&out, d.data, nd);
        for (i = nd; i < (apr_size_t)pos; i++) {
            sb_addc(&out, '0');
        }
    }
    else {
        sb_addn(&out, d.data, (apr_size_t)pos);
        sb_addc(&out, '.');
        sb_addn(&out, d.data + pos, nd - (apr_size_t)pos);
    }
    {
        const char *r = sb_str(&out), *dot = strchr(r, '.');
        apr_size_t n = strlen(r);

        while (r[0] == '0' && r[1] && r[1] != '.') {
            r++;
            n--;
        }
        if (integer && dot) {
            const char *f;

            for (f = dot + 1; *f; f++) {
                if (*f != '0') {
                    return NULL;
                }
            }
            n = (apr_size_t)(dot - r);
        }
        return apr_psprintf(p, "%s%.*s", neg ? "-" : "", (int)n, r);
    }
}

/* ---- escaping --------------------------------------------------------- */

/* Unescape an iCalendar TEXT value: \\ \; \, \n \N; any other backslash
 * is kept with the character after it. */
static const char *text_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *r = apr_palloc(p, n + 1), *o = r;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];

            if (c == '\\' || c == ';' || c == ',') {
                *o++ = c;
                i++;
                continue;
            }
            if (c == 'n' || c == 'N') {
                *o++ = '\n';
                i++;
                continue;
            }
        }
        *o++ = s[i];
    }
    *o = '\0';
    return r;
}

/* Append TEXT 's' escaped for iCalendar (CRLF and lone CR become "\n"). */
static void text_escape(sbuf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            sb_adds(b, "\\\\");
            break;
        case ';':
            sb_adds(b, "\\;");
            break;
        case ',':
            sb_adds(b, "\\,");
            break;
        case '\r':
            if (s[1] != '\n') {
                sb_adds(b, "\\n");
            }
            break;
        case '\n':
            sb_adds(b, "\\n");
            break;
        default:
            sb_addc(b, *s);
        }
    }
}

/* A piece of a value. */
typedef struct span_t {
    const char *s;
    apr_size_t n;
} span_t;

/* Split [s, s+n) at 'sep'; with 'esc', a separator after a backslash (and
 * "\\") does not count.  At most 'max' pieces (0 = any): the last one takes
 * the rest. */
static apr_array_header_t *split(apr_pool_t *p, const char *s, apr_size_t n,
                                 char sep, int esc, int max)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(span_t));
    apr_size_t i, start = 0;

    for (i = 0; i < n; i++) {
        if (esc && s[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (s[i] == sep && (max == 0 || a->nelts < max - 1)) {
            span_t *sp = apr_array_push(a);

            sp->s = s + start;
            sp->n = i - start;
            start = i + 1;
        }
    }
    {
        span_t *sp = apr_array_push(a);

        sp->s = s + start;
        sp->n = n - start;
    }
    return a;
}

/* ---- recurrence rules -------------------------------------------------- */

/* How a rule part's values are typed. */
typedef enum {
    RP_STRING,                  /* FREQ, WKST, BYDAY, RSCALE, SKIP, X-  */
    RP_INTEGER,                 /* COUNT, INTERVAL, BYxxx              */
    RP_MONTH,                   /* BYMONTH: integer or "5L" (RFC 7529)  */
    RP_UNTIL                    /* DATE or DATE-TIME                   */
} rptype_e;

static rptype_e rpart_type(const char *name)
{
    static const char *const ints[] = {
        "count", "interval", "bysecond", "byminute", "byhour",
        "bymonthday", "byyearday", "byweekno", "bysetpos"
    };
    unsigned i;

    if (apr_cstr_casecmp(name, "until") == 0) {
        return RP_UNTIL;
    }
    if (apr_cstr_casecmp(name, "bymonth") == 0) {
        return RP_MONTH;
    }
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (apr_cstr_casecmp(name, ints[i]) == 0) {
            return RP_INTEGER;
        }
    }
    return RP_STRING;
}

/* Is 's' a leap-month BYMONTH value ("5L")? */
static int leap_month(const char *s)
{
    apr_size_t n = strlen(s);

    return n >= 2 && s[n - 1] == 'L' && digits(s, n - 1);
}

/* A rule value that is a plain string: a token, no separators, white
 * space or controls. */
static int rstring_ok(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s == ';' || *s == ',' || *s == '=' || (unsigned char)*s <= 0x20
            || *s == 0x7F) {
            return 0;
        }
    }
    return 1;
}

/* Add value 'v' (iCalendar form when 'ical', else jCal/xCal form; 'isnum'
 * when it came as a JSON number) to rule part 'rp'.  Returns 0 when it is
 * not a valid value of the part. */
static int rpart_add(apr_pool_t *p, rpart_t *rp, const char *v, int ical,
                     int isnum)
{
    rptype_e t = rpart_type(rp->name);
    jval_t *jv = apr_array_push(rp->vals);
    const char *r = NULL;

    memset(jv, 0, sizeof(*jv));
    jv->kind = JV_STR;
    switch (t) {
    case RP_UNTIL:
        if (isnum) {
            return 0;
        }
        if (ical) {
            r = strlen(v) == 8 ? date_i2j(p, v, 8)
                               : datetime_i2j(p, v, strlen(v));
        }
        else if ((strlen(v) == 10 && date_j2i(p, v))
                 || datetime_j2i(p, v)) {
            r = v;
        }
        break;
    case RP_MONTH:
        if (!isnum && leap_month(v)) {
            r = v;
            break;
        }
        /* fall through */
    case RP_INTEGER:
        r = ical ? num_i2j(p, v, strlen(v), 1) : num_plain(p, v, 1);
        jv->kind = JV_NUM;
        break;
    case RP_STRING:
        r = !isnum && rstring_ok(v) ? v : NULL;
        break;
    }
    jv->s = r;
    return r != NULL;
}

static rpart_t *rpart_get(apr_pool_t *p, apr_array_header_t *parts,
                          const char *name)
{
    rpart_t *rp;
    int i;

    for (i = 0; i < parts->nelts; i++) {
        rp = &APR_ARRAY_IDX(parts, i, rpart_t);
        if (strcmp(rp->name, name) == 0) {
            return rp;
        }
    }
    rp = apr_array_push(parts);
    rp->name = name;
    rp->vals = apr_array_make(p, 1, sizeof(jval_t));
    return rp;
}

/* Parse an iCalendar RECUR value into 'parts'.  NULL or what is wrong. */
static const char *recur_from_ical(apr_pool_t *p, const char *s,
                                   apr_size_t n, apr_array_header_t *parts)
{
    apr_array_header_t *items = split(p, s, n, ';', 0, 0);
    int i, j;

    for (i = 0; i < items->nelts; i++) {
        span_t *it = &APR_ARRAY_IDX(items, i, span_t);
        const char *eq = memchr(it->s, '=', it->n);
        const char *name;
        apr_array_header_t *vs;
        rpart_t *rp;

        if (it->n == 0 && i == items->nelts - 1 && i > 0) {
            break;                      /* a trailing ';' */
        }
        if (!eq) {
            return "rule part without '='";
        }
        name = str_lower(p, apr_pstrmemdup(p, it->s,
                                           (apr_size_t)(eq - it->s)));
        if (!is_token(name)) {
            return "bad rule part name";
        }
        rp = rpart_get(p, parts, name);
        if (rp->vals->nelts) {
            return "repeated rule part";
        }
        vs = split(p, eq + 1, it->n - (apr_size_t)(eq + 1 - it->s), ',', 0, 0);
        for (j = 0; j < vs->nelts; j++) {
            span_t *v = &APR_ARRAY_IDX(vs, j, span_t);

            if (!rpart_add(p, rp, apr_pstrmemdup(p, v->s, v->n), 1, 0)) {
                return apr_psprintf(p, "bad %s value",
                                    str_upper(p, rp->name));
            }
        }
    }
    if (!parts->nelts) {
        return "empty rule";
    }
    return NULL;
}

/* ==== 4. iCalendar ======================================================= */

static apr_status_t bad_value(cx_t *cx, const char *where, const char *type,
                              const char *v, apr_size_t n)
{
    return fail(cx, "%s: invalid %s value %s", where, type,
                shown(cx->pool, apr_pstrmemdup(cx->pool, v, n)));
}

/* Type and parse the raw value [raw, raw+n) of iCalendar property 'pr'
 * whose VALUE parameter is 'vparam' (NULL if none).  'where' prefixes
 * messages. */
static apr_status_t ical_value(cx_t *cx, jprop_t *pr, const char *vparam,
                               const char *raw, apr_size_t n,
                               const char *where)
{
    apr_pool_t *p = cx->pool;
    const prop_def_t *def = prop_def(pr->name);
    unsigned flags = def ? def->flags : 0;
    apr_array_header_t *items;
    const char *tname;
    jtype_e t;
    jval_t *v;
    int i;

    if (vparam) {
        if (!is_token(vparam)) {
            return fail(cx, "%s: bad VALUE parameter %s", where,
                        shown(p, vparam));
        }
        t = type_from_name(vparam);
        pr->type_name = t == JT_OTHER ? str_lower(p, vparam) : type_names[t];
    }
    else {
        t = def ? def->type : JT_UNKNOWN;
        if (t == JT_DATE_TIME && (flags & PF_ALT_PERIOD)
            && memchr(raw, '/', n)) {
            t = JT_PERIOD;
        }
        else if (t == JT_DATE_TIME && (flags & PF_ALT_DATE)
                 && (n == 8 || (n > 8 && raw[8] == ','))) {
            t = JT_DATE;
        }
        else if (t == JT_DURATION && (flags & PF_ALT_DT) && n
                 && A_DIGIT(raw[0])) {
            t = JT_DATE_TIME;
        }
        pr->type_name = type_names[t];
    }
    pr->type = t;
    tname = str_upper(p, pr->type_name);

    switch (t) {
    case JT_TEXT:
        if (flags & PF_RSTATUS) {
            items = split(p, raw, n, ';', 1, 3);
            if (items->nelts < 2) {
                return bad_value(cx, where, "REQUEST-STATUS", raw, n);
            }
            v = val_add(pr, JV_RSTATUS, NULL);
            v->parts = apr_array_make(p, 3, sizeof(const char *));
            for (i = 0; i < items->nelts; i++) {
                span_t *sp = &APR_ARRAY_IDX(items, i, span_t);

                APR_ARRAY_PUSH(v->parts, const char *) =
                    text_unescape(p, sp->s, sp->n);
            }
            return APR_SUCCESS;
        }
        if (flags & PF_VERBATIM) {
            val_add(pr, JV_STR, apr_pstrmemdup(p, raw, n));
            return APR_SUCCESS;
        }
        /* a list property, or one we do not know: an unescaped comma
         * separates values (RFC 5545 3.1.1); a known single-valued one
         * keeps it (lenient) */
        items = (flags & PF_LIST) || !def ? split(p, raw, n, ',', 1, 0)
                                          : split(p, raw, n, '\0', 0, 1);
        for (i = 0; i < items->nelts; i++) {
            span_t *sp = &APR_ARRAY_IDX(items, i, span_t);

            val_add(pr, JV_STR, text_unescape(p, sp->s, sp->n));
        }
        return APR_SUCCESS;

    case JT_FLOAT:
        if (flags & PF_GEO) {
            const char *a = NULL, *b = NULL;

            items = split(p, raw, n, ';', 0, 0);
            if (items->nelts == 2) {
                span_t *s0 = &APR_ARRAY_IDX(items, 0, span_t);
                span_t *s1 = &APR_ARRAY_IDX(items, 1, span_t);

                a = num_i2j(p, s0->s, s0->n, 0);
                b = num_i2j(p, s1->s, s1->n, 0);
            }
            if (!a || !b) {
                return bad_value(cx, where, "GEO", raw, n);
            }
            v = val_add(pr, JV_GEO, NULL);
            v->a = a;
            v->b = b;
            return APR_SUCCESS;
        }
        /* fall through */
    case JT_INTEGER:
    case JT_BOOLEAN:
    case JT_DATE:
    case JT_DATE_TIME:
    case JT_TIME:
    case JT_UTC_OFFSET:
    case JT_DURATION:
    case JT_PERIOD:
    case JT_BINARY:
        items = split(p, raw, n, ',', 0, 0);
        for (i = 0; i < items->nelts; i++) {
            span_t *sp = &APR_ARRAY_IDX(items, i, span_t);
            const char *r = NULL;
            jvkind_e kind = JV_STR;

            switch (t) {
            case JT_FLOAT:
            case JT_INTEGER:
                r = num_i2j(p, sp->s, sp->n, t == JT_INTEGER);
                kind = JV_NUM;
                break;
            case JT_BOOLEAN:
                kind = JV_BOOL;
                if (sp->n == 4 && apr_cstr_casecmpn(sp->s, "TRUE", 4) == 0) {
                    r = "true";
                }
                else if (sp->n == 5
                         && apr_cstr_casecmpn(sp->s, "FALSE", 5) == 0) {
                    r = "false";
                }
                break;
            case JT_DATE:
                r = date_i2j(p, sp->s, sp->n);
                break;
            case JT_DATE_TIME:
                r = datetime_i2j(p, sp->s, sp->n);
                break;
            case JT_TIME:
                r = time_i2j(p, sp->s, sp->n);
                break;
            case JT_UTC_OFFSET:
                r = offset_i2j(p, sp->s, sp->n);
                break;
            case JT_DURATION:
                r = dur_norm(p, sp->s, sp->n);
                break;
            case JT_PERIOD: {
                const char *sl = memchr(sp->s, '/', sp->n), *a, *b = NULL;
                apr_size_t bn;

                if (sl && (a = datetime_i2j(p, sp->s,
                                            (apr_size_t)(sl - sp->s)))) {
                    bn = sp->n - (apr_size_t)(sl + 1 - sp->s);
                    if (bn && (sl[1] == 'P' || sl[1] == 'p' || sl[1] == '+'
                               || sl[1] == '-')) {
                        b = dur_norm(p, sl + 1, bn);
                    }
                    else {
                        b = datetime_i2j(p, sl + 1, bn);
                    }
                    if (b) {
                        v = val_add(pr, JV_PERIOD, NULL);
                        v->a = a;
                        v->b = b;
                        continue;
                    }
                }
                return bad_value(cx, where, tname, sp->s, sp->n);
            }
            default:                    /* JT_BINARY */
                r = ws_trim(p, apr_pstrmemdup(p, sp->s, sp->n), 1);
                break;
            }
            if (!r) {
                return bad_value(cx, where, tname, sp->s, sp->n);
            }
            val_add(pr, kind, r);
        }
        return APR_SUCCESS;

    case JT_RECUR: {
        const char *why;

        v = val_add(pr, JV_RECUR, NULL);
        v->parts = apr_array_make(p, 4, sizeof(rpart_t));
        why = recur_from_ical(p, raw, n, v->parts);
        if (why) {
            return fail(cx, "%s: invalid RECUR value %s (%s)", where,
                        shown(p, apr_pstrmemdup(p, raw, n)), why);
        }
        return APR_SUCCESS;
    }

    default:                    /* uri, cal-address, unknown, other */
        val_add(pr, JV_STR, apr_pstrmemdup(p, raw, n));
        return APR_SUCCESS;
    }
}

/* Decode a parameter value (RFC 6868: ^n and ^N newline, ^' quote, ^^
 * caret; any other ^ is kept). */
static const char *param_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *r = apr_palloc(p, n + 1), *o = r;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '^' && i + 1 < n) {
            char c = s[i + 1];

            if (c == 'n' || c == 'N') {
                *o++ = '\n';
                i++;
                continue;
            }
            if (c == '\'') {
                *o++ = '"';
                i++;
                continue;
            }
            if (c == '^') {
                *o++ = '^';
                i++;
                continue;
            }
        }
        *o++ = s[i];
    }
    *o = '\0';
    return r;
}

typedef enum {
    IM_STREAM,                  /* VCALENDAR components                 */
    IM_COMPONENT,               /* exactly one component, any name      */
    IM_PROPS                    /* property lines only                  */
} imode_e;

typedef struct ireader_t {
    cx_t *cx;
    imode_e mode;
    apr_array_header_t *stack;  /* jcomp_t *: open components          */
    apr_array_header_t *top;    /* jcomp_t *: top-level components     */
    jcomp_t *holder;            /* IM_PROPS: receives the properties   */
} ireader_t;

static int is_name_char(char c)
{
    return A_ALPHA(c) || A_DIGIT(c) || c == '-';
}

/* One unfolded content line [s, e) that began on line 'lineno'. */
static apr_status_t ical_line(ireader_t *r, const char *s, const char *e,
                              int lineno)
{
    cx_t *cx = r->cx;
    apr_pool_t *p = cx->pool;
    const char *ns = s, *name, *where, *vparam = NULL;
    jprop_t *pr;
    jcomp_t *cur;

    while (s < e && is_name_char(*s)) {
        s++;
    }
    if (s == ns) {
        return fail(cx, "iCalendar: line %d: no property name", lineno);
    }
    name = str_upper(p, apr_pstrmemdup(p, ns, (apr_size_t)(s - ns)));
    where = apr_psprintf(p, "iCalendar: line %d: %s", lineno, name);
    pr = prop_new(p, name);

    while (s < e && *s == ';') {
        const char *pn = ++s, *pname;
        const param_def_t *pd;
        int multi;

        while (s < e && is_name_char(*s)) {
            s++;
        }
        if (s == pn || s >= e || *s != '=') {
            return fail(cx, "%s: bad parameter", where);
        }
        pname = str_upper(p, apr_pstrmemdup(p, pn, (apr_size_t)(s - pn)));
        s++;
        pd = param_def(pname);
        multi = strcmp(pname, "VALUE") != 0 && (!pd || (pd->flags & PA_MULTI));
        for (;;) {
            const char *vs, *val;

            if (s < e && *s == '"') {
                const char *q;

                vs = ++s;
                q = memchr(s, '"', (apr_size_t)(e - s));
                if (!q) {
                    return fail(cx, "%s: unterminated quoted value of "
                                "parameter %s", where, pname);
                }
                s = q + 1;
                if (s < e && *s != ',' && *s != ';' && *s != ':') {
                    return fail(cx, "%s: text after the quoted value of "
                                "parameter %s", where, pname);
                }
                val = param_decode(p, vs, (apr_size_t)(q - vs));
            }
            else {
                /* a '"' inside an unquoted value (invalid, but libical
                 * lets it through) is taken literally */
                vs = s;
                while (s < e && *s != ';' && *s != ':'
                       && (*s != ',' || !multi)) {
                    s++;
                }
                val = param_decode(p, vs, (apr_size_t)(s - vs));
            }
            if (strcmp(pname, "VALUE") == 0) {
                vparam = val;
            }
            else {
                param_add(p, pr, pname, val);
            }
            if (multi && s < e && *s == ',') {
                s++;
                continue;
            }
            break;
        }
    }
    if (s >= e || *s != ':') {
        return fail(cx, "%s: expected ':'", where);
    }
    s++;

    if (strcmp(name, "BEGIN") == 0 || strcmp(name, "END") == 0) {
        const char *ce = e, *cname;

        while (ce > s && (ce[-1] == ' ' || ce[-1] == '\t')) {
            ce--;
        }
        cname = str_upper(p, apr_pstrmemdup(p, s, (apr_size_t)(ce - s)));
        if (!is_token(cname)) {
            return fail(cx, "%s: bad component name %s", where,
                        shown(p, cname));
        }
        if (name[0] == 'B') {
            jcomp_t *c;

            if (r->mode == IM_PROPS) {
                return fail(cx, "iCalendar: line %d: BEGIN:%s among "
                            "calendar properties", lineno, cname);
            }
            if (r->stack->nelts >= CALCORE_JCAL_MAX_DEPTH) {
                return fail(cx, "iCalendar: line %d: components nested "
                            "deeper than %d", lineno,
                            CALCORE_JCAL_MAX_DEPTH);
            }
            c = comp_new(p, cname);
            if (r->stack->nelts) {
                jcomp_t *parent = APR_ARRAY_IDX(r->stack, r->stack->nelts - 1,
                                                jcomp_t *);

                APR_ARRAY_PUSH(parent->comps, jcomp_t *) = c;
            }
            else {
                if (r->mode == IM_STREAM && strcmp(cname, "VCALENDAR") != 0) {
                    return fail(cx, "iCalendar: line %d: BEGIN:%s outside a "
                                "VCALENDAR", lineno, cname);
                }
                if (r->mode == IM_COMPONENT && r->top->nelts) {
                    return fail(cx, "iCalendar: line %d: more than one "
                                "component", lineno);
                }
                APR_ARRAY_PUSH(r->top, jcomp_t *) = c;
            }
            APR_ARRAY_PUSH(r->stack, jcomp_t *) = c;
        }
        else {
            if (!r->stack->nelts) {
                return fail(cx, "iCalendar: line %d: END:%s without BEGIN",
                            lineno, cname);
            }
            cur = APR_ARRAY_IDX(r->stack, r->stack->nelts - 1, jcomp_t *);
            if (strcmp(cur->name, cname) != 0) {
                return fail(cx, "iCalendar: line %d: END:%s does not match "
                            "BEGIN:%s", lineno, cname, cur->name);
            }
            apr_array_pop(r->stack);
        }
        return APR_SUCCESS;
    }

    if (r->stack->nelts) {
        cur = APR_ARRAY_IDX(r->stack, r->stack->nelts - 1, jcomp_t *);
    }
    else if (r->mode == IM_PROPS) {
        cur = r->holder;
    }
    else {
        return fail(cx, "iCalendar: line %d: %s outside a component", lineno,
                    name);
    }
    APR_ARRAY_PUSH(cur->props, jprop_t *) = pr;
    return ical_value(cx, pr, vparam, s, (apr_size_t)(e - s), where);
}

/* Read iCalendar text.  On success r->top (IM_STREAM, IM_COMPONENT) or
 * r->holder (IM_PROPS) holds the result. */
static apr_status_t ical_read(ireader_t *r, const char *text, apr_size_t len)
{
    cx_t *cx = r->cx;
    const char *p = text, *end = text + len, *q;
    sbuf_t lb;
    int lineno = 1;
    apr_status_t rv;

    r->stack = apr_array_make(cx->pool, 8, sizeof(jcomp_t *));
    r->top = apr_array_make(cx->pool, 1, sizeof(jcomp_t *));
    r->holder = comp_new(cx->pool, "VCALENDAR");
    if (len > CALCORE_JCAL_MAX_INPUT) {
        return fail(cx, "iCalendar: longer than %" APR_SIZE_T_FMT " octets",
                    CALCORE_JCAL_MAX_INPUT);
    }
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
    }
    /* the characters, once: UTF-8, no controls but HTAB, CR only in CRLF */
    for (q = p; q < end;) {
        unsigned char c = (unsigned char)*q;

        if (c == '\n') {
            lineno++;
            q++;
        }
        else if (c == '\r') {
            if (q + 1 >= end || q[1] != '\n') {
                return fail(cx, "iCalendar: line %d: CR without LF", lineno);
            }
            q++;
        }
        else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return fail(cx, "iCalendar: line %d: control character",
                        lineno);
        }
        else if (c >= 0x80) {
            apr_size_t n = utf8_len((const unsigned char *)q,
                                    (apr_size_t)(end - q));

            if (!n) {
                return fail(cx, "iCalendar: line %d: invalid UTF-8", lineno);
            }
            q += n;
        }
        else {
            q++;
        }
    }

    sb_init(&lb, cx->pool, 256);
    lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (apr_size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *ce = le > p && le[-1] == '\r' ? le - 1 : le;
        int first = ++lineno;

        lb.len = 0;
        sb_addn(&lb, p, (apr_size_t)(ce - p));
        p = nl ? nl + 1 : end;
        /* unfold: a line break followed by a space or a tab */
        while (p < end && (*p == ' ' || *p == '\t')) {
            nl = memchr(p, '\n', (apr_size_t)(end - p));
            le = nl ? nl : end;
            ce = le > p && le[-1] == '\r' ? le - 1 : le;
            lineno++;
            sb_addn(&lb, p + 1, (apr_size_t)(ce - p - 1));
            p = nl ? nl + 1 : end;
        }
        if (lb.len == 0) {
            continue;
        }
        sb_str(&lb);
        rv = ical_line(r, lb.data, lb.data + lb.len, first);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (r->stack->nelts) {
        return fail(cx, "iCalendar: missing END:%s",
                    APR_ARRAY_IDX(r->stack, r->stack->nelts - 1,
                                  jcomp_t *)->name);
    }
    if (r->mode == IM_STREAM && !r->top->nelts) {
        return fail(cx, "iCalendar: no VCALENDAR");
    }
    if (r->mode == IM_COMPONENT && !r->top->nelts) {
        return fail(cx, "iCalendar: no component");
    }
    return APR_SUCCESS;
}

/* Append content line [s, s+n) folded at 75 octets (continuation lines: a
 * space and at most 74 octets), never inside a UTF-8 sequence, with CRLF
 * line ends. */
static void fold_append(sbuf_t *out, const char *s, apr_size_t n)
{
    int first = 1;

    do {
        apr_size_t room = first ? 75 : 74, take = n < room ? n : room;

        if (take < n) {
            while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80) {
                take--;
            }
        }
        if (!first) {
            sb_addc(out, ' ');
        }
        sb_addn(out, s, take);
        sb_adds(out, "\r\n");
        s += take;
        n -= take;
        first = 0;
    } while (n > 0);
}

/* Append parameter value 'v', quoted when it holds ':' ';' or ',', with
 * RFC 6868 encoding of '^', '"' and line breaks. */
static void ical_param_value(sbuf_t *b, const char *v)
{
    int q = strpbrk(v, ";:,") != NULL;

    if (q) {
        sb_addc(b, '"');
    }
    for (; *v; v++) {
        switch (*v) {
        case '^':
            sb_adds(b, "^^");
            break;
        case '"':
            sb_adds(b, "^'");
            break;
        case '\r':
            if (v[1] != '\n') {
                sb_adds(b, "^n");
            }
            break;
        case '\n':
            sb_adds(b, "^n");
            break;
        default:
            sb_addc(b, *v);
        }
    }
    if (q) {
        sb_addc(b, '"');
    }
}

/* An iCalendar form of a jCal date, date-time, time or utc-offset (the
 * readers validated it; the input itself if not). */
static const char *j2i(apr_pool_t *p, jtype_e t, const char *s)
{
    const char *r = NULL;

    switch (t) {
    case JT_DATE:
        r = date_j2i(p, s);
        break;
    case JT_DATE_TIME:
        r = datetime_j2i(p, s);
        break;
    case JT_TIME:
        r = time_j2i(p, s);
        break;
    case JT_UTC_OFFSET:
        r = offset_j2i(p, s);
        break;
    default:
        break;
    }
    return r ? r : s;
}

/* Append the iCalendar value text of 'pr'. */
static void ical_value_text(sbuf_t *b, apr_pool_t *p, const jprop_t *pr)
{
    const prop_def_t *def = prop_def(pr->name);
    unsigned flags = def ? def->flags : 0;
    int i, j, k;

    for (i = 0; i < pr->vals->nelts; i++) {
        const jval_t *v = &APR_ARRAY_IDX(pr->vals, i, jval_t);

        if (i) {
            sb_addc(b, ',');
        }
        switch (v->kind) {
        case JV_STR:
            if (pr->type == JT_TEXT && !(flags & PF_VERBATIM)) {
                text_escape(b, v->s);
            }
            else {
                sb_adds(b, j2i(p, pr->type, v->s));
            }
            break;
        case JV_NUM:
            sb_adds(b, v->s);
            break;
        case JV_BOOL:
            sb_adds(b, strcmp(v->s, "true") == 0 ? "TRUE" : "FALSE");
            break;
        case JV_PERIOD:
            sb_adds(b, j2i(p, JT_DATE_TIME, v->a));
            sb_addc(b, '/');
            sb_adds(b, j2i(p, JT_DATE_TIME, v->b));
            break;
        case JV_GEO:
            sb_adds(b, v->a);
            sb_addc(b, ';');
            sb_adds(b, v->b);
            break;
        case JV_RSTATUS:
            for (j = 0; j < v->parts->nelts; j++) {
                if (j) {
                    sb_addc(b, ';');
                }
                text_escape(b, APR_ARRAY_IDX(v->parts, j, const char *));
            }
            break;
        case JV_RECUR: {
            int n = 0, pass;

            /* FREQ first (RFC 5545 3.3.10 keeps it first for RFC 2445
             * parsers), then the rest in order */
            for (pass = 0; pass < 2; pass++) {
                for (j = 0; j < v->parts->nelts; j++) {
                    const rpart_t *rp = &APR_ARRAY_IDX(v->parts, j, rpart_t);

                    if ((strcmp(rp->name, "freq") == 0) != (pass == 0)) {
                        continue;
                    }
                    if (n++) {
                        sb_addc(b, ';');
                    }
                    sb_adds(b, str_upper(p, rp->name));
                    sb_addc(b, '=');
                    for (k = 0; k < rp->vals->nelts; k++) {
                        const jval_t *rv = &APR_ARRAY_IDX(rp->vals, k,
                                                          jval_t);

                        if (k) {
                            sb_addc(b, ',');
                        }
                        if (rv->kind == JV_STR
                            && rpart_type(rp->name) == RP_UNTIL) {
                            sb_adds(b, j2i(p, strlen(rv->s) == 10
                                              ? JT_DATE : JT_DATE_TIME,
                                           rv->s));
                        }
                        else {
                            sb_adds(b, rv->s);
                        }
                    }
                }
            }
            break;
        }
        }
    }
}

/* Append property 'pr' as a folded content line; 'line' is scratch. */
static void ical_write_prop(sbuf_t *out, sbuf_t *line, apr_pool_t *p,
                            const jprop_t *pr)
{
    const prop_def_t *def = prop_def(pr->name);
    jtype_e dflt = def ? def->type : JT_UNKNOWN;
    int i, j;

    line->len = 0;
    sb_adds(line, pr->name);
    for (i = 0; i < pr->params->nelts; i++) {
        const jparam_t *pa = &APR_ARRAY_IDX(pr->params, i, jparam_t);
        const param_def_t *pd = param_def(pa->name);
        /* a list parameter (or an unknown one) joins its values with
         * commas; a single-valued one given several times (TZID=a;TZID=b,
         * kept as a list when read) is written repeated */
        int list = !pd || (pd->flags & PA_MULTI);

        for (j = 0; j < pa->vals->nelts; j++) {
            if (j == 0 || !list) {
                sb_addc(line, ';');
                sb_adds(line, pa->name);
                sb_addc(line, '=');
            }
            else {
                sb_addc(line, ',');
            }
            ical_param_value(line, APR_ARRAY_IDX(pa->vals, j, const char *));
        }
    }
    if (pr->type != JT_UNKNOWN && pr->type != dflt) {
        sb_adds(line, ";VALUE=");
        sb_adds(line, str_upper(p, pr->type_name));
    }
    sb_addc(line, ':');
    ical_value_text(line, p, pr);
    fold_append(out, line->data, line->len);
}

static void ical_write_comp(sbuf_t *out, sbuf_t *line, apr_pool_t *p,
                            const jcomp_t *c)
{
    int i;

    line->len = 0;
    sb_adds(line, "BEGIN:");
    sb_adds(line, c->name);
    fold_append(out, line->data, line->len);
    for (i = 0; i < c->props->nelts; i++) {
        ical_write_prop(out, line, p, APR_ARRAY_IDX(c->props, i, jprop_t *));
    }
    for (i = 0; i < c->comps->nelts; i++) {
        ical_write_comp(out, line, p, APR_ARRAY_IDX(c->comps, i, jcomp_t *));
    }
    line->len = 0;
    sb_adds(line, "END:");
    sb_adds(line, c->name);
    fold_append(out, line->data, line->len);
}

/* iCalendar text of top-level components 'top'. */
static void ical_write(apr_pool_t *p, const apr_array_header_t *top,
                       const char **out, apr_size_t *outlen)
{
    sbuf_t b, line;
    int i;

    sb_init(&b, p, 4096);
    sb_init(&line, p, 256);
    for (i = 0; i < top->nelts; i++) {
        ical_write_comp(&b, &line, p, APR_ARRAY_IDX(top, i, jcomp_t *));
    }
    *out = sb_str(&b);
    *outlen = b.len;
}

/* ==== 5. JSON and jCal =================================================== */

typedef enum {
    JN_NULL, JN_FALSE, JN_TRUE, JN_NUM, JN_STR, JN_ARR, JN_OBJ
} jntype_e;

typedef struct jnode_t {
    jntype_e type;
    const char *s;              /* STR: decoded text; NUM: the lexeme   */
    struct jnode_t **kids;      /* ARR: elements; OBJ: key, value, ...  */
    int n;                      /* number of kids                       */
} jnode_t;

typedef struct jparser_t {
    cx_t *cx;
    const char *start, *p, *end;
} jparser_t;

/* A syntax error at the current position. */
static apr_status_t jerr(jparser_t *jp, const char *what)
{
    if (jp->p >= jp->end) {
        return fail(jp->cx, "JSON: unexpected end of input at offset %"
                    APR_SIZE_T_FMT, (apr_size_t)(jp->end - jp->start));
    }
    return fail(jp->cx, "JSON: %s at offset %" APR_SIZE_T_FMT, what,
                (apr_size_t)(jp->p - jp->start));
}

static void jws(jparser_t *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t'
                               || *jp->p == '\n' || *jp->p == '\r')) {
        jp->p++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits at 'q' (bounds checked), or -1. */
static long hex4(const char *q, const char *end)
{
    long v = 0;
    int i;

    if (end - q < 4) {
        return -1;
    }
    for (i = 0; i < 4; i++) {
        int h = hexval(q[i]);

        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

/* A string; jp->p is at the opening quote. */
static apr_status_t jstring(jparser_t *jp, const char **out)
{
    sbuf_t b;

    sb_init(&b, jp->cx->pool, 32);
    jp->p++;
    for (;;) {
        unsigned char c;

        if (jp->p >= jp->end) {
            return jerr(jp, NULL);
        }
        c = (unsigned char)*jp->p;
        if (c == '"') {
            jp->p++;
            break;
        }
        if (c == '\\') {
            long cp;

            if (jp->p + 1 >= jp->end) {
                jp->p = jp->end;
                return jerr(jp, NULL);
            }
            switch (jp->p[1]) {
            case '"':
            case '\\':
            case '/':
                sb_addc(&b, jp->p[1]);
                break;
            case 'b':
                sb_addc(&b, '\b');
                break;
            case 'f':
                sb_addc(&b, '\f');
                break;
            case 'n':
                sb_addc(&b, '\n');
                break;
            case 'r':
                sb_addc(&b, '\r');
                break;
            case 't':
                sb_addc(&b, '\t');
                break;
            case 'u':
                cp = hex4(jp->p + 2, jp->end);
                if (cp < 0) {
                    return jerr(jp, "invalid \\u escape");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    long lo = -1;

                    if (jp->end - jp->p >= 12 && jp->p[6] == '\\'
                        && jp->p[7] == 'u') {
                        lo = hex4(jp->p + 8, jp->end);
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        return jerr(jp, "unpaired surrogate in \\u escape");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    jp->p += 6;
                }
                else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return jerr(jp, "unpaired surrogate in \\u escape");
                }
                else if (cp == 0) {
                    return jerr(jp, "NUL character (\\u0000)");
                }
                utf8_put(&b, (unsigned long)cp);
                jp->p += 4;
                break;
            default:
                return jerr(jp, "invalid escape");
            }
            jp->p += 2;
            continue;
        }
        if (c < 0x20) {
            return jerr(jp, "control character in string");
        }
        if (c >= 0x80) {
            apr_size_t n = utf8_len((const unsigned char *)jp->p,
                                    (apr_size_t)(jp->end - jp->p));

            if (!n) {
                return jerr(jp, "invalid UTF-8");
            }
            sb_addn(&b, jp->p, n);
            jp->p += n;
            continue;
        }
        sb_addc(&b, (char)c);
        jp->p++;
    }
    *out = sb_str(&b);
    return APR_SUCCESS;
}

static int jdigit(jparser_t *jp)
{
    return jp->p < jp->end && A_DIGIT(*jp->p);
}

/* A number (RFC 8259 grammar), kept as its lexeme. */
static apr_status_t jnumber(jparser_t *jp, const char **out)
{
    const char *s = jp->p;

    if (*jp->p == '-') {
        jp->p++;
    }
    if (jp->p < jp->end && *jp->p == '0') {
        jp->p++;
    }
    else if (jdigit(jp)) {
        while (jdigit(jp)) {
            jp->p++;
        }
    }
    else {
        return jerr(jp, "invalid number");
    }
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (!jdigit(jp)) {
            return jerr(jp, "invalid number");
        }
        while (jdigit(jp)) {
            jp->p++;
        }
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-')) {
            jp->p++;
        }
        if (!jdigit(jp)) {
            return jerr(jp, "invalid number");
        }
        while (jdigit(jp)) {
            jp->p++;
        }
    }
    *out = apr_pstrmemdup(jp->cx->pool, s, (apr_size_t)(jp->p - s));
    return APR_SUCCESS;
}

/* A value at nesting depth 'depth' (the top value is at 0). */
static apr_status_t jvalue(jparser_t *jp, jnode_t **out, int depth)
{
    apr_pool_t *pool = jp->cx->pool;
    jnode_t *n;
    apr_status_t rv;

    jws(jp);
    if (jp->p >= jp->end) {
        return jerr(jp, NULL);
    }
    n = apr_pcalloc(pool, sizeof(*n));
    *out = n;
    switch (*jp->p) {
    case '[':
    case '{': {
        int obj = *jp->p == '{';
        char close = obj ? '}' : ']';
        apr_array_header_t *kids;

        if (depth >= CALCORE_JCAL_MAX_DEPTH) {
            return fail(jp->cx, "JSON: nested deeper than %d levels at "
                        "offset %" APR_SIZE_T_FMT, CALCORE_JCAL_MAX_DEPTH,
                        (apr_size_t)(jp->p - jp->start));
        }
        n->type = obj ? JN_OBJ : JN_ARR;
        kids = apr_array_make(pool, 4, sizeof(jnode_t *));
        jp->p++;
        jws(jp);
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
        }
        else {
            for (;;) {
                jnode_t *kid;

                if (obj) {
                    jws(jp);
                    if (jp->p >= jp->end || *jp->p != '"') {
                        return jerr(jp, "expected a string (member name)");
                    }
                    kid = apr_pcalloc(pool, sizeof(*kid));
                    kid->type = JN_STR;
                    rv = jstring(jp, &kid->s);
                    if (rv != APR_SUCCESS) {
                        return rv;
                    }
                    APR_ARRAY_PUSH(kids, jnode_t *) = kid;
                    jws(jp);
                    if (jp->p >= jp->end || *jp->p != ':') {
                        return jerr(jp, "expected ':'");
                    }
                    jp->p++;
                }
                rv = jvalue(jp, &kid, depth + 1);
                if (rv != APR_SUCCESS) {
                    return rv;
                }
                APR_ARRAY_PUSH(kids, jnode_t *) = kid;
                jws(jp);
                if (jp->p < jp->end && *jp->p == ',') {
                    jp->p++;
                    continue;
                }
                if (jp->p < jp->end && *jp->p == close) {
                    jp->p++;
                    break;
                }
                return jerr(jp, obj ? "expected ',' or '}'"
                                    : "expected ',' or ']'");
            }
        }
        n->kids = (jnode_t **)kids->elts;
        n->n = kids->nelts;
        return APR_SUCCESS;
    }
    case '"':
        n->type = JN_STR;
        return jstring(jp, &n->s);
    case 't':
    case 'f':
    case 'n': {
        static const char *const lit[] = { "true", "false", "null" };
        static const jntype_e lt[] = { JN_TRUE, JN_FALSE, JN_NULL };
        int i;

        for (i = 0; i < 3; i++) {
            apr_size_t l = strlen(lit[i]);

            if ((apr_size_t)(jp->end - jp->p) >= l
                && memcmp(jp->p, lit[i], l) == 0) {
                n->type = lt[i];
                n->s = lit[i];
                jp->p += l;
                return APR_SUCCESS;
            }
        }
        return jerr(jp, "unexpected character");
    }
    default:
        if (*jp->p == '-' || A_DIGIT(*jp->p)) {
            n->type = JN_NUM;
            return jnumber(jp, &n->s);
        }
        return jerr(jp, "unexpected character");
    }
}

/* Parse a whole JSON text (an optional UTF-8 BOM, one value,
 * whitespace). */
static apr_status_t json_parse(cx_t *cx, const char *text, apr_size_t len,
                               jnode_t **root)
{
    jparser_t jp;
    apr_status_t rv;

    jp.cx = cx;
    jp.start = jp.p = text;
    jp.end = text + len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        jp.p += 3;
    }
    rv = jvalue(&jp, root, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    jws(&jp);
    if (jp.p != jp.end) {
        return jerr(&jp, "data after the JSON value");
    }
    return APR_SUCCESS;
}

/* ---- jCal -> model ------------------------------------------------------ */

static const char *jtype_name(const jnode_t *n)
{
    static const char *const names[] = {
        "null", "false", "true", "a number", "a string", "an array",
        "an object"
    };

    return names[n->type];
}

/* A jCal value of a 'what'-typed property that must be a JSON string. */
static apr_status_t jcal_str(cx_t *cx, const jnode_t *v, const char *where,
                             const char *what, const char **s)
{
    if (v->type != JN_STR) {
        return fail(cx, "%s: a %s value must be a string, not %s", where,
                    what, jtype_name(v));
    }
    *s = v->s;
    return APR_SUCCESS;
}

/* The values k[0..nv) of 'pr', whose type is set. */
static apr_status_t jcal_values(cx_t *cx, jprop_t *pr, jnode_t **k, int nv,
                                const char *where)
{
    apr_pool_t *p = cx->pool;
    const prop_def_t *def = prop_def(pr->name);
    unsigned flags = def ? def->flags : 0;
    const char *tn = pr->type_name, *s = NULL, *why;
    apr_status_t rv;
    jval_t *v;
    int i, j;

    if (pr->type == JT_TEXT && (flags & PF_RSTATUS)) {
        if (nv != 1 || k[0]->type != JN_ARR || k[0]->n < 2 || k[0]->n > 3) {
            return fail(cx, "%s: the value must be an array of 2 or 3 "
                        "strings", where);
        }
        v = val_add(pr, JV_RSTATUS, NULL);
        v->parts = apr_array_make(p, 3, sizeof(const char *));
        for (j = 0; j < k[0]->n; j++) {
            if (k[0]->kids[j]->type != JN_STR) {
                return fail(cx, "%s: the value must be an array of 2 or 3 "
                            "strings", where);
            }
            if ((why = bad_chars(k[0]->kids[j]->s, 1)) != NULL) {
                return fail(cx, "%s: %s", where, why);
            }
            APR_ARRAY_PUSH(v->parts, const char *) = k[0]->kids[j]->s;
        }
        return APR_SUCCESS;
    }
    if (pr->type == JT_FLOAT && (flags & PF_GEO)) {
        jnode_t *const *g = k;

        if (nv == 1 && k[0]->type == JN_ARR && k[0]->n == 2) {
            g = k[0]->kids;
        }
        else if (nv != 2) {
            g = NULL;
        }
        if (!g || g[0]->type != JN_NUM || g[1]->type != JN_NUM) {
            return fail(cx, "%s: the value must be an array of two numbers",
                        where);
        }
        v = val_add(pr, JV_GEO, NULL);
        v->a = num_plain(p, g[0]->s, 0);
        v->b = num_plain(p, g[1]->s, 0);
        if (!v->a || !v->b) {
            return fail(cx, "%s: number out of range", where);
        }
        return APR_SUCCESS;
    }
    if (nv > 1 && single_valued(pr, def)) {
        return fail(cx, "%s: more than one %s value", where, tn);
    }

    for (i = 0; i < nv; i++) {
        const jnode_t *n = k[i];
        const char *r = NULL;

        switch (pr->type) {
        case JT_TEXT:
            if ((rv = jcal_str(cx, n, where, tn, &s)) != APR_SUCCESS) {
                return rv;
            }
            if ((why = bad_chars(s, !(flags & PF_VERBATIM))) != NULL) {
                return fail(cx, "%s: %s", where, why);
            }
            val_add(pr, JV_STR, s);
            continue;
        case JT_FLOAT:
        case JT_INTEGER:
            if (n->type != JN_NUM && n->type != JN_STR) {
                return fail(cx, "%s: a %s value must be a number, not %s",
                            where, tn, jtype_name(n));
            }
            r = num_plain(p, n->s, pr->type == JT_INTEGER);
            if (!r) {
                return fail(cx, "%s: invalid %s value %s", where, tn,
                            shown(p, n->s));
            }
            val_add(pr, JV_NUM, r);
            continue;
        case JT_BOOLEAN:
            if (n->type == JN_TRUE || n->type == JN_FALSE) {
                r = n->s;
            }
            else if (n->type == JN_STR && (apr_cstr_casecmp(n->s, "true") == 0
                                           || apr_cstr_casecmp(n->s, "false")
                                              == 0)) {
                r = A_UPPER(n->s[0]) == 'T' ? "true" : "false";
            }
            else {
                return fail(cx, "%s: a boolean value must be true or false",
                            where);
            }
            val_add(pr, JV_BOOL, r);
            continue;
        case JT_PERIOD: {
            const char *a = NULL, *b = NULL;

            if (n->type == JN_ARR && n->n == 2 && n->kids[0]->type == JN_STR
                && n->kids[1]->type == JN_STR) {
                a = n->kids[0]->s;
                b = n->kids[1]->s;
            }
            else if (n->type == JN_STR && (s = strchr(n->s, '/')) != NULL) {
                a = apr_pstrmemdup(p, n->s, (apr_size_t)(s - n->s));
                b = s + 1;
            }
            else {
                return fail(cx, "%s: a period value must be an array "
                            "[start, end or duration]", where);
            }
            r = datetime_j2i(p, b) ? b : dur_norm(p, b, strlen(b));
            if (!datetime_j2i(p, a) || !r) {
                return fail(cx, "%s: invalid period value %s", where,
                            shown(p, apr_pstrcat(p, a, "/", b, NULL)));
            }
            b = r;
            v = val_add(pr, JV_PERIOD, NULL);
            v->a = a;
            v->b = b;
            continue;
        }
        case JT_RECUR:
            if (n->type != JN_OBJ || n->n == 0) {
                return fail(cx, "%s: a recur value must be a non-empty "
                            "object", where);
            }
            v = val_add(pr, JV_RECUR, NULL);
            v->parts = apr_array_make(p, 4, sizeof(rpart_t));
            for (j = 0; j < n->n; j += 2) {
                const char *key = n->kids[j]->s;
                const jnode_t *val = n->kids[j + 1];
                jnode_t *const *items = &n->kids[j + 1];
                int ni = 1, m;
                rpart_t *rp;

                if (!is_token(key)) {
                    return fail(cx, "%s: bad rule part name %s", where,
                                shown(p, key));
                }
                rp = rpart_get(p, v->parts, str_lower(p, key));
                if (rp->vals->nelts) {
                    return fail(cx, "%s: rule part %s given twice", where,
                                rp->name);
                }
                if (val->type == JN_ARR) {
                    items = val->kids;
                    ni = val->n;
                }
                if (ni == 0) {
                    return fail(cx, "%s: rule part %s is empty", where,
                                rp->name);
                }
                for (m = 0; m < ni; m++) {
                    const jnode_t *it = items[m];

                    if ((it->type != JN_STR && it->type != JN_NUM)
                        || !rpart_add(p, rp, it->s, 0, it->type == JN_NUM)) {
                        return fail(cx, "%s: invalid %s value %s", where,
                                    rp->name,
                                    it->type == JN_STR || it->type == JN_NUM
                                    ? shown(p, it->s) : jtype_name(it));
                    }
                }
            }
            continue;
        case JT_DATE:
        case JT_DATE_TIME:
        case JT_TIME:
        case JT_UTC_OFFSET:
        case JT_DURATION:
            if ((rv = jcal_str(cx, n, where, tn, &s)) != APR_SUCCESS) {
                return rv;
            }
            r = pr->type == JT_DURATION ? dur_norm(p, s, strlen(s))
                                        : j2i(p, pr->type, s) == s ? NULL : s;
            if (!r) {
                return fail(cx, "%s: invalid %s value %s", where, tn,
                            shown(p, s));
            }
            val_add(pr, JV_STR, r);
            continue;
        case JT_BINARY:
        case JT_URI:
        case JT_CAL_ADDRESS:
            if ((rv = jcal_str(cx, n, where, tn, &s)) != APR_SUCCESS) {
                return rv;
            }
            if (pr->type == JT_BINARY) {
                s = ws_trim(p, s, 1);
            }
            break;
        default:                /* unknown, other: the raw text */
            if (n->type == JN_STR || n->type == JN_NUM) {
                s = n->s;
            }
            else if (n->type == JN_TRUE || n->type == JN_FALSE) {
                s = n->type == JN_TRUE ? "TRUE" : "FALSE";
            }
            else {
                return fail(cx, "%s: a %s value must be a string, not %s",
                            where, tn, jtype_name(n));
            }
            break;
        }
        if ((why = bad_chars(s, 0)) != NULL) {
            return fail(cx, "%s: %s", where, why);
        }
        val_add(pr, JV_STR, s);
    }
    return APR_SUCCESS;
}

/* A property array [name, {params}, type, value...] inside 'path'. */
static apr_status_t jcal_prop(cx_t *cx, const jnode_t *n, const char *path,
                              jcomp_t *c)
{
    apr_pool_t *p = cx->pool;
    const char *where, *why;
    jnode_t **k;
    jprop_t *pr;
    int i, j;

    if (n->type != JN_ARR || n->n < 4) {
        return fail(cx, "jCal: %s: a property must be an array [name, "
                    "parameters, type, value...]", path);
    }
    k = n->kids;
    if (k[0]->type != JN_STR || !is_token(k[0]->s)) {
        return fail(cx, "jCal: %s: bad property name %s", path,
                    k[0]->type == JN_STR ? shown(p, k[0]->s)
                                         : jtype_name(k[0]));
    }
    where = apr_psprintf(p, "jCal: %s: %s", path, str_lower(p, k[0]->s));
    if (structural(k[0]->s)) {
        return fail(cx, "%s: not a property name", where);
    }
    pr = prop_new(p, str_upper(p, k[0]->s));
    APR_ARRAY_PUSH(c->props, jprop_t *) = pr;

    if (k[1]->type != JN_OBJ) {
        return fail(cx, "%s: the parameters must be an object, not %s",
                    where, jtype_name(k[1]));
    }
    for (i = 0; i < k[1]->n; i += 2) {
        const char *key = k[1]->kids[i]->s, *pname;
        const jnode_t *val = k[1]->kids[i + 1];
        jnode_t *const *items = &k[1]->kids[i + 1];
        int ni = 1;

        if (!is_token(key)) {
            return fail(cx, "%s: bad parameter name %s", where,
                        shown(p, key));
        }
        pname = str_upper(p, key);
        if (strcmp(pname, "VALUE") == 0) {
            continue;           /* the type element says it (3.4.1.2) */
        }
        for (j = 0; j < pr->params->nelts; j++) {
            if (strcmp(APR_ARRAY_IDX(pr->params, j, jparam_t).name,
                       pname) == 0) {
                return fail(cx, "%s: parameter %s given twice", where, key);
            }
        }
        if (val->type == JN_ARR) {
            items = val->kids;
            ni = val->n;
        }
        if (ni == 0) {
            return fail(cx, "%s: parameter %s has no value", where, key);
        }
        for (j = 0; j < ni; j++) {
            if (items[j]->type != JN_STR) {
                return fail(cx, "%s: parameter %s must be a string or an "
                            "array of strings", where, key);
            }
            if ((why = bad_chars(items[j]->s, 1)) != NULL) {
                return fail(cx, "%s: parameter %s: %s", where, key, why);
            }
            param_add(p, pr, pname, items[j]->s);
        }
    }
    if (k[2]->type != JN_STR || !is_token(k[2]->s)) {
        return fail(cx, "%s: bad value type %s", where,
                    k[2]->type == JN_STR ? shown(p, k[2]->s)
                                         : jtype_name(k[2]));
    }
    pr->type = type_from_name(k[2]->s);
    pr->type_name = pr->type == JT_OTHER ? str_lower(p, k[2]->s)
                                         : type_names[pr->type];
    return jcal_values(cx, pr, k + 3, n->n - 3, where);
}

/* A component array [name, [props], [comps]]; 'parent' is the path of the
 * enclosing component or NULL. */
static apr_status_t jcal_comp(cx_t *cx, const jnode_t *n, const char *parent,
                              jcomp_t **out)
{
    apr_pool_t *p = cx->pool;
    const char *path;
    jcomp_t *c;
    apr_status_t rv;
    int i;

    if (n->type != JN_ARR || n->n != 3) {
        return fail(cx, "jCal: %s: a component must be an array [name, "
                    "properties, components]", parent ? parent : "document");
    }
    if (n->kids[0]->type != JN_STR || !is_token(n->kids[0]->s)) {
        return fail(cx, "jCal: %s: bad component name %s",
                    parent ? parent : "document",
                    n->kids[0]->type == JN_STR ? shown(p, n->kids[0]->s)
                                               : jtype_name(n->kids[0]));
    }
    path = str_lower(p, n->kids[0]->s);
    if (parent) {
        path = apr_pstrcat(p, parent, "/", path, NULL);
    }
    if (n->kids[1]->type != JN_ARR) {
        return fail(cx, "jCal: %s: the properties must be an array, not %s",
                    path, jtype_name(n->kids[1]));
    }
    if (n->kids[2]->type != JN_ARR) {
        return fail(cx, "jCal: %s: the components must be an array, not %s",
                    path, jtype_name(n->kids[2]));
    }
    c = comp_new(p, str_upper(p, n->kids[0]->s));
    *out = c;
    for (i = 0; i < n->kids[1]->n; i++) {
        rv = jcal_prop(cx, n->kids[1]->kids[i], path, c);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    for (i = 0; i < n->kids[2]->n; i++) {
        jcomp_t *sub;

        rv = jcal_comp(cx, n->kids[2]->kids[i], path, &sub);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(c->comps, jcomp_t *) = sub;
    }
    return APR_SUCCESS;
}

/* ---- model -> jCal ------------------------------------------------------ */

static void json_str(sbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    sb_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        switch (c) {
        case '"':
            sb_adds(b, "\\\"");
            break;
        case '\\':
            sb_adds(b, "\\\\");
            break;
        case '\n':
            sb_adds(b, "\\n");
            break;
        case '\r':
            sb_adds(b, "\\r");
            break;
        case '\t':
            sb_adds(b, "\\t");
            break;
        case '\b':
            sb_adds(b, "\\b");
            break;
        case '\f':
            sb_adds(b, "\\f");
            break;
        default:
            if (c < 0x20) {
                sb_adds(b, "\\u00");
                sb_addc(b, hex[c >> 4]);
                sb_addc(b, hex[c & 15]);
            }
            else {
                sb_addc(b, (char)c);
            }
        }
    }
    sb_addc(b, '"');
}

/* A name, lower-cased (names are ASCII tokens). */
static void json_name(sbuf_t *b, const char *s)
{
    sb_addc(b, '"');
    for (; *s; s++) {
        sb_addc(b, A_LOWER(*s));
    }
    sb_addc(b, '"');
}

static void jcal_write_val(sbuf_t *b, const jval_t *v)
{
    int j, k;

    switch (v->kind) {
    case JV_STR:
        json_str(b, v->s);
        break;
    case JV_NUM:
    case JV_BOOL:
        sb_adds(b, v->s);
        break;
    case JV_PERIOD:
        sb_addc(b, '[');
        json_str(b, v->a);
        sb_addc(b, ',');
        json_str(b, v->b);
        sb_addc(b, ']');
        break;
    case JV_GEO:
        sb_addc(b, '[');
        sb_adds(b, v->a);
        sb_addc(b, ',');
        sb_adds(b, v->b);
        sb_addc(b, ']');
        break;
    case JV_RSTATUS:
        sb_addc(b, '[');
        for (j = 0; j < v->parts->nelts; j++) {
            if (j) {
                sb_addc(b, ',');
            }
            json_str(b, APR_ARRAY_IDX(v->parts, j, const char *));
        }
        sb_addc(b, ']');
        break;
    case JV_RECUR:
        sb_addc(b, '{');
        for (j = 0; j < v->parts->nelts; j++) {
            const rpart_t *rp = &APR_ARRAY_IDX(v->parts, j, rpart_t);

            if (j) {
                sb_addc(b, ',');
            }
            json_name(b, rp->name);
            sb_addc(b, ':');
            if (rp->vals->nelts != 1) {
                sb_addc(b, '[');
            }
            for (k = 0; k < rp->vals->nelts; k++) {
                if (k) {
                    sb_addc(b, ',');
                }
                jcal_write_val(b, &APR_ARRAY_IDX(rp->vals, k, jval_t));
            }
            if (rp->vals->nelts != 1) {
                sb_addc(b, ']');
            }
        }
        sb_addc(b, '}');
        break;
    }
}

static void jcal_write_prop(sbuf_t *b, const jprop_t *pr)
{
    int i, j;

    sb_addc(b, '[');
    json_name(b, pr->name);
    sb_adds(b, ",{");
    for (i = 0; i < pr->params->nelts; i++) {
        const jparam_t *pa = &APR_ARRAY_IDX(pr->params, i, jparam_t);

        if (i) {
            sb_addc(b, ',');
        }
        json_name(b, pa->name);
        sb_addc(b, ':');
        if (pa->vals->nelts != 1) {
            sb_addc(b, '[');
        }
        for (j = 0; j < pa->vals->nelts; j++) {
            if (j) {
                sb_addc(b, ',');
            }
            json_str(b, APR_ARRAY_IDX(pa->vals, j, const char *));
        }
        if (pa->vals->nelts != 1) {
            sb_addc(b, ']');
        }
    }
    sb_adds(b, "},");
    json_str(b, pr->type_name);
    for (i = 0; i < pr->vals->nelts; i++) {
        sb_addc(b, ',');
        jcal_write_val(b, &APR_ARRAY_IDX(pr->vals, i, jval_t));
    }
    sb_addc(b, ']');
}

static void jcal_write_props(sbuf_t *b, const jcomp_t *c)
{
    int i;

    for (i = 0; i < c->props->nelts; i++) {
        if (i) {
            sb_addc(b, ',');
        }
        jcal_write_prop(b, APR_ARRAY_IDX(c->props, i, jprop_t *));
    }
}

static void jcal_write_comp(sbuf_t *b, const jcomp_t *c)
{
    int i;

    sb_addc(b, '[');
    json_name(b, c->name);
    sb_adds(b, ",[");
    jcal_write_props(b, c);
    sb_adds(b, "],[");
    for (i = 0; i < c->comps->nelts; i++) {
        if (i) {
            sb_addc(b, ',');
        }
        jcal_write_comp(b, APR_ARRAY_IDX(c->comps, i, jcomp_t *));
    }
    sb_adds(b, "]]");
}

/* ==== 6. xCal ============================================================ */

typedef struct xreader_t {
    cx_t *cx;
    const apr_xml_doc *doc;
} xreader_t;

/* Is 'e' in the xCal namespace?  (Other elements are extensions.) */
static int x_is(const xreader_t *x, const apr_xml_elem *e)
{
    return e->ns >= 0
           && strcmp(APR_XML_GET_URI_ITEM(x->doc->namespaces, e->ns),
                     CALCORE_XCAL_NS) == 0;
}

static int x_blank(const apr_text_header *h)
{
    const apr_text *t;
    const char *s;

    for (t = h->first; t; t = t->next) {
        for (s = t->text; *s; s++) {
            if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
                return 0;
            }
        }
    }
    return 1;
}

/* A structural element holds elements and white space only. */
static apr_status_t x_no_text(xreader_t *x, const apr_xml_elem *e,
                              const char *where)
{
    const apr_xml_elem *c;

    if (!x_blank(&e->first_cdata)) {
        return fail(x->cx, "xCal: %s: text directly inside <%s>", where,
                    e->name);
    }
    for (c = e->first_child; c; c = c->next) {
        if (!x_blank(&c->following_cdata)) {
            return fail(x->cx, "xCal: %s: text directly inside <%s>", where,
                        e->name);
        }
    }
    return APR_SUCCESS;
}

/* The text of a value element, which holds no elements. */
static apr_status_t x_leaf(xreader_t *x, const apr_xml_elem *e,
                           const char *where, const char **text)
{
    const apr_text *t;
    sbuf_t b;

    if (e->first_child) {
        return fail(x->cx, "xCal: %s: <%s> must not contain elements", where,
                    e->name);
    }
    sb_init(&b, x->cx->pool, 64);
    for (t = e->first_cdata.first; t; t = t->next) {
        sb_adds(&b, t->text);
    }
    *text = sb_str(&b);
    return APR_SUCCESS;
}

/* The <parameters> of 'pr'. */
static apr_status_t xcal_params(xreader_t *x, const apr_xml_elem *pe,
                                jprop_t *pr, const char *where)
{
    apr_pool_t *p = x->cx->pool;
    const apr_xml_elem *e, *v;
    apr_status_t rv;

    if ((rv = x_no_text(x, pe, where)) != APR_SUCCESS) {
        return rv;
    }
    for (e = pe->first_child; e; e = e->next) {
        const char *pname;
        int n = 0;

        if (!x_is(x, e)) {
            continue;
        }
        if (!is_token(e->name)) {
            return fail(x->cx, "xCal: %s: bad parameter name <%s>", where,
                        e->name);
        }
        pname = str_upper(p, e->name);
        if ((rv = x_no_text(x, e, where)) != APR_SUCCESS) {
            return rv;
        }
        for (v = e->first_child; v; v = v->next) {
            const char *s, *why;

            if (!x_is(x, v)) {
                continue;
            }
            if ((rv = x_leaf(x, v, where, &s)) != APR_SUCCESS) {
                return rv;
            }
            if (strcmp(v->name, "boolean") == 0) {
                s = str_upper(p, ws_trim(p, s, 0));
            }
            if ((why = bad_chars(s, 1)) != NULL) {
                return fail(x->cx, "xCal: %s: parameter <%s>: %s", where,
                            e->name, why);
            }
            if (strcmp(pname, "VALUE") != 0) {
                param_add(p, pr, pname, s);
            }
            n++;
        }
        if (!n) {
            return fail(x->cx, "xCal: %s: parameter <%s> has no value", where,
                        e->name);
        }
    }
    return APR_SUCCESS;
}

/* One value element 've' of type 't' for 'pr'. */
static apr_status_t xcal_value(xreader_t *x, jprop_t *pr,
                               const apr_xml_elem *ve, const char *where)
{
    apr_pool_t *p = x->cx->pool;
    const prop_def_t *def = prop_def(pr->name);
    unsigned flags = def ? def->flags : 0;
    const apr_xml_elem *c;
    const char *s, *r, *why;
    apr_status_t rv;
    jval_t *v;

    if (pr->type == JT_PERIOD) {
        const char *a = NULL, *b = NULL;

        if ((rv = x_no_text(x, ve, where)) != APR_SUCCESS) {
            return rv;
        }
        for (c = ve->first_child; c; c = c->next) {
            if (!x_is(x, c)) {
                continue;
            }
            if ((rv = x_leaf(x, c, where, &s)) != APR_SUCCESS) {
                return rv;
            }
            s = ws_trim(p, s, 0);
            if (strcmp(c->name, "start") == 0 && !a) {
                if (!datetime_j2i(p, s)) {
                    return fail(x->cx, "xCal: %s: invalid period start %s",
                                where, shown(p, s));
                }
                a = s;
            }
            else if (strcmp(c->name, "end") == 0 && !b && datetime_j2i(p, s)) {
                b = s;
            }
            else if (strcmp(c->name, "duration") == 0 && !b
                     && (b = dur_norm(p, s, strlen(s))) != NULL) {
                /* b set */
            }
            else {
                return fail(x->cx, "xCal: %s: unexpected <%s> %s in <period>",
                            where, c->name, shown(p, s));
            }
        }
        if (!a || !b) {
            return fail(x->cx, "xCal: %s: a <period> needs <start> and <end> "
                        "or <duration>", where);
        }
        v = val_add(pr, JV_PERIOD, NULL);
        v->a = a;
        v->b = b;
        return APR_SUCCESS;
    }
    if (pr->type == JT_RECUR) {
        if ((rv = x_no_text(x, ve, where)) != APR_SUCCESS) {
            return rv;
        }
        v = val_add(pr, JV_RECUR, NULL);
        v->parts = apr_array_make(p, 4, sizeof(rpart_t));
        for (c = ve->first_child; c; c = c->next) {
            rpart_t *rp;

            if (!x_is(x, c)) {
                continue;
            }
            if (!is_token(c->name)) {
                return fail(x->cx, "xCal: %s: bad rule part <%s>", where,
                            c->name);
            }
            if ((rv = x_leaf(x, c, where, &s)) != APR_SUCCESS) {
                return rv;
            }
            s = ws_trim(p, s, 0);
            rp = rpart_get(p, v->parts, str_lower(p, c->name));
            if (!rpart_add(p, rp, s, 0, 0)) {
                return fail(x->cx, "xCal: %s: invalid <%s> value %s", where,
                            c->name, shown(p, s));
            }
        }
        if (!v->parts->nelts) {
            return fail(x->cx, "xCal: %s: empty <recur>", where);
        }
        return APR_SUCCESS;
    }

    if ((rv = x_leaf(x, ve, where, &s)) != APR_SUCCESS) {
        return rv;
    }
    switch (pr->type) {
    case JT_TEXT:
        if ((why = bad_chars(s, !(flags & PF_VERBATIM))) != NULL) {
            return fail(x->cx, "xCal: %s: %s", where, why);
        }
        val_add(pr, JV_STR, s);
        return APR_SUCCESS;
    case JT_FLOAT:
    case JT_INTEGER:
        r = num_plain(p, ws_trim(p, s, 0), pr->type == JT_INTEGER);
        if (!r) {
            break;
        }
        val_add(pr, JV_NUM, r);
        return APR_SUCCESS;
    case JT_BOOLEAN:
        r = ws_trim(p, s, 0);
        if (apr_cstr_casecmp(r, "true") != 0
            && apr_cstr_casecmp(r, "false") != 0) {
            break;
        }
        val_add(pr, JV_BOOL, A_UPPER(r[0]) == 'T' ? "true" : "false");
        return APR_SUCCESS;
    case JT_DATE:
    case JT_DATE_TIME:
    case JT_TIME:
    case JT_UTC_OFFSET:
        r = ws_trim(p, s, 0);
        if (j2i(p, pr->type, r) == r) {
            s = r;
            break;
        }
        val_add(pr, JV_STR, r);
        return APR_SUCCESS;
    case JT_DURATION:
        s = ws_trim(p, s, 0);
        if (!(r = dur_norm(p, s, strlen(s)))) {
            break;
        }
        val_add(pr, JV_STR, r);
        return APR_SUCCESS;
    default:                    /* binary, uri, cal-address, unknown... */
        if (pr->type == JT_BINARY) {
            s = ws_trim(p, s, 1);
        }
        if ((why = bad_chars(s, 0)) != NULL) {
            return fail(x->cx, "xCal: %s: %s", where, why);
        }
        val_add(pr, JV_STR, s);
        return APR_SUCCESS;
    }
    return fail(x->cx, "xCal: %s: invalid %s value %s", where, pr->type_name,
                shown(p, s));
}

/* A property element inside 'path'. */
static apr_status_t xcal_prop(xreader_t *x, const apr_xml_elem *e,
                              const char *path, jcomp_t *c)
{
    apr_pool_t *p = x->cx->pool;
    apr_array_header_t *ves = apr_array_make(p, 2, sizeof(apr_xml_elem *));
    const prop_def_t *def;
    const apr_xml_elem *k, *first;
    const char *where;
    unsigned flags;
    jprop_t *pr;
    apr_status_t rv;
    int i, params = 0;

    if (!is_token(e->name)) {
        return fail(x->cx, "xCal: %s: bad property name <%s>", path, e->name);
    }
    where = apr_psprintf(p, "%s: <%s>", path, e->name);
    if (structural(e->name)) {
        return fail(x->cx, "xCal: %s: not a property name", where);
    }
    pr = prop_new(p, str_upper(p, e->name));
    APR_ARRAY_PUSH(c->props, jprop_t *) = pr;
    def = prop_def(pr->name);
    flags = def ? def->flags : 0;
    if ((rv = x_no_text(x, e, where)) != APR_SUCCESS) {
        return rv;
    }
    for (k = e->first_child; k; k = k->next) {
        if (!x_is(x, k)) {
            continue;
        }
        if (strcmp(k->name, "parameters") == 0) {
            if (params++) {
                return fail(x->cx, "xCal: %s: more than one <parameters>",
                            where);
            }
            if ((rv = xcal_params(x, k, pr, where)) != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        APR_ARRAY_PUSH(ves, const apr_xml_elem *) = k;
    }
    if (!ves->nelts) {
        return fail(x->cx, "xCal: %s: no value", where);
    }
    first = APR_ARRAY_IDX(ves, 0, const apr_xml_elem *);

    if ((flags & PF_GEO) && strcmp(first->name, "latitude") == 0) {
        const char *a, *b;
        jval_t *v;

        if (ves->nelts != 2
            || strcmp(APR_ARRAY_IDX(ves, 1, const apr_xml_elem *)->name,
                      "longitude") != 0) {
            return fail(x->cx, "xCal: %s: expected <latitude> and "
                        "<longitude>", where);
        }
        if ((rv = x_leaf(x, first, where, &a)) != APR_SUCCESS
            || (rv = x_leaf(x, APR_ARRAY_IDX(ves, 1, const apr_xml_elem *),
                            where, &b)) != APR_SUCCESS) {
            return rv;
        }
        pr->type = JT_FLOAT;
        pr->type_name = type_names[JT_FLOAT];
        v = val_add(pr, JV_GEO, NULL);
        v->a = num_plain(p, ws_trim(p, a, 0), 0);
        v->b = num_plain(p, ws_trim(p, b, 0), 0);
        if (!v->a || !v->b) {
            return fail(x->cx, "xCal: %s: invalid float value %s", where,
                        shown(p, v->a ? b : a));
        }
        return APR_SUCCESS;
    }
    if ((flags & PF_RSTATUS) && strcmp(first->name, "code") == 0) {
        static const char *const names[] = { "code", "description", "data" };
        jval_t *v;

        if (ves->nelts < 2 || ves->nelts > 3) {
            return fail(x->cx, "xCal: %s: expected <code>, <description> "
                        "and optionally <data>", where);
        }
        pr->type = JT_TEXT;
        pr->type_name = type_names[JT_TEXT];
        v = val_add(pr, JV_RSTATUS, NULL);
        v->parts = apr_array_make(p, 3, sizeof(const char *));
        for (i = 0; i < ves->nelts; i++) {
            const apr_xml_elem *ve = APR_ARRAY_IDX(ves, i,
                                                   const apr_xml_elem *);
            const char *s, *why;

            if (strcmp(ve->name, names[i]) != 0) {
                return fail(x->cx, "xCal: %s: expected <code>, <description> "
                            "and optionally <data>", where);
            }
            if ((rv = x_leaf(x, ve, where, &s)) != APR_SUCCESS) {
                return rv;
            }
            if ((why = bad_chars(s, 1)) != NULL) {
                return fail(x->cx, "xCal: %s: %s", where, why);
            }
            APR_ARRAY_PUSH(v->parts, const char *) = s;
        }
        return APR_SUCCESS;
    }

    if (!is_token(first->name)) {
        return fail(x->cx, "xCal: %s: bad value element <%s>", where,
                    first->name);
    }
    pr->type = type_from_name(first->name);
    pr->type_name = pr->type == JT_OTHER ? str_lower(p, first->name)
                                         : type_names[pr->type];
    for (i = 1; i < ves->nelts; i++) {
        const apr_xml_elem *ve = APR_ARRAY_IDX(ves, i, const apr_xml_elem *);

        if (strcmp(ve->name, first->name) != 0) {
            return fail(x->cx, "xCal: %s: values of different types <%s> and "
                        "<%s>", where, first->name, ve->name);
        }
    }
    if (ves->nelts > 1 && single_valued(pr, def)) {
        return fail(x->cx, "xCal: %s: more than one <%s> value", where,
                    first->name);
    }
    for (i = 0; i < ves->nelts; i++) {
        const apr_xml_elem *ve = APR_ARRAY_IDX(ves, i, const apr_xml_elem *);

        if ((rv = xcal_value(x, pr, ve, where)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* A component element; 'parent' is the enclosing path or NULL. */
static apr_status_t xcal_comp(xreader_t *x, const apr_xml_elem *e,
                              const char *parent, int depth, jcomp_t **out)
{
    apr_pool_t *p = x->cx->pool;
    const apr_xml_elem *k, *m;
    const char *path;
    int props = 0, comps = 0;
    jcomp_t *c;
    apr_status_t rv;

    if (!is_token(e->name)) {
        return fail(x->cx, "xCal: %s: bad component name <%s>",
                    parent ? parent : "icalendar", e->name);
    }
    path = parent ? apr_pstrcat(p, parent, "/", e->name, NULL) : e->name;
    if (depth > CALCORE_JCAL_MAX_DEPTH) {
        return fail(x->cx, "xCal: %s: components nested deeper than %d",
                    parent, CALCORE_JCAL_MAX_DEPTH);
    }
    c = comp_new(p, str_upper(p, e->name));
    *out = c;
    if ((rv = x_no_text(x, e, path)) != APR_SUCCESS) {
        return rv;
    }
    for (k = e->first_child; k; k = k->next) {
        if (!x_is(x, k)) {
            continue;
        }
        if (strcmp(k->name, "properties") == 0) {
            if (props++) {
                return fail(x->cx, "xCal: %s: more than one <properties>",
                            path);
            }
            if ((rv = x_no_text(x, k, path)) != APR_SUCCESS) {
                return rv;
            }
            for (m = k->first_child; m; m = m->next) {
                if (x_is(x, m)
                    && (rv = xcal_prop(x, m, path, c)) != APR_SUCCESS) {
                    return rv;
                }
            }
        }
        else if (strcmp(k->name, "components") == 0) {
            if (comps++) {
                return fail(x->cx, "xCal: %s: more than one <components>",
                            path);
            }
            if ((rv = x_no_text(x, k, path)) != APR_SUCCESS) {
                return rv;
            }
            for (m = k->first_child; m; m = m->next) {
                jcomp_t *sub;

                if (!x_is(x, m)) {
                    continue;
                }
                rv = xcal_comp(x, m, path, depth + 1, &sub);
                if (rv != APR_SUCCESS) {
                    return rv;
                }
                APR_ARRAY_PUSH(c->comps, jcomp_t *) = sub;
            }
        }
        else {
            return fail(x->cx, "xCal: %s: unexpected element <%s>", path,
                        k->name);
        }
    }
    return APR_SUCCESS;
}

/* ---- model -> xCal ------------------------------------------------------ */

/* Append text escaped for XML.  U+FFFE and U+FFFF, valid UTF-8 but not
 * XML 1.0 characters, become U+FFFD (the readers refuse the other
 * characters XML cannot carry). */
static void xml_esc(sbuf_t *b, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBF
            && ((unsigned char)s[2] == 0xBE || (unsigned char)s[2] == 0xBF)) {
            sb_adds(b, "\xEF\xBF\xBD");
            s += 2;
            continue;
        }
        switch (*s) {
        case '&':
            sb_adds(b, "&amp;");
            break;
        case '<':
            sb_adds(b, "&lt;");
            break;
        case '>':
            sb_adds(b, "&gt;");
            break;
        case '\r':
            sb_adds(b, "&#13;");
            break;
        default:
            sb_addc(b, *s);
        }
    }
}

static void xml_open(sbuf_t *b, const char *name)
{
    sb_addc(b, '<');
    sb_adds(b, name);
    sb_addc(b, '>');
}

static void xml_close(sbuf_t *b, const char *name)
{
    sb_adds(b, "</");
    sb_adds(b, name);
    sb_addc(b, '>');
}

static void xml_el(sbuf_t *b, const char *name, const char *text)
{
    xml_open(b, name);
    xml_esc(b, text);
    xml_close(b, name);
}

/* The xCal element of a parameter value. */
static const char *xcal_param_type(const char *pname, const char **v,
                                   apr_pool_t *p)
{
    const param_def_t *pd = param_def(pname);

    if (!pd) {
        return "unknown";
    }
    if (pd->type == JT_BOOLEAN) {
        if (apr_cstr_casecmp(*v, "true") != 0
            && apr_cstr_casecmp(*v, "false") != 0) {
            return "unknown";
        }
        *v = str_lower(p, *v);
    }
    else if (pd->type == JT_INTEGER && !num_i2j(p, *v, strlen(*v), 1)) {
        return "unknown";
    }
    else if (pd->type == JT_DURATION && !duration_ok(*v, strlen(*v))) {
        return "unknown";
    }
    return type_names[pd->type];
}

static void xcal_write_val(sbuf_t *b, const jprop_t *pr, const jval_t *v,
                           const char *tag)
{
    static const char *const rs[] = { "code", "description", "data" };
    int j, k;

    switch (v->kind) {
    case JV_STR:
    case JV_NUM:
    case JV_BOOL:
        xml_el(b, tag, v->s);
        break;
    case JV_PERIOD:
        xml_open(b, "period");
        xml_el(b, "start", v->a);
        xml_el(b, duration_ok(v->b, strlen(v->b)) ? "duration" : "end",
               v->b);
        xml_close(b, "period");
        break;
    case JV_GEO:
        xml_el(b, "latitude", v->a);
        xml_el(b, "longitude", v->b);
        break;
    case JV_RSTATUS:
        for (j = 0; j < v->parts->nelts && j < 3; j++) {
            xml_el(b, rs[j], APR_ARRAY_IDX(v->parts, j, const char *));
        }
        break;
    case JV_RECUR:
        xml_open(b, "recur");
        for (j = 0; j < v->parts->nelts; j++) {
            const rpart_t *rp = &APR_ARRAY_IDX(v->parts, j, rpart_t);

            for (k = 0; k < rp->vals->nelts; k++) {
                xml_el(b, rp->name, APR_ARRAY_IDX(rp->vals, k, jval_t).s);
            }
        }
        xml_close(b, "recur");
        break;
    }
}

/* Append 'pr'; fails only for names XML cannot carry. */
static apr_status_t xcal_write_prop(cx_t *cx, sbuf_t *b, const jprop_t *pr)
{
    apr_pool_t *p = cx->pool;
    const char *name = str_lower(p, pr->name);
    int i, j;

    if (!is_xml_name(name)) {
        return fail(cx, "xCal: property name %s is not an XML name",
                    shown(p, name));
    }
    if (!is_xml_name(pr->type_name)) {
        return fail(cx, "xCal: %s: value type %s is not an XML name", name,
                    shown(p, pr->type_name));
    }
    for (i = 0; i < pr->vals->nelts; i++) {
        const jval_t *v = &APR_ARRAY_IDX(pr->vals, i, jval_t);

        for (j = 0; v->kind == JV_RECUR && j < v->parts->nelts; j++) {
            const char *rn = APR_ARRAY_IDX(v->parts, j, rpart_t).name;

            if (!is_xml_name(rn)) {
                return fail(cx, "xCal: %s: rule part %s is not an XML name",
                            name, shown(p, rn));
            }
        }
    }
    xml_open(b, name);
    if (pr->params->nelts) {
        xml_open(b, "parameters");
        for (i = 0; i < pr->params->nelts; i++) {
            const jparam_t *pa = &APR_ARRAY_IDX(pr->params, i, jparam_t);
            const char *pname = str_lower(p, pa->name);

            if (!is_xml_name(pname)) {
                return fail(cx, "xCal: %s: parameter name %s is not an XML "
                            "name", name, shown(p, pname));
            }
            xml_open(b, pname);
            for (j = 0; j < pa->vals->nelts; j++) {
                const char *v = APR_ARRAY_IDX(pa->vals, j, const char *);
                const char *t = xcal_param_type(pa->name, &v, p);

                xml_el(b, t, v);
            }
            xml_close(b, pname);
        }
        xml_close(b, "parameters");
    }
    for (i = 0; i < pr->vals->nelts; i++) {
        xcal_write_val(b, pr, &APR_ARRAY_IDX(pr->vals, i, jval_t),
                       pr->type_name);
    }
    xml_close(b, name);
    return APR_SUCCESS;
}

static apr_status_t xcal_write_props(cx_t *cx, sbuf_t *b, const jcomp_t *c)
{
    apr_status_t rv;
    int i;

    for (i = 0; i < c->props->nelts; i++) {
        rv = xcal_write_prop(cx, b, APR_ARRAY_IDX(c->props, i, jprop_t *));
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t xcal_write_comp(cx_t *cx, sbuf_t *b, const jcomp_t *c)
{
    const char *name = str_lower(cx->pool, c->name);
    apr_status_t rv;
    int i;

    if (!is_xml_name(name)) {
        return fail(cx, "xCal: component name %s is not an XML name",
                    shown(cx->pool, name));
    }
    xml_open(b, name);
    if (c->props->nelts) {
        xml_open(b, "properties");
        if ((rv = xcal_write_props(cx, b, c)) != APR_SUCCESS) {
            return rv;
        }
        xml_close(b, "properties");
    }
    if (c->comps->nelts) {
        xml_open(b, "components");
        for (i = 0; i < c->comps->nelts; i++) {
            rv = xcal_write_comp(cx, b, APR_ARRAY_IDX(c->comps, i,
                                                      jcomp_t *));
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
        xml_close(b, "components");
    }
    xml_close(b, name);
    return APR_SUCCESS;
}

#define XCAL_PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
                    "<icalendar xmlns=\"" CALCORE_XCAL_NS "\">"

/* ==== 7. the public functions ============================================ */

static apr_status_t done(cx_t *cx, apr_status_t rv, const char **reason)
{
    if (reason) {
        *reason = rv == APR_SUCCESS ? NULL : cx->reason;
    }
    return rv;
}

static apr_status_t read_ical(cx_t *cx, ireader_t *r, imode_e mode,
                              const char *ical, apr_size_t len)
{
    r->cx = cx;
    r->mode = mode;
    return ical_read(r, ical, len);
}

apr_status_t calcore_to_jcal(const char *ical, apr_size_t len,
                             const char **out, apr_size_t *outlen,
                             const char **reason, apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;
    int i;

    rv = read_ical(&cx, &r, IM_STREAM, ical, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, len + len / 2 + 64);
    if (r.top->nelts > 1) {
        sb_addc(&b, '[');
    }
    for (i = 0; i < r.top->nelts; i++) {
        if (i) {
            sb_addc(&b, ',');
        }
        jcal_write_comp(&b, APR_ARRAY_IDX(r.top, i, jcomp_t *));
    }
    if (r.top->nelts > 1) {
        sb_addc(&b, ']');
    }
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_to_xcal(const char *ical, apr_size_t len,
                             const char **out, apr_size_t *outlen,
                             const char **reason, apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;
    int i;

    rv = read_ical(&cx, &r, IM_STREAM, ical, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, 2 * len + 128);
    sb_adds(&b, XCAL_PROLOG);
    for (i = 0; i < r.top->nelts; i++) {
        rv = xcal_write_comp(&cx, &b, APR_ARRAY_IDX(r.top, i, jcomp_t *));
        if (rv != APR_SUCCESS) {
            return done(&cx, rv, reason);
        }
    }
    sb_adds(&b, "</icalendar>");
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_from_jcal(const char *json, apr_size_t len,
                               const char **ical, apr_size_t *icallen,
                               const char **reason, apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    apr_array_header_t *top = apr_array_make(pool, 1, sizeof(jcomp_t *));
    jnode_t *root, *const *cals;
    apr_status_t rv;
    int i, ncals;

    if (len > CALCORE_JCAL_MAX_INPUT) {
        return done(&cx, fail(&cx, "jCal: longer than %" APR_SIZE_T_FMT
                              " octets", CALCORE_JCAL_MAX_INPUT), reason);
    }
    rv = json_parse(&cx, json, len, &root);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    /* one vcalendar, or an array of them */
    if (root->type == JN_ARR && root->n > 0 && root->kids[0]->type == JN_ARR) {
        cals = root->kids;
        ncals = root->n;
    }
    else {
        cals = &root;
        ncals = 1;
    }
    for (i = 0; i < ncals; i++) {
        const jnode_t *n = cals[i];
        jcomp_t *c;

        if (n->type == JN_ARR && n->n > 0 && n->kids[0]->type == JN_STR
            && apr_cstr_casecmp(n->kids[0]->s, "vcalendar") != 0) {
            return done(&cx, fail(&cx, "jCal: the top-level component is %s, "
                                  "not vcalendar",
                                  shown(pool, n->kids[0]->s)), reason);
        }
        rv = jcal_comp(&cx, n, NULL, &c);
        if (rv != APR_SUCCESS) {
            return done(&cx, rv, reason);
        }
        APR_ARRAY_PUSH(top, jcomp_t *) = c;
    }
    ical_write(pool, top, ical, icallen);
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_from_xcal(const char *xml, apr_size_t len,
                               const char **ical, apr_size_t *icallen,
                               const char **reason, apr_pool_t *pool)
{
    static const char prefix[] = "XML parser error code: ";
    cx_t cx = { pool, NULL };
    apr_array_header_t *top = apr_array_make(pool, 1, sizeof(jcomp_t *));
    apr_xml_parser *xp;
    apr_xml_doc *doc = NULL;
    const apr_xml_elem *e;
    xreader_t x;
    apr_status_t rv;

    if (len > CALCORE_JCAL_MAX_INPUT) {
        return done(&cx, fail(&cx, "xCal: longer than %" APR_SIZE_T_FMT
                              " octets", CALCORE_JCAL_MAX_INPUT), reason);
    }
    xp = apr_xml_parser_create(pool);
    rv = apr_xml_parser_feed(xp, xml, len);
    if (rv == APR_SUCCESS) {
        rv = apr_xml_parser_done(xp, &doc);
    }
    if (rv != APR_SUCCESS || !doc || !doc->root) {
        char buf[256];
        const char *msg = apr_xml_parser_geterror(xp, buf, sizeof(buf));

        if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0) {
            msg += sizeof(prefix) - 1;
        }
        return done(&cx, fail(&cx, "xCal: not well-formed XML: %s", msg),
                    reason);
    }
    x.cx = &cx;
    x.doc = doc;
    if (!x_is(&x, doc->root) || strcmp(doc->root->name, "icalendar") != 0) {
        return done(&cx, fail(&cx, "xCal: the root element must be "
                              "<icalendar> in the namespace %s",
                              CALCORE_XCAL_NS), reason);
    }
    rv = x_no_text(&x, doc->root, "icalendar");
    for (e = doc->root->first_child; rv == APR_SUCCESS && e; e = e->next) {
        jcomp_t *c;

        if (!x_is(&x, e)) {
            continue;
        }
        if (strcmp(e->name, "vcalendar") != 0) {
            rv = fail(&cx, "xCal: unexpected element <%s> in <icalendar>",
                      e->name);
            break;
        }
        rv = xcal_comp(&x, e, NULL, 1, &c);
        if (rv == APR_SUCCESS) {
            APR_ARRAY_PUSH(top, jcomp_t *) = c;
        }
    }
    if (rv == APR_SUCCESS && !top->nelts) {
        rv = fail(&cx, "xCal: no <vcalendar> in <icalendar>");
    }
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    ical_write(pool, top, ical, icallen);
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_jcal_calendar_open(const char *props, apr_size_t len,
                                        const char **out,
                                        apr_size_t *outlen,
                                        const char **reason,
                                        apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;

    rv = read_ical(&cx, &r, IM_PROPS, props, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, len + 64);
    sb_adds(&b, "[\"vcalendar\",[");
    jcal_write_props(&b, r.holder);
    sb_adds(&b, "],[");
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_xcal_calendar_open(const char *props, apr_size_t len,
                                        const char **out,
                                        apr_size_t *outlen,
                                        const char **reason,
                                        apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;

    rv = read_ical(&cx, &r, IM_PROPS, props, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, 2 * len + 128);
    sb_adds(&b, XCAL_PROLOG "<vcalendar>");
    if (r.holder->props->nelts) {
        sb_adds(&b, "<properties>");
        rv = xcal_write_props(&cx, &b, r.holder);
        if (rv != APR_SUCCESS) {
            return done(&cx, rv, reason);
        }
        sb_adds(&b, "</properties>");
    }
    sb_adds(&b, "<components>");
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_jcal_component(const char *ical, apr_size_t len,
                                    const char **out, apr_size_t *outlen,
                                    const char **reason, apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;

    rv = read_ical(&cx, &r, IM_COMPONENT, ical, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, len + len / 2 + 64);
    jcal_write_comp(&b, APR_ARRAY_IDX(r.top, 0, jcomp_t *));
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}

apr_status_t calcore_xcal_component(const char *ical, apr_size_t len,
                                    const char **out, apr_size_t *outlen,
                                    const char **reason, apr_pool_t *pool)
{
    cx_t cx = { pool, NULL };
    ireader_t r;
    sbuf_t b;
    apr_status_t rv;

    rv = read_ical(&cx, &r, IM_COMPONENT, ical, len);
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    sb_init(&b, pool, 2 * len + 64);
    rv = xcal_write_comp(&cx, &b, APR_ARRAY_IDX(r.top, 0, jcomp_t *));
    if (rv != APR_SUCCESS) {
        return done(&cx, rv, reason);
    }
    *out = sb_str(&b);
    *outlen = b.len;
    return done(&cx, APR_SUCCESS, reason);
}
