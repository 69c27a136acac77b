/*
 * calstore_import.c - an iCalendar stream into a calendar collection,
 * create-or-modify by UID (calstore_import.h): caldavctl import and POST
 * to a calendar collection both call calstore_import().
 *
 *   1. core cuts the input and groups it by UID (calcore_import_read);
 *   2. a batch at a time, each object's text (calcore_import_text) is
 *      validated with the calendar's limits and indexed
 *      (calcore_object_parse + calstore_calinfo_build: what a PUT does),
 *      outside any transaction;
 *   3. the valid ones of the batch are written in one transaction
 *      (calstore_batch): an object whose UID the calendar holds replaces
 *      it (calstore_batch_uid_lookup, in the same transaction), another is
 *      created as calcore_import_name(UID).
 *
 * Objects are validated outside the transaction, so the transaction only
 * writes (and is cheap to retry after a deadlock).
 */
#include <string.h>

#include <apr_strings.h>

#include "calstore_import.h"

/* Names tried for one new object ("x.ics", "x-1.ics", ...). */
#define IMPORT_NAME_TRIES 100

/* A validated object of the current batch, ready to be written. */
typedef struct import_obj_t {
    calstore_import_result_t *res;  /* its result (in the report)          */
    const char *text;
    apr_size_t len;
    calstore_calinfo_t info;
} import_obj_t;

/* One batch (one transaction). */
typedef struct import_chunk_t {
    const calstore_import_opts_t *opts;
    const char *cal_path;
    calstore_id_t cal_id;
    apr_array_header_t *objs;       /* import_obj_t                         */
    apr_pool_t *result_pool;        /* the report's pool (names, reasons)  */
    apr_size_t done_before;         /* objects written by earlier batches  */
    apr_size_t total;               /* objects in the whole import          */
} import_chunk_t;

static const char *import_strerror(apr_status_t rv, apr_pool_t *pool)
{
    char buf[256];

    if (rv > CALCORE_START && rv < CALCORE_START + 100) {
        return apr_pstrdup(pool, calcore_strerror(rv, buf, sizeof(buf)));
    }
    return apr_pstrdup(pool, calstore_strerror(rv, buf, sizeof(buf)));
}

void calstore_import_opts_default(calstore_import_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
}

/* ---- writing --------------------------------------------------------- */

/* Is 'rv' a refusal of one object, after which the batch goes on? */
static int import_refusal(apr_status_t rv)
{
    return rv == CALSTORE_EINVAL || rv == CALSTORE_ENOPARENT
           || rv == CALSTORE_EISCOLL || rv == CALSTORE_ECHANGED
           || rv == CALSTORE_ENOTCALOBJ || rv == CALSTORE_EUIDCONFLICT;
}

static apr_status_t import_put(calstore_batch_t *batch, import_chunk_t *ch,
                               import_obj_t *o, apr_pool_t *iter)
{
    calstore_cond_t must_be_new = { 0, 0 };
    calstore_import_result_t *res = o->res;
    const char *name = NULL, *conflict = NULL;
    apr_status_t rv;
    int created = 0, attempt;

    rv = calstore_batch_uid_lookup(batch, ch->cal_id, o->info.uid, &name,
                                   iter);
    if (rv == APR_SUCCESS) {
        /* create-or-modify by UID: the object that has it is replaced */
        rv = calstore_batch_put(batch, apr_pstrcat(iter, ch->cal_path, "/",
                                                   name, NULL),
                                CALSTORE_IMPORT_CTYPE, o->text, o->len, NULL,
                                &o->info, &conflict, NULL, &created, iter);
    }
    else if (rv == CALSTORE_ENOENT) {
        for (attempt = 0; attempt < IMPORT_NAME_TRIES; attempt++) {
            name = calcore_import_name(o->info.uid, attempt, iter);
            rv = calstore_batch_put(batch, apr_pstrcat(iter, ch->cal_path,
                                                       "/", name, NULL),
                                    CALSTORE_IMPORT_CTYPE, o->text, o->len,
                                    &must_be_new, &o->info, &conflict, NULL,
                                    &created, iter);
            if (rv != CALSTORE_ECHANGED) {
                break;          /* ECHANGED: that name is taken */
            }
        }
    }
    if (rv == APR_SUCCESS) {
        res->outcome = created ? CALSTORE_IMPORT_CREATED
                               : CALSTORE_IMPORT_MODIFIED;
        res->name = apr_pstrdup(ch->result_pool, name);
    }
    else if (import_refusal(rv)) {
        res->outcome = CALSTORE_IMPORT_SKIPPED;
        res->why = CALSTORE_IMPORT_REFUSED;
        res->status = rv;
        res->name = name ? apr_pstrdup(ch->result_pool, name)
                         : calcore_import_name(o->info.uid, 0,
                                               ch->result_pool);
        if (rv == CALSTORE_EUIDCONFLICT) {
            res->precond = CALCORE_PRECOND_NO_UID_CONFLICT;
        }
        res->reason = rv == CALSTORE_EUIDCONFLICT && conflict
                      ? apr_pstrcat(ch->result_pool, "the UID is held by ",
                                    conflict, NULL)
                      : import_strerror(rv, ch->result_pool);
        rv = APR_SUCCESS;
    }
    return rv;
}

static apr_status_t import_batch(calstore_batch_t *batch, void *baton,
                                 apr_pool_t *scratch)
{
    import_chunk_t *ch = baton;
    const calstore_import_opts_t *opts = ch->opts;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* may run again after a deadlock: start from scratch */
    for (i = 0; i < ch->objs->nelts; i++) {
        calstore_import_result_t *res =
            APR_ARRAY_IDX(ch->objs, i, import_obj_t).res;

        res->outcome = 0;
        res->name = NULL;
        res->why = CALSTORE_IMPORT_STORED;
        res->precond = CALCORE_PRECOND_NONE;
        res->status = APR_SUCCESS;
        res->reason = NULL;
    }
    apr_pool_create(&iter, scratch);
    for (i = 0; rv == APR_SUCCESS && i < ch->objs->nelts; i++) {
        apr_size_t n = ch->done_before + i + 1;

        apr_pool_clear(iter);
        rv = import_put(batch, ch, &APR_ARRAY_IDX(ch->objs, i, import_obj_t),
                        iter);
        if (opts->progress && opts->progress_every
            && n % opts->progress_every == 0) {
            opts->progress(opts->progress_baton, 1, n, ch->total);
        }
    }
    apr_pool_destroy(iter);
    return rv;
}

/* ---- the import ------------------------------------------------------ */

/* The name of the member holding 'uid', else the one an object with it
 * would be created as (for skipped objects and dry runs).  *exists says
 * which.  Returns a store status (not CALSTORE_ENOENT). */
static apr_status_t import_member_name(calstore_t *st, calstore_id_t cal,
                                       const char *uid, const char **name,
                                       int *exists, apr_pool_t *pool)
{
    apr_status_t rv = calstore_uid_lookup(st, cal, uid, name, pool);

    *exists = rv == APR_SUCCESS;
    if (rv == CALSTORE_ENOENT) {
        *name = calcore_import_name(uid, 0, pool);
        rv = APR_SUCCESS;
    }
    return rv;
}

/* Copy what 'info' points to (into the parsed object, among others) into
 * 'pool'. */
static void import_keep_info(calstore_calinfo_t *info, apr_pool_t *pool)
{
    info->uid = apr_pstrdup(pool, info->uid);
    info->record = apr_pmemdup(pool, info->record, info->record_len);
    if (info->instances) {
        info->instances = apr_array_copy(pool, info->instances);
    }
}

/* Validate and index the object of group 'g' into a new entry of ch->objs
 * (its text and index data from 'pool'), or record in 'res' why it is
 * skipped.  Returns 1 when it is valid.  The parsed object (a libical
 * tree) lives only during the call: a batch keeps texts and index data,
 * not trees. */
static int import_prepare(calstore_t *st, const calcore_import_t *imp,
                          const calcore_import_group_t *g,
                          const calcore_attrmap_t *map,
                          const calcore_limits_t *limits,
                          const icaltimezone *floating, import_chunk_t *ch,
                          calstore_import_result_t *res, apr_pool_t *pool)
{
    calcore_precond_e pc = CALCORE_PRECOND_NONE;
    const char *reason = NULL, *text;
    calcore_object_t *obj;
    apr_pool_t *objpool;
    import_obj_t *o;
    apr_size_t len;
    apr_status_t rv;
    int exists;

    apr_pool_create(&objpool, pool);
    text = calcore_import_text(imp, g, map, &len, objpool);
    rv = calcore_object_parse(&obj, &pc, &reason, text, len, limits,
                              objpool);
    if (rv == APR_SUCCESS) {
        o = apr_array_push(ch->objs);
        memset(o, 0, sizeof(*o));
        rv = calstore_calinfo_build(&o->info, obj, floating, objpool);
        if (rv == APR_SUCCESS) {
            import_keep_info(&o->info, pool);
            o->res = res;
            o->text = apr_pstrmemdup(pool, text, len);
            o->len = len;
            apr_pool_destroy(objpool);
            return 1;
        }
        ch->objs->nelts--;
        reason = import_strerror(rv, ch->result_pool);
    }
    else if (rv == CALCORE_EINVALID) {
        res->precond = pc != CALCORE_PRECOND_NONE
                       ? pc : CALCORE_PRECOND_VALID_CALENDAR_DATA;
        reason = apr_pstrcat(ch->result_pool,
                             calcore_precond_name(res->precond), ": ",
                             reason ? reason : "", NULL);
    }
    else {
        reason = import_strerror(rv, ch->result_pool);
    }
    apr_pool_destroy(objpool);
    res->outcome = CALSTORE_IMPORT_SKIPPED;
    res->why = CALSTORE_IMPORT_INVALID;
    res->status = rv == CALCORE_EINVALID ? APR_SUCCESS : rv;
    res->reason = reason;
    if (import_member_name(st, ch->cal_id, g->uid, &res->name, &exists,
                           ch->result_pool) != APR_SUCCESS) {
        res->name = calcore_import_name(g->uid, 0, ch->result_pool);
    }
    return 0;
}

apr_status_t calstore_import(calstore_t *st, const calstore_node_t *cal,
                             const char *cal_path, const char *text,
                             apr_size_t len,
                             const calstore_import_opts_t *opts,
                             calstore_import_report_t **reportp,
                             apr_pool_t *pool)
{
    calstore_import_report_t *report = apr_pcalloc(pool, sizeof(*report));
    calstore_import_opts_t defaults;
    calcore_limits_t limits;
    calcore_import_t *imp;
    icaltimezone *floating;
    apr_pool_t *chunk_pool, *iter;
    apr_size_t ngroups, batch_size, next, written = 0;
    apr_status_t rv;
    int i, first_group;

    *reportp = report;
    if (opts == NULL) {
        calstore_import_opts_default(&defaults);
        opts = &defaults;
    }
    report->results = apr_array_make(pool, 16,
                                     sizeof(calstore_import_result_t));
    report->warnings = apr_array_make(pool, 1, sizeof(const char *));
    if (cal == NULL || cal->kind != CALSTORE_KIND_COLLECTION
        || !(cal->flags & CALSTORE_COLL_CALENDAR)) {
        return CALSTORE_EINVAL;
    }

    /* the calendar's limits, as the server checks a PUT into it */
    if (opts->limits) {
        limits = *opts->limits;
    }
    else {
        calstore_limits_default(&limits);
    }
    limits.components = calstore_calendar_comps(cal);
    rv = calstore_calendar_floating(st, cal, &floating,
                                    &report->floating_problem, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    limits.floating = floating;

    calcore_import_read(&imp, text, len, pool);
    apr_array_cat(report->warnings, imp->warnings);
    for (i = 0; i < imp->broken->nelts; i++) {
        const calcore_import_broken_t *b =
            &APR_ARRAY_IDX(imp->broken, i, calcore_import_broken_t);
        calstore_import_result_t *res = apr_array_push(report->results);
        int exists;

        memset(res, 0, sizeof(*res));
        res->uid = b->uid;
        res->generated = b->generated;
        res->comp = b->name;
        res->line = b->line;
        res->label = b->generated
                     ? apr_psprintf(pool, "%s without UID (line %u)",
                                    b->name, b->line)
                     : apr_psprintf(pool, "UID %s (line %u)", b->uid,
                                    b->line);
        res->outcome = CALSTORE_IMPORT_SKIPPED;
        res->why = CALSTORE_IMPORT_BROKEN;
        res->precond = CALCORE_PRECOND_VALID_CALENDAR_DATA;
        res->reason = apr_pstrcat(pool, "valid-calendar-data: ", b->reason,
                                  NULL);
        if (import_member_name(st, cal->id, b->uid, &res->name, &exists,
                               pool) != APR_SUCCESS) {
            res->name = calcore_import_name(b->uid, 0, pool);
        }
        if (opts->stop_on_error) {
            report->stopped = 1;
        }
    }
    first_group = report->results->nelts;
    for (i = 0; i < imp->groups->nelts; i++) {
        const calcore_import_group_t *g =
            &APR_ARRAY_IDX(imp->groups, i, calcore_import_group_t);
        calstore_import_result_t *res = apr_array_push(report->results);

        memset(res, 0, sizeof(*res));
        res->uid = g->uid;
        res->generated = g->generated;
        res->comp = APR_ARRAY_IDX(g->comps, 0,
                                  const calcore_import_comp_t *)->name;
        res->line = calcore_import_line(g);
        res->label = calcore_import_label(g, pool);
    }

    ngroups = (apr_size_t)imp->groups->nelts;
    batch_size = opts->batch ? opts->batch : ngroups;
    apr_pool_create(&chunk_pool, pool);
    apr_pool_create(&iter, pool);
    rv = APR_SUCCESS;
    for (next = 0; !report->stopped && rv == APR_SUCCESS && next < ngroups;
         next += batch_size) {
        apr_size_t end = next + batch_size, k;
        import_chunk_t ch;

        if (end > ngroups) {
            end = ngroups;
        }
        apr_pool_clear(chunk_pool);
        memset(&ch, 0, sizeof(ch));
        ch.opts = opts;
        ch.cal_path = cal_path;
        ch.cal_id = cal->id;
        ch.result_pool = pool;
        ch.objs = apr_array_make(chunk_pool, (int)(end - next),
                                 sizeof(import_obj_t));
        ch.done_before = written;
        ch.total = ngroups;

        /* validate and index: exactly what a PUT into this calendar does */
        for (k = next; k < end; k++) {
            calstore_import_result_t *res =
                &APR_ARRAY_IDX(report->results, first_group + (int)k,
                               calstore_import_result_t);

            if (!import_prepare(st, imp,
                                &APR_ARRAY_IDX(imp->groups, (int)k,
                                               calcore_import_group_t),
                                opts->map, &limits, floating, &ch, res,
                                chunk_pool)
                && opts->stop_on_error) {
                report->stopped = 1;
                break;
            }
            if (opts->progress && opts->progress_every
                && (k + 1) % opts->progress_every == 0) {
                opts->progress(opts->progress_baton, 0, k + 1, ngroups);
            }
        }
        if (report->stopped) {
            break;
        }

        if (opts->dry_run) {
            for (i = 0; i < ch.objs->nelts; i++) {
                import_obj_t *o = &APR_ARRAY_IDX(ch.objs, i, import_obj_t);
                int exists;

                apr_pool_clear(iter);
                rv = import_member_name(st, cal->id, o->info.uid,
                                        &o->res->name, &exists, pool);
                if (rv != APR_SUCCESS) {
                    break;
                }
                o->res->outcome = exists ? CALSTORE_IMPORT_MODIFIED
                                         : CALSTORE_IMPORT_CREATED;
            }
        }
        else if (ch.objs->nelts > 0) {
            rv = calstore_batch(st, import_batch, &ch, iter);
            apr_pool_clear(iter);
        }
        if (rv != APR_SUCCESS) {
            report->failed = rv;
            report->failed_objects = (apr_size_t)ch.objs->nelts;
            for (i = 0; i < ch.objs->nelts; i++) {
                /* rolled back: whatever the batch had recorded is void */
                APR_ARRAY_IDX(ch.objs, i, import_obj_t).res->outcome = 0;
            }
            break;
        }
        written += (apr_size_t)ch.objs->nelts;
    }
    apr_pool_destroy(iter);
    apr_pool_destroy(chunk_pool);

    /* every object not written counts as skipped, once */
    for (i = 0; i < report->results->nelts; i++) {
        calstore_import_result_t *res =
            &APR_ARRAY_IDX(report->results, i, calstore_import_result_t);

        if (res->outcome == 0) {
            int exists;

            res->outcome = CALSTORE_IMPORT_SKIPPED;
            res->why = CALSTORE_IMPORT_NOT_WRITTEN;
            res->precond = CALCORE_PRECOND_NONE;
            res->reason = report->stopped
                          ? "not written: the import stopped at an invalid "
                            "object"
                          : "not written: writing its batch failed";
            if (res->name == NULL
                && (rv != APR_SUCCESS
                    || import_member_name(st, cal->id, res->uid, &res->name,
                                          &exists, pool) != APR_SUCCESS)) {
                res->name = calcore_import_name(res->uid, 0, pool);
            }
        }
        switch (res->outcome) {
        case CALSTORE_IMPORT_CREATED:
            report->created++;
            break;
        case CALSTORE_IMPORT_MODIFIED:
            report->modified++;
            break;
        default:
            report->skipped++;
            break;
        }
    }
    return rv;
}

const char *calstore_import_describe(const calstore_import_result_t *res,
                                     apr_pool_t *pool)
{
    switch (res->outcome) {
    case CALSTORE_IMPORT_CREATED:
        return apr_pstrcat(pool, "created ", res->name, ": ", res->label,
                           NULL);
    case CALSTORE_IMPORT_MODIFIED:
        return apr_pstrcat(pool, "modified ", res->name, ": ", res->label,
                           NULL);
    default:
        return apr_pstrcat(pool, "skipped ", res->label, ": ",
                           res->reason ? res->reason : "not written", NULL);
    }
}
