/*
 * caldav_principal_reports.c - the principal REPORTs of RFC 3744 section 9
 * (acl-principal-prop-set, principal-match, principal-property-search,
 * principal-search-property-set) and RFC 3253 expand-property, dispatched
 * by caldav_deliver_report() in caldav_report.c.
 *
 * Property values come from mod_dav's own machinery (dav_popen_propdb +
 * dav_get_props: our live properties first, then the dead-property store),
 * so every report answers exactly what PROPFIND would.  Where a report has
 * to look inside values (search strings, hrefs to expand or to compare with
 * the current user's principal), the propstats dav_get_props() wrote are
 * parsed back with apr_xml: one path for live and dead properties alike.
 *
 * Access: the request target has passed caldav_authorize_request() (read).
 * Every other resource a report answers for is checked with
 * caldav_check_access() before anything of it is written: principals are
 * readable by every user, a home and what it holds only by its owner.
 * Members the user may not read are left out; hrefs the client (or a
 * property value) names are answered 403.  C:calendar-data is never
 * produced here (it is only defined inside the calendar REPORTs).
 *
 * As in caldav_report.c, everything that can fail the request is decided
 * before dav_begin_multistatus(); afterwards a problem becomes the status
 * of one response.  Responses are written from scratch pools.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_xml.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_filter.h>

#include "mod_caldav.h"
#include "calcore_filter.h"

/* expand-property: levels of nested D:response that are expanded */
#define CALDAV_EXPAND_MAX_DEPTH 3

/* request elements nested deeper than this are refused (400) */
#define CALDAV_PR_MAX_NESTING 32

typedef struct caldav_pr_ctx {
    request_rec *r;
    const apr_xml_doc *doc;
    const dav_resource *target;
    apr_bucket_brigade *bb;
    int has_prop;                   /* the request has a DAV:prop         */
} caldav_pr_ctx;

/* A property name: namespace URI ("" = none) and local name. */
typedef struct caldav_pr_name {
    const char *ns;
    const char *name;
} caldav_pr_name;

/* What principal-property-search searches (RFC 3744 9.5). */
static const struct {
    const char *ns;
    const char *name;
    const char *description;
} caldav_searchable[] = {
    { "DAV:", "displayname", "Display name" },
    { CALDAV_NS, "calendar-user-address-set", "Calendar user addresses" },
    { NULL, NULL, NULL }
};

/* match-type of a DAV:match (the CalendarServer extension; RFC 3744 only
 * knows "contains") */
typedef enum {
    CALDAV_MATCH_CONTAINS = 0,
    CALDAV_MATCH_STARTS_WITH,
    CALDAV_MATCH_ENDS_WITH,
    CALDAV_MATCH_EQUALS
} caldav_match_e;

/* ---- XML helpers ---------------------------------------------------- */

static const char *caldav_pr_ns(const apr_array_header_t *nss, int ns)
{
    return ns < 0 ? "" : APR_XML_GET_URI_ITEM(nss, ns);
}

static const char *caldav_pr_attr(const apr_xml_elem *e, const char *name)
{
    const apr_xml_attr *a;

    for (a = e->attr; a; a = a->next) {
        if (strcmp(a->name, name) == 0) {
            return a->value;
        }
    }
    return NULL;
}

/* The character data directly inside 'e', leading and trailing white
 * space removed. */
static const char *caldav_pr_text(apr_pool_t *p, const apr_xml_elem *e)
{
    const apr_text *t;
    const char *s = "";
    apr_size_t n;

    for (t = e->first_cdata.first; t; t = t->next) {
        s = apr_pstrcat(p, s, t->text, NULL);
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'
                     || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        n--;
    }
    return apr_pstrndup(p, s, n);
}

/* Is 'name' usable as the local name of an element we write?  (An NCName
 * of ASCII letters, digits, '-', '_', '.', and any non-ASCII bytes.) */
static int caldav_pr_ncname_ok(const char *name)
{
    const unsigned char *c = (const unsigned char *)name;

    if (*c == '\0' || (*c < 0x80 && !apr_isalpha(*c) && *c != '_')) {
        return 0;
    }
    for (; *c; c++) {
        if (*c < 0x80 && !apr_isalnum(*c) && *c != '-' && *c != '_'
            && *c != '.') {
            return 0;
        }
    }
    return 1;
}

/* mod_dav writes namespace URIs into xmlns attributes unquoted. */
static int caldav_pr_ns_ok(const char *ns)
{
    const unsigned char *c;

    for (c = (const unsigned char *)ns; *c; c++) {
        if (*c < 0x20 || *c == '"' || *c == '<' || *c == '>' || *c == '&') {
            return 0;
        }
    }
    return 1;
}

static dav_error *caldav_pr_bad(request_rec *r, const char *why)
{
    return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0, why);
}

/* A copy in r->pool of 'err' (which may live in a scratch pool about to
 * be destroyed), saying which report failed. */
static dav_error *caldav_pr_keep_error(request_rec *r, const dav_error *err,
                                       const char *report)
{
    return dav_new_error(r->pool, err->status, 0, err->aprerr,
                         apr_pstrcat(r->pool, report, " failed: ",
                                     err->desc ? err->desc : "", NULL));
}

static dav_error *caldav_pr_depth0(request_rec *r, const char *report)
{
    if (dav_get_depth(r, 0) != 0) {
        return caldav_pr_bad(r, apr_pstrcat(r->pool, report, " is only "
                                            "defined for Depth: 0", NULL));
    }
    return NULL;
}

/* ---- hrefs ---------------------------------------------------------- */

/* The store path of 'uri' (a decoded absolute path) when it lies in the
 * DAV location 'root' (no trailing '/'), else NULL. */
static const char *caldav_pr_uri_path(apr_pool_t *p, const char *root,
                                      const char *uri)
{
    apr_size_t rlen = strlen(root), n;
    char *path;

    if (strncmp(uri, root, rlen) != 0
        || (uri[rlen] != '/' && uri[rlen] != '\0')) {
        return NULL;
    }
    path = apr_pstrdup(p, uri + rlen);
    while (*path == '/') {
        path++;
    }
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/') {
        path[--n] = '\0';
    }
    return path;
}

/* The store path of 'href' (the text of a D:href: an escaped absolute path
 * or http(s) URL) when it lies in the location 'root', else NULL. */
static const char *caldav_pr_href_path(apr_pool_t *p, const char *root,
                                       const char *href)
{
    apr_uri_t uri;
    char *path;

    if (apr_uri_parse(p, href, &uri) != APR_SUCCESS || uri.path == NULL
        || uri.query || uri.fragment || *uri.path != '/'
        || (uri.scheme && strcasecmp(uri.scheme, "http") != 0
            && strcasecmp(uri.scheme, "https") != 0)) {
        return NULL;
    }
    path = apr_pstrdup(p, uri.path);
    if (ap_unescape_url(path) != OK) {
        return NULL;
    }
    ap_getparents(path);
    return caldav_pr_uri_path(p, root, path);
}

/* The store path of the current user's principal, or NULL. */
static const char *caldav_pr_user_principal(request_rec *r,
                                            const char *root)
{
    if (r->user == NULL) {
        return NULL;
    }
    return caldav_pr_uri_path(r->pool, root,
                              caldav_principal_href(r, root, r->user));
}

/* The store path of the principal collection. */
static const char *caldav_pr_principals_path(request_rec *r,
                                             const char *root)
{
    return caldav_pr_uri_path(r->pool, root,
                              caldav_principals_href(r, root));
}

/* ---- property values through mod_dav -------------------------------- */

/* Fetch the properties 'names' of 'res' as dav_get_props() reports them
 * and parse its propstats back: the children of (*parsed)->root are
 * D:propstat elements.  Everything comes from 'pool'; 'res' is not
 * modified. */
static dav_error *caldav_pr_fetch(request_rec *r, const dav_resource *res,
                                  const apr_array_header_t *names,
                                  apr_pool_t *pool, apr_xml_doc **parsed)
{
    apr_array_header_t *nss = apr_array_make(pool, 4, sizeof(const char *));
    apr_array_header_t *parts = apr_array_make(pool, 16,
                                               sizeof(const char *));
    apr_xml_elem *root, *prop, *last = NULL;
    dav_get_props_result result;
    apr_xml_parser *parser;
    dav_resource *copy;
    apr_xml_doc *doc;
    dav_propdb *db;
    const apr_text *t;
    const char *text;
    dav_error *err;
    char errbuf[160];
    int i;

    APR_ARRAY_PUSH(nss, const char *) = "DAV:";   /* APR_XML_NS_DAV_ID */
    root = apr_pcalloc(pool, sizeof(*root));
    root->name = "expand-property";
    root->ns = APR_XML_NS_DAV_ID;
    prop = apr_pcalloc(pool, sizeof(*prop));
    prop->name = "prop";
    prop->ns = APR_XML_NS_DAV_ID;
    prop->parent = root;
    root->first_child = root->last_child = prop;
    for (i = 0; i < names->nelts; i++) {
        const caldav_pr_name *n = &APR_ARRAY_IDX(names, i, caldav_pr_name);
        apr_xml_elem *e = apr_pcalloc(pool, sizeof(*e));

        e->name = n->name;
        e->ns = *n->ns ? apr_xml_insert_uri(nss, n->ns) : APR_XML_NS_NONE;
        e->parent = prop;
        if (last) {
            last->next = e;
        }
        else {
            prop->first_child = e;
        }
        last = e;
    }
    prop->last_child = last;
    doc = apr_pcalloc(pool, sizeof(*doc));     /* mod_dav keeps a pointer */
    doc->root = root;
    doc->namespaces = nss;

    copy = apr_pmemdup(pool, res, sizeof(*res));
    copy->pool = pool;
    if ((err = dav_popen_propdb(pool, r, NULL, copy, DAV_PROPDB_RO, nss,
                                &db)) != NULL) {
        return err;
    }
    result = dav_get_props(db, doc);
    dav_close_propdb(db);

    /* D: is what the values use for DAV: elements; the other prefixes
     * (lpN, gN) come with result.xmlns, dead values declare their own */
    APR_ARRAY_PUSH(parts, const char *) = "<D:x xmlns:D=\"DAV:\"";
    for (t = result.xmlns; t; t = t->next) {
        APR_ARRAY_PUSH(parts, const char *) = t->text;
    }
    APR_ARRAY_PUSH(parts, const char *) = ">";
    for (t = result.propstats; t; t = t->next) {
        APR_ARRAY_PUSH(parts, const char *) = t->text;
    }
    APR_ARRAY_PUSH(parts, const char *) = "</D:x>";
    text = apr_array_pstrcat(pool, parts, 0);

    parser = apr_xml_parser_create(pool);
    if (apr_xml_parser_feed(parser, text, strlen(text)) != APR_SUCCESS
        || apr_xml_parser_done(parser, parsed) != APR_SUCCESS) {
        apr_xml_parser_geterror(parser, errbuf, sizeof(errbuf));
        return dav_new_error(pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                             apr_pstrcat(pool, "The properties of ",
                                         res->uri, " could not be read "
                                         "back: ", errbuf, NULL));
    }
    return NULL;
}

static int caldav_pr_status_ok(apr_pool_t *p, const apr_xml_elem *status)
{
    return strstr(caldav_pr_text(p, status), " 200 ") != NULL;
}

/* The element of property (ns, name) reported with 200 in a parsed
 * fetch, or NULL. */
static const apr_xml_elem *caldav_pr_found(apr_pool_t *p,
                                           const apr_xml_doc *parsed,
                                           const char *ns, const char *name)
{
    const apr_array_header_t *nss = parsed->namespaces;
    const apr_xml_elem *ps, *st, *prop, *e;

    for (ps = parsed->root->first_child; ps; ps = ps->next) {
        if (!caldav_xml_is(nss, ps, "DAV:", "propstat")
            || (st = caldav_xml_child(nss, ps, "DAV:", "status")) == NULL
            || (prop = caldav_xml_child(nss, ps, "DAV:", "prop")) == NULL
            || !caldav_pr_status_ok(p, st)) {
            continue;
        }
        for (e = prop->first_child; e; e = e->next) {
            if (caldav_xml_is(nss, e, ns, name)) {
                return e;
            }
        }
    }
    return NULL;
}

/* ---- writing -------------------------------------------------------- */

static void caldav_pr_puts(caldav_pr_ctx *ctx, const char *s)
{
    ap_fputs(ctx->r->output_filters, ctx->bb, s);
}

/* The prefix for namespace 'ns' of a parsed document: D for DAV: (bound on
 * the multistatus), NULL for no namespace, else Xn (declared where it is
 * used). */
static const char *caldav_pr_prefix(apr_pool_t *p,
                                    const apr_array_header_t *nss, int ns)
{
    if (ns < 0) {
        return NULL;
    }
    if (strcmp(APR_XML_GET_URI_ITEM(nss, ns), "DAV:") == 0) {
        return "D";
    }
    return apr_psprintf(p, "X%d", ns);
}

static const char *caldav_pr_qname(apr_pool_t *p,
                                   const apr_array_header_t *nss, int ns,
                                   const char *name)
{
    const char *prefix = caldav_pr_prefix(p, nss, ns);

    return prefix ? apr_pstrcat(p, prefix, ":", name, NULL) : name;
}

/* " xmlns:Xn=..." for namespace 'ns' unless it is DAV:, none, or in
 * 'done' (the namespaces already declared on this element). */
static const char *caldav_pr_xmlns(apr_pool_t *p,
                                   const apr_array_header_t *nss, int ns,
                                   apr_array_header_t *done)
{
    int i;

    if (ns < 0 || strcmp(APR_XML_GET_URI_ITEM(nss, ns), "DAV:") == 0) {
        return "";
    }
    for (i = 0; i < done->nelts; i++) {
        if (APR_ARRAY_IDX(done, i, int) == ns) {
            return "";
        }
    }
    APR_ARRAY_PUSH(done, int) = ns;
    return apr_psprintf(p, " xmlns:X%d=\"%s\"", ns,
                        apr_xml_quote_string(p, APR_XML_GET_URI_ITEM(nss,
                                                                      ns),
                                             1));
}

/* The start tag of 'e' (a parsed element), "/>"-closed when 'empty';
 * 'lang' is the xml:lang in scope where it is written. */
static const char *caldav_pr_start_tag(apr_pool_t *p,
                                       const apr_array_header_t *nss,
                                       const apr_xml_elem *e,
                                       const char *lang, int empty)
{
    apr_array_header_t *done = apr_array_make(p, 2, sizeof(int));
    const char *s = apr_pstrcat(p, "<", caldav_pr_qname(p, nss, e->ns,
                                                        e->name),
                                caldav_pr_xmlns(p, nss, e->ns, done), NULL);
    const apr_xml_attr *a;

    for (a = e->attr; a; a = a->next) {
        s = apr_pstrcat(p, s, caldav_pr_xmlns(p, nss, a->ns, done), " ",
                        caldav_pr_qname(p, nss, a->ns, a->name), "=\"",
                        apr_xml_quote_string(p, a->value, 1), "\"", NULL);
    }
    if (e->lang && (lang == NULL || strcmp(lang, e->lang) != 0)) {
        s = apr_pstrcat(p, s, " xml:lang=\"",
                        apr_xml_quote_string(p, e->lang, 1), "\"", NULL);
    }
    return apr_pstrcat(p, s, empty ? "/>" : ">", NULL);
}

static void caldav_pr_write_cdata(caldav_pr_ctx *ctx, apr_pool_t *p,
                                  const apr_text_header *h)
{
    const apr_text *t;

    for (t = h->first; t; t = t->next) {
        caldav_pr_puts(ctx, apr_xml_quote_string(p, t->text, 0));
    }
}

/* Write parsed element 'e' with everything inside it. */
static void caldav_pr_write_elem(caldav_pr_ctx *ctx,
                                 const apr_array_header_t *nss,
                                 const apr_xml_elem *e, const char *lang,
                                 apr_pool_t *p)
{
    const apr_xml_elem *c;

    if (APR_XML_ELEM_IS_EMPTY(e)) {
        caldav_pr_puts(ctx, caldav_pr_start_tag(p, nss, e, lang, 1));
        return;
    }
    caldav_pr_puts(ctx, caldav_pr_start_tag(p, nss, e, lang, 0));
    caldav_pr_write_cdata(ctx, p, &e->first_cdata);
    for (c = e->first_child; c; c = c->next) {
        caldav_pr_write_elem(ctx, nss, c, e->lang, p);
        caldav_pr_write_cdata(ctx, p, &c->following_cdata);
    }
    caldav_pr_puts(ctx, apr_pstrcat(p, "</", caldav_pr_qname(p, nss, e->ns,
                                                             e->name),
                                    ">", NULL));
}

/* A response that is only a status, for 'href' exactly as it was written
 * (in the request or in a property value). */
static void caldav_pr_send_href_status(caldav_pr_ctx *ctx, const char *href,
                                       int status, apr_pool_t *p)
{
    ap_fputstrs(ctx->r->output_filters, ctx->bb, "<D:response><D:href>",
                apr_xml_quote_string(p, href, 0), "</D:href><D:status>"
                "HTTP/1.1 ", ap_get_status_line(status), "</D:status>"
                "</D:response>" DEBUG_CR, NULL);
}

/* A response for 'res' with the properties of the request's DAV:prop, or
 * only a 200 status when it has none. */
static void caldav_pr_send(caldav_pr_ctx *ctx, const dav_resource *res,
                           apr_pool_t *scratch)
{
    dav_resource *copy = apr_pmemdup(scratch, res, sizeof(*res));
    dav_response resp;
    dav_propdb *db;
    dav_error *err;

    memset(&resp, 0, sizeof(resp));
    resp.href = res->uri;
    copy->pool = scratch;
    if (!ctx->has_prop) {
        resp.status = HTTP_OK;
    }
    else if ((err = dav_popen_propdb(scratch, ctx->r, NULL, copy,
                                     DAV_PROPDB_RO, ctx->doc->namespaces,
                                     &db)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, err->aprerr, ctx->r,
                      "properties of %s: %s", res->uri, err->desc);
        resp.status = HTTP_INTERNAL_SERVER_ERROR;
    }
    else {
        resp.propresult = dav_get_props(db, (apr_xml_doc *)ctx->doc);
        dav_close_propdb(db);
    }
    dav_send_one_response(&resp, ctx->bb, ctx->r, scratch);
}

/* Send one response per resource of 'list' (dav_resource *) in a 207. */
static void caldav_pr_send_all(caldav_pr_ctx *ctx,
                               const apr_array_header_t *list)
{
    apr_pool_t *scratch;
    int i;

    apr_pool_create(&scratch, ctx->r->pool);
    dav_begin_multistatus(ctx->bb, ctx->r, HTTP_MULTI_STATUS,
                          ctx->doc->namespaces);
    for (i = 0; i < list->nelts; i++) {
        apr_pool_clear(scratch);
        caldav_pr_send(ctx, APR_ARRAY_IDX(list, i, const dav_resource *),
                       scratch);
    }
    dav_finish_multistatus(ctx->r, ctx->bb);
    apr_pool_destroy(scratch);
}

static void caldav_pr_init(caldav_pr_ctx *ctx, request_rec *r,
                           const dav_resource *target,
                           const apr_xml_doc *doc)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->r = r;
    ctx->doc = doc;
    ctx->target = target;
    ctx->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ctx->has_prop = caldav_xml_child(doc->namespaces, doc->root, "DAV:",
                                    "prop") != NULL;
}

/* ---- members of a collection ---------------------------------------- */

typedef struct caldav_pr_list_baton {
    request_rec *r;
    const dav_resource *coll;
    apr_array_header_t *members;    /* dav_resource *, from r->pool      */
    int principals_only;
} caldav_pr_list_baton;

static apr_status_t caldav_pr_collect(void *baton,
                                      const calstore_node_t *node,
                                      apr_pool_t *scratch)
{
    caldav_pr_list_baton *b = baton;
    dav_resource *res;

    if (b->principals_only
        && (node->kind != CALSTORE_KIND_COLLECTION
            || !(node->flags & CALDAV_NODE_PRINCIPAL))) {
        return APR_SUCCESS;
    }
    res = caldav_member_resource(b->coll, node, b->r->pool);
    if (caldav_check_access(b->r, res->info->path, res->uri, 0) != NULL) {
        return APR_SUCCESS;     /* not this user's: not even considered */
    }
    APR_ARRAY_PUSH(b->members, dav_resource *) = res;
    return APR_SUCCESS;
}

/* The members of 'coll' the user may read (only principals, if asked),
 * in name order; none when 'coll' is not an existing collection. */
static dav_error *caldav_pr_members(request_rec *r, const dav_resource *coll,
                                    int principals_only,
                                    apr_array_header_t **members)
{
    caldav_pr_list_baton b;
    apr_pool_t *scratch;
    apr_status_t rv;

    b.r = r;
    b.coll = coll;
    b.members = apr_array_make(r->pool, 8, sizeof(dav_resource *));
    b.principals_only = principals_only;
    *members = b.members;
    if (!coll->exists || !coll->collection) {
        return NULL;
    }
    apr_pool_create(&scratch, r->pool);
    rv = calstore_list(coll->info->st, coll->info->node->id,
                       caldav_pr_collect, &b, scratch);
    apr_pool_destroy(scratch);
    if (rv != APR_SUCCESS) {
        return caldav_store_error(r, rv, "Could not list the collection");
    }
    return NULL;
}

/* ---- DAV:expand-property (RFC 3253 3.8) ------------------------------ */

static dav_error *caldav_expand_validate(request_rec *r,
                                         const apr_array_header_t *nss,
                                         const apr_xml_elem *e, int depth)
{
    const apr_xml_elem *c;
    const char *name, *ns;
    dav_error *err;

    for (c = e->first_child; c; c = c->next) {
        if (!caldav_xml_is(nss, c, "DAV:", "property")) {
            continue;
        }
        if (depth >= CALDAV_PR_MAX_NESTING) {
            return caldav_pr_bad(r, "DAV:property is nested too deeply");
        }
        name = caldav_pr_attr(c, "name");
        ns = caldav_pr_attr(c, "namespace");
        if (name == NULL || !caldav_pr_ncname_ok(name)) {
            return caldav_pr_bad(r, "DAV:property needs a name attribute "
                                    "holding an element name");
        }
        if (ns && !caldav_pr_ns_ok(ns)) {
            return caldav_pr_bad(r, "Invalid namespace attribute of "
                                    "DAV:property");
        }
        if ((err = caldav_expand_validate(r, nss, c, depth + 1))) {
            return err;
        }
    }
    return NULL;
}

static void caldav_expand_response(caldav_pr_ctx *ctx,
                                   const dav_resource *res,
                                   const apr_xml_elem *req, int level,
                                   apr_pool_t *pool);

/* The request's D:property (a child of 'req') asking for the property
 * element 'value' with nested D:property children, or NULL. */
static const apr_xml_elem *caldav_expand_nested(caldav_pr_ctx *ctx,
                                                const apr_xml_elem *req,
                                                const apr_array_header_t *nss,
                                                const apr_xml_elem *value)
{
    const apr_array_header_t *rns = ctx->doc->namespaces;
    const char *vns = caldav_pr_ns(nss, value->ns);
    const apr_xml_elem *q;

    for (q = req->first_child; q; q = q->next) {
        const char *ns = caldav_pr_attr(q, "namespace");

        if (caldav_xml_is(rns, q, "DAV:", "property")
            && strcmp(caldav_pr_attr(q, "name"), value->name) == 0
            && strcmp(ns ? ns : "DAV:", vns) == 0) {
            return caldav_xml_child(rns, q, "DAV:", "property") ? q : NULL;
        }
    }
    return NULL;
}

/* One D:href of a value, replaced by the response for its resource. */
static void caldav_expand_href(caldav_pr_ctx *ctx, const char *href,
                               const apr_xml_elem *req, int level,
                               apr_pool_t *pool)
{
    const dav_resource *target = ctx->target;
    dav_resource *res;
    const char *path;
    apr_pool_t *sub;
    dav_error *err;

    apr_pool_create(&sub, pool);
    path = caldav_pr_href_path(sub, target->info->root_uri, href);
    if (path == NULL) {
        caldav_pr_send_href_status(ctx, href, HTTP_NOT_FOUND, sub);
    }
    else if ((err = caldav_resolve(ctx->r, target->info->st,
                                   target->info->root_uri, path,
                                   &res)) != NULL) {
        caldav_pr_send_href_status(ctx, href, err->status, sub);
    }
    else if (!res->exists) {
        caldav_pr_send_href_status(ctx, href, HTTP_NOT_FOUND, sub);
    }
    else if (caldav_check_access(ctx->r, path, res->uri, 0) != NULL) {
        caldav_pr_send_href_status(ctx, href, HTTP_FORBIDDEN, sub);
    }
    else {
        caldav_expand_response(ctx, res, req, level, sub);
    }
    apr_pool_destroy(sub);
}

/* Write property element 'value' with each D:href in it replaced by a
 * response with the properties 'req' (a D:property) nests. */
static void caldav_expand_value(caldav_pr_ctx *ctx,
                                const apr_array_header_t *nss,
                                const apr_xml_elem *value,
                                const apr_xml_elem *req, int level,
                                apr_pool_t *pool)
{
    const apr_xml_elem *c;

    if (caldav_xml_child(nss, value, "DAV:", "href") == NULL) {
        caldav_pr_write_elem(ctx, nss, value, NULL, pool);
        return;
    }
    caldav_pr_puts(ctx, caldav_pr_start_tag(pool, nss, value, NULL, 0));
    for (c = value->first_child; c; c = c->next) {
        if (caldav_xml_is(nss, c, "DAV:", "href")) {
            caldav_expand_href(ctx, caldav_pr_text(pool, c), req, level,
                               pool);
        }
        else {
            caldav_pr_write_elem(ctx, nss, c, value->lang, pool);
        }
    }
    caldav_pr_puts(ctx, apr_pstrcat(pool, "</",
                                    caldav_pr_qname(pool, nss, value->ns,
                                                    value->name),
                                    ">", NULL));
}

/* Write the response for 'res' with the properties the D:property
 * children of 'req' name, expanding hrefs below level
 * CALDAV_EXPAND_MAX_DEPTH. */
static void caldav_expand_response(caldav_pr_ctx *ctx,
                                   const dav_resource *res,
                                   const apr_xml_elem *req, int level,
                                   apr_pool_t *pool)
{
    const apr_array_header_t *rns = ctx->doc->namespaces;
    apr_array_header_t *names = apr_array_make(pool, 4,
                                               sizeof(caldav_pr_name));
    const apr_array_header_t *nss;
    const apr_xml_elem *q, *ps, *c;
    apr_xml_doc *parsed;
    dav_error *err;

    for (q = req->first_child; q; q = q->next) {
        if (caldav_xml_is(rns, q, "DAV:", "property")) {
            caldav_pr_name *n = apr_array_push(names);
            const char *ns = caldav_pr_attr(q, "namespace");

            n->name = caldav_pr_attr(q, "name");
            n->ns = ns ? ns : "DAV:";
        }
    }
    if ((err = caldav_pr_fetch(ctx->r, res, names, pool, &parsed)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, err->aprerr, ctx->r,
                      "expand-property: %s", err->desc);
        caldav_pr_send_href_status(ctx, ap_escape_uri(pool, res->uri),
                                   err->status, pool);
        return;
    }
    nss = parsed->namespaces;
    ap_fputstrs(ctx->r->output_filters, ctx->bb, "<D:response><D:href>",
                apr_xml_quote_string(pool, ap_escape_uri(pool, res->uri), 0),
                "</D:href>", NULL);
    for (ps = parsed->root->first_child; ps; ps = ps->next) {
        const apr_xml_elem *prop = caldav_xml_child(nss, ps, "DAV:", "prop");
        const apr_xml_elem *st = caldav_xml_child(nss, ps, "DAV:", "status");
        int ok;

        if (!caldav_xml_is(nss, ps, "DAV:", "propstat") || prop == NULL
            || st == NULL) {
            continue;
        }
        ok = caldav_pr_status_ok(pool, st);
        caldav_pr_puts(ctx, "<D:propstat><D:prop>");
        for (c = prop->first_child; c; c = c->next) {
            const apr_xml_elem *nested = ok && level < CALDAV_EXPAND_MAX_DEPTH
                ? caldav_expand_nested(ctx, req, nss, c) : NULL;

            if (nested) {
                caldav_expand_value(ctx, nss, c, nested, level + 1, pool);
            }
            else {
                caldav_pr_write_elem(ctx, nss, c, NULL, pool);
            }
        }
        caldav_pr_puts(ctx, "</D:prop>");
        caldav_pr_write_elem(ctx, nss, st, NULL, pool);
        caldav_pr_puts(ctx, "</D:propstat>" DEBUG_CR);
    }
    caldav_pr_puts(ctx, "</D:response>" DEBUG_CR);
}

dav_error *caldav_report_expand_property(request_rec *r,
                                         const dav_resource *resource,
                                         const apr_xml_doc *doc)
{
    caldav_pr_ctx ctx;
    apr_pool_t *scratch;
    dav_error *err;

    if ((err = caldav_pr_depth0(r, "expand-property"))
        || (err = caldav_expand_validate(r, doc->namespaces, doc->root, 0))) {
        return err;
    }
    caldav_pr_init(&ctx, r, resource, doc);
    apr_pool_create(&scratch, r->pool);
    dav_begin_multistatus(ctx.bb, r, HTTP_MULTI_STATUS, NULL);
    caldav_expand_response(&ctx, resource, doc->root, 0, scratch);
    dav_finish_multistatus(r, ctx.bb);
    apr_pool_destroy(scratch);
    return NULL;
}

/* ---- DAV:principal-search-property-set (RFC 3744 9.5) --------------- */

static int caldav_pr_is_principal_collection(request_rec *r,
                                             const dav_resource *res)
{
    const char *path = caldav_pr_principals_path(r, res->info->root_uri);

    return res->exists && res->collection && path
           && strcmp(res->info->path, path) == 0;
}

dav_error *caldav_report_principal_search_property_set(
    request_rec *r, const dav_resource *resource, const apr_xml_doc *doc)
{
    apr_bucket_brigade *bb;
    dav_error *err;
    int i;

    if ((err = caldav_pr_depth0(r, "principal-search-property-set"))) {
        return err;
    }
    if (!caldav_pr_is_principal_collection(r, resource)) {
        return dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                 "principal-search-property-set is "
                                 "answered on the principal collection",
                                 NULL, "supported-report");
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    r->status = HTTP_OK;
    ap_set_content_type(r, DAV_XML_CONTENT_TYPE);
    ap_fputs(r->output_filters, bb, DAV_XML_HEADER DEBUG_CR
             "<D:principal-search-property-set xmlns:D=\"DAV:\">" DEBUG_CR);
    for (i = 0; caldav_searchable[i].name; i++) {
        const char *ns = caldav_searchable[i].ns;
        const char *name = caldav_searchable[i].name;

        ap_fputstrs(r->output_filters, bb,
                    "<D:principal-search-property><D:prop>",
                    strcmp(ns, "DAV:") == 0
                    ? apr_pstrcat(r->pool, "<D:", name, "/>", NULL)
                    : apr_pstrcat(r->pool, "<X:", name, " xmlns:X=\"", ns,
                                  "\"/>", NULL),
                    "</D:prop><D:description xml:lang=\"en\">",
                    caldav_searchable[i].description,
                    "</D:description></D:principal-search-property>"
                    DEBUG_CR, NULL);
    }
    ap_fputs(r->output_filters, bb, "</D:principal-search-property-set>"
             DEBUG_CR);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                                    r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return NULL;
}

/* ---- DAV:principal-property-search (RFC 3744 9.4) ------------------- */

typedef struct caldav_pps_term {
    apr_array_header_t *props;      /* caldav_pr_name: all must match    */
    const char *match;
    caldav_match_e type;
} caldav_pps_term;

static int caldav_pps_searchable(const caldav_pr_name *n)
{
    int i;

    for (i = 0; caldav_searchable[i].name; i++) {
        if (strcmp(n->ns, caldav_searchable[i].ns) == 0
            && strcmp(n->name, caldav_searchable[i].name) == 0) {
            return 1;
        }
    }
    return 0;
}

static dav_error *caldav_pps_parse(request_rec *r, const apr_xml_doc *doc,
                                   apr_array_header_t **terms, int *anyof,
                                   int *apply)
{
    const apr_array_header_t *nss = doc->namespaces;
    const char *test = caldav_pr_attr(doc->root, "test");
    const apr_xml_elem *c, *prop, *match, *p;

    *terms = apr_array_make(r->pool, 2, sizeof(caldav_pps_term));
    *apply = 0;
    if (test == NULL || strcmp(test, "allof") == 0) {
        *anyof = 0;
    }
    else if (strcmp(test, "anyof") == 0) {
        *anyof = 1;
    }
    else {
        return caldav_pr_bad(r, "The test attribute of "
                                "principal-property-search is anyof or "
                                "allof");
    }
    for (c = doc->root->first_child; c; c = c->next) {
        caldav_pps_term *t;
        const char *type;

        if (caldav_xml_is(nss, c, "DAV:",
                         "apply-to-principal-collection-set")) {
            *apply = 1;
            continue;
        }
        if (!caldav_xml_is(nss, c, "DAV:", "property-search")) {
            continue;
        }
        prop = caldav_xml_child(nss, c, "DAV:", "prop");
        match = caldav_xml_child(nss, c, "DAV:", "match");
        if (prop == NULL || prop->first_child == NULL || match == NULL) {
            return caldav_pr_bad(r, "DAV:property-search needs a DAV:prop "
                                    "naming properties and a DAV:match");
        }
        t = apr_array_push(*terms);
        t->props = apr_array_make(r->pool, 2, sizeof(caldav_pr_name));
        for (p = prop->first_child; p; p = p->next) {
            caldav_pr_name *n = apr_array_push(t->props);

            n->ns = caldav_pr_ns(nss, p->ns);
            n->name = p->name;
        }
        t->match = caldav_pr_text(r->pool, match);
        type = caldav_pr_attr(match, "match-type");
        if (type == NULL || strcmp(type, "contains") == 0) {
            t->type = CALDAV_MATCH_CONTAINS;
        }
        else if (strcmp(type, "starts-with") == 0) {
            t->type = CALDAV_MATCH_STARTS_WITH;
        }
        else if (strcmp(type, "ends-with") == 0) {
            t->type = CALDAV_MATCH_ENDS_WITH;
        }
        else if (strcmp(type, "equals") == 0) {
            t->type = CALDAV_MATCH_EQUALS;
        }
        else {
            return caldav_pr_bad(r, apr_pstrcat(r->pool, "Unsupported "
                                                "match-type: ", type, NULL));
        }
    }
    if ((*terms)->nelts == 0) {
        return caldav_pr_bad(r, "principal-property-search needs a "
                                "DAV:property-search");
    }
    return NULL;
}

/* Does 'text' match term 't' (case-insensitively, i;unicode-casemap)?
 * starts-with, ends-with and equals anchor with control characters, which
 * XML text cannot contain and the folding leaves alone. */
static int caldav_pps_text_matches(const caldav_pps_term *t,
                                   const char *text, apr_pool_t *p)
{
    const char *pre = "", *post = "";
    calcore_textmatch_t tm;

    if (t->type == CALDAV_MATCH_STARTS_WITH
        || t->type == CALDAV_MATCH_EQUALS) {
        pre = "\001";
    }
    if (t->type == CALDAV_MATCH_ENDS_WITH || t->type == CALDAV_MATCH_EQUALS) {
        post = "\002";
    }
    tm.text = apr_pstrcat(p, pre, t->match, post, NULL);
    tm.collation = CALCORE_COLL_UNICODE_CASEMAP;
    tm.negate = 0;
    return calcore_textmatch_contains(&tm, apr_pstrcat(p, pre, text, post,
                                                       NULL), p);
}

/* A value matches when its text does, or, for a value made of elements
 * (the hrefs of calendar-user-address-set), when one of them does. */
static int caldav_pps_value_matches(const caldav_pps_term *t,
                                    const apr_xml_elem *e, int depth,
                                    apr_pool_t *p)
{
    const apr_xml_elem *c;

    if (e->first_child == NULL) {
        return caldav_pps_text_matches(t, caldav_pr_text(p, e), p);
    }
    if (depth >= CALDAV_PR_MAX_NESTING) {
        return 0;
    }
    for (c = e->first_child; c; c = c->next) {
        if (caldav_pps_value_matches(t, c, depth + 1, p)) {
            return 1;
        }
    }
    return 0;
}

static int caldav_pps_term_matches(const caldav_pps_term *t,
                                   const apr_xml_doc *parsed, apr_pool_t *p)
{
    int i;

    for (i = 0; i < t->props->nelts; i++) {
        const caldav_pr_name *n = &APR_ARRAY_IDX(t->props, i,
                                                 caldav_pr_name);
        const apr_xml_elem *e;

        /* a property we do not search is never matched */
        if (parsed == NULL || !caldav_pps_searchable(n)
            || (e = caldav_pr_found(p, parsed, n->ns, n->name)) == NULL
            || !caldav_pps_value_matches(t, e, 0, p)) {
            return 0;
        }
    }
    return 1;
}

dav_error *caldav_report_principal_property_search(
    request_rec *r, const dav_resource *resource, const apr_xml_doc *doc)
{
    apr_array_header_t *terms, *names, *members, *found;
    const dav_resource *coll = resource;
    caldav_pr_ctx ctx;
    apr_pool_t *scratch;
    int anyof = 0, apply = 0, i, j, k;
    dav_error *err;

    if ((err = caldav_pr_depth0(r, "principal-property-search"))
        || (err = caldav_pps_parse(r, doc, &terms, &anyof, &apply))) {
        return err;
    }
    caldav_pr_init(&ctx, r, resource, doc);
    if (apply) {
        /* our DAV:principal-collection-set has one member */
        dav_resource *pc;

        if ((err = caldav_resolve(r, resource->info->st,
                                  resource->info->root_uri,
                                  caldav_pr_principals_path(
                                      r, resource->info->root_uri),
                                  &pc)) != NULL) {
            return err;
        }
        coll = pc;
    }
    if ((err = caldav_pr_members(r, coll, 1, &members)) != NULL) {
        return err;
    }

    /* the searchable properties any term names, fetched once each */
    names = apr_array_make(r->pool, 4, sizeof(caldav_pr_name));
    for (i = 0; i < terms->nelts; i++) {
        const caldav_pps_term *t = &APR_ARRAY_IDX(terms, i, caldav_pps_term);

        for (j = 0; j < t->props->nelts; j++) {
            const caldav_pr_name *n = &APR_ARRAY_IDX(t->props, j,
                                                     caldav_pr_name);

            for (k = 0; k < names->nelts; k++) {
                const caldav_pr_name *o = &APR_ARRAY_IDX(names, k,
                                                         caldav_pr_name);

                if (strcmp(o->ns, n->ns) == 0
                    && strcmp(o->name, n->name) == 0) {
                    break;
                }
            }
            if (k == names->nelts && caldav_pps_searchable(n)) {
                APR_ARRAY_PUSH(names, caldav_pr_name) = *n;
            }
        }
    }

    found = apr_array_make(r->pool, 8, sizeof(dav_resource *));
    apr_pool_create(&scratch, r->pool);
    for (i = 0; i < members->nelts; i++) {
        const dav_resource *m = APR_ARRAY_IDX(members, i,
                                              const dav_resource *);
        apr_xml_doc *parsed = NULL;
        int hit = anyof ? 0 : 1;

        apr_pool_clear(scratch);
        if (names->nelts
            && (err = caldav_pr_fetch(r, m, names, scratch, &parsed))) {
            err = caldav_pr_keep_error(r, err, "principal-property-search");
            apr_pool_destroy(scratch);
            return err;
        }
        for (j = 0; j < terms->nelts; j++) {
            int one = caldav_pps_term_matches(
                &APR_ARRAY_IDX(terms, j, caldav_pps_term), parsed, scratch);

            if (anyof && one) {
                hit = 1;
                break;
            }
            if (!anyof && !one) {
                hit = 0;
                break;
            }
        }
        if (hit) {
            APR_ARRAY_PUSH(found, const dav_resource *) = m;
        }
    }
    apr_pool_destroy(scratch);
    caldav_pr_send_all(&ctx, found);
    return NULL;
}

/* ---- DAV:principal-match (RFC 3744 9.3) ----------------------------- */

/* Does property 'n' of 'res' hold a D:href naming principal 'user_path'? */
static dav_error *caldav_pm_names_user(request_rec *r,
                                       const dav_resource *res,
                                       const caldav_pr_name *n,
                                       const char *user_path,
                                       apr_pool_t *p, int *hit)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(caldav_pr_name));
    const apr_xml_elem *e, *h;
    apr_xml_doc *parsed;
    const char *path;
    dav_error *err;

    *hit = 0;
    APR_ARRAY_PUSH(names, caldav_pr_name) = *n;
    if ((err = caldav_pr_fetch(r, res, names, p, &parsed)) != NULL) {
        return err;
    }
    if ((e = caldav_pr_found(p, parsed, n->ns, n->name)) == NULL) {
        return NULL;
    }
    for (h = e->first_child; h; h = h->next) {
        if (caldav_xml_is(parsed->namespaces, h, "DAV:", "href")
            && (path = caldav_pr_href_path(p, res->info->root_uri,
                                           caldav_pr_text(p, h))) != NULL
            && strcmp(path, user_path) == 0) {
            *hit = 1;
            return NULL;
        }
    }
    return NULL;
}

dav_error *caldav_report_principal_match(request_rec *r,
                                         const dav_resource *resource,
                                         const apr_xml_doc *doc)
{
    const apr_array_header_t *nss = doc->namespaces;
    const apr_xml_elem *self, *pp;
    apr_array_header_t *members, *found;
    const char *user_path;
    caldav_pr_name prop;
    caldav_pr_ctx ctx;
    apr_pool_t *scratch;
    dav_error *err;
    int i;

    if ((err = caldav_pr_depth0(r, "principal-match"))) {
        return err;
    }
    self = caldav_xml_child(nss, doc->root, "DAV:", "self");
    pp = caldav_xml_child(nss, doc->root, "DAV:", "principal-property");
    if ((self == NULL) == (pp == NULL)
        || (pp && (pp->first_child == NULL || pp->first_child->next))) {
        return caldav_pr_bad(r, "principal-match needs either DAV:self or a "
                                "DAV:principal-property naming one "
                                "property");
    }
    if (pp) {
        prop.ns = caldav_pr_ns(nss, pp->first_child->ns);
        prop.name = pp->first_child->name;
    }
    caldav_pr_init(&ctx, r, resource, doc);
    user_path = caldav_pr_user_principal(r, resource->info->root_uri);
    if ((err = caldav_pr_members(r, resource, self != NULL, &members))) {
        return err;
    }

    found = apr_array_make(r->pool, 8, sizeof(dav_resource *));
    apr_pool_create(&scratch, r->pool);
    for (i = 0; user_path && i < members->nelts; i++) {
        const dav_resource *m = APR_ARRAY_IDX(members, i,
                                              const dav_resource *);
        const char *owner;
        int area, hit;

        apr_pool_clear(scratch);
        if (self) {
            hit = strcmp(m->info->path, user_path) == 0;
        }
        else if (strcmp(prop.ns, "DAV:") == 0
                 && strcmp(prop.name, "owner") == 0) {
            /* what DAV:owner reports, without the round trip */
            owner = caldav_owner_of(r, m->info->path, &area);
            hit = owner && strcmp(owner, r->user) == 0;
        }
        else if ((err = caldav_pm_names_user(r, m, &prop, user_path,
                                             scratch, &hit)) != NULL) {
            err = caldav_pr_keep_error(r, err, "principal-match");
            apr_pool_destroy(scratch);
            return err;
        }
        if (hit) {
            APR_ARRAY_PUSH(found, const dav_resource *) = m;
        }
    }
    apr_pool_destroy(scratch);
    caldav_pr_send_all(&ctx, found);
    return NULL;
}

/* ---- DAV:acl-principal-prop-set (RFC 3744 9.2) ---------------------- */

/* Reading a resource's ACL takes DAV:read-acl, which is the owner's (as
 * for the DAV:acl property, caldav_acl.c; a path outside every home and
 * principal counts as the user's own). */
static dav_error *caldav_pr_check_read_acl(request_rec *r,
                                           const dav_resource *res)
{
    if (caldav_access_level(r, res->info->path) == CALDAV_ACCESS_OWNER) {
        return NULL;
    }
    return caldav_need_privilege(r, res->uri, "D:read-acl");
}


dav_error *caldav_report_acl_principal_prop_set(request_rec *r,
                                                const dav_resource *resource,
                                                const apr_xml_doc *doc)
{
    apr_array_header_t *hrefs, *seen;
    caldav_pr_ctx ctx;
    apr_pool_t *scratch;
    dav_error *err;
    int i, j;

    if ((err = caldav_pr_depth0(r, "acl-principal-prop-set"))
        || (err = caldav_pr_check_read_acl(r, resource))
        || (err = caldav_acl_principals(r, resource, &hrefs))) {
        return err;
    }
    caldav_pr_init(&ctx, r, resource, doc);
    seen = apr_array_make(r->pool, hrefs->nelts + 1, sizeof(const char *));
    apr_pool_create(&scratch, r->pool);
    dav_begin_multistatus(ctx.bb, r, HTTP_MULTI_STATUS, doc->namespaces);
    for (i = 0; i < hrefs->nelts; i++) {
        const char *href = APR_ARRAY_IDX(hrefs, i, const char *);
        const char *path;
        dav_resource *res;

        apr_pool_clear(scratch);
        path = caldav_pr_href_path(r->pool, resource->info->root_uri, href);
        for (j = 0; path && j < seen->nelts; j++) {
            if (strcmp(APR_ARRAY_IDX(seen, j, const char *), path) == 0) {
                break;
            }
        }
        if (path && j < seen->nelts) {
            continue;           /* one response per principal */
        }
        if (path == NULL) {
            caldav_pr_send_href_status(&ctx, href, HTTP_NOT_FOUND, scratch);
            continue;
        }
        APR_ARRAY_PUSH(seen, const char *) = path;
        if ((err = caldav_resolve(r, resource->info->st,
                                  resource->info->root_uri, path,
                                  &res)) != NULL) {
            caldav_pr_send_href_status(&ctx, href, err->status, scratch);
        }
        else if (!res->exists) {
            caldav_pr_send_href_status(&ctx, href, HTTP_NOT_FOUND, scratch);
        }
        else if (caldav_check_access(r, path, res->uri, 0) != NULL) {
            caldav_pr_send_href_status(&ctx, href, HTTP_FORBIDDEN, scratch);
        }
        else {
            caldav_pr_send(&ctx, res, scratch);
        }
    }
    dav_finish_multistatus(r, ctx.bb);
    apr_pool_destroy(scratch);
    return NULL;
}
