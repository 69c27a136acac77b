/*
 * caldav_methods.c - methods mod_caldav answers itself, before mod_dav.
 *
 * PROPPATCH: mod_dav's own handler applies dead properties through the
 * propdb hooks and closes the propdb with a hook that cannot fail, after
 * which it reports success.  We drive the same exported steps
 * (dav_prop_validate / exec / commit / rollback) but commit the store
 * transaction ourselves BEFORE the response is built, so a failing commit
 * becomes an error response instead of a 207 that claims success.
 */
#include <apr_strings.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_xml.h>

#include "mod_caldav.h"
#include "calcore_tz.h"

/* mod_dav's dav_process_ctx_list() is static; this is the same walk.
 * Returns 1 when stop_on_error is set and an operation failed. */
static int caldav_process_ctx_list(void (*func)(dav_prop_ctx *ctx),
                                   apr_array_header_t *ctx_list,
                                   int stop_on_error, int reverse)
{
    dav_prop_ctx *ctx = (dav_prop_ctx *)ctx_list->elts;
    int i;

    for (i = 0; i < ctx_list->nelts; i++) {
        dav_prop_ctx *c = reverse ? &ctx[ctx_list->nelts - 1 - i] : &ctx[i];

        (*func)(c);
        if (stop_on_error && DAV_PROP_CTX_HAS_ERR(*c)) {
            return 1;
        }
    }
    return 0;
}

static void caldav_log_prop_error(dav_prop_ctx *ctx)
{
    dav_error *e;

    for (e = ctx->err; e; e = e->prev) {
        if (e->desc) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, e->aprerr, ctx->r,
                          "PROPPATCH of %s: %s [%d]", ctx->prop->name,
                          e->desc, e->status);
        }
    }
}

int caldav_method_proppatch(request_rec *r)
{
    dav_resource *resource;
    dav_propdb *propdb;
    dav_response resp;
    apr_array_header_t *ctx_list;
    apr_text *propstat_text;
    apr_xml_doc *doc;
    apr_xml_elem *child;
    dav_error *err;
    int failure = 0;
    int result;

    if ((err = dav_get_resource(r, 0, 0, &resource)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if ((result = ap_xml_parse_input(r, &doc)) != OK) {
        return result;
    }
    if (dav_run_method_precondition(r, resource, NULL, doc, &err)
        != DECLINED && err) {
        return dav_handle_err(r, err, NULL);
    }
    if (!resource->exists) {
        return HTTP_NOT_FOUND;
    }
    if (doc == NULL || !dav_validate_root(doc, "propertyupdate")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "PROPPATCH: the request body does not contain a "
                      "DAV:propertyupdate element");
        return HTTP_BAD_REQUEST;
    }
    if ((err = dav_validate_request(r, resource, 0, NULL, NULL,
                                    DAV_VALIDATE_RESOURCE, NULL)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if ((err = dav_open_propdb(r, NULL, resource, DAV_PROPDB_NONE,
                               doc->namespaces, &propdb)) != NULL) {
        err = dav_push_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0,
                             "Could not open the property database", err);
        return dav_handle_err(r, err, NULL);
    }

    ctx_list = apr_array_make(r->pool, 10, sizeof(dav_prop_ctx));
    for (child = doc->root->first_child; child; child = child->next) {
        apr_xml_elem *group, *prop;
        int is_remove;

        if (child->ns != APR_XML_NS_DAV_ID
            || (!(is_remove = (strcmp(child->name, "remove") == 0))
                && strcmp(child->name, "set") != 0)) {
            continue;
        }
        if ((group = dav_find_child(child, "prop")) == NULL) {
            dav_close_propdb(propdb);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "PROPPATCH: a DAV:prop element is missing inside "
                          "DAV:%s", child->name);
            return HTTP_BAD_REQUEST;
        }
        for (prop = group->first_child; prop; prop = prop->next) {
            dav_prop_ctx *ctx = apr_array_push(ctx_list);

            memset(ctx, 0, sizeof(*ctx));
            ctx->propdb = propdb;
            ctx->operation = is_remove ? DAV_PROP_OP_DELETE : DAV_PROP_OP_SET;
            ctx->prop = prop;
            ctx->r = r;
            if (prop->ns >= 0
                && strcmp(APR_XML_GET_URI_ITEM(doc->namespaces, prop->ns),
                          CALDAV_INTERNAL_NS) == 0) {
                /* the module's own bookkeeping (a calendar's grants: set
                 * them with ACL) */
                ctx->err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                             "This property is protected",
                                             NULL,
                                             "cannot-modify-protected-"
                                             "property");
            }
            else {
                dav_prop_validate(ctx);
            }
            if (DAV_PROP_CTX_HAS_ERR(*ctx)) {
                failure = 1;
            }
        }
    }

    if (!failure && caldav_process_ctx_list(dav_prop_exec, ctx_list, 1, 0)) {
        failure = 1;
    }
    if (failure) {
        (void)caldav_process_ctx_list(dav_prop_rollback, ctx_list, 0, 1);
        propstat_text = dav_failed_proppatch(r->pool, ctx_list);
    }
    else {
        /* All of it in one transaction, before anything is reported. */
        if ((err = caldav_propdb_commit(r)) != NULL) {
            dav_close_propdb(propdb);
            return dav_handle_err(r, err, NULL);
        }
        (void)caldav_process_ctx_list(dav_prop_commit, ctx_list, 0, 0);
        propstat_text = dav_success_proppatch(r->pool, ctx_list);
    }
    dav_close_propdb(propdb);
    (void)caldav_process_ctx_list(caldav_log_prop_error, ctx_list, 0, 0);

    memset(&resp, 0, sizeof(resp));
    resp.href = resource->uri;
    resp.propresult.propstats = propstat_text;
    dav_send_multistatus(r, HTTP_MULTI_STATUS, &resp, doc->namespaces);
    return DONE;
}

/* ---- MKCALENDAR and extended MKCOL ---------------------------------- */

int caldav_m_mkcalendar = -1;

/* One property of a MKCALENDAR / MKCOL body and what became of it. */
typedef struct caldav_newprop {
    apr_xml_elem *elem;
    int status;                     /* 200, 403, 409 or 424             */
    const char *error;              /* precondition element (XML) or NULL */
    const char *desc;
} caldav_newprop;

/* Is this a property mod_caldav or mod_dav computes (protected)? */
static int caldav_prop_is_protected(const apr_xml_doc *doc,
                                    const apr_xml_elem *e)
{
    static const char * const dav_live[] = {
        "creationdate", "getcontentlength", "getcontenttype", "getetag",
        "getlastmodified", "supported-report-set", "lockdiscovery",
        "supportedlock", "current-user-privilege-set", "acl", "owner",
        "sync-token", NULL
    };
    static const char * const cal_live[] = {
        "supported-calendar-data", "max-resource-size", "min-date-time",
        "max-date-time", "max-instances", "max-attendees-per-instance",
        "supported-collation-set", "calendar-data", NULL
    };
    int i;

    for (i = 0; dav_live[i]; i++) {
        if (caldav_xml_is(doc->namespaces, e, "DAV:", dav_live[i])) {
            return 1;
        }
    }
    for (i = 0; cal_live[i]; i++) {
        if (caldav_xml_is(doc->namespaces, e, CALDAV_NS, cal_live[i])) {
            return 1;
        }
    }
    return caldav_xml_is(doc->namespaces, e, CALDAV_CS_NS, "getctag");
}

static void caldav_newprop_fail(caldav_newprop *np, int status,
                                const char *error, const char *desc)
{
    np->status = status;
    np->error = error;
    np->desc = desc;
}

/* The response when a property failed: every property with its status
 * (the failed ones 403/409, the others 424 Failed Dependency), wrapped in
 * C:mkcalendar-response or D:mkcol-response (RFC 4791 5.3.1, RFC 5689). */
static int caldav_mkcalendar_failed(request_rec *r, const apr_xml_doc *doc,
                                    apr_array_header_t *props,
                                    int extended_mkcol)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    const char *root = extended_mkcol ? "D:mkcol-response"
                                      : "C:mkcalendar-response";
    int i, j;

    r->status = HTTP_FORBIDDEN;
    ap_set_content_type(r, "application/xml; charset=utf-8");
    ap_fprintf(r->output_filters, bb,
               "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<%s "
               "xmlns:D=\"DAV:\" xmlns:C=\"" CALDAV_NS "\"", root);
    for (j = 0; j < doc->namespaces->nelts; j++) {
        ap_fprintf(r->output_filters, bb, " xmlns:ns%d=\"%s\"", j,
                   apr_xml_quote_string(r->pool,
                                        APR_XML_GET_URI_ITEM(doc->namespaces,
                                                             j), 1));
    }
    ap_fputs(r->output_filters, bb, ">\n");
    for (i = 0; i < props->nelts; i++) {
        caldav_newprop *np = &APR_ARRAY_IDX(props, i, caldav_newprop);
        const char *name = np->elem->ns < 0
            ? apr_pstrcat(r->pool, "<", np->elem->name,
                          " xmlns=\"\"/>", NULL)
            : apr_psprintf(r->pool, "<ns%d:%s/>", np->elem->ns,
                           np->elem->name);

        ap_fprintf(r->output_filters, bb,
                   "<D:propstat><D:prop>%s</D:prop>"
                   "<D:status>HTTP/1.1 %d %s</D:status>%s%s%s%s%s"
                   "</D:propstat>\n",
                   name, np->status,
                   np->status == 424 ? "Failed Dependency"
                   : np->status == 409 ? "Conflict" : "Forbidden",
                   np->error ? "<D:error>" : "",
                   np->error ? np->error : "",
                   np->error ? "</D:error>" : "",
                   np->desc ? "<D:responsedescription>" : "",
                   np->desc ? apr_pstrcat(r->pool,
                                          apr_xml_quote_string(r->pool,
                                                               np->desc, 0),
                                          "</D:responsedescription>", NULL)
                            : "");
    }
    ap_fprintf(r->output_filters, bb, "</%s>\n", root);
    ap_pass_brigade(r->output_filters, bb);
    return DONE;
}

/* Parse C:supported-calendar-component-set into a comp mask (0 = bad). */
static unsigned caldav_parse_comp_set(const apr_xml_doc *doc,
                                      const apr_xml_elem *e,
                                      const char **why)
{
    const apr_xml_elem *c;
    unsigned mask = 0;

    for (c = e->first_child; c; c = c->next) {
        const char *name = NULL;
        const apr_xml_attr *a;
        calcore_comp_e kind;

        if (!caldav_xml_is(doc->namespaces, c, CALDAV_NS, "comp")) {
            continue;
        }
        for (a = c->attr; a; a = a->next) {
            if (strcmp(a->name, "name") == 0) {
                name = a->value;
            }
        }
        kind = name ? calcore_comp_from_name(name) : CALCORE_COMP_NONE;
        if (kind == CALCORE_COMP_NONE) {
            *why = name ? name : "(a comp without a name)";
            return 0;
        }
        mask |= (unsigned)kind;
    }
    if (mask == 0) {
        *why = "the component set is empty";
    }
    return mask;
}

int caldav_method_mkcalendar(request_rec *r, int extended_mkcol)
{
    const char *root_name = extended_mkcol ? "mkcol" : "mkcalendar";
    const char *root_ns = extended_mkcol ? "DAV:" : CALDAV_NS;
    apr_array_header_t *props, *stored;
    calstore_node_t *parent, *node;
    dav_resource *resource;
    apr_xml_doc *doc;
    apr_xml_elem *set, *prop, *e;
    dav_error *err;
    apr_status_t rv;
    apr_uint32_t flags = 0;
    unsigned mask = 0;
    int is_calendar = !extended_mkcol;
    int failed = 0, result, i;

    r->allowed |= (AP_METHOD_BIT << M_MKCOL);
    if ((result = ap_xml_parse_input(r, &doc)) != OK) {
        /* RFC 5689 3 / RFC 4918 9.3: a MKCOL body that is not understood
         * is 415 */
        return extended_mkcol && result == HTTP_BAD_REQUEST
               ? HTTP_UNSUPPORTED_MEDIA_TYPE : result;
    }
    if ((err = dav_get_resource(r, 0, 0, &resource)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (dav_run_method_precondition(r, resource, NULL, doc, &err)
        != DECLINED && err) {
        return dav_handle_err(r, err, NULL);
    }
    if (doc && (doc->root->ns < 0
                || strcmp(APR_XML_GET_URI_ITEM(doc->namespaces,
                                               doc->root->ns), root_ns) != 0
                || strcmp(doc->root->name, root_name) != 0)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "%s: the request body must be a %s%s element",
                      r->method, extended_mkcol ? "DAV:" : "CALDAV:",
                      root_name);
        /* RFC 5689 3: a MKCOL body the server does not understand is 415 */
        return extended_mkcol ? HTTP_UNSUPPORTED_MEDIA_TYPE
                              : HTTP_BAD_REQUEST;
    }
    if (resource->exists) {
        err = dav_new_error_tag(r->pool, extended_mkcol
                                ? HTTP_METHOD_NOT_ALLOWED : HTTP_FORBIDDEN,
                                0, 0, "A resource already exists at this "
                                "URL", NULL, "resource-must-be-null");
        return dav_handle_err(r, err, NULL);
    }
    if ((err = caldav_lookup_parent(r, resource, &parent)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (parent == NULL || parent->kind != CALSTORE_KIND_COLLECTION) {
        err = dav_new_error(r->pool, HTTP_CONFLICT, 0, 0,
                            "The parent collection does not exist");
        return dav_handle_err(r, err, NULL);
    }
    if (caldav_is_calendar(parent)) {
        err = caldav_precond_error(r, HTTP_FORBIDDEN,
                                   CALCORE_PRECOND_CALENDAR_COLLECTION_LOCATION_OK,
                                   "Collections cannot be created inside a "
                                   "calendar collection", NULL);
        return dav_handle_err(r, err, NULL);
    }
    if ((err = dav_validate_request(r, resource, 0, NULL, NULL,
                                    DAV_VALIDATE_PARENT, NULL)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }

    /* Judge every property before anything is written. */
    props = apr_array_make(r->pool, 8, sizeof(caldav_newprop));
    stored = apr_array_make(r->pool, 8, sizeof(calstore_prop_t));
    for (set = doc ? doc->root->first_child : NULL; set; set = set->next) {
        if (!caldav_xml_is(doc->namespaces, set, "DAV:", "set")) {
            continue;
        }
        prop = dav_find_child(set, "prop");
        for (e = prop ? prop->first_child : NULL; e; e = e->next) {
            caldav_newprop *np = apr_array_push(props);

            memset(np, 0, sizeof(*np));
            np->elem = e;
            np->status = 200;
            if (caldav_xml_is(doc->namespaces, e, "DAV:", "resourcetype")) {
                const apr_xml_elem *t;
                int coll = 0, bad = 0;

                if (!extended_mkcol) {
                    caldav_newprop_fail(np, 403,
                        "<D:cannot-modify-protected-property/>",
                        "DAV:resourcetype is set by MKCALENDAR");
                    failed = 1;
                    continue;
                }
                for (t = e->first_child; t; t = t->next) {
                    if (caldav_xml_is(doc->namespaces, t, "DAV:", "collection")) {
                        coll = 1;
                    }
                    else if (caldav_xml_is(doc->namespaces, t, CALDAV_NS, "calendar")) {
                        is_calendar = 1;
                    }
                    else {
                        bad = 1;
                    }
                }
                if (!coll || bad) {
                    caldav_newprop_fail(np, 403, "<D:valid-resourcetype/>",
                                        "Only D:collection, optionally with "
                                        "C:calendar, can be created");
                    failed = 1;
                }
                continue;
            }
            if (caldav_prop_is_protected(doc, e)) {
                caldav_newprop_fail(np, 403,
                                    "<D:cannot-modify-protected-property/>",
                                    "This property is computed by the "
                                    "server");
                failed = 1;
                continue;
            }
            if (caldav_xml_is(doc->namespaces, e, CALDAV_NS,
                               "supported-calendar-component-set")) {
                const char *why = NULL;

                mask = caldav_parse_comp_set(doc, e, &why);
                if (mask == 0) {
                    caldav_newprop_fail(np, 403,
                        "<C:supported-calendar-component/>",
                        apr_pstrcat(r->pool, "Invalid "
                                    "supported-calendar-component-set: ",
                                    why, NULL));
                    failed = 1;
                }
                continue;   /* kept in the node flags, not as a property */
            }
            if (caldav_xml_is(doc->namespaces, e, CALDAV_NS, "calendar-timezone")) {
                const char *text = caldav_elem_cdata(r->pool, e), *why;

                if (calcore_tz_validate_vtimezone(text, strlen(text), &why,
                                                  r->pool) != APR_SUCCESS) {
                    caldav_newprop_fail(np, 403,
                                        "<C:valid-calendar-data/>",
                                        apr_pstrcat(r->pool, "Invalid "
                                                    "calendar-timezone: ",
                                                    why, NULL));
                    failed = 1;
                    continue;
                }
            }
        }
    }
    if (!is_calendar && mask) {
        for (i = 0; i < props->nelts; i++) {
            caldav_newprop *np = &APR_ARRAY_IDX(props, i, caldav_newprop);

            if (caldav_xml_is(doc->namespaces, np->elem, CALDAV_NS,
                               "supported-calendar-component-set")) {
                caldav_newprop_fail(np, 403, NULL, "Only a calendar "
                                    "collection has a component set");
            }
        }
        failed = 1;
    }
    if (failed) {
        for (i = 0; i < props->nelts; i++) {
            caldav_newprop *np = &APR_ARRAY_IDX(props, i, caldav_newprop);

            if (np->status == 200) {
                np->status = 424;
            }
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s refused: a "
                      "property could not be set; nothing was created",
                      r->method, r->uri);
        return caldav_mkcalendar_failed(r, doc, props, extended_mkcol);
    }

    for (i = 0; i < props->nelts; i++) {
        caldav_newprop *np = &APR_ARRAY_IDX(props, i, caldav_newprop);
        calstore_prop_t *sp;
        const char *ns;

        if (caldav_xml_is(doc->namespaces, np->elem, "DAV:", "resourcetype")
            || caldav_xml_is(doc->namespaces, np->elem, CALDAV_NS,
                              "supported-calendar-component-set")) {
            continue;
        }
        ns = np->elem->ns < 0 ? ""
             : APR_XML_GET_URI_ITEM(doc->namespaces, np->elem->ns);
        sp = apr_array_push(stored);
        sp->ns = ns;
        sp->name = np->elem->name;
        sp->value = caldav_prop_serialize(r->pool, np->elem, doc->namespaces,
                                          &sp->len);
    }
    if (is_calendar) {
        flags = CALSTORE_COLL_CALENDAR | (mask << CALDAV_COMP_SHIFT);
    }
    rv = calstore_mkcol_ex(resource->info->st, resource->info->path, flags,
                           stored, &node, r->pool);
    caldav_lookup_forget(r);
    if (rv == CALSTORE_EEXIST) {
        err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                "A resource already exists at this URL",
                                NULL, "resource-must-be-null");
        return dav_handle_err(r, err, NULL);
    }
    if (rv != APR_SUCCESS) {
        return dav_handle_err(r, caldav_store_error(r, rv, "Could not create "
                                                    "the collection"), NULL);
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    apr_table_setn(r->headers_out, "Location",
                   ap_construct_url(r->pool, ap_escape_uri(r->pool, r->uri),
                                    r));
    ap_set_content_length(r, 0);
    r->status = HTTP_CREATED;
    return OK;
}
