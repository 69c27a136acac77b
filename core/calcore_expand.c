/*
 * calcore_expand.c - recurrence expansion on icalrecur_iterator (see
 * calcore_expand.h for the rules).
 *
 * How it works.  Every component is first reduced to a cinfo_t: its DTSTART
 * as a wall-clock time plus the zone that wall clock runs in (the TZID's
 * zone, UTC, or the caller's floating zone for floating and DATE values),
 * and its duration (exact seconds, or nominal days plus exact seconds).
 * RRULEs are then iterated in wall-clock time: the iterator gets a DTSTART
 * carrying libical's UTC zone only so that its ICU calendar has no DST
 * (libical never sees the real zone, and every UNTIL is converted to the
 * same wall clock first).  Each generated wall time is converted to UTC
 * here (calcore_tz_wall_to_utc: RFC 5545 gap/overlap rules).
 *
 * The master's candidates (DTSTART, RRULE, RDATE) go through the EXDATE/
 * EXRULE exclusions and the override table; survivors overlapping the
 * window are collected, overrides are added, the lot is sorted by start and
 * deduplicated (an RDATE equal to an RRULE instance is one instance), and
 * at most max_instances are reported.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "calcore_expand.h"
#include "calcore_log.h"
#include "calcore_private.h"

#define DAY 86400

/* ---- rule helpers shared with calcore_object.c / calcore_tz.c ----------- */

int calcore__by_count(const short *by, int size)
{
    int n = 0;

    while (n < size && by[n] != ICAL_RECURRENCE_ARRAY_MAX) {
        n++;
    }
    return n;
}

static apr_int64_t floor_div(apr_int64_t a, apr_int64_t b)
{
    apr_int64_t q = a / b;

    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Could the day-level BY parts (BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO,
 * BYDAY without ordinals) of 'r' ever all match one day?  Scans a whole
 * 400-year Gregorian cycle (the calendar repeats after it).  Week numbers
 * are approximated generously (+-1 week), ordinals and BYSETPOS ignored, so
 * this only ever errs towards "feasible".  libical would otherwise search
 * until the year 20000 (seconds per call for sub-daily rules). */
int calcore__rrule_feasible(const struct icalrecurrencetype *r)
{
    int nm = calcore__by_count(r->by_month, ICAL_BY_MONTH_SIZE);
    int nmd = calcore__by_count(r->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    int nyd = calcore__by_count(r->by_year_day, ICAL_BY_YEARDAY_SIZE);
    int nwn = calcore__by_count(r->by_week_no, ICAL_BY_WEEKNO_SIZE);
    int nd = calcore__by_count(r->by_day, ICAL_BY_DAY_SIZE);
    unsigned char month[13] = { 0 }, wday[8] = { 0 };
    unsigned char mday[64] = { 0 }, yday[800] = { 0 }, wno[120] = { 0 };
    apr_int64_t y;
    int i;

    if (r->rscale || (nm > 0) + (nmd > 0) + (nyd > 0) + (nwn > 0) + (nd > 0)
                     < 2) {
        return 1;
    }
    for (i = 0; i < nm; i++) {
        int m = icalrecurrencetype_month_month(r->by_month[i]);

        if (m >= 1 && m <= 12) {
            month[m] = 1;
        }
    }
    for (i = 0; i < nmd; i++) {
        int d = r->by_month_day[i];

        if (d >= -31 && d <= 31) {
            mday[d + 32] = 1;
        }
    }
    for (i = 0; i < nyd; i++) {
        int d = r->by_year_day[i];

        if (d >= -366 && d <= 366) {
            yday[d + 400] = 1;
        }
    }
    for (i = 0; i < nwn; i++) {
        int w = r->by_week_no[i];

        if (w >= -53 && w <= 53) {
            wno[w + 60] = 1;
        }
    }
    for (i = 0; i < nd; i++) {
        int wd = icalrecurrencetype_day_day_of_week(r->by_day[i]);

        if (wd >= 1 && wd <= 7) {
            wday[wd] = 1;
        }
    }
    for (y = 2000; y < 2400; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int diy = 365 + leap, yd = 0, m;
        apr_int64_t d0 = calcore__days_from_civil(y, 1, 1);

        for (m = 1; m <= 12; m++) {
            int dim = icaltime_days_in_month(m, (int)y), d;

            if (nm && !month[m]) {
                yd += dim;
                continue;
            }
            for (d = 1; d <= dim; d++) {
                apr_int64_t days = d0 + yd;
                int wd = (int)((days % 7 + 7 + 4) % 7) + 1; /* 1 = SU */

                yd++;
                if (nmd && !mday[d + 32] && !mday[d - dim - 1 + 32]) {
                    continue;
                }
                if (nyd && !yday[yd + 400] && !yday[yd - diy - 1 + 400]) {
                    continue;
                }
                if (nd && !wday[wd]) {
                    continue;
                }
                if (nwn) {
                    int w = (yd + 6) / 7, k, hit = 0;

                    for (k = w - 2; k <= w + 2 && !hit; k++) {
                        if (k >= 1 && k <= 53
                            && (wno[k + 60] || wno[k - 54 + 60]
                                || wno[k - 53 + 60])) {
                            hit = 1;
                        }
                    }
                    if (!hit) {
                        continue;
                    }
                }
                return 1;
            }
        }
    }
    return 0;
}

/* ---- per-component facts ------------------------------------------------ */

typedef enum { DUR_ZERO, DUR_EXACT, DUR_NOMINAL } dur_kind_e;

typedef struct {
    icalcomponent *comp;
    int none;                    /* yields no instance                    */
    int has_start;
    int is_date;
    int is_floating;
    const icaltimezone *zone;    /* wall clock of the instances           */
    calcore_time_t start;        /* DTSTART, UTC                          */
    calcore_time_t wall;         /* DTSTART, wall-clock seconds           */
    dur_kind_e dk;
    apr_int64_t secs, days;
    calcore_tr_e rule_pos;       /* rule when end > start                 */
    calcore_tr_e rule_zero;      /* rule when end == start                */
    int fixed;                   /* no DTSTART: fixed times below          */
    calcore_time_t fstart, fend;
    calcore_tr_e frule;
    calcore_time_t rid;          /* override: RECURRENCE-ID, UTC          */
    int rid_by_day;              /* override: match by local date          */
    apr_int64_t rid_day;
} cinfo_t;

/* The recurrence set being expanded: a whole object, or a group of
 * sub-components (calcore_expand_components). */
typedef struct {
    const calcore_tzset_t *tzset;
    const apr_array_header_t *comps;   /* icalcomponent *, master included */
    icalcomponent *master;             /* no RECURRENCE-ID, or NULL        */
    int recurring;
    const char *uid;                   /* for log messages                 */
} xset_t;

typedef struct {
    const char *uid;
    const calcore_tzset_t *tzset;
    const icaltimezone *floating;
    apr_pool_t *pool;
    cinfo_t *master;
    int master_recurring;
    cinfo_t *ovs;                /* overrides, sorted by rid              */
    int novs;
    int any_by_day;              /* an override matches by local date     */
    calcore_time_t *ex;          /* EXDATE/EXRULE, UTC, sorted            */
    int nex;
    apr_int64_t *exday;          /* EXDATEs matched by local date, sorted */
    int nexday;
    calcore_time_t ws, we;
    unsigned max_inst, max_steps, steps;
    apr_time_t deadline;
    apr_array_header_t *out;     /* calcore_instance_t                    */
    int truncated, more_after;
    calcore_time_t complete_until;
    /* span mode */
    int span_mode, span_any, span_unbounded, span_truncated;
    calcore_time_t span_start, span_end;
    unsigned span_offers;        /* instances offered                     */
    /* recording (calcore__expand_memo_t): every offer, in order */
    apr_array_header_t *rec;     /* rec_entry_t, or NULL                  */
    int rec_stream;              /* stream of the offers being made        */
    int rec_overflow;            /* more than REC_MAX offers               */
    int has_exrule;              /* the master has an EXRULE               */
    int rule_can_jump;           /* an RRULE without COUNT (run_rule may
                                    jump ahead to the window)             */
} xctx_t;

/* One recorded offer(): what a window-mode walk with any window the
 * recording covers offers, in the same order (see calcore_expand()). */
typedef struct {
    calcore_instance_t in;
    int sorted;
    int stream;                  /* -1: no stream count                   */
} rec_entry_t;

/* Most offers recorded (larger sets are walked again). */
#define REC_MAX 4096

static apr_status_t prop_tt(const xctx_t *x, icalproperty *p,
                            struct icaltimetype *tt,
                            struct icalperiodtype *per)
{
    if (calcore_tz_prop_time(x->tzset, p, tt, per, NULL) == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* Only for loaded (not validated) objects: an unresolvable TZID makes
     * the value floating. */
    if (icalproperty_get_value(p)
        && (icalvalue_isa(icalproperty_get_value(p)) == ICAL_DATETIME_VALUE
            || icalvalue_isa(icalproperty_get_value(p)) == ICAL_DATE_VALUE)) {
        *tt = icalvalue_get_datetime(icalproperty_get_value(p));
        tt->zone = NULL;
        if (per) {
            per->start = icaltime_null_time();
            per->end = icaltime_null_time();
        }
        return icaltime_is_null_time(*tt) ? CALCORE_EINVALID : APR_SUCCESS;
    }
    return CALCORE_EINVALID;
}

/* UTC of a value of the recurrence set (RDATE, EXDATE, RECURRENCE-ID): a
 * floating DATE-TIME next to a DTSTART with a TZID is read in that zone
 * (clients that forget the TZID mean the DTSTART's). */
static calcore_time_t set_value_utc(const xctx_t *x, const cinfo_t *m,
                                    struct icaltimetype tt)
{
    if (!tt.is_date && !tt.zone && m && m->has_start && !m->is_date
        && !m->is_floating) {
        return calcore_tz_wall_to_utc(calcore_tz_wall_seconds(tt), m->zone);
    }
    return calcore_tz_to_utc(tt, x->floating);
}

static calcore_time_t prop_utc(const xctx_t *x, icalcomponent *c,
                               icalproperty_kind kind, int *found)
{
    icalproperty *p = icalcomponent_get_first_property(c, kind);
    struct icaltimetype tt;

    *found = 0;
    if (!p || prop_tt(x, p, &tt, NULL)) {
        return 0;
    }
    *found = 1;
    return calcore_tz_to_utc(tt, x->floating);
}

static void set_duration(cinfo_t *ci, struct icaldurationtype d)
{
    if (d.is_neg) {
        ci->dk = DUR_ZERO;
        return;
    }
    ci->dk = DUR_NOMINAL;
    ci->days = (apr_int64_t)d.weeks * 7 + d.days;
    ci->secs = (apr_int64_t)d.hours * 3600 + d.minutes * 60 + d.seconds;
    if (!ci->days && !ci->secs) {
        ci->dk = DUR_ZERO;
    }
}

/* Duration from DTSTART to an end property (DTEND, DUE). */
static void set_end(const xctx_t *x, cinfo_t *ci, icalproperty *p)
{
    struct icaltimetype et;

    if (prop_tt(x, p, &et, NULL)) {
        ci->dk = ci->is_date ? DUR_NOMINAL : DUR_ZERO;
        ci->days = 1;
        return;
    }
    if (ci->is_date && et.is_date) {
        ci->dk = DUR_NOMINAL;
        ci->days = floor_div(calcore_tz_wall_seconds(et) - ci->wall, DAY);
        ci->secs = 0;
        if (ci->days <= 0) {
            ci->days = 1;        /* DTEND == DTSTART on an all-day event */
        }
        return;
    }
    ci->dk = DUR_EXACT;
    ci->secs = calcore_tz_to_utc(et, x->floating) - ci->start;
    if (ci->secs <= 0) {
        ci->secs = 0;
        ci->dk = DUR_ZERO;
    }
}

static void prepare(const xctx_t *x, icalcomponent *c, cinfo_t *ci)
{
    icalcomponent_kind k = icalcomponent_isa(c);
    icalproperty *p;
    int f1, f2;

    memset(ci, 0, sizeof(*ci));
    ci->comp = c;
    ci->rule_pos = CALCORE_TR_INTERVAL;
    ci->rule_zero = CALCORE_TR_POINT;
    p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
    if (p) {
        struct icaltimetype tt;

        if (prop_tt(x, p, &tt, NULL) == APR_SUCCESS) {
            ci->has_start = 1;
            ci->is_date = tt.is_date;
            ci->is_floating = !tt.is_date && !tt.zone;
            ci->zone = (tt.is_date || !tt.zone) ? x->floating : tt.zone;
            ci->wall = calcore_tz_wall_seconds(tt);
            ci->start = calcore_tz_to_utc(tt, x->floating);
        }
    }

    switch (k) {
    case ICAL_VEVENT_COMPONENT:
    case ICAL_XAVAILABLE_COMPONENT:   /* AVAILABLE (RFC 7953): as VEVENT */
    case ICAL_VJOURNAL_COMPONENT:
        if (!ci->has_start) {
            ci->none = 1;
            break;
        }
        if (k != ICAL_VJOURNAL_COMPONENT
            && (p = icalcomponent_get_first_property(c,
                                                     ICAL_DTEND_PROPERTY))) {
            set_end(x, ci, p);
        }
        else if (k != ICAL_VJOURNAL_COMPONENT
                 && (p = icalcomponent_get_first_property(
                             c, ICAL_DURATION_PROPERTY))) {
            set_duration(ci, icalproperty_get_duration(p));
        }
        else if (ci->is_date) {
            ci->dk = DUR_NOMINAL;
            ci->days = 1;
        }
        break;

    case ICAL_VTODO_COMPONENT:
        if (ci->has_start) {
            if ((p = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY))) {
                set_end(x, ci, p);
                ci->rule_zero = CALCORE_TR_CLOSED;
            }
            else if ((p = icalcomponent_get_first_property(
                              c, ICAL_DURATION_PROPERTY))) {
                set_duration(ci, icalproperty_get_duration(p));
                ci->rule_pos = CALCORE_TR_CLOSED_END;
                ci->rule_zero = CALCORE_TR_CLOSED;
            }
            break;
        }
        ci->fixed = 1;
        {
            calcore_time_t due = prop_utc(x, c, ICAL_DUE_PROPERTY, &f1);
            calcore_time_t co, cr;

            if (f1) {
                ci->fstart = ci->fend = due;
                ci->frule = CALCORE_TR_DUE;
                break;
            }
            co = prop_utc(x, c, ICAL_COMPLETED_PROPERTY, &f1);
            cr = prop_utc(x, c, ICAL_CREATED_PROPERTY, &f2);
            if (f1 && f2) {
                ci->fstart = co < cr ? co : cr;
                ci->fend = co < cr ? cr : co;
                ci->frule = CALCORE_TR_CLOSED;
            }
            else if (f1) {
                ci->fstart = ci->fend = co;
                ci->frule = CALCORE_TR_CLOSED;
            }
            else if (f2) {
                ci->fstart = cr;
                ci->fend = CALCORE_TIME_MAX;
                ci->frule = CALCORE_TR_AFTER;
            }
            else {
                ci->fstart = CALCORE_TIME_MIN;
                ci->fend = CALCORE_TIME_MAX;
                ci->frule = CALCORE_TR_ALWAYS;
            }
        }
        break;

    case ICAL_VFREEBUSY_COMPONENT:
        /* RFC 4791 9.9: DTSTART and DTEND both present -> that interval;
         * otherwise the FREEBUSY periods (their hull here; the filter
         * tests each period). */
        ci->rule_pos = CALCORE_TR_CLOSED_END;
        ci->rule_zero = CALCORE_TR_CLOSED;
        if (ci->has_start
            && (p = icalcomponent_get_first_property(c,
                                                     ICAL_DTEND_PROPERTY))) {
            set_end(x, ci, p);
            break;
        }
        ci->has_start = 0;
        ci->fixed = 1;
        ci->fstart = CALCORE_TIME_MAX;
        ci->fend = CALCORE_TIME_MIN;
        ci->frule = CALCORE_TR_INTERVAL;
        for (p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY);
             p; p = icalcomponent_get_next_property(c,
                                                    ICAL_FREEBUSY_PROPERTY)) {
            struct icalperiodtype per = icalproperty_get_freebusy(p);
            calcore_time_t s, e;

            if (icaltime_is_null_time(per.start)) {
                continue;
            }
            s = calcore_tz_to_utc(per.start, x->floating);
            if (!icaltime_is_null_time(per.end)) {
                e = calcore_tz_to_utc(per.end, x->floating);
            }
            else {
                e = calcore__add(s, icaldurationtype_as_int(per.duration));
            }
            if (s < ci->fstart) {
                ci->fstart = s;
            }
            if (e > ci->fend) {
                ci->fend = e;
            }
        }
        if (ci->fstart > ci->fend) {
            ci->none = 1;
        }
        break;

    case ICAL_VAVAILABILITY_COMPONENT:
    default:
        ci->fixed = 1;
        ci->frule = CALCORE_TR_INTERVAL;
        ci->fstart = ci->has_start ? ci->start : CALCORE_TIME_MIN;
        ci->fend = CALCORE_TIME_MAX;
        if ((p = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY))) {
            ci->fend = prop_utc(x, c, ICAL_DTEND_PROPERTY, &f1);
            if (!f1) {
                ci->fend = CALCORE_TIME_MAX;
            }
        }
        else if (ci->has_start
                 && (p = icalcomponent_get_first_property(
                             c, ICAL_DURATION_PROPERTY))) {
            ci->fend = calcore__add(ci->start, icaldurationtype_as_int(
                                        icalproperty_get_duration(p)));
        }
        if (ci->fend < ci->fstart) {
            ci->fend = ci->fstart;
        }
        break;
    }
}

/* End of an instance starting at 'start' (UTC) / 'wall'. */
static calcore_time_t inst_end(const cinfo_t *ci, calcore_time_t start,
                               calcore_time_t wall)
{
    calcore_time_t e;

    switch (ci->dk) {
    case DUR_EXACT:
        return calcore__add(start, ci->secs);
    case DUR_NOMINAL:
        e = ci->days ? calcore_tz_wall_to_utc(
                           calcore__add(wall, ci->days * DAY), ci->zone)
                     : start;
        e = calcore__add(e, ci->secs);
        return e < start ? start : e;
    case DUR_ZERO:
    default:
        return start;
    }
}

/* Upper bound of an instance's length. */
static apr_int64_t max_duration(const cinfo_t *ci)
{
    switch (ci->dk) {
    case DUR_EXACT:
        return ci->secs;
    case DUR_NOMINAL:
        return ci->days * DAY + ci->secs + 2 * 3600;
    default:
        return 0;
    }
}

static unsigned base_flags(const cinfo_t *ci)
{
    return (ci->is_date ? CALCORE_INST_DATE : 0)
           | (ci->is_floating ? CALCORE_INST_FLOATING : 0);
}

/* ---- overlap ------------------------------------------------------------ */

int calcore_instance_overlaps(const calcore_instance_t *i, calcore_time_t qs,
                              calcore_time_t qe)
{
    switch (i->rule) {
    case CALCORE_TR_INTERVAL:
        return i->start < qe && i->end > qs;
    case CALCORE_TR_POINT:
        return qs <= i->start && i->start < qe;
    case CALCORE_TR_CLOSED_END:
        return qs <= i->end && qe > i->start;
    case CALCORE_TR_CLOSED:
        return qs <= i->end && qe >= i->start;
    case CALCORE_TR_DUE:
        return qs < i->end && qe >= i->end;
    case CALCORE_TR_AFTER:
        return qe > i->start;
    case CALCORE_TR_ALWAYS:
    default:
        return 1;
    }
}

/* ---- collecting --------------------------------------------------------- */

static int bsearch_time(const calcore_time_t *a, int n, calcore_time_t v)
{
    int lo = 0, hi = n;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (a[mid] == v) {
            return 1;
        }
        if (a[mid] < v) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    calcore_time_t x = *(const calcore_time_t *)a;
    calcore_time_t y = *(const calcore_time_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_ov(const void *a, const void *b)
{
    const cinfo_t *x = a, *y = b;

    return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static int cmp_inst(const void *a, const void *b)
{
    const calcore_instance_t *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->recurrence_id != y->recurrence_id) {
        return x->recurrence_id < y->recurrence_id ? -1 : 1;
    }
    /* overrides first, then the longer instance (a PERIOD RDATE) */
    if ((x->flags ^ y->flags) & CALCORE_INST_OVERRIDE) {
        return (x->flags & CALCORE_INST_OVERRIDE) ? -1 : 1;
    }
    return x->end > y->end ? -1 : x->end < y->end;
}

static int overridden(const xctx_t *x, calcore_time_t rid,
                      calcore_time_t rid_wall)
{
    int lo = 0, hi = x->novs, i;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (x->ovs[mid].rid < rid) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    for (i = lo; i < x->novs && x->ovs[i].rid == rid; i++) {
        if (!x->ovs[i].rid_by_day) {
            return 1;
        }
    }
    if (x->any_by_day) {
        apr_int64_t day = floor_div(rid_wall, DAY);

        for (i = 0; i < x->novs; i++) {
            if (x->ovs[i].rid_by_day && x->ovs[i].rid_day == day) {
                return 1;
            }
        }
    }
    return 0;
}

static void widen(const calcore_instance_t *in, calcore_time_t *s,
                  calcore_time_t *e)
{
    *s = in->start;
    *e = in->end;
    if (in->rule == CALCORE_TR_AFTER) {
        *e = CALCORE_TIME_MAX;
    }
    else if (in->rule == CALCORE_TR_ALWAYS) {
        *s = CALCORE_TIME_MIN;
        *e = CALCORE_TIME_MAX;
    }
}

/* Offer one instance.  Returns 1 when a sorted stream should stop. */
static int offer(xctx_t *x, const calcore_instance_t *in, int sorted,
                 unsigned *stream_count)
{
    if (x->rec) {
        if (x->rec->nelts < REC_MAX) {
            rec_entry_t *e = apr_array_push(x->rec);

            e->in = *in;
            e->sorted = sorted;
            e->stream = stream_count ? x->rec_stream : -1;
        }
        else {
            x->rec_overflow = 1;
        }
    }
    if (x->span_mode) {
        calcore_time_t s, e;

        widen(in, &s, &e);
        if (!x->span_any || s < x->span_start) {
            x->span_start = s;
        }
        if (!x->span_any || e > x->span_end) {
            x->span_end = e;
        }
        x->span_any = 1;
        if (x->span_offers < UINT_MAX) {
            x->span_offers++;
        }
        return 0;
    }
    if (!calcore_instance_overlaps(in, x->ws, x->we)) {
        if (in->start >= x->we && x->we < CALCORE_TIME_MAX) {
            x->more_after = 1;
            return sorted;
        }
        return 0;
    }
    APR_ARRAY_PUSH(x->out, calcore_instance_t) = *in;
    if (stream_count && ++*stream_count > x->max_inst) {
        x->truncated = 1;
        if (in->start < x->complete_until) {
            x->complete_until = in->start;
        }
        return 1;
    }
    return 0;
}

/* A master candidate: apply EXDATE/EXRULE and overrides, then offer. */
static int offer_master(xctx_t *x, calcore_time_t rid, calcore_time_t wall,
                        calcore_time_t start, calcore_time_t end,
                        unsigned flags, int sorted, unsigned *stream_count)
{
    calcore_instance_t in;
    const cinfo_t *m = x->master;

    if (x->nex && bsearch_time(x->ex, x->nex, rid)) {
        return 0;
    }
    if (x->nexday) {
        apr_int64_t day = floor_div(wall, DAY);
        int lo = 0, hi = x->nexday;

        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;

            if (x->exday[mid] == day) {
                return 0;
            }
            if (x->exday[mid] < day) {
                lo = mid + 1;
            }
            else {
                hi = mid;
            }
        }
    }
    if (x->novs && overridden(x, rid, wall)) {
        return 0;
    }
    in.start = start;
    in.end = end < start ? start : end;
    in.recurrence_id = rid;
    in.comp = m->comp;
    in.flags = flags | base_flags(m)
               | (x->master_recurring ? CALCORE_INST_RECURRING : 0);
    in.rule = in.end > in.start ? m->rule_pos : m->rule_zero;
    return offer(x, &in, sorted, stream_count);
}

static int over_budget(xctx_t *x)
{
    if (++x->steps > x->max_steps) {
        return 1;
    }
    if ((x->steps & 255) == 0 && apr_time_now() > x->deadline) {
        return 1;
    }
    return 0;
}

/* Where to restart a rule without COUNT so that it reaches 'lo_wall'
 * quickly: DTSTART plus a whole number of periods (aligned with INTERVAL,
 * and with whole days for sub-daily rules, which libical's set_start
 * aligns by hour/minute/second of day only), one period early. */
static int compute_jump(const struct icalrecurrencetype *r, const cinfo_t *m,
                        calcore_time_t lo_wall, struct icaltimetype *j)
{
    apr_int64_t iv = r->interval > 0 ? r->interval : 1;
    apr_int64_t d0 = floor_div(m->wall, DAY), dl = floor_div(lo_wall, DAY) - 1;
    apr_int64_t tod = m->wall - d0 * DAY, jd, n, y0, yl;
    unsigned m0, ml, dd;

    if (dl <= d0 + 2) {
        return 0;
    }
    calcore__civil_from_days(d0, &y0, &m0, &dd);
    calcore__civil_from_days(dl, &yl, &ml, &dd);
    switch (r->freq) {
    case ICAL_YEARLY_RECURRENCE:
        n = (yl - y0) / iv - 1;
        if (n <= 0) {
            return 0;
        }
        jd = calcore__days_from_civil(y0 + n * iv, 1, 1);
        break;
    case ICAL_MONTHLY_RECURRENCE: {
        apr_int64_t mi0 = y0 * 12 + (m0 - 1), mil = yl * 12 + (ml - 1), t;

        n = (mil - mi0) / iv - 1;
        if (n <= 0) {
            return 0;
        }
        t = mi0 + n * iv;
        jd = calcore__days_from_civil(t / 12, (unsigned)(t % 12) + 1, 1);
        break;
    }
    case ICAL_WEEKLY_RECURRENCE:
        n = (dl - d0) / (7 * iv) - 1;
        if (n <= 0) {
            return 0;
        }
        jd = d0 + n * 7 * iv;
        break;
    case ICAL_DAILY_RECURRENCE:
    case ICAL_HOURLY_RECURRENCE:
    case ICAL_MINUTELY_RECURRENCE:
    case ICAL_SECONDLY_RECURRENCE:
        n = (dl - d0) / iv - 1;
        if (n <= 0) {
            return 0;
        }
        jd = d0 + n * iv;
        break;
    default:
        return 0;
    }
    *j = calcore_tz_wall_to_icaltime(jd * DAY + (m->is_date ? 0 : tod),
                                     m->is_date);
    j->zone = icaltimezone_get_utc_timezone();
    return 1;
}

/* Is 'p' an RRULE without COUNT and UNTIL? */
static int rule_unbounded(icalproperty *p)
{
    struct icalrecurrencetype r = icalvalue_get_recur(
                                      icalproperty_get_value(p));

    return r.count == 0 && icaltime_is_null_time(r.until);
}

/* Iterate one RRULE (or EXRULE) of the master over its instances that can
 * overlap [x->ws, x->we).  EXRULE instances go to the exclusion list
 * (exr != NULL).  Sets *budget_hit when the step or time budget ran out; an
 * RRULE then marks the result truncated at the last start it generated. */
static void run_rule(xctx_t *x, icalproperty *p, apr_array_header_t *exr,
                     int *budget_hit)
{
    const cinfo_t *m = x->master;
    struct icalrecurrencetype r = icalvalue_get_recur(
                                      icalproperty_get_value(p));
    struct icaltimetype dt, t = icaltime_null_time(), jump;
    icalrecur_iterator *it;
    calcore_time_t lo;
    unsigned stream = 0;
    int produced = 0, dtstart_matched = 1;
    int unbounded = r.count == 0 && icaltime_is_null_time(r.until);

    if (!exr && r.count == 0 && !r.rscale) {
        x->rule_can_jump = 1;
    }

    dt = calcore_tz_wall_to_icaltime(m->wall, m->is_date);
    dt.zone = icaltimezone_get_utc_timezone();
    if (!icaltime_is_null_time(r.until)) {
        struct icaltimetype u = r.until;

        if (u.is_date && !dt.is_date) {
            u.is_date = 0;
            u.hour = 23;
            u.minute = 59;
            u.second = 59;
        }
        else if (!u.is_date && icaltime_is_utc(u)) {
            u = calcore_tz_wall_to_icaltime(
                    calcore_tz_utc_to_wall(calcore_tz_wall_seconds(u),
                                           m->zone), 0);
        }
        u.zone = dt.zone;
        r.until = u;
    }
    it = icalrecur_iterator_new(r, dt);
    if (!it) {
        calcore_log(CALCORE_LOG_DEBUG, APR_SUCCESS, "libical refused a "
                    "recurrence rule of UID %s",
                    x->uid ? x->uid : "?");
        return;
    }
    lo = x->span_mode ? CALCORE_TIME_MIN
                      : calcore__add(x->ws, -(max_duration(m) + 2 * DAY));
    if (r.count == 0 && !r.rscale && lo > calcore__add(m->start, 3 * DAY)
        && compute_jump(&r, m, calcore_tz_utc_to_wall(lo, m->zone), &jump)) {
        (void)icalrecur_iterator_set_start(it, jump);
    }

    for (;;) {
        calcore_time_t wall, start;

        if (over_budget(x)) {
            *budget_hit = 1;
            break;
        }
        t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t)) {
            break;
        }
        produced++;
        wall = calcore_tz_wall_seconds(t);
        start = calcore_tz_wall_to_utc(wall, m->zone);
        if (r.count > 0) {
            /* DTSTART counts as the first instance even when the rule does
             * not produce it; libical then yields COUNT others. */
            if (produced == 1) {
                dtstart_matched = wall == m->wall;
            }
            if (!dtstart_matched && produced >= r.count) {
                break;
            }
        }
        if (exr) {
            if (start >= x->we) {
                break;
            }
            APR_ARRAY_PUSH(exr, calcore_time_t) = start;
            continue;
        }
        if (offer_master(x, start, wall, start, inst_end(m, start, wall), 0,
                         1, &stream)) {
            break;
        }
        if (x->span_mode && unbounded && x->span_any) {
            break;               /* later instances only start later */
        }
    }
    if (*budget_hit && !exr) {
        calcore_time_t at = produced ? calcore_tz_wall_to_utc(
                                           calcore_tz_wall_seconds(t),
                                           m->zone)
                                     : x->ws;

        x->truncated = 1;
        if (at < x->complete_until) {
            x->complete_until = at;
        }
    }
    icalrecur_iterator_free(it);
}

/* The effective limits of 'opts' (calcore_expand.h). */
static void budgets(const calcore_expand_opts_t *opts, unsigned *max_inst,
                    unsigned *max_steps, apr_interval_time_t *max_time)
{
    *max_inst = opts && opts->max_instances ? opts->max_instances
                                            : CALCORE_MAX_INSTANCES_HARD;
    *max_steps = opts && opts->max_steps ? opts->max_steps
                                         : 2 * *max_inst + 1000;
    *max_time = opts && opts->max_time ? opts->max_time
                                       : apr_time_from_sec(2);
}

/* Load master facts, overrides and exclusions into x. */
static void setup(xctx_t *x, const xset_t *set,
                  const calcore_expand_opts_t *opts, apr_pool_t *pool)
{
    const apr_array_header_t *comps = set->comps;
    icalcomponent *mc = set->master;
    apr_interval_time_t max_time;
    int i;

    memset(x, 0, sizeof(*x));
    x->uid = set->uid;
    x->tzset = set->tzset;
    x->floating = opts ? opts->floating : NULL;
    x->pool = pool;
    budgets(opts, &x->max_inst, &x->max_steps, &max_time);
    x->deadline = apr_time_now() + max_time;
    if (!mc) {
        /* Only overrides: one with an RRULE acts as the master. */
        for (i = 0; i < comps->nelts; i++) {
            icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);

            if (icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY)) {
                mc = c;
                break;
            }
        }
    }
    if (mc) {
        x->master = apr_palloc(pool, sizeof(cinfo_t));
        prepare(x, mc, x->master);
        x->master_recurring = set->recurring;
    }
    x->ovs = apr_palloc(pool, sizeof(cinfo_t) * comps->nelts);
    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);
        icalproperty *rp;
        cinfo_t *ov;
        struct icaltimetype rt;

        if (c == mc || !(rp = icalcomponent_get_first_property(
                                  c, ICAL_RECURRENCEID_PROPERTY))
            || prop_tt(x, rp, &rt, NULL)) {
            continue;
        }
        ov = &x->ovs[x->novs++];
        prepare(x, c, ov);
        ov->rid = set_value_utc(x, x->master, rt);
        if (x->master && x->master->has_start
            && rt.is_date != x->master->is_date) {
            /* DATE vs DATE-TIME: match the master's instance by date */
            ov->rid_by_day = 1;
            x->any_by_day = 1;
            ov->rid_day = rt.is_date
                          ? floor_div(calcore_tz_wall_seconds(rt), DAY)
                          : floor_div(calcore_tz_utc_to_wall(
                                          ov->rid, x->master->zone), DAY);
        }
        if (!ov->has_start && !ov->fixed) {
            /* no DTSTART: the instance stays where the master had it */
            ov->has_start = 1;
            ov->start = ov->rid;
            ov->none = 0;
            if (x->master) {
                ov->zone = x->master->zone;
                ov->is_date = x->master->is_date;
                ov->dk = x->master->dk;
                ov->secs = x->master->secs;
                ov->days = x->master->days;
                ov->rule_pos = x->master->rule_pos;
                ov->rule_zero = x->master->rule_zero;
            }
            ov->wall = calcore_tz_utc_to_wall(ov->rid, ov->zone);
        }
    }
    if (x->novs > 1) {
        qsort(x->ovs, x->novs, sizeof(cinfo_t), cmp_ov);
    }
}

static void load_exclusions(xctx_t *x)
{
    const cinfo_t *m = x->master;
    icalcomponent *c = m->comp;
    icalproperty *p;
    apr_array_header_t *ex = apr_array_make(x->pool, 8,
                                            sizeof(calcore_time_t));
    apr_array_header_t *exd = apr_array_make(x->pool, 4,
                                             sizeof(apr_int64_t));

    x->has_exrule = icalcomponent_get_first_property(
                        c, ICAL_EXRULE_PROPERTY) != NULL;

    for (p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
        struct icaltimetype tt;

        if (prop_tt(x, p, &tt, NULL)) {
            continue;
        }
        if (tt.is_date != m->is_date) {
            APR_ARRAY_PUSH(exd, apr_int64_t) =
                floor_div(calcore_tz_wall_seconds(tt), DAY);
        }
        else {
            APR_ARRAY_PUSH(ex, calcore_time_t) = set_value_utc(x, m, tt);
        }
    }
    /* EXRULE (deprecated by RFC 5545, still accepted): its instances in
     * the window become exclusions.  It gets a step budget of its own and
     * running out of it only makes the result larger, never truncated.  A
     * span ignores EXRULE (it stays a safe superset). */
    for (p = icalcomponent_get_first_property(c, ICAL_EXRULE_PROPERTY);
         p && !x->span_mode;
         p = icalcomponent_get_next_property(c, ICAL_EXRULE_PROPERTY)) {
        unsigned saved = x->steps;
        int hit = 0;

        x->steps = 0;
        run_rule(x, p, ex, &hit);
        x->steps = saved;
    }
    if (ex->nelts) {
        qsort(ex->elts, ex->nelts, sizeof(calcore_time_t), cmp_time);
        x->ex = (calcore_time_t *)ex->elts;
        x->nex = ex->nelts;
    }
    if (exd->nelts) {
        qsort(exd->elts, exd->nelts, sizeof(apr_int64_t), cmp_time);
        x->exday = (apr_int64_t *)exd->elts;
        x->nexday = exd->nelts;
    }
}

static void run_rdates(xctx_t *x)
{
    const cinfo_t *m = x->master;
    icalcomponent *c = m->comp;
    icalproperty *p;

    for (p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
        struct icaltimetype tt;
        struct icalperiodtype per;
        calcore_time_t s, e, wall;

        if (prop_tt(x, p, &tt, &per)) {
            continue;
        }
        s = set_value_utc(x, m, tt);
        wall = tt.is_date ? calcore_tz_wall_seconds(tt)
                          : calcore_tz_utc_to_wall(s, m->zone);
        if (!icaltime_is_null_time(per.start)) {
            if (!icaltime_is_null_time(per.end)) {
                e = set_value_utc(x, m, per.end);
            }
            else {
                cinfo_t tmp = *m;

                set_duration(&tmp, per.duration);
                e = inst_end(&tmp, s, wall);
            }
        }
        else {
            e = inst_end(m, s, wall);
        }
        offer_master(x, s, wall, s, e, CALCORE_INST_RDATE, 0, NULL);
    }
}

static void run_overrides(xctx_t *x)
{
    int i;

    for (i = 0; i < x->novs; i++) {
        const cinfo_t *ov = &x->ovs[i];
        calcore_instance_t in;

        if (ov->none) {
            continue;
        }
        in.comp = ov->comp;
        in.recurrence_id = ov->rid;
        in.flags = CALCORE_INST_OVERRIDE | CALCORE_INST_RECURRING
                   | base_flags(ov);
        if (ov->fixed) {
            in.start = ov->fstart;
            in.end = ov->fend;
            in.rule = ov->frule;
        }
        else {
            in.start = ov->start;
            in.end = inst_end(ov, ov->start, ov->wall);
            in.rule = in.end > in.start ? ov->rule_pos : ov->rule_zero;
        }
        offer(x, &in, 0, NULL);
    }
}

/* Collect everything into x (window or span mode). */
static void collect(xctx_t *x)
{
    cinfo_t *m = x->master;

    if (m && !m->none) {
        if (m->fixed) {
            calcore_instance_t in;

            in.start = m->fstart;
            in.end = m->fend;
            in.recurrence_id = m->fstart;
            in.comp = m->comp;
            in.flags = 0;
            in.rule = m->frule;
            if (!(x->novs && overridden(x, in.start, in.start))) {
                offer(x, &in, 0, NULL);
            }
        }
        else {
            icalproperty *p;
            icalcomponent *c = m->comp;
            unsigned stream = 0;

            load_exclusions(x);
            /* DTSTART is always the first instance. */
            x->rec_stream = 0;
            offer_master(x, m->start, m->wall, m->start,
                         inst_end(m, m->start, m->wall), 0, 0, &stream);
            for (p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
                 p; p = icalcomponent_get_next_property(c,
                                                        ICAL_RRULE_PROPERTY)) {
                int hit = 0;

                if (x->span_mode && rule_unbounded(p)) {
                    x->span_unbounded = 1;
                }
                x->rec_stream++;
                run_rule(x, p, NULL, &hit);
                if (hit && x->span_mode) {
                    x->span_truncated = 1;
                }
            }
            run_rdates(x);
        }
    }
    run_overrides(x);
}

static apr_status_t report(xctx_t *x, calcore_instance_cb *cb, void *baton,
                           calcore_expand_result_t *res)
{
    calcore_instance_t *a = (calcore_instance_t *)x->out->elts;
    int n = x->out->nelts, i, w = 0;
    unsigned count = 0;
    apr_status_t rv = APR_SUCCESS;

    if (n > 1) {
        qsort(a, n, sizeof(*a), cmp_inst);
        /* one instance per recurrence-id among the master's candidates */
        for (i = 0; i < n; i++) {
            if (w && !(a[i].flags & CALCORE_INST_OVERRIDE)
                && !(a[w - 1].flags & CALCORE_INST_OVERRIDE)
                && a[w - 1].recurrence_id == a[i].recurrence_id
                && a[w - 1].start == a[i].start) {
                continue;
            }
            a[w++] = a[i];
        }
        n = w;
    }
    for (i = 0; i < n; i++) {
        if (count == x->max_inst) {
            x->truncated = 1;
            if (a[i].start < x->complete_until) {
                x->complete_until = a[i].start;
            }
            break;
        }
        if (x->truncated && a[i].start >= x->complete_until) {
            break;               /* beyond what a stream could complete */
        }
        count++;
        if (cb && (rv = cb(baton, &a[i])) != APR_SUCCESS) {
            break;
        }
    }
    if (res) {
        res->count = count;
        res->truncated = x->truncated;
        res->complete_until = x->complete_until;
        res->more_after = x->more_after;
    }
    return rv;
}

static void object_set(xset_t *set, const calcore_object_t *obj)
{
    set->tzset = calcore_object_tzset(obj);
    set->comps = calcore_object_components(obj);
    set->master = calcore_object_master(obj);
    set->recurring = calcore_object_is_recurring(obj);
    set->uid = calcore_object_uid(obj);
}

static int memo_on = 1;

void calcore__expand_memo_enable(int on)
{
    memo_on = on;
}

/* Keep what x recorded in the object's memo, for windows ending at or
 * before 'until'.  Only a complete recording is kept: no budget hit, no
 * stream cut short, no EXRULE (its exclusions depend on the window), not
 * too many offers. */
static void memo_record(const calcore_object_t *obj, const xctx_t *x,
                        calcore_time_t until, apr_interval_time_t max_time)
{
    apr_pool_t *opool;
    calcore__expand_memo_t *memo = calcore__object_memo(obj, &opool);
    const cinfo_t *m = x->master;

    if (!x->rec || x->rec_overflow || x->has_exrule || x->truncated
        || x->span_truncated || x->span_unbounded) {
        return;
    }
    memo->rec_valid = 1;
    memo->rec_floating = x->floating;
    memo->rec_max_time = max_time;
    memo->rec_steps = x->steps;
    memo->rec_until = until;
    memo->rec_lo_pad = m ? max_duration(m) + 2 * DAY : 0;
    memo->rec_no_jump_lo = m && x->rule_can_jump
                           ? calcore__add(m->start, 3 * DAY)
                           : CALCORE_TIME_MAX;
    memo->rec_streams = x->rec_stream + 1;
    memo->rec_n = x->rec->nelts;
    memo->rec = x->rec->nelts
                ? apr_pmemdup(opool, x->rec->elts,
                              sizeof(rec_entry_t) * x->rec->nelts)
                : NULL;
}

/* Can calcore_expand(obj, start, end, opts) replay the memo?  A fresh walk
 * offers, stream by stream, a prefix of what the recording walk offered:
 * the same candidates in the same order (EXDATEs, overrides and RDATEs do
 * not depend on the window), cut where offer() says stop - at the latest
 * where the recording's own window end cut it (offer's overlap rules are
 * monotonic in the range) - unless it jumps ahead (compute_jump, for a
 * rule without COUNT and a window far after DTSTART: then it is walked).
 * So it takes no more steps than the recording did, and replaying the
 * offers through offer() with the new window and limits gives the same
 * instances, truncation and more_after. */
static int memo_replayable(const calcore__expand_memo_t *memo,
                           calcore_time_t start, calcore_time_t end,
                           const calcore_expand_opts_t *opts)
{
    unsigned max_inst, max_steps;
    apr_interval_time_t max_time;

    if (!memo_on || !memo->rec_valid
        || memo->rec_floating != (opts ? opts->floating : NULL)
        || end > memo->rec_until
        || calcore__add(start, -memo->rec_lo_pad) > memo->rec_no_jump_lo) {
        return 0;
    }
    budgets(opts, &max_inst, &max_steps, &max_time);
    return memo->rec_steps <= max_steps && memo->rec_max_time <= max_time;
}

static apr_status_t memo_replay(calcore__expand_memo_t *memo,
                                calcore_time_t start, calcore_time_t end,
                                const calcore_expand_opts_t *opts,
                                calcore_instance_cb *cb, void *baton,
                                calcore_expand_result_t *res,
                                apr_pool_t *scratch)
{
    const rec_entry_t *e = memo->rec;
    unsigned *count = apr_pcalloc(scratch, sizeof(unsigned)
                                           * memo->rec_streams);
    char *stopped = apr_pcalloc(scratch, memo->rec_streams);
    apr_interval_time_t max_time;
    xctx_t x;
    int i;

    memset(&x, 0, sizeof(x));
    budgets(opts, &x.max_inst, &x.max_steps, &max_time);
    x.floating = opts ? opts->floating : NULL;
    x.pool = scratch;
    x.ws = start;
    x.we = end;
    x.complete_until = end;
    x.out = apr_array_make(scratch, memo->rec_n ? memo->rec_n : 1,
                           sizeof(calcore_instance_t));
    for (i = 0; i < memo->rec_n; i++, e++) {
        if (e->stream < 0) {
            offer(&x, &e->in, e->sorted, NULL);
        }
        else if (!stopped[e->stream]
                 && offer(&x, &e->in, e->sorted, &count[e->stream])
                 && e->stream > 0) {
            stopped[e->stream] = 1;   /* run_rule stops its loop */
        }
    }
    memo->rec_reused++;
    return report(&x, cb, baton, res);
}

static apr_status_t expand_set(const xset_t *set, calcore_time_t start,
                               calcore_time_t end,
                               const calcore_expand_opts_t *opts,
                               calcore_instance_cb *cb, void *baton,
                               calcore_expand_result_t *res,
                               const calcore_object_t *record,
                               apr_pool_t *scratch)
{
    xctx_t x;

    if (res) {
        memset(res, 0, sizeof(*res));
        res->complete_until = end;
    }
    if (start > end) {
        return APR_EINVAL;
    }
    setup(&x, set, opts, scratch);
    x.ws = start;
    x.we = end;
    x.complete_until = end;
    x.out = apr_array_make(scratch, 16, sizeof(calcore_instance_t));
    if (record && memo_on && start == CALCORE_TIME_MIN) {
        x.rec = apr_array_make(scratch, 64, sizeof(rec_entry_t));
    }
    collect(&x);
    if (x.rec) {
        apr_interval_time_t max_time;
        unsigned mi, ms;

        budgets(opts, &mi, &ms, &max_time);
        memo_record(record, &x, end, max_time);
    }
    return report(&x, cb, baton, res);
}

apr_status_t calcore_expand(const calcore_object_t *obj,
                            calcore_time_t start, calcore_time_t end,
                            const calcore_expand_opts_t *opts,
                            calcore_instance_cb *cb, void *baton,
                            calcore_expand_result_t *res,
                            apr_pool_t *scratch)
{
    apr_pool_t *opool;
    calcore__expand_memo_t *memo = calcore__object_memo(obj, &opool);
    xset_t set;

    if (start <= end && memo_replayable(memo, start, end, opts)) {
        return memo_replay(memo, start, end, opts, cb, baton, res, scratch);
    }
    object_set(&set, obj);
    return expand_set(&set, start, end, opts, cb, baton, res, NULL, scratch);
}

apr_status_t calcore__expand_count(const calcore_object_t *obj,
                                   calcore_time_t start, calcore_time_t end,
                                   const calcore_expand_opts_t *opts,
                                   calcore_expand_result_t *res,
                                   apr_pool_t *scratch)
{
    xset_t set;

    object_set(&set, obj);
    return expand_set(&set, start, end, opts, NULL, NULL, res, obj, scratch);
}

apr_status_t calcore_expand_components(const apr_array_header_t *comps,
                                       const calcore_tzset_t *tzset,
                                       calcore_time_t start,
                                       calcore_time_t end,
                                       const calcore_expand_opts_t *opts,
                                       calcore_instance_cb *cb, void *baton,
                                       calcore_expand_result_t *res,
                                       apr_pool_t *scratch)
{
    xset_t set;
    int i;

    memset(&set, 0, sizeof(set));
    set.tzset = tzset;
    set.comps = comps;
    for (i = 0; i < comps->nelts; i++) {
        icalcomponent *c = APR_ARRAY_IDX(comps, i, icalcomponent *);

        if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
            set.recurring = 1;
        }
        else if (!set.master) {
            set.master = c;
        }
        if (icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY)
            || icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY)) {
            set.recurring = 1;
        }
        if (!set.uid) {
            icalproperty *u = icalcomponent_get_first_property(
                                  c, ICAL_UID_PROPERTY);

            set.uid = u ? icalproperty_get_uid(u) : NULL;
        }
    }
    return expand_set(&set, start, end, opts, cb, baton, res, NULL,
                      scratch);
}

/* The span of an object is a pure function of the object (immutable), the
 * floating zone and the budgets (max_steps, max_time; max_instances plays
 * no part in span mode).  A walk that hit no budget after S steps is what
 * any walk with a step budget >= S (and no smaller time budget) does,
 * step for step: such a memo is reused.  A walk that hit a budget is never
 * kept (where it stopped depends on the clock). */
apr_status_t calcore__expand_span(const calcore_object_t *obj,
                                  const calcore_expand_opts_t *opts,
                                  calcore_span_t *span, unsigned *bound,
                                  int record, apr_pool_t *scratch)
{
    apr_pool_t *opool;
    calcore__expand_memo_t *memo = calcore__object_memo(obj, &opool);
    const icaltimezone *floating = opts ? opts->floating : NULL;
    apr_interval_time_t max_time;
    unsigned max_inst, max_steps;
    xctx_t x;
    xset_t set;

    budgets(opts, &max_inst, &max_steps, &max_time);
    if (memo_on && memo->span_valid && memo->span_floating == floating
        && memo->span_steps <= max_steps && memo->span_max_time <= max_time) {
        memset(span, 0, sizeof(*span));
        span->start = memo->span_start;
        span->end = memo->span_end;
        span->unbounded = memo->span_unbounded;
        span->truncated = memo->span_truncated;
        span->empty = memo->span_empty;
        if (bound) {
            *bound = memo->span_offers;
        }
        memo->span_reused++;
        return APR_SUCCESS;
    }
    object_set(&set, obj);
    setup(&x, &set, opts, scratch);
    x.span_mode = 1;
    x.ws = CALCORE_TIME_MIN;
    x.we = CALCORE_TIME_MAX;
    x.complete_until = CALCORE_TIME_MAX;
    if (record && memo_on) {
        x.rec = apr_array_make(scratch, 64, sizeof(rec_entry_t));
    }
    collect(&x);
    memset(span, 0, sizeof(*span));
    if (!x.span_any && !x.span_truncated) {
        span->empty = 1;
        span->start = CALCORE_TIME_MAX;
        span->end = CALCORE_TIME_MIN;
    }
    else {
        if (!x.span_any) {
            /* nothing found within the budget: unknown, so everything */
            x.span_start = CALCORE_TIME_MIN;
        }
        span->start = x.span_start;
        span->unbounded = x.span_unbounded;
        span->truncated = x.span_truncated && !x.span_unbounded;
        span->end = (span->unbounded || span->truncated) ? CALCORE_TIME_MAX
                                                         : x.span_end;
    }
    /* In span mode an unbounded rule stops after its first instance: the
     * offers bound only a bounded set walked to its end (EXRULE, which the
     * span ignores, only removes instances). */
    if (x.span_truncated || x.span_unbounded) {
        x.span_offers = UINT_MAX;
    }
    if (bound) {
        *bound = memo_on ? x.span_offers : UINT_MAX;
    }
    if (!memo_on || x.span_truncated) {
        return APR_SUCCESS;
    }
    memo->span_valid = 1;
    memo->span_floating = floating;
    memo->span_max_time = max_time;
    memo->span_steps = x.steps;
    memo->span_offers = x.span_offers;
    memo->span_start = span->start;
    memo->span_end = span->end;
    memo->span_unbounded = span->unbounded;
    memo->span_truncated = span->truncated;
    memo->span_empty = span->empty;
    if (x.rec) {
        memo_record(obj, &x, CALCORE_TIME_MAX, max_time);
    }
    return APR_SUCCESS;
}

apr_status_t calcore_expand_span(const calcore_object_t *obj,
                                 const calcore_expand_opts_t *opts,
                                 calcore_span_t *span, apr_pool_t *scratch)
{
    return calcore__expand_span(obj, opts, span, NULL, 0, scratch);
}
