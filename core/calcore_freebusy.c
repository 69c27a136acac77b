/*
 * calcore_freebusy.c - free/busy accumulation and the VFREEBUSY reply (see
 * calcore_freebusy.h).
 *
 * Busy periods are kept as (start, end, rank) with rank 1 = BUSY-TENTATIVE,
 * 2 = BUSY-UNAVAILABLE, 3 = BUSY.  VAVAILABILITY components are kept aside
 * (range, rank, priority, sorted AVAILABLE periods) and painted at render
 * time: for each elementary interval between their boundaries the highest
 * one covering it decides (free inside one of its AVAILABLE periods, its
 * BUSYTYPE otherwise).  A sweep over all periods then takes, between two
 * boundaries, the highest rank present, and joins equal neighbours.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "calcore_expand.h"
#include "calcore_freebusy.h"
#include "calcore_private.h"

#define DAY 86400

/* AVAILABLE instances kept per VAVAILABILITY. */
#define AVAIL_MAX_INSTANCES 10000u

enum { R_NONE = 0, R_TENTATIVE = 1, R_UNAVAILABLE = 2, R_BUSY = 3 };

typedef struct {
    calcore_time_t s, e;
    int rank;
} fbp_t;

typedef struct {
    int prio;                    /* paint order: higher paints later      */
    unsigned seq;
    calcore_time_t s, e;
    int rank;
    fbp_t *free;                 /* AVAILABLE periods, merged and sorted  */
    int nfree;
} avail_t;

struct calcore_fb_t {
    apr_pool_t *pool;
    calcore_time_t start, end, dtstamp;
    apr_array_header_t *periods; /* fbp_t                                 */
    apr_array_header_t *avail;   /* avail_t                               */
    unsigned seq;
};

calcore_fb_t *calcore_fb_create(calcore_time_t start, calcore_time_t end,
                                apr_pool_t *pool)
{
    calcore_fb_t *fb = apr_pcalloc(pool, sizeof(*fb));

    fb->pool = pool;
    fb->start = start;
    fb->end = end < start ? start : end;
    fb->dtstamp = calcore_time_now();
    fb->periods = apr_array_make(pool, 32, sizeof(fbp_t));
    fb->avail = apr_array_make(pool, 2, sizeof(avail_t));
    return fb;
}

void calcore_fb_range(const calcore_fb_t *fb, calcore_time_t *start,
                      calcore_time_t *end)
{
    *start = fb->start;
    *end = fb->end;
}

void calcore_fb_set_dtstamp(calcore_fb_t *fb, calcore_time_t t)
{
    fb->dtstamp = t;
}

static void add_period(calcore_fb_t *fb, calcore_time_t s, calcore_time_t e,
                       int rank)
{
    fbp_t *p;

    if (s < fb->start) {
        s = fb->start;
    }
    if (e > fb->end) {
        e = fb->end;
    }
    if (e <= s || rank == R_NONE) {
        return;
    }
    p = apr_array_push(fb->periods);
    p->s = s;
    p->e = e;
    p->rank = rank;
}

static int rank_of_fbtype(calcore_fbtype_e t)
{
    switch (t) {
    case CALCORE_FB_BUSY:
        return R_BUSY;
    case CALCORE_FB_BUSY_UNAVAILABLE:
        return R_UNAVAILABLE;
    case CALCORE_FB_BUSY_TENTATIVE:
        return R_TENTATIVE;
    default:
        return R_NONE;
    }
}

/* ---- records ------------------------------------------------------------ */

int calcore_fb_record_sufficient(const calcore_fb_t *fb,
                                 const calcore_index_t *rec)
{
    switch (rec->kind) {
    case CALCORE_COMP_VTODO:
    case CALCORE_COMP_VJOURNAL:
        return 1;
    case CALCORE_COMP_VEVENT:
    case CALCORE_COMP_VFREEBUSY:
        return (rec->flags & CALCORE_INDEX_EMPTY)
               || calcore_index_covers(rec, fb->start, fb->end);
    default:
        return 0;
    }
}

apr_status_t calcore_fb_add_record(calcore_fb_t *fb,
                                   const calcore_index_t *rec)
{
    int i;

    if (rec->kind == CALCORE_COMP_VAVAILABILITY) {
        return APR_ENOTIMPL;
    }
    if ((rec->kind != CALCORE_COMP_VEVENT
         && rec->kind != CALCORE_COMP_VFREEBUSY) || !rec->instances) {
        return APR_SUCCESS;
    }
    for (i = 0; i < rec->instances->nelts; i++) {
        const calcore_index_inst_t *in =
            &APR_ARRAY_IDX(rec->instances, i, calcore_index_inst_t);

        if (rec->kind == CALCORE_COMP_VFREEBUSY) {
            add_period(fb, in->start, in->end,
                       rank_of_fbtype((calcore_fbtype_e)in->fbtype));
            continue;
        }
        if (in->status == CALCORE_STATUS_CANCELLED
            || in->transp == CALCORE_TRANSP_TRANSPARENT) {
            continue;
        }
        add_period(fb, in->start, in->end,
                   in->status == CALCORE_STATUS_TENTATIVE ? R_TENTATIVE
                                                          : R_BUSY);
    }
    return APR_SUCCESS;
}

/* ---- objects ------------------------------------------------------------ */

static apr_int64_t dur_seconds(struct icaldurationtype d)
{
    apr_int64_t s = ((apr_int64_t)d.weeks * 7 + d.days) * DAY
                    + (apr_int64_t)d.hours * 3600
                    + (apr_int64_t)d.minutes * 60 + d.seconds;

    return d.is_neg ? -s : s;
}

/* The busy rank of a VEVENT instance's component (R_NONE: not busy). */
static int event_rank(icalcomponent *c)
{
    icalproperty *p = icalcomponent_get_first_property(c,
                                                       ICAL_TRANSP_PROPERTY);

    if (p) {
        icalproperty_transp t = icalproperty_get_transp(p);

        if (t == ICAL_TRANSP_TRANSPARENT
            || t == ICAL_TRANSP_TRANSPARENTNOCONFLICT) {
            return R_NONE;
        }
    }
    p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
    if (p) {
        switch (icalproperty_get_status(p)) {
        case ICAL_STATUS_CANCELLED:
            return R_NONE;
        case ICAL_STATUS_TENTATIVE:
            return R_TENTATIVE;
        default:
            break;
        }
    }
    return R_BUSY;
}

static int fbtype_rank(icalproperty *p)
{
    icalparameter *fp = icalproperty_get_first_parameter(
                            p, ICAL_FBTYPE_PARAMETER);

    if (!fp) {
        return R_BUSY;
    }
    switch (icalparameter_get_fbtype(fp)) {
    case ICAL_FBTYPE_FREE:
        return R_NONE;
    case ICAL_FBTYPE_BUSYUNAVAILABLE:
        return R_UNAVAILABLE;
    case ICAL_FBTYPE_BUSYTENTATIVE:
        return R_TENTATIVE;
    default:
        return R_BUSY;   /* BUSY, and unknown values (RFC 5545 3.2.9) */
    }
}

static apr_status_t event_cb(void *baton, const calcore_instance_t *in)
{
    calcore_fb_t *fb = baton;

    add_period(fb, in->start, in->end, event_rank(in->comp));
    return APR_SUCCESS;
}

static void add_freebusy_comp(calcore_fb_t *fb, icalcomponent *c,
                              const icaltimezone *floating,
                              apr_pool_t *scratch)
{
    apr_array_header_t *ps = apr_array_make(scratch, 8,
                                            sizeof(icalproperty *));
    icalproperty *p;
    int i;

    for (p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
        APR_ARRAY_PUSH(ps, icalproperty *) = p;
    }
    for (i = 0; i < ps->nelts; i++) {
        icalvalue *v;
        struct icalperiodtype per;
        calcore_time_t s, e;

        p = APR_ARRAY_IDX(ps, i, icalproperty *);
        v = icalproperty_get_value(p);
        if (!v || icalvalue_isa(v) != ICAL_PERIOD_VALUE) {
            continue;
        }
        per = icalvalue_get_period(v);
        if (icaltime_is_null_time(per.start)) {
            continue;
        }
        s = calcore_tz_to_utc(per.start, floating);
        e = icaltime_is_null_time(per.end)
            ? calcore__add(s, dur_seconds(per.duration))
            : calcore_tz_to_utc(per.end, floating);
        add_period(fb, s, e, fbtype_rank(p));
    }
}

typedef struct {
    calcore_fb_t *fb;
    apr_array_header_t *free;    /* fbp_t */
} avail_baton_t;

static apr_status_t avail_cb(void *baton, const calcore_instance_t *in)
{
    avail_baton_t *b = baton;
    fbp_t *p;

    if (in->end <= in->start) {
        return APR_SUCCESS;
    }
    p = apr_array_push(b->free);
    p->s = in->start;
    p->e = in->end;
    p->rank = R_NONE;
    return APR_SUCCESS;
}

static int cmp_period(const void *a, const void *b)
{
    const fbp_t *x = a, *y = b;

    if (x->s != y->s) {
        return x->s < y->s ? -1 : 1;
    }
    return x->e < y->e ? -1 : x->e > y->e;
}

static void add_availability(calcore_fb_t *fb, const calcore_object_t *obj,
                             icalcomponent *c, const icaltimezone *floating,
                             apr_pool_t *scratch)
{
    const calcore_tzset_t *tz = calcore_object_tzset(obj);
    icalproperty *p;
    icalcomponent *s;
    apr_array_header_t *subs = apr_array_make(scratch, 4,
                                              sizeof(icalcomponent *));
    calcore_time_t start = CALCORE_TIME_MIN, end = CALCORE_TIME_MAX;
    calcore_expand_opts_t eo;
    avail_baton_t b;
    avail_t *a;
    char *done;
    int i, j, prio = 0, rank = R_UNAVAILABLE;

    if ((p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY))
        && calcore_tz_prop_utc(tz, p, floating, &start)) {
        start = CALCORE_TIME_MIN;
    }
    if ((p = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY))) {
        if (calcore_tz_prop_utc(tz, p, floating, &end)) {
            end = CALCORE_TIME_MAX;
        }
    }
    else if (start > CALCORE_TIME_MIN
             && (p = icalcomponent_get_first_property(
                         c, ICAL_DURATION_PROPERTY))) {
        end = calcore__add(start, dur_seconds(icalproperty_get_duration(p)));
    }
    if ((p = icalcomponent_get_first_property(c, ICAL_BUSYTYPE_PROPERTY))) {
        switch (icalproperty_get_busytype(p)) {
        case ICAL_BUSYTYPE_BUSY:
            rank = R_BUSY;
            break;
        case ICAL_BUSYTYPE_BUSYTENTATIVE:
            rank = R_TENTATIVE;
            break;
        default:
            rank = R_UNAVAILABLE;
            break;
        }
    }
    if ((p = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY))) {
        int v = icalproperty_get_priority(p);

        prio = v >= 1 && v <= 9 ? 10 - v : 0;
    }
    if (start < fb->start) {
        start = fb->start;
    }
    if (end > fb->end) {
        end = fb->end;
    }
    if (end <= start) {
        return;
    }

    for (s = icalcomponent_get_first_component(c, ICAL_XAVAILABLE_COMPONENT);
         s; s = icalcomponent_get_next_component(c,
                                                 ICAL_XAVAILABLE_COMPONENT)) {
        APR_ARRAY_PUSH(subs, icalcomponent *) = s;
    }
    memset(&eo, 0, sizeof(eo));
    eo.floating = floating;
    eo.max_instances = AVAIL_MAX_INSTANCES;
    b.fb = fb;
    b.free = apr_array_make(scratch, 16, sizeof(fbp_t));
    done = apr_pcalloc(scratch, subs->nelts + 1);
    for (i = 0; i < subs->nelts; i++) {
        apr_array_header_t *group;
        icalproperty *u;
        const char *uid;

        if (done[i]) {
            continue;
        }
        group = apr_array_make(scratch, 2, sizeof(icalcomponent *));
        u = icalcomponent_get_first_property(
                APR_ARRAY_IDX(subs, i, icalcomponent *), ICAL_UID_PROPERTY);
        uid = u ? icalproperty_get_uid(u) : NULL;
        for (j = i; j < subs->nelts; j++) {
            icalcomponent *sj = APR_ARRAY_IDX(subs, j, icalcomponent *);
            icalproperty *uj = icalcomponent_get_first_property(
                                   sj, ICAL_UID_PROPERTY);
            const char *ujs = uj ? icalproperty_get_uid(uj) : NULL;

            if (!done[j] && (j == i || (uid && ujs && !strcmp(uid, ujs)))) {
                done[j] = 1;
                APR_ARRAY_PUSH(group, icalcomponent *) = sj;
            }
        }
        calcore_expand_components(group, tz, start, end, &eo, avail_cb, &b,
                                  NULL, scratch);
    }

    a = apr_array_push(fb->avail);
    a->prio = prio;
    a->seq = fb->seq++;
    a->s = start;
    a->e = end;
    a->rank = rank;
    a->nfree = 0;
    a->free = apr_palloc(fb->pool, sizeof(fbp_t) * (b.free->nelts + 1));
    if (b.free->nelts) {
        fbp_t *f = (fbp_t *)b.free->elts;

        qsort(f, b.free->nelts, sizeof(fbp_t), cmp_period);
        for (i = 0; i < b.free->nelts; i++) {
            fbp_t *last = a->nfree ? &a->free[a->nfree - 1] : NULL;

            if (last && f[i].s <= last->e) {
                if (f[i].e > last->e) {
                    last->e = f[i].e;
                }
            }
            else {
                a->free[a->nfree++] = f[i];
            }
        }
    }
}

apr_status_t calcore_fb_add_object(calcore_fb_t *fb,
                                   const calcore_object_t *obj,
                                   const icaltimezone *floating,
                                   apr_pool_t *scratch)
{
    const apr_array_header_t *comps = calcore_object_components(obj);
    calcore_expand_opts_t eo;
    apr_pool_t *sub;
    int i;

    apr_pool_create(&sub, scratch);
    switch (calcore_object_kind(obj)) {
    case CALCORE_COMP_VEVENT:
        memset(&eo, 0, sizeof(eo));
        eo.floating = floating;
        calcore_expand(obj, fb->start, fb->end, &eo, event_cb, fb, NULL,
                       sub);
        break;
    case CALCORE_COMP_VFREEBUSY:
        for (i = 0; i < comps->nelts; i++) {
            add_freebusy_comp(fb, APR_ARRAY_IDX(comps, i, icalcomponent *),
                              floating, sub);
        }
        break;
    case CALCORE_COMP_VAVAILABILITY:
        for (i = 0; i < comps->nelts; i++) {
            add_availability(fb, obj, APR_ARRAY_IDX(comps, i,
                                                    icalcomponent *),
                             floating, sub);
        }
        break;
    default:
        break;
    }
    apr_pool_destroy(sub);
    return APR_SUCCESS;
}

/* ---- merging ------------------------------------------------------------ */

static int cmp_time(const void *a, const void *b)
{
    calcore_time_t x = *(const calcore_time_t *)a;
    calcore_time_t y = *(const calcore_time_t *)b;

    return x < y ? -1 : x > y;
}

/* Is 't' inside one of the (sorted, disjoint) periods of 'a'? */
static int in_free(const avail_t *a, calcore_time_t t)
{
    int lo = 0, hi = a->nfree;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (a->free[mid].e <= t) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo < a->nfree && a->free[lo].s <= t;
}

static int avail_above(const avail_t *x, const avail_t *y)
{
    return x->prio != y->prio ? x->prio > y->prio : x->seq > y->seq;
}

/* Paint the VAVAILABILITY layers into 'out' (fbp_t). */
static void paint_availability(calcore_fb_t *fb, apr_array_header_t *out,
                               apr_pool_t *pool)
{
    const avail_t *av = (const avail_t *)fb->avail->elts;
    int na = fb->avail->nelts, i, j, nb = 0;
    calcore_time_t *bounds;
    apr_size_t total = 0;

    if (!na) {
        return;
    }
    for (i = 0; i < na; i++) {
        total += 2 + 2 * (apr_size_t)av[i].nfree;
    }
    bounds = apr_palloc(pool, sizeof(*bounds) * total);
    for (i = 0; i < na; i++) {
        bounds[nb++] = av[i].s;
        bounds[nb++] = av[i].e;
        for (j = 0; j < av[i].nfree; j++) {
            bounds[nb++] = av[i].free[j].s;
            bounds[nb++] = av[i].free[j].e;
        }
    }
    qsort(bounds, nb, sizeof(*bounds), cmp_time);
    for (i = 0; i + 1 < nb; i++) {
        calcore_time_t a = bounds[i], b = bounds[i + 1];
        const avail_t *top = NULL;

        if (a == b) {
            continue;
        }
        for (j = 0; j < na; j++) {
            if (av[j].s <= a && b <= av[j].e
                && (!top || avail_above(&av[j], top))) {
                top = &av[j];
            }
        }
        if (top && !in_free(top, a)) {
            fbp_t *p = apr_array_push(out);

            p->s = a;
            p->e = b;
            p->rank = top->rank;
        }
    }
}

typedef struct {
    calcore_time_t t;
    int rank;
    int delta;
} edge_t;

static int cmp_edge(const void *a, const void *b)
{
    const edge_t *x = a, *y = b;

    return x->t < y->t ? -1 : x->t > y->t;
}

static const char *fbtype_name(int rank)
{
    switch (rank) {
    case R_TENTATIVE:
        return "BUSY-TENTATIVE";
    case R_UNAVAILABLE:
        return "BUSY-UNAVAILABLE";
    default:
        return "BUSY";
    }
}

apr_array_header_t *calcore_fb_periods(calcore_fb_t *fb, apr_pool_t *pool)
{
    apr_array_header_t *res = apr_array_make(pool, 16,
                                             sizeof(calcore_fb_period_t));
    apr_array_header_t *all = apr_array_make(pool, fb->periods->nelts + 16,
                                             sizeof(fbp_t));
    edge_t *edges;
    int n, i, count[4] = { 0, 0, 0, 0 };
    static const calcore_fbtype_e types[] = {
        CALCORE_FB_NONE, CALCORE_FB_BUSY_TENTATIVE,
        CALCORE_FB_BUSY_UNAVAILABLE, CALCORE_FB_BUSY
    };

    apr_array_cat(all, fb->periods);
    paint_availability(fb, all, pool);
    n = all->nelts;
    if (!n) {
        return res;
    }
    edges = apr_palloc(pool, sizeof(edge_t) * 2 * n);
    for (i = 0; i < n; i++) {
        const fbp_t *p = &APR_ARRAY_IDX(all, i, fbp_t);

        edges[2 * i].t = p->s;
        edges[2 * i].rank = p->rank;
        edges[2 * i].delta = 1;
        edges[2 * i + 1].t = p->e;
        edges[2 * i + 1].rank = p->rank;
        edges[2 * i + 1].delta = -1;
    }
    qsort(edges, 2 * n, sizeof(edge_t), cmp_edge);
    for (i = 0; i < 2 * n;) {
        calcore_time_t t = edges[i].t;
        int top;

        while (i < 2 * n && edges[i].t == t) {
            count[edges[i].rank] += edges[i].delta;
            i++;
        }
        if (i == 2 * n) {
            break;
        }
        top = count[R_BUSY] ? R_BUSY : count[R_UNAVAILABLE] ? R_UNAVAILABLE
              : count[R_TENTATIVE] ? R_TENTATIVE : R_NONE;
        if (top != R_NONE) {
            calcore_fb_period_t *last = res->nelts
                ? &APR_ARRAY_IDX(res, res->nelts - 1, calcore_fb_period_t)
                : NULL;

            if (last && last->end == t && last->type == types[top]) {
                last->end = edges[i].t;
            }
            else {
                calcore_fb_period_t *p = apr_array_push(res);

                p->start = t;
                p->end = edges[i].t;
                p->type = types[top];
            }
        }
    }
    return res;
}

/* ---- output ------------------------------------------------------------- */

apr_status_t calcore_duration_parse(const char *s, apr_int64_t *secs)
{
    apr_int64_t total = 0, n;
    int in_time = 0, any = 0;
    const char *units_date = "WD", *units_time = "HMS";

    if (!s || (*s != 'P' && *s != 'p')) {
        return APR_EINVAL;
    }
    for (s++; *s; ) {
        char u;

        if ((*s == 'T' || *s == 't') && !in_time) {
            in_time = 1;
            s++;
            if (!*s) {
                return APR_EINVAL;
            }
            continue;
        }
        if (*s < '0' || *s > '9') {
            return APR_EINVAL;
        }
        for (n = 0; *s >= '0' && *s <= '9'; s++) {
            n = n * 10 + (*s - '0');
            if (n > APR_INT64_C(100) * 366 * 86400) {
                return APR_EINVAL;
            }
        }
        u = (char)apr_toupper((unsigned char)*s);
        if (!u || !strchr(in_time ? units_time : units_date, u)) {
            return APR_EINVAL;
        }
        s++;
        any = 1;
        switch (u) {
        case 'W': total += n * 7 * 86400; break;
        case 'D': total += n * 86400; break;
        case 'H': total += n * 3600; break;
        case 'M': total += n * 60; break;
        default: total += n; break;
        }
        if (total > APR_INT64_C(100) * 366 * 86400) {
            return APR_EINVAL;
        }
    }
    if (!any || total <= 0) {
        return APR_EINVAL;
    }
    *secs = total;
    return APR_SUCCESS;
}

char *calcore_duration_format(apr_int64_t secs, char *buf)
{
    apr_int64_t d, h, m, s;
    char *o = buf;

    if (secs <= 0) {
        strcpy(buf, "PT0S");
        return buf;
    }
    d = secs / DAY;
    h = secs % DAY / 3600;
    m = secs % 3600 / 60;
    s = secs % 60;
    o += sprintf(o, "P");
    if (d) {
        o += sprintf(o, "%" APR_INT64_T_FMT "D", d);
    }
    if (h || m || s) {
        o += sprintf(o, "T");
        if (h) {
            o += sprintf(o, "%" APR_INT64_T_FMT "H", h);
        }
        if (m) {
            o += sprintf(o, "%" APR_INT64_T_FMT "M", m);
        }
        if (s) {
            sprintf(o, "%" APR_INT64_T_FMT "S", s);
        }
    }
    return buf;
}

apr_status_t calcore_fb_render(calcore_fb_t *fb, const char **text,
                               apr_size_t *len, apr_pool_t *pool)
{
    apr_pool_t *scratch;
    apr_array_header_t *ps;
    char b1[CALCORE_TIME_STRLEN], b2[CALCORE_TIME_STRLEN];
    char b3[CALCORE_TIME_STRLEN], dur[CALCORE_DURATION_STRLEN];
    char *out;
    apr_size_t cap, n = 0;
    int i;

    apr_pool_create(&scratch, pool);
    ps = calcore_fb_periods(fb, scratch);
    cap = 256 + (apr_size_t)ps->nelts * 96;
    out = apr_palloc(pool, cap);
    n += apr_snprintf(out + n, cap - n,
                      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:%s\r\n"
                      "BEGIN:VFREEBUSY\r\nDTSTAMP:%s\r\nDTSTART:%s\r\n"
                      "DTEND:%s\r\n", CALCORE_FB_PRODID,
                      calcore_time_format(fb->dtstamp, b1),
                      calcore_time_format(fb->start, b2),
                      calcore_time_format(fb->end, b3));
    for (i = 0; i < ps->nelts; i++) {
        const calcore_fb_period_t *p =
            &APR_ARRAY_IDX(ps, i, calcore_fb_period_t);
        int rank = p->type == CALCORE_FB_BUSY_TENTATIVE ? R_TENTATIVE
                   : p->type == CALCORE_FB_BUSY_UNAVAILABLE ? R_UNAVAILABLE
                   : R_BUSY;

        n += apr_snprintf(out + n, cap - n, "FREEBUSY%s%s:%s/%s\r\n",
                          rank == R_BUSY ? "" : ";FBTYPE=",
                          rank == R_BUSY ? "" : fbtype_name(rank),
                          calcore_time_format(p->start, b1),
                          calcore_duration_format(p->end - p->start, dur));
    }
    n += apr_snprintf(out + n, cap - n,
                      "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    apr_pool_destroy(scratch);
    *text = out;
    *len = n;
    return APR_SUCCESS;
}
