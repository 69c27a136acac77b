"""python3-caldav (the Debian package) as a real client.

Written against python-caldav 0.11 (Debian bookworm): no principal
discovery is needed (principals come later), the calendar is created with
the low-level Calendar(parent=..., id=...).save(), which sends MKCALENDAR
(and a PROPPATCH of the display name).
"""

import datetime as dt

import pytest

from davclient import cq

caldav = pytest.importorskip("caldav", reason="python3-caldav is not installed")

pytestmark = pytest.mark.caldav_only

UTC = dt.timezone.utc


def vevent(uid, start, end, summary, *extra):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//python-caldav test//EN",
        "BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20240101T000000Z",
        "DTSTART:" + start, "DTEND:" + end, "SUMMARY:" + summary, *extra,
        "END:VEVENT", "END:VCALENDAR", ""])


def vtodo(uid, summary, *extra):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav//python-caldav test//EN",
        "BEGIN:VTODO", "UID:" + uid, "DTSTAMP:20240101T000000Z", "SUMMARY:" + summary,
        *extra, "END:VTODO", "END:VCALENDAR", ""])


def uids(objects):
    return sorted(str(o.icalendar_component["UID"]) for o in objects)


def test_python_caldav_client(server, dav, coll):
    client = caldav.DAVClient(url=server.base_url, username="alice", password="alice")
    parent = caldav.DAVObject(client=client, url=dav.url(coll))
    cal = caldav.Calendar(client=client, parent=parent, id="pycal", name="Python Calendar")
    try:
        cal.save()
    except caldav.lib.error.DAVError as e:
        pytest.fail("python-caldav could not create a calendar (MKCALENDAR): %s" % e)
    assert str(cal.url).endswith(dav.path(coll + "pycal/")), cal.url
    rt = dav.prop(coll + "pycal/", "resourcetype")
    assert rt.find(cq("calendar")) is not None, "not a calendar collection"
    assert dav.prop(coll + "pycal/", "displayname").text == "Python Calendar"
    assert sorted(cal.get_supported_components()) == ["VEVENT", "VJOURNAL", "VTODO"]

    cal.save_event(vevent("ev-standup@example.com", "20240304T100000Z", "20240304T103000Z",
                          "Standup"))
    cal.save_event(vevent("ev-later@example.com", "20240320T100000Z", "20240320T110000Z",
                          "Later"))
    cal.save_event(vevent("ev-weekly@example.com", "20240205T090000Z", "20240205T100000Z",
                          "Weekly", "RRULE:FREQ=WEEKLY;COUNT=10"))
    cal.save_todo(vtodo("todo-open@example.com", "Open task", "DUE:20240305T170000Z",
                        "STATUS:NEEDS-ACTION"))
    cal.save_todo(vtodo("todo-done@example.com", "Done task", "DUE:20240301T170000Z",
                        "STATUS:COMPLETED", "COMPLETED:20240301T120000Z"))

    # what python-caldav wrote is on the server, one resource per object
    ms = dav.props(coll + "pycal/", [("DAV:", "getetag")], depth="1")
    assert len(ms.paths()) == 6, sorted(ms.paths())

    start = dt.datetime(2024, 3, 1, tzinfo=UTC)
    end = dt.datetime(2024, 3, 8, tzinfo=UTC)
    found = cal.search(start=start, end=end, event=True, expand=False)
    assert uids(found) == ["ev-standup@example.com", "ev-weekly@example.com"], uids(found)

    # server-side expansion: the weekly event has one instance in the week
    found = cal.search(start=start, end=end, event=True, expand=True)
    instances = sorted((str(o.icalendar_component["UID"]),
                        o.icalendar_component["DTSTART"].dt.astimezone(UTC)) for o in found)
    assert instances == [
        ("ev-standup@example.com", dt.datetime(2024, 3, 4, 10, 0, tzinfo=UTC)),
        ("ev-weekly@example.com", dt.datetime(2024, 3, 4, 9, 0, tzinfo=UTC)),
    ], instances

    found = cal.date_search(start=dt.datetime(2024, 3, 15, tzinfo=UTC),
                            end=dt.datetime(2024, 3, 22, tzinfo=UTC))
    assert uids(found) == ["ev-later@example.com", "ev-weekly@example.com"], uids(found)

    assert uids(cal.events()) == ["ev-later@example.com", "ev-standup@example.com",
                                  "ev-weekly@example.com"]
    assert uids(cal.todos()) == ["todo-open@example.com"], "pending to-dos"
    assert uids(cal.todos(include_completed=True)) == ["todo-done@example.com",
                                                       "todo-open@example.com"]

    ev = cal.event_by_uid("ev-later@example.com")
    assert "SUMMARY:Later" in ev.data
    got = cal.calendar_multiget([ev.url])
    assert len(got) == 1 and "ev-later@example.com" in got[0].data

    ev.icalendar_component["SUMMARY"] = "Later renamed"
    ev.save()
    assert "Later renamed" in cal.event_by_uid("ev-later@example.com").data
    ev.delete()
    assert uids(cal.events()) == ["ev-standup@example.com", "ev-weekly@example.com"]


def test_python_caldav_discovers_and_syncs(server):
    """From nothing but the server's address and an account: principal,
    calendars, create events, then sync (RFC 6578 through
    objects_by_sync_token): changes and deletions since the last token."""
    import uuid

    origin = server.base_url.split("/dav/")[0] + "/"
    client = caldav.DAVClient(url=origin, username="alice", password="alice")
    principal = client.principal()
    cal = principal.make_calendar(name="sync-%s" % uuid.uuid4().hex[:6])
    tag = uuid.uuid4().hex[:8]
    a = cal.save_event(vevent("a-%s" % tag, "20240610T090000Z", "20240610T100000Z", "a"))
    cal.save_event(vevent("b-%s" % tag, "20240611T090000Z", "20240611T100000Z", "b"))
    first = cal.objects_by_sync_token(load_objects=True)
    assert uids(first) == ["a-%s" % tag, "b-%s" % tag]
    token = first.sync_token
    # nothing changed: nothing reported
    assert list(cal.objects_by_sync_token(sync_token=token)) == []
    a.delete()
    cal.save_event(vevent("c-%s" % tag, "20240612T090000Z", "20240612T100000Z", "c"))
    delta = cal.objects_by_sync_token(sync_token=token, load_objects=True)
    urls = sorted(str(o.url).rsplit("/", 1)[1] for o in delta)
    assert len(urls) == 2                       # c added, a deleted
    assert str(a.url).rsplit("/", 1)[1] in urls
    assert any(getattr(o, "data", None) and ("c-%s" % tag) in o.data for o in delta)
    assert delta.sync_token != token
    cal.delete()
