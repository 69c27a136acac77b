"""vdirsyncer (the Debian package) synchronising a local folder with a
calendar on the server, in both directions.

Storage A is a vdir (type filesystem, one .ics file per item), storage B is
alice's calendar home (type caldav) on a server of this module's own; the
pair syncs one calendar made for this test, found by vdirsyncer's own
discovery (current-user-principal -> calendar-home-set -> the home's
calendars).  vdirsyncer runs with stdin
closed and a timeout, so a prompt (e.g. "create the collection?") fails the
test instead of hanging it; its output is part of every assertion message.

Scenario, with both sides compared completely after every sync (same UIDs,
the expected SUMMARY of each, the same bytes):
create 3 locally, create 2 on the server, modify locally, modify on the
server, delete locally, delete on the server.
"""

import os
import shutil
import subprocess
import uuid

import pytest

from davclient import Dav, calendar_data, calendar_multiget, ical_parse, multistatus

pytestmark = pytest.mark.caldav_only

TIMEOUT = 120


@pytest.fixture(scope="module")
def own_server(servers, request):
    """A server of this module's own: what it creates in alice's home does
    not show in the listings other test files assert."""
    with servers.own("vdirsyncer", request) as srv:
        yield srv


@pytest.fixture
def alice(own_server):
    client = Dav(own_server.base_url, auth=("alice", "alice"))
    yield client
    client.session.close()


def vdirsyncer_binary():
    path = shutil.which("vdirsyncer")
    if not path:
        pytest.fail("vdirsyncer is not installed (Debian package vdirsyncer; "
                    "scripts/deps.sh, run by make test, installs it)", pytrace=False)
    return path


def event(uid, summary, start="20240610T090000Z", end="20240610T100000Z"):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mod_caldav//vdirsyncer test//EN\r\n"
            "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (uid, start, end, summary)).encode()


def item_uid_summary(data):
    vevent, = ical_parse(data).sub("VEVENT")
    return vevent.value("UID"), vevent.value("SUMMARY")


class Sync:
    """One vdirsyncer configuration: a vdir <-> one calendar of alice's."""

    def __init__(self, tmp, server, dav, calname):
        self.bin = vdirsyncer_binary()
        self.tmp = tmp
        self.dav = dav
        self.cal = "calendars/alice/%s/" % calname
        self.local = tmp / "local" / calname        # the vdir of the collection
        self.local.mkdir(parents=True)
        (tmp / "status").mkdir()
        (tmp / "home").mkdir()
        self.conf = tmp / "config"
        self.conf.write_text(
            '[general]\n'
            'status_path = "%s/"\n\n'
            '[pair cal]\n'
            'a = "local"\n'
            'b = "server"\n'
            'collections = ["%s"]\n\n'
            '[storage local]\n'
            'type = "filesystem"\n'
            'path = "%s/"\n'
            'fileext = ".ics"\n\n'
            '[storage server]\n'
            'type = "caldav"\n'
            'url = "%scalendars/alice/"\n'
            'username = "alice"\n'
            'password = "alice"\n'
            % (tmp / "status", calname, tmp / "local", server.base_url))
        self.log = []

    def run(self, *args):
        env = dict(os.environ, HOME=str(self.tmp / "home"), LC_ALL="C.UTF-8",
                   LANG="C.UTF-8")
        env.pop("XDG_CONFIG_HOME", None)
        cmd = [self.bin, "-c", str(self.conf)] + list(args)
        try:
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=TIMEOUT, env=env)
        except subprocess.TimeoutExpired as e:
            pytest.fail("%s: no answer within %d s\n%s\n%s" % (
                " ".join(cmd), TIMEOUT, e.stdout, e.stderr), pytrace=False)
        self.log.append("$ vdirsyncer %s -> %d\n%s%s" % (" ".join(args), res.returncode,
                                                        res.stdout, res.stderr))
        assert res.returncode == 0, "vdirsyncer %s failed:\n%s" % (
            " ".join(args), self.output())
        return res

    def output(self):
        return "\n".join(self.log[-3:])

    def sync(self):
        self.run("sync")

    # --- the two sides ----------------------------------------------------
    def server_items(self):
        """{uid: bytes} of the calendar's members (one event each)."""
        ms = multistatus(self.dav.propfind(self.cal, [("DAV:", "getetag")], depth="1"))
        out = {}
        for path in ms.paths():
            if path == self.dav.path(self.cal):
                continue
            g = self.dav.get(path[len(self.dav.root):])
            assert g.status_code == 200, (path, g.status_code)
            uid, _ = item_uid_summary(g.content)
            assert uid not in out, "UID %s twice on the server" % uid
            out[uid] = g.content
        return out

    def local_items(self):
        out = {}
        for f in sorted(self.local.iterdir()):
            assert f.suffix == ".ics", "unexpected local file %s" % f
            data = f.read_bytes()
            uid, _ = item_uid_summary(data)
            assert uid not in out, "UID %s twice locally" % uid
            out[uid] = data
        return out

    def server_href(self, uid):
        ms = multistatus(self.dav.propfind(self.cal, [("DAV:", "getetag")], depth="1"))
        for path in ms.paths():
            if path == self.dav.path(self.cal):
                continue
            g = self.dav.get(path[len(self.dav.root):])
            if item_uid_summary(g.content)[0] == uid:
                return path[len(self.dav.root):]
        raise AssertionError("UID %s not on the server" % uid)

    def local_file(self, uid):
        for f in self.local.iterdir():
            if item_uid_summary(f.read_bytes())[0] == uid:
                return f
        raise AssertionError("UID %s not in %s" % (uid, self.local))

    def check(self, want, step):
        """Both sides hold exactly want {uid: summary}, alike byte for byte.

        What vdirsyncer uploads is stored exactly; what it downloads comes
        from C:calendar-data in a multiget, whose CRs are sent as &#13; so
        that the XML parser keeps them: the local copy is the server's
        bytes (see test_multiget_calendar_data_is_the_stored_bytes)."""
        server, local = self.server_items(), self.local_items()
        ctx = "after %s\n%s" % (step, self.output())
        assert sorted(server) == sorted(want), "server UIDs %s, expected %s; %s" % (
            sorted(server), sorted(want), ctx)
        assert sorted(local) == sorted(want), "local UIDs %s, expected %s; %s" % (
            sorted(local), sorted(want), ctx)
        for uid, summary in want.items():
            assert item_uid_summary(server[uid])[1] == summary, (
                "server %s: SUMMARY %r, expected %r; %s" % (
                    uid, item_uid_summary(server[uid])[1], summary, ctx))
            assert local[uid] == server[uid], (
                "%s differs:\n local: %r\nserver: %r\n%s" % (uid, local[uid], server[uid], ctx))


def write_atomically(path, data):
    tmp = path.with_name(path.name + ".tmp-edit")
    tmp.write_bytes(data)
    os.replace(tmp, path)          # a new inode: vdirsyncer's etag changes


def test_vdirsyncer_two_way_sync(own_server, alice, tmp_path):
    server, dav = own_server, alice
    tag = uuid.uuid4().hex[:10]
    calname = "vds-%s" % tag
    r = dav.mkcalendar("calendars/alice/%s/" % calname)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    s = Sync(tmp_path, server, dav, calname)

    out = s.run("discover").stdout + s.log[-1]
    # discovery through alice's principal and home found her two calendars;
    # nothing had to be created (that would have prompted)
    lines = s.log[-1].splitlines()
    assert "server:" in lines, s.output()
    listed = []
    for line in lines[lines.index("server:") + 1:]:
        if not line.startswith("  - "):
            break
        listed.append(line[4:])
    assert sorted(listed) == sorted(['"calendar" ("Calendar")', '"%s"' % calname]), s.output()
    assert 'Saved for cal: collections = ["%s"]' % calname in out, s.output()
    s.sync()
    s.check({}, "the first (empty) sync")

    # 1. three events created locally reach the server
    want = {}
    for i in range(1, 4):
        uid = "vds-%s-local%d" % (tag, i)
        want[uid] = "Local event %d" % i
        (s.local / (uid + ".ics")).write_bytes(
            event(uid, want[uid], "2024061%dT090000Z" % i, "2024061%dT100000Z" % i))
    s.sync()
    s.check(want, "creating 3 events locally")

    # 2. two events PUT on the server reach the folder
    for i in range(1, 3):
        uid = "vds-%s-server%d" % (tag, i)
        want[uid] = "Server event %d" % i
        r = dav.put("calendars/alice/%s/server-%d.ics" % (calname, i),
                    event(uid, want[uid], "2024062%dT090000Z" % i, "2024062%dT100000Z" % i),
                    "text/calendar", {"If-None-Match": "*"})
        assert r.status_code == 201, (r.status_code, r.text[:300])
    s.sync()
    s.check(want, "creating 2 events on the server")
    assert sorted(f.name for f in s.local.iterdir()) == sorted(u + ".ics" for u in want)

    # 3. an event modified locally is modified on the server
    uid = "vds-%s-local2" % tag
    want[uid] = "Local event 2, moved by the local side"
    write_atomically(s.local_file(uid),
                     event(uid, want[uid], "20240612T140000Z", "20240612T150000Z"))
    before = dav.get(s.server_href(uid)).headers["ETag"]
    s.sync()
    s.check(want, "modifying an event locally")
    g = dav.get(s.server_href(uid))
    assert g.headers["ETag"] != before
    assert g.content == event(uid, want[uid], "20240612T140000Z", "20240612T150000Z")

    # 4. an event modified on the server is modified locally
    uid = "vds-%s-server1" % tag
    href = s.server_href(uid)
    etag = dav.get(href).headers["ETag"]
    want[uid] = "Server event 1, changed on the server"
    r = dav.put(href, event(uid, want[uid], "20240621T120000Z", "20240621T130000Z"),
                "text/calendar", {"If-Match": etag})
    assert r.status_code == 204, (r.status_code, r.text[:300])
    s.sync()
    s.check(want, "modifying an event on the server")
    assert s.local_file(uid).read_bytes() in (
        event(uid, want[uid], "20240621T120000Z", "20240621T130000Z"),
        event(uid, want[uid], "20240621T120000Z", "20240621T130000Z").replace(b"\r\n", b"\n"))

    # 5. an event deleted locally is deleted on the server
    uid = "vds-%s-local1" % tag
    href = s.server_href(uid)
    s.local_file(uid).unlink()
    del want[uid]
    s.sync()
    s.check(want, "deleting an event locally")
    assert dav.get(href).status_code == 404

    # 6. an event deleted on the server is deleted locally
    uid = "vds-%s-server2" % tag
    path = s.local_file(uid)
    r = dav.delete(s.server_href(uid))
    assert r.status_code == 204, r.status_code
    del want[uid]
    s.sync()
    s.check(want, "deleting an event on the server")
    assert not path.exists()
    assert len(want) == 3

    # a sync without changes changes nothing
    before = {u: dav.get(s.server_href(u)).headers["ETag"] for u in want}
    s.sync()
    s.check(want, "a sync without changes")
    assert {u: dav.get(s.server_href(u)).headers["ETag"] for u in want} == before


def test_multiget_calendar_data_is_the_stored_bytes(alice):
    """The calendar-data a sync client downloads is what GET returns."""
    dav = alice
    tag = uuid.uuid4().hex[:10]
    cal = "calendars/alice/vds-crlf-%s/" % tag
    assert dav.mkcalendar(cal).status_code == 201
    data = event("vds-crlf-%s" % tag, "CRLF line ends")
    assert dav.put(cal + "a.ics", data, "text/calendar").status_code == 201
    assert dav.get(cal + "a.ics").content == data
    r = dav.report(cal, calendar_multiget([dav.path(cal + "a.ics")]), depth="1")
    got = calendar_data(multistatus(r)[dav.path(cal + "a.ics")])
    assert got.encode("utf-8") == data, "calendar-data %r, GET %r" % (got, data)
