/*
 * caldav_calendar.c - calendar collections and calendar object resources
 * (RFC 4791 4, 5.3): limits, precondition errors, validating and indexing a
 * calendar object before it is stored.
 *
 * The iCalendar rules live in core/ (calcore_object_parse validates,
 * calcore_index_build maps attributes); what the store indexes is built by
 * repos/calstore_calinfo.c, shared with caldavctl; the store keeps the
 * client's bytes, the UID and time-range indexes and the record in the same
 * transaction (calstore_put_ex).  Here we only gather the collection's
 * limits (the directives over calstore's defaults), call core and the
 * store, and turn core's precondition codes into DAV:error bodies.
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
    return calstore_calendar_comps(coll);
}

void caldav_server_limits(request_rec *r, calcore_limits_t *limits)
{
    const caldav_server_conf *conf = caldav_server_config(r->server);

    calstore_limits_default(limits);
    limits->max_resource_size = (apr_size_t)caldav_max_resource_size(conf);
    if (conf->min_date_time) {
        limits->min_date_time = conf->min_date_time;
    }
    if (conf->max_date_time) {
        limits->max_date_time = conf->max_date_time;
    }
    if (conf->max_instances) {
        limits->max_instances = conf->max_instances;
    }
    if (conf->max_attendees) {
        limits->max_attendees_per_instance = conf->max_attendees;
    }
}

apr_off_t caldav_max_resource_size(const caldav_server_conf *conf)
{
    return conf->max_resource_size ? conf->max_resource_size
                                   : CALSTORE_DEFAULT_MAX_RESOURCE_SIZE;
}

/* ---- the calendar-timezone property ------------------------------------ */

int caldav_xml_is(const apr_array_header_t *nss, const apr_xml_elem *e,
                  const char *ns, const char *name)
{
    return strcmp(e->name, name) == 0
           && strcmp(e->ns < 0 ? "" : APR_XML_GET_URI_ITEM(nss, e->ns),
                     ns) == 0;
}

const apr_xml_elem *caldav_xml_child(const apr_array_header_t *nss,
                                     const apr_xml_elem *e, const char *ns,
                                     const char *name)
{
    const apr_xml_elem *c;

    for (c = e->first_child; c; c = c->next) {
        if (caldav_xml_is(nss, c, ns, name)) {
            return c;
        }
    }
    return NULL;
}

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

dav_error *caldav_calendar_open(request_rec *r, calstore_t *st,
                                const calstore_node_t *coll,
                                caldav_calendar_t **result)
{
    caldav_calendar_t *cal = apr_pcalloc(r->pool, sizeof(*cal));
    const char *problem;
    apr_status_t rv;

    cal->node = coll;
    caldav_server_limits(r, &cal->limits);
    cal->limits.components = caldav_comp_mask(coll);

    rv = calstore_calendar_floating(st, coll, &cal->floating, &problem,
                                    r->pool);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not read the calendar");
    }
    if (problem) {
        /* validated when it was set; tzdata may have changed since */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "calendar-timezone of %s is unusable (%s); "
                      "floating times are read as UTC",
                      coll->name, problem);
    }
    cal->limits.floating = cal->floating;
    *result = cal;
    return NULL;
}

/* ---- validating and indexing an object -------------------------------- */

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
    calcore_object_t *obj;
    const char *reason = NULL;
    apr_status_t rv;
    char buf[128];

    rv = calcore_object_parse(&obj, &code, &reason, data, len, &cal->limits,
                              r->pool);
    if (rv == CALCORE_EINVALID) {
        return caldav_precond_error(r, HTTP_FORBIDDEN, code, reason, NULL);
    }
    if (rv != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             apr_pstrcat(r->pool, "Could not parse the "
                                         "calendar object: ",
                                         calcore_strerror(rv, buf,
                                                          sizeof(buf)),
                                         NULL));
    }
    /* the same index data caldavctl writes (repos/calstore_calinfo.c) */
    rv = calstore_calinfo_build(info, obj, cal->floating, r->pool);
    if (rv != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             apr_pstrcat(r->pool, "Could not index the "
                                         "calendar object: ",
                                         calcore_strerror(rv, buf,
                                                          sizeof(buf)),
                                         NULL));
    }
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
