/*
 * caldav_report.c - the RFC 4791 REPORTs: calendar-query, calendar-multiget
 * and free-busy-query, through mod_dav's deliver_report hook (2.4.49+).
 *
 * Everything that can fail is checked before the first byte is sent (the
 * request's XML, the filter grammar, collations, time ranges, the
 * calendar-data request, Depth); after dav_begin_multistatus() the status
 * is fixed at 207.  Responses are streamed one resource at a time from a
 * scratch pool that is cleared after each, so memory does not grow with the
 * size of the calendar.
 *
 * Candidates come from the store's indexes: calstore_query_range() with the
 * time range and component kinds a matching object must have
 * (calcore_filter_hints), calstore_query_all() only when the filter does not
 * constrain time.  Only candidates are read and parsed; calcore decides the
 * exact match.  free-busy-query is answered from the stored index records
 * and parses an object only when its record does not cover the range.
 */
#include <apr_strings.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_filter.h>

#include "mod_caldav.h"
#include "calcore_filter.h"
#include "calcore_caldata.h"
#include "calcore_freebusy.h"
#include "calcore_index.h"
#include "calcore_tz.h"

/* a filter deeper than this is refused (C:valid-filter) before recursing */
#define CALDAV_MAX_FILTER_DEPTH 32

typedef enum {
    CALDAV_PROPS_NAMED = 0,
    CALDAV_PROPS_ALL,
    CALDAV_PROPS_NAMES
} caldav_props_e;

struct caldav_report_ctx {
    request_rec *r;
    const apr_xml_doc *doc;
    const dav_resource *target;
    caldav_props_e props;
    calcore_caldata_t *caldata;     /* NULL: the whole object             */
    int format;                     /* CALDAV_FMT_* of calendar-data      */
    const icaltimezone *floating;   /* for floating times and DATEs      */
    calcore_compfilter_t *filter;   /* calendar-query only               */
    apr_bucket_brigade *bb;
    int matched;
};

typedef struct caldav_report_ctx caldav_report_ctx;

/* ---- small XML helpers ---------------------------------------------- */

/* 'text' as XML character data that parses back to the same octets: XML
 * parsers turn CRLF (and a lone CR) into LF, so the CRs of iCalendar's
 * line breaks are written as &#13; - the client gets the stored bytes. */
static const char *caldav_xml_text(apr_pool_t *p, const char *text)
{
    static const char special[] = "&<>\r";
    apr_size_t extra = 0, n;
    const char *s;
    char *out, *o;

    for (s = text + strcspn(text, special); *s;
         s += 1 + strcspn(s + 1, special)) {
        extra += *s == '&' || *s == '\r' ? 4 : 3;
    }
    if (extra == 0) {
        return text;
    }
    o = out = apr_palloc(p, (apr_size_t)(s - text) + extra + 1);
    for (s = text; *s; s++) {
        n = strcspn(s, special);
        memcpy(o, s, n);
        o += n;
        s += n;
        switch (*s) {
        case '&':
            memcpy(o, "&amp;", 5);
            o += 5;
            break;
        case '<':
            memcpy(o, "&lt;", 4);
            o += 4;
            break;
        case '>':
            memcpy(o, "&gt;", 4);
            o += 4;
            break;
        case '\r':
            memcpy(o, "&#13;", 5);
            o += 5;
            break;
        default:
            *o = '\0';
            return out;
        }
    }
    *o = '\0';
    return out;
}

static const char *caldav_attr(const apr_xml_elem *e, const char *name)
{
    const apr_xml_attr *a;

    for (a = e->attr; a; a = a->next) {
        if (strcmp(a->name, name) == 0) {
            return a->value;
        }
    }
    return NULL;
}

static dav_error *caldav_filter_error(request_rec *r, calcore_precond_e code,
                                      const char *why)
{
    return caldav_precond_error(r, HTTP_FORBIDDEN, code, why, NULL);
}

/* A time-range element: start/end attributes, UTC "YYYYMMDDTHHMMSSZ". */
static dav_error *caldav_parse_timerange(request_rec *r,
                                         const apr_xml_elem *e,
                                         calcore_timerange_t **out)
{
    calcore_timerange_t *tr = apr_pcalloc(r->pool, sizeof(*tr));
    const char *start = caldav_attr(e, "start");
    const char *end = caldav_attr(e, "end");

    tr->start = CALCORE_TIME_MIN;
    tr->end = CALCORE_TIME_MAX;
    if (start == NULL && end == NULL) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "C:time-range needs a start or an end "
                                   "attribute");
    }
    if ((start && calcore_time_parse(start, &tr->start) != APR_SUCCESS)
        || (end && calcore_time_parse(end, &tr->end) != APR_SUCCESS)) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "C:time-range start and end must be UTC "
                                   "date-times like 20060104T000000Z");
    }
    if (tr->start >= tr->end) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "C:time-range must end after it starts");
    }
    *out = tr;
    return NULL;
}

static dav_error *caldav_parse_textmatch(request_rec *r,
                                         const apr_xml_elem *e,
                                         calcore_textmatch_t **out)
{
    calcore_textmatch_t *tm = apr_pcalloc(r->pool, sizeof(*tm));
    const char *coll = caldav_attr(e, "collation");
    const char *neg = caldav_attr(e, "negate-condition");

    tm->text = caldav_elem_cdata(r->pool, e);
    tm->collation = CALCORE_COLL_ASCII_CASEMAP;
    if (coll && strcmp(coll, "default") == 0) {
        coll = NULL;            /* RFC 4790 3.1: the protocol's default */
    }
    if (coll && !calcore_collation_from_name(coll, &tm->collation)) {
        return caldav_filter_error(r, CALCORE_PRECOND_SUPPORTED_COLLATION,
                                   apr_pstrcat(r->pool, "Unsupported "
                                               "collation: ", coll, NULL));
    }
    if (neg && strcmp(neg, "yes") != 0 && strcmp(neg, "no") != 0) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "negate-condition must be yes or no");
    }
    tm->negate = neg && strcmp(neg, "yes") == 0;
    *out = tm;
    return NULL;
}

static dav_error *caldav_parse_compfilter(request_rec *r,
                                          const apr_xml_doc *doc,
                                          const apr_xml_elem *e, int depth,
                                          calcore_compfilter_t **out);

static dav_error *caldav_parse_propfilter(request_rec *r,
                                          const apr_xml_doc *doc,
                                          const apr_xml_elem *e,
                                          calcore_propfilter_t **out)
{
    calcore_propfilter_t *pf = apr_pcalloc(r->pool, sizeof(*pf));
    const apr_xml_elem *c;
    dav_error *err;

    pf->name = caldav_attr(e, "name");
    if (pf->name == NULL) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "C:prop-filter needs a name");
    }
    pf->param_filters = apr_array_make(r->pool, 1,
                                       sizeof(calcore_paramfilter_t *));
    for (c = e->first_child; c; c = c->next) {
        if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "is-not-defined")) {
            pf->is_not_defined = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "time-range")) {
            if ((err = caldav_parse_timerange(r, c, &pf->time_range))) {
                return err;
            }
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "text-match")) {
            if ((err = caldav_parse_textmatch(r, c, &pf->text_match))) {
                return err;
            }
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "param-filter")) {
            calcore_paramfilter_t *pa = apr_pcalloc(r->pool, sizeof(*pa));
            const apr_xml_elem *g;

            pa->name = caldav_attr(c, "name");
            if (pa->name == NULL) {
                return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                           "C:param-filter needs a name");
            }
            for (g = c->first_child; g; g = g->next) {
                if (caldav_xml_is(doc->namespaces, g, CALDAV_NS, "is-not-defined")) {
                    pa->is_not_defined = 1;
                }
                else if (caldav_xml_is(doc->namespaces, g, CALDAV_NS, "text-match")) {
                    if ((err = caldav_parse_textmatch(r, g,
                                                      &pa->text_match))) {
                        return err;
                    }
                }
                else {
                    return caldav_filter_error(
                        r, CALCORE_PRECOND_SUPPORTED_FILTER,
                        apr_pstrcat(r->pool, "Unsupported element in "
                                    "C:param-filter: ", g->name, NULL));
                }
            }
            APR_ARRAY_PUSH(pf->param_filters, calcore_paramfilter_t *) = pa;
        }
        else {
            return caldav_filter_error(r, CALCORE_PRECOND_SUPPORTED_FILTER,
                                       apr_pstrcat(r->pool, "Unsupported "
                                                   "element in "
                                                   "C:prop-filter: ",
                                                   c->name, NULL));
        }
    }
    *out = pf;
    return NULL;
}

static dav_error *caldav_parse_compfilter(request_rec *r,
                                          const apr_xml_doc *doc,
                                          const apr_xml_elem *e, int depth,
                                          calcore_compfilter_t **out)
{
    calcore_compfilter_t *cf;
    const apr_xml_elem *c;
    dav_error *err;

    if (depth > CALDAV_MAX_FILTER_DEPTH) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "The filter is nested too deeply");
    }
    cf = apr_pcalloc(r->pool, sizeof(*cf));
    cf->name = caldav_attr(e, "name");
    if (cf->name == NULL) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "C:comp-filter needs a name");
    }
    cf->prop_filters = apr_array_make(r->pool, 1,
                                      sizeof(calcore_propfilter_t *));
    cf->comp_filters = apr_array_make(r->pool, 1,
                                      sizeof(calcore_compfilter_t *));
    for (c = e->first_child; c; c = c->next) {
        if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "is-not-defined")) {
            cf->is_not_defined = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "time-range")) {
            if ((err = caldav_parse_timerange(r, c, &cf->time_range))) {
                return err;
            }
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "prop-filter")) {
            calcore_propfilter_t *pf = NULL;

            if ((err = caldav_parse_propfilter(r, doc, c, &pf))) {
                return err;
            }
            APR_ARRAY_PUSH(cf->prop_filters, calcore_propfilter_t *) = pf;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "comp-filter")) {
            calcore_compfilter_t *sub = NULL;

            if ((err = caldav_parse_compfilter(r, doc, c, depth + 1, &sub))) {
                return err;
            }
            APR_ARRAY_PUSH(cf->comp_filters, calcore_compfilter_t *) = sub;
        }
        else {
            return caldav_filter_error(r, CALCORE_PRECOND_SUPPORTED_FILTER,
                                       apr_pstrcat(r->pool, "Unsupported "
                                                   "element in "
                                                   "C:comp-filter: ",
                                                   c->name, NULL));
        }
    }
    *out = cf;
    return NULL;
}

/* ---- C:calendar-data request ---------------------------------------- */

static dav_error *caldav_parse_caldata_comp(request_rec *r,
                                            const apr_xml_doc *doc,
                                            const apr_xml_elem *e, int depth,
                                            calcore_caldata_comp_t **out)
{
    calcore_caldata_comp_t *cc = apr_pcalloc(r->pool, sizeof(*cc));
    const apr_xml_elem *c;
    dav_error *err;

    if (depth > CALDAV_MAX_FILTER_DEPTH) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "C:calendar-data is nested too deeply");
    }
    cc->name = caldav_attr(e, "name");
    if (cc->name == NULL) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "C:comp in C:calendar-data needs a name");
    }
    cc->props = apr_array_make(r->pool, 4, sizeof(calcore_caldata_prop_t));
    cc->comps = apr_array_make(r->pool, 2, sizeof(calcore_caldata_comp_t *));
    for (c = e->first_child; c; c = c->next) {
        if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "allprop")) {
            cc->allprop = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "allcomp")) {
            cc->allcomp = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "prop")) {
            calcore_caldata_prop_t *p = apr_array_push(cc->props);
            const char *nv = caldav_attr(c, "novalue");

            p->name = caldav_attr(c, "name");
            p->novalue = nv && strcmp(nv, "yes") == 0;
            if (p->name == NULL) {
                return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                                     "C:prop in C:calendar-data needs a "
                                     "name");
            }
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "comp")) {
            calcore_caldata_comp_t *sub;

            if ((err = caldav_parse_caldata_comp(r, doc, c, depth + 1,
                                                 &sub))) {
                return err;
            }
            APR_ARRAY_PUSH(cc->comps, calcore_caldata_comp_t *) = sub;
        }
    }
    *out = cc;
    return NULL;
}

static dav_error *caldav_parse_range_attrs(request_rec *r,
                                           const apr_xml_elem *e,
                                           calcore_timerange_t *tr)
{
    const char *start = caldav_attr(e, "start");
    const char *end = caldav_attr(e, "end");

    if (start == NULL || end == NULL
        || calcore_time_parse(start, &tr->start) != APR_SUCCESS
        || calcore_time_parse(end, &tr->end) != APR_SUCCESS
        || tr->start >= tr->end) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             apr_pstrcat(r->pool, "C:", e->name,
                                         " needs UTC start and end "
                                         "attributes with start < end",
                                         NULL));
    }
    return NULL;
}

static dav_error *caldav_parse_caldata(request_rec *r, const apr_xml_doc *doc,
                                       const apr_xml_elem *e,
                                       calcore_caldata_t **out)
{
    const char *ctype = caldav_attr(e, "content-type");
    const char *version = caldav_attr(e, "version");
    calcore_caldata_t *spec;
    const apr_xml_elem *c;
    calcore_precond_e code;
    const char *reason;
    dav_error *err;
    int any = 0;

    if ((ctype && caldav_format_of(ctype) < 0)
        || (version && strcmp(version, "2.0") != 0)) {
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_SUPPORTED_CALENDAR_DATA,
                                    "calendar-data is text/calendar, "
                                    "application/calendar+json or "
                                    "application/calendar+xml, version 2.0",
                                    NULL);
    }
    spec = apr_pcalloc(r->pool, sizeof(*spec));
    for (c = e->first_child; c; c = c->next) {
        if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "comp")) {
            if ((err = caldav_parse_caldata_comp(r, doc, c, 0,
                                                 &spec->comp))) {
                return err;
            }
            any = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "expand")) {
            spec->expand = 1;
            if ((err = caldav_parse_range_attrs(r, c, &spec->expand_range))) {
                return err;
            }
            any = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "limit-recurrence-set")) {
            spec->limit_recurrence = 1;
            if ((err = caldav_parse_range_attrs(
                     r, c, &spec->limit_recurrence_range))) {
                return err;
            }
            any = 1;
        }
        else if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "limit-freebusy-set")) {
            spec->limit_freebusy = 1;
            if ((err = caldav_parse_range_attrs(
                     r, c, &spec->limit_freebusy_range))) {
                return err;
            }
            any = 1;
        }
    }
    if (spec->expand) {
        /* one C:expand may not write more instances than a PUT may hold */
        calcore_limits_t lim;

        caldav_server_limits(r, &lim);
        spec->max_instances = lim.max_instances;
    }
    if (any && calcore_caldata_check(spec, &code, &reason) != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             apr_pstrcat(r->pool, "Invalid C:calendar-data "
                                         "request: ", reason, NULL));
    }
    *out = any ? spec : NULL;
    return NULL;
}

/* The D:prop / D:allprop / D:propname of a report and its calendar-data. */
static dav_error *caldav_parse_props(caldav_report_ctx *ctx)
{
    const apr_xml_doc *doc = ctx->doc;
    const apr_xml_elem *prop, *c;
    dav_error *err;

    if ((prop = caldav_xml_child(doc->namespaces, doc->root, "DAV:", "prop")) != NULL) {
        ctx->props = CALDAV_PROPS_NAMED;
        for (c = prop->first_child; c; c = c->next) {
            if (caldav_xml_is(doc->namespaces, c, CALDAV_NS, "calendar-data")) {
                if ((err = caldav_parse_caldata(ctx->r, doc, c,
                                                &ctx->caldata))) {
                    return err;
                }
                ctx->format = caldav_format_of(caldav_attr(c,
                                                           "content-type"));
            }
        }
    }
    else if (caldav_xml_child(doc->namespaces, doc->root, "DAV:", "propname")) {
        ctx->props = CALDAV_PROPS_NAMES;
    }
    else {
        ctx->props = CALDAV_PROPS_ALL;
    }
    return NULL;
}

/* ---- streaming responses -------------------------------------------- */

static void caldav_send_resource(caldav_report_ctx *ctx, dav_resource *res,
                                 apr_pool_t *scratch)
{
    request_rec *r = ctx->r;
    dav_response resp;
    dav_propdb *db;
    dav_error *err;

    memset(&resp, 0, sizeof(resp));
    resp.href = res->uri;
    res->info->report = ctx;
    err = dav_popen_propdb(scratch, r, NULL, res, DAV_PROPDB_RO,
                           ctx->doc->namespaces, &db);
    if (err != NULL) {
        resp.status = HTTP_INTERNAL_SERVER_ERROR;
        dav_send_one_response(&resp, ctx->bb, r, scratch);
        return;
    }
    if (ctx->props == CALDAV_PROPS_NAMED) {
        resp.propresult = dav_get_props(db, (apr_xml_doc *)ctx->doc);
    }
    else {
        resp.propresult = dav_get_allprops(db, ctx->props == CALDAV_PROPS_ALL
                                               ? DAV_PROP_INSERT_VALUE
                                               : DAV_PROP_INSERT_NAME);
    }
    dav_close_propdb(db);
    dav_send_one_response(&resp, ctx->bb, r, scratch);
}

static void caldav_send_status(caldav_report_ctx *ctx, const char *href,
                               int status, apr_pool_t *scratch)
{
    dav_response resp;

    memset(&resp, 0, sizeof(resp));
    resp.href = href;
    resp.status = status;
    dav_send_one_response(&resp, ctx->bb, ctx->r, scratch);
}

/* calendar-data text in the requested format, as XML character data. */
static const char *caldav_caldata_out(const caldav_report_ctx *ctx,
                                      const dav_resource *resource,
                                      const char *text, apr_size_t len)
{
    const char *out, *reason = NULL;
    apr_size_t olen;

    if (ctx->format > CALDAV_FMT_ICAL) {
        if (caldav_format_convert(ctx->format, text, len, &out, &olen,
                                  &reason, resource->pool) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r,
                          "calendar-data of %s has no %s form: %s",
                          resource->uri, caldav_format_mime(ctx->format),
                          reason);
            return NULL;
        }
        text = out;
    }
    return caldav_xml_text(resource->pool, text);
}

const char *caldav_report_calendar_data(const dav_resource *resource)
{
    dav_resource_private *info = resource->info;
    const caldav_report_ctx *ctx = info->report;
    const char *text, *data, *reason;
    apr_size_t len;
    apr_status_t rv;

    if (ctx == NULL || !caldav_is_calendar_object(resource)) {
        return NULL;
    }
    if (info->obj == NULL && ctx->caldata == NULL) {
        /* the whole object is the stored bytes: no need to parse it */
        rv = calstore_read(info->st, info->node->id, &data, &len,
                           resource->pool);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r,
                          "calendar-data of %s could not be read",
                          resource->uri);
            return NULL;
        }
        return caldav_caldata_out(ctx, resource, data, len);
    }
    if (info->obj == NULL) {
        rv = calstore_read(info->st, info->node->id, &data, &len,
                           resource->pool);
        if (rv != APR_SUCCESS
            || calcore_object_load(&info->obj, &reason, data, len,
                                   resource->pool) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r,
                          "calendar-data of %s could not be read",
                          resource->uri);
            return NULL;
        }
    }
    if (calcore_caldata_render(ctx->caldata, info->obj, ctx->floating,
                               &text, &len, resource->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r,
                      "calendar-data of %s could not be rendered",
                      resource->uri);
        return NULL;
    }
    return caldav_caldata_out(ctx, resource, text, len);
}

/* ---- calendar-query ------------------------------------------------- */

typedef struct caldav_query_baton {
    caldav_report_ctx *ctx;
    const dav_resource *coll;
    int prefilter;                  /* the store was asked for a range    */
    calcore_time_t hs, he;          /* ... this one                       */
    calcore_comp_e simple_kind;     /* caldav_filter_simple()             */
    const calcore_timerange_t *simple_tr;
    apr_uint64_t zone;              /* calcore_tz_zone_id(ctx->floating)  */
} caldav_query_baton;


/* The common client query - one component kind, optionally with a
 * time-range, nothing else - can be decided on the index record alone:
 * returns the kind (and the range, NULL when none), or CALCORE_COMP_NONE. */
static calcore_comp_e caldav_filter_simple(const calcore_compfilter_t *root,
                                           const calcore_timerange_t **tr)
{
    const calcore_compfilter_t *c;
    calcore_comp_e kind;

    if (root->is_not_defined || root->time_range
        || root->prop_filters->nelts || root->comp_filters->nelts != 1) {
        return CALCORE_COMP_NONE;
    }
    c = APR_ARRAY_IDX(root->comp_filters, 0, calcore_compfilter_t *);
    if (c->is_not_defined || c->prop_filters->nelts
        || c->comp_filters->nelts) {
        return CALCORE_COMP_NONE;
    }
    kind = calcore_comp_from_name(c->name);
    *tr = c->time_range;
    return kind;
}

/* -1: the record cannot decide; else 0 or 1: does the object match the
 * simple filter (kind, tr)?  The record decides when it lists every
 * instance in the range and its times are those the query computes (no
 * floating or DATE values, or the record was built in the query's floating
 * zone): that is exactly what calcore_instance_overlaps() tests on an
 * object. */
static int caldav_record_decides(const calcore_index_t *idx,
                                 calcore_comp_e kind,
                                 const calcore_timerange_t *tr,
                                 apr_uint64_t zone)
{
    if (kind == CALCORE_COMP_NONE) {
        return -1;
    }
    if (idx->kind != kind) {
        return 0;
    }
    if (tr == NULL) {
        return 1;
    }
    if (!calcore_index_exact(idx, zone)
        || idx->kind == CALCORE_COMP_VFREEBUSY
        || !calcore_index_covers(idx, tr->start, tr->end)) {
        return -1;
    }
    return calcore_index_may_overlap(idx, tr->start, tr->end, zone);
}

/* Can the candidate be dropped on its index record alone, without reading
 * and parsing the object?  Only when the record proves that no instance
 * can lie in the range every match must have an instance in (the filter's
 * hint).  A record with floating times built in another zone than the
 * query's (an older calendar-timezone, a C:timezone) is widened. */
static int caldav_record_excludes(const caldav_query_baton *qb,
                                  const calcore_index_t *idx)
{
    calcore_time_t qs = qb->hs, qe = qb->he;

    if (!qb->prefilter || idx == NULL) {
        return 0;
    }
    if (!calcore_index_exact(idx, qb->zone)) {
        qs = qs > CALCORE_TIME_MIN + CALSTORE_FLOATING_SLACK
             ? qs - CALSTORE_FLOATING_SLACK : CALCORE_TIME_MIN;
        qe = qe < CALCORE_TIME_MAX - CALSTORE_FLOATING_SLACK
             ? qe + CALSTORE_FLOATING_SLACK : CALCORE_TIME_MAX;
    }
    return !calcore_index_may_overlap(idx, qs, qe, qb->zone);
}

/* A match decided without the object: proven by the store from an index
 * entry (an exact VEVENT instance overlaps the simple filter's range), or
 * by its record.  Sent without reading the body (calendar-data reads it if
 * asked). */
static apr_status_t caldav_query_proven(void *baton,
                                        const calstore_node_t *node,
                                        const void *record, apr_size_t rlen,
                                        apr_pool_t *scratch)
{
    caldav_query_baton *qb = baton;

    qb->ctx->matched++;
    caldav_send_resource(qb->ctx, caldav_member_resource(qb->coll, node,
                                                         scratch), scratch);
    return APR_SUCCESS;
}

static apr_status_t caldav_query_candidate(void *baton,
                                           const calstore_node_t *node,
                                           const void *record,
                                           apr_size_t rlen,
                                           apr_pool_t *scratch)
{
    caldav_query_baton *qb = baton;
    caldav_report_ctx *ctx = qb->ctx;
    dav_resource *res;
    const char *data, *reason;
    calcore_object_t *obj;
    apr_size_t len;
    apr_status_t rv;

    calcore_index_t *idx = NULL;
    int decided = -1;

    if (calcore_index_parse(&idx, record, rlen, scratch) != APR_SUCCESS) {
        idx = NULL;
    }
    if (caldav_record_excludes(qb, idx)) {
        return APR_SUCCESS;
    }
    if (idx) {
        decided = caldav_record_decides(idx, qb->simple_kind, qb->simple_tr,
                                        qb->zone);
    }
    if (decided == 0) {
        return APR_SUCCESS;
    }
    if (decided == 1) {
        /* decided without the object; calendar-data reads it if asked */
        return caldav_query_proven(qb, node, NULL, 0, scratch);
    }
    res = caldav_member_resource(qb->coll, node, scratch);

    rv = calstore_read(res->info->st, node->id, &data, &len, scratch);
    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;             /* deleted meanwhile */
    }
    if (rv != APR_SUCCESS) {
        caldav_send_status(ctx, res->uri, HTTP_INTERNAL_SERVER_ERROR,
                           scratch);
        return APR_SUCCESS;
    }
    if (calcore_object_load(&obj, &reason, data, len, scratch)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r,
                      "stored calendar object %s cannot be read: %s",
                      res->uri, reason);
        return APR_SUCCESS;
    }
    if (!calcore_filter_match(ctx->filter, obj, ctx->floating, scratch)) {
        return APR_SUCCESS;
    }
    res->info->obj = obj;
    ctx->matched++;
    caldav_send_resource(ctx, res, scratch);
    return APR_SUCCESS;
}

static dav_error *caldav_report_query(caldav_report_ctx *ctx)
{
    request_rec *r = ctx->r;
    const apr_xml_doc *doc = ctx->doc;
    const dav_resource *target = ctx->target;
    const apr_xml_elem *filter, *vcal, *tz;
    calcore_precond_e code;
    calcore_time_t hs, he;
    caldav_query_baton qb;
    const char *reason;
    apr_pool_t *scratch;
    unsigned mask;
    dav_error *err;
    apr_status_t rv;
    int depth = dav_get_depth(r, 0);

    if (depth < 0 || depth == DAV_INFINITY) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "calendar-query takes Depth: 0 or 1");
    }
    if ((filter = caldav_xml_child(doc->namespaces, doc->root, CALDAV_NS, "filter")) == NULL
        || (vcal = caldav_xml_child(doc->namespaces, filter, CALDAV_NS, "comp-filter"))
           == NULL) {
        return caldav_filter_error(r, CALCORE_PRECOND_VALID_FILTER,
                                   "calendar-query needs a C:filter with a "
                                   "C:comp-filter");
    }
    if ((err = caldav_parse_compfilter(r, doc, vcal, 0, &ctx->filter))) {
        return err;
    }
    if (calcore_filter_check(ctx->filter, &code, &reason, r->pool)
        != APR_SUCCESS) {
        return caldav_filter_error(r, code, reason);
    }
    if ((err = caldav_parse_props(ctx))) {
        return err;
    }

    /* floating times: the query's C:timezone, else the calendar's */
    if ((tz = caldav_xml_child(doc->namespaces, doc->root, CALDAV_NS, "timezone")) != NULL) {
        const char *text = caldav_elem_cdata(r->pool, tz);
        icaltimezone *zone;

        if (calcore_tz_parse_vtimezone(&zone, NULL, text, strlen(text),
                                       &reason, r->pool) != APR_SUCCESS) {
            return caldav_precond_error(r, HTTP_FORBIDDEN,
                                        CALCORE_PRECOND_VALID_CALENDAR_DATA,
                                        apr_pstrcat(r->pool, "Invalid "
                                                    "C:timezone: ", reason,
                                                    NULL), NULL);
        }
        ctx->floating = zone;
    }

    apr_pool_create(&scratch, r->pool);
    if (caldav_is_calendar(target->info->node) && depth == 1) {
        caldav_calendar_t *cal;

        if (tz == NULL) {
            if ((err = caldav_calendar_open(r, target->info->st,
                                            target->info->node, &cal))) {
                return err;
            }
            ctx->floating = cal->floating;
        }
        calcore_filter_hints(ctx->filter, &hs, &he, &mask);
        dav_begin_multistatus(ctx->bb, r, HTTP_MULTI_STATUS,
                              doc->namespaces);
        qb.ctx = ctx;
        qb.coll = target;
        qb.prefilter = !(hs == CALCORE_TIME_MIN && he == CALCORE_TIME_MAX);
        qb.hs = hs;
        qb.he = he;
        qb.simple_kind = caldav_filter_simple(ctx->filter, &qb.simple_tr);
        qb.zone = calcore_tz_zone_id(ctx->floating);
        if (hs == CALCORE_TIME_MIN && he == CALCORE_TIME_MAX) {
            rv = calstore_query_all(target->info->st, target->info->node->id,
                                    mask, caldav_query_candidate, &qb,
                                    scratch);
        }
        else {
            /* The store proves VEVENT matches from exact index entries
             * when the filter is one VEVENT comp-filter with a time-range
             * and nothing else, whose range the store is asked for. */
            int prove = qb.simple_kind == CALCORE_COMP_VEVENT
                        && qb.simple_tr != NULL
                        && qb.simple_tr->start == hs
                        && qb.simple_tr->end == he;

            rv = calstore_query_range_proven(
                target->info->st, target->info->node->id, hs, he, mask,
                caldav_query_candidate, prove ? caldav_query_proven : NULL,
                &qb, scratch);
        }
        if (rv != APR_SUCCESS) {
            /* the status is sent: mod_dav aborts the connection */
            return caldav_store_error(r, rv, "calendar-query failed");
        }
    }
    else if (caldav_is_calendar_object(target)) {
        dav_resource *res = (dav_resource *)target;
        const char *data;
        apr_size_t len;
        calcore_object_t *obj;

        if (tz == NULL) {
            calstore_node_t *parent;
            caldav_calendar_t *cal;

            if ((err = caldav_lookup_parent(r, target, &parent))) {
                return err;
            }
            if (parent && (err = caldav_calendar_open(r, target->info->st,
                                                      parent, &cal))) {
                return err;
            }
            ctx->floating = parent ? cal->floating : NULL;
        }
        rv = calstore_read(res->info->st, res->info->node->id, &data, &len,
                           r->pool);
        if (rv != APR_SUCCESS) {
            return caldav_store_error(r, rv, "Could not read the object");
        }
        if (calcore_object_load(&obj, &reason, data, len, r->pool)
            != APR_SUCCESS) {
            return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                                 "The stored object cannot be read");
        }
        dav_begin_multistatus(ctx->bb, r, HTTP_MULTI_STATUS,
                              doc->namespaces);
        if (calcore_filter_match(ctx->filter, obj, ctx->floating, scratch)) {
            res->info->obj = obj;
            caldav_send_resource(ctx, res, scratch);
        }
    }
    else {
        /* not a calendar: nothing here can match */
        dav_begin_multistatus(ctx->bb, r, HTTP_MULTI_STATUS,
                              doc->namespaces);
    }
    dav_finish_multistatus(r, ctx->bb);
    apr_pool_destroy(scratch);
    return NULL;
}

/* ---- calendar-multiget ---------------------------------------------- */

/* The store path of an href under our location, or NULL. */
static const char *caldav_href_path(request_rec *r, const dav_resource *base,
                                    const char *href)
{
    apr_uri_t uri;
    const char *root = base->info->root_uri;
    apr_size_t rlen = strlen(root);
    char *path;
    apr_size_t n;

    if (apr_uri_parse(r->pool, href, &uri) != APR_SUCCESS
        || uri.path == NULL || uri.query || uri.fragment) {
        return NULL;
    }
    path = apr_pstrdup(r->pool, uri.path);
    if (ap_unescape_url(path) != OK) {
        return NULL;
    }
    ap_getparents(path);
    if (strncmp(path, root, rlen) != 0
        || (path[rlen] != '/' && path[rlen] != '\0')) {
        return NULL;
    }
    path += rlen;
    while (*path == '/') {
        path++;
    }
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/') {
        path[--n] = '\0';
    }
    return path;
}

static dav_error *caldav_report_multiget(caldav_report_ctx *ctx)
{
    request_rec *r = ctx->r;
    const apr_xml_doc *doc = ctx->doc;
    const apr_xml_elem *e;
    apr_pool_t *scratch;
    dav_error *err;
    calstore_node_t *parent = NULL;
    caldav_calendar_t *cal;

    if ((err = caldav_parse_props(ctx))) {
        return err;
    }
    if (caldav_is_calendar(ctx->target->info->node)) {
        parent = ctx->target->info->node;
    }
    else if (caldav_is_calendar_object(ctx->target)) {
        if ((err = caldav_lookup_parent(r, ctx->target, &parent))) {
            return err;
        }
    }
    if (caldav_is_calendar(parent)) {
        if ((err = caldav_calendar_open(r, ctx->target->info->st, parent,
                                        &cal))) {
            return err;
        }
        ctx->floating = cal->floating;
    }

    apr_pool_create(&scratch, r->pool);
    dav_begin_multistatus(ctx->bb, r, HTTP_MULTI_STATUS, doc->namespaces);
    for (e = doc->root->first_child; e; e = e->next) {
        const char *href, *path;
        dav_resource *res;

        if (!caldav_xml_is(doc->namespaces, e, "DAV:", "href")) {
            continue;
        }
        apr_pool_clear(scratch);
        href = caldav_elem_cdata(scratch, e);
        while (*href == ' ' || *href == '\t' || *href == '\n'
               || *href == '\r') {
            href++;
        }
        href = apr_pstrndup(scratch, href, strcspn(href, " \t\r\n"));
        path = caldav_href_path(r, ctx->target, href);
        if (path == NULL) {
            caldav_send_status(ctx, href, HTTP_NOT_FOUND, scratch);
            continue;
        }
        if ((err = caldav_resolve(r, ctx->target->info->st,
                                  ctx->target->info->root_uri, path,
                                  &res)) != NULL) {
            caldav_send_status(ctx, href, err->status, scratch);
            continue;
        }
        if (caldav_check_access(r, path, href, 0) != NULL) {
            caldav_send_status(ctx, href, HTTP_FORBIDDEN, scratch);
            continue;
        }
        if (!res->exists) {
            caldav_send_status(ctx, href, HTTP_NOT_FOUND, scratch);
            continue;
        }
        res->pool = scratch;
        caldav_send_resource(ctx, res, scratch);
    }
    dav_finish_multistatus(r, ctx->bb);
    apr_pool_destroy(scratch);
    return NULL;
}

/* ---- free-busy-query ------------------------------------------------ */

typedef struct caldav_fb_baton {
    request_rec *r;
    calcore_fb_t *fb;
    calcore_timerange_t range;
    calstore_t *st;
    const char *path;               /* of the collection being listed     */
    const icaltimezone *floating;   /* of the calendar being read         */
    apr_uint64_t zone;              /* calcore_tz_zone_id(floating)       */
} caldav_fb_baton;

static apr_status_t caldav_fb_candidate(void *baton,
                                        const calstore_node_t *node,
                                        const void *record, apr_size_t rlen,
                                        apr_pool_t *scratch)
{
    caldav_fb_baton *fb = baton;
    calcore_index_t *idx = NULL;
    calcore_object_t *obj;
    const char *data, *reason;
    apr_size_t len;
    apr_status_t rv;

    if (calcore_index_parse(&idx, record, rlen, scratch) == APR_SUCCESS
        && idx->kind != CALCORE_COMP_VAVAILABILITY
        && calcore_index_exact(idx, fb->zone)
        && calcore_index_covers(idx, fb->range.start, fb->range.end)) {
        return calcore_fb_add_record(fb->fb, idx);
    }
    /* the record does not cover the range, or its floating times were
     * computed in another zone than the calendar's: read the object */
    rv = calstore_read(fb->st, node->id, &data, &len, scratch);
    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (calcore_object_load(&obj, &reason, data, len, scratch)
        != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    return calcore_fb_add_object(fb->fb, obj, fb->floating, scratch);
}

static apr_status_t caldav_fb_calendar(caldav_fb_baton *fb,
                                       const calstore_node_t *coll,
                                       apr_pool_t *scratch)
{
    caldav_calendar_t *cal;
    dav_error *err;

    if ((err = caldav_calendar_open(fb->r, fb->st, coll, &cal))) {
        return APR_EGENERAL;
    }
    fb->floating = cal->floating;
    fb->zone = calcore_tz_zone_id(cal->floating);
    return calstore_query_range(fb->st, coll->id, fb->range.start,
                                fb->range.end,
                                CALCORE_COMP_VEVENT | CALCORE_COMP_VFREEBUSY
                                | CALCORE_COMP_VAVAILABILITY,
                                caldav_fb_candidate, fb, scratch);
}

static apr_status_t caldav_fb_child(void *baton, const calstore_node_t *node,
                                    apr_pool_t *scratch)
{
    caldav_fb_baton *fb = baton;
    const char *path;

    if (!caldav_is_calendar(node)) {
        return APR_SUCCESS;
    }
    /* only the calendars whose free/busy time the user may read */
    path = *fb->path ? apr_pstrcat(scratch, fb->path, "/", node->name, NULL)
                     : node->name;
    if (caldav_access_level(fb->r, path) < CALDAV_ACCESS_FREEBUSY) {
        return APR_SUCCESS;
    }
    return caldav_fb_calendar(fb, node, scratch);
}

apr_status_t caldav_freebusy_collect(request_rec *r, calstore_t *st,
                                     const char *path,
                                     const calstore_node_t *node,
                                     calcore_fb_t *fb)
{
    caldav_fb_baton b;
    apr_pool_t *scratch;
    apr_status_t rv;

    memset(&b, 0, sizeof(b));
    b.r = r;
    b.fb = fb;
    calcore_fb_range(fb, &b.range.start, &b.range.end);
    b.st = st;
    b.path = path;
    apr_pool_create(&scratch, r->pool);
    if (caldav_is_calendar(node)) {
        rv = caldav_fb_calendar(&b, node, scratch);
    }
    else {
        rv = calstore_list(st, node->id, caldav_fb_child, &b, scratch);
    }
    apr_pool_destroy(scratch);
    return rv;
}

static dav_error *caldav_report_freebusy(caldav_report_ctx *ctx)
{
    request_rec *r = ctx->r;
    const apr_xml_doc *doc = ctx->doc;
    const dav_resource *target = ctx->target;
    const apr_xml_elem *tr;
    calcore_timerange_t *range;
    calcore_fb_t *fb;
    apr_bucket_brigade *bb;
    const char *text;
    apr_size_t len;
    apr_status_t rv;
    dav_error *err;
    int depth = dav_get_depth(r, 1);

    if ((tr = caldav_xml_child(doc->namespaces, doc->root, CALDAV_NS, "time-range"))
        == NULL) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "free-busy-query needs a C:time-range");
    }
    if ((err = caldav_parse_timerange(r, tr, &range))) {
        return err;
    }
    if (range->start == CALCORE_TIME_MIN || range->end == CALCORE_TIME_MAX) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "free-busy-query needs both start and end");
    }
    if (depth < 0) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "Invalid Depth header");
    }
    if (!caldav_is_calendar(target->info->node)
        && !(target->collection && depth != 0)) {
        return dav_new_error(r->pool, HTTP_FORBIDDEN, 0, 0,
                             "free-busy-query applies to calendar "
                             "collections");
    }
    fb = calcore_fb_create(range->start, range->end, r->pool);
    rv = caldav_freebusy_collect(r, target->info->st, target->info->path,
                                 target->info->node, fb);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "free-busy-query failed");
    }
    if (calcore_fb_render(fb, &text, &len, r->pool) != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             "Could not compute free/busy time");
    }

    r->status = HTTP_OK;
    ap_set_content_type(r, "text/calendar; charset=utf-8");
    ap_set_content_length(r, len);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_write(bb, NULL, NULL, text, len);
    APR_BRIGADE_INSERT_TAIL(bb,
                            apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return NULL;
}

/* ---- sync-collection (RFC 6578) ------------------------------------- */

#define CALDAV_SYNC_PREFIX "urn:x-mod-caldav:sync:"

const char *caldav_sync_token(apr_pool_t *p, const calstore_node_t *coll)
{
    return apr_psprintf(p, CALDAV_SYNC_PREFIX "%" APR_UINT64_T_FMT ":%"
                        APR_UINT64_T_FMT, coll->id, coll->revision);
}

/* Parse a client's token for collection 'coll': 1 on success (seq in
 * *since; the empty token is 0), 0 if it is not ours or not for 'coll'. */
static int caldav_parse_sync_token(const char *text,
                                   const calstore_node_t *coll,
                                   apr_uint64_t *since)
{
    apr_uint64_t id, seq;
    char *end;

    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n') {
        text++;
    }
    if (*text == '\0') {
        *since = 0;
        return 1;
    }
    if (strncmp(text, CALDAV_SYNC_PREFIX, strlen(CALDAV_SYNC_PREFIX)) != 0) {
        return 0;
    }
    text += strlen(CALDAV_SYNC_PREFIX);
    id = apr_strtoi64(text, &end, 10);
    if (end == text || *end != ':' || id != coll->id) {
        return 0;
    }
    text = end + 1;
    seq = apr_strtoi64(text, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') {
        end++;
    }
    if (end == text || *end != '\0') {
        return 0;
    }
    *since = seq;
    return 1;
}

typedef struct caldav_sync_item {
    const char *name;
    int removed;
} caldav_sync_item;

static apr_status_t caldav_sync_collect(void *baton,
                                        const calstore_change_t *ch,
                                        apr_pool_t *scratch)
{
    apr_array_header_t *items = baton;
    caldav_sync_item *it = apr_array_push(items);

    it->name = apr_pstrdup(items->pool, ch->name);
    it->removed = ch->removed;
    return APR_SUCCESS;
}

static dav_error *caldav_sync_error(request_rec *r, int status,
                                    const char *tag, const char *why)
{
    return dav_new_error_tag(r->pool, status, 0, 0, why, NULL, tag);
}

static dav_error *caldav_report_sync(caldav_report_ctx *ctx)
{
    request_rec *r = ctx->r;
    const apr_xml_doc *doc = ctx->doc;
    const dav_resource *target = ctx->target;
    const apr_xml_elem *e;
    apr_array_header_t *items;
    apr_uint64_t since = 0, now = 0;
    apr_pool_t *scratch;
    unsigned limit = 0;
    const char *level;
    int truncated = 0, i;
    apr_status_t rv;
    dav_error *err;
    const char *depth = apr_table_get(r->headers_in, "Depth");

    /* RFC 6578 3.2 wants Depth: 0, but python-caldav 0.11 (Debian 12)
     * and others send 1; the depth is DAV:sync-level's either way, so 1
     * is taken as 0.  Only infinity is refused. */
    if (depth && strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "sync-collection is sent with Depth: 0 (the "
                             "depth is in DAV:sync-level)");
    }
    if (!target->collection) {
        return caldav_sync_error(r, HTTP_FORBIDDEN, "supported-report",
                                 "sync-collection applies to collections");
    }
    e = caldav_xml_child(doc->namespaces, doc->root, "DAV:", "sync-level");
    if (e) {
        char *l = apr_pstrdup(r->pool, caldav_elem_cdata(r->pool, e));

        apr_collapse_spaces(l, l);      /* in place; returns the end */
        level = l;
    }
    else {
        level = "1";
    }
    if (strcmp(level, "1") != 0) {
        return caldav_sync_error(r, HTTP_FORBIDDEN, "sync-traversal-supported",
                                 "Only sync-level 1 is supported");
    }
    e = caldav_xml_child(doc->namespaces, doc->root, "DAV:", "sync-token");
    if (e == NULL
        || !caldav_parse_sync_token(caldav_elem_cdata(r->pool, e),
                                    target->info->node, &since)) {
        return caldav_sync_error(r, HTTP_FORBIDDEN, "valid-sync-token",
                                 "The sync token is not one of this "
                                 "collection; sync again with an empty "
                                 "token");
    }
    if ((e = caldav_xml_child(doc->namespaces, doc->root, "DAV:", "limit")) != NULL) {
        const apr_xml_elem *n = caldav_xml_child(doc->namespaces, e, "DAV:", "nresults");
        char *end;
        long v = n ? strtol(caldav_elem_cdata(r->pool, n), &end, 10) : -1;

        if (v <= 0) {
            return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                                 "DAV:limit needs a positive DAV:nresults");
        }
        limit = (unsigned)v;
    }
    if ((err = caldav_parse_props(ctx))) {
        return err;
    }

    /* Everything is decided before the first byte: collect, then stream. */
    items = apr_array_make(r->pool, 64, sizeof(caldav_sync_item));
    rv = calstore_changes(target->info->st, target->info->node->id, since,
                          limit, caldav_sync_collect, items, &now,
                          &truncated, r->pool);
    if (rv == CALSTORE_ETOKEN) {
        return caldav_sync_error(r, HTTP_FORBIDDEN, "valid-sync-token",
                                 "The sync token is too old (its changes "
                                 "were pruned) or unknown; sync again with "
                                 "an empty token");
    }
    if (rv == CALSTORE_ELIMIT) {
        return caldav_sync_error(r, HTTP_INSUFFICIENT_STORAGE,
                                 "number-of-matches-within-limits",
                                 "Too many changes for the requested "
                                 "limit; ask without DAV:limit");
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "sync-collection failed");
    }

    apr_pool_create(&scratch, r->pool);
    dav_begin_multistatus(ctx->bb, r, HTTP_MULTI_STATUS, doc->namespaces);
    for (i = 0; i < items->nelts; i++) {
        caldav_sync_item *it = &APR_ARRAY_IDX(items, i, caldav_sync_item);
        calstore_node_t *node;
        const char *path, *href;

        apr_pool_clear(scratch);
        href = apr_pstrcat(scratch, target->uri, it->name, NULL);
        path = *target->info->path
            ? apr_pstrcat(scratch, target->info->path, "/", it->name, NULL)
            : it->name;
        if (caldav_check_access(r, path, href, 0) != NULL) {
            continue;   /* a member the user may not see (another user's
                           home in the homes collection, ...) */
        }
        if (it->removed) {
            caldav_send_status(ctx, href, HTTP_NOT_FOUND, scratch);
            continue;
        }
        if (calstore_lookup(target->info->st, path, &node, NULL, scratch)
            != APR_SUCCESS) {
            continue;   /* gone meanwhile: its removal comes next time */
        }
        caldav_send_resource(ctx, caldav_member_resource(target, node,
                                                         scratch), scratch);
    }
    if (truncated) {
        /* RFC 6578 3.6: more changes remain; continue from the token */
        ap_fputstrs(r->output_filters, ctx->bb, "<D:response><D:href>",
                    apr_xml_quote_string(r->pool,
                                         ap_escape_uri(r->pool, target->uri),
                                         0),
                    "</D:href><D:status>HTTP/1.1 507 Insufficient Storage"
                    "</D:status><D:error><D:number-of-matches-within-limits/>"
                    "</D:error></D:response>\n", NULL);
    }
    ap_fputstrs(r->output_filters, ctx->bb, "<D:sync-token>",
                apr_psprintf(r->pool, CALDAV_SYNC_PREFIX "%" APR_UINT64_T_FMT
                             ":%" APR_UINT64_T_FMT, target->info->node->id,
                             now),
                "</D:sync-token>\n</D:multistatus>\n", NULL);
    APR_BRIGADE_INSERT_TAIL(ctx->bb,
                            apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, ctx->bb);
    apr_pool_destroy(scratch);
    return NULL;
}

/* ---- dispatch ------------------------------------------------------- */

static int caldav_deliver_report(request_rec *r, const dav_resource *resource,
                                 const apr_xml_doc *doc, ap_filter_t *output,
                                 dav_error **err)
{
    caldav_report_ctx *ctx;
    const apr_xml_elem *root = doc->root;

    if (resource->hooks != &caldav_hooks_repository) {
        return DECLINED;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->doc = doc;
    ctx->target = resource;
    ctx->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    if (!caldav_xml_is(doc->namespaces, root, CALDAV_NS, "free-busy-query")
        && (*err = caldav_check_access(r, resource->info->path,
                                       resource->uri, 0)) != NULL) {
        return OK;              /* the request-level check let a
                                   read-free-busy grantee through */
    }
    if (caldav_xml_is(doc->namespaces, root, CALDAV_NS, "calendar-query")) {
        *err = caldav_report_query(ctx);
    }
    else if (caldav_xml_is(doc->namespaces, root, CALDAV_NS, "calendar-multiget")) {
        *err = caldav_report_multiget(ctx);
    }
    else if (caldav_xml_is(doc->namespaces, root, CALDAV_NS, "free-busy-query")) {
        *err = caldav_report_freebusy(ctx);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "sync-collection")) {
        *err = caldav_report_sync(ctx);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "expand-property")) {
        *err = caldav_report_expand_property(r, resource, doc);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "principal-property-search")) {
        *err = caldav_report_principal_property_search(r, resource, doc);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "principal-search-property-set")) {
        *err = caldav_report_principal_search_property_set(r, resource, doc);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "principal-match")) {
        *err = caldav_report_principal_match(r, resource, doc);
    }
    else if (caldav_xml_is(doc->namespaces, root, "DAV:", "acl-principal-prop-set")) {
        *err = caldav_report_acl_principal_prop_set(r, resource, doc);
    }
    else {
        *err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                 apr_pstrcat(r->pool, "The report ",
                                             root->name, " is not supported "
                                             "here", NULL),
                                 NULL, "supported-report");
    }
    return OK;
}

void caldav_report_register(apr_pool_t *p)
{
    dav_hook_deliver_report(caldav_deliver_report, NULL, NULL,
                            APR_HOOK_MIDDLE);
}
