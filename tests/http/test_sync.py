"""sync-collection (RFC 6578) and DAV:sync-token.

A scripted sequence of adds, modifies, deletes, renames and moves in and
out of a calendar; after every step a client that syncs from every earlier
token must see exactly the difference between the state at that token and
now: changed or new members with their current ETag, removed members as
404, never a lost change.
"""

import uuid
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.caldav_only

D = "{DAV:}"

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
         "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
         "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def sync(dav, coll, token, limit=None, depth=None):
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:sync-collection xmlns:D="DAV:"><D:sync-token>%s</D:sync-token>'
            "<D:sync-level>1</D:sync-level>%s<D:prop><D:getetag/></D:prop>"
            "</D:sync-collection>" % (token or "",
                                      "<D:limit><D:nresults>%d</D:nresults></D:limit>" % limit
                                      if limit else ""))
    headers = {"Content-Type": "application/xml"}
    if depth is not None:
        headers["Depth"] = depth
    return dav.request("REPORT", coll, headers=headers, data=body.encode())


def parse(resp):
    """(changes {name: etag or None}, new token, truncated?)"""
    assert resp.status_code == 207, (resp.status_code, resp.text[:400])
    root = ET.fromstring(resp.content)
    changes, truncated = {}, False
    for r in root.findall(D + "response"):
        href = r.find(D + "href").text
        status = r.find(D + "status")
        if status is not None and " 507 " in status.text:
            truncated = True
            continue
        name = href.rstrip("/").rsplit("/", 1)[1]
        if status is not None:
            assert " 404 " in status.text, status.text
            changes[name] = None
        else:
            changes[name] = r.find(".//" + D + "getetag").text
    return changes, root.find(D + "sync-token").text, truncated


def state(dav, coll):
    """{name: etag} of the calendar's members now (PROPFIND Depth 1)."""
    r = dav.request("PROPFIND", coll, headers={"Depth": "1"}, data=(
        '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>').encode())
    out = {}
    for resp in ET.fromstring(r.content).findall(D + "response"):
        href = resp.find(D + "href").text
        if href.rstrip("/") == dav.path(coll).rstrip("/"):
            continue
        out[href.rstrip("/").rsplit("/", 1)[1]] = resp.find(".//" + D + "getetag").text
    return out


def test_sync_collection_never_loses_a_change(dav, coll):
    cal = coll + "cal/"
    other = coll + "other/"
    assert dav.request("MKCALENDAR", cal).status_code == 201
    assert dav.request("MKCALENDAR", other).status_code == 201

    def put(c, name, summary, uid=None):
        r = dav.put(c + name, (EVENT % (uid or name, summary)).encode(),
                    content_type="text/calendar")
        assert r.status_code in (201, 204), r.status_code

    history = []            # (token, state at that token)

    def checkpoint():
        changes, token, truncated = parse(sync(dav, cal, ""))
        assert not truncated
        assert changes == state(dav, cal)        # empty token: everything
        history.append((token, state(dav, cal)))
        # every earlier token gives exactly the difference to now
        now = state(dav, cal)
        for old_token, old in history:
            changes, new_token, _ = parse(sync(dav, cal, old_token))
            expect = {n: e for n, e in now.items() if old.get(n) != e}
            expect.update({n: None for n in old if n not in now})
            # RFC 6578 3.5.2: a member created and removed since the token
            # may be reported as removed too (the client ignores it)
            extra = {n for n, e in changes.items()
                     if e is None and n not in old and n not in now}
            got = {n: e for n, e in changes.items() if n not in extra}
            assert got == expect, (old_token, changes, expect)
            assert new_token == token

    checkpoint()
    put(cal, "a.ics", "a")
    put(cal, "b.ics", "b")
    checkpoint()
    put(cal, "a.ics", "a changed")
    checkpoint()
    assert dav.delete(cal + "b.ics").status_code == 204
    checkpoint()
    assert dav.move(cal + "a.ics", cal + "renamed.ics").status_code == 201
    checkpoint()
    put(other, "x.ics", "x")
    assert dav.move(other + "x.ics", cal + "x.ics").status_code == 201    # moved in
    checkpoint()
    assert dav.move(cal + "x.ics", other + "x.ics").status_code == 201    # moved out
    checkpoint()
    assert dav.copy(other + "x.ics", cal + "copy.ics").status_code == 201
    checkpoint()
    r = dav.request("PROPPATCH", cal + "renamed.ics", data=(
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:tag xmlns:x="urn:t">1'
        "</x:tag></D:prop></D:set></D:propertyupdate>").encode())
    assert r.status_code == 207
    changes, _, _ = parse(sync(dav, cal, history[-1][0]))
    assert set(changes) == {"renamed.ics"}    # a property change is a change


def test_sync_token_property_and_errors(dav, coll):
    cal = coll + "cal/"
    assert dav.request("MKCALENDAR", cal).status_code == 201
    r = dav.request("PROPFIND", cal, headers={"Depth": "0"}, data=(
        '<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>').encode())
    token = ET.fromstring(r.content).find(".//" + D + "sync-token").text
    _, reported, _ = parse(sync(dav, cal, ""))
    assert token == reported
    dav.put(cal + "e.ics", (EVENT % ("e", "e")).encode(), content_type="text/calendar")
    r = dav.request("PROPFIND", cal, headers={"Depth": "0"}, data=(
        '<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>').encode())
    assert ET.fromstring(r.content).find(".//" + D + "sync-token").text != token

    # a token of another collection, a garbage token, a future token
    assert dav.request("MKCALENDAR", coll + "other/").status_code == 201
    _, foreign, _ = parse(sync(dav, coll + "other/", ""))
    for bad in (foreign, "http://example.com/sync/1", token.rsplit(":", 1)[0] + ":999999"):
        r = sync(dav, cal, bad)
        assert r.status_code == 403, (bad, r.status_code)
        assert "valid-sync-token" in r.text
    # RFC 6578 says Depth: 0; 1 is taken as 0 (python-caldav 0.11 sends it)
    assert sync(dav, cal, "", depth="infinity").status_code == 400
    assert parse(sync(dav, cal, "", depth="1"))[1] == parse(sync(dav, cal, ""))[1]


def test_sync_limit_and_continuation(dav, coll):
    cal = coll + "cal/"
    assert dav.request("MKCALENDAR", cal).status_code == 201
    _, token, _ = parse(sync(dav, cal, ""))
    names = ["n%02d.ics" % i for i in range(7)]
    for n in names:
        dav.put(cal + n, (EVENT % (n, n)).encode(), content_type="text/calendar")
    seen = {}
    rounds = 0
    while True:
        changes, token, truncated = parse(sync(dav, cal, token, limit=3))
        assert len(changes) <= 3
        seen.update(changes)
        rounds += 1
        if not truncated:
            break
        assert rounds < 10
    assert rounds == 3
    assert set(seen) == set(names)
    assert seen == state(dav, cal)


def test_retention_prunes_old_removals(servers, request):
    """CalDAVSyncLogRetention: removals older than the age are dropped by the
    children's maintenance thread; a token from before them is then refused
    with DAV:valid-sync-token (the client resyncs), while a token taken after
    the prune goes on working.  Additions are never dropped."""
    import time
    from davclient import Dav

    with servers.own("retention", request, extra="CalDAVSyncLogRetention 2s 0\n") as srv:
        dav = Dav(srv.base_url, auth=("alice", "alice"))
        cal = "calendars/alice/ret-%s/" % uuid.uuid4().hex[:8]
        assert dav.request("MKCALENDAR", cal).status_code == 201
        for n in ("a", "b"):
            assert dav.put(cal + n + ".ics", (EVENT % (n, n)).encode(),
                           content_type="text/calendar").status_code == 201
        _, t0, _ = parse(sync(dav, cal, ""))
        assert dav.delete(cal + "a.ics").status_code == 204
        changes, t1, _ = parse(sync(dav, cal, t0))
        assert changes == {"a.ics": None}
        # the prune runs at least every second (half the age); wait until the
        # removal is older than 2 s and a prune has run
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = sync(dav, cal, t0)
            if r.status_code == 403:
                break
            time.sleep(0.5)
        assert r.status_code == 403 and "valid-sync-token" in r.text, (r.status_code,
                                                                       r.text[:300])
        # a full sync gives the members (the addition of b.ics survives) and a
        # token that works
        changes, t2, _ = parse(sync(dav, cal, ""))
        assert set(changes) == {"b.ics"}
        assert parse(sync(dav, cal, t2))[0] == {}
        assert dav.put(cal + "c.ics", (EVENT % ("c", "c")).encode(),
                       content_type="text/calendar").status_code == 201
        assert set(parse(sync(dav, cal, t2))[0]) == {"c.ics"}
        dav.session.close()
