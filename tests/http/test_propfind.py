"""PROPFIND."""

import email.utils
import time
from datetime import datetime, timedelta, timezone

import pytest

from davclient import DAV, RFC1123, RFC3339, dav_error, is_strong_etag, multistatus, q

LIVE_RESOURCE = {q("resourcetype"), q("creationdate"), q("getcontentlength"),
                 q("getlastmodified"), q("getetag"), q("getcontenttype")}
LIVE_COLLECTION = {q("resourcetype"), q("creationdate"), q("getlastmodified")}


def parse_3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def around(when, start, end, slack=2):
    return start - timedelta(seconds=slack) <= when <= end + timedelta(seconds=slack)


@pytest.fixture
def populated(dav, coll):
    """coll/ with a resource, an awkwardly named one and a sub-collection."""
    start = datetime.now(timezone.utc)
    files = {"plain.ics": (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),
             "a b ü.txt": ("späce ü\r\n".encode("utf-8"), "text/plain")}
    for name, (body, ctype) in files.items():
        assert dav.put(coll + name, body, ctype).status_code == 201
    assert dav.mkcol(coll + "sub dir é/").status_code == 201
    assert dav.put(coll + "sub dir é/inner.txt", b"inner", "text/plain").status_code == 201
    end = datetime.now(timezone.utc)
    return files, start, end


def test_depth0_allprop_resource(dav, coll, populated):
    files, start, end = populated
    rel = coll + "plain.ics"
    body, ctype = files["plain.ics"]
    g = dav.get(rel)
    ms = dav.props(rel, "allprop", depth="0")
    assert ms.paths() == {dav.path(rel)}
    resp = ms[dav.path(rel)]
    assert resp.href.endswith("/plain.ics")
    props = resp.props(200)
    assert LIVE_RESOURCE <= set(props), sorted(props)
    assert not resp.is_collection()
    assert len(props[q("resourcetype")]) == 0
    assert resp.text(q("getetag")) == g.headers["ETag"]
    assert is_strong_etag(resp.text(q("getetag")))
    assert resp.text(q("getcontentlength")) == str(len(body))
    assert resp.text(q("getcontenttype")) == ctype == g.headers["Content-Type"]
    lm = resp.text(q("getlastmodified"))
    assert RFC1123.match(lm), lm
    assert lm == g.headers["Last-Modified"]
    assert around(email.utils.parsedate_to_datetime(lm), start, end)
    cd = resp.text(q("creationdate"))
    assert RFC3339.match(cd), cd
    assert around(parse_3339(cd), start, end)


def test_depth0_collection(dav, coll, populated):
    ms = dav.props(coll, "allprop", depth="0")
    assert ms.paths() == {dav.path(coll)}
    resp = ms[dav.path(coll)]
    assert resp.href.endswith("/") and resp.path.endswith("/")
    assert resp.is_collection()
    props = resp.props(200)
    assert LIVE_COLLECTION <= set(props), sorted(props)
    assert [c.tag for c in props[q("resourcetype")]] == [q("collection")]
    assert RFC3339.match(resp.text(q("creationdate")))
    assert RFC1123.match(resp.text(q("getlastmodified")))


def test_depth1_lists_members_with_encoded_hrefs(dav, coll, populated):
    files, _, _ = populated
    ms = dav.props(coll, "allprop", depth="1")
    expect = {dav.path(coll), dav.path(coll + "plain.ics"), dav.path(coll + "a b ü.txt"),
              dav.path(coll + "sub dir é/")}
    assert ms.paths() == expect          # nothing from below sub dir é/
    for path, resp in ms.responses.items():
        raw = resp.href
        assert " " not in raw and all(ord(c) < 128 for c in raw), raw
        assert resp.is_collection() == path.endswith("/"), path
        assert raw.endswith("/") == path.endswith("/")
    for name, (body, ctype) in files.items():
        resp = ms[dav.path(coll + name)]
        assert resp.text(q("getcontentlength")) == str(len(body))
        assert resp.text(q("getcontenttype")) == ctype
        assert resp.text(q("getetag")) == dav.get(coll + name).headers["ETag"]
    assert "%20" in ms[dav.path(coll + "a b ü.txt")].href
    assert ms[dav.path(coll + "a b ü.txt")].href.lower().endswith("a%20b%20%c3%bc.txt")


def test_depth1_on_resource_is_just_the_resource(dav, coll, populated):
    ms = dav.props(coll + "plain.ics", [(DAV, "getcontentlength")], depth="1")
    assert ms.paths() == {dav.path(coll + "plain.ics")}


def test_propname(dav, coll, populated):
    prop = '<X:color xmlns:X="urn:example:pn">red</X:color>'
    assert dav.proppatch(coll + "plain.ics", [("set", [prop])]).status_code == 207
    ms = dav.props(coll, "propname", depth="1")
    assert len(ms.paths()) == 4
    res = ms[dav.path(coll + "plain.ics")]
    names = res.props(200)
    assert (LIVE_RESOURCE | {"{urn:example:pn}color"}) <= set(names), sorted(names)
    for qname, elem in names.items():
        assert len(elem) == 0 and not (elem.text or "").strip(), "%s has a value" % qname
    assert [code for code, _ in res.propstats] == [200]
    colnames = ms[dav.path(coll)].props(200)
    assert LIVE_COLLECTION <= set(colnames)


def test_named_props_found_and_missing(dav, coll, populated):
    rel = coll + "plain.ics"
    ms = dav.props(rel, [(DAV, "getetag"), (DAV, "getcontentlength"),
                         ("urn:example:none", "absent"), (DAV, "displayname-not-a-prop")])
    resp = ms[dav.path(rel)]
    assert set(resp.props(200)) == {q("getetag"), q("getcontentlength")}
    assert set(resp.props(404)) == {"{urn:example:none}absent", q("displayname-not-a-prop")}
    assert sorted(code for code, _ in resp.propstats) == [200, 404]
    assert resp.text(q("getetag")) == dav.get(rel).headers["ETag"]


def test_no_body_means_allprop(dav, coll, populated):
    r = dav.propfind(coll + "plain.ics", body=b"", depth="0")
    assert r.status_code == 207
    ms = multistatus(r)
    assert LIVE_RESOURCE <= set(ms[dav.path(coll + "plain.ics")].props(200))


def test_depth_infinity_is_403(dav, coll, populated):
    r = dav.propfind(coll, "allprop", depth="infinity")
    assert r.status_code == 403


@pytest.mark.caldav_only
def test_depth_infinity_has_finite_depth_error(dav, coll, populated):
    # mod_dav_fs answers with an HTML page; RFC 4918 9.1 wants the
    # DAV:propfind-finite-depth precondition element.
    for body in ("allprop", [(DAV, "getetag")]):
        r = dav.propfind(coll, body, depth="infinity")
        assert r.status_code == 403
        err = dav_error(r)
        assert err.find(q("propfind-finite-depth")) is not None, r.text


def test_bad_depth_is_400(dav, coll, populated):
    assert dav.propfind(coll, "allprop", depth="2").status_code == 400
    assert dav.propfind(coll, "allprop", depth="one").status_code == 400


def test_malformed_xml_is_400(dav, coll, populated):
    bodies = [b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>',
              b"this is not xml",
              b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfoo>',
              b'<?xml version="1.0"?><D:notpropfind xmlns:D="DAV:"/>']
    for body in bodies:
        r = dav.propfind(coll, body=body, depth="0")
        assert r.status_code == 400, body


def test_body_over_limit_is_413(dav, coll, populated):
    # LimitXMLRequestBody is 100000 in conf/httpd.conf.in
    items = "".join('<X:p%d xmlns:X="urn:example:big"/>' % i for i in range(4000))
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>%s</D:prop>'
            "</D:propfind>" % items).encode()
    assert len(body) > 100000
    r = dav.propfind(coll, body=body, depth="0")
    assert r.status_code == 413
    # just under the limit is fine
    items = "".join('<X:p%d xmlns:X="urn:example:big"/>' % i for i in range(2000))
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>%s</D:prop>'
            "</D:propfind>" % items).encode()
    assert len(body) < 100000
    r = dav.propfind(coll, body=body, depth="0")
    assert r.status_code == 207


def test_propfind_missing_is_404(dav, coll):
    assert dav.propfind(coll + "missing").status_code == 404
    assert dav.propfind(coll + "missing/").status_code == 404
    assert dav.propfind(coll + "a/b/c", depth="1").status_code == 404


def test_lastmodified_and_etag_follow_put(dav, coll):
    rel = coll + "t.txt"
    assert dav.put(rel, b"one", "text/plain").status_code == 201
    first = dav.props(rel, [(DAV, "getetag"), (DAV, "getlastmodified")])[dav.path(rel)]
    time.sleep(1.1)                  # HTTP dates have one-second resolution
    assert dav.put(rel, b"two!", "text/plain").status_code == 204
    second = dav.props(rel, [(DAV, "getetag"), (DAV, "getlastmodified"),
                             (DAV, "getcontentlength")])[dav.path(rel)]
    assert second.text(q("getetag")) != first.text(q("getetag"))
    t1 = email.utils.parsedate_to_datetime(first.text(q("getlastmodified")))
    t2 = email.utils.parsedate_to_datetime(second.text(q("getlastmodified")))
    assert t2 > t1
    assert second.text(q("getcontentlength")) == "4"
    g = dav.get(rel)
    assert g.headers["ETag"] == second.text(q("getetag"))
    assert g.headers["Last-Modified"] == second.text(q("getlastmodified"))
