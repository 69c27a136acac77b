"""Calendar collection properties (RFC 4791 5.2, 7.5.1; RFC 3253 3.1.5 for
DAV:supported-report-set), CS:getctag, and the properties of calendar object
resources."""

import re

import pytest

from davclient import (CALDAV, CS, DAV, assert_ical_equal, caldav_fixture, calendar_query,
                       comp_set_xml, cq, multistatus, q, timezone_xml, xml_escape)

pytestmark = pytest.mark.caldav_only

BERLIN_TZ = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//http tests//EN",
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE", "END:VCALENDAR", ""])
TOKYO_TZ = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//http tests//EN",
    "BEGIN:VTIMEZONE", "TZID:Asia/Tokyo",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0900", "TZOFFSETTO:+0900", "TZNAME:JST",
    "DTSTART:19700101T000000", "END:STANDARD",
    "END:VTIMEZONE", "END:VCALENDAR", ""])

LIVE = ["supported-calendar-component-set", "supported-calendar-data", "max-resource-size",
        "min-date-time", "max-date-time", "max-instances", "max-attendees-per-instance",
        "supported-collation-set"]
UTC_DATETIME = re.compile(r"^\d{8}T\d{6}Z$")


def vtimezone_block(text):
    return text[text.index("BEGIN:VTIMEZONE"):text.index("END:VTIMEZONE") + 15] + "\r\n"


@pytest.fixture
def cal(dav, coll):
    return dav.make_calendar(coll + "cal/")


def positive_int(elem, name):
    text = (elem.text or "").strip()
    assert re.match(r"^[1-9][0-9]*$", text), "%s is not a positive integer: %r" % (name, text)
    return int(text)


def test_calendar_live_properties(dav, cal):
    resp = dav.props(cal, [(CALDAV, n) for n in LIVE])[dav.path(cal)]
    props = resp.props(200)
    missing = [n for n in LIVE if cq(n) not in props]
    assert not missing, "not reported with 200: %s (statuses %s)" % (missing,
                                                                    resp.all_statuses())

    comps = {c.get("name") for c in props[cq("supported-calendar-component-set")]
             .findall(cq("comp"))}
    assert comps == {"VEVENT", "VTODO", "VJOURNAL"}, comps

    data = [(c.get("content-type"), c.get("version"))
            for c in props[cq("supported-calendar-data")].findall(cq("calendar-data"))]
    assert ("text/calendar", "2.0") in data, data

    size = positive_int(props[cq("max-resource-size")], "max-resource-size")
    assert size >= 4096, "max-resource-size %d is too small for real clients" % size
    lo = (props[cq("min-date-time")].text or "").strip()
    hi = (props[cq("max-date-time")].text or "").strip()
    assert UTC_DATETIME.match(lo), "min-date-time %r is not a UTC DATE-TIME" % lo
    assert UTC_DATETIME.match(hi), "max-date-time %r is not a UTC DATE-TIME" % hi
    assert lo < "20000101T000000Z" < "20300101T000000Z" < hi, (
        "min/max-date-time %s..%s exclude ordinary dates" % (lo, hi))
    assert positive_int(props[cq("max-instances")], "max-instances") >= 100
    assert positive_int(props[cq("max-attendees-per-instance")],
                        "max-attendees-per-instance") >= 1

    collations = {(c.text or "").strip()
                  for c in props[cq("supported-collation-set")].findall(cq("supported-collation"))}
    assert {"i;ascii-casemap", "i;octet", "i;unicode-casemap"} <= collations, collations


def test_supported_report_set(dav, cal):
    srs = dav.prop(cal, "supported-report-set")
    reports = set()
    for sr in srs.findall(q("supported-report")):
        report = sr.find(q("report"))
        assert report is not None and len(report) == 1, "malformed supported-report"
        reports.add(report[0].tag)
    assert {cq("calendar-query"), cq("calendar-multiget"), cq("free-busy-query")} <= reports, (
        sorted(reports))


def test_supported_report_set_on_calendar_object(dav, cal):
    # RFC 4791 7: the reports are advertised on calendar object resources too.
    assert dav.put_ics(cal + "e.ics", caldav_fixture("put/event.ics")).status_code == 201
    srs = dav.prop(cal + "e.ics", "supported-report-set")
    reports = {sr.find(q("report"))[0].tag for sr in srs.findall(q("supported-report"))}
    assert {cq("calendar-query"), cq("calendar-multiget")} <= reports, sorted(reports)


def test_getctag_changes_with_content_only(dav, coll, cal):
    t0 = dav.ctag(cal)
    assert t0, "empty CS:getctag"
    # reading does not change it
    dav.props(cal, "allprop", depth="1")
    dav.report(cal, calendar_query('<C:comp-filter name="VCALENDAR"/>'), depth="1")
    assert dav.ctag(cal) == t0, "ctag changed by PROPFIND/REPORT"

    event = caldav_fixture("put/event.ics")
    assert dav.put_ics(cal + "e.ics", event).status_code == 201
    t1 = dav.ctag(cal)
    assert t1 != t0, "ctag unchanged after a PUT that created a resource"
    assert dav.get(cal + "e.ics").status_code == 200
    assert dav.ctag(cal) == t1, "ctag changed by GET"

    assert dav.put_ics(cal + "e.ics", event.replace(b"A plain event", b"Renamed")) \
        .status_code == 204
    t2 = dav.ctag(cal)
    assert t2 not in (t0, t1), "ctag unchanged after a PUT that replaced a resource"

    # a refused PUT changes nothing
    r = dav.put_ics(cal + "bad.ics", caldav_fixture("put/garbage.ics"))
    assert r.status_code == 403, "PUT of garbage: %d" % r.status_code
    assert dav.ctag(cal) == t2, "ctag changed by a refused PUT"

    # a PUT into another collection does not touch this calendar's ctag
    other = dav.make_calendar(coll + "other/")
    assert dav.put_ics(other + "e.ics", event).status_code == 201
    assert dav.ctag(cal) == t2, "ctag changed by a PUT into another calendar"

    assert dav.move(cal + "e.ics", cal + "moved.ics").status_code == 201
    t3 = dav.ctag(cal)
    assert t3 not in (t0, t1, t2), "ctag unchanged after a MOVE within the calendar"

    assert dav.delete(cal + "moved.ics").status_code == 204
    t4 = dav.ctag(cal)
    assert t4 not in (t0, t1, t2, t3), "ctag unchanged after a DELETE"


def test_calendar_description_and_timezone_proppatch(dav, cal):
    r = dav.proppatch(cal, [("set", [
        '<C:calendar-description xmlns:C="%s" xml:lang="fr-CA">Calendrier de Mathilde '
        "Desruisseaux</C:calendar-description>" % CALDAV,
        '<C:calendar-timezone xmlns:C="%s">%s</C:calendar-timezone>'
        % (CALDAV, xml_escape(BERLIN_TZ))])])
    resp = multistatus(r).only(dav.path(cal))
    assert {code for code, _ in resp.propstats} == {200}, resp.all_statuses()
    desc = dav.prop(cal, "calendar-description", CALDAV)
    assert desc.text == "Calendrier de Mathilde Desruisseaux"
    assert desc.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-CA"
    assert_ical_equal(dav.prop(cal, "calendar-timezone", CALDAV).text, BERLIN_TZ)

    # a valid replacement
    r = dav.proppatch(cal, [("set", ['<C:calendar-timezone xmlns:C="%s">%s'
                                     "</C:calendar-timezone>" % (CALDAV, xml_escape(TOKYO_TZ))])])
    assert multistatus(r).only(dav.path(cal)).all_statuses() == {
        cq("calendar-timezone"): 200}
    assert_ical_equal(dav.prop(cal, "calendar-timezone", CALDAV).text, TOKYO_TZ)


@pytest.mark.parametrize("bad", ["garbage", "two-vtimezones", "vevent"])
def test_invalid_calendar_timezone_proppatch_keeps_old_value(dav, coll, bad):
    cal = dav.make_calendar(coll + "cal/", ["<D:displayname>before</D:displayname>",
                                            timezone_xml(BERLIN_TZ)])
    value = {
        "garbage": "BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n",
        "two-vtimezones": BERLIN_TZ.replace("END:VCALENDAR\r\n",
                                            vtimezone_block(TOKYO_TZ) + "END:VCALENDAR\r\n"),
        "vevent": caldav_fixture("put/event.ics").decode(),
    }[bad]
    before = dav.snapshot(coll)
    r = dav.proppatch(cal, [("set", [
        '<D:displayname xmlns:D="DAV:">after</D:displayname>',
        '<C:calendar-timezone xmlns:C="%s">%s</C:calendar-timezone>'
        % (CALDAV, xml_escape(value))])])
    statuses = multistatus(r).only(dav.path(cal)).all_statuses()
    assert statuses.get(cq("calendar-timezone")) in (403, 409), statuses
    assert statuses.get(q("displayname")) == 424, statuses
    dav.assert_unchanged(coll, before)
    assert_ical_equal(dav.prop(cal, "calendar-timezone", CALDAV).text, BERLIN_TZ)


@pytest.mark.parametrize("prop", [
    comp_set_xml(["VTODO"]).replace("<C:supported-calendar-component-set>",
                                    '<C:supported-calendar-component-set xmlns:C="%s">'
                                    % CALDAV),
    '<C:supported-calendar-data xmlns:C="%s"><C:calendar-data content-type="text/plain"/>'
    "</C:supported-calendar-data>" % CALDAV,
    '<C:max-resource-size xmlns:C="%s">1</C:max-resource-size>' % CALDAV,
    '<C:max-instances xmlns:C="%s">1</C:max-instances>' % CALDAV,
    '<C:supported-collation-set xmlns:C="%s"/>' % CALDAV,
    '<CS:getctag xmlns:CS="%s">forged</CS:getctag>' % CS,
], ids=["component-set", "calendar-data", "max-resource-size", "max-instances",
        "collation-set", "getctag"])
def test_protected_calendar_properties(dav, coll, prop):
    cal = dav.make_calendar(coll + "cal/", [comp_set_xml(["VEVENT"])])
    before = dav.snapshot(coll)
    r = dav.proppatch(cal, [("set", [prop])])
    statuses = multistatus(r).only(dav.path(cal)).all_statuses()
    assert set(statuses.values()) <= {403, 409} and statuses, statuses
    dav.assert_unchanged(coll, before)
    comps = {c.get("name") for c in dav.prop(cal, "supported-calendar-component-set",
                                             CALDAV).findall(cq("comp"))}
    assert comps == {"VEVENT"}


def test_calendar_object_properties(dav, cal):
    r = dav.put_ics(cal + "e.ics", caldav_fixture("put/event.ics"))
    assert r.status_code == 201
    r = dav.put_ics(cal + "t.ics", caldav_fixture("put/todo.ics"),
                    content_type="text/calendar")
    assert r.status_code == 201
    ms = dav.props(cal, [(DAV, "getcontenttype"), (DAV, "getetag"), (DAV, "resourcetype")],
                   depth="1")
    assert ms.paths() == {dav.path(cal), dav.path(cal + "e.ics"), dav.path(cal + "t.ics")}
    for name, comp in (("e.ics", "VEVENT"), ("t.ics", "VTODO")):
        resp = ms[dav.path(cal + name)]
        assert not resp.is_collection()
        ctype = resp.text(q("getcontenttype"))
        params = [p.strip().lower() for p in ctype.split(";")]
        assert params[0] == "text/calendar", ctype
        assert "component=%s" % comp.lower() in params, (
            "getcontenttype %r lacks component=%s" % (ctype, comp))
        g = dav.get(cal + name)
        assert g.headers.get("Content-Type", "").lower().startswith("text/calendar"), (
            g.headers.get("Content-Type"))
        assert resp.text(q("getetag")) == g.headers.get("ETag")
