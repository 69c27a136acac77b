"""The default access policy as a matrix (no ACL grants): subject x method x
resource kind, one test id per cell, each asserting the exact status.

Policy (mod_caldav/caldav_principal.c, caldav_check_access and
caldav_authorize_request):

* the location requires a valid user (conf/httpd.conf.in: AuthType Basic,
  Require valid-user), so an anonymous request is answered 401 by Apache
  before any DAV code runs, for every method and URL;
* a user has every privilege on their own principal and calendar home;
* another authenticated user may read principals, but gets 403 (never 401,
  never a listing) for every method on anything in someone else's home,
  existing or not (so a 403 does not reveal existence);
* COPY/MOVE also need write access to the Destination; a calendar-multiget
  href the user may not read is answered 403 inside the 207.

Subjects: alice (the owner), bob (another user), anonymous (no credentials).

Resource kinds (all alice's unless shared):

    homes       /dav/calendars/                the collection of all homes (shared;
                                               not in the brief, added: it holds
                                               every user's home)
    principals  /dav/principals/               the principal collection (shared)
    principal   /dav/principals/alice/
    home        /dav/calendars/alice/
    calendar    /dav/calendars/alice/<new>/    a calendar made for each test
    object      <calendar>/ev-<id>.ics         an event in it
    missing     <calendar>/missing-<id>.ics    a member that does not exist

Methods and what they target (collection kinds: a new member where the
method creates something):

    OPTIONS, GET, HEAD, PROPPATCH, DELETE    the resource
    PROPFIND-0 / PROPFIND-1                  allprop, Depth 0 / 1
    PUT-new        If-None-Match: *; a new member of a collection, else the URL
    PUT-overwrite  If-Match: * on the URL
    MKCOL, MKCALENDAR   a new member of a collection, else the URL
    COPY-from      the resource to a scratch collection outside both trees
    COPY-to        the subject's own event copied with the resource as
                   Destination, Overwrite: F (412 = authorized, target exists)
    MOVE           the resource to a scratch collection outside both trees
    REPORT-query   calendar-query (VEVENT), Depth 1
    REPORT-multiget   calendar-multiget sent to the subject's *own* calendar
                   with the resource's href inside; the cell is
                   (207, status given for that href)
    REPORT-sync    sync-collection (RFC 6578), initial token, sync-level 1,
                   asking for the secret dead property (not in the brief,
                   added: it lists members like PROPFIND Depth 1)

A listing of the homes collection shows each user only their own home.

The two shared roots (homes, principals) are read-only for every user: a
write there would change or destroy other users' principals and homes (the
first version of the policy let every user write them; ROOT_WRITABLE).

alice's event carries a unique marker in its UID and SUMMARY; the same
marker is the value of a dead property on the event, her calendar and her
home.  No response to bob or anonymous may contain it (bodies and headers;
after a successful COPY/MOVE by bob, also nothing bob can read at the
destination).  The marker never appears in a URL (403 bodies name the href).

DELETE and MOVE of the homes collection, the principal collection, alice's
principal and her home destroy state other cells need: each such cell runs
on a private server of its own.
"""

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

import pytest

from davclient import (APACHE_NS, CALDAV, Dav, calendar_multiget, calendar_query,
                       error_elements, mkcalendar_body, proppatch_body, q)

pytestmark = pytest.mark.caldav_only

SUBJECTS = ("alice", "bob", "anonymous")
KINDS = ("homes", "principals", "principal", "home", "calendar", "object", "missing")
COLLECTION_KINDS = ("homes", "principals", "principal", "home", "calendar")
METHODS = ("OPTIONS", "GET", "HEAD", "PROPFIND-0", "PROPFIND-1", "PROPPATCH",
           "PUT-new", "PUT-overwrite", "DELETE", "MKCOL", "MKCALENDAR",
           "COPY-from", "COPY-to", "MOVE", "REPORT-query", "REPORT-multiget",
           "REPORT-sync")
ALICE_AREA = ("home", "calendar", "object", "missing")
# Cells that would destroy what the other cells share.
PRIVATE_SERVER = {(m, k) for m in ("DELETE", "MOVE")
                  for k in ("homes", "principals", "principal", "home")}

TEST_NS = "urn:x-mod-caldav-authz-test"
MARKER = "zqmark%s" % uuid.uuid4().hex      # alice's secret: never in a URL


def secret_prop(marker=MARKER):
    return '<S:secret xmlns:S="%s">%s</S:secret>' % (TEST_NS, marker)


def event(uid, summary):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mod_caldav//authz matrix//EN\r\n"
            "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
            "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % (uid, summary)).encode()


# --- expected statuses -------------------------------------------------------
#
# alice, by kind:  homes principals principal home calendar object missing
R = "ROOT"      # a write on a shared root: 403 by policy (see ROOT_WRITABLE)
ALICE = {
    "OPTIONS":         (200, 200, 200, 200, 200, 200, 200),
    "GET":             (200, 200, 200, 200, 200, 200, 404),
    "HEAD":            (200, 200, 200, 200, 200, 200, 404),
    "PROPFIND-0":      (207, 207, 207, 207, 207, 207, 404),
    "PROPFIND-1":      (207, 207, 207, 207, 207, 207, 404),
    "PROPPATCH":       (R, R, 207, 207, 207, 207, 404),
    # a new member of a shared root would be the home/principal of a user
    # named like the member: 403 already today
    "PUT-new":         (403, 403, 201, 201, 201, 412, 201),
    "PUT-overwrite":   (R, R, 409, 409, 409, 204, 412),
    "DELETE":          (R, R, 204, 204, 204, 204, 404),
    "MKCOL":           (403, 403, 201, 201, 403, 405, 403),
    "MKCALENDAR":      (403, 403, 201, 201, 403, 403, 403),
    # copying a shared root (with every user's homes or principals) is
    # refused to everyone: 403 (see ROOT_COPY)
    "COPY-from":       ("ROOTCOPY", "ROOTCOPY", 201, 201, 201, 201, 404),
    "COPY-to":         (R, R, 412, 412, 412, 412, 201),
    "MOVE":            (R, R, 201, 201, 201, 201, 404),
    "REPORT-query":    (207, 207, 207, 207, 207, 207, 404),
    "REPORT-multiget": ((207, 404), (207, 404), (207, 404), (207, 404), (207, 404),
                        (207, 200), (207, 404)),
    "REPORT-sync":     ("SYNCLIST", 207, 207, 207, 207, 403, 404),
}
# bob on the shared kinds (homes, principals, principal); everything in
# alice's home is 403 for him.
BOB_SHARED = {
    "OPTIONS":         (200, 200, 200),
    "GET":             (200, 200, 200),
    "HEAD":            (200, 200, 200),
    "PROPFIND-0":      (207, 207, 207),
    "PROPFIND-1":      (207, 207, 207),
    "PROPPATCH":       (R, R, 403),
    "PUT-new":         (403, 403, 403),
    "PUT-overwrite":   (R, R, 403),
    "DELETE":          (R, R, 403),
    "MKCOL":           (403, 403, 403),
    "MKCALENDAR":      (403, 403, 403),
    # a collection is copied with everything in it: only its owner may
    "COPY-from":       ("ROOTCOPY", "ROOTCOPY", 403),
    "COPY-to":         (R, R, 403),
    "MOVE":            (R, R, 403),
    "REPORT-query":    (207, 207, 207),
    "REPORT-multiget": ((207, 404), (207, 404), (207, 404)),
    "REPORT-sync":     ("SYNCLIST", 207, 207),
}

# The DAV:error element of every 403 alice gets (None: no DAV:error body).
# Outside the shared roots it is never need-privileges: she owns it all.
ALICE_403 = {
    ("PUT-new", "homes"): q("need-privileges"),
    ("PUT-new", "principals"): q("need-privileges"),
    ("MKCOL", "homes"): q("need-privileges"),
    ("MKCOL", "principals"): q("need-privileges"),
    ("MKCALENDAR", "homes"): q("need-privileges"),
    ("MKCALENDAR", "principals"): q("need-privileges"),
    ("MKCOL", "calendar"): q("calendar-collection-location-ok", CALDAV),
    ("MKCOL", "missing"): q("calendar-collection-location-ok", CALDAV),
    ("MKCALENDAR", "calendar"): q("calendar-collection-location-ok", CALDAV),
    ("MKCALENDAR", "missing"): q("calendar-collection-location-ok", CALDAV),
    ("MKCALENDAR", "object"): q("resource-must-be-null"),
    ("REPORT-sync", "object"): q("supported-report"),
}

ROOT_WRITABLE = (
    "caldav_owner_of() returns NULL for the shared roots /dav/calendars/ and "
    "/dav/principals/ themselves, so caldav_check_access lets every user write "
    "them: DELETE/MOVE/COPY-with-Overwrite of a root destroys every user's "
    "homes or principals, PROPPATCH changes what everyone sees")
SYNC_LISTING = (
    "sync-collection on /dav/calendars/ is not filtered like PROPFIND Depth 1: "
    "it lists every user's home, with the properties asked for (bob reads "
    "the dead properties of alice's home)")
ROOT_COPY = (
    "COPY of /dav/calendars/ (Depth: infinity) is authorized on the request-URI "
    "only, and copies every user's home to a place the copier can read")


def expected(subject, method, kind):
    if subject == "anonymous":
        return 401
    if subject == "bob" and kind in ALICE_AREA:
        return (207, 403) if method == "REPORT-multiget" else 403
    if subject == "bob":
        return BOB_SHARED[method][KINDS.index(kind)]
    return ALICE[method][KINDS.index(kind)]


def cell_params():
    out = []
    for subject in SUBJECTS:
        for method in METHODS:
            for kind in KINDS:
                want = expected(subject, method, kind)
                marks = []
                # (the three were bugs this matrix found; fixed since, the
                # cells keep their names)
                if want in (R, "ROOTCOPY"):
                    want = 403
                elif want == "SYNCLIST":
                    want = 207
                out.append(pytest.param(subject, method, kind, want, marks=marks,
                                        id="%s-%s-%s" % (subject, method, kind)))
    return out


# --- the world: users, alice's resources, one server -----------------------

class World:
    """Clients for the three subjects and alice's resources on one server."""

    def __init__(self, server):
        self.server = server
        self.clients = {"alice": Dav(server.base_url, auth=("alice", "alice")),
                        "bob": Dav(server.base_url, auth=("bob", "bob")),
                        "anonymous": Dav(server.base_url, auth=None)}
        self.alice = self.clients["alice"]
        self.bob = self.clients["bob"]

    def close(self):
        for c in self.clients.values():
            c.session.close()

    def provision(self):
        """First requests of alice and bob (creates principals, homes,
        default calendars); alice's home gets the secret dead property."""
        for who in ("alice", "bob"):
            r = self.clients[who].propfind("", [("DAV:", "current-user-principal")])
            assert r.status_code == 207, (who, r.status_code, r.text[:300])
        self.set_secret("calendars/alice/")

    def set_secret(self, rel):
        r = self.alice.proppatch(rel, [("set", [secret_prop()])])
        assert r.status_code == 207 and " 200 " in r.text, (rel, r.status_code, r.text[:300])

    def make_calendar(self):
        """A fresh calendar of alice's with the secret event; returns the
        relative paths {kind: rel}."""
        tag = uuid.uuid4().hex[:12]
        cal = "calendars/alice/authz-%s/" % tag
        r = self.alice.mkcalendar(cal, mkcalendar_body(
            ["<D:displayname>%s</D:displayname>" % MARKER]))
        assert r.status_code == 201, (cal, r.status_code, r.text[:300])
        self.set_secret(cal)
        obj = cal + "ev-%s.ics" % tag
        self.uid = "uid-%s-%s" % (MARKER, tag)
        r = self.alice.put(obj, event(self.uid, "Secret %s" % MARKER), "text/calendar")
        assert r.status_code == 201, (obj, r.status_code, r.text[:300])
        self.set_secret(obj)
        g = self.alice.get(obj)
        assert g.status_code == 200 and MARKER.encode() in g.content
        self.paths = {
            "homes": "calendars/",
            "principals": "principals/",
            "principal": "principals/alice/",
            "home": "calendars/alice/",
            "calendar": cal,
            "object": obj,
            "missing": cal + "missing-%s.ics" % tag,
        }
        self.tag = tag
        return self.paths


@pytest.fixture(scope="module")
def authz_server(servers, request):
    srv = servers.new("authz")
    world = World(srv)
    world.provision()
    world.close()
    yield srv
    problems = servers.finish(srv, keep=request.session.testsfailed > 0)
    if problems:
        pytest.fail("httpd crashed or a sanitizer reported (authz matrix server):\n"
                    + "\n".join(problems), pytrace=False)


# --- one cell ----------------------------------------------------------------

SYNC_BODY = ('<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
             "<D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/>"
             '<D:displayname/><S:secret xmlns:S="%s"/></D:prop></D:sync-collection>' % TEST_NS)
PROPPATCH_BODY = proppatch_body([("set", ['<S:note xmlns:S="%s">written</S:note>' % TEST_NS])])


def run_cell(w, subject, method, kind):
    """Send the cell's request; returns (response,
    outcome)."""
    c = w.clients[subject]
    rel = w.paths[kind]
    coll = kind in COLLECTION_KINDS
    tag = w.tag
    xml = {"Content-Type": "application/xml; charset=utf-8"}

    def member(suffix):
        return rel + suffix if coll else rel

    if method in ("OPTIONS", "GET", "HEAD", "DELETE"):
        r = c.request(method, rel)
    elif method in ("PROPFIND-0", "PROPFIND-1"):
        r = c.propfind(rel, "allprop", depth=method[-1])
    elif method == "PROPPATCH":
        r = c.request("PROPPATCH", rel, xml, PROPPATCH_BODY.encode())
    elif method == "PUT-new":
        uid = "new-%s-%s" % (subject, tag)
        r = c.put(member("new-%s.ics" % tag), event(uid, "new"), "text/calendar",
                  {"If-None-Match": "*"})
    elif method == "PUT-overwrite":
        # the owner keeps the UID (a calendar object resource may not change it)
        uid = w.uid if subject == "alice" else "over-%s-%s" % (subject, tag)
        r = c.put(rel, event(uid, "overwritten"), "text/calendar", {"If-Match": "*"})
    elif method == "MKCOL":
        r = c.request("MKCOL", member("mk-%s/" % tag))
    elif method == "MKCALENDAR":
        r = c.request("MKCALENDAR", member("mk-%s/" % tag))
    elif method in ("COPY-from", "MOVE"):
        scratch = "scratch-%s/" % tag
        assert w.alice.mkcol(scratch).status_code == 201
        dest = scratch + ("target-%s%s" % (tag, "/" if coll else ".ics"))
        r = c.request(method.split("-")[0], rel, {"Destination": c.url(dest)})
        w.dest = dest
    elif method == "COPY-to":
        owner = "bob" if subject == "anonymous" else subject
        src = "calendars/%s/calendar/src-%s.ics" % (owner, tag)
        p = w.clients[owner].put(src, event("src-%s-%s" % (owner, tag), "source"),
                                 "text/calendar")
        assert p.status_code == 201, (src, p.status_code, p.text[:300])
        r = c.request("COPY", src, {"Destination": c.url(rel), "Overwrite": "F"})
    elif method == "REPORT-query":
        r = c.report(rel, calendar_query(
            '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
            "</C:comp-filter>"), depth="1")
    elif method == "REPORT-multiget":
        own = "calendars/%s/calendar/" % ("bob" if subject == "anonymous" else subject)
        r = c.report(own, calendar_multiget([c.path(rel)]), depth="1")
    elif method == "REPORT-sync":
        r = c.report(rel, SYNC_BODY.encode(), depth="0")
    else:
        raise AssertionError(method)

    outcome = r.status_code
    if method == "REPORT-multiget" and r.status_code == 207:
        outcome = (207, multiget_status(r, c.path(rel)))
    return r, outcome


def multiget_status(resp, path):
    """The status a multiget reported for path: its D:status, or that of
    the propstat holding C:calendar-data."""
    for elem in ET.fromstring(resp.content).findall(q("response")):
        href = elem.find(q("href")).text.strip()
        if href.rstrip("/") != path.rstrip("/"):
            continue
        st = elem.find(q("status"))
        if st is not None:
            return int(st.text.split()[1])
        for ps in elem.findall(q("propstat")):
            if ps.find(q("prop")).find(q("calendar-data", CALDAV)) is not None:
                return int(ps.find(q("status")).text.split()[1])
        return "no calendar-data"
    return "href missing"


def readable_tree(client, rel, limit=200):
    """Every body client can read below rel (PROPFIND Depth 1 walk + GET)."""
    bodies, todo, seen = [], [rel], set()
    while todo and len(seen) < limit:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        r = client.propfind(cur, "allprop", depth="1")
        bodies.append(r.content)
        g = client.get(cur)
        bodies.append(g.content)
        if r.status_code != 207:
            continue
        for elem in ET.fromstring(r.content).findall(q("response")):
            path = unquote(urlsplit(elem.find(q("href")).text.strip()).path)
            sub = path[len(client.root):]
            if sub != cur and sub.startswith(rel):
                todo.append(sub)
    return bodies


def preconditions(r):
    """The elements of a DAV:error body, without mod_dav's human-readable."""
    return [t for t in error_elements(r) if not t.startswith("{%s}" % APACHE_NS)]


def describe(r):
    return "%s %s -> %d\n%s" % (r.request.method, r.request.url, r.status_code,
                                r.text[:800])


@pytest.mark.parametrize("subject,method,kind,want", cell_params())
def test_cell(subject, method, kind, want, servers, authz_server, request):
    private = (method, kind) in PRIVATE_SERVER
    srv = servers.new("authz-cell") if private else authz_server
    w = World(srv)
    try:
        if private:
            w.provision()
        w.make_calendar()
        r, outcome = run_cell(w, subject, method, kind)
        assert outcome == want, "%s as %s on %s: expected %s, got %s\n%s" % (
            method, subject, kind, want, outcome, describe(r))

        if subject != "alice":
            check_no_leak(w, subject, method, kind, r)
        elif kind == "homes":
            check_own_home_only(subject, r)
        if subject == "anonymous":
            assert r.headers.get("WWW-Authenticate", "").startswith("Basic"), r.headers
        if subject == "bob" and want == 403 and method != "HEAD":
            assert preconditions(r) == [q("need-privileges")], describe(r)
        if subject == "alice" and want == 403:
            root = q("need-privileges") if kind in ("homes", "principals") else None
            assert preconditions(r) == [ALICE_403.get((method, kind), root)], describe(r)
        if subject != "alice" or kind in ("homes", "principals"):
            check_intact(w)
    finally:
        w.close()
        if private:
            problems = servers.finish(srv, keep=request.session.testsfailed > 0)
            if problems:
                pytest.fail("httpd crashed (private authz server):\n" + "\n".join(problems),
                            pytrace=False)


def check_no_leak(w, subject, method, kind, r):
    marker = MARKER.encode()
    blobs = [("body", r.content),
             ("headers", "\n".join("%s: %s" % kv for kv in r.headers.items()).encode())]
    if subject == "bob" and method in ("COPY-from", "MOVE") and r.status_code in (201, 204):
        blobs += [("destination", b) for b in readable_tree(w.bob, w.dest)]
    for what, blob in blobs:
        assert marker not in blob, "%s as %s on %s: alice's data in the %s:\n%s" % (
            method, subject, kind, what, blob[:1500].decode(errors="replace"))
    if kind == "homes":
        check_own_home_only(subject, r)


def check_own_home_only(subject, r):
    """A listing of the homes collection names no other user's home."""
    other = {"alice": "bob", "bob": "alice"}.get(subject)
    if other:
        assert ("/dav/calendars/%s" % other).encode() not in r.content, (
            "%s was shown %s's home:\n%s" % (subject, other, describe(r)))


def check_intact(w):
    """alice's event and both users' principals and homes are still there."""
    g = w.alice.get(w.paths["object"])
    assert g.status_code == 200 and MARKER.encode() in g.content, (
        "alice's event changed: %d %s" % (g.status_code, g.text[:300]))
    for who in ("alice", "bob"):
        for rel in ("principals/%s/" % who, "calendars/%s/" % who,
                    "calendars/%s/calendar/" % who):
            p = w.clients[who].propfind(rel, [("DAV:", "resourcetype")])
            assert p.status_code == 207, "%s's %s is gone: %d" % (who, rel, p.status_code)


# --- beyond the matrix: the owner writing into another user's calendar ---

def test_owner_cannot_copy_or_move_into_another_users_calendar(authz_server):
    w = World(authz_server)
    try:
        w.make_calendar()
        src = w.paths["object"]
        dest = w.bob.url("calendars/bob/calendar/from-alice-%s.ics" % w.tag)
        for method in ("COPY", "MOVE"):
            r = w.alice.request(method, src, {"Destination": dest})
            assert r.status_code == 403, describe(r)
            assert b"need-privileges" in r.content, describe(r)
        g = w.bob.get("calendars/bob/calendar/from-alice-%s.ics" % w.tag)
        assert g.status_code == 404
        check_intact(w)
    finally:
        w.close()
