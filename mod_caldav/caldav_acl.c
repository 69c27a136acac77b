/*
 * caldav_acl.c - access control (RFC 3744) for calendars shared by their
 * owners: the stored grants, the access level of a request, the ACL
 * method and the DAV:acl family of properties.
 *
 * The model (docs/caldav.md, "Access control"):
 *
 *   - a user owns their principal and their calendar home with everything
 *     in it (the protected ACE: DAV:all for the owner, never changeable);
 *   - an owner may grant, on a calendar collection, one of three levels to
 *     a principal (a user), to DAV:authenticated, to DAV:unauthenticated
 *     or to DAV:all: C:read-free-busy (free-busy-query only), DAV:read,
 *     or DAV:read + DAV:write (the calendar's objects, and its properties;
 *     not the collection itself: deleting, moving or re-sharing it needs
 *     unbind on the home or write-acl, which stay with the owner);
 *   - the objects inherit their calendar's grants (DAV:inherited-acl-set);
 *   - grant-only, no-invert (DAV:acl-restrictions); the sub-privileges of
 *     DAV:write, DAV:read-acl, DAV:write-acl and
 *     DAV:read-current-user-privilege-set are abstract: they are reported
 *     but cannot appear in an ACE.
 *
 * The grants of a calendar are one dead property of the calendar in a
 * namespace of ours (CALDAV_INTERNAL_NS, hidden from PROPFIND and refused
 * by PROPPATCH), one line per ACE: "<kind> <level> [<user>]".  Writing it
 * is one store transaction; like every property change it bumps the
 * calendar's ctag and sync token.
 */
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_xml.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_caldav.h"

#define ACL_PROP "acl"

int caldav_m_acl = -1;
#define ACL_MAX_ACES 256

/* ACE principals */
enum {
    ACE_USER = 'u',
    ACE_AUTHENTICATED = 'a',
    ACE_UNAUTHENTICATED = 'n',
    ACE_ALL = '*'
};

typedef struct caldav_ace {
    int kind;
    const char *user;           /* ACE_USER                                 */
    int level;                  /* CALDAV_ACCESS_FREEBUSY .. _WRITE        */
} caldav_ace;

/* ---- the stored form ------------------------------------------------ */

static apr_array_header_t *acl_parse(apr_pool_t *p, const char *text,
                                     apr_size_t len)
{
    apr_array_header_t *aces = apr_array_make(p, 4, sizeof(caldav_ace));
    char *copy = apr_pstrmemdup(p, text, len), *line, *last = NULL;

    for (line = apr_strtok(copy, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        caldav_ace *a;

        if (strlen(line) < 3 || line[1] != ' ' || line[2] < '1'
            || line[2] > '3') {
            continue;           /* written by us: never happens */
        }
        a = apr_array_push(aces);
        a->kind = line[0];
        a->level = line[2] - '0';
        a->user = (a->kind == ACE_USER && line[3] == ' ') ? line + 4 : NULL;
        if (a->kind == ACE_USER && (a->user == NULL || !*a->user)) {
            aces->nelts--;
        }
    }
    return aces;
}

static const char *acl_format(apr_pool_t *p, const apr_array_header_t *aces)
{
    const char *out = "";
    int i;

    for (i = 0; i < aces->nelts; i++) {
        const caldav_ace *a = &APR_ARRAY_IDX(aces, i, caldav_ace);

        out = apr_psprintf(p, "%s%c %d%s%s\n", out, a->kind, a->level,
                           a->user ? " " : "", a->user ? a->user : "");
    }
    return out;
}

/* The grants of calendar 'coll' (cached for the request). */
static apr_array_header_t *acl_load(request_rec *r, calstore_t *st,
                                    const calstore_node_t *coll)
{
    request_rec *m = r;
    const char *key, *text;
    apr_size_t len;
    apr_array_header_t *aces;
    void *cached = NULL;

    while (m->main) {
        m = m->main;
    }
    key = apr_psprintf(m->pool, "caldav-acl-%" APR_UINT64_T_FMT, coll->id);
    apr_pool_userdata_get(&cached, key, m->pool);
    if (cached) {
        return cached;
    }
    if (calstore_prop_get(st, coll->id, CALDAV_INTERNAL_NS, ACL_PROP, &text,
                          &len, m->pool) == APR_SUCCESS) {
        aces = acl_parse(m->pool, text, len);
    }
    else {
        aces = apr_array_make(m->pool, 1, sizeof(caldav_ace));
    }
    apr_pool_userdata_setn(aces, key, NULL, m->pool);
    return aces;
}

/* Forget the cached grants of 'coll' (after the ACL method wrote them). */
static void acl_forget(request_rec *r, const calstore_node_t *coll)
{
    request_rec *m = r;

    while (m->main) {
        m = m->main;
    }
    apr_pool_userdata_setn(NULL, apr_psprintf(m->pool, "caldav-acl-%"
                                              APR_UINT64_T_FMT, coll->id),
                           NULL, m->pool);
}

/* The level 'aces' give the user of 'r' (NULL: anonymous). */
static int acl_level(const char *user, const apr_array_header_t *aces)
{
    int i, level = CALDAV_ACCESS_NONE;

    for (i = 0; i < aces->nelts; i++) {
        const caldav_ace *a = &APR_ARRAY_IDX(aces, i, caldav_ace);
        int match = a->kind == ACE_ALL
                    || (a->kind == ACE_AUTHENTICATED && user)
                    || (a->kind == ACE_UNAUTHENTICATED && !user)
                    || (a->kind == ACE_USER && user
                        && strcmp(a->user, user) == 0);

        if (match && a->level > level) {
            level = a->level;
        }
    }
    return level;
}

/* ---- the access level of a store path -------------------------------- */

/* Split 'path' below the homes area: *owner, *cal (NULL when 'path' is the
 * home itself) and *deeper (something below the calendar).  0 when 'path'
 * is not in a home. */
static int split_home_path(request_rec *r, const char *path,
                           const char **owner, const char **cal,
                           int *deeper)
{
    const char *home = caldav_home_path(caldav_dir_config(r));
    apr_size_t n = strlen(home);
    const char *rest, *s1, *s2;

    if (strncmp(path, home, n) != 0 || path[n] != '/') {
        return 0;
    }
    rest = path + n + 1;
    s1 = strchr(rest, '/');
    *owner = s1 ? apr_pstrndup(r->pool, rest, s1 - rest) : rest;
    *cal = NULL;
    *deeper = 0;
    if (s1) {
        s2 = strchr(s1 + 1, '/');
        *cal = s2 ? apr_pstrndup(r->pool, s1 + 1, s2 - s1 - 1) : s1 + 1;
        *deeper = s2 != NULL;
    }
    return 1;
}

/* The grants of calendar 'cal' of 'owner', or NULL when that is no
 * calendar. */
static apr_array_header_t *calendar_grants(request_rec *r, calstore_t *st,
                                           const char *owner,
                                           const char *cal,
                                           const calstore_node_t **node)
{
    const char *cpath = apr_pstrcat(r->pool,
                                    caldav_home_path(caldav_dir_config(r)),
                                    "/", owner, "/", cal, NULL);
    calstore_node_t *n = NULL;

    if (caldav_lookup_node(r, st, cpath, &n) != NULL
        || !caldav_is_calendar(n)) {
        return NULL;
    }
    if (node) {
        *node = n;
    }
    return acl_load(r, st, n);
}

typedef struct home_scan {
    request_rec *r;
    calstore_t *st;
    const char *user;
    int level;
} home_scan;

static apr_status_t home_scan_cb(void *baton, const calstore_node_t *node,
                                 apr_pool_t *scratch)
{
    home_scan *hs = baton;
    int level;

    (void)scratch;
    if (!caldav_is_calendar(node)) {
        return APR_SUCCESS;
    }
    level = acl_level(hs->user, acl_load(hs->r, hs->st, node));
    if (level > hs->level) {
        hs->level = level;
    }
    return APR_SUCCESS;
}

static int access_level(request_rec *r, const char *path);

int caldav_access_level(request_rec *r, const char *path)
{
    int level = access_level(r, path);

    /* CalDAVPublic On: an admin opened this part of the tree for reading */
    if (level < CALDAV_ACCESS_READ && caldav_dir_config(r)->public_read > 0) {
        return CALDAV_ACCESS_READ;
    }
    return level;
}

static int access_level(request_rec *r, const char *path)
{
    const request_rec *m = r->main ? r->main : r;
    const char *user = m->user;
    int principal_area, deeper;
    const char *owner = caldav_owner_of(r, path, &principal_area), *cal;
    const caldav_dir_conf *conf;
    calstore_t *st;
    apr_array_header_t *aces;

    if (owner == NULL) {
        conf = caldav_dir_config(r);
        if (*path == '\0' || strcmp(path, caldav_home_path(conf)) == 0
            || strcmp(path, caldav_principal_path(conf)) == 0) {
            /* the store's root and the two areas: listed (members filtered
             * by their own rights), never changed, copied or moved by a
             * user */
            return user ? CALDAV_ACCESS_READ : CALDAV_ACCESS_NONE;
        }
        return CALDAV_ACCESS_OWNER;     /* outside homes and principals */
    }
    if (user && strcmp(owner, user) == 0) {
        return CALDAV_ACCESS_OWNER;
    }
    if (principal_area) {
        return user ? CALDAV_ACCESS_READ : CALDAV_ACCESS_NONE;
    }
    conf = caldav_dir_config(r);
    if (!conf->store_dir || (st = caldav_store_for(conf->store_dir)) == NULL
        || !split_home_path(r, path, &owner, &cal, &deeper)) {
        return CALDAV_ACCESS_NONE;
    }
    if (cal == NULL) {
        /* Someone else's home: readable (its members filtered by their
         * own grants) by whoever may read one calendar in it. */
        calstore_node_t *home = NULL;
        home_scan hs;

        if (caldav_lookup_node(r, st, path, &home) != NULL || !home) {
            return CALDAV_ACCESS_NONE;
        }
        hs.r = r;
        hs.st = st;
        hs.user = user;
        hs.level = CALDAV_ACCESS_NONE;
        if (calstore_list(st, home->id, home_scan_cb, &hs, r->pool)
            != APR_SUCCESS) {
            return CALDAV_ACCESS_NONE;
        }
        return hs.level > CALDAV_ACCESS_READ ? CALDAV_ACCESS_READ
                                             : hs.level;
    }
    aces = calendar_grants(r, st, owner, cal, NULL);
    return aces ? acl_level(user, aces) : CALDAV_ACCESS_NONE;
}

/* ---- need-privileges --------------------------------------------------- */

dav_error *caldav_need_privilege(request_rec *r, const char *href,
                                 const char *privilege)
{
    const request_rec *m = r->main ? r->main : r;
    dav_error *err;

    err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                            apr_pstrcat(r->pool, m->user ? m->user
                                                         : "anonymous",
                                        " lacks the privilege ", privilege,
                                        " on ", href, NULL),
                            NULL, "need-privileges");
    err->childtags = apr_pstrcat(r->pool,
                                 "<D:resource><D:href>",
                                 apr_xml_quote_string(r->pool,
                                     ap_escape_uri(r->pool, href), 0),
                                 "</D:href><D:privilege><", privilege,
                                 "/></D:privilege></D:resource>", NULL);
    return err;
}

/* ---- properties ------------------------------------------------------ */

const char *caldav_supported_privilege_set(apr_pool_t *p)
{
    (void)p;
    return
        "<D:supported-privilege><D:privilege><D:all/></D:privilege>"
        "<D:description xml:lang=\"en\">any operation</D:description>"
        "<D:supported-privilege><D:privilege><D:read/></D:privilege>"
        "<D:description xml:lang=\"en\">read objects and properties"
        "</D:description>"
        "<D:supported-privilege><D:privilege><C:read-free-busy xmlns:C=\""
        CALDAV_NS "\"/></D:privilege>"
        "<D:description xml:lang=\"en\">free-busy-query only"
        "</D:description></D:supported-privilege>"
        "<D:supported-privilege><D:privilege>"
        "<D:read-current-user-privilege-set/></D:privilege><D:abstract/>"
        "<D:description xml:lang=\"en\">read one's own privileges"
        "</D:description></D:supported-privilege>"
        "</D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:write/></D:privilege>"
        "<D:description xml:lang=\"en\">write objects and properties"
        "</D:description>"
        "<D:supported-privilege><D:privilege><D:write-properties/>"
        "</D:privilege><D:abstract/><D:description xml:lang=\"en\">"
        "PROPPATCH</D:description></D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:write-content/>"
        "</D:privilege><D:abstract/><D:description xml:lang=\"en\">"
        "PUT</D:description></D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:bind/></D:privilege>"
        "<D:abstract/><D:description xml:lang=\"en\">add members"
        "</D:description></D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:unbind/></D:privilege>"
        "<D:abstract/><D:description xml:lang=\"en\">remove members"
        "</D:description></D:supported-privilege>"
        "</D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:read-acl/></D:privilege>"
        "<D:abstract/><D:description xml:lang=\"en\">read the ACL (owner "
        "only)</D:description></D:supported-privilege>"
        "<D:supported-privilege><D:privilege><D:write-acl/></D:privilege>"
        "<D:abstract/><D:description xml:lang=\"en\">change the ACL "
        "(owner only)</D:description></D:supported-privilege>"
        "</D:supported-privilege>";
}

const char *caldav_current_privileges(apr_pool_t *p, int level)
{
    static const char *const cups =
        "<D:privilege><D:read-current-user-privilege-set/></D:privilege>";
    static const char *const fb =
        "<D:privilege><C:read-free-busy xmlns:C=\"" CALDAV_NS "\"/>"
        "</D:privilege>";
    static const char *const rd =
        "<D:privilege><D:read/></D:privilege>";
    static const char *const wr =
        "<D:privilege><D:write/></D:privilege>"
        "<D:privilege><D:write-properties/></D:privilege>"
        "<D:privilege><D:write-content/></D:privilege>"
        "<D:privilege><D:bind/></D:privilege>"
        "<D:privilege><D:unbind/></D:privilege>";
    static const char *const own =
        "<D:privilege><D:all/></D:privilege>"
        "<D:privilege><D:read-acl/></D:privilege>"
        "<D:privilege><D:write-acl/></D:privilege>";

    switch (level) {
    case CALDAV_ACCESS_OWNER:
        return apr_pstrcat(p, own, rd, fb, cups, wr, NULL);
    case CALDAV_ACCESS_WRITE:
        return apr_pstrcat(p, rd, fb, cups, wr, NULL);
    case CALDAV_ACCESS_READ:
        return apr_pstrcat(p, rd, fb, cups, NULL);
    case CALDAV_ACCESS_FREEBUSY:
        return apr_pstrcat(p, fb, cups, NULL);
    default:
        return "";
    }
}

const char *caldav_acl_restrictions(void)
{
    return "<D:grant-only/><D:no-invert/>";
}

static const char *href_elem(apr_pool_t *p, const char *uri)
{
    return apr_pstrcat(p, "<D:href>",
                       apr_xml_quote_string(p, ap_escape_uri(p, uri), 0),
                       "</D:href>", NULL);
}

static const char *level_privileges(int level)
{
    switch (level) {
    case CALDAV_ACCESS_WRITE:
        return "<D:privilege><D:read/></D:privilege>"
               "<D:privilege><D:write/></D:privilege>";
    case CALDAV_ACCESS_READ:
        return "<D:privilege><D:read/></D:privilege>";
    default:
        return "<D:privilege><C:read-free-busy xmlns:C=\"" CALDAV_NS
               "\"/></D:privilege>";
    }
}

/* The <D:ace> elements of 'aces' ('inherited_from' = the calendar's href
 * for the ACEs of its objects, else NULL). */
static const char *aces_xml(request_rec *r, const char *root,
                            const apr_array_header_t *aces,
                            const char *inherited_from)
{
    const char *out = "";
    int i;

    for (i = 0; i < aces->nelts; i++) {
        const caldav_ace *a = &APR_ARRAY_IDX(aces, i, caldav_ace);
        const char *who;

        switch (a->kind) {
        case ACE_USER:
            who = href_elem(r->pool, caldav_principal_href(r, root,
                                                           a->user));
            break;
        case ACE_AUTHENTICATED:
            who = "<D:authenticated/>";
            break;
        case ACE_UNAUTHENTICATED:
            who = "<D:unauthenticated/>";
            break;
        default:
            who = "<D:all/>";
            break;
        }
        out = apr_pstrcat(r->pool, out, "<D:ace><D:principal>", who,
                          "</D:principal><D:grant>",
                          level_privileges(a->level), "</D:grant>",
                          inherited_from ? "<D:inherited>" : "",
                          inherited_from ? href_elem(r->pool,
                                                     inherited_from) : "",
                          inherited_from ? "</D:inherited>" : "",
                          "</D:ace>", NULL);
    }
    return out;
}

/* The calendar 'res' is or lies in, with its href, or NULL. */
static apr_array_header_t *grants_of(const dav_resource *res,
                                     const char **cal_href)
{
    request_rec *r = res->info->r;
    const char *owner, *cal;
    int deeper;

    if (!split_home_path(r, res->info->path, &owner, &cal, &deeper)
        || cal == NULL) {
        return NULL;
    }
    *cal_href = apr_pstrcat(r->pool, caldav_home_href(r, res->info->root_uri,
                                                      owner), cal, "/",
                            NULL);
    return calendar_grants(r, res->info->st, owner, cal, NULL);
}

const char *caldav_acl_value(const dav_resource *res, apr_pool_t *p)
{
    request_rec *r = res->info->r;
    const char *root = res->info->root_uri, *owner, *cal_href = NULL;
    int principal_area;
    apr_array_header_t *aces;
    const char *out;

    (void)p;
    if (caldav_access_level(r, res->info->path) != CALDAV_ACCESS_OWNER) {
        return NULL;            /* DAV:read-acl is the owner's */
    }
    owner = caldav_owner_of(r, res->info->path, &principal_area);
    if (owner == NULL) {
        return NULL;
    }
    out = apr_pstrcat(r->pool, "<D:ace><D:principal>",
                      href_elem(r->pool, caldav_principal_href(r, root,
                                                               owner)),
                      "</D:principal><D:grant><D:privilege><D:all/>"
                      "</D:privilege></D:grant><D:protected/></D:ace>",
                      NULL);
    if (principal_area) {
        return apr_pstrcat(r->pool, out, "<D:ace><D:principal>"
                           "<D:authenticated/></D:principal><D:grant>"
                           "<D:privilege><D:read/></D:privilege></D:grant>"
                           "<D:protected/></D:ace>", NULL);
    }
    if ((aces = grants_of(res, &cal_href)) != NULL) {
        int is_cal = res->collection && caldav_is_calendar(res->info->node);

        out = apr_pstrcat(r->pool, out,
                          aces_xml(r, root, aces, is_cal ? NULL : cal_href),
                          NULL);
    }
    return out;
}

dav_error *caldav_acl_principals(request_rec *r, const dav_resource *res,
                                 apr_array_header_t **hrefs)
{
    const char *owner, *cal_href = NULL;
    apr_array_header_t *aces;
    int area, i;

    *hrefs = apr_array_make(r->pool, 4, sizeof(const char *));
    owner = caldav_owner_of(r, res->info->path, &area);
    if (owner) {
        APR_ARRAY_PUSH(*hrefs, const char *) =
            ap_escape_uri(r->pool, caldav_principal_href(
                                       r, res->info->root_uri, owner));
    }
    if ((aces = grants_of(res, &cal_href)) != NULL) {
        for (i = 0; i < aces->nelts; i++) {
            const caldav_ace *a = &APR_ARRAY_IDX(aces, i, caldav_ace);

            if (a->kind == ACE_USER) {
                APR_ARRAY_PUSH(*hrefs, const char *) =
                    ap_escape_uri(r->pool, caldav_principal_href(
                                               r, res->info->root_uri,
                                               a->user));
            }
        }
    }
    return NULL;
}

const char *caldav_inherited_acl_set(const dav_resource *res,
                                     apr_pool_t *p)
{
    const char *cal_href = NULL;

    if (res->collection && caldav_is_calendar(res->info->node)) {
        return "";
    }
    if (grants_of(res, &cal_href) != NULL) {
        return href_elem(p, cal_href);
    }
    return "";
}

/* ---- the ACL method ---------------------------------------------------- */

static int acl_fail(request_rec *r, const char *precond, const char *why)
{
    dav_error *err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                       apr_pstrcat(r->pool, "ACL refused: ",
                                                   why, NULL),
                                       NULL, precond);

    return dav_handle_err(r, err, NULL);
}

/* The user a principal href names, or NULL when it names none of ours. */
static const char *href_user(request_rec *r, const char *root,
                             const char *href)
{
    const char *prefix = caldav_principals_href(r, root);
    apr_size_t n = strlen(prefix);
    apr_uri_t uri;
    char *path, *end;

    if (apr_uri_parse(r->pool, href, &uri) != APR_SUCCESS || !uri.path) {
        return NULL;
    }
    path = apr_pstrdup(r->pool, uri.path);
    if (ap_unescape_url(path) != OK || strncmp(path, prefix, n) != 0) {
        return NULL;
    }
    path += n;
    end = strchr(path, '/');
    if (end) {
        if (end[1] != '\0') {
            return NULL;
        }
        *end = '\0';
    }
    if (!*path || strchr(path, '\n') || strchr(path, ' ')) {
        return NULL;
    }
    return path;
}

int caldav_method_acl(request_rec *r)
{
    const request_rec *m = r->main ? r->main : r;
    dav_resource *res;
    apr_xml_doc *doc;
    const apr_xml_elem *ace;
    apr_array_header_t *aces, *patch;
    calstore_prop_t *op;
    const char *owner;
    dav_error *err;
    apr_status_t rv;
    int result, principal_area;

    if ((result = ap_xml_parse_input(r, &doc)) != OK) {
        return result;
    }
    if ((err = dav_get_resource(r, 0, 0, &res)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (!res->exists) {
        return HTTP_NOT_FOUND;
    }
    if (caldav_access_level(r, res->info->path) != CALDAV_ACCESS_OWNER
        || (owner = caldav_owner_of(r, res->info->path, &principal_area))
           == NULL) {
        return dav_handle_err(r, caldav_need_privilege(r, res->uri,
                                                       "D:write-acl"),
                              NULL);
    }
    if (!res->collection || !caldav_is_calendar(res->info->node)) {
        err = dav_new_error(r->pool, HTTP_FORBIDDEN, 0, 0,
                            "ACLs can be set on calendar collections only "
                            "(their objects inherit them)");
        return dav_handle_err(r, err, NULL);
    }
    if (doc == NULL || !caldav_xml_is(doc->namespaces, doc->root, "DAV:", "acl")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "ACL: the request body must be a DAV:acl element");
        return HTTP_BAD_REQUEST;
    }

    aces = apr_array_make(r->pool, 4, sizeof(caldav_ace));
    for (ace = doc->root->first_child; ace; ace = ace->next) {
        const apr_xml_elem *pr, *who, *grant, *priv, *e;
        caldav_ace *a;
        int i, level = CALDAV_ACCESS_NONE;

        if (!caldav_xml_is(doc->namespaces, ace, "DAV:", "ace")) {
            continue;
        }
        if (caldav_xml_child(doc->namespaces, ace, "DAV:", "protected")
            || caldav_xml_child(doc->namespaces, ace, "DAV:", "inherited")) {
            continue;           /* ours, sent back as read: not a change */
        }
        if (caldav_xml_child(doc->namespaces, ace, "DAV:", "invert")) {
            return acl_fail(r, "no-invert", "DAV:invert is not supported");
        }
        if (caldav_xml_child(doc->namespaces, ace, "DAV:", "deny")) {
            return acl_fail(r, "grant-only", "only grants are supported");
        }
        pr = caldav_xml_child(doc->namespaces, ace, "DAV:", "principal");
        grant = caldav_xml_child(doc->namespaces, ace, "DAV:", "grant");
        if (pr == NULL || grant == NULL || (who = pr->first_child) == NULL
            || who->next != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ACL: an ACE needs "
                          "one DAV:principal and a DAV:grant");
            return HTTP_BAD_REQUEST;
        }
        a = apr_array_push(aces);
        a->user = NULL;
        if (caldav_xml_is(doc->namespaces, who, "DAV:", "href")) {
            char *text = (char *)caldav_elem_cdata(r->pool, who);

            /* (apr_collapse_spaces returns the end of the string) */
            apr_collapse_spaces(text, text);
            a->kind = ACE_USER;
            a->user = href_user(r, res->info->root_uri, text);
            if (a->user == NULL) {
                return acl_fail(r, "recognized-principal", apr_pstrcat(
                                    r->pool, "no principal is named by ",
                                    text, " (principals are ",
                                    caldav_principals_href(
                                        r, res->info->root_uri), "<user>/)",
                                    NULL));
            }
            if (strcmp(a->user, owner) == 0) {
                return acl_fail(r, "no-protected-ace-conflict", "the owner "
                                "always has every privilege");
            }
        }
        else if (caldav_xml_is(doc->namespaces, who, "DAV:", "all")) {
            a->kind = ACE_ALL;
        }
        else if (caldav_xml_is(doc->namespaces, who, "DAV:", "authenticated")) {
            a->kind = ACE_AUTHENTICATED;
        }
        else if (caldav_xml_is(doc->namespaces, who, "DAV:", "unauthenticated")) {
            a->kind = ACE_UNAUTHENTICATED;
        }
        else {
            return acl_fail(r, "allowed-principal", apr_pstrcat(
                                r->pool, "principals of the kind ",
                                who->name, " cannot be granted to", NULL));
        }
        for (priv = grant->first_child; priv; priv = priv->next) {
            if (!caldav_xml_is(doc->namespaces, priv, "DAV:", "privilege")) {
                continue;
            }
            for (e = priv->first_child; e; e = e->next) {
                int l;

                if (caldav_xml_is(doc->namespaces, e, "DAV:", "read")) {
                    l = CALDAV_ACCESS_READ;
                }
                else if (caldav_xml_is(doc->namespaces, e, "DAV:", "write")) {
                    l = CALDAV_ACCESS_WRITE;
                }
                else if (caldav_xml_is(doc->namespaces, e, CALDAV_NS, "read-free-busy")) {
                    l = CALDAV_ACCESS_FREEBUSY;
                }
                else {
                    return acl_fail(r, "not-supported-privilege",
                                    apr_pstrcat(r->pool, "the privilege ",
                                                e->name, " cannot be "
                                                "granted (grantable: read, "
                                                "write, read-free-busy)",
                                                NULL));
                }
                if (l > level) {
                    level = l;
                }
            }
        }
        if (level == CALDAV_ACCESS_NONE) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "ACL: an ACE grants no privilege");
            return HTTP_BAD_REQUEST;
        }
        a->level = level;
        for (i = 0; i < aces->nelts - 1; i++) {
            const caldav_ace *b = &APR_ARRAY_IDX(aces, i, caldav_ace);

            if (b->kind == a->kind
                && (a->kind != ACE_USER || strcmp(a->user, b->user) == 0)) {
                return acl_fail(r, "no-ace-conflict", "two ACEs name the "
                                "same principal");
            }
        }
        if (aces->nelts > ACL_MAX_ACES) {
            return acl_fail(r, "no-ace-conflict", apr_psprintf(
                                r->pool, "at most %d ACEs", ACL_MAX_ACES));
        }
    }

    patch = apr_array_make(r->pool, 1, sizeof(calstore_prop_t));
    op = apr_array_push(patch);
    op->ns = CALDAV_INTERNAL_NS;
    op->name = ACL_PROP;
    op->value = aces->nelts ? acl_format(r->pool, aces) : NULL;
    op->len = op->value ? strlen(op->value) : 0;
    rv = calstore_prop_patch(res->info->st, res->info->node->id, patch,
                             r->pool);
    caldav_lookup_forget(r);
    acl_forget(r, res->info->node);
    if (rv != APR_SUCCESS) {
        return dav_handle_err(r, caldav_store_error(r, rv, "Could not store "
                                                    "the ACL"), NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s set %d ACE(s) on %s",
                  m->user ? m->user : "?", aces->nelts, res->uri);
    return OK;
}
