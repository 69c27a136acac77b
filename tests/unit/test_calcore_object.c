/*
 * test_calcore_object.c - validation of calendar object resources: one
 * fixture per precondition (tests/data/ics/), byte fidelity of accepted
 * objects, the tolerated client sloppiness, the collection limits, and
 * hostile input generated on the fly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "calcore.h"
#include "calcore_private.h"
#include "tap.h"

static apr_pool_t *pool;
static const char *datadir;

/* tests/data/ics, found relative to this source file (the tests run from
 * the top of the tree); CALCORE_TEST_DATA overrides. */
static void find_datadir(void)
{
    const char *env = getenv("CALCORE_TEST_DATA");
    const char *slash = strrchr(__FILE__, '/');

    if (env) {
        datadir = env;
    }
    else if (slash) {
        datadir = apr_pstrcat(pool, apr_pstrndup(pool, __FILE__,
                                                  slash - __FILE__),
                              "/../data/ics", NULL);
    }
    else {
        datadir = "../data/ics";
    }
}

static const char *load(const char *name, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    const char *path = apr_pstrcat(pool, datadir, "/", name, NULL);
    apr_size_t n;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        diag("cannot read %s", path);
        *len = 0;
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(pool, n + 1);
    apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static calcore_precond_e check(const char *data, apr_size_t len,
                               const calcore_limits_t *lim,
                               calcore_object_t **objp, const char **whyp)
{
    calcore_object_t *obj = NULL;
    calcore_precond_e pc;
    const char *why;
    apr_status_t rv;

    rv = calcore_object_parse(&obj, &pc, &why, data, len, lim, pool);
    if ((rv == APR_SUCCESS) != (pc == CALCORE_PRECOND_NONE)
        || (rv != APR_SUCCESS && rv != CALCORE_EINVALID)
        || (rv == APR_SUCCESS) != (obj != NULL)
        || (rv != APR_SUCCESS && !why)) {
        diag("inconsistent result: rv %d, precond %d, obj %p", rv, pc,
             (void *)obj);
        return (calcore_precond_e)-1;
    }
    if (objp) {
        *objp = obj;
    }
    if (whyp) {
        *whyp = why;
    }
    return pc;
}

static calcore_precond_e check_file(const char *name,
                                    const calcore_limits_t *lim,
                                    const char **whyp)
{
    apr_size_t len;
    const char *data = load(name, &len);

    if (!data) {
        return (calcore_precond_e)-1;
    }
    return check(data, len, lim, NULL, whyp);
}

static calcore_time_t utc(const char *s)
{
    calcore_time_t t = 0;

    calcore_time_parse(s, &t);
    return t;
}

/* ---- one fixture per rule ----------------------------------------------- */

typedef struct {
    const char *file;
    calcore_precond_e want;
} fixture_t;

#define DATA CALCORE_PRECOND_VALID_CALENDAR_DATA
#define OBJR CALCORE_PRECOND_VALID_CALENDAR_OBJECT_RESOURCE
#define SUPP CALCORE_PRECOND_SUPPORTED_CALENDAR_COMPONENT

static const fixture_t fixtures[] = {
    /* accepted, including what sloppy clients send */
    { "ok-event.ics", CALCORE_PRECOND_NONE },
    { "ok-todo.ics", CALCORE_PRECOND_NONE },
    { "ok-journal.ics", CALCORE_PRECOND_NONE },
    { "ok-vfreebusy.ics", CALCORE_PRECOND_NONE },
    { "ok-fidelity.ics", CALCORE_PRECOND_NONE },
    { "ok-tzid-system.ics", CALCORE_PRECOND_NONE },
    { "ok-tzid-windows.ics", CALCORE_PRECOND_NONE },
    { "ok-tzid-freeassoc.ics", CALCORE_PRECOND_NONE },
    { "ok-tzid-alias.ics", CALCORE_PRECOND_NONE },
    { "ok-floating.ics", CALCORE_PRECOND_NONE },
    { "ok-allday.ics", CALCORE_PRECOND_NONE },
    { "ok-allday-same-end.ics", CALCORE_PRECOND_NONE },
    { "ok-rrule-and-rid.ics", CALCORE_PRECOND_NONE },
    { "ok-overrides.ics", CALCORE_PRECOND_NONE },
    { "ok-no-prodid.ics", CALCORE_PRECOND_NONE },
    { "ok-unknown-iana-prop.ics", CALCORE_PRECOND_NONE },
    { "ok-bom-lf.ics", CALCORE_PRECOND_NONE },
    { "limit-1990.ics", CALCORE_PRECOND_NONE },
    { "limit-2040.ics", CALCORE_PRECOND_NONE },
    { "limit-until-2035.ics", CALCORE_PRECOND_NONE },
    { "limit-daily-unbounded.ics", CALCORE_PRECOND_NONE },
    { "limit-daily-count20.ics", CALCORE_PRECOND_NONE },
    { "limit-attendees.ics", CALCORE_PRECOND_NONE },
    /* CALDAV:valid-calendar-data */
    { "data-empty.ics", DATA },
    { "data-garbage.ics", DATA },
    { "data-not-vcalendar.ics", DATA },
    { "data-bad-utf8.ics", DATA },
    { "data-control-char.ics", DATA },
    { "data-nul.ics", DATA },
    { "data-bare-cr.ics", DATA },
    { "data-unclosed.ics", DATA },
    { "data-mismatched-end.ics", DATA },
    { "data-trailing-garbage.ics", DATA },
    { "data-bad-datetime.ics", DATA },
    { "data-bad-rrule.ics", DATA },
    { "data-line-no-colon.ics", DATA },
    { "data-bad-param.ics", DATA },
    { "data-unknown-tzid.ics", DATA },
    { "data-tzid-traversal.ics", DATA },
    { "data-dtend-before-dtstart.ics", DATA },
    { "data-dtend-and-duration.ics", DATA },
    { "data-due-and-duration.ics", DATA },
    { "data-negative-duration.ics", DATA },
    { "data-valarm-no-action.ics", DATA },
    { "data-valarm-no-trigger.ics", DATA },
    { "data-valarm-toplevel.ics", DATA },
    { "data-no-dtstamp.ics", DATA },
    { "data-no-dtstart.ics", DATA },
    { "data-two-dtstart.ics", DATA },
    { "data-version-1.ics", DATA },
    { "data-feb30.ics", DATA },
    { "data-rrule-never.ics", DATA },
    { "data-rrule-secondly.ics", DATA },
    { "data-date-byhour.ics", DATA },
    { "data-vtimezone-dup.ics", DATA },
    { "data-vtimezone-minutely.ics", DATA },
    { "data-vtimezone-tzid-traversal.ics", DATA },
    /* CALDAV:valid-calendar-object-resource */
    { "objr-method.ics", OBJR },
    { "objr-two-vcalendars.ics", OBJR },
    { "objr-no-component.ics", OBJR },
    { "objr-mixed-types.ics", OBJR },
    { "objr-no-uid.ics", OBJR },
    { "objr-two-uid-props.ics", OBJR },
    { "objr-uid-mismatch.ics", OBJR },
    { "objr-two-masters.ics", OBJR },
    { "objr-duplicate-rid.ics", OBJR },
    /* CALDAV:supported-calendar-component (a type calcore does not do) */
    { "supp-vpoll.ics", SUPP },
    { NULL, 0 }
};

static void test_fixtures(void)
{
    int i;

    for (i = 0; fixtures[i].file; i++) {
        const char *why = NULL;
        calcore_precond_e got = check_file(fixtures[i].file, NULL, &why);

        is_int(got, fixtures[i].want, "%s -> %s%s%s", fixtures[i].file,
               fixtures[i].want ? calcore_precond_name(fixtures[i].want)
                                : "accepted",
               why ? ": " : "", why ? why : "");
    }
}

/* ---- byte fidelity ------------------------------------------------------ */

static void test_fidelity(void)
{
    int i;

    for (i = 0; fixtures[i].file; i++) {
        apr_size_t len, olen;
        const char *data;
        const char *text;
        calcore_object_t *obj;

        if (fixtures[i].want != CALCORE_PRECOND_NONE) {
            continue;
        }
        data = load(fixtures[i].file, &len);
        if (check(data, len, NULL, &obj, NULL) != CALCORE_PRECOND_NONE) {
            ok(0, "%s: parse failed", fixtures[i].file);
            continue;
        }
        text = calcore_object_text(obj, &olen);
        ok(olen == len && memcmp(text, data, len) == 0 && text != data,
           "%s: text kept byte for byte (%" APR_SIZE_T_FMT " bytes, a "
           "private copy)", fixtures[i].file, len);
    }
}

/* The fidelity fixture holds everything libical rewrites or drops. */
static void test_fidelity_details(void)
{
    apr_size_t len, olen;
    const char *data = load("ok-fidelity.ics", &len);
    calcore_object_t *obj;
    const char *text;

    if (check(data, len, NULL, &obj, NULL) != CALCORE_PRECOND_NONE) {
        ok(0, "fidelity fixture parses");
        return;
    }
    text = calcore_object_text(obj, &olen);
    ok(strstr(text, "\r\n") && !strstr(text, "\n\n"), "CRLF line ends kept");
    ok(strstr(text, "because \r\n it is longer") != NULL,
       "folded line kept folded");
    ok(strstr(text, "(M\xc3\r\n \xbcller)") != NULL,
       "fold inside a UTF-8 sequence kept (and accepted)");
    ok(strstr(text, "X-TEXT-WITH-COMMA:a,b\\,c;d\r\n") != NULL,
       "X- property with escaped comma kept (libical drops the escape)");
    ok(strstr(text, "X-EMPTY-PROP:\r\n") != NULL,
       "empty X- property kept (libical drops it)");
    ok(strstr(text, "MEMBER=\"mailto:a@\r\n example.com\",\"mailto:b@"
                    "example.com\"") != NULL,
       "multi-valued parameter kept (libical keeps one value)");
    ok(strstr(text, "BEGIN:X-CUSTOM-COMP\r\nX-IN-CUSTOM:value\r\n"
                    "END:X-CUSTOM-COMP") != NULL,
       "unknown X- component kept (libical does not write it)");
    ok(strstr(text, "X-FOO=\"a;b:c\"") != NULL, "X- parameter kept");
    ok(strstr(text, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 "
                    "\xe4\xbc\x9a\xe8\xad\xb0 \xf0\x9f\x8e\x89") != NULL,
       "non-ASCII UTF-8 kept");
    ok(calcore_object_lossy(obj) & CALCORE_LOSSY_EMPTY_VALUE,
       "lossy: empty value noted");
    ok(calcore_object_lossy(obj) & CALCORE_LOSSY_X_COMPONENT,
       "lossy: X- component noted");
    is_str(calcore_object_uid(obj), "fidelity-1@example.com", "UID");
    is_int(calcore_object_kind(obj), CALCORE_COMP_VEVENT, "kind VEVENT");
}

/* ---- tolerated input ---------------------------------------------------- */

static void test_tolerated(void)
{
    apr_size_t len;
    const char *data;
    calcore_object_t *obj;
    icalproperty *p;
    struct icaltimetype tt;

    data = load("ok-tzid-windows.ics", &len);
    check(data, len, NULL, &obj, NULL);
    p = icalcomponent_get_first_property(calcore_object_master(obj),
                                         ICAL_DTSTART_PROPERTY);
    calcore_tz_prop_time(calcore_object_tzset(obj), p, &tt, NULL, NULL);
    ok(tt.zone == calcore_tz_system("Europe/Berlin"),
       "Windows TZID resolved to Europe/Berlin");

    data = load("ok-rrule-and-rid.ics", &len);
    check(data, len, NULL, &obj, NULL);
    ok(obj && calcore_object_master(obj) == NULL,
       "RRULE+RECURRENCE-ID component is not a master");
    ok(obj && calcore_object_is_recurring(obj), "... but recurring");

    data = load("ok-unknown-iana-prop.ics", &len);
    check(data, len, NULL, &obj, NULL);
    is_int(calcore_object_lossy(obj),
           CALCORE_LOSSY_UNKNOWN_PROPERTY | CALCORE_LOSSY_EMPTY_VALUE,
           "unknown IANA property and empty DESCRIPTION only mark lossy");

    data = load("ok-overrides.ics", &len);
    check(data, len, NULL, &obj, NULL);
    is_int(calcore_object_components(obj)->nelts, 2, "master + override");
    ok(calcore_object_master(obj)
       == APR_ARRAY_IDX(calcore_object_components(obj), 0, icalcomponent *),
       "master found");
}

/* ---- limits ------------------------------------------------------------- */

static void test_limits(void)
{
    calcore_limits_t l;
    calcore_precond_e got;
    const char *why;
    apr_size_t len;
    apr_time_t t0;

    memset(&l, 0, sizeof(l));
    l.max_resource_size = 100;
    got = check_file("ok-event.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_RESOURCE_SIZE, "max-resource-size (%s)",
           why);
    load("ok-event.ics", &len);
    l.max_resource_size = len;
    is_int(check_file("ok-event.ics", &l, NULL), CALCORE_PRECOND_NONE,
           "exactly max-resource-size is fine");

    memset(&l, 0, sizeof(l));
    l.components = CALCORE_COMP_VEVENT;
    got = check_file("ok-todo.ics", &l, &why);
    is_int(got, SUPP, "VTODO in an event-only calendar (%s)", why);
    is_int(check_file("ok-event.ics", &l, NULL), CALCORE_PRECOND_NONE,
           "VEVENT in an event-only calendar");
    l.components = CALCORE_COMP_VTODO | CALCORE_COMP_VJOURNAL;
    is_int(check_file("ok-event.ics", &l, NULL), SUPP,
           "VEVENT in a task/journal calendar");

    memset(&l, 0, sizeof(l));
    l.min_date_time = utc("20000101T000000Z");
    l.max_date_time = utc("20300101T000000Z");
    got = check_file("limit-1990.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MIN_DATE_TIME, "min-date-time (%s)", why);
    got = check_file("limit-2040.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_DATE_TIME, "max-date-time (%s)", why);
    got = check_file("limit-until-2035.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_DATE_TIME,
           "bounded rule whose last instance ends after max-date-time (%s)",
           why);
    is_int(check_file("limit-daily-unbounded.ics", &l, NULL),
           CALCORE_PRECOND_NONE,
           "unbounded rule starting inside the range is fine");
    is_int(check_file("ok-event.ics", &l, NULL), CALCORE_PRECOND_NONE,
           "event inside the range");
    /* open ends of a to-do's time-range span are no dates of the object */
    is_int(check_file("limit-todo-created-only.ics", &l, &why),
           CALCORE_PRECOND_NONE, "VTODO with only CREATED (inside the "
           "range) is fine");
    is_int(check_file("limit-todo-undated.ics", &l, &why),
           CALCORE_PRECOND_NONE, "VTODO without any date is fine");

    memset(&l, 0, sizeof(l));
    l.max_instances = 10;
    l.now = utc("20240601T000000Z");
    got = check_file("limit-daily-count20.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_INSTANCES, "COUNT=20 with max 10 (%s)",
           why);
    l.max_instances = 20;
    is_int(check_file("limit-daily-count20.ics", &l, NULL),
           CALCORE_PRECOND_NONE, "COUNT=20 with max 20");
    l.max_instances = 700;
    got = check_file("limit-daily-unbounded.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_INSTANCES,
           "daily unbounded: > 700 instances within now + 2 years (%s)",
           why);
    l.max_instances = 800;
    is_int(check_file("limit-daily-unbounded.ics", &l, NULL),
           CALCORE_PRECOND_NONE,
           "daily unbounded: fewer than 800 within now + 2 years");
    l.horizon = 30 * 86400;
    l.max_instances = 40;
    is_int(check_file("limit-daily-unbounded.ics", &l, NULL),
           CALCORE_PRECOND_NONE, "a shorter horizon counts fewer");

    {
        static const char long_count[] =
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
            "BEGIN:VEVENT\r\nUID:lc@example.com\r\n"
            "DTSTAMP:20240101T000000Z\r\nDTSTART:20300101T100000Z\r\n"
            "RRULE:FREQ=DAILY;COUNT=5000\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n";

        memset(&l, 0, sizeof(l));
        l.max_instances = 1000;
        l.now = utc("20240601T000000Z");
        got = check(long_count, sizeof(long_count) - 1, &l, NULL, &why);
        is_int(got, CALCORE_PRECOND_MAX_INSTANCES,
               "COUNT=5000 starting beyond the horizon still counts (%s)",
               why);
    }

    t0 = apr_time_now();
    memset(&l, 0, sizeof(l));
    l.max_instances = 1000;
    got = check_file("limit-minutely.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_INSTANCES,
           "FREQ=MINUTELY rejected (%s)", why);
    memset(&l, 0, sizeof(l));
    is_int(check_file("limit-minutely.ics", &l, NULL),
           CALCORE_PRECOND_MAX_INSTANCES,
           "FREQ=MINUTELY rejected by the hard cap without a limit");
    ok(apr_time_now() - t0 < apr_time_from_msec(900),
       "... both within %" APR_TIME_T_FMT " ms",
       apr_time_as_msec(apr_time_now() - t0));

    memset(&l, 0, sizeof(l));
    l.max_attendees_per_instance = 2;
    got = check_file("limit-attendees.ics", &l, &why);
    is_int(got, CALCORE_PRECOND_MAX_ATTENDEES_PER_INSTANCE,
           "override with 3 attendees, limit 2 (%s)", why);
    l.max_attendees_per_instance = 3;
    is_int(check_file("limit-attendees.ics", &l, NULL),
           CALCORE_PRECOND_NONE, "limit 3");
}

/* ---- max-instances: where the count is skipped -------------------------- */

/* The limit check skips counting the instances when the span walk proved
 * the bounded set small enough.  It must still fire exactly where it
 * fires when every instance is counted (the memo off): COUNT at and just
 * above the limit, RDATEs and overrides adding instances, duplicates and
 * EXDATE/EXRULE removing some. */
typedef struct {
    const char *body;            /* VEVENT properties after DTSTART       */
    const char *more;            /* further components (overrides)        */
    unsigned max;                /* max-instances                         */
    unsigned horizon_days;       /* 0 = default                           */
    calcore_precond_e want;
    const char *what;
} count_case_t;

#define MI CALCORE_PRECOND_MAX_INSTANCES
#define OV(body) "BEGIN:VEVENT\r\nUID:c@example.com\r\n" \
                 "DTSTAMP:20240101T000000Z\r\n" body "END:VEVENT\r\n"

static const count_case_t count_cases[] = {
    { "RRULE:FREQ=DAILY;COUNT=10\r\n", "", 10, 0, 0, "COUNT = limit" },
    { "RRULE:FREQ=DAILY;COUNT=11\r\n", "", 10, 0, MI, "COUNT = limit + 1" },
    { "RRULE:FREQ=DAILY;COUNT=9\r\n", "", 10, 0, 0, "COUNT = limit - 1" },
    { "RRULE:FREQ=DAILY;COUNT=9\r\nRDATE:20240801T090000Z\r\n", "", 10,
      0, 0, "COUNT = limit - 1, one RDATE" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\nRDATE:20240801T090000Z\r\n", "", 10,
      0, MI, "COUNT = limit, one RDATE" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\nRDATE:20240612T090000Z\r\n", "", 10,
      0, 0, "COUNT = limit, an RDATE on an instance (one instance)" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\n"
      "RDATE;VALUE=PERIOD:20240612T090000Z/PT3H\r\n", "", 10, 0, 0,
      "COUNT = limit, a PERIOD RDATE on an instance" },
    { "RRULE:FREQ=DAILY;COUNT=8\r\n"
      "RDATE:20240801T090000Z,20240802T090000Z\r\n", "", 10, 0, 0,
      "COUNT = limit - 2, two RDATEs in one property" },
    { "RRULE:FREQ=DAILY;COUNT=9\r\n"
      "RDATE:20240801T090000Z,20240802T090000Z\r\n", "", 10, 0, MI,
      "COUNT = limit - 1, two RDATEs in one property" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\n",
      OV("RECURRENCE-ID:20240612T090000Z\r\nDTSTART:20240801T090000Z\r\n"),
      10, 0, 0, "COUNT = limit, an override moving an instance" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\n",
      OV("RECURRENCE-ID:20240801T090000Z\r\nDTSTART:20240801T090000Z\r\n"),
      10, 0, MI, "COUNT = limit, an override of no instance" },
    { "RRULE:FREQ=DAILY;COUNT=9\r\n",
      OV("RECURRENCE-ID:20240801T090000Z\r\nDTSTART:20240801T090000Z\r\n"),
      10, 0, 0, "COUNT = limit - 1, an override of no instance" },
    { "RRULE:FREQ=DAILY;COUNT=10\r\n",
      OV("RECURRENCE-ID:20240610T090000Z\r\nDTSTART:20240610T100000Z\r\n"),
      10, 0, 0, "COUNT = limit, DTSTART overridden" },
    { "RRULE:FREQ=DAILY;COUNT=11\r\nEXDATE:20240612T090000Z\r\n", "",
      10, 0, 0, "COUNT = limit + 1, one EXDATE" },
    { "RRULE:FREQ=DAILY;COUNT=11\r\nEXDATE:20240610T090000Z\r\n", "",
      10, 0, 0, "COUNT = limit + 1, DTSTART excluded" },
    { "RRULE:FREQ=DAILY;COUNT=12\r\nEXDATE:20240612T090000Z\r\n", "",
      10, 0, MI, "COUNT = limit + 2, one EXDATE" },
    { "RRULE:FREQ=DAILY;COUNT=12\r\n"
      "EXDATE:20240612T090000Z,20240613T090000Z\r\n", "", 10, 0, 0,
      "COUNT = limit + 2, two EXDATEs" },
    { "RRULE:FREQ=DAILY;COUNT=12\r\n"
      "EXRULE:FREQ=DAILY;INTERVAL=5;COUNT=2\r\n", "", 10, 0, 0,
      "COUNT = limit + 2, an EXRULE removing two" },
    { "RRULE:FREQ=DAILY;COUNT=12\r\n"
      "EXRULE:FREQ=DAILY;INTERVAL=5;COUNT=1\r\n", "", 10, 0, MI,
      "COUNT = limit + 2, an EXRULE removing one" },
    { "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10\r\n", "", 10, 0, 0,
      "DTSTART outside the rule, COUNT = limit" },
    { "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=11\r\n", "", 10, 0, MI,
      "DTSTART outside the rule, COUNT = limit + 1" },
    { "RRULE:FREQ=DAILY;UNTIL=20240619T090000Z\r\n", "", 10, 0, 0,
      "UNTIL: limit instances" },
    { "RRULE:FREQ=DAILY;UNTIL=20240620T090000Z\r\n", "", 10, 0, MI,
      "UNTIL: limit + 1 instances" },
    { "RRULE:FREQ=DAILY;COUNT=6\r\nRRULE:FREQ=DAILY;INTERVAL=2;COUNT=6\r\n",
      "", 9, 0, 0, "two overlapping rules: 9 distinct instances, limit 9" },
    { "RRULE:FREQ=DAILY;COUNT=6\r\nRRULE:FREQ=DAILY;INTERVAL=2;COUNT=6\r\n",
      "", 8, 0, MI, "two overlapping rules: 9 distinct instances, limit 8" },
    { "RDATE:20240611T090000Z,20240612T090000Z,20240613T090000Z\r\n", "",
      4, 0, 0, "RDATEs only: limit instances" },
    { "RDATE:20240611T090000Z,20240612T090000Z,20240613T090000Z\r\n", "",
      3, 0, MI, "RDATEs only: limit + 1 instances" },
    { "", "", 1, 0, 0, "not recurring, limit 1" },
    { "RRULE:FREQ=DAILY\r\n", "", 10, 10, 0,
      "unbounded, limit instances within the horizon" },
    { "RRULE:FREQ=DAILY\r\n", "", 10, 11, MI,
      "unbounded, limit + 1 instances within the horizon" },
    { "RRULE:FREQ=DAILY;COUNT=100\r\n", "", 100, 0, 0,
      "COUNT = limit = 100" },
    { "RRULE:FREQ=DAILY;COUNT=101\r\n", "", 100, 0, MI,
      "COUNT = limit + 1 = 101" },
};

static void test_count_shortcut(void)
{
    int i;

    for (i = 0; i < (int)(sizeof(count_cases) / sizeof(count_cases[0]));
         i++) {
        const count_case_t *c = &count_cases[i];
        const char *text = apr_pstrcat(pool,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
            "BEGIN:VEVENT\r\nUID:c@example.com\r\n"
            "DTSTAMP:20240101T000000Z\r\nDTSTART:20240610T090000Z\r\n",
            c->body, "END:VEVENT\r\n", c->more, "END:VCALENDAR\r\n", NULL);
        calcore_limits_t l;
        calcore_precond_e with, without;
        const char *why1 = NULL, *why2 = NULL;

        memset(&l, 0, sizeof(l));
        l.max_instances = c->max;
        l.now = utc("20240610T000000Z");
        l.horizon = (calcore_time_t)c->horizon_days * 86400;
        with = check(text, strlen(text), &l, NULL, &why1);
        calcore__expand_memo_enable(0);
        without = check(text, strlen(text), &l, NULL, &why2);
        calcore__expand_memo_enable(1);
        is_int(with, c->want, "%s (max-instances %u): %s", c->what, c->max,
               why1 ? why1 : "accepted");
        ok(with == without && (why1 == NULL) == (why2 == NULL)
           && (!why1 || strcmp(why1, why2) == 0),
           "... the same when every instance is counted");
    }
}

/* ---- generated hostile input -------------------------------------------- */

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define EV(body) "BEGIN:VEVENT\r\nUID:g@example.com\r\n" \
                 "DTSTAMP:20240101T000000Z\r\n" \
                 "DTSTART:20240610T090000Z\r\n" body "END:VEVENT\r\n"
#define TAIL "END:VCALENDAR\r\n"

static calcore_precond_e check_str(const char *s)
{
    return check(s, strlen(s), NULL, NULL, NULL);
}

static void test_generated(void)
{
    static const struct {
        const char *text;
        calcore_precond_e want;
        const char *name;
    } cases[] = {
        { HEAD EV("SUMMARY:\xc0\xaf\r\n") TAIL, DATA, "overlong UTF-8" },
        { HEAD EV("SUMMARY:\xed\xa0\x80\r\n") TAIL, DATA, "UTF-16 surrogate" },
        { HEAD EV("SUMMARY:\xf4\x90\x80\x80\r\n") TAIL, DATA,
          "code point above U+10FFFF" },
        { HEAD EV("SUMMARY:\xf4\x8f\xbf\xbf\r\n") TAIL, CALCORE_PRECOND_NONE,
          "U+10FFFF" },
        { HEAD EV("SUMMARY:\xe2\x82\r\nX-A:b\r\n") TAIL, DATA,
          "UTF-8 sequence cut by a line end" },
        { HEAD EV("SUMMARY:\x7f\r\n") TAIL, DATA, "DEL character" },
        { HEAD EV("SUMMARY:tab\there\r\n") TAIL, CALCORE_PRECOND_NONE,
          "HTAB inside a value" },
        { HEAD EV("") TAIL "\r\n\r\n", CALCORE_PRECOND_NONE,
          "blank lines after the end" },
        { HEAD EV("SUMMARY:x\r\n") "END:VCALENDAR", CALCORE_PRECOND_NONE,
          "no final line end" },
        { HEAD "BEGIN:VEVENT\r\nUID:g@example.com\r\n"
          "DTSTAMP:20240101T000000Z\r\nDTSTART:20240610T090000Z\r\n"
          "end:vevent\r\n" TAIL, CALCORE_PRECOND_NONE,
          "lower-case END" },
        { HEAD "BEGIN:VEVENT\r\nUID:g@example.com\r\n"
          "DTSTAMP:20240101T000000Z\r\nDTSTART:20240610T090000Z\r\n"
          "BEGIN:VEVENT\r\nUID:g@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
          "END:VEVENT\r\nEND:VEVENT\r\n" TAIL, DATA, "VEVENT inside VEVENT" },
        { HEAD EV("RRULE:FREQ=WEEKLY;UNTIL=20240701T000000Z;COUNT=3\r\n") TAIL,
          DATA, "RRULE with UNTIL and COUNT" },
        { HEAD EV("RRULE:FREQ=MINUTELY;BYMONTH=6\r\n") TAIL, DATA,
          "FREQ=MINUTELY;BYMONTH" },
        { HEAD EV("RRULE:FREQ=HOURLY;BYMONTH=1;BYYEARDAY=200\r\n") TAIL, DATA,
          "impossible HOURLY rule (BYMONTH=1;BYYEARDAY=200)" },
        { HEAD EV("RRULE:FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2\r\n") TAIL,
          CALCORE_PRECOND_NONE, "rare but possible rule (5th Monday in "
          "February)" },
        { HEAD EV("EXDATE;VALUE=DATE:20240611\r\nRRULE:FREQ=DAILY;COUNT=3\r\n")
          TAIL, CALCORE_PRECOND_NONE, "DATE EXDATE on a DATE-TIME event" },
        { HEAD EV("RDATE;VALUE=PERIOD:20240612T100000Z/20240612T090000Z\r\n")
          TAIL, DATA, "RDATE period ending before its start" },
        { HEAD EV("DTEND:20240610T090000Z\r\n") TAIL, CALCORE_PRECOND_NONE,
          "DTEND equal to DTSTART" },
        { HEAD "BEGIN:VTODO\r\nUID:t@example.com\r\n"
          "DTSTAMP:20240101T000000Z\r\nDURATION:PT1H\r\nEND:VTODO\r\n" TAIL,
          DATA, "VTODO with DURATION but no DTSTART" },
        { HEAD "BEGIN:VTODO\r\nUID:t@example.com\r\n"
          "DTSTAMP:20240101T000000Z\r\nEND:VTODO\r\n" TAIL,
          CALCORE_PRECOND_NONE, "VTODO without any date" },
        { HEAD "CALSCALE:CHINESE\r\n" EV("") TAIL, DATA,
          "CALSCALE other than GREGORIAN" },
        { HEAD "BEGIN:X-WHATEVER\r\nX-A:1\r\nEND:X-WHATEVER\r\n" EV("") TAIL,
          CALCORE_PRECOND_NONE, "X- component at the top level" },
        { HEAD EV("DTSTART;TZID=Europe/Berlin:20240610T090000\r\n") TAIL, DATA,
          "second DTSTART" },
        { HEAD EV("X-MS-OLK-WHATEVER;TZID=Not/AZone:20240610T090000\r\n") TAIL,
          CALCORE_PRECOND_NONE, "TZID on an X- property is not checked" },
        { HEAD EV("ATTENDEE;=x:mailto:a@example.com\r\n") TAIL, DATA,
          "bad parameter name" },
        { NULL, 0, NULL }
    };
    char *deep;
    int i;

    for (i = 0; cases[i].text; i++) {
        is_int(check_str(cases[i].text), cases[i].want, "%s", cases[i].name);
    }

    /* 17 nested X- components: rejected before libical recurses. */
    deep = apr_pstrdup(pool, HEAD EV(""));
    for (i = 0; i < 16; i++) {
        deep = apr_pstrcat(pool, deep, "BEGIN:X-N\r\n", NULL);
    }
    for (i = 0; i < 16; i++) {
        deep = apr_pstrcat(pool, deep, "END:X-N\r\n", NULL);
    }
    deep = apr_pstrcat(pool, deep, TAIL, NULL);
    is_int(check_str(deep), DATA, "components nested 17 deep");
    /* 100000 nested components (libical would recurse that deep) */
    {
        apr_size_t n = 100000, k;
        char *big = apr_palloc(pool, n * 24 + 200), *q = big;

        q += sprintf(q, "%s", HEAD);
        for (k = 0; k < n; k++) {
            q += sprintf(q, "BEGIN:X-N\r\n");
        }
        for (k = 0; k < n; k++) {
            q += sprintf(q, "END:X-N\r\n");
        }
        q += sprintf(q, "%s", TAIL);
        is_int(check(big, (apr_size_t)(q - big), NULL, NULL, NULL), DATA,
               "100000 nested components rejected without recursion");
    }
    /* length-delimited input without a NUL (ASan checks the bounds) */
    {
        static const char ev[] = HEAD EV("SUMMARY:exact\r\n") TAIL;
        char *exact = malloc(sizeof(ev) - 1);

        memcpy(exact, ev, sizeof(ev) - 1);
        is_int(check(exact, sizeof(ev) - 1, NULL, NULL, NULL),
               CALCORE_PRECOND_NONE, "buffer without NUL read within its "
               "length");
        free(exact);
    }
    /* a NUL in the middle */
    {
        static const char nul[] = HEAD EV("SUMMARY:a\0b\r\n") TAIL;

        is_int(check(nul, sizeof(nul) - 1, NULL, NULL, NULL), DATA,
               "NUL byte (length-delimited input)");
    }
}

/* ---- stored objects ----------------------------------------------------- */

static void test_load(void)
{
    apr_size_t len;
    const char *data = load("ok-overrides.ics", &len);
    const char *why;
    calcore_object_t *obj;
    static const char stale[] =
        HEAD "BEGIN:VEVENT\r\nUID:s@example.com\r\n"
        "DTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Gone/Zone:20240610T090000\r\nEND:VEVENT\r\n" TAIL;

    is_int(calcore_object_load(&obj, &why, data, len, pool), APR_SUCCESS,
           "stored object loads");
    is_str(calcore_object_uid(obj), "series@example.com", "... UID");
    is_int(calcore_object_components(obj)->nelts, 2, "... components");
    is_int(calcore_object_load(&obj, &why, stale, sizeof(stale) - 1, pool),
           APR_SUCCESS, "stored object with a TZID that no longer resolves "
           "loads (floating)");
    is_int(calcore_object_load(&obj, &why, "garbage", 7, pool),
           CALCORE_EINVALID, "garbage does not load");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    find_datadir();
    if (calcore_init(pool) != APR_SUCCESS) {
        ok(0, "calcore_init");
        return done_testing();
    }

    test_fixtures();
    test_fidelity();
    test_fidelity_details();
    test_tolerated();
    test_limits();
    test_count_shortcut();
    test_generated();
    test_load();

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
