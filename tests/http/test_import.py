"""POST import into a calendar collection (docs/import.md).

POST of an iCalendar file (or jCal / xCal) to a calendar imports it as
`caldavctl import` does - the same code, repos/calstore_import.c: grouped
by UID, validated as a PUT, create-or-modify by UID, one transaction - and
answers 207 with one D:response per object: 201 created, 204 modified, 403
with the CalDAV precondition and a description for a refused object (the
others are imported), 424 for objects not written after ?stop-on-error=1.

The server of this module runs with the example attribute map
(conf/import-map.example), a small CalDAVMaxImportSize and a smaller
CalDAVMaxResourceSize, so that both limits can be tried.
"""

import re
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import devserver
from davclient import Dav, calendar_data, calendar_query, multistatus, precondition

pytestmark = pytest.mark.caldav_only

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
RFC5545 = DATA / "rfc5545"
ORACLE = DATA / "import" / "oracle-export.ics"
MAP = REPO / "conf" / "import-map.example"

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"

MAX_IMPORT = 256 * 1024
MAX_RESOURCE = 16 * 1024
EXTRA = ('CalDAVImportMap "%s"\nCalDAVMaxImportSize 256K\nCalDAVMaxResourceSize 16K\n'
         % MAP)


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="module")
def imp_server(servers, request):
    with servers.own("import", request, extra=EXTRA) as srv:
        yield srv


def client(server, user):
    c = Dav(server.base_url, auth=(user, user))
    # the first request provisions the user's principal, home and calendar
    r = c.propfind("calendars/%s/" % user, props=[("DAV:", "displayname")], depth="1")
    assert r.status_code == 207, r.status_code
    return c


@pytest.fixture(scope="module")
def alice(imp_server):
    c = client(imp_server, "alice")
    yield c
    c.session.close()


@pytest.fixture(scope="module")
def bob(imp_server):
    c = client(imp_server, "bob")
    yield c
    c.session.close()


COMP_SET = ('<C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '%s</C:supported-calendar-component-set>')


def new_calendar(dav, comps=("VEVENT", "VTODO")):
    rel = "calendars/alice/imp-%s/" % uuid.uuid4().hex[:8]
    dav.make_calendar(rel, [COMP_SET % "".join('<C:comp name="%s"/>' % c for c in comps)])
    return rel


# --- helpers ------------------------------------------------------------------------


def post(dav, rel, body, ctype="text/calendar; charset=utf-8", params=None):
    return dav.session.post(dav.url(rel), params=params, data=body,
                            headers={"Content-Type": ctype}, timeout=dav.timeout)


class Result:
    """One D:response of an import."""

    def __init__(self, elem):
        hrefs = elem.findall(D + "href")
        assert len(hrefs) == 1, ET.tostring(elem)
        self.href = hrefs[0].text.strip()
        self.path = unquote(urlsplit(self.href).path)
        self.name = self.path.rsplit("/", 1)[1]
        st = elem.find(D + "status").text
        self.status = int(re.match(r"HTTP/1\.1 (\d{3}) ", st).group(1))
        err = elem.find(D + "error")
        self.errors = [c.tag for c in err] if err is not None else []
        desc = elem.find(D + "responsedescription")
        self.desc = desc.text if desc is not None else None

    def __repr__(self):
        return "<%s %d %s %s>" % (self.name, self.status, self.errors, self.desc)


def results(resp):
    """The D:responses of an import's 207, in order, and the multistatus'
    own D:responsedescription (the warnings) or None."""
    assert resp.status_code == 207, (resp.status_code, resp.text[:800])
    assert resp.headers["Content-Type"].split(";")[0] in ("application/xml", "text/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == D + "multistatus"
    desc = root.find(D + "responsedescription")
    return [Result(e) for e in root.findall(D + "response")], (
        desc.text if desc is not None else None)


def outcome(resp):
    """{member name: (status, [precondition tags])} of an import."""
    res, _ = results(resp)
    out = {}
    for r in res:
        assert r.name not in out, "two responses for %s" % r.name
        out[r.name] = (r.status, r.errors)
    return out


def members(dav, rel):
    """{member name: etag}"""
    ms = dav.props(rel, [("DAV:", "getetag")], depth="1")
    return {p.rsplit("/", 1)[1]: resp.text(D + "getetag")
            for p, resp in ms.responses.items()
            if p.rstrip("/") != dav.path(rel).rstrip("/")}


# A reference cutter for the test data (simple on purpose: BEGIN/END lines
# are never folded in it): the raw lines of each VCALENDAR and its
# components, to build the text an import must store.

def cut(data):
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    lines = [l + b"\r\n" for l in lines[:-1]]
    cals, cur, comp, depth = [], None, None, 0
    for line in lines:
        if line.startswith(b"BEGIN:"):
            depth += 1
            if depth == 1:
                cur = {"head": [line], "comps": [], "end": None}
                cals.append(cur)
                continue
            if depth == 2:
                comp = {"name": line[6:-2].decode(), "lines": []}
                cur["comps"].append(comp)
        elif line.startswith(b"END:"):
            depth -= 1
            if depth == 0:
                cur["end"] = line
                cur = None
                continue
        elif depth == 0:
            continue
        if depth == 1 and not line.startswith(b"END:"):
            cur["head"].append(line)
        else:
            comp["lines"].append(line)
    for cal in cals:
        for c in cal["comps"]:
            text = b"".join(c["lines"])
            c["text"] = text
            m = re.search(rb"\r\nUID:([^\r]*)\r\n", text)
            c["uid"] = m.group(1).decode() if m else None
            m = re.search(rb"\r\nTZID:([^\r]*)\r\n", text)
            c["tzid"] = m.group(1).decode() if c["name"] == "VTIMEZONE" and m else None
    return cals


def expected(data, uid, added=None, generated=None):
    """The text an import stores for the object with `uid`: its first
    VCALENDAR's lines without METHOD, the VTIMEZONEs its components use,
    its components with the lines of `added` ({index: [lines]}) before
    their END.  With generated=UID: the component without UID whose text
    contains `uid`, with the UID line the import writes after BEGIN."""
    cals = cut(data)
    tzs = {c["tzid"]: c["text"] for cal in cals for c in cal["comps"] if c["tzid"]}
    head, comps = None, []
    for cal in cals:
        for c in cal["comps"]:
            if c["name"] == "VTIMEZONE":
                continue
            mine = (c["uid"] == uid) if generated is None else (
                c["uid"] is None and uid.encode() in c["text"])
            if mine:
                if head is None:
                    head = b"".join(l for l in cal["head"] if not l.startswith(b"METHOD:"))
                comps.append(c["text"])
    assert comps, uid
    used = []
    for text in comps:
        for tzid in re.findall(rb";TZID=([^:;]*)[:;]", text):
            if tzid.decode() not in used:
                used.append(tzid.decode())
    out = head + b"".join(tzs[t] for t in used if t in tzs)
    for i, text in enumerate(comps):
        if generated is not None:
            first, rest = text.split(b"\r\n", 1)
            text = first + b"\r\nUID:" + generated.encode() + b"\r\n" + rest
        extra = b"".join(l.encode() + b"\r\n" for l in (added or {}).get(i, []))
        end = text.rindex(b"END:")
        out += text[:end] + extra + text[end:]
    return out + b"END:VCALENDAR\r\n"


# --- RFC 5545 section 4 ---------------------------------------------------------------

RFC_FILES = sorted(RFC5545.glob("*.ics"))


def test_rfc5545_examples(alice):
    """All six examples in one POST: four objects are stored with the
    examples' bytes (METHOD left out, the VTIMEZONE with its event), the
    to-do (an absolute TRIGGER without VALUE=DATE-TIME), the journal entry
    (not a component this calendar takes) and the busy time (no DTSTAMP;
    a generated UID) are refused with their precondition and line."""
    assert [f.name for f in RFC_FILES] == [
        "1-conference.ics", "2-group-meeting.ics", "3-mime-message.ics", "4-todo.ics",
        "5-journal.ics", "6-busy-time.ics"]
    data = b"".join(f.read_bytes() for f in RFC_FILES)
    rel = new_calendar(alice)
    res, warnings = results(post(alice, rel, data))
    got = [(r.name, r.status, r.errors) for r in res]
    busy = [r.name for r in res if r.name.startswith("caldavctl-")]
    assert len(busy) == 1
    assert got == [
        ("uid1@example.com.ics", 201, []),
        ("guid-1.example.com.ics", 201, []),
        ("uid3@example.com.ics", 201, []),
        ("uid4@example.com.ics", 403, [C + "valid-calendar-data"]),
        ("uid5@example.com.ics", 403, [C + "supported-calendar-component"]),
        (busy[0], 403, [C + "supported-calendar-component"]),
    ], res
    # the reasons name the object and its line in the POSTed text
    lines = data.split(b"\r\n")
    desc = {r.name: r.desc for r in res}
    todo_line = lines.index(b"BEGIN:VTODO") + 1
    assert desc["uid4@example.com.ics"].startswith(
        "UID uid4@example.com (line %d): valid-calendar-data: " % todo_line)
    assert "TRIGGER" in desc["uid4@example.com.ics"]
    assert desc[busy[0]].startswith(
        "VFREEBUSY without UID (line %d): " % (lines.index(b"BEGIN:VFREEBUSY") + 1))
    assert desc["uid1@example.com.ics"] is None
    # the MIME header lines of example 3 were ignored, and said so
    assert warnings == "5 line(s) outside any VCALENDAR ignored"

    assert set(members(alice, rel)) == {"uid1@example.com.ics", "guid-1.example.com.ics",
                                        "uid3@example.com.ics"}
    for f, uid in (("1-conference.ics", "uid1@example.com"),
                   ("2-group-meeting.ics", "guid-1.example.com"),
                   ("3-mime-message.ics", "uid3@example.com")):
        r = alice.get(rel + uid + ".ics")
        assert r.status_code == 200
        assert r.content == expected((RFC5545 / f).read_bytes(), uid), f
    assert b"METHOD" not in alice.get(rel + "uid3@example.com.ics").content
    assert b"BEGIN:VTIMEZONE" in alice.get(rel + "guid-1.example.com.ics").content

    # a calendar of every kind takes the journal entry; the busy time still
    # lacks its DTSTAMP
    every = new_calendar(alice, ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"))
    got = outcome(post(alice, every, data))
    assert got["uid5@example.com.ics"] == (201, [])
    assert got[busy[0]] == (403, [C + "valid-calendar-data"])
    # (it has no SUMMARY: the map's default adds one)
    assert alice.get(every + "uid5@example.com.ics").content == expected(
        (RFC5545 / "5-journal.ics").read_bytes(), "uid5@example.com",
        {0: ["SUMMARY:(no title)"]})

    # each example on its own gives the same outcome as in the whole file
    whole = outcome(post(alice, new_calendar(alice), data))
    for f in RFC_FILES:
        mine = outcome(post(alice, new_calendar(alice), f.read_bytes()))
        assert len(mine) == 1 and all(whole[k] == v for k, v in mine.items()), f


# --- an Oracle Calendar export, with the attribute map -----------------------

WEEKLY = "20240102T101500Z-1000472-1-5c0746bb-Oracle"
HOLIDAY = "20240102T103000Z-1000472-2-5c0746bb-Oracle"
BIRTHDAY = "20240102T104500Z-1000472-3-5c0746bb-Oracle"
BAD = "20240102T113000Z-1000472-5-5c0746bb-Oracle"
TASK = "20240102T120000Z-1000472-6-5c0746bb-Oracle"
WHIT = "20240102T123000Z-1000472-7-5c0746bb-Oracle"

# what conf/import-map.example adds to each object's components
ORACLE_ADDED = {
    WEEKLY: {0: ["TRANSP:OPAQUE"],                      # an APPOINTMENT
             1: ["TRANSP:OPAQUE"],
             2: ["TRANSP:OPAQUE", "SUMMARY:(no title)"]},   # an override without SUMMARY
    HOLIDAY: {0: ["CATEGORIES:Day event"]},             # TRANSP given
    BIRTHDAY: {0: ["TRANSP:TRANSPARENT", "CATEGORIES:Day event", "SUMMARY:(no title)"]},
    TASK: {0: ["SUMMARY:(no title)"]},
    WHIT: {0: ["TRANSP:TRANSPARENT", "CATEGORIES:Holiday"]},
}
NOTE = ["TRANSP:TRANSPARENT", "CATEGORIES:Daily note", "SUMMARY:(no title)"]


def oracle_expectations(data, note_name):
    exp = {uid + ".ics": expected(data, uid, added) for uid, added in ORACLE_ADDED.items()}
    exp[note_name] = expected(data, "Remember to book the rooms", {0: NOTE},
                              generated=note_name[:-4])
    return exp


def test_oracle_export_with_the_map(alice):
    data = ORACLE.read_bytes()
    rel = new_calendar(alice)
    ctag0 = alice.ctag(rel)
    res, warnings = results(post(alice, rel, data))
    assert warnings is None
    note = [r.name for r in res if r.name.startswith("caldavctl-")]
    assert len(note) == 1
    # one response per object, in order of first appearance in the file:
    # the master and its two RECURRENCE-ID instances are ONE object
    assert [(r.name, r.status, r.errors) for r in res] == [
        (WEEKLY + ".ics", 201, []),
        (HOLIDAY + ".ics", 201, []),
        (BIRTHDAY + ".ics", 201, []),
        (note[0], 201, []),
        (BAD + ".ics", 403, [C + "valid-calendar-data"]),
        (TASK + ".ics", 201, []),
        (WHIT + ".ics", 201, []),
    ]
    bad = [r for r in res if r.status == 403][0]
    line = data.split(b"\r\n").index(b"UID:" + BAD.encode())   # 1-based BEGIN line
    assert bad.desc == ("UID %s (line %d): valid-calendar-data: VEVENT: DTEND is before "
                        "DTSTART" % (BAD, line))

    # stored with the file's bytes plus what the map adds, nothing else
    exp = oracle_expectations(data, note[0])
    got = members(alice, rel)
    assert set(got) == set(exp)
    for name, text in exp.items():
        r = alice.get(rel + name)
        assert r.status_code == 200 and r.headers["ETag"] == got[name]
        assert r.content == text, name
    assert alice.ctag(rel) != ctag0

    # indexed like a PUT: the moved instance is found where it went (14:00
    # Paris = 13:00Z), not where it was; calendar-data is the stored text
    def query(start, end):
        body = calendar_query(
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:time-range start="%s" end="%s"/></C:comp-filter></C:comp-filter>'
            % (start, end))
        ms = multistatus(alice.report(rel, body, depth="1"))
        return {p.rsplit("/", 1)[1]: calendar_data(r) for p, r in ms.responses.items()}

    hits = query("20240115T130000Z", "20240115T133000Z")
    assert set(hits) == {WEEKLY + ".ics"}
    assert hits[WEEKLY + ".ics"].replace("\r\n", "\n") == exp[WEEKLY + ".ics"].decode().replace(
        "\r\n", "\n")
    assert query("20240115T080000Z", "20240115T083000Z") == {}
    assert set(query("20240501T000000Z", "20240502T000000Z")) == {HOLIDAY + ".ics"}

    # the same file again: every object is modified in place (by UID)
    before = members(alice, rel)
    again = outcome(post(alice, rel, data))
    assert again == {**{n: (204, []) for n in exp}, BAD + ".ics": (403, [C + "valid-calendar-data"])}
    after = members(alice, rel)
    assert set(after) == set(before)
    assert all(after[n] != before[n] for n in before)      # new ETags
    for name, text in exp.items():
        assert alice.get(rel + name).content == text


def test_stop_on_error_writes_nothing(alice):
    data = ORACLE.read_bytes()
    rel = new_calendar(alice)
    res, _ = results(post(alice, rel, data, params={"stop-on-error": "1"}))
    statuses = [r.status for r in res]
    assert statuses == [424, 424, 424, 424, 403, 424, 424], res
    assert [r for r in res if r.status == 424][0].desc.endswith(
        "not written: the import stopped at an invalid object")
    assert members(alice, rel) == {}
    # without the invalid object: everything
    cals = data.split(b"BEGIN:VEVENT\r\nUID:" + BAD.encode())
    good = cals[0] + cals[1][cals[1].index(b"END:VEVENT\r\n") + 12:]
    assert set(s for s, _ in outcome(post(alice, rel, good, params={"stop-on-error": "1"}))
               .values()) == {201}
    assert len(members(alice, rel)) == 6


def test_jcal_and_xcal_bodies(alice):
    """A calendar's feed in jCal / xCal, POSTed to another calendar, creates
    the same objects (converted to iCalendar first)."""
    src = new_calendar(alice)
    post(alice, src, ORACLE.read_bytes())
    names = set(members(alice, src))
    for accept in ("application/calendar+json", "application/calendar+xml"):
        feed = alice.get(src, headers={"Accept": accept})
        assert feed.status_code == 200 and feed.headers["Content-Type"].startswith(accept)
        dst = new_calendar(alice)
        got = outcome(post(alice, dst, feed.content, ctype=accept))
        assert set(got) == names and {s for s, _ in got.values()} == {201}, got
        r = alice.get(dst + WEEKLY + ".ics")
        assert r.content.count(b"BEGIN:VEVENT") == 3
        assert b"X-ORACLE-EVENTTYPE:APPOINTMENT" in r.content
    bad = post(alice, new_calendar(alice), b'["vcalendar", [', ctype="application/calendar+json")
    precondition(bad, "valid-calendar-data")


# --- rights, media types, sizes ------------------------------------------------


def acl(dav, rel, *privileges):
    body = ('<?xml version="1.0"?><D:acl xmlns:D="DAV:"><D:ace><D:principal>'
            '<D:href>/dav/principals/bob/</D:href></D:principal><D:grant>%s</D:grant>'
            '</D:ace></D:acl>' % "".join("<D:privilege><D:%s/></D:privilege>" % p
                                        for p in privileges))
    r = dav.request("ACL", rel, headers={"Content-Type": "application/xml"},
                    data=body.encode())
    assert r.status_code == 200, r.text


ONE = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
       b"UID:%s\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240610T090000Z\r\n"
       b"SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_sharee_with_read_only_gets_403(alice, bob):
    rel = new_calendar(alice)
    acl(alice, rel, "read")
    r = post(bob, rel, ONE % (b"ro@x", b"x"))
    assert r.status_code == 403
    assert r.content.count(b"need-privileges") and b"<D:write/>" in r.content
    assert members(alice, rel) == {}
    # nor may anyone without a grant
    assert post(bob, new_calendar(alice), ONE % (b"ro@x", b"x")).status_code == 403


def test_sharee_with_write_may_import(alice, bob):
    rel = new_calendar(alice)
    acl(alice, rel, "read", "write")
    assert bob.put_ics(rel + "put.ics", ONE % (b"put@x", b"x")).status_code == 201
    got = outcome(post(bob, rel, ONE % (b"rw@x", b"x")))
    assert got == {"rw@x.ics": (201, [])}


def test_other_media_types_415(alice):
    rel = new_calendar(alice)
    for ctype in ("text/plain", "application/json", "application/xml", "text/x-vcalendar"):
        assert post(alice, rel, ONE % (b"m@x", b"x"), ctype=ctype).status_code == 415, ctype
    r = alice.request("POST", rel, data=ONE % (b"m@x", b"x"))   # no Content-Type
    assert r.status_code == 415
    assert members(alice, rel) == {}
    # text/calendar with parameters is fine
    assert outcome(post(alice, rel, ONE % (b"m@x", b"x"),
                        ctype="text/calendar; charset=utf-8; component=VEVENT")) == {
        "m@x.ics": (201, [])}
    # and POST to an object is not an import
    assert post(alice, rel + "m@x.ics", ONE % (b"m@x", b"x")).status_code == 405


def event(uid, size):
    """An event of about `size` octets (as an object)."""
    pad = b"x" * max(0, size - 200)
    return (b"BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            b"DTSTART:20240610T090000Z\r\nX-PAD:%s\r\nEND:VEVENT\r\n" % (uid, pad))


def calendar(*events):
    return (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + b"".join(events)
            + b"END:VCALENDAR\r\n")


def many(n, size):
    """An import of n events, each about `size` octets."""
    return calendar(*(event(b"many-%d@x" % i, size) for i in range(n)))


def test_sizes(alice):
    rel = new_calendar(alice)
    # more than CalDAVMaxResourceSize in all, each object below it: imported
    body = many(40, 2000)
    assert MAX_RESOURCE < len(body) < MAX_IMPORT
    got = outcome(post(alice, rel, body))
    assert len(got) == 40 and {s for s, _ in got.values()} == {201}
    # one object above it: that one gets C:max-resource-size
    got = outcome(post(alice, rel, calendar(event(b"big@x", MAX_RESOURCE + 1000),
                                            event(b"many-0@x", 300))))
    assert got["big@x.ics"] == (403, [C + "max-resource-size"])
    assert got["many-0@x.ics"] == (204, [])
    # above CalDAVMaxImportSize: 413, nothing written
    huge = many(150, 2000)
    assert len(huge) > MAX_IMPORT
    r = post(alice, new_calendar(alice), huge)
    assert r.status_code == 413
    # also when the size is not announced (chunked)
    r = alice.session.post(alice.url(rel), data=iter([huge[:100000], huge[100000:]]),
                           headers={"Content-Type": "text/calendar"})
    assert r.status_code == 413
    assert len(members(alice, rel)) == 40
    # a chunked body within the limit is imported
    got = outcome(alice.session.post(alice.url(rel), data=iter([body[:5000], body[5000:]]),
                                     headers={"Content-Type": "text/calendar"}))
    assert {s for s, _ in got.values()} == {204}


def test_no_calendar_component(alice):
    rel = new_calendar(alice)
    for body in (b"", b"hello\r\n", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"):
        precondition(post(alice, rel, body), "valid-calendar-data", what=repr(body))
    # an unterminated component is one refused object
    got = outcome(post(alice, rel, b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:cut@x\r\n"))
    assert got == {"cut@x.ics": (403, [C + "valid-calendar-data"])}


def test_bad_map_stops_the_start(servers):
    """CalDAVImportMap is read at startup: a mistake stops it, with the line."""
    work = Path(tempfile.mkdtemp(prefix="caldav-badmap-"))
    work.chmod(0o755)
    try:
        bad = work / "map"
        bad.write_text("# a map\nalias X-FOO\n")
        srv = devserver.Server(var=work / "var", port=devserver.free_port(),
                               module=servers.module, san=servers.san,
                               extra='CalDAVImportMap "%s"\n' % bad)
        with pytest.raises(devserver.ServerError) as e:
            devserver.start(srv)
        assert "CalDAVImportMap %s: line 2: alias needs" % bad in str(e.value)
    finally:
        shutil.rmtree(work, ignore_errors=True)
