"""CalDAV calendar collections: MKCALENDAR (RFC 4791 5.3.1), extended MKCOL
(RFC 5689), OPTIONS (RFC 4791 5.1), calendar-collection-location-ok.

Every test makes its calendar under its own `coll`.  A failed creation must
leave nothing behind: RFC 4791 5.3.1 "If a MKCALENDAR request fails, the
server state preceding the request MUST be restored"; RFC 5689 3 "the
collection is not created".
"""

import xml.etree.ElementTree as ET

import pytest

from davclient import (CALDAV, DAV, RT_CALENDAR, RT_COLLECTION, assert_ical_equal,
                       caldav_fixture, comp_set_xml, cq, error_elements, mkcalendar_body,
                       mkcol_body, precondition, q, status_code, timezone_xml)

pytestmark = pytest.mark.caldav_only

# RFC 4791 5.3.1.2 (the example's calendar-timezone, TZNAME "&" included).
US_EASTERN_TZ = "\r\n".join([
    "BEGIN:VCALENDAR",
    "PRODID:-//Example Corp.//CalDAV Client//EN",
    "VERSION:2.0",
    "BEGIN:VTIMEZONE",
    "TZID:US-Eastern",
    "LAST-MODIFIED:19870101T000000Z",
    "BEGIN:STANDARD",
    "DTSTART:19671029T020000",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "TZNAME:Eastern Standard Time (US & Canada)",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:19870405T020000",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "TZNAME:Eastern Daylight Time (US & Canada)",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
    "END:VCALENDAR", ""])

VTIMEZONE_ONLY = US_EASTERN_TZ[US_EASTERN_TZ.index("BEGIN:VTIMEZONE"):
                               US_EASTERN_TZ.index("END:VCALENDAR")]

# calendar-timezone values that are not "an iCalendar object with exactly one
# VTIMEZONE component" (RFC 4791 5.2.2, 5.3.1 precondition valid-calendar-data).
BAD_TIMEZONES = {
    "garbage": "this is not iCalendar",
    "bare-vtimezone": VTIMEZONE_ONLY,
    "two-vtimezones": US_EASTERN_TZ.replace(
        "END:VTIMEZONE\r\n",
        "END:VTIMEZONE\r\n" + VTIMEZONE_ONLY.replace("US-Eastern", "Other")),
    "no-vtimezone": "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//x//y//EN", "BEGIN:VEVENT",
        "UID:tz-is-event@example.com", "DTSTAMP:20240101T120000Z",
        "DTSTART:20240101T120000Z", "END:VEVENT", "END:VCALENDAR", ""]),
    "two-vcalendars": US_EASTERN_TZ + US_EASTERN_TZ,
    "empty": "",
}


def comp_names(elem):
    """Component names of a supported-calendar-component-set element."""
    return {c.get("name") for c in elem.findall(cq("comp"))}


def resourcetype(dav, rel):
    rt = dav.prop(rel, "resourcetype")
    return {c.tag for c in rt}


def assert_absent(dav, rel, what):
    r = dav.propfind(rel, [(DAV, "resourcetype")])
    assert r.status_code == 404, "%s: %s exists after a failed creation (PROPFIND %d)" % (
        what, dav.path(rel), r.status_code)


FAILURE_ROOTS = (q("multistatus"), q("mkcol-response"), cq("mkcalendar-response"))


def assert_failed_props(resp, failed, others, root=FAILURE_ROOTS):
    """A 207 (or a 403 mkcol-response) reports the failed properties with
    403/409 and the others with 424 (RFC 4791 5.3.1.1, RFC 5689 3.5)."""
    if resp.status_code not in (207, 403, 409):
        raise AssertionError("expected 207/403/409, got %d: %s" % (resp.status_code,
                                                                 resp.text[:500]))
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype not in ("text/xml", "application/xml"):
        assert resp.status_code != 207, "207 without an XML body"
        return
    body = ET.fromstring(resp.content)
    if body.tag == q("error"):
        return          # a plain 403/409 DAV:error: acceptable (5.3.1.2 allows 403)
    roots = root if isinstance(root, tuple) else (root,)
    assert body.tag in roots, "response body root is %s, not one of %s" % (body.tag, roots)
    statuses = {}
    for ps in body.iter(q("propstat")):
        code = status_code(ps.find(q("status")).text)
        for p in ps.find(q("prop")):
            statuses[p.tag] = code
    for name in failed:
        assert statuses.get(name) in (403, 409), (
            "%s should be reported as failed (403/409): %s" % (name, statuses))
    for name in others:
        assert statuses.get(name) in (424, None), (
            "%s should be 424 Failed Dependency: %s" % (name, statuses))


# --- MKCALENDAR ---------------------------------------------------------------

def test_mkcalendar_without_body(dav, coll):
    r = dav.mkcalendar(coll + "cal/")
    assert r.status_code == 201, "MKCALENDAR: %d %s" % (r.status_code, r.text[:300])
    assert r.content == b"", "201 with a body: %r" % r.content[:200]
    assert resourcetype(dav, coll + "cal/") == {q("collection"), cq("calendar")}
    # listed in its parent as a calendar
    ms = dav.props(coll, [(DAV, "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll), dav.path(coll + "cal/")}
    rt = ms[dav.path(coll + "cal/")].props()[q("resourcetype")]
    assert {c.tag for c in rt} == {q("collection"), cq("calendar")}
    # the default component set
    sccs = dav.prop(coll + "cal/", "supported-calendar-component-set", CALDAV)
    assert comp_names(sccs) == {"VEVENT", "VTODO", "VJOURNAL"}
    # without the trailing slash the same calendar is addressed
    assert resourcetype(dav, coll + "cal") == {q("collection"), cq("calendar")}


def test_mkcalendar_rfc_example_with_properties(dav, coll):
    # RFC 4791 5.3.1.2, with the calendar-timezone in a CDATA section.
    body = mkcalendar_body([
        "<D:displayname>Lisa's Events</D:displayname>",
        '<C:calendar-description xml:lang="en">Calendar restricted to events.'
        "</C:calendar-description>",
        comp_set_xml(["VEVENT"]),
        "<C:calendar-timezone><![CDATA[%s]]></C:calendar-timezone>" % US_EASTERN_TZ,
    ])
    r = dav.mkcalendar(coll + "events/", body)
    assert r.status_code == 201, "MKCALENDAR: %d %s" % (r.status_code, r.text[:500])
    assert r.content == b""
    rel = coll + "events/"
    assert resourcetype(dav, rel) == {q("collection"), cq("calendar")}
    assert dav.prop(rel, "displayname").text == "Lisa's Events"
    desc = dav.prop(rel, "calendar-description", CALDAV)
    assert desc.text == "Calendar restricted to events."
    assert desc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert comp_names(dav.prop(rel, "supported-calendar-component-set", CALDAV)) == {"VEVENT"}
    tz = dav.prop(rel, "calendar-timezone", CALDAV).text
    assert_ical_equal(tz, US_EASTERN_TZ, "calendar-timezone")


def test_mkcalendar_missing_parent_is_409(dav, coll):
    r = dav.mkcalendar(coll + "no/such/cal/")
    assert r.status_code == 409, "MKCALENDAR with a missing parent: %d" % r.status_code
    assert_absent(dav, coll + "no/", "MKCALENDAR with a missing parent")


@pytest.mark.parametrize("existing", ["collection", "calendar", "resource"])
def test_mkcalendar_on_existing_resource_changes_nothing(dav, coll, existing):
    target = coll + "x/"
    if existing == "collection":
        assert dav.mkcol(target).status_code == 201
        assert dav.put(target + "member.txt", b"keep me", "text/plain").status_code == 201
    elif existing == "calendar":
        dav.make_calendar(target, [("<D:displayname>old</D:displayname>")])
    else:
        target = coll + "x"
        assert dav.put(target, b"a plain resource", "text/plain").status_code == 201
    before = dav.snapshot(coll)
    r = dav.mkcalendar(target, mkcalendar_body(["<D:displayname>new</D:displayname>"]))
    assert r.status_code in (403, 405), "MKCALENDAR on an existing %s: %d" % (
        existing, r.status_code)
    if r.status_code == 403 and error_elements(r):
        assert q("resource-must-be-null") in error_elements(r), r.text
    dav.assert_unchanged(coll, before)


@pytest.mark.parametrize("bad", sorted(BAD_TIMEZONES))
def test_mkcalendar_invalid_timezone_creates_nothing(dav, coll, bad):
    # All DAV:set instructions or none (5.3.1): the displayname and the
    # description set alongside must not survive either.
    body = mkcalendar_body([
        "<D:displayname>Should not exist</D:displayname>",
        "<C:calendar-description>nor this</C:calendar-description>",
        timezone_xml(BAD_TIMEZONES[bad]),
    ])
    r = dav.mkcalendar(coll + "cal/", body)
    assert r.status_code != 201 and r.status_code >= 207, (
        "MKCALENDAR with calendar-timezone %s: %d" % (bad, r.status_code))
    assert_failed_props(r, [cq("calendar-timezone")],
                        [q("displayname"), cq("calendar-description")])
    if r.status_code == 403 and error_elements(r):
        assert cq("valid-calendar-data") in error_elements(r), r.text
    assert_absent(dav, coll + "cal/", "MKCALENDAR with calendar-timezone %s" % bad)


@pytest.mark.parametrize("bad", ["unknown-component", "protected-property"])
def test_mkcalendar_other_failing_property_creates_nothing(dav, coll, bad):
    if bad == "unknown-component":
        failing = comp_set_xml(["VEVENT", "VBOGUS"])
        failing_name = cq("supported-calendar-component-set")
    else:
        failing = "<D:getetag>\"made-up\"</D:getetag>"     # a live, protected property
        failing_name = q("getetag")
    body = mkcalendar_body(["<D:displayname>Should not exist</D:displayname>", failing])
    r = dav.mkcalendar(coll + "cal/", body)
    assert r.status_code != 201 and r.status_code >= 207, (
        "MKCALENDAR setting %s: %d" % (bad, r.status_code))
    assert_failed_props(r, [failing_name], [q("displayname")])
    assert_absent(dav, coll + "cal/", "MKCALENDAR setting %s" % bad)


def test_mkcalendar_body_with_wrong_root_creates_nothing(dav, coll):
    # "If a request body is included, it MUST be a CALDAV:mkcalendar XML element."
    body = (b'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:">'
            b"<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>"
            b"</D:propertyupdate>")
    r = dav.mkcalendar(coll + "cal/", body)
    assert r.status_code in (400, 415, 422), (
        "MKCALENDAR with a propertyupdate body: %d" % r.status_code)
    assert_absent(dav, coll + "cal/", "MKCALENDAR with a propertyupdate body")
    r = dav.mkcalendar(coll + "cal2/", b"<C:mkcalendar xmlns:C='urn:ietf:params:xml:ns:caldav'")
    assert r.status_code == 400, "malformed XML body: %d" % r.status_code
    assert_absent(dav, coll + "cal2/", "MKCALENDAR with malformed XML")


def test_no_collection_inside_a_calendar(dav, coll):
    # Calendars do not nest (4.2 b); this server allows no collection at all
    # inside a calendar (only calendar object resources).
    cal = dav.make_calendar(coll + "cal/")
    before = dav.snapshot(cal)
    r = dav.mkcalendar(cal + "inner/")
    precondition(r, "calendar-collection-location-ok", what="MKCALENDAR inside a calendar")
    r = dav.mkcol(cal + "plain/")
    precondition(r, "calendar-collection-location-ok", what="MKCOL inside a calendar")
    r = dav.mkcol_ext(cal + "ext/", mkcol_body([RT_CALENDAR]))
    assert r.status_code == 403, "extended MKCOL inside a calendar: %d" % r.status_code
    dav.assert_unchanged(cal, before)


def test_copy_calendar_into_calendar_is_refused(dav, coll):
    # 5.3.2.1 calendar-collection-location-ok for COPY/MOVE of a calendar.
    outer = dav.make_calendar(coll + "outer/")
    dav.make_calendar(coll + "inner/")
    before = dav.snapshot(coll)
    r = dav.copy(coll + "inner/", outer + "inner/", depth="infinity")
    precondition(r, "calendar-collection-location-ok", what="COPY calendar into calendar")
    r = dav.move(coll + "inner/", outer + "inner/")
    precondition(r, "calendar-collection-location-ok", what="MOVE calendar into calendar")
    dav.assert_unchanged(coll, before)


def test_copy_and_move_of_a_calendar_keep_it_a_calendar(dav, coll):
    dav.make_calendar(coll + "a/", ["<D:displayname>A</D:displayname>",
                                    comp_set_xml(["VTODO"])])
    r = dav.copy(coll + "a/", coll + "b/", depth="infinity")
    assert r.status_code == 201, "COPY of a calendar: %d" % r.status_code
    r = dav.move(coll + "b/", coll + "c/")
    assert r.status_code == 201, "MOVE of a calendar: %d" % r.status_code
    for rel in (coll + "a/", coll + "c/"):
        assert resourcetype(dav, rel) == {q("collection"), cq("calendar")}, rel
        assert comp_names(dav.prop(rel, "supported-calendar-component-set", CALDAV)) == {"VTODO"}
    assert_absent(dav, coll + "b/", "MOVE source")


# --- extended MKCOL (RFC 5689) -------------------------------------------------

def test_extended_mkcol_creates_calendar(dav, coll):
    body = mkcol_body([RT_CALENDAR,
                       "<D:displayname>Via MKCOL</D:displayname>",
                       '<C:calendar-description xml:lang="de">Aufgaben</C:calendar-description>',
                       comp_set_xml(["VTODO"]),
                       timezone_xml(US_EASTERN_TZ)])
    r = dav.mkcol_ext(coll + "tasks/", body)
    assert r.status_code == 201, "extended MKCOL: %d %s" % (r.status_code, r.text[:500])
    assert r.content == b""
    rel = coll + "tasks/"
    assert resourcetype(dav, rel) == {q("collection"), cq("calendar")}
    assert dav.prop(rel, "displayname").text == "Via MKCOL"
    assert dav.prop(rel, "calendar-description", CALDAV).text == "Aufgaben"
    assert comp_names(dav.prop(rel, "supported-calendar-component-set", CALDAV)) == {"VTODO"}
    assert_ical_equal(dav.prop(rel, "calendar-timezone", CALDAV).text, US_EASTERN_TZ)


def test_extended_mkcol_plain_collection_with_properties(dav, coll):
    body = mkcol_body([RT_COLLECTION, "<D:displayname>Just a folder</D:displayname>"])
    r = dav.mkcol_ext(coll + "folder/", body)
    assert r.status_code == 201, "extended MKCOL: %d %s" % (r.status_code, r.text[:500])
    assert resourcetype(dav, coll + "folder/") == {q("collection")}
    assert dav.prop(coll + "folder/", "displayname").text == "Just a folder"


@pytest.mark.parametrize("bad", ["invalid-timezone", "unknown-resourcetype"])
def test_extended_mkcol_failure_creates_nothing(dav, coll, bad):
    if bad == "invalid-timezone":
        props = [RT_CALENDAR, "<D:displayname>Should not exist</D:displayname>",
                 timezone_xml(BAD_TIMEZONES["two-vtimezones"])]
        failed = [cq("calendar-timezone")]
        others = [q("displayname"), q("resourcetype")]
    else:
        # RFC 5689 3.5
        props = ['<D:resourcetype><D:collection/><E:special-resource xmlns:E="http://'
                 'example.com/ns/"/></D:resourcetype>',
                 "<D:displayname>Special Resource</D:displayname>"]
        failed = [q("resourcetype")]
        others = [q("displayname")]
    r = dav.mkcol_ext(coll + "x/", mkcol_body(props))
    assert r.status_code in (207, 403, 409), "extended MKCOL (%s): %d %s" % (
        bad, r.status_code, r.text[:300])
    if r.content:
        root = ET.fromstring(r.content)
        assert root.tag in (q("mkcol-response"), q("error")), (
            "failed extended MKCOL answers with %s, not DAV:mkcol-response" % root.tag)
        if root.tag == q("mkcol-response"):
            assert_failed_props(r, failed, others, root=q("mkcol-response"))
    assert_absent(dav, coll + "x/", "extended MKCOL (%s)" % bad)


# --- OPTIONS ------------------------------------------------------------------

def tokens(header):
    return {t.strip() for t in (header or "").split(",") if t.strip()}


def test_options_on_calendar(dav, coll):
    cal = dav.make_calendar(coll + "cal/")
    r = dav.options(cal)
    assert r.status_code == 200
    dav_tokens = tokens(r.headers.get("DAV"))
    assert {"1", "calendar-access", "extended-mkcol"} <= dav_tokens, r.headers.get("DAV")
    allow = tokens(r.headers.get("Allow"))
    assert {"REPORT", "MKCALENDAR", "PROPFIND", "PROPPATCH"} <= allow, r.headers.get("Allow")


def test_options_on_calendar_object(dav, coll):
    # 5.1: calendar-access on any resource that supports a calendar report.
    cal = dav.make_calendar(coll + "cal/")
    assert dav.put_ics(cal + "e.ics", caldav_fixture("put/event.ics")).status_code == 201
    r = dav.options(cal + "e.ics")
    assert r.status_code == 200
    assert "calendar-access" in tokens(r.headers.get("DAV")), r.headers.get("DAV")
    assert "REPORT" in tokens(r.headers.get("Allow")), r.headers.get("Allow")


def test_options_on_plain_collection_advertises_extended_mkcol(dav, coll):
    # RFC 5689 3.1: "extended-mkcol" wherever extended MKCOL can be used.
    r = dav.options(coll)
    assert r.status_code == 200
    assert "extended-mkcol" in tokens(r.headers.get("DAV")), (
        "DAV: %s lacks extended-mkcol" % r.headers.get("DAV"))
