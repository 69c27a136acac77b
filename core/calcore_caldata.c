/*
 * calcore_caldata.c - CALDAV:calendar-data rendering (see
 * calcore_caldata.h).
 *
 * Generated output is written here, component by component, from the
 * object's tree: BEGIN/END lines by us, each property by libical's
 * icalproperty_as_ical_string_r() (folded, CRLF), a novalue property by
 * us.  Only the instances of C:expand are new components (clones of the
 * master or override, changed and freed right after they are written); the
 * object's own tree is never modified.
 */
#include <string.h>

#include <apr_strings.h>

#include "calcore_caldata.h"
#include "calcore_expand.h"
#include "calcore_private.h"

#define DAY 86400

/* ---- checking ----------------------------------------------------------- */

/* NULL when 'tr' is a usable range: both bounds given, end after start. */
static const char *check_range(const calcore_timerange_t *tr)
{
    if (tr->start <= CALCORE_TIME_MIN || tr->end >= CALCORE_TIME_MAX) {
        return "needs both start and end";
    }
    if (tr->start >= tr->end) {
        return "end is not after start";
    }
    return NULL;
}

static const char *check_comp(const calcore_caldata_comp_t *c, int depth)
{
    int i;

    if (!c || !c->name || !*c->name) {
        return "calendar-data: a comp element without a name";
    }
    if (depth > CALCORE_CALDATA_MAX_DEPTH) {
        return "calendar-data: comp elements nested too deeply";
    }
    if (c->props && c->props->elt_size != sizeof(calcore_caldata_prop_t)) {
        return "calendar-data: bad prop list";
    }
    if (c->comps && c->comps->elt_size != sizeof(calcore_caldata_comp_t *)) {
        return "calendar-data: bad comp list";
    }
    if (c->allprop && c->props && c->props->nelts) {
        return "calendar-data: allprop together with prop";
    }
    if (c->allcomp && c->comps && c->comps->nelts) {
        return "calendar-data: allcomp together with comp";
    }
    for (i = 0; c->props && i < c->props->nelts; i++) {
        const calcore_caldata_prop_t *p =
            &APR_ARRAY_IDX(c->props, i, calcore_caldata_prop_t);

        if (!p->name || !*p->name) {
            return "calendar-data: a prop element without a name";
        }
    }
    for (i = 0; c->comps && i < c->comps->nelts; i++) {
        const char *why = check_comp(APR_ARRAY_IDX(c->comps, i,
                                                   calcore_caldata_comp_t *),
                                     depth + 1);

        if (why) {
            return why;
        }
    }
    return NULL;
}

apr_status_t calcore_caldata_check(const calcore_caldata_t *spec,
                                   calcore_precond_e *code,
                                   const char **reason)
{
    const char *why = NULL;

    *code = CALCORE_PRECOND_NONE;
    *reason = NULL;
    if (!spec) {
        return APR_SUCCESS;
    }
    if (spec->comp) {
        if (!spec->comp->name
            || strcasecmp(spec->comp->name, "VCALENDAR") != 0) {
            why = "calendar-data: the outermost comp must be VCALENDAR";
        }
        else {
            why = check_comp(spec->comp, 1);
        }
    }
    if (!why && spec->expand && spec->limit_recurrence) {
        why = "calendar-data: expand together with limit-recurrence-set";
    }
    if (!why && spec->expand && check_range(&spec->expand_range)) {
        why = check_range(&spec->expand_range)[0] == 'n'
              ? "calendar-data: expand needs both start and end"
              : "calendar-data: expand end is not after start";
    }
    if (!why && spec->limit_recurrence
        && check_range(&spec->limit_recurrence_range)) {
        why = check_range(&spec->limit_recurrence_range)[0] == 'n'
              ? "calendar-data: limit-recurrence-set needs both start and "
                "end"
              : "calendar-data: limit-recurrence-set end is not after "
                "start";
    }
    if (!why && spec->limit_freebusy
        && check_range(&spec->limit_freebusy_range)) {
        why = check_range(&spec->limit_freebusy_range)[0] == 'n'
              ? "calendar-data: limit-freebusy-set needs both start and end"
              : "calendar-data: limit-freebusy-set end is not after start";
    }
    if (why) {
        *reason = why;
        return CALCORE_EINVALID;
    }
    return APR_SUCCESS;
}

/* ---- selection ---------------------------------------------------------- */

static int sel_whole(const calcore_caldata_comp_t *sel)
{
    return !sel || (!sel->allprop && !sel->allcomp
                    && (!sel->props || !sel->props->nelts)
                    && (!sel->comps || !sel->comps->nelts));
}

int calcore_caldata_is_whole(const calcore_caldata_t *spec)
{
    if (!spec) {
        return 1;
    }
    if (spec->expand || spec->limit_recurrence || spec->limit_freebusy) {
        return 0;
    }
    return sel_whole(spec->comp)
           || (spec->comp->allprop && spec->comp->allcomp);
}

/* The name selection uses for 'p'. */
static const char *prop_name(icalproperty *p)
{
    icalproperty_kind k = icalproperty_isa(p);

    if (k == ICAL_X_PROPERTY) {
        return icalproperty_get_x_name(p);
    }
    return icalproperty_kind_to_string(k);
}

/* Is 'p' selected by 'sel'?  *novalue tells how. */
static int prop_selected(const calcore_caldata_comp_t *sel, icalproperty *p,
                         int *novalue)
{
    const char *name;
    int i;

    *novalue = 0;
    if (sel_whole(sel) || sel->allprop) {
        return 1;
    }
    if (!sel->props || !(name = prop_name(p))) {
        return 0;
    }
    for (i = 0; i < sel->props->nelts; i++) {
        const calcore_caldata_prop_t *sp =
            &APR_ARRAY_IDX(sel->props, i, calcore_caldata_prop_t);

        if (sp->name && strcasecmp(sp->name, name) == 0) {
            *novalue = sp->novalue;
            return 1;
        }
    }
    return 0;
}

/* Is a sub-component named 'name' selected by 'sel'?  *child is its own
 * selection (NULL = whole). */
static int comp_selected(const calcore_caldata_comp_t *sel, const char *name,
                         const calcore_caldata_comp_t **child)
{
    int i;

    *child = NULL;
    if (sel_whole(sel) || sel->allcomp) {
        return 1;
    }
    if (!sel->comps || !name) {
        return 0;
    }
    for (i = 0; i < sel->comps->nelts; i++) {
        const calcore_caldata_comp_t *sc =
            APR_ARRAY_IDX(sel->comps, i, calcore_caldata_comp_t *);

        if (sc && sc->name && strcasecmp(sc->name, name) == 0) {
            *child = sc;
            return 1;
        }
    }
    return 0;
}

/* ---- output ------------------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len, cap;
    int nomem;
} buf_t;

static void put(buf_t *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 4096;
        char *d;

        while (b->len + n + 1 > cap) {
            cap *= 2;
        }
        d = apr_palloc(b->pool, cap);
        if (b->len) {
            memcpy(d, b->data, b->len);
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Append one content line 'line' (no CRLF), folded at 75 octets without
 * splitting a UTF-8 sequence. */
static void put_folded(buf_t *b, const char *line)
{
    apr_size_t n = strlen(line), i = 0, col = 0;

    while (i < n) {
        apr_size_t clen = 1;
        unsigned char c = (unsigned char)line[i];

        if (c >= 0xF0) {
            clen = 4;
        }
        else if (c >= 0xE0) {
            clen = 3;
        }
        else if (c >= 0xC0) {
            clen = 2;
        }
        if (i + clen > n) {
            clen = n - i;
        }
        if (col + clen > 75) {
            put(b, "\r\n ", 3);
            col = 1;
        }
        put(b, line + i, clen);
        col += clen;
        i += clen;
    }
    put(b, "\r\n", 2);
}

static void put_prop(buf_t *b, icalproperty *p, int novalue)
{
    char *s;

    if (novalue) {
        /* name and parameters, empty value */
        const char *name = prop_name(p);
        char *line = apr_pstrdup(b->pool, name ? name : "X-UNKNOWN");
        icalparameter *pa;

        for (pa = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER);
             pa; pa = icalproperty_get_next_parameter(p,
                                                      ICAL_ANY_PARAMETER)) {
            char *ps = icalparameter_as_ical_string_r(pa);

            if (ps) {
                line = apr_pstrcat(b->pool, line, ";", ps, NULL);
                icalmemory_free_buffer(ps);
            }
        }
        put_folded(b, apr_pstrcat(b->pool, line, ":", NULL));
        return;
    }
    s = icalproperty_as_ical_string_r(p);
    if (!s) {
        b->nomem = 1;
        return;
    }
    puts_(b, s);
    icalmemory_free_buffer(s);
}

static const char *comp_name(icalcomponent *c)
{
    icalcomponent_kind k = icalcomponent_isa(c);

    if (k == ICAL_X_COMPONENT || k == ICAL_NO_COMPONENT
        || k == ICAL_XLICINVALID_COMPONENT) {
        return NULL;               /* libical keeps nothing of these */
    }
    return icalcomponent_kind_to_string(k);
}

typedef struct {
    const calcore_caldata_t *spec;
    const calcore_object_t *obj;
    const icaltimezone *floating;
    apr_pool_t *pool;
    buf_t *out;
} rctx_t;

static apr_array_header_t *list_props(icalcomponent *c, apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 16, sizeof(icalproperty *));
    icalproperty *p;

    for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        APR_ARRAY_PUSH(a, icalproperty *) = p;
    }
    return a;
}

static apr_array_header_t *list_comps(icalcomponent *c, apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 4,
                                           sizeof(icalcomponent *));
    icalcomponent *s;

    for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        APR_ARRAY_PUSH(a, icalcomponent *) = s;
    }
    return a;
}

/* Is the FREEBUSY property 'p' outside the limit-freebusy-set range? */
static int fb_outside(const rctx_t *r, icalproperty *p)
{
    icalvalue *v = icalproperty_get_value(p);
    struct icalperiodtype per;
    calcore_time_t s, e;

    if (!v || icalvalue_isa(v) != ICAL_PERIOD_VALUE) {
        return 0;
    }
    per = icalvalue_get_period(v);
    if (icaltime_is_null_time(per.start)) {
        return 0;
    }
    s = calcore_tz_to_utc(per.start, r->floating);
    if (!icaltime_is_null_time(per.end)) {
        e = calcore_tz_to_utc(per.end, r->floating);
    }
    else {
        struct icaldurationtype d = per.duration;
        apr_int64_t secs = ((apr_int64_t)d.weeks * 7 + d.days) * DAY
                           + (apr_int64_t)d.hours * 3600
                           + (apr_int64_t)d.minutes * 60 + d.seconds;

        e = calcore__add(s, d.is_neg ? -secs : secs);
    }
    return !(s < r->spec->limit_freebusy_range.end
             && e > r->spec->limit_freebusy_range.start);
}

/* Write component 'c' as selected by 'sel' (NULL = whole). */
static void emit_comp(const rctx_t *r, icalcomponent *c,
                      const calcore_caldata_comp_t *sel, apr_pool_t *pool)
{
    const char *name = comp_name(c);
    apr_array_header_t *ps, *cs;
    int i, limit_fb;

    if (!name) {
        return;
    }
    limit_fb = r->spec && r->spec->limit_freebusy
               && icalcomponent_isa(c) == ICAL_VFREEBUSY_COMPONENT;
    puts_(r->out, "BEGIN:");
    puts_(r->out, name);
    puts_(r->out, "\r\n");
    ps = list_props(c, pool);
    for (i = 0; i < ps->nelts; i++) {
        icalproperty *p = APR_ARRAY_IDX(ps, i, icalproperty *);
        int novalue;

        if (icalproperty_isa(p) == ICAL_XLICERROR_PROPERTY
            || !prop_selected(sel, p, &novalue)) {
            continue;
        }
        if (limit_fb && icalproperty_isa(p) == ICAL_FREEBUSY_PROPERTY
            && fb_outside(r, p)) {
            continue;
        }
        put_prop(r->out, p, novalue);
    }
    cs = list_comps(c, pool);
    for (i = 0; i < cs->nelts; i++) {
        icalcomponent *s = APR_ARRAY_IDX(cs, i, icalcomponent *);
        const calcore_caldata_comp_t *child;

        if (comp_selected(sel, comp_name(s), &child)) {
            emit_comp(r, s, child, pool);
        }
    }
    puts_(r->out, "END:");
    puts_(r->out, name);
    puts_(r->out, "\r\n");
}

/* ---- expand ------------------------------------------------------------- */

static struct icaltimetype utc_tt(calcore_time_t t)
{
    struct icaltimetype tt = calcore_tz_wall_to_icaltime(t, 0);

    tt.zone = icaltimezone_get_utc_timezone();
    return tt;
}

/* Give the clone 'p' the value 't' (UTC), or the local date of 't' when
 * 'as_date'. */
static void set_time(const rctx_t *r, icalproperty *p, calcore_time_t t,
                     int as_date)
{
    if (as_date) {
        icalproperty_set_value(p, icalvalue_new_date(
            calcore_tz_wall_to_icaltime(
                calcore_tz_utc_to_wall(t, r->floating), 1)));
    }
    else {
        icalproperty_set_value(p, icalvalue_new_datetime(utc_tt(t)));
    }
    icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
}

static int value_is_date(icalproperty *p)
{
    icalvalue *v = icalproperty_get_value(p);

    return v && icalvalue_isa(v) == ICAL_DATE_VALUE;
}

/* A DATE-TIME with a TZID, or floating, in the clone 'p' becomes UTC. */
static void utcize(const rctx_t *r, icalproperty *p)
{
    icalvalue *v = icalproperty_get_value(p);
    struct icaltimetype tt;

    if (!v || icalvalue_isa(v) != ICAL_DATETIME_VALUE) {
        return;
    }
    if (calcore_tz_prop_time(calcore_object_tzset(r->obj), p, &tt, NULL,
                             NULL) != APR_SUCCESS) {
        tt = icalvalue_get_datetime(v);
        tt.zone = NULL;
    }
    if (tt.is_date || (tt.zone && icaltime_is_utc(tt)
                       && !icalproperty_get_first_parameter(
                              p, ICAL_TZID_PARAMETER))) {
        return;
    }
    set_time(r, p, calcore_tz_to_utc(tt, r->floating), 0);
}

static void utcize_comp(const rctx_t *r, icalcomponent *c)
{
    icalproperty *p;
    icalcomponent *s;

    /* 'c' is a private clone: nobody else iterates it */
    for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
        utcize(r, p);
    }
    for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
        utcize_comp(r, s);
    }
}

/* The component of one expanded instance (a new tree; free it). */
static icalcomponent *instance_comp(const rctx_t *r,
                                    const calcore_instance_t *in,
                                    apr_pool_t *pool)
{
    icalcomponent *src = in->comp;
    icalcomponent *out = icalcomponent_new(icalcomponent_isa(src));
    apr_array_header_t *ps = list_props(src, pool);
    apr_array_header_t *cs = list_comps(src, pool);
    int recurring = (in->flags & CALCORE_INST_RECURRING) != 0;
    int is_date = (in->flags & CALCORE_INST_DATE) != 0;
    int has_start = icalcomponent_get_first_property(
                        src, ICAL_DTSTART_PROPERTY) != NULL;
    int rid_done = 0, i;

    if (!out) {
        return NULL;
    }
    for (i = 0; i < ps->nelts; i++) {
        icalproperty *p = APR_ARRAY_IDX(ps, i, icalproperty *);
        icalproperty_kind k = icalproperty_isa(p);
        icalproperty *c;

        switch (k) {
        case ICAL_XLICERROR_PROPERTY:
            continue;
        case ICAL_RRULE_PROPERTY:
        case ICAL_RDATE_PROPERTY:
        case ICAL_EXDATE_PROPERTY:
        case ICAL_EXRULE_PROPERTY:
            if (recurring && !rid_done) {
                c = icalproperty_new(ICAL_RECURRENCEID_PROPERTY);
                set_time(r, c, in->recurrence_id, is_date);
                icalcomponent_add_property(out, c);
                rid_done = 1;
            }
            continue;
        case ICAL_RECURRENCEID_PROPERTY:
            if (rid_done) {
                continue;
            }
            c = icalproperty_new_clone(p);
            set_time(r, c, in->recurrence_id, value_is_date(p));
            rid_done = 1;
            break;
        case ICAL_DTSTART_PROPERTY:
            c = icalproperty_new_clone(p);
            set_time(r, c, in->start, is_date);
            break;
        case ICAL_DTEND_PROPERTY:
        case ICAL_DUE_PROPERTY:
            c = icalproperty_new_clone(p);
            if (has_start) {
                set_time(r, c, in->end, value_is_date(p));
            }
            else {
                utcize(r, c);
            }
            break;
        default:
            c = icalproperty_new_clone(p);
            utcize(r, c);
            break;
        }
        icalcomponent_add_property(out, c);
    }
    if (recurring && !rid_done) {
        icalproperty *c = icalproperty_new(ICAL_RECURRENCEID_PROPERTY);

        set_time(r, c, in->recurrence_id, is_date);
        icalcomponent_add_property(out, c);
    }
    for (i = 0; i < cs->nelts; i++) {
        icalcomponent *s = APR_ARRAY_IDX(cs, i, icalcomponent *);
        icalcomponent *c;

        if (!comp_name(s)) {
            continue;
        }
        c = icalcomponent_new_clone(s);
        utcize_comp(r, c);
        icalcomponent_add_component(out, c);
    }
    return out;
}

typedef struct {
    const rctx_t *r;
    const calcore_caldata_comp_t *sel;
    apr_pool_t *iterpool;
} expand_baton_t;

static apr_status_t expand_cb(void *baton, const calcore_instance_t *in)
{
    expand_baton_t *b = baton;
    icalcomponent *c;

    apr_pool_clear(b->iterpool);
    c = instance_comp(b->r, in, b->iterpool);
    if (!c) {
        return APR_ENOMEM;
    }
    emit_comp(b->r, c, b->sel, b->iterpool);
    icalcomponent_free(c);
    return APR_SUCCESS;
}

/* ---- limit-recurrence-set ----------------------------------------------- */

typedef struct {
    apr_array_header_t *hit;      /* icalcomponent *: overlapping overrides */
} lrs_baton_t;

static apr_status_t lrs_cb(void *baton, const calcore_instance_t *in)
{
    lrs_baton_t *b = baton;

    if (in->flags & CALCORE_INST_OVERRIDE) {
        APR_ARRAY_PUSH(b->hit, icalcomponent *) = in->comp;
    }
    return APR_SUCCESS;
}

/* The master's instance length (exact seconds; nominal days as 86400). */
static apr_int64_t master_length(const rctx_t *r, icalcomponent *m)
{
    const calcore_tzset_t *tz = calcore_object_tzset(r->obj);
    icalproperty *ps, *pe, *pd;
    calcore_time_t s, e;

    if (!m || !(ps = icalcomponent_get_first_property(
                         m, ICAL_DTSTART_PROPERTY))
        || calcore_tz_prop_utc(tz, ps, r->floating, &s)) {
        return 0;
    }
    pe = icalcomponent_get_first_property(
             m, icalcomponent_isa(m) == ICAL_VTODO_COMPONENT
                ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY);
    if (pe && calcore_tz_prop_utc(tz, pe, r->floating, &e) == APR_SUCCESS) {
        return e > s ? e - s : 0;
    }
    if ((pd = icalcomponent_get_first_property(m, ICAL_DURATION_PROPERTY))) {
        struct icaldurationtype d = icalproperty_get_duration(pd);
        apr_int64_t secs = ((apr_int64_t)d.weeks * 7 + d.days) * DAY
                           + (apr_int64_t)d.hours * 3600
                           + (apr_int64_t)d.minutes * 60 + d.seconds;

        return d.is_neg ? 0 : secs;
    }
    return value_is_date(ps) ? DAY : 0;
}

/* The overrides limit-recurrence-set keeps (icalcomponent *, from
 * 'pool'): those whose own or original instance overlaps the range. */
static apr_array_header_t *lrs_keep(const rctx_t *r, apr_pool_t *pool)
{
    const calcore_timerange_t *tr = &r->spec->limit_recurrence_range;
    const apr_array_header_t *comps = calcore_object_components(r->obj);
    icalcomponent *m = calcore_object_master(r->obj);
    apr_int64_t len = master_length(r, m);
    calcore_expand_opts_t eo;
    lrs_baton_t b;
    int i;

    memset(&eo, 0, sizeof(eo));
    eo.floating = r->floating;
    b.hit = apr_array_make(pool, 4, sizeof(icalcomponent *));
    calcore_expand(r->obj, tr->start, tr->end, &eo, lrs_cb, &b, NULL, pool);
    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);
        icalproperty *rp = icalcomponent_get_first_property(
                               c, ICAL_RECURRENCEID_PROPERTY);
        calcore_time_t rid;

        if (c == m || !rp
            || calcore_tz_prop_utc(calcore_object_tzset(r->obj), rp,
                                   r->floating, &rid)) {
            continue;
        }
        if (len > 0 ? (rid < tr->end && calcore__add(rid, len) > tr->start)
                    : (tr->start <= rid && rid < tr->end)) {
            APR_ARRAY_PUSH(b.hit, icalcomponent *) = c;
        }
    }
    return b.hit;
}

static int in_list(const apr_array_header_t *a, icalcomponent *c)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (APR_ARRAY_IDX(a, i, icalcomponent *) == c) {
            return 1;
        }
    }
    return 0;
}

/* ---- render ------------------------------------------------------------- */

apr_status_t calcore_caldata_render(const calcore_caldata_t *spec,
                                    const calcore_object_t *obj,
                                    const icaltimezone *floating,
                                    const char **text, apr_size_t *len,
                                    apr_pool_t *pool)
{
    icalcomponent *root = calcore_object_vcalendar(obj);
    const calcore_caldata_comp_t *rsel;
    calcore_comp_e kind = calcore_object_kind(obj);
    apr_array_header_t *ps, *cs, *keep = NULL;
    apr_pool_t *scratch;
    buf_t out;
    rctx_t r;
    int i;

    if (calcore_caldata_is_whole(spec)) {
        *text = calcore_object_text(obj, len);
        return APR_SUCCESS;
    }
    memset(&out, 0, sizeof(out));
    out.pool = pool;
    r.spec = spec;
    r.obj = obj;
    r.floating = floating;
    r.pool = pool;
    r.out = &out;
    rsel = spec->comp;
    apr_pool_create(&scratch, pool);

    puts_(&out, "BEGIN:VCALENDAR\r\n");
    ps = list_props(root, scratch);
    for (i = 0; i < ps->nelts; i++) {
        icalproperty *p = APR_ARRAY_IDX(ps, i, icalproperty *);
        int novalue;

        if (icalproperty_isa(p) != ICAL_XLICERROR_PROPERTY
            && prop_selected(rsel, p, &novalue)) {
            put_prop(&out, p, novalue);
        }
    }

    if (spec->expand && (kind == CALCORE_COMP_VEVENT
                         || kind == CALCORE_COMP_VTODO
                         || kind == CALCORE_COMP_VJOURNAL)) {
        const calcore_caldata_comp_t *sel;

        if (comp_selected(rsel, calcore_comp_name(kind), &sel)) {
            calcore_expand_opts_t eo;
            expand_baton_t b;
            apr_status_t rv;

            memset(&eo, 0, sizeof(eo));
            eo.floating = floating;
            eo.max_instances = spec->max_instances;
            b.r = &r;
            b.sel = sel;
            apr_pool_create(&b.iterpool, scratch);
            rv = calcore_expand(obj, spec->expand_range.start,
                                spec->expand_range.end, &eo, expand_cb, &b,
                                NULL, scratch);
            if (rv == APR_ENOMEM) {
                apr_pool_destroy(scratch);
                return rv;
            }
        }
    }
    else {
        if (spec->limit_recurrence) {
            keep = lrs_keep(&r, scratch);
        }
        cs = list_comps(root, scratch);
        for (i = 0; i < cs->nelts; i++) {
            icalcomponent *c = APR_ARRAY_IDX(cs, i, icalcomponent *);
            const calcore_caldata_comp_t *sel;

            if (!comp_selected(rsel, comp_name(c), &sel)) {
                continue;
            }
            if (keep && calcore_comp_from_name(comp_name(c)) == kind
                && icalcomponent_get_first_property(
                       c, ICAL_RECURRENCEID_PROPERTY)
                && c != calcore_object_master(obj) && !in_list(keep, c)) {
                continue;
            }
            emit_comp(&r, c, sel, scratch);
        }
    }
    puts_(&out, "END:VCALENDAR\r\n");
    apr_pool_destroy(scratch);
    if (out.nomem) {
        return APR_ENOMEM;
    }
    *text = out.data;
    *len = out.len;
    return APR_SUCCESS;
}
