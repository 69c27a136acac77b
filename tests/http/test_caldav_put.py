"""Storing calendar object resources: PUT, COPY and MOVE into calendars and
their preconditions (RFC 4791 4.1, 5.3.2, 5.3.2.1, 5.3.4).

A refused request is a 403 whose DAV:error body names the precondition in
the CalDAV namespace; nothing is stored (a new name stays unmapped, an
existing resource keeps its bytes and ETag).
"""

import re
import uuid

import pytest

from davclient import (CALDAV, calendar_multiget, caldav_fixture, comp_set_xml, cq,
                       error_elements, href_path, ics, is_strong_etag, multistatus,
                       precondition, q)

pytestmark = pytest.mark.caldav_only

STAMP = "DTSTAMP:20240101T120000Z"


@pytest.fixture
def cal(dav, coll):
    """A fresh calendar with the default component set."""
    return dav.make_calendar(coll + "cal/")


def event(uid, start="20240610T090000Z", end="20240610T100000Z", extra=(), summary="ev"):
    return ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//http tests//EN",
               "BEGIN:VEVENT", "UID:" + uid, STAMP, "DTSTART:" + start, "DTEND:" + end,
               "SUMMARY:" + summary, *extra, "END:VEVENT", "END:VCALENDAR")


def limit(dav, cal, name):
    """An advertised limit (text), or None when the property is not defined."""
    ms = dav.props(cal, [(CALDAV, name)])
    elem = ms[dav.path(cal)].props(200).get(cq(name))
    return (elem.text or "").strip() if elem is not None else None


def assert_not_stored(dav, rel, before=None):
    """rel is still unmapped (before=None) or still holds the GET `before`."""
    g = dav.get(rel)
    if before is None:
        assert g.status_code == 404, "refused PUT left %s behind (%d)" % (rel, g.status_code)
    else:
        assert g.status_code == 200 and g.content == before.content, (
            "refused request changed %s" % rel)
        assert g.headers.get("ETag") == before.headers.get("ETag")


def refused(dav, rel, body, name, content_type="text/calendar; charset=utf-8"):
    """PUT must be refused with CALDAV:name; return the error element."""
    before = dav.get(rel)
    before = before if before.status_code == 200 else None
    r = dav.put_ics(rel, body, content_type=content_type)
    elem = precondition(r, name, what="PUT %s" % rel)
    assert_not_stored(dav, rel, before)
    return elem


# --- accepted data ------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["event.ics", "todo.ics", "fidelity.ics",
                                     "windows-tz.ics", "floating.ics", "allday.ics",
                                     "rrule-and-rid.ics"])
def test_put_accepted_and_byte_exact(dav, cal, fixture):
    body = caldav_fixture("put/" + fixture)
    r = dav.put_ics(cal + fixture, body)
    assert r.status_code == 201, "PUT %s: %d %s" % (fixture, r.status_code, r.text[:500])
    etag = r.headers.get("ETag")
    assert is_strong_etag(etag), "PUT response without a strong ETag: %r" % etag
    g = dav.get(cal + fixture)
    assert g.status_code == 200
    assert g.content == body, "GET does not return the PUT octets"
    assert g.headers.get("ETag") == etag, "GET ETag %s != PUT ETag %s" % (
        g.headers.get("ETag"), etag)
    assert g.headers.get("Content-Length") == str(len(body))
    ms = dav.props(cal + fixture, [("DAV:", "getetag"), ("DAV:", "getcontentlength")])
    resp = ms[dav.path(cal + fixture)]
    assert resp.text(q("getetag")) == etag
    assert resp.text(q("getcontentlength")) == str(len(body))


def test_fidelity_in_reports(dav, cal):
    # calendar-data without C:comp returns the object "in its entirety":
    # the stored text (XML turns CRLF into LF).
    body = caldav_fixture("put/fidelity.ics")
    assert dav.put_ics(cal + "f.ics", body).status_code == 201
    r = dav.report(cal, calendar_multiget([dav.path(cal + "f.ics")]))
    resp = multistatus(r)[dav.path(cal + "f.ics")]
    text = resp.text(cq("calendar-data"))
    assert text.replace("\r\n", "\n") == body.decode("utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize("ctype", ["text/calendar", "text/calendar; charset=utf-8",
                                   'text/calendar; charset="UTF-8"',
                                   "text/calendar; component=VEVENT"])
def test_put_text_calendar_variants_accepted(dav, cal, ctype):
    body = event("ctype-%s@example.com" % uuid.uuid4().hex)
    r = dav.put_ics(cal + "c.ics", body, content_type=ctype)
    assert r.status_code == 201, "PUT with Content-Type %r: %d" % (ctype, r.status_code)


def test_put_replace_same_uid(dav, cal):
    assert dav.put_ics(cal + "e.ics", event("same@example.com")).status_code == 201
    r = dav.put_ics(cal + "e.ics", event("same@example.com", summary="changed"))
    assert r.status_code == 204, "PUT replacing an object (same UID): %d" % r.status_code
    assert b"SUMMARY:changed" in dav.get(cal + "e.ics").content


def test_put_if_none_match_star(dav, cal):
    # RFC 4791 5.3.2: clients create with If-None-Match: *.
    body = event("inm@example.com")
    r = dav.put_ics(cal + "e.ics", body, headers={"If-None-Match": "*"})
    assert r.status_code == 201
    r = dav.put_ics(cal + "e.ics", body, headers={"If-None-Match": "*"})
    assert r.status_code == 412


# --- preconditions --------------------------------------------------------------

@pytest.mark.parametrize("fixture,name", [
    ("garbage.ics", "valid-calendar-data"),
    ("two-uids.ics", "valid-calendar-object-resource"),
    ("method.ics", "valid-calendar-object-resource"),
    ("two-types.ics", "valid-calendar-object-resource"),
])
def test_put_invalid_object_refused(dav, cal, fixture, name):
    refused(dav, cal + "new.ics", caldav_fixture("put/" + fixture), name)
    # over an existing object: still refused, the old one is untouched
    assert dav.put_ics(cal + "old.ics", caldav_fixture("put/event.ics")).status_code == 201
    before = dav.get(cal + "old.ics")
    r = dav.put_ics(cal + "old.ics", caldav_fixture("put/" + fixture))
    assert r.status_code == 403, "PUT %s over an object: %d" % (fixture, r.status_code)
    assert_not_stored(dav, cal + "old.ics", before)


def test_put_unsupported_component(dav, coll):
    events = dav.make_calendar(coll + "events/", [comp_set_xml(["VEVENT"])])
    todos = dav.make_calendar(coll + "todos/", [comp_set_xml(["VTODO"])])
    refused(dav, events + "t.ics", caldav_fixture("put/todo.ics"),
            "supported-calendar-component")
    refused(dav, todos + "e.ics", caldav_fixture("put/event.ics"),
            "supported-calendar-component")
    assert dav.put_ics(events + "e.ics", caldav_fixture("put/event.ics")).status_code == 201
    assert dav.put_ics(todos + "t.ics", caldav_fixture("put/todo.ics")).status_code == 201


@pytest.mark.parametrize("ctype", ["text/plain", "application/octet-stream",
                                   "application/json", "text/vcard"])
def test_put_unsupported_media_type(dav, cal, ctype):
    refused(dav, cal + "e.ics", caldav_fixture("put/event.ics"), "supported-calendar-data",
            content_type=ctype)


def padded_event(uid, size):
    """A valid event of exactly `size` octets: a folded DESCRIPTION of n
    characters plus a short X-P property absorb the difference."""
    tail = b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    head = event(uid)[:-len(tail)]

    def dlen(n):        # octets of DESCRIPTION:<n chars>, folded at 75 octets
        rest = max(0, n - 63)
        return 12 + min(n, 63) + 2 + rest + 3 * (-(-rest // 74))

    need = size - len(head) - len(tail)
    assert need >= 20, "max-resource-size %d is too small to test" % size
    n = max(1, int((need - 54) * 74 / 77))
    while not 7 <= need - dlen(n) <= 75:
        n += -1 if need - dlen(n) < 7 else 1
    value = "x" * n
    lines = ["DESCRIPTION:" + value[:63]] + [" " + value[i:i + 74]
                                             for i in range(63, n, 74)]
    desc = ("\r\n".join(lines) + "\r\n").encode()
    assert len(desc) == dlen(n)
    pad = b"X-P:" + b"y" * (need - dlen(n) - 6) + b"\r\n"
    body = head + desc + pad + tail
    assert len(body) == size, (len(body), size)
    return body


def test_put_max_resource_size(dav, cal):
    text = limit(dav, cal, "max-resource-size")
    if text is None:
        pytest.skip("no CALDAV:max-resource-size advertised")
    size = int(text)
    if size > 64 * 1024 * 1024:
        pytest.skip("max-resource-size %d too large to test" % size)
    refused(dav, cal + "big.ics", padded_event("big@example.com", size + 1),
            "max-resource-size")
    # "less than or equal to" the limit is accepted
    r = dav.put_ics(cal + "big.ics", padded_event("big@example.com", size))
    assert r.status_code == 201, "PUT of exactly max-resource-size octets: %d" % r.status_code


def test_put_uid_conflict_names_existing_resource(dav, cal):
    assert dav.put_ics(cal + "first.ics", event("dup@example.com")).status_code == 201
    elem = refused(dav, cal + "second.ics", event("dup@example.com", summary="again"),
                   "no-uid-conflict")
    hrefs = [href_path(h.text) for h in elem.findall(q("href"))]
    assert hrefs == [dav.path(cal + "first.ics")], (
        "no-uid-conflict should name the existing resource, has %s" % hrefs)


def test_put_overwrite_with_other_uid_is_conflict(dav, cal):
    # 5.3.2.1: nor "overwrite an existing calendar object resource with one
    # that has a different UID property value".
    assert dav.put_ics(cal + "e.ics", event("one@example.com")).status_code == 201
    refused(dav, cal + "e.ics", event("two@example.com"), "no-uid-conflict")


def test_same_uid_in_two_calendars_is_fine(dav, coll):
    a = dav.make_calendar(coll + "a/")
    b = dav.make_calendar(coll + "b/")
    assert dav.put_ics(a + "e.ics", event("shared@example.com")).status_code == 201
    assert dav.put_ics(b + "other-name.ics", event("shared@example.com")).status_code == 201


def test_uid_is_released_by_delete_and_move_out(dav, coll, cal):
    assert dav.put_ics(cal + "a.ics", event("rel@example.com")).status_code == 201
    assert dav.delete(cal + "a.ics").status_code == 204
    assert dav.put_ics(cal + "b.ics", event("rel@example.com")).status_code == 201
    assert dav.move(cal + "b.ics", coll + "outside.ics").status_code == 201
    assert dav.put_ics(cal + "c.ics", event("rel@example.com")).status_code == 201


def dated_event(uid, year):
    return event(uid, start="%04d0601T090000Z" % year, end="%04d0601T100000Z" % year)


def test_put_min_date_time(dav, cal):
    lo = limit(dav, cal, "min-date-time")
    if lo is None or lo <= "18000601T090000Z":
        pytest.skip("min-date-time %s does not exclude 1800" % lo)
    refused(dav, cal + "old.ics", dated_event("old@example.com", 1800), "min-date-time")


def test_put_max_date_time(dav, cal):
    hi = limit(dav, cal, "max-date-time")
    if hi is None or hi >= "25000601T100000Z":
        pytest.skip("max-date-time %s does not exclude 2500" % hi)
    refused(dav, cal + "late.ics", dated_event("late@example.com", 2500), "max-date-time")


def test_put_max_instances(dav, cal):
    text = limit(dav, cal, "max-instances")
    if text is None:
        pytest.skip("no CALDAV:max-instances advertised")
    n = int(text)
    if n > 500000:
        pytest.skip("max-instances %d: a minutely rule stays below it" % n)
    refused(dav, cal + "m.ics", caldav_fixture("put/minutely-unbounded.ics"), "max-instances")

    def counted(count):
        return ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//http tests//EN",
                   "BEGIN:VEVENT", "UID:count@example.com", STAMP,
                   "DTSTART:20240101T000000Z", "DURATION:PT30S",
                   "RRULE:FREQ=MINUTELY;COUNT=%d" % count, "END:VEVENT", "END:VCALENDAR")
    refused(dav, cal + "c.ics", counted(n + 1), "max-instances")
    # "less than or equal to" max-instances is accepted
    r = dav.put_ics(cal + "c.ics", counted(n))
    assert r.status_code == 201, "COUNT=max-instances (%d): %d" % (n, r.status_code)


def test_put_max_attendees_per_instance(dav, cal):
    text = limit(dav, cal, "max-attendees-per-instance")
    if text is None:
        pytest.skip("no CALDAV:max-attendees-per-instance advertised")
    n = int(text)
    if n > 10000:
        pytest.skip("max-attendees-per-instance %d too large to test" % n)

    def with_attendees(count):
        people = ["ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:p%d@example.com" % i
                  for i in range(count)]
        return event("crowd@example.com", extra=["ORGANIZER:mailto:org@example.com"] + people)
    refused(dav, cal + "crowd.ics", with_attendees(n + 1), "max-attendees-per-instance")
    assert dav.put_ics(cal + "crowd.ics", with_attendees(n)).status_code == 201


# --- COPY and MOVE into calendars ---------------------------------------------------

def test_copy_move_uid_conflict(dav, coll):
    a = dav.make_calendar(coll + "a/")
    b = dav.make_calendar(coll + "b/")
    assert dav.put_ics(a + "x.ics", event("cm@example.com")).status_code == 201
    assert dav.put_ics(b + "y.ics", event("cm@example.com", summary="in b")).status_code == 201
    before = dav.snapshot(coll + "b/")
    for method in (dav.copy, dav.move):
        r = method(a + "x.ics", b + "z.ics")
        elem = precondition(r, "no-uid-conflict", what="%s into a calendar with the UID"
                            % method.__name__.upper())
        hrefs = [href_path(h.text) for h in elem.findall(q("href"))]
        assert hrefs in ([], [dav.path(b + "y.ics")]), hrefs
    dav.assert_unchanged(coll + "b/", before)
    assert dav.get(a + "x.ics").status_code == 200, "refused MOVE removed its source"
    # COPY within one calendar duplicates the UID too
    r = dav.copy(a + "x.ics", a + "copy.ics")
    precondition(r, "no-uid-conflict", what="COPY within a calendar")
    assert dav.get(a + "copy.ics").status_code == 404


def test_move_within_calendar_renames(dav, cal):
    body = event("mv@example.com")
    assert dav.put_ics(cal + "old.ics", body).status_code == 201
    r = dav.move(cal + "old.ics", cal + "new.ics")
    assert r.status_code == 201, "MOVE within a calendar: %d" % r.status_code
    assert dav.get(cal + "old.ics").status_code == 404
    g = dav.get(cal + "new.ics")
    assert g.status_code == 200 and g.content == body
    # the UID now lives at the new name
    elem = refused(dav, cal + "old.ics", event("mv@example.com"), "no-uid-conflict")
    assert [href_path(h.text) for h in elem.findall(q("href"))] == [dav.path(cal + "new.ics")]
    # and the object is found by a report at its new name
    r = dav.report(cal, calendar_multiget([dav.path(cal + "new.ics"),
                                           dav.path(cal + "old.ics")]))
    ms = multistatus(r)
    assert ms[dav.path(cal + "new.ics")].text(cq("calendar-data"))
    assert ms[dav.path(cal + "old.ics")].status == 404


def test_copy_move_overwrite_checks_uid(dav, coll):
    # Overwriting an object with one of the same UID is an update; with
    # another UID it is a no-uid-conflict (5.3.2.1).
    a = dav.make_calendar(coll + "a/")
    b = dav.make_calendar(coll + "b/")
    assert dav.put_ics(a + "x.ics", event("u@example.com", summary="new")).status_code == 201
    assert dav.put_ics(b + "x.ics", event("u@example.com", summary="old")).status_code == 201
    assert dav.put_ics(b + "y.ics", event("v@example.com")).status_code == 201
    r = dav.copy(a + "x.ics", b + "x.ics", overwrite="T")
    assert r.status_code == 204, "COPY over the same UID: %d" % r.status_code
    assert b"SUMMARY:new" in dav.get(b + "x.ics").content
    before = dav.snapshot(coll + "b/")
    for method in (dav.copy, dav.move):
        r = method(a + "x.ics", b + "y.ics", overwrite="T")
        precondition(r, "no-uid-conflict", what="%s over another UID" % method.__name__.upper())
    r = dav.move(b + "x.ics", b + "y.ics", overwrite="T")
    precondition(r, "no-uid-conflict", what="MOVE over another UID within a calendar")
    dav.assert_unchanged(coll + "b/", before)


def test_copy_non_calendar_resource_into_calendar(dav, coll, cal):
    assert dav.put(coll + "notes.txt", b"just some text\r\n", "text/plain").status_code == 201
    before = dav.snapshot(cal)
    r = dav.copy(coll + "notes.txt", cal + "notes.ics")
    assert r.status_code == 403, "COPY of text/plain into a calendar: %d" % r.status_code
    names = set(error_elements(r))
    assert names & {cq("valid-calendar-data"), cq("supported-calendar-data")}, (
        "COPY of text/plain into a calendar: %s" % r.text[:400])
    r = dav.move(coll + "notes.txt", cal + "notes.ics")
    assert r.status_code == 403, "MOVE of text/plain into a calendar: %d" % r.status_code
    dav.assert_unchanged(cal, before)
    assert dav.get(coll + "notes.txt").status_code == 200


def test_copy_valid_ics_from_plain_collection_into_calendar(dav, coll, cal):
    body = caldav_fixture("put/event.ics")
    assert dav.put(coll + "event.ics", body, "text/calendar").status_code == 201
    r = dav.copy(coll + "event.ics", cal + "event.ics")
    assert r.status_code == 201, "COPY of a valid .ics into a calendar: %d" % r.status_code
    g = dav.get(cal + "event.ics")
    assert g.content == body
    ctype = dav.prop(cal + "event.ics", "getcontenttype").text
    assert "component=vevent" in ctype.lower().replace(" ", ""), ctype


def test_copy_into_calendar_checks_component_set(dav, coll):
    todos = dav.make_calendar(coll + "todos/", [comp_set_xml(["VTODO"])])
    events = dav.make_calendar(coll + "events/", [comp_set_xml(["VEVENT"])])
    assert dav.put_ics(events + "e.ics", caldav_fixture("put/event.ics")).status_code == 201
    r = dav.copy(events + "e.ics", todos + "e.ics")
    precondition(r, "supported-calendar-component", what="COPY VEVENT into a VTODO calendar")
    assert dav.get(todos + "e.ics").status_code == 404


def test_put_into_plain_collection_is_not_validated(dav, coll):
    # Only calendar collections hold calendar object resources; a plain
    # collection stores anything, as before.
    r = dav.put(coll + "garbage.ics", caldav_fixture("put/garbage.ics"), "text/calendar")
    assert r.status_code == 201
    assert re.match(r"^text/calendar", dav.get(coll + "garbage.ics").headers["Content-Type"])
