/*
 * ctl.h - private header of caldavctl, the administrator's command-line
 * tool on core/ + repos/ (tools/README.md, docs/caldavctl.md).
 *
 * caldavctl opens the same Berkeley DB environment as httpd with the same
 * calls (calstore_open), validates with core/ and indexes with
 * calstore_calinfo_build(), exactly as the web server does, so what it
 * writes is visible over HTTP at once (same change log, same ctag).  No
 * httpd header is included anywhere in tools/.
 */
#ifndef CTL_H
#define CTL_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "calcore.h"
#include "calstore.h"

/* Exit codes. */
#define CTL_EXIT_OK        0   /* success                                   */
#define CTL_EXIT_PROBLEMS  1   /* some objects failed, problems found, not
                                  found, refused                            */
#define CTL_EXIT_USAGE     2   /* bad command line                          */
#define CTL_EXIT_STORE     3   /* the store could not be opened             */

/* The default store: what `make run` serves (relative to the current
 * directory). */
#define CTL_DEFAULT_STORE     "./var/store"
#define CTL_DEFAULT_HOME_PATH "calendars"

/* Progress is reported on stderr every this many objects. */
#define CTL_PROGRESS_EVERY 1000

/* What every command gets. */
typedef struct ctl_t {
    apr_pool_t *pool;
    const char *store_dir;      /* -s STORE                                  */
    const char *home_path;      /* --home-path (CalDAVHomePath)              */
    int verbose;                /* -v: per-object lines on stderr            */
    int quiet;                  /* -q: no progress lines                     */
    calstore_t *st;             /* after ctl_open_store()                    */
} ctl_t;

/* One parsed command line: the options after the command and its
 * positional arguments. */
typedef struct ctl_args_t {
    const char *command;
    apr_table_t *opts;          /* "--name" -> value ("" for flags)          */
    apr_array_header_t *pos;    /* const char *                              */
} ctl_args_t;

/* A command's option: its name ("--uid"), whether it takes a value. */
typedef struct ctl_opt_t {
    const char *name;
    int has_value;
} ctl_opt_t;

/* ---- caldavctl.c: shared helpers ---- */

/* Print "caldavctl: <command>: <message>" on stderr. */
void ctl_err(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Check 'args' against the options 'known' (terminated by a NULL name)
 * and the number of positional arguments; prints the problem and the
 * command's usage and returns 0 when they do not fit. */
int ctl_check_args(const ctl_args_t *args, const ctl_opt_t *known,
                   int min_pos, int max_pos);

/* The value of option 'name', or NULL when it was not given. */
const char *ctl_opt(const ctl_args_t *args, const char *name);

/* Print the usage of 'command' (NULL: of the whole tool) on 'out'. */
void ctl_usage(FILE *out, const char *command);

/* Open the store ctx->store_dir (never creating it) into ctx->st.  Returns
 * CTL_EXIT_OK, or prints why and returns CTL_EXIT_STORE. */
int ctl_open_store(ctl_t *ctx);

/* As root, become the owner of ctx->store_dir (if it exists and is not
 * root's), as ctl_open_store() does.  Returns 0 (and prints why) when that
 * fails. */
int ctl_become_store_owner(ctl_t *ctx);

/* Split "USER[/CALENDAR]" into its parts (*cal NULL when absent); each a
 * valid store path segment.  Returns 0 (and prints why) when malformed. */
int ctl_parse_target(const char *command, const char *arg, int need_cal,
                     const char **user, const char **cal, apr_pool_t *pool);

/* Store paths: the user's calendar home, one calendar. */
const char *ctl_home_path(const ctl_t *ctx, const char *user,
                          apr_pool_t *pool);
const char *ctl_calendar_path(const ctl_t *ctx, const char *user,
                              const char *cal, apr_pool_t *pool);

/* Look up the calendar collection at 'path': *node from 'pool'.  Prints
 * why and returns 0 when it is missing or not a calendar. */
int ctl_lookup_calendar(ctl_t *ctx, const char *command, const char *path,
                        calstore_node_t **node, apr_pool_t *pool);

/* The calendar collections directly inside the user's home, in name
 * order (calstore_node_t * from 'pool').  Returns a store status. */
apr_status_t ctl_user_calendars(ctl_t *ctx, const char *user,
                                apr_array_header_t **cals, apr_pool_t *pool);

/* A readable text for a store or core status. */
const char *ctl_strerror(apr_status_t rv, apr_pool_t *pool);

/* Capture messages logged by core/ and repos/ at CALCORE_LOG_ERR into
 * 'into' (const char *, copied into its pool) instead of printing them;
 * NULL prints them again. */
void ctl_log_capture(apr_array_header_t *into);

/* Read all of 'path' ("-" = stdin) into memory from 'pool'.  *data is
 * NUL-terminated.  Returns APR_SUCCESS or the error (printed). */
apr_status_t ctl_read_input(const char *command, const char *path,
                            char **data, apr_size_t *len, apr_pool_t *pool);

/* ---- the commands ---- */

int ctl_cmd_import(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_export(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_delete(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_list(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_verify(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_backup(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_restore(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_subscribe(ctl_t *ctx, const ctl_args_t *args);
int ctl_cmd_refresh(ctl_t *ctx, const ctl_args_t *args);

#endif /* CTL_H */
