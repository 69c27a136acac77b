"""HTTP tests against a real httpd (pytest).

    /usr/bin/python3 -m pytest -q tests/http --module build/mod_caldav.so
    /usr/bin/python3 -m pytest -q tests/http --provider fs      # validate the tests
    /usr/bin/python3 -m pytest -q tests/http -m crash --module ...

Options:
  --module PATH      mod_caldav.so to load (provider caldav; required there)
  --provider P       caldav (default) or fs: Apache's own mod_dav_fs serves the
                     same URL space, to check that the tests test HTTP/WebDAV and
                     not our module's quirks.  Tests marked caldav_only are
                     skipped with fs.
  --mpm M            event (default) or prefork for the shared server
  --san              preload the ASan/UBSan runtimes into httpd; any report file
                     fails the session
  --keep-var         keep the servers' var directories (logs, store) afterwards
  --run-caldav-only  with fs: run the caldav_only tests anyway (harness debugging)

The servers are started by scripts/devserver.py (imported), on free ports,
each with a fresh var directory (and so a fresh store).
"""

import contextlib
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(HERE))

import devserver  # noqa: E402
from davclient import Dav  # noqa: E402

# Error-log lines that mean a process crashed.  (AH00052 "child pid N exit
# signal Segmentation fault (11)", AH00060 "seg fault or similar nasty error
# detected in the parent process", and the like.)
KEPT = pytest.StashKey()

CRASH_LINE = re.compile(r"child pid \d+ exit signal|AH00060|seg fault|Segmentation fault"
                        r"|AddressSanitizer|runtime error:")


def pytest_addoption(parser):
    g = parser.getgroup("mod_caldav")
    g.addoption("--module", default="", help="path of mod_caldav.so")
    g.addoption("--provider", choices=("caldav", "fs"), default="caldav",
                help="DAV provider behind /dav (fs = Apache's mod_dav_fs)")
    g.addoption("--mpm", choices=("event", "prefork"), default="event")
    g.addoption("--san", action="store_true", help="run httpd with ASan/UBSan preloaded")
    g.addoption("--keep-var", action="store_true", help="keep var directories")
    g.addoption("--run-caldav-only", action="store_true",
                help="with --provider fs, run caldav_only tests anyway (to debug the "
                     "harness; provider-specific assertions are expected to fail)")


def pytest_configure(config):
    config.addinivalue_line("markers", "caldav_only: asserts mod_caldav behaviour that "
                            "mod_dav_fs does not have; skipped with --provider fs")
    config.addinivalue_line("markers", "crash: kills httpd children under load and "
                            "checks durability (select with -m crash)")
    config.addinivalue_line("markers", "litmus: runs the litmus WebDAV suite")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--provider") != "fs" or config.getoption("--run-caldav-only"):
        return
    skip = pytest.mark.skip(reason="caldav_only: not applicable to mod_dav_fs")
    for item in items:
        if "caldav_only" in item.keywords:
            item.add_marker(skip)


def pytest_sessionstart(session):
    config = session.config
    if config.getoption("--provider") != "caldav" or config.option.collectonly:
        return
    module = config.getoption("--module")
    if not module:
        pytest.exit("--provider caldav (the default) needs --module PATH/mod_caldav.so; "
                    "use --provider fs to run the tests against mod_dav_fs", 2)
    if not os.path.isfile(module):
        pytest.exit("module %s does not exist: build it first (make)" % module, 2)


def pytest_report_header(config):
    return "mod_caldav: provider=%s module=%s mpm=%s san=%s" % (
        config.getoption("--provider"), config.getoption("--module") or "-",
        config.getoption("--mpm"), config.getoption("--san"))


class Servers:
    """Creates devserver.Server instances and checks them when they stop."""

    def __init__(self, config):
        self.config = config
        self.provider = config.getoption("--provider")
        self.module = config.getoption("--module")
        self.san = config.getoption("--san")
        self.keep = config.getoption("--keep-var")
        self.kept = []
        config.stash[KEPT] = self.kept
        if self.provider == "caldav":
            self.module = os.path.abspath(self.module)

    def new(self, name, mpm=None, extra=""):
        var = Path(tempfile.mkdtemp(prefix="caldav-%s-" % name))
        last = None
        for _ in range(3):       # a free port can be taken between probe and bind
            server = devserver.Server(var=var, port=devserver.free_port(),
                                      module=self.module, provider=self.provider,
                                      mpm=mpm or self.config.getoption("--mpm"),
                                      san=self.san, extra=extra)
            try:
                devserver.start(server)
                return server
            except devserver.ServerError as e:
                last = e
                if "already in use" not in str(e) and "could not bind" not in error_tail(server):
                    break
        pytest.fail("could not start httpd (%s): %s" % (var, last), pytrace=False)

    @contextlib.contextmanager
    def own(self, name, request, extra="", mpm=None):
        """A private server for a test or a module (its own store, so what it
        creates shows in no listing another test asserts): started here,
        stopped and checked for crashes and sanitizer reports afterwards,
        which fail the test."""
        srv = self.new(name, mpm=mpm, extra=extra)
        ok = False
        try:
            yield srv
            ok = True
        finally:
            problems = self.finish(srv, keep=not ok or request.session.testsfailed > 0)
        if problems:
            pytest.fail("httpd crashed or a sanitizer reported (%s server):\n%s"
                        % (name, "\n".join(problems)), pytrace=False)

    def finish(self, server, allowed_crash=None, keep=False):
        """Stop server; return a list of problems (crash lines, sanitizer reports).

        The var directory is removed unless there were problems, keep is
        true or --keep-var was given; kept directories are listed at the end
        of the session.
        """
        devserver.stop(server)
        problems = []
        crashes = [line for line in read_lines(server.error_log)
                   if CRASH_LINE.search(line)
                   and not (allowed_crash and allowed_crash.search(line))]
        for line in crashes[:20]:
            problems.append("error_log: " + line)
        if len(crashes) > 20:
            problems.append("error_log: ... %d more such lines" % (len(crashes) - 20))
        reports = devserver.sanitizer_reports(server)
        for report in reports[:3]:
            problems.append("sanitizer report %s:\n%s" % (
                report, report.read_text(errors="replace")[:6000]))
        if len(reports) > 3:
            problems.append("... and %d more sanitizer reports: %s" % (
                len(reports) - 3, " ".join(p.name for p in reports[3:])))
        if problems or keep or self.keep:
            self.kept.append(str(server.var))
            if problems:
                problems.append("(kept %s)" % server.var)
        else:
            shutil.rmtree(server.var, ignore_errors=True)
        return problems


def read_lines(path):
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []


def error_tail(server):
    return "\n".join(read_lines(server.error_log)[-20:])


@pytest.fixture(scope="session")
def servers(pytestconfig):
    return Servers(pytestconfig)


@pytest.fixture(scope="session")
def provider(pytestconfig):
    return pytestconfig.getoption("--provider")


def pytest_terminal_summary(terminalreporter, config):
    kept = config.stash.get(KEPT, [])
    if kept:
        terminalreporter.section("httpd var directories kept (logs/, store/)")
        for var in kept:
            terminalreporter.write_line(var)


@pytest.fixture(scope="session")
def server(servers, request):
    """The shared httpd for all resource tests (fresh store)."""
    srv = servers.new("itest")
    yield srv
    problems = servers.finish(srv, keep=request.session.testsfailed > 0)
    if problems:
        pytest.fail("httpd crashed or a sanitizer reported during the session:\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture
def dav(server):
    """A client logged in as alice, bound to http://127.0.0.1:PORT/dav/."""
    client = Dav(server.base_url, auth=("alice", "alice"))
    yield client
    client.session.close()


@pytest.fixture
def coll(dav, request):
    """A fresh, empty collection for this test: returns "name/" (relative)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:50]
    rel = "%s-%s/" % (name, uuid.uuid4().hex[:8])
    r = dav.mkcol(rel)
    assert r.status_code == 201, "MKCOL %s: %d" % (rel, r.status_code)
    return rel
