/*
 * test_calstore_batch.c - what repos/ gained for caldavctl: the shared
 * calendar limits and index data (calstore_calinfo.c), batches of writes
 * in one transaction, and the administration calls (check, in-use test,
 * file verification, backup and restore).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "tap.h"
#include "calcore.h"
#include "calstore.h"

static apr_pool_t *gpool;

static void quiet_log(void *baton, calcore_log_level_e level,
                      apr_status_t rv, const char *msg)
{
    int *count = baton;

    if (level <= CALCORE_LOG_ERR) {
        (*count)++;
    }
}

static char *make_tmpdir(const char *tag)
{
    char *tmpl = apr_psprintf(gpool, "/tmp/calstore-%s-XXXXXX", tag);

    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpl;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static calstore_t *open_store(const char *dir, apr_pool_t *pool)
{
    calstore_options_t opts;
    calstore_t *st = NULL;

    calstore_options_default(&opts);
    opts.cache_bytes = 8 * 1024 * 1024;
    return calstore_open(&st, dir, &opts, pool) == APR_SUCCESS ? st : NULL;
}

#define EVENT(uid, start, end) \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" \
    "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTAMP:20240101T000000Z\r\n" \
    "DTSTART:" start "\r\nDTEND:" end "\r\nSUMMARY:x\r\n" \
    "END:VEVENT\r\nEND:VCALENDAR\r\n"

/* Parse 'text' and build its calinfo (floating zone 'fz'). */
static calstore_calinfo_t *info_of(const char *text, const icaltimezone *fz,
                                   apr_pool_t *pool)
{
    calstore_calinfo_t *ci = apr_pcalloc(pool, sizeof(*ci));
    calcore_precond_e pc;
    calcore_object_t *obj;
    const char *reason;

    if (calcore_object_parse(&obj, &pc, &reason, text, strlen(text), NULL,
                             pool) != APR_SUCCESS) {
        diag("parse: %s", reason ? reason : "?");
        return NULL;
    }
    if (calstore_calinfo_build(ci, obj, fz, pool) != APR_SUCCESS) {
        return NULL;
    }
    return ci;
}

/* ---- limits, components, calendar-timezone, calinfo --------------------- */

static void test_calinfo(calstore_t *st, apr_pool_t *pool)
{
    calcore_limits_t lim;
    calstore_node_t *cal, fake;
    calstore_calinfo_t *ci;
    const calstore_span_t *sp;
    icaltimezone *zone;
    const char *problem;
    apr_array_header_t *props;
    calstore_prop_t *p;

    calstore_limits_default(&lim);
    is_int(lim.max_resource_size, 10 * 1024 * 1024, "default size limit");
    is_int(lim.max_instances, 10000, "default max-instances");
    is_int(lim.max_attendees_per_instance, 500, "default max-attendees");
    ok(lim.min_date_time == CALSTORE_DEFAULT_MIN_DATE
       && lim.max_date_time == CALSTORE_DEFAULT_MAX_DATE
       && lim.components == 0 && lim.floating == NULL, "default dates");

    memset(&fake, 0, sizeof(fake));
    is_int(calstore_calendar_comps(&fake), CALCORE_COMP_DEFAULT,
           "no component set stored: the default");
    fake.flags = CALSTORE_COLL_CALENDAR
                 | (CALCORE_COMP_VTODO << CALSTORE_CAL_COMP_SHIFT);
    is_int(calstore_calendar_comps(&fake), CALCORE_COMP_VTODO,
           "stored component set");

    /* a fixed instance: one span, indexed whatever its date */
    ci = info_of(EVENT("a@t", "20240301T120000Z", "20240301T130000Z"), NULL,
                 pool);
    ok(ci != NULL, "calinfo of a single event");
    if (ci == NULL) {
        return;
    }
    is_str(ci->uid, "a@t", "uid");
    is_int(ci->comp, CALCORE_COMP_VEVENT, "component");
    ok(ci->win_from == CALCORE_TIME_MIN && ci->win_until == CALCORE_TIME_MAX
       && !ci->before && !ci->after, "window: all time");
    is_int(ci->instances->nelts, 1, "one span");
    sp = &APR_ARRAY_IDX(ci->instances, 0, calstore_span_t);
    ok(sp->start == 1709294400 && sp->end == 1709298000, "its times");

    /* floating: widened by the slack on both sides */
    ci = info_of("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
                 "BEGIN:VEVENT\r\nUID:f@t\r\nDTSTAMP:20240101T000000Z\r\n"
                 "DTSTART:20240301T120000\r\nDTEND:20240301T130000\r\n"
                 "END:VEVENT\r\nEND:VCALENDAR\r\n", NULL, pool);
    sp = ci ? &APR_ARRAY_IDX(ci->instances, 0, calstore_span_t) : NULL;
    ok(sp && sp->start == 1709294400 - CALSTORE_FLOATING_SLACK
       && sp->end == 1709298000 + CALSTORE_FLOATING_SLACK,
       "floating times widened by 14 h");

    /* recurring: spans in the window, reach, edges */
    ci = info_of("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
                 "BEGIN:VEVENT\r\nUID:r@t\r\nDTSTAMP:20240101T000000Z\r\n"
                 "DTSTART:20200106T090000Z\r\nDURATION:PT1H\r\n"
                 "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                 NULL, pool);
    ok(ci && ci->before && ci->after && ci->instances->nelts > 50
       && ci->first == 1578301200 && ci->win_from > ci->first,
       "unbounded weekly event: before, after, first, spans");

    /* calendar-timezone */
    if (calstore_mkcol(st, "c", NULL, pool) != APR_SUCCESS
        || calstore_mkcol_ex(st, "c/tz", CALSTORE_COLL_CALENDAR, NULL, &cal,
                             pool) != APR_SUCCESS) {
        ok(0, "mkcalendar");
        return;
    }
    is_int(calstore_calendar_floating(st, cal, &zone, &problem, pool),
           APR_SUCCESS, "no calendar-timezone");
    ok(zone == NULL && problem == NULL, "no zone, no problem");
    props = apr_array_make(pool, 1, sizeof(calstore_prop_t));
    p = apr_array_push(props);
    p->ns = CALSTORE_CALDAV_NS;
    p->name = "calendar-timezone";
    p->value = "<C:calendar-timezone xmlns:C=\"urn:ietf:params:xml:ns:"
               "caldav\">BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\n"
               "PRODID:x&#13;\nBEGIN:VTIMEZONE&#13;\nTZID:Plus2&#13;\n"
               "BEGIN:STANDARD&#13;\nDTSTART:19700101T000000&#13;\n"
               "TZOFFSETFROM:+0200&#13;\nTZOFFSETTO:+0200&#13;\n"
               "END:STANDARD&#13;\nEND:VTIMEZONE&#13;\nEND:VCALENDAR&#13;\n"
               "</C:calendar-timezone>";
    p->len = strlen(p->value) + 1;
    is_int(calstore_prop_patch(st, cal->id, props, pool), APR_SUCCESS,
           "set calendar-timezone");
    is_int(calstore_calendar_floating(st, cal, &zone, &problem, pool),
           APR_SUCCESS, "read calendar-timezone");
    ok(zone != NULL && problem == NULL, "a zone");
    ci = info_of("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
                 "BEGIN:VEVENT\r\nUID:f@t\r\nDTSTAMP:20240101T000000Z\r\n"
                 "DTSTART:20240301T120000\r\nDTEND:20240301T130000\r\n"
                 "END:VEVENT\r\nEND:VCALENDAR\r\n", zone, pool);
    sp = ci ? &APR_ARRAY_IDX(ci->instances, 0, calstore_span_t) : NULL;
    ok(sp && sp->start == 1709294400 - 7200 - CALSTORE_FLOATING_SLACK,
       "floating times read in the calendar's zone");
    p->value = "<C:calendar-timezone xmlns:C=\"urn:ietf:params:xml:ns:"
               "caldav\">BEGIN:VCALENDAR\nEND:VCALENDAR\n"
               "</C:calendar-timezone>";
    p->len = strlen(p->value) + 1;
    calstore_prop_patch(st, cal->id, props, pool);
    is_int(calstore_calendar_floating(st, cal, &zone, &problem, pool),
           APR_SUCCESS, "an unusable calendar-timezone is no error");
    ok(zone == NULL && problem != NULL, "but a problem: %s",
       problem ? problem : "none");
}

/* ---- batches ------------------------------------------------------------ */

typedef struct batch_t {
    int calls;                  /* times the body ran                      */
    int step;                   /* which scenario                          */
    apr_status_t got[8];
    const char *conflict;
    int created[4];
    calstore_calinfo_t *ci[4];
} batch_t;

static apr_status_t body(calstore_batch_t *batch, void *baton,
                         apr_pool_t *scratch)
{
    static const calstore_cond_t must_be_new = { 0, 0 };
    batch_t *b = baton;
    const char *ev;

    b->calls++;
    memset(b->got, 0, sizeof(b->got));
    ev = EVENT("b1@t", "20240301T120000Z", "20240301T130000Z");
    switch (b->step) {
    case 0:     /* a put */
        b->got[0] = calstore_batch_put(batch, "c/cal/1.ics", "text/calendar",
                                       ev, strlen(ev), NULL, b->ci[0], NULL,
                                       NULL, &b->created[0], scratch);
        return APR_SUCCESS;
    case 1:     /* refusals keep the batch usable */
        /* the name is taken */
        b->got[0] = calstore_batch_put(batch, "c/cal/1.ics", "text/calendar",
                                       ev, strlen(ev), &must_be_new,
                                       b->ci[0], NULL, NULL, NULL, scratch);
        /* the UID is held by 1.ics */
        b->got[1] = calstore_batch_put(batch, "c/cal/other.ics",
                                       "text/calendar", ev, strlen(ev), NULL,
                                       b->ci[0], &b->conflict, NULL, NULL,
                                       scratch);
        /* no such calendar */
        b->got[2] = calstore_batch_put(batch, "c/nothing/x.ics",
                                       "text/calendar", ev, strlen(ev), NULL,
                                       b->ci[1], NULL, NULL, NULL, scratch);
        /* and then a write that works */
        b->got[3] = calstore_batch_put(batch, "c/cal/2.ics",
                                       "text/calendar", "x", 1, NULL,
                                       b->ci[1], NULL, NULL, &b->created[1],
                                       scratch);
        return APR_SUCCESS;
    default:    /* the body fails: nothing is written */
        b->got[0] = calstore_batch_put(batch, "c/cal/3.ics",
                                       "text/calendar", "x", 1, NULL,
                                       b->ci[2], NULL, NULL, NULL, scratch);
        return APR_EGENERAL;
    }
}

static void test_batch(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *cal, *node;
    const char *name;
    batch_t b;
    apr_uint64_t rev;
    int errors = 0;

    if (calstore_mkcol_ex(st, "c/cal", CALSTORE_COLL_CALENDAR, NULL, &cal,
                          pool) != APR_SUCCESS) {
        ok(0, "mkcalendar");
        return;
    }
    rev = cal->revision;
    memset(&b, 0, sizeof(b));
    b.ci[0] = info_of(EVENT("b1@t", "20240301T120000Z", "20240301T130000Z"),
                      NULL, pool);
    b.ci[1] = info_of(EVENT("b2@t", "20240302T120000Z", "20240302T130000Z"),
                      NULL, pool);
    b.ci[2] = info_of(EVENT("b3@t", "20240303T120000Z", "20240303T130000Z"),
                      NULL, pool);

    is_int(calstore_batch(st, NULL, NULL, pool), CALSTORE_EINVAL,
           "no body: EINVAL");

    b.step = 0;
    is_int(calstore_batch(st, body, &b, pool), APR_SUCCESS,
           "batch 0 commits");
    is_int(b.got[0], APR_SUCCESS, "put in a batch");
    ok(b.created[0], "created");
    is_int(calstore_uid_lookup(st, cal->id, "b1@t", &name, pool),
           APR_SUCCESS, "committed: its UID is indexed");
    is_str(name, "1.ics", "under its name");

    b.step = 1;
    is_int(calstore_batch(st, body, &b, pool), APR_SUCCESS,
           "batch 1 commits");
    is_int(b.got[0], CALSTORE_ECHANGED, "name taken: ECHANGED");
    is_int(b.got[1], CALSTORE_EUIDCONFLICT, "UID held: EUIDCONFLICT");
    is_str(b.conflict, "1.ics", "conflict names the holder");
    is_int(b.got[2], CALSTORE_ENOPARENT, "no calendar: ENOPARENT");
    is_int(b.got[3], APR_SUCCESS, "the batch goes on after refusals");
    is_int(calstore_lookup(st, "c/cal/2.ics", &node, NULL, pool),
           APR_SUCCESS, "and its write is committed");
    is_int(calstore_lookup(st, "c/cal/other.ics", &node, NULL, pool),
           CALSTORE_ENOENT, "the refused ones are not");

    b.step = 2;
    is_int(calstore_batch(st, body, &b, pool), APR_EGENERAL,
           "a failing body's status is returned");
    is_int(b.got[0], APR_SUCCESS, "its put had worked");
    is_int(calstore_lookup(st, "c/cal/3.ics", &node, NULL, pool),
           CALSTORE_ENOENT, "but it was rolled back");
    is_int(calstore_lookup(st, "c/cal", &node, NULL, pool), APR_SUCCESS,
           "calendar");
    is_int(node->revision, rev + 2, "the ctag counts the two commits' "
           "puts only");

    calcore_log_set(quiet_log, &errors, CALCORE_LOG_ERR);
    is_int(calstore_check(st, pool), APR_SUCCESS, "consistent afterwards");
    calcore_log_set(NULL, NULL, CALCORE_LOG_WARN);
    is_int(errors, 0, "no problem logged");
}

/* A batch body that looks up with the calendar's id. */
typedef struct lookup_t {
    calstore_id_t cal;
    calstore_calinfo_t *ci;
    apr_status_t before, after;
    const char *name;
} lookup_t;

static apr_status_t lookup_body(calstore_batch_t *batch, void *baton,
                                apr_pool_t *scratch)
{
    lookup_t *l = baton;
    const char *ev = EVENT("l1@t", "20240301T120000Z", "20240301T130000Z");
    apr_status_t rv;

    l->before = calstore_batch_uid_lookup(batch, l->cal, "l1@t", &l->name,
                                          scratch);
    rv = calstore_batch_put(batch, "c/cal/l1.ics", "text/calendar", ev,
                            strlen(ev), NULL, l->ci, NULL, NULL, NULL,
                            scratch);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    l->after = calstore_batch_uid_lookup(batch, l->cal, "l1@t", &l->name,
                                         scratch);
    return APR_SUCCESS;
}

static void test_batch_lookup(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *cal;
    lookup_t l;

    memset(&l, 0, sizeof(l));
    calstore_lookup(st, "c/cal", &cal, NULL, pool);
    l.cal = cal->id;
    l.ci = info_of(EVENT("l1@t", "20240301T120000Z", "20240301T130000Z"),
                   NULL, pool);
    is_int(calstore_batch(st, lookup_body, &l, pool), APR_SUCCESS,
           "lookup batch");
    is_int(l.before, CALSTORE_ENOENT, "UID not there before the put");
    is_int(l.after, APR_SUCCESS, "and there after it, in the batch");
    is_str(l.name, "l1.ics", "named");
}

/* ---- administration ----------------------------------------------------- */

static void test_admin(calstore_t **stp, const char *dir, apr_pool_t *pool)
{
    const char *bk = apr_pstrcat(pool, make_tmpdir("bk"), "/backup", NULL);
    const char *rs = apr_pstrcat(pool, make_tmpdir("rs"), "/store", NULL);
    const char *data1, *data2;
    apr_size_t len1, len2;
    calstore_node_t *n1, *n2;
    calstore_t *st2;
    int errors = 0;

    is_int(calstore_in_use(dir), 0, "our own handle does not count");
    is_int(calstore_in_use("/nonexistent"), 0, "no registry: not in use");
    is_int(calstore_backup(*stp, dir, 0, pool), CALSTORE_EINVAL,
           "no backup into the store itself");
    is_int(calstore_backup(*stp, bk, 0, pool), APR_SUCCESS, "hot backup");
    is_int(calstore_backup(*stp, bk, 0, pool), CALSTORE_EEXIST,
           "not over another backup");
    is_int(calstore_backup(*stp, bk, 1, pool), APR_SUCCESS,
           "unless told to replace it");
    is_int(calstore_restore(bk, bk, 0, pool), CALSTORE_EINVAL,
           "no restore onto the backup");
    is_int(calstore_restore(bk, rs, 0, pool), APR_SUCCESS,
           "restore into a new directory");
    is_int(calstore_restore(bk, rs, 0, pool), CALSTORE_EEXIST,
           "not into a store that is there");
    is_int(calstore_restore(bk, rs, 1, pool), APR_SUCCESS,
           "restore, replacing");
    st2 = open_store(rs, pool);
    ok(st2 != NULL, "the restored store opens");
    if (st2 == NULL) {
        return;
    }
    calcore_log_set(quiet_log, &errors, CALCORE_LOG_ERR);
    is_int(calstore_check(st2, pool), APR_SUCCESS, "and is consistent");
    calcore_log_set(NULL, NULL, CALCORE_LOG_WARN);
    ok(calstore_lookup(*stp, "c/cal/1.ics", &n1, NULL, pool) == APR_SUCCESS
       && calstore_lookup(st2, "c/cal/1.ics", &n2, NULL, pool)
          == APR_SUCCESS
       && n1->id == n2->id && n1->revision == n2->revision,
       "same object, same id and revision");
    ok(calstore_read(*stp, n1->id, &data1, &len1, pool) == APR_SUCCESS
       && calstore_read(st2, n2->id, &data2, &len2, pool) == APR_SUCCESS
       && len1 == len2 && memcmp(data1, data2, len1) == 0, "same bytes");
    calstore_close(st2);
    is_int(calstore_restore(bk, rs, 1, pool), APR_SUCCESS,
           "restore again over it once it is closed");

    calstore_close(*stp);
    *stp = NULL;
    calcore_log_set(quiet_log, &errors, CALCORE_LOG_ERR);
    is_int(calstore_verify_files(dir, pool), APR_SUCCESS,
           "db_verify of every file");
    is_int(calstore_verify_files("/nonexistent", pool) != APR_SUCCESS, 1,
           "a missing store fails");
    calcore_log_set(NULL, NULL, CALCORE_LOG_WARN);
    rm_rf(apr_pstrndup(pool, bk, strrchr(bk, '/') - bk));
    rm_rf(apr_pstrndup(pool, rs, strrchr(rs, '/') - rs));
}

int main(void)
{
    calstore_t *st;
    char *dir;

    apr_initialize();
    apr_pool_create(&gpool, NULL);
    if (calcore_init(gpool) != APR_SUCCESS) {
        ok(0, "calcore_init");
        return done_testing();
    }
    dir = make_tmpdir("batch");
    st = open_store(dir, gpool);
    ok(st != NULL, "open a store");
    if (st) {
        test_calinfo(st, gpool);
        test_batch(st, gpool);
        test_batch_lookup(st, gpool);
        test_admin(&st, dir, gpool);
    }
    if (st) {
        calstore_close(st);
    }
    rm_rf(dir);
    /* runs the pool cleanups (parsed trees are freed there): a leak
     * checker must not find them still allocated at exit */
    apr_pool_destroy(gpool);
    apr_terminate();
    return done_testing();
}
