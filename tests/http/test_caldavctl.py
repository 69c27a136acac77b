"""caldavctl (tools/) against the store of a running httpd.

The tool opens the same Berkeley DB environment as the server, validates
with the same core code and indexes with the same function
(calstore_calinfo_build), so what it imports is served over HTTP at once:
PROPFIND, GET, calendar-query and sync-collection see it, with the ctag
moved on.  Every command runs while httpd serves requests against the same
store; backup is taken under write load, restored into a fresh directory,
and a second server on the restored store must serve the same data.

caldavctl is expected next to the module (`make` builds build/caldavctl
next to build/mod_caldav.so).  As root the tool becomes the owner of the
store by itself (www-data here); the tests check that it leaves no file
behind that httpd could not open.
"""

import json
import re
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import devserver
from davclient import (Dav, assert_ical_equal, calendar_data, calendar_query, canon,
                       ical_parse, ics, multistatus)

pytestmark = pytest.mark.caldav_only

D = "{DAV:}"

# --- the import file ------------------------------------------------------------
#
# A VTIMEZONE used by a recurring master and its override (one UID, given in
# that order with another event in between), a single event, an event
# without UID, an invalid event (DTEND before DTSTART), a to-do; METHOD and
# an X-WR property at the top, as exports of other systems have them.

TZ = ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
      "BEGIN:STANDARD", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
      "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "END:STANDARD",
      "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
      "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "END:DAYLIGHT",
      "END:VTIMEZONE"]


def master(summary="Weekly"):
    # 09:00 Berlin = 08:00Z in January; 10 Mondays from 2024-01-08
    return ["BEGIN:VEVENT", "UID:weekly@ctl.test", "DTSTAMP:20240101T000000Z",
            "DTSTART;TZID=Europe/Berlin:20240108T090000",
            "DTEND;TZID=Europe/Berlin:20240108T100000",
            "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:%s" % summary,
            "X-ORACLE-EVENTTYPE:APPOINTMENT", "END:VEVENT"]


def override(summary="Weekly, moved"):
    # the 2024-01-15 instance moved to 11:00 Berlin = 10:00Z
    return ["BEGIN:VEVENT", "UID:weekly@ctl.test", "DTSTAMP:20240101T000000Z",
            "RECURRENCE-ID;TZID=Europe/Berlin:20240115T090000",
            "DTSTART;TZID=Europe/Berlin:20240115T110000",
            "DTEND;TZID=Europe/Berlin:20240115T120000",
            "SUMMARY:%s" % summary, "END:VEVENT"]


def single(summary="Single"):
    return ["BEGIN:VEVENT", "UID:single@ctl.test", "DTSTAMP:20240101T000000Z",
            "DTSTART:20240301T120000Z", "DTEND:20240301T130000Z",
            "SUMMARY:%s" % summary, "END:VEVENT"]


NO_UID = ["BEGIN:VEVENT", "DTSTAMP:20240101T000000Z", "DTSTART:20240401T080000Z",
          "DTEND:20240401T090000Z", "SUMMARY:No UID here", "END:VEVENT"]

INVALID = ["BEGIN:VEVENT", "UID:bad@ctl.test", "DTSTAMP:20240101T000000Z",
           "DTSTART:20240501T100000Z", "DTEND:20240501T090000Z",
           "SUMMARY:Ends before it starts", "END:VEVENT"]

TODO = ["BEGIN:VTODO", "UID:todo@ctl.test", "DTSTAMP:20240101T000000Z",
        "DUE:20240601T000000Z", "SUMMARY:A task", "END:VTODO"]

NEW = ["BEGIN:VEVENT", "UID:new@ctl.test", "DTSTAMP:20240101T000000Z",
       "DTSTART;TZID=Europe/Berlin:20240701T090000", "DURATION:PT30M",
       "SUMMARY:Added later", "END:VEVENT"]

HEAD = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ctl test//EN", "METHOD:PUBLISH",
        "X-WR-CALNAME:Imported"]


def import_file(*, summary_suffix="", with_new=False):
    s = summary_suffix
    body = (HEAD + TZ + master("Weekly" + s) + single("Single" + s) + override("Weekly, moved" + s)
            + NO_UID + INVALID + TODO + (NEW if with_new else []) + ["END:VCALENDAR"])
    return ics(*body)


def crlf(lines):
    return ("\r\n".join(lines) + "\r\n").encode()


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ctl_server(servers, request):
    with servers.own("caldavctl", request) as srv:
        yield srv


@pytest.fixture(scope="module")
def tool(pytestconfig):
    path = Path(os.path.abspath(pytestconfig.getoption("--module"))).parent / "caldavctl"
    if not path.is_file():
        pytest.fail("%s does not exist: build it with make" % path, pytrace=False)
    return path


@pytest.fixture(scope="module")
def alice(ctl_server):
    client = Dav(ctl_server.base_url, auth=("alice", "alice"))
    # the first request provisions alice's principal, home and calendar
    r = client.propfind("calendars/alice/", props=[("DAV:", "displayname")], depth="1")
    assert r.status_code == 207, r.status_code
    yield client
    client.session.close()


class Ctl:
    def __init__(self, tool, store):
        self.tool = str(tool)
        self.store = str(store)

    # Built with SAN=1 the tool reports memory errors (and fails); leaks of
    # a short-lived process are not checked, as for httpd (devserver.py):
    # core keeps process-lifetime zone tables in APR pools, which LSan
    # cannot see through.
    ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1")

    def __call__(self, *args, stdin=None, store=None, timeout=120):
        cmd = [self.tool, "-s", store or self.store] + [str(a) for a in args]
        res = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout,
                             env=self.ENV)
        res.out = res.stdout.decode("utf-8", "replace")
        res.err = res.stderr.decode("utf-8", "replace")
        assert "AddressSanitizer" not in res.err and "runtime error:" not in res.err, res.err
        return res


@pytest.fixture(scope="module")
def ctl(tool, ctl_server):
    return Ctl(tool, ctl_server.store)


def new_calendar(dav, name=None):
    rel = "calendars/alice/%s/" % (name or "ctl-" + uuid.uuid4().hex[:8])
    dav.make_calendar(rel)
    return rel


def revision(dav, rel):
    """The collection's revision: its ctag and sync token (one per change)."""
    return int(dav.prop(rel, "sync-token").text.strip().rsplit(":", 1)[1])


def members(dav, rel):
    """{member name: etag} of a collection (PROPFIND Depth 1)."""
    ms = dav.props(rel, [("DAV:", "getetag")], depth="1")
    out = {}
    for path, resp in ms.responses.items():
        if path.rstrip("/") == dav.path(rel).rstrip("/"):
            continue
        out[path.rsplit("/", 1)[1]] = resp.text(D + "getetag")
    return out


def query_names(dav, rel, comp, start, end):
    body = calendar_query('<C:comp-filter name="VCALENDAR"><C:comp-filter name="%s">'
                          '<C:time-range start="%s" end="%s"/></C:comp-filter>'
                          '</C:comp-filter>' % (comp, start, end))
    ms = multistatus(dav.report(rel, body, depth="1"))
    return {path.rsplit("/", 1)[1]: calendar_data(resp) for path, resp in ms.responses.items()}


def components(text):
    """{(name, UID, RECURRENCE-ID or TZID): canonical component} of a VCALENDAR."""
    cal = ical_parse(text)
    out = {}
    for c in cal.comps:
        key = (c.name, c.value("UID") or c.value("TZID"), c.value("RECURRENCE-ID"))
        assert key not in out, "duplicate component %s" % (key,)
        out[key] = c
    return out


def assert_files_owned_like_store(store):
    """Nothing the tool created may be unusable for httpd's user."""
    st = os.stat(store)
    for p in Path(store).iterdir():
        s = p.stat()
        assert (s.st_uid, s.st_gid) == (st.st_uid, st.st_gid), (
            "%s is owned by %d:%d, the store by %d:%d" % (p, s.st_uid, s.st_gid,
                                                         st.st_uid, st.st_gid))


class Load:
    """Requests against the server while a tool command runs: PUTs into a
    calendar of bob's and reads of alice's home; every answer must be 2xx."""

    def __init__(self, server, calendar_of_bob):
        self.bob = Dav(server.base_url, auth=("bob", "bob"))
        self.alice = Dav(server.base_url, auth=("alice", "alice"))
        self.cal = calendar_of_bob
        self.stop = threading.Event()
        self.errors = []
        self.puts = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            uid = "load-%d-%s" % (i, uuid.uuid4().hex[:6])
            r = self.bob.put_ics(self.cal + uid + ".ics", crlf(
                ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//load//EN", "BEGIN:VEVENT",
                 "UID:" + uid, "DTSTAMP:20240101T000000Z", "DTSTART:20240210T100000Z",
                 "DURATION:PT1H", "SUMMARY:load", "END:VEVENT", "END:VCALENDAR"]))
            if r.status_code != 201:
                self.errors.append("PUT %d" % r.status_code)
            else:
                self.puts += 1
            r = self.alice.propfind("calendars/alice/", props=[("DAV:", "getetag")],
                                    depth="1")
            if r.status_code != 207:
                self.errors.append("PROPFIND %d" % r.status_code)

    def __enter__(self):
        """Start, and return once the server has answered a few writes."""
        self.thread.start()
        deadline = time.monotonic() + 30
        while self.puts < 3 and not self.errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.puts >= 3, "the load did not start: %s" % self.errors[:10]
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(60)
        self.bob.session.close()
        self.alice.session.close()
        assert not self.errors, "requests failed while caldavctl ran: %s" % self.errors[:10]


@pytest.fixture(scope="module")
def bob_calendar(ctl_server):
    bob = Dav(ctl_server.base_url, auth=("bob", "bob"))
    rel = "calendars/bob/load/"
    bob.make_calendar(rel)
    bob.session.close()
    return rel


# --- the command line ---------------------------------------------------------------


def test_help_and_usage_errors(ctl, tmp_path):
    res = ctl("--help")
    assert res.returncode == 0 and "import USER/CALENDAR" in res.out
    for cmd in ("import", "export", "delete", "list", "verify", "backup", "restore"):
        res = ctl(cmd, "--help")
        assert res.returncode == 0, (cmd, res.err)
        assert res.out.startswith("usage: caldavctl [-s STORE] %s" % cmd), res.out
    assert ctl().returncode == 2
    assert ctl("frobnicate").returncode == 2
    assert ctl("import", "alice").returncode == 2                 # no file
    assert ctl("import", "alice", "x.ics").returncode == 2        # no calendar
    assert ctl("import", "alice/calendar", "x.ics", "--bogus").returncode == 2
    assert ctl("import", "alice/calendar", "x.ics", "--batch", "0").returncode == 2
    assert ctl("delete", "alice/calendar").returncode == 2        # neither --uid nor --href
    assert ctl("export", "alice", "--start", "yesterday").returncode == 2
    # a store that is not there: 3, and nothing created
    missing = tmp_path / "nostore"
    assert ctl("list", store=missing).returncode == 3
    assert not missing.exists()


# --- import -------------------------------------------------------------------------------


def test_import_is_served_over_http(ctl, alice, ctl_server, bob_calendar):
    rel = new_calendar(alice)
    ctag0, rev0 = alice.ctag(rel), revision(alice, rel)
    token0 = alice.prop(rel, "sync-token").text

    with Load(ctl_server, bob_calendar):
        res = ctl("import", "alice/" + rel.split("/")[2], "-", stdin=import_file())
    assert res.out.strip() == "created 4, modified 0, skipped 1", res.out + res.err
    assert res.returncode == 1                          # something was skipped
    assert "bad@ctl.test" in res.err and "valid-calendar-data" in res.err, res.err
    assert_files_owned_like_store(ctl_server.store)

    got = members(alice, rel)
    generated = [n for n in got if n.startswith("caldavctl-")]
    assert len(generated) == 1, got
    assert sorted(got) == sorted(["weekly@ctl.test.ics", "single@ctl.test.ics",
                                  "todo@ctl.test.ics"] + generated)

    # the recurring master and its override are one resource, with the
    # VTIMEZONE, without METHOD, and the components keep the file's bytes
    r = alice.get(rel + "weekly@ctl.test.ics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/calendar")
    assert r.headers["ETag"] == got["weekly@ctl.test.ics"]
    cal = ical_parse(r.text)
    assert cal.value("METHOD") is None
    assert [c.name for c in cal.comps] == ["VTIMEZONE", "VEVENT", "VEVENT"]
    assert [c.value("RECURRENCE-ID") for c in cal.sub("VEVENT")] == [
        None, "20240115T090000"]
    assert crlf(master()) in r.content and crlf(override()) in r.content
    assert crlf(TZ) in r.content

    # the event without UID got one, written into its text
    r = alice.get(rel + generated[0])
    ev = ical_parse(r.text).sub("VEVENT")[0]
    assert ev.value("UID") + ".ics" == generated[0]
    assert ev.value("SUMMARY") == "No UID here"

    # indexed as a PUT would be: calendar-query by time range
    assert set(query_names(alice, rel, "VEVENT", "20240115T100000Z",
                           "20240115T103000Z")) == {"weekly@ctl.test.ics"}   # the override
    assert set(query_names(alice, rel, "VEVENT", "20240115T080000Z",
                           "20240115T083000Z")) == set()                     # moved away
    assert set(query_names(alice, rel, "VEVENT", "20240122T080000Z",
                           "20240122T083000Z")) == {"weekly@ctl.test.ics"}   # a later one
    assert set(query_names(alice, rel, "VEVENT", "20240301T000000Z",
                           "20240302T000000Z")) == {"single@ctl.test.ics"}
    assert set(query_names(alice, rel, "VTODO", "20240531T000000Z",
                           "20240602T000000Z")) == {"todo@ctl.test.ics"}

    # the same change log: the ctag moved on by one per object, and a sync
    # from the old token reports exactly the new members
    assert alice.ctag(rel) != ctag0
    assert revision(alice, rel) == rev0 + 4
    body = ('<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            '<D:sync-token>%s</D:sync-token><D:sync-level>1</D:sync-level>'
            '<D:prop><D:getetag/></D:prop></D:sync-collection>' % token0)
    ms = multistatus(alice.report(rel, body.encode()))
    assert {p.rsplit("/", 1)[1] for p in ms.paths()} == set(got)


def test_reimport_modifies_by_uid(ctl, alice, ctl_server, bob_calendar):
    rel = new_calendar(alice)
    name = rel.split("/")[2]
    res = ctl("import", "alice/" + name, "-", stdin=import_file())
    assert res.out.strip() == "created 4, modified 0, skipped 1", res.out + res.err
    before = members(alice, rel)

    with Load(ctl_server, bob_calendar):
        res = ctl("import", "alice/" + name, "-",
                  stdin=import_file(summary_suffix=" (v2)", with_new=True))
    assert res.out.strip() == "created 1, modified 4, skipped 1", res.out + res.err
    after = members(alice, rel)
    # same members (replaced in place, by UID), plus the new one
    assert set(after) == set(before) | {"new@ctl.test.ics"}
    for n in before:
        assert after[n] != before[n], "%s: ETag unchanged" % n    # rewritten
    r = alice.get(rel + "weekly@ctl.test.ics")
    summaries = sorted(c.value("SUMMARY") for c in ical_parse(r.text).sub("VEVENT"))
    assert summaries == ["Weekly (v2)", "Weekly, moved (v2)"]
    r = alice.get(rel + "single@ctl.test.ics")
    assert ical_parse(r.text).sub("VEVENT")[0].value("SUMMARY") == "Single (v2)"
    # the new event uses the VTIMEZONE of the file: it travels with it
    r = alice.get(rel + "new@ctl.test.ics")
    assert [c.name for c in ical_parse(r.text).comps] == ["VTIMEZONE", "VEVENT"]
    assert set(query_names(alice, rel, "VEVENT", "20240701T070000Z",
                           "20240701T071000Z")) == {"new@ctl.test.ics"}


def test_import_options(ctl, alice):
    # --dry-run counts without writing
    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    res = ctl("import", name, "-", "--dry-run", stdin=import_file())
    assert res.out.strip() == "created 4, modified 0, skipped 1", res.out + res.err
    assert members(alice, rel) == {}

    # --stop-on-error: the invalid object stops the import, nothing written
    res = ctl("import", name, "-", "--stop-on-error", stdin=import_file())
    assert res.returncode == 1
    assert res.out.strip() == "created 0, modified 0, skipped 5", res.out + res.err
    assert members(alice, rel) == {}

    # --batch 2: three transactions, the same result
    res = ctl("import", name, "-", "--batch", "2", stdin=import_file())
    assert res.out.strip() == "created 4, modified 0, skipped 1", res.out + res.err
    assert len(members(alice, rel)) == 4

    # a valid file from disk: exit 0; the dry run now sees modifications
    good = ics(*(HEAD + TZ + master() + override() + ["END:VCALENDAR"]))
    path = Path(tempfile.mkdtemp()) / "good.ics"
    path.write_bytes(good)
    os.chmod(path.parent, 0o755)
    res = ctl("import", name, path, "--dry-run")
    assert (res.returncode, res.out.strip()) == (0, "created 0, modified 1, skipped 0"), res.err
    res = ctl("import", name, path)
    assert (res.returncode, res.out.strip()) == (0, "created 0, modified 1, skipped 0"), res.err
    shutil.rmtree(path.parent)

    # a calendar that does not exist, and a component the calendar does not take
    res = ctl("import", "alice/nosuchcalendar", "-", stdin=import_file())
    assert res.returncode == 1 and "no calendar" in res.err
    events_only = "calendars/alice/events-%s/" % uuid.uuid4().hex[:6]
    r = alice.mkcalendar(events_only, (
        '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
        '</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>').encode())
    assert r.status_code == 201
    res = ctl("import", "alice/" + events_only.split("/")[2], "-", stdin=import_file())
    assert res.out.strip() == "created 3, modified 0, skipped 2", res.out + res.err
    assert "supported-calendar-component" in res.err


# --- export ---------------------------------------------------------------------------------


def test_export_by_uid_range_and_calendar(ctl, alice):
    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    res = ctl("import", name, "-", stdin=import_file(with_new=True))
    assert res.out.strip() == "created 5, modified 0, skipped 1", res.out + res.err

    # by UID: exactly the stored object's components
    res = ctl("export", name, "--uid", "weekly@ctl.test")
    assert res.returncode == 0, res.err
    got = components(res.out)
    stored = components(alice.get(rel + "weekly@ctl.test.ics").text)
    assert set(got) == set(stored)
    for key in stored:
        assert_ical_equal(got[key], stored[key], "export --uid %s" % (key,))
    assert ctl("export", name, "--uid", "nobody@ctl.test").returncode == 1

    # by range: what calendar-query finds for the same range, nothing else
    res = ctl("export", name, "--start", "20240301T000000Z", "--end", "20240302T000000Z")
    assert res.returncode == 0, res.err
    assert set(components(res.out)) == {("VEVENT", "single@ctl.test", None)}
    res = ctl("export", name, "--start", "20240115T100000Z", "--end", "20240115T103000Z")
    assert set(components(res.out)) == {("VTIMEZONE", "Europe/Berlin", None),
                                       ("VEVENT", "weekly@ctl.test", None),
                                       ("VEVENT", "weekly@ctl.test", "20240115T090000")}
    res = ctl("export", name, "--start", "20240115T080000Z", "--end", "20240115T083000Z")
    assert set(components(res.out)) == set()

    # the whole calendar: every object's components, the VTIMEZONE once
    # (two objects use it); all of alice's calendars include it
    res = ctl("export", name)
    whole = components(res.out)
    assert len([k for k in whole if k[0] == "VTIMEZONE"]) == 1
    assert len([k for k in whole if k[0] in ("VEVENT", "VTODO")]) == 6
    for member in members(alice, rel):
        for key, comp in components(alice.get(rel + member).text).items():
            assert_ical_equal(whole[key], comp, "export of %s" % member)
    # (every calendar's objects: the other tests imported the same UIDs)
    res = ctl("export", "alice")
    assert res.returncode == 0
    keys = [(c.name, c.value("UID") or c.value("TZID"), c.value("RECURRENCE-ID"))
            for c in ical_parse(res.out).comps]
    assert set(whole) <= set(keys)
    assert keys.count(("VTIMEZONE", "Europe/Berlin", None)) == 1

    # and the export imports again, as the same objects
    other = new_calendar(alice)
    res = ctl("import", "alice/" + other.split("/")[2], "-",
              stdin=ctl("export", name).stdout)
    assert res.out.strip() == "created 5, modified 0, skipped 0", res.out + res.err
    assert set(members(alice, other)) == set(members(alice, rel))


# --- delete, list, verify ---------------------------------------------------------------------------


def test_delete_list_verify(ctl, alice):
    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    assert ctl("import", name, "-", stdin=import_file()).returncode == 1
    rev = revision(alice, rel)

    res = ctl("delete", name, "--uid", "single@ctl.test")
    assert res.returncode == 0, res.err
    assert alice.get(rel + "single@ctl.test.ics").status_code == 404
    res = ctl("delete", name, "--href", alice.path(rel) + "todo%40ctl.test.ics")
    assert res.returncode == 0, res.err
    assert alice.get(rel + "todo@ctl.test.ics").status_code == 404
    assert revision(alice, rel) == rev + 2
    assert ctl("delete", name, "--uid", "single@ctl.test").returncode == 1
    assert ctl("delete", name, "--href", "nothing.ics").returncode == 1
    assert set(members(alice, rel)) - {"weekly@ctl.test.ics"} == {
        n for n in members(alice, rel) if n.startswith("caldavctl-")}

    res = ctl("list")
    assert res.returncode == 0
    assert any(line.split()[0] == "alice" for line in res.out.splitlines()[1:]), res.out
    res = ctl("list", "alice")
    rows = {line.split()[0]: line.split() for line in res.out.splitlines()[1:]}
    assert rows[rel.split("/")[2]][1] == "2"                 # objects
    assert rows[rel.split("/")[2]][2] == str(rev + 2)        # the revision (ctag)
    res = ctl("list", name)
    rows = {line.split()[0]: line.split() for line in res.out.splitlines()[1:]}
    assert rows["weekly@ctl.test.ics"][1] == "VEVENT"
    assert rows["weekly@ctl.test.ics"][-1] == "weekly@ctl.test"
    assert rows["weekly@ctl.test.ics"][2] == alice.get(rel + "weekly@ctl.test.ics").headers["ETag"]

    res = ctl("verify")
    assert res.returncode == 0, res.out + res.err
    assert "consistent" in res.out
    # db_verify only when nobody has the store open: httpd does
    res = ctl("verify", "--offline")
    assert res.returncode == 1 and "stop it first" in res.err


# --- backup and restore ----------------------------------------------------------------------------


def test_backup_restore_serves_the_same(ctl, alice, ctl_server, bob_calendar, servers,
                                       tmp_path):
    rel = new_calendar(alice, "restored-%s" % uuid.uuid4().hex[:6])
    name = "alice/" + rel.split("/")[2]
    assert ctl("import", name, "-", stdin=import_file(with_new=True)).returncode == 1
    expected = {}
    for member, etag in members(alice, rel).items():
        r = alice.get(rel + member)
        expected[member] = (etag, r.content)

    work = Path(tempfile.mkdtemp(prefix="caldavctl-backup-"))
    os.chmod(work, 0o755)
    try:
        backup = work / "backup"
        with Load(ctl_server, bob_calendar) as load:
            res = ctl("backup", backup)
        assert res.returncode == 0, res.err
        assert load.puts > 0
        assert_files_owned_like_store(ctl_server.store)
        assert ctl("backup", backup).returncode == 1          # not empty

        # a fresh server directory, its store made from the backup
        var = work / "var"
        var.mkdir()
        res = ctl("restore", backup, store=var / "store")
        assert res.returncode == 0, res.out + res.err
        assert ctl("restore", backup, store=var / "store").returncode == 1   # not empty
        res = ctl("verify", "--offline", store=var / "store")
        assert res.returncode == 0, res.out + res.err

        second = devserver.Server(var=var, port=devserver.free_port(),
                                  module=ctl_server.module, provider="caldav",
                                  mpm=ctl_server.mpm, san=ctl_server.san)
        devserver.start(second)
        try:
            # the running server's store cannot be replaced, not even with --force
            res = ctl("restore", backup, "--force", store=second.store)
            assert res.returncode == 1 and "stop it first" in res.err

            alice2 = Dav(second.base_url, auth=("alice", "alice"))
            assert members(alice2, rel) == {m: e for m, (e, _) in expected.items()}
            for member, (etag, body) in expected.items():
                r = alice2.get(rel + member)
                assert (r.status_code, r.headers["ETag"], r.content) == (200, etag, body)
            assert set(query_names(alice2, rel, "VEVENT", "20240115T100000Z",
                                   "20240115T103000Z")) == {"weekly@ctl.test.ics"}
            # what the writer had stored when the backup was taken: each
            # object there is the original's (a prefix of the load)
            bob2 = Dav(second.base_url, auth=("bob", "bob"))
            bob1 = Dav(ctl_server.base_url, auth=("bob", "bob"))
            restored, original = members(bob2, bob_calendar), members(bob1, bob_calendar)
            assert restored and set(restored) <= set(original)
            for member in restored:
                assert restored[member] == original[member]
            # the restored store takes writes
            r = alice2.put_ics(rel + "after.ics", crlf(
                ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT",
                 "UID:after@ctl.test", "DTSTAMP:20240101T000000Z",
                 "DTSTART:20240801T100000Z", "SUMMARY:after", "END:VEVENT",
                 "END:VCALENDAR"]))
            assert r.status_code == 201
            for c in (alice2, bob1, bob2):
                c.session.close()

            # stopped: a damaged index is found
            assert devserver.stop(second) == "clean"
            if shutil.which("db5.3_load"):
                store = var / "store"
                # a time-range entry of an object that does not exist (id 1
                # is the root, no calendar): the check must report it
                key = "0000000000000001" + "8000000065000000" + "7fffffffffffff01"
                res = subprocess.run(["db5.3_load", "-h", str(store), "-t", "btree",
                                      "tr.db"],
                                     input=("VERSION=3\nformat=bytevalue\ntype=btree\n"
                                            "HEADER=END\n %s\n %s\nDATA=END\n"
                                            % (key, "0000000065000e10" + "01")).encode(),
                                     capture_output=True)
                assert res.returncode == 0, res.stderr
                res = ctl("verify", store=store)
                assert res.returncode == 1, res.out + res.err
                assert "problem(s) found" in res.out, res.out
        finally:
            problems = servers.finish(second)
        assert not problems, problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- import --map, export --format jcal|xcal ----------------------------------------------

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_MAP = REPO / "conf" / "import-map.example"


def test_import_with_map(ctl, alice, tmp_path):
    """The Oracle-style export with the example map: the objects caldavctl
    stores are byte for byte those a POST import stores (test_import.py)."""
    from test_import import ORACLE, ORACLE_ADDED, oracle_expectations

    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    res = ctl("import", name, ORACLE, "--map", EXAMPLE_MAP)
    assert res.out.strip() == "created 6, modified 0, skipped 1", res.out + res.err
    assert "valid-calendar-data: VEVENT: DTEND is before DTSTART" in res.err
    got = members(alice, rel)
    note = [n for n in got if n.startswith("caldavctl-")]
    assert len(note) == 1
    exp = oracle_expectations(ORACLE.read_bytes(), note[0])
    assert set(got) == set(exp)
    for member, text in exp.items():
        assert alice.get(rel + member).content == text, member
    # without the map: the file's bytes only (no SUMMARY added)
    plain = new_calendar(alice)
    res = ctl("import", "alice/" + plain.split("/")[2], ORACLE)
    assert res.out.strip() == "created 6, modified 0, skipped 1", res.out + res.err
    some = sorted(ORACLE_ADDED)[0] + ".ics"
    assert b"(no title)" not in alice.get(plain + some).content

    # a map with a mistake: a usage error naming the line, nothing imported
    bad = tmp_path / "bad.map"
    bad.write_text('alias X-A SUMMARY\ndefault VEVNT SUMMARY "x"\n')
    res = ctl("import", name, ORACLE, "--map", bad)
    assert res.returncode == 2
    assert "%s: line 2: unknown component VEVNT" % bad in res.err, res.err
    res = ctl("import", name, ORACLE, "--map", tmp_path / "missing.map")
    assert res.returncode == 2 and "cannot read" in res.err


def jcal_of(alice, rel, member):
    r = alice.get(rel + member, headers={"Accept": "application/calendar+json"})
    assert r.status_code == 200
    return json.loads(r.content)


def xcal_of(alice, rel, member):
    r = alice.get(rel + member, headers={"Accept": "application/calendar+xml"})
    assert r.status_code == 200
    return ET.fromstring(r.content)


XCAL = "{urn:ietf:params:xml:ns:icalendar-2.0}"


def test_export_jcal_and_xcal(ctl, alice):
    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    res = ctl("import", name, "-", stdin=import_file(with_new=True))
    assert res.out.strip() == "created 5, modified 0, skipped 1", res.out + res.err
    objects = members(alice, rel)

    # jCal: one vcalendar; its components are those of the objects as the
    # server gives them in jCal, every VTIMEZONE once
    res = ctl("export", name, "--format", "jcal")
    assert res.returncode == 0, res.err
    doc = json.loads(res.stdout)
    assert doc[0] == "vcalendar"
    props = {p[0]: p[3] for p in doc[1]}
    assert props["version"] == "2.0" and props["calscale"] == "GREGORIAN"
    want = []
    for member in objects:
        for comp in jcal_of(alice, rel, member)[2]:
            if comp not in want:
                want.append(comp)
    assert sorted(json.dumps(c) for c in doc[2]) == sorted(json.dumps(c) for c in want)
    assert [c[0] for c in doc[2]].count("vtimezone") == 1
    assert doc[2][0][0] == "vtimezone"

    # by UID, without a VTIMEZONE: still well-formed
    res = ctl("export", name, "--format", "jcal", "--uid", "single@ctl.test")
    doc = json.loads(res.stdout)
    assert doc[2] == jcal_of(alice, rel, "single@ctl.test.ics")[2]
    res = ctl("export", name, "--format", "jcal", "--uid", "weekly@ctl.test")
    assert json.loads(res.stdout)[2] == jcal_of(alice, rel, "weekly@ctl.test.ics")[2]

    # xCal likewise
    res = ctl("export", name, "--format", "xcal")
    assert res.returncode == 0, res.err
    root = ET.fromstring(res.stdout)
    assert root.tag == XCAL + "icalendar"
    (vcal,) = root
    comps = vcal.find(XCAL + "components")
    got = sorted(repr(canon(c)) for c in comps)
    want = []
    for member in objects:
        for c in xcal_of(alice, rel, member).find(XCAL + "vcalendar").find(
                XCAL + "components"):
            if repr(canon(c)) not in want:
                want.append(repr(canon(c)))
    assert got == sorted(want)
    assert [c.tag for c in comps].count(XCAL + "vtimezone") == 1

    assert ctl("export", name, "--format", "vcard").returncode == 2


def feed_text(*events):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//remote//feed//EN\r\n"
            + "".join("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
                      "DTSTART:20240610T090000Z\r\nDURATION:PT1H\r\nSUMMARY:%s\r\n"
                      "END:VEVENT\r\n" % e for e in events)
            + "END:VCALENDAR\r\n").encode()


def test_subscribe_and_refresh(ctl, alice, ctl_server):
    """subscribe mirrors a remote .ics (fetched by the tool over HTTP) into a
    calendar and remembers the URL; refresh updates by UID and removes what
    disappeared; a feed that cannot be fetched or holds nothing changes
    nothing."""
    tag = uuid.uuid4().hex[:8]
    htdocs = Path(ctl_server.var) / "htdocs"
    feed = htdocs / ("feed-%s.ics" % tag)
    url = ctl_server.base_url.split("/dav/")[0] + "/" + feed.name
    cal = "calendars/alice/subs-%s/" % tag

    def uid_summaries():
        out = {}
        for name in members(alice, cal):
            text = alice.get(cal + name).text
            uid = re.search(r"\r\nUID:([^\r]*)", text).group(1)
            out[uid] = re.search(r"\r\nSUMMARY:([^\r]*)", text).group(1)
        return out

    feed.write_bytes(feed_text(("s1-" + tag, "one"), ("s2-" + tag, "two"),
                               ("s3-" + tag, "three")))
    res = ctl("subscribe", url, "alice/" + cal.split("/")[2])
    assert res.returncode == 0, res.err
    assert res.out.strip() == "created 3, modified 0, removed 0, skipped 0"
    assert uid_summaries() == {"s1-" + tag: "one", "s2-" + tag: "two",
                               "s3-" + tag: "three"}
    # the calendar is a calendar, served over HTTP at once
    assert alice.report(cal, calendar_query_all()).status_code == 207

    feed.write_bytes(feed_text(("s1-" + tag, "one, changed"), ("s3-" + tag, "three"),
                               ("s4-" + tag, "four")))
    res = ctl("refresh", "alice/" + cal.split("/")[2])
    assert res.returncode == 0, res.err
    assert res.out.strip() == "created 1, modified 2, removed 1, skipped 0"
    assert uid_summaries() == {"s1-" + tag: "one, changed", "s3-" + tag: "three",
                               "s4-" + tag: "four"}

    # the remote end fails: nothing changes
    before = uid_summaries()
    feed.unlink()
    res = ctl("refresh", "alice/" + cal.split("/")[2])
    assert res.returncode == 1 and "cannot fetch" in res.err, res.err
    assert uid_summaries() == before
    feed.write_bytes(b"<html>maintenance</html>")
    res = ctl("refresh", "alice/" + cal.split("/")[2])
    assert res.returncode == 1 and "nothing was removed" in res.err, res.err
    assert uid_summaries() == before

    # other errors
    res = ctl("refresh", "alice/calendar")
    assert res.returncode == 1 and "not subscribed" in res.err
    res = ctl("subscribe", "ftp://example.org/x.ics", "alice/other-" + tag)
    assert res.returncode == 1 and "only http:// and https://" in res.err
    assert ctl("subscribe", url).returncode == 2


def calendar_query_all():
    return ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter>'
            "</C:calendar-query>").encode()


def test_import_rfc5545_examples(ctl, alice):
    """The RFC 5545 section 4 examples through caldavctl: the same outcome as
    a POST of them into a calendar of events, to-dos and journals
    (test_import.py): the three events and the journal entry stored with
    their bytes, the to-do (TRIGGER without VALUE=DATE-TIME) and the busy
    time (not a component of this calendar) refused with the reason; a
    second import modifies."""
    from test_import import RFC_FILES, expected

    rel = new_calendar(alice)
    name = "alice/" + rel.split("/")[2]
    data = b"".join(f.read_bytes() for f in RFC_FILES)
    res = ctl("import", name, "-", stdin=data)
    assert res.returncode == 1
    assert res.out.strip() == "created 4, modified 0, skipped 2", res.out + res.err
    assert "skipped UID uid4@example.com (line 83): valid-calendar-data" in res.err
    assert ("skipped VFREEBUSY without UID (line 128): supported-calendar-component"
            in res.err)
    assert set(members(alice, rel)) == {"uid1@example.com.ics", "guid-1.example.com.ics",
                                        "uid3@example.com.ics", "uid5@example.com.ics"}
    assert alice.get(rel + "uid1@example.com.ics").content == expected(
        (RFC_FILES[0]).read_bytes(), "uid1@example.com")
    res = ctl("import", name, "-", stdin=data)
    assert res.out.strip() == "created 0, modified 4, skipped 2", res.out + res.err
