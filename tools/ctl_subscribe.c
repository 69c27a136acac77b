/*
 * ctl_subscribe.c - caldavctl subscribe / refresh: mirror a remote .ics
 * (a webcal feed) into a calendar.
 *
 * The tool fetches the feed itself (with curl(1), which is one of the
 * packages `make` installs; http and https only), never the web server.
 * The feed goes through the same import as `caldavctl import` and a POST
 * (calstore_import: create-or-modify by UID, one transaction), then every
 * member whose UID the feed no longer has is removed.  A feed that cannot
 * be fetched, or holds no calendar object at all, changes nothing: an
 * outage of the remote end must not empty the calendar.  The URL is kept
 * with the calendar (a dead property in CALSTORE_INTERNAL_NS), so
 * `refresh` needs only the calendar.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "ctl.h"
#include "calstore_import.h"

#define SUB_PROP      "subscription"
#define SUB_MAX_BYTES (50 * 1024 * 1024)

/* Read all of 'f' (at most 'max' bytes) into memory.  -1 when larger. */
static int read_all(apr_file_t *f, apr_size_t max, char **out,
                    apr_size_t *outlen, apr_pool_t *pool)
{
    apr_size_t cap = 65536, len = 0;
    char *buf = apr_palloc(pool, cap + 1);

    for (;;) {
        apr_size_t n = cap - len;
        apr_status_t rv = apr_file_read(f, buf + len, &n);

        len += n;
        if (rv == APR_EOF || (rv == APR_SUCCESS && n == 0)) {
            break;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
        if (len > max) {
            return -1;
        }
        if (len == cap) {
            char *bigger = apr_palloc(pool, 2 * cap + 1);

            memcpy(bigger, buf, len);
            buf = bigger;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

/* GET 'url' with curl: the body, or 0 with a message on stderr. */
static int fetch(const char *command, const char *url, char **data,
                 apr_size_t *len, apr_pool_t *pool)
{
    const char *argv[] = {
        "curl", "--fail", "--silent", "--show-error", "--location",
        "--proto", "=http,https", "--proto-redir", "=http,https",
        "--max-time", "120", "--max-filesize", "52428800",
        "--user-agent", "caldavctl (mod_caldav)", "--", url, NULL
    };
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_exit_why_e why;
    char *err = NULL;
    apr_size_t errlen = 0;
    int code, too_big;

    if (strncasecmp(url, "http://", 7) != 0
        && strncasecmp(url, "https://", 8) != 0) {
        ctl_err(command, "%s: only http:// and https:// URLs (webcal://: "
                "write https://)", url);
        return 0;
    }
    if (apr_procattr_create(&attr, pool) != APR_SUCCESS
        || apr_procattr_io_set(attr, APR_NO_PIPE, APR_FULL_BLOCK,
                               APR_FULL_BLOCK) != APR_SUCCESS
        || apr_procattr_cmdtype_set(attr, APR_PROGRAM_PATH) != APR_SUCCESS
        || apr_proc_create(&proc, "curl", argv, NULL, attr, pool)
           != APR_SUCCESS) {
        ctl_err(command, "cannot run curl (Debian package curl)");
        return 0;
    }
    too_big = read_all(proc.out, SUB_MAX_BYTES, data, len, pool);
    (void)read_all(proc.err, 65536, &err, &errlen, pool);
    apr_file_close(proc.out);
    apr_file_close(proc.err);
    apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (too_big) {
        ctl_err(command, "%s: larger than %d MB", url, SUB_MAX_BYTES >> 20);
        return 0;
    }
    if (why != APR_PROC_EXIT || code != 0) {
        while (errlen && (err[errlen - 1] == '\n' || err[errlen - 1] == '\r')) {
            err[--errlen] = '\0';
        }
        ctl_err(command, "cannot fetch %s: %s", url,
                errlen ? err : "curl failed");
        return 0;
    }
    return 1;
}

typedef struct sweep_t {
    apr_hash_t *keep;           /* UIDs the feed has                       */
    apr_array_header_t *gone;   /* member names to remove                  */
    apr_pool_t *pool;
} sweep_t;

static apr_status_t sweep_cb(void *baton, const calstore_node_t *node,
                             const void *record, apr_size_t len,
                             apr_pool_t *scratch)
{
    sweep_t *s = baton;
    calcore_index_t *idx = NULL;

    if (calcore_index_parse(&idx, record, len, scratch) != APR_SUCCESS
        || !idx->uid) {
        return APR_SUCCESS;     /* cannot tell: leave it */
    }
    if (!apr_hash_get(s->keep, idx->uid, APR_HASH_KEY_STRING)) {
        APR_ARRAY_PUSH(s->gone, const char *) = apr_pstrdup(s->pool,
                                                            node->name);
    }
    return APR_SUCCESS;
}

/* Fetch, import, remove what disappeared; print the counts. */
static int mirror(ctl_t *ctx, const char *command, calstore_node_t *cal,
                  const char *cal_path, const char *url,
                  const calcore_attrmap_t *map)
{
    apr_pool_t *pool = ctx->pool;
    calstore_import_report_t *report;
    calstore_import_opts_t opts;
    apr_size_t created = 0, modified = 0, skipped = 0, removed = 0;
    apr_status_t rv;
    sweep_t sw;
    char *data;
    apr_size_t len;
    int i;

    if (!fetch(command, url, &data, &len, pool)) {
        return CTL_EXIT_PROBLEMS;
    }
    calstore_import_opts_default(&opts);
    opts.map = map;
    rv = calstore_import(ctx->st, cal, cal_path, data, len, &opts, &report,
                         pool);
    if (rv != APR_SUCCESS || report->failed != APR_SUCCESS) {
        ctl_err(command, "%s: the import failed (%s); nothing was changed",
                cal_path, ctl_strerror(rv != APR_SUCCESS ? rv
                                       : report->failed, pool));
        return CTL_EXIT_PROBLEMS;
    }
    sw.keep = apr_hash_make(pool);
    sw.gone = apr_array_make(pool, 8, sizeof(const char *));
    sw.pool = pool;
    for (i = 0; i < report->results->nelts; i++) {
        const calstore_import_result_t *res =
            &APR_ARRAY_IDX(report->results, i, calstore_import_result_t);

        /* an object the feed still has but that is invalid now keeps its
         * stored version */
        if (res->uid && !res->generated) {
            apr_hash_set(sw.keep, res->uid, APR_HASH_KEY_STRING, "");
        }
        else if (res->uid && res->outcome != CALSTORE_IMPORT_SKIPPED) {
            apr_hash_set(sw.keep, res->uid, APR_HASH_KEY_STRING, "");
        }
        switch (res->outcome) {
        case CALSTORE_IMPORT_CREATED: created++; break;
        case CALSTORE_IMPORT_MODIFIED: modified++; break;
        default:
            skipped++;
            ctl_err(command, "%s", calstore_import_describe(res, pool));
            break;
        }
    }
    if (created + modified == 0) {
        ctl_err(command, "%s: no usable calendar object in the feed; "
                "nothing was removed", url);
        printf("created 0, modified 0, removed 0, skipped %" APR_SIZE_T_FMT
               "\n", skipped);
        return CTL_EXIT_PROBLEMS;
    }
    rv = calstore_query_all(ctx->st, cal->id, 0, sweep_cb, &sw, pool);
    if (rv != APR_SUCCESS) {
        ctl_err(command, "%s: %s", cal_path, ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    for (i = 0; i < sw.gone->nelts; i++) {
        const char *name = APR_ARRAY_IDX(sw.gone, i, const char *);

        rv = calstore_delete(ctx->st, apr_pstrcat(pool, cal_path, "/", name,
                                                  NULL), NULL, pool);
        if (rv == APR_SUCCESS) {
            removed++;
        }
        else if (rv != CALSTORE_ENOENT) {
            ctl_err(command, "cannot remove %s/%s: %s", cal_path, name,
                    ctl_strerror(rv, pool));
        }
    }
    printf("created %" APR_SIZE_T_FMT ", modified %" APR_SIZE_T_FMT
           ", removed %" APR_SIZE_T_FMT ", skipped %" APR_SIZE_T_FMT "\n",
           created, modified, removed, skipped);
    return skipped ? CTL_EXIT_PROBLEMS : CTL_EXIT_OK;
}

static const ctl_opt_t sub_opts[] = { { "--map", 1 }, { NULL, 0 } };

static int load_map(const ctl_args_t *args, const char *command,
                    const calcore_attrmap_t **map, apr_pool_t *pool)
{
    const char *v = ctl_opt(args, "--map");
    calcore_attrmap_t *m;
    const char *why;

    *map = NULL;
    if (v && calcore_attrmap_load(&m, v, &why, pool) != APR_SUCCESS) {
        ctl_err(command, "--map %s", why);
        return 0;
    }
    if (v) {
        *map = m;
    }
    return 1;
}

int ctl_cmd_subscribe(ctl_t *ctx, const ctl_args_t *args)
{
    const char *url, *user, *calname, *cal_path;
    const calcore_attrmap_t *map;
    apr_array_header_t *patch;
    calstore_prop_t *op;
    calstore_node_t *cal = NULL;
    apr_pool_t *pool = ctx->pool;
    apr_status_t rv;
    int code;

    if (!ctl_check_args(args, sub_opts, 2, 2)
        || !ctl_parse_target("subscribe", APR_ARRAY_IDX(args->pos, 1,
                                                        const char *), 1,
                             &user, &calname, pool)
        || !load_map(args, "subscribe", &map, pool)) {
        return CTL_EXIT_USAGE;
    }
    url = APR_ARRAY_IDX(args->pos, 0, const char *);
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    cal_path = ctl_calendar_path(ctx, user, calname, pool);
    rv = calstore_lookup(ctx->st, cal_path, &cal, NULL, pool);
    if (rv == CALSTORE_ENOENT) {
        /* a new calendar for the feed (events, to-dos, journals) */
        rv = calstore_mkcol_ex(ctx->st, cal_path,
                               CALSTORE_COLL_CALENDAR
                               | ((apr_uint32_t)CALCORE_COMP_DEFAULT
                                  << CALSTORE_CAL_COMP_SHIFT),
                               NULL, &cal, pool);
        if (rv != APR_SUCCESS) {
            ctl_err("subscribe", "cannot create %s: %s (the user's home "
                    "appears at their first login)", cal_path,
                    ctl_strerror(rv, pool));
            return CTL_EXIT_PROBLEMS;
        }
    }
    else if (rv != APR_SUCCESS || !(cal->flags & CALSTORE_COLL_CALENDAR)) {
        ctl_err("subscribe", "%s is no calendar", cal_path);
        return CTL_EXIT_PROBLEMS;
    }
    patch = apr_array_make(pool, 1, sizeof(calstore_prop_t));
    op = apr_array_push(patch);
    op->ns = CALSTORE_INTERNAL_NS;
    op->name = SUB_PROP;
    op->value = url;
    op->len = strlen(url);
    if ((rv = calstore_prop_patch(ctx->st, cal->id, patch, pool))
        != APR_SUCCESS) {
        ctl_err("subscribe", "%s: %s", cal_path, ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    return mirror(ctx, "subscribe", cal, cal_path, url, map);
}

int ctl_cmd_refresh(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user, *calname, *cal_path, *url;
    const calcore_attrmap_t *map;
    calstore_node_t *cal;
    apr_pool_t *pool = ctx->pool;
    apr_size_t len;
    int code;

    if (!ctl_check_args(args, sub_opts, 1, 1)
        || !ctl_parse_target("refresh", APR_ARRAY_IDX(args->pos, 0,
                                                      const char *), 1,
                             &user, &calname, pool)
        || !load_map(args, "refresh", &map, pool)) {
        return CTL_EXIT_USAGE;
    }
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    cal_path = ctl_calendar_path(ctx, user, calname, pool);
    if (!ctl_lookup_calendar(ctx, "refresh", cal_path, &cal, pool)) {
        return CTL_EXIT_PROBLEMS;
    }
    if (calstore_prop_get(ctx->st, cal->id, CALSTORE_INTERNAL_NS, SUB_PROP,
                          &url, &len, pool) != APR_SUCCESS) {
        ctl_err("refresh", "%s is not subscribed to a feed (caldavctl "
                "subscribe URL %s/%s)", cal_path, user, calname);
        return CTL_EXIT_PROBLEMS;
    }
    url = apr_pstrmemdup(pool, url, len);
    return mirror(ctx, "refresh", cal, cal_path, url, map);
}
