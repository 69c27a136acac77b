/*
 * calstore_calinfo.c - what every writer of calendar object resources
 * shares: the default limits, a calendar's supported components and
 * calendar-timezone, and the index data (calstore_calinfo_t) of an object
 * that core/ validated.
 *
 * The httpd adapter (PUT, COPY, MOVE into a calendar) and caldavctl
 * (import) both call these, so an object is indexed identically whoever
 * stores it, and calendar-query answers it the same way.  The iCalendar
 * rules stay in core/: calcore_object_parse() validates,
 * calcore_index_build() maps the attributes; here the result is turned
 * into the spans, window and reach the store keeps (docs/storage-format.md,
 * "Calendar collections").
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_xml.h>

#include "calstore.h"
#include "calcore_index.h"
#include "calcore_tz.h"

/* ---- limits and the calendar's properties ------------------------------ */

void calstore_limits_default(calcore_limits_t *limits)
{
    memset(limits, 0, sizeof(*limits));
    limits->max_resource_size =
        (apr_size_t)CALSTORE_DEFAULT_MAX_RESOURCE_SIZE;
    limits->min_date_time = CALSTORE_DEFAULT_MIN_DATE;
    limits->max_date_time = CALSTORE_DEFAULT_MAX_DATE;
    limits->max_instances = CALSTORE_DEFAULT_MAX_INSTANCES;
    limits->max_attendees_per_instance = CALSTORE_DEFAULT_MAX_ATTENDEES;
}

unsigned calstore_calendar_comps(const calstore_node_t *coll)
{
    unsigned mask = (coll->flags >> CALSTORE_CAL_COMP_SHIFT) & 0xffu;

    return mask ? mask : CALCORE_COMP_DEFAULT;
}

/* The character data of a stored dead property (a self-contained XML
 * element), or NULL when it does not parse. */
static const char *prop_cdata(const char *xml, apr_size_t len,
                              apr_pool_t *pool)
{
    apr_xml_parser *parser = apr_xml_parser_create(pool);
    apr_xml_doc *doc = NULL;
    const apr_text *t;
    apr_size_t n = 0;
    char *out, *o;

    /* stored values are NUL-terminated text; never feed a NUL to expat */
    len = strnlen(xml, len);
    if (apr_xml_parser_feed(parser, xml, len) != APR_SUCCESS
        || apr_xml_parser_done(parser, &doc) != APR_SUCCESS || doc == NULL) {
        return NULL;
    }
    for (t = doc->root->first_cdata.first; t; t = t->next) {
        n += strlen(t->text);
    }
    o = out = apr_palloc(pool, n + 1);
    for (t = doc->root->first_cdata.first; t; t = t->next) {
        apr_size_t k = strlen(t->text);

        memcpy(o, t->text, k);
        o += k;
    }
    *o = '\0';
    return out;
}

const char *calstore_prop_text(calstore_t *st, calstore_id_t id,
                               const char *ns, const char *name,
                               apr_pool_t *pool)
{
    const char *xml;
    apr_size_t len;

    if (calstore_prop_get(st, id, ns, name, &xml, &len, pool)
        != APR_SUCCESS) {
        return NULL;
    }
    return prop_cdata(xml, len, pool);
}

apr_status_t calstore_calendar_floating(calstore_t *st,
                                        const calstore_node_t *coll,
                                        icaltimezone **zone,
                                        const char **problem,
                                        apr_pool_t *pool)
{
    const char *xml, *text, *reason = NULL;
    apr_size_t len;
    apr_status_t rv;

    *zone = NULL;
    *problem = NULL;
    rv = calstore_prop_get(st, coll->id, CALSTORE_CALDAV_NS,
                           "calendar-timezone", &xml, &len, pool);
    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    text = prop_cdata(xml, len, pool);
    if (text && calcore_tz_parse_vtimezone(zone, NULL, text, strlen(text),
                                           &reason, pool) != APR_SUCCESS) {
        *zone = NULL;
        *problem = reason ? reason : "unusable VTIMEZONE";
    }
    return APR_SUCCESS;
}

/* ---- the index data of an object --------------------------------------- */

/* t + d, kept within [CALCORE_TIME_MIN, CALCORE_TIME_MAX]; the bounds
 * themselves (open ends) stay where they are. */
static calcore_time_t sat_add(calcore_time_t t, calcore_time_t d)
{
    if (t <= CALCORE_TIME_MIN || t >= CALCORE_TIME_MAX) {
        return t;
    }
    t += d;
    return t < CALCORE_TIME_MIN ? CALCORE_TIME_MIN
         : t > CALCORE_TIME_MAX ? CALCORE_TIME_MAX : t;
}

/* 't' rounded down to a whole UTC day (also before the epoch). */
static calcore_time_t day_floor(calcore_time_t t)
{
    calcore_time_t r = t % 86400;

    return r < 0 ? t - r - 86400 : t - r;
}

apr_status_t calstore_calinfo_build(calstore_calinfo_t *info,
                                    const calcore_object_t *obj,
                                    const icaltimezone *floating,
                                    apr_pool_t *pool)
{
    calcore_index_opts_t iopts;
    calcore_index_t *idx;
    unsigned char *rec;
    apr_size_t rec_len;
    apr_array_header_t *spans;
    calcore_time_t slack;
    apr_status_t rv;
    int i;

    memset(&iopts, 0, sizeof(iopts));
    iopts.floating = floating;
    if (!calcore_object_is_recurring(obj)) {
        /* one instance: index it wherever it lies in time */
        iopts.from = CALCORE_TIME_MIN;
        iopts.until = CALCORE_TIME_MAX;
    }
    else {
        /* core's default window, both ends rounded down to a whole UTC
         * day, so that every object written on one day has the same
         * win_from and win_until: a query before (after) the windows then
         * reads one edge per day of writes, not one per recurring object
         * (docs/storage-format.md, tredge.db).  Starting earlier only
         * lists more instances; ending earlier only leaves more to the
         * 'after' edge. */
        iopts.now = calcore_time_now();
        iopts.from = day_floor(iopts.now - CALCORE_INDEX_PAST_DEFAULT);
        iopts.until = day_floor(iopts.now + CALCORE_INDEX_FUTURE_DEFAULT);
        /* 0 would mean "the default" to core: a day earlier instead */
        if (iopts.from == 0) {
            iopts.from = -86400;
        }
        if (iopts.until == 0) {
            iopts.until = -86400;
        }
    }
    if ((rv = calcore_index_build(&idx, obj, &iopts, pool)) != APR_SUCCESS) {
        return rv;
    }
    calcore_index_serialize(idx, &rec, &rec_len, pool);

    memset(info, 0, sizeof(*info));
    info->uid = idx->uid;
    info->comp = idx->kind;
    info->record = rec;
    info->record_len = rec_len;
    info->win_from = idx->inst_from;
    info->win_until = idx->inst_until;
    /* a VEVENT's spans are its instances' own times unless floating or
     * DATE values were read in the calendar's zone (and widened below) */
    info->exact = idx->kind == CALCORE_COMP_VEVENT
                  && !(idx->flags & CALCORE_INDEX_FLOATING);
    /* Floating times and DATEs are read in the calendar's timezone, which
     * may change later (or a query may bring its own C:timezone): index
     * them widened by the largest UTC offsets, so the index stays a
     * superset; the exact test is made when the query is answered. */
    slack = (idx->flags & CALCORE_INDEX_FLOATING) ? CALSTORE_FLOATING_SLACK
                                                  : 0;
    spans = apr_array_make(pool, idx->instances->nelts + 1,
                           sizeof(calstore_span_t));
    if (idx->flags & CALCORE_INDEX_EMPTY) {
        /* no instance: matches no time-range; nothing to index */
    }
    else if (!calcore_object_is_recurring(obj)) {
        /* one instance: its span, which is already widened to everything
         * the RFC 4791 9.9 rules can match (a VFREEBUSY's DTSTART..DTEND,
         * an undated VTODO's open range, ...) */
        calstore_span_t *sp = apr_array_push(spans);

        sp->start = sat_add(idx->start, -slack);
        sp->end = sat_add(idx->end, slack);
        info->win_from = CALCORE_TIME_MIN;
        info->win_until = CALCORE_TIME_MAX;
    }
    else {
        if (info->win_until < info->win_from) {
            /* a list cut short before its window even starts */
            info->win_until = info->win_from;
        }
        info->before = idx->start < idx->inst_from;
        /* the whole set's reach, so that a query far from the window
         * skips this object's edges unless the set can reach the range */
        info->first = sat_add(idx->start, -slack);
        info->last = sat_add(idx->end, slack);
        if (info->first == 0 && info->last == 0) {
            info->last = 1;           /* 0/0 would read as "unknown" */
        }
        info->after = idx->end > idx->inst_until
                      || (idx->flags & (CALCORE_INDEX_PAST_HORIZON
                                        | CALCORE_INDEX_TRUNCATED
                                        | CALCORE_INDEX_UNBOUNDED)) != 0;
        for (i = 0; i < idx->instances->nelts; i++) {
            const calcore_index_inst_t *in =
                &APR_ARRAY_IDX(idx->instances, i, calcore_index_inst_t);
            calstore_span_t *sp = apr_array_push(spans);

            sp->start = sat_add(in->start, -slack);
            sp->end = sat_add(in->end > in->start ? in->end : in->start,
                              slack);
        }
    }
    info->instances = spans;
    return APR_SUCCESS;
}
