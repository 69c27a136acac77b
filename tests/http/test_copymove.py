"""COPY and MOVE."""

import pytest

from davclient import canon, fragment

NS = "urn:example:cm"
P1 = '<X:one xmlns:X="urn:example:cm">1</X:one>'
P2 = ('<X:two xmlns:X="urn:example:cm" xml:lang="en"><X:a>nested</X:a>'
      '<Y:b xmlns:Y="urn:example:other">ü</Y:b></X:two>')


def put(dav, rel, body, props=()):
    assert dav.put(rel, body, "text/plain").status_code == 201
    if props:
        assert dav.proppatch(rel, [("set", list(props))]).status_code == 207


def mkcol(dav, rel, props=()):
    assert dav.mkcol(rel).status_code == 201
    if props:
        assert dav.proppatch(rel, [("set", list(props))]).status_code == 207


def dead(dav, rel):
    """{qname: canon} of the urn:example:cm properties of rel."""
    ms = dav.props(rel, [(NS, "one"), (NS, "two")])
    return {k: canon(v) for k, v in ms[dav.path(rel)].props(200).items()}


EXPECTED = {"{%s}one" % NS: canon(fragment(P1)), "{%s}two" % NS: canon(fragment(P2))}


def build_tree(dav, base):
    """base/ t/ {a.txt, sub/ {b.txt, deep/ {c.txt}}} with props everywhere."""
    mkcol(dav, base + "t/", [P1])
    put(dav, base + "t/a.txt", b"A", [P1, P2])
    mkcol(dav, base + "t/sub/", [P2])
    put(dav, base + "t/sub/b.txt", b"B", [P2])
    mkcol(dav, base + "t/sub/deep/")
    put(dav, base + "t/sub/deep/c.txt", b"C")
    return {"": {"{%s}one" % NS: EXPECTED["{%s}one" % NS]},
            "a.txt": EXPECTED, "sub/": {"{%s}two" % NS: EXPECTED["{%s}two" % NS]},
            "sub/b.txt": {"{%s}two" % NS: EXPECTED["{%s}two" % NS]},
            "sub/deep/": {}, "sub/deep/c.txt": {}}


def assert_tree(dav, root, tree):
    contents = {"a.txt": b"A", "sub/b.txt": b"B", "sub/deep/c.txt": b"C"}
    for rel, props in tree.items():
        assert dav.propfind(root + rel).status_code == 207, root + rel
        assert dead(dav, root + rel) == props, root + rel
        if rel in contents:
            assert dav.get(root + rel).content == contents[rel]
    listing = dav.props(root, [("DAV:", "resourcetype")], depth="1").paths()
    assert listing == {dav.path(root), dav.path(root + "a.txt"), dav.path(root + "sub/")}


# --- COPY ---------------------------------------------------------------------

def test_copy_resource(dav, coll):
    put(dav, coll + "src.txt", b"source \xc3\xbc\r\n", [P1, P2])
    r = dav.copy(coll + "src.txt", coll + "dst.txt")
    assert r.status_code == 201
    for rel in ("src.txt", "dst.txt"):
        g = dav.get(coll + rel)
        assert g.status_code == 200 and g.content == b"source \xc3\xbc\r\n"
        assert g.headers["Content-Type"] == "text/plain"
        assert dead(dav, coll + rel) == EXPECTED
    # the copy is independent of the source
    assert dav.put(coll + "dst.txt", b"changed", "text/plain").status_code == 204
    assert dav.get(coll + "src.txt").content == b"source \xc3\xbc\r\n"


@pytest.mark.caldav_only
def test_copy_has_its_own_etag(dav, coll):
    # mod_dav_fs (FileETag Digest) derives ETags from the content, so a copy
    # has the same one; mod_caldav's ETags differ between nodes.
    put(dav, coll + "src.txt", b"same bytes")
    assert dav.copy(coll + "src.txt", coll + "dst.txt").status_code == 201
    e1 = dav.get(coll + "src.txt").headers["ETag"]
    e2 = dav.get(coll + "dst.txt").headers["ETag"]
    assert e1 != e2


def test_copy_overwrite_f_onto_existing_is_412(dav, coll):
    put(dav, coll + "src.txt", b"src", [P1])
    put(dav, coll + "dst.txt", b"dst", [P2])
    before = dav.snapshot(coll)
    r = dav.copy(coll + "src.txt", coll + "dst.txt", overwrite="F")
    assert r.status_code == 412
    dav.assert_unchanged(coll, before)


def test_copy_overwrite_t_onto_existing_is_204(dav, coll):
    put(dav, coll + "src.txt", b"src", [P1])
    put(dav, coll + "dst.txt", b"dst", [P2])
    for overwrite in ("T", None):                 # T is the default
        r = dav.copy(coll + "src.txt", coll + "dst.txt", overwrite=overwrite)
        assert r.status_code == 204
        assert dav.get(coll + "dst.txt").content == b"src"
        # the destination was replaced, not merged: its own property is gone
        assert dead(dav, coll + "dst.txt") == {"{%s}one" % NS: EXPECTED["{%s}one" % NS]}


def test_copy_collection_depth_infinity(dav, coll):
    tree = build_tree(dav, coll)
    for depth in ("infinity", None):
        dst = coll + "copy-%s/" % depth
        r = dav.copy(coll + "t/", dst, depth=depth)
        assert r.status_code == 201
        assert_tree(dav, dst, tree)
    assert_tree(dav, coll + "t/", tree)          # the source is intact


def test_copy_collection_depth_0(dav, coll):
    build_tree(dav, coll)
    r = dav.copy(coll + "t/", coll + "shallow/", depth="0")
    assert r.status_code == 201
    ms = dav.props(coll + "shallow/", [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll + "shallow/")}
    assert ms[dav.path(coll + "shallow/")].is_collection()


@pytest.mark.caldav_only
def test_copy_collection_depth_0_copies_its_props(dav, coll):
    # RFC 4918 9.8.3: "the collection and its properties"; mod_dav_fs
    # creates an empty directory and drops the properties.
    build_tree(dav, coll)
    assert dav.copy(coll + "t/", coll + "shallow/", depth="0").status_code == 201
    assert dead(dav, coll + "shallow/") == {"{%s}one" % NS: EXPECTED["{%s}one" % NS]}


def test_copy_depth_1_is_400(dav, coll):
    build_tree(dav, coll)
    before = dav.snapshot(coll)
    assert dav.copy(coll + "t/", coll + "d1/", depth="1").status_code == 400
    dav.assert_unchanged(coll, before)


def test_copy_collection_onto_existing_collection(dav, coll):
    tree = build_tree(dav, coll)
    mkcol(dav, coll + "target/", [P2])
    put(dav, coll + "target/old-member.txt", b"old")
    assert dav.copy(coll + "t/", coll + "target/", overwrite="F").status_code == 412
    assert dav.get(coll + "target/old-member.txt").content == b"old"
    r = dav.copy(coll + "t/", coll + "target/")
    assert r.status_code == 204
    assert dav.get(coll + "target/old-member.txt").status_code == 404
    assert_tree(dav, coll + "target/", tree)


def test_copy_to_missing_parent_is_409(dav, coll):
    put(dav, coll + "src.txt", b"src", [P1])
    before = dav.snapshot(coll)
    r = dav.copy(coll + "src.txt", coll + "no/such/dst.txt")
    assert r.status_code == 409
    dav.assert_unchanged(coll, before)
    assert dav.propfind(coll + "no/").status_code == 404


def test_copy_missing_source_is_404(dav, coll):
    assert dav.copy(coll + "nothing", coll + "dst").status_code == 404
    assert dav.get(coll + "dst").status_code == 404


def test_copy_onto_itself_is_403(dav, coll):
    put(dav, coll + "self.txt", b"self", [P1])
    before = dav.snapshot(coll)
    assert dav.copy(coll + "self.txt", coll + "self.txt").status_code == 403
    dav.assert_unchanged(coll, before)


def test_copy_into_own_subtree_is_403(dav, coll):
    build_tree(dav, coll)
    before = dav.snapshot(coll + "t/")
    assert dav.copy(coll + "t/", coll + "t/sub/inside/").status_code == 403
    dav.assert_unchanged(coll + "t/", before)


def test_copy_without_destination_is_400(dav, coll):
    put(dav, coll + "src.txt", b"src")
    assert dav.request("COPY", coll + "src.txt").status_code == 400


def test_destination_with_other_scheme_is_502(dav, coll):
    # mod_dav (2.4) compares only the scheme of the Destination with the
    # request's ("Destination URI refers to different scheme or port");
    # its host check is compiled out (#ifdef APACHE_PORT_HANDLING_IS_BUSTED).
    put(dav, coll + "src.txt", b"src", [P1])
    before = dav.snapshot(coll)
    other = "https" + dav.url(coll + "dst.txt")[len("http"):]
    assert dav.copy(coll + "src.txt", None, dest_url=other).status_code == 502
    assert dav.move(coll + "src.txt", None, dest_url=other).status_code == 502
    dav.assert_unchanged(coll, before)


# --- MOVE ---------------------------------------------------------------------

def test_move_resource(dav, coll):
    put(dav, coll + "src.txt", b"moving \x00 bytes", [P1, P2])
    r = dav.move(coll + "src.txt", coll + "dst.txt")
    assert r.status_code == 201
    assert dav.get(coll + "src.txt").status_code == 404
    assert dav.propfind(coll + "src.txt").status_code == 404
    g = dav.get(coll + "dst.txt")
    assert g.status_code == 200 and g.content == b"moving \x00 bytes"
    assert dead(dav, coll + "dst.txt") == EXPECTED
    ms = dav.props(coll, [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll), dav.path(coll + "dst.txt")}


def test_move_collection_with_members_and_props(dav, coll):
    tree = build_tree(dav, coll)
    r = dav.move(coll + "t/", coll + "renamed/")
    assert r.status_code == 201
    for rel in tree:
        assert dav.propfind(coll + "t/" + rel).status_code == 404, rel
    assert_tree(dav, coll + "renamed/", tree)
    # and into another collection
    mkcol(dav, coll + "other/")
    assert dav.move(coll + "renamed/", coll + "other/moved/").status_code == 201
    assert_tree(dav, coll + "other/moved/", tree)


def test_move_overwrite(dav, coll):
    put(dav, coll + "a.txt", b"a", [P1])
    put(dav, coll + "b.txt", b"b", [P2])
    before = dav.snapshot(coll)
    assert dav.move(coll + "a.txt", coll + "b.txt", overwrite="F").status_code == 412
    dav.assert_unchanged(coll, before)
    assert dav.move(coll + "a.txt", coll + "b.txt", overwrite="T").status_code == 204
    assert dav.get(coll + "a.txt").status_code == 404
    assert dav.get(coll + "b.txt").content == b"a"
    assert dead(dav, coll + "b.txt") == {"{%s}one" % NS: EXPECTED["{%s}one" % NS]}


def test_move_into_own_subtree_is_403(dav, coll):
    tree = build_tree(dav, coll)
    before = dav.snapshot(coll + "t/")
    for dst in ("t/sub/inside/", "t/sub/"):
        assert dav.move(coll + "t/", coll + dst).status_code == 403, dst
    dav.assert_unchanged(coll + "t/", before)
    assert_tree(dav, coll + "t/", tree)


def test_move_collection_depth_0_is_400(dav, coll):
    build_tree(dav, coll)
    before = dav.snapshot(coll)
    assert dav.move(coll + "t/", coll + "m/", depth="0").status_code == 400
    dav.assert_unchanged(coll, before)


@pytest.mark.caldav_only
def test_move_to_missing_parent_is_409(dav, coll):
    # mod_dav_fs answers 500 ("Could not rename resource", ENOENT) here.
    put(dav, coll + "src.txt", b"src", [P1])
    before = dav.snapshot(coll)
    assert dav.move(coll + "src.txt", coll + "no/dst.txt").status_code == 409
    dav.assert_unchanged(coll, before)


def test_move_missing_source_is_404(dav, coll):
    assert dav.move(coll + "nothing", coll + "dst").status_code == 404


def test_move_then_reuse_source_name(dav, coll):
    put(dav, coll + "a.txt", b"first", [P1])
    assert dav.move(coll + "a.txt", coll + "b.txt").status_code == 201
    put(dav, coll + "a.txt", b"second")
    assert dav.get(coll + "a.txt").content == b"second"
    assert dead(dav, coll + "a.txt") == {}
    assert dav.get(coll + "b.txt").content == b"first"
    assert dead(dav, coll + "b.txt") == {"{%s}one" % NS: EXPECTED["{%s}one" % NS]}
