/*
 * calcore_index.c - the attribute mapping record and its serialisation.
 *
 * Serialised layout, version 2 (all integers big-endian; i64 = two's
 * complement; str = u32 length + bytes without NUL, length 0xFFFFFFFF =
 * NULL):
 *
 *   offset size  field
 *        0    4  magic "CCIX"
 *        4    1  version (CALCORE_INDEX_VERSION)
 *        5    1  kind (calcore_comp_e)
 *        6    1  status (calcore_status_e)
 *        7    1  transp (calcore_transp_e)
 *        8    4  flags (CALCORE_INDEX_*)
 *       12    8  span start (i64)
 *       20    8  span end (i64)
 *       28    8  inst_from (i64)
 *       36    8  inst_until (i64)
 *       44    4  max_attendees
 *       48    8  floating zone (u64, calcore_tz_zone_id of the zone the
 *                floating and DATE times were computed in)
 *       56       uid (str), organizer (str)
 *                u32 n, then n x { address (str), partstat (str) }
 *                u32 n, then n x { start i64, end i64, recurrence_id i64,
 *                                  flags u8, rule u8, status u8, transp u8,
 *                                  fbtype u8 }              (29 bytes each)
 *
 * Version 1 is the same without the floating zone (offset 48 starts the
 * strings); it is read with the zone CALCORE_TZ_ID_UNKNOWN.  Anything else
 * is rejected with CALCORE_EVERSION; a later version that only adds fields
 * still changes the version byte.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "calcore_index.h"
#include "calcore_private.h"

#define MAGIC      "CCIX"
#define FIXED_LEN_V1  48
#define FIXED_LEN     56
#define INST_LEN   29
#define NULL_STR   0xFFFFFFFFu

/* ---- building ----------------------------------------------------------- */

static calcore_status_e status_of(icalcomponent *c)
{
    icalproperty *p = icalcomponent_get_first_property(c,
                                                       ICAL_STATUS_PROPERTY);

    if (!p) {
        return CALCORE_STATUS_NONE;
    }
    switch (icalproperty_get_status(p)) {
    case ICAL_STATUS_TENTATIVE:
        return CALCORE_STATUS_TENTATIVE;
    case ICAL_STATUS_CONFIRMED:
        return CALCORE_STATUS_CONFIRMED;
    case ICAL_STATUS_CANCELLED:
        return CALCORE_STATUS_CANCELLED;
    case ICAL_STATUS_NEEDSACTION:
        return CALCORE_STATUS_NEEDS_ACTION;
    case ICAL_STATUS_COMPLETED:
        return CALCORE_STATUS_COMPLETED;
    case ICAL_STATUS_INPROCESS:
        return CALCORE_STATUS_IN_PROCESS;
    case ICAL_STATUS_DRAFT:
        return CALCORE_STATUS_DRAFT;
    case ICAL_STATUS_FINAL:
        return CALCORE_STATUS_FINAL;
    default:
        return CALCORE_STATUS_OTHER;
    }
}

static calcore_transp_e transp_of(icalcomponent *c)
{
    icalproperty *p = icalcomponent_get_first_property(c,
                                                       ICAL_TRANSP_PROPERTY);

    if (!p) {
        return CALCORE_TRANSP_NONE;
    }
    switch (icalproperty_get_transp(p)) {
    case ICAL_TRANSP_TRANSPARENT:
    case ICAL_TRANSP_TRANSPARENTNOCONFLICT:
        return CALCORE_TRANSP_TRANSPARENT;
    default:
        return CALCORE_TRANSP_OPAQUE;
    }
}

static calcore_fbtype_e fbtype_of(icalproperty *p)
{
    icalparameter *fp = icalproperty_get_first_parameter(
                            p, ICAL_FBTYPE_PARAMETER);

    if (!fp) {
        return CALCORE_FB_BUSY;
    }
    switch (icalparameter_get_fbtype(fp)) {
    case ICAL_FBTYPE_FREE:
        return CALCORE_FB_FREE;
    case ICAL_FBTYPE_BUSYUNAVAILABLE:
        return CALCORE_FB_BUSY_UNAVAILABLE;
    case ICAL_FBTYPE_BUSYTENTATIVE:
        return CALCORE_FB_BUSY_TENTATIVE;
    default:
        return CALCORE_FB_BUSY;
    }
}

static int has_alarm(icalcomponent *c)
{
    return icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT)
           != NULL;
}

static int has_floating(const calcore_object_t *obj)
{
    const apr_array_header_t *comps = calcore_object_components(obj);
    static const icalproperty_kind kinds[] = {
        ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_DUE_PROPERTY,
        ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
        ICAL_RECURRENCEID_PROPERTY, ICAL_NO_PROPERTY
    };
    int i, k;

    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);

        for (k = 0; kinds[k] != ICAL_NO_PROPERTY; k++) {
            icalproperty *p;

            for (p = icalcomponent_get_first_property(c, kinds[k]); p;
                 p = icalcomponent_get_next_property(c, kinds[k])) {
                struct icaltimetype tt;

                if (calcore_tz_prop_time(calcore_object_tzset(obj), p, &tt,
                                         NULL, NULL) != APR_SUCCESS
                    || !tt.zone) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

typedef struct {
    calcore_index_t *idx;
    apr_pool_t *pool;
} collect_baton_t;

static apr_status_t collect_inst(void *baton, const calcore_instance_t *in)
{
    collect_baton_t *b = baton;
    calcore_index_inst_t *r = apr_array_push(b->idx->instances);

    r->start = in->start;
    r->end = in->end;
    r->recurrence_id = in->recurrence_id;
    r->flags = (unsigned char)in->flags;
    r->rule = (unsigned char)in->rule;
    r->status = (unsigned char)status_of(in->comp);
    r->transp = (unsigned char)transp_of(in->comp);
    r->fbtype = CALCORE_FB_NONE;
    return APR_SUCCESS;
}

static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)apr_tolower(*s);
    }
}

static void add_attendees(calcore_index_t *idx, apr_hash_t *seen,
                          icalcomponent *c, apr_pool_t *pool)
{
    icalproperty *p;
    int n = 0;

    for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
        const char *addr = icalproperty_get_attendee(p);
        icalparameter *ps;
        calcore_attendee_t *a;
        char *key;

        n++;
        if (!addr) {
            continue;
        }
        key = apr_pstrdup(pool, addr);
        lower(key);
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
        a = apr_array_push(idx->attendees);
        a->address = apr_pstrdup(pool, addr);
        ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
        if (ps && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_X) {
            const char *xv = icalparameter_get_xvalue(ps);

            a->partstat = apr_pstrdup(pool, xv ? xv : "");
        }
        else if (ps) {
            char *s = icalparameter_as_ical_string_r(ps);
            const char *eq = s ? strchr(s, '=') : NULL;

            a->partstat = apr_pstrdup(pool, eq ? eq + 1 : "NEEDS-ACTION");
            icalmemory_free_buffer(s);
        }
        else {
            a->partstat = "NEEDS-ACTION";
        }
    }
    if ((unsigned)n > idx->max_attendees) {
        idx->max_attendees = (unsigned)n;
    }
}

apr_status_t calcore_index_build(calcore_index_t **out,
                                 const calcore_object_t *obj,
                                 const calcore_index_opts_t *opts,
                                 apr_pool_t *pool)
{
    calcore_index_t *idx = apr_pcalloc(pool, sizeof(*idx));
    const apr_array_header_t *comps = calcore_object_components(obj);
    icalcomponent *main = calcore_object_master(obj);
    calcore_expand_opts_t eo;
    calcore_expand_result_t res;
    calcore_span_t span;
    calcore_time_t now, from, until;
    apr_hash_t *seen = apr_hash_make(pool);
    apr_pool_t *scratch;
    collect_baton_t b;
    icalproperty *p;
    int i;

    if (!main) {
        main = APR_ARRAY_IDX(comps, 0, icalcomponent *);
    }
    idx->kind = calcore_object_kind(obj);
    idx->uid = apr_pstrdup(pool, calcore_object_uid(obj));
    idx->status = status_of(main);
    idx->transp = transp_of(main);
    p = icalcomponent_get_first_property(main, ICAL_ORGANIZER_PROPERTY);
    if (p && icalproperty_get_organizer(p)) {
        idx->organizer = apr_pstrdup(pool, icalproperty_get_organizer(p));
    }
    idx->attendees = apr_array_make(pool, 4, sizeof(calcore_attendee_t));
    add_attendees(idx, seen, main, pool);
    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);

        if (c != main) {
            add_attendees(idx, seen, c, pool);
        }
        if (has_alarm(c)) {
            idx->flags |= CALCORE_INDEX_HAS_ALARMS;
        }
    }
    if (calcore_object_is_recurring(obj)) {
        idx->flags |= CALCORE_INDEX_RECURRING;
    }
    if (calcore_object_lossy(obj)) {
        idx->flags |= CALCORE_INDEX_LOSSY;
    }
    if (has_floating(obj)) {
        idx->flags |= CALCORE_INDEX_FLOATING;
    }
    idx->floating_zone = calcore_tz_zone_id(opts ? opts->floating : NULL);

    memset(&eo, 0, sizeof(eo));
    eo.floating = opts ? opts->floating : NULL;
    eo.max_instances = opts && opts->max_instances
                       ? opts->max_instances : CALCORE_INDEX_MAX_INSTANCES;
    now = opts && opts->now ? opts->now : calcore_time_now();
    from = opts && opts->from ? opts->from
                              : calcore__add(now, -CALCORE_INDEX_PAST_DEFAULT);
    until = opts && opts->until ? opts->until
                                : calcore__add(now,
                                               CALCORE_INDEX_FUTURE_DEFAULT);
    if (until < from) {
        until = from;
    }

    apr_pool_create(&scratch, pool);
    calcore_expand_span(obj, &eo, &span, scratch);
    if (span.empty) {
        idx->flags |= CALCORE_INDEX_EMPTY;
    }
    if (span.unbounded || span.truncated) {
        idx->flags |= CALCORE_INDEX_UNBOUNDED;
    }
    idx->start = span.start;
    idx->end = span.end;

    apr_pool_clear(scratch);
    idx->instances = apr_array_make(pool, 8, sizeof(calcore_index_inst_t));
    b.idx = idx;
    b.pool = pool;
    calcore_expand(obj, from, until, &eo, collect_inst, &b, &res, scratch);
    apr_pool_destroy(scratch);
    idx->inst_from = from;
    idx->inst_until = res.truncated ? res.complete_until : until;
    if (res.truncated) {
        idx->flags |= CALCORE_INDEX_TRUNCATED | CALCORE_INDEX_PAST_HORIZON;
    }
    if (res.more_after) {
        idx->flags |= CALCORE_INDEX_PAST_HORIZON;
    }

    /* A VFREEBUSY is indexed by its FREEBUSY periods. */
    if (idx->kind == CALCORE_COMP_VFREEBUSY) {
        apr_array_header_t *fb = apr_array_make(pool, 8,
                                                sizeof(calcore_index_inst_t));

        for (i = 0; i < comps->nelts; i++) {
            icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);
            /* before the loop: a component has one property iterator */
            calcore_status_e cst = status_of(c);

            for (p = icalcomponent_get_first_property(c,
                                                      ICAL_FREEBUSY_PROPERTY);
                 p; p = icalcomponent_get_next_property(
                            c, ICAL_FREEBUSY_PROPERTY)) {
                struct icalperiodtype per = icalproperty_get_freebusy(p);
                calcore_index_inst_t *r;
                calcore_time_t s, e;

                if (icaltime_is_null_time(per.start)) {
                    continue;
                }
                s = calcore_tz_to_utc(per.start, eo.floating);
                e = icaltime_is_null_time(per.end)
                    ? calcore__add(s, icaldurationtype_as_int(per.duration))
                    : calcore_tz_to_utc(per.end, eo.floating);
                if (!(s < until && e > from)) {
                    continue;
                }
                r = apr_array_push(fb);
                r->start = s;
                r->end = e < s ? s : e;
                r->recurrence_id = s;
                r->flags = 0;
                r->rule = CALCORE_TR_INTERVAL;
                r->status = (unsigned char)cst;
                r->transp = CALCORE_TRANSP_NONE;
                r->fbtype = (unsigned char)fbtype_of(p);
            }
        }
        if (fb->nelts) {
            idx->instances = fb;
        }
    }
    *out = idx;
    return APR_SUCCESS;
}

int calcore_index_covers(const calcore_index_t *idx, calcore_time_t qs,
                         calcore_time_t qe)
{
    return qs >= idx->inst_from && qe < idx->inst_until;
}

int calcore_index_exact(const calcore_index_t *idx, apr_uint64_t zone)
{
    return !(idx->flags & CALCORE_INDEX_FLOATING)
           || (zone != CALCORE_TZ_ID_UNKNOWN && idx->floating_zone == zone);
}

int calcore_index_may_overlap(const calcore_index_t *idx, calcore_time_t qs,
                              calcore_time_t qe, apr_uint64_t zone)
{
    int i;

    if (idx->flags & CALCORE_INDEX_EMPTY) {
        return 0;
    }
    /* A VFREEBUSY's list holds its FREEBUSY periods, but with DTSTART and
     * DTEND it overlaps by those (RFC 4791 9.9): only the span is safe. */
    if (calcore_index_exact(idx, zone)
        && idx->kind != CALCORE_COMP_VFREEBUSY
        && calcore_index_covers(idx, qs, qe)) {
        for (i = 0; i < idx->instances->nelts; i++) {
            const calcore_index_inst_t *r =
                &APR_ARRAY_IDX(idx->instances, i, calcore_index_inst_t);
            calcore_instance_t in;

            in.start = r->start;
            in.end = r->end;
            in.recurrence_id = r->recurrence_id;
            in.comp = NULL;
            in.flags = r->flags;
            in.rule = (calcore_tr_e)r->rule;
            if (calcore_instance_overlaps(&in, qs, qe)) {
                return 1;
            }
        }
        return 0;
    }
    if (!calcore_index_exact(idx, zone)) {
        /* floating times move by up to +-14 h with another zone */
        qs = calcore__add(qs, -14 * 3600);
        qe = calcore__add(qe, 14 * 3600);
    }
    return idx->start <= qe && idx->end >= qs;
}

/* ---- serialisation ------------------------------------------------------ */

static unsigned char *put32(unsigned char *p, apr_uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

static unsigned char *put64(unsigned char *p, apr_int64_t sv)
{
    apr_uint64_t v = (apr_uint64_t)sv;

    p = put32(p, (apr_uint32_t)(v >> 32));
    return put32(p, (apr_uint32_t)v);
}

static unsigned char *putstr(unsigned char *p, const char *s)
{
    apr_size_t n;

    if (!s) {
        return put32(p, NULL_STR);
    }
    n = strlen(s);
    p = put32(p, (apr_uint32_t)n);
    memcpy(p, s, n);
    return p + n;
}

static apr_size_t strsize(const char *s)
{
    return 4 + (s ? strlen(s) : 0);
}

apr_status_t calcore_index_serialize(const calcore_index_t *idx,
                                     unsigned char **buf, apr_size_t *len,
                                     apr_pool_t *pool)
{
    int na = idx->attendees ? idx->attendees->nelts : 0;
    int ni = idx->instances ? idx->instances->nelts : 0;
    apr_size_t size = FIXED_LEN + strsize(idx->uid)
                      + strsize(idx->organizer) + 4 + 4
                      + (apr_size_t)ni * INST_LEN;
    unsigned char *b, *p;
    int i;

    for (i = 0; i < na; i++) {
        const calcore_attendee_t *a =
            &APR_ARRAY_IDX(idx->attendees, i, calcore_attendee_t);

        size += strsize(a->address) + strsize(a->partstat);
    }
    b = p = apr_palloc(pool, size);
    memcpy(p, MAGIC, 4);
    p += 4;
    *p++ = CALCORE_INDEX_VERSION;
    *p++ = (unsigned char)idx->kind;
    *p++ = (unsigned char)idx->status;
    *p++ = (unsigned char)idx->transp;
    p = put32(p, idx->flags);
    p = put64(p, idx->start);
    p = put64(p, idx->end);
    p = put64(p, idx->inst_from);
    p = put64(p, idx->inst_until);
    p = put32(p, idx->max_attendees);
    p = put64(p, (calcore_time_t)idx->floating_zone);
    p = putstr(p, idx->uid);
    p = putstr(p, idx->organizer);
    p = put32(p, (apr_uint32_t)na);
    for (i = 0; i < na; i++) {
        const calcore_attendee_t *a =
            &APR_ARRAY_IDX(idx->attendees, i, calcore_attendee_t);

        p = putstr(p, a->address);
        p = putstr(p, a->partstat);
    }
    p = put32(p, (apr_uint32_t)ni);
    for (i = 0; i < ni; i++) {
        const calcore_index_inst_t *r =
            &APR_ARRAY_IDX(idx->instances, i, calcore_index_inst_t);

        p = put64(p, r->start);
        p = put64(p, r->end);
        p = put64(p, r->recurrence_id);
        *p++ = r->flags;
        *p++ = r->rule;
        *p++ = r->status;
        *p++ = r->transp;
        *p++ = r->fbtype;
    }
    *buf = b;
    *len = (apr_size_t)(p - b);
    return APR_SUCCESS;
}

typedef struct {
    const unsigned char *p, *end;
    int bad;
} reader_t;

static apr_uint32_t get32(reader_t *r)
{
    apr_uint32_t v;

    if (r->bad || r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    v = ((apr_uint32_t)r->p[0] << 24) | ((apr_uint32_t)r->p[1] << 16)
        | ((apr_uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    return v;
}

static apr_int64_t get64(reader_t *r)
{
    apr_uint64_t hi = get32(r), lo = get32(r);

    return (apr_int64_t)((hi << 32) | lo);
}

static unsigned get8(reader_t *r)
{
    if (r->bad || r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static const char *getstr(reader_t *r, apr_pool_t *pool)
{
    apr_uint32_t n = get32(r);
    const char *s;

    if (r->bad || n == NULL_STR) {
        return NULL;
    }
    if ((apr_size_t)(r->end - r->p) < n || memchr(r->p, '\0', n)) {
        r->bad = 1;
        return NULL;
    }
    s = apr_pstrmemdup(pool, (const char *)r->p, n);
    r->p += n;
    return s;
}

static int time_ok(calcore_time_t t)
{
    return t >= CALCORE_TIME_MIN && t <= CALCORE_TIME_MAX;
}

apr_status_t calcore_index_parse(calcore_index_t **out,
                                 const unsigned char *buf, apr_size_t len,
                                 apr_pool_t *pool)
{
    calcore_index_t *idx;
    reader_t r;
    apr_uint32_t n, i;

    *out = NULL;
    if (!buf || len < FIXED_LEN_V1 || memcmp(buf, MAGIC, 4) != 0) {
        return CALCORE_ECORRUPT;
    }
    if (buf[4] != CALCORE_INDEX_VERSION && buf[4] != 1) {
        return CALCORE_EVERSION;
    }
    idx = apr_pcalloc(pool, sizeof(*idx));
    r.p = buf + 5;
    r.end = buf + len;
    r.bad = 0;
    idx->kind = (calcore_comp_e)get8(&r);
    idx->status = (calcore_status_e)get8(&r);
    idx->transp = (calcore_transp_e)get8(&r);
    idx->flags = get32(&r);
    idx->start = get64(&r);
    idx->end = get64(&r);
    idx->inst_from = get64(&r);
    idx->inst_until = get64(&r);
    idx->max_attendees = get32(&r);
    idx->floating_zone = buf[4] == 1 ? CALCORE_TZ_ID_UNKNOWN
                                     : (apr_uint64_t)get64(&r);
    idx->uid = getstr(&r, pool);
    idx->organizer = getstr(&r, pool);
    if (r.bad || !calcore_comp_name(idx->kind)
        || idx->status > CALCORE_STATUS_OTHER
        || idx->transp > CALCORE_TRANSP_TRANSPARENT
        || !time_ok(idx->start) || !time_ok(idx->end)
        || !time_ok(idx->inst_from) || !time_ok(idx->inst_until)
        || !idx->uid) {
        return CALCORE_ECORRUPT;
    }

    n = get32(&r);
    /* each attendee needs at least 8 bytes: no allocation beyond the data */
    if (r.bad || n > (apr_size_t)(r.end - r.p) / 8) {
        return CALCORE_ECORRUPT;
    }
    idx->attendees = apr_array_make(pool, n ? (int)n : 1,
                                    sizeof(calcore_attendee_t));
    for (i = 0; i < n; i++) {
        calcore_attendee_t *a = apr_array_push(idx->attendees);

        a->address = getstr(&r, pool);
        a->partstat = getstr(&r, pool);
        if (r.bad) {
            return CALCORE_ECORRUPT;
        }
    }

    n = get32(&r);
    if (r.bad || n > (apr_size_t)(r.end - r.p) / INST_LEN) {
        return CALCORE_ECORRUPT;
    }
    idx->instances = apr_array_make(pool, n ? (int)n : 1,
                                    sizeof(calcore_index_inst_t));
    for (i = 0; i < n; i++) {
        calcore_index_inst_t *in = apr_array_push(idx->instances);

        in->start = get64(&r);
        in->end = get64(&r);
        in->recurrence_id = get64(&r);
        in->flags = (unsigned char)get8(&r);
        in->rule = (unsigned char)get8(&r);
        in->status = (unsigned char)get8(&r);
        in->transp = (unsigned char)get8(&r);
        in->fbtype = (unsigned char)get8(&r);
        if (r.bad || !time_ok(in->start) || !time_ok(in->end)
            || !time_ok(in->recurrence_id) || in->rule > CALCORE_TR_ALWAYS
            || in->status > CALCORE_STATUS_OTHER
            || in->transp > CALCORE_TRANSP_TRANSPARENT
            || in->fbtype > CALCORE_FB_BUSY_TENTATIVE) {
            return CALCORE_ECORRUPT;
        }
    }
    if (r.p != r.end) {
        return CALCORE_ECORRUPT;
    }
    *out = idx;
    return APR_SUCCESS;
}
