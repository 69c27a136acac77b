"""DELETE."""


def test_delete_resource(dav, coll):
    assert dav.put(coll + "a.txt", b"a").status_code == 201
    assert dav.put(coll + "b.txt", b"b").status_code == 201
    r = dav.delete(coll + "a.txt")
    assert r.status_code == 204
    assert dav.get(coll + "a.txt").status_code == 404
    assert dav.propfind(coll + "a.txt").status_code == 404
    # the sibling is untouched
    assert dav.get(coll + "b.txt").content == b"b"
    ms = dav.props(coll, [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll), dav.path(coll + "b.txt")}


def test_delete_collection_depth_infinity(dav, coll):
    tree = ["t/", "t/x.txt", "t/sub/", "t/sub/y.txt", "t/sub/deeper/", "t/sub/deeper/z.txt"]
    for rel in tree:
        if rel.endswith("/"):
            assert dav.mkcol(coll + rel).status_code == 201
        else:
            assert dav.put(coll + rel, rel.encode()).status_code == 201
    prop = '<A:p xmlns:A="urn:example:del">v</A:p>'
    assert dav.proppatch(coll + "t/sub/", [("set", [prop])]).status_code == 207
    r = dav.delete(coll + "t/", headers={"Depth": "infinity"})
    assert r.status_code == 204
    for rel in tree:
        assert dav.propfind(coll + rel).status_code == 404, rel
        if not rel.endswith("/"):
            assert dav.get(coll + rel).status_code == 404, rel
    ms = dav.props(coll, [("DAV:", "resourcetype")], depth="1")
    assert ms.paths() == {dav.path(coll)}
    # the name is free again, with no leftover members or properties
    assert dav.mkcol(coll + "t/").status_code == 201
    ms = dav.props(coll + "t/", "allprop", depth="1")
    assert ms.paths() == {dav.path(coll + "t/")}
    assert dav.mkcol(coll + "t/sub/").status_code == 201
    ms = dav.props(coll + "t/sub/", [("urn:example:del", "p")])
    assert ms[dav.path(coll + "t/sub/")].prop_status("{urn:example:del}p") == 404


def test_delete_collection_without_depth_means_infinity(dav, coll):
    assert dav.mkcol(coll + "d/").status_code == 201
    assert dav.put(coll + "d/m", b"m").status_code == 201
    assert dav.delete(coll + "d/").status_code == 204
    assert dav.get(coll + "d/m").status_code == 404


def test_delete_collection_depth_1_is_400(dav, coll):
    # RFC 4918 9.6.1: DELETE on a collection acts as Depth: infinity; mod_dav
    # refuses any other Depth with 400.
    assert dav.mkcol(coll + "d/").status_code == 201
    assert dav.put(coll + "d/m", b"m").status_code == 201
    before = dav.snapshot(coll + "d/")
    for depth in ("1", "0"):
        assert dav.delete(coll + "d/", headers={"Depth": depth}).status_code == 400
    dav.assert_unchanged(coll + "d/", before)


def test_delete_missing_is_404(dav, coll):
    assert dav.delete(coll + "missing").status_code == 404
    assert dav.delete(coll + "missing/").status_code == 404
    assert dav.delete(coll + "no/such/thing").status_code == 404


def test_delete_then_recreate_has_fresh_state(dav, coll):
    assert dav.put(coll + "r.txt", b"first").status_code == 201
    prop = '<A:p xmlns:A="urn:example:del">old</A:p>'
    assert dav.proppatch(coll + "r.txt", [("set", [prop])]).status_code == 207
    assert dav.delete(coll + "r.txt").status_code == 204
    assert dav.put(coll + "r.txt", b"second").status_code == 201
    assert dav.get(coll + "r.txt").content == b"second"
    ms = dav.props(coll + "r.txt", [("urn:example:del", "p")])
    assert ms[dav.path(coll + "r.txt")].prop_status("{urn:example:del}p") == 404
