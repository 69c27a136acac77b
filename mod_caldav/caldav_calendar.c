/*
 * caldav_calendar.c - calendar collections and calendar object resources
 * (RFC 4791 4, 5.3): limits, precondition errors, validating and indexing a
 * calendar object before it is stored.
 *
 * The iCalendar rules live in core/ (calcore_object_parse validates,
 * calcore_index_build maps attributes); the store keeps the client's bytes,
 * the UID and time-range indexes and the record in the same transaction
 * (calstore_put_ex).  Here we only gather the collection's limits, call
 * core, and turn its precondition codes into DAV:error bodies.
 */
#include <apr_strings.h>
#include <apr_xml.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_caldav.h"
#include "calcore.h"
#include "calcore_object.h"
#include "calcore_index.h"
#include "calcore_tz.h"

/* ---- precondition errors ------------------------------------------- */

dav_error *caldav_precond_error(request_rec *r, int status,
                                calcore_precond_e code, const char *reason,
                                const char *childtags)
{
    const char *name = calcore_precond_name(code);
    const char *ns = CALDAV_NS;
    dav_error *err;

    if (code == CALCORE_PRECOND_NONE) {
        name = "valid-calendar-data";
    }
    /* mod_dav XML-quotes the description when it writes the body */
    err = dav_new_error_tag(r->pool, status, 0, 0,
                            apr_pstrdup(r->pool, reason ? reason : name),
                            ns, name);
    if (childtags) {
        err->childtags = childtags;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s refused (%s): %s",
                  r->method, name, reason ? reason : "");
    return err;
}

/* ---- server limits --------------------------------------------------- */

unsigned caldav_comp_mask(const calstore_node_t *coll)
{
    unsigned mask = (coll->flags >> CALDAV_COMP_SHIFT) & 0xffu;

    return mask ? mask : CALCORE_COMP_DEFAULT;
}

void caldav_server_limits(request_rec *r, calcore_limits_t *limits)
{
    const caldav_server_conf *conf = caldav_server_config(r->server);

    memset(limits, 0, sizeof(*limits));
    limits->max_resource_size = (apr_size_t)caldav_max_resource_size(conf);
    limits->min_date_time = conf->min_date_time ? conf->min_date_time
                                                : CALDAV_DEFAULT_MIN_DATE;
    limits->max_date_time = conf->max_date_time ? conf->max_date_time
                                                : CALDAV_DEFAULT_MAX_DATE;
    limits->max_instances = conf->max_instances ? conf->max_instances
                                                : CALDAV_DEFAULT_MAX_INSTANCES;
    limits->max_attendees_per_instance =
        conf->max_attendees ? conf->max_attendees
                            : CALDAV_DEFAULT_MAX_ATTENDEES;
}

apr_off_t caldav_max_resource_size(const caldav_server_conf *conf)
{
    return conf->max_resource_size ? conf->max_resource_size
                                   : CALDAV_DEFAULT_MAX_RESOURCE_SIZE;
}

/* ---- the calendar-timezone property ------------------------------------ */

const char *caldav_elem_cdata(apr_pool_t *p, const apr_xml_elem *elem)
{
    const apr_text *t;
    apr_size_t n = 0;
    char *out, *o;

    for (t = elem->first_cdata.first; t; t = t->next) {
        n += strlen(t->text);
    }
    o = out = apr_palloc(p, n + 1);
    for (t = elem->first_cdata.first; t; t = t->next) {
        apr_size_t k = strlen(t->text);

        memcpy(o, t->text, k);
        o += k;
    }
    *o = '\0';
    return out;
}

/* The character data of a stored dead property (a self-contained XML
 * element), or NULL. */
static const char *caldav_prop_cdata(apr_pool_t *p, const char *xml,
                                     apr_size_t len)
{
    apr_xml_parser *parser = apr_xml_parser_create(p);
    apr_xml_doc *doc = NULL;

    /* stored values are NUL-terminated text; never feed a NUL to expat */
    len = strnlen(xml, len);
    if (apr_xml_parser_feed(parser, xml, len) != APR_SUCCESS
        || apr_xml_parser_done(parser, &doc) != APR_SUCCESS || doc == NULL) {
        return NULL;
    }
    return caldav_elem_cdata(p, doc->root);
}

dav_error *caldav_calendar_open(request_rec *r, calstore_t *st,
                                const calstore_node_t *coll,
                                caldav_calendar_t **result)
{
    caldav_calendar_t *cal = apr_pcalloc(r->pool, sizeof(*cal));
    const char *xml, *text, *reason;
    apr_size_t len;
    apr_status_t rv;

    cal->node = coll;
    caldav_server_limits(r, &cal->limits);
    cal->limits.components = caldav_comp_mask(coll);

    rv = calstore_prop_get(st, coll->id, CALDAV_NS, "calendar-timezone",
                           &xml, &len, r->pool);
    if (rv == APR_SUCCESS) {
        text = caldav_prop_cdata(r->pool, xml, len);
        if (text && calcore_tz_parse_vtimezone(&cal->floating, NULL, text,
                                               strlen(text), &reason,
                                               r->pool) != APR_SUCCESS) {
            /* validated when it was set; tzdata may have changed since */
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "calendar-timezone of %s is unusable (%s); "
                          "floating times are read as UTC",
                          coll->name, reason);
            cal->floating = NULL;
        }
    }
    else if (rv != CALSTORE_ENOENT) {
        return caldav_store_error(r, rv, "Could not read the calendar");
    }
    cal->limits.floating = cal->floating;
    *result = cal;
    return NULL;
}

/* ---- validating and indexing an object -------------------------------- */

/* UTC offsets range from -12:00 to +14:00 */
#define CALDAV_FLOATING_SLACK ((calcore_time_t)14 * 3600)

static calcore_time_t caldav_sat_add(calcore_time_t t, calcore_time_t d)
{
    if (t <= CALCORE_TIME_MIN || t >= CALCORE_TIME_MAX) {
        return t;
    }
    t += d;
    return t < CALCORE_TIME_MIN ? CALCORE_TIME_MIN
         : t > CALCORE_TIME_MAX ? CALCORE_TIME_MAX : t;
}

int caldav_content_type_ok(const char *ctype)
{
    const char *semi;
    apr_size_t n;

    if (ctype == NULL) {
        return 1;   /* clients that send none get the benefit of the doubt */
    }
    while (*ctype == ' ') {
        ctype++;
    }
    semi = strchr(ctype, ';');
    n = semi ? (apr_size_t)(semi - ctype) : strlen(ctype);
    while (n > 0 && ctype[n - 1] == ' ') {
        n--;
    }
    return n == 13 && strncasecmp(ctype, "text/calendar", 13) == 0;
}

dav_error *caldav_object_prepare(request_rec *r, const caldav_calendar_t *cal,
                                 const char *data, apr_size_t len,
                                 calstore_calinfo_t *info,
                                 calcore_object_t **objp)
{
    calcore_precond_e code = CALCORE_PRECOND_NONE;
    calcore_index_opts_t iopts;
    calcore_object_t *obj;
    calcore_index_t *idx;
    unsigned char *rec;
    apr_size_t rec_len;
    const char *reason = NULL;
    apr_array_header_t *spans;
    calcore_time_t slack;
    apr_status_t rv;
    int i;

    rv = calcore_object_parse(&obj, &code, &reason, data, len, &cal->limits,
                              r->pool);
    if (rv == CALCORE_EINVALID) {
        return caldav_precond_error(r, HTTP_FORBIDDEN, code, reason, NULL);
    }
    if (rv != APR_SUCCESS) {
        char buf[128];

        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             apr_pstrcat(r->pool, "Could not parse the "
                                         "calendar object: ",
                                         calcore_strerror(rv, buf,
                                                          sizeof(buf)),
                                         NULL));
    }

    memset(&iopts, 0, sizeof(iopts));
    iopts.floating = cal->floating;
    if (!calcore_object_is_recurring(obj)) {
        /* one instance: index it wherever it lies in time */
        iopts.from = CALCORE_TIME_MIN;
        iopts.until = CALCORE_TIME_MAX;
    }
    calcore_index_build(&idx, obj, &iopts, r->pool);
    calcore_index_serialize(idx, &rec, &rec_len, r->pool);

    memset(info, 0, sizeof(*info));
    info->uid = idx->uid;
    info->comp = idx->kind;
    info->record = rec;
    info->record_len = rec_len;
    info->win_from = idx->inst_from;
    info->win_until = idx->inst_until;
    /* Floating times and DATEs are read in the calendar's timezone, which
     * may change later (or a query may bring its own C:timezone): index
     * them widened by the largest UTC offsets, so the index stays a
     * superset; the exact test is made when the query is answered. */
    slack = (idx->flags & CALCORE_INDEX_FLOATING) ? CALDAV_FLOATING_SLACK : 0;
    spans = apr_array_make(r->pool, idx->instances->nelts + 1,
                           sizeof(calstore_span_t));
    if (idx->flags & CALCORE_INDEX_EMPTY) {
        /* no instance: matches no time-range; nothing to index */
    }
    else if (!calcore_object_is_recurring(obj)) {
        /* one instance: its span, which is already widened to everything
         * the RFC 4791 9.9 rules can match (a VFREEBUSY's DTSTART..DTEND,
         * an undated VTODO's open range, ...) */
        calstore_span_t *sp = apr_array_push(spans);

        sp->start = caldav_sat_add(idx->start, -slack);
        sp->end = caldav_sat_add(idx->end, slack);
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
        info->first = caldav_sat_add(idx->start, -slack);
        info->last = caldav_sat_add(idx->end, slack);
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

            sp->start = caldav_sat_add(in->start, -slack);
            sp->end = caldav_sat_add(in->end > in->start ? in->end
                                                         : in->start, slack);
        }
    }
    info->instances = spans;
    if (objp) {
        *objp = obj;
    }
    return NULL;
}

dav_error *caldav_uid_conflict_error(request_rec *r, const char *coll_uri,
                                     const char *name)
{
    const char *href = apr_pstrcat(r->pool, coll_uri, name, NULL);

    return caldav_precond_error(
        r, HTTP_FORBIDDEN, CALCORE_PRECOND_NO_UID_CONFLICT,
        apr_pstrcat(r->pool, "The calendar already holds an object with "
                    "this UID: ", href, NULL),
        apr_pstrcat(r->pool, "<D:href>",
                    apr_xml_quote_string(r->pool, ap_escape_uri(r->pool,
                                                                href), 0),
                    "</D:href>", NULL));
}

dav_error *caldav_lookup_parent(request_rec *r, const dav_resource *res,
                                calstore_node_t **parent)
{
    const char *path = res->info->path;
    const char *slash = strrchr(path, '/');
    const char *ppath = slash ? apr_pstrndup(r->pool, path, slash - path)
                              : "";

    return caldav_lookup_node(r, res->info->st, ppath, parent);
}

int caldav_is_calendar(const calstore_node_t *node)
{
    return node && node->kind == CALSTORE_KIND_COLLECTION
           && (node->flags & CALSTORE_COLL_CALENDAR);
}

dav_error *caldav_check_same_uid(request_rec *r, const dav_resource *target,
                                 const char *coll_uri, const char *uid)
{
    const void *rec;
    apr_size_t len;
    calcore_index_t *idx;
    apr_status_t rv;

    if (!caldav_is_calendar_object(target)) {
        return NULL;
    }
    rv = calstore_get_record(target->info->st, target->info->node->id, &rec,
                             &len, r->pool);
    if (rv == CALSTORE_ENOENT) {
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not read the existing "
                                  "object");
    }
    if (calcore_index_parse(&idx, rec, len, r->pool) != APR_SUCCESS
        || strcmp(idx->uid, uid) == 0) {
        return NULL;
    }
    /* RFC 4791 5.3.2.1: nor may a PUT, COPY or MOVE overwrite an object
     * with one of another UID */
    return caldav_uid_conflict_error(r, coll_uri, target->info->node->name);
}
