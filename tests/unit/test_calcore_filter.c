/*
 * test_calcore_filter.c - CALDAV:filter evaluation (RFC 4791 9.7, 9.9):
 * the calendar-query examples of RFC 4791 7.8.1-7.8.10 on the Appendix B
 * calendar (the objects each example response contains; where a printed
 * response does not follow from Appendix B, on the data it prints too),
 * collations,
 * negate-condition, is-not-defined, param-filter, VALARM and VTODO
 * time-range rules, recurrence, property time-ranges, filter validation
 * (nesting 1000 deep, bad time-ranges) and a randomised check that the
 * index hints are a superset of the matches.
 */
#include <stdio.h>

#include <apr_general.h>
#include <apr_time.h>

#include "rfc4791_data.h"

/* ---- RFC 4791 7.8.x on Appendix B --------------------------------------- */

static void test_rfc_examples(void)
{
    calcore_compfilter_t *f, *ev, *todo;
    calcore_propfilter_t *p;

    /* 7.8.1 partial retrieval of events by time range */
    f = vcal(cf_tr("VEVENT", "20060104T000000Z", "20060105T000000Z"));
    is_str(rfc_select(f, NULL), "abcd2 abcd3", "7.8.1: events on Jan 4");
    is_str(printed_select(f, NULL), "abcd2 abcd3", "7.8.1: as printed");

    /* 7.8.2 / 7.8.3 recurring events in [Jan 3, Jan 5) */
    f = vcal(cf_tr("VEVENT", "20060103T000000Z", "20060105T000000Z"));
    is_str(rfc_select(f, NULL), "abcd2 abcd3", "7.8.2/7.8.3: Jan 3-5");

    /* 7.8.4 stored free busy components */
    f = vcal(cf_tr("VFREEBUSY", "20060102T000000Z", "20060103T000000Z"));
    is_str(rfc_select(f, NULL), "abcd8", "7.8.4: VFREEBUSY on Jan 2");

    /* 7.8.5 to-dos by alarm time range */
    todo = cf("VTODO");
    cf_add(todo, cf_tr("VALARM", "20060106T100000Z", "20060107T100000Z"));
    f = vcal(todo);
    /* Appendix B's to-dos have DATE DUEs: abcd5's alarm fires at Jan 5
     * 23:50Z, before the range.  The response prints a to-do due Jan 6
     * 12:00 US/Eastern, whose alarm (RELATED=START without DTSTART: DUE)
     * fires at 16:50Z, inside. */
    is_str(rfc_select(f, NULL), "", "7.8.5: no Appendix B to-do alarm "
           "on Jan 6");
    is_str(rfc_select(f, calcore_tz_system("America/New_York")), "",
           "7.8.5: not with DATEs in US/Eastern either");
    {
        apr_pool_t *sp;

        apr_pool_create(&sp, pool);
        ok(calcore_filter_match(f, printed_todo, NULL, sp),
           "7.8.5: the printed to-do matches");
        apr_pool_destroy(sp);
    }

    /* 7.8.6 event by UID */
    ev = cf("VEVENT");
    cf_prop(ev, pf_text("UID", "DC6C50A017428C5216A2F1CD@example.com",
                        CALCORE_COLL_OCTET, 0));
    is_str(rfc_select(vcal(ev), NULL), "abcd3", "7.8.6: by UID");

    /* 7.8.7 events by PARTSTAT */
    ev = cf("VEVENT");
    p = pf_text("ATTENDEE", "mailto:lisa@example.com",
                CALCORE_COLL_ASCII_CASEMAP, 0);
    pf_param(p, "PARTSTAT", "NEEDS-ACTION", 0);
    cf_prop(ev, p);
    is_str(rfc_select(vcal(ev), NULL), "abcd3", "7.8.7: by PARTSTAT");

    /* 7.8.8 events only */
    is_str(rfc_select(vcal(cf("VEVENT")), NULL), "abcd1 abcd2 abcd3",
           "7.8.8: all events");

    /* 7.8.9 pending to-dos */
    todo = cf("VTODO");
    cf_prop(todo, pf_nd("COMPLETED"));
    cf_prop(todo, pf_text("STATUS", "CANCELLED", CALCORE_COLL_ASCII_CASEMAP,
                          1));
    is_str(rfc_select(vcal(todo), NULL), "abcd4 abcd5",
           "7.8.9: not completed, not cancelled");

    /* 7.8.10: the RFC's server refuses X-ABC-GUID (supported-filter); we
     * support X- properties, and "ABC" is not in the value. */
    ev = cf("VEVENT");
    cf_prop(ev, pf_text("X-ABC-GUID", "ABC", CALCORE_COLL_ASCII_CASEMAP, 0));
    is_str(rfc_select(vcal(ev), NULL), "", "7.8.10: X- property, no match");
    is_str(printed_select(vcal(ev), NULL), "",
           "7.8.10: as printed: 'ABC' is not in the value");
    ev = cf("VEVENT");
    cf_prop(ev, pf_text("x-abc-guid", "e1cx5dr", CALCORE_COLL_ASCII_CASEMAP,
                        0));
    is_str(printed_select(vcal(ev), NULL), "abcd3",
           "X- property names and values case-insensitive");
    ev = cf("VEVENT");
    cf_prop(ev, pf("X-ABC-GUID"));
    is_str(rfc_select(vcal(ev), NULL), "",
           "Appendix B's abcd3 has no X-ABC-GUID");

    /* whole calendar, and is-not-defined at the top level */
    is_str(rfc_select(vcal(NULL), NULL),
           "abcd1 abcd2 abcd3 abcd4 abcd5 abcd6 abcd7 abcd8",
           "VCALENDAR alone matches everything");
    is_str(rfc_select(vcal(cf_nd("VEVENT")), NULL),
           "abcd4 abcd5 abcd6 abcd7 abcd8", "VEVENT is-not-defined");
    is_str(rfc_select(vcal(cf("VTIMEZONE")), NULL),
           "abcd1 abcd2 abcd3", "objects with a VTIMEZONE");
}

/* ---- recurrence --------------------------------------------------------- */

static void test_recurrence(void)
{
    calcore_compfilter_t *ev;

    /* abcd2: daily 12:00 EST (17:00Z) Jan 2-6, Jan 4 moved to 19:00Z (as
     * printed, Jan 6 is moved to 19:00Z as well). */
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060104T170000Z",
                                 "20060104T180000Z")), NULL), "",
           "overridden instance's original slot is empty");
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060104T190000Z",
                                 "20060104T193000Z")), NULL), "abcd2",
           "override at its new time");
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060107T000000Z",
                                 "20070101T000000Z")), NULL), "",
           "COUNT=5 ends on Jan 6");
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060106T170000Z",
                                 "20060106T180000Z")), NULL), "abcd2",
           "Appendix B: Jan 6 at 17:00Z");
    is_str(printed_select(vcal(cf_tr("VEVENT", "20060106T170000Z",
                                     "20060106T180000Z")), NULL), "",
           "as printed: Jan 6 moved away from 17:00Z");
    is_str(printed_select(vcal(cf_tr("VEVENT", "20060106T190000Z",
                                     "20060106T200000Z")), NULL), "abcd2",
           "as printed: to 19:00Z");
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060102T160000Z",
                                 "20060102T170000Z")), NULL), "",
           "end-exclusive: abcd2 starts at 17:00Z, abcd1 ends 16:00Z");
    is_str(rfc_select(vcal(cf_tr("VEVENT", "20060102T155959Z",
                                 "20060102T170001Z")), NULL),
           "abcd1 abcd2", "one second of overlap is enough");

    /* nested prop-filter evaluated on the instance's component */
    ev = cf_tr("VEVENT", "20060104T000000Z", "20060105T000000Z");
    cf_prop(ev, pf_text("SUMMARY", "bis", CALCORE_COLL_ASCII_CASEMAP, 0));
    is_str(rfc_select(vcal(ev), NULL), "abcd2",
           "Jan 4 instance is the 'bis' override");
    ev = cf_tr("VEVENT", "20060103T000000Z", "20060104T000000Z");
    cf_prop(ev, pf_text("SUMMARY", "bis", CALCORE_COLL_ASCII_CASEMAP, 0));
    is_str(rfc_select(vcal(ev), NULL), "",
           "Jan 3 instance is the master's 'Event #2'");
    ev = cf_tr("VEVENT", "20060103T000000Z", "20060104T000000Z");
    cf_prop(ev, pf_text("SUMMARY", "bis", CALCORE_COLL_ASCII_CASEMAP, 1));
    is_str(rfc_select(vcal(ev), NULL), "abcd2",
           "negated: the Jan 3 instance is not 'bis'");

    /* EXDATE, RDATE with TZID, PERIOD */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:r1\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART;TZID=Europe/Berlin:20240325T090000\r\n"
            "DTEND;TZID=Europe/Berlin:20240325T100000\r\n"
            "RRULE:FREQ=DAILY;COUNT=10\r\n"
            "EXDATE;TZID=Europe/Berlin:20240327T090000\r\n"
            "RDATE;TZID=Europe/Berlin:20240401T150000\r\n"
            "RDATE;VALUE=PERIOD:20240405T100000Z/PT3H\r\n"
            "END:VEVENT\r\n" TAIL;

        is_int(match_text(vcal(cf_tr("VEVENT", "20240325T080000Z",
                                     "20240325T081000Z")), obj, NULL), 1,
               "first instance 08:00Z (CET)");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240327T000000Z",
                                     "20240328T000000Z")), obj, NULL), 0,
               "EXDATE removes Mar 27");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240330T080000Z",
                                     "20240330T081000Z")), obj, NULL), 1,
               "before DST (Mar 30): 08:00Z");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240402T070000Z",
                                     "20240402T071000Z")), obj, NULL), 1,
               "after DST (Apr 2): 07:00Z");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240402T075000Z",
                                     "20240402T080000Z")), obj, NULL), 1,
               "and until 08:00Z");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240404T070000Z",
                                     "20240405T000000Z")), obj, NULL), 0,
               "COUNT=10 ends on Apr 3");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240401T130000Z",
                                     "20240401T131000Z")), obj, NULL), 1,
               "RDATE with TZID: 13:00Z");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240405T125900Z",
                                     "20240405T130000Z")), obj, NULL), 1,
               "RDATE PERIOD lasts 3 hours");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240405T130000Z",
                                     "20240406T000000Z")), obj, NULL), 0,
               "RDATE PERIOD ends at 13:00Z");
    }

    /* an unbounded rule, far away */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20200106T100000Z\r\nDURATION:PT1H\r\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\n" TAIL;

        is_int(match_text(vcal(cf_tr("VEVENT", "20991228T000000Z",
                                     "20991229T000000Z")), obj, NULL), 1,
               "weekly rule reaches Monday 2099-12-28");
        is_int(match_text(vcal(cf_tr("VEVENT", "20991229T000000Z",
                                     "21000104T000000Z")), obj, NULL), 0,
               "no Monday instance in [Dec 29, Jan 4)");
    }
    /* an unbounded daily rule, an open range and a test no instance
     * passes: one evaluation per component, not per instance */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:d1\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20000101T100000Z\r\nDURATION:PT1H\r\n"
            "RRULE:FREQ=DAILY\r\nSUMMARY:daily\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:d1\r\nDTSTAMP:20240101T000000Z\r\n"
            "RECURRENCE-ID:20000105T100000Z\r\n"
            "DTSTART:20000105T110000Z\r\nDURATION:PT1H\r\n"
            "SUMMARY:moved\r\nEND:VEVENT\r\n" TAIL;
        calcore_compfilter_t *ev = cf_tr("VEVENT", NULL, NULL);
        apr_time_t t0;

        cf_prop(ev, pf_text("SUMMARY", "weekly", CALCORE_COLL_OCTET, 0));
        t0 = apr_time_now();
        is_int(match_text(vcal(ev), obj, NULL), 0,
               "open range, no instance passes");
        ok(apr_time_now() - t0 < apr_time_from_msec(200),
           "and the answer is quick");
        ev = cf_tr("VEVENT", NULL, NULL);
        cf_prop(ev, pf_text("SUMMARY", "moved", CALCORE_COLL_OCTET, 0));
        is_int(match_text(vcal(ev), obj, NULL), 1, "the override passes");
    }

    /* floating: read in the given zone */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:fl\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240610T090000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
            TAIL;
        calcore_compfilter_t *f = vcal(cf_tr("VEVENT", "20240610T070000Z",
                                             "20240610T073000Z"));

        is_int(match_text(f, obj, NULL), 0, "floating 09:00 as UTC");
        is_int(match_text(f, obj, calcore_tz_system("Europe/Berlin")), 1,
               "floating 09:00 in Berlin is 07:00Z");
    }
    /* all-day */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:ad\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART;VALUE=DATE:20240610\r\nEND:VEVENT\r\n" TAIL;

        is_int(match_text(vcal(cf_tr("VEVENT", "20240610T235959Z",
                                     "20240611T000000Z")), obj, NULL), 1,
               "all-day event covers its whole day");
        is_int(match_text(vcal(cf_tr("VEVENT", "20240611T000000Z",
                                     "20240612T000000Z")), obj, NULL), 0,
               "and not the next one");
    }
}

/* ---- collations --------------------------------------------------------- */

static int contains(const char *text, const char *needle,
                    calcore_collation_e coll)
{
    calcore_textmatch_t t;

    t.text = needle;
    t.collation = coll;
    t.negate = 0;
    return calcore_textmatch_contains(&t, text, pool);
}

static void test_collations(void)
{
    calcore_collation_e c = CALCORE_COLL_OCTET;

    ok(calcore_collation_from_name("i;ascii-casemap", &c)
       && c == CALCORE_COLL_ASCII_CASEMAP, "i;ascii-casemap");
    ok(calcore_collation_from_name("i;octet", &c) && c == CALCORE_COLL_OCTET,
       "i;octet");
    ok(calcore_collation_from_name("i;unicode-casemap", &c)
       && c == CALCORE_COLL_UNICODE_CASEMAP, "i;unicode-casemap");
    c = CALCORE_COLL_OCTET;
    ok(calcore_collation_from_name(NULL, &c)
       && c == CALCORE_COLL_ASCII_CASEMAP, "absent: i;ascii-casemap");
    ok(!calcore_collation_from_name("i;basic", &c), "i;basic unsupported");
    is_str(calcore_collation_name(CALCORE_COLL_UNICODE_CASEMAP),
           "i;unicode-casemap", "name of a collation");

    /* i;octet */
    ok(contains("Meeting", "eti", CALCORE_COLL_OCTET), "octet: substring");
    ok(!contains("Meeting", "MEET", CALCORE_COLL_OCTET),
       "octet: case matters");
    ok(contains("anything", "", CALCORE_COLL_OCTET), "empty text matches");

    /* i;ascii-casemap */
    ok(contains("mailto:LISA@example.com", "lisa@EXAMPLE",
                CALCORE_COLL_ASCII_CASEMAP), "ascii: case folded");
    ok(!contains("\xC3\x89T\xC3\x89", "\xC3\xA9t\xC3\xA9",
                 CALCORE_COLL_ASCII_CASEMAP), "ascii: \xC3\x89 is not "
       "\xC3\xA9");
    ok(contains("Caf\xC3\xA9 RENDEZ-VOUS", "caf\xC3\xA9",
                CALCORE_COLL_ASCII_CASEMAP), "ascii: non-ASCII compared "
       "as octets");

    /* i;unicode-casemap */
    ok(contains("\xC3\x89T\xC3\x89 \xC3\x80 PARIS", "\xC3\xA9t\xC3\xA9 "
                "\xC3\xA0", CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: Latin-1 \xC3\x89T\xC3\x89 = \xC3\xA9t\xC3\xA9");
    ok(contains("\xC5\xBB\xC3\x93\xC5\x81W", "\xC5\xBC\xC3\xB3\xC5\x82w",
                CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: Latin Extended-A \xC5\xBB\xC3\x93\xC5\x81W");
    ok(contains("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x8A\xCE\x91",
                "\xCF\x83\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1",
                CALCORE_COLL_UNICODE_CASEMAP), "unicode: Greek "
       "\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x8A\xCE\x91");
    ok(contains("\xCE\xA3", "\xCF\x82", CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: final sigma");
    ok(contains("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2 "
                "\xD0\x81", "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"
                " \xD1\x91", CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: Cyrillic");
    ok(contains("Cre\xCC\x81me", "CR\xC3\x89ME", CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: decomposed e + U+0301 = \xC3\x89");
    ok(contains("caf\xC3\xA9", "cafe", CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: NFKD makes 'e' a prefix of '\xC3\xA9' (RFC 5051)");
    ok(contains("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", "abc",
                CALCORE_COLL_UNICODE_CASEMAP), "unicode: fullwidth ABC");
    ok(!contains("\xC3\xA9t\xC3\xA9", "\xC3\x89T\xC3\x89X",
                 CALCORE_COLL_UNICODE_CASEMAP), "unicode: no false match");
    ok(!contains("\xC3\xA9t\xC3\xA9", "\xC3\x89T\xC3\x89",
                 CALCORE_COLL_OCTET), "octet: \xC3\xA9t\xC3\xA9 is not "
       "\xC3\x89T\xC3\x89");
    ok(contains("ab\xFF\xFE" "cd", "\xFF\xFE" "C",
                CALCORE_COLL_UNICODE_CASEMAP),
       "unicode: malformed bytes kept as they are");

    /* through a filter */
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240101T100000Z\r\n"
            "SUMMARY:R\xC3\xA9union \xC3\xA0 Z\xC3\xBCrich\\, salle 2\r\n"
            "END:VEVENT\r\n" TAIL;
        calcore_compfilter_t *ev = cf("VEVENT");

        cf_prop(ev, pf_text("SUMMARY", "R\xC3\x89UNION \xC3\x80 "
                            "Z\xC3\x9CRICH, SALLE",
                            CALCORE_COLL_UNICODE_CASEMAP, 0));
        is_int(match_text(vcal(ev), obj, NULL), 1,
               "unicode-casemap on an unescaped TEXT value");
        ev = cf("VEVENT");
        cf_prop(ev, pf_text("SUMMARY", "R\xC3\x89UNION",
                            CALCORE_COLL_ASCII_CASEMAP, 0));
        is_int(match_text(vcal(ev), obj, NULL), 0,
               "ascii-casemap does not fold \xC3\xA9");
        ev = cf("VEVENT");
        cf_prop(ev, pf_text("SUMMARY", "r\xC3\xA9UNION",
                            CALCORE_COLL_ASCII_CASEMAP, 0));
        is_int(match_text(vcal(ev), obj, NULL), 1,
               "ascii-casemap folds the ASCII letters");
    }
}

/* ---- is-not-defined, negate, param-filter ------------------------------- */

static void test_props_params(void)
{
    calcore_compfilter_t *ev, *todo;
    calcore_propfilter_t *p;

    /* param-filter applies to the same property as the text-match */
    ev = cf("VEVENT");
    p = pf_text("ATTENDEE", "cyrus", CALCORE_COLL_ASCII_CASEMAP, 0);
    pf_param(p, "PARTSTAT", "NEEDS-ACTION", 0);
    cf_prop(ev, p);
    is_str(rfc_select(vcal(ev), NULL), "",
           "cyrus has not PARTSTAT=NEEDS-ACTION (lisa has)");
    ev = cf("VEVENT");
    p = pf("ATTENDEE");
    pf_param(p, "ROLE", "CHAIR", 0);
    cf_prop(ev, p);
    is_str(rfc_select(vcal(ev), NULL), "abcd3", "param ROLE=CHAIR exists");
    ev = cf("VEVENT");
    p = pf("ATTENDEE");
    pf_param(p, "ROLE", NULL, 1);
    pf_param(p, "PARTSTAT", "needs", 0);
    cf_prop(ev, p);
    is_str(rfc_select(vcal(ev), NULL), "abcd3",
           "param is-not-defined (lisa has no ROLE)");
    ev = cf("VEVENT");
    p = pf("ORGANIZER");
    pf_param(p, "CN", NULL, 0);
    cf_prop(ev, p);
    is_str(rfc_select(vcal(ev), NULL), "", "ORGANIZER without CN");
    {
        calcore_compfilter_t *fb = cf("VFREEBUSY");

        p = pf("ORGANIZER");
        pf_param(p, "CN", "Bernard Desruisseaux", 0);
        cf_prop(fb, p);
        is_str(rfc_select(vcal(fb), NULL), "abcd8",
               "quoted CN value matched unquoted");
    }
    {
        const char *obj = HEAD
            "BEGIN:VEVENT\r\nUID:xp\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240101T100000Z\r\n"
            "ATTENDEE;X-NUM-GUESTS=2;SCHEDULE-STATUS=2.0:mailto:a@b\r\n"
            "END:VEVENT\r\n" TAIL;

        ev = cf("VEVENT");
        p = pf("ATTENDEE");
        pf_param(p, "x-num-guests", "2", 0);
        cf_prop(ev, p);
        is_int(match_text(vcal(ev), obj, NULL), 1, "X- parameter");
        ev = cf("VEVENT");
        p = pf("ATTENDEE");
        pf_param(p, "SCHEDULE-STATUS", "2.0", 0);
        cf_prop(ev, p);
        is_int(match_text(vcal(ev), obj, NULL), 1,
               "parameter libical does not know (kept as IANA)");
    }

    /* prop-filter without tests: existence */
    ev = cf("VEVENT");
    cf_prop(ev, pf("DESCRIPTION"));
    is_str(rfc_select(vcal(ev), NULL), "abcd1",
           "DESCRIPTION exists (written 'Description')");
    ev = cf("VEVENT");
    cf_prop(ev, pf_nd("DESCRIPTION"));
    is_str(rfc_select(vcal(ev), NULL), "abcd2 abcd3",
           "DESCRIPTION is-not-defined");
    /* negate on a missing property: no match */
    todo = cf("VTODO");
    cf_prop(todo, pf_text("CLASS", "PRIVATE", CALCORE_COLL_ASCII_CASEMAP, 1));
    is_str(rfc_select(vcal(todo), NULL), "",
           "negated text-match needs the property");
    /* negate with several values: any one that does not match */
    ev = cf("VEVENT");
    cf_prop(ev, pf_text("ATTENDEE", "lisa", CALCORE_COLL_ASCII_CASEMAP, 1));
    is_str(rfc_select(vcal(ev), NULL), "abcd3",
           "negated: cyrus is an attendee that is not lisa");
    /* VALARM is-not-defined inside VTODO */
    todo = cf("VTODO");
    cf_add(todo, cf_nd("VALARM"));
    is_str(rfc_select(vcal(todo), NULL), "abcd6 abcd7",
           "to-dos without alarms");
    todo = cf("VTODO");
    cf_add(todo, cf("VALARM"));
    is_str(rfc_select(vcal(todo), NULL), "abcd4 abcd5", "to-dos with alarms");
    /* VCALENDAR-level properties */
    {
        calcore_compfilter_t *root = vcal(NULL);

        cf_prop(root, pf_text("PRODID", "example corp",
                              CALCORE_COLL_ASCII_CASEMAP, 0));
        cf_add(root, cf("VTODO"));
        is_str(rfc_select(root, NULL), "abcd4 abcd5 abcd6 abcd7",
               "prop-filter on VCALENDAR");
    }
    /* unknown components */
    is_str(rfc_select(vcal(cf("X-FOO")), NULL), "",
           "unknown component never exists");
    is_str(rfc_select(vcal(cf_nd("VPOLL")), NULL),
           "abcd1 abcd2 abcd3 abcd4 abcd5 abcd6 abcd7 abcd8",
           "unknown component is-not-defined");
    /* VTIMEZONE > prop */
    {
        calcore_compfilter_t *tz = cf("VTIMEZONE"), *st = cf("STANDARD");

        cf_prop(tz, pf_text("TZID", "US/Eastern", CALCORE_COLL_OCTET, 0));
        cf_prop(st, pf_text("TZNAME", "EST", CALCORE_COLL_OCTET, 0));
        cf_add(tz, st);
        is_str(rfc_select(vcal(tz), NULL), "abcd1 abcd2 abcd3",
               "VTIMEZONE > STANDARD TZNAME");
    }
}

/* ---- property time-ranges ----------------------------------------------- */

static void test_prop_time_ranges(void)
{
    calcore_compfilter_t *c;

    c = cf("VTODO");
    cf_prop(c, pf_tr("COMPLETED", "20051201T000000Z", "20060101T000000Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd6", "COMPLETED in December");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("DTSTAMP", "20060206T001121Z", "20060206T001220Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd2",
           "DTSTAMP: start inclusive, end exclusive");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("LAST-MODIFIED", NULL, "20070101T000000Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd3", "LAST-MODIFIED, open start");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("DTSTART", "20060104T150000Z", "20060104T150001Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd3",
           "DTSTART with TZID compared in UTC");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("DTEND", "20060102T160000Z", "20060102T160001Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd1",
           "effective DTEND = DTSTART + DURATION");
    c = cf("VTODO");
    cf_prop(c, pf_tr("DUE", "20060104T000000Z", "20060104T000001Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd4", "DATE DUE at midnight (UTC)");
    is_str(rfc_select(vcal(c), calcore_tz_system("America/New_York")), "",
           "DATE DUE read in another floating zone");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("DTSTART", "20060102T000000Z", "20060103T000000Z"));
    cf_add(c, cf_nd("VALARM"));
    is_str(rfc_select(vcal(c), NULL), "abcd1 abcd2",
           "DTSTART of a recurring master is its first start");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("RECURRENCE-ID", "20060104T170000Z",
                     "20060104T170001Z"));
    is_str(rfc_select(vcal(c), NULL), "abcd2", "RECURRENCE-ID (extension)");
}

/* ---- VALARM ------------------------------------------------------------- */

static void test_valarm(void)
{
    const char *ev_alarm = HEAD
        "BEGIN:VEVENT\r\nUID:al\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240610T100000Z\r\nDTEND:20240610T110000Z\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
        "TRIGGER:-PT15M\r\nEND:VALARM\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:y\r\n"
        "TRIGGER;RELATED=END:PT5M\r\nREPEAT:2\r\nDURATION:PT10M\r\n"
        "END:VALARM\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:al\r\nDTSTAMP:20240101T000000Z\r\n"
        "RECURRENCE-ID:20240611T100000Z\r\n"
        "DTSTART:20240611T140000Z\r\nDTEND:20240611T150000Z\r\n"
        "END:VEVENT\r\n" TAIL;
    const char *abs_alarm = HEAD
        "BEGIN:VEVENT\r\nUID:ab\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240610T100000Z\r\nRRULE:FREQ=WEEKLY\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
        "TRIGGER;VALUE=DATE-TIME:20200101T080000Z\r\nEND:VALARM\r\n"
        "END:VEVENT\r\n" TAIL;
    const char *far_alarm = HEAD
        "BEGIN:VEVENT\r\nUID:fa\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240610T100000Z\r\nRRULE:FREQ=YEARLY\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
        "TRIGGER:-P30D\r\nEND:VALARM\r\n"
        "END:VEVENT\r\n" TAIL;
    calcore_compfilter_t *ev;

#define ALARM_Q(s, e) \
    (ev = cf("VEVENT"), cf_add(ev, cf_tr("VALARM", s, e)), vcal(ev))

    is_int(match_text(ALARM_Q("20240610T094500Z", "20240610T094501Z"),
                      ev_alarm, NULL), 1, "START-related trigger 09:45Z");
    is_int(match_text(ALARM_Q("20240610T094400Z", "20240610T094500Z"),
                      ev_alarm, NULL), 0, "trigger time itself excluded "
           "from an end");
    is_int(match_text(ALARM_Q("20240610T112500Z", "20240610T112600Z"),
                      ev_alarm, NULL), 1, "END-related, 2nd repetition");
    is_int(match_text(ALARM_Q("20240610T112600Z", "20240610T113400Z"),
                      ev_alarm, NULL), 0, "between repetitions");
    is_int(match_text(ALARM_Q("20240610T113600Z", "20240610T120000Z"),
                      ev_alarm, NULL), 0, "after the last repetition");
    is_int(match_text(ALARM_Q("20240612T094500Z", "20240612T094600Z"),
                      ev_alarm, NULL), 1, "third instance's alarm");
    is_int(match_text(ALARM_Q("20240611T094500Z", "20240611T094600Z"),
                      ev_alarm, NULL), 0, "overridden instance: no alarm "
           "(the override has none)");
    is_int(match_text(ALARM_Q("20240611T134500Z", "20240611T134600Z"),
                      ev_alarm, NULL), 0, "nor at the override's time");
    is_int(match_text(ALARM_Q("20200101T080000Z", "20200101T080001Z"),
                      abs_alarm, NULL), 1, "absolute trigger before the "
           "event");
    is_int(match_text(ALARM_Q("20240601T000000Z", "20250101T000000Z"),
                      abs_alarm, NULL), 0, "absolute trigger only once");
    is_int(match_text(ALARM_Q("20300511T100000Z", "20300511T100001Z"),
                      far_alarm, NULL), 1, "alarm 30 days before a yearly "
           "instance in 2030");
    /* both an event time-range and an alarm time-range */
    ev = cf_tr("VEVENT", "20240612T000000Z", "20240613T000000Z");
    cf_add(ev, cf_tr("VALARM", "20240610T094500Z", "20240610T094501Z"));
    is_int(match_text(vcal(ev), ev_alarm, NULL), 0,
           "the alarm must belong to an instance in the event range");
    ev = cf_tr("VEVENT", "20240610T000000Z", "20240611T000000Z");
    cf_add(ev, cf_tr("VALARM", "20240610T094500Z", "20240610T094501Z"));
    is_int(match_text(vcal(ev), ev_alarm, NULL), 1, "and it does");
    /* RFC 4791 Appendix B: RELATED=START on a to-do with only DUE */
    {
        calcore_compfilter_t *todo = cf("VTODO");

        cf_add(todo, cf_tr("VALARM", "20060103T234900Z",
                           "20060103T235100Z"));
        is_str(rfc_select(vcal(todo), NULL), "abcd4",
               "abcd4 alarm at DUE - 10 min (Jan 3 23:50Z)");
    }
#undef ALARM_Q
}

/* ---- VTODO table (RFC 4791 9.9) ----------------------------------------- */

static void test_vtodo_table(void)
{
    static const struct {
        const char *props;
        const char *qs, *qe;
        int want;
        const char *name;
    } cases[] = {
        { "DTSTART:20240610T100000Z\r\nDURATION:PT1H\r\n",
          "20240610T110000Z", "20240610T120000Z", 1,
          "DTSTART+DURATION: start <= DTSTART+DURATION" },
        { "DTSTART:20240610T100000Z\r\nDURATION:PT1H\r\n",
          "20240610T110001Z", "20240610T120000Z", 0,
          "DTSTART+DURATION: after it" },
        { "DTSTART:20240610T100000Z\r\nDURATION:PT1H\r\n",
          "20240610T090000Z", "20240610T100000Z", 0,
          "DTSTART+DURATION: end > DTSTART needed" },
        { "DTSTART:20240610T100000Z\r\nDUE:20240610T120000Z\r\n",
          "20240610T115959Z", "20240610T130000Z", 1,
          "DTSTART+DUE: start < DUE" },
        { "DTSTART:20240610T100000Z\r\nDUE:20240610T120000Z\r\n",
          "20240610T120000Z", "20240610T130000Z", 0,
          "DTSTART+DUE: start = DUE excluded" },
        { "DTSTART:20240610T100000Z\r\nDUE:20240610T100000Z\r\n",
          "20240610T100000Z", "20240610T110000Z", 1,
          "DTSTART=DUE: start <= DTSTART" },
        { "DTSTART:20240610T100000Z\r\nDUE:20240610T100000Z\r\n",
          "20240610T090000Z", "20240610T100000Z", 1,
          "DTSTART=DUE: end >= DUE" },
        { "DTSTART:20240610T100000Z\r\n",
          "20240610T100000Z", "20240610T100001Z", 1,
          "DTSTART only: start <= DTSTART < end" },
        { "DTSTART:20240610T100000Z\r\n",
          "20240610T090000Z", "20240610T100000Z", 0,
          "DTSTART only: end = DTSTART excluded" },
        { "DUE:20240610T100000Z\r\n",
          "20240610T090000Z", "20240610T100000Z", 1,
          "DUE only: end >= DUE" },
        { "DUE:20240610T100000Z\r\n",
          "20240610T100000Z", "20240610T110000Z", 0,
          "DUE only: start < DUE needed" },
        { "COMPLETED:20240610T100000Z\r\nCREATED:20240601T100000Z\r\n",
          "20240605T000000Z", "20240606T000000Z", 1,
          "COMPLETED+CREATED: between them" },
        { "COMPLETED:20240610T100000Z\r\nCREATED:20240601T100000Z\r\n",
          "20240610T100001Z", "20240611T000000Z", 0,
          "COMPLETED+CREATED: after both" },
        { "COMPLETED:20240610T100000Z\r\n",
          "20240610T090000Z", "20240610T100000Z", 1,
          "COMPLETED only: end >= COMPLETED" },
        { "COMPLETED:20240610T100000Z\r\n",
          "20240610T100001Z", "20240611T000000Z", 0,
          "COMPLETED only: start <= COMPLETED needed" },
        { "CREATED:20240610T100000Z\r\n",
          "20300101T000000Z", "20300102T000000Z", 1,
          "CREATED only: any range ending after it" },
        { "CREATED:20240610T100000Z\r\n",
          "20240609T000000Z", "20240610T100000Z", 0,
          "CREATED only: end > CREATED needed" },
        { "SUMMARY:no dates\r\n",
          "19700101T000000Z", "19700101T000001Z", 1,
          "no dates: always" },
    };
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *obj = apr_pstrcat(pool, HEAD,
            "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20240101T000000Z\r\n",
            cases[i].props, "END:VTODO\r\n", TAIL, NULL);

        is_int(match_text(vcal(cf_tr("VTODO", cases[i].qs, cases[i].qe)),
                          obj, NULL), cases[i].want, "VTODO %s",
               cases[i].name);
    }
}

/* ---- other components --------------------------------------------------- */

static void test_other_components(void)
{
    const char *jd = HEAD "BEGIN:VJOURNAL\r\nUID:j\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240610\r\n"
        "END:VJOURNAL\r\n" TAIL;
    const char *jt = HEAD "BEGIN:VJOURNAL\r\nUID:j\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART:20240610T100000Z\r\n"
        "END:VJOURNAL\r\n" TAIL;
    const char *jn = HEAD "BEGIN:VJOURNAL\r\nUID:j\r\n"
        "DTSTAMP:20240101T000000Z\r\nEND:VJOURNAL\r\n" TAIL;
    const char *fb = HEAD "BEGIN:VFREEBUSY\r\nUID:f\r\n"
        "DTSTAMP:20240101T000000Z\r\n"
        "FREEBUSY:20240610T100000Z/PT1H,20240612T100000Z/PT1H\r\n"
        "END:VFREEBUSY\r\n" TAIL;
    const char *av = HEAD "BEGIN:VAVAILABILITY\r\nUID:a\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART:20240601T000000Z\r\n"
        "DTEND:20240701T000000Z\r\n"
        "BEGIN:AVAILABLE\r\nUID:a1\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240603T090000Z\r\nDTEND:20240603T170000Z\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nSUMMARY:office\r\n"
        "END:AVAILABLE\r\nEND:VAVAILABILITY\r\n" TAIL;
    calcore_compfilter_t *c;

    is_int(match_text(vcal(cf_tr("VJOURNAL", "20240610T230000Z",
                                 "20240611T000000Z")), jd, NULL), 1,
           "DATE VJOURNAL covers its day");
    is_int(match_text(vcal(cf_tr("VJOURNAL", "20240610T100001Z",
                                 "20240611T000000Z")), jt, NULL), 0,
           "DATE-TIME VJOURNAL is a point");
    is_int(match_text(vcal(cf_tr("VJOURNAL", NULL, NULL)), jn, NULL), 0,
           "VJOURNAL without DTSTART never overlaps");
    is_int(match_text(vcal(cf("VJOURNAL")), jn, NULL), 1,
           "but exists");
    is_int(match_text(vcal(cf_tr("VFREEBUSY", "20240611T000000Z",
                                 "20240612T000000Z")), fb, NULL), 0,
           "VFREEBUSY periods: the gap between them");
    is_int(match_text(vcal(cf_tr("VFREEBUSY", "20240612T105959Z",
                                 "20240613T000000Z")), fb, NULL), 1,
           "VFREEBUSY: second period");
    /* abcd8 has DTSTART/DTEND Jan 1-8: the table's first row */
    is_str(rfc_select(vcal(cf_tr("VFREEBUSY", "20060107T000000Z",
                                 "20060107T000001Z")), NULL), "abcd8",
           "VFREEBUSY with DTSTART/DTEND: no period needed");
    is_str(rfc_select(vcal(cf_tr("VFREEBUSY", "20060108T000000Z",
                                 "20060109T000000Z")), NULL), "abcd8",
           "VFREEBUSY: start <= DTEND");
    is_int(match_text(vcal(cf_tr("VAVAILABILITY", "20240630T000000Z",
                                 "20240702T000000Z")), av, NULL), 1,
           "VAVAILABILITY range");
    c = cf("VAVAILABILITY");
    cf_add(c, cf_tr("AVAILABLE", "20240608T000000Z", "20240610T000000Z"));
    is_int(match_text(vcal(c), av, NULL), 0, "no AVAILABLE on a weekend");
    c = cf("VAVAILABILITY");
    cf_add(c, cf_tr("AVAILABLE", "20240610T165959Z", "20240610T170000Z"));
    is_int(match_text(vcal(c), av, NULL), 1,
           "AVAILABLE instance on Monday June 10");
}

/* ---- validation --------------------------------------------------------- */

static apr_status_t check(const calcore_compfilter_t *f,
                          calcore_precond_e *code)
{
    const char *why;

    return calcore_filter_check(f, code, &why, pool);
}

static void test_check(void)
{
    calcore_precond_e code;
    calcore_compfilter_t *f, *c;
    calcore_propfilter_t *p;
    apr_time_t t0;
    int i;

    ok(check(NULL, &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_VALID_FILTER, "no filter: valid-filter");
    ok(check(cf("VEVENT"), &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_VALID_FILTER, "root must be VCALENDAR");
    ok(check(vcal(cf("vevent")), &code) == APR_SUCCESS
       && code == CALCORE_PRECOND_NONE, "names are case-insensitive");

    /* 1000 deep: rejected, quickly */
    f = c = cf("VCALENDAR");
    for (i = 0; i < 1000; i++) {
        calcore_compfilter_t *n = cf(i % 2 ? "VEVENT" : "X-NESTED");

        cf_add(c, n);
        c = n;
    }
    t0 = apr_time_now();
    ok(check(f, &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_VALID_FILTER, "nested 1000 deep: "
       "valid-filter");
    ok(apr_time_now() - t0 < apr_time_from_msec(50), "rejected quickly");
    /* exactly the limit */
    f = c = cf("VCALENDAR");
    for (i = 1; i < CALCORE_FILTER_MAX_DEPTH; i++) {
        calcore_compfilter_t *n = cf("X-NESTED");

        cf_add(c, n);
        c = n;
    }
    ok(check(f, &code) == APR_SUCCESS, "nested %d deep: accepted",
       CALCORE_FILTER_MAX_DEPTH);
    cf_add(c, cf("X-NESTED"));
    ok(check(f, &code) == CALCORE_EINVALID, "one more: rejected");

    /* time-ranges */
    ok(check(vcal(cf_tr("VEVENT", "20240102T000000Z", "20240101T000000Z")),
             &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_VALID_FILTER, "end before start");
    ok(check(vcal(cf_tr("VEVENT", "20240101T000000Z", "20240101T000000Z")),
             &code) == CALCORE_EINVALID, "end equal to start");
    ok(check(vcal(cf_tr("VEVENT", NULL, "20240101T000000Z")), &code)
       == APR_SUCCESS, "open start");
    ok(check(vcal(cf_tr("VEVENT", "20240101T000000Z", NULL)), &code)
       == APR_SUCCESS, "open end");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("DTSTAMP", "20240102T000000Z", "20240101T000000Z"));
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "prop time-range end before start");
    ok(check(cf_tr("VCALENDAR", "20240101T000000Z", "20240102T000000Z"),
             &code) == CALCORE_EINVALID, "time-range on VCALENDAR");
    ok(check(vcal(cf_tr("VTIMEZONE", "20240101T000000Z",
                        "20240102T000000Z")), &code) == CALCORE_EINVALID,
       "time-range on VTIMEZONE");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("SUMMARY", "20240101T000000Z", "20240102T000000Z"));
    ok(check(vcal(c), &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_VALID_FILTER, "time-range on SUMMARY");
    c = cf("VEVENT");
    cf_prop(c, pf_tr("X-DATE", "20240101T000000Z", "20240102T000000Z"));
    ok(check(vcal(c), &code) == APR_SUCCESS, "time-range on an X- prop");

    /* is-not-defined combined */
    c = cf_nd("VEVENT");
    c->time_range = tr("20240101T000000Z", "20240102T000000Z");
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "comp is-not-defined + time-range");
    c = cf_nd("VEVENT");
    cf_prop(c, pf("SUMMARY"));
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "comp is-not-defined + prop-filter");
    c = cf("VEVENT");
    p = pf_nd("SUMMARY");
    p->text_match = tm("x", CALCORE_COLL_OCTET, 0);
    cf_prop(c, p);
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "prop is-not-defined + text-match");
    c = cf("VEVENT");
    p = pf("ATTENDEE");
    pf_param(p, "PARTSTAT", "x", 1);
    cf_prop(c, p);
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "param is-not-defined + text-match");
    c = cf("VEVENT");
    p = pf_tr("DTSTART", "20240101T000000Z", "20240102T000000Z");
    p->text_match = tm("x", CALCORE_COLL_OCTET, 0);
    cf_prop(c, p);
    ok(check(vcal(c), &code) == CALCORE_EINVALID,
       "time-range + text-match in one prop-filter");

    /* nesting */
    ok(check(vcal(cf_add(cf("VEVENT"), cf("VEVENT"))), &code)
       == CALCORE_EINVALID && code == CALCORE_PRECOND_VALID_FILTER,
       "VEVENT inside VEVENT");
    ok(check(vcal(cf("VALARM")), &code) == CALCORE_EINVALID,
       "VALARM at the top");
    ok(check(vcal(cf_add(cf("VJOURNAL"), cf("VALARM"))), &code)
       == CALCORE_EINVALID, "VALARM inside VJOURNAL");
    ok(check(vcal(cf_add(cf("VEVENT"), cf("VCALENDAR"))), &code)
       == CALCORE_EINVALID, "VCALENDAR below the root");
    ok(check(vcal(cf_add(cf("VTIMEZONE"), cf("DAYLIGHT"))), &code)
       == APR_SUCCESS, "DAYLIGHT inside VTIMEZONE");
    ok(check(vcal(cf_add(cf("VEVENT"), cf("X-WHATEVER"))), &code)
       == APR_SUCCESS, "unknown component anywhere");

    /* text-match and collation */
    c = cf("VEVENT");
    cf_prop(c, pf_text("SUMMARY", NULL, CALCORE_COLL_OCTET, 0));
    ok(check(vcal(c), &code) == CALCORE_EINVALID, "text-match without "
       "text");
    c = cf("VEVENT");
    cf_prop(c, pf_text("SUMMARY", "x", (calcore_collation_e)7, 0));
    ok(check(vcal(c), &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_SUPPORTED_COLLATION,
       "unknown collation value: supported-collation");
    c = cf("VEVENT");
    cf_prop(c, pf(""));
    ok(check(vcal(c), &code) == CALCORE_EINVALID, "empty property name");

    /* too many elements */
    c = cf("VEVENT");
    for (i = 0; i < CALCORE_FILTER_MAX_NODES; i++) {
        cf_prop(c, pf("SUMMARY"));
    }
    ok(check(vcal(c), &code) == CALCORE_EINVALID
       && code == CALCORE_PRECOND_SUPPORTED_FILTER, "too many elements: "
       "supported-filter");
}

/* ---- hints -------------------------------------------------------------- */

static unsigned rng_state = 0x9E3779B9u;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return n ? rng_state % n : 0;
}

static const char *rnd_time(calcore_time_t base, unsigned span_h)
{
    char *b = apr_palloc(pool, CALCORE_TIME_STRLEN);

    return calcore_time_format(base + (calcore_time_t)rnd(span_h) * 3600, b);
}

/* A random object around June 2024; *kind is its component name. */
static const char *rnd_object(const char **kind)
{
    calcore_time_t base = utc("20240601T000000Z");
    const char *kinds[] = { "VEVENT", "VTODO", "VJOURNAL" };
    const char *k = kinds[rnd(3)];
    const char *body = "";
    const char *s = rnd_time(base, 24 * 40);

    *kind = k;

    if (strcmp(k, "VTODO") == 0) {
        switch (rnd(5)) {
        case 0:
            body = apr_psprintf(pool, "DUE:%s\r\n", s);
            break;
        case 1:
            body = apr_psprintf(pool, "DTSTART:%s\r\nDURATION:PT%uH\r\n", s,
                                rnd(5));
            break;
        case 2:
            body = apr_psprintf(pool, "COMPLETED:%s\r\n", s);
            break;
        case 3:
            body = apr_psprintf(pool, "CREATED:%s\r\n", s);
            break;
        default:
            break;
        }
    }
    else if (strcmp(k, "VEVENT") == 0) {
        body = apr_psprintf(pool, "DTSTART:%s\r\nDURATION:PT%uH\r\n", s,
                            rnd(4));
    }
    else if (rnd(4)) {
        body = apr_psprintf(pool, "DTSTART:%s\r\n", s);
    }
    if (strncmp(body, "DTSTART", 7) == 0 && rnd(2)) {
        body = apr_pstrcat(pool, body, rnd(2) ? "RRULE:FREQ=DAILY;COUNT=4\r\n"
                                              : "RRULE:FREQ=WEEKLY\r\n",
                           NULL);
    }
    if (rnd(2)) {
        body = apr_pstrcat(pool, body, "SUMMARY:", rnd(2) ? "alpha" : "beta",
                           "\r\n", NULL);
    }
    if (strcmp(k, "VJOURNAL") != 0 && rnd(2)) {
        body = apr_pstrcat(pool, body, "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                           "DESCRIPTION:a\r\nTRIGGER",
                           rnd(2) ? ";RELATED=END:" : ":-",
                           rnd(2) ? "P2D" : "PT3H",
                           "\r\nEND:VALARM\r\n", NULL);
    }
    return apr_pstrcat(pool, HEAD "BEGIN:", k, "\r\nUID:r\r\n"
                       "DTSTAMP:20240101T000000Z\r\n", body, "END:", k,
                       "\r\n" TAIL, NULL);
}

static calcore_compfilter_t *rnd_filter(const char *prefer)
{
    const char *names[] = { "VEVENT", "VTODO", "VJOURNAL", "VEVENT",
                            "VTODO", "VTIMEZONE", "VFREEBUSY" };
    calcore_time_t base = utc("20240601T000000Z");
    calcore_compfilter_t *root = cf("VCALENDAR");
    unsigned n = rnd(4) ? 1 : 2, i;

    for (i = 0; i < n; i++) {
        const char *name = i == 0 && rnd(3) ? prefer : names[rnd(7)];
        calcore_compfilter_t *c = cf(name);
        unsigned what = rnd(6);

        if (what == 0) {
            c->is_not_defined = 1;
        }
        else if (what <= 4 && strcmp(name, "VTIMEZONE") != 0) {
            calcore_time_t s = base + (calcore_time_t)rnd(24 * 40) * 3600;

            c->time_range = apr_pcalloc(pool, sizeof(*c->time_range));
            c->time_range->start = rnd(8) ? s : CALCORE_TIME_MIN;
            c->time_range->end = s + (calcore_time_t)(1 + rnd(24 * 20))
                                     * 3600;
        }
        if (what >= 2 && (strcmp(name, "VEVENT") == 0
                          || strcmp(name, "VTODO") == 0) && rnd(2)) {
            calcore_time_t s = base + (calcore_time_t)rnd(24 * 40) * 3600;
            calcore_compfilter_t *a = cf("VALARM");

            a->time_range = apr_pcalloc(pool, sizeof(*a->time_range));
            a->time_range->start = s;
            a->time_range->end = s + (calcore_time_t)(1 + rnd(24 * 5))
                                 * 3600;
            cf_add(c, a);
        }
        if (!c->is_not_defined && rnd(3) == 0) {
            cf_prop(c, pf_text("SUMMARY", "alp", CALCORE_COLL_OCTET,
                               (int)rnd(2)));
        }
        cf_add(root, c);
    }
    return root;
}

static void test_hints(void)
{
    calcore_time_t s, e;
    unsigned mask;
    calcore_compfilter_t *f, *ev;
    int i, matches = 0, bad_kind = 0, bad_time = 0, bad_index = 0;
    int constrained = 0;
    apr_pool_t *scratch;
    calcore_index_opts_t io;

    f = vcal(cf_tr("VEVENT", "20060104T000000Z", "20060105T000000Z"));
    calcore_filter_hints(f, &s, &e, &mask);
    ok(s == utc("20060104T000000Z") && e == utc("20060105T000000Z")
       && mask == CALCORE_COMP_VEVENT, "VEVENT time-range hint");
    ev = cf("VTODO");
    cf_add(ev, cf_tr("VALARM", "20060106T100000Z", "20060107T100000Z"));
    calcore_filter_hints(vcal(ev), &s, &e, &mask);
    ok(s == CALCORE_TIME_MIN && e == CALCORE_TIME_MAX
       && mask == CALCORE_COMP_VTODO, "VALARM time-range: no time hint");
    calcore_filter_hints(vcal(cf_nd("VEVENT")), &s, &e, &mask);
    ok(mask == (CALCORE_COMP_ALL & ~(unsigned)CALCORE_COMP_VEVENT)
       && s == CALCORE_TIME_MIN, "is-not-defined excludes the kind");
    calcore_filter_hints(vcal(cf("VTIMEZONE")), &s, &e, &mask);
    ok(mask == 0, "VTIMEZONE: any kind");
    f = vcal(cf_tr("VEVENT", "20060101T000000Z", "20060201T000000Z"));
    cf_add(f, cf_tr("VEVENT", "20060104T000000Z", "20060105T000000Z"));
    calcore_filter_hints(f, &s, &e, &mask);
    ok(s == utc("20060104T000000Z") && e == utc("20060105T000000Z"),
       "the narrowest first-level range");

    /* VFREEBUSY: DTSTART/DTEND decide, not the periods; DTSTART alone does
     * not (the periods do): the expander's span and the index agree */
    {
        calcore_object_t *both = obj_of(HEAD "BEGIN:VFREEBUSY\r\nUID:v1\r\n"
            "DTSTAMP:20240101T000000Z\r\nDTSTART:20240601T000000Z\r\n"
            "DTEND:20240630T000000Z\r\n"
            "FREEBUSY:20240610T100000Z/PT1H\r\nEND:VFREEBUSY\r\n" TAIL);
        calcore_object_t *start_only = obj_of(HEAD "BEGIN:VFREEBUSY\r\n"
            "UID:v2\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240601T000000Z\r\n"
            "FREEBUSY:20240710T100000Z/PT1H\r\nEND:VFREEBUSY\r\n" TAIL);
        calcore_index_t *idx;
        apr_pool_t *sp;

        apr_pool_create(&sp, pool);
        memset(&io, 0, sizeof(io));
        io.now = utc("20240601T000000Z");
        f = vcal(cf_tr("VFREEBUSY", "20240620T000000Z", "20240621T000000Z"));
        calcore_filter_hints(f, &s, &e, &mask);
        calcore_index_build(&idx, both, &io, sp);
        ok(calcore_filter_match(f, both, NULL, sp)
           && calcore_index_may_overlap(idx, s, e, CALCORE_TZ_ID_UTC),
           "VFREEBUSY DTSTART/DTEND: matched and the index agrees");
        f = vcal(cf_tr("VFREEBUSY", "20240710T103000Z", "20240710T110000Z"));
        calcore_filter_hints(f, &s, &e, &mask);
        calcore_index_build(&idx, start_only, &io, sp);
        ok(calcore_filter_match(f, start_only, NULL, sp)
           && calcore_index_may_overlap(idx, s, e, CALCORE_TZ_ID_UTC),
           "VFREEBUSY with DTSTART only: by its periods, index agrees");
        f = vcal(cf_tr("VFREEBUSY", "20240601T000000Z", "20240602T000000Z"));
        ok(!calcore_filter_match(f, start_only, NULL, sp),
           "and not at its DTSTART");
        apr_pool_destroy(sp);
    }

    /* randomised: match => kind in mask, an instance in the range */
    memset(&io, 0, sizeof(io));
    io.now = utc("20240601T000000Z");
    apr_pool_create(&scratch, pool);
    for (i = 0; i < 6000; i++) {
        const char *kind;
        const char *text = rnd_object(&kind);
        calcore_object_t *obj;
        calcore_precond_e code;
        const char *why;

        apr_pool_clear(scratch);
        f = rnd_filter(kind);
        if (calcore_filter_check(f, &code, &why, scratch) != APR_SUCCESS) {
            continue;
        }
        if (calcore_object_parse(&obj, &code, &why, text, strlen(text),
                                 NULL, scratch) != APR_SUCCESS) {
            diag("random object rejected: %s", why);
            bad_kind++;
            continue;
        }
        if (!calcore_filter_match(f, obj, NULL, scratch)) {
            continue;
        }
        matches++;
        calcore_filter_hints(f, &s, &e, &mask);
        if (mask && !(mask & calcore_object_kind(obj))) {
            bad_kind++;
        }
        if (s != CALCORE_TIME_MIN || e != CALCORE_TIME_MAX) {
            calcore_expand_result_t res;
            calcore_index_t *idx;

            constrained++;
            calcore_expand(obj, s, e, NULL, NULL, NULL, &res, scratch);
            if (res.count == 0) {
                bad_time++;
            }
            calcore_index_build(&idx, obj, &io, scratch);
            if (!calcore_index_may_overlap(idx, s, e, CALCORE_TZ_ID_UTC)) {
                bad_index++;
            }
        }
    }
    apr_pool_destroy(scratch);
    diag("%d random matches, %d with a time hint", matches, constrained);
    ok(matches > 500 && constrained > 300, "enough random matches");
    is_int(bad_kind, 0, "every match is of a kind in the mask");
    is_int(bad_time, 0, "every match has an instance in the hint range");
    is_int(bad_index, 0, "calcore_index_may_overlap agrees");
}

/* ---- robustness --------------------------------------------------------- */

static void test_robust(void)
{
    calcore_compfilter_t *f = vcal(NULL), *ev = cf("VEVENT");
    calcore_propfilter_t *p;
    apr_pool_t *scratch;
    int i, all = 1;

    /* a filter touching everything, on every object */
    cf_prop(ev, pf_text("SUMMARY", "e", CALCORE_COLL_UNICODE_CASEMAP, 1));
    p = pf("ATTENDEE");
    pf_param(p, "PARTSTAT", "A", 0);
    cf_prop(ev, p);
    cf_add(ev, cf_tr("VALARM", NULL, NULL));
    cf_add(f, ev);
    apr_pool_create(&scratch, pool);
    for (i = 0; i < RFC_NOBJ; i++) {
        int r = calcore_filter_match(f, rfc_obj[i], NULL, scratch);

        all &= r == 0 || r == 1;
        apr_pool_clear(scratch);
    }
    ok(all, "evaluates on every object");
    ok(!calcore_filter_match(NULL, rfc_obj[0], NULL, scratch),
       "NULL filter matches nothing");
    apr_pool_destroy(scratch);
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
    test_rfc_examples();
    test_recurrence();
    test_collations();
    test_props_params();
    test_prop_time_ranges();
    test_valarm();
    test_vtodo_table();
    test_other_components();
    test_check();
    test_hints();
    test_robust();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
