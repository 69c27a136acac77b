/*
 * test_calcore_freebusy.c - free/busy (RFC 4791 7.10, RFC 7953): the
 * free-busy-query example of RFC 4791 7.10.1 on the Appendix B calendar
 * (from parsed objects and from index records), merging and precedence of
 * BUSY / BUSY-UNAVAILABLE / BUSY-TENTATIVE, TRANSPARENT and CANCELLED
 * (also per overridden instance), FBTYPE of stored VFREEBUSY, clipping,
 * VAVAILABILITY with AVAILABLE rules and PRIORITY layering, and the
 * duration format.
 */
#include <stdio.h>

#include <apr_general.h>

#include "rfc4791_data.h"

static const char *fbtype_short(calcore_fbtype_e t)
{
    switch (t) {
    case CALCORE_FB_BUSY_TENTATIVE:
        return "T";
    case CALCORE_FB_BUSY_UNAVAILABLE:
        return "U";
    default:
        return "B";
    }
}

/* "START/END:T ..." (T = B, U or T) of the merged periods. */
static const char *periods(calcore_fb_t *fb)
{
    apr_array_header_t *ps = calcore_fb_periods(fb, pool);
    const char *res = "";
    int i;

    for (i = 0; i < ps->nelts; i++) {
        const calcore_fb_period_t *p =
            &APR_ARRAY_IDX(ps, i, calcore_fb_period_t);
        char s[CALCORE_TIME_STRLEN], e[CALCORE_TIME_STRLEN];

        res = apr_psprintf(pool, "%s%s%s/%s:%s", res, *res ? " " : "",
                           calcore_time_format(p->start, s),
                           calcore_time_format(p->end, e),
                           fbtype_short(p->type));
    }
    return res;
}

static const char *render(calcore_fb_t *fb)
{
    const char *text;
    apr_size_t len;
    char *out, *o;
    apr_size_t i;

    calcore_fb_render(fb, &text, &len, pool);
    out = o = apr_palloc(pool, len + 1);
    for (i = 0; i < len; i++) {
        if (text[i] == '\r' && text[i + 1] == '\n') {
            continue;
        }
        *o++ = text[i];
    }
    *o = '\0';
    return strlen(text) == len ? out : "bad length";
}

static calcore_fb_t *fb_of(const char *s, const char *e)
{
    calcore_fb_t *fb = calcore_fb_create(utc(s), utc(e), pool);

    calcore_fb_set_dtstamp(fb, utc("20050125T090000Z"));
    return fb;
}

static void add_text(calcore_fb_t *fb, const char *text,
                     const icaltimezone *floating)
{
    calcore_object_t *o = obj_of(text);

    if (o) {
        calcore_fb_add_object(fb, o, floating, pool);
    }
}

#define FBHEAD(s, e) \
    "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:" CALCORE_FB_PRODID "\n" \
    "BEGIN:VFREEBUSY\nDTSTAMP:20050125T090000Z\nDTSTART:" s "\n" \
    "DTEND:" e "\n"
#define FBTAIL "END:VFREEBUSY\nEND:VCALENDAR\n"

static void test_rfc(void)
{
    calcore_fb_t *fb;
    calcore_index_opts_t io;
    int i, sufficient = 1;

    /* RFC 4791 7.10.1: the prose asks for 9:00-17:00 EST on Jan 4
     * (14:00Z-22:00Z), the request says end="20060105T220000Z".  The
     * printed response is the answer for the prose's range; the request's
     * range also covers abcd2's Jan 5 instance and abcd8's
     * BUSY-UNAVAILABLE period of Jan 5. */
    fb = fb_of("20060104T140000Z", "20060105T220000Z");
    for (i = 0; i < RFC_NOBJ; i++) {
        calcore_fb_add_object(fb, rfc_obj[i], NULL, pool);
    }
    is_str(render(fb),
           FBHEAD("20060104T140000Z", "20060105T220000Z")
           "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/PT1H\n"
           "FREEBUSY:20060104T190000Z/PT1H\n"
           "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20060105T100000Z/PT2H\n"
           "FREEBUSY:20060105T170000Z/PT1H\n" FBTAIL,
           "7.10.1 range: every busy period of the data set");

    /* ... and over the prose's range, exactly the printed lines */
    fb = fb_of("20060104T140000Z", "20060104T220000Z");
    for (i = 0; i < RFC_NOBJ; i++) {
        calcore_fb_add_object(fb, rfc_obj[i], NULL, pool);
    }
    is_str(render(fb),
           FBHEAD("20060104T140000Z", "20060104T220000Z")
           "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/PT1H\n"
           "FREEBUSY:20060104T190000Z/PT1H\n" FBTAIL,
           "7.10.1 output lines, as printed in the RFC");

    /* the same from index records */
    memset(&io, 0, sizeof(io));
    io.now = utc("20060101T000000Z");
    fb = fb_of("20060104T140000Z", "20060105T220000Z");
    for (i = 0; i < RFC_NOBJ; i++) {
        calcore_index_t *idx;

        calcore_index_build(&idx, rfc_obj[i], &io, pool);
        sufficient &= calcore_fb_record_sufficient(fb, idx);
        calcore_fb_add_record(fb, idx);
    }
    ok(sufficient, "the records cover the range");
    is_str(periods(fb),
           "20060104T150000Z/20060104T160000Z:T "
           "20060104T190000Z/20060104T200000Z:B "
           "20060105T100000Z/20060105T120000Z:U "
           "20060105T170000Z/20060105T180000Z:B",
           "from index records: the same periods");

    /* a whole week: the stored VFREEBUSY overlaps the events */
    fb = fb_of("20060101T000000Z", "20060108T000000Z");
    for (i = 0; i < RFC_NOBJ; i++) {
        calcore_fb_add_object(fb, rfc_obj[i], NULL, pool);
    }
    is_str(periods(fb),
           "20060102T100000Z/20060102T120000Z:T "
           "20060102T150000Z/20060102T160000Z:B "
           "20060102T170000Z/20060102T180000Z:B "
           "20060103T100000Z/20060103T120000Z:B "
           "20060103T170000Z/20060103T180000Z:B "
           "20060104T100000Z/20060104T120000Z:B "
           "20060104T150000Z/20060104T160000Z:T "
           "20060104T190000Z/20060104T200000Z:B "
           "20060105T100000Z/20060105T120000Z:U "
           "20060105T170000Z/20060105T180000Z:B "
           "20060106T100000Z/20060106T120000Z:B "
           "20060106T170000Z/20060106T180000Z:B",
           "the first week of 2006");
}

static void test_merge(void)
{
    calcore_fb_t *fb;

#define EV(uid, props) HEAD "BEGIN:VEVENT\r\nUID:" uid "\r\n" \
    "DTSTAMP:20240101T000000Z\r\n" props "END:VEVENT\r\n" TAIL

    fb = fb_of("20240610T000000Z", "20240611T000000Z");
    add_text(fb, EV("a", "DTSTART:20240610T090000Z\r\n"
                    "DTEND:20240610T100000Z\r\n"), NULL);
    add_text(fb, EV("b", "DTSTART:20240610T093000Z\r\n"
                    "DTEND:20240610T110000Z\r\n"), NULL);
    add_text(fb, EV("c", "DTSTART:20240610T110000Z\r\n"
                    "DURATION:PT1H\r\n"), NULL);
    add_text(fb, EV("d", "DTSTART:20240610T113000Z\r\n"
                    "DTEND:20240610T140000Z\r\nSTATUS:TENTATIVE\r\n"), NULL);
    add_text(fb, EV("e", "DTSTART:20240610T150000Z\r\n"
                    "DTEND:20240610T160000Z\r\nTRANSP:TRANSPARENT\r\n"),
             NULL);
    add_text(fb, EV("f", "DTSTART:20240610T160000Z\r\n"
                    "DTEND:20240610T170000Z\r\nSTATUS:CANCELLED\r\n"), NULL);
    add_text(fb, EV("g", "DTSTART:20240610T180000Z\r\n"), NULL);
    add_text(fb, EV("h", "DTSTART:20240610T230000Z\r\n"
                    "DTEND:20240611T010000Z\r\n"), NULL);
    add_text(fb, EV("i", "DTSTART:20240609T230000Z\r\n"
                    "DTEND:20240610T010000Z\r\nSTATUS:TENTATIVE\r\n"), NULL);
    is_str(periods(fb),
           "20240610T000000Z/20240610T010000Z:T "
           "20240610T090000Z/20240610T120000Z:B "
           "20240610T120000Z/20240610T140000Z:T "
           "20240610T230000Z/20240611T000000Z:B",
           "merged, BUSY over TENTATIVE, transparent/cancelled/zero-length "
           "skipped, clipped");
    is_str(render(fb),
           FBHEAD("20240610T000000Z", "20240611T000000Z")
           "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240610T000000Z/PT1H\n"
           "FREEBUSY:20240610T090000Z/PT3H\n"
           "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240610T120000Z/PT2H\n"
           "FREEBUSY:20240610T230000Z/PT1H\n" FBTAIL, "rendered");

    /* per-instance status: a cancelled and a transparent override */
    fb = fb_of("20240610T000000Z", "20240615T000000Z");
    add_text(fb, HEAD
        "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20240610T090000\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=DAILY;COUNT=4\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Europe/Berlin:20240611T090000\r\n"
        "DTSTART;TZID=Europe/Berlin:20240611T090000\r\nDURATION:PT1H\r\n"
        "STATUS:CANCELLED\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Europe/Berlin:20240612T090000\r\n"
        "DTSTART;TZID=Europe/Berlin:20240612T090000\r\nDURATION:PT1H\r\n"
        "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Europe/Berlin:20240613T090000\r\n"
        "DTSTART;TZID=Europe/Berlin:20240613T150000\r\nDURATION:PT2H\r\n"
        "STATUS:TENTATIVE\r\nEND:VEVENT\r\n" TAIL, NULL);
    is_str(periods(fb),
           "20240610T070000Z/20240610T080000Z:B "
           "20240613T130000Z/20240613T150000Z:T",
           "cancelled and transparent overrides free, moved one tentative");

    /* stored VFREEBUSY with every FBTYPE, against events */
    fb = fb_of("20240610T000000Z", "20240611T000000Z");
    add_text(fb, HEAD "BEGIN:VFREEBUSY\r\nUID:fb\r\n"
        "DTSTAMP:20240101T000000Z\r\n"
        "FREEBUSY;FBTYPE=FREE:20240610T000000Z/PT24H\r\n"
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240610T080000Z/PT4H\r\n"
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240610T070000Z/PT2H,"
        "20240610T130000Z/PT1H\r\n"
        "FREEBUSY;FBTYPE=X-OUT-OF-OFFICE:20240610T200000Z/PT1H\r\n"
        "END:VFREEBUSY\r\n" TAIL, NULL);
    add_text(fb, EV("x", "DTSTART:20240610T090000Z\r\n"
                    "DTEND:20240610T100000Z\r\n"), NULL);
    add_text(fb, EV("y", "DTSTART:20240610T133000Z\r\n"
                    "DTEND:20240610T150000Z\r\nSTATUS:TENTATIVE\r\n"),
             NULL);
    is_str(periods(fb),
           "20240610T070000Z/20240610T080000Z:T "
           "20240610T080000Z/20240610T090000Z:U "
           "20240610T090000Z/20240610T100000Z:B "
           "20240610T100000Z/20240610T120000Z:U "
           "20240610T130000Z/20240610T150000Z:T "
           "20240610T200000Z/20240610T210000Z:B",
           "FREE ignored, X- type as BUSY, BUSY > UNAVAILABLE > TENTATIVE, "
           "adjacent tentative joined");

    /* all-day and floating in the floating zone */
    fb = fb_of("20240610T000000Z", "20240612T000000Z");
    add_text(fb, EV("ad", "DTSTART;VALUE=DATE:20240610\r\n"),
             calcore_tz_system("Europe/Berlin"));
    is_str(periods(fb), "20240610T000000Z/20240610T220000Z:B",
           "all-day in Berlin: 22:00Z the day before, clipped");
#undef EV
}

static void test_availability(void)
{
    calcore_fb_t *fb;
    const char *office = HEAD
        "BEGIN:VAVAILABILITY\r\nUID:av\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240601T000000Z\r\nDTEND:20240701T000000Z\r\n"
        "BEGIN:AVAILABLE\r\nUID:av-1\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20240603T090000\r\n"
        "DTEND;TZID=Europe/Berlin:20240603T170000\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\n"
        "END:VAVAILABILITY\r\n" TAIL;
    const char *holiday = HEAD
        "BEGIN:VAVAILABILITY\r\nUID:hol\r\nDTSTAMP:20240101T000000Z\r\n"
        "PRIORITY:1\r\nBUSYTYPE:BUSY\r\n"
        "DTSTART:20240612T000000Z\r\nDTEND:20240613T000000Z\r\n"
        "BEGIN:AVAILABLE\r\nUID:hol-1\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240612T120000Z\r\nDTEND:20240612T130000Z\r\n"
        "END:AVAILABLE\r\nEND:VAVAILABILITY\r\n" TAIL;
    const char *low = HEAD
        "BEGIN:VAVAILABILITY\r\nUID:low\r\nDTSTAMP:20240101T000000Z\r\n"
        "PRIORITY:9\r\nBUSYTYPE:BUSY-TENTATIVE\r\n"
        "DTSTART:20240611T000000Z\r\nDTEND:20240612T000000Z\r\n"
        "END:VAVAILABILITY\r\n" TAIL;

    /* Monday June 10 and Tuesday June 11 */
    fb = fb_of("20240610T000000Z", "20240612T000000Z");
    add_text(fb, office, NULL);
    add_text(fb, HEAD "BEGIN:VEVENT\r\nUID:m\r\nDTSTAMP:20240101T000000Z\r\n"
             "DTSTART:20240610T080000Z\r\nDTEND:20240610T090000Z\r\n"
             "END:VEVENT\r\n" TAIL, NULL);
    is_str(periods(fb),
           "20240610T000000Z/20240610T070000Z:U "
           "20240610T080000Z/20240610T090000Z:B "
           "20240610T150000Z/20240611T070000Z:U "
           "20240611T150000Z/20240612T000000Z:U",
           "outside 09-17 Berlin unavailable; an event inside is BUSY");

    /* a weekend */
    fb = fb_of("20240608T000000Z", "20240610T000000Z");
    add_text(fb, office, NULL);
    is_str(periods(fb), "20240608T000000Z/20240610T000000Z:U",
           "no AVAILABLE on the weekend");

    /* outside the VAVAILABILITY's own range: nothing */
    fb = fb_of("20240701T000000Z", "20240702T000000Z");
    add_text(fb, office, NULL);
    is_str(periods(fb), "", "after the VAVAILABILITY ends");

    /* priorities: holiday (1) over office (0 = lowest); low (9) over
     * office but below holiday */
    fb = fb_of("20240611T000000Z", "20240613T000000Z");
    add_text(fb, holiday, NULL);
    add_text(fb, office, NULL);
    add_text(fb, low, NULL);
    is_str(periods(fb),
           "20240611T000000Z/20240612T000000Z:T "
           "20240612T000000Z/20240612T120000Z:B "
           "20240612T130000Z/20240613T000000Z:B",
           "PRIORITY layers: 9 over undefined, 1 over everything");

    /* a record of a VAVAILABILITY is not usable */
    {
        calcore_index_t *idx;
        calcore_object_t *o = obj_of(office);

        calcore_index_build(&idx, o, NULL, pool);
        fb = fb_of("20240610T000000Z", "20240612T000000Z");
        ok(!calcore_fb_record_sufficient(fb, idx)
           && calcore_fb_add_record(fb, idx) == APR_ENOTIMPL,
           "VAVAILABILITY records need the object");
    }
}

static void test_durations(void)
{
    char b[CALCORE_DURATION_STRLEN];

    is_str(calcore_duration_format(3600, b), "PT1H", "PT1H");
    is_str(calcore_duration_format(7200 + 1800, b), "PT2H30M", "PT2H30M");
    is_str(calcore_duration_format(86400, b), "P1D", "P1D");
    is_str(calcore_duration_format(86400 * 3 + 61, b), "P3DT1M1S",
           "P3DT1M1S");
    is_str(calcore_duration_format(0, b), "PT0S", "PT0S");
    is_str(calcore_duration_format(59, b), "PT59S", "PT59S");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (calcore_init(pool) != APR_SUCCESS) {
        printf("1..0 # SKIP calcore_init failed\n");
        return 0;
    }
    is_int(rfc_load(), RFC_NOBJ + 1, "RFC 4791 Appendix B objects parse");
    test_rfc();
    test_merge();
    test_availability();
    test_durations();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
