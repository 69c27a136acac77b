/*
 * test_calcore_caldata.c - CALDAV:calendar-data rendering (RFC 4791 9.6):
 * the stored octets for a whole-object request, the partial retrieval of
 * RFC 4791 7.8.1, limit-recurrence-set (7.8.2), expand (7.8.3),
 * limit-freebusy-set (7.8.4) on the Appendix B calendar (abcd2 and abcd3
 * as the responses print them where it matters), novalue, expand
 * of all-day, floating and RDATE/EXDATE sets, output form (CRLF, folding,
 * re-parseable), and the checks of calcore_caldata_check().
 */
#include <stdio.h>

#include <apr_file_info.h>
#include <apr_general.h>

#include "rfc4791_data.h"

static calcore_caldata_comp_t *cd_comp(const char *name)
{
    calcore_caldata_comp_t *c = apr_pcalloc(pool, sizeof(*c));

    c->name = name;
    return c;
}

static calcore_caldata_comp_t *cd_add(calcore_caldata_comp_t *parent,
                                      calcore_caldata_comp_t *child)
{
    if (!parent->comps) {
        parent->comps = apr_array_make(pool, 2,
                                       sizeof(calcore_caldata_comp_t *));
    }
    APR_ARRAY_PUSH(parent->comps, calcore_caldata_comp_t *) = child;
    return child;
}

static void cd_prop(calcore_caldata_comp_t *c, const char *name, int novalue)
{
    calcore_caldata_prop_t *p;

    if (!c->props) {
        c->props = apr_array_make(pool, 4, sizeof(calcore_caldata_prop_t));
    }
    p = apr_array_push(c->props);
    p->name = name;
    p->novalue = novalue;
}

/* Render, with "\r\n" turned into "\n" for readable expectations; NULL on
 * failure.  Also checks the output form: CRLF only, lines <= 75 octets. */
static int form_ok;

static const char *render(const calcore_caldata_t *spec,
                          const calcore_object_t *obj,
                          const icaltimezone *floating)
{
    const char *text;
    apr_size_t len, i, col = 0;
    char *out, *o;

    if (!obj || calcore_caldata_render(spec, obj, floating, &text, &len,
                                       pool) != APR_SUCCESS) {
        return NULL;
    }
    if (strlen(text) != len) {
        form_ok = 0;
    }
    out = o = apr_palloc(pool, len + 1);
    for (i = 0; i < len; i++) {
        if (text[i] == '\r') {
            if (text[i + 1] != '\n') {
                form_ok = 0;
            }
            continue;
        }
        if (text[i] == '\n') {
            if (i == 0 || text[i - 1] != '\r') {
                form_ok = 0;
            }
            col = 0;
        }
        else if (++col > 75) {
            form_ok = 0;
        }
        *o++ = text[i];
    }
    *o = '\0';
    return out;
}

#define VTZ \
    "BEGIN:VTIMEZONE\nLAST-MODIFIED:20040110T032845Z\nTZID:US/Eastern\n" \
    "BEGIN:DAYLIGHT\nDTSTART:20000404T020000\n" \
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\nTZNAME:EDT\n" \
    "TZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nEND:DAYLIGHT\n" \
    "BEGIN:STANDARD\nDTSTART:20001026T020000\n" \
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nTZNAME:EST\n" \
    "TZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nEND:STANDARD\nEND:VTIMEZONE\n"

static void test_whole(void)
{
    calcore_caldata_t spec;
    const char *text, *stored;
    apr_size_t len, slen;

    stored = calcore_object_text(rfc_obj[1], &slen);
    ok(calcore_caldata_render(NULL, rfc_obj[1], NULL, &text, &len, pool)
       == APR_SUCCESS && text == stored && len == slen,
       "no spec: the stored octets themselves");
    memset(&spec, 0, sizeof(spec));
    ok(calcore_caldata_render(&spec, rfc_obj[1], NULL, &text, &len, pool)
       == APR_SUCCESS && text == stored, "empty spec: stored octets");
    spec.comp = cd_comp("VCALENDAR");
    spec.comp->allprop = spec.comp->allcomp = 1;
    ok(calcore_caldata_is_whole(&spec)
       && calcore_caldata_render(&spec, rfc_obj[1], NULL, &text, &len, pool)
          == APR_SUCCESS && text == stored,
       "VCALENDAR allprop allcomp: stored octets");
    spec.comp->allcomp = 0;
    ok(!calcore_caldata_is_whole(&spec), "VCALENDAR allprop only: "
       "generated");
    spec.comp = cd_comp("VCALENDAR");
    ok(calcore_caldata_render(&spec, rfc_obj[1], NULL, &text, &len, pool)
       == APR_SUCCESS && text == stored, "empty VCALENDAR comp: stored "
       "octets");
    spec.limit_freebusy = 1;
    spec.limit_freebusy_range.start = utc("20060101T000000Z");
    spec.limit_freebusy_range.end = utc("20060102T000000Z");
    ok(!calcore_caldata_is_whole(&spec), "a limit: generated");
    ok(calcore_caldata_is_whole(NULL), "NULL is whole");
}

/* RFC 4791 7.8.1: partial retrieval. */
static void test_partial(void)
{
    calcore_caldata_t spec;
    calcore_caldata_comp_t *ev;
    static const char *const props[] = {
        "SUMMARY", "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE",
        "EXRULE", "EXDATE", "RECURRENCE-ID"
    };
    unsigned i;

    memset(&spec, 0, sizeof(spec));
    spec.comp = cd_comp("VCALENDAR");
    cd_prop(spec.comp, "VERSION", 0);
    ev = cd_add(spec.comp, cd_comp("VEVENT"));
    for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        cd_prop(ev, props[i], 0);
    }
    cd_add(spec.comp, cd_comp("VTIMEZONE"));

    form_ok = 1;
    is_str(render(&spec, printed_abcd2, NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n" VTZ
           "BEGIN:VEVENT\nDTSTART;TZID=US/Eastern:20060102T120000\n"
           "DURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=5\nSUMMARY:Event #2\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "BEGIN:VEVENT\nDTSTART;TZID=US/Eastern:20060104T140000\n"
           "DURATION:PT1H\nRECURRENCE-ID;TZID=US/Eastern:20060104T120000\n"
           "SUMMARY:Event #2 bis\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "BEGIN:VEVENT\nDTSTART;TZID=US/Eastern:20060106T140000\n"
           "DURATION:PT1H\nRECURRENCE-ID;TZID=US/Eastern:20060106T120000\n"
           "SUMMARY:Event #2 bis bis\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "END:VCALENDAR\n", "7.8.1: abcd2 (as printed) partial");
    is_str(render(&spec, rfc_obj[2], NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n" VTZ
           "BEGIN:VEVENT\nDTSTART;TZID=US/Eastern:20060104T100000\n"
           "DURATION:PT1H\nSUMMARY:Event #3\n"
           "UID:DC6C50A017428C5216A2F1CD@example.com\nEND:VEVENT\n"
           "END:VCALENDAR\n", "7.8.1: abcd3 partial");
    ok(form_ok, "CRLF, lines of at most 75 octets");

    /* novalue, allprop, comp without VTIMEZONE */
    memset(&spec, 0, sizeof(spec));
    spec.comp = cd_comp("VCALENDAR");
    spec.comp->allprop = 1;
    ev = cd_add(spec.comp, cd_comp("VEVENT"));
    cd_prop(ev, "UID", 0);
    cd_prop(ev, "ATTENDEE", 1);
    cd_prop(ev, "x-abc-guid", 1);
    is_str(render(&spec, printed_abcd3, NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n"
           "PRODID:-//Example Corp.//CalDAV Client//EN\n"
           "BEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION:\n"
           "UID:DC6C50A017428C5216A2F1CD@example.com\nX-ABC-GUID:\n"
           "END:VEVENT\nEND:VCALENDAR\n",
           "novalue keeps name and parameters; no VTIMEZONE selected");

    /* VTODO with its VALARM, allcomp below */
    memset(&spec, 0, sizeof(spec));
    spec.comp = cd_comp("VCALENDAR");
    ev = cd_add(spec.comp, cd_comp("VTODO"));
    cd_prop(ev, "SUMMARY", 0);
    ev->allcomp = 1;
    is_str(render(&spec, rfc_obj[3], NULL),
           "BEGIN:VCALENDAR\nBEGIN:VTODO\nSUMMARY:Task #1\n"
           "BEGIN:VALARM\nACTION:AUDIO\nTRIGGER;RELATED=START:-PT10M\n"
           "END:VALARM\nEND:VTODO\nEND:VCALENDAR\n",
           "allcomp keeps the VALARM whole; no VCALENDAR property asked");
    ev->allcomp = 0;
    is_str(render(&spec, rfc_obj[3], NULL),
           "BEGIN:VCALENDAR\nBEGIN:VTODO\nSUMMARY:Task #1\nEND:VTODO\n"
           "END:VCALENDAR\n", "no comp: no VALARM");
    is_str(render(&spec, rfc_obj[0], NULL),
           "BEGIN:VCALENDAR\nEND:VCALENDAR\n", "VTODO asked of an event");

    /* long values are folded without splitting UTF-8 */
    {
#define E8 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        calcore_object_t *o = obj_of(HEAD
            "BEGIN:VEVENT\r\nUID:long\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240101T100000Z\r\n"
            "SUMMARY;X-NOTE=\"" E8 E8 E8 E8 "\"\r\n"
            " :" E8 E8 E8 E8 E8 "\r\n"
            "END:VEVENT\r\n" TAIL);
        const char *text, *line;
        apr_size_t len, n;
        int good = 1;
#undef E8

        memset(&spec, 0, sizeof(spec));
        spec.comp = cd_comp("VCALENDAR");
        ev = cd_add(spec.comp, cd_comp("VEVENT"));
        cd_prop(ev, "SUMMARY", 1);
        form_ok = 1;
        ok(render(&spec, o, NULL) != NULL && form_ok,
           "novalue line folded at 75 octets");
        cd_prop(ev, "SUMMARY", 0);
        ev->props->nelts = 1;
        APR_ARRAY_IDX(ev->props, 0, calcore_caldata_prop_t).novalue = 0;
        calcore_caldata_render(&spec, o, NULL, &text, &len, pool);
        for (line = text; *line; line += n + 2) {
            n = strcspn(line, "\r");
            /* a continuation line never starts inside a UTF-8 sequence */
            if (line[0] == ' ' && ((unsigned char)line[1] & 0xC0) == 0x80) {
                good = 0;
            }
            if (!line[n]) {
                break;
            }
        }
        ok(good, "folds never split a UTF-8 sequence");
    }
}

/* RFC 4791 7.8.2: limit-recurrence-set [Jan 3, Jan 5). */
static void test_limit_recurrence(void)
{
    calcore_caldata_t spec;
    const char *out;

    memset(&spec, 0, sizeof(spec));
    spec.limit_recurrence = 1;
    spec.limit_recurrence_range.start = utc("20060103T000000Z");
    spec.limit_recurrence_range.end = utc("20060105T000000Z");
    form_ok = 1;
    is_str(render(&spec, printed_abcd2, NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n"
           "PRODID:-//Example Corp.//CalDAV Client//EN\n" VTZ
           "BEGIN:VEVENT\nDTSTAMP:20060206T001121Z\n"
           "DTSTART;TZID=US/Eastern:20060102T120000\nDURATION:PT1H\n"
           "RRULE:FREQ=DAILY;COUNT=5\nSUMMARY:Event #2\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "BEGIN:VEVENT\nDTSTAMP:20060206T001121Z\n"
           "DTSTART;TZID=US/Eastern:20060104T140000\nDURATION:PT1H\n"
           "RECURRENCE-ID;TZID=US/Eastern:20060104T120000\n"
           "SUMMARY:Event #2 bis\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "END:VCALENDAR\n",
           "7.8.2: abcd2 (as printed) keeps the master and the Jan 4 "
           "override only");
    out = render(&spec, printed_abcd3, NULL);
    ok(out && strstr(out, "X-ABC-GUID:E1CX5Dr-0007ym-Hz@example.com\n")
       && strstr(out, "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@"),
       "7.8.2: abcd3 (not recurring) unchanged");
    ok(form_ok, "CRLF, lines of at most 75 octets");

    /* an override is kept for its original time as well */
    spec.limit_recurrence_range.start = utc("20060106T170000Z");
    spec.limit_recurrence_range.end = utc("20060106T171000Z");
    out = render(&spec, printed_abcd2, NULL);
    ok(out && strstr(out, "SUMMARY:Event #2 bis bis\n")
       && !strstr(out, "SUMMARY:Event #2 bis\n"),
       "override kept for its original slot (12:00 EST)");
    spec.limit_recurrence_range.start = utc("20060106T180000Z");
    spec.limit_recurrence_range.end = utc("20060106T190000Z");
    out = render(&spec, printed_abcd2, NULL);
    ok(out && !strstr(out, "bis"), "no override between old and new slot");
}

/* RFC 4791 7.8.3: expand [Jan 3, Jan 5). */
static void test_expand(void)
{
    calcore_caldata_t spec;
    calcore_caldata_comp_t *ev;
    const char *out;

    memset(&spec, 0, sizeof(spec));
    spec.expand = 1;
    spec.expand_range.start = utc("20060103T000000Z");
    spec.expand_range.end = utc("20060105T000000Z");
    form_ok = 1;
    is_str(render(&spec, rfc_obj[1], NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n"
           "PRODID:-//Example Corp.//CalDAV Client//EN\n"
           "BEGIN:VEVENT\nDTSTAMP:20060206T001121Z\n"
           "DTSTART:20060103T170000Z\nDURATION:PT1H\n"
           "RECURRENCE-ID:20060103T170000Z\nSUMMARY:Event #2\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "BEGIN:VEVENT\nDTSTAMP:20060206T001121Z\n"
           "DTSTART:20060104T190000Z\nDURATION:PT1H\n"
           "RECURRENCE-ID:20060104T170000Z\nSUMMARY:Event #2 bis\n"
           "UID:00959BC664CA650E933C892C@example.com\nEND:VEVENT\n"
           "END:VCALENDAR\n",
           "7.8.3: abcd2 expanded to UTC instances with RECURRENCE-ID");
    ok(strcmp(render(&spec, rfc_obj[1], NULL),
              render(&spec, printed_abcd2, NULL)) == 0,
       "7.8.3: the same from abcd2 as printed");
    is_str(render(&spec, printed_abcd3, NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n"
           "PRODID:-//Example Corp.//CalDAV Client//EN\n"
           "BEGIN:VEVENT\n"
           "ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:cyrus@example.com\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com\n"
           "DTSTAMP:20060206T001220Z\nDTSTART:20060104T150000Z\n"
           "DURATION:PT1H\nLAST-MODIFIED:20060206T001330Z\n"
           "ORGANIZER:mailto:cyrus@example.com\nSEQUENCE:1\n"
           "STATUS:TENTATIVE\nSUMMARY:Event #3\n"
           "UID:DC6C50A017428C5216A2F1CD@example.com\n"
           "X-ABC-GUID:E1CX5Dr-0007ym-Hz@example.com\nEND:VEVENT\n"
           "END:VCALENDAR\n",
           "7.8.3: abcd3 (as printed) in UTC, no RECURRENCE-ID");
    ok(form_ok, "CRLF, lines of at most 75 octets");

    /* the output is a valid calendar object again */
    {
        const char *text;
        apr_size_t len;
        calcore_object_t *o;

        calcore_caldata_render(&spec, rfc_obj[1], NULL, &text, &len, pool);
        o = parse_obj(text, len);
        ok(o && calcore_object_master(o) == NULL
           && calcore_object_components(o)->nelts == 2,
           "expanded abcd2 parses: two overrides, no master");
    }

    /* expand + partial retrieval */
    spec.comp = cd_comp("VCALENDAR");
    ev = cd_add(spec.comp, cd_comp("VEVENT"));
    cd_prop(ev, "DTSTART", 0);
    cd_prop(ev, "RECURRENCE-ID", 0);
    is_str(render(&spec, rfc_obj[1], NULL),
           "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20060103T170000Z\n"
           "RECURRENCE-ID:20060103T170000Z\nEND:VEVENT\n"
           "BEGIN:VEVENT\nDTSTART:20060104T190000Z\n"
           "RECURRENCE-ID:20060104T170000Z\nEND:VEVENT\nEND:VCALENDAR\n",
           "expand with comp/prop selection");
    spec.comp = NULL;

    /* all-day, EXDATE, RDATE, an override moved into the range, VALARM */
    {
        calcore_object_t *o = obj_of(HEAD
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART;VALUE=DATE:20240610\r\nDTEND;VALUE=DATE:20240611\r\n"
            "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;VALUE=DATE:20240611\r\n"
            "RDATE;VALUE=DATE:20240620\r\nSUMMARY:day\r\n"
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:a\r\n"
            "TRIGGER:-PT1H\r\nEND:VALARM\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\n"
            "RECURRENCE-ID;VALUE=DATE:20240614\r\n"
            "DTSTART;VALUE=DATE:20240612\r\nDTEND;VALUE=DATE:20240613\r\n"
            "SUMMARY:moved\r\nEND:VEVENT\r\n" TAIL);

        spec.expand_range.start = utc("20240611T000000Z");
        spec.expand_range.end = utc("20240615T000000Z");
        is_str(render(&spec, o, NULL),
               "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n"
               "BEGIN:VEVENT\nUID:d\nDTSTAMP:20240101T000000Z\n"
               "DTSTART;VALUE=DATE:20240612\nDTEND;VALUE=DATE:20240613\n"
               "RECURRENCE-ID;VALUE=DATE:20240612\nSUMMARY:day\n"
               "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:a\n"
               "TRIGGER:-PT1H\nEND:VALARM\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:d\nDTSTAMP:20240101T000000Z\n"
               "RECURRENCE-ID;VALUE=DATE:20240614\n"
               "DTSTART;VALUE=DATE:20240612\nDTEND;VALUE=DATE:20240613\n"
               "SUMMARY:moved\nEND:VEVENT\n"
               "BEGIN:VEVENT\nUID:d\nDTSTAMP:20240101T000000Z\n"
               "DTSTART;VALUE=DATE:20240613\nDTEND;VALUE=DATE:20240614\n"
               "RECURRENCE-ID;VALUE=DATE:20240613\nSUMMARY:day\n"
               "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:a\n"
               "TRIGGER:-PT1H\nEND:VALARM\nEND:VEVENT\n"
               "END:VCALENDAR\n",
               "all-day expansion: EXDATE, override moved in, DATEs kept");
        spec.expand_range.start = utc("20240620T000000Z");
        spec.expand_range.end = utc("20240621T000000Z");
        out = render(&spec, o, NULL);
        ok(out && strstr(out, "DTSTART;VALUE=DATE:20240620\n")
           && strstr(out, "RECURRENCE-ID;VALUE=DATE:20240620\n")
           && !strstr(out, "RDATE") && !strstr(out, "RRULE"),
           "RDATE instance expanded");
    }

    /* floating times become UTC in the floating zone */
    {
        calcore_object_t *o = obj_of(HEAD
            "BEGIN:VEVENT\r\nUID:f\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240610T090000\r\nDTEND:20240610T100000\r\n"
            "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n" TAIL);

        spec.expand_range.start = utc("20240617T000000Z");
        spec.expand_range.end = utc("20240618T000000Z");
        out = render(&spec, o, calcore_tz_system("Europe/Berlin"));
        ok(out && strstr(out, "DTSTART:20240617T070000Z\n")
           && strstr(out, "DTEND:20240617T080000Z\n")
           && strstr(out, "RECURRENCE-ID:20240617T070000Z\n"),
           "floating 09:00 in Berlin expands to 07:00Z");
    }
    /* a VTODO: DUE follows the instance */
    {
        calcore_object_t *o = obj_of(HEAD
            "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART;TZID=Europe/Berlin:20240610T090000\r\n"
            "DUE;TZID=Europe/Berlin:20240610T120000\r\n"
            "RRULE:FREQ=DAILY;COUNT=2\r\nEND:VTODO\r\n" TAIL);

        spec.expand_range.start = utc("20240611T000000Z");
        spec.expand_range.end = utc("20240612T000000Z");
        is_str(render(&spec, o, NULL),
               "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n"
               "BEGIN:VTODO\nUID:t\nDTSTAMP:20240101T000000Z\n"
               "DTSTART:20240611T070000Z\nDUE:20240611T100000Z\n"
               "RECURRENCE-ID:20240611T070000Z\nEND:VTODO\n"
               "END:VCALENDAR\n", "VTODO instance with DUE");
    }
    /* the instance limit */
    {
        calcore_object_t *o = obj_of(HEAD
            "BEGIN:VEVENT\r\nUID:m\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY\r\n"
            "END:VEVENT\r\n" TAIL);
        const char *p;
        int n = 0;

        spec.expand_range.start = utc("20240101T000000Z");
        spec.expand_range.end = utc("21000101T000000Z");
        spec.max_instances = 3;
        out = render(&spec, o, NULL);
        for (p = out; p && (p = strstr(p, "BEGIN:VEVENT")); p++) {
            n++;
        }
        ok(n == 3 && strstr(out, "DTSTART:20240103T100000Z"),
           "max_instances: the first 3 instances");
        spec.max_instances = 0;
    }
    /* VFREEBUSY is not expanded */
    spec.expand_range.start = utc("20060101T000000Z");
    spec.expand_range.end = utc("20060102T000000Z");
    out = render(&spec, rfc_obj[7], NULL);
    ok(out && strstr(out, "FREEBUSY:20060106T100000Z/20060106T120000Z"),
       "expand leaves a VFREEBUSY alone");
}

/* RFC 4791 7.8.4: limit-freebusy-set [Jan 2, Jan 3). */
static void test_limit_freebusy(void)
{
    calcore_caldata_t spec;

    memset(&spec, 0, sizeof(spec));
    spec.limit_freebusy = 1;
    spec.limit_freebusy_range.start = utc("20060102T000000Z");
    spec.limit_freebusy_range.end = utc("20060103T000000Z");
    is_str(render(&spec, rfc_obj[7], NULL),
           "BEGIN:VCALENDAR\nVERSION:2.0\n"
           "PRODID:-//Example Corp.//CalDAV Client//EN\n"
           "BEGIN:VFREEBUSY\n"
           "ORGANIZER;CN=Bernard Desruisseaux:mailto:bernard@example.com\n"
           "UID:76ef34-54a3d2@example.com\nDTSTAMP:20050530T123421Z\n"
           "DTSTART:20060101T000000Z\nDTEND:20060108T000000Z\n"
           "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060102T100000Z/20060102T120000Z\n"
           "END:VFREEBUSY\nEND:VCALENDAR\n",
           "7.8.4: only the Jan 2 period");
    spec.limit_freebusy_range.start = utc("20060103T120000Z");
    spec.limit_freebusy_range.end = utc("20060104T100001Z");
    ok(strstr(render(&spec, rfc_obj[7], NULL),
              "FREEBUSY:20060104T100000Z/20060104T120000Z\nEND:VFREEBUSY")
       != NULL && !strstr(render(&spec, rfc_obj[7], NULL),
                          "20060103T100000Z"),
       "periods touching the range's start are not included");
}

static apr_status_t check(const calcore_caldata_t *spec)
{
    calcore_precond_e code;
    const char *why;
    apr_status_t rv = calcore_caldata_check(spec, &code, &why);

    if (code != CALCORE_PRECOND_NONE || (rv != APR_SUCCESS && !why)) {
        return APR_EGENERAL;
    }
    return rv;
}

static void test_check(void)
{
    calcore_caldata_t spec;
    calcore_caldata_comp_t *c;
    int i;

    ok(check(NULL) == APR_SUCCESS, "NULL spec valid");
    memset(&spec, 0, sizeof(spec));
    spec.expand = 1;
    spec.expand_range.start = utc("20060103T000000Z");
    spec.expand_range.end = CALCORE_TIME_MAX;
    ok(check(&spec) == CALCORE_EINVALID, "expand without end");
    spec.expand_range.start = CALCORE_TIME_MIN;
    spec.expand_range.end = utc("20060103T000000Z");
    ok(check(&spec) == CALCORE_EINVALID, "expand without start");
    spec.expand_range.start = utc("20060103T000000Z");
    ok(check(&spec) == CALCORE_EINVALID, "expand start == end");
    spec.expand_range.end = utc("20060104T000000Z");
    ok(check(&spec) == APR_SUCCESS, "expand with a range");
    spec.limit_recurrence = 1;
    spec.limit_recurrence_range = spec.expand_range;
    ok(check(&spec) == CALCORE_EINVALID,
       "expand and limit-recurrence-set together");
    spec.expand = 0;
    spec.limit_recurrence_range.start = utc("20060105T000000Z");
    ok(check(&spec) == CALCORE_EINVALID, "limit-recurrence-set backwards");
    spec.limit_recurrence = 0;
    spec.limit_freebusy = 1;
    ok(check(&spec) == CALCORE_EINVALID, "limit-freebusy-set without range");
    memset(&spec, 0, sizeof(spec));
    spec.comp = cd_comp("VEVENT");
    ok(check(&spec) == CALCORE_EINVALID, "root comp must be VCALENDAR");
    spec.comp = cd_comp("VCALENDAR");
    spec.comp->allprop = 1;
    cd_prop(spec.comp, "VERSION", 0);
    ok(check(&spec) == CALCORE_EINVALID, "allprop with prop");
    spec.comp = cd_comp("VCALENDAR");
    spec.comp->allcomp = 1;
    cd_add(spec.comp, cd_comp("VEVENT"));
    ok(check(&spec) == CALCORE_EINVALID, "allcomp with comp");
    spec.comp = c = cd_comp("VCALENDAR");
    for (i = 0; i < 100; i++) {
        c = cd_add(c, cd_comp("X-DEEP"));
    }
    ok(check(&spec) == CALCORE_EINVALID, "comps nested 100 deep");
    spec.comp = cd_comp("VCALENDAR");
    cd_prop(spec.comp, NULL, 0);
    ok(check(&spec) == CALCORE_EINVALID, "prop without a name");
}

/* Every accepted fixture of tests/data/ics through every renderer, a
 * catch-all filter and free/busy: no failure, well-formed output that
 * loads again. */
static void test_fixtures(void)
{
    const char *dir = apr_pstrcat(pool, rfc_datadir(), "/../ics", NULL);
    apr_dir_t *d;
    apr_finfo_t fi;
    int files = 0, bad = 0;
    calcore_caldata_t specs[4];
    calcore_compfilter_t *f[4], *ev;
    unsigned kinds[] = { CALCORE_COMP_VEVENT, CALCORE_COMP_VTODO,
                         CALCORE_COMP_VJOURNAL, CALCORE_COMP_VFREEBUSY };
    int i, k;

    memset(specs, 0, sizeof(specs));
    specs[0].comp = cd_comp("VCALENDAR");
    cd_prop(specs[0].comp, "PRODID", 1);
    specs[0].comp->allcomp = 1;
    for (i = 1; i < 4; i++) {
        specs[i].expand = i == 1;
        specs[i].limit_recurrence = i == 2;
        specs[i].limit_freebusy = i == 3;
        specs[i].expand_range.start = utc("19000101T000000Z");
        specs[i].expand_range.end = utc("20400101T000000Z");
        specs[i].limit_recurrence_range = specs[i].expand_range;
        specs[i].limit_freebusy_range = specs[i].expand_range;
    }
    /* per kind: a time-range, a negated unicode text-match, a VALARM
     * time-range where there can be one */
    for (k = 0; k < 4; k++) {
        ev = cf_tr(calcore_comp_name(kinds[k]), "19000101T000000Z",
                   "20400101T000000Z");
        cf_prop(ev, pf_text("SUMMARY", "e", CALCORE_COLL_UNICODE_CASEMAP,
                            1));
        if (kinds[k] == CALCORE_COMP_VEVENT
            || kinds[k] == CALCORE_COMP_VTODO) {
            cf_add(ev, cf_tr("VALARM", "19000101T000000Z",
                             "20400101T000000Z"));
        }
        f[k] = vcal(ev);
    }
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS) {
        ok(0, "cannot open %s", dir);
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        apr_size_t len;
        char *text;
        calcore_object_t *o = NULL;
        calcore_precond_e pc;
        const char *why;
        calcore_fb_t *fb;

        if (strncmp(fi.name, "ok-", 3) != 0
            && strncmp(fi.name, "limit-", 6) != 0) {
            continue;
        }
        text = load_file(apr_pstrcat(pool, "../ics/", fi.name, NULL), &len);
        if (!text || calcore_object_parse(&o, &pc, &why, text, len, NULL,
                                          pool) != APR_SUCCESS) {
            continue;
        }
        files++;
        for (i = 0; i < 4; i++) {
            const char *out;
            apr_size_t olen;
            calcore_object_t *back;

            form_ok = 1;
            out = render(&specs[i], o, calcore_tz_system("Europe/Berlin"));
            calcore_caldata_render(&specs[i], o, NULL, &out, &olen, pool);
            if (!form_ok || strncmp(out, "BEGIN:VCALENDAR\r\n", 17) != 0
                || olen < 15 || strcmp(out + olen - 15,
                                       "END:VCALENDAR\r\n") != 0
                || (i > 0 && calcore_object_load(&back, &why, out, olen,
                                                 pool) != APR_SUCCESS
                    && strstr(out + 15, "BEGIN:V"))) {
                diag("%s: spec %d: bad output", fi.name, i);
                bad++;
            }
        }
        for (k = 0; k < 4; k++) {
            (void)calcore_filter_match(f[k], o, NULL, pool);
        }
        fb = calcore_fb_create(utc("19000101T000000Z"),
                               utc("20400101T000000Z"), pool);
        calcore_fb_add_object(fb, o, NULL, pool);
        (void)calcore_fb_periods(fb, pool);
    }
    apr_dir_close(d);
    ok(files >= 15, "%d accepted fixtures", files);
    is_int(bad, 0, "every rendering well-formed and loadable");
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
    test_whole();
    test_partial();
    test_limit_recurrence();
    test_expand();
    test_limit_freebusy();
    test_check();
    test_fixtures();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
