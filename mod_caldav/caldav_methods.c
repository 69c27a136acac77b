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
#include <http_log.h>
#include <http_protocol.h>
#include <util_xml.h>

#include "mod_caldav.h"

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
            dav_prop_validate(ctx);
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
