"""Users: auto-provisioning, principals, discovery and the default access
policy (issue 4, first part).

alice and bob are the demo users of the test server.  Their first request
creates /dav/principals/<user>/, /dav/calendars/<user>/ and the default
calendar /dav/calendars/<user>/calendar/.  A user has every privilege on
their own principal and home; another user may read principals but gets 403
for anything in someone else's home, in every method.
"""

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from davclient import Dav

pytestmark = pytest.mark.caldav_only

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
         "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
         "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

PRINCIPAL_PROPS = ('<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                   "<D:prop><D:current-user-principal/><D:principal-URL/>"
                   "<D:principal-collection-set/><C:calendar-home-set/>"
                   "<C:calendar-user-address-set/><D:resourcetype/>"
                   "<D:displayname/><D:owner/></D:prop></D:propfind>")


@pytest.fixture
def bob(server):
    client = Dav(server.base_url, auth=("bob", "bob"))
    yield client
    client.session.close()


def propfind(client, rel, body=PRINCIPAL_PROPS, depth="0"):
    return client.request("PROPFIND", rel, headers={"Depth": depth,
                                                    "Content-Type": "application/xml"},
                          data=body.encode())


def ok_props(resp):
    """{href: {tag: element}} of the 200 propstats of a multistatus."""
    assert resp.status_code == 207, (resp.status_code, resp.text[:300])
    out = {}
    for r in ET.fromstring(resp.content).findall(D + "response"):
        href = r.find(D + "href").text
        props = {}
        for ps in r.findall(D + "propstat"):
            if " 200 " in ps.find(D + "status").text:
                for p in ps.find(D + "prop"):
                    props[p.tag] = p
        out[href] = props
    return out


def hrefs(elem):
    return [h.text for h in elem.findall(D + "href")]


def test_well_known_redirects_to_the_caldav_location(dav):
    r = dav.session.request("PROPFIND", dav.origin + "/.well-known/caldav",
                            allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert urlsplit(r.headers["Location"]).path == "/dav/"
    r = dav.session.get(dav.origin + "/.well-known/caldav", allow_redirects=False,
                        timeout=10)
    assert r.status_code == 301


def test_propfind_on_server_root_names_the_principal(dav):
    """Clients given only the server's address PROPFIND /: answered in place
    (python-caldav does not follow a redirect there) after authenticating
    like the CalDAV location."""
    import requests

    r = dav.session.request("PROPFIND", dav.origin + "/", allow_redirects=False,
                            headers={"Depth": "0"}, timeout=10)
    assert r.status_code == 207
    props = ok_props(r)["/"]
    assert hrefs(props[D + "current-user-principal"]) == ["/dav/principals/alice/"]
    assert hrefs(props[D + "principal-collection-set"]) == ["/dav/principals/"]
    r = requests.request("PROPFIND", dav.origin + "/", timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.request("PROPFIND", dav.origin + "/", auth=("alice", "wrong"), timeout=10)
    assert r.status_code == 401


def test_python_caldav_from_the_server_address(server):
    """What a new user does: give the client http://host:port/ and a demo
    account, and see the default calendar."""
    caldav = pytest.importorskip("caldav")
    origin = server.base_url.split("/dav/")[0] + "/"
    client = caldav.DAVClient(url=origin, username="bob", password="bob")
    principal = client.principal()
    assert urlsplit(str(principal.url)).path == "/dav/principals/bob/"
    assert [urlsplit(str(c.url)).path for c in principal.calendars()] == [
        "/dav/calendars/bob/calendar/"]


def test_first_request_provisions_principal_home_and_calendar(dav):
    props = ok_props(propfind(dav, ""))["/dav/"]
    assert hrefs(props[D + "current-user-principal"]) == ["/dav/principals/alice/"]
    assert hrefs(props[D + "principal-collection-set"]) == ["/dav/principals/"]

    p = ok_props(propfind(dav, "principals/alice/"))["/dav/principals/alice/"]
    assert hrefs(p[D + "principal-URL"]) == ["/dav/principals/alice/"]
    assert hrefs(p[C + "calendar-home-set"]) == ["/dav/calendars/alice/"]
    addresses = hrefs(p[C + "calendar-user-address-set"])
    assert addresses[0] == "mailto:alice@127.0.0.1"
    assert "/dav/principals/alice/" in addresses
    assert [c.tag for c in p[D + "resourcetype"]] == [D + "principal", D + "collection"]
    assert p[D + "displayname"].text == "alice"

    home = ok_props(propfind(dav, "calendars/alice/", depth="1"))
    assert set(home) == {"/dav/calendars/alice/", "/dav/calendars/alice/calendar/"}
    cal = home["/dav/calendars/alice/calendar/"]
    assert C + "calendar" in [c.tag for c in cal[D + "resourcetype"]]
    assert hrefs(cal[D + "owner"]) == ["/dav/principals/alice/"]
    r = dav.request("OPTIONS", "calendars/alice/")
    assert "calendar-access" in r.headers["DAV"]
    r = dav.request("OPTIONS", "principals/alice/")
    assert "calendar-access" in r.headers["DAV"]


def test_other_users_home_is_forbidden_in_every_method(dav, bob):
    # alice stores an event bob must never see
    secret = "secret-%s" % uuid.uuid4().hex
    name = "calendars/alice/calendar/private-%s.ics" % uuid.uuid4().hex[:8]
    r = dav.put(name, (EVENT % (secret, secret)).encode(), content_type="text/calendar")
    assert r.status_code == 201
    propfind(bob, "")                    # provisions bob

    attempts = [
        ("PROPFIND", "calendars/alice/", {"Depth": "1"}, PRINCIPAL_PROPS),
        ("PROPFIND", "calendars/alice/calendar/", {"Depth": "0"}, PRINCIPAL_PROPS),
        ("GET", name, {}, None),
        ("HEAD", name, {}, None),
        ("PUT", name, {"Content-Type": "text/calendar"}, EVENT % (secret, "bob was here")),
        ("PUT", "calendars/alice/calendar/new.ics", {"Content-Type": "text/calendar"},
         EVENT % ("bob-new", "x")),
        ("DELETE", name, {}, None),
        ("PROPPATCH", "calendars/alice/calendar/", {},
         '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x'
         "</D:displayname></D:prop></D:set></D:propertyupdate>"),
        ("MKCALENDAR", "calendars/alice/other/", {}, None),
        ("MKCOL", "calendars/alice/dir/", {}, None),
        ("REPORT", "calendars/alice/calendar/", {"Depth": "1"},
         '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
         '<D:prop><C:calendar-data/></D:prop><C:filter>'
         '<C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'),
        ("MOVE", name, {"Destination": bob.url("calendars/bob/calendar/x.ics")}, None),
        ("COPY", name, {"Destination": bob.url("calendars/bob/calendar/x.ics")}, None),
    ]
    for method, rel, headers, body in attempts:
        r = bob.request(method, rel, headers=headers,
                        data=body.encode() if body else None)
        assert r.status_code == 403, "%s %s as bob: %d" % (method, rel, r.status_code)
        assert secret not in r.text, "%s %s leaked alice's data" % (method, rel)
        if method != "HEAD":
            assert "need-privileges" in r.text, (method, r.text[:300])

    # bob's own things may not point into alice's home either
    bob.put("calendars/bob/calendar/mine.ics", (EVENT % ("mine", "mine")).encode(),
            content_type="text/calendar")
    r = bob.request("COPY", "calendars/bob/calendar/mine.ics",
                    headers={"Destination": dav.url("calendars/alice/calendar/mine.ics")})
    assert r.status_code == 403

    # multiget with a foreign href: 403 for that href, nothing of its data
    body = ('<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            "<D:href>/dav/calendars/bob/calendar/mine.ics</D:href>"
            "<D:href>/dav/%s</D:href></C:calendar-multiget>" % name)
    r = bob.request("REPORT", "calendars/bob/calendar/", headers={"Depth": "1"},
                    data=body.encode())
    assert r.status_code == 207
    assert secret not in r.text
    statuses = {}
    for resp in ET.fromstring(r.content).findall(D + "response"):
        st = resp.find(D + "status")
        statuses[resp.find(D + "href").text] = st.text if st is not None else "props"
    assert statuses["/dav/" + name].split()[1] == "403"
    assert statuses["/dav/calendars/bob/calendar/mine.ics"] == "props"

    # alice's data is intact
    r = dav.get(name)
    assert r.status_code == 200 and secret in r.text and "bob was here" not in r.text


def test_listing_shows_only_what_the_user_may_read(dav, bob):
    propfind(dav, "")
    propfind(bob, "")
    listing = ok_props(propfind(bob, "calendars/", depth="1"))
    assert set(listing) == {"/dav/calendars/", "/dav/calendars/bob/"}
    # principals are readable by everyone (clients look people up)
    p = ok_props(propfind(bob, "principals/", depth="1"))
    assert {"/dav/principals/alice/", "/dav/principals/bob/"} <= set(p)
    r = bob.request("PROPPATCH", "principals/alice/", data=(
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x'
        "</D:displayname></D:prop></D:set></D:propertyupdate>").encode())
    assert r.status_code == 403


def test_python_caldav_discovers_the_default_calendar(server):
    caldav = pytest.importorskip("caldav")
    client = caldav.DAVClient(url=server.base_url, username="alice", password="alice")
    principal = client.principal()
    assert urlsplit(str(principal.url)).path == "/dav/principals/alice/"
    urls = [urlsplit(str(c.url)).path for c in principal.calendars()]
    assert "/dav/calendars/alice/calendar/" in urls


def privileges(client, rel):
    body = ('<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/>'
            "</D:prop></D:propfind>")
    props = ok_props(propfind(client, rel, body))
    (only,) = props.values()
    return {p[0].tag.split("}")[1] for p in only[D + "current-user-privilege-set"]}


def test_current_user_privilege_set(dav, bob):
    propfind(dav, "")
    propfind(bob, "")
    full = {"all", "read", "read-current-user-privilege-set", "write", "write-properties",
            "write-content", "bind", "unbind", "read-free-busy", "read-acl", "write-acl"}
    assert privileges(dav, "calendars/alice/calendar/") == full
    assert privileges(dav, "principals/alice/") == full
    assert privileges(bob, "principals/alice/") == {
        "read", "read-current-user-privilege-set", "read-free-busy"}


def test_discovery_from_well_known_with_only_an_account(server):
    """RFC 6764 + RFC 5397 + RFC 4791 6: well-known -> context path ->
    current-user-principal -> calendar-home-set -> calendars, with nothing
    but the server's origin and bob's user name and password."""
    import requests

    origin = server.base_url.split("/dav/")[0]
    s = requests.Session()
    s.auth = ("bob", "bob")
    body = ('<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/>'
            "</D:prop></D:propfind>")
    r = s.request("PROPFIND", origin + "/.well-known/caldav", data=body,
                  headers={"Depth": "0"}, timeout=10, allow_redirects=False)
    assert r.status_code == 301
    context = urlsplit(r.headers["Location"]).path
    assert context == "/dav/"
    r = s.request("PROPFIND", origin + context, data=body, headers={"Depth": "0"},
                  timeout=10)
    (props,) = ok_props(r).values()
    (principal,) = hrefs(props[D + "current-user-principal"])
    r = s.request("PROPFIND", origin + principal, data=PRINCIPAL_PROPS,
                  headers={"Depth": "0"}, timeout=10)
    (home,) = hrefs(ok_props(r)[principal][C + "calendar-home-set"])
    r = s.request("PROPFIND", origin + home, headers={"Depth": "1"}, timeout=10,
                  data=('<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/>'
                        "</D:prop></D:propfind>"))
    calendars = [h for h, p in ok_props(r).items()
                 if p[D + "resourcetype"].find(C + "calendar") is not None]
    assert (principal, home, calendars) == (
        "/dav/principals/bob/", "/dav/calendars/bob/", ["/dav/calendars/bob/calendar/"])
