"""Conditional requests: If-Match, If-None-Match, If-(Un)Modified-Since, If:."""

import pytest

V1 = b"BEGIN:VCALENDAR\r\nX-VERSION:1\r\nEND:VCALENDAR\r\n"
V2 = b"BEGIN:VCALENDAR\r\nX-VERSION:2\r\nEND:VCALENDAR\r\n"
PAST = "Mon, 01 Jan 2001 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


@pytest.fixture
def res(dav, coll):
    """An existing resource with content V1: (relative path, its ETag)."""
    rel = coll + "res.ics"
    assert dav.put(rel, V1, "text/calendar").status_code == 201
    etag = dav.get(rel).headers["ETag"]
    return rel, etag


def content(dav, rel):
    g = dav.get(rel)
    return g.status_code, g.content, g.headers.get("ETag")


def test_if_none_match_star_on_existing_is_412(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    r = dav.put(rel, V2, "text/calendar", headers={"If-None-Match": "*"})
    assert r.status_code == 412
    dav.assert_unchanged(coll, before)
    assert content(dav, rel) == (200, V1, etag)


def test_if_none_match_star_on_new_creates(dav, coll):
    r = dav.put(coll + "new.ics", V1, "text/calendar", headers={"If-None-Match": "*"})
    assert r.status_code == 201
    assert dav.get(coll + "new.ics").content == V1


def test_if_match_right_etag(dav, res):
    rel, etag = res
    r = dav.put(rel, V2, "text/calendar", headers={"If-Match": etag})
    assert r.status_code == 204
    code, body, new = content(dav, rel)
    assert (code, body) == (200, V2) and new != etag


def test_if_match_wrong_etag_is_412(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    for wrong in ('"not-the-etag"', 'W/' + etag, '"x", "y"'):
        r = dav.put(rel, V2, "text/calendar", headers={"If-Match": wrong})
        assert r.status_code == 412, wrong
    dav.assert_unchanged(coll, before)


def test_if_match_on_missing_is_412(dav, coll):
    for cond in ("*", '"whatever"'):
        r = dav.put(coll + "missing.ics", V1, "text/calendar", headers={"If-Match": cond})
        assert r.status_code == 412, cond
    assert dav.get(coll + "missing.ics").status_code == 404


def test_get_if_none_match_current_is_304(dav, res):
    rel, etag = res
    r = dav.get(rel, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers.get("ETag") == etag
    r = dav.get(rel, headers={"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == V1


def test_get_if_modified_since(dav, res):
    rel, _ = res
    lm = dav.head(rel).headers["Last-Modified"]
    # Not modified since its own Last-Modified -> 304.
    assert dav.get(rel, headers={"If-Modified-Since": lm}).status_code == 304
    # Modified since 2001 -> 200 with the body.
    r = dav.get(rel, headers={"If-Modified-Since": PAST})
    assert r.status_code == 200 and r.content == V1
    # A date in the future is invalid and ignored (RFC 9110 13.1.3;
    # ap_meets_conditions only answers 304 when IMS <= request time).
    r = dav.get(rel, headers={"If-Modified-Since": FUTURE})
    assert r.status_code == 200 and r.content == V1


def test_put_if_unmodified_since(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    r = dav.put(rel, V2, "text/calendar", headers={"If-Unmodified-Since": PAST})
    assert r.status_code == 412
    dav.assert_unchanged(coll, before)
    r = dav.put(rel, V2, "text/calendar", headers={"If-Unmodified-Since": FUTURE})
    assert r.status_code == 204
    assert dav.get(rel).content == V2


def test_if_header_etag_condition(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    r = dav.put(rel, V2, "text/calendar", headers={"If": '(["wrong-etag"])'})
    assert r.status_code == 412
    r = dav.put(rel, V2, "text/calendar", headers={"If": "(Not [%s])" % etag})
    assert r.status_code == 412
    dav.assert_unchanged(coll, before)
    r = dav.put(rel, V2, "text/calendar", headers={"If": "([%s])" % etag})
    assert r.status_code == 204
    assert dav.get(rel).content == V2


def test_if_header_tagged_list(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    tagged = "<%s> ([%s])" % (dav.url(rel), '"wrong-etag"')
    assert dav.put(rel, V2, "text/calendar", headers={"If": tagged}).status_code == 412
    dav.assert_unchanged(coll, before)
    tagged = "<%s> ([%s])" % (dav.url(rel), etag)
    assert dav.put(rel, V2, "text/calendar", headers={"If": tagged}).status_code == 204
    assert dav.get(rel).content == V2


def test_delete_if_match(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    assert dav.delete(rel, headers={"If-Match": '"wrong"'}).status_code == 412
    dav.assert_unchanged(coll, before)
    assert dav.delete(rel, headers={"If-Match": etag}).status_code == 204
    assert dav.get(rel).status_code == 404


def test_proppatch_if_match(dav, coll, res):
    rel, etag = res
    before = dav.snapshot(coll)
    prop = '<A:x xmlns:A="urn:example:cond">1</A:x>'
    r = dav.proppatch(rel, [("set", [prop])], headers={"If-Match": '"wrong"'})
    assert r.status_code == 412
    dav.assert_unchanged(coll, before)
    r = dav.proppatch(rel, [("set", [prop])], headers={"If-Match": etag})
    assert r.status_code == 207
