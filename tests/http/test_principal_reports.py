"""The principal REPORTs of RFC 3744 section 9 (acl-principal-prop-set,
principal-match, principal-property-search, principal-search-property-set)
and RFC 3253 expand-property.

The module runs its own server (a fresh store) so that the principal
collection holds exactly alice's and bob's principals and their display
names can be changed freely: alice's is "Alice Ärger" (non-ASCII, for the
case-insensitive match), bob's stays "bob" as provisioned.
"""

import uuid
import xml.etree.ElementTree as ET

import pytest

from davclient import Dav, status_code

pytestmark = pytest.mark.caldav_only

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
CNS = "urn:ietf:params:xml:ns:caldav"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ALICE = "/dav/principals/alice/"
BOB = "/dav/principals/bob/"
ALICE_NAME = "Alice \u00c4rger"
ALICE_ADDR = "mailto:alice@127.0.0.1"
BOB_ADDR = "mailto:bob@127.0.0.1"

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
         "DTSTART:20240610T090000Z\r\nDTEND:20240610T100000Z\r\n"
         "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

SECRET = "secret-%s" % uuid.uuid4().hex


@pytest.fixture(scope="module")
def preports_server(servers, request):
    srv = servers.new("preports")
    alice = Dav(srv.base_url, auth=("alice", "alice"))
    bob = Dav(srv.base_url, auth=("bob", "bob"))
    for client in (alice, bob):          # provisions principal, home, calendar
        r = client.propfind("", [("DAV:", "current-user-principal")])
        assert r.status_code == 207, r.text[:300]
    r = alice.proppatch("principals/alice/", [
        ("set", ['<D:displayname xmlns:D="DAV:">%s</D:displayname>' % ALICE_NAME])])
    assert r.status_code == 207 and " 200 " in r.text, r.text[:300]
    # things in alice's home bob must never see
    r = alice.proppatch("calendars/alice/", [
        ("set", ['<D:displayname xmlns:D="DAV:">%s</D:displayname>' % SECRET])])
    assert r.status_code == 207 and " 200 " in r.text, r.text[:300]
    r = alice.put("calendars/alice/calendar/secret.ics",
                  (EVENT % (SECRET, SECRET)).encode(), content_type="text/calendar")
    assert r.status_code == 201
    r = alice.mkcalendar("calendars/alice/work/")
    assert r.status_code == 201
    r = alice.mkcol("open/")
    assert r.status_code == 201
    alice.session.close()
    bob.session.close()
    yield srv
    problems = servers.finish(srv, keep=request.session.testsfailed > 0)
    if problems:
        pytest.fail("httpd crashed or a sanitizer reported (principal reports server):\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture
def alice(preports_server):
    client = Dav(preports_server.base_url, auth=("alice", "alice"))
    yield client
    client.session.close()


@pytest.fixture
def bob(preports_server):
    client = Dav(preports_server.base_url, auth=("bob", "bob"))
    yield client
    client.session.close()


def report(client, rel, body, depth="0"):
    headers = {"Content-Type": "application/xml; charset=utf-8"}
    if depth is not None:
        headers["Depth"] = depth
    return client.request("REPORT", rel, headers=headers,
                          data=('<?xml version="1.0" encoding="utf-8"?>' + body).encode())


def responses(resp):
    """[(href, status or None, {status: {tag: element}}, element)] in order."""
    assert resp.status_code == 207, (resp.status_code, resp.text[:500])
    assert resp.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == D + "multistatus"
    return [parse_response(r) for r in root.findall(D + "response")]


def parse_response(r):
    hrefs = r.findall(D + "href")
    assert len(hrefs) == 1
    st = r.find(D + "status")
    props = {}
    for ps in r.findall(D + "propstat"):
        code = status_code(ps.find(D + "status").text)
        props.setdefault(code, {}).update({p.tag: p for p in ps.find(D + "prop")})
    return hrefs[0].text, status_code(st.text) if st is not None else None, props, r


def hrefs_of(elem):
    return [h.text for h in elem.findall(D + "href")]


def forbidden(resp, privilege):
    assert resp.status_code == 403, (resp.status_code, resp.text[:300])
    root = ET.fromstring(resp.content)
    assert root.tag == D + "error"
    need = root.find(D + "need-privileges")
    assert need is not None, resp.text
    assert [p.tag for p in need.iter() if p.tag == privilege] == [privilege], resp.text


# --- principal-search-property-set (RFC 3744 9.5) -------------------------------

PSPS = '<D:principal-search-property-set xmlns:D="DAV:"/>'


def test_search_property_set_lists_displayname_and_address_set(alice):
    r = report(alice, "principals/", PSPS)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == D + "principal-search-property-set"
    got = []
    for psp in root:
        assert psp.tag == D + "principal-search-property"
        (prop,) = psp.findall(D + "prop")
        desc = psp.find(D + "description")
        assert desc.get(XML_LANG) == "en"
        got.append(([p.tag for p in prop], desc.text))
    assert got == [([D + "displayname"], "Display name"),
                   ([C + "calendar-user-address-set"], "Calendar user addresses")]


def test_search_property_set_only_on_the_principal_collection_at_depth_0(alice):
    r = report(alice, "principals/alice/", PSPS)
    assert r.status_code == 403
    assert ET.fromstring(r.content).find(D + "supported-report") is not None
    r = report(alice, "principals/", PSPS, depth="1")
    assert r.status_code == 400
    r = report(alice, "principals/", PSPS, depth=None)      # absent = 0
    assert r.status_code == 200


# --- principal-property-search (RFC 3744 9.4) ------------------------------------

def pps(searches, prop="<D:displayname/>", test=None, apply=False):
    """searches: [(prop xml, match text, match-type or None)]."""
    items = "".join(
        "<D:property-search><D:prop>%s</D:prop><D:match%s>%s</D:match></D:property-search>"
        % (p, ' match-type="%s"' % t if t else "", m) for p, m, t in searches)
    return ('<D:principal-property-search %s%s>%s%s%s</D:principal-property-search>'
            % (NS, ' test="%s"' % test if test else "", items,
               "<D:apply-to-principal-collection-set/>" if apply else "",
               "<D:prop>%s</D:prop>" % prop if prop is not None else ""))


def found(resp):
    return [h for h, _, _, _ in responses(resp)]


def test_property_search_displayname_is_a_caseless_substring(alice, bob):
    r = report(bob, "principals/", pps([("<D:displayname/>", "\u00e4RG", None)],
                                       prop="<D:displayname/><C:calendar-home-set/>"
                                            "<C:calendar-user-address-set/>"))
    (resp,) = responses(r)
    href, status, props, _ = resp
    assert href == ALICE and status is None and list(props) == [200]
    ok = props[200]
    assert ok[D + "displayname"].text == ALICE_NAME
    assert hrefs_of(ok[C + "calendar-home-set"]) == ["/dav/calendars/alice/"]
    assert hrefs_of(ok[C + "calendar-user-address-set"]) == [ALICE_ADDR, ALICE]
    assert SECRET not in r.text

    assert found(report(alice, "principals/", pps([("<D:displayname/>", "BOB", None)]))) == [BOB]
    assert found(report(alice, "principals/", pps([("<D:displayname/>", "nobody", None)]))) == []
    # the empty string is in every name
    everyone = pps([("<D:displayname/>", "", None)])
    assert found(report(alice, "principals/", everyone)) == [ALICE, BOB]


def test_property_search_address_set_and_match_types(alice):
    def search(text, mtype=None, prop="<C:calendar-user-address-set/>"):
        return found(report(alice, "principals/", pps([(prop, text, mtype)])))

    assert search("BOB@127") == [BOB]
    assert search(BOB_ADDR.upper(), "equals") == [BOB]
    assert search("mailto:bob", "equals") == []
    assert search("MAILTO:A", "starts-with") == [ALICE]
    assert search("alice@", "starts-with") == []
    assert search("/principals/alice/", "ends-with") == [ALICE]
    assert search("bob", "equals", "<D:displayname/>") == [BOB]
    assert search("bo", "equals", "<D:displayname/>") == []
    r = report(alice, "principals/", pps([("<D:displayname/>", "x", "regex")]))
    assert r.status_code == 400


def test_property_search_allof_and_anyof(alice):
    both = [("<D:displayname/>", "alice", None), ("<C:calendar-user-address-set/>", "bob@", None)]
    assert found(report(alice, "principals/", pps(both))) == []
    assert found(report(alice, "principals/", pps(both, test="allof"))) == []
    assert found(report(alice, "principals/", pps(both, test="anyof"))) == [ALICE, BOB]
    same = [("<D:displayname/>", "alice", None),
            ("<C:calendar-user-address-set/>", "alice@", None)]
    assert found(report(alice, "principals/", pps(same))) == [ALICE]
    # several properties in one property-search must all match
    one = [("<D:displayname/><C:calendar-user-address-set/>", "alice", None)]
    assert found(report(alice, "principals/", pps(one))) == [ALICE]
    one = [("<D:displayname/><C:calendar-user-address-set/>", "\u00e4rger", None)]
    assert found(report(alice, "principals/", pps(one))) == []
    r = report(alice, "principals/", pps(both, test="someof"))
    assert r.status_code == 400


def test_property_search_ignores_unsearchable_properties(alice):
    # decision: a property outside principal-search-property-set never matches
    unsupported = ("<C:calendar-home-set/>", "alice", None)
    assert found(report(alice, "principals/", pps([unsupported]))) == []
    searches = [unsupported, ("<D:displayname/>", "bob", None)]
    assert found(report(alice, "principals/", pps(searches, test="anyof"))) == [BOB]
    assert found(report(alice, "principals/", pps(searches))) == []


def test_property_search_scope_and_prop(alice):
    search = [("<D:displayname/>", "bob", None)]
    # the calendar home holds no principals, unless the search is applied to
    # the principal-collection-set
    assert found(report(alice, "calendars/alice/", pps(search))) == []
    assert found(report(alice, "calendars/alice/", pps(search, apply=True))) == [BOB]
    # without DAV:prop: the href and a 200 status
    (resp,) = responses(report(alice, "principals/", pps(search, prop=None)))
    assert resp[:3] == (BOB, 200, {})
    # unknown properties asked for come back 404
    (resp,) = responses(report(alice, "principals/", pps(
        search, prop='<D:displayname/><X:nothing xmlns:X="urn:x-test"/>')))
    assert resp[2][200][D + "displayname"].text == "bob"
    assert list(resp[2][404]) == ["{urn:x-test}nothing"]


def test_property_search_bad_requests(alice):
    r = report(alice, "principals/", pps([("<D:displayname/>", "bob", None)]), depth="1")
    assert r.status_code == 400
    r = report(alice, "principals/", '<D:principal-property-search xmlns:D="DAV:">'
               "<D:prop><D:displayname/></D:prop></D:principal-property-search>")
    assert r.status_code == 400
    r = report(alice, "principals/", '<D:principal-property-search xmlns:D="DAV:">'
               "<D:property-search><D:prop><D:displayname/></D:prop></D:property-search>"
               "</D:principal-property-search>")
    assert r.status_code == 400


# --- principal-match (RFC 3744 9.3) ------------------------------------------------

def pm(what, prop="<D:displayname/>"):
    return ('<D:principal-match %s>%s%s</D:principal-match>'
            % (NS, what, "<D:prop>%s</D:prop>" % prop if prop is not None else ""))


SELF = "<D:self/>"
OWNER = "<D:principal-property><D:owner/></D:principal-property>"


def test_principal_match_self(alice, bob):
    (resp,) = responses(report(alice, "principals/", pm(SELF)))
    assert resp[0] == ALICE and resp[2][200][D + "displayname"].text == ALICE_NAME
    (resp,) = responses(report(bob, "principals/", pm(SELF)))
    assert resp[0] == BOB and resp[2][200][D + "displayname"].text == "bob"
    (resp,) = responses(report(bob, "principals/", pm(SELF, prop=None)))
    assert resp[:3] == (BOB, 200, {})
    # members of other collections are no principals
    assert responses(report(alice, "calendars/alice/", pm(SELF))) == []


def test_principal_match_owner(alice, bob):
    got = responses(report(alice, "calendars/alice/", pm(OWNER, prop="<D:owner/>")))
    assert [g[0] for g in got] == ["/dav/calendars/alice/calendar/",
                                   "/dav/calendars/alice/work/"]
    for g in got:
        assert hrefs_of(g[2][200][D + "owner"]) == [ALICE]
    # every home is a member of calendars/: only one's own is returned
    assert found(report(bob, "calendars/", pm(OWNER))) == ["/dav/calendars/bob/"]
    assert found(report(alice, "calendars/", pm(OWNER))) == ["/dav/calendars/alice/"]
    # members nobody owns (outside the homes) never match
    assert found(report(alice, "", pm(OWNER))) == []
    # another user's home: refused before anything is looked at
    r = report(bob, "calendars/alice/", pm(OWNER))
    forbidden(r, D + "read")
    assert SECRET not in r.text


def test_principal_match_other_principal_property(alice):
    prop = "<D:principal-property><D:principal-URL/></D:principal-property>"
    assert found(report(alice, "principals/", pm(prop))) == [ALICE]
    prop = "<D:principal-property><C:calendar-user-address-set/></D:principal-property>"
    assert found(report(alice, "principals/", pm(prop))) == [ALICE]
    prop = "<D:principal-property><D:displayname/></D:principal-property>"
    assert found(report(alice, "principals/", pm(prop))) == []


def test_principal_match_bad_requests(alice):
    assert report(alice, "principals/", pm(SELF), depth="1").status_code == 400
    assert report(alice, "principals/", pm(SELF + OWNER)).status_code == 400
    assert report(alice, "principals/", pm("")).status_code == 400
    assert report(alice, "principals/", pm("<D:principal-property/>")).status_code == 400


# --- expand-property (RFC 3253 3.8) -------------------------------------------------

def ep(props):
    return '<D:expand-property %s>%s</D:expand-property>' % (NS, props)


def prop(name, inner="", ns=None):
    return '<D:property name="%s"%s>%s</D:property>' % (
        name, ' namespace="%s"' % ns if ns else "", inner)


def nested(value_elem):
    """The D:response elements inside a property value."""
    return [parse_response(r) for r in value_elem.findall(D + "response")]


def test_expand_current_user_principal(alice):
    # what Apple clients send first
    body = ep(prop("current-user-principal",
                   prop("displayname") + prop("calendar-user-address-set", ns=CNS)
                   + prop("principal-URL")))
    (top,) = responses(report(alice, "", body))
    assert top[0] == "/dav/" and list(top[2]) == [200]
    cup = top[2][200][D + "current-user-principal"]
    assert hrefs_of(cup) == []
    (inner,) = nested(cup)
    href, status, props, _ = inner
    assert href == ALICE and status is None and list(props) == [200]
    assert props[200][D + "displayname"].text == ALICE_NAME
    assert hrefs_of(props[200][C + "calendar-user-address-set"]) == [ALICE_ADDR, ALICE]
    # principal-URL had no nested properties: its href stays
    assert hrefs_of(props[200][D + "principal-URL"]) == [ALICE]


def test_expand_mixed_values_and_404s(alice):
    body = ep(prop("calendar-user-address-set", prop("displayname"), ns=CNS)
              + prop("calendar-home-set", prop("displayname") + prop("resourcetype"), ns=CNS)
              + prop("no-such-property", prop("displayname"), ns="urn:x-test")
              + prop("principal-collection-set"))
    (top,) = responses(report(alice, "principals/alice/", body))
    assert top[0] == ALICE
    assert list(top[2][404]) == ["{urn:x-test}no-such-property"]
    ok = top[2][200]
    # the mailto: address lies outside the server: a 404 response in its place
    addr = nested(ok[C + "calendar-user-address-set"])
    assert [(h, s) for h, s, _, _ in addr] == [(ALICE_ADDR, 404), (ALICE, None)]
    assert addr[1][2][200][D + "displayname"].text == ALICE_NAME
    (home,) = nested(ok[C + "calendar-home-set"])
    assert home[0] == "/dav/calendars/alice/"
    assert home[2][200][D + "displayname"].text == SECRET
    assert [c.tag for c in home[2][200][D + "resourcetype"]] == [D + "collection"]
    assert hrefs_of(ok[D + "principal-collection-set"]) == ["/dav/principals/"]


def test_expand_never_shows_another_users_home(bob):
    body = ep(prop("calendar-home-set", prop("displayname"), ns=CNS)
              + prop("displayname"))
    r = report(bob, "principals/alice/", body)
    (top,) = responses(r)
    assert top[2][200][D + "displayname"].text == ALICE_NAME
    (home,) = nested(top[2][200][C + "calendar-home-set"])
    assert home[:3] == ("/dav/calendars/alice/", 403, {})
    assert SECRET not in r.text


def test_expand_depth_is_bounded(alice):
    chain = prop("displayname")
    for _ in range(5):
        chain = prop("principal-URL", chain)
    (top,) = responses(report(alice, "principals/alice/", ep(chain)))
    value, depth = top[2][200][D + "principal-URL"], 0
    while True:
        inner = nested(value)
        if not inner:
            break
        (resp,) = inner
        assert resp[0] == ALICE
        depth += 1
        value = resp[2][200][D + "principal-URL"]
    # three levels of responses, then the plain href
    assert depth == 3
    assert hrefs_of(value) == [ALICE]


def test_expand_owner_of_a_calendar_object(alice):
    body = ep(prop("owner", prop("displayname")) + prop("getcontenttype"))
    (top,) = responses(report(alice, "calendars/alice/calendar/secret.ics", body))
    assert top[0] == "/dav/calendars/alice/calendar/secret.ics"
    assert top[2][200][D + "getcontenttype"].text.startswith("text/calendar")
    (owner,) = nested(top[2][200][D + "owner"])
    assert owner[0] == ALICE and owner[2][200][D + "displayname"].text == ALICE_NAME


def test_expand_bad_requests(alice):
    assert report(alice, "", ep(prop("current-user-principal")), depth="1").status_code == 400
    r = report(alice, "", ep('<D:property namespace="DAV:"/>'))
    assert r.status_code == 400
    r = report(alice, "", ep(prop("a b")))
    assert r.status_code == 400


# --- acl-principal-prop-set (RFC 3744 9.2) -----------------------------------------

def apps(prop="<D:displayname/>"):
    return ('<D:acl-principal-prop-set %s>%s</D:acl-principal-prop-set>'
            % (NS, "<D:prop>%s</D:prop>" % prop if prop is not None else ""))


def test_acl_principal_prop_set_names_the_owner(alice):
    (resp,) = responses(report(alice, "calendars/alice/calendar/",
                               apps("<D:displayname/><C:calendar-user-address-set/>")))
    assert resp[0] == ALICE and list(resp[2]) == [200]
    assert resp[2][200][D + "displayname"].text == ALICE_NAME
    assert hrefs_of(resp[2][200][C + "calendar-user-address-set"]) == [ALICE_ADDR, ALICE]
    (resp,) = responses(report(alice, "principals/alice/", apps(None)))
    assert resp[:3] == (ALICE, 200, {})
    # a collection outside every home and principal: no ACL principals
    assert responses(report(alice, "open/", apps())) == []


def test_acl_principal_prop_set_needs_read_acl(alice, bob):
    # bob may read alice's principal, but not its ACL
    forbidden(report(bob, "principals/alice/", apps()), D + "read-acl")
    r = report(bob, "calendars/alice/calendar/", apps())
    assert r.status_code == 403 and SECRET not in r.text
    assert report(alice, "calendars/alice/", apps(), depth="1").status_code == 400


def grant(client, rel, *privileges):
    aces = "".join("<D:privilege>%s</D:privilege>" % p for p in privileges)
    body = ('<?xml version="1.0"?><D:acl %s>%s</D:acl>'
            % (NS, "<D:ace><D:principal><D:href>%s</D:href></D:principal>"
                   "<D:grant>%s</D:grant></D:ace>" % (BOB, aces) if aces else ""))
    return client.request("ACL", rel, headers={"Content-Type": "application/xml"},
                          data=body.encode())


def test_sharee_reads_the_calendar_but_not_its_acl(alice, bob):
    rel = "calendars/alice/work/"
    assert grant(alice, rel, "<D:read/>", "<D:write/>").status_code == 200
    try:
        # read-acl stays with the owner, also for a sharee with DAV:write
        forbidden(report(bob, rel, apps()), D + "read-acl")
        (top,) = responses(report(bob, rel, ep(prop("owner", prop("displayname")))))
        assert top[0] == "/dav/" + rel
        (owner,) = nested(top[2][200][D + "owner"])
        assert owner[0] == ALICE and owner[2][200][D + "displayname"].text == ALICE_NAME
        # the calendar is alice's, not bob's; the unshared one stays invisible
        r = report(bob, "calendars/alice/", pm(OWNER, prop="<D:displayname/>"))
        assert responses(r) == [] and SECRET not in r.text
    finally:
        assert grant(alice, rel).status_code == 200
    forbidden(report(bob, rel, ep(prop("owner"))), D + "read")


def test_unknown_report_is_still_refused(alice):
    r = report(alice, "principals/", '<D:no-such-report xmlns:D="DAV:"/>')
    assert r.status_code == 403
    assert ET.fromstring(r.content).find(D + "supported-report") is not None


def test_supported_report_set_by_kind(server):
    """Each kind of resource advertises exactly the reports it answers."""
    import uuid as _uuid
    from davclient import Dav as _Dav
    dav = _Dav(server.base_url, auth=("alice", "alice"))
    cal = "calendars/alice/srs-%s/" % _uuid.uuid4().hex[:8]
    assert dav.request("MKCALENDAR", cal).status_code == 201
    ev = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
          "UID:srs@x\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T000000Z\r\n"
          "END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert dav.put(cal + "e.ics", ev.encode(), content_type="text/calendar").status_code == 201

    def names(rel):
        srs = dav.prop(rel, "supported-report-set")
        return sorted(sr.find("{DAV:}report")[0].tag.split("}")[1]
                      for sr in srs.findall("{DAV:}supported-report"))

    acl3 = ["acl-principal-prop-set", "expand-property", "principal-property-search"]
    coll = acl3 + ["principal-match", "sync-collection"]
    caldav3 = ["calendar-multiget", "calendar-query", "free-busy-query"]
    assert names("principals/") == sorted(coll + ["principal-search-property-set"])
    assert names("principals/alice/") == sorted(coll)
    assert names("calendars/alice/") == sorted(coll)
    assert names(cal) == sorted(coll + caldav3)
    assert names(cal + "e.ics") == sorted(acl3 + caldav3)
    dav.delete(cal)
    dav.session.close()
