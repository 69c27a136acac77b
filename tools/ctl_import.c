/*
 * ctl_import.c - caldavctl import: an iCalendar file into a calendar.
 *
 *   1. cut the input into components (ctl_ics.c), keeping its bytes;
 *   2. group them by UID: a recurrence master and its RECURRENCE-ID
 *      overrides become one calendar object resource, with the VTIMEZONEs
 *      they use; a component without UID gets one (derived from its
 *      bytes, so importing the same file again finds it again) written
 *      into its text;
 *   3. validate each object's text with the calendar's limits and index it
 *      (calcore_object_parse + calstore_calinfo_build: what a PUT does);
 *   4. write the valid ones in one transaction (calstore_batch), or one
 *      per --batch N objects: an object whose UID the calendar holds
 *      replaces it (calstore_batch_uid_lookup, in the same transaction),
 *      another is created as "<UID-derived name>.ics".
 *
 * Objects are validated outside the transaction, a batch at a time, so the
 * transaction only writes (and is cheap to retry after a deadlock).
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_sha1.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "ctl.h"

#define IMPORT_CTYPE "text/calendar; charset=utf-8"

/* Longest member name derived from a UID, before "-<hash>" and ".ics". */
#define IMPORT_NAME_MAX 160

/* Names tried for one new object ("x.ics", "x-1.ics", ...). */
#define IMPORT_NAME_TRIES 100

/* One calendar object to be: the components sharing a UID. */
typedef struct import_group_t {
    const char *uid;            /* the UID (generated: see 'generated')     */
    int generated;              /* the component had no UID                 */
    apr_array_header_t *comps;  /* const ctl_comp_t *                       */
} import_group_t;

/* A validated object, ready to be written. */
typedef struct import_obj_t {
    const import_group_t *group;
    const char *text;
    apr_size_t len;
    calstore_calinfo_t info;
    int outcome;                /* IMPORT_* after the write                 */
    const char *name;           /* the member it was written as             */
    const char *why;            /* IMPORT_FAILED: the store's refusal       */
} import_obj_t;

#define IMPORT_PENDING  0
#define IMPORT_CREATED  1
#define IMPORT_MODIFIED 2
#define IMPORT_FAILED   3

/* One batch (one transaction). */
typedef struct import_chunk_t {
    ctl_t *ctx;
    const char *cal_path;
    calstore_id_t cal_id;
    apr_array_header_t *objs;   /* import_obj_t                             */
    apr_pool_t *pool;           /* the chunk's pool (names, reasons)       */
    apr_size_t done_before;     /* objects written by earlier batches       */
    apr_size_t total;           /* objects in the whole import              */
} import_chunk_t;

/* ---- names ------------------------------------------------------------ */

static const char *hex_sha1(const char *data, apr_size_t len,
                            apr_pool_t *pool)
{
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char *out = apr_palloc(pool, 2 * APR_SHA1_DIGESTSIZE + 1);
    apr_sha1_ctx_t sha;
    int i;

    apr_sha1_init(&sha);
    apr_sha1_update_binary(&sha, (const unsigned char *)data,
                           (unsigned int)len);
    apr_sha1_final(digest, &sha);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        apr_snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
    return out;
}

/* The member name for a new object with 'uid', try 'attempt': the UID's
 * safe characters ([A-Za-z0-9._@+-]); when anything had to be changed or
 * cut, "-" and 8 hex digits of the UID's SHA-1 keep different UIDs apart;
 * then "-<attempt>" from the second try on, then ".ics". */
static const char *import_name(const char *uid, int attempt,
                               apr_pool_t *pool)
{
    apr_size_t n = strlen(uid), i, k;
    char *base = apr_palloc(pool, IMPORT_NAME_MAX + 2);
    int changed = n > IMPORT_NAME_MAX;

    for (i = 0, k = 0; i < n && k < IMPORT_NAME_MAX; i++) {
        char c = uid[i];

        if (apr_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@'
            || c == '+') {
            base[k++] = c;
        }
        else {
            base[k++] = '_';
            changed = 1;
        }
    }
    base[k] = '\0';
    if (base[0] == '.') {
        base[0] = '_';
        changed = 1;
    }
    return apr_pstrcat(pool, base,
                       changed ? "-" : "",
                       changed ? apr_pstrndup(pool, hex_sha1(uid, n, pool), 8)
                               : "",
                       attempt ? apr_psprintf(pool, "-%d", attempt) : "",
                       ".ics", NULL);
}

/* ---- grouping and the objects' texts ------------------------------------ */

static int import_kind_ok(const ctl_comp_t *comp)
{
    return calcore_comp_from_name(comp->name) != CALCORE_COMP_NONE;
}

/* Group the components of 'ics' by UID, in order of first appearance. */
static apr_array_header_t *import_group(const ctl_ics_t *ics,
                                        apr_hash_t *ignored,
                                        apr_pool_t *pool)
{
    apr_array_header_t *groups = apr_array_make(pool, ics->comps->nelts,
                                                sizeof(import_group_t));
    apr_hash_t *by_uid = apr_hash_make(pool);
    int i;

    for (i = 0; i < ics->comps->nelts; i++) {
        const ctl_comp_t *comp = &APR_ARRAY_IDX(ics->comps, i, ctl_comp_t);
        import_group_t *g;
        const char *uid = comp->uid;
        apr_uintptr_t at;
        int generated = 0;

        if (strcmp(comp->name, "VTIMEZONE") == 0) {
            continue;
        }
        if (!import_kind_ok(comp)) {
            int *count = apr_hash_get(ignored, comp->name,
                                      APR_HASH_KEY_STRING);

            if (count == NULL) {
                count = apr_pcalloc(pool, sizeof(*count));
                apr_hash_set(ignored, comp->name, APR_HASH_KEY_STRING,
                             count);
            }
            (*count)++;
            continue;
        }
        if (uid == NULL || *uid == '\0') {
            /* derived from the bytes: the same file imported again finds
             * the same objects; identical copies get a counter */
            const char *base = apr_pstrcat(pool, "caldavctl-",
                                           hex_sha1(comp->text, comp->len,
                                                    pool), NULL);
            int n = 1;

            uid = base;
            while (apr_hash_get(by_uid, uid, APR_HASH_KEY_STRING)) {
                uid = apr_psprintf(pool, "%s-%d", base, ++n);
            }
            generated = 1;
        }
        /* the hash keeps index + 1 (the array may move) */
        at = generated ? 0 : (apr_uintptr_t)apr_hash_get(by_uid, uid,
                                                         APR_HASH_KEY_STRING);
        if (at == 0) {
            g = apr_array_push(groups);
            g->uid = uid;
            g->generated = generated;
            g->comps = apr_array_make(pool, 1, sizeof(const ctl_comp_t *));
            apr_hash_set(by_uid, uid, APR_HASH_KEY_STRING,
                         (void *)(apr_uintptr_t)groups->nelts);
        }
        else {
            g = &APR_ARRAY_IDX(groups, (int)(at - 1), import_group_t);
        }
        APR_ARRAY_PUSH(g->comps, const ctl_comp_t *) = comp;
    }
    return groups;
}

/* The VTIMEZONE for 'tzid': of the component's own VCALENDAR if it has
 * one, else the first in the input.  NULL when there is none (a system
 * zone name, which the validator resolves). */
static const ctl_comp_t *import_find_tz(const ctl_ics_t *ics,
                                        apr_hash_t *first_tz, int vcal,
                                        const char *tzid)
{
    int i;

    for (i = 0; i < ics->comps->nelts; i++) {
        const ctl_comp_t *c = &APR_ARRAY_IDX(ics->comps, i, ctl_comp_t);

        if (c->vcal == vcal && c->tzid && strcmp(c->tzid, tzid) == 0) {
            return c;
        }
        if (c->vcal > vcal) {
            break;
        }
    }
    return apr_hash_get(first_tz, tzid, APR_HASH_KEY_STRING);
}

/* A piece of an object's text. */
typedef struct import_piece_t {
    const char *text;
    apr_size_t len;
} import_piece_t;

/* Append 'len' octets to the pieces of an object's text. */
static void piece(apr_array_header_t *pieces, const char *text,
                  apr_size_t len)
{
    import_piece_t *v = apr_array_push(pieces);

    v->text = text;
    v->len = len;
}

/* The text of group 'g': the first component's VCALENDAR lines (METHOD
 * left out: a calendar object resource has none), each VTIMEZONE its
 * components use (once), the components, END:VCALENDAR. */
static const char *import_text(const ctl_ics_t *ics, apr_hash_t *first_tz,
                               const import_group_t *g, apr_size_t *len,
                               apr_pool_t *pool)
{
    const ctl_comp_t *first = APR_ARRAY_IDX(g->comps, 0, const ctl_comp_t *);
    const ctl_vcal_t *vcal = &APR_ARRAY_IDX(ics->vcals, first->vcal,
                                            ctl_vcal_t);
    apr_array_header_t *pieces = apr_array_make(pool, 16,
                                                sizeof(import_piece_t));
    apr_hash_t *tz_done = apr_hash_make(pool);
    apr_size_t total = 0;
    char *out, *o;
    int i, j;

    piece(pieces, vcal->begin, vcal->begin_len);
    for (i = 0; i < vcal->props->nelts; i++) {
        const ctl_line_t *pl = &APR_ARRAY_IDX(vcal->props, i, ctl_line_t);

        if (strcmp(pl->name, "METHOD") != 0) {
            piece(pieces, pl->text, pl->len);
        }
    }
    for (i = 0; i < g->comps->nelts; i++) {
        const ctl_comp_t *c = APR_ARRAY_IDX(g->comps, i, const ctl_comp_t *);

        for (j = 0; c->tzrefs && j < c->tzrefs->nelts; j++) {
            const char *tzid = APR_ARRAY_IDX(c->tzrefs, j, const char *);
            const ctl_comp_t *tz;

            if (apr_hash_get(tz_done, tzid, APR_HASH_KEY_STRING)) {
                continue;
            }
            apr_hash_set(tz_done, tzid, APR_HASH_KEY_STRING, "");
            if ((tz = import_find_tz(ics, first_tz, c->vcal, tzid))) {
                piece(pieces, tz->text, tz->len);
            }
        }
    }
    for (i = 0; i < g->comps->nelts; i++) {
        const ctl_comp_t *c = APR_ARRAY_IDX(g->comps, i, const ctl_comp_t *);

        if (g->generated) {
            /* our UID, right after the BEGIN line */
            piece(pieces, c->text, c->begin_len);
            piece(pieces, "UID:", 4);
            piece(pieces, g->uid, strlen(g->uid));
            piece(pieces, c->eol, strlen(c->eol));
            piece(pieces, c->text + c->begin_len, c->len - c->begin_len);
        }
        else {
            piece(pieces, c->text, c->len);
        }
    }
    if (vcal->end) {
        piece(pieces, vcal->end, vcal->end_len);
    }
    else {
        piece(pieces, "END:VCALENDAR", 13);
        piece(pieces, first->eol, strlen(first->eol));
    }

    for (i = 0; i < pieces->nelts; i++) {
        total += APR_ARRAY_IDX(pieces, i, import_piece_t).len;
    }
    o = out = apr_palloc(pool, total + 1);
    for (i = 0; i < pieces->nelts; i++) {
        const import_piece_t *v = &APR_ARRAY_IDX(pieces, i, import_piece_t);

        memcpy(o, v->text, v->len);
        o += v->len;
    }
    *o = '\0';
    *len = total;
    return out;
}

/* How an object is named in messages. */
static const char *import_label(const import_group_t *g, apr_pool_t *pool)
{
    const ctl_comp_t *first = APR_ARRAY_IDX(g->comps, 0, const ctl_comp_t *);

    if (g->generated) {
        return apr_psprintf(pool, "%s without UID (line %u)", first->name,
                            first->line);
    }
    return apr_psprintf(pool, "UID %s (line %u)", g->uid, first->line);
}

/* ---- writing ------------------------------------------------------------ */

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
    const char *name, *conflict = NULL;
    apr_status_t rv;
    int created = 0, attempt;

    rv = calstore_batch_uid_lookup(batch, ch->cal_id, o->info.uid, &name,
                                   iter);
    if (rv == APR_SUCCESS) {
        /* create-or-modify by UID: the object that has it is replaced */
        rv = calstore_batch_put(batch, apr_pstrcat(iter, ch->cal_path, "/",
                                                   name, NULL),
                                IMPORT_CTYPE, o->text, o->len, NULL,
                                &o->info, &conflict, NULL, &created, iter);
    }
    else if (rv == CALSTORE_ENOENT) {
        for (attempt = 0; attempt < IMPORT_NAME_TRIES; attempt++) {
            name = import_name(o->info.uid, attempt, iter);
            rv = calstore_batch_put(batch, apr_pstrcat(iter, ch->cal_path,
                                                       "/", name, NULL),
                                    IMPORT_CTYPE, o->text, o->len,
                                    &must_be_new, &o->info, &conflict, NULL,
                                    &created, iter);
            if (rv != CALSTORE_ECHANGED) {
                break;          /* ECHANGED: that name is taken */
            }
        }
    }
    if (rv == APR_SUCCESS) {
        o->outcome = created ? IMPORT_CREATED : IMPORT_MODIFIED;
        o->name = apr_pstrdup(ch->pool, name);
    }
    else if (import_refusal(rv)) {
        o->outcome = IMPORT_FAILED;
        o->why = rv == CALSTORE_EUIDCONFLICT && conflict
                 ? apr_pstrcat(ch->pool, "the UID is held by ", conflict,
                               NULL)
                 : ctl_strerror(rv, ch->pool);
        rv = APR_SUCCESS;
    }
    return rv;
}

static apr_status_t import_batch(calstore_batch_t *batch, void *baton,
                                 apr_pool_t *scratch)
{
    import_chunk_t *ch = baton;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* may run again after a deadlock: start from scratch */
    for (i = 0; i < ch->objs->nelts; i++) {
        APR_ARRAY_IDX(ch->objs, i, import_obj_t).outcome = IMPORT_PENDING;
    }
    apr_pool_create(&iter, scratch);
    for (i = 0; rv == APR_SUCCESS && i < ch->objs->nelts; i++) {
        apr_size_t n = ch->done_before + i + 1;

        apr_pool_clear(iter);
        rv = import_put(batch, ch, &APR_ARRAY_IDX(ch->objs, i, import_obj_t),
                        iter);
        if (!ch->ctx->quiet && n % CTL_PROGRESS_EVERY == 0) {
            ctl_err("import", "%" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
                    " objects written", n, ch->total);
        }
    }
    apr_pool_destroy(iter);
    return rv;
}

/* ---- the command -------------------------------------------------------- */

static const ctl_opt_t import_opts[] = {
    { "--stop-on-error", 0 }, { "--dry-run", 0 }, { "--batch", 1 },
    { NULL, 0 }
};

int ctl_cmd_import(ctl_t *ctx, const ctl_args_t *args)
{
    const char *user, *calname, *file, *cal_path, *problem, *v;
    apr_size_t in_len, written = 0, created = 0, modified = 0, skipped = 0;
    apr_size_t batch_size = 0, next;
    apr_array_header_t *groups;
    apr_hash_t *ignored, *first_tz;
    apr_hash_index_t *hi;
    calcore_limits_t limits;
    calstore_node_t *cal;
    icaltimezone *floating;
    apr_pool_t *pool = ctx->pool, *chunk_pool, *iter;
    ctl_ics_t *ics;
    apr_status_t rv;
    char *input;
    int i, code, dry_run, stop_on_error, stopped = 0, failed = 0;

    if (!ctl_check_args(args, import_opts, 2, 2)
        || !ctl_parse_target("import", APR_ARRAY_IDX(args->pos, 0,
                                                     const char *), 1,
                             &user, &calname, pool)) {
        return CTL_EXIT_USAGE;
    }
    file = APR_ARRAY_IDX(args->pos, 1, const char *);
    dry_run = ctl_opt(args, "--dry-run") != NULL;
    stop_on_error = ctl_opt(args, "--stop-on-error") != NULL;
    if ((v = ctl_opt(args, "--batch")) != NULL) {
        char *end;
        apr_int64_t n = apr_strtoi64(v, &end, 10);

        if (*end != '\0' || n < 1 || n > 100000000) {
            ctl_err("import", "--batch needs a number of objects >= 1");
            return CTL_EXIT_USAGE;
        }
        batch_size = (apr_size_t)n;
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
    /* the calendar's limits, as the server checks a PUT (the defaults of
     * the CalDAVMax... directives) */
    calstore_limits_default(&limits);
    limits.components = calstore_calendar_comps(cal);
    rv = calstore_calendar_floating(ctx->st, cal, &floating, &problem, pool);
    if (rv != APR_SUCCESS) {
        ctl_err("import", "cannot read %s: %s", cal_path,
                ctl_strerror(rv, pool));
        return CTL_EXIT_PROBLEMS;
    }
    if (problem) {
        ctl_err("import", "calendar-timezone of %s is unusable (%s); "
                "floating times are read as UTC", cal_path, problem);
    }
    limits.floating = floating;

    ctl_ics_split(&ics, input, in_len, pool);
    for (i = 0; i < ics->warnings->nelts; i++) {
        ctl_err("import", "%s: %s", file,
                APR_ARRAY_IDX(ics->warnings, i, const char *));
    }
    for (i = 0; i < ics->broken->nelts; i++) {
        ctl_err("import", "skipped: %s: %s", file,
                APR_ARRAY_IDX(ics->broken, i, const char *));
        skipped++;
    }
    ignored = apr_hash_make(pool);
    groups = import_group(ics, ignored, pool);
    for (hi = apr_hash_first(pool, ignored); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;

        apr_hash_this(hi, &key, NULL, &val);
        ctl_err("import", "%s: ignored %d %s component(s): not a calendar "
                "component", file, *(int *)val, (const char *)key);
    }
    if (groups->nelts == 0 && skipped == 0) {
        ctl_err("import", "%s: no calendar component found", file);
        printf("created 0, modified 0, skipped 0\n");
        return CTL_EXIT_PROBLEMS;
    }
    first_tz = apr_hash_make(pool);
    for (i = 0; i < ics->comps->nelts; i++) {
        const ctl_comp_t *c = &APR_ARRAY_IDX(ics->comps, i, ctl_comp_t);

        if (c->tzid && !apr_hash_get(first_tz, c->tzid,
                                     APR_HASH_KEY_STRING)) {
            apr_hash_set(first_tz, c->tzid, APR_HASH_KEY_STRING, c);
        }
    }
    if (stop_on_error && skipped) {
        stopped = 1;
    }

    apr_pool_create(&chunk_pool, pool);
    apr_pool_create(&iter, pool);
    if (batch_size == 0) {
        batch_size = (apr_size_t)groups->nelts;
    }
    for (next = 0; !stopped && !failed && next < (apr_size_t)groups->nelts;
         next += batch_size) {
        apr_size_t end = next + batch_size, k;
        import_chunk_t ch;

        if (end > (apr_size_t)groups->nelts) {
            end = (apr_size_t)groups->nelts;
        }
        apr_pool_clear(chunk_pool);
        memset(&ch, 0, sizeof(ch));
        ch.ctx = ctx;
        ch.cal_path = cal_path;
        ch.cal_id = cal->id;
        ch.pool = chunk_pool;
        ch.objs = apr_array_make(chunk_pool, (int)(end - next),
                                 sizeof(import_obj_t));
        ch.done_before = written;
        ch.total = (apr_size_t)groups->nelts;

        /* validate and index: exactly what a PUT into this calendar does */
        for (k = next; k < end; k++) {
            const import_group_t *g = &APR_ARRAY_IDX(groups, (int)k,
                                                     import_group_t);
            calcore_precond_e pc = CALCORE_PRECOND_NONE;
            const char *reason = NULL, *text;
            calcore_object_t *obj;
            import_obj_t *o;
            apr_size_t len;

            text = import_text(ics, first_tz, g, &len, chunk_pool);
            rv = calcore_object_parse(&obj, &pc, &reason, text, len, &limits,
                                      chunk_pool);
            if (rv == APR_SUCCESS) {
                o = apr_array_push(ch.objs);
                memset(o, 0, sizeof(*o));
                rv = calstore_calinfo_build(&o->info, obj, floating,
                                            chunk_pool);
                if (rv != APR_SUCCESS) {
                    ch.objs->nelts--;
                    reason = ctl_strerror(rv, chunk_pool);
                }
                o->group = g;
                o->text = text;
                o->len = len;
            }
            else if (rv == CALCORE_EINVALID) {
                reason = apr_pstrcat(chunk_pool,
                                     calcore_precond_name(pc)
                                     ? calcore_precond_name(pc)
                                     : "valid-calendar-data",
                                     ": ", reason ? reason : "", NULL);
            }
            else {
                reason = ctl_strerror(rv, chunk_pool);
            }
            if (rv != APR_SUCCESS) {
                ctl_err("import", "skipped %s: %s",
                        import_label(g, chunk_pool), reason);
                skipped++;
                if (stop_on_error) {
                    stopped = 1;
                    break;
                }
            }
            if (!ctx->quiet && (k + 1) % CTL_PROGRESS_EVERY == 0) {
                ctl_err("import", "%" APR_SIZE_T_FMT " of %d objects "
                        "validated", k + 1, groups->nelts);
            }
        }
        if (stopped) {
            break;
        }

        if (dry_run) {
            for (i = 0; i < ch.objs->nelts; i++) {
                import_obj_t *o = &APR_ARRAY_IDX(ch.objs, i, import_obj_t);
                const char *name;

                apr_pool_clear(iter);
                rv = calstore_uid_lookup(ctx->st, cal->id, o->info.uid,
                                         &name, iter);
                if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
                    ctl_err("import", "%s: %s", cal_path,
                            ctl_strerror(rv, iter));
                    failed = 1;
                    break;
                }
                o->outcome = rv == APR_SUCCESS ? IMPORT_MODIFIED
                                               : IMPORT_CREATED;
                o->name = rv == APR_SUCCESS
                          ? apr_pstrdup(chunk_pool, name)
                          : import_name(o->info.uid, 0, chunk_pool);
            }
        }
        else if (ch.objs->nelts > 0) {
            rv = calstore_batch(ctx->st, import_batch, &ch, iter);
            apr_pool_clear(iter);
            if (rv != APR_SUCCESS) {
                ctl_err("import", "writing %d object(s) into %s failed, "
                        "nothing of them was written: %s%s", ch.objs->nelts,
                        cal_path, ctl_strerror(rv, pool),
                        rv == APR_ENOMEM || rv == CALSTORE_EBUSY
                        ? " (a smaller --batch may help)" : "");
                failed = 1;
                break;
            }
        }
        for (i = 0; i < ch.objs->nelts; i++) {
            import_obj_t *o = &APR_ARRAY_IDX(ch.objs, i, import_obj_t);
            const char *label = import_label(o->group, chunk_pool);

            switch (o->outcome) {
            case IMPORT_CREATED:
                created++;
                if (ctx->verbose) {
                    ctl_err("import", "created %s: %s", o->name, label);
                }
                break;
            case IMPORT_MODIFIED:
                modified++;
                if (ctx->verbose) {
                    ctl_err("import", "modified %s: %s", o->name, label);
                }
                break;
            default:
                skipped++;
                ctl_err("import", "skipped %s: %s", label,
                        o->why ? o->why : "not written");
                break;
            }
        }
        written += (apr_size_t)ch.objs->nelts;
    }
    if (stopped || failed) {
        /* every object not written counts as skipped */
        apr_size_t total = (apr_size_t)groups->nelts
                           + (apr_size_t)ics->broken->nelts;

        if (created + modified + skipped < total) {
            ctl_err("import", "stopped: %" APR_SIZE_T_FMT " more object(s) "
                    "not written", total - created - modified - skipped);
            skipped = total - created - modified;
        }
    }
    if (dry_run) {
        ctl_err("import", "dry run: nothing was written");
    }
    printf("created %" APR_SIZE_T_FMT ", modified %" APR_SIZE_T_FMT
           ", skipped %" APR_SIZE_T_FMT "\n", created, modified, skipped);
    return (skipped || stopped || failed) ? CTL_EXIT_PROBLEMS : CTL_EXIT_OK;
}
