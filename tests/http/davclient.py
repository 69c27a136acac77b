"""davclient.py - a small WebDAV client and multistatus parser for the tests.

Paths given to Dav methods are *decoded* paths relative to the DAV root
(/dav/): "coll/a b.txt".  Dav.url() percent-encodes them.  Hrefs in
responses are checked for proper encoding and decoded back (Response.path)
so tests compare decoded, absolute paths ("/dav/coll/a b.txt").
"""

import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlsplit

import requests

DAV = "DAV:"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
APACHE_NS = "http://apache.org/dav/xmlns"

# RFC 3339 date-time (creationdate) and RFC 1123 date (getlastmodified).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
RFC1123 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                     r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                     r"\d{2}:\d{2}:\d{2} GMT$")
# What may appear in an href path: RFC 3986 pchar + '/' (so no space, no
# raw non-ASCII, '%' only as part of an escape).
HREF_PATH = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")
STRONG_ETAG = re.compile(r'^"[^"]*"$')


def q(name, ns=DAV):
    """Clark notation: q("getetag") == "{DAV:}getetag"."""
    return "{%s}%s" % (ns, name)


def status_code(text):
    """The code of a multistatus <D:status> ("HTTP/1.1 424 (status)" -> 424)."""
    m = re.match(r"^\s*HTTP/\d\.\d\s+(\d{3})\b", text or "")
    assert m, "malformed status line %r" % text
    return int(m.group(1))


def canon(elem):
    """A comparable form of an element: name, attributes, text, children.

    Namespace prefixes are irrelevant (ElementTree resolves them), xml:lang
    is an attribute like any other, text and tails are compared exactly.
    """
    return (elem.tag, tuple(sorted(elem.attrib.items())), elem.text or "",
            tuple(canon(c) + (c.tail or "",) for c in elem))


def fragment(xml_text):
    """Parse a property element written in a test (it declares its own ns)."""
    return ET.fromstring(xml_text)


def is_strong_etag(etag):
    return bool(etag) and STRONG_ETAG.match(etag) is not None


class PropResponse:
    """One <D:response> of a multistatus."""

    def __init__(self, elem):
        hrefs = elem.findall(q("href"))
        assert len(hrefs) == 1, "response with %d hrefs" % len(hrefs)
        self.href = hrefs[0].text.strip()
        raw_path = urlsplit(self.href).path
        assert HREF_PATH.match(raw_path), "href not URL-encoded: %r" % self.href
        self.path = unquote(raw_path)
        st = elem.find(q("status"))
        self.status = status_code(st.text) if st is not None else None
        self.propstats = []      # [(status, {qname: element})]
        for ps in elem.findall(q("propstat")):
            code = status_code(ps.find(q("status")).text)
            props = {}
            prop = ps.find(q("prop"))
            for p in (prop if prop is not None else []):
                # (a PROPPATCH that sets and removes one property may list
                # it twice with the same status)
                props.setdefault(p.tag, p)
            self.propstats.append((code, props))
        self.error = elem.find(q("error"))

    def props(self, status=200):
        """{qname: element} of every property reported with `status`."""
        out = {}
        for code, props in self.propstats:
            if code == status:
                out.update(props)
        return out

    def prop_status(self, qname):
        """The status reported for qname (None if it is not mentioned)."""
        found = [code for code, props in self.propstats if qname in props]
        assert len(found) <= 1, "%s reported in %d propstats" % (qname, len(found))
        return found[0] if found else None

    def text(self, qname):
        """Text of a property reported with 200 (assert it is there)."""
        props = self.props(200)
        assert qname in props, "%s not reported with 200 for %s (statuses: %s)" % (
            qname, self.path, [(c, sorted(p)) for c, p in self.propstats])
        return props[qname].text or ""

    def is_collection(self):
        rt = self.props(200).get(q("resourcetype"))
        assert rt is not None, "no resourcetype for %s" % self.path
        return rt.find(q("collection")) is not None

    def all_statuses(self):
        return {qname: code for code, props in self.propstats for qname in props}


class Multistatus:
    def __init__(self, body):
        self.root = ET.fromstring(body)
        assert self.root.tag == q("multistatus"), "root is %s" % self.root.tag
        self.responses = {}
        for r in self.root.findall(q("response")):
            pr = PropResponse(r)
            assert pr.path not in self.responses, "duplicate response for %s" % pr.path
            self.responses[pr.path] = pr

    def __getitem__(self, path):
        assert path in self.responses, "no response for %s; have %s" % (
            path, sorted(self.responses))
        return self.responses[path]

    def paths(self):
        return set(self.responses)

    def only(self, path):
        """The single response, for path with or without a trailing '/'.

        (mod_dav_fs writes a collection's href without the '/' in PROPPATCH
        responses; PROPFIND hrefs are checked exactly elsewhere.)
        """
        assert len(self.responses) == 1, "expected one response, got %s" % sorted(self.responses)
        (got, resp), = self.responses.items()
        assert got.rstrip("/") == path.rstrip("/"), "response for %s, not %s" % (got, path)
        return resp


def multistatus(resp):
    assert resp.status_code == 207, "expected 207, got %d: %s" % (
        resp.status_code, resp.text[:500])
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() in ("text/xml", "application/xml"), ctype
    return Multistatus(resp.content)


def dav_error(resp):
    """The <D:error> root of an error body, asserting it is one."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() in ("text/xml", "application/xml"), (
        "error body is %s, not XML: %s" % (ctype, resp.text[:300]))
    root = ET.fromstring(resp.content)
    assert root.tag == q("error"), "root is %s" % root.tag
    return root


def propfind_body(props):
    """A PROPFIND body: "allprop", "propname" or a list of (ns, name)."""
    if props == "allprop":
        return '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
    if props == "propname":
        return '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'
    items = "".join('<p%d:%s xmlns:p%d="%s"/>' % (i, name, i, ns)
                    for i, (ns, name) in enumerate(props))
    return ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">'
            "<D:prop>%s</D:prop></D:propfind>" % items)


def proppatch_body(ops):
    """ops: [("set", [xml fragments]) | ("remove", [(ns, name)])], in order."""
    parts = []
    for op, items in ops:
        if op == "set":
            inner = "".join(items)
        else:
            inner = "".join('<r%d:%s xmlns:r%d="%s"/>' % (i, name, i, ns)
                            for i, (ns, name) in enumerate(items))
        parts.append("<D:%s><D:prop>%s</D:prop></D:%s>" % (op, inner, op))
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<D:propertyupdate xmlns:D="DAV:">%s</D:propertyupdate>' % "".join(parts))


class Dav:
    """requests.Session bound to the DAV root, with basic auth."""

    def __init__(self, base_url, auth=("alice", "alice"), timeout=30):
        parts = urlsplit(base_url)
        self.origin = "%s://%s" % (parts.scheme, parts.netloc)
        self.root = parts.path                     # "/dav/"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = auth

    def path(self, rel):
        """Decoded absolute path of a relative path: "c/x" -> "/dav/c/x"."""
        return self.root + rel.lstrip("/")

    def url(self, rel):
        return self.origin + quote(self.path(rel), safe="/")

    def request(self, method, rel, headers=None, data=None, **kw):
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(rel), headers=headers or {},
                                    data=data, **kw)

    # --- plain methods --------------------------------------------------
    def get(self, rel, headers=None):
        return self.request("GET", rel, headers)

    def head(self, rel, headers=None):
        return self.request("HEAD", rel, headers)

    def put(self, rel, body, content_type="application/octet-stream", headers=None):
        h = {"Content-Type": content_type} if content_type else {}
        h.update(headers or {})
        return self.request("PUT", rel, h, body)

    def delete(self, rel, headers=None):
        return self.request("DELETE", rel, headers)

    def mkcol(self, rel, headers=None, body=None):
        return self.request("MKCOL", rel, headers, body)

    def options(self, rel, headers=None):
        return self.request("OPTIONS", rel, headers)

    def _copymove(self, method, src, dst, depth, overwrite, headers, dest_url):
        h = {"Destination": dest_url if dest_url else self.url(dst)}
        if depth is not None:
            h["Depth"] = depth
        if overwrite is not None:
            h["Overwrite"] = overwrite
        h.update(headers or {})
        return self.request(method, src, h)

    def copy(self, src, dst, depth=None, overwrite=None, headers=None, dest_url=None):
        return self._copymove("COPY", src, dst, depth, overwrite, headers, dest_url)

    def move(self, src, dst, depth=None, overwrite=None, headers=None, dest_url=None):
        return self._copymove("MOVE", src, dst, depth, overwrite, headers, dest_url)

    # --- properties -------------------------------------------------------
    def propfind(self, rel, props="allprop", depth="0", headers=None, body=None):
        h = {"Content-Type": "application/xml; charset=utf-8"}
        if depth is not None:
            h["Depth"] = depth
        h.update(headers or {})
        if body is None:
            body = propfind_body(props).encode("utf-8")
        return self.request("PROPFIND", rel, h, body)

    def props(self, rel, props="allprop", depth="0"):
        """PROPFIND that must succeed: returns the parsed Multistatus."""
        return multistatus(self.propfind(rel, props, depth))

    def proppatch(self, rel, ops, headers=None):
        h = {"Content-Type": "application/xml; charset=utf-8"}
        h.update(headers or {})
        return self.request("PROPPATCH", rel, h, proppatch_body(ops).encode("utf-8"))

    # --- state snapshots for "nothing changed" assertions ---------------
    VOLATILE = {q("quota-available-bytes"), q("quota-used-bytes")}

    def snapshot(self, rel):
        """Everything observable about rel and its members (Depth 1).

        {path: (canonical allprop 200 properties, GET status/body/ETag/type)}
        """
        ms = self.props(rel, "allprop", depth="1")
        snap = {}
        for path, resp in ms.responses.items():
            props = tuple(sorted((k, canon(v)) for k, v in resp.props(200).items()
                                 if k not in self.VOLATILE))
            content = None
            if not resp.is_collection():
                g = self.get(path[len(self.root):])
                content = (g.status_code, g.content, g.headers.get("ETag"),
                           g.headers.get("Content-Type"), g.headers.get("Last-Modified"))
            snap[path] = (props, content)
        return snap

    def assert_unchanged(self, rel, before):
        after = self.snapshot(rel)
        assert sorted(after) == sorted(before), "members changed: %s -> %s" % (
            sorted(before), sorted(after))
        for path in before:
            assert after[path][1] == before[path][1], "content of %s changed" % path
            assert after[path][0] == before[path][0], "properties of %s changed" % path
