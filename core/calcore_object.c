/*
 * calcore_object.c - parse and validate calendar object resources (see
 * calcore_object.h for the rules).
 *
 * Three passes:
 *   1. the raw bytes (calcore__raw_check): encoding, control characters,
 *      BEGIN/END structure - things libical silently accepts or drops;
 *   2. libical's parser, then every X-LIC-ERROR it inserted is classified:
 *      errors that lose or misread data reject the object; an empty value or
 *      an unknown IANA property only marks it "lossy" (the stored text keeps
 *      them anyway);
 *   3. the tree: RFC 5545 rules that matter for a server and the RFC 4791
 *      calendar object resource rules, then the collection's limits (which
 *      need the recurrence expander).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "calcore_expand.h"
#include "calcore_log.h"
#include "calcore_object.h"
#include "calcore_private.h"

/* Deepest BEGIN nesting accepted (VCALENDAR/VEVENT/VALARM is 3). */
#define MAX_DEPTH 16

struct calcore_object_t {
    apr_pool_t *pool;
    char *text;                  /* private copy, NUL-terminated         */
    apr_size_t len;
    icalcomponent *root;         /* the VCALENDAR                        */
    calcore_tzset_t *tzset;
    calcore_comp_e kind;
    const char *uid;
    icalcomponent *master;
    apr_array_header_t *comps;   /* icalcomponent *                      */
    int recurring;
    unsigned lossy;
    calcore__expand_memo_t memo; /* calcore_expand.c                     */
};

/* ---- pass 1: raw text --------------------------------------------------- */

/* The start of one logical line, unfolded, as far as BEGIN/END needs. */
#define HEAD_MAX 80

typedef struct {
    char names[MAX_DEPTH][HEAD_MAX];
    unsigned lines[MAX_DEPTH];
    int depth;
    int closed;                  /* an outermost END was seen            */
} raw_state_t;

static apr_status_t raw_line(raw_state_t *st, const char *head,
                             apr_size_t n, int truncated, unsigned lineno,
                             const char **reason, apr_pool_t *pool)
{
    const char *colon;
    apr_size_t namelen;

    if (n == 0) {
        return APR_SUCCESS;      /* blank line: libical skips it too    */
    }
    colon = memchr(head, ':', n);
    namelen = colon ? (apr_size_t)(colon - head) : n;
    if (colon && namelen == 5 && strncasecmp(head, "BEGIN", 5) == 0) {
        apr_size_t vlen = n - 6;

        if (truncated || vlen == 0 || vlen >= HEAD_MAX) {
            *reason = apr_psprintf(pool, "line %u: bad BEGIN line", lineno);
            return CALCORE_EINVALID;
        }
        if (st->depth == MAX_DEPTH) {
            *reason = apr_psprintf(pool, "line %u: components nested more "
                                   "than %d deep", lineno, MAX_DEPTH);
            return CALCORE_EINVALID;
        }
        memcpy(st->names[st->depth], colon + 1, vlen);
        st->names[st->depth][vlen] = '\0';
        st->lines[st->depth] = lineno;
        st->depth++;
        return APR_SUCCESS;
    }
    if (colon && namelen == 3 && strncasecmp(head, "END", 3) == 0) {
        apr_size_t vlen = n - 4;

        if (st->depth == 0) {
            *reason = apr_psprintf(pool, "line %u: END without BEGIN",
                                   lineno);
            return CALCORE_EINVALID;
        }
        if (truncated || vlen >= HEAD_MAX
            || strlen(st->names[st->depth - 1]) != vlen
            || strncasecmp(st->names[st->depth - 1], colon + 1, vlen) != 0) {
            *reason = apr_psprintf(pool, "line %u: END:%.*s does not close "
                                   "BEGIN:%s of line %u", lineno,
                                   (int)(vlen > 40 ? 40 : vlen), colon + 1,
                                   st->names[st->depth - 1],
                                   st->lines[st->depth - 1]);
            return CALCORE_EINVALID;
        }
        st->depth--;
        if (st->depth == 0) {
            st->closed = 1;
        }
        return APR_SUCCESS;
    }
    if (st->depth == 0) {
        *reason = apr_psprintf(pool, "line %u: content outside "
                               "BEGIN:VCALENDAR/END:VCALENDAR", lineno);
        return CALCORE_EINVALID;
    }
    return APR_SUCCESS;
}

static void head_add(char *head, apr_size_t *hn, int *htrunc, char c)
{
    if (*hn < HEAD_MAX) {
        head[(*hn)++] = c;
    }
    else {
        *htrunc = 1;
    }
}

apr_status_t calcore__raw_check(const char *text, apr_size_t len,
                                apr_size_t *skip, const char **reason,
                                apr_pool_t *pool)
{
    const unsigned char *p = (const unsigned char *)text;
    raw_state_t *st;
    char head[HEAD_MAX];
    apr_size_t i = 0, hn = 0;
    int htrunc = 0, at_bol = 1;
    unsigned lineno = 1, line_start = 1;
    unsigned need = 0, lo = 0x80, hi = 0xBF;   /* UTF-8 decoder state */
    apr_status_t rv;

    *skip = 0;
    *reason = NULL;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        *skip = i = 3;
    }
    if (i == len) {
        *reason = "empty body";
        return CALCORE_EINVALID;
    }
    st = apr_pcalloc(pool, sizeof(*st));
    while (i < len) {
        unsigned c = p[i];

        if (at_bol) {
            at_bol = 0;
            if (c == ' ' || c == '\t') {
                /* a folded line continues (even inside a UTF-8 sequence,
                 * which RFC 5545 3.1 tells readers to restore) */
                i++;
                continue;
            }
            if (need) {
                *reason = apr_psprintf(pool, "line %u: invalid UTF-8 "
                                       "(truncated sequence)", lineno - 1);
                return CALCORE_EINVALID;
            }
            if ((rv = raw_line(st, head, hn, htrunc, line_start, reason,
                               pool))) {
                return rv;
            }
            hn = 0;
            htrunc = 0;
            line_start = lineno;
        }
        if (!need && c >= 0x20 && c < 0x7F) {
            /* a run of printable ASCII (most of the text): nothing to
             * check, only the line's head to keep */
            apr_size_t j = i + 1, n, room = HEAD_MAX - hn;

            while (j < len && p[j] >= 0x20 && p[j] < 0x7F) {
                j++;
            }
            n = j - i;
            if (n > room) {
                n = room;
                htrunc = 1;
            }
            memcpy(head + hn, p + i, n);
            hn += n;
            i = j;
            continue;
        }
        if (c == '\r') {
            if (i + 1 >= len || p[i + 1] != '\n') {
                *reason = apr_psprintf(pool, "line %u: CR not followed by "
                                       "LF", lineno);
                return CALCORE_EINVALID;
            }
            i++;
            continue;
        }
        if (c == '\n') {
            lineno++;
            at_bol = 1;
            i++;
            continue;
        }
        if (need) {
            if (c < lo || c > hi) {
                *reason = apr_psprintf(pool, "line %u: invalid UTF-8",
                                       lineno);
                return CALCORE_EINVALID;
            }
            need--;
            lo = 0x80;
            hi = 0xBF;
        }
        else if (c >= 0x80) {
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            }
            else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                lo = c == 0xE0 ? 0xA0 : 0x80;      /* no overlong forms */
                hi = c == 0xED ? 0x9F : 0xBF;      /* no surrogates     */
            }
            else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                lo = c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xF4 ? 0x8F : 0xBF;      /* <= U+10FFFF       */
            }
            else {
                *reason = apr_psprintf(pool, "line %u: invalid UTF-8",
                                       lineno);
                return CALCORE_EINVALID;
            }
        }
        else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            *reason = apr_psprintf(pool, "line %u: control character 0x%02X",
                                   lineno, c);
            return CALCORE_EINVALID;
        }
        head_add(head, &hn, &htrunc, (char)c);
        i++;
    }
    if (need) {
        *reason = apr_psprintf(pool, "line %u: invalid UTF-8 (truncated "
                               "sequence)", lineno);
        return CALCORE_EINVALID;
    }
    if ((rv = raw_line(st, head, hn, htrunc, line_start, reason, pool))) {
        return rv;
    }
    if (st->depth) {
        *reason = apr_psprintf(pool, "BEGIN:%s of line %u is never closed",
                               st->names[st->depth - 1],
                               st->lines[st->depth - 1]);
        return CALCORE_EINVALID;
    }
    if (!st->closed) {
        *reason = "no component (BEGIN:VCALENDAR missing)";
        return CALCORE_EINVALID;
    }
    return APR_SUCCESS;
}

/* ---- pass 2: libical ---------------------------------------------------- */

static apr_status_t free_tree(void *data)
{
    icalcomponent_free(data);
    return APR_SUCCESS;
}

static int is_iana_token(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Is this X-LIC-ERROR harmless (the raw text is kept anyway)?  Sets the
 * matching CALCORE_LOSSY_* bit. */
static int error_tolerated(icalproperty *err, unsigned *lossy)
{
    icalparameter *tp = icalproperty_get_first_parameter(
                            err, ICAL_XLICERRORTYPE_PARAMETER);
    const char *text = icalproperty_get_xlicerror(err);
    static const char novalue[] = "No value for ";
    static const char badname[] = "Parse error in property name: ";

    if (!tp || !text) {
        return 0;
    }
    switch (icalparameter_get_xlicerrortype(tp)) {
    case ICAL_XLICERRORTYPE_VALUEPARSEERROR:
        /* "No value for DESCRIPTION property. Removing entire property":
         * an empty TEXT or X- value carries no information. */
        if (strncmp(text, novalue, sizeof(novalue) - 1) == 0) {
            const char *name = text + sizeof(novalue) - 1;
            const char *end = strchr(name, ' ');
            char buf[64];
            icalproperty_kind k;

            if (!end || end - name >= (int)sizeof(buf)) {
                return 0;
            }
            memcpy(buf, name, end - name);
            buf[end - name] = '\0';
            k = icalproperty_string_to_kind(buf);
            if (strcmp(buf, "X") == 0 || k == ICAL_X_PROPERTY
                || icalproperty_kind_to_value_kind(k) == ICAL_TEXT_VALUE) {
                *lossy |= CALCORE_LOSSY_EMPTY_VALUE;
                return 1;
            }
        }
        return 0;
    case ICAL_XLICERRORTYPE_PROPERTYPARSEERROR:
        /* An IANA property libical does not know (RFC 5545 allows them). */
        if (strncmp(text, badname, sizeof(badname) - 1) == 0
            && is_iana_token(text + sizeof(badname) - 1)) {
            *lossy |= CALCORE_LOSSY_UNKNOWN_PROPERTY;
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

static const char *comp_label(icalcomponent *c)
{
    const char *s = icalcomponent_kind_to_string(icalcomponent_isa(c));

    return s && *s ? s : "an unknown component";
}

/* Find the first X-LIC-ERROR that is not tolerated, depth first. */
static icalproperty *find_error(icalcomponent *c, unsigned *lossy,
                                icalcomponent **where)
{
    icalproperty *p;
    icalcomponent *s;

    for (p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
        if (!error_tolerated(p, lossy)) {
            *where = c;
            return p;
        }
    }
    for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind k = icalcomponent_isa(s);

        if (k == ICAL_X_COMPONENT || k == ICAL_NO_COMPONENT
            || k == ICAL_XLICINVALID_COMPONENT) {
            *lossy |= CALCORE_LOSSY_X_COMPONENT;
        }
        if ((p = find_error(s, lossy, where))) {
            return p;
        }
    }
    return NULL;
}

apr_status_t calcore__parse(icalcomponent **root, int *lossy_out,
                            const char *text, apr_size_t len,
                            const char **reason, apr_pool_t *pool)
{
    icalcomponent *r, *where = NULL;
    icalproperty *err;
    unsigned lossy = 0;

    (void)len;
    *root = NULL;
    r = icalparser_parse_string(text);
    if (!r) {
        *reason = "not parseable as iCalendar";
        return CALCORE_EINVALID;
    }
    apr_pool_cleanup_register(pool, r, free_tree, apr_pool_cleanup_null);
    if ((err = find_error(r, &lossy, &where))) {
        *reason = apr_psprintf(pool, "in %s: %s", comp_label(where),
                               icalproperty_get_xlicerror(err));
        return CALCORE_EINVALID;
    }
    if (lossy_out) {
        *lossy_out = (int)lossy;
    }
    *root = r;
    return APR_SUCCESS;
}

/* ---- pass 3: the tree --------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    calcore_object_t *obj;
    const icaltimezone *floating;
    int trusted;
    calcore_precond_e precond;
    const char *reason;
} vctx_t;

static apr_status_t fail(vctx_t *v, calcore_precond_e precond,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static apr_status_t fail(vctx_t *v, calcore_precond_e precond,
                         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    v->reason = apr_pvsprintf(v->pool, fmt, ap);
    va_end(ap);
    v->precond = precond;
    return CALCORE_EINVALID;
}

#define DATA CALCORE_PRECOND_VALID_CALENDAR_DATA
#define OBJR CALCORE_PRECOND_VALID_CALENDAR_OBJECT_RESOURCE

static int time_fields_ok(const struct icaltimetype *t)
{
    if (t->year < 0 || t->year > 9999 || t->month < 1 || t->month > 12
        || t->day < 1 || t->day > icaltime_days_in_month(t->month, t->year)) {
        return 0;
    }
    return t->is_date || (t->hour >= 0 && t->hour <= 23 && t->minute >= 0
                          && t->minute <= 59 && t->second >= 0
                          && t->second <= 60);
}

/* Every standard property with a date/time value: sane fields, and every
 * TZID parameter resolves.  Recurses into sub-components. */
static apr_status_t check_times(vctx_t *v, icalcomponent *c)
{
    icalproperty *p;
    icalcomponent *s;

    for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        icalvalue *val = icalproperty_get_value(p);
        icalvalue_kind vk = val ? icalvalue_isa(val) : ICAL_NO_VALUE;
        icalparameter *tzp;

        if (icalproperty_isa(p) == ICAL_X_PROPERTY
            || icalproperty_isa(p) == ICAL_XLICERROR_PROPERTY) {
            continue;
        }
        /* (the property's name is only looked up for a message: libical
         * builds it in a fresh buffer each time) */
        tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
        if (tzp) {
            const char *tzid = icalparameter_get_tzid(tzp);

            if (!calcore_tzset_resolve(v->obj->tzset, tzid)) {
                return fail(v, DATA, "TZID '%s' (%s in %s) is neither a "
                            "VTIMEZONE of the object nor a known time zone",
                            tzid ? tzid : "",
                            icalproperty_get_property_name(p),
                            comp_label(c));
            }
        }
        if (vk == ICAL_DATE_VALUE || vk == ICAL_DATETIME_VALUE
            || vk == ICAL_DATETIMEPERIOD_VALUE || vk == ICAL_PERIOD_VALUE) {
            struct icaltimetype tt;
            struct icalperiodtype per;

            if (calcore_tz_prop_time(v->obj->tzset, p, &tt, &per, NULL)
                || !time_fields_ok(&tt)
                || (!icaltime_is_null_time(per.end)
                    && !time_fields_ok(&per.end))) {
                return fail(v, DATA, "%s in %s has an invalid date or time",
                            icalproperty_get_property_name(p),
                            comp_label(c));
            }
        }
    }
    for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        apr_status_t rv;

        if (icalcomponent_isa(s) == ICAL_VTIMEZONE_COMPONENT) {
            continue;
        }
        if ((rv = check_times(v, s))) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* UTC of a property's value (resolved zone, floating zone for the rest). */
static calcore_time_t prop_utc(vctx_t *v, icalproperty *p,
                               struct icaltimetype *tt_out)
{
    struct icaltimetype tt;

    if (calcore_tz_prop_time(v->obj->tzset, p, &tt, NULL, NULL)) {
        tt = icalvalue_get_datetime(icalproperty_get_value(p));
        tt.zone = NULL;
    }
    if (tt_out) {
        *tt_out = tt;
    }
    return calcore_tz_to_utc(tt, v->floating);
}

static apr_status_t check_rule(vctx_t *v, icalcomponent *c, icalproperty *p,
                               const struct icaltimetype *dtstart)
{
    struct icalrecurrencetype r =
        icalvalue_get_recur(icalproperty_get_value(p));
    const char *what = icalproperty_get_property_name(p);
    icalrecur_iterator *it;
    struct icaltimetype dt;
    int sub_daily = r.freq == ICAL_SECONDLY_RECURRENCE
                    || r.freq == ICAL_MINUTELY_RECURRENCE
                    || r.freq == ICAL_HOURLY_RECURRENCE;

    if (r.freq == ICAL_NO_RECURRENCE) {
        return fail(v, DATA, "%s in %s has no FREQ", what, comp_label(c));
    }
    if (dtstart->is_date
        && (sub_daily || calcore__by_count(r.by_hour, ICAL_BY_HOUR_SIZE)
            || calcore__by_count(r.by_minute, ICAL_BY_MINUTE_SIZE)
            || calcore__by_count(r.by_second, ICAL_BY_SECOND_SIZE))) {
        return fail(v, DATA, "%s in %s has a time-of-day part but DTSTART "
                    "is a DATE", what, comp_label(c));
    }
    /* libical searches second by second (minute by minute) for a match of
     * a day-level BY part, inside one call that cannot be interrupted:
     * FREQ=SECONDLY;BYMONTH=6 from January takes 12 s. */
    if (r.freq == ICAL_SECONDLY_RECURRENCE
        && (calcore__by_count(r.by_month, ICAL_BY_MONTH_SIZE)
            || calcore__by_count(r.by_week_no, ICAL_BY_WEEKNO_SIZE)
            || calcore__by_count(r.by_year_day, ICAL_BY_YEARDAY_SIZE)
            || calcore__by_count(r.by_month_day, ICAL_BY_MONTHDAY_SIZE)
            || calcore__by_count(r.by_day, ICAL_BY_DAY_SIZE))) {
        return fail(v, DATA, "%s in %s: FREQ=SECONDLY with a BYDAY, "
                    "BYMONTHDAY, BYYEARDAY, BYWEEKNO or BYMONTH part is not "
                    "supported (too expensive to expand)", what,
                    comp_label(c));
    }
    if (r.freq == ICAL_MINUTELY_RECURRENCE
        && (calcore__by_count(r.by_month, ICAL_BY_MONTH_SIZE)
            || calcore__by_count(r.by_week_no, ICAL_BY_WEEKNO_SIZE)
            || calcore__by_count(r.by_year_day, ICAL_BY_YEARDAY_SIZE))) {
        return fail(v, DATA, "%s in %s: FREQ=MINUTELY with a BYYEARDAY, "
                    "BYWEEKNO or BYMONTH part is not supported (too "
                    "expensive to expand)", what, comp_label(c));
    }
    if (!calcore__rrule_feasible(&r)) {
        return fail(v, DATA, "%s in %s never matches any day", what,
                    comp_label(c));
    }
    dt = *dtstart;
    dt.zone = icaltimezone_get_utc_timezone();
    if (!icaltime_is_null_time(r.until) && r.until.is_date && !dt.is_date) {
        r.until.is_date = 0;
        r.until.hour = 23;
        r.until.minute = 59;
        r.until.second = 59;
    }
    r.until.zone = dt.zone;
    it = icalrecur_iterator_new(r, dt);
    if (!it) {
        return fail(v, DATA, "%s in %s cannot be expanded (invalid rule, or "
                    "DTSTART after %d)", what, comp_label(c), 2582);
    }
    icalrecur_iterator_free(it);
    return APR_SUCCESS;
}

/* RFC 5545 checks of one component of the object's type, and of its
 * sub-components. */
static apr_status_t check_component(vctx_t *v, icalcomponent *c,
                                    calcore_comp_e kind)
{
    const char *name = comp_label(c);
    int n_stamp = icalcomponent_count_properties(c, ICAL_DTSTAMP_PROPERTY);
    int n_start = icalcomponent_count_properties(c, ICAL_DTSTART_PROPERTY);
    int n_end = icalcomponent_count_properties(c, ICAL_DTEND_PROPERTY);
    int n_due = icalcomponent_count_properties(c, ICAL_DUE_PROPERTY);
    int n_dur = icalcomponent_count_properties(c, ICAL_DURATION_PROPERTY);
    int n_rid = icalcomponent_count_properties(c,
                                               ICAL_RECURRENCEID_PROPERTY);
    int n_rec = icalcomponent_count_properties(c, ICAL_RRULE_PROPERTY)
                + icalcomponent_count_properties(c, ICAL_RDATE_PROPERTY)
                + icalcomponent_count_properties(c, ICAL_EXDATE_PROPERTY)
                + icalcomponent_count_properties(c, ICAL_EXRULE_PROPERTY);
    struct icaltimetype dtstart = icaltime_null_time();
    calcore_time_t start = 0;
    icalproperty *p;
    icalcomponent *s;
    apr_status_t rv;

    if (n_stamp != 1) {
        return fail(v, DATA, n_stamp ? "%s has more than one DTSTAMP"
                                     : "%s has no DTSTAMP", name);
    }
    if (n_start > 1 || n_end > 1 || n_due > 1 || n_dur > 1 || n_rid > 1) {
        return fail(v, DATA, "%s has more than one %s", name,
                    n_start > 1 ? "DTSTART" : n_end > 1 ? "DTEND"
                    : n_due > 1 ? "DUE" : n_dur > 1 ? "DURATION"
                    : "RECURRENCE-ID");
    }
    if (kind == CALCORE_COMP_VEVENT && !n_start) {
        return fail(v, DATA, "VEVENT has no DTSTART");
    }
    if (n_end && n_dur) {
        return fail(v, DATA, "%s has both DTEND and DURATION", name);
    }
    if (n_due && n_dur) {
        return fail(v, DATA, "%s has both DUE and DURATION", name);
    }
    if (!n_start && (n_dur || n_rec)) {
        return fail(v, DATA, "%s has %s but no DTSTART", name,
                    n_dur ? "DURATION" : "recurrence properties");
    }
    if (n_start) {
        p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
        start = prop_utc(v, p, &dtstart);
    }
    if (n_start && (n_end || n_due)) {
        icalproperty *e = icalcomponent_get_first_property(
                              c, n_end ? ICAL_DTEND_PROPERTY
                                       : ICAL_DUE_PROPERTY);
        struct icaltimetype ett;
        calcore_time_t end = prop_utc(v, e, &ett);

        if (end < start) {
            return fail(v, DATA, "%s: %s is before DTSTART", name,
                        n_end ? "DTEND" : "DUE");
        }
    }
    if (n_dur) {
        struct icaldurationtype d = icalproperty_get_duration(
            icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY));

        if (d.is_neg) {
            return fail(v, DATA, "%s has a negative DURATION", name);
        }
    }
    for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        icalproperty_kind pk = icalproperty_isa(p);

        if (pk == ICAL_RRULE_PROPERTY || pk == ICAL_EXRULE_PROPERTY) {
            if ((rv = check_rule(v, c, p, &dtstart))) {
                return rv;
            }
        }
        else if (pk == ICAL_RDATE_PROPERTY) {
            struct icaltimetype tt;
            struct icalperiodtype per;

            if (calcore_tz_prop_time(v->obj->tzset, p, &tt, &per, NULL)) {
                return fail(v, DATA, "%s has an invalid RDATE", name);
            }
            if (!icaltime_is_null_time(per.start)) {
                if (!icaltime_is_null_time(per.end)
                    ? calcore_tz_to_utc(per.end, v->floating)
                      < calcore_tz_to_utc(per.start, v->floating)
                    : per.duration.is_neg) {
                    return fail(v, DATA, "%s has an RDATE period that ends "
                                "before it starts", name);
                }
            }
        }
    }
    for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind sk = icalcomponent_isa(s);

        if (sk == ICAL_VALARM_COMPONENT
            && (kind == CALCORE_COMP_VEVENT || kind == CALCORE_COMP_VTODO)) {
            int na = icalcomponent_count_properties(s, ICAL_ACTION_PROPERTY);
            int nt = icalcomponent_count_properties(s, ICAL_TRIGGER_PROPERTY);

            if (na != 1 || nt != 1) {
                return fail(v, DATA, "VALARM in %s needs exactly one ACTION "
                            "and one TRIGGER", name);
            }
        }
        else if (sk == ICAL_XAVAILABLE_COMPONENT
                 && kind == CALCORE_COMP_VAVAILABILITY) {
            if (icalcomponent_count_properties(s, ICAL_DTSTART_PROPERTY)
                != 1) {
                return fail(v, DATA, "AVAILABLE needs exactly one DTSTART");
            }
        }
        else if (sk == ICAL_X_COMPONENT || sk == ICAL_NO_COMPONENT) {
            v->obj->lossy |= CALCORE_LOSSY_X_COMPONENT;
        }
        else {
            return fail(v, DATA, "%s is not allowed inside %s",
                        comp_label(s), name);
        }
    }
    return APR_SUCCESS;
}

static calcore_comp_e kind_of(icalcomponent_kind k)
{
    switch (k) {
    case ICAL_VEVENT_COMPONENT:
        return CALCORE_COMP_VEVENT;
    case ICAL_VTODO_COMPONENT:
        return CALCORE_COMP_VTODO;
    case ICAL_VJOURNAL_COMPONENT:
        return CALCORE_COMP_VJOURNAL;
    case ICAL_VFREEBUSY_COMPONENT:
        return CALCORE_COMP_VFREEBUSY;
    case ICAL_VAVAILABILITY_COMPONENT:
        return CALCORE_COMP_VAVAILABILITY;
    default:
        return CALCORE_COMP_NONE;
    }
}

static int cmp_time(const void *a, const void *b)
{
    calcore_time_t x = *(const calcore_time_t *)a;
    calcore_time_t y = *(const calcore_time_t *)b;

    return x < y ? -1 : x > y;
}

/* Build the object's structure; with !v->trusted also validate. */
static apr_status_t build(vctx_t *v, const calcore_limits_t *limits)
{
    calcore_object_t *o = v->obj;
    icalcomponent *root = o->root, *c;
    icalproperty *p;
    icalcomponent_kind root_kind = icalcomponent_isa(root);
    const char *reason;
    calcore_time_t *rids;
    int i, nrid = 0, masters = 0;
    apr_status_t rv;

    if (root_kind == ICAL_XROOT_COMPONENT) {
        return fail(v, OBJR, "more than one VCALENDAR");
    }
    if (root_kind != ICAL_VCALENDAR_COMPONENT) {
        return fail(v, DATA, "not a VCALENDAR object (found %s)",
                    comp_label(root));
    }
    if (!v->trusted) {
        int nv = icalcomponent_count_properties(root, ICAL_VERSION_PROPERTY);
        const char *ver;

        if (nv != 1) {
            return fail(v, DATA, nv ? "more than one VERSION"
                                    : "VERSION is missing");
        }
        ver = icalproperty_get_version(
                  icalcomponent_get_first_property(root,
                                                   ICAL_VERSION_PROPERTY));
        if (!ver || strcmp(ver, "2.0") != 0) {
            return fail(v, DATA, "VERSION must be 2.0 (found %s)",
                        ver ? ver : "nothing");
        }
        if ((p = icalcomponent_get_first_property(root,
                                                  ICAL_CALSCALE_PROPERTY))) {
            const char *cs = icalproperty_get_calscale(p);

            if (!cs || strcasecmp(cs, "GREGORIAN") != 0) {
                return fail(v, DATA, "CALSCALE %s is not supported",
                            cs ? cs : "");
            }
        }
        if (icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY)) {
            return fail(v, OBJR, "METHOD is not allowed in a calendar "
                        "object resource");
        }
    }
    if ((rv = calcore_tzset_create(&o->tzset, root, &reason, v->pool))) {
        if (!v->trusted) {
            return fail(v, DATA, "%s", reason);
        }
        calcore_log(CALCORE_LOG_WARN, rv, "stored object: %s (using system "
                    "zones only)", reason);
        if ((rv = calcore_tzset_create(&o->tzset, NULL, &reason, v->pool))) {
            return rv;
        }
    }

    /* Top-level components. */
    o->comps = apr_array_make(v->pool, 4, sizeof(icalcomponent *));
    for (c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT); c;
         c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind k = icalcomponent_isa(c);
        calcore_comp_e ck = kind_of(k);

        if (k == ICAL_VTIMEZONE_COMPONENT) {
            continue;
        }
        if (k == ICAL_X_COMPONENT || k == ICAL_NO_COMPONENT) {
            o->lossy |= CALCORE_LOSSY_X_COMPONENT;
            continue;
        }
        if (ck == CALCORE_COMP_NONE) {
            switch (k) {
            case ICAL_VALARM_COMPONENT:
            case ICAL_XSTANDARD_COMPONENT:
            case ICAL_XDAYLIGHT_COMPONENT:
            case ICAL_XAVAILABLE_COMPONENT:
            case ICAL_VCALENDAR_COMPONENT:
            case ICAL_XLICINVALID_COMPONENT:
                return fail(v, DATA, "%s is not allowed at the top level",
                            comp_label(c));
            default:
                return fail(v, CALCORE_PRECOND_SUPPORTED_CALENDAR_COMPONENT,
                            "%s components are not supported",
                            comp_label(c));
            }
        }
        if (o->kind && ck != o->kind) {
            return fail(v, OBJR, "more than one component type (%s and %s)",
                        calcore_comp_name(o->kind), calcore_comp_name(ck));
        }
        o->kind = ck;
        APR_ARRAY_PUSH(o->comps, icalcomponent *) = c;
    }
    if (!o->comps->nelts) {
        return fail(v, OBJR, "no calendar component (VEVENT, VTODO, ...)");
    }
    if (!v->trusted && limits && limits->components
        && !(limits->components & o->kind)) {
        return fail(v, CALCORE_PRECOND_SUPPORTED_CALENDAR_COMPONENT,
                    "%s is not in this calendar's "
                    "supported-calendar-component-set",
                    calcore_comp_name(o->kind));
    }

    if (!v->trusted) {
        if ((rv = check_times(v, root))) {
            return rv;
        }
        for (i = 0; i < o->comps->nelts; i++) {
            if ((rv = check_component(v, APR_ARRAY_IDX(o->comps, i,
                                                       icalcomponent *),
                                      o->kind))) {
                return rv;
            }
        }
    }

    /* UID, master, RECURRENCE-IDs. */
    rids = apr_palloc(v->pool, sizeof(*rids) * o->comps->nelts);
    for (i = 0; i < o->comps->nelts; i++) {
        icalcomponent *comp = APR_ARRAY_IDX(o->comps, i, icalcomponent *);
        int nu = icalcomponent_count_properties(comp, ICAL_UID_PROPERTY);
        const char *uid;

        if (nu != 1 && !(v->trusted && nu > 1)) {
            return fail(v, OBJR, nu ? "%s has more than one UID"
                                    : "%s has no UID",
                        calcore_comp_name(o->kind));
        }
        uid = icalproperty_get_uid(
                  icalcomponent_get_first_property(comp, ICAL_UID_PROPERTY));
        if (!uid || !*uid) {
            return fail(v, OBJR, "%s has an empty UID",
                        calcore_comp_name(o->kind));
        }
        if (!o->uid) {
            o->uid = uid;
        }
        else if (strcmp(o->uid, uid) != 0) {
            return fail(v, OBJR, "components have different UIDs ('%s' and "
                        "'%s')", o->uid, uid);
        }
        p = icalcomponent_get_first_property(comp,
                                             ICAL_RECURRENCEID_PROPERTY);
        if (p) {
            rids[nrid++] = prop_utc(v, p, NULL);
        }
        else {
            if (!o->master) {
                o->master = comp;
            }
            masters++;
        }
        if (icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY)
            || icalcomponent_get_first_property(comp, ICAL_RDATE_PROPERTY)) {
            o->recurring = 1;
        }
    }
    if (nrid) {
        o->recurring = 1;
    }
    if (masters > 1 && !v->trusted) {
        return fail(v, OBJR, "more than one %s without RECURRENCE-ID",
                    calcore_comp_name(o->kind));
    }
    if (nrid > 1 && !v->trusted) {
        qsort(rids, nrid, sizeof(*rids), cmp_time);
        for (i = 1; i < nrid; i++) {
            if (rids[i] == rids[i - 1]) {
                char buf[CALCORE_TIME_STRLEN];

                return fail(v, OBJR, "two components have the "
                            "RECURRENCE-ID %s",
                            calcore_time_format(rids[i], buf));
            }
        }
    }
    return APR_SUCCESS;
}

/* The collection's limits: attendees, date range, instances. */
static apr_status_t check_limits(vctx_t *v, const calcore_limits_t *l)
{
    calcore_object_t *o = v->obj;
    calcore_expand_opts_t eo;
    calcore_expand_result_t res;
    calcore_span_t span;
    calcore_time_t now, until;
    apr_pool_t *scratch;
    unsigned bound;
    int i;
    char b1[CALCORE_TIME_STRLEN], b2[CALCORE_TIME_STRLEN];

    if (l->max_attendees_per_instance) {
        for (i = 0; i < o->comps->nelts; i++) {
            icalcomponent *c = APR_ARRAY_IDX(o->comps, i, icalcomponent *);
            int n = icalcomponent_count_properties(c, ICAL_ATTENDEE_PROPERTY);

            if ((unsigned)n > l->max_attendees_per_instance) {
                return fail(v, CALCORE_PRECOND_MAX_ATTENDEES_PER_INSTANCE,
                            "%d attendees (at most %u allowed)", n,
                            l->max_attendees_per_instance);
            }
        }
    }

    memset(&eo, 0, sizeof(eo));
    eo.floating = l->floating;
    eo.max_instances = l->max_instances ? l->max_instances
                                        : CALCORE_MAX_INSTANCES_HARD;
    apr_pool_create(&scratch, v->pool);
    calcore__expand_span(o, &eo, &span, &bound, 1, scratch);
    /* The span is widened to what a time-range can match: an open end
     * (CALCORE_TIME_MIN/MAX, e.g. a VTODO with only CREATED, or none) is no
     * date of the object and cannot break a date limit. */
    if (!span.empty && l->min_date_time && span.start != CALCORE_TIME_MIN
        && span.start < l->min_date_time) {
        apr_pool_destroy(scratch);
        return fail(v, CALCORE_PRECOND_MIN_DATE_TIME,
                    "an instance starts at %s, before min-date-time %s",
                    calcore_time_format(span.start, b1),
                    calcore_time_format(l->min_date_time, b2));
    }
    if (!span.empty && l->max_date_time
        && (span.unbounded || span.truncated || span.end == CALCORE_TIME_MAX
            ? span.start != CALCORE_TIME_MIN
              && span.start >= l->max_date_time
            : span.end > l->max_date_time)) {
        apr_pool_destroy(scratch);
        return fail(v, CALCORE_PRECOND_MAX_DATE_TIME,
                    "an instance %s %s, after max-date-time %s",
                    span.unbounded || span.truncated
                    || span.end == CALCORE_TIME_MAX ? "starts at"
                                                    : "ends at",
                    calcore_time_format(span.unbounded || span.truncated
                                        || span.end == CALCORE_TIME_MAX
                                        ? span.start : span.end, b1),
                    calcore_time_format(l->max_date_time, b2));
    }

    /* Count: all instances of a bounded set, those before now + horizon of
     * an unbounded one.  The span walk of a bounded set already offered
     * every instance (the count below walks the very same candidates with
     * the same budget, and only drops duplicates and EXRULE instances):
     * when it offered no more than max_instances, the count cannot exceed
     * the limit and is not made.  This is every non-recurring object and
     * most bounded rules. */
    if (!span.unbounded && bound <= eo.max_instances) {
        apr_pool_destroy(scratch);
        return APR_SUCCESS;
    }
    now = l->now ? l->now : calcore_time_now();
    until = span.unbounded
            ? calcore__add(now, l->horizon ? l->horizon
                                           : CALCORE_HORIZON_DEFAULT)
            : CALCORE_TIME_MAX;
    apr_pool_clear(scratch);
    calcore__expand_count(o, CALCORE_TIME_MIN, until, &eo, &res, scratch);
    apr_pool_destroy(scratch);
    if (res.truncated) {
        return fail(v, CALCORE_PRECOND_MAX_INSTANCES,
                    "the recurrence set has more than %u instances%s",
                    eo.max_instances,
                    span.unbounded ? " within the expansion horizon" : "");
    }
    return APR_SUCCESS;
}

static apr_status_t object_new(calcore_object_t **obj, const char *data,
                               apr_size_t len, apr_pool_t *pool)
{
    calcore_object_t *o = apr_pcalloc(pool, sizeof(*o));

    o->pool = pool;
    o->text = apr_palloc(pool, len + 1);
    memcpy(o->text, data, len);
    o->text[len] = '\0';
    o->len = len;
    *obj = o;
    return APR_SUCCESS;
}

apr_status_t calcore_object_parse(calcore_object_t **obj,
                                  calcore_precond_e *precond,
                                  const char **reason,
                                  const char *data, apr_size_t len,
                                  const calcore_limits_t *limits,
                                  apr_pool_t *pool)
{
    calcore_object_t *o;
    vctx_t v;
    apr_size_t skip;
    int lossy = 0;
    const char *why = NULL;
    apr_status_t rv;

    static const calcore_limits_t no_limits;

    *obj = NULL;
    *precond = CALCORE_PRECOND_NONE;
    *reason = NULL;
    if (!calcore__initialised()) {
        return CALCORE_ENOTINIT;
    }
    if (!limits) {
        limits = &no_limits;
    }
    if (limits->max_resource_size
        && len > limits->max_resource_size) {
        *precond = CALCORE_PRECOND_MAX_RESOURCE_SIZE;
        *reason = apr_psprintf(pool, "%" APR_SIZE_T_FMT " bytes (at most %"
                               APR_SIZE_T_FMT " allowed)", len,
                               limits->max_resource_size);
        return CALCORE_EINVALID;
    }
    if ((rv = calcore__raw_check(data, len, &skip, &why, pool))) {
        *precond = DATA;
        *reason = why;
        return rv;
    }
    object_new(&o, data, len, pool);
    if ((rv = calcore__parse(&o->root, &lossy, o->text + skip, len - skip,
                             &why, pool))) {
        *precond = DATA;
        *reason = why;
        return rv;
    }
    o->lossy = (unsigned)lossy;

    memset(&v, 0, sizeof(v));
    v.pool = pool;
    v.obj = o;
    v.floating = limits->floating;
    if ((rv = build(&v, limits)) == APR_SUCCESS) {
        rv = check_limits(&v, limits);
    }
    if (rv) {
        *precond = v.precond;
        *reason = v.reason;
        return rv;
    }
    *obj = o;
    return APR_SUCCESS;
}

apr_status_t calcore_object_load(calcore_object_t **obj, const char **reason,
                                 const char *data, apr_size_t len,
                                 apr_pool_t *pool)
{
    calcore_object_t *o;
    vctx_t v;
    apr_size_t skip = 0;
    int lossy = 0;
    apr_status_t rv;

    *obj = NULL;
    *reason = NULL;
    if (!calcore__initialised()) {
        return CALCORE_ENOTINIT;
    }
    object_new(&o, data, len, pool);
    if (strlen(o->text) != len) {
        *reason = "NUL byte in calendar data";
        return CALCORE_EINVALID;
    }
    if (len >= 3 && memcmp(o->text, "\xEF\xBB\xBF", 3) == 0) {
        skip = 3;
    }
    o->root = icalparser_parse_string(o->text + skip);
    if (!o->root) {
        *reason = "not parseable as iCalendar";
        return CALCORE_EINVALID;
    }
    apr_pool_cleanup_register(pool, o->root, free_tree,
                              apr_pool_cleanup_null);
    (void)lossy;
    {
        icalcomponent *where;

        (void)find_error(o->root, &o->lossy, &where);
    }
    memset(&v, 0, sizeof(v));
    v.pool = pool;
    v.obj = o;
    v.trusted = 1;
    if ((rv = build(&v, NULL))) {
        *reason = v.reason;
        return rv;
    }
    *obj = o;
    return APR_SUCCESS;
}

/* ---- accessors ---------------------------------------------------------- */

const char *calcore_object_text(const calcore_object_t *obj, apr_size_t *len)
{
    if (len) {
        *len = obj->len;
    }
    return obj->text;
}

icalcomponent *calcore_object_vcalendar(const calcore_object_t *obj)
{
    return obj->root;
}

calcore_comp_e calcore_object_kind(const calcore_object_t *obj)
{
    return obj->kind;
}

const char *calcore_object_uid(const calcore_object_t *obj)
{
    return obj->uid;
}

icalcomponent *calcore_object_master(const calcore_object_t *obj)
{
    return obj->master;
}

const apr_array_header_t *calcore_object_components(
                                          const calcore_object_t *obj)
{
    return obj->comps;
}

const calcore_tzset_t *calcore_object_tzset(const calcore_object_t *obj)
{
    return obj->tzset;
}

int calcore_object_is_recurring(const calcore_object_t *obj)
{
    return obj->recurring;
}

unsigned calcore_object_lossy(const calcore_object_t *obj)
{
    return obj->lossy;
}

calcore__expand_memo_t *calcore__object_memo(const calcore_object_t *obj,
                                             apr_pool_t **pool)
{
    /* a cache, not part of the object's value: see calcore_private.h */
    *pool = obj->pool;
    return &((calcore_object_t *)obj)->memo;
}
