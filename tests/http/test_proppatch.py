"""PROPPATCH: dead properties, atomicity, protected live properties."""

import pytest

from davclient import DAV, XML_LANG, canon, fragment, multistatus, q

A = "urn:example:a"
B = "http://example.com/ns/b/"
C = "http://example.com/ns/c"      # used only inside values

PROPS = {
    "{%s}color" % A: '<A:color xmlns:A="urn:example:a">red</A:color>',
    "{%s}note" % B: ('<B:note xmlns:B="http://example.com/ns/b/" xml:lang="de">'
                     "Grüße &amp; &lt;Tags&gt; — ünïcödé</B:note>"),
    "{%s}nested" % A: ('<A:nested xmlns:A="urn:example:a" xmlns:C="http://example.com/ns/c">'
                       '<A:inner attr="v 1" C:qattr="q">text<C:deep>more</C:deep>tail'
                       "</A:inner><A:empty/><C:other xml:lang=\"fr\">oui</C:other></A:nested>"),
    "{%s}empty" % B: '<B:empty xmlns:B="http://example.com/ns/b/"/>',
    "{%s}default-ns" % A: '<default-ns xmlns="urn:example:a"><child>x</child></default-ns>',
}


def read_props(dav, rel, names):
    ms = dav.props(rel, [tuple(n[1:].split("}", 1)) for n in names])
    return ms[dav.path(rel)]


def assert_props_equal(resp, expected):
    """expected: {qname: xml fragment}; compared after parsing."""
    got = resp.props(200)
    for qname, xml in expected.items():
        assert qname in got, "%s missing; statuses %s" % (qname, resp.all_statuses())
        assert canon(got[qname]) == canon(fragment(xml)), qname


def proppatch_ok(dav, rel, ops):
    r = dav.proppatch(rel, ops)
    resp = multistatus(r).only(dav.path(rel))
    assert {code for code, _ in resp.propstats} == {200}, resp.all_statuses()
    return resp


@pytest.fixture
def res(dav, coll):
    rel = coll + "r.txt"
    assert dav.put(rel, b"body", "text/plain").status_code == 201
    return rel


def test_set_and_read_back(dav, res):
    resp = proppatch_ok(dav, res, [("set", list(PROPS.values()))])
    assert set(resp.props(200)) == set(PROPS)
    assert_props_equal(read_props(dav, res, PROPS), PROPS)
    # and in allprop
    allp = dav.props(res, "allprop")[dav.path(res)]
    assert_props_equal(allp, PROPS)
    note = allp.props(200)["{%s}note" % B]
    assert note.get(XML_LANG) == "de"
    # setting dead props did not touch the body
    g = dav.get(res)
    assert g.content == b"body"


def test_set_on_collection(dav, coll):
    resp = proppatch_ok(dav, coll, [("set", list(PROPS.values()))])
    assert set(resp.props(200)) == set(PROPS)
    assert_props_equal(read_props(dav, coll, PROPS), PROPS)


@pytest.mark.caldav_only
def test_proppatch_collection_href_ends_in_slash(dav, coll):
    # mod_dav_fs drops the '/' here; PROPFIND hrefs of collections have it.
    r = dav.proppatch(coll, [("set", [PROPS["{%s}color" % A]])])
    assert multistatus(r).paths() == {dav.path(coll)}


def test_xml_lang_inherited_from_prop(dav, res):
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a">'
            '<D:set><D:prop xml:lang="en-GB"><A:lang-inherited>colour</A:lang-inherited>'
            "</D:prop></D:set></D:propertyupdate>").encode("utf-8")
    r = dav.request("PROPPATCH", res, {"Content-Type": "application/xml"}, body)
    assert r.status_code == 207
    got = read_props(dav, res, ["{%s}lang-inherited" % A]).props(200)
    elem = got["{%s}lang-inherited" % A]
    assert elem.text == "colour"
    assert elem.get(XML_LANG) == "en-GB"


def test_replace_value(dav, res):
    proppatch_ok(dav, res, [("set", [PROPS["{%s}color" % A]])])
    proppatch_ok(dav, res, [("set", ['<A:color xmlns:A="urn:example:a">blue</A:color>'])])
    got = read_props(dav, res, ["{%s}color" % A])
    assert got.text("{%s}color" % A) == "blue"


def test_remove(dav, res):
    proppatch_ok(dav, res, [("set", list(PROPS.values()))])
    resp = proppatch_ok(dav, res, [("remove", [(A, "color"), (B, "note"),
                                               (A, "never-set")])])
    assert set(resp.props(200)) == {"{%s}color" % A, "{%s}note" % B, "{%s}never-set" % A}
    got = read_props(dav, res, PROPS)
    assert got.prop_status("{%s}color" % A) == 404
    assert got.prop_status("{%s}note" % B) == 404
    rest = {k: v for k, v in PROPS.items() if k not in ("{%s}color" % A, "{%s}note" % B)}
    assert_props_equal(got, rest)
    names = dav.props(res, "propname")[dav.path(res)].props(200)
    assert "{%s}color" % A not in names and "{%s}nested" % A in names


def test_set_and_remove_in_document_order(dav, res):
    # RFC 4918 9.2: instructions are processed in document order.
    proppatch_ok(dav, res, [("set", ['<A:o xmlns:A="urn:example:a">1</A:o>']),
                            ("remove", [(A, "o")]),
                            ("set", ['<A:p xmlns:A="urn:example:a">2</A:p>'])])
    got = read_props(dav, res, ["{%s}o" % A, "{%s}p" % A])
    assert got.prop_status("{%s}o" % A) == 404
    assert got.text("{%s}p" % A) == "2"


def test_all_or_nothing_with_protected_live_prop(dav, coll, res):
    proppatch_ok(dav, res, [("set", ['<A:keep xmlns:A="urn:example:a">old</A:keep>'])])
    before = dav.snapshot(coll)
    r = dav.proppatch(res, [("set", ['<A:keep xmlns:A="urn:example:a">new</A:keep>',
                                     '<A:fresh xmlns:A="urn:example:a">f</A:fresh>',
                                     '<D:getetag xmlns:D="DAV:">"forged"</D:getetag>'])])
    ms = multistatus(r)
    resp = ms[dav.path(res)]
    st = resp.all_statuses()
    assert st[q("getetag")] in (403, 409), st
    assert st["{%s}keep" % A] == 424, st
    assert st["{%s}fresh" % A] == 424, st
    dav.assert_unchanged(coll, before)
    got = read_props(dav, res, ["{%s}keep" % A, "{%s}fresh" % A])
    assert got.text("{%s}keep" % A) == "old"
    assert got.prop_status("{%s}fresh" % A) == 404


@pytest.mark.parametrize("live", ["getetag", "getcontentlength", "getlastmodified",
                                  "creationdate", "resourcetype"])
def test_protected_live_props_are_refused(dav, coll, res, live):
    before = dav.snapshot(coll)
    r = dav.proppatch(res, [("set", ['<D:%s xmlns:D="DAV:">x</D:%s>' % (live, live)])])
    resp = multistatus(r)[dav.path(res)]
    assert resp.all_statuses() in ({q(live): 403}, {q(live): 409})
    r = dav.proppatch(res, [("remove", [(DAV, live)])])
    resp = multistatus(r)[dav.path(res)]
    assert resp.all_statuses() in ({q(live): 403}, {q(live): 409})
    dav.assert_unchanged(coll, before)


def test_displayname(dav, coll, res):
    name = "Mein Kalender — ✓ <&>"
    xml = '<D:displayname xmlns:D="DAV:">Mein Kalender — ✓ &lt;&amp;&gt;</D:displayname>'
    for rel in (res, coll):
        resp = proppatch_ok(dav, rel, [("set", [xml])])
        assert set(resp.props(200)) == {q("displayname")}
        got = dav.props(rel, [(DAV, "displayname")])[dav.path(rel)]
        assert got.text(q("displayname")) == name


def test_proppatch_missing_is_404(dav, coll):
    r = dav.proppatch(coll + "missing", [("set", [PROPS["{%s}color" % A]])])
    assert r.status_code == 404
    assert dav.propfind(coll + "missing").status_code == 404


def test_proppatch_malformed_is_400_and_changes_nothing(dav, coll, res):
    proppatch_ok(dav, res, [("set", [PROPS["{%s}color" % A]])])
    before = dav.snapshot(coll)
    bodies = [b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>',
              b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"/>',
              b""]
    for body in bodies:
        r = dav.request("PROPPATCH", res, {"Content-Type": "application/xml"}, body)
        assert r.status_code == 400, body
    dav.assert_unchanged(coll, before)


def test_many_props_and_large_value(dav, res):
    sets = ['<A:n%d xmlns:A="urn:example:a">value %d</A:n%d>' % (i, i, i) for i in range(200)]
    big = "x" * 60000
    sets.append('<A:big xmlns:A="urn:example:a">%s</A:big>' % big)
    proppatch_ok(dav, res, [("set", sets)])
    names = dav.props(res, "propname")[dav.path(res)].props(200)
    for i in range(200):
        assert "{%s}n%d" % (A, i) in names
    got = read_props(dav, res, ["{%s}n7" % A, "{%s}n199" % A, "{%s}big" % A])
    assert got.text("{%s}n7" % A) == "value 7"
    assert got.text("{%s}n199" % A) == "value 199"
    assert got.text("{%s}big" % A) == big
