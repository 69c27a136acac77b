/*
 * test_calcore_tz.c - TZID resolution (system names, aliases, Windows ids,
 * prefixed forms), rejection of path-like TZIDs without touching the file
 * system, UTC conversion (DST gap/overlap), time parsing, and validation of
 * CALDAV:calendar-timezone values.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "calcore.h"
#include "calcore_private.h"
#include "tap.h"

/* ---- watching libical's file accesses ----------------------------------- */

/* libical opens zone files with fopen() and probes with access(); both are
 * interposed here (the executable's definitions win over libc's for the
 * shared library too; they must be exported, hence "default" visibility
 * under -fvisibility=hidden) and every path containing 'watch' is
 * counted. */
#define EXPORTED __attribute__((visibility("default")))
static char watch[512];
static int watch_hits;

EXPORTED FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);

    if (!real) {
        real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT,
                                                            "fopen");
    }
    if (watch[0] && strstr(path, watch)) {
        watch_hits++;
    }
    return real(path, mode);
}

EXPORTED int access(const char *path, int mode)
{
    static int (*real)(const char *, int);

    if (!real) {
        real = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
    }
    if (watch[0] && strstr(path, watch)) {
        watch_hits++;
    }
    return real(path, mode);
}

/* ---- helpers ------------------------------------------------------------ */

static apr_pool_t *pool;

static calcore_time_t utc(const char *s)
{
    calcore_time_t t = 0;

    if (calcore_time_parse(s, &t) != APR_SUCCESS) {
        diag("bad time literal %s", s);
    }
    return t;
}

static const char *fmt(calcore_time_t t)
{
    char buf[CALCORE_TIME_STRLEN];

    return apr_pstrdup(pool, calcore_time_format(t, buf));
}

static struct icaltimetype wall(const char *s)
{
    return icaltime_from_string(s);
}

static int parse_ok(const char *text, calcore_precond_e *pc,
                    const char **why)
{
    calcore_object_t *obj;

    return calcore_object_parse(&obj, pc, why, text, strlen(text), NULL,
                                pool) == APR_SUCCESS;
}

#define EVENT_WITH_TZID(tzid) \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" \
    "BEGIN:VEVENT\r\nUID:tz@example.com\r\nDTSTAMP:20240101T000000Z\r\n" \
    "DTSTART;TZID=" tzid ":20240610T090000\r\n" \
    "END:VEVENT\r\nEND:VCALENDAR\r\n"

/* ---- tests -------------------------------------------------------------- */

static void test_init(void)
{
    is_int(calcore_init(pool), APR_SUCCESS, "calcore_init succeeds");
    is_int(calcore_init(pool), APR_SUCCESS, "calcore_init is idempotent");
    ok(calcore_tz_system_count() >= 600,
       "more than 600 zone names preloaded (%u)", calcore_tz_system_count());
}

static void test_names(void)
{
    static const char *const known[] = {
        "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "GMT",
        "Etc/GMT+5", "Etc/UTC", "America/Argentina/Buenos_Aires",
        "America/Port-au-Prince",
        /* aliases: files outside zone.tab */
        "US/Eastern", "Asia/Calcutta", "EST5EDT", "Europe/Kiev",
        "America/Indianapolis", "Japan", NULL
    };
    static const char *const unknown[] = {
        "Mars/Olympus_Mons", "europe/berlin", "Europe/Berlin ",
        "Europe//Berlin", "./Europe/Berlin", "Europe/../Europe/Berlin",
        "../../../../etc/passwd", "/etc/passwd", "/usr/share/zoneinfo/UTC",
        "posix/Europe/Berlin", "right/Europe/Berlin", "zone.tab",
        "localtime", "posixrules", "Factory", "",
        "/freeassociation.sourceforge.net/../../../etc/passwd",
        "/freeassociation.sourceforge.net/Mars/Base",
        "/mozilla.org//Europe/Berlin", NULL
    };
    int i;
    icaltimezone *berlin = calcore_tz_system("Europe/Berlin");

    for (i = 0; known[i]; i++) {
        ok(calcore_tz_system(known[i]) != NULL, "system zone %s resolves",
           known[i]);
    }
    for (i = 0; unknown[i]; i++) {
        ok(calcore_tz_system(unknown[i]) == NULL, "'%s' does not resolve",
           unknown[i]);
    }
    ok(calcore_tz_system(NULL) == NULL, "NULL does not resolve");

    ok(calcore_tz_system("/freeassociation.sourceforge.net/Europe/Berlin")
       == berlin, "/freeassociation.sourceforge.net/ prefix maps");
    ok(calcore_tz_system("/freeassociation.sourceforge.net/Tzfile/"
                         "Europe/Berlin") == berlin,
       "/freeassociation.sourceforge.net/Tzfile/ prefix maps");
    ok(calcore_tz_system("/mozilla.org/20070129_1/Europe/Berlin") == berlin,
       "Lightning /mozilla.org/<version>/ prefix maps");
    ok(calcore_tz_system("/softwarestudio.org/Olson_20011030_5/"
                         "Europe/Berlin") == berlin,
       "Evolution /softwarestudio.org/<version>/ prefix maps");
    ok(calcore_tz_system("/citadel.org/20190914_1/America/New_York")
       == calcore_tz_system("America/New_York"),
       "/citadel.org/<version>/ prefix maps");

    /* an alias has the same rules as its target */
    is_int(calcore_tz_offset_at(calcore_tz_system("US/Eastern"),
                                utc("20240701T120000Z")), -4 * 3600,
           "US/Eastern is UTC-4 in July");
    is_int(calcore_tz_offset_at(calcore_tz_system("Asia/Calcutta"),
                                utc("20240101T120000Z")), 19800,
           "Asia/Calcutta is UTC+5:30");
    is_int(calcore_tz_offset_at(calcore_tz_system("Etc/GMT+5"),
                                utc("20240101T120000Z")), -5 * 3600,
           "Etc/GMT+5 is UTC-5 (POSIX sign)");

    ok(calcore_tz_name_is_safe("America/Port-au-Prince"), "safe: hyphen");
    ok(calcore_tz_name_is_safe("Etc/GMT+5"), "safe: plus");
    ok(!calcore_tz_name_is_safe("../x"), "unsafe: ..");
    ok(!calcore_tz_name_is_safe("/x"), "unsafe: leading /");
    ok(!calcore_tz_name_is_safe("x/"), "unsafe: trailing /");
    ok(!calcore_tz_name_is_safe("a//b"), "unsafe: empty segment");
    ok(!calcore_tz_name_is_safe("a b"), "unsafe: space");
    ok(!calcore_tz_name_is_safe("a.b"), "unsafe: dot");
    ok(!calcore_tz_name_is_safe(""), "unsafe: empty");
}

static void test_windows(void)
{
    /* The common Windows zone ids (Outlook, Exchange) and their CLDR
     * territory-001 IANA zone. */
    static const char *const map[][2] = {
        { "W. Europe Standard Time", "Europe/Berlin" },
        { "Romance Standard Time", "Europe/Paris" },
        { "GMT Standard Time", "Europe/London" },
        { "Central Europe Standard Time", "Europe/Budapest" },
        { "Central European Standard Time", "Europe/Warsaw" },
        { "E. Europe Standard Time", "Europe/Chisinau" },
        { "FLE Standard Time", "Europe/Kyiv" },
        { "GTB Standard Time", "Europe/Bucharest" },
        { "Russian Standard Time", "Europe/Moscow" },
        { "Turkey Standard Time", "Europe/Istanbul" },
        { "Israel Standard Time", "Asia/Jerusalem" },
        { "Egypt Standard Time", "Africa/Cairo" },
        { "South Africa Standard Time", "Africa/Johannesburg" },
        { "W. Central Africa Standard Time", "Africa/Lagos" },
        { "E. Africa Standard Time", "Africa/Nairobi" },
        { "Arabian Standard Time", "Asia/Dubai" },
        { "Arab Standard Time", "Asia/Riyadh" },
        { "Iran Standard Time", "Asia/Tehran" },
        { "Pakistan Standard Time", "Asia/Karachi" },
        { "India Standard Time", "Asia/Kolkata" },
        { "Nepal Standard Time", "Asia/Kathmandu" },
        { "Bangladesh Standard Time", "Asia/Dhaka" },
        { "SE Asia Standard Time", "Asia/Bangkok" },
        { "China Standard Time", "Asia/Shanghai" },
        { "Singapore Standard Time", "Asia/Singapore" },
        { "Taipei Standard Time", "Asia/Taipei" },
        { "Tokyo Standard Time", "Asia/Tokyo" },
        { "Korea Standard Time", "Asia/Seoul" },
        { "W. Australia Standard Time", "Australia/Perth" },
        { "Cen. Australia Standard Time", "Australia/Adelaide" },
        { "AUS Eastern Standard Time", "Australia/Sydney" },
        { "E. Australia Standard Time", "Australia/Brisbane" },
        { "New Zealand Standard Time", "Pacific/Auckland" },
        { "Hawaiian Standard Time", "Pacific/Honolulu" },
        { "Alaskan Standard Time", "America/Anchorage" },
        { "Pacific Standard Time", "America/Los_Angeles" },
        { "Mountain Standard Time", "America/Denver" },
        { "US Mountain Standard Time", "America/Phoenix" },
        { "Central Standard Time", "America/Chicago" },
        { "Central Standard Time (Mexico)", "America/Mexico_City" },
        { "Eastern Standard Time", "America/New_York" },
        { "Atlantic Standard Time", "America/Halifax" },
        { "Newfoundland Standard Time", "America/St_Johns" },
        { "SA Pacific Standard Time", "America/Bogota" },
        { "E. South America Standard Time", "America/Sao_Paulo" },
        { "Argentina Standard Time", "America/Argentina/Buenos_Aires" },
        { "Dateline Standard Time", "Etc/GMT+12" },
        { "UTC+12", "Etc/GMT-12" },
        { NULL, NULL }
    };
    int i, n = 0;

    for (i = 0; map[i][0]; i++) {
        icaltimezone *w = calcore_tz_system(map[i][0]);

        is_str(calcore_tz_windows_to_iana(map[i][0]), map[i][1],
               "Windows '%s' maps to %s", map[i][0], map[i][1]);
        if (w && w == calcore_tz_system(map[i][1])) {
            n++;
        }
        else {
            diag("'%s' does not resolve to the zone of %s", map[i][0],
                 map[i][1]);
        }
    }
    is_int(n, i, "all %d Windows ids resolve to their IANA zone", i);
    ok(calcore_tz_windows_to_iana("W. Europe Standard Time (bogus)") == NULL,
       "unknown Windows id not mapped");
    ok(calcore_tz_system("w. europe standard time") == NULL,
       "Windows ids are case-sensitive");
}

/* A TZID that walks out of the zoneinfo directory to a real TZif file must
 * be refused without libical (or anything) opening it; as a positive
 * control, raw libical does open it. */
static void test_traversal(void)
{
    const char *zonedir = icaltzutil_get_zone_directory();
    char tmpl[] = "/tmp/calcore-tz-XXXXXX";
    const char *dir, *planted, *ups = "", *tzid, *missing, *text;
    const char *p, *why;
    calcore_precond_e pc;
    apr_status_t rv;
    size_t zones = icaltimezone_get_builtin_timezones()->num_elements;

    dir = mkdtemp(tmpl);
    ok(dir != NULL, "temporary directory created");
    if (!dir) {
        return;
    }
    planted = apr_pstrcat(pool, dir, "/planted", NULL);
    rv = apr_file_copy(apr_pstrcat(pool, zonedir, "/Europe/Berlin", NULL),
                       planted, APR_FPROT_FILE_SOURCE_PERMS, pool);
    is_int(rv, APR_SUCCESS, "a TZif file planted outside the zone dir");
    for (p = zonedir; *p; p++) {
        if (*p == '/') {
            ups = apr_pstrcat(pool, ups, "../", NULL);
        }
    }
    tzid = apr_pstrcat(pool, ups, planted + 1, NULL);
    missing = apr_pstrcat(pool, ups, dir + 1, "/does-not-exist", NULL);
    diag("traversal TZID: %s", tzid);

    apr_cpystrn(watch, dir, sizeof(watch));
    watch_hits = 0;
    ok(calcore_tz_system(tzid) == NULL, "traversal TZID does not resolve");
    ok(calcore_tz_system(missing) == NULL,
       "traversal TZID to a missing file does not resolve");
    ok(calcore_tz_system(planted) == NULL,
       "absolute path TZID does not resolve");
    ok(calcore_tzset_resolve(NULL, tzid) == NULL,
       "calcore_tzset_resolve refuses it too");

    text = apr_pstrcat(pool,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:x@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=", tzid, ":20240610T090000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", NULL);
    ok(!parse_ok(text, &pc, &why), "object with traversal TZID rejected");
    is_int(pc, CALCORE_PRECOND_VALID_CALENDAR_DATA,
           "... as valid-calendar-data");
    ok(why && strstr(why, tzid) != NULL, "... and the reason names the "
       "TZID (%s)", why ? why : "");
    text = apr_pstrcat(pool,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:x@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=", missing, ":20240610T090000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", NULL);
    ok(!parse_ok(text, &pc, &why) && pc == CALCORE_PRECOND_VALID_CALENDAR_DATA,
       "object with TZID to a missing file rejected");
    is_int(watch_hits, 0, "no file below %s was opened or probed", dir);

    /* Every TZID of an accepted object resolves from memory too. */
    apr_cpystrn(watch, zonedir, sizeof(watch));
    watch_hits = 0;
    ok(parse_ok(EVENT_WITH_TZID("US/Eastern"), &pc, &why),
       "object with alias TZID accepted");
    ok(parse_ok(EVENT_WITH_TZID("Pacific Standard Time"), &pc, &why),
       "object with Windows TZID accepted");
    is_int(watch_hits, 0, "... without opening anything in %s", zonedir);
    is_int(icaltimezone_get_builtin_timezones()->num_elements, zones,
           "libical's global zone array did not grow");

    /* Positive control: libical's own fallback follows the path. */
    apr_cpystrn(watch, dir, sizeof(watch));
    watch_hits = 0;
    ok(icaltimezone_get_builtin_timezone(tzid) != NULL,
       "control: raw libical resolves the traversal TZID");
    ok(watch_hits > 0, "control: and opens the planted file (%d accesses)",
       watch_hits);
    watch[0] = '\0';
    apr_file_remove(planted, pool);
    apr_dir_remove(dir, pool);
}

static void test_conversions(void)
{
    icaltimezone *berlin = calcore_tz_system("Europe/Berlin");
    icaltimezone *ny = calcore_tz_system("America/New_York");
    icaltimezone *utcz = icaltimezone_get_utc_timezone();
    struct icaltimetype t;
    apr_time_t t0;
    calcore_time_t sum = 0;
    int i;

    is_int(calcore_tz_offset_at(berlin, utc("20240115T120000Z")), 3600,
           "Berlin winter offset +1h");
    is_int(calcore_tz_offset_at(berlin, utc("20240715T120000Z")), 7200,
           "Berlin summer offset +2h");
    is_int(calcore_tz_offset_at(ny, utc("20240715T120000Z")), -4 * 3600,
           "New York summer offset -4h");
    is_int(calcore_tz_offset_at(NULL, utc("20240715T120000Z")), 0,
           "NULL zone is UTC");

    t = wall("20240610T090000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20240610T070000Z",
           "09:00 Berlin in June = 07:00Z");
    t = wall("20240110T090000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20240110T080000Z",
           "09:00 Berlin in January = 08:00Z");
    t = wall("20240610T090000");
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20240610T090000Z",
           "floating with no floating zone = UTC");
    is_str(fmt(calcore_tz_to_utc(t, ny)), "20240610T130000Z",
           "floating in New York = 13:00Z");
    t = wall("20240610T090000Z");
    ok(t.zone == utcz, "libical marks Z values with its UTC zone");
    is_str(fmt(calcore_tz_to_utc(t, berlin)), "20240610T090000Z",
           "UTC value ignores the floating zone");
    t = wall("20240610");
    is_str(fmt(calcore_tz_to_utc(t, berlin)), "20240609T220000Z",
           "DATE = midnight in the floating zone");

    /* RFC 5545 3.3.5: a non-existent local time uses the offset before
     * the gap, an ambiguous one its first occurrence. */
    t = wall("20240331T023000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20240331T013000Z",
           "02:30 in the Berlin spring gap = 01:30Z (03:30 CEST)");
    t = wall("20241027T023000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20241027T003000Z",
           "02:30 on the Berlin fall-back day = first occurrence 00:30Z");
    t = wall("20241027T033000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20241027T023000Z",
           "03:30 after fall-back = 02:30Z");
    t = wall("20240310T023000");
    t.zone = ny;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20240310T073000Z",
           "02:30 in the New York spring gap = 07:30Z (03:30 EDT)");
    t = wall("20241103T013000");
    t.zone = ny;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "20241103T053000Z",
           "01:30 on the New York fall-back day = 05:30Z (EDT)");

    is_str(fmt(calcore_tz_utc_to_wall(utc("20240610T070000Z"), berlin)),
           "20240610T090000Z", "07:00Z is 09:00 wall time in Berlin");

    /* Far future: looked up 400*k years earlier (same weekdays). */
    t = wall("30240710T090000");
    t.zone = berlin;
    is_str(fmt(calcore_tz_to_utc(t, NULL)), "30240710T070000Z",
           "year 3024 in summer: CEST");
    t0 = apr_time_now();
    for (i = 0; i < 2000; i++) {
        t = wall("40000115T090000");
        t.day = 1 + i % 28;
        t.zone = berlin;
        sum += calcore_tz_to_utc(t, NULL);
    }
    ok(apr_time_now() - t0 < apr_time_from_msec(500),
       "2000 conversions in year 4000 take %" APR_TIME_T_FMT " ms",
       apr_time_as_msec(apr_time_now() - t0));
    ok(sum != 0, "(checksum)");
}

static void test_time_strings(void)
{
    calcore_time_t t;
    char buf[CALCORE_TIME_STRLEN];

    is_int(calcore_time_parse("19700101T000000Z", &t), APR_SUCCESS,
           "parse epoch");
    is_int(t, 0, "epoch is 0");
    is_int(calcore_time_parse("20240229T235960Z", &t), APR_SUCCESS,
           "leap second accepted");
    is_int(calcore_time_parse("20240230T000000Z", &t), APR_EINVAL,
           "Feb 30 rejected");
    is_int(calcore_time_parse("20240101T000000", &t), APR_EINVAL,
           "floating form rejected");
    is_int(calcore_time_parse("20240101", &t), APR_EINVAL,
           "DATE form rejected");
    is_int(calcore_time_parse("2024-01-01T00:00:00Z", &t), APR_EINVAL,
           "extended form rejected");
    calcore_time_parse("20240610t101112z", &t);
    is_str(calcore_time_format(t, buf), "20240610T101112Z",
           "lower-case t/z accepted, formatted back");
    is_str(calcore_time_format(CALCORE_TIME_MAX, buf), "99991231T235959Z",
           "CALCORE_TIME_MAX formats as the last second of 9999");
    is_int(calcore_time_from_apr(apr_time_from_sec(1000) + 999999), 1000,
           "apr_time_t truncated to seconds");
    is_int(calcore_time_from_apr(-1), -1, "negative apr_time_t floors");
}

#define VTZ_BERLIN \
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" \
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n" \
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" \
    "END:DAYLIGHT\r\n" \
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n" \
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" \
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
#define VCAL_HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define VCAL_TAIL "END:VCALENDAR\r\n"

static void test_calendar_timezone(void)
{
    static const struct {
        const char *text;
        int valid;
        const char *name;
    } cases[] = {
        { VCAL_HEAD VTZ_BERLIN VCAL_TAIL, 1, "one VTIMEZONE" },
        { VCAL_HEAD "CALSCALE:GREGORIAN\r\nX-FOO:bar\r\n" VTZ_BERLIN
          VCAL_TAIL, 1, "with CALSCALE and X- property" },
        { VCAL_HEAD VCAL_TAIL, 0, "no VTIMEZONE" },
        { VCAL_HEAD VTZ_BERLIN VTZ_BERLIN VCAL_TAIL, 0, "two VTIMEZONEs" },
        { VCAL_HEAD VTZ_BERLIN "BEGIN:VEVENT\r\nUID:x\r\n"
          "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T000000Z\r\n"
          "END:VEVENT\r\n" VCAL_TAIL, 0, "VTIMEZONE and a VEVENT" },
        { VCAL_HEAD "METHOD:PUBLISH\r\n" VTZ_BERLIN VCAL_TAIL, 0,
          "METHOD next to the VTIMEZONE" },
        { VCAL_HEAD "BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\n"
          VCAL_TAIL, 0, "VTIMEZONE without STANDARD/DAYLIGHT" },
        { VCAL_HEAD "BEGIN:VTIMEZONE\r\nBEGIN:STANDARD\r\n"
          "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\n"
          "DTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
          VCAL_TAIL, 0, "VTIMEZONE without TZID" },
        { VCAL_HEAD "BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\n"
          "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
          VCAL_TAIL, 0, "STANDARD without DTSTART" },
        { "BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\n", 0,
          "bare VTIMEZONE" },
        { "not a calendar", 0, "garbage" },
        { "", 0, "empty" },
        { NULL, 0, NULL }
    };
    icaltimezone *zone = NULL;
    const char *why, *tzid = NULL;
    int i;

    for (i = 0; cases[i].text; i++) {
        apr_status_t rv = calcore_tz_validate_vtimezone(
                              cases[i].text, strlen(cases[i].text), &why,
                              pool);

        if (cases[i].valid) {
            is_int(rv, APR_SUCCESS, "calendar-timezone: %s accepted",
                   cases[i].name);
        }
        else {
            is_int(rv, CALCORE_EINVALID, "calendar-timezone: %s rejected "
                   "(%s)", cases[i].name, why ? why : "?");
        }
    }
    {
        /* length-delimited, not NUL-terminated (ASan checks the bounds) */
        apr_size_t n = strlen(cases[0].text);
        char *exact = malloc(n);
        apr_status_t rv;

        memcpy(exact, cases[0].text, n);
        rv = calcore_tz_validate_vtimezone(exact, n, &why, pool);
        is_int(rv, APR_SUCCESS, "a buffer without NUL is read within its "
               "length");
        rv = calcore_tz_validate_vtimezone(exact, n - 2, &why, pool);
        is_int(rv, APR_SUCCESS, "... also without its last CRLF");
        free(exact);
    }
    is_int(calcore_tz_parse_vtimezone(&zone, &tzid, cases[0].text,
                                      strlen(cases[0].text), &why, pool),
           APR_SUCCESS, "calendar-timezone parsed");
    is_str(tzid, "Europe/Berlin", "its TZID");
    is_int(calcore_tz_offset_at(zone, utc("20240715T120000Z")), 7200,
           "the parsed zone works as a floating zone (summer +2h)");
}

/* A VTIMEZONE of the object wins over the system zone of the same name. */
static void test_object_zone_precedence(void)
{
    const char *text =
        VCAL_HEAD
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
        "TZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\n"
        "DTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:p@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20240610T090000\r\n"
        "END:VEVENT\r\n" VCAL_TAIL;
    calcore_object_t *obj;
    calcore_precond_e pc;
    const char *why;
    icalproperty *p;
    struct icaltimetype tt;

    is_int(calcore_object_parse(&obj, &pc, &why, text, strlen(text), NULL,
                                pool), APR_SUCCESS, "object parsed");
    p = icalcomponent_get_first_property(calcore_object_master(obj),
                                         ICAL_DTSTART_PROPERTY);
    is_int(calcore_tz_prop_time(calcore_object_tzset(obj), p, &tt, NULL,
                                NULL), APR_SUCCESS, "DTSTART read");
    ok(tt.zone != calcore_tz_system("Europe/Berlin"),
       "the object's VTIMEZONE is used, not the system zone");
    is_str(fmt(calcore_tz_to_utc(tt, NULL)), "20240610T040000Z",
           "09:00 at +05:00 = 04:00Z");
}

/* Objects with the same VTIMEZONE definition share one zone (libical
 * expands its transitions once per process); a definition that differs in
 * anything, even with the same TZID, gets its own. */
static const char *zone_object(const char *offset)
{
    return apr_psprintf(pool,
        VCAL_HEAD
        "BEGIN:VTIMEZONE\r\nTZID:Shared/Zone\r\nBEGIN:STANDARD\r\n"
        "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\n"
        "DTSTART:19700101T000000\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
        "TZOFFSETFROM:%s\r\nTZOFFSETTO:+0900\r\n"
        "DTSTART:19700329T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:%s\r\n"
        "DTSTART:19701025T030000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:s@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Shared/Zone:20240110T090000\r\n"
        "END:VEVENT\r\n" VCAL_TAIL, offset, offset, offset, offset);
}

static icaltimezone *zone_of(const char *text, const char **utc)
{
    calcore_object_t *obj;
    calcore_precond_e pc;
    const char *why;
    icalproperty *p;
    struct icaltimetype tt;

    if (calcore_object_parse(&obj, &pc, &why, text, strlen(text), NULL,
                             pool) != APR_SUCCESS) {
        return NULL;
    }
    p = icalcomponent_get_first_property(calcore_object_master(obj),
                                         ICAL_DTSTART_PROPERTY);
    if (calcore_tz_prop_time(calcore_object_tzset(obj), p, &tt, NULL, NULL)
        != APR_SUCCESS) {
        return NULL;
    }
    *utc = fmt(calcore_tz_to_utc(tt, NULL));
    return (icaltimezone *)tt.zone;
}

static void test_shared_zones(void)
{
    unsigned n0 = calcore__tzcache_count();
    const char *u1 = NULL, *u2 = NULL, *u3 = NULL;
    icaltimezone *z1 = zone_of(zone_object("+0300"), &u1);
    icaltimezone *z2 = zone_of(zone_object("+0300"), &u2);
    icaltimezone *z3 = zone_of(zone_object("+0400"), &u3);

    ok(z1 != NULL && z1 == z2, "two objects with one VTIMEZONE text share "
       "its zone");
    ok(z3 != NULL && z3 != z1, "a different definition with the same TZID "
       "gets its own zone");
    is_int(calcore__tzcache_count() - n0, 2, "two definitions cached");
    is_str(u1, "20240110T060000Z", "09:00 at +03:00 = 06:00Z");
    is_str(u2, "20240110T060000Z", "... the same through the shared zone");
    is_str(u3, "20240110T050000Z", "09:00 at +04:00 = 05:00Z");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_init();
    test_names();
    test_windows();
    test_traversal();
    test_conversions();
    test_time_strings();
    test_calendar_timezone();
    test_object_zone_precedence();
    test_shared_zones();

    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
