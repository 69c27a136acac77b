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
} caldav_dir_conf;

/* Per-server configuration (only the main server's is used). */
typedef struct caldav_server_conf {
    int durability;                 /* calstore_durability_e; -1 = unset   */
    apr_size_t cache_bytes;         /* 0 = default                          */
    apr_off_t max_resource_size;    /* bytes; 0 = unset                    */
} caldav_server_conf;

#define CALDAV_DEFAULT_MAX_RESOURCE_SIZE ((apr_off_t)10 * 1024 * 1024)

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

/* Convert a store status into a dav_error with the right HTTP status and a
 * readable description: 404, 405, 409, 412, 503 (with Retry-After), 400 or
 * 500.  'what' says what was being done ("Could not store the resource").
 * Logs nothing (dav_handle_err does). */
dav_error *caldav_store_error(request_rec *r, apr_status_t rv,
                              const char *what);

/* Does the request carry a condition (If-Match, If-None-Match, If:,
 * If-Unmodified-Since) whose outcome must be re-checked at commit? */
int caldav_request_is_conditional(request_rec *r);

/* Format 't' as RFC 3339 (creationdate) or RFC 1123 (getlastmodified) into
 * 'buf' (at least CALDAV_TIMEBUF_SIZE bytes).  Cannot fail. */
#define CALDAV_TIMEBUF_SIZE 40
void caldav_format_iso8601(apr_time_t t, char *buf);
void caldav_format_rfc1123(apr_time_t t, char *buf);

/* ---- caldav_props.c ---- */

extern const dav_hooks_propdb caldav_hooks_propdb;

/* Apply, in one transaction, the dead-property changes collected by the
 * writable propdb opened for request 'r' (if any), now.  Returns NULL on
 * success or when there is nothing to apply; on failure nothing was
 * changed and the error carries the status to answer (500/503). */
dav_error *caldav_propdb_commit(request_rec *r);

/* ---- caldav_methods.c ---- */

/* PROPPATCH with the commit before the response (see the file). */
int caldav_method_proppatch(request_rec *r);

/* ---- caldav_liveprops.c ---- */

/* Register the live-property group and the hooks that serve it. */
void caldav_liveprops_register(apr_pool_t *p);

#endif /* MOD_CALDAV_H */
