/*
 * ctl_admin.c - caldavctl list, delete, verify, backup and restore.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include <apr_escape.h>
#include <apr_strings.h>
#include <apr_xml.h>

#include "ctl.h"

/* ---- list --------------------------------------------------------------- */

/* The character data of a stored dead property (a self-contained XML
 * element), or NULL. */
static const char *prop_text(calstore_t *st, calstore_id_t id,
                             const char *ns, const char *name,
                             apr_pool_t *pool)
{
    apr_xml_parser *parser;
    apr_xml_doc *doc = NULL;
    const apr_text *t;
    const char *xml, *out = "";
    apr_size_t len;

    if (calstore_prop_get(st, id, ns, name, &xml, &len, pool)
        != APR_SUCCESS) {
        return NULL;
    }
    parser = apr_xml_parser_create(pool);
    if (apr_xml_parser_feed(parser, xml, strnlen(xml, len)) != APR_SUCCESS
        || apr_xml_parser_done(parser, &doc) != APR_SUCCESS || doc == NULL) {
        return NULL;
    }
    for (t = doc->root->first_cdata.first; t; t = t->next) {
        out = apr_pstrcat(pool, out, t->text, NULL);
    }
    return out;
}

static apr_status_t count_cb(void *baton, const calstore_node_t *node,
                             apr_pool_t *scratch)
{
    (*(unsigned long *)baton)++;
    return APR_SUCCESS;
}

static apr_status_t count_members(ctl_t *ctx, calstore_id_t id,
                                  unsigned long *n, apr_pool_t *pool)
{
    *n = 0;
    return calstore_list(ctx->st, id, count_cb, n, pool);
}

typedef struct list_baton_t {
    ctl_t *ctx;
    apr_array_header_t *names;  /* const char *                             */
    apr_pool_t *pool;
} list_baton_t;

static apr_status_t users_cb(void *baton, const calstore_node_t *node,
                             apr_pool_t *scratch)
{
    list_baton_t *b = baton;

    if (node->kind == CALSTORE_KIND_COLLECTION) {
        APR_ARRAY_PUSH(b->names, const char *) =
            apr_pstrdup(b->pool, node->name);
    }
    return APR_SUCCESS;
}

static int list_users(ctl_t *ctx, apr_pool_t *pool)
{
    calstore_node_t *home;
    list_baton_t b;
    apr_pool_t *iter;
    apr_status_t rv;
    int i;

    rv = calstore_lookup(ctx->st, ctx->home_path, &home, NULL, pool);
    if (rv == CALSTORE_ENOENT) {
        return CTL_EXIT_OK;     /* nobody has logged in yet */
    }
    b.ctx = ctx;
    b.names = apr_array_make(pool, 16, sizeof(const char *));
    b.pool = pool;
    if (rv == APR_SUCCESS) {
        rv = calstore_list(ctx->st, home->id, users_cb, &b, pool);
    }
    if (rv != APR_SUCCESS) {
        ctl_err("list", "%s: %s", ctx->home_path, ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    printf("%-24s %9s %9s\n", "USER", "CALENDARS", "OBJECTS");
    apr_pool_create(&iter, pool);
    for (i = 0; i < b.names->nelts; i++) {
        const char *user = APR_ARRAY_IDX(b.names, i, const char *);
        apr_array_header_t *cals;
        unsigned long objects = 0, n;
        int j;

        apr_pool_clear(iter);
        if ((rv = ctl_user_calendars(ctx, user, &cals, iter))
            != APR_SUCCESS) {
            break;
        }
        for (j = 0; j < cals->nelts && rv == APR_SUCCESS; j++) {
            rv = count_members(ctx, APR_ARRAY_IDX(cals, j,
                                                  calstore_node_t *)->id,
                               &n, iter);
            objects += n;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
        printf("%-24s %9d %9lu\n", user, cals->nelts, objects);
    }
    apr_pool_destroy(iter);
    if (rv != APR_SUCCESS) {
        ctl_err("list", "%s", ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    return CTL_EXIT_OK;
}

static const char *comps_text(unsigned mask, apr_pool_t *pool)
{
    const char *out = "";
    unsigned bit;

    for (bit = 1; bit <= CALCORE_COMP_VAVAILABILITY; bit <<= 1) {
        if (mask & bit) {
            out = apr_pstrcat(pool, out, *out ? "," : "",
                              calcore_comp_name((calcore_comp_e)bit), NULL);
        }
    }
    return out;
}

static int list_calendars(ctl_t *ctx, const char *user, apr_pool_t *pool)
{
    apr_array_header_t *cals;
    apr_pool_t *iter;
    apr_status_t rv;
    int i;

    rv = ctl_user_calendars(ctx, user, &cals, pool);
    if (rv == CALSTORE_ENOENT) {
        ctl_err("list", "no calendar home %s in %s",
                ctl_home_path(ctx, user, pool), ctx->store_dir);
        return CTL_EXIT_PROBLEMS;
    }
    if (rv != APR_SUCCESS) {
        ctl_err("list", "%s: %s", ctl_home_path(ctx, user, pool),
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    printf("%-24s %9s %9s  %-28s %s\n", "CALENDAR", "OBJECTS", "CTAG",
           "COMPONENTS", "DISPLAYNAME");
    apr_pool_create(&iter, pool);
    for (i = 0; i < cals->nelts; i++) {
        const calstore_node_t *cal = APR_ARRAY_IDX(cals, i,
                                                   calstore_node_t *);
        const char *dn;
        unsigned long n;

        apr_pool_clear(iter);
        if ((rv = count_members(ctx, cal->id, &n, iter)) != APR_SUCCESS) {
            ctl_err("list", "%s: %s", cal->name, ctl_strerror(rv, iter));
            return CTL_EXIT_PROBLEMS;
        }
        dn = prop_text(ctx->st, cal->id, "DAV:", "displayname", iter);
        printf("%-24s %9lu %9" APR_UINT64_T_FMT "  %-28s %s\n", cal->name, n,
               cal->revision, comps_text(calstore_calendar_comps(cal), iter),
               dn ? dn : "");
    }
    apr_pool_destroy(iter);
    return CTL_EXIT_OK;
}

static apr_status_t objects_cb(void *baton, const calstore_node_t *node,
                               const void *record, apr_size_t len,
                               apr_pool_t *scratch)
{
    char etag[CALSTORE_ETAG_LEN];
    calcore_index_t *idx = NULL;
    const char *kind = "?";

    if (calcore_index_parse(&idx, record, len, scratch) == APR_SUCCESS) {
        kind = calcore_comp_name(idx->kind);
    }
    calstore_etag(node, etag);
    printf("%-40s %-13s %-24s %9" APR_OFF_T_FMT "  %s\n", node->name,
           kind ? kind : "?", etag, node->length, idx ? idx->uid : "?");
    return APR_SUCCESS;
}

static int list_objects(ctl_t *ctx, const char *user, const char *calname,
                        apr_pool_t *pool)
{
    calstore_node_t *cal;
    apr_status_t rv;

    if (!ctl_lookup_calendar(ctx, "list", ctl_calendar_path(ctx, user,
                                                            calname, pool),
                             &cal, pool)) {
        return CTL_EXIT_PROBLEMS;
    }
    printf("%-40s %-13s %-24s %9s  %s\n", "NAME", "COMPONENT", "ETAG", "SIZE",
           "UID");
    rv = calstore_query_all(ctx->st, cal->id, 0, objects_cb, ctx, pool);
    if (rv != APR_SUCCESS) {
        ctl_err("list", "%s: %s", calname, ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    return CTL_EXIT_OK;
}

static const ctl_opt_t no_opts[] = { { NULL, 0 } };

int ctl_cmd_list(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user = NULL, *calname = NULL;
    int code;

    if (!ctl_check_args(args, no_opts, 0, 1)
        || (args->pos->nelts == 1
            && !ctl_parse_target("list", APR_ARRAY_IDX(args->pos, 0,
                                                       const char *), 0,
                                 &user, &calname, ctx->pool))) {
        return CTL_EXIT_USAGE;
    }
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    if (user == NULL) {
        return list_users(ctx, ctx->pool);
    }
    if (calname == NULL) {
        return list_calendars(ctx, user, ctx->pool);
    }
    return list_objects(ctx, user, calname, ctx->pool);
}

/* ---- delete ------------------------------------------------------------- */

static const ctl_opt_t delete_opts[] = {
    { "--uid", 1 }, { "--href", 1 }, { NULL, 0 }
};

int ctl_cmd_delete(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user, *calname, *uid, *href, *name, *cal_path, *slash;
    apr_pool_t *pool = ctx->pool;
    calstore_node_t *cal;
    apr_status_t rv;
    int code;

    if (!ctl_check_args(args, delete_opts, 1, 1)
        || !ctl_parse_target("delete", APR_ARRAY_IDX(args->pos, 0,
                                                     const char *), 1,
                             &user, &calname, pool)) {
        return CTL_EXIT_USAGE;
    }
    uid = ctl_opt(args, "--uid");
    href = ctl_opt(args, "--href");
    if ((uid == NULL) == (href == NULL)) {
        ctl_err("delete", "give exactly one of --uid UID and --href NAME");
        ctl_usage(stderr, "delete");
        return CTL_EXIT_USAGE;
    }
    if (href) {
        /* a whole href or just the member name; URL-decoded */
        while (*href && href[strlen(href) - 1] == '/') {
            href = apr_pstrndup(pool, href, strlen(href) - 1);
        }
        slash = strrchr(href, '/');
        name = apr_punescape_url(pool, slash ? slash + 1 : href, "/", NULL,
                                 0);
        if (name == NULL || *name == '\0' || strcmp(name, ".") == 0
            || strcmp(name, "..") == 0) {
            ctl_err("delete", "--href %s: not a member name", href);
            return CTL_EXIT_USAGE;
        }
    }

    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    cal_path = ctl_calendar_path(ctx, user, calname, pool);
    if (!ctl_lookup_calendar(ctx, "delete", cal_path, &cal, pool)) {
        return CTL_EXIT_PROBLEMS;
    }
    if (uid) {
        rv = calstore_uid_lookup(ctx->st, cal->id, uid, &name, pool);
        if (rv == CALSTORE_ENOENT) {
            ctl_err("delete", "%s holds no object with UID %s", cal_path,
                    uid);
            return CTL_EXIT_PROBLEMS;
        }
        if (rv != APR_SUCCESS) {
            ctl_err("delete", "%s: %s", cal_path, ctl_strerror(rv, pool));
            return CTL_EXIT_PROBLEMS;
        }
    }
    rv = calstore_delete(ctx->st, apr_pstrcat(pool, cal_path, "/", name,
                                              NULL), NULL, pool);
    if (rv == CALSTORE_ENOENT) {
        ctl_err("delete", "%s holds no object %s", cal_path, name);
        return CTL_EXIT_PROBLEMS;
    }
    if (rv != APR_SUCCESS) {
        ctl_err("delete", "%s/%s: %s", cal_path, name,
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    printf("deleted %s/%s\n", cal_path, name);
    return CTL_EXIT_OK;
}

/* ---- verify ------------------------------------------------------------- */

/* Attempts of the consistency check before problems are believed: a store
 * written meanwhile can look inconsistent between two databases' scans. */
#define VERIFY_ATTEMPTS 3

static const ctl_opt_t verify_opts[] = { { "--offline", 0 }, { NULL, 0 } };

int ctl_cmd_verify(ctl_t *ctx, const ctl_args_t *args)
{
    apr_array_header_t *msgs = NULL;
    apr_pool_t *pool = ctx->pool, *iter;
    apr_status_t rv = APR_SUCCESS;
    int code, attempt, offline, transient = 0, i;

    if (!ctl_check_args(args, verify_opts, 0, 0)) {
        return CTL_EXIT_USAGE;
    }
    offline = ctl_opt(args, "--offline") != NULL;
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    apr_pool_create(&iter, pool);
    for (attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
        apr_pool_clear(iter);
        msgs = apr_array_make(iter, 8, sizeof(const char *));
        ctl_log_capture(msgs);
        rv = calstore_check(ctx->st, iter);
        ctl_log_capture(NULL);
        if (rv != CALSTORE_ECORRUPT) {
            break;
        }
        transient = 1;
        if (attempt < VERIFY_ATTEMPTS) {
            apr_sleep(apr_time_from_msec(200 * attempt));
        }
    }
    if (rv == CALSTORE_ECORRUPT) {
        for (i = 0; i < msgs->nelts; i++) {
            printf("%s\n", APR_ARRAY_IDX(msgs, i, const char *));
        }
        printf("%s: %d problem(s) found\n", ctx->store_dir, msgs->nelts);
        return CTL_EXIT_PROBLEMS;
    }
    if (rv != APR_SUCCESS) {
        ctl_err("verify", "the check could not run: %s",
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    if (transient) {
        ctl_err("verify", "differences seen while the store was being "
                "written were gone when checked again");
    }
    printf("%s: indexes and change log consistent\n", ctx->store_dir);
    apr_pool_destroy(iter);

    if (offline) {
        calstore_close(ctx->st);
        ctx->st = NULL;
        rv = calstore_verify_files(ctx->store_dir, pool);
        if (rv == CALSTORE_EBUSY) {
            ctl_err("verify", "--offline: another process (httpd?) has the "
                    "store open; stop it first");
            return CTL_EXIT_PROBLEMS;
        }
        if (rv != APR_SUCCESS) {
            printf("%s: database files: %s\n", ctx->store_dir,
                   ctl_strerror(rv, pool));
            return CTL_EXIT_PROBLEMS;
        }
        printf("%s: database files verified\n", ctx->store_dir);
    }
    return CTL_EXIT_OK;
}

/* ---- backup and restore ------------------------------------------------- */

/* Does directory 'dir' exist and hold anything? */
static int dir_has_entries(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int any = 0;

    if (d == NULL) {
        return 0;
    }
    while (!any && (de = readdir(d)) != NULL) {
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    }
    closedir(d);
    return any;
}

static const ctl_opt_t force_opts[] = { { "--force", 0 }, { NULL, 0 } };

/* As root (who is about to become the store's owner): create the backup
 * directory now, for the store's owner, so that it may lie where only
 * root can create directories. */
static int backup_make_dir(ctl_t *ctx, const char *dir)
{
    struct stat store, sb;

    if (stat(ctx->store_dir, &store) != 0 || store.st_uid == 0
        || stat(dir, &sb) == 0) {
        return 1;
    }
    if (mkdir(dir, 0700) != 0 || chown(dir, store.st_uid, store.st_gid) != 0) {
        ctl_err("backup", "cannot create %s: %s", dir, strerror(errno));
        return 0;
    }
    return 1;
}

int ctl_cmd_backup(ctl_t *ctx, const ctl_args_t *args)
{
    apr_pool_t *pool = ctx->pool;
    const char *dir;
    apr_status_t rv;
    int code, force;

    if (!ctl_check_args(args, force_opts, 1, 1)) {
        return CTL_EXIT_USAGE;
    }
    dir = APR_ARRAY_IDX(args->pos, 0, const char *);
    force = ctl_opt(args, "--force") != NULL;
    if (geteuid() == 0 && !backup_make_dir(ctx, dir)) {
        return CTL_EXIT_PROBLEMS;
    }
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    if (!force && dir_has_entries(dir)) {
        ctl_err("backup", "%s is not empty (--force replaces the store "
                "files in it)", dir);
        return CTL_EXIT_PROBLEMS;
    }
    rv = calstore_backup(ctx->st, dir, force, pool);
    if (rv != APR_SUCCESS) {
        ctl_err("backup", "%s: %s", dir,
                rv == CALSTORE_EINVAL ? "cannot back up into the store "
                                        "itself"
                : rv == CALSTORE_EBUSY ? "a process has a store there open"
                : ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    printf("backup of %s written to %s\n", ctx->store_dir, dir);
    return CTL_EXIT_OK;
}

int ctl_cmd_restore(ctl_t *ctx, const ctl_args_t *args)
{
    apr_pool_t *pool = ctx->pool;
    const char *dir;
    apr_status_t rv;
    int code, force;

    if (!ctl_check_args(args, force_opts, 1, 1)) {
        return CTL_EXIT_USAGE;
    }
    dir = APR_ARRAY_IDX(args->pos, 0, const char *);
    force = ctl_opt(args, "--force") != NULL;
    if (!ctl_become_store_owner(ctx)) {
        return CTL_EXIT_STORE;
    }
    rv = calstore_restore(dir, ctx->store_dir, force, pool);
    if (rv != APR_SUCCESS) {
        ctl_err("restore", "%s", rv == CALSTORE_EEXIST
                ? apr_psprintf(pool, "%s is not empty (--force replaces the "
                               "store files in it)", ctx->store_dir)
                : rv == CALSTORE_EBUSY
                ? apr_psprintf(pool, "a process (httpd?) has the store in %s "
                               "open; stop it first", ctx->store_dir)
                : rv == CALSTORE_EINVAL
                ? apr_psprintf(pool, "%s holds no backup of a store (or is "
                               "the store itself)", dir)
                : ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    /* open it as httpd will, and check it */
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    rv = calstore_check(ctx->st, pool);
    if (rv != APR_SUCCESS) {
        ctl_err("restore", "the restored store fails its check: %s",
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    printf("restored %s from %s\n", ctx->store_dir, dir);
    return CTL_EXIT_OK;
}
