/*
 * test_calcore_import.c - the text half of imports (core/calcore_import.c):
 * cutting a stream into VCALENDARs and components at the octet level (CRLF
 * and LF, a byte-order mark, text outside any VCALENDAR, a component that
 * is not terminated, components that are ignored), grouping by UID (a
 * master and its overrides wherever they are, generated UIDs from the
 * octets, identical copies), each object's text (METHOD left out, the
 * VTIMEZONEs it uses, the generated UID line, an attribute map), labels
 * and member names.
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "calcore_import.h"
#include "calcore_attrmap.h"
#include "tap.h"

static apr_pool_t *pool;

static const char *sha1_hex(const char *data, apr_size_t len)
{
    unsigned char d[APR_SHA1_DIGESTSIZE];
    char *out = apr_palloc(pool, 2 * APR_SHA1_DIGESTSIZE + 1);
    apr_sha1_ctx_t c;
    int i;

    apr_sha1_init(&c);
    apr_sha1_update_binary(&c, (const unsigned char *)data,
                           (unsigned int)len);
    apr_sha1_final(d, &c);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        apr_snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
    return out;
}

static const calcore_import_group_t *group(const calcore_import_t *imp,
                                           int i)
{
    return &APR_ARRAY_IDX(imp->groups, i, calcore_import_group_t);
}

static const char *text_of(const calcore_import_t *imp, int i,
                           const calcore_attrmap_t *map)
{
    apr_size_t len;
    const char *t = calcore_import_text(imp, group(imp, i), map, &len, pool);

    if (strlen(t) != len) {
        return "(length differs)";
    }
    return t;
}

#define TZ_A(id, name) \
    "BEGIN:VTIMEZONE\r\nTZID:" id "\r\nBEGIN:STANDARD\r\n" \
    "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\n" \
    "TZNAME:" name "\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

/* What each object of the first VCALENDAR starts with. */
#define HEAD_ONE "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//one//EN\r\n" \
                 "X-WR-CALNAME:One\r\n"

static void test_grouping_and_texts(void)
{
    /* two VCALENDARs; the master and its overrides are apart; a component
     * without UID (twice, identical); a VPOLL; METHOD; a VTIMEZONE in each
     * VCALENDAR with the same TZID (each object takes its own one) */
    const char *master =
        "BEGIN:VEVENT\r\nUID:m@x\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=\"Zone/A\":20240108T090000\r\nRRULE:FREQ=DAILY;COUNT=3"
        "\r\nEND:VEVENT\r\n";
    const char *single =
        "BEGIN:VEVENT\r\nUID:s@x\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240108T090000Z\r\nEND:VEVENT\r\n";
    const char *noid =
        "BEGIN:VTODO\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:no uid\r\n"
        "END:VTODO\r\n";
    const char *over =
        "BEGIN:VEVENT\r\nUID:m@x\r\nDTSTAMP:20240101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Zone/A:20240109T090000\r\n"
        "DTSTART;TZID=Zone/B:20240109T100000\r\nEND:VEVENT\r\n";
    const char *poll = "BEGIN:VPOLL\r\nUID:p@x\r\nEND:VPOLL\r\n";
    const char *in = apr_pstrcat(pool,
        "\xEF\xBB\xBFjunk before\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//one//EN\r\n"
        "METHOD:PUBLISH\r\nX-WR-CALNAME:One\r\n",
        TZ_A("Zone/A", "ONE-A"), master, single, noid, poll, noid,
        "END:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//two//EN\r\n",
        TZ_A("Zone/A", "TWO-A"), TZ_A("Zone/B", "TWO-B"), over,
        "END:VCALENDAR\r\n", NULL);
    const char *gen = apr_pstrcat(pool, CALCORE_IMPORT_UID_PREFIX,
                                  sha1_hex(noid, strlen(noid)), NULL);
    calcore_import_t *imp;

    calcore_import_read(&imp, in, strlen(in), pool);
    is_int(imp->vcals->nelts, 2, "two VCALENDARs");
    is_int(imp->comps->nelts, 9, "nine components cut out");
    is_int(imp->broken->nelts, 0, "nothing broken");
    is_int(imp->groups->nelts, 4, "four objects: m, s, and two copies "
           "without UID");
    is_int(imp->warnings->nelts, 2, "two warnings");
    is_str(APR_ARRAY_IDX(imp->warnings, 0, const char *),
           "1 line(s) outside any VCALENDAR ignored",
           "text outside a VCALENDAR (after the byte-order mark)");
    is_str(APR_ARRAY_IDX(imp->warnings, 1, const char *),
           "ignored 1 VPOLL component(s): not a calendar component",
           "VPOLL ignored");

    is_str(group(imp, 0)->uid, "m@x", "first object: the master's UID");
    is_int(group(imp, 0)->comps->nelts, 2, "... with its override");
    is_str(group(imp, 1)->uid, "s@x", "then the single event");
    is_str(group(imp, 2)->uid, gen, "a generated UID from the octets");
    ok(group(imp, 2)->generated, "... marked generated");
    is_str(group(imp, 3)->uid, apr_pstrcat(pool, gen, "-2", NULL),
           "an identical copy gets -2");
    is_int(calcore_import_line(group(imp, 0)), 16,
           "line of the master's BEGIN (the BOM line is line 1)");
    is_str(calcore_import_label(group(imp, 1), pool), "UID s@x (line 22)",
           "label with UID");
    is_str(calcore_import_label(group(imp, 2), pool),
           "VTODO without UID (line 27)", "label without UID");

    is_str(text_of(imp, 0, NULL),
           apr_pstrcat(pool,
                       HEAD_ONE,
                       TZ_A("Zone/A", "ONE-A"), TZ_A("Zone/B", "TWO-B"),
                       master, over, "END:VCALENDAR\r\n", NULL),
           "master + override: first VCALENDAR's lines without METHOD, its "
           "own Zone/A and the only Zone/B, the components' bytes");
    is_str(text_of(imp, 1, NULL),
           apr_pstrcat(pool,
                       HEAD_ONE, single, "END:VCALENDAR\r\n",
                       NULL),
           "no TZID: no VTIMEZONE");
    is_str(text_of(imp, 2, NULL),
           apr_pstrcat(pool,
                       HEAD_ONE, "BEGIN:VTODO\r\nUID:", gen, "\r\n",
                       noid + strlen("BEGIN:VTODO\r\n"), "END:VCALENDAR\r\n",
                       NULL),
           "the generated UID right after BEGIN");

    {
        calcore_attrmap_t *map;
        const char *why;
        const char *m = "default VTODO SUMMARY x\ndefault * CLASS PRIVATE\n";

        calcore_attrmap_parse(&map, m, strlen(m), &why, pool);
        is_str(text_of(imp, 2, map),
               apr_pstrcat(pool,
                           "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                           "PRODID:-//one//EN\r\nX-WR-CALNAME:One\r\n"
                           "BEGIN:VTODO\r\nUID:", gen, "\r\n"
                           "DTSTAMP:20240101T000000Z\r\nSUMMARY:no uid\r\n"
                           "CLASS:PRIVATE\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                           NULL),
               "a map adds its lines to each component (not to VTIMEZONE)");
        {
            const char *t = text_of(imp, 0, map), *p = t;
            int n = 0, all = 0;

            while ((p = strstr(p, "CLASS:PRIVATE\r\nEND:VEVENT")) != NULL) {
                n++;
                p++;
            }
            for (p = t; (p = strstr(p, "CLASS")) != NULL; p++) {
                all++;
            }
            ok(n == 2 && all == 2,
               "... to both components of the master's object");
        }
    }
}

static void test_lf_and_broken(void)
{
    const char *in =
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTAMP:20240101T000000Z"
        "\nDTSTART:20240101T000000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:cut@x\n"
        "DTSTAMP:20240101T000000Z\n";
    calcore_import_t *imp;
    const calcore_import_broken_t *b;
    const char *t;
    apr_size_t len;

    calcore_import_read(&imp, in, strlen(in), pool);
    is_int(imp->groups->nelts, 1, "LF: one object");
    is_int(imp->broken->nelts, 1, "one component not terminated");
    b = &APR_ARRAY_IDX(imp->broken, 0, calcore_import_broken_t);
    is_str(b->uid, "cut@x", "... with its UID");
    ok(!b->generated, "... not generated");
    is_int(b->line, 7, "... and its line");
    is_str(b->reason, "VEVENT is not terminated (no END:VEVENT before the "
           "end of the input)", "... and why");
    is_int(imp->warnings->nelts, 1, "and the VCALENDAR has no END");
    t = calcore_import_text(imp, group(imp, 0), NULL, &len, pool);
    ok(strstr(t, "BEGIN:VEVENT\nUID:caldavctl-") != NULL,
       "the generated UID line ends in LF like the file");
    ok(len > 14 && strcmp(t + len - 14, "END:VCALENDAR\n") == 0,
       "a missing END:VCALENDAR is written with the file's line break");

    in = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n";
    calcore_import_read(&imp, in, strlen(in), pool);
    b = &APR_ARRAY_IDX(imp->broken, 0, calcore_import_broken_t);
    ok(b->generated && strcmp(b->uid, apr_pstrcat(
           pool, CALCORE_IMPORT_UID_PREFIX,
           sha1_hex(in + 17, strlen(in) - 17), NULL)) == 0,
       "a broken component without UID gets one from its octets");

    calcore_import_read(&imp, "", 0, pool);
    is_int(imp->groups->nelts + imp->broken->nelts + imp->warnings->nelts, 0,
           "empty input: nothing at all");
    in = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:a\r\nEND:VTIMEZONE\r\n"
         "END:VCALENDAR\r\n";
    calcore_import_read(&imp, in, strlen(in), pool);
    is_int(imp->groups->nelts, 0, "only a VTIMEZONE: no object");
    ok(apr_hash_get(imp->first_tz, "a", APR_HASH_KEY_STRING) != NULL,
       "... but it is known");
}

static void test_names(void)
{
    char uid[400];

    is_str(calcore_import_name("abc@example.com", 0, pool),
           "abc@example.com.ics", "safe UID: as it is");
    is_str(calcore_import_name("abc@example.com", 2, pool),
           "abc@example.com-2.ics", "second try");
    is_str(calcore_import_name("a b/c", 0, pool),
           apr_pstrcat(pool, "a_b_c-", apr_pstrndup(pool, sha1_hex("a b/c",
                                                                   5), 8),
                       ".ics", NULL),
           "unsafe characters replaced, hash appended");
    is_str(calcore_import_name(".hidden", 0, pool),
           apr_pstrcat(pool, "_hidden-", apr_pstrndup(pool, sha1_hex(
                           ".hidden", 7), 8), ".ics", NULL),
           "no leading dot");
    memset(uid, 'u', sizeof(uid) - 1);
    uid[sizeof(uid) - 1] = '\0';
    is_int(strlen(calcore_import_name(uid, 0, pool)),
           CALCORE_IMPORT_NAME_MAX + 1 + 8 + 4, "a long UID is cut, hash "
           "appended");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_grouping_and_texts();
    test_lf_and_broken();
    test_names();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
