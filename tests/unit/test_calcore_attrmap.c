/*
 * test_calcore_attrmap.c - the attribute map of imports
 * (core/calcore_attrmap.c): the file format (comments, quoting, mappings,
 * every syntax error with its line), and applying a map to a component
 * (aliases with and without value mappings, defaults, their order, which
 * components a rule applies to, nested components, line breaks, folding
 * at 75 octets without splitting UTF-8, texts left alone), and the
 * example map shipped in conf/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "calcore_attrmap.h"
#include "tap.h"

static apr_pool_t *pool;

static calcore_attrmap_t *map_of(const char *text)
{
    calcore_attrmap_t *map = NULL;
    const char *why = NULL;

    if (calcore_attrmap_parse(&map, text, strlen(text), &why, pool)
        != APR_SUCCESS) {
        diag("unexpected map error: %s", why);
    }
    return map;
}

/* The parse error of 'text', or "OK". */
static const char *error_of(const char *text)
{
    calcore_attrmap_t *map = (calcore_attrmap_t *)1;
    const char *why = NULL;

    if (calcore_attrmap_parse(&map, text, strlen(text), &why, pool)
        == APR_SUCCESS) {
        return "OK";
    }
    return map == NULL ? why : "map set on failure";
}

static const char *apply(const calcore_attrmap_t *map, const char *text,
                         int *added)
{
    const char *out;
    apr_size_t len;

    calcore_attrmap_apply(map, text, strlen(text), &out, &len, added, pool);
    if (strlen(out) != len) {
        return "(length differs)";
    }
    return out;
}

static void test_parse(void)
{
    calcore_attrmap_t *map;

    map = map_of("\xEF\xBB\xBF# comment\r\n\r\n   \n"
                 "alias X-A DESCRIPTION   # trailing comment\n"
                 "ALIAS vevent x-b transp busy=OPAQUE \"out of office\"=OPAQUE"
                 " *=TRANSPARENT\n"
                 "default * SUMMARY \"(no \\\"title\\\")\"\n");
    ok(map != NULL, "a map with comments, blank lines, CRLF, BOM, quotes");
    is_int(calcore_attrmap_count(map), 3, "three rules");
    is_int(calcore_attrmap_count(map_of("")), 0, "an empty map");
    is_int(calcore_attrmap_count(NULL), 0, "no map");

    is_str(error_of("\n\nfrobnicate A B\n"),
           "line 3: unknown keyword 'frobnicate' (alias or default)",
           "unknown keyword, with its line");
    is_str(error_of("alias X-A\n"),
           "line 1: alias needs a vendor property and the property it stands"
           " for: alias [COMPONENT] VENDOR-PROPERTY PROPERTY [VENDOR-VALUE="
           "VALUE ...]", "alias without a property");
    is_str(error_of("alias VEVENT X-A\n"), error_of("alias X-A\n"),
           "alias with a component but one property");
    is_str(error_of("alias X_A B\n"), "line 1: 'X_A' is not a property name",
           "bad vendor property");
    is_str(error_of("alias X-A B:C\n"), "line 1: 'B:C' is not a property "
           "name", "bad property");
    is_str(error_of("alias X-A X-a\n"), "line 1: X-A is an alias of itself",
           "alias of itself");
    is_str(error_of("alias X-A TRANSP BUSY\n"),
           "line 1: 'BUSY' is no VENDOR-VALUE=VALUE mapping",
           "a mapping without '='");
    is_str(error_of("alias X-A TRANSP =OPAQUE\n"),
           "line 1: '=OPAQUE' is no VENDOR-VALUE=VALUE mapping",
           "a mapping without vendor value");
    is_str(error_of("alias X-A TRANSP A=\n"),
           "line 1: 'A=' is no VENDOR-VALUE=VALUE mapping",
           "a mapping without value");
    is_str(error_of("alias X-A UID\n"), "line 1: UID cannot be added by a "
           "map", "UID is reserved");
    is_str(error_of("default VEVENT RECURRENCE-ID 20240101T000000Z\n"),
           "line 1: RECURRENCE-ID cannot be added by a map",
           "RECURRENCE-ID is reserved");
    is_str(error_of("default VEVNT SUMMARY x\n"),
           "line 1: unknown component VEVNT (VEVENT, VTODO, VJOURNAL, "
           "VFREEBUSY, VAVAILABILITY or *)", "unknown component");
    is_str(error_of("default VEVENT SUMMARY\n"),
           "line 1: default needs a component, a property and a value: "
           "default COMPONENT|* PROPERTY VALUE (quote a value with blanks)",
           "default without value");
    is_str(error_of("default VEVENT SUMMARY no title\n"),
           error_of("default VEVENT SUMMARY\n"),
           "an unquoted value with a blank");
    is_str(error_of("default VEVENT SUMMARY \"\"\n"),
           "line 1: the value must be UTF-8 text without control characters "
           "(and not empty)", "empty value");
    is_str(error_of("default VEVENT SUMMARY \"a\x01\"\n"),
           error_of("default VEVENT SUMMARY \"\"\n"), "control character");
    is_str(error_of("default VEVENT SUMMARY \"\xC3\x28\"\n"),
           error_of("default VEVENT SUMMARY \"\"\n"), "invalid UTF-8");
    is_str(error_of("default VEVENT SUMMARY \"open\n"),
           "line 1: unterminated quote", "unterminated quote");
    is_str(error_of("default VEVENT SUMMARY a\ndefault * summary b\n"),
           "line 2: a default for SUMMARY of * was given on line 1 already",
           "two defaults for one property");
    ok(strcmp(error_of("default VEVENT SUMMARY a\ndefault VTODO SUMMARY b\n"),
              "OK") == 0, "... of different components are fine");
    is_str(error_of("alias X-A DESCRIPTION\nalias X-B DESCRIPTION\n"), "OK",
           "two aliases for one property are fine (the first that applies "
           "wins)");
}

#define EV(props) "BEGIN:VEVENT\r\nUID:e@x\r\n" props "END:VEVENT\r\n"

static void test_apply(void)
{
    calcore_attrmap_t *map = map_of(
        "alias X-MICROSOFT-CDO-BUSYSTATUS TRANSP FREE=TRANSPARENT "
        "*=OPAQUE\n"
        "alias VEVENT X-ORACLE-EVENTTYPE TRANSP \"DAY EVENT\"=TRANSPARENT\n"
        "alias X-ALT-LOC LOCATION\n"
        "alias X-LOC LOCATION\n"
        "default VEVENT SUMMARY \"(no title)\"\n"
        "default VTODO PRIORITY 5\n");
    const char *in, *out;
    int added;

    in = EV("X-MICROSOFT-CDO-BUSYSTATUS:free\r\nSUMMARY:s\r\n");
    is_str(apply(map, in, &added),
           EV("X-MICROSOFT-CDO-BUSYSTATUS:free\r\nSUMMARY:s\r\n"
              "TRANSP:TRANSPARENT\r\n"),
           "alias with a value mapping (case-insensitive), line before END");
    is_int(added, 1, "one line added");
    is_str(apply(map, EV("X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nSUMMARY:s\r\n"),
                 NULL),
           EV("X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nSUMMARY:s\r\n"
              "TRANSP:OPAQUE\r\n"), "'*' matches the rest");
    is_str(apply(map, EV("X-ORACLE-EVENTTYPE:APPOINTMENT\r\nSUMMARY:s\r\n"),
                 &added),
           EV("X-ORACLE-EVENTTYPE:APPOINTMENT\r\nSUMMARY:s\r\n"),
           "no mapping matches: nothing added");
    is_int(added, 0, "... none counted");
    in = EV("TRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n"
            "SUMMARY:s\r\n");
    out = apply(map, in, NULL);
    ok(out == in || strcmp(out, in) == 0, "the standard property is there: "
       "left alone");
    {
        const char *o;
        apr_size_t n;

        calcore_attrmap_apply(map, in, strlen(in), &o, &n, NULL, pool);
        ok(o == in && n == strlen(in), "an unchanged text is returned as it "
           "is");
    }
    is_str(apply(map, EV("X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
                         "X-ORACLE-EVENTTYPE:DAY EVENT\r\nSUMMARY:s\r\n"),
                 NULL),
           EV("X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
              "X-ORACLE-EVENTTYPE:DAY EVENT\r\nSUMMARY:s\r\n"
              "TRANSP:OPAQUE\r\n"), "the first alias that applies wins");
    is_str(apply(map, EV("X-LOC;X-P=\"a:b\":Room\\, 1 \r\nX-ALT-LOC:\r\n"
                         "SUMMARY:s\r\n"), NULL),
           EV("X-LOC;X-P=\"a:b\":Room\\, 1 \r\nX-ALT-LOC:\r\nSUMMARY:s\r\n"
              "LOCATION:Room\\, 1\r\n"),
           "without mappings the value is copied (as it is, trimmed; an "
           "empty one does not count)");
    is_str(apply(map, EV("X-LOC:A\r\n B\r\nSUMMARY:s\r\n"), NULL),
           EV("X-LOC:A\r\n B\r\nSUMMARY:s\r\nLOCATION:AB\r\n"),
           "a folded vendor value is unfolded");
    is_str(apply(map, "BEGIN:VTODO\r\nUID:t@x\r\n"
                      "X-ORACLE-EVENTTYPE:DAY EVENT\r\nEND:VTODO\r\n", NULL),
           "BEGIN:VTODO\r\nUID:t@x\r\nX-ORACLE-EVENTTYPE:DAY EVENT\r\n"
           "PRIORITY:5\r\nEND:VTODO\r\n",
           "rules for VEVENT do not apply to a VTODO; its own default does");
    is_str(apply(map, EV("BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:inner\r\n"
                         "TRIGGER:-PT5M\r\nEND:VALARM\r\n"), &added),
           EV("BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:inner\r\n"
              "TRIGGER:-PT5M\r\nEND:VALARM\r\nSUMMARY:(no title)\r\n"),
           "a VALARM's SUMMARY does not count; the line goes before the "
           "component's own END");
    is_str(apply(map, "begin:vevent\nuid:e@x\nx-microsoft-cdo-busystatus:"
                      "FREE\nsummary:s\nend:vevent\n", NULL),
           "begin:vevent\nuid:e@x\nx-microsoft-cdo-busystatus:FREE\n"
           "summary:s\nTRANSP:TRANSPARENT\nend:vevent\n",
           "lower-case names, LF: the component's own line break");
    is_str(apply(map, EV("SUMMARY:s\r\n") "trailing", NULL),
           EV("SUMMARY:s\r\n") "trailing",
           "no line break after END: the rest is kept too (nothing to add)");
    in = "BEGIN:VTIMEZONE\r\nTZID:x\r\nEND:VTIMEZONE\r\n";
    ok(apply(map, in, NULL) == in || strcmp(apply(map, in, NULL), in) == 0,
       "a VTIMEZONE is left alone");
    in = "BEGIN:VEVENT\r\nUID:e@x\r\n";
    is_str(apply(map, in, NULL), in, "an unterminated component is left "
           "alone");
    in = "UID:e@x\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n";
    is_str(apply(map, in, NULL), in, "text that is not one component is "
           "left alone");
}

static void test_fold(void)
{
    /* "SUMMARY:" (8 octets), 66 x 'a', then 10 x U+00E9 (two octets
     * each): the 75th octet is the first half of an e-acute */
    char value[128], *o = value;
    const char *out, *p, *end;
    calcore_attrmap_t *map;
    int i, max = 0, lines = 0, split = 0;

    for (i = 0; i < 66; i++) {
        *o++ = 'a';
    }
    for (i = 0; i < 10; i++) {
        *o++ = '\xC3';
        *o++ = '\xA9';
    }
    *o = '\0';
    map = map_of(apr_psprintf(pool, "default VEVENT SUMMARY \"%s\"\n",
                              value));
    out = apply(map, "BEGIN:VEVENT\r\nEND:VEVENT\r\n", NULL);
    p = out + strlen("BEGIN:VEVENT\r\n");
    end = strstr(out, "END:VEVENT");
    while (p < end) {
        const char *nl = strstr(p, "\r\n");

        if ((int)(nl - p) > max) {
            max = (int)(nl - p);
        }
        if (((unsigned char)p[lines ? 1 : 0] & 0xC0) == 0x80) {
            split = 1;
        }
        lines++;
        p = nl + 2;
    }
    is_int(lines, 2, "a 94-octet line is folded once");
    is_int(max, 74, "at 74 octets: the character does not fit");
    ok(!split, "no UTF-8 sequence split");
    ok(strncmp(out + strlen("BEGIN:VEVENT\r\n"), "SUMMARY:aaaa", 12) == 0
       && strstr(out, "\r\n \xC3") != NULL,
       "continued with a blank, before a whole character");

    /* ASCII: 75 octets, then a blank and 74 */
    memset(value, 'b', 100);
    value[100] = '\0';
    map = map_of(apr_psprintf(pool, "default VTODO DESCRIPTION %s\n", value));
    is_str(apply(map, "BEGIN:VTODO\nEND:VTODO\n", NULL),
           apr_psprintf(pool, "BEGIN:VTODO\nDESCRIPTION:%.*s\n %.*s\nEND:VTODO"
                        "\n", 63, value, 37, value),
           "ASCII folded at exactly 75 octets");
}

static void test_load(void)
{
    calcore_attrmap_t *map;
    const char *why = NULL;
    char path[] = "/tmp/attrmap-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "default VEVENT SUMMARY x\nalias\n";

    ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text),
       "a map file");
    close(fd);
    ok(calcore_attrmap_load(&map, path, &why, pool) == CALCORE_EINVALID
       && map == NULL, "a mistake in a file");
    is_str(why, apr_psprintf(pool, "%s: line 2: alias needs a vendor "
                             "property and the property it stands for: alias "
                             "[COMPONENT] VENDOR-PROPERTY PROPERTY "
                             "[VENDOR-VALUE=VALUE ...]", path),
           "... named with the file and the line");
    unlink(path);
    ok(calcore_attrmap_load(&map, path, &why, pool) != APR_SUCCESS
       && strncmp(why, "cannot read ", 12) == 0, "a missing file");

    /* the example shipped in conf/ (the tests run from the top directory) */
    ok(calcore_attrmap_load(&map, "conf/import-map.example", &why, pool)
       == APR_SUCCESS, "conf/import-map.example parses (%s)",
       why ? why : "");
    is_str(apply(map, EV("X-ORACLE-EVENTTYPE:DAILY NOTE\r\n"), NULL),
           EV("X-ORACLE-EVENTTYPE:DAILY NOTE\r\nTRANSP:TRANSPARENT\r\n"
              "CATEGORIES:Daily note\r\nSUMMARY:(no title)\r\n"),
           "... and maps an Oracle daily note");
    is_str(apply(map, "BEGIN:VTODO\r\nX-MICROSOFT-CDO-IMPORTANCE:2\r\n"
                      "SUMMARY:t\r\nEND:VTODO\r\n", NULL),
           "BEGIN:VTODO\r\nX-MICROSOFT-CDO-IMPORTANCE:2\r\nSUMMARY:t\r\n"
           "PRIORITY:1\r\nEND:VTODO\r\n", "... and a Microsoft importance");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_parse();
    test_apply();
    test_fold();
    test_load();
    apr_pool_destroy(pool);
    apr_terminate();
    return done_testing();
}
