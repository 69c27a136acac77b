/*
 * caldav_principal.c - users: principals, calendar homes, provisioning,
 * the default access policy and discovery (RFC 3744 principals, RFC 4791
 * section 6, RFC 5397, RFC 6764).
 *
 * Identity is Apache's: r->user, set by whatever mod_auth* module the
 * admin configured.  Below the DAV location:
 *
 *   <principal path>/<user>/   the user's principal (DAV:principal)
 *   <home path>/<user>/        the user's calendar home
 *   <home path>/<user>/<default calendar>/
 *
 * Default policy (until an ACL says otherwise): a user has every privilege
 * on their own principal and home; other users may read principals (so
 * clients can look people up) but nothing in someone else's home.  Paths
 * outside both trees are open to every user the location lets in.
 */
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_caldav.h"

/* users provisioned in this process: "store\0user" -> "" */
static apr_hash_t *caldav_provisioned;
static apr_thread_mutex_t *caldav_provision_mutex;
static apr_pool_t *caldav_provision_pool;
static const char *caldav_well_known_target;

const caldav_dir_conf *caldav_dir_config(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &caldav_module);
}

const char *caldav_principal_path(const caldav_dir_conf *conf)
{
    return conf->principal_path ? conf->principal_path
                                : CALDAV_DEFAULT_PRINCIPAL_PATH;
}

const char *caldav_home_path(const caldav_dir_conf *conf)
{
    return conf->home_path ? conf->home_path : CALDAV_DEFAULT_HOME_PATH;
}

/* Can 'user' be a path segment? */
static int caldav_user_ok(const char *user)
{
    const char *c;

    if (user == NULL || *user == '\0' || strlen(user) > 200
        || strcmp(user, ".") == 0 || strcmp(user, "..") == 0) {
        return 0;
    }
    for (c = user; *c; c++) {
        if (*c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

const char *caldav_principal_href(request_rec *r, const char *root_uri,
                                  const char *user)
{
    return apr_pstrcat(r->pool, root_uri, "/",
                       caldav_principal_path(caldav_dir_config(r)), "/",
                       user, "/", NULL);
}

const char *caldav_home_href(request_rec *r, const char *root_uri,
                             const char *user)
{
    return apr_pstrcat(r->pool, root_uri, "/",
                       caldav_home_path(caldav_dir_config(r)), "/", user,
                       "/", NULL);
}

const char *caldav_principals_href(request_rec *r, const char *root_uri)
{
    return apr_pstrcat(r->pool, root_uri, "/",
                       caldav_principal_path(caldav_dir_config(r)), "/",
                       NULL);
}

/* CalDAVUserAddress: %{user}, %{server} and %{env:NAME} (a variable an
 * auth module set, e.g. AUTHENTICATE_MAIL from mod_authnz_ldap). */
const char *caldav_user_address(request_rec *r, const char *user)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    const char *t = conf->address_template ? conf->address_template
                                           : CALDAV_DEFAULT_ADDRESS;
    const char *out = "";

    while (*t) {
        const char *open = strstr(t, "%{");
        const char *close;
        const char *name, *value = NULL;

        if (open == NULL || (close = strchr(open, '}')) == NULL) {
            return apr_pstrcat(r->pool, out, t, NULL);
        }
        out = apr_pstrcat(r->pool, out,
                          apr_pstrndup(r->pool, t, open - t), NULL);
        name = apr_pstrndup(r->pool, open + 2, close - open - 2);
        if (strcmp(name, "user") == 0) {
            value = user;
        }
        else if (strcmp(name, "server") == 0) {
            value = r->server->server_hostname;
        }
        else if (strncmp(name, "env:", 4) == 0
                 && r->user && strcmp(r->user, user) == 0) {
            value = apr_table_get(r->subprocess_env, name + 4);
        }
        out = apr_pstrcat(r->pool, out, value ? value : "", NULL);
        t = close + 1;
    }
    return out;
}

const char *caldav_owner_of(const request_rec *r, const char *path,
                            int *principal_area)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    const char *areas[2];
    int i;

    areas[0] = caldav_home_path(conf);
    areas[1] = caldav_principal_path(conf);
    *principal_area = 0;
    for (i = 0; i < 2; i++) {
        apr_size_t n = strlen(areas[i]);
        const char *rest, *slash;

        if (strncmp(path, areas[i], n) != 0 || path[n] != '/') {
            continue;
        }
        rest = path + n + 1;
        slash = strchr(rest, '/');
        *principal_area = (i == 1);
        return slash ? apr_pstrndup(r->pool, rest, slash - rest)
                     : apr_pstrdup(r->pool, rest);
    }
    return NULL;
}

dav_error *caldav_check_access(request_rec *r, const char *path,
                               const char *href, int write)
{
    int level = caldav_access_level(r, path);

    if (level >= (write ? CALDAV_ACCESS_WRITE : CALDAV_ACCESS_READ)) {
        return NULL;
    }
    return caldav_need_privilege(r, href, write ? "D:write" : "D:read");
}

/* ---- provisioning ---------------------------------------------------- */

static apr_status_t caldav_mkcol_quiet(calstore_t *st, const char *path,
                                       apr_uint32_t flags,
                                       const apr_array_header_t *props,
                                       apr_pool_t *p)
{
    apr_status_t rv = calstore_mkcol_ex(st, path, flags, props, NULL, p);

    return rv == CALSTORE_EEXIST ? APR_SUCCESS : rv;
}

static apr_array_header_t *caldav_displayname(apr_pool_t *p,
                                              const char *name)
{
    apr_array_header_t *props = apr_array_make(p, 1, sizeof(calstore_prop_t));
    calstore_prop_t *dn = apr_array_push(props);

    dn->ns = "DAV:";
    dn->name = "displayname";
    dn->value = apr_pstrcat(p, "<ns0:displayname xmlns:ns0=\"DAV:\">",
                            apr_xml_quote_string(p, name, 0),
                            "</ns0:displayname>", NULL);
    dn->len = strlen(dn->value);
    return props;
}

void caldav_provision(request_rec *r, calstore_t *st)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    const char *user = r->user, *key, *ppath, *hpath, *cal;
    calstore_node_t *node;
    apr_status_t rv = APR_SUCCESS;
    unsigned comps;
    int done;

    if (conf->autoprovision == 0 || !caldav_user_ok(user)
        || caldav_provision_mutex == NULL) {
        return;
    }
    key = apr_pstrcat(r->pool, conf->store_dir, "/", user, NULL);
    apr_thread_mutex_lock(caldav_provision_mutex);
    done = apr_hash_get(caldav_provisioned, key, APR_HASH_KEY_STRING) != NULL;
    apr_thread_mutex_unlock(caldav_provision_mutex);
    if (done) {
        return;
    }

    ppath = apr_pstrcat(r->pool, caldav_principal_path(conf), "/", user,
                        NULL);
    hpath = apr_pstrcat(r->pool, caldav_home_path(conf), "/", user, NULL);
    if (calstore_lookup(st, hpath, &node, NULL, r->pool) != APR_SUCCESS) {
        cal = conf->default_calendar ? conf->default_calendar
                                     : CALDAV_DEFAULT_CALENDAR;
        comps = conf->default_comps ? conf->default_comps
                                    : (CALCORE_COMP_VEVENT
                                       | CALCORE_COMP_VTODO);
        if ((rv = caldav_mkcol_quiet(st, caldav_principal_path(conf), 0,
                                     NULL, r->pool)) == APR_SUCCESS
            && (rv = caldav_mkcol_quiet(st, ppath, CALDAV_NODE_PRINCIPAL,
                                        caldav_displayname(r->pool, user),
                                        r->pool)) == APR_SUCCESS
            && (rv = caldav_mkcol_quiet(st, caldav_home_path(conf), 0, NULL,
                                        r->pool)) == APR_SUCCESS
            && (rv = caldav_mkcol_quiet(st, hpath, 0, NULL, r->pool))
               == APR_SUCCESS
            && *cal) {
            rv = caldav_mkcol_quiet(st, apr_pstrcat(r->pool, hpath, "/", cal,
                                                    NULL),
                                    CALSTORE_COLL_CALENDAR
                                    | (comps << CALDAV_COMP_SHIFT),
                                    caldav_displayname(r->pool, "Calendar"),
                                    r->pool);
        }
        caldav_lookup_forget(r);
        if (rv != APR_SUCCESS) {
            char buf[256];

            ap_log_rerror(APLOG_MARK, APLOG_ERR, caldav_log_status(rv), r,
                          "could not provision user %s: %s", user,
                          calstore_strerror(rv, buf, sizeof(buf)));
            return;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "provisioned principal, calendar home and default "
                      "calendar for %s", user);
    }
    apr_thread_mutex_lock(caldav_provision_mutex);
    if (apr_hash_count(caldav_provisioned) > 100000) {
        apr_hash_clear(caldav_provisioned);     /* bound the cache */
    }
    key = apr_pstrdup(caldav_provision_pool, key);
    apr_hash_set(caldav_provisioned, key, APR_HASH_KEY_STRING, "");
    apr_thread_mutex_unlock(caldav_provision_mutex);
}

void caldav_principal_child_init(apr_pool_t *pchild)
{
    apr_pool_create(&caldav_provision_pool, pchild);
    caldav_provisioned = apr_hash_make(caldav_provision_pool);
    apr_thread_mutex_create(&caldav_provision_mutex,
                            APR_THREAD_MUTEX_DEFAULT, pchild);
}

/* ---- the request-level policy --------------------------------------- */

/* The store path of URI path 'uri' (decoded) under location 'root', or
 * NULL when it lies outside. */
static const char *caldav_uri_to_path(apr_pool_t *p, const char *root,
                                      const char *uri)
{
    apr_size_t n = strlen(root), k;
    char *path;

    while (n > 0 && root[n - 1] == '/') {
        n--;
    }
    if (strncmp(uri, root, n) != 0 || (uri[n] != '/' && uri[n] != '\0')) {
        return NULL;
    }
    path = apr_pstrdup(p, uri + n);
    while (*path == '/') {
        path++;
    }
    k = strlen(path);
    while (k > 0 && path[k - 1] == '/') {
        path[--k] = '\0';
    }
    return path;
}

int caldav_authorize_request(request_rec *r)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    const char *root = conf->location ? conf->location : "";
    const char *path = caldav_uri_to_path(r->pool, root, r->uri);
    int write;
    dav_error *err;

    if (path == NULL) {
        return DECLINED;
    }
    switch (r->method_number) {
    case M_COPY:
        /* The source of a COPY is only read - but all of it: a collection
         * (with its members) takes what only the owner may read, except a
         * calendar, whose objects carry the calendar's own grants. */
        if (dav_get_depth(r, DAV_INFINITY) != 0) {
            calstore_node_t *node = NULL;
            calstore_t *st = conf->store_dir
                             ? caldav_store_for(conf->store_dir) : NULL;

            if (st && caldav_lookup_node(r, st, path, &node) == NULL && node
                && node->kind == CALSTORE_KIND_COLLECTION
                && !caldav_is_calendar(node)
                && caldav_access_level(r, path) < CALDAV_ACCESS_OWNER) {
                return dav_handle_err(r, caldav_need_privilege(r, r->uri,
                                                               "D:read"),
                                      NULL);
            }
        }
        write = 0;
        break;
    case M_GET:                 /* and HEAD */
    case M_OPTIONS:
    case M_PROPFIND:
        write = 0;
        break;
    case M_REPORT:
        /* free-busy-query needs C:read-free-busy only; the other reports
         * check DAV:read themselves (caldav_report.c) */
        if (caldav_access_level(r, path) < CALDAV_ACCESS_FREEBUSY) {
            return dav_handle_err(r, caldav_need_privilege(r, r->uri,
                                                           "D:read"), NULL);
        }
        write = -1;
        break;
    default:
        write = 1;
        break;
    }
    if (write >= 0 && (err = caldav_check_access(r, path, r->uri, write))
                      != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (write == 1 && r->method_number != M_PROPPATCH
        && r->method_number != M_PUT && r->method_number != M_POST
        && caldav_access_level(r, path) < CALDAV_ACCESS_OWNER) {
        /* A sharee with DAV:write adds, changes and removes objects (also
         * by POST import: publishing the calendar checks the owner itself)
         * and sets properties; deleting, moving or re-sharing the collection
         * itself (or creating collections) takes unbind/bind on the home
         * or DAV:write-acl, which stay with the owner. */
        const caldav_dir_conf *c = caldav_dir_config(r);
        const char *home = caldav_home_path(c);
        apr_size_t n = strlen(home);
        const char *rest = strncmp(path, home, n) == 0 && path[n] == '/'
                           ? strchr(path + n + 1, '/') : NULL;

        int m = r->method_number;

        if (rest == NULL || strchr(rest + 1, '/') == NULL || m == M_MKCOL
            || m == caldav_m_mkcalendar) {
            return dav_handle_err(r, caldav_need_privilege(
                                      r, r->uri,
                                      m == M_DELETE || m == M_MOVE
                                      ? "D:unbind"
                                      : m == M_MKCOL
                                        || m == caldav_m_mkcalendar
                                        ? "D:bind"
                                        : m == caldav_m_acl ? "D:write-acl"
                                                            : "D:write"),
                                  NULL);
        }
    }
    if (r->method_number == M_COPY || r->method_number == M_MOVE) {
        const char *dest = apr_table_get(r->headers_in, "Destination");
        apr_uri_t uri;
        char *dpath;

        if (dest && apr_uri_parse(r->pool, dest, &uri) == APR_SUCCESS
            && uri.path) {
            dpath = apr_pstrdup(r->pool, uri.path);
            if (ap_unescape_url(dpath) == OK) {
                const char *sp = caldav_uri_to_path(r->pool, root, dpath);

                if (sp && (err = caldav_check_access(r, sp, dpath, 1))) {
                    return dav_handle_err(r, err, NULL);
                }
            }
        }
    }
    return DECLINED;
}

/* ---- discovery -------------------------------------------------------- */

int caldav_root_handler(request_rec *r)
{
    const char *target, *user, *auth;
    request_rec *rr;
    int status;

    if (!r->handler || strcmp(r->handler, "caldav-root") != 0) {
        return DECLINED;
    }
    target = apr_pstrcat(r->pool, caldav_well_known_target,
                         caldav_well_known_target[
                             strlen(caldav_well_known_target) - 1] == '/'
                         ? "" : "/", NULL);
    /* Who is asking: authenticate as the CalDAV location would (a
     * sub-request runs its authn/authz), so the answer can name the
     * user's principal; without credentials, its challenge. */
    rr = ap_sub_req_method_uri("PROPFIND", target, r, NULL);
    status = rr->status;
    user = rr->user ? apr_pstrdup(r->pool, rr->user) : NULL;
    auth = apr_table_get(rr->err_headers_out, "WWW-Authenticate");
    if (auth) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_pstrdup(r->pool, auth));
    }
    ap_destroy_sub_req(rr);
    if (status == HTTP_UNAUTHORIZED || (status == HTTP_OK && !user)) {
        if (!auth) {
            /* nothing to authenticate with: send the client there */
            apr_table_setn(r->headers_out, "Location",
                           ap_construct_url(r->pool, target, r));
            return HTTP_MOVED_PERMANENTLY;
        }
        return HTTP_UNAUTHORIZED;
    }
    if (status != HTTP_OK) {
        return status;
    }
    (void)ap_discard_request_body(r);
    r->status = HTTP_MULTI_STATUS;
    ap_set_content_type(r, "application/xml; charset=utf-8");
    {
        const char *root = apr_pstrndup(r->pool, target, strlen(target) - 1);
        const char *principal = caldav_principal_href(r, root, user);

        ap_rvputs(r, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                  "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\""
                  CALDAV_NS "\"><D:response><D:href>/</D:href><D:propstat>"
                  "<D:prop><D:current-user-principal><D:href>",
                  apr_xml_quote_string(r->pool, ap_escape_uri(r->pool,
                                                              principal), 0),
                  "</D:href></D:current-user-principal>"
                  "<D:principal-collection-set><D:href>",
                  apr_xml_quote_string(r->pool, ap_escape_uri(
                                           r->pool,
                                           caldav_principals_href(r, root)),
                                       0),
                  "</D:href></D:principal-collection-set>"
                  "<D:resourcetype><D:collection/></D:resourcetype>"
                  "</D:prop><D:status>HTTP/1.1 200 OK</D:status>"
                  "</D:propstat></D:response></D:multistatus>\n", NULL);
    }
    return OK;
}


void caldav_set_well_known_target(const char *location)
{
    caldav_well_known_target = location;
}

int caldav_well_known(request_rec *r)
{
    const char *target;

    if (caldav_well_known_target == NULL) {
        return DECLINED;
    }
    /* Clients given just the server's address start with PROPFIND on /:
     * when / is not WebDAV itself, it is answered in place (the handler
     * below): several clients (python-caldav among them) look for the
     * answer under the URL they asked and do not follow a redirect. */
    if (strcmp(r->uri, "/") == 0 && r->method_number == M_PROPFIND
        && dav_get_provider_name(r) == NULL && !r->main) {
        r->handler = "caldav-root";
        r->filename = apr_pstrdup(r->pool, "caldav:/");
        apr_table_setn(r->notes, "caldav-no-storage", "1");
        return OK;
    }
    if (strcmp(r->uri, "/.well-known/caldav") != 0
             && strcmp(r->uri, "/.well-known/caldav/") != 0) {
        return DECLINED;
    }
    target = apr_pstrcat(r->pool, caldav_well_known_target,
                         caldav_well_known_target[
                             strlen(caldav_well_known_target) - 1] == '/'
                         ? "" : "/", NULL);
    apr_table_setn(r->headers_out, "Location",
                   ap_construct_url(r->pool, target, r));
    return HTTP_MOVED_PERMANENTLY;
}
