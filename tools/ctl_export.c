/*
 * ctl_export.c - caldavctl export: calendar objects as one VCALENDAR.
 *
 * Each object's components are cut out of its stored text at the octet
 * level (calcore_feed_split, the code the web server's feeds use), so the
 * export carries the bytes clients stored; every distinct VTIMEZONE (by
 * TZID) is written once, before the components.  A time range selects
 * candidates through the store's time-range index (calstore_query_range)
 * and then applies the exact RFC 4791 9.9 test of core/ (a calendar-query
 * comp-filter with that time-range, in the calendar's time zone), as a
 * calendar-query REPORT does.
 *
 * --format jcal / xcal writes the same calendar as jCal (RFC 7265) or xCal
 * (RFC 6321) with core's streaming converters (calcore_jcal.h): each
 * component is converted as it is cut out, so the export is never built
 * in memory in one piece; an object whose components do not all convert
 * is left out (and reported).
 */
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "ctl.h"

/* --format */
#define EXPORT_ICS  0
#define EXPORT_JCAL 1
#define EXPORT_XCAL 2

/* The VCALENDAR properties of an export. */
#define EXPORT_PROPS "VERSION:2.0\r\n" \
                     "PRODID:-//mod_caldav//caldavctl//EN\r\n" \
                     "CALSCALE:GREGORIAN\r\n"

typedef struct export_t {
    ctl_t *ctx;
    int format;                 /* EXPORT_*                                 */
    FILE *body;                 /* the components, until the end (jCal:
                                   each preceded by a separator)           */
    apr_hash_t *tz_seen;        /* TZID -> ""                               */
    apr_array_header_t *tzs;    /* const char *: VTIMEZONE texts, in order  */
    apr_pool_t *pool;           /* lives as long as the export              */
    const char *cal_path;       /* the calendar being exported              */
    const icaltimezone *floating;
    apr_array_header_t *parts;  /* the current object's components, as
                                   they will be written (from its scratch
                                   pool): export_text_t                    */
    const char *failed;         /* why a component of the current object
                                   did not convert                          */
    int ranged;                 /* --start/--end given                      */
    calcore_timerange_t range;
    unsigned long objects;      /* objects written                          */
    unsigned long problems;     /* objects that could not be read           */
} export_t;

/* ---- writing one object ------------------------------------------------- */

/* A piece of output. */
typedef struct export_text_t {
    const char *text;
    apr_size_t len;
} export_text_t;

/* One component in the export's format (jCal: an array, xCal: an
 * element), from 'pool'.  APR_SUCCESS, or CALCORE_EINVALID with *why. */
static apr_status_t export_convert(int format, const char *text,
                                   apr_size_t len, const char **out,
                                   apr_size_t *outlen, const char **why,
                                   apr_pool_t *pool)
{
    switch (format) {
    case EXPORT_JCAL:
        return calcore_jcal_component(text, len, out, outlen, why, pool);
    case EXPORT_XCAL:
        return calcore_xcal_component(text, len, out, outlen, why, pool);
    default:
        *out = text;
        *outlen = len;
        return APR_SUCCESS;
    }
}

static apr_status_t export_part(void *baton, const char *name,
                                const char *text, apr_size_t len,
                                const char *tzid, apr_pool_t *scratch)
{
    export_t *ex = baton;
    export_text_t *t;
    const char *why = NULL;

    if (strcmp(name, "VTIMEZONE") == 0) {
        const char *key = tzid ? tzid : apr_pstrmemdup(scratch, text, len);

        if (!apr_hash_get(ex->tz_seen, key, APR_HASH_KEY_STRING)) {
            apr_hash_set(ex->tz_seen, apr_pstrdup(ex->pool, key),
                         APR_HASH_KEY_STRING, "");
            APR_ARRAY_PUSH(ex->tzs, const char *) =
                apr_pstrmemdup(ex->pool, text, len);
        }
        return APR_SUCCESS;
    }
    t = apr_array_push(ex->parts);
    if (export_convert(ex->format, text, len, &t->text, &t->len, &why,
                       scratch) != APR_SUCCESS) {
        ex->parts->nelts--;
        if (ex->failed == NULL) {
            ex->failed = apr_psprintf(scratch, "%s: %s", name,
                                      why ? why : "does not convert");
        }
    }
    return APR_SUCCESS;
}

/* Does the object in 'data' have an instance in the export's range?  The
 * same test as a calendar-query with a time-range on its component. */
static int export_in_range(export_t *ex, const calstore_node_t *node,
                           const char *data, apr_size_t len,
                           apr_pool_t *scratch)
{
    calcore_compfilter_t root, comp, *compp;
    apr_array_header_t *comps;
    calcore_object_t *obj;
    const char *reason = NULL;

    if (calcore_object_load(&obj, &reason, data, len, scratch)
        != APR_SUCCESS) {
        ctl_err("export", "%s/%s: cannot be read as a calendar object: %s",
                ex->cal_path, node->name, reason ? reason : "");
        ex->problems++;
        return 0;
    }
    memset(&root, 0, sizeof(root));
    memset(&comp, 0, sizeof(comp));
    root.name = "VCALENDAR";
    comp.name = calcore_comp_name(calcore_object_kind(obj));
    comp.time_range = &ex->range;
    compp = &comp;
    comps = apr_array_make(scratch, 1, sizeof(calcore_compfilter_t *));
    APR_ARRAY_PUSH(comps, calcore_compfilter_t *) = compp;
    root.comp_filters = comps;
    return comp.name != NULL
           && calcore_filter_match(&root, obj, ex->floating, scratch);
}

static apr_status_t export_object(export_t *ex, const calstore_node_t *node,
                                  apr_pool_t *scratch)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;
    int i;

    rv = calstore_read(ex->ctx->st, node->id, &data, &len, scratch);
    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;     /* deleted meanwhile */
    }
    if (rv != APR_SUCCESS) {
        ctl_err("export", "%s/%s: %s", ex->cal_path, node->name,
                ctl_strerror(rv, scratch));
        ex->problems++;
        return APR_SUCCESS;
    }
    if (ex->ranged && !export_in_range(ex, node, data, len, scratch)) {
        return APR_SUCCESS;
    }
    /* every component converted first: an object is written whole or not
     * at all */
    ex->parts = apr_array_make(scratch, 4, sizeof(export_text_t));
    ex->failed = NULL;
    if ((rv = calcore_feed_split(data, len, export_part, ex, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    if (ex->failed) {
        ctl_err("export", "%s/%s: left out: %s", ex->cal_path, node->name,
                ex->failed);
        ex->problems++;
        return APR_SUCCESS;
    }
    for (i = 0; i < ex->parts->nelts; i++) {
        const export_text_t *t = &APR_ARRAY_IDX(ex->parts, i, export_text_t);

        if ((ex->format == EXPORT_JCAL
             && fputs(CALCORE_JCAL_SEPARATOR, ex->body) == EOF)
            || fwrite(t->text, 1, t->len, ex->body) != t->len) {
            ctl_err("export", "cannot write the output");
            return APR_EGENERAL;
        }
    }
    ex->objects++;
    if (ex->ctx->verbose) {
        ctl_err("export", "%s/%s", ex->cal_path, node->name);
    }
    return APR_SUCCESS;
}

static apr_status_t export_cb(void *baton, const calstore_node_t *node,
                              const void *record, apr_size_t len,
                              apr_pool_t *scratch)
{
    return export_object(baton, node, scratch);
}

/* ---- the command -------------------------------------------------------- */

static const ctl_opt_t export_opts[] = {
    { "--start", 1 }, { "--end", 1 }, { "--uid", 1 }, { "--format", 1 },
    { NULL, 0 }
};

static int export_time(const char *opt, const char *v, calcore_time_t *t)
{
    if (calcore_time_parse(v, t) != APR_SUCCESS) {
        ctl_err("export", "%s %s: not a UTC time like 20240101T000000Z", opt,
                v);
        return 0;
    }
    return 1;
}

/* One calendar: the object with the UID, those in the range, or all. */
static apr_status_t export_calendar(export_t *ex, const calstore_node_t *cal,
                                    const char *uid, int *found,
                                    apr_pool_t *pool)
{
    calstore_t *st = ex->ctx->st;
    const char *problem, *name;
    calstore_node_t *node;
    icaltimezone *floating;
    apr_status_t rv;

    rv = calstore_calendar_floating(st, cal, &floating, &problem, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (problem) {
        ctl_err("export", "calendar-timezone of %s is unusable (%s); "
                "floating times are read as UTC", ex->cal_path, problem);
    }
    ex->floating = floating;
    if (uid) {
        rv = calstore_uid_lookup(st, cal->id, uid, &name, pool);
        if (rv == CALSTORE_ENOENT) {
            return APR_SUCCESS;
        }
        if (rv == APR_SUCCESS) {
            rv = calstore_lookup(st, apr_pstrcat(pool, ex->cal_path, "/",
                                                 name, NULL),
                                 &node, NULL, pool);
        }
        if (rv == CALSTORE_ENOENT) {
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        *found = 1;
        return export_object(ex, node, pool);
    }
    if (ex->ranged) {
        return calstore_query_range(st, cal->id, ex->range.start,
                                    ex->range.end, 0, export_cb, ex, pool);
    }
    return calstore_query_all(st, cal->id, 0, export_cb, ex, pool);
}

/* The whole export on stdout: the VCALENDAR's opening and properties,
 * every VTIMEZONE, the components gathered in ex->body, the closing. */
static apr_status_t export_write(export_t *ex)
{
    const char *open = NULL, *why = NULL, *text;
    apr_size_t n, tlen;
    apr_pool_t *pool = ex->pool;
    char buf[65536];
    int i, first = 1;

    switch (ex->format) {
    case EXPORT_JCAL:
        calcore_jcal_calendar_open(EXPORT_PROPS, strlen(EXPORT_PROPS), &open,
                                   &n, &why, pool);
        break;
    case EXPORT_XCAL:
        calcore_xcal_calendar_open(EXPORT_PROPS, strlen(EXPORT_PROPS), &open,
                                   &n, &why, pool);
        break;
    default:
        open = "BEGIN:VCALENDAR\r\n" EXPORT_PROPS;
        break;
    }
    if (open == NULL) {
        ctl_err("export", "cannot write the calendar: %s", why ? why : "");
        return APR_EGENERAL;
    }
    fputs(open, stdout);
    for (i = 0; i < ex->tzs->nelts; i++) {
        const char *tz = APR_ARRAY_IDX(ex->tzs, i, const char *);

        if (export_convert(ex->format, tz, strlen(tz), &text, &tlen, &why,
                           pool) != APR_SUCCESS) {
            ctl_err("export", "a VTIMEZONE left out: %s", why ? why : "");
            ex->problems++;
            continue;
        }
        if (ex->format == EXPORT_JCAL && !first) {
            fputs(CALCORE_JCAL_SEPARATOR, stdout);
        }
        fwrite(text, 1, tlen, stdout);
        first = 0;
    }
    rewind(ex->body);
    if (ex->format == EXPORT_JCAL && first) {
        /* no VTIMEZONE before it: the first component's separator goes */
        if (fgetc(ex->body) == EOF) {
            rewind(ex->body);
        }
    }
    while ((n = fread(buf, 1, sizeof(buf), ex->body)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    switch (ex->format) {
    case EXPORT_JCAL:
        fputs(CALCORE_JCAL_CALENDAR_CLOSE "\n", stdout);
        break;
    case EXPORT_XCAL:
        fputs(CALCORE_XCAL_CALENDAR_CLOSE "\n", stdout);
        break;
    default:
        fputs("END:VCALENDAR\r\n", stdout);
        break;
    }
    return APR_SUCCESS;
}

int ctl_cmd_export(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user, *calname, *uid, *v;
    apr_array_header_t *cals;
    apr_pool_t *pool = ctx->pool, *iter;
    calstore_node_t *cal;
    export_t ex;
    apr_status_t rv = APR_SUCCESS;
    int i, code, found = 0;

    if (!ctl_check_args(args, export_opts, 1, 1)
        || !ctl_parse_target("export", APR_ARRAY_IDX(args->pos, 0,
                                                     const char *), 0,
                             &user, &calname, pool)) {
        return CTL_EXIT_USAGE;
    }
    memset(&ex, 0, sizeof(ex));
    ex.ctx = ctx;
    ex.pool = pool;
    ex.range.start = CALCORE_TIME_MIN;
    ex.range.end = CALCORE_TIME_MAX;
    if ((v = ctl_opt(args, "--format")) != NULL) {
        if (strcmp(v, "jcal") == 0) {
            ex.format = EXPORT_JCAL;
        }
        else if (strcmp(v, "xcal") == 0) {
            ex.format = EXPORT_XCAL;
        }
        else if (strcmp(v, "ics") != 0) {
            ctl_err("export", "--format %s: ics, jcal (RFC 7265) or xcal "
                    "(RFC 6321)", v);
            return CTL_EXIT_USAGE;
        }
    }
    if ((v = ctl_opt(args, "--start"))) {
        if (!export_time("--start", v, &ex.range.start)) {
            return CTL_EXIT_USAGE;
        }
        ex.ranged = 1;
    }
    if ((v = ctl_opt(args, "--end"))) {
        if (!export_time("--end", v, &ex.range.end)) {
            return CTL_EXIT_USAGE;
        }
        ex.ranged = 1;
    }
    if (ex.range.start >= ex.range.end) {
        ctl_err("export", "--start must be before --end");
        return CTL_EXIT_USAGE;
    }
    uid = ctl_opt(args, "--uid");
    if (uid && ex.ranged) {
        ctl_err("export", "--uid and --start/--end exclude each other");
        return CTL_EXIT_USAGE;
    }

    if ((code = ctl_open_store(ctx)) != CTL_EXIT_OK) {
        return code;
    }
    if (calname) {
        const char *path = ctl_calendar_path(ctx, user, calname, pool);

        if (!ctl_lookup_calendar(ctx, "export", path, &cal, pool)) {
            return CTL_EXIT_PROBLEMS;
        }
        cals = apr_array_make(pool, 1, sizeof(calstore_node_t *));
        APR_ARRAY_PUSH(cals, calstore_node_t *) = cal;
    }
    else {
        rv = ctl_user_calendars(ctx, user, &cals, pool);
        if (rv == CALSTORE_ENOENT) {
            ctl_err("export", "no calendar home %s in %s",
                    ctl_home_path(ctx, user, pool), ctx->store_dir);
            return CTL_EXIT_PROBLEMS;
        }
        if (rv != APR_SUCCESS) {
            ctl_err("export", "%s: %s", ctl_home_path(ctx, user, pool),
                    ctl_strerror(rv, pool));
            return CTL_EXIT_PROBLEMS;
        }
    }

    if ((ex.body = tmpfile()) == NULL) {
        ctl_err("export", "cannot create a temporary file");
        return CTL_EXIT_PROBLEMS;
    }
    ex.tz_seen = apr_hash_make(pool);
    ex.tzs = apr_array_make(pool, 4, sizeof(const char *));
    apr_pool_create(&iter, pool);
    for (i = 0; i < cals->nelts && rv == APR_SUCCESS; i++) {
        cal = APR_ARRAY_IDX(cals, i, calstore_node_t *);
        apr_pool_clear(iter);
        ex.cal_path = ctl_calendar_path(ctx, user, cal->name, pool);
        rv = export_calendar(&ex, cal, uid, &found, iter);
        if (rv != APR_SUCCESS) {
            ctl_err("export", "%s: %s", ex.cal_path, ctl_strerror(rv, pool));
        }
        if (uid && found) {
            break;
        }
    }
    apr_pool_destroy(iter);
    if (rv != APR_SUCCESS) {
        fclose(ex.body);
        return CTL_EXIT_PROBLEMS;
    }
    if (uid && !found) {
        ctl_err("export", "no object with UID %s", uid);
        fclose(ex.body);
        return CTL_EXIT_PROBLEMS;
    }

    if (export_write(&ex) != APR_SUCCESS) {
        fclose(ex.body);
        return CTL_EXIT_PROBLEMS;
    }
    fclose(ex.body);
    if (!ctx->quiet) {
        ctl_err("export", "%lu object(s) exported", ex.objects);
    }
    return ex.problems ? CTL_EXIT_PROBLEMS : CTL_EXIT_OK;
}
