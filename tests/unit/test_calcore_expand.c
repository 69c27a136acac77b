/*
 * test_calcore_expand.c - recurrence expansion against hand-computed
 * instance lists: DST changes in Europe/Berlin and America/New_York,
 * all-day and floating events, overrides, EXDATE, RDATE (TZID, PERIOD),
 * DTSTART outside the rule, COUNT/UNTIL, unbounded rules, pathological
 * rules, and a comparison of window jumps against full iteration.
 *
 * Expected lists are written as "START/END" in UTC, with "[RID]" appended
 * for overrides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "calcore.h"
#include "calcore_private.h"
#include "tap.h"

static apr_pool_t *pool;

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"
#define VEV(uid, body) "BEGIN:VEVENT\r\nUID:" uid "\r\n" \
                       "DTSTAMP:20240101T000000Z\r\n" body "END:VEVENT\r\n"
#define BERLIN_VTZ \
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" \
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n" \
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" \
    "END:DAYLIGHT\r\n" \
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n" \
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" \
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"

static calcore_time_t utc(const char *s)
{
    calcore_time_t t = 0;

    if (calcore_time_parse(s, &t) != APR_SUCCESS) {
        diag("bad time literal %s", s);
    }
    return t;
}

static calcore_object_t *obj_of(const char *text)
{
    calcore_object_t *obj = NULL;
    calcore_precond_e pc;
    const char *why;

    if (calcore_object_parse(&obj, &pc, &why, text, strlen(text), NULL,
                             pool) != APR_SUCCESS) {
        diag("test object rejected: %s", why);
    }
    return obj;
}

typedef struct {
    char *buf;                   /* NUL-terminated, grows by doubling */
    apr_size_t len, cap;
    unsigned flags_or;
} list_t;

static apr_status_t add(void *baton, const calcore_instance_t *in)
{
    list_t *l = baton;
    char s[CALCORE_TIME_STRLEN], e[CALCORE_TIME_STRLEN];
    char r[CALCORE_TIME_STRLEN];
    char item[80];
    int n;

    calcore_time_format(in->start, s);
    calcore_time_format(in->end, e);
    n = (in->flags & CALCORE_INST_OVERRIDE)
        ? snprintf(item, sizeof(item), "%s%s/%s[%s]", l->len ? " " : "", s,
                   e, calcore_time_format(in->recurrence_id, r))
        : snprintf(item, sizeof(item), "%s%s/%s", l->len ? " " : "", s, e);
    if (l->len + n + 1 > l->cap) {
        apr_size_t cap = l->cap ? l->cap * 2 : 256;
        char *nb;

        while (cap < l->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(pool, cap);
        if (l->len) {
            memcpy(nb, l->buf, l->len);
        }
        l->buf = nb;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, item, n + 1);
    l->len += n;
    l->flags_or |= in->flags;
    return APR_SUCCESS;
}

/* The instances of 'obj' overlapping [ws, we) as a string. */
static const char *expand_str(calcore_object_t *obj, const char *ws,
                              const char *we, const icaltimezone *floating,
                              calcore_expand_result_t *res, list_t *lp)
{
    calcore_expand_opts_t o;
    list_t l;
    apr_pool_t *scratch;
    calcore_expand_result_t r;

    if (!obj) {
        return "(no object)";
    }
    memset(&o, 0, sizeof(o));
    memset(&l, 0, sizeof(l));
    o.floating = floating;
    apr_pool_create(&scratch, pool);
    calcore_expand(obj, ws ? utc(ws) : CALCORE_TIME_MIN,
                   we ? utc(we) : CALCORE_TIME_MAX, &o, add, &l,
                   res ? res : &r, scratch);
    apr_pool_destroy(scratch);
    if (lp) {
        *lp = l;
    }
    return l.buf ? l.buf : "";
}

static const char *span_str(calcore_object_t *obj,
                            const icaltimezone *floating, calcore_span_t *sp)
{
    calcore_expand_opts_t o;
    calcore_span_t s;
    char a[CALCORE_TIME_STRLEN], b[CALCORE_TIME_STRLEN];

    memset(&o, 0, sizeof(o));
    o.floating = floating;
    calcore_expand_span(obj, &o, &s, pool);
    if (sp) {
        *sp = s;
    }
    if (s.empty) {
        return "empty";
    }
    return apr_psprintf(pool, "%s/%s%s", calcore_time_format(s.start, a),
                        s.unbounded ? "unbounded"
                                    : calcore_time_format(s.end, b), "");
}

/* ---- DST ---------------------------------------------------------------- */

static void test_berlin(void)
{
    static const char body[] =
        "DTSTART;TZID=Europe/Berlin:20240321T090000\r\n"
        "DTEND;TZID=Europe/Berlin:20240321T100000\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20241107T235959Z\r\n";
    calcore_object_t *objs[2];
    calcore_expand_result_t res;
    int i;

    objs[0] = obj_of(apr_psprintf(pool, HEAD BERLIN_VTZ
                                  VEV("b@example.com", "%s") TAIL, body));
    objs[1] = obj_of(apr_psprintf(pool, HEAD VEV("b@example.com", "%s") TAIL,
                                  body));
    for (i = 0; i < 2; i++) {
        const char *how = i ? "system zone" : "VTIMEZONE";

        is_str(expand_str(objs[i], "20240320T000000Z", "20240405T000000Z",
                          NULL, NULL, NULL),
               "20240321T080000Z/20240321T090000Z "
               "20240328T080000Z/20240328T090000Z "
               "20240404T070000Z/20240404T080000Z",
               "Berlin weekly 09:00 across the March change (%s)", how);
        is_str(expand_str(objs[i], "20241020T000000Z", "20241105T000000Z",
                          NULL, NULL, NULL),
               "20241024T070000Z/20241024T080000Z "
               "20241031T080000Z/20241031T090000Z",
               "Berlin weekly 09:00 across the October change (%s)", how);
        expand_str(objs[i], NULL, NULL, NULL, &res, NULL);
        is_int(res.count, 34, "34 instances until 7 Nov (%s)", how);
        is_str(span_str(objs[i], NULL, NULL),
               "20240321T080000Z/20241107T090000Z", "span (%s)", how);
    }
}

static void test_new_york(void)
{
    calcore_object_t *spring = obj_of(HEAD VEV("ny1@example.com",
        "DTSTART;TZID=America/New_York:20240301T100000\r\n"
        "DURATION:PT30M\r\nRRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=3\r\n") TAIL);
    calcore_object_t *fall = obj_of(HEAD VEV("ny2@example.com",
        "DTSTART;TZID=America/New_York:20241025T100000\r\n"
        "DTEND;TZID=America/New_York:20241025T110000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\n") TAIL);

    is_str(expand_str(spring, NULL, NULL, NULL, NULL, NULL),
           "20240301T150000Z/20240301T153000Z "
           "20240308T150000Z/20240308T153000Z "
           "20240315T140000Z/20240315T143000Z",
           "New York weekly 10:00 across the March change");
    is_str(expand_str(fall, NULL, NULL, NULL, NULL, NULL),
           "20241025T140000Z/20241025T150000Z "
           "20241101T140000Z/20241101T150000Z "
           "20241108T150000Z/20241108T160000Z",
           "New York weekly 10:00 across the November change");
}

static void test_gap_and_nominal(void)
{
    calcore_object_t *gap = obj_of(HEAD VEV("gap@example.com",
        "DTSTART;TZID=Europe/Berlin:20240330T023000\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\n") TAIL);
    calcore_object_t *p1d = obj_of(HEAD VEV("p1d@example.com",
        "DTSTART;TZID=Europe/Berlin:20240330T120000\r\n"
        "DURATION:P1D\r\n") TAIL);
    calcore_object_t *pt24h = obj_of(HEAD VEV("pt24h@example.com",
        "DTSTART;TZID=Europe/Berlin:20240330T120000\r\n"
        "DURATION:PT24H\r\n") TAIL);

    is_str(expand_str(gap, NULL, NULL, NULL, NULL, NULL),
           "20240330T013000Z/20240330T013000Z "
           "20240331T013000Z/20240331T013000Z "
           "20240401T003000Z/20240401T003000Z",
           "02:30 daily: the gap day uses the offset before the gap");
    is_str(expand_str(p1d, NULL, NULL, NULL, NULL, NULL),
           "20240330T110000Z/20240331T100000Z",
           "DURATION:P1D over the change is a nominal day (23 h)");
    is_str(expand_str(pt24h, NULL, NULL, NULL, NULL, NULL),
           "20240330T110000Z/20240331T110000Z",
           "DURATION:PT24H is exact");
}

/* ---- all-day and floating ----------------------------------------------- */

static void test_allday_floating(void)
{
    calcore_object_t *allday = obj_of(HEAD VEV("ad@example.com",
        "DTSTART;VALUE=DATE:20240330\r\nDTEND;VALUE=DATE:20240331\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\n") TAIL);
    calcore_object_t *noend = obj_of(HEAD VEV("ad2@example.com",
        "DTSTART;VALUE=DATE:20240610\r\n") TAIL);
    calcore_object_t *floating = obj_of(HEAD VEV("fl@example.com",
        "DTSTART:20240115T090000\r\nDTEND:20240115T100000\r\n"
        "RRULE:FREQ=DAILY;COUNT=2\r\n") TAIL);
    icaltimezone *berlin = calcore_tz_system("Europe/Berlin");
    icaltimezone *ny = calcore_tz_system("America/New_York");
    list_t l;

    is_str(expand_str(allday, NULL, NULL, NULL, NULL, &l),
           "20240330T000000Z/20240331T000000Z "
           "20240331T000000Z/20240401T000000Z "
           "20240401T000000Z/20240402T000000Z",
           "all-day daily, floating zone UTC");
    ok(l.flags_or & CALCORE_INST_DATE, "all-day instances flagged DATE");
    is_str(expand_str(allday, NULL, NULL, berlin, NULL, NULL),
           "20240329T230000Z/20240330T230000Z "
           "20240330T230000Z/20240331T220000Z "
           "20240331T220000Z/20240401T220000Z",
           "all-day daily in Berlin: the change day has 23 hours");
    is_str(expand_str(allday, "20240331T000000Z", "20240331T010000Z",
                      berlin, NULL, NULL),
           "20240330T230000Z/20240331T220000Z",
           "all-day window query in Berlin");
    is_str(expand_str(noend, NULL, NULL, NULL, NULL, NULL),
           "20240610T000000Z/20240611T000000Z",
           "DATE without DTEND lasts one day");
    is_str(expand_str(floating, NULL, NULL, NULL, NULL, &l),
           "20240115T090000Z/20240115T100000Z "
           "20240116T090000Z/20240116T100000Z", "floating read as UTC");
    ok(l.flags_or & CALCORE_INST_FLOATING, "flagged FLOATING");
    is_str(expand_str(floating, NULL, NULL, ny, NULL, NULL),
           "20240115T140000Z/20240115T150000Z "
           "20240116T140000Z/20240116T150000Z",
           "floating read in New York");
}

/* ---- overrides, EXDATE, RDATE ------------------------------------------- */

static void test_overrides(void)
{
    static const char series[] =
        "DTSTART;TZID=Europe/Berlin:20240603T100000\r\n"
        "DTEND;TZID=Europe/Berlin:20240603T110000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\r\n";
    calcore_object_t *moved = obj_of(HEAD BERLIN_VTZ
        VEV("s@example.com", "DTSTART;TZID=Europe/Berlin:20240603T100000\r\n"
            "DTEND;TZID=Europe/Berlin:20240603T110000\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\r\n")
        VEV("s@example.com",
            "RECURRENCE-ID;TZID=Europe/Berlin:20240610T100000\r\n"
            "DTSTART;TZID=Europe/Berlin:20240612T150000\r\n"
            "DTEND;TZID=Europe/Berlin:20240612T160000\r\n") TAIL);
    calcore_object_t *into = obj_of(apr_psprintf(pool, HEAD
        VEV("s2@example.com", "%s")
        VEV("s2@example.com", "RECURRENCE-ID:20240624T080000Z\r\n"
            "DTSTART:20240604T080000Z\r\nDTEND:20240604T083000Z\r\n")
        VEV("s2@example.com", "RECURRENCE-ID:20240701T080000Z\r\n"
            "DTSTART:20240701T120000Z\r\n") TAIL, series));
    calcore_object_t *rr = obj_of(HEAD BERLIN_VTZ VEV("rr@example.com",
        "DTSTART;TZID=Europe/Berlin:20240612T090000\r\n"
        "DTEND;TZID=Europe/Berlin:20240612T100000\r\n"
        "RECURRENCE-ID;TZID=Europe/Berlin:20240610T090000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\n") TAIL);
    list_t l;

    is_str(expand_str(moved, NULL, NULL, NULL, NULL, &l),
           "20240603T080000Z/20240603T090000Z "
           "20240612T130000Z/20240612T140000Z[20240610T080000Z] "
           "20240617T080000Z/20240617T090000Z "
           "20240624T080000Z/20240624T090000Z",
           "override replaces the instance it names");
    ok(l.flags_or & CALCORE_INST_RECURRING, "instances flagged RECURRING");
    is_str(expand_str(moved, "20240610T000000Z", "20240611T000000Z", NULL,
                      NULL, NULL), "",
           "the moved instance has left its original day");
    is_str(expand_str(moved, "20240612T000000Z", "20240613T000000Z", NULL,
                      NULL, NULL),
           "20240612T130000Z/20240612T140000Z[20240610T080000Z]",
           "... and shows up on its new day");
    is_str(expand_str(into, "20240604T000000Z", "20240605T000000Z", NULL,
                      NULL, NULL),
           "20240604T080000Z/20240604T083000Z[20240624T080000Z]",
           "an instance moved from outside into the window");
    is_str(expand_str(into, "20240624T000000Z", "20240625T000000Z", NULL,
                      NULL, NULL), "",
           "... and not on its original day");
    is_str(expand_str(into, "20240701T000000Z", "20240702T000000Z", NULL,
                      NULL, NULL),
           "20240701T120000Z/20240701T120000Z[20240701T080000Z]",
           "an override matching no instance is an instance of its own "
           "(with its own duration: none given = zero)");
    is_str(expand_str(rr, NULL, NULL, NULL, NULL, NULL),
           "20240612T070000Z/20240612T080000Z "
           "20240619T070000Z/20240619T080000Z "
           "20240626T070000Z/20240626T080000Z",
           "RRULE+RECURRENCE-ID without master acts as the master");
}

static void test_exdate_rdate(void)
{
    calcore_object_t *ex = obj_of(HEAD VEV("ex@example.com",
        "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\n"
        "EXDATE:20240103T100000Z\r\n") TAIL);
    calcore_object_t *extz = obj_of(HEAD VEV("ex2@example.com",
        "DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
        "RRULE:FREQ=DAILY;COUNT=4\r\n"
        "EXDATE;TZID=Europe/Berlin:20240102T100000\r\n"
        "EXDATE;VALUE=DATE:20240103\r\n") TAIL);
    calcore_object_t *exfirst = obj_of(HEAD VEV("ex3@example.com",
        "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        "EXDATE:20240101T100000Z,20240103T100000Z\r\n") TAIL);
    calcore_object_t *rd = obj_of(HEAD VEV("rd@example.com",
        "DTSTART;TZID=Europe/Berlin:20240415T090000\r\n"
        "DTEND;TZID=Europe/Berlin:20240415T100000\r\n"
        "RDATE;TZID=Europe/Berlin:20240416T150000\r\n"
        "RDATE;VALUE=PERIOD:20240420T100000Z/20240420T120000Z,"
        "20240421T100000Z/PT30M\r\n"
        "RDATE:20240422T090000\r\n") TAIL);
    calcore_object_t *dup = obj_of(HEAD VEV("dup@example.com",
        "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\n"
        "RDATE:20240102T100000Z\r\n") TAIL);
    calcore_object_t *rdate_date = obj_of(HEAD VEV("rdd@example.com",
        "DTSTART;VALUE=DATE:20240101\r\nRDATE;VALUE=DATE:20240105\r\n") TAIL);
    calcore_object_t *exrule = obj_of(HEAD VEV("exr@example.com",
        "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=10\r\n"
        "EXRULE:FREQ=WEEKLY\r\n") TAIL);
    calcore_span_t sp;
    calcore_expand_result_t res;

    is_str(expand_str(exrule, NULL, NULL, NULL, &res, NULL),
           "20240102T100000Z/20240102T100000Z "
           "20240103T100000Z/20240103T100000Z "
           "20240104T100000Z/20240104T100000Z "
           "20240105T100000Z/20240105T100000Z "
           "20240106T100000Z/20240106T100000Z "
           "20240107T100000Z/20240107T100000Z "
           "20240109T100000Z/20240109T100000Z "
           "20240110T100000Z/20240110T100000Z",
           "an unbounded EXRULE removes 1 and 8 January");
    ok(!res.truncated, "... without truncating the result");
    is_str(expand_str(ex, NULL, NULL, NULL, NULL, NULL),
           "20240101T100000Z/20240101T100000Z "
           "20240102T100000Z/20240102T100000Z "
           "20240104T100000Z/20240104T100000Z "
           "20240105T100000Z/20240105T100000Z", "EXDATE removes one");
    is_str(expand_str(extz, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240104T090000Z/20240104T090000Z",
           "EXDATE with TZID, and a DATE EXDATE on a DATE-TIME rule");
    is_str(expand_str(exfirst, NULL, NULL, NULL, NULL, NULL),
           "20240102T100000Z/20240102T100000Z",
           "EXDATE can remove DTSTART itself");
    is_str(span_str(exfirst, NULL, NULL),
           "20240102T100000Z/20240102T100000Z",
           "span follows the exclusions");
    is_str(expand_str(rd, NULL, NULL, NULL, NULL, NULL),
           "20240415T070000Z/20240415T080000Z "
           "20240416T130000Z/20240416T140000Z "
           "20240420T100000Z/20240420T120000Z "
           "20240421T100000Z/20240421T103000Z "
           "20240422T070000Z/20240422T080000Z",
           "RDATE with TZID (15:00 Berlin = 13:00Z), PERIOD with end and "
           "with duration, floating RDATE read in DTSTART's zone");
    is_str(expand_str(dup, NULL, NULL, NULL, NULL, NULL),
           "20240101T100000Z/20240101T100000Z "
           "20240102T100000Z/20240102T100000Z",
           "an RDATE equal to an RRULE instance counts once");
    is_str(expand_str(rdate_date, NULL, NULL, NULL, NULL, NULL),
           "20240101T000000Z/20240102T000000Z "
           "20240105T000000Z/20240106T000000Z", "DATE RDATE");
    is_str(span_str(rd, NULL, &sp), "20240415T070000Z/20240422T080000Z",
           "span over RDATEs");
    ok(!sp.unbounded && !sp.empty, "bounded, not empty");
}

/* ---- the rule itself ---------------------------------------------------- */

static void test_rules(void)
{
    calcore_object_t *mismatch = obj_of(HEAD VEV("mm@example.com",
        "DTSTART:20240101T090000Z\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4\r\n") TAIL);
    calcore_object_t *mismatch_until = obj_of(HEAD VEV("mu@example.com",
        "DTSTART:20240101T090000Z\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20240105T000000Z\r\n") TAIL);
    calcore_object_t *until = obj_of(HEAD VEV("u@example.com",
        "DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
        "RRULE:FREQ=DAILY;UNTIL=20240103T090000Z\r\n") TAIL);
    calcore_object_t *until2 = obj_of(HEAD VEV("u2@example.com",
        "DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
        "RRULE:FREQ=DAILY;UNTIL=20240103T085959Z\r\n") TAIL);
    calcore_object_t *until_date = obj_of(HEAD VEV("u3@example.com",
        "DTSTART;TZID=Europe/Berlin:20240101T100000\r\n"
        "RRULE:FREQ=DAILY;UNTIL=20240103\r\n") TAIL);
    calcore_object_t *count = obj_of(HEAD VEV("c@example.com",
        "DTSTART:20240131T100000Z\r\n"
        "RRULE:FREQ=MONTHLY;COUNT=3\r\n") TAIL);

    is_str(expand_str(mismatch, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240102T090000Z/20240102T090000Z "
           "20240104T090000Z/20240104T090000Z "
           "20240109T090000Z/20240109T090000Z",
           "DTSTART (a Monday) not matching BYDAY=TU,TH is the first of "
           "COUNT=4");
    is_str(expand_str(mismatch_until, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240102T090000Z/20240102T090000Z "
           "20240104T090000Z/20240104T090000Z",
           "... and with UNTIL");
    is_str(expand_str(until, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240102T090000Z/20240102T090000Z "
           "20240103T090000Z/20240103T090000Z",
           "UNTIL in UTC equal to the last instance is inclusive");
    is_str(expand_str(until2, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240102T090000Z/20240102T090000Z",
           "UNTIL one second before excludes it");
    is_str(expand_str(until_date, NULL, NULL, NULL, NULL, NULL),
           "20240101T090000Z/20240101T090000Z "
           "20240102T090000Z/20240102T090000Z "
           "20240103T090000Z/20240103T090000Z",
           "DATE UNTIL on a DATE-TIME rule includes that day");
    is_str(expand_str(count, NULL, NULL, NULL, NULL, NULL),
           "20240131T100000Z/20240131T100000Z "
           "20240331T100000Z/20240331T100000Z "
           "20240531T100000Z/20240531T100000Z",
           "MONTHLY on the 31st skips short months");
}

static void test_unbounded(void)
{
    calcore_object_t *daily = obj_of(HEAD VEV("inf@example.com",
        "DTSTART:20200101T100000Z\r\nDTEND:20200101T110000Z\r\n"
        "RRULE:FREQ=DAILY\r\n") TAIL);
    calcore_expand_result_t res;
    calcore_span_t sp;
    apr_time_t t0;

    is_str(span_str(daily, NULL, &sp), "20200101T100000Z/unbounded",
           "unbounded span");
    ok(sp.unbounded && sp.end == CALCORE_TIME_MAX, "end is CALCORE_TIME_MAX");
    is_str(expand_str(daily, "20240601T000000Z", "20240604T000000Z", NULL,
                      &res, NULL),
           "20240601T100000Z/20240601T110000Z "
           "20240602T100000Z/20240602T110000Z "
           "20240603T100000Z/20240603T110000Z", "window in 2024");
    ok(res.more_after && !res.truncated,
       "more instances after the window, nothing truncated");
    is_int(res.complete_until, utc("20240604T000000Z"),
           "complete up to the window end");
    t0 = apr_time_now();
    is_str(expand_str(daily, "20900301T000000Z", "20900302T000000Z", NULL,
                      NULL, NULL), "20900301T100000Z/20900301T110000Z",
           "window in 2090");
    ok(apr_time_now() - t0 < apr_time_from_msec(100),
       "... reached by jumping (%" APR_TIME_T_FMT " ms)",
       apr_time_as_msec(apr_time_now() - t0));
}

static void test_pathological(void)
{
    calcore_object_t *minutely;
    calcore_expand_opts_t o;
    calcore_expand_result_t res;
    apr_time_t t0;
    char buf[CALCORE_TIME_STRLEN];
    calcore_object_t *obj;
    calcore_precond_e pc;
    const char *why;
    calcore_limits_t lim;
    static const char text[] = HEAD VEV("min@example.com",
        "DTSTART:20240101T000000Z\r\nRRULE:FREQ=MINUTELY\r\n") TAIL;

    memset(&lim, 0, sizeof(lim));
    lim.max_instances = 10000;
    t0 = apr_time_now();
    is_int(calcore_object_parse(&obj, &pc, &why, text, sizeof(text) - 1,
                                &lim, pool), CALCORE_EINVALID,
           "FREQ=MINUTELY without end rejected at max-instances 10000");
    is_int(pc, CALCORE_PRECOND_MAX_INSTANCES, "... as max-instances");
    ok(apr_time_now() - t0 < apr_time_from_msec(500),
       "... in %" APR_TIME_T_FMT " ms", apr_time_as_msec(apr_time_now() - t0));

    /* an object stored before the limits existed: load it unvalidated */
    if (calcore_object_load(&minutely, &why, text, sizeof(text) - 1, pool)
        != APR_SUCCESS) {
        ok(0, "MINUTELY object loads");
        return;
    }
    memset(&o, 0, sizeof(o));
    o.max_instances = 10000;
    t0 = apr_time_now();
    calcore_expand(minutely, CALCORE_TIME_MIN, CALCORE_TIME_MAX, &o, NULL,
                   NULL, &res, pool);
    ok(apr_time_now() - t0 < apr_time_from_msec(500),
       "open-ended expansion of FREQ=MINUTELY returns in %" APR_TIME_T_FMT
       " ms", apr_time_as_msec(apr_time_now() - t0));
    is_int(res.count, 10000, "exactly max_instances reported");
    ok(res.truncated, "flagged truncated");
    is_str(calcore_time_format(res.complete_until, buf), "20240107T224000Z",
           "complete until the 10001st minute");
    memset(&o, 0, sizeof(o));
    o.max_instances = 1000000;
    o.max_steps = 1000;
    calcore_expand(minutely, CALCORE_TIME_MIN, CALCORE_TIME_MAX, &o, NULL,
                   NULL, &res, pool);
    ok(res.truncated && res.count < 1001, "the step budget also bounds it "
       "(%u)", res.count);
    memset(&o, 0, sizeof(o));
    t0 = apr_time_now();
    calcore_expand(minutely, CALCORE_TIME_MIN, CALCORE_TIME_MAX, &o, NULL,
                   NULL, &res, pool);
    ok(res.truncated && res.count == CALCORE_MAX_INSTANCES_HARD
       && apr_time_now() - t0 < apr_time_from_msec(900),
       "default limits: %u instances in %" APR_TIME_T_FMT " ms", res.count,
       apr_time_as_msec(apr_time_now() - t0));
}

/* ---- VTODO / VJOURNAL and the overlap rules ----------------------------- */

static void test_overlap_rules(void)
{
    calcore_object_t *due = obj_of(HEAD "BEGIN:VTODO\r\nUID:t1@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\nDUE:20240610T120000Z\r\n"
        "END:VTODO\r\n" TAIL);
    calcore_object_t *nodate = obj_of(HEAD "BEGIN:VTODO\r\n"
        "UID:t2@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "END:VTODO\r\n" TAIL);
    calcore_object_t *created = obj_of(HEAD "BEGIN:VTODO\r\n"
        "UID:t3@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "CREATED:20240601T000000Z\r\nEND:VTODO\r\n" TAIL);
    calcore_object_t *tdur = obj_of(HEAD "BEGIN:VTODO\r\n"
        "UID:t4@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240610T100000Z\r\nDURATION:PT1H\r\nEND:VTODO\r\n" TAIL);
    calcore_object_t *journal = obj_of(HEAD "BEGIN:VJOURNAL\r\n"
        "UID:j@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "SUMMARY:x\r\nEND:VJOURNAL\r\n" TAIL);
    calcore_object_t *point = obj_of(HEAD VEV("pt@example.com",
        "DTSTART:20240610T100000Z\r\n") TAIL);
    calcore_object_t *ev = obj_of(HEAD VEV("iv@example.com",
        "DTSTART:20240610T100000Z\r\nDTEND:20240610T110000Z\r\n") TAIL);
    calcore_span_t sp;

    is_str(expand_str(due, "20240610T110000Z", "20240610T120000Z", NULL,
                      NULL, NULL), "20240610T120000Z/20240610T120000Z",
           "VTODO DUE only: range ending at DUE matches (end >= DUE)");
    is_str(expand_str(due, "20240610T120000Z", "20240610T130000Z", NULL,
                      NULL, NULL), "",
           "VTODO DUE only: range starting at DUE does not (start < DUE)");
    is_str(expand_str(nodate, "19000101T000000Z", "19000102T000000Z", NULL,
                      NULL, NULL), "00000101T000000Z/99991231T235959Z",
           "VTODO without dates matches any range");
    is_str(span_str(nodate, NULL, NULL),
           "00000101T000000Z/99991231T235959Z", "... its span is all time");
    is_str(expand_str(created, "20240501T000000Z", "20240601T000000Z", NULL,
                      NULL, NULL), "", "VTODO CREATED only: end > CREATED");
    is_str(expand_str(created, "20300101T000000Z", "20300102T000000Z", NULL,
                      NULL, NULL), "20240601T000000Z/99991231T235959Z",
           "... matches any later range");
    is_str(expand_str(tdur, "20240610T110000Z", "20240610T120000Z", NULL,
                      NULL, NULL), "20240610T100000Z/20240610T110000Z",
           "VTODO DTSTART+DURATION: start <= DTSTART+DURATION is inclusive");
    is_str(expand_str(journal, NULL, NULL, NULL, NULL, NULL), "",
           "VJOURNAL without DTSTART has no instance");
    is_str(span_str(journal, NULL, &sp), "empty", "... and an empty span");
    is_str(expand_str(point, "20240610T100000Z", "20240610T110000Z", NULL,
                      NULL, NULL), "20240610T100000Z/20240610T100000Z",
           "zero-length VEVENT at the range start matches");
    is_str(expand_str(point, "20240610T090000Z", "20240610T100000Z", NULL,
                      NULL, NULL), "", "... at the range end does not");
    is_str(expand_str(ev, "20240610T110000Z", "20240610T120000Z", NULL,
                      NULL, NULL), "", "VEVENT ending at the range start "
           "does not match");
    is_str(expand_str(ev, "20240610T105959Z", "20240610T120000Z", NULL,
                      NULL, NULL), "20240610T100000Z/20240610T110000Z",
           "... one second earlier it does");
}

/* ---- jumping to a far window = iterating from DTSTART ------------------- */

typedef struct {
    calcore_time_t ws, we;
    list_t l;
} filter_t;

static apr_status_t add_filtered(void *baton, const calcore_instance_t *in)
{
    filter_t *f = baton;

    if (calcore_instance_overlaps(in, f->ws, f->we)) {
        return add(&f->l, in);
    }
    return APR_SUCCESS;
}

static void test_jump_equivalence(void)
{
    static const char *const rules[] = {
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU",
        "FREQ=WEEKLY;INTERVAL=3",
        "FREQ=WEEKLY;INTERVAL=4;BYDAY=SU;WKST=MO",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYSETPOS=2;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=YEARLY;INTERVAL=3;BYMONTH=3,4;BYDAY=2SU",
        "FREQ=YEARLY;BYWEEKNO=14;BYDAY=MO",
        "FREQ=YEARLY;BYYEARDAY=100,-200",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=DAILY;BYMONTH=4;BYDAY=SA,SU",
        "FREQ=HOURLY;INTERVAL=7",
        "FREQ=HOURLY;INTERVAL=5;BYDAY=TU",
        "FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10",
        "FREQ=DAILY;UNTIL=20310415T000000Z",
        NULL
    };
    int i;

    for (i = 0; rules[i]; i++) {
        calcore_object_t *obj = obj_of(apr_psprintf(pool, HEAD
            VEV("j@example.com",
                "DTSTART;TZID=Europe/Berlin:20210305T093000\r\n"
                "DTEND;TZID=Europe/Berlin:20210305T100000\r\n"
                "RRULE:%s\r\n") TAIL, rules[i]));
        calcore_expand_opts_t o;
        calcore_expand_result_t res;
        filter_t f;
        const char *jumped;
        apr_pool_t *scratch;

        jumped = expand_str(obj, "20310301T000000Z", "20340101T000000Z",
                            NULL, NULL, NULL);
        memset(&o, 0, sizeof(o));
        memset(&f, 0, sizeof(f));
        o.max_instances = 200000;
        o.max_steps = 400000;
        f.ws = utc("20310301T000000Z");
        f.we = utc("20340101T000000Z");
        apr_pool_create(&scratch, pool);
        calcore_expand(obj, CALCORE_TIME_MIN, f.we, &o, add_filtered, &f,
                       &res, scratch);
        apr_pool_destroy(scratch);
        ok(!res.truncated && f.l.buf && strcmp(jumped, f.l.buf) == 0,
           "%s: window 2031-2033 reached by jumping = full iteration "
           "(%d chars)", rules[i], f.l.buf ? (int)strlen(f.l.buf) : 0);
        if (!f.l.buf || strcmp(jumped, f.l.buf) != 0) {
            diag("jumped: %.200s", jumped);
            diag("full:   %.200s", f.l.buf ? f.l.buf : "(none)");
        }
    }
}

/* ---- callback contract -------------------------------------------------- */

static apr_status_t stop_at_two(void *baton, const calcore_instance_t *in)
{
    int *n = baton;

    return ++*n == 2 ? APR_EGENERAL : APR_SUCCESS;
}

static void test_callback(void)
{
    calcore_object_t *obj = obj_of(HEAD VEV("cb@example.com",
        "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\n") TAIL);
    int n = 0;

    is_int(calcore_expand(obj, CALCORE_TIME_MIN, CALCORE_TIME_MAX, NULL,
                          stop_at_two, &n, NULL, pool), APR_EGENERAL,
           "a callback error stops the expansion and is returned");
    is_int(n, 2, "... after the second instance");
    is_int(calcore_expand(obj, 10, 5, NULL, NULL, NULL, NULL, pool),
           APR_EINVAL, "start after end is APR_EINVAL");
}

/* ---- the expansion memo ------------------------------------------------- */

/* calcore_object_parse() keeps what its limit check walked; calcore_expand()
 * replays it when that gives exactly what a fresh walk gives.  Every field
 * of every instance, the result and the status are compared with a fresh
 * walk (memo off) for many windows and limits, truncation included. */
static const char *const memo_texts[] = {
    HEAD VEV("m1@example.com", "DTSTART:20240610T090000Z\r\n"
             "DTEND:20240610T100000Z\r\nRRULE:FREQ=DAILY;COUNT=10\r\n"
             "EXDATE:20240612T090000Z\r\nRDATE:20240701T120000Z\r\n")
        VEV("m1@example.com", "RECURRENCE-ID:20240613T090000Z\r\n"
            "DTSTART:20240620T150000Z\r\nDTEND:20240620T160000Z\r\n") TAIL,
    HEAD BERLIN_VTZ VEV("m2@example.com",
             "DTSTART;TZID=Europe/Berlin:20240304T180000\r\n"
             "DURATION:PT90M\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n"
             "EXDATE;TZID=Europe/Berlin:20240401T180000\r\n")
        VEV("m2@example.com",
            "RECURRENCE-ID;TZID=Europe/Berlin:20240403T180000\r\n"
            "DTSTART;TZID=Europe/Berlin:20250101T080000\r\n"
            "DURATION:PT1H\r\n") TAIL,
    HEAD BERLIN_VTZ VEV("m3@example.com",
             "DTSTART;TZID=Europe/Berlin:20240330T220000\r\n"
             "DURATION:PT30M\r\nRRULE:FREQ=HOURLY;COUNT=60\r\n") TAIL,
    HEAD VEV("m4@example.com", "DTSTART:20240115T083000\r\n"
             "DTEND:20240115T093000\r\n"
             "RRULE:FREQ=MONTHLY;UNTIL=20251231T000000\r\n") TAIL,
    HEAD VEV("m5@example.com", "DTSTART;VALUE=DATE:20240229\r\n"
             "RRULE:FREQ=YEARLY\r\n") TAIL,
    HEAD "BEGIN:VTODO\r\nUID:m6@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240601T090000Z\r\nDUE:20240601T090000Z\r\n"
        "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VTODO\r\n" TAIL,
    HEAD "BEGIN:VTODO\r\nUID:m7@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240601T090000Z\r\nDURATION:P2D\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20240901T000000Z\r\nEND:VTODO\r\n" TAIL,
    HEAD "BEGIN:VTODO\r\nUID:m8@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DUE:20240615T170000Z\r\nEND:VTODO\r\n" TAIL,
    HEAD "BEGIN:VTODO\r\nUID:m9@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "CREATED:20240501T000000Z\r\nEND:VTODO\r\n" TAIL,
    HEAD "BEGIN:VTODO\r\nUID:m10@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\nEND:VTODO\r\n" TAIL,
    HEAD "BEGIN:VJOURNAL\r\nUID:m11@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240610\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VJOURNAL\r\n" TAIL,
    HEAD VEV("m12@example.com", "DTSTART:20240610T090000Z\r\n"
             "RRULE:FREQ=DAILY;COUNT=6\r\n"
             "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=6\r\n"
             "RDATE:20240611T090000Z\r\n") TAIL,
    HEAD VEV("m13@example.com", "RECURRENCE-ID:20240610T090000Z\r\n"
             "DTSTART:20240610T110000Z\r\n")
        VEV("m13@example.com", "RECURRENCE-ID:20240617T090000Z\r\n"
            "DTSTART:20240616T110000Z\r\nDTEND:20240616T120000Z\r\n") TAIL,
    HEAD VEV("m14@example.com", "DTSTART:20240610T090000Z\r\n"
             "DTEND:20240610T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n")
        VEV("m14@example.com", "RECURRENCE-ID:20240611T090000Z\r\n"
            "DTSTART:20240611T090000Z\r\nDTEND:20240611T100000Z\r\n")
        VEV("m14@example.com", "RECURRENCE-ID;VALUE=DATE:20240617\r\n"
            "DTSTART:20240618T090000Z\r\nDTEND:20240618T100000Z\r\n") TAIL,
    HEAD VEV("m15@example.com", "DTSTART:20240610T090000Z\r\n"
             "RRULE:FREQ=DAILY;COUNT=12\r\n"
             "EXRULE:FREQ=WEEKLY;COUNT=2\r\n") TAIL,
    HEAD VEV("m16@example.com", "DTSTART:20240610T090000Z\r\n"
             "DTEND:20240610T100000Z\r\n"
             "RDATE;VALUE=PERIOD:20240612T090000Z/20240613T090000Z,"
             "20240614T090000Z/PT3H\r\nRDATE;VALUE=DATE:20240620\r\n") TAIL,
    HEAD VEV("m17@example.com", "DTSTART:20240610T090000Z\r\n") TAIL,
    HEAD VEV("m18@example.com", "DTSTART:20240610T090000Z\r\n"
             "DTEND:20240610T100000Z\r\n"
             "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=5\r\n") TAIL,
    HEAD VEV("m19@example.com", "DTSTART:20230101T070000Z\r\n"
             "DTEND:20230101T073000Z\r\nRRULE:FREQ=DAILY\r\n") TAIL,
    HEAD "BEGIN:VFREEBUSY\r\nUID:m20@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART:20240610T000000Z\r\n"
        "DTEND:20240617T000000Z\r\n"
        "FREEBUSY:20240611T090000Z/PT1H\r\nEND:VFREEBUSY\r\n" TAIL,
    NULL
};

static apr_status_t add_all(void *baton, const calcore_instance_t *in)
{
    list_t *l = baton;
    char item[160];
    int n;

    n = snprintf(item, sizeof(item), "%s%" APR_INT64_T_FMT "/%"
                 APR_INT64_T_FMT "/%" APR_INT64_T_FMT "/%x/%d",
                 l->len ? " " : "", (apr_int64_t)in->start,
                 (apr_int64_t)in->end, (apr_int64_t)in->recurrence_id,
                 in->flags, (int)in->rule);
    if (l->len + n + 1 > l->cap) {
        apr_size_t cap = l->cap ? l->cap * 2 : 256;
        char *nb;

        while (cap < l->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(pool, cap);
        if (l->len) {
            memcpy(nb, l->buf, l->len);
        }
        l->buf = nb;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, item, n + 1);
    l->len += n;
    return APR_SUCCESS;
}

static const char *expand_all(const calcore_object_t *obj, calcore_time_t ws,
                              calcore_time_t we,
                              const calcore_expand_opts_t *o)
{
    calcore_expand_result_t res;
    list_t l;
    apr_pool_t *scratch;
    apr_status_t rv;

    memset(&l, 0, sizeof(l));
    apr_pool_create(&scratch, pool);
    rv = calcore_expand(obj, ws, we, o, add_all, &l, &res, scratch);
    apr_pool_destroy(scratch);
    return apr_psprintf(pool, "rv %d count %u truncated %d until %"
                        APR_INT64_T_FMT " after %d: %s", rv, res.count,
                        res.truncated, (apr_int64_t)res.complete_until,
                        res.more_after, l.buf ? l.buf : "");
}

static void test_memo_replay(void)
{
    static const char *const times[] = {
        NULL, "20230101T000000Z", "20240331T003000Z", "20240601T000000Z",
        "20240610T090000Z", "20240610T093000Z", "20240617T000000Z",
        "20260101T000000Z", "20260602T000000Z", NULL
    };
    /* max_instances, max_steps (a walk cut short by its step budget is
     * never replayed) */
    static const unsigned maxes[][2] = {
        { 500, 0 }, { 1, 0 }, { 3, 0 }, { 2000, 0 }, { 500, 5 }, { 500, 40 }
    };
    enum { NM = sizeof(maxes) / sizeof(maxes[0]) };
    enum { NT = sizeof(times) / sizeof(times[0]) };
    calcore_time_t t[NT];
    const icaltimezone *berlin = calcore_tz_system("Europe/Berlin");
    int i, a, b, k, z, lim;

    for (i = 0; i < NT; i++) {
        t[i] = !times[i] ? (i ? CALCORE_TIME_MAX : CALCORE_TIME_MIN)
                         : utc(times[i]);
    }
    for (i = 0; memo_texts[i]; i++) {
        for (lim = 0; lim < 2; lim++) {
            for (z = 0; z < 3; z++) {
                calcore_limits_t l;
                calcore_object_t *on = NULL, *off = NULL;
                calcore_precond_e pc;
                const char *why;
                apr_pool_t *op;
                int same = 1, n = 0;
                unsigned replayed;

                memset(&l, 0, sizeof(l));
                l.now = utc("20240601T000000Z");
                l.max_instances = lim ? 50 : 0;
                l.floating = z == 1 ? berlin : NULL;
                calcore_object_parse(&on, &pc, &why, memo_texts[i],
                                     strlen(memo_texts[i]), &l, pool);
                calcore__expand_memo_enable(0);
                calcore_object_parse(&off, &pc, &why, memo_texts[i],
                                     strlen(memo_texts[i]), &l, pool);
                calcore__expand_memo_enable(1);
                if (!on || !off) {
                    ok(!on && !off, "m%d: rejected alike with and without "
                       "the memo (%s)", i + 1, why ? why : "");
                    continue;
                }
                for (a = 0; a < NT; a++) {
                    for (b = a; b < NT; b++) {
                        for (k = 0; k < NM; k++) {
                            calcore_expand_opts_t o;
                            const char *x, *y;

                            memset(&o, 0, sizeof(o));
                            /* z == 2: expanded in another zone than the
                             * limit check's (never replayed) */
                            o.floating = z == 1 || z == 2 ? berlin : NULL;
                            o.max_instances = maxes[k][0];
                            o.max_steps = maxes[k][1];
                            x = expand_all(on, t[a], t[b], &o);
                            calcore__expand_memo_enable(0);
                            y = expand_all(off, t[a], t[b], &o);
                            calcore__expand_memo_enable(1);
                            n++;
                            if (strcmp(x, y) != 0) {
                                if (same) {
                                    diag("window %s - %s, max %u/%u:",
                                         times[a] ? times[a] : "MIN",
                                         times[b] ? times[b] : "MAX",
                                         maxes[k][0], maxes[k][1]);
                                    diag("memo:  %.300s", x);
                                    diag("fresh: %.300s", y);
                                }
                                same = 0;
                            }
                        }
                    }
                }
                replayed = calcore__object_memo(on, &op)->rec_reused;
                ok(same, "m%d, %s, floating %s: %d expansions = a fresh "
                   "walk (%u replayed)", i + 1,
                   lim ? "max-instances 50" : "no limits",
                   z == 0 ? "UTC" : z == 1 ? "Berlin" : "Berlin, checked "
                   "in UTC", n, replayed);
                if (z == 2) {
                    ok(replayed == 0, "... none replayed in another zone");
                }
            }
        }
    }
}

/* ---- threads ------------------------------------------------------------ */

/* After calcore_init() any number of threads may parse and expand their own
 * objects; TZIDs through system zones, aliases, Windows ids and VTIMEZONEs
 * must give the single-threaded results and never grow libical's global
 * zone array. */
static const char *const thread_texts[] = {
    HEAD VEV("t1@example.com", "DTSTART;TZID=US/Eastern:20240301T100000\r\n"
             "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=200\r\n") TAIL,
    HEAD VEV("t2@example.com",
             "DTSTART;TZID=W. Europe Standard Time:20240301T100000\r\n"
             "RRULE:FREQ=WEEKLY;BYDAY=MO,FR\r\n"
             "EXDATE;TZID=W. Europe Standard Time:20240304T100000\r\n") TAIL,
    HEAD BERLIN_VTZ VEV("t3@example.com",
             "DTSTART;TZID=Europe/Berlin:20240301T100000\r\n"
             "RRULE:FREQ=MONTHLY;BYDAY=-1FR\r\n") TAIL,
    HEAD VEV("t4@example.com", "DTSTART;TZID=Asia/Calcutta:20240301T100000\r\n"
             "RRULE:FREQ=HOURLY;INTERVAL=7;COUNT=300\r\n") TAIL,
    NULL
};

static const char *thread_results[8];     /* written before the threads */

typedef struct {
    int failures;                         /* written by its thread only */
} thread_job_t;

static const char *thread_expand(const char *text, apr_pool_t *p)
{
    calcore_object_t *obj;
    calcore_precond_e pc;
    const char *why;
    calcore_expand_result_t res;
    calcore_span_t sp;
    char a[CALCORE_TIME_STRLEN], b[CALCORE_TIME_STRLEN];
    calcore_time_t ws, we;

    if (calcore_object_parse(&obj, &pc, &why, text, strlen(text), NULL, p)) {
        return "rejected";
    }
    calcore_time_parse("20240101T000000Z", &ws);
    calcore_time_parse("20260101T000000Z", &we);
    calcore_expand(obj, ws, we, NULL, NULL, NULL, &res, p);
    calcore_expand_span(obj, NULL, &sp, p);
    return apr_psprintf(p, "%u %s %s", res.count,
                        calcore_time_format(sp.start, a),
                        calcore_time_format(sp.end, b));
}

static void *APR_THREAD_FUNC thread_main(apr_thread_t *t, void *data)
{
    thread_job_t *job = data;
    apr_pool_t *p;
    int round, i;

    apr_pool_create(&p, NULL);
    for (round = 0; round < 10; round++) {
        for (i = 0; thread_texts[i]; i++) {
            if (strcmp(thread_expand(thread_texts[i], p),
                       thread_results[i])) {
                job->failures++;
            }
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void test_threads(void)
{
    enum { NT = 8 };
    apr_thread_t *th[NT];
    thread_job_t jobs[NT];
    size_t zones = icaltimezone_get_builtin_timezones()->num_elements;
    int i, started = 0, failures = 0;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; thread_texts[i]; i++) {
        thread_results[i] = thread_expand(thread_texts[i], pool);
        diag("reference %d: %s", i, thread_results[i]);
    }
    for (i = 0; i < NT; i++) {
        if (apr_thread_create(&th[started], NULL, thread_main,
                              &jobs[started], pool) == APR_SUCCESS) {
            started++;
        }
    }
    for (i = 0; i < started; i++) {
        apr_status_t trv;

        apr_thread_join(&trv, th[i]);
        failures += jobs[i].failures;
    }
    is_int(started, NT, "%d threads started", NT);
    is_int(failures, 0, "%d threads x 10 rounds: identical results", NT);
    is_int(icaltimezone_get_builtin_timezones()->num_elements, zones,
           "libical's global zone array did not grow");
}

int main(void)
{
    int round;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (calcore_init(pool) != APR_SUCCESS) {
        ok(0, "calcore_init");
        return done_testing();
    }

    /* every expectation twice: with the expansion memo (most expansions
     * below replay what parsing walked), then without it (the walker) */
    for (round = 0; round < 2; round++) {
        if (round) {
            diag("the same without the expansion memo");
        }
        calcore__expand_memo_enable(!round);
        test_berlin();
        test_new_york();
        test_gap_and_nominal();
        test_allday_floating();
        test_overrides();
        test_exdate_rdate();
        test_rules();
        test_unbounded();
        test_pathological();
        test_overlap_rules();
        test_jump_equivalence();
        test_callback();
    }
    calcore__expand_memo_enable(1);
    test_memo_replay();
    test_threads();

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
