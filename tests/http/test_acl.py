"""Access control (RFC 3744) on shared calendars: the ACL method, grants
and revocations, what a grantee may and may not do, the DAV:acl family of
properties, and the ACL method's preconditions.

alice owns /dav/calendars/alice/<cal>/ and shares it with bob.  The levels
an owner can grant: C:read-free-busy, DAV:read, DAV:read + DAV:write (see
docs/caldav.md, "Access control").
"""

import uuid
import xml.etree.ElementTree as ET

import pytest

from davclient import Dav, free_busy_query, calendar_query, precondition, report_body

pytestmark = pytest.mark.caldav_only

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
MARK = "acl-secret-%s" % uuid.uuid4().hex

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
         "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
         "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def bob(server):
    client = Dav(server.base_url, auth=("bob", "bob"))
    client.request("PROPFIND", "", headers={"Depth": "0"})      # provision bob
    yield client
    client.session.close()


@pytest.fixture
def shared(dav):
    """A fresh calendar of alice with one event; yields its relative path."""
    rel = "calendars/alice/s-%s/" % uuid.uuid4().hex[:10]
    assert dav.request("MKCALENDAR", rel).status_code == 201
    r = dav.put(rel + "e1.ics", (EVENT % ("e1@x", MARK)).encode(),
                content_type="text/calendar")
    assert r.status_code == 201, r.text
    yield rel
    # other test files assume alice shares nothing
    assert dav.delete(rel).status_code == 204


def principal(who):
    return "<D:href>/dav/principals/%s/</D:href>" % who


def ace(who, *privs, extra=""):
    body = "".join("<D:privilege>%s</D:privilege>" % p for p in privs)
    return ("<D:ace><D:principal>%s</D:principal><D:grant>%s</D:grant>%s</D:ace>"
            % (who, body, extra))


def acl(client, rel, *aces):
    body = ('<?xml version="1.0"?><D:acl xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav">%s</D:acl>' % "".join(aces))
    return client.request("ACL", rel, headers={"Content-Type": "application/xml"},
                          data=body.encode())


def prop_of(client, rel, name, depth="0"):
    body = ('<D:propfind xmlns:D="DAV:"><D:prop><%s xmlns="%s"/></D:prop></D:propfind>'
            % (name.split("}")[1], name[1:].split("}")[0]))
    r = client.request("PROPFIND", rel, headers={"Depth": depth,
                                                 "Content-Type": "application/xml"},
                       data=body.encode())
    assert r.status_code == 207, (r.status_code, r.text[:300])
    for resp in ET.fromstring(r.content).findall(D + "response"):
        for ps in resp.findall(D + "propstat"):
            if " 200 " in ps.find(D + "status").text:
                e = ps.find(D + "prop").find(name)
                if e is not None:
                    return e
    return None


def privileges(client, rel):
    e = prop_of(client, rel, D + "current-user-privilege-set")
    return {p[0].tag.split("}")[1] for p in e}


def hrefs_depth1(client, rel):
    r = client.request("PROPFIND", rel, headers={"Depth": "1"})
    assert r.status_code == 207, (r.status_code, r.text[:300])
    return sorted(h.text for h in ET.fromstring(r.content).iter(D + "href"))


READ_PRIVS = {"read", "read-free-busy", "read-current-user-privilege-set"}
WRITE_PRIVS = READ_PRIVS | {"write", "write-properties", "write-content", "bind", "unbind"}


def test_options_announce_access_control(dav, shared):
    r = dav.options(shared)
    assert "access-control" in [t.strip() for t in r.headers["DAV"].split(",")]
    assert "ACL" in [t.strip() for t in r.headers["Allow"].split(",")]


def test_default_is_private(dav, bob, shared):
    assert bob.get(shared + "e1.ics").status_code == 403
    r = bob.request("PROPFIND", shared, headers={"Depth": "1"})
    assert r.status_code == 403 and MARK not in r.text
    assert prop_of(dav, shared, D + "inherited-acl-set") is not None


def test_grant_read_then_revoke(dav, bob, shared):
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>")).status_code == 200
    r = bob.get(shared + "e1.ics")
    assert r.status_code == 200 and r.content == (EVENT % ("e1@x", MARK)).encode()
    assert hrefs_depth1(bob, shared) == ["/dav/" + shared, "/dav/" + shared + "e1.ics"]
    r = bob.report(shared, calendar_query(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
        "</C:comp-filter>"), depth="1")
    assert r.status_code == 207 and MARK in r.text
    assert privileges(bob, shared) == READ_PRIVS
    assert privileges(bob, shared + "e1.ics") == READ_PRIVS
    # read only: no writes, and the ACL stays hidden
    r = bob.put(shared + "new.ics", (EVENT % ("n@x", "x")).encode(),
                content_type="text/calendar")
    precondition(r, "need-privileges", ns="DAV:")
    assert bob.delete(shared + "e1.ics").status_code == 403
    assert prop_of(bob, shared, D + "acl") is None
    # the home lists only what bob may read
    assert hrefs_depth1(bob, "calendars/alice/") == ["/dav/calendars/alice/", "/dav/" + shared]
    # revoke
    assert acl(dav, shared).status_code == 200
    assert bob.get(shared + "e1.ics").status_code == 403
    assert bob.request("PROPFIND", "calendars/alice/",
                       headers={"Depth": "1"}).status_code == 403


def test_acl_properties(dav, bob, shared):
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>", "<D:write/>"),
               ace("<D:authenticated/>", "<C:read-free-busy/>")).status_code == 200
    e = prop_of(dav, shared, D + "acl")
    aces = e.findall(D + "ace")
    assert len(aces) == 3
    owner, bob_ace, auth = aces
    assert owner.find(D + "principal/" + D + "href").text == "/dav/principals/alice/"
    assert owner.find(D + "protected") is not None
    assert owner.find(D + "grant/" + D + "privilege/" + D + "all") is not None
    assert bob_ace.find(D + "principal/" + D + "href").text == "/dav/principals/bob/"
    assert {p[0].tag for p in bob_ace.find(D + "grant")} == {D + "read", D + "write"}
    assert auth.find(D + "principal/" + D + "authenticated") is not None
    assert [p[0].tag for p in auth.find(D + "grant")] == [C + "read-free-busy"]
    # objects inherit
    e = prop_of(dav, shared + "e1.ics", D + "acl")
    inherited = [a for a in e.findall(D + "ace") if a.find(D + "inherited") is not None]
    assert len(inherited) == 2
    assert inherited[0].find(D + "inherited/" + D + "href").text == "/dav/" + shared
    e = prop_of(dav, shared + "e1.ics", D + "inherited-acl-set")
    assert [h.text for h in e.findall(D + "href")] == ["/dav/" + shared]
    e = prop_of(dav, shared, D + "acl-restrictions")
    assert {c.tag for c in e} == {D + "grant-only", D + "no-invert"}
    e = prop_of(dav, shared, D + "supported-privilege-set")
    top = e.findall(D + "supported-privilege")
    assert len(top) == 1 and top[0].find(D + "privilege/" + D + "all") is not None
    abstract = {sp.find(D + "privilege")[0].tag.split("}")[1]
                for sp in e.iter(D + "supported-privilege")
                if sp.find(D + "abstract") is not None}
    assert abstract == {"read-current-user-privilege-set", "write-properties",
                        "write-content", "bind", "unbind", "read-acl", "write-acl"}
    # the grants are no dead property anyone can see or set
    r = dav.request("PROPFIND", shared, headers={"Depth": "0"})
    assert "x-mod-caldav" not in r.text
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:I="urn:x-mod-caldav:internal">'
            "<D:set><D:prop><I:acl>u 3 mallory</I:acl></D:prop></D:set></D:propertyupdate>")
    r = dav.request("PROPPATCH", shared, headers={"Content-Type": "application/xml"},
                    data=body.encode())
    assert r.status_code == 207 and "HTTP/1.1 403" in r.text, r.text
    assert len(prop_of(dav, shared, D + "acl").findall(D + "ace")) == 3


def test_grant_read_write(dav, bob, shared):
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>", "<D:write/>")).status_code == 200
    assert privileges(bob, shared) == WRITE_PRIVS
    r = bob.put(shared + "b.ics", (EVENT % ("b@x", "by bob")).encode(),
                content_type="text/calendar")
    assert r.status_code == 201, r.text
    assert dav.get(shared + "b.ics").status_code == 200
    body = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
            "<D:displayname>renamed by bob</D:displayname></D:prop></D:set>"
            "</D:propertyupdate>")
    r = bob.request("PROPPATCH", shared, headers={"Content-Type": "application/xml"},
                    data=body.encode())
    assert r.status_code == 207 and " 200 " in r.text
    assert bob.delete(shared + "b.ics").status_code == 204
    # the collection itself stays the owner's
    precondition(bob.delete(shared), "need-privileges", ns="DAV:")
    assert dav.get(shared + "e1.ics").status_code == 200
    r = acl(bob, shared, ace(principal("bob"), "<D:read/>"))
    precondition(r, "need-privileges", ns="DAV:")
    assert bob.move(shared, "calendars/bob/stolen/").status_code == 403
    assert bob.request("MKCALENDAR", shared + "sub/").status_code == 403
    # bob's copy into alice's calendar is a write there: allowed
    r = bob.put("calendars/bob/calendar/c-%s.ics" % uuid.uuid4().hex[:6],
                (EVENT % ("c-%s@x" % uuid.uuid4().hex, "copy me")).encode(),
                content_type="text/calendar")
    assert r.status_code == 201


def test_grant_free_busy_only(dav, bob, shared):
    assert acl(dav, shared, ace(principal("bob"), "<C:read-free-busy/>")).status_code == 200
    # no DAV:read: not even PROPFIND
    r = bob.request("PROPFIND", shared, headers={"Depth": "0"})
    precondition(r, "need-privileges", ns="DAV:")
    r = bob.report(shared, free_busy_query("20240610T000000Z", "20240611T000000Z"))
    assert r.status_code == 200, r.text
    assert "FREEBUSY:20240610T090000Z/PT1H\r\n" in r.text
    assert MARK not in r.text
    r = bob.report(shared, calendar_query('<C:comp-filter name="VCALENDAR"/>'),
                   depth="1")
    precondition(r, "need-privileges", ns="DAV:")
    assert MARK not in r.text
    assert bob.get(shared + "e1.ics").status_code == 403


def test_grant_to_all_authenticated(dav, bob, shared):
    assert acl(dav, shared, ace("<D:authenticated/>", "<D:read/>")).status_code == 200
    assert bob.get(shared + "e1.ics").status_code == 200
    assert acl(dav, shared, ace("<D:all/>", "<C:read-free-busy/>")).status_code == 200
    assert bob.get(shared + "e1.ics").status_code == 403
    r = bob.report(shared, free_busy_query("20240610T000000Z", "20240611T000000Z"))
    assert r.status_code == 200 and "FREEBUSY:" in r.text


@pytest.mark.parametrize("aces, element", [
    ([ace(principal("bob"), "<D:read/>").replace("<D:grant>", "<D:deny>")
      .replace("</D:grant>", "</D:deny>")], "grant-only"),
    (["<D:ace><D:invert><D:principal>%s</D:principal></D:invert>"
      "<D:grant><D:privilege><D:read/></D:privilege></D:grant></D:ace>" % principal("bob")],
     "no-invert"),
    ([ace("<D:href>/elsewhere/bob/</D:href>", "<D:read/>")], "recognized-principal"),
    ([ace("<D:self/>", "<D:read/>")], "allowed-principal"),
    ([ace(principal("bob"), "<D:write-acl/>")], "not-supported-privilege"),
    ([ace(principal("bob"), "<D:write-content/>")], "not-supported-privilege"),
    ([ace(principal("bob"), "<D:all/>")], "not-supported-privilege"),
    ([ace(principal("bob"), "<D:read/>"), ace(principal("bob"), "<D:write/>")],
     "no-ace-conflict"),
    ([ace(principal("alice"), "<D:read/>")], "no-protected-ace-conflict"),
])
def test_acl_preconditions(dav, bob, shared, aces, element):
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>")).status_code == 200
    r = acl(dav, shared, *aces)
    precondition(r, element, ns="DAV:")
    # nothing changed
    assert bob.get(shared + "e1.ics").status_code == 200
    assert privileges(bob, shared) == READ_PRIVS


def test_acl_where_and_who(dav, bob, shared):
    r = acl(dav, shared + "e1.ics", ace(principal("bob"), "<D:read/>"))
    assert r.status_code == 403
    assert acl(dav, "calendars/alice/", ace(principal("bob"), "<D:read/>")).status_code == 403
    assert acl(dav, shared + "missing.ics").status_code == 404
    r = acl(dav, shared, "<D:ace/>")
    assert r.status_code == 400
    r = dav.request("ACL", shared, headers={"Content-Type": "application/xml"},
                    data=b'<D:propfind xmlns:D="DAV:"/>')
    assert r.status_code == 400
    # the protected ACE sent back as read is no change
    assert acl(dav, shared, ace(principal("alice"), "<D:all/>", extra="<D:protected/>"),
               ace(principal("bob"), "<D:read/>")).status_code == 200
    assert bob.get(shared + "e1.ics").status_code == 200


def test_acl_change_is_a_change_of_the_home(dav, shared):
    """Like any property change of a member, the ACL of a calendar is a
    change in its home's sync log (the calendar's own contents did not
    change: its ctag stays)."""
    home = prop_of(dav, "calendars/alice/", D + "sync-token").text
    cal = dav.ctag(shared)
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>")).status_code == 200
    assert prop_of(dav, "calendars/alice/", D + "sync-token").text != home
    assert dav.ctag(shared) == cal


def test_acl_principal_prop_set_names_the_grantees(dav, bob, shared):
    assert acl(dav, shared, ace(principal("bob"), "<D:read/>"),
               ace("<D:authenticated/>", "<C:read-free-busy/>")).status_code == 200
    body = ('<?xml version="1.0"?><D:acl-principal-prop-set xmlns:D="DAV:">'
            "<D:prop><D:displayname/></D:prop></D:acl-principal-prop-set>")
    r = dav.request("REPORT", shared, headers={"Depth": "0",
                                               "Content-Type": "application/xml"},
                    data=body.encode())
    assert r.status_code == 207, r.text
    got = {}
    for resp in ET.fromstring(r.content).findall(D + "response"):
        got[resp.find(D + "href").text] = resp.find(".//" + D + "displayname").text
    assert got == {"/dav/principals/alice/": "alice", "/dav/principals/bob/": "bob"}
    # reading the ACL's principals is the owner's
    r = bob.request("REPORT", shared, headers={"Depth": "0",
                                               "Content-Type": "application/xml"},
                    data=body.encode())
    assert r.status_code == 403
