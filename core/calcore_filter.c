/*
 * calcore_filter.c - CALDAV:filter validation, evaluation and index hints
 * (see calcore_filter.h for the semantics).
 *
 * How it works.  The object's components of the filtered kind are reached
 * through calcore_object_components() (an array) and, when a time test is
 * involved, through calcore_expand(): the instance callback evaluates the
 * nested tests on the instance's component with the instance's times at
 * hand (VALARM triggers are relative to them).  Every property or
 * sub-component list is first copied into an array and only then looked
 * at, because a libical component has a single iterator and the tests
 * nest (an effective DTEND needs DTSTART while the DTEND list is walked).
 */
#include <stdarg.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "calcore_expand.h"
#include "calcore_filter.h"
#include "calcore_private.h"
#include "calcore_casemap_table.h"

#define DAY 86400

/* calcore_expand() callback statuses: "found, stop" and "cannot match
 * any more, stop". */
#define FILTER_STOP    (CALCORE_START + 90)
#define FILTER_NOMATCH (CALCORE_START + 91)

/* ---- names -------------------------------------------------------------- */

typedef struct {
    const char *name;
    icalcomponent_kind kind;
} comp_name_t;

static const comp_name_t comp_names[] = {
    { "VCALENDAR",     ICAL_VCALENDAR_COMPONENT },
    { "VEVENT",        ICAL_VEVENT_COMPONENT },
    { "VTODO",         ICAL_VTODO_COMPONENT },
    { "VJOURNAL",      ICAL_VJOURNAL_COMPONENT },
    { "VFREEBUSY",     ICAL_VFREEBUSY_COMPONENT },
    { "VAVAILABILITY", ICAL_VAVAILABILITY_COMPONENT },
    { "AVAILABLE",     ICAL_XAVAILABLE_COMPONENT },
    { "VTIMEZONE",     ICAL_VTIMEZONE_COMPONENT },
    { "STANDARD",      ICAL_XSTANDARD_COMPONENT },
    { "DAYLIGHT",      ICAL_XDAYLIGHT_COMPONENT },
    { "VALARM",        ICAL_VALARM_COMPONENT },
    { NULL,            ICAL_NO_COMPONENT }
};

/* The kind of a component name; ICAL_NO_COMPONENT for anything calcore
 * does not evaluate (X- components, VPOLL, ...). */
static icalcomponent_kind comp_kind(const char *name)
{
    int i;

    for (i = 0; name && comp_names[i].name; i++) {
        if (strcasecmp(name, comp_names[i].name) == 0) {
            return comp_names[i].kind;
        }
    }
    return ICAL_NO_COMPONENT;
}

/* Can a component of kind 'child' occur directly inside 'parent'? */
static int nesting_ok(icalcomponent_kind parent, icalcomponent_kind child)
{
    if (child == ICAL_NO_COMPONENT) {
        return 1;
    }
    switch (parent) {
    case ICAL_VCALENDAR_COMPONENT:
        return child == ICAL_VEVENT_COMPONENT || child == ICAL_VTODO_COMPONENT
               || child == ICAL_VJOURNAL_COMPONENT
               || child == ICAL_VFREEBUSY_COMPONENT
               || child == ICAL_VAVAILABILITY_COMPONENT
               || child == ICAL_VTIMEZONE_COMPONENT;
    case ICAL_VEVENT_COMPONENT:
    case ICAL_VTODO_COMPONENT:
        return child == ICAL_VALARM_COMPONENT;
    case ICAL_VTIMEZONE_COMPONENT:
        return child == ICAL_XSTANDARD_COMPONENT
               || child == ICAL_XDAYLIGHT_COMPONENT;
    case ICAL_VAVAILABILITY_COMPONENT:
        return child == ICAL_XAVAILABLE_COMPONENT;
    case ICAL_NO_COMPONENT:
        return child != ICAL_VCALENDAR_COMPONENT;
    default:
        return 0;
    }
}

static int comp_time_range_ok(icalcomponent_kind k)
{
    switch (k) {
    case ICAL_VEVENT_COMPONENT:
    case ICAL_VTODO_COMPONENT:
    case ICAL_VJOURNAL_COMPONENT:
    case ICAL_VFREEBUSY_COMPONENT:
    case ICAL_VALARM_COMPONENT:
    case ICAL_VAVAILABILITY_COMPONENT:
    case ICAL_XAVAILABLE_COMPONENT:
    case ICAL_NO_COMPONENT:
        return 1;
    default:
        return 0;
    }
}

/* May a prop-filter on 'name' carry a time-range? */
static int prop_time_range_ok(const char *name)
{
    switch (icalproperty_string_to_kind(name)) {
    case ICAL_COMPLETED_PROPERTY:
    case ICAL_CREATED_PROPERTY:
    case ICAL_DTEND_PROPERTY:
    case ICAL_DTSTAMP_PROPERTY:
    case ICAL_DTSTART_PROPERTY:
    case ICAL_DUE_PROPERTY:
    case ICAL_LASTMODIFIED_PROPERTY:
    case ICAL_RECURRENCEID_PROPERTY:
    case ICAL_EXDATE_PROPERTY:
    case ICAL_RDATE_PROPERTY:
    case ICAL_TRIGGER_PROPERTY:
    case ICAL_ACKNOWLEDGED_PROPERTY:
    case ICAL_X_PROPERTY:
    case ICAL_NO_PROPERTY:
        return 1;
    default:
        return 0;
    }
}

/* ---- collations --------------------------------------------------------- */

static const char *const coll_names[] = {
    "i;ascii-casemap", "i;octet", "i;unicode-casemap"
};

int calcore_collation_from_name(const char *name, calcore_collation_e *out)
{
    int i;

    if (!name) {
        *out = CALCORE_COLL_ASCII_CASEMAP;
        return 1;
    }
    for (i = 0; i < (int)(sizeof(coll_names) / sizeof(coll_names[0]));
         i++) {
        if (strcasecmp(name, coll_names[i]) == 0) {
            *out = (calcore_collation_e)i;
            return 1;
        }
    }
    return 0;
}

const char *calcore_collation_name(calcore_collation_e coll)
{
    if ((int)coll < 0
        || (int)coll >= (int)(sizeof(coll_names) / sizeof(coll_names[0]))) {
        return NULL;
    }
    return coll_names[coll];
}

/* Decode one UTF-8 sequence at s (n bytes left); *len receives its length.
 * Returns the code point, or -1 for a malformed sequence (*len = 1). */
static long utf8_decode(const unsigned char *s, apr_size_t n,
                        apr_size_t *len)
{
    long cp;
    apr_size_t need, i;

    *len = 1;
    if (s[0] < 0x80) {
        return s[0];
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 1;
        cp = s[0] & 0x1F;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 2;
        cp = s[0] & 0x0F;
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 3;
        cp = s[0] & 0x07;
    }
    else {
        return -1;
    }
    if (n < need + 1) {
        return -1;
    }
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
        || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return -1;
    }
    *len = need + 1;
    return cp;
}

static char *utf8_put(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static const calcore__casemap_t *casemap_find(long cp)
{
    int lo = 0;
    int hi = (int)(sizeof(calcore__casemap) / sizeof(calcore__casemap[0]));

    if (cp < 0x80 || cp > 0xFFFF) {
        return NULL;
    }
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (calcore__casemap[mid].cp == cp) {
            return &calcore__casemap[mid];
        }
        if (calcore__casemap[mid].cp < cp) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return NULL;
}

/* Fold 'text' for 'coll' into a new string (length in *olen).  Malformed
 * UTF-8 bytes are kept as they are. */
static const char *fold(calcore_collation_e coll, const char *text,
                        apr_size_t *olen, apr_pool_t *pool)
{
    apr_size_t n = strlen(text), i = 0;
    char *out, *o;

    switch (coll) {
    case CALCORE_COLL_OCTET:
        *olen = n;
        return text;
    case CALCORE_COLL_ASCII_CASEMAP:
        out = apr_palloc(pool, n + 1);
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)text[i];

            out[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        }
        out[n] = '\0';
        *olen = n;
        return out;
    default:
        break;
    }
    /* A mapping yields at most 4 BMP code points (12 bytes) per input
     * code point of at least 2 bytes. */
    out = o = apr_palloc(pool, n * 6 + 1);
    while (i < n) {
        apr_size_t len;
        long cp = utf8_decode((const unsigned char *)text + i, n - i, &len);
        const calcore__casemap_t *m;

        if (cp < 0) {
            *o++ = text[i];
        }
        else if (cp < 0x80) {
            *o++ = (char)(cp >= 'a' && cp <= 'z' ? cp - 'a' + 'A' : cp);
        }
        else if ((m = casemap_find(cp)) != NULL) {
            int k;

            for (k = 0; k < m->n; k++) {
                o = utf8_put(o, m->out[k]);
            }
        }
        else {
            memcpy(o, text + i, len);
            o += len;
        }
        i += len;
    }
    *o = '\0';
    *olen = (apr_size_t)(o - out);
    return out;
}

int calcore_textmatch_contains(const calcore_textmatch_t *tm,
                               const char *text, apr_pool_t *scratch)
{
    const char *h, *nd;
    apr_size_t hl, nl;

    if (!tm || !tm->text || !text) {
        return 0;
    }
    nd = fold(tm->collation, tm->text, &nl, scratch);
    if (nl == 0) {
        return 1;
    }
    h = fold(tm->collation, text, &hl, scratch);
    return memmem(h, hl, nd, nl) != NULL;
}

static int textmatch(const calcore_textmatch_t *tm, const char *text,
                     apr_pool_t *scratch)
{
    int hit = calcore_textmatch_contains(tm, text, scratch);

    return tm->negate ? !hit : hit;
}

/* ---- checking ----------------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    unsigned nodes;
    calcore_precond_e code;
    const char *reason;
} check_t;

static apr_status_t bad(check_t *c, calcore_precond_e code,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static apr_status_t bad(check_t *c, calcore_precond_e code,
                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    c->reason = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->code = code;
    return CALCORE_EINVALID;
}

static apr_status_t count_node(check_t *c)
{
    if (++c->nodes > CALCORE_FILTER_MAX_NODES) {
        return bad(c, CALCORE_PRECOND_SUPPORTED_FILTER, "the filter has "
                   "more than %d elements", CALCORE_FILTER_MAX_NODES);
    }
    return APR_SUCCESS;
}

static int arr_ok(const apr_array_header_t *a)
{
    return !a || a->elt_size == sizeof(void *);
}

static apr_status_t check_range(check_t *c, const calcore_timerange_t *tr,
                                const char *where)
{
    apr_status_t rv;

    if ((rv = count_node(c))) {
        return rv;
    }
    if (tr->start < CALCORE_TIME_MIN || tr->end > CALCORE_TIME_MAX
        || tr->start > CALCORE_TIME_MAX || tr->end < CALCORE_TIME_MIN) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "time-range in %s is "
                   "out of range", where);
    }
    if (tr->start >= tr->end) {
        char b1[CALCORE_TIME_STRLEN], b2[CALCORE_TIME_STRLEN];

        return bad(c, CALCORE_PRECOND_VALID_FILTER, "time-range in %s: end "
                   "%s is not after start %s", where,
                   calcore_time_format(tr->end, b1),
                   calcore_time_format(tr->start, b2));
    }
    return APR_SUCCESS;
}

static apr_status_t check_text(check_t *c, const calcore_textmatch_t *tm,
                               const char *where)
{
    apr_status_t rv;

    if ((rv = count_node(c))) {
        return rv;
    }
    if (!tm->text) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "text-match in %s has "
                   "no text", where);
    }
    if (!calcore_collation_name(tm->collation)) {
        return bad(c, CALCORE_PRECOND_SUPPORTED_COLLATION, "text-match in "
                   "%s: unsupported collation", where);
    }
    return APR_SUCCESS;
}

static apr_status_t check_param(check_t *c, const calcore_paramfilter_t *pf,
                                const char *prop)
{
    apr_status_t rv;

    if (!pf) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "empty param-filter "
                   "slot in prop-filter %s", prop);
    }
    if ((rv = count_node(c))) {
        return rv;
    }
    if (!pf->name || !*pf->name) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "param-filter without "
                   "a name in prop-filter %s", prop);
    }
    if (pf->is_not_defined && pf->text_match) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "param-filter %s: "
                   "is-not-defined together with text-match", pf->name);
    }
    if (pf->text_match) {
        return check_text(c, pf->text_match, pf->name);
    }
    return APR_SUCCESS;
}

static apr_status_t check_prop(check_t *c, const calcore_propfilter_t *pf,
                               const char *comp)
{
    apr_status_t rv;
    int i;

    if (!pf) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "empty prop-filter "
                   "slot in comp-filter %s", comp);
    }
    if ((rv = count_node(c))) {
        return rv;
    }
    if (!pf->name || !*pf->name) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "prop-filter without "
                   "a name in comp-filter %s", comp);
    }
    if (!arr_ok(pf->param_filters)) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "prop-filter %s: bad "
                   "param-filter list", pf->name);
    }
    if (pf->is_not_defined
        && (pf->time_range || pf->text_match
            || (pf->param_filters && pf->param_filters->nelts))) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "prop-filter %s: "
                   "is-not-defined together with other tests", pf->name);
    }
    if (pf->time_range && pf->text_match) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "prop-filter %s: "
                   "time-range together with text-match", pf->name);
    }
    if (pf->time_range) {
        if (!prop_time_range_ok(pf->name)) {
            return bad(c, CALCORE_PRECOND_VALID_FILTER, "prop-filter %s: "
                       "time-range on a property without a date or time "
                       "value", pf->name);
        }
        if ((rv = check_range(c, pf->time_range, pf->name))) {
            return rv;
        }
    }
    if (pf->text_match && (rv = check_text(c, pf->text_match, pf->name))) {
        return rv;
    }
    for (i = 0; pf->param_filters && i < pf->param_filters->nelts; i++) {
        if ((rv = check_param(c, APR_ARRAY_IDX(pf->param_filters, i,
                                               calcore_paramfilter_t *),
                              pf->name))) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Recursion depth is bounded by CALCORE_FILTER_MAX_DEPTH: a deeper filter
 * is rejected before its children are looked at. */
static apr_status_t check_comp(check_t *c, const calcore_compfilter_t *cf,
                               icalcomponent_kind parent, int depth)
{
    icalcomponent_kind k;
    apr_status_t rv;
    int i;

    if (!cf) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "empty comp-filter "
                   "slot");
    }
    if (depth > CALCORE_FILTER_MAX_DEPTH) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filters nested "
                   "deeper than %d", CALCORE_FILTER_MAX_DEPTH);
    }
    if ((rv = count_node(c))) {
        return rv;
    }
    if (!cf->name || !*cf->name) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filter without a "
                   "name");
    }
    k = comp_kind(cf->name);
    if (depth == 1 && k != ICAL_VCALENDAR_COMPONENT) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "the filter must start "
                   "with comp-filter VCALENDAR, not %s", cf->name);
    }
    if (depth > 1 && !nesting_ok(parent, k)) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filter %s cannot "
                   "occur inside %s", cf->name,
                   parent == ICAL_NO_COMPONENT
                   ? "this component"
                   : icalcomponent_kind_to_string(parent));
    }
    if (!arr_ok(cf->prop_filters) || !arr_ok(cf->comp_filters)) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filter %s: bad "
                   "filter list", cf->name);
    }
    if (cf->is_not_defined
        && (cf->time_range
            || (cf->prop_filters && cf->prop_filters->nelts)
            || (cf->comp_filters && cf->comp_filters->nelts))) {
        return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filter %s: "
                   "is-not-defined together with other tests", cf->name);
    }
    if (cf->time_range) {
        if (!comp_time_range_ok(k)) {
            return bad(c, CALCORE_PRECOND_VALID_FILTER, "comp-filter %s "
                       "cannot have a time-range", cf->name);
        }
        if ((rv = check_range(c, cf->time_range, cf->name))) {
            return rv;
        }
    }
    for (i = 0; cf->prop_filters && i < cf->prop_filters->nelts; i++) {
        if ((rv = check_prop(c, APR_ARRAY_IDX(cf->prop_filters, i,
                                              calcore_propfilter_t *),
                             cf->name))) {
            return rv;
        }
    }
    for (i = 0; cf->comp_filters && i < cf->comp_filters->nelts; i++) {
        if ((rv = check_comp(c, APR_ARRAY_IDX(cf->comp_filters, i,
                                              calcore_compfilter_t *),
                             k, depth + 1))) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t calcore_filter_check(const calcore_compfilter_t *root,
                                  calcore_precond_e *code,
                                  const char **reason, apr_pool_t *pool)
{
    check_t c;
    apr_status_t rv;

    memset(&c, 0, sizeof(c));
    c.pool = pool;
    *code = CALCORE_PRECOND_NONE;
    *reason = NULL;
    if (!root) {
        rv = bad(&c, CALCORE_PRECOND_VALID_FILTER, "no filter");
    }
    else {
        rv = check_comp(&c, root, ICAL_NO_COMPONENT, 1);
    }
    if (rv) {
        *code = c.code;
        *reason = c.reason;
    }
    return rv;
}

/* ---- evaluation: helpers ------------------------------------------------ */

typedef struct {
    const calcore_object_t *obj;
    const calcore_tzset_t *tzset;
    const icaltimezone *floating;
    apr_pool_t *pool;
    calcore_expand_opts_t eo;
} fctx_t;

/* The times of the instance whose component is being tested (VALARM
 * triggers are relative to them).  NULL when there is none. */
typedef struct {
    calcore_time_t start;
    calcore_time_t end;
} ictx_t;

static apr_int64_t dur_seconds(struct icaldurationtype d)
{
    apr_int64_t s = ((apr_int64_t)d.weeks * 7 + d.days) * DAY
                    + (apr_int64_t)d.hours * 3600
                    + (apr_int64_t)d.minutes * 60 + d.seconds;

    return d.is_neg ? -s : s;
}

/* The sub-components of 'c' of kind 'k' (not ICAL_NO_COMPONENT). */
static apr_array_header_t *children(icalcomponent *c, icalcomponent_kind k,
                                    apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(icalcomponent *));
    icalcomponent *s;

    if (k == ICAL_NO_COMPONENT) {
        return a;
    }
    for (s = icalcomponent_get_first_component(c, k); s;
         s = icalcomponent_get_next_component(c, k)) {
        APR_ARRAY_PUSH(a, icalcomponent *) = s;
    }
    return a;
}

/* The properties of 'c' named 'name' (X- names compared
 * case-insensitively). */
static apr_array_header_t *props_named(icalcomponent *c, const char *name,
                                       apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(icalproperty *));
    icalproperty_kind k = icalproperty_string_to_kind(name);
    icalproperty *p;

    if (k == ICAL_NO_PROPERTY || k == ICAL_X_PROPERTY) {
        for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
             p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
            const char *xn = icalproperty_get_x_name(p);

            if (xn && strcasecmp(xn, name) == 0) {
                APR_ARRAY_PUSH(a, icalproperty *) = p;
            }
        }
        return a;
    }
    for (p = icalcomponent_get_first_property(c, k); p;
         p = icalcomponent_get_next_property(c, k)) {
        APR_ARRAY_PUSH(a, icalproperty *) = p;
    }
    return a;
}

static int has_prop(icalcomponent *c, icalproperty_kind k)
{
    return icalcomponent_get_first_property(c, k) != NULL;
}

/* The UTC instant of a DATE/DATE-TIME(/PERIOD start) property; a TZID
 * that no longer resolves (loaded objects only) reads as floating.
 * Returns 0 when the value is not a date or time. */
static int prop_utc(const fctx_t *x, icalproperty *p, calcore_time_t *t,
                    struct icaltimetype *tt_out)
{
    icalvalue *v = icalproperty_get_value(p);
    struct icaltimetype tt;

    if (!v) {
        return 0;
    }
    if (calcore_tz_prop_time(x->tzset, p, &tt, NULL, NULL) != APR_SUCCESS) {
        switch (icalvalue_isa(v)) {
        case ICAL_DATETIME_VALUE:
        case ICAL_DATE_VALUE:
            tt = icalvalue_get_datetime(v);
            tt.zone = tt.is_date || !icaltime_is_utc(tt)
                      ? NULL : icaltimezone_get_utc_timezone();
            break;
        case ICAL_TRIGGER_VALUE:
            tt = icalvalue_get_trigger(v).time;
            if (!tt.is_date && icaltime_is_utc(tt)) {
                tt.zone = icaltimezone_get_utc_timezone();
            }
            else {
                tt.zone = NULL;
            }
            break;
        case ICAL_X_VALUE: {
            const char *s = icalvalue_get_x(v);

            if (!s) {
                return 0;
            }
            tt = icaltime_from_string(s);
            if (!tt.is_date && icaltime_is_utc(tt)) {
                tt.zone = icaltimezone_get_utc_timezone();
            }
            else {
                icalparameter *tz = icalproperty_get_first_parameter(
                                        p, ICAL_TZID_PARAMETER);

                tt.zone = tz && !tt.is_date
                          ? calcore_tzset_resolve(
                                x->tzset, icalparameter_get_tzid(tz))
                          : NULL;
            }
            break;
        }
        default:
            return 0;
        }
        if (icaltime_is_null_time(tt) || !icaltime_is_valid_time(tt)) {
            return 0;
        }
    }
    if (tt_out) {
        *tt_out = tt;
    }
    *t = calcore_tz_to_utc(tt, x->floating);
    return 1;
}

/* The value of a property as text-match sees it. */
static const char *prop_text(icalproperty *p, apr_pool_t *pool)
{
    icalvalue *v = icalproperty_get_value(p);
    char *s;
    const char *r;

    if (!v) {
        return NULL;
    }
    switch (icalvalue_isa(v)) {
    case ICAL_TEXT_VALUE:
        return icalvalue_get_text(v);
    case ICAL_X_VALUE:
        return icalvalue_get_x(v);
    default:
        break;
    }
    s = icalvalue_as_ical_string_r(v);
    if (!s) {
        return NULL;
    }
    r = apr_pstrdup(pool, s);
    icalmemory_free_buffer(s);
    return r;
}

/* The parameters of 'p' named 'name'. */
static apr_array_header_t *params_named(icalproperty *p, const char *name,
                                        apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 2,
                                           sizeof(icalparameter *));
    icalparameter_kind k = icalparameter_string_to_kind(name);
    icalparameter *pa;

    if (k == ICAL_NO_PARAMETER || k == ICAL_X_PARAMETER
        || k == ICAL_IANA_PARAMETER) {
        for (pa = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER);
             pa; pa = icalproperty_get_next_parameter(p,
                                                      ICAL_ANY_PARAMETER)) {
            const char *pn = NULL;

            if (icalparameter_isa(pa) == ICAL_X_PARAMETER) {
                pn = icalparameter_get_xname(pa);
            }
            else if (icalparameter_isa(pa) == ICAL_IANA_PARAMETER) {
                pn = icalparameter_get_iana_name(pa);
            }
            if (pn && strcasecmp(pn, name) == 0) {
                APR_ARRAY_PUSH(a, icalparameter *) = pa;
            }
        }
        return a;
    }
    for (pa = icalproperty_get_first_parameter(p, k); pa;
         pa = icalproperty_get_next_parameter(p, k)) {
        APR_ARRAY_PUSH(a, icalparameter *) = pa;
    }
    return a;
}

/* A parameter's value, unquoted. */
static const char *param_text(icalparameter *pa, apr_pool_t *pool)
{
    char *s, *eq;
    const char *r;
    apr_size_t n;

    switch (icalparameter_isa(pa)) {
    case ICAL_X_PARAMETER:
        return icalparameter_get_xvalue(pa);
    case ICAL_IANA_PARAMETER:
        return icalparameter_get_iana_value(pa);
    default:
        break;
    }
    s = icalparameter_as_ical_string_r(pa);
    if (!s) {
        return NULL;
    }
    eq = strchr(s, '=');
    r = eq ? eq + 1 : s;
    n = strlen(r);
    if (n >= 2 && r[0] == '"' && r[n - 1] == '"') {
        r = apr_pstrndup(pool, r + 1, n - 2);
    }
    else {
        r = apr_pstrdup(pool, r);
    }
    icalmemory_free_buffer(s);
    return r;
}

/* ---- evaluation: properties --------------------------------------------- */

static int eval_param(const fctx_t *x, const calcore_paramfilter_t *pf,
                      icalproperty *p)
{
    apr_array_header_t *ps;
    int i;

    if (!pf || !pf->name) {
        return 0;
    }
    ps = params_named(p, pf->name, x->pool);
    if (pf->is_not_defined) {
        return ps->nelts == 0;
    }
    if (!pf->text_match) {
        return ps->nelts > 0;
    }
    for (i = 0; i < ps->nelts; i++) {
        const char *v = param_text(APR_ARRAY_IDX(ps, i, icalparameter *),
                                   x->pool);

        if (v && textmatch(pf->text_match, v, x->pool)) {
            return 1;
        }
    }
    return 0;
}

static int eval_params(const fctx_t *x, const apr_array_header_t *pfs,
                       icalproperty *p)
{
    int i;

    for (i = 0; pfs && i < pfs->nelts; i++) {
        const calcore_paramfilter_t *pf =
            APR_ARRAY_IDX(pfs, i, calcore_paramfilter_t *);

        if (!pf || (!p ? !pf->is_not_defined : !eval_param(x, pf, p))) {
            return 0;
        }
    }
    return 1;
}

static int in_range(const calcore_timerange_t *tr, calcore_time_t t)
{
    return tr->start <= t && t < tr->end;
}

/* DTSTART+DURATION of 'c' (the effective DTEND / DUE of RFC 4791 9.9):
 * days of the duration are local days in DTSTART's zone. */
static int effective_end(const fctx_t *x, icalcomponent *c,
                         calcore_time_t *t)
{
    icalproperty *ps = icalcomponent_get_first_property(
                           c, ICAL_DTSTART_PROPERTY);
    icalproperty *pd = icalcomponent_get_first_property(
                           c, ICAL_DURATION_PROPERTY);
    struct icaldurationtype d;
    struct icaltimetype tt;
    calcore_time_t start;
    const icaltimezone *zone;
    apr_int64_t days;

    if (!ps || !pd || !prop_utc(x, ps, &start, &tt)) {
        return 0;
    }
    d = icalproperty_get_duration(pd);
    days = (apr_int64_t)d.weeks * 7 + d.days;
    zone = (tt.is_date || !tt.zone) ? x->floating : tt.zone;
    if (days) {
        start = calcore_tz_wall_to_utc(
                    calcore__add(calcore_tz_utc_to_wall(start, zone),
                                 (d.is_neg ? -days : days) * DAY), zone);
    }
    d.weeks = d.days = 0;
    *t = calcore__add(start, dur_seconds(d));
    return 1;
}

static int eval_prop(const fctx_t *x, const calcore_propfilter_t *pf,
                     icalcomponent *c)
{
    apr_array_header_t *ps;
    int i;

    if (!pf || !pf->name) {
        return 0;
    }
    ps = props_named(c, pf->name, x->pool);
    if (pf->is_not_defined) {
        return ps->nelts == 0;
    }
    if (!ps->nelts) {
        icalproperty_kind k = icalproperty_string_to_kind(pf->name);
        icalcomponent_kind ck = icalcomponent_isa(c);
        calcore_time_t t;

        if (pf->time_range
            && ((k == ICAL_DTEND_PROPERTY && ck == ICAL_VEVENT_COMPONENT)
                || (k == ICAL_DUE_PROPERTY && ck == ICAL_VTODO_COMPONENT))
            && effective_end(x, c, &t) && in_range(pf->time_range, t)) {
            return eval_params(x, pf->param_filters, NULL);
        }
        return 0;
    }
    for (i = 0; i < ps->nelts; i++) {
        icalproperty *p = APR_ARRAY_IDX(ps, i, icalproperty *);

        if (pf->time_range) {
            calcore_time_t t;

            if (!prop_utc(x, p, &t, NULL) || !in_range(pf->time_range, t)) {
                continue;
            }
        }
        if (pf->text_match) {
            const char *v = prop_text(p, x->pool);

            if (!v || !textmatch(pf->text_match, v, x->pool)) {
                continue;
            }
        }
        if (eval_params(x, pf->param_filters, p)) {
            return 1;
        }
    }
    return 0;
}

/* ---- evaluation: alarms ------------------------------------------------- */

/* The first trigger of 'alarm' in UTC (relative ones need 'in'), and the
 * repetition: *repeat more triggers every *every seconds.  Returns 0 when
 * there is no usable trigger. */
static int alarm_trigger(const fctx_t *x, icalcomponent *alarm,
                         icalcomponent *parent, const ictx_t *in,
                         calcore_time_t *t, int *repeat,
                         apr_int64_t *every)
{
    icalproperty *p = icalcomponent_get_first_property(
                          alarm, ICAL_TRIGGER_PROPERTY);
    icalproperty *pr, *pd;
    icalvalue *v;
    struct icaltriggertype trg;

    *repeat = 0;
    *every = 0;
    if (!p || !(v = icalproperty_get_value(p))) {
        return 0;
    }
    if (icalvalue_isa(v) == ICAL_TRIGGER_VALUE) {
        trg = icalvalue_get_trigger(v);
    }
    else if (icalvalue_isa(v) == ICAL_DATETIME_VALUE) {
        trg.time = icalvalue_get_datetime(v);
        trg.duration = icaldurationtype_null_duration();
    }
    else if (icalvalue_isa(v) == ICAL_DURATION_VALUE) {
        trg.time = icaltime_null_time();
        trg.duration = icalvalue_get_duration(v);
    }
    else {
        return 0;
    }
    if (!icaltime_is_null_time(trg.time)) {
        struct icaltimetype tt = trg.time;

        tt.zone = !tt.is_date && icaltime_is_utc(tt)
                  ? icaltimezone_get_utc_timezone() : NULL;
        *t = calcore_tz_to_utc(tt, x->floating);
    }
    else {
        icalparameter *rel = icalproperty_get_first_parameter(
                                 p, ICAL_RELATED_PARAMETER);
        int at_end = rel && icalparameter_get_related(rel)
                            == ICAL_RELATED_END;

        if (!in) {
            return 0;
        }
        /* RFC 5545 wants a DTSTART for RELATED=START, but RFC 4791's own
         * example (Appendix B abcd5.ics, 7.8.5) relates it to the DUE of a
         * VTODO without DTSTART: the instance of such a to-do starts and
         * ends at DUE.  A to-do with neither has no trigger. */
        if (icalcomponent_isa(parent) == ICAL_VTODO_COMPONENT
            && !has_prop(parent, ICAL_DTSTART_PROPERTY)
            && !has_prop(parent, ICAL_DUE_PROPERTY)) {
            return 0;
        }
        *t = calcore__add(at_end ? in->end : in->start,
                          dur_seconds(trg.duration));
    }
    pr = icalcomponent_get_first_property(alarm, ICAL_REPEAT_PROPERTY);
    pd = icalcomponent_get_first_property(alarm, ICAL_DURATION_PROPERTY);
    if (pr && pd) {
        int n = icalproperty_get_repeat(pr);
        apr_int64_t d = dur_seconds(icalproperty_get_duration(pd));

        if (n > 0 && d > 0) {
            *repeat = n;
            *every = d;
        }
    }
    return 1;
}

/* Does a trigger of 'alarm' fall into 'tr' (RFC 4791 9.9: start <=
 * trigger < end, any repetition)? */
static int alarm_in_range(const fctx_t *x, icalcomponent *alarm,
                          icalcomponent *parent, const ictx_t *in,
                          const calcore_timerange_t *tr)
{
    calcore_time_t t, last;
    apr_int64_t every, k;
    int repeat;

    if (!alarm_trigger(x, alarm, parent, in, &t, &repeat, &every)) {
        return 0;
    }
    if (in_range(tr, t)) {
        return 1;
    }
    if (!repeat || t >= tr->end) {
        return 0;
    }
    last = calcore__add(t, every * repeat);
    if (last < tr->start) {
        return 0;
    }
    /* the first repetition at or after tr->start */
    k = (tr->start - t + every - 1) / every;
    if (k < 0) {
        k = 0;
    }
    return k <= repeat && in_range(tr, calcore__add(t, k * every));
}

/* How far any trigger of the object's alarms can be from its instance
 * (relative triggers only), and whether there are absolute ones. */
static apr_int64_t alarm_reach(const fctx_t *x,
                               const apr_array_header_t *comps,
                               int *absolute)
{
    apr_int64_t reach = 0;
    int i, j;

    *absolute = 0;
    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);
        apr_array_header_t *al = children(c, ICAL_VALARM_COMPONENT, x->pool);

        for (j = 0; j < al->nelts; j++) {
            icalcomponent *a = APR_ARRAY_IDX(al, j, icalcomponent *);
            icalproperty *p = icalcomponent_get_first_property(
                                  a, ICAL_TRIGGER_PROPERTY);
            icalproperty *pr = icalcomponent_get_first_property(
                                   a, ICAL_REPEAT_PROPERTY);
            icalproperty *pd = icalcomponent_get_first_property(
                                   a, ICAL_DURATION_PROPERTY);
            icalvalue *v = p ? icalproperty_get_value(p) : NULL;
            apr_int64_t r = 0;

            if (!v) {
                continue;
            }
            if (icalvalue_isa(v) == ICAL_TRIGGER_VALUE) {
                struct icaltriggertype trg = icalvalue_get_trigger(v);

                if (!icaltime_is_null_time(trg.time)) {
                    *absolute = 1;
                    continue;
                }
                r = dur_seconds(trg.duration);
            }
            else if (icalvalue_isa(v) == ICAL_DURATION_VALUE) {
                r = dur_seconds(icalvalue_get_duration(v));
            }
            else {
                *absolute = 1;
                continue;
            }
            if (r < 0) {
                r = -r;
            }
            if (pr && pd) {
                apr_int64_t d = dur_seconds(icalproperty_get_duration(pd));
                int n = icalproperty_get_repeat(pr);

                if (n > 0 && d > 0) {
                    r += d * n;
                }
            }
            if (r > reach) {
                reach = r;
            }
        }
    }
    return reach > CALCORE_TIME_MAX ? CALCORE_TIME_MAX : reach;
}

/* ---- evaluation: components --------------------------------------------- */

static int eval_comp(const fctx_t *x, const calcore_compfilter_t *cf,
                     icalcomponent *c, const ictx_t *in);

/* Components whose verdict is known, when it does not depend on the
 * instance (no VALARM time-range below): an unbounded rule then costs one
 * evaluation per component, not one per instance. */
#define MEMO_MAX 32

typedef struct {
    const fctx_t *x;
    const calcore_compfilter_t *cf;
    apr_pool_t *iterpool;
    int per_instance;            /* the verdict depends on the instance  */
    int ncomps;                  /* components of the set                */
    int nmemo;
    icalcomponent *memo[MEMO_MAX]; /* components that failed             */
} inst_baton_t;

/* Does a time-range below 'cf' (a VALARM's) depend on the instance? */
static int depends_on_instance(const calcore_compfilter_t *cf)
{
    int i;

    for (i = 0; cf->comp_filters && i < cf->comp_filters->nelts; i++) {
        const calcore_compfilter_t *sf =
            APR_ARRAY_IDX(cf->comp_filters, i, calcore_compfilter_t *);

        if (sf && sf->time_range) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t inst_cb(void *baton, const calcore_instance_t *inst)
{
    inst_baton_t *b = baton;
    fctx_t sub = *b->x;
    ictx_t in;
    int i;

    if (!b->per_instance) {
        for (i = 0; i < b->nmemo; i++) {
            if (b->memo[i] == inst->comp) {
                return APR_SUCCESS;
            }
        }
    }
    apr_pool_clear(b->iterpool);
    sub.pool = b->iterpool;
    in.start = inst->start;
    in.end = inst->end;
    if (eval_comp(&sub, b->cf, inst->comp, &in)) {
        return FILTER_STOP;
    }
    if (!b->per_instance && b->nmemo < MEMO_MAX) {
        b->memo[b->nmemo++] = inst->comp;
        if (b->nmemo >= b->ncomps) {
            return FILTER_NOMATCH;   /* every component failed */
        }
    }
    return APR_SUCCESS;
}

/* Any instance of the set ('obj', or the AVAILABLE group 'group') in
 * [ws, we) whose component passes 'cf'?
 *
 * The object is expanded in windows growing from one year (each window
 * reports every instance overlapping it, so together they see every
 * instance overlapping [ws, we)), so a match, or the failure of every
 * component, ends the walk early instead of after the expander has
 * collected CALCORE_MAX_INSTANCES_HARD instances of an unbounded rule.
 * The whole walk keeps the expander's default limits (instances, 2 s). */
static int any_instance(const fctx_t *x, const calcore_compfilter_t *cf,
                        const apr_array_header_t *group,
                        calcore_time_t ws, calcore_time_t we)
{
    inst_baton_t b;
    apr_status_t rv = APR_SUCCESS;
    calcore_expand_opts_t eo = x->eo;
    calcore_expand_result_t res;
    calcore_time_t a = ws, step = (calcore_time_t)366 * DAY;
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(2);
    apr_uint64_t seen = 0;
    apr_pool_t *chunk;

    b.x = x;
    b.cf = cf;
    b.per_instance = depends_on_instance(cf);
    b.ncomps = group ? group->nelts
                     : calcore_object_components(x->obj)->nelts;
    b.nmemo = 0;
    apr_pool_create(&b.iterpool, x->pool);
    apr_pool_create(&chunk, x->pool);
    if (group) {
        rv = calcore_expand_components(group, x->tzset, ws, we, &eo,
                                       inst_cb, &b, NULL, chunk);
    }
    else {
        while (a < we) {
            calcore_time_t e = we - a <= step ? we : a + step;
            apr_time_t left = deadline - apr_time_now();

            if (left <= 0 || seen >= CALCORE_MAX_INSTANCES_HARD) {
                break;
            }
            eo.max_time = left;
            eo.max_instances = CALCORE_MAX_INSTANCES_HARD - (unsigned)seen;
            apr_pool_clear(chunk);
            rv = calcore_expand(x->obj, a, e, &eo, inst_cb, &b, &res, chunk);
            if (rv != APR_SUCCESS) {
                break;
            }
            seen += res.count;
            if (res.truncated) {
                if (res.complete_until <= a) {
                    break;           /* no progress within the limits */
                }
                e = res.complete_until;
            }
            else if (!res.more_after) {
                break;               /* nothing starts at or after e */
            }
            a = e;
            if (step < CALCORE_TIME_MAX / 4) {
                step *= 2;
            }
        }
    }
    apr_pool_destroy(chunk);
    apr_pool_destroy(b.iterpool);
    return rv == FILTER_STOP;
}

/* The first-level instance window of 'cf' when it has no time-range but a
 * VALARM time-range below: instances whose alarms can reach those ranges.
 * Returns 0 when no nested VALARM has a time-range. */
static int alarm_window(const fctx_t *x, const calcore_compfilter_t *cf,
                        const apr_array_header_t *comps, calcore_time_t *ws,
                        calcore_time_t *we, int *absolute)
{
    apr_int64_t reach = -1;
    int i, any = 0;

    for (i = 0; cf->comp_filters && i < cf->comp_filters->nelts; i++) {
        const calcore_compfilter_t *sf =
            APR_ARRAY_IDX(cf->comp_filters, i, calcore_compfilter_t *);

        if (!sf->time_range || sf->is_not_defined
            || comp_kind(sf->name) != ICAL_VALARM_COMPONENT) {
            continue;
        }
        if (reach < 0) {
            reach = alarm_reach(x, comps, absolute) + DAY;
        }
        if (!any || calcore__add(sf->time_range->start, -reach) < *ws) {
            *ws = calcore__add(sf->time_range->start, -reach);
        }
        if (!any || calcore__add(sf->time_range->end, reach) > *we) {
            *we = calcore__add(sf->time_range->end, reach);
        }
        any = 1;
    }
    return any;
}

/* RFC 4791 9.9, VFREEBUSY. */
static int freebusy_overlaps(const fctx_t *x, icalcomponent *c,
                             const calcore_timerange_t *tr)
{
    icalproperty *ps = icalcomponent_get_first_property(
                           c, ICAL_DTSTART_PROPERTY);
    icalproperty *pe = icalcomponent_get_first_property(
                           c, ICAL_DTEND_PROPERTY);
    apr_array_header_t *fbs;
    calcore_time_t s, e;
    int i;

    if (ps && pe && prop_utc(x, ps, &s, NULL) && prop_utc(x, pe, &e, NULL)) {
        return tr->start <= e && tr->end > s;
    }
    fbs = props_named(c, "FREEBUSY", x->pool);
    for (i = 0; i < fbs->nelts; i++) {
        icalproperty *p = APR_ARRAY_IDX(fbs, i, icalproperty *);
        icalvalue *v = icalproperty_get_value(p);
        struct icalperiodtype per;

        if (!v || icalvalue_isa(v) != ICAL_PERIOD_VALUE) {
            continue;
        }
        per = icalvalue_get_period(v);
        if (icaltime_is_null_time(per.start)) {
            continue;
        }
        s = calcore_tz_to_utc(per.start, x->floating);
        e = icaltime_is_null_time(per.end)
            ? calcore__add(s, dur_seconds(per.duration))
            : calcore_tz_to_utc(per.end, x->floating);
        if (tr->start < e && tr->end > s) {
            return 1;
        }
    }
    return 0;
}

/* comp-filter 'sf' inside the component 'parent' (instance 'in'). */
static int eval_sub(const fctx_t *x, const calcore_compfilter_t *sf,
                    icalcomponent *parent, const ictx_t *in)
{
    icalcomponent_kind k;
    apr_array_header_t *cs;
    int i, j;

    if (!sf || !sf->name) {
        return 0;
    }
    k = comp_kind(sf->name);
    cs = children(parent, k, x->pool);
    if (sf->is_not_defined) {
        return cs->nelts == 0;
    }
    if (k == ICAL_XAVAILABLE_COMPONENT && sf->time_range) {
        /* per instance of each AVAILABLE set (grouped by UID) */
        char *done = apr_pcalloc(x->pool, cs->nelts + 1);

        for (i = 0; i < cs->nelts; i++) {
            apr_array_header_t *group;
            icalproperty *u;
            const char *uid;

            if (done[i]) {
                continue;
            }
            group = apr_array_make(x->pool, 2, sizeof(icalcomponent *));
            u = icalcomponent_get_first_property(
                    APR_ARRAY_IDX(cs, i, icalcomponent *), ICAL_UID_PROPERTY);
            uid = u ? icalproperty_get_uid(u) : NULL;
            for (j = i; j < cs->nelts; j++) {
                icalcomponent *c = APR_ARRAY_IDX(cs, j, icalcomponent *);
                icalproperty *uj = icalcomponent_get_first_property(
                                       c, ICAL_UID_PROPERTY);
                const char *ujs = uj ? icalproperty_get_uid(uj) : NULL;

                if (!done[j]
                    && (j == i || (uid && ujs && strcmp(uid, ujs) == 0))) {
                    done[j] = 1;
                    APR_ARRAY_PUSH(group, icalcomponent *) = c;
                }
            }
            if (any_instance(x, sf, group, sf->time_range->start,
                             sf->time_range->end)) {
                return 1;
            }
        }
        return 0;
    }
    for (i = 0; i < cs->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(cs, i, icalcomponent *);

        if (sf->time_range) {
            if (k == ICAL_VALARM_COMPONENT) {
                if (!alarm_in_range(x, c, parent, in, sf->time_range)) {
                    continue;
                }
            }
            else {
                continue;    /* no time-range semantics for this kind */
            }
        }
        if (eval_comp(x, sf, c, NULL)) {
            return 1;
        }
    }
    return 0;
}

static int eval_comp(const fctx_t *x, const calcore_compfilter_t *cf,
                     icalcomponent *c, const ictx_t *in)
{
    int i;

    for (i = 0; cf->prop_filters && i < cf->prop_filters->nelts; i++) {
        if (!eval_prop(x, APR_ARRAY_IDX(cf->prop_filters, i,
                                        calcore_propfilter_t *), c)) {
            return 0;
        }
    }
    for (i = 0; cf->comp_filters && i < cf->comp_filters->nelts; i++) {
        if (!eval_sub(x, APR_ARRAY_IDX(cf->comp_filters, i,
                                       calcore_compfilter_t *), c, in)) {
            return 0;
        }
    }
    return 1;
}

/* A first-level comp-filter (below VCALENDAR). */
static int eval_top(const fctx_t *x, const calcore_compfilter_t *cf)
{
    icalcomponent_kind k;
    icalcomponent *root = calcore_object_vcalendar(x->obj);
    const apr_array_header_t *comps;
    calcore_comp_e kind;
    calcore_time_t ws = CALCORE_TIME_MIN, we = CALCORE_TIME_MAX;
    int i, absolute = 0;

    if (!cf || !cf->name) {
        return 0;
    }
    k = comp_kind(cf->name);
    kind = calcore_comp_from_name(cf->name);

    if (k == ICAL_VTIMEZONE_COMPONENT) {
        comps = children(root, k, x->pool);
    }
    else if (kind != CALCORE_COMP_NONE
             && kind == calcore_object_kind(x->obj)) {
        comps = calcore_object_components(x->obj);
    }
    else {
        comps = NULL;
    }
    if (cf->is_not_defined) {
        return !comps || comps->nelts == 0;
    }
    if (!comps || !comps->nelts) {
        return 0;
    }
    if (k == ICAL_VTIMEZONE_COMPONENT || k == ICAL_VFREEBUSY_COMPONENT) {
        for (i = 0; i < comps->nelts; i++) {
            icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);

            if (cf->time_range && (k != ICAL_VFREEBUSY_COMPONENT
                                   || !freebusy_overlaps(x, c,
                                                         cf->time_range))) {
                continue;
            }
            if (eval_comp(x, cf, c, NULL)) {
                return 1;
            }
        }
        return 0;
    }

    /* VEVENT, VTODO, VJOURNAL, VAVAILABILITY: per instance when a time
     * is tested, else per component. */
    if (cf->time_range) {
        return any_instance(x, cf, NULL, cf->time_range->start,
                            cf->time_range->end);
    }
    if (alarm_window(x, cf, comps, &ws, &we, &absolute)) {
        if (any_instance(x, cf, NULL, ws, we)) {
            return 1;
        }
        if (!absolute) {
            return 0;
        }
        /* absolute triggers do not depend on the instance */
    }
    for (i = 0; i < comps->nelts; i++) {
        if (eval_comp(x, cf, APR_ARRAY_IDX(comps, i, icalcomponent *),
                      NULL)) {
            return 1;
        }
    }
    return 0;
}

int calcore_filter_match(const calcore_compfilter_t *root,
                         const calcore_object_t *obj,
                         const icaltimezone *floating, apr_pool_t *scratch)
{
    fctx_t x;
    int i, ok = 1;

    if (!root || !obj || root->is_not_defined
        || comp_kind(root->name) != ICAL_VCALENDAR_COMPONENT) {
        return 0;
    }
    memset(&x, 0, sizeof(x));
    x.obj = obj;
    x.tzset = calcore_object_tzset(obj);
    x.floating = floating;
    x.eo.floating = floating;
    apr_pool_create(&x.pool, scratch);
    for (i = 0; ok && root->prop_filters && i < root->prop_filters->nelts;
         i++) {
        ok = eval_prop(&x, APR_ARRAY_IDX(root->prop_filters, i,
                                         calcore_propfilter_t *),
                       calcore_object_vcalendar(obj));
    }
    for (i = 0; ok && root->comp_filters && i < root->comp_filters->nelts;
         i++) {
        ok = eval_top(&x, APR_ARRAY_IDX(root->comp_filters, i,
                                        calcore_compfilter_t *));
    }
    apr_pool_destroy(x.pool);
    return ok;
}

/* ---- hints -------------------------------------------------------------- */

void calcore_filter_hints(const calcore_compfilter_t *root,
                          calcore_time_t *start, calcore_time_t *end,
                          unsigned *comp_mask)
{
    unsigned mask = CALCORE_COMP_ALL;
    const calcore_timerange_t *best = NULL;
    int i;

    *start = CALCORE_TIME_MIN;
    *end = CALCORE_TIME_MAX;
    *comp_mask = 0;
    if (!root || root->is_not_defined || !root->comp_filters) {
        return;
    }
    for (i = 0; i < root->comp_filters->nelts; i++) {
        const calcore_compfilter_t *cf =
            APR_ARRAY_IDX(root->comp_filters, i, calcore_compfilter_t *);
        calcore_comp_e k = cf ? calcore_comp_from_name(cf->name)
                              : CALCORE_COMP_NONE;

        if (k == CALCORE_COMP_NONE) {
            continue;      /* VTIMEZONE or unknown: any kind may match */
        }
        if (cf->is_not_defined) {
            mask &= ~(unsigned)k;
            continue;
        }
        mask &= (unsigned)k;
        if (cf->time_range && cf->time_range->start < cf->time_range->end
            && (!best || (apr_uint64_t)(cf->time_range->end
                                        - cf->time_range->start)
                         < (apr_uint64_t)(best->end - best->start))) {
            best = cf->time_range;
        }
    }
    if (mask != CALCORE_COMP_ALL && mask != 0) {
        *comp_mask = mask;
    }
    if (best) {
        *start = best->start;
        *end = best->end;
    }
}
