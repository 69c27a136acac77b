/*
 * caldav_repos.c - the mod_dav repository hooks over the Berkeley DB store.
 *
 * URL mapping: the DAV location (mod_dav's root_dir, e.g. "/dav") is the
 * root collection of the store; "/dav/a/b.ics" is store path "a/b.ics".
 * r->uri is already URL-decoded, so store paths are decoded too.
 * Collections' resource->uri always ends in '/', other resources' never.
 *
 * Every write hook is one store call, which is one transaction.  Conditional
 * requests are re-checked inside that transaction (calstore_cond_t), so a
 * concurrent writer between mod_dav's If-Match check and our commit gives
 * 412 instead of a lost update.
 */
#include <apr_strings.h>
#include <apr_buckets.h>
#include <apr_date.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_caldav.h"

/* ---- helpers ------------------------------------------------------- */

void caldav_format_iso8601(apr_time_t t, char *buf)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    apr_snprintf(buf, CALDAV_TIMEBUF_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void caldav_format_rfc1123(apr_time_t t, char *buf)
{
    apr_rfc822_date(buf, t);
}

dav_error *caldav_store_error(request_rec *r, apr_status_t rv,
                              const char *what)
{
    char buf[256];
    const char *why = calstore_strerror(rv, buf, sizeof(buf));
    int status;

    switch (rv) {
    case CALSTORE_ENOENT:    status = HTTP_NOT_FOUND; break;
    case CALSTORE_EEXIST:    status = HTTP_PRECONDITION_FAILED; break;
    case CALSTORE_ENOPARENT: status = HTTP_CONFLICT; break;
    case CALSTORE_EISCOLL:   status = HTTP_CONFLICT; break;
    case CALSTORE_ENOTCOLL:  status = HTTP_CONFLICT; break;
    case CALSTORE_ECHANGED:  status = HTTP_PRECONDITION_FAILED; break;
    case CALSTORE_EINVAL:    status = HTTP_BAD_REQUEST; break;
    case CALSTORE_ENESTED:
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_CALENDAR_COLLECTION_LOCATION_OK,
                                    apr_psprintf(r->pool, "%s: collections "
                                                 "cannot be nested inside a "
                                                 "calendar collection", what),
                                    NULL);
    case CALSTORE_ENOTCALOBJ:
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_VALID_CALENDAR_DATA,
                                    apr_psprintf(r->pool, "%s: only calendar "
                                                 "object resources can be "
                                                 "stored in a calendar "
                                                 "collection", what), NULL);
    case CALSTORE_EBUSY:
    case CALSTORE_EPANIC:
        status = HTTP_SERVICE_UNAVAILABLE;
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        break;
    default:                 status = HTTP_INTERNAL_SERVER_ERROR; break;
    }
    /* our own codes mean nothing to apr_strerror(): the text says it all */
    return dav_new_error(r->pool, status, 0,
                         rv >= CALSTORE_START && rv < CALSTORE_START + 100
                         ? 0 : rv,
                         apr_psprintf(r->pool, "%s: %s", what, why));
}

int caldav_request_is_conditional(request_rec *r)
{
    const request_rec *m = r->main ? r->main : r;

    return apr_table_get(m->headers_in, "If-Match") != NULL
        || apr_table_get(m->headers_in, "If-None-Match") != NULL
        || apr_table_get(m->headers_in, "If-Unmodified-Since") != NULL
        || apr_table_get(m->headers_in, "If") != NULL;
}

/* The commit-time condition for a write to 'res': what the request saw. */
static const calstore_cond_t *caldav_cond(const dav_resource *res,
                                          calstore_cond_t *cond)
{
    if (!caldav_request_is_conditional(res->info->r)) {
        return NULL;
    }
    if (res->info->node) {
        cond->id = res->info->node->id;
        cond->revision = res->info->node->revision;
    }
    else {
        cond->id = 0;
        cond->revision = 0;
    }
    return cond;
}

static const char *caldav_child_uri(apr_pool_t *p, const char *parent_uri,
                                    const char *name, int collection)
{
    return apr_pstrcat(p, parent_uri, name, collection ? "/" : "", NULL);
}

static dav_resource *caldav_make_resource(request_rec *r, apr_pool_t *pool,
                                          calstore_t *st,
                                          const char *root_uri,
                                          const char *path,
                                          calstore_node_t *node,
                                          const char *uri)
{
    dav_resource *res = apr_pcalloc(pool, sizeof(*res));
    dav_resource_private *info = apr_pcalloc(pool, sizeof(*info));

    info->r = r;
    info->st = st;
    info->root_uri = root_uri;
    info->path = path;
    info->node = node;

    res->type = DAV_RESOURCE_TYPE_REGULAR;
    res->exists = node != NULL;
    res->collection = node != NULL && node->kind == CALSTORE_KIND_COLLECTION;
    res->uri = uri;
    res->info = info;
    res->hooks = &caldav_hooks_repository;
    res->pool = pool;
    return res;
}

/* ---- the request's lookup cache ---------------------------------------
 *
 * mod_dav asks for the same nodes several times in one request (a PUT: the
 * resource, then its parent for the precondition checks, then again for
 * auto-versioning; the calendar checks read the parent once more).  Each
 * answer is kept for the rest of the request (in the main request, so its
 * subrequests share it), keyed by store path; a lookup also brings the
 * parent collection along.  Every write through this module forgets the
 * whole cache (caldav_lookup_forget), so a request never sees its own
 * writes stale.  Writes by other requests may be missed exactly as they
 * could be between two uncached lookups: a write transaction re-checks
 * what it depends on. */

typedef struct lookup_entry {
    calstore_node_t *node;      /* NULL: no such node                       */
    int parent_exists;          /* when node is NULL                        */
} lookup_entry;

typedef struct lookup_cache {
    calstore_t *st;
    apr_hash_t *map;            /* store path -> lookup_entry               */
} lookup_cache;

static request_rec *main_request(request_rec *r)
{
    while (r->main) {
        r = r->main;
    }
    return r;
}

static lookup_cache *cache_for(request_rec *r, calstore_t *st, int create)
{
    request_rec *m = main_request(r);
    lookup_cache *c = ap_get_module_config(m->request_config,
                                           &caldav_module);

    if (c && c->st != st) {
        return NULL;            /* another store: not cached               */
    }
    if (!c && create) {
        c = apr_pcalloc(m->pool, sizeof(*c));
        c->st = st;
        c->map = apr_hash_make(m->pool);
        ap_set_module_config(m->request_config, &caldav_module, c);
    }
    return c;
}

void caldav_lookup_forget(request_rec *r)
{
    request_rec *m = main_request(r);
    lookup_cache *c = ap_get_module_config(m->request_config,
                                           &caldav_module);

    if (c) {
        apr_hash_clear(c->map);
    }
}

/* Look up 'path' (cached).  *node is NULL when there is no such node. */
static apr_status_t cached_lookup(request_rec *r, calstore_t *st,
                                  const char *path, calstore_node_t **node,
                                  int *parent_exists)
{
    lookup_cache *c = cache_for(r, st, 1);
    lookup_entry *e;
    calstore_node_t *parent = NULL;
    apr_pool_t *p;
    apr_status_t rv;

    if (c && (e = apr_hash_get(c->map, path, APR_HASH_KEY_STRING))) {
        *node = e->node;
        *parent_exists = e->parent_exists;
        return APR_SUCCESS;
    }
    p = main_request(r)->pool;
    rv = calstore_lookup_ex(st, path, node, &parent, p);
    if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
        return rv;
    }
    *parent_exists = *node == NULL && parent != NULL;
    if (c) {
        const char *slash = strrchr(path, '/');

        e = apr_palloc(p, sizeof(*e));
        e->node = *node;
        e->parent_exists = *parent_exists;
        apr_hash_set(c->map, apr_pstrdup(p, path), APR_HASH_KEY_STRING, e);
        if (parent && *path) {
            e = apr_palloc(p, sizeof(*e));
            e->node = parent;
            e->parent_exists = 0;
            apr_hash_set(c->map,
                         slash ? apr_pstrndup(p, path, slash - path) : "",
                         APR_HASH_KEY_STRING, e);
        }
    }
    return APR_SUCCESS;
}

dav_error *caldav_lookup_node(request_rec *r, calstore_t *st,
                              const char *path, calstore_node_t **node)
{
    int parent_exists;
    apr_status_t rv = cached_lookup(r, st, path, node, &parent_exists);

    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not look up the resource");
    }
    return NULL;
}

/* Resolve store path 'path' below 'root_uri' into a resource. */
dav_error *caldav_resolve(request_rec *r, calstore_t *st,
                                 const char *root_uri, const char *path,
                                 dav_resource **result)
{
    calstore_node_t *node = NULL;
    int parent_exists = 0;
    apr_status_t rv;
    const char *uri;
    dav_resource *res;

    rv = cached_lookup(r, st, path, &node, &parent_exists);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not look up the resource");
    }

    if (*path == '\0') {
        uri = apr_pstrcat(r->pool, root_uri, "/", NULL);
    }
    else if (node && node->kind == CALSTORE_KIND_COLLECTION) {
        uri = apr_pstrcat(r->pool, root_uri, "/", path, "/", NULL);
    }
    else {
        uri = apr_pstrcat(r->pool, root_uri, "/", path, NULL);
    }
    res = caldav_make_resource(r, r->pool, st, root_uri, path, node, uri);
    res->info->parent_exists = parent_exists;
    *result = res;
    return NULL;
}

int caldav_is_calendar_object(const dav_resource *res)
{
    return res->exists && !res->collection
           && (res->info->node->flags & CALSTORE_RES_COMP_MASK) != 0;
}

/* ---- resource lookup ----------------------------------------------- */

static dav_error *caldav_get_resource(request_rec *r, const char *root_dir,
                                      const char *label, int use_checked_in,
                                      dav_resource **result)
{
    caldav_dir_conf *conf =
        ap_get_module_config(r->per_dir_config, &caldav_module);
    calstore_t *st;
    const char *root_uri, *path;
    apr_size_t rlen, plen;
    dav_error *err;

    if (conf->store_dir == NULL) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             "DAV caldav is enabled here but no CalDAVStore "
                             "is configured for this location");
    }
    if ((st = caldav_store_for(conf->store_dir)) == NULL) {
        apr_table_setn(r->err_headers_out, "Retry-After", "30");
        return dav_new_error(r->pool, HTTP_SERVICE_UNAVAILABLE, 0, 0,
                             apr_pstrcat(r->pool, "The store ",
                                         conf->store_dir, " is not open in "
                                         "this process (see the error log "
                                         "at startup)", NULL));
    }

    /* root_dir is the location path; strip trailing slashes */
    rlen = strlen(root_dir);
    while (rlen > 0 && root_dir[rlen - 1] == '/') {
        rlen--;
    }
    root_uri = apr_pstrndup(r->pool, root_dir, rlen);

    if (strncmp(r->uri, root_uri, rlen) != 0
        || (r->uri[rlen] != '\0' && r->uri[rlen] != '/')) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             "The request URI is outside the DAV location");
    }
    path = r->uri + rlen;
    while (*path == '/') {
        path++;
    }
    plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/') {
        plen--;
    }
    path = apr_pstrndup(r->pool, path, plen);

    if ((err = caldav_resolve(r, st, root_uri, path, result)) != NULL) {
        return err;
    }
    if ((*result)->exists) {
        /* lets ap_meets_conditions() judge If-(Un)Modified-Since */
        ap_update_mtime(r, (*result)->info->node->modified);
    }
    return NULL;
}

static dav_error *caldav_get_parent_resource(const dav_resource *resource,
                                             dav_resource **parent)
{
    dav_resource_private *info = resource->info;
    const char *slash;
    const char *ppath;

    if (*info->path == '\0') {
        *parent = NULL;
        return NULL;
    }
    slash = strrchr(info->path, '/');
    ppath = slash ? apr_pstrndup(info->r->pool, info->path,
                                 slash - info->path)
                  : "";
    return caldav_resolve(info->r, info->st, info->root_uri, ppath, parent);
}

static int caldav_same_store(const dav_resource *a, const dav_resource *b)
{
    return a->hooks == b->hooks && a->info->st == b->info->st;
}

static int caldav_is_same_resource(const dav_resource *res1,
                                   const dav_resource *res2)
{
    return caldav_same_store(res1, res2)
        && strcmp(res1->info->path, res2->info->path) == 0;
}

/* Is res1 an ancestor of res2? */
static int caldav_is_parent_resource(const dav_resource *res1,
                                     const dav_resource *res2)
{
    const char *p1 = res1->info->path, *p2 = res2->info->path;
    apr_size_t n = strlen(p1);

    if (!caldav_same_store(res1, res2)) {
        return 0;
    }
    if (n == 0) {
        return *p2 != '\0';
    }
    return strncmp(p1, p2, n) == 0 && p2[n] == '/';
}

/* ---- PUT ----------------------------------------------------------- */

struct dav_stream {
    const dav_resource *res;
    apr_bucket_brigade *bb;
    apr_off_t size;
    apr_off_t limit;
    calstore_node_t *parent;        /* the parent collection              */
    int in_calendar;                /* ... is a calendar collection        */
};

/* The URI of the collection containing 'res' (ends in '/'). */
static const char *caldav_parent_uri(apr_pool_t *p, const dav_resource *res)
{
    const char *uri = res->uri;
    apr_size_t n = strlen(uri);

    if (n > 1 && uri[n - 1] == '/') {
        n--;
    }
    while (n > 0 && uri[n - 1] != '/') {
        n--;
    }
    return apr_pstrndup(p, uri, n);
}

static dav_error *caldav_open_stream(const dav_resource *resource,
                                     dav_stream_mode mode,
                                     dav_stream **stream)
{
    request_rec *r = resource->info->r;
    const caldav_server_conf *sconf = caldav_server_config(r->server);
    dav_error *err;
    dav_stream *s;

    if (resource->collection) {
        return dav_new_error(r->pool, HTTP_CONFLICT, 0, 0,
                             "Cannot PUT to a collection");
    }
    if (!resource->exists && !resource->info->parent_exists) {
        return dav_new_error(r->pool, HTTP_CONFLICT, 0, 0,
                             "The parent collection of the resource does "
                             "not exist (create it with MKCOL first)");
    }
    s = apr_pcalloc(r->pool, sizeof(*s));
    s->res = resource;
    s->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    s->limit = caldav_max_resource_size(sconf);
    if ((err = caldav_lookup_parent(r, resource, &s->parent)) != NULL) {
        return err;
    }
    s->in_calendar = caldav_is_calendar(s->parent);
    if (s->in_calendar
        && caldav_format_of(apr_table_get(r->headers_in, "Content-Type"))
           < 0) {
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_SUPPORTED_CALENDAR_DATA,
                                    apr_pstrcat(r->pool, "A calendar "
                                                "collection takes "
                                                "text/calendar, "
                                                "application/calendar+json "
                                                "or application/calendar+xml"
                                                ", not ",
                                                apr_table_get(r->headers_in,
                                                              "Content-Type"),
                                                NULL), NULL);
    }
    *stream = s;
    return NULL;
}

static dav_error *caldav_write_stream(dav_stream *stream, const void *buf,
                                      apr_size_t bufsize)
{
    request_rec *r = stream->res->info->r;
    apr_status_t rv;

    stream->size += bufsize;
    if (stream->size > stream->limit && stream->in_calendar) {
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_MAX_RESOURCE_SIZE,
                                    apr_psprintf(r->pool, "The calendar "
                                                 "object is larger than "
                                                 "max-resource-size (%"
                                                 APR_OFF_T_FMT " bytes)",
                                                 stream->limit), NULL);
    }
    if (stream->size > stream->limit) {
        return dav_new_error(r->pool, HTTP_REQUEST_ENTITY_TOO_LARGE, 0, 0,
                             apr_psprintf(r->pool,
                                          "The resource is larger than "
                                          "CalDAVMaxResourceSize (%"
                                          APR_OFF_T_FMT " bytes)",
                                          stream->limit));
    }
    rv = apr_brigade_write(stream->bb, NULL, NULL, buf, bufsize);
    if (rv != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, rv,
                             "Could not buffer the request body");
    }
    return NULL;
}

static dav_error *caldav_close_stream(dav_stream *stream, int commit)
{
    const dav_resource *res = stream->res;
    request_rec *r = res->info->r;
    calstore_cond_t cbuf;
    calstore_node_t *node;
    char etag[CALSTORE_ETAG_LEN];
    const char *ctype;
    char *data;
    apr_size_t len;
    apr_status_t rv;
    int created;

    if (!commit) {
        apr_brigade_destroy(stream->bb);
        return NULL;
    }
    rv = apr_brigade_pflatten(stream->bb, &data, &len, r->pool);
    apr_brigade_destroy(stream->bb);
    if (rv != APR_SUCCESS) {
        return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, rv,
                             "Could not assemble the request body");
    }

    ctype = apr_table_get(r->headers_in, "Content-Type");
    if (stream->in_calendar) {
        caldav_calendar_t *cal;
        calstore_calinfo_t info;
        const char *conflict = NULL, *reason = NULL, *ical;
        apr_size_t icallen;
        int format = caldav_format_of(ctype);
        dav_error *err;

        if (format > CALDAV_FMT_ICAL) {
            /* jCal / xCal: stored as the iCalendar it converts to */
            if (caldav_format_to_ical(format, data, len, &ical, &icallen,
                                      &reason, r->pool) != APR_SUCCESS) {
                return caldav_precond_error(
                    r, HTTP_FORBIDDEN, CALCORE_PRECOND_VALID_CALENDAR_DATA,
                    apr_pstrcat(r->pool, "Not valid ",
                                caldav_format_mime(format), ": ", reason,
                                NULL), NULL);
            }
            data = (char *)ical;
            len = icallen;
            ctype = "text/calendar; charset=utf-8";
        }

        if ((err = caldav_calendar_open(r, res->info->st, stream->parent,
                                        &cal)) != NULL
            || (err = caldav_object_prepare(r, cal, data, len, &info,
                                            NULL)) != NULL
            || (err = caldav_check_same_uid(r, res,
                                            caldav_parent_uri(r->pool, res),
                                            info.uid)) != NULL) {
            return err;
        }
        /* The parent this request looked up: the write transaction does
         * not resolve the path's collections again (it re-reads and locks
         * the parent before the commit). */
        rv = calstore_put_in(res->info->st, stream->parent, res->info->path,
                             ctype, data, len, caldav_cond(res, &cbuf), &info,
                             &conflict, &node, &created, r->pool);
        caldav_lookup_forget(r);
        if (rv == CALSTORE_EUIDCONFLICT) {
            return caldav_uid_conflict_error(r, caldav_parent_uri(r->pool,
                                                                  res),
                                             conflict);
        }
    }
    else {
        rv = calstore_put(res->info->st, res->info->path, ctype, data, len,
                          caldav_cond(res, &cbuf), &node, &created, r->pool);
        caldav_lookup_forget(r);
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not store the resource");
    }
    res->info->node = node;
    calstore_etag(node, etag);
    apr_table_setn(r->headers_out, "ETag", apr_pstrdup(r->pool, etag));
    return NULL;
}

static dav_error *caldav_seek_stream(dav_stream *stream,
                                     apr_off_t abs_position)
{
    request_rec *r = stream->res->info->r;

    /* RFC 9110 14.5: a PUT with Content-Range the server does not support
     * must be rejected, never applied to the whole resource. */
    return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                         "Partial PUT (Content-Range) is not supported; "
                         "send the whole resource");
}

/* ---- GET ----------------------------------------------------------- */

static dav_error *caldav_set_headers(request_rec *r,
                                     const dav_resource *resource)
{
    calstore_node_t *node = resource->info->node;
    char etag[CALSTORE_ETAG_LEN];

    if (!resource->exists) {
        return NULL;
    }
    if (caldav_is_feed(resource)) {
        return caldav_feed_headers(r, resource);
    }
    calstore_etag(node, etag);
    apr_table_setn(r->headers_out, "ETag", apr_pstrdup(r->pool, etag));
    ap_update_mtime(r, node->modified);
    ap_set_last_modified(r);

    if (resource->collection) {
        ap_set_content_type(r, "text/html; charset=utf-8");
        return NULL;
    }
    ap_set_content_type(r, caldav_is_calendar_object(resource)
                           ? "text/calendar; charset=utf-8"
                           : node->content_type ? node->content_type
                           : "application/octet-stream");
    ap_set_content_length(r, node->length);
    if (caldav_is_calendar_object(resource)) {
        int format = caldav_format_accept(r);

        caldav_format_headers(r, format);
        if (format != CALDAV_FMT_ICAL) {
            return NULL;        /* no byte ranges of a converted body */
        }
    }
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
    return NULL;
}

typedef struct caldav_index_ctx {
    apr_bucket_brigade *bb;
    ap_filter_t *out;
    const char *uri;
    const char *path;
    request_rec *r;
} caldav_index_ctx;

static apr_status_t caldav_index_member(void *baton,
                                        const calstore_node_t *node,
                                        apr_pool_t *scratch)
{
    caldav_index_ctx *ctx = baton;
    int coll = node->kind == CALSTORE_KIND_COLLECTION;
    const char *href = ap_escape_uri(scratch,
                                     apr_pstrcat(scratch, ctx->uri,
                                                 node->name,
                                                 coll ? "/" : "", NULL));
    const char *path = *ctx->path
        ? apr_pstrcat(scratch, ctx->path, "/", node->name, NULL) : node->name;

    if (caldav_check_access(ctx->r, path, href, 0) != NULL) {
        return APR_SUCCESS;
    }

    return ap_fprintf(ctx->out, ctx->bb,
                      "<li><a href=\"%s\">%s%s</a></li>\n",
                      ap_escape_html(scratch, href),
                      ap_escape_html(scratch, node->name), coll ? "/" : "");
}

/* GET on a collection: a plain HTML index of its members. */
static dav_error *caldav_deliver_index(const dav_resource *resource,
                                       ap_filter_t *output)
{
    request_rec *r = resource->info->r;
    caldav_index_ctx ctx;
    apr_status_t rv;
    const char *title = ap_escape_html(r->pool, resource->uri);

    ctx.bb = apr_brigade_create(r->pool, output->c->bucket_alloc);
    ctx.out = output;
    ctx.uri = resource->uri;
    ctx.path = resource->info->path;
    ctx.r = r;
    ap_fprintf(output, ctx.bb,
               "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
               "<title>%s</title></head>\n<body><h1>%s</h1>\n<ul>\n",
               title, title);
    rv = calstore_list(resource->info->st, resource->info->node->id,
                       caldav_index_member, &ctx, r->pool);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not list the collection");
    }
    ap_fputs(output, ctx.bb, "</ul>\n</body></html>\n");
    APR_BRIGADE_INSERT_TAIL(ctx.bb,
                            apr_bucket_eos_create(output->c->bucket_alloc));
    if ((rv = ap_pass_brigade(output, ctx.bb)) != APR_SUCCESS) {
        return dav_new_error(r->pool, AP_FILTER_ERROR, 0, rv,
                             "Could not write the response");
    }
    return NULL;
}

static dav_error *caldav_deliver(const dav_resource *resource,
                                 ap_filter_t *output)
{
    request_rec *r = resource->info->r;
    apr_bucket_brigade *bb;
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    if (caldav_is_feed(resource)) {
        return caldav_feed_deliver(resource, output);
    }
    if (resource->collection) {
        return caldav_deliver_index(resource, output);
    }
    rv = calstore_read(resource->info->st, resource->info->node->id,
                       &data, &len, r->pool);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not read the resource");
    }
    if (caldav_is_calendar_object(resource)) {
        int format = caldav_format_accept(r);
        const char *reason = NULL;

        if (format != CALDAV_FMT_ICAL
            && caldav_format_convert(format, data, len, &data, &len,
                                     &reason, r->pool) != APR_SUCCESS) {
            return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                                 apr_pstrcat(r->pool, "Could not convert "
                                             "the object: ", reason, NULL));
        }
    }
    bb = apr_brigade_create(r->pool, output->c->bucket_alloc);
    if (len > 0) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(data, len, r->pool,
                                                   output->c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(output->c->bucket_alloc));
    if ((rv = ap_pass_brigade(output, bb)) != APR_SUCCESS) {
        return dav_new_error(r->pool, AP_FILTER_ERROR, 0, rv,
                             "Could not write the response");
    }
    return NULL;
}

/* ---- namespace operations ------------------------------------------ */

static dav_error *caldav_create_collection(dav_resource *resource)
{
    request_rec *r = resource->info->r;
    calstore_node_t *node;
    apr_status_t rv;

    rv = calstore_mkcol(resource->info->st, resource->info->path, &node,
                        r->pool);
    caldav_lookup_forget(r);
    if (rv == CALSTORE_EEXIST) {
        return dav_new_error(r->pool, HTTP_METHOD_NOT_ALLOWED, 0, rv,
                             "MKCOL can only be executed on an unmapped URL");
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not create the collection");
    }
    resource->info->node = node;
    resource->exists = 1;
    resource->collection = 1;
    return NULL;
}

/* Is this the destination of a COPY/MOVE being replaced (Overwrite: T)?
 * mod_dav removes the destination before copying/moving; we postpone the
 * removal into the copy/move transaction so that a failure leaves the
 * destination untouched. */
static int caldav_is_copymove_destination(const dav_resource *resource)
{
    const request_rec *r = resource->info->r;

    return r->main != NULL
        && (r->main->method_number == M_COPY
            || r->main->method_number == M_MOVE);
}

static dav_error *caldav_remove_resource(dav_resource *resource,
                                         dav_response **response)
{
    request_rec *r = resource->info->r;
    calstore_cond_t cbuf;
    apr_status_t rv;

    *response = NULL;
    if (caldav_is_copymove_destination(resource)) {
        resource->info->replace_pending = 1;
        return NULL;
    }
    if (*resource->info->path == '\0') {
        return dav_new_error(r->pool, HTTP_FORBIDDEN, 0, 0,
                             "The root collection cannot be deleted");
    }
    rv = calstore_delete(resource->info->st, resource->info->path,
                         caldav_cond(resource, &cbuf), r->pool);
    caldav_lookup_forget(r);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not delete the resource");
    }
    resource->exists = 0;
    resource->collection = 0;
    resource->info->node = NULL;
    return NULL;
}

static dav_error *caldav_copymove_done(dav_resource *dst, apr_status_t rv,
                                       calstore_node_t *node,
                                       const char *what)
{
    request_rec *r = dst->info->r->main ? dst->info->r->main
                                        : dst->info->r;

    if (rv == CALSTORE_EINVAL) {
        return dav_new_error(r->pool, HTTP_FORBIDDEN, 0, rv,
                             apr_pstrcat(r->pool, what, ": the destination "
                                         "lies inside the source", NULL));
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, what);
    }
    dst->info->node = node;
    dst->exists = 1;
    dst->collection = node->kind == CALSTORE_KIND_COLLECTION;
    return NULL;
}

/* A resource COPYed or MOVEd into a calendar collection must pass the same
 * checks as a PUT there: validate its body against the destination's
 * limits and compute what the store indexes.  *info stays NULL when the
 * destination is not in a calendar. */
static dav_error *caldav_copymove_prepare(const dav_resource *src,
                                          const dav_resource *dst,
                                          calstore_calinfo_t **info)
{
    request_rec *r = dst->info->r->main ? dst->info->r->main : dst->info->r;
    calstore_node_t *parent;
    caldav_calendar_t *cal;
    const char *data;
    apr_size_t len;
    apr_status_t rv;
    dav_error *err;

    *info = NULL;
    if ((err = caldav_lookup_parent(r, dst, &parent)) != NULL) {
        return err;
    }
    if (!caldav_is_calendar(parent)) {
        return NULL;
    }
    if (src->collection) {
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_CALENDAR_COLLECTION_LOCATION_OK,
                                    "Collections cannot be placed inside a "
                                    "calendar collection", NULL);
    }
    if (!caldav_is_calendar_object(src)
        && !caldav_content_type_ok(src->info->node->content_type)) {
        return caldav_precond_error(r, HTTP_FORBIDDEN,
                                    CALCORE_PRECOND_SUPPORTED_CALENDAR_DATA,
                                    "Only text/calendar resources can be "
                                    "placed in a calendar collection", NULL);
    }
    rv = calstore_read(src->info->st, src->info->node->id, &data, &len,
                       r->pool);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not read the source");
    }
    *info = apr_palloc(r->pool, sizeof(**info));
    if ((err = caldav_calendar_open(r, dst->info->st, parent, &cal)) != NULL
        || (err = caldav_object_prepare(r, cal, data, len, *info,
                                        NULL)) != NULL) {
        return err;
    }
    if (dst->exists) {
        return caldav_check_same_uid(r, dst, caldav_parent_uri(r->pool, dst),
                                     (*info)->uid);
    }
    return NULL;
}

static dav_error *caldav_copy_resource(const dav_resource *src,
                                       dav_resource *dst, int depth,
                                       dav_response **response)
{
    calstore_node_t *node = NULL;
    calstore_calinfo_t *info;
    const char *conflict = NULL;
    apr_status_t rv;
    dav_error *err;

    *response = NULL;
    if (!caldav_same_store(src, dst)) {
        return dav_new_error(dst->pool, HTTP_BAD_GATEWAY, 0, 0,
                             "Copying between different stores is not "
                             "supported");
    }
    if ((err = caldav_copymove_prepare(src, dst, &info)) != NULL) {
        return err;
    }
    rv = calstore_copy_ex(src->info->st, src->info->path, dst->info->path,
                          depth == DAV_INFINITY ? -1 : 0,
                          dst->info->replace_pending, info, &conflict,
                          &node, dst->pool);
    caldav_lookup_forget(dst->info->r);
    if (rv == CALSTORE_EUIDCONFLICT) {
        return caldav_uid_conflict_error(dst->info->r,
                                         caldav_parent_uri(dst->pool, dst),
                                         conflict);
    }
    return caldav_copymove_done(dst, rv, node, "Could not copy");
}

static dav_error *caldav_move_resource(dav_resource *src, dav_resource *dst,
                                       dav_response **response)
{
    calstore_node_t *node = NULL;
    calstore_calinfo_t *info;
    const char *conflict = NULL;
    apr_status_t rv;
    dav_error *err;

    *response = NULL;
    if (!caldav_same_store(src, dst)) {
        return dav_new_error(dst->pool, HTTP_BAD_GATEWAY, 0, 0,
                             "Moving between different stores is not "
                             "supported");
    }
    if ((err = caldav_copymove_prepare(src, dst, &info)) != NULL) {
        return err;
    }
    rv = calstore_move_ex(src->info->st, src->info->path, dst->info->path,
                          dst->info->replace_pending, info, &conflict,
                          &node, dst->pool);
    caldav_lookup_forget(dst->info->r);
    if (rv == CALSTORE_EUIDCONFLICT) {
        return caldav_uid_conflict_error(dst->info->r,
                                         caldav_parent_uri(dst->pool, dst),
                                         conflict);
    }
    if (rv == APR_SUCCESS) {
        src->exists = 0;
        src->info->node = NULL;
    }
    return caldav_copymove_done(dst, rv, node, "Could not move");
}

/* ---- walk ---------------------------------------------------------- */

typedef struct caldav_walk_ctx {
    const dav_walk_params *params;
    dav_walk_resource wres;
    int depth;
    const dav_resource *parent;
    dav_error *err;
} caldav_walk_ctx;

static dav_error *caldav_walk_collection(caldav_walk_ctx *ctx,
                                         const dav_resource *coll,
                                         int depth);

dav_resource *caldav_member_resource(const dav_resource *coll,
                                     const calstore_node_t *node,
                                     apr_pool_t *pool)
{
    int is_coll = node->kind == CALSTORE_KIND_COLLECTION;
    calstore_node_t *copy = apr_pmemdup(pool, node, sizeof(*node));
    const char *path;

    copy->name = apr_pstrdup(pool, node->name);
    copy->content_type = node->content_type
        ? apr_pstrdup(pool, node->content_type) : NULL;
    path = *coll->info->path
        ? apr_pstrcat(pool, coll->info->path, "/", node->name, NULL)
        : copy->name;
    return caldav_make_resource(coll->info->r, pool, coll->info->st,
                                coll->info->root_uri, path, copy,
                                caldav_child_uri(pool, coll->uri, node->name,
                                                 is_coll));
}

static apr_status_t caldav_walk_member(void *baton,
                                       const calstore_node_t *node,
                                       apr_pool_t *scratch)
{
    caldav_walk_ctx *ctx = baton;
    const dav_resource *parent = ctx->parent;
    int coll = node->kind == CALSTORE_KIND_COLLECTION;
    dav_resource *res;
    dav_error *err;

    res = caldav_member_resource(parent, node, scratch);
    if ((ctx->params->walk_type & DAV_WALKTYPE_AUTH)
        && caldav_check_access(res->info->r, res->info->path, res->uri, 0)) {
        return APR_SUCCESS;     /* not this user's: not even listed */
    }
    ctx->wres.resource = res;
    err = ctx->params->func(&ctx->wres, coll ? DAV_CALLTYPE_COLLECTION
                                             : DAV_CALLTYPE_MEMBER);
    if (err == NULL && coll && ctx->depth == DAV_INFINITY) {
        err = caldav_walk_collection(ctx, res, DAV_INFINITY);
        ctx->parent = parent;
    }
    if (err != NULL) {
        ctx->err = err;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static dav_error *caldav_walk_collection(caldav_walk_ctx *ctx,
                                         const dav_resource *coll,
                                         int depth)
{
    request_rec *r = coll->info->r;
    apr_status_t rv;

    ctx->parent = coll;
    rv = calstore_list(coll->info->st, coll->info->node->id,
                       caldav_walk_member, ctx, ctx->params->pool);
    if (ctx->err) {
        dav_error *err = ctx->err;

        ctx->err = NULL;
        return err;
    }
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not list the collection");
    }
    return NULL;
}

static dav_error *caldav_walk(const dav_walk_params *params, int depth,
                              dav_response **response)
{
    caldav_walk_ctx ctx;
    dav_error *err;
    const dav_resource *root = params->root;

    memset(&ctx, 0, sizeof(ctx));
    ctx.params = params;
    ctx.depth = depth;
    ctx.wres.walk_ctx = params->walk_ctx;
    ctx.wres.pool = params->pool;
    ctx.wres.resource = root;

    err = params->func(&ctx.wres, root->collection ? DAV_CALLTYPE_COLLECTION
                                                   : DAV_CALLTYPE_MEMBER);
    if (err == NULL && depth != 0 && root->exists && root->collection) {
        err = caldav_walk_collection(&ctx, root, depth);
    }
    *response = ctx.wres.response;
    return err;
}

/* ---- misc ---------------------------------------------------------- */

static const char *caldav_getetag(const dav_resource *resource)
{
    char etag[CALSTORE_ETAG_LEN];

    if (!resource->exists) {
        return "";
    }
    calstore_etag(resource->info->node, etag);
    return apr_pstrdup(resource->pool, etag);
}

static request_rec *caldav_get_request_rec(const dav_resource *resource)
{
    return resource->info->r;
}

static const char *caldav_get_pathname(const dav_resource *resource)
{
    return NULL;    /* nothing here lives in the file system */
}

const dav_hooks_repository caldav_hooks_repository = {
    1,                              /* handle_get */
    caldav_get_resource,
    caldav_get_parent_resource,
    caldav_is_same_resource,
    caldav_is_parent_resource,
    caldav_open_stream,
    caldav_close_stream,
    caldav_write_stream,
    caldav_seek_stream,
    caldav_set_headers,
    caldav_deliver,
    caldav_create_collection,
    caldav_copy_resource,
    caldav_move_resource,
    caldav_remove_resource,
    caldav_walk,
    caldav_getetag,
    NULL,                           /* ctx */
    caldav_get_request_rec,
    caldav_get_pathname
};
