/*
 * mod_caldav.c - module record, directives, process life cycle and the
 * request hooks that sit beside mod_dav.
 *
 * Life cycle of the stores (see docs/architecture.md):
 *   - config:      every CalDAVStore directory is collected;
 *   - post_config: in the parent, as root, each store is prepared
 *                  (created, recovered if a process died) and handed to the
 *                  run user; no handle stays open in the parent;
 *   - child_init:  after privileges were dropped, each child opens every
 *                  store and starts one maintenance thread (failchk,
 *                  checkpoints, reopen after a panic).
 */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_file_info.h>
#include <apr_thread_proc.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_mpm.h>
#include <mpm_common.h>
#include <unixd.h>

#define CALDAV_MODULE_RECORD_FILE
#include "mod_caldav.h"
#include "calcore_log.h"
#include "calcore.h"

/* All store directories named by CalDAVStore, collected during config
 * parsing (reset in pre_config, so restarts start afresh). */
static apr_array_header_t *caldav_store_dirs;

/* Stores opened in this child: store dir -> calstore_t*.  Written only in
 * child_init, before any request thread runs. */
static apr_hash_t *caldav_stores;

static server_rec *caldav_main_server;

/* the first <Location> with CalDAVStore: target of /.well-known/caldav */
static const char *caldav_first_location;

/* ---- logging bridge ------------------------------------------------- */

static void caldav_log_cb(void *baton, calcore_log_level_e level,
                          apr_status_t rv, const char *msg)
{
    server_rec *s = baton;
    int ap_level;
    char buf[256];

    switch (level) {
    case CALCORE_LOG_ERR:    ap_level = APLOG_ERR;    break;
    case CALCORE_LOG_WARN:   ap_level = APLOG_WARNING; break;
    case CALCORE_LOG_NOTICE: ap_level = APLOG_NOTICE; break;
    case CALCORE_LOG_INFO:   ap_level = APLOG_INFO;   break;
    default:                 ap_level = APLOG_DEBUG;  break;
    }
    if (caldav_own_status(rv)) {
        /* APR would print "does not understand" */
        ap_log_error(APLOG_MARK, ap_level, 0, s, "%s (%s)", msg,
                     calstore_strerror(rv, buf, sizeof(buf)));
        return;
    }
    ap_log_error(APLOG_MARK, ap_level, rv, s, "%s", msg);
}

static calcore_log_level_e caldav_log_max(server_rec *s)
{
    if (APLOG_IS_LEVEL(s, APLOG_DEBUG)) {
        return CALCORE_LOG_DEBUG;
    }
    if (APLOG_IS_LEVEL(s, APLOG_INFO)) {
        return CALCORE_LOG_INFO;
    }
    if (APLOG_IS_LEVEL(s, APLOG_NOTICE)) {
        return CALCORE_LOG_NOTICE;
    }
    return CALCORE_LOG_WARN;
}

/* ---- configuration -------------------------------------------------- */

static void *caldav_create_dir_conf(apr_pool_t *p, char *dir)
{
    caldav_dir_conf *conf = apr_pcalloc(p, sizeof(caldav_dir_conf));

    conf->autoprovision = -1;
    conf->public_read = -1;
    return conf;
}

static void *caldav_merge_dir_conf(apr_pool_t *p, void *base, void *add)
{
    caldav_dir_conf *b = base, *a = add;
    caldav_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->store_dir = a->store_dir ? a->store_dir : b->store_dir;
    conf->location = a->store_dir ? a->location : b->location;
    conf->principal_path = a->principal_path ? a->principal_path
                                             : b->principal_path;
    conf->home_path = a->home_path ? a->home_path : b->home_path;
    conf->autoprovision = a->autoprovision >= 0 ? a->autoprovision
                                                : b->autoprovision;
    conf->default_calendar = a->default_calendar ? a->default_calendar
                                                 : b->default_calendar;
    conf->default_comps = a->default_calendar ? a->default_comps
                                              : b->default_comps;
    conf->address_template = a->address_template ? a->address_template
                                                 : b->address_template;
    conf->feed_refresh = a->feed_refresh ? a->feed_refresh
                                         : b->feed_refresh;
    conf->public_feed_url = a->public_feed_url ? a->public_feed_url
                                               : b->public_feed_url;
    conf->public_read = a->public_read >= 0 ? a->public_read
                                            : b->public_read;
    return conf;
}

static void *caldav_create_server_conf(apr_pool_t *p, server_rec *s)
{
    caldav_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->durability = -1;
    return conf;
}

static void *caldav_merge_server_conf(apr_pool_t *p, void *base, void *add)
{
    caldav_server_conf *b = base, *a = add;
    caldav_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->durability = a->durability >= 0 ? a->durability : b->durability;
    conf->cache_bytes = a->cache_bytes ? a->cache_bytes : b->cache_bytes;
    conf->max_resource_size = a->max_resource_size ? a->max_resource_size
                                                   : b->max_resource_size;
    conf->min_date_time = a->min_date_time ? a->min_date_time
                                           : b->min_date_time;
    conf->max_date_time = a->max_date_time ? a->max_date_time
                                           : b->max_date_time;
    conf->max_instances = a->max_instances ? a->max_instances
                                           : b->max_instances;
    conf->max_attendees = a->max_attendees ? a->max_attendees
                                           : b->max_attendees;
    conf->synclog_set = a->synclog_set || b->synclog_set;
    conf->synclog_age = a->synclog_set ? a->synclog_age : b->synclog_age;
    conf->synclog_max = a->synclog_set ? a->synclog_max : b->synclog_max;
    conf->max_import_size = a->max_import_size ? a->max_import_size
                                               : b->max_import_size;
    conf->import_map = a->import_map ? a->import_map : b->import_map;
    return conf;
}

const caldav_server_conf *caldav_server_config(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &caldav_module);
}

static const char *caldav_cmd_store(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    caldav_dir_conf *conf = dconf;
    const char *dir = ap_server_root_relative(cmd->pool, arg);
    int i;

    if (dir == NULL || *dir == '\0') {
        return apr_pstrcat(cmd->pool, "CalDAVStore: invalid path ", arg,
                           NULL);
    }
    /* canonical form: no trailing slash, so one store has one key */
    while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/') {
        dir = apr_pstrndup(cmd->pool, dir, strlen(dir) - 1);
    }
    conf->store_dir = dir;
    if (cmd->info) {
        /* CalDAVFeedStore: the public feed location is no DAV location */
    }
    else if ((conf->location = cmd->path) != NULL
             && caldav_first_location == NULL) {
        caldav_first_location = cmd->path;
        caldav_set_well_known_target(cmd->path);
    }

    for (i = 0; i < caldav_store_dirs->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(caldav_store_dirs, i, const char *),
                   dir) == 0) {
            return NULL;
        }
    }
    APR_ARRAY_PUSH(caldav_store_dirs, const char *) = dir;
    return NULL;
}

static const char *caldav_cmd_durability(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (strcasecmp(arg, "sync") == 0) {
        conf->durability = CALSTORE_DURABILITY_SYNC;
    }
    else if (strcasecmp(arg, "nosync") == 0) {
        conf->durability = CALSTORE_DURABILITY_WRITE_NOSYNC;
    }
    else {
        return "CalDAVDurability must be 'sync' (every commit is on disk "
               "before the response) or 'nosync' (commits survive a crash of "
               "httpd, not of the machine)";
    }
    return NULL;
}

/* "90d", "12h", "30m", "45s" or plain seconds; -1 when malformed. */
static apr_int64_t caldav_parse_duration(const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10), unit = 1;

    if (end == arg || n < 0) {
        return -1;
    }
    switch (*end) {
    case 'd': unit = 86400; end++; break;
    case 'h': unit = 3600; end++; break;
    case 'm': unit = 60; end++; break;
    case 's': end++; break;
    case '\0': break;
    default: return -1;
    }
    if (*end != '\0' || n > APR_INT64_C(100000) * 86400 / unit) {
        return -1;
    }
    return n * unit;
}

/* CalDAVSyncLogRetention AGE [MAX] | off */
static const char *caldav_cmd_synclog(cmd_parms *cmd, void *dconf,
                                      const char *age, const char *max)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t secs;
    char *end;

    if (err) {
        return err;
    }
    conf->synclog_set = 1;
    if (strcasecmp(age, "off") == 0 && max == NULL) {
        conf->synclog_age = 0;
        conf->synclog_max = 0;
        return NULL;
    }
    secs = caldav_parse_duration(age);
    if (secs < 0) {
        return "CalDAVSyncLogRetention: the age is a number of seconds or a "
               "number followed by s, m, h or d (e.g. 90d), 0 for no age "
               "limit, or 'off'";
    }
    conf->synclog_age = apr_time_from_sec(secs);
    conf->synclog_max = CALDAV_DEFAULT_SYNCLOG_MAX;
    if (max) {
        apr_int64_t n = apr_strtoi64(max, &end, 10);

        if (end == max || *end || n < 0 || n > 100000000) {
            return "CalDAVSyncLogRetention: the second argument is the number "
                   "of removals kept per collection (0 = no limit)";
        }
        conf->synclog_max = (unsigned)n;
    }
    return NULL;
}

static const char *caldav_cmd_size(cmd_parms *cmd, const char *arg,
                                   apr_off_t *out)
{
    char *end;
    apr_off_t v;

    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || v <= 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": not a positive size: ", arg, NULL);
    }
    switch (*end) {
    case 'k': case 'K': v *= 1024; end++; break;
    case 'm': case 'M': v *= 1024 * 1024; end++; break;
    case 'g': case 'G': v *= 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end != '\0') {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": not a size (use a number with an optional "
                           "K, M or G suffix): ", arg, NULL);
    }
    *out = v;
    return NULL;
}

static const char *caldav_cmd_cache(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_off_t v;

    if (err || (err = caldav_cmd_size(cmd, arg, &v)) != NULL) {
        return err;
    }
    if (v < 1024 * 1024) {
        return "CalDAVCacheSize must be at least 1M";
    }
    conf->cache_bytes = (apr_size_t)v;
    return NULL;
}

static const char *caldav_cmd_max_size(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);

    return caldav_cmd_size(cmd, arg, &conf->max_resource_size);
}

static const char *caldav_cmd_max_import(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);

    return caldav_cmd_size(cmd, arg, &conf->max_import_size);
}

/* CalDAVImportMap FILE: parsed now, so that a mistake stops the start
 * with its line number (docs/import.md) */
static const char *caldav_cmd_import_map(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL) {
        return apr_pstrcat(cmd->pool, "CalDAVImportMap: invalid path ", arg,
                           NULL);
    }
    return caldav_import_map_load(cmd->pool, path, &conf->import_map);
}

static const char *caldav_cmd_uint(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v <= 0 || v > 10000000) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": not a positive "
                           "number: ", arg, NULL);
    }
    if (cmd->info == (void *)1) {
        conf->max_instances = (unsigned)v;
    }
    else {
        conf->max_attendees = (unsigned)v;
    }
    return NULL;
}

static const char *caldav_cmd_datetime(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    caldav_server_conf *conf =
        ap_get_module_config(cmd->server->module_config, &caldav_module);
    calcore_time_t t;

    if (calcore_time_parse(arg, &t) != APR_SUCCESS || t == 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": not a UTC "
                           "date-time like 19000101T000000Z: ", arg, NULL);
    }
    if (cmd->info == (void *)1) {
        conf->min_date_time = t;
    }
    else {
        conf->max_date_time = t;
    }
    return NULL;
}

/* a path segment below the location: no '/', not empty, not . or .. */
static const char *caldav_cmd_segment(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    caldav_dir_conf *conf = dconf;

    if (*arg == '\0' || strchr(arg, '/') || strcmp(arg, ".") == 0
        || strcmp(arg, "..") == 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": not a single "
                           "path segment: ", arg, NULL);
    }
    if (cmd->info == (void *)1) {
        conf->principal_path = arg;
    }
    else {
        conf->home_path = arg;
    }
    return NULL;
}

static const char *caldav_cmd_autoprovision(cmd_parms *cmd, void *dconf,
                                            int flag)
{
    ((caldav_dir_conf *)dconf)->autoprovision = flag;
    return NULL;
}

static const char *caldav_cmd_default_calendar(cmd_parms *cmd, void *dconf,
                                               int argc, char *const argv[])
{
    caldav_dir_conf *conf = dconf;
    int i;

    if (argc < 1) {
        return "CalDAVDefaultCalendar needs a name (or Off)";
    }
    if (strcasecmp(argv[0], "off") == 0) {
        conf->default_calendar = "";
        return argc == 1 ? NULL : "CalDAVDefaultCalendar Off takes nothing "
                                  "else";
    }
    if (strchr(argv[0], '/') || strcmp(argv[0], ".") == 0
        || strcmp(argv[0], "..") == 0) {
        return "CalDAVDefaultCalendar: the name must be one path segment";
    }
    conf->default_calendar = argv[0];
    conf->default_comps = 0;
    for (i = 1; i < argc; i++) {
        calcore_comp_e kind = calcore_comp_from_name(argv[i]);

        if (kind == CALCORE_COMP_NONE) {
            return apr_pstrcat(cmd->pool, "CalDAVDefaultCalendar: unknown "
                               "component ", argv[i], NULL);
        }
        conf->default_comps |= (unsigned)kind;
    }
    return NULL;
}

static const char *caldav_cmd_address(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    ((caldav_dir_conf *)dconf)->address_template = arg;
    return NULL;
}

static const char *caldav_cmd_feed_refresh(cmd_parms *cmd, void *dconf,
                                           const char *arg)
{
    apr_int64_t s = caldav_parse_duration(arg);

    if (s <= 0) {
        return "CalDAVFeedRefresh: a duration such as 1h, 30m, 1d or a "
               "number of seconds (more than 0)";
    }
    ((caldav_dir_conf *)dconf)->feed_refresh = s;
    return NULL;
}

static const char *caldav_cmd_public_url(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    apr_size_t n = strlen(arg);

    if (arg[0] != '/') {
        return "CalDAVPublicFeedURL: a URL path such as /public";
    }
    while (n > 1 && arg[n - 1] == '/') {
        n--;
    }
    ((caldav_dir_conf *)dconf)->public_feed_url = apr_pstrndup(cmd->pool,
                                                               arg, n);
    return NULL;
}

static const char *caldav_cmd_public(cmd_parms *cmd, void *dconf, int on)
{
    ((caldav_dir_conf *)dconf)->public_read = on;
    return NULL;
}

static const command_rec caldav_cmds[] = {
    AP_INIT_TAKE1("CalDAVFeedStore", caldav_cmd_store, (void *)1,
                  ACCESS_CONF, "the store whose secret feed URLs a "
                  "SetHandler caldav-public-feed location serves"),
    AP_INIT_TAKE1("CalDAVPublicFeedURL", caldav_cmd_public_url, NULL,
                  RSRC_CONF | ACCESS_CONF, "the URL path of the "
                  "caldav-public-feed location (enables POST "
                  "action=publish)"),
    AP_INIT_FLAG("CalDAVPublic", caldav_cmd_public, NULL, ACCESS_CONF,
                 "everyone may read below this location (GET of feeds and "
                 "objects, PROPFIND, REPORT); grant anonymous access with "
                 "Require as well"),
    AP_INIT_TAKE1("CalDAVFeedRefresh", caldav_cmd_feed_refresh, NULL,
                  RSRC_CONF | ACCESS_CONF, "how often feed subscribers should refresh "
                  "(REFRESH-INTERVAL, X-PUBLISHED-TTL; default 1h)"),
    AP_INIT_TAKE1("CalDAVPrincipalPath", caldav_cmd_segment, (void *)1,
                  ACCESS_CONF, "where principals live below the location "
                  "(default principals)"),
    AP_INIT_TAKE1("CalDAVHomePath", caldav_cmd_segment, (void *)2,
                  ACCESS_CONF, "where calendar homes live below the "
                  "location (default calendars)"),
    AP_INIT_FLAG("CalDAVAutoProvision", caldav_cmd_autoprovision, NULL,
                 ACCESS_CONF, "create a user's principal, home and default "
                 "calendar on their first request (default On)"),
    AP_INIT_TAKE_ARGV("CalDAVDefaultCalendar", caldav_cmd_default_calendar,
                      NULL, ACCESS_CONF, "name and components of the "
                      "calendar created for new users, or Off (default: "
                      "calendar VEVENT VTODO)"),
    AP_INIT_TAKE1("CalDAVUserAddress", caldav_cmd_address, NULL,
                  ACCESS_CONF, "calendar user address template: %{user}, "
                  "%{server}, %{env:VAR} (default mailto:%{user}@%{server})"),
    AP_INIT_TAKE1("CalDAVStore", caldav_cmd_store, NULL, ACCESS_CONF,
                  "directory of the Berkeley DB store serving this location "
                  "(must not be reachable through any URL)"),
    AP_INIT_TAKE1("CalDAVDurability", caldav_cmd_durability, NULL, RSRC_CONF,
                  "sync (default) or nosync"),
    AP_INIT_TAKE12("CalDAVSyncLogRetention", caldav_cmd_synclog, NULL,
                   RSRC_CONF, "how long removals stay in the sync log (e.g. "
                   "90d) and how many per collection (default 90d 10000), "
                   "or off"),
    AP_INIT_TAKE1("CalDAVCacheSize", caldav_cmd_cache, NULL, RSRC_CONF,
                  "Berkeley DB cache size per store (default 64M)"),
    AP_INIT_TAKE1("CalDAVMaxResourceSize", caldav_cmd_max_size, NULL,
                  RSRC_CONF, "largest accepted PUT body (default 10M)"),
    AP_INIT_TAKE1("CalDAVMaxImportSize", caldav_cmd_max_import, NULL,
                  RSRC_CONF, "largest body of a POST import into a "
                  "calendar (default 50M)"),
    AP_INIT_TAKE1("CalDAVImportMap", caldav_cmd_import_map, NULL,
                  RSRC_CONF, "the attribute map (vendor property aliases, "
                  "default values) applied to POST imports"),
    AP_INIT_TAKE1("CalDAVMaxInstances", caldav_cmd_uint, (void *)1,
                  RSRC_CONF, "most instances of one recurring calendar "
                  "object (default 10000)"),
    AP_INIT_TAKE1("CalDAVMaxAttendeesPerInstance", caldav_cmd_uint,
                  (void *)2, RSRC_CONF, "most attendees of one instance "
                  "(default 500)"),
    AP_INIT_TAKE1("CalDAVMinDateTime", caldav_cmd_datetime, (void *)1,
                  RSRC_CONF, "earliest accepted date-time, UTC "
                  "(default 19000101T000000Z)"),
    AP_INIT_TAKE1("CalDAVMaxDateTime", caldav_cmd_datetime, (void *)2,
                  RSRC_CONF, "latest accepted date-time, UTC "
                  "(default 21001231T235959Z)"),
    { NULL }
};

/* ---- process life cycle --------------------------------------------- */

static void caldav_store_options(server_rec *s, calstore_options_t *opts)
{
    const caldav_server_conf *conf = caldav_server_config(s);

    calstore_options_default(opts);
    if (conf->durability >= 0) {
        opts->durability = conf->durability;
    }
    if (conf->cache_bytes) {
        opts->cache_bytes = conf->cache_bytes;
    }
}

static int caldav_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    caldav_store_dirs = apr_array_make(pconf, 4, sizeof(const char *));
    caldav_stores = NULL;
    caldav_first_location = NULL;
    caldav_set_well_known_target(NULL);
    return OK;
}

/* Is 'path' equal to or below 'dir'? */
static int caldav_path_within(const char *path, const char *dir)
{
    apr_size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The store must never be reachable through a URL: refuse to start when it
 * lies inside a DocumentRoot (or a DocumentRoot inside it). */
static int caldav_check_store_location(server_rec *s, const char *dir)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        core_server_config *core =
            ap_get_core_module_config(vs->module_config);
        const char *docroot = core ? core->ap_document_root : NULL;

        if (docroot && (caldav_path_within(dir, docroot)
                        || caldav_path_within(docroot, dir))) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "CalDAVStore %s lies inside DocumentRoot %s "
                         "(of %s): the database would be downloadable. "
                         "Move the store out of the URL space.",
                         dir, docroot, vs->server_hostname);
            return 0;
        }
    }
    return 1;
}

/* Give the store directory and everything in it to the run user, so the
 * children (which run unprivileged) can open what the parent created. */
static apr_status_t caldav_chown_store(const char *dir, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;
    uid_t uid = ap_unixd_config.user_id;
    gid_t gid = ap_unixd_config.group_id;

    if (geteuid() != 0) {
        return APR_SUCCESS;
    }
    if (chown(dir, uid, gid) != 0) {
        return errno;
    }
    if ((rv = apr_dir_open(&d, dir, p)) != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        const char *f;

        if (fi.filetype != APR_REG) {
            continue;
        }
        f = apr_pstrcat(p, dir, "/", fi.name, NULL);
        if (chown(f, uid, gid) != 0) {
            rv = errno;
            apr_dir_close(d);
            return rv;
        }
    }
    apr_dir_close(d);
    return APR_SUCCESS;
}

static int caldav_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    calstore_options_t opts;
    int i;

    caldav_main_server = s;
    calcore_log_set(caldav_log_cb, s, caldav_log_max(s));
    caldav_store_options(s, &opts);
    caldav_m_mkcalendar = ap_method_register(pconf, "MKCALENDAR");
    caldav_m_acl = ap_method_register(pconf, "ACL");

    /* libical's global state, once, before any thread exists; the
     * children inherit it. */
    if (caldav_store_dirs->nelts > 0) {
        apr_status_t rv = calcore_init(pconf);

        if (rv != APR_SUCCESS) {
            char buf[256];

            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "cannot initialise "
                         "the iCalendar core: %s",
                         calcore_strerror(rv, buf, sizeof(buf)));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (i = 0; i < caldav_store_dirs->nelts; i++) {
        const char *dir = APR_ARRAY_IDX(caldav_store_dirs, i, const char *);
        apr_status_t rv;
        char buf[256];

        if (!caldav_check_store_location(s, dir)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((rv = calstore_prepare(dir, &opts, ptemp)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, caldav_log_status(rv), s,
                         "CalDAVStore %s: cannot open or recover the store: "
                         "%s", dir, calstore_strerror(rv, buf, sizeof(buf)));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((rv = caldav_chown_store(dir, ptemp)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "CalDAVStore %s: cannot hand the store to the run "
                         "user", dir);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* Two threads per child keep the stores healthy:
 *  - the maintenance thread calls calstore_maintain() every second
 *    (failchk, lock-timeout detection, checkpoints, reopen after a panic);
 *  - the watchdog thread never calls into Berkeley DB.  A child whose
 *    threads are stuck inside the library after a panic cannot free them
 *    (they wait on a mutex of a dead process), and a maintenance thread
 *    that stops beating is stuck the same way: the watchdog ends the child
 *    and the MPM starts a fresh one, so clients see a closed connection
 *    instead of a request that never ends. */
typedef struct caldav_maint_t {
    apr_thread_t *thread;
    apr_thread_t *watchdog;
    volatile int stop;
    volatile apr_time_t heartbeat;
    server_rec *s;
} caldav_maint_t;

#define CALDAV_STUCK_AFTER      apr_time_from_sec(3)
#define CALDAV_MAINT_STUCK      apr_time_from_sec(20)

static void caldav_sleep(caldav_maint_t *m, apr_interval_time_t t)
{
    apr_interval_time_t step = apr_time_from_msec(50);

    for (; t > 0 && !m->stop; t -= step) {
        apr_sleep(step);
    }
}

/* How often a child prunes the sync logs: hourly, or more often for a
 * retention shorter than two hours (half the age, at least every second). */
static apr_interval_time_t caldav_prune_every(const caldav_server_conf *c)
{
    apr_interval_time_t every = apr_time_from_sec(3600);

    if (c->synclog_age > 0 && c->synclog_age / 2 < every) {
        every = c->synclog_age / 2;
    }
    return every < apr_time_from_sec(1) ? apr_time_from_sec(1) : every;
}

static void *APR_THREAD_FUNC caldav_maint_main(apr_thread_t *t, void *data)
{
    caldav_maint_t *m = data;
    const caldav_server_conf *c = caldav_server_config(m->s);
    apr_interval_time_t age = c->synclog_set ? c->synclog_age
                                             : CALDAV_DEFAULT_SYNCLOG_AGE;
    unsigned max = c->synclog_set ? c->synclog_max
                                  : CALDAV_DEFAULT_SYNCLOG_MAX;
    caldav_server_conf eff;
    apr_time_t next_prune;
    apr_pool_t *pool, *iterpool;

    eff.synclog_age = age;
    /* the first prune a little after start-up, spread over the children */
    next_prune = apr_time_now() + caldav_prune_every(&eff) / 4
                 + (apr_time_t)(getpid() % 60) * APR_USEC_PER_SEC
                   * (caldav_prune_every(&eff) > apr_time_from_sec(120));
    apr_pool_create(&pool, NULL);
    apr_pool_create(&iterpool, NULL);
    while (!m->stop) {
        apr_hash_index_t *hi;
        int prune = (age > 0 || max > 0) && apr_time_now() >= next_prune;

        m->heartbeat = apr_time_now();
        caldav_sleep(m, apr_time_from_sec(1));
        /* an iterator of our own: apr_hash_first(NULL, ...) hands every
         * caller the hash's single built-in one, and the watchdog thread
         * walks the same hash */
        apr_pool_clear(iterpool);
        for (hi = apr_hash_first(iterpool, caldav_stores); hi && !m->stop;
             hi = apr_hash_next(hi)) {
            calstore_t *st = apr_hash_this_val(hi);
            apr_status_t rv;

            (void)calstore_maintain(st, -1);
            if (prune && !m->stop) {
                /* every collection's log; a token older than what is
                 * dropped gets DAV:valid-sync-token */
                rv = calstore_changes_prune(st, 0, age, max, pool);
                apr_pool_clear(pool);
                if (rv != APR_SUCCESS) {
                    char buf[256];

                    ap_log_error(APLOG_MARK, APLOG_WARNING,
                                 caldav_log_status(rv), m->s,
                                 "CalDAVStore %s: pruning the sync logs "
                                 "failed: %s", calstore_dir(st),
                                 calstore_strerror(rv, buf, sizeof(buf)));
                }
            }
        }
        if (prune) {
            next_prune = apr_time_now() + caldav_prune_every(&eff);
        }
    }
    apr_pool_destroy(iterpool);
    apr_pool_destroy(pool);
    /* return, not apr_thread_exit(): pthread_exit upsets ASan */
    return NULL;
}

static void *APR_THREAD_FUNC caldav_watchdog_main(apr_thread_t *t,
                                                  void *data)
{
    caldav_maint_t *m = data;
    apr_pool_t *iterpool;

    apr_pool_create(&iterpool, NULL);
    while (!m->stop) {
        apr_hash_index_t *hi;

        caldav_sleep(m, apr_time_from_msec(250));
        if (m->stop) {
            break;
        }
        apr_pool_clear(iterpool);     /* see caldav_maint_main */
        for (hi = apr_hash_first(iterpool, caldav_stores); hi;
             hi = apr_hash_next(hi)) {
            calstore_t *st = apr_hash_this_val(hi);

            if (calstore_stuck(st, CALDAV_STUCK_AFTER)) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, m->s,
                             "CalDAVStore %s: requests stuck in Berkeley DB "
                             "after a process crashed inside it; ending "
                             "this child so a fresh one takes over",
                             calstore_dir(st));
                _exit(1);
            }
        }
        if (apr_time_now() - m->heartbeat > CALDAV_MAINT_STUCK) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, m->s,
                         "CalDAV store maintenance has been stuck for more "
                         "than %d s; ending this child so a fresh one "
                         "takes over",
                         (int)apr_time_sec(CALDAV_MAINT_STUCK));
            _exit(1);
        }
    }
    apr_pool_destroy(iterpool);
    return NULL;
}

static apr_status_t caldav_maint_stop(void *data)
{
    caldav_maint_t *m = data;
    apr_status_t rv;

    m->stop = 1;
    if (m->watchdog) {
        apr_thread_join(&rv, m->watchdog);
    }
    if (m->thread) {
        apr_thread_join(&rv, m->thread);
    }
    return APR_SUCCESS;
}

static void caldav_child_init(apr_pool_t *pchild, server_rec *s)
{
    calstore_options_t opts;
    caldav_maint_t *m;
    apr_status_t rv;
    int i;

    calcore_log_set(caldav_log_cb, s, caldav_log_max(s));
    caldav_store_options(s, &opts);
    opts.create = 0;       /* the parent created it, as the right user */
    caldav_principal_child_init(pchild);
    caldav_stores = apr_hash_make(pchild);

    for (i = 0; i < caldav_store_dirs->nelts; i++) {
        const char *dir = APR_ARRAY_IDX(caldav_store_dirs, i, const char *);
        calstore_t *st;
        char buf[256];

        rv = calstore_open(&st, dir, &opts, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, caldav_log_status(rv), s,
                         "CalDAVStore %s: cannot open the store in this "
                         "child: %s; its requests will get 503",
                         dir, calstore_strerror(rv, buf, sizeof(buf)));
            continue;
        }
        apr_hash_set(caldav_stores, dir, APR_HASH_KEY_STRING, st);
    }
    if (apr_hash_count(caldav_stores) == 0) {
        return;
    }

    m = apr_pcalloc(pchild, sizeof(*m));
    m->s = s;
    m->heartbeat = apr_time_now();
    rv = apr_thread_create(&m->thread, NULL, caldav_maint_main, m, pchild);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&m->watchdog, NULL, caldav_watchdog_main, m,
                               pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "cannot start the CalDAV store maintenance threads");
        caldav_maint_stop(m);
        return;
    }
    /* A pre-cleanup: it runs before pchild's subpools (the thread's own
     * pool among them) are destroyed and before the stores are closed. */
    apr_pool_pre_cleanup_register(pchild, m, caldav_maint_stop);
}

calstore_t *caldav_store_for(const char *store_dir)
{
    if (caldav_stores == NULL || store_dir == NULL) {
        return NULL;
    }
    return apr_hash_get(caldav_stores, store_dir, APR_HASH_KEY_STRING);
}

/* ---- request hooks beside mod_dav ----------------------------------- */

static int caldav_is_ours(request_rec *r)
{
    const char *provider = dav_get_provider_name(r);

    return provider != NULL && strcmp(provider, "caldav") == 0;
}

/* URLs under a caldav location are never files: give them a pseudo file
 * name so no core hook stats or opens anything (the mod_dav_svn pattern).
 * LAST, so mod_alias and friends still get their chance first. */
static int caldav_translate_name(request_rec *r)
{
    int rv;

    if ((rv = caldav_well_known(r)) != DECLINED) {
        return rv;
    }
    if (!caldav_is_ours(r)) {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, "caldav:", r->uri, NULL);
    apr_table_setn(r->notes, "caldav-no-storage", "1");
    return OK;
}

/* Skip the directory walk, .htaccess lookups and stat() for our URLs. */
static int caldav_map_to_storage(request_rec *r)
{
    if (apr_table_get(r->notes, "caldav-no-storage") == NULL) {
        return DECLINED;
    }
    return OK;
}

/* Does the request announce a body?  (Decided from the headers: the body
 * may only be read by whoever handles the request.) */
static int caldav_has_body(request_rec *r)
{
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return te != NULL || (cl != NULL && strcmp(cl, "0") != 0);
}

/* Methods mod_dav does not answer the way a CalDAV server must.  Runs
 * before mod_dav's handler; declines everything else. */
static int caldav_handler(request_rec *r)
{
    int rv;

    if (!caldav_is_ours(r)) {
        return DECLINED;
    }
    if (r->user) {
        const caldav_dir_conf *conf = caldav_dir_config(r);
        calstore_t *st = caldav_store_for(conf->store_dir);

        if (st) {
            caldav_provision(r, st);
        }
    }
    if ((rv = caldav_freebusy_url(r)) != DECLINED) {
        return rv;
    }
    if ((rv = caldav_authorize_request(r)) != DECLINED) {
        return rv;
    }

    if (r->method_number == M_PROPPATCH) {
        return caldav_method_proppatch(r);
    }
    if (r->method_number == caldav_m_mkcalendar) {
        return caldav_method_mkcalendar(r, 0);
    }
    if (r->method_number == caldav_m_acl) {
        return caldav_method_acl(r);
    }
    if (r->method_number == M_POST) {
        return caldav_method_post(r);
    }
    if (r->method_number == M_MKCOL && caldav_has_body(r)) {
        return caldav_method_mkcalendar(r, 1);      /* RFC 5689 */
    }

    /* PROPFIND Depth: infinity on a collection: RFC 4918 9.1 wants a
     * DAV:propfind-finite-depth precondition element; mod_dav would answer
     * 403 with an HTML page. */
    if (r->method_number == M_PROPFIND) {
        const char *depth = apr_table_get(r->headers_in, "Depth");
        dav_resource *res;
        dav_error *err;

        if (depth == NULL || strcasecmp(depth, "infinity") == 0) {
            if ((err = dav_get_resource(r, 0, 0, &res)) != NULL) {
                return dav_handle_err(r, err, NULL);
            }
            if (res->exists && res->collection) {
                err = dav_new_error_tag(r->pool, HTTP_FORBIDDEN, 0, 0,
                                        "PROPFIND with Depth: infinity is "
                                        "not supported; use Depth: 1",
                                        NULL, "propfind-finite-depth");
                return dav_handle_err(r, err, NULL);
            }
        }
    }
    return DECLINED;
}

static void caldav_register_hooks(apr_pool_t *p)
{
    static const char * const succ_dav[] = { "mod_dav.c", NULL };
    static const dav_provider provider = {
        &caldav_hooks_repository,
        &caldav_hooks_propdb,
        NULL,                       /* locks: class 1 only */
        NULL,                       /* vsn: never (see docs) */
        NULL,                       /* binding */
        NULL,                       /* search */
        NULL                        /* ctx */
    };

    dav_register_provider(p, "caldav", &provider);
    caldav_liveprops_register(p);
    caldav_report_register(p);

    ap_hook_pre_config(caldav_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(caldav_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(caldav_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(caldav_translate_name, NULL, NULL, APR_HOOK_LAST);
    ap_hook_map_to_storage(caldav_map_to_storage, NULL, NULL, APR_HOOK_LAST);
    ap_hook_handler(caldav_handler, NULL, succ_dav, APR_HOOK_MIDDLE);
    ap_hook_handler(caldav_public_feed_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(caldav_root_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Everything is built with -fvisibility=hidden; httpd needs this symbol. */
extern module AP_MODULE_DECLARE_DATA caldav_module
    __attribute__((visibility("default")));

AP_DECLARE_MODULE(caldav) = {
    STANDARD20_MODULE_STUFF,
    caldav_create_dir_conf,
    caldav_merge_dir_conf,
    caldav_create_server_conf,
    caldav_merge_server_conf,
    caldav_cmds,
    caldav_register_hooks
};
