"""PUT, GET, HEAD."""

import email.utils

import pytest

from davclient import RFC1123, is_strong_etag

BINARY = bytes(range(256)) * 16 + b"\x00\r\n\x00"
UTF8_CRLF = "Grüße,\r\nčřž — 日本語 — emoji \U0001F600\r\n\r\nlast line without EOL".encode("utf-8")


def assert_entity_headers(r, body, ctype, etag=None):
    assert r.headers.get("Content-Length") == str(len(body))
    assert r.headers.get("Content-Type") == ctype
    assert is_strong_etag(r.headers.get("ETag")), r.headers.get("ETag")
    if etag is not None:
        assert r.headers["ETag"] == etag
    lm = r.headers.get("Last-Modified")
    assert lm and RFC1123.match(lm), lm
    assert email.utils.parsedate_to_datetime(lm) is not None


@pytest.mark.parametrize("name,body", [("bin.dat", BINARY), ("text.txt", UTF8_CRLF),
                                       ("empty.txt", b"")])
def test_put_get_exact_bytes(dav, coll, name, body):
    r = dav.put(coll + name, body, "application/octet-stream")
    assert r.status_code == 201
    g = dav.get(coll + name)
    assert g.status_code == 200
    assert g.content == body
    assert g.headers.get("Content-Length") == str(len(body))
    assert is_strong_etag(g.headers.get("ETag")), g.headers.get("ETag")
    assert RFC1123.match(g.headers.get("Last-Modified", "")), g.headers.get("Last-Modified")


def test_put_new_201_replace_204_changes_etag(dav, coll):
    r = dav.put(coll + "a.ics", b"version 1\r\n", "text/calendar")
    assert r.status_code == 201
    g1 = dav.get(coll + "a.ics")
    assert g1.status_code == 200 and g1.content == b"version 1\r\n"
    r = dav.put(coll + "a.ics", b"version 2, longer\r\n", "text/calendar")
    assert r.status_code == 204
    assert r.content == b""
    g2 = dav.get(coll + "a.ics")
    assert g2.status_code == 200 and g2.content == b"version 2, longer\r\n"
    assert is_strong_etag(g1.headers["ETag"]) and is_strong_etag(g2.headers["ETag"])
    assert g1.headers["ETag"] != g2.headers["ETag"]
    # a stable ETag: asking again gives the same one
    assert dav.head(coll + "a.ics").headers["ETag"] == g2.headers["ETag"]


@pytest.mark.caldav_only
def test_put_response_carries_strong_etag(dav, coll):
    # mod_dav_fs sends no ETag with PUT responses; mod_caldav must (the
    # stored octets are exactly the request body).
    r1 = dav.put(coll + "e.txt", b"one", "text/plain")
    assert r1.status_code == 201
    assert is_strong_etag(r1.headers.get("ETag")), r1.headers.get("ETag")
    assert dav.get(coll + "e.txt").headers["ETag"] == r1.headers["ETag"]
    r2 = dav.put(coll + "e.txt", b"two", "text/plain")
    assert r2.status_code == 204
    assert is_strong_etag(r2.headers.get("ETag")), r2.headers.get("ETag")
    assert r2.headers["ETag"] != r1.headers["ETag"]
    assert dav.get(coll + "e.txt").headers["ETag"] == r2.headers["ETag"]
    # the same bytes again are still a new version
    r3 = dav.put(coll + "e.txt", b"two", "text/plain")
    assert r3.status_code == 204
    assert r3.headers.get("ETag") not in (None, r2.headers["ETag"])


def test_get_and_head_headers(dav, coll):
    # .ics is text/calendar in /etc/mime.types, so both providers agree.
    assert dav.put(coll + "h.ics", UTF8_CRLF, "text/calendar").status_code == 201
    g = dav.get(coll + "h.ics")
    assert g.status_code == 200
    assert g.content == UTF8_CRLF
    assert_entity_headers(g, UTF8_CRLF, "text/calendar")
    h = dav.head(coll + "h.ics")
    assert h.status_code == 200
    assert h.content == b""
    for k in ("ETag", "Content-Length", "Content-Type", "Last-Modified"):
        assert h.headers.get(k) == g.headers.get(k), k


@pytest.mark.caldav_only
@pytest.mark.parametrize("ctype", ["text/plain; charset=utf-8",
                                   "application/x-made-up",
                                   'text/calendar; charset="utf-8"; component=VEVENT'])
def test_content_type_is_stored_as_sent(dav, coll, ctype):
    # mod_dav_fs derives Content-Type from the file name; mod_caldav stores it.
    assert dav.put(coll + "ct.bin", UTF8_CRLF, ctype).status_code == 201
    g = dav.get(coll + "ct.bin")
    assert g.headers.get("Content-Type") == ctype
    h = dav.head(coll + "ct.bin")
    assert h.headers.get("Content-Type") == ctype
    ms = dav.props(coll + "ct.bin", [("DAV:", "getcontenttype")])
    assert ms[dav.path(coll + "ct.bin")].text("{DAV:}getcontenttype") == ctype


def test_put_missing_parent_is_409(dav, coll):
    r = dav.put(coll + "nope/x.txt", b"x", "text/plain")
    assert r.status_code == 409
    assert dav.get(coll + "nope/x.txt").status_code == 404
    assert dav.propfind(coll + "nope/").status_code == 404


def test_put_onto_collection_is_409(dav, coll):
    # mod_dav itself answers 409 "Cannot PUT to a collection." before the
    # provider sees the body.
    assert dav.mkcol(coll + "c/").status_code == 201
    assert dav.put(coll + "c/m", b"member").status_code == 201
    before = dav.snapshot(coll + "c/")
    for target in ("c/", "c"):
        r = dav.put(coll + target, b"overwrite?", "text/plain")
        assert r.status_code == 409, target
    dav.assert_unchanged(coll + "c/", before)


def test_put_malformed_content_range_is_400(dav, coll):
    assert dav.put(coll + "r.txt", b"original", "text/plain").status_code == 201
    before = dav.snapshot(coll)
    r = dav.put(coll + "r.txt", b"X", "text/plain", headers={"Content-Range": "garbage"})
    assert r.status_code == 400
    dav.assert_unchanged(coll, before)


@pytest.mark.caldav_only
def test_put_with_content_range_is_refused(dav, coll):
    # mod_dav_fs applies partial PUTs (204); mod_caldav must refuse them
    # (RFC 9110 14.5) and must not change anything.
    assert dav.put(coll + "r.txt", b"original", "text/plain").status_code == 201
    before = dav.snapshot(coll)
    r = dav.put(coll + "r.txt", b"X", "text/plain",
                headers={"Content-Range": "bytes 0-0/8"})
    assert r.status_code in (400, 501)
    dav.assert_unchanged(coll, before)
    r = dav.put(coll + "new.txt", b"X", "text/plain",
                headers={"Content-Range": "bytes 0-0/1"})
    assert r.status_code in (400, 501)
    dav.assert_unchanged(coll, before)


def test_get_missing_is_404(dav, coll):
    assert dav.get(coll + "missing").status_code == 404
    assert dav.head(coll + "missing").status_code == 404
    assert dav.get(coll + "missing/deeper").status_code == 404


@pytest.mark.parametrize("name", ["with space.txt", "ümlaut-é.txt", "日本.txt",
                                  "pct%25sign.txt", "semi;colon.txt", "a+b=c&d.txt"])
def test_put_get_awkward_names(dav, coll, name):
    body = ("name: " + name).encode("utf-8")
    assert dav.put(coll + name, body, "text/plain").status_code == 201
    g = dav.get(coll + name)
    assert g.status_code == 200 and g.content == body
    ms = dav.props(coll, [("DAV:", "getcontentlength")], depth="1")
    assert ms.paths() == {dav.path(coll), dav.path(coll + name)}
    assert ms[dav.path(coll + name)].text("{DAV:}getcontentlength") == str(len(body))


def test_large_body(dav, coll):
    # Many brigades on the way in and out (mod_dav reads 2 KB at a time).
    body = bytes((i * 7919) % 251 for i in range(512 * 1024 + 17))
    assert dav.put(coll + "big.bin", body).status_code == 201
    g = dav.get(coll + "big.bin")
    assert g.status_code == 200
    assert g.headers.get("Content-Length") == str(len(body))
    assert g.content == body


def test_range_get(dav, coll):
    assert dav.put(coll + "range.txt", b"0123456789", "text/plain").status_code == 201
    r = dav.get(coll + "range.txt", headers={"Range": "bytes=2-5"})
    assert r.status_code == 206
    assert r.content == b"2345"
    assert r.headers.get("Content-Range") == "bytes 2-5/10"
