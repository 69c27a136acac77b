"""Feeds (issue 5): GET on a calendar collection returns the whole calendar
as one text/calendar VCALENDAR - every object's components octet for octet,
each VTIMEZONE once, X-WR-CALNAME / X-WR-CALDESC, REFRESH-INTERVAL - with a
strong ETag from the collection's change counter, 304s, and the start / end
/ expand / component parameters."""

import re
import uuid

import pytest

from davclient import Dav, proppatch_body

pytestmark = pytest.mark.caldav_only

BERLIN = ("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
          "DTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
          "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
          "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n"
          "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
          "END:DAYLIGHT\r\nEND:VTIMEZONE\r\n")

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
TAIL = "END:VCALENDAR\r\n"

# a one-off in Berlin time with X- data that must come through unchanged
E1 = ("BEGIN:VEVENT\r\nUID:e1@x\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;TZID=Europe/Berlin:20240610T090000\r\n"
      "DTEND;TZID=Europe/Berlin:20240610T100000\r\nSUMMARY:Caf\u00e9 \u2615\r\n"
      "X-VENDOR-THING;X-P=\"a;b\":keep me\r\nEND:VEVENT\r\n")
# a weekly series (3 instances) with one moved instance, same zone
E2 = ("BEGIN:VEVENT\r\nUID:e2@x\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;TZID=Europe/Berlin:20240701T140000\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:weekly\r\nEND:VEVENT\r\n")
E2X = ("BEGIN:VEVENT\r\nUID:e2@x\r\nDTSTAMP:20240101T000000Z\r\n"
       "RECURRENCE-ID;TZID=Europe/Berlin:20240708T140000\r\n"
       "DTSTART;TZID=Europe/Berlin:20240709T150000\r\nDURATION:PT1H\r\n"
       "SUMMARY:moved\r\nEND:VEVENT\r\n")
T1 = ("BEGIN:VTODO\r\nUID:t1@x\r\nDTSTAMP:20240101T000000Z\r\n"
      "DUE:20240615T120000Z\r\nSUMMARY:todo\r\nEND:VTODO\r\n")


@pytest.fixture
def cal(dav):
    rel = "calendars/alice/feed-%s/" % uuid.uuid4().hex[:8]
    assert dav.request("MKCALENDAR", rel).status_code == 201
    for name, body in (("e1.ics", HEAD + BERLIN + E1 + TAIL),
                       ("e2.ics", HEAD + BERLIN + E2 + E2X + TAIL),
                       ("t1.ics", HEAD + T1 + TAIL)):
        r = dav.put(rel + name, body.encode(), content_type="text/calendar")
        assert r.status_code == 201, r.text
    yield rel
    dav.delete(rel)


def feed(client, rel, query="", headers=None):
    """GET of a calendar with a raw query string (not %-quoted by Dav.url)."""
    return client.session.get(client.url(rel) + ("?" + query if query else ""),
                              headers=headers or {}, timeout=client.timeout,
                              allow_redirects=False)


def components(text):
    """Names of the components directly inside the VCALENDAR, in order."""
    names, depth = [], 0
    for line in text.split("\r\n"):
        if line.startswith("BEGIN:"):
            depth += 1
            if depth == 2:
                names.append(line[6:])
        elif line.startswith("END:"):
            depth -= 1
    return names


def test_whole_calendar(dav, cal):
    assert dav.request("PROPPATCH", cal, headers={"Content-Type": "application/xml"},
                       data=proppatch_body([
                           ("set", ["<D:displayname>Team; work, etc.</D:displayname>",
                                    '<C:calendar-description xmlns:C="urn:ietf:params:'
                                    'xml:ns:caldav">line one\nline two</C:calendar-'
                                    "description>"])]).encode()).status_code == 207
    r = dav.get(cal)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = r.content.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VCALENDAR") == 1
    # one VTIMEZONE for the two objects that carry it, before its first use
    assert components(text) == ["VTIMEZONE", "VEVENT", "VEVENT", "VEVENT", "VTODO"]
    # every component octet for octet (names e1 < e2 < t1: name order)
    assert BERLIN + E1 + E2 + E2X + T1 in text
    assert "X-WR-CALNAME:Team\\; work\\, etc.\r\n" in text
    assert "X-WR-CALDESC:line one\\nline two\r\n" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\n" in text


def test_etag_and_304(dav, cal):
    r = dav.get(cal)
    etag, lm = r.headers["ETag"], r.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', etag), etag
    assert dav.prop(cal, "getetag").text == etag     # the collection's own tag
    assert dav.get(cal, headers={"If-None-Match": etag}).status_code == 304
    assert dav.get(cal, headers={"If-Modified-Since": lm}).status_code == 304
    # a narrowed variant has its own tag
    r2 = feed(dav, cal, "component=VTODO")
    assert r2.headers["ETag"] not in (etag,) and r2.headers["ETag"].startswith(etag[:-1])
    assert feed(dav, cal, "component=VTODO",
                   headers={"If-None-Match": r2.headers["ETag"]}).status_code == 304
    # any change of a member changes the tag
    assert dav.delete(cal + "t1.ics").status_code == 204
    r3 = dav.get(cal, headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["ETag"] != etag
    assert "VTODO" not in components(r3.text)


def test_range_component_and_expand(dav, cal):
    r = feed(dav, cal, "start=20240601T000000Z&end=20240630T000000Z")
    assert r.status_code == 200
    assert components(r.text) == ["VTIMEZONE", "VEVENT", "VTODO"]
    assert "UID:e1@x" in r.text and "UID:e2@x" not in r.text
    r = feed(dav, cal, "start=20240708T000000Z&end=20240709T000000Z")
    assert components(r.text) == []          # the 8 July instance was moved
    r = feed(dav, cal, "start=20240709T000000Z&end=20240710T000000Z")
    assert components(r.text) == ["VTIMEZONE", "VEVENT", "VEVENT"]   # whole series
    r = feed(dav, cal, "component=VTODO")
    assert components(r.text) == ["VTODO"]
    r = feed(dav, cal, "start=20240101&end=20250101&component=VEVENT&expand=1")
    assert r.status_code == 200
    text = r.text.replace("\r\n ", "")
    assert components(text) == ["VEVENT"] * 4
    starts = sorted(re.findall(r"\r\nDTSTART:(\d{8}T\d{6}Z)", text))
    assert starts == ["20240610T070000Z", "20240701T120000Z", "20240709T130000Z",
                      "20240715T120000Z"]
    assert sorted(re.findall(r"\r\nRECURRENCE-ID:(\d{8}T\d{6}Z)", text)) == [
        "20240701T120000Z", "20240708T120000Z", "20240715T120000Z"]
    assert "RRULE" not in text and "VTIMEZONE" not in text


@pytest.mark.parametrize("query", [
    "start=2024-01-01", "end=20240101T000000", "start=20240201T000000Z&end=20240101T000000Z",
    "expand=1", "expand=1&start=20240101T000000Z", "component=VCARD", "start=%ZZ"])
def test_bad_parameters(dav, cal, query):
    r = feed(dav, cal, "" + query)
    assert r.status_code == 400, (query, r.status_code)


def test_feed_is_private(server, cal):
    bob = Dav(server.base_url, auth=("bob", "bob"))
    r = bob.get(cal)
    assert r.status_code == 403 and "e1@x" not in r.text
    bob.session.close()


def test_refresh_directive(servers, request):
    with servers.own("feedrefresh", request, extra="CalDAVFeedRefresh 1d\n") as srv:
        dav = Dav(srv.base_url, auth=("alice", "alice"))
        r = dav.get("calendars/alice/calendar/")
        assert r.status_code == 200
        assert "REFRESH-INTERVAL;VALUE=DURATION:P1D\r\nX-PUBLISHED-TTL:P1D\r\n" in r.text
        dav.session.close()


def test_freebusy_url(servers, request):
    """/dav/principals/<user>/freebusy.ifb: the user's busy time over the
    calendars the requester may read free/busy time of."""
    with servers.own("ifb", request) as srv:
        alice = Dav(srv.base_url, auth=("alice", "alice"))
        bob = Dav(srv.base_url, auth=("bob", "bob"))
        bob.request("PROPFIND", "", headers={"Depth": "0"})
        ifb = "principals/alice/freebusy.ifb"
        shared, private = "calendars/alice/shared/", "calendars/alice/private/"
        for rel in (shared, private):
            assert alice.request("MKCALENDAR", rel).status_code == 201
        assert alice.put(shared + "a.ics", (HEAD + BERLIN + E1 + TAIL).encode(),
                         content_type="text/calendar").status_code == 201
        assert alice.put(private + "b.ics", (HEAD + BERLIN + E2 + E2X + TAIL).encode(),
                         content_type="text/calendar").status_code == 201
        r = feed(alice, ifb, "start=20240601T000000Z&end=20240801T000000Z")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
        busy = re.findall(r"\r\nFREEBUSY[^:]*:([^\r]*)", r.text.replace("\r\n ", ""))
        assert ",".join(busy).split(",") == [
            "20240610T070000Z/PT1H", "20240701T120000Z/PT1H", "20240709T130000Z/PT1H",
            "20240715T120000Z/PT1H"]
        assert "DTSTART:20240601T000000Z\r\n" in r.text
        assert "DTEND:20240801T000000Z\r\n" in r.text
        # period instead of end
        r = feed(alice, ifb, "start=20240601T000000Z&period=P2W")
        assert "DTEND:20240615T000000Z\r\n" in r.text and "20240701T" not in r.text
        # bob: nothing shared yet
        assert feed(bob, ifb, "start=20240601T000000Z&end=20240801T000000Z").status_code == 403
        body = ('<D:acl xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:ace>'
                "<D:principal><D:href>/dav/principals/bob/</D:href></D:principal>"
                "<D:grant><D:privilege><C:read-free-busy/></D:privilege></D:grant>"
                "</D:ace></D:acl>")
        assert alice.request("ACL", shared, headers={"Content-Type": "application/xml"},
                             data=body.encode()).status_code == 200
        r = feed(bob, ifb, "start=20240601T000000Z&end=20240801T000000Z")
        assert r.status_code == 200
        busy = re.findall(r"\r\nFREEBUSY[^:]*:([^\r]*)", r.text.replace("\r\n ", ""))
        assert busy == ["20240610T070000Z/PT1H"]        # the shared calendar only
        assert "weekly" not in r.text and "SUMMARY" not in r.text
        # bad input
        for q in ("start=2024", "period=P0D", "period=1W",
                  "start=20240601T000000Z&end=20240501T000000Z",
                  "start=20240101T000000Z&end=20260101T000000Z"):
            assert feed(alice, ifb, q).status_code == 400, q
        assert alice.request("POST", ifb).status_code == 405
        assert feed(alice, "principals/nobody/freebusy.ifb").status_code == 404
        alice.session.close()
        bob.session.close()


PUBLIC = """CalDAVPublicFeedURL /public
<Location /public>
    SetHandler caldav-public-feed
    CalDAVFeedStore "@STORE@"
    Require all granted
</Location>
<Location /dav/calendars/alice/open>
    CalDAVPublic On
    <RequireAny>
        Require method GET HEAD OPTIONS
        Require valid-user
    </RequireAny>
</Location>
"""


def form(client, rel, action):
    return client.request("POST", rel, data=("action=%s" % action).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_secret_feed_url(servers, request):
    """An owner publishes a calendar at a secret URL that works without an
    account and for nothing but GET of that feed; re-publishing replaces the
    URL, unpublishing revokes it."""
    import requests

    with servers.own("public", request, extra=PUBLIC) as srv:
        alice = Dav(srv.base_url, auth=("alice", "alice"))
        bob = Dav(srv.base_url, auth=("bob", "bob"))
        cal = "calendars/alice/pub/"
        assert alice.request("MKCALENDAR", cal).status_code == 201
        assert alice.put(cal + "e1.ics", (HEAD + BERLIN + E1 + TAIL).encode(),
                         content_type="text/calendar").status_code == 201
        r = form(alice, cal, "publish")
        assert r.status_code == 201, r.text
        url = r.headers["Location"]
        assert r.text.strip() == url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/public/[0-9a-f]+-[0-9a-f]{32}\.ics", url)
        anon = requests.Session()
        g = anon.get(url)
        assert g.status_code == 200 and g.headers["Content-Type"].startswith("text/calendar")
        assert BERLIN + E1 in g.text
        assert anon.get(url, headers={"If-None-Match": g.headers["ETag"]}).status_code == 304
        assert "UID:e1@x" not in anon.get(url + "?component=VTODO").text
        # nothing else through it
        for method in ("PUT", "DELETE", "PROPFIND", "POST", "REPORT"):
            assert anon.request(method, url).status_code == 405, method
        base, _, name = url.rpartition("/")
        ident, secret = name[:-4].split("-")
        wrong = "%s-%s.ics" % (ident, ("0" if secret[0] != "0" else "1") + secret[1:])
        assert anon.get(base + "/" + wrong).status_code == 404
        assert anon.get(base + "/%x-%s.ics" % (int(ident, 16) + 1, secret)).status_code == 404
        assert anon.get(base + "/garbage.ics").status_code == 404
        # the DAV tree itself still wants an account
        assert anon.get(srv.base_url + cal).status_code == 401
        # only the owner publishes
        assert form(bob, cal, "publish").status_code == 403
        assert form(alice, cal + "e1.ics", "publish").status_code == 405
        assert alice.request("POST", cal, data=b"x",
                             headers={"Content-Type": "text/plain"}).status_code == 415
        assert form(alice, cal, "frobnicate").status_code == 400
        # re-publish: a new URL, the old one is gone
        url2 = form(alice, cal, "publish").headers["Location"]
        assert url2 != url
        assert anon.get(url).status_code == 404 and anon.get(url2).status_code == 200
        # revoke
        assert form(alice, cal, "unpublish").status_code == 204
        assert anon.get(url2).status_code == 404
        # an admin-opened calendar (CalDAVPublic On; Apache lets GET through
        # without an account, the rest still needs one)
        opn = "calendars/alice/open/"
        assert alice.request("MKCALENDAR", opn).status_code == 201
        assert alice.put(opn + "t1.ics", (HEAD + T1 + TAIL).encode(),
                         content_type="text/calendar").status_code == 201
        g = anon.get(srv.base_url + opn)
        assert g.status_code == 200 and T1 in g.text
        assert anon.get(srv.base_url + opn + "t1.ics").status_code == 200
        assert anon.put(srv.base_url + opn + "x.ics", data=(HEAD + T1 + TAIL).encode(),
                        headers={"Content-Type": "text/calendar"}).status_code == 401
        assert anon.delete(srv.base_url + opn + "t1.ics").status_code == 401
        assert bob.put(opn + "x.ics", (HEAD + T1 + TAIL).encode(),
                       content_type="text/calendar").status_code == 403
        assert bob.request("PROPFIND", opn, headers={"Depth": "1"}).status_code == 207
        assert alice.get(opn + "t1.ics").status_code == 200
        for c in (alice, bob):
            c.session.close()
