"""OPTIONS, authentication, MKCOL."""

import requests

from davclient import Dav, q


def tokens(header):
    return {t.strip() for t in (header or "").split(",") if t.strip()}


def test_options_root(dav):
    r = dav.options("")
    assert r.status_code == 200
    assert "1" in tokens(r.headers.get("DAV")), r.headers.get("DAV")
    allow = tokens(r.headers.get("Allow"))
    for m in ("OPTIONS", "GET", "HEAD", "DELETE", "PROPFIND", "PROPPATCH", "COPY", "MOVE"):
        assert m in allow, "%s not in Allow: %s" % (m, r.headers.get("Allow"))


def test_options_missing_resource_allows_put_and_mkcol(dav, coll):
    r = dav.options(coll + "nothing-here")
    assert r.status_code == 200
    assert "1" in tokens(r.headers.get("DAV"))
    allow = tokens(r.headers.get("Allow"))
    assert {"PUT", "MKCOL", "OPTIONS"} <= allow, r.headers.get("Allow")
    assert "DELETE" not in allow and "PROPPATCH" not in allow, r.headers.get("Allow")


def test_unauthenticated_is_401(server, dav, coll):
    url = dav.url(coll)
    for method in ("GET", "PROPFIND", "OPTIONS", "PUT", "DELETE", "MKCOL"):
        r = requests.request(method, url + "x", timeout=30)
        assert r.status_code == 401, "%s: %d" % (method, r.status_code)
        assert r.headers.get("WWW-Authenticate") == 'Basic realm="mod_caldav"'
    # nothing was created by the refused requests
    ms = dav.props(coll, [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll)}


def test_wrong_password_and_unknown_user_are_401(server, coll):
    for auth in (("alice", "wrong"), ("alice", ""), ("mallory", "alice")):
        c = Dav(server.base_url, auth=auth)
        r = c.propfind(coll)
        assert r.status_code == 401, "%r: %d" % (auth, r.status_code)
        r = c.put(coll + "x", b"data")
        assert r.status_code == 401
    assert Dav(server.base_url).get(coll + "x").status_code == 404


def test_second_user_can_log_in(server, coll):
    bob = Dav(server.base_url, auth=("bob", "bob"))
    r = bob.propfind(coll)
    assert r.status_code == 207


def test_mkcol(dav, coll):
    r = dav.mkcol(coll + "sub/")
    assert r.status_code == 201
    ms = dav.props(coll + "sub/", [("DAV:", "resourcetype")])
    assert ms[dav.path(coll + "sub/")].is_collection()
    # without the trailing slash the same collection is addressed
    r = dav.mkcol(coll + "sub")
    assert r.status_code == 405


def test_mkcol_again_is_405_and_keeps_members(dav, coll):
    assert dav.mkcol(coll + "c/").status_code == 201
    assert dav.put(coll + "c/member", b"keep me").status_code == 201
    before = dav.snapshot(coll + "c/")
    r = dav.mkcol(coll + "c/")
    assert r.status_code == 405
    dav.assert_unchanged(coll + "c/", before)


def test_mkcol_over_resource_is_405(dav, coll):
    assert dav.put(coll + "plain", b"plain").status_code == 201
    r = dav.mkcol(coll + "plain")
    assert r.status_code == 405
    g = dav.get(coll + "plain")
    assert g.status_code == 200 and g.content == b"plain"


def test_mkcol_missing_parent_is_409(dav, coll):
    r = dav.mkcol(coll + "no/such/")
    assert r.status_code == 409
    assert dav.propfind(coll + "no/").status_code == 404
    assert dav.propfind(coll + "no/such/").status_code == 404


def test_mkcol_with_body_is_415(dav, coll):
    r = dav.mkcol(coll + "withbody/", headers={"Content-Type": "text/xml"},
                  body=b'<?xml version="1.0"?><x/>')
    assert r.status_code == 415
    assert dav.propfind(coll + "withbody/").status_code == 404


def test_mkcol_is_listed_as_collection(dav, coll):
    assert dav.mkcol(coll + "listed/").status_code == 201
    ms = dav.props(coll, [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll), dav.path(coll + "listed/")}
    assert ms[dav.path(coll + "listed/")].is_collection()
    rt = ms[dav.path(coll + "listed/")].props()[q("resourcetype")]
    assert [c.tag for c in rt] == [q("collection")]
