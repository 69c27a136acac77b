/*
 * mod_caldav.h - private header of the httpd adapter.
 *
 * Only the files in mod_caldav/ include httpd and mod_dav headers.  They
 * translate WebDAV requests into calls on the store (repos/calstore.h) and
 * the iCalendar core (core/), and translate the answers back.
 */
#ifndef MOD_CALDAV_H
#define MOD_CALDAV_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_dav.h>

#include "calstore.h"

/* mod_caldav.c gets this from AP_DECLARE_MODULE */
#if defined(APLOG_USE_MODULE) && !defined(CALDAV_MODULE_RECORD_FILE)
APLOG_USE_MODULE(caldav);
#endif

extern module AP_MODULE_DECLARE_DATA caldav_module;

/* Per-directory (per <Location>) configuration. */
typedef struct caldav_dir_conf {
    const char *store_dir;          /* CalDAVStore; NULL = not set         */
    const char *location;           /* the <Location> CalDAVStore is in    */
    const char *principal_path;     /* CalDAVPrincipalPath; NULL = default */
    const char *home_path;          /* CalDAVHomePath; NULL = default      */
    int autoprovision;              /* CalDAVAutoProvision; -1 = unset     */
    const char *default_calendar;   /* CalDAVDefaultCalendar name, "" = none,
                                       NULL = default                       */
    unsigned default_comps;         /* its components; 0 = default          */
    const char *address_template;   /* CalDAVUserAddress; NULL = default   */
    apr_int64_t feed_refresh;       /* CalDAVFeedRefresh, seconds; 0 =
                                       default                              */
    const char *public_feed_url;    /* CalDAVPublicFeedURL: where the
                                       caldav-public-feed handler serves
                                       secret feed URLs; NULL = none        */
    int public_read;                /* CalDAVPublic: everyone may read
                                       here; -1 = unset                     */
} caldav_dir_conf;

/* REFRESH-INTERVAL / X-PUBLISHED-TTL of feeds: an hour. */
#define CALDAV_DEFAULT_FEED_REFRESH 3600

#define CALDAV_DEFAULT_PRINCIPAL_PATH "principals"
#define CALDAV_DEFAULT_HOME_PATH      "calendars"
#define CALDAV_DEFAULT_CALENDAR       "calendar"
#define CALDAV_DEFAULT_ADDRESS        "mailto:%{user}@%{server}"

/* node flags (caller bits of calstore): a principal collection */
#define CALDAV_NODE_PRINCIPAL 0x00010000u

/* Per-server configuration (only the main server's is used). */
typedef struct caldav_server_conf {
    int durability;                 /* calstore_durability_e; -1 = unset   */
    apr_size_t cache_bytes;         /* 0 = default                          */
    apr_off_t max_resource_size;    /* bytes; 0 = unset                    */
    apr_int64_t min_date_time;      /* UTC seconds; 0 = unset              */
    apr_int64_t max_date_time;      /* UTC seconds; 0 = unset              */
    unsigned max_instances;         /* 0 = unset                           */
    unsigned max_attendees;         /* 0 = unset                           */
    int synclog_set;                /* CalDAVSyncLogRetention seen         */
    apr_interval_time_t synclog_age;/* removals older than this are pruned;
                                       0 = no age limit                     */
    unsigned synclog_max;           /* removals kept per collection; 0 = no
                                       count limit                          */
    apr_off_t max_import_size;      /* CalDAVMaxImportSize, bytes; 0 = unset */
    const struct calcore_attrmap_t *import_map; /* CalDAVImportMap, parsed
                                       at startup; NULL = none              */
} caldav_server_conf;

/* CalDAVSyncLogRetention defaults: removals (tombstones) are kept 90 days,
 * at most 10,000 per collection; a client whose token is older must sync
 * from scratch (DAV:valid-sync-token). */
#define CALDAV_DEFAULT_SYNCLOG_AGE apr_time_from_sec(90 * 86400)
#define CALDAV_DEFAULT_SYNCLOG_MAX 10000u

/* The defaults of CalDAVMaxResourceSize, CalDAVMinDateTime,
 * CalDAVMaxDateTime, CalDAVMaxInstances and CalDAVMaxAttendeesPerInstance
 * are CALSTORE_DEFAULT_* in repos/calstore.h (caldavctl uses them too). */

#define CALDAV_NS    "urn:ietf:params:xml:ns:caldav"
#define CALDAV_CS_NS "http://calendarserver.org/ns/"

/* Dead properties in this namespace are the module's own bookkeeping (a
 * calendar's grants): never listed by PROPFIND, refused by PROPPATCH. */
#define CALDAV_INTERNAL_NS CALSTORE_INTERNAL_NS

/* A calendar collection's node flags: CALSTORE_COLL_CALENDAR plus its
 * supported-calendar-component-set (calcore_comp_e bits) shifted by this
 * (defined in repos/calstore.h, which caldavctl reads it with too). */
#define CALDAV_COMP_SHIFT CALSTORE_CAL_COMP_SHIFT

/* What a dav_resource of ours carries. */
struct dav_resource_private {
    request_rec *r;                 /* the request (or sub-request) it was
                                       resolved for                         */
    calstore_t *st;
    const char *root_uri;           /* the DAV location, no trailing '/'   */
    const char *path;               /* store path: no leading/trailing '/' */
    calstore_node_t *node;          /* NULL when the resource does not exist */
    int parent_exists;              /* for a missing node: parent is a
                                       collection                           */
    int replace_pending;            /* COPY/MOVE with Overwrite: the removal
                                       of this destination is done by the
                                       copy/move itself, in its transaction */
    struct calcore_object_t *obj;   /* parsed calendar object (reports), or
                                       NULL                                 */
    const struct caldav_report_ctx *report; /* the REPORT being answered  */
};

/* ---- mod_caldav.c ---- */

/* The store opened in this process for 'store_dir', or NULL (not opened,
 * e.g. CalDAVStore not seen at startup).  Thread-safe (read-only after
 * child_init). */
calstore_t *caldav_store_for(const char *store_dir);

/* The effective per-server configuration. */
const caldav_server_conf *caldav_server_config(const server_rec *s);

/* ---- caldav_repos.c ---- */

extern const dav_hooks_repository caldav_hooks_repository;

/* Whether 'rv' is one of the store's or core's own codes (in APR's user
 * error space), which APR's strerror does not know. */
static APR_INLINE int caldav_own_status(apr_status_t rv)
{
    return rv >= APR_OS_START_USERERR && rv < APR_OS_START_USERERR + 50000;
}

/* The status to give ap_log_error()/ap_log_rerror() along with a message
 * that carries calstore_strerror(rv): 0 for our own codes (APR would append
 * "APR does not understand this error code"), rv for a system or APR
 * status (its text is worth having). */
static APR_INLINE apr_status_t caldav_log_status(apr_status_t rv)
{
    return caldav_own_status(rv) ? 0 : rv;
}

/* Convert a store status into a dav_error with the right HTTP status and a
 * readable description: 404, 405, 409, 412, 503 (with Retry-After), 400 or
 * 500.  'what' says what was being done ("Could not store the resource").
 * Logs nothing (dav_handle_err does). */
dav_error *caldav_store_error(request_rec *r, apr_status_t rv,
                              const char *what);

/* Resolve store path 'path' (below the location 'root_uri') into a
 * resource for request 'r' (exists or not).  Allocated from r->pool. */
dav_error *caldav_resolve(request_rec *r, calstore_t *st,
                          const char *root_uri, const char *path,
                          dav_resource **result);

/* Look up the node at store path 'path' for request 'r' (*node NULL when
 * there is none), through the request's lookup cache, which
 * caldav_resolve() fills too.  Cached nodes live as long as the main
 * request and must not be modified. */
dav_error *caldav_lookup_node(request_rec *r, calstore_t *st,
                              const char *path, calstore_node_t **node);

/* Forget every cached lookup of the request 'r' belongs to.  Called after
 * every write to the store made on behalf of 'r'. */
void caldav_lookup_forget(request_rec *r);

/* A resource for member 'node' of collection 'coll', from 'pool' (which
 * becomes the resource's pool). */
dav_resource *caldav_member_resource(const dav_resource *coll,
                                     const calstore_node_t *node,
                                     apr_pool_t *pool);

/* Is 'res' a calendar object resource (a member of a calendar collection
 * stored with its calendar data)? */
int caldav_is_calendar_object(const dav_resource *res);

/* Does the request carry a condition (If-Match, If-None-Match, If:,
 * If-Unmodified-Since) whose outcome must be re-checked at commit? */
int caldav_request_is_conditional(request_rec *r);

/* Format 't' as RFC 3339 (creationdate) or RFC 1123 (getlastmodified) into
 * 'buf' (at least CALDAV_TIMEBUF_SIZE bytes).  Cannot fail. */
#define CALDAV_TIMEBUF_SIZE 40
void caldav_format_iso8601(apr_time_t t, char *buf);
void caldav_format_rfc1123(apr_time_t t, char *buf);

/* ---- caldav_calendar.c ---- */

#include "calcore.h"
#include "calcore_object.h"

/* What a request needs to know about one calendar collection. */
typedef struct caldav_calendar_t {
    const calstore_node_t *node;    /* the calendar collection            */
    icaltimezone *floating;         /* its calendar-timezone, or NULL     */
    calcore_limits_t limits;        /* limits for objects stored in it    */
} caldav_calendar_t;

/* A DAV:error response with the CalDAV precondition element of 'code'
 * (C:valid-calendar-data for CALCORE_PRECOND_NONE), the reason as the
 * human-readable text (logged at info), and 'childtags' (XML, may be NULL)
 * inside the element. */
dav_error *caldav_precond_error(request_rec *r, int status,
                                calcore_precond_e code, const char *reason,
                                const char *childtags);

/* C:no-uid-conflict naming the existing member 'name' of the calendar at
 * 'coll_uri' (ends in '/'). */
dav_error *caldav_uid_conflict_error(request_rec *r, const char *coll_uri,
                                     const char *name);

/* The supported-calendar-component-set of a calendar collection node. */
unsigned caldav_comp_mask(const calstore_node_t *coll);

/* The server-wide limits (directives or defaults); components and floating
 * zone left 0/NULL. */
void caldav_server_limits(request_rec *r, calcore_limits_t *limits);
apr_off_t caldav_max_resource_size(const caldav_server_conf *conf);

/* Read what the request needs about calendar collection 'coll' (limits,
 * the parsed calendar-timezone).  Allocated from r->pool. */
dav_error *caldav_calendar_open(request_rec *r, calstore_t *st,
                                const calstore_node_t *coll,
                                caldav_calendar_t **cal);

/* Is 'ctype' (a Content-Type header, may be NULL) text/calendar? */
int caldav_content_type_ok(const char *ctype);

/* Validate 'data' as a calendar object resource for 'cal' (RFC 4791
 * preconditions: a tagged 403 on failure, nothing stored) and fill 'info'
 * with what the store indexes (from r->pool).  *obj (if not NULL) gets the
 * parsed object. */
dav_error *caldav_object_prepare(request_rec *r, const caldav_calendar_t *cal,
                                 const char *data, apr_size_t len,
                                 calstore_calinfo_t *info,
                                 calcore_object_t **obj);

/* C:no-uid-conflict when 'target' is an existing calendar object whose
 * UID is not 'uid' (an overwrite may not change the UID); else NULL. */
dav_error *caldav_check_same_uid(request_rec *r, const dav_resource *target,
                                 const char *coll_uri, const char *uid);

/* The parent collection node of 'res' (NULL when it does not exist). */
dav_error *caldav_lookup_parent(request_rec *r, const dav_resource *res,
                                calstore_node_t **parent);

/* Is 'node' a calendar collection? */
int caldav_is_calendar(const calstore_node_t *node);

/* Is 'e' the element ns:name ('nss': the namespaces of its document; an
 * element in no namespace has ns "")?  Its first child element ns:name, or
 * NULL. */
int caldav_xml_is(const apr_array_header_t *nss, const apr_xml_elem *e,
                  const char *ns, const char *name);
const apr_xml_elem *caldav_xml_child(const apr_array_header_t *nss,
                                     const apr_xml_elem *e, const char *ns,
                                     const char *name);

/* The concatenated character data directly inside 'elem'. */
const char *caldav_elem_cdata(apr_pool_t *p, const apr_xml_elem *elem);

/* ---- caldav_principal.c ---- */

/* The effective directory configuration of 'r' (never NULL). */
const caldav_dir_conf *caldav_dir_config(const request_rec *r);

/* Make sure the authenticated user of 'r' has a principal, a calendar home
 * and (unless configured off) a default calendar.  Cached per process;
 * failures are logged and the request goes on. */
void caldav_provision(request_rec *r, calstore_t *st);

/* The owner of store path 'path' (the user whose home or principal it lies
 * in) or NULL; *principal_area says the path is in the principals tree. */
const char *caldav_owner_of(const request_rec *r, const char *path,
                            int *principal_area);

/* May the user of 'r' read (write = 0) or modify (write = 1) store path
 * 'path'?  NULL if so, else a 403 DAV:need-privileges error for 'href'. */
dav_error *caldav_check_access(request_rec *r, const char *path,
                               const char *href, int write);

/* Hrefs (from r->pool) of a principal, of a calendar home, of the
 * principal collection; the calendar user address of 'user'. */
const char *caldav_principal_href(request_rec *r, const char *root_uri,
                                  const char *user);
const char *caldav_home_href(request_rec *r, const char *root_uri,
                             const char *user);
const char *caldav_principals_href(request_rec *r, const char *root_uri);
const char *caldav_user_address(request_rec *r, const char *user);

/* The request-level access check of mod_caldav's handler: target and, for
 * COPY/MOVE, the Destination.  DECLINED when allowed, else a status. */
int caldav_authorize_request(request_rec *r);

/* Per-child set-up of the provisioning cache. */
void caldav_principal_child_init(apr_pool_t *pchild);

/* The handler "caldav-root" (set by caldav_well_known for PROPFIND on / when
 * / is no WebDAV location): authenticates through a sub-request to the
 * CalDAV location (401 with its challenge) and answers a 207 for / with the
 * user's DAV:current-user-principal and DAV:principal-collection-set. */
int caldav_root_handler(request_rec *r);

/* /.well-known/caldav (RFC 6764): redirect to the first caldav location. */
int caldav_well_known(request_rec *r);
void caldav_set_well_known_target(const char *location);

/* The principal and home areas of the store (CalDAVPrincipalPath,
 * CalDAVHomePath or their defaults). */
const char *caldav_principal_path(const caldav_dir_conf *conf);
const char *caldav_home_path(const caldav_dir_conf *conf);

/* ---- caldav_acl.c ---- */

/* What the user of a request may do with a store path, in increasing
 * order: nothing, free-busy-query, read, read and write (a shared
 * calendar's objects and properties), everything (the owner, or a path
 * outside every home and principal). */
#define CALDAV_ACCESS_NONE     0
#define CALDAV_ACCESS_FREEBUSY 1
#define CALDAV_ACCESS_READ     2
#define CALDAV_ACCESS_WRITE    3
#define CALDAV_ACCESS_OWNER    4

/* The access level of the user of 'r' (the main request's) on store path
 * 'path' under the owner-plus-grants policy of docs/caldav.md.  Grants
 * are read through the request's caches.  Never fails: a store error
 * reads as CALDAV_ACCESS_NONE. */
int caldav_access_level(request_rec *r, const char *path);

/* A 403 DAV:need-privileges error for 'href' lacking 'privilege' (a
 * qualified element name such as "D:read" or "D:write-acl"). */
dav_error *caldav_need_privilege(request_rec *r, const char *href,
                                 const char *privilege);

/* Property values (the inside of the element; from 'p'):
 * DAV:supported-privilege-set, DAV:current-user-privilege-set for a level,
 * DAV:acl-restrictions, DAV:acl (NULL when the user may not read the ACL
 * or 'res' has none), DAV:inherited-acl-set. */
const char *caldav_supported_privilege_set(apr_pool_t *p);
const char *caldav_current_privileges(apr_pool_t *p, int level);
const char *caldav_acl_restrictions(void);
const char *caldav_acl_value(const dav_resource *res, apr_pool_t *p);
const char *caldav_inherited_acl_set(const dav_resource *res,
                                     apr_pool_t *p);

/* The ACL method (RFC 3744 8.1) on a calendar collection, by its owner. */
int caldav_method_acl(request_rec *r);

/* ---- caldav_report.c: free/busy ---- */

/* Add to 'fb' the busy time of the calendar 'node' at store path 'path',
 * or of every calendar directly inside the collection 'node' whose
 * free/busy time the user of 'r' may read (caldav_access_level() >=
 * CALDAV_ACCESS_FREEBUSY), answered from the index records where they
 * suffice.  Returns a store status. */
apr_status_t caldav_freebusy_collect(request_rec *r, calstore_t *st,
                                     const char *path,
                                     const calstore_node_t *node,
                                     calcore_fb_t *fb);

/* ---- caldav_format.c ---- */

/* The representations of calendar data. */
#define CALDAV_FMT_ICAL 0       /* text/calendar (stored)                  */
#define CALDAV_FMT_JCAL 1       /* application/calendar+json (RFC 7265)    */
#define CALDAV_FMT_XCAL 2       /* application/calendar+xml (RFC 6321)     */

/* The format of a media type (parameters ignored; NULL = text/calendar),
 * or -1 for anything else. */
int caldav_format_of(const char *ctype);
const char *caldav_format_mime(int format);

/* The format the request's Accept header prefers among the three (q
 * values honoured, text/calendar on ties and by default). */
int caldav_format_accept(request_rec *r);

/* Stored iCalendar text to 'format' and back (core's converters; the
 * identity for CALDAV_FMT_ICAL).  CALCORE_EINVALID with *reason for input
 * that does not convert. */
apr_status_t caldav_format_convert(int format, const char *ical,
                                   apr_size_t len, const char **out,
                                   apr_size_t *outlen, const char **reason,
                                   apr_pool_t *pool);
apr_status_t caldav_format_to_ical(int format, const char *data,
                                   apr_size_t len, const char **ical,
                                   apr_size_t *icallen, const char **reason,
                                   apr_pool_t *pool);

/* For a GET answered in 'format': Vary: Accept, and for jCal / xCal their
 * content type, no Content-Length (known after the conversion) and the
 * ETag already set with a suffix: each representation has its own strong
 * tag. */
void caldav_format_headers(request_rec *r, int format);

/* ---- caldav_feed.c ---- */

/* Is GET on 'res' a feed (an existing calendar collection)? */
int caldav_is_feed(const dav_resource *res);

/* GET of a calendar collection (docs/caldav.md, "Feeds"): validate the
 * query parameters (400 for bad ones), set ETag, Last-Modified and the
 * content type; then stream the calendar as one VCALENDAR. */
dav_error *caldav_feed_headers(request_rec *r, const dav_resource *res);
dav_error *caldav_feed_deliver(const dav_resource *res, ap_filter_t *output);

/* GET <location>/<principals>/<user>/freebusy.ifb[?start=&end=&period=]:
 * the user's busy time (default: from today 00:00 UTC for six weeks) over
 * the calendars the requester may read free/busy time of; 403 when none,
 * 404 for a user without a home.  Runs before the request-level access
 * check (anonymous requesters count when an admin lets them reach it and a
 * calendar grants to DAV:all).  DECLINED for any other URI. */
int caldav_freebusy_url(request_rec *r);

/* POST to a calendar collection.  Form encoded, by its owner:
 * action=publish (201, Location: a new secret feed URL below
 * CalDAVPublicFeedURL; any older URL stops working) or action=unpublish
 * (204).  text/calendar, application/calendar+json or +xml: an import
 * (caldav_import_post).  405 on other resources, 415 for other bodies. */
int caldav_method_post(request_rec *r);

/* The handler "caldav-public-feed" (SetHandler, with CalDAVFeedStore):
 * GET of <anything>/<calendar id hex>-<secret>.ics serves that calendar's
 * feed without authentication; 404 for anything that does not match, 405
 * for other methods. */
int caldav_public_feed_handler(request_rec *r);

/* ---- caldav_import.c ---- */

/* CalDAVMaxImportSize default: the largest body of a POST import. */
#define CALDAV_DEFAULT_MAX_IMPORT_SIZE ((apr_off_t)50 * 1024 * 1024)

/* The effective CalDAVMaxImportSize of 'conf'.  Cannot fail. */
apr_off_t caldav_max_import_size(const caldav_server_conf *conf);

/* POST of text/calendar (or, 'format', jCal / xCal: converted first) to
 * the existing calendar collection 'res': import the body as caldavctl
 * import does (docs/import.md: create-or-modify by UID, one transaction,
 * invalid objects skipped unless ?stop-on-error=1) and answer 207 with one
 * D:response per object of the input.  403 D:need-privileges without
 * DAV:write on the calendar, 413 beyond CalDAVMaxImportSize, 403
 * C:valid-calendar-data when the body holds no calendar component or does
 * not convert, 503/500 when the store fails (nothing written).  Returns
 * DONE once the answer is sent, or the status to answer with. */
int caldav_import_post(request_rec *r, const dav_resource *res, int format);

/* Read and parse the attribute map file 'path' (CalDAVImportMap) into
 * *map, from 'pconf'.  NULL, or the error for the configuration parser
 * ("CalDAVImportMap FILE: line 3: unknown component VEVNT"). */
const char *caldav_import_map_load(apr_pool_t *pconf, const char *path,
                                   const struct calcore_attrmap_t **map);

/* ---- caldav_props.c ---- */

/* Serialise a property element from a request document into the stored
 * form (a self-contained XML element).  Mutates 'elem' (quotes it in
 * place): call once per element. */
const char *caldav_prop_serialize(apr_pool_t *p, apr_xml_elem *elem,
                                  const apr_array_header_t *namespaces,
                                  apr_size_t *len);


extern const dav_hooks_propdb caldav_hooks_propdb;

/* Apply, in one transaction, the dead-property changes collected by the
 * writable propdb opened for request 'r' (if any), now.  Returns NULL on
 * success or when there is nothing to apply; on failure nothing was
 * changed and the error carries the status to answer (500/503). */
dav_error *caldav_propdb_commit(request_rec *r);

/* ---- caldav_methods.c ---- */

/* PROPPATCH with the commit before the response (see the file). */
int caldav_method_proppatch(request_rec *r);

/* MKCALENDAR (RFC 4791 5.3.1) and MKCOL with a body (RFC 5689): the
 * collection and all its properties in one transaction. */
int caldav_method_mkcalendar(request_rec *r, int extended_mkcol);

/* The method number of MKCALENDAR (registered in post_config). */
extern int caldav_m_mkcalendar;
extern int caldav_m_acl;            /* caldav_acl.c */

/* ---- caldav_report.c ---- */

void caldav_report_register(apr_pool_t *p);

/* The DAV:sync-token (RFC 6578) of collection 'coll', from 'p'. */
const char *caldav_sync_token(apr_pool_t *p, const calstore_node_t *coll);

/* The C:calendar-data value (XML-quoted iCalendar) of 'resource' for the
 * REPORT being answered, shaped by the C:calendar-data request element, or
 * NULL when it is not defined there. */
const char *caldav_report_calendar_data(const dav_resource *resource);

/* ---- caldav_liveprops.c ---- */

/* Register the live-property group and the hooks that serve it. */
void caldav_liveprops_register(apr_pool_t *p);

/* ---- caldav_principal_reports.c ---- */

/* The principal REPORTs of RFC 3744 section 9 and RFC 3253 expand-property
 * (docs/caldav.md, "Principal reports"), called by caldav_deliver_report()
 * for a resource of ours whose DAV:read the caller has checked.  Each
 * validates the request (Depth must be 0: 400 otherwise) before it sends
 * anything and returns NULL once the response is sent (a 207 multistatus,
 * or 200 for principal-search-property-set), or the error to answer with
 * when nothing was sent.  Other resources that appear in the answer are
 * checked with caldav_check_access(): left out when they are members,
 * a 403 response when an href named them.  Memory from r->pool and
 * scratch pools below it. */
dav_error *caldav_report_expand_property(request_rec *r,
                                         const dav_resource *resource,
                                         const apr_xml_doc *doc);
dav_error *caldav_report_principal_property_search(
    request_rec *r, const dav_resource *resource, const apr_xml_doc *doc);
dav_error *caldav_report_principal_search_property_set(
    request_rec *r, const dav_resource *resource, const apr_xml_doc *doc);
dav_error *caldav_report_principal_match(request_rec *r,
                                         const dav_resource *resource,
                                         const apr_xml_doc *doc);
dav_error *caldav_report_acl_principal_prop_set(request_rec *r,
                                                const dav_resource *resource,
                                                const apr_xml_doc *doc);

/* The principals the DAV:acl of 'res' names, for acl-principal-prop-set:
 * *hrefs gets an array of const char * hrefs as they appear in a D:href
 * (URI-escaped absolute paths or URLs), from r->pool; duplicates allowed.
 * Returns NULL, or an error to answer the REPORT with.  Defined in
 * caldav_acl.c: the owner's principal and every user a grant names. */
dav_error *caldav_acl_principals(request_rec *r, const dav_resource *res,
                                 apr_array_header_t **hrefs);

#endif /* MOD_CALDAV_H */
