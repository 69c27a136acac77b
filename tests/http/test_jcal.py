"""jCal (RFC 7265) and xCal (RFC 6321) over HTTP: PUT in either is stored as
the iCalendar it converts to; GET of objects and feeds and calendar-data in
reports come in the format asked for (Accept / the content-type attribute),
each representation with its own ETag."""

import json
import uuid
import xml.etree.ElementTree as ET

import pytest

from davclient import calendar_query, precondition

pytestmark = pytest.mark.caldav_only

XCAL = "{urn:ietf:params:xml:ns:icalendar-2.0}"
ICAL = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:j1@x\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
        "SUMMARY:Caf\u00e9\\, planning\r\nCATEGORIES:a,b\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=2\r\nX-THING;X-P=1:kept\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n")
JCAL = ["vcalendar",
        [["version", {}, "text", "2.0"], ["prodid", {}, "text", "-//t//t//EN"]],
        [["vevent",
          [["uid", {}, "text", "j2@x"],
           ["dtstamp", {}, "date-time", "2024-01-01T00:00:00Z"],
           ["dtstart", {"tzid": "Europe/Berlin"}, "date-time", "2024-06-11T09:00:00"],
           ["duration", {}, "duration", "PT1H"],
           ["summary", {}, "text", "from jCal; with, escapes"],
           ["x-thing", {"x-p": "1"}, "unknown", "kept"]],
          []]]]


@pytest.fixture
def cal(dav):
    rel = "calendars/alice/j-%s/" % uuid.uuid4().hex[:8]
    assert dav.request("MKCALENDAR", rel).status_code == 201
    r = dav.put(rel + "ical.ics", ICAL.encode(), content_type="text/calendar")
    assert r.status_code == 201
    yield rel
    dav.delete(rel)


def get(dav, rel, accept):
    return dav.get(rel, headers={"Accept": accept})


def test_get_object_in_each_format(dav, cal):
    r0 = get(dav, cal + "ical.ics", "text/calendar")
    assert r0.status_code == 200 and r0.content == ICAL.encode()
    r1 = get(dav, cal + "ical.ics", "application/calendar+json")
    assert r1.status_code == 200
    assert r1.headers["Content-Type"] == "application/calendar+json; charset=utf-8"
    doc = json.loads(r1.content)
    assert doc[0] == "vcalendar"
    (ev,) = doc[2]
    props = {p[0]: p for p in ev[1]}
    assert props["summary"] == ["summary", {}, "text", "Caf\u00e9, planning"]
    assert props["dtstart"] == ["dtstart", {}, "date-time", "2024-06-10T09:00:00Z"]
    assert props["categories"] == ["categories", {}, "text", "a", "b"]
    assert props["rrule"] == ["rrule", {}, "recur", {"freq": "WEEKLY", "count": 2}]
    assert props["x-thing"] == ["x-thing", {"x-p": "1"}, "unknown", "kept"]
    r2 = get(dav, cal + "ical.ics", "application/calendar+xml")
    assert r2.headers["Content-Type"] == "application/calendar+xml"
    root = ET.fromstring(r2.content)
    assert root.tag == XCAL + "icalendar"
    summary = root.find(".//" + XCAL + "vevent/" + XCAL + "properties/" + XCAL + "summary/"
                        + XCAL + "text")
    assert summary.text == "Caf\u00e9, planning"
    # three representations, three tags; caches must vary on Accept
    tags = {r0.headers["ETag"], r1.headers["ETag"], r2.headers["ETag"]}
    assert len(tags) == 3 and all("Accept" in r.headers["Vary"] for r in (r0, r1, r2))
    assert dav.get(cal + "ical.ics", headers={
        "Accept": "application/calendar+json",
        "If-None-Match": r1.headers["ETag"]}).status_code == 304
    # q values
    r = get(dav, cal + "ical.ics", "application/calendar+json;q=0.5, text/calendar")
    assert r.content == ICAL.encode()
    r = get(dav, cal + "ical.ics", "application/calendar+xml, text/calendar;q=0.1")
    assert r.headers["Content-Type"] == "application/calendar+xml"


def test_put_jcal_and_xcal(dav, cal):
    r = dav.put(cal + "j2.json", json.dumps(JCAL).encode(),
                content_type="application/calendar+json")
    assert r.status_code == 201, r.text
    text = dav.get(cal + "j2.json").text
    assert "UID:j2@x\r\n" in text
    assert "DTSTART;TZID=Europe/Berlin:20240611T090000\r\n" in text
    assert "SUMMARY:from jCal\\; with\\, escapes\r\n" in text
    assert "X-THING;X-P=1:kept\r\n" in text
    # and back: the same jCal
    back = json.loads(get(dav, cal + "j2.json", "application/calendar+json").content)
    assert back[2] == JCAL[2]
    # xCal
    xml = get(dav, cal + "ical.ics", "application/calendar+xml").content
    xml = xml.replace(b"j1@x", b"x1@x")
    r = dav.put(cal + "x1.xml", xml, content_type="application/calendar+xml")
    assert r.status_code == 201, r.text
    stored = dav.get(cal + "x1.xml").text
    assert stored == ICAL.replace("j1@x", "x1@x")
    # the objects are indexed like any other
    r = dav.report(cal, calendar_query(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        '<C:time-range start="20240611T000000Z" end="20240612T000000Z"/>'
        "</C:comp-filter></C:comp-filter>", prop_xml="<D:getetag/>"), depth="1")
    assert r.status_code == 207
    assert "j2.json" in r.text and "ical.ics" not in r.text


@pytest.mark.parametrize("ctype, body", [
    ("application/calendar+json", b'["vcalendar", [], [["vevent"'),
    ("application/calendar+json", b'{"not": "jcal"}'),
    ("application/calendar+xml", b"<icalendar><vcalendar>"),
    ("application/calendar+xml", b'<x xmlns="urn:other"/>'),
])
def test_bad_jcal_xcal(dav, cal, ctype, body):
    r = dav.put(cal + "bad.ics", body, content_type=ctype)
    precondition(r, "valid-calendar-data")
    assert dav.get(cal + "bad.ics").status_code == 404


def test_feed_and_report_formats(dav, cal):
    assert dav.put(cal + "j2.json", json.dumps(JCAL).encode(),
                   content_type="application/calendar+json").status_code == 201
    r = get(dav, cal, "application/calendar+json")
    assert r.status_code == 200
    doc = json.loads(r.content)
    assert doc[0] == "vcalendar"
    assert ["version", {}, "text", "2.0"] in doc[1]
    assert sorted(c[0] for c in doc[2]) == ["vevent", "vevent"]
    assert {p[3] for c in doc[2] for p in c[1] if p[0] == "uid"} == {"j1@x", "j2@x"}
    r = get(dav, cal, "application/calendar+xml")
    root = ET.fromstring(r.content)
    assert len(root.findall(".//" + XCAL + "components/" + XCAL + "vevent")) == 2
    # calendar-data in jCal
    r = dav.report(cal, calendar_query(
        '<C:comp-filter name="VCALENDAR"/>',
        prop_xml='<C:calendar-data content-type="application/calendar+json"/>'),
        depth="1")
    assert r.status_code == 207
    datas = [json.loads(e.text) for e in ET.fromstring(r.content).iter(
        "{urn:ietf:params:xml:ns:caldav}calendar-data")]
    assert sorted(d[2][0][1][0][3] for d in datas) == ["j1@x", "j2@x"]
    r = dav.report(cal, calendar_query(
        '<C:comp-filter name="VCALENDAR"/>',
        prop_xml='<C:calendar-data content-type="text/html"/>'), depth="1")
    precondition(r, "supported-calendar-data")
    sup = dav.prop(cal, "supported-calendar-data", ns="urn:ietf:params:xml:ns:caldav")
    assert sorted(e.get("content-type") for e in sup) == [
        "application/calendar+json", "application/calendar+xml", "text/calendar"]
