"""Store directives that need the environment recreated: CalDAVCacheSize."""

import re
import subprocess
import uuid

import pytest

import devserver
from davclient import Dav

pytestmark = pytest.mark.caldav_only

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
         "UID:cache-%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\n"
         "SUMMARY:kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def cache_mb(store):
    """The cache size the environment in 'store' has, in MB (db5.3_stat)."""
    out = subprocess.run(["db5.3_stat", "-h", str(store), "-m"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"^(\d+)MB\s.*Total cache size", out, re.M)
    assert m, out[:400]
    return int(m.group(1))


def put_event(srv):
    """PUT a new event into alice's default calendar; (path, body)."""
    dav = Dav(srv.base_url, auth=("alice", "alice"))
    uid = uuid.uuid4().hex
    body = (EVENT % uid).encode()
    path = "calendars/alice/calendar/%s.ics" % uid
    assert dav.put(path, body, content_type="text/calendar").status_code == 201
    dav.session.close()
    return path, body


def served(srv, path):
    """The body GET returns for 'path' (asserting a 200)."""
    dav = Dav(srv.base_url, auth=("alice", "alice"))
    r = dav.get(path)
    dav.session.close()
    assert r.status_code == 200
    return r.content


def test_cache_size_change_takes_effect_at_restart(servers, request):
    """The region files keep the cache size they were created with; httpd's
    parent recreates them when CalDAVCacheSize changed, and the data stays."""
    with servers.own("cache", request, extra="CalDAVCacheSize 8M\n") as srv:
        path, body = put_event(srv)
        assert cache_mb(srv.store) == 10            # 8 MB + Berkeley DB's 25%

        devserver.stop(srv)
        srv.extra = "CalDAVCacheSize 24M\n"
        devserver.start(srv)
        assert cache_mb(srv.store) == 30
        assert served(srv, path) == body

        # the same size again: the regions are kept (same size, no notice)
        devserver.stop(srv)
        devserver.start(srv)
        assert cache_mb(srv.store) == 30


def test_store_of_unknown_format_is_refused_and_kept(servers, request):
    """A store whose format this build neither reads nor upgrades: httpd does
    not start, the error log says which format and what this build reads (no
    "APR does not understand this error code"), and nothing is changed: with
    its format record back, the store opens with its data."""
    with servers.own("format", request) as srv:
        path, body = put_event(srv)
        devserver.stop(srv)

        def set_format(old, new):
            dump = subprocess.run(["db5.3_dump", "-p", "-h", str(srv.store), "meta.db"],
                                  capture_output=True, text=True, check=True).stdout
            rec = " format\n %s\n"
            assert rec % old in dump, dump
            subprocess.run(["db5.3_load", "-h", str(srv.store), "meta.db"],
                           input=dump.replace(rec % old, rec % new), text=True, check=True)

        set_format("\\00\\00\\00\\08", "\\00\\00\\00c")             # 8 -> 99
        with pytest.raises(devserver.ServerError):
            devserver.start(srv)
        log = srv.error_log.read_text(errors="replace")
        assert ("unknown store format 99 (this build reads format 8 and upgrades "
                "formats 5 to 7)") in log
        assert "cannot open or recover the store: store was written in an unknown " \
               "format version" in log
        assert "does not understand" not in log

        set_format("\\00\\00\\00c", "\\00\\00\\00\\08")
        devserver.start(srv)
        assert served(srv, path) == body
