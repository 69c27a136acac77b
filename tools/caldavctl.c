/*
 * caldavctl.c - the administrator's command-line tool for a mod_caldav
 * store: command-line parsing, the commands' shared helpers, main().
 *
 *   caldavctl [-s STORE] import USER/CALENDAR FILE|- [--stop-on-error]
 *                               [--dry-run] [--batch N] [--map FILE]
 *   caldavctl [-s STORE] export USER[/CALENDAR] [--start T] [--end T]
 *                               [--uid UID] [--format ics|jcal|xcal]
 *   caldavctl [-s STORE] delete USER/CALENDAR (--uid UID | --href NAME)
 *   caldavctl [-s STORE] list [USER[/CALENDAR]]
 *   caldavctl [-s STORE] verify [--offline]
 *   caldavctl [-s STORE] backup DIR [--force]
 *   caldavctl [-s STORE] restore DIR [--force]
 *
 * It works on the store while httpd runs: same environment, same
 * transactions (calstore_open), same validation (core/) and indexing
 * (calstore_calinfo_build) as the web server.  The commands live in
 * ctl_import.c, ctl_export.c and ctl_admin.c; the manual is
 * docs/caldavctl.md.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "ctl.h"

/* ---- usage ------------------------------------------------------------- */

typedef struct ctl_command_t {
    const char *name;
    int (*run)(ctl_t *ctx, const ctl_args_t *args);
    const char *synopsis;
    const char *help;
} ctl_command_t;

static const ctl_command_t ctl_commands[] = {
    { "import", ctl_cmd_import,
      "import USER/CALENDAR FILE|- [--stop-on-error] [--dry-run] [--batch N]"
      " [--map FILE]",
      "Import an iCalendar file (or stdin) into an existing calendar.\n"
      "Components are grouped by UID (a recurring master with its\n"
      "RECURRENCE-ID overrides, plus the VTIMEZONEs they use) into one\n"
      "calendar object each, validated exactly as a PUT would be, and\n"
      "stored as a new object (\"<UID>.ics\") or, when the calendar holds\n"
      "that UID already, in place of it.  Components without a UID get one.\n"
      "Invalid objects are reported on stderr and skipped.\n"
      "\n"
      "  --stop-on-error  stop at the first invalid object: nothing of its\n"
      "                   batch (without --batch: nothing at all) is written\n"
      "  --dry-run        validate and count, write nothing\n"
      "  --batch N        commit every N objects (default: the whole import\n"
      "                   is one transaction)\n"
      "  --map FILE       an attribute map: aliases for vendor X- properties\n"
      "                   and default values added to every component\n"
      "                   (docs/import.md; conf/import-map.example)\n"
      "\n"
      "Prints \"created N, modified M, skipped K\" on stdout; exit 1 when\n"
      "anything was skipped.\n" },
    { "export", ctl_cmd_export,
      "export USER[/CALENDAR] [--start T] [--end T] [--uid UID] "
      "[--format ics|jcal|xcal]",
      "Write the objects of one calendar, or of all calendars of a user, as\n"
      "one VCALENDAR on stdout (every VTIMEZONE once, the objects' own\n"
      "bytes otherwise).\n"
      "\n"
      "  --start T, --end T  only objects with an instance overlapping\n"
      "                      [T1, T2) (UTC, 20240101T000000Z), by the\n"
      "                      calendar-query rules of RFC 4791 9.9\n"
      "  --uid UID           only the object with this UID\n"
      "  --format F          ics (the default), jcal (RFC 7265 JSON) or\n"
      "                      xcal (RFC 6321 XML)\n" },
    { "delete", ctl_cmd_delete,
      "delete USER/CALENDAR (--uid UID | --href NAME)",
      "Delete one calendar object, named by its UID or by its member name\n"
      "(the last segment of its href).\n" },
    { "list", ctl_cmd_list,
      "list [USER[/CALENDAR]]",
      "Without an argument: the users (calendar homes) with their number of\n"
      "calendars and objects.  With USER: that user's calendars (objects,\n"
      "ctag, components, display name).  With USER/CALENDAR: its objects\n"
      "(name, component, UID, ETag, size).\n" },
    { "verify", ctl_cmd_verify,
      "verify [--offline]",
      "Check the store's consistency: the tree, bodies and properties, the\n"
      "calendar indexes against the objects, the change log against the\n"
      "members.  Works while httpd runs (a problem seen on a busy store is\n"
      "re-checked before it is reported).\n"
      "\n"
      "  --offline  also run Berkeley DB's verification (db_verify) on\n"
      "             every database file; only when no other process has\n"
      "             the store open (stop httpd first)\n"
      "\n"
      "Exit 1 when problems were found.\n" },
    { "backup", ctl_cmd_backup,
      "backup DIR [--force]",
      "Hot backup of the store into DIR while httpd runs (databases, then\n"
      "logs: Berkeley DB's DB_ENV->backup).  DIR is created if missing and\n"
      "must be empty unless --force (which replaces the store files in it).\n"
      "Restore it with `caldavctl -s NEWSTORE restore DIR`.\n" },
    { "restore", ctl_cmd_restore,
      "restore DIR [--force]",
      "Make the store (-s) from the backup in DIR: copy its files and run\n"
      "catastrophic recovery on them, then check the result.  The store\n"
      "directory must be empty or missing unless --force, which replaces\n"
      "the store files in it; never while a process has it open.\n" },
    { "subscribe", ctl_cmd_subscribe,
      "subscribe URL USER/CALENDAR [--map FILE]",
      "Mirror a remote iCalendar feed (http:// or https://; fetched by this\n"
      "tool with curl, never by the web server) into a calendar, creating\n"
      "the calendar if needed, and remember the URL for `refresh`.  The\n"
      "feed is imported like `import` (create-or-modify by UID, one\n"
      "transaction); members whose UID the feed no longer has are removed.\n"
      "A feed that cannot be fetched or has no usable object changes\n"
      "nothing.  Prints \"created N, modified M, removed R, skipped K\".\n" },
    { "refresh", ctl_cmd_refresh,
      "refresh USER/CALENDAR [--map FILE]",
      "Fetch the feed a calendar was subscribed to again and mirror it (as\n"
      "`subscribe`).  Run it from cron for a regular refresh.\n" },
    { NULL, NULL, NULL, NULL }
};

static const ctl_command_t *ctl_find_command(const char *name)
{
    const ctl_command_t *c;

    for (c = ctl_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

void ctl_usage(FILE *out, const char *command)
{
    const ctl_command_t *c = command ? ctl_find_command(command) : NULL;

    if (c) {
        fprintf(out, "usage: caldavctl [-s STORE] %s\n\n%s", c->synopsis,
                c->help);
        fprintf(out, "\nCommon options: -s STORE (default %s), "
                "--home-path SEG (default %s), -v, -q.\n",
                CTL_DEFAULT_STORE, CTL_DEFAULT_HOME_PATH);
        return;
    }
    fprintf(out, "usage: caldavctl [-s STORE] [--home-path SEG] [-v] [-q] "
            "COMMAND [ARGS]\n\n");
    for (c = ctl_commands; c->name; c++) {
        fprintf(out, "  caldavctl [-s STORE] %s\n", c->synopsis);
    }
    fprintf(out,
            "\n"
            "  -s, --store STORE  the store directory (default %s, what\n"
            "                     `make run` serves)\n"
            "  --home-path SEG    where calendar homes live (CalDAVHomePath,\n"
            "                     default \"%s\"): calendars are\n"
            "                     SEG/USER/CALENDAR in the store\n"
            "  -v, --verbose      one line per object on stderr\n"
            "  -q, --quiet        no progress lines\n"
            "  -h, --help         this text; `caldavctl COMMAND --help` for "
            "one command\n"
            "\n"
            "Works while httpd runs.  Run it as the user httpd serves as (as\n"
            "root it becomes the owner of the store directory).  Exit codes:\n"
            "0 success, 1 objects failed or problems found, 2 usage error,\n"
            "3 the store could not be opened.  Manual: docs/caldavctl.md.\n",
            CTL_DEFAULT_STORE, CTL_DEFAULT_HOME_PATH);
}

/* ---- messages and logging --------------------------------------------- */

void ctl_err(const char *command, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "caldavctl: ");
    if (command) {
        fprintf(stderr, "%s: ", command);
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static apr_array_header_t *ctl_captured;

void ctl_log_capture(apr_array_header_t *into)
{
    ctl_captured = into;
}

static void ctl_log(void *baton, calcore_log_level_e level, apr_status_t rv,
                    const char *msg)
{
    if (ctl_captured && level <= CALCORE_LOG_ERR) {
        APR_ARRAY_PUSH(ctl_captured, const char *) =
            apr_pstrdup(ctl_captured->pool, msg);
        return;
    }
    fprintf(stderr, "caldavctl: %s\n", msg);
}

const char *ctl_strerror(apr_status_t rv, apr_pool_t *pool)
{
    char buf[256];

    if (rv > CALCORE_START && rv < CALCORE_START + 100) {
        return apr_pstrdup(pool, calcore_strerror(rv, buf, sizeof(buf)));
    }
    return apr_pstrdup(pool, calstore_strerror(rv, buf, sizeof(buf)));
}

/* ---- command-line parsing --------------------------------------------- */

const char *ctl_opt(const ctl_args_t *args, const char *name)
{
    return apr_table_get(args->opts, name);
}

int ctl_check_args(const ctl_args_t *args, const ctl_opt_t *known,
                   int min_pos, int max_pos)
{
    const apr_array_header_t *arr = apr_table_elts(args->opts);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, j;

    for (i = 0; i < arr->nelts; i++) {
        for (j = 0; known[j].name; j++) {
            if (strcmp(known[j].name, e[i].key) == 0) {
                break;
            }
        }
        if (known[j].name == NULL) {
            ctl_err(args->command, "unknown option %s", e[i].key);
            ctl_usage(stderr, args->command);
            return 0;
        }
        if (known[j].has_value && *e[i].val == '\0') {
            ctl_err(args->command, "option %s needs a value", e[i].key);
            ctl_usage(stderr, args->command);
            return 0;
        }
        if (!known[j].has_value && *e[i].val != '\0') {
            ctl_err(args->command, "option %s takes no value", e[i].key);
            ctl_usage(stderr, args->command);
            return 0;
        }
    }
    if (args->pos->nelts < min_pos || args->pos->nelts > max_pos) {
        ctl_err(args->command, "%s arguments",
                args->pos->nelts < min_pos ? "missing" : "too many");
        ctl_usage(stderr, args->command);
        return 0;
    }
    return 1;
}

/* Options of the commands that take a value (so that "--uid X" can be
 * told from "--flag X"). */
static const char *const ctl_valued[] = {
    "--start", "--end", "--uid", "--href", "--batch", "--format", "--map",
    NULL
};

static int ctl_takes_value(const char *name)
{
    int i;

    for (i = 0; ctl_valued[i]; i++) {
        if (strcmp(ctl_valued[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Parse argv: the common options anywhere, the command (the first
 * argument that is no option), its options ("--name", "--name=value",
 * "--name value") and positional arguments ("-" is one; "--" ends the
 * options).  Returns -1 to go on, or an exit code. */
static int ctl_parse(ctl_t *ctx, ctl_args_t *args, int argc,
                     const char *const *argv, int *help)
{
    int i, only_pos = 0;

    args->command = NULL;
    args->opts = apr_table_make(ctx->pool, 8);
    args->pos = apr_array_make(ctx->pool, 4, sizeof(const char *));
    *help = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (args->command == NULL) {
                args->command = a;
            }
            else {
                APR_ARRAY_PUSH(args->pos, const char *) = a;
            }
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
        }
        else if (strcmp(a, "-s") == 0 || strcmp(a, "--store") == 0
                 || strcmp(a, "--home-path") == 0) {
            if (i + 1 >= argc) {
                ctl_err(NULL, "option %s needs a value", a);
                return CTL_EXIT_USAGE;
            }
            if (strcmp(a, "--home-path") == 0) {
                ctx->home_path = argv[++i];
            }
            else {
                ctx->store_dir = argv[++i];
            }
        }
        else if (strncmp(a, "--store=", 8) == 0) {
            ctx->store_dir = a + 8;
        }
        else if (strncmp(a, "--home-path=", 12) == 0) {
            ctx->home_path = a + 12;
        }
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            ctx->verbose = 1;
        }
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            ctx->quiet = 1;
        }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = 1;
        }
        else if (a[1] == '-') {
            const char *eq = strchr(a, '=');

            if (eq) {
                apr_table_set(args->opts, apr_pstrndup(ctx->pool, a, eq - a),
                              eq + 1);
            }
            else if (ctl_takes_value(a) && i + 1 < argc) {
                apr_table_set(args->opts, a, argv[++i]);
            }
            else {
                apr_table_set(args->opts, a, "");
            }
        }
        else {
            ctl_err(NULL, "unknown option %s", a);
            ctl_usage(stderr, NULL);
            return CTL_EXIT_USAGE;
        }
    }
    if (*ctx->store_dir == '\0' || *ctx->home_path == '\0') {
        ctl_err(NULL, "empty store directory or home path");
        return CTL_EXIT_USAGE;
    }
    return -1;
}

/* ---- paths -------------------------------------------------------------- */

static int ctl_segment_ok(const char *s, apr_size_t n)
{
    return n > 0 && n <= 255 && memchr(s, '/', n) == NULL
           && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.'
                                            && s[1] == '.');
}

int ctl_parse_target(const char *command, const char *arg, int need_cal,
                     const char **user, const char **cal, apr_pool_t *pool)
{
    const char *slash = strchr(arg, '/');
    const char *u = arg, *c = NULL;
    apr_size_t ulen = slash ? (apr_size_t)(slash - arg) : strlen(arg);

    if (slash) {
        c = slash + 1;
        if (*c == '\0') {
            c = NULL;               /* "alice/" is the user */
        }
        else if (c[strlen(c) - 1] == '/') {
            c = apr_pstrndup(pool, c, strlen(c) - 1);
        }
    }
    if (!ctl_segment_ok(u, ulen) || (c && !ctl_segment_ok(c, strlen(c)))) {
        ctl_err(command, "%s: not USER%s", arg,
                need_cal ? "/CALENDAR" : "[/CALENDAR]");
        return 0;
    }
    if (need_cal && c == NULL) {
        ctl_err(command, "%s: name a calendar: USER/CALENDAR", arg);
        return 0;
    }
    *user = apr_pstrndup(pool, u, ulen);
    *cal = c;
    return 1;
}

const char *ctl_home_path(const ctl_t *ctx, const char *user,
                          apr_pool_t *pool)
{
    return apr_pstrcat(pool, ctx->home_path, "/", user, NULL);
}

const char *ctl_calendar_path(const ctl_t *ctx, const char *user,
                              const char *cal, apr_pool_t *pool)
{
    return apr_pstrcat(pool, ctx->home_path, "/", user, "/", cal, NULL);
}

int ctl_lookup_calendar(ctl_t *ctx, const char *command, const char *path,
                        calstore_node_t **node, apr_pool_t *pool)
{
    apr_status_t rv = calstore_lookup(ctx->st, path, node, NULL, pool);

    if (rv == CALSTORE_ENOENT || rv == CALSTORE_EINVAL) {
        ctl_err(command, "no calendar %s in %s (a user's calendars appear "
                "at their first login, or with MKCALENDAR)", path,
                ctx->store_dir);
        return 0;
    }
    if (rv != APR_SUCCESS) {
        ctl_err(command, "%s: %s", path, ctl_strerror(rv, pool));
        return 0;
    }
    if ((*node)->kind != CALSTORE_KIND_COLLECTION
        || !((*node)->flags & CALSTORE_COLL_CALENDAR)) {
        ctl_err(command, "%s is not a calendar collection", path);
        return 0;
    }
    return 1;
}

typedef struct ctl_cals_baton_t {
    apr_array_header_t *cals;
    apr_pool_t *pool;
} ctl_cals_baton_t;

static apr_status_t ctl_cals_cb(void *baton, const calstore_node_t *node,
                                apr_pool_t *scratch)
{
    ctl_cals_baton_t *b = baton;
    calstore_node_t *copy;

    if (node->kind != CALSTORE_KIND_COLLECTION
        || !(node->flags & CALSTORE_COLL_CALENDAR)) {
        return APR_SUCCESS;
    }
    copy = apr_pmemdup(b->pool, node, sizeof(*node));
    copy->name = apr_pstrdup(b->pool, node->name);
    copy->content_type = node->content_type
                         ? apr_pstrdup(b->pool, node->content_type) : NULL;
    APR_ARRAY_PUSH(b->cals, calstore_node_t *) = copy;
    return APR_SUCCESS;
}

apr_status_t ctl_user_calendars(ctl_t *ctx, const char *user,
                                apr_array_header_t **cals, apr_pool_t *pool)
{
    calstore_node_t *home;
    ctl_cals_baton_t b;
    apr_status_t rv;

    *cals = apr_array_make(pool, 4, sizeof(calstore_node_t *));
    rv = calstore_lookup(ctx->st, ctl_home_path(ctx, user, pool), &home,
                         NULL, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    b.cals = *cals;
    b.pool = pool;
    return calstore_list(ctx->st, home->id, ctl_cals_cb, &b, pool);
}

/* ---- the store ---------------------------------------------------------- */

/* As root, become the owner of 'dir' (the user httpd serves as): files the
 * store creates (log files, region files) must stay usable by httpd.
 * Nothing happens when 'dir' is missing or owned by root.  Returns 0 (and
 * prints why) on failure. */
static int ctl_become_owner(const char *command, const char *dir)
{
    struct stat sb;

    if (geteuid() != 0 || stat(dir, &sb) != 0 || sb.st_uid == 0) {
        return 1;
    }
    if (setgroups(1, &sb.st_gid) != 0 || setgid(sb.st_gid) != 0
        || setuid(sb.st_uid) != 0) {
        ctl_err(command, "cannot become uid %ld / gid %ld, the owner of %s: "
                "%s", (long)sb.st_uid, (long)sb.st_gid, dir,
                strerror(errno));
        return 0;
    }
    return 1;
}

int ctl_open_store(ctl_t *ctx)
{
    calstore_options_t opts;
    apr_status_t rv;

    if (!ctl_become_owner(NULL, ctx->store_dir)) {
        return CTL_EXIT_STORE;
    }
    calstore_options_default(&opts);
    opts.create = 0;
    rv = calstore_open(&ctx->st, ctx->store_dir, &opts, ctx->pool);
    if (rv != APR_SUCCESS) {
        ctl_err(NULL, "cannot open the store %s: %s", ctx->store_dir,
                ctl_strerror(rv, ctx->pool));
        return CTL_EXIT_STORE;
    }
    return CTL_EXIT_OK;
}

int ctl_become_store_owner(ctl_t *ctx)
{
    return ctl_become_owner("restore", ctx->store_dir);
}

/* ---- input -------------------------------------------------------------- */

apr_status_t ctl_read_input(const char *command, const char *path,
                            char **data, apr_size_t *len, apr_pool_t *pool)
{
    apr_file_t *f;
    apr_status_t rv;
    apr_size_t cap = 65536, used = 0;
    char *buf;

    if (strcmp(path, "-") == 0) {
        rv = apr_file_open_stdin(&f, pool);
    }
    else {
        rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                           APR_FPROT_OS_DEFAULT, pool);
    }
    if (rv != APR_SUCCESS) {
        ctl_err(command, "cannot open %s: %s", path, ctl_strerror(rv, pool));
        return rv;
    }
    buf = malloc(cap);
    for (;;) {
        apr_size_t n;

        if (buf == NULL) {
            rv = APR_ENOMEM;
            break;
        }
        if (used == cap) {
            char *nb = realloc(buf, cap * 2);

            if (nb == NULL) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        n = cap - used;
        rv = apr_file_read(f, buf + used, &n);
        used += n;
        if (APR_STATUS_IS_EOF(rv)) {
            rv = APR_SUCCESS;
            break;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
    }
    if (strcmp(path, "-") != 0) {
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        free(buf);
        ctl_err(command, "cannot read %s: %s", path, ctl_strerror(rv, pool));
        return rv;
    }
    *data = apr_palloc(pool, used + 1);
    memcpy(*data, buf, used);
    (*data)[used] = '\0';
    *len = used;
    free(buf);
    return APR_SUCCESS;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, const char *const *argv)
{
    const ctl_command_t *cmd;
    ctl_args_t args;
    ctl_t ctx;
    apr_status_t rv;
    int code, help;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fprintf(stderr, "caldavctl: cannot initialise APR\n");
        return CTL_EXIT_STORE;
    }
    /* No apr_terminate(): core keeps process-lifetime tables (the time
     * zone map, shared VTIMEZONEs) in APR pools until the process ends;
     * tearing APR down first would only turn them into leaks for LSan. */
    memset(&ctx, 0, sizeof(ctx));
    apr_pool_create(&ctx.pool, NULL);
    ctx.store_dir = CTL_DEFAULT_STORE;
    ctx.home_path = CTL_DEFAULT_HOME_PATH;

    if ((code = ctl_parse(&ctx, &args, argc, argv, &help)) >= 0) {
        return code;
    }
    if (args.command == NULL) {
        ctl_usage(help ? stdout : stderr, NULL);
        return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    if ((cmd = ctl_find_command(args.command)) == NULL) {
        if (strcmp(args.command, "help") == 0) {
            ctl_usage(stdout, args.pos->nelts
                              ? APR_ARRAY_IDX(args.pos, 0, const char *)
                              : NULL);
            return CTL_EXIT_OK;
        }
        ctl_err(NULL, "unknown command %s", args.command);
        ctl_usage(stderr, NULL);
        return CTL_EXIT_USAGE;
    }
    if (help) {
        ctl_usage(stdout, cmd->name);
        return CTL_EXIT_OK;
    }

    calcore_log_set(ctl_log, NULL,
                    ctx.verbose ? CALCORE_LOG_INFO : CALCORE_LOG_WARN);
    if ((rv = calcore_init(ctx.pool)) != APR_SUCCESS) {
        ctl_err(NULL, "cannot initialise the iCalendar core: %s",
                ctl_strerror(rv, ctx.pool));
        return CTL_EXIT_PROBLEMS;
    }
    code = cmd->run(&ctx, &args);
    fflush(stdout);
    if (ferror(stdout)) {
        ctl_err(cmd->name, "cannot write the output");
        code = code ? code : CTL_EXIT_PROBLEMS;
    }
    if (ctx.st) {
        calstore_close(ctx.st);
    }
    apr_pool_destroy(ctx.pool);
    return code;
}
