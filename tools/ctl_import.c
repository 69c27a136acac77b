/*
 * ctl_import.c - caldavctl import: an iCalendar file into a calendar.
 *
 * The import itself is the store's (calstore_import(), in
 * repos/calstore_import.c, on core's cutting and grouping in
 * core/calcore_import.c), the same code that answers a POST of an
 * iCalendar file to a calendar collection over HTTP.  Here: the command
 * line, the attribute map (--map), the server default limits, and the
 * messages (progress on stderr, one line per skipped object, the counts
 * on stdout).
 */
#include <string.h>

#include <apr_strings.h>

#include "ctl.h"
#include "calstore_import.h"

static void import_progress(void *baton, int writing, apr_size_t done,
                            apr_size_t total)
{
    ctl_err("import", "%" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
            " objects %s", done, total, writing ? "written" : "validated");
}

static const ctl_opt_t import_opts[] = {
    { "--stop-on-error", 0 }, { "--dry-run", 0 }, { "--batch", 1 },
    { "--map", 1 }, { NULL, 0 }
};

int ctl_cmd_import(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user, *calname, *file, *cal_path, *v;
    calstore_import_report_t *report;
    calstore_import_opts_t opts;
    apr_size_t in_len, not_written = 0;
    calstore_node_t *cal;
    apr_pool_t *pool = ctx->pool;
    apr_status_t rv;
    char *input;
    int i, code;

    if (!ctl_check_args(args, import_opts, 2, 2)
        || !ctl_parse_target("import", APR_ARRAY_IDX(args->pos, 0,
                                                     const char *), 1,
                             &user, &calname, pool)) {
        return CTL_EXIT_USAGE;
    }
    file = APR_ARRAY_IDX(args->pos, 1, const char *);
    calstore_import_opts_default(&opts);
    opts.dry_run = ctl_opt(args, "--dry-run") != NULL;
    opts.stop_on_error = ctl_opt(args, "--stop-on-error") != NULL;
    if ((v = ctl_opt(args, "--batch")) != NULL) {
        char *end;
        apr_int64_t n = apr_strtoi64(v, &end, 10);

        if (*end != '\0' || n < 1 || n > 100000000) {
            ctl_err("import", "--batch needs a number of objects >= 1");
            return CTL_EXIT_USAGE;
        }
        opts.batch = (apr_size_t)n;
    }
    if ((v = ctl_opt(args, "--map")) != NULL) {
        calcore_attrmap_t *map;
        const char *why;

        if (calcore_attrmap_load(&map, v, &why, pool) != APR_SUCCESS) {
            ctl_err("import", "--map %s", why);
            return CTL_EXIT_USAGE;
        }
        opts.map = map;
    }
    if (!ctx->quiet) {
        opts.progress = import_progress;
        opts.progress_every = CTL_PROGRESS_EVERY;
    }

    if (ctl_read_input("import", file, &input, &in_len, pool)
        != APR_SUCCESS) {
        return CTL_EXIT_PROBLEMS;
    }
    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    cal_path = ctl_calendar_path(ctx, user, calname, pool);
    if (!ctl_lookup_calendar(ctx, "import", cal_path, &cal, pool)) {
        return CTL_EXIT_PROBLEMS;
    }

    /* the server default limits (those of the CalDAVMax... directives'
     * defaults), the calendar's components and calendar-timezone */
    rv = calstore_import(ctx->st, cal, cal_path, input, in_len, &opts,
                         &report, pool);
    if (report->floating_problem) {
        ctl_err("import", "calendar-timezone of %s is unusable (%s); "
                "floating times are read as UTC", cal_path,
                report->floating_problem);
    }
    for (i = 0; i < report->warnings->nelts; i++) {
        ctl_err("import", "%s: %s", file,
                APR_ARRAY_IDX(report->warnings, i, const char *));
    }
    if (rv != APR_SUCCESS && report->failed == APR_SUCCESS) {
        ctl_err("import", "cannot read %s: %s", cal_path,
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    if (report->results->nelts == 0) {
        ctl_err("import", "%s: no calendar component found", file);
        printf("created 0, modified 0, skipped 0\n");
        return CTL_EXIT_PROBLEMS;
    }
    for (i = 0; i < report->results->nelts; i++) {
        const calstore_import_result_t *res =
            &APR_ARRAY_IDX(report->results, i, calstore_import_result_t);

        if (res->why == CALSTORE_IMPORT_NOT_WRITTEN) {
            not_written++;
        }
        else if (res->outcome == CALSTORE_IMPORT_SKIPPED || ctx->verbose) {
            ctl_err("import", "%s", calstore_import_describe(res, pool));
        }
    }
    if (report->failed != APR_SUCCESS) {
        ctl_err("import", "writing %" APR_SIZE_T_FMT " object(s) into %s "
                "failed, nothing of them was written: %s%s",
                report->failed_objects, cal_path,
                ctl_strerror(report->failed, pool),
                report->failed == APR_ENOMEM
                || report->failed == CALSTORE_EBUSY
                ? " (a smaller --batch may help)" : "");
    }
    if (not_written) {
        ctl_err("import", "stopped: %" APR_SIZE_T_FMT " more object(s) not "
                "written", not_written);
    }
    if (opts.dry_run) {
        ctl_err("import", "dry run: nothing was written");
    }
    printf("created %" APR_SIZE_T_FMT ", modified %" APR_SIZE_T_FMT
           ", skipped %" APR_SIZE_T_FMT "\n", report->created,
           report->modified, report->skipped);
    return (report->skipped || report->stopped
            || report->failed != APR_SUCCESS) ? CTL_EXIT_PROBLEMS
                                              : CTL_EXIT_OK;
}
