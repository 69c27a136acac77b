"""cadaver (the Debian package) as a real WebDAV client of a calendar.

cadaver reads its commands from stdin when it is not a terminal; alice's
credentials come from ~/.netrc in a temporary HOME (see cadaver(1), "THE
.netrc FILE"), so nothing is prompted.  It runs with a timeout; its output
is part of every assertion message.

In alice's default calendar /dav/calendars/alice/calendar/ (on a server of
this module's own, so the listing is exact):
`ls` lists an object PUT before (with its size), `put` of a local .ics
creates an object the server then returns byte for byte, `get` downloads
exactly the bytes that were PUT.
"""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from davclient import Dav

pytestmark = pytest.mark.caldav_only

TIMEOUT = 60
CAL = "calendars/alice/calendar/"


@pytest.fixture(scope="module")
def own_server(servers, request):
    """A server of this module's own: what it creates in alice's home does
    not show in the listings other test files assert."""
    with servers.own("cadaver", request) as srv:
        yield srv


@pytest.fixture
def alice(own_server):
    client = Dav(own_server.base_url, auth=("alice", "alice"))
    yield client
    client.session.close()


def cadaver_binary():
    path = shutil.which("cadaver")
    if not path:
        pytest.fail("cadaver is not installed (Debian package cadaver; "
                    "scripts/deps.sh, run by make test, installs it)", pytrace=False)
    return path


def event(uid, summary):
    # folded line, non-ASCII text and CRLF: all must survive unchanged
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mod_caldav//cadaver test//EN\r\n"
            "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240710T090000Z\r\nDTEND:20240710T100000Z\r\n"
            "SUMMARY:%s\r\nDESCRIPTION:a description long enough to be folded by \r\n"
            " the writer: caf\u00e9 \u2013 na\u00efve\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n" % (uid, summary)).encode("utf-8")


def run_cadaver(tmp_path, url, commands):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin alice\npassword alice\n")
    netrc.chmod(0o600)
    env = dict(os.environ, HOME=str(home), LC_ALL="C.UTF-8", LANG="C.UTF-8")
    script = "".join(c + "\n" for c in commands + ["quit"])
    cmd = [cadaver_binary(), url]
    try:
        res = subprocess.run(cmd, input=script, capture_output=True, text=True,
                             timeout=TIMEOUT, env=env, cwd=str(tmp_path))
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s: no answer within %d s (a prompt?)\n%s\n%s" % (
            " ".join(cmd), TIMEOUT, e.stdout, e.stderr), pytrace=False)
    out = "$ cadaver %s <<EOF\n%sEOF\n-> %d\n%s%s" % (url, script, res.returncode,
                                                      res.stdout, res.stderr)
    assert res.returncode == 0, "cadaver failed:\n" + out
    assert "Could not" not in res.stdout + res.stderr, out
    return res.stdout + res.stderr, out


def test_cadaver_ls_put_get(alice, tmp_path):
    dav = alice
    tag = uuid.uuid4().hex[:10]
    before_name = "cadaver-before-%s.ics" % tag
    before = event("cadaver-before-%s" % tag, "PUT before cadaver")
    r = dav.put(CAL + before_name, before, "text/calendar")
    assert r.status_code == 201, (r.status_code, r.text[:300])

    put_name = "cadaver-put-%s.ics" % tag
    upload = event("cadaver-put-%s" % tag, "uploaded by cadaver")
    (tmp_path / put_name).write_bytes(upload)
    got_name = "downloaded-%s.ics" % tag

    text, out = run_cadaver(tmp_path, dav.url(CAL), [
        "ls",
        "put %s" % put_name,
        "get %s %s" % (before_name, got_name),
    ])

    # one chunk of output per command, split at the prompt
    prompt = "dav:%s> " % dav.path(CAL)
    chunks = text.split(prompt)
    assert len(chunks) == 5, "expected 4 prompts:\n" + out
    ls, put, get = chunks[1], chunks[2], chunks[3]

    # ls: exactly the object PUT before, with its size
    lines = ls.splitlines()
    assert lines[:2] == ["ls", "Listing collection `%s': succeeded." % dav.path(CAL)], out
    assert len(lines) == 3, "ls listed other than one object:\n" + out
    assert re.match(r"^\s+%s\s+%d\s+\w{3}\s+\d+\s+[\d:]+$" % (re.escape(before_name), len(before)),
                    lines[2]), "ls line %r (expected %s, size %d)\n%s" % (
        lines[2], before_name, len(before), out)

    # put: the server has exactly the bytes of the local file
    assert re.match(r"^put %s\nUploading %s to `%s': \[\.*\]? succeeded\.\n$" % (
        re.escape(put_name), re.escape(put_name), re.escape(dav.path(CAL + put_name))),
        put), out
    g = dav.get(CAL + put_name)
    assert g.status_code == 200, (g.status_code, out)
    assert g.content == upload, "PUT by cadaver stored other bytes:\n%r\n%s" % (g.content, out)
    # and it is a calendar object resource like any other (found by UID)
    mg = dav.report(CAL, (
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name=\"VCALENDAR\">"
        '<C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match '
        'collation="i;octet">cadaver-put-%s</C:text-match></C:prop-filter>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>" % tag).encode(),
        depth="1")
    assert mg.status_code == 207 and put_name in mg.text, (mg.status_code, mg.text[:600])

    # get: identical bytes
    assert re.match(r"^get %s %s\nDownloading `%s' to %s: \[\.*\]? succeeded\.\n$" % (
        re.escape(before_name), re.escape(got_name), re.escape(dav.path(CAL + before_name)),
        re.escape(got_name)), get), out
    assert (tmp_path / got_name).read_bytes() == before, out
