"""davclient.py - a small WebDAV client and multistatus parser for the tests.

Paths given to Dav methods are *decoded* paths relative to the DAV root
(/dav/): "coll/a b.txt".  Dav.url() percent-encodes them.  Hrefs in
responses are checked for proper encoding and decoded back (Response.path)
so tests compare decoded, absolute paths ("/dav/coll/a b.txt").
"""

import datetime as _dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path
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


# --- CalDAV (RFC 4791, RFC 5689) ------------------------------------------------
#
# Helpers for tests/http/test_caldav_*.py.  Calendar data returned by the
# server is compared *semantically*: unfolded, property and parameter names
# upper-cased, quoted parameter values unquoted, properties and components
# compared as multisets (order is irrelevant), FREEBUSY periods normalised to
# one "start/end" UTC period per value.

CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>'
NS_DECL = 'xmlns:D="DAV:" xmlns:C="%s" xmlns:CS="%s"' % (CALDAV, CS)


CALDAV_DATA = Path(__file__).resolve().parent.parent / "data" / "rfc4791-http"


def caldav_fixture(name):
    """Bytes of tests/data/rfc4791-http/<name>."""
    return (CALDAV_DATA / name).read_bytes()


def cq(name):
    """Clark name in the CalDAV namespace: cq("calendar") == "{urn:...caldav}calendar"."""
    return q(name, CALDAV)


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mkcalendar_body(props):
    """A CALDAV:mkcalendar body setting `props` (xml fragments that may use
    the D:, C: and CS: prefixes)."""
    return ('%s<C:mkcalendar %s><D:set><D:prop>%s</D:prop></D:set></C:mkcalendar>'
            % (XML_DECL, NS_DECL, "".join(props))).encode("utf-8")


RT_CALENDAR = "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
RT_COLLECTION = "<D:resourcetype><D:collection/></D:resourcetype>"


def mkcol_body(props):
    """An extended MKCOL (RFC 5689) body: DAV:mkcol / DAV:set / DAV:prop."""
    return ('%s<D:mkcol %s><D:set><D:prop>%s</D:prop></D:set></D:mkcol>'
            % (XML_DECL, NS_DECL, "".join(props))).encode("utf-8")


def comp_set_xml(names):
    """<C:supported-calendar-component-set> with the given component names."""
    return ("<C:supported-calendar-component-set>%s</C:supported-calendar-component-set>"
            % "".join('<C:comp name="%s"/>' % n for n in names))


def timezone_xml(ics_text, elem="C:calendar-timezone"):
    """A calendar-timezone (or C:timezone) element carrying ics_text."""
    return "<%s>%s</%s>" % (elem, xml_escape(ics_text), elem)


def report_body(root, inner, nsdecl=NS_DECL):
    """<C:root ...>inner</C:root> ('root' may carry its own prefix)."""
    if ":" not in root:
        root = "C:" + root
    return ("%s<%s %s>%s</%s>" % (XML_DECL, root, nsdecl, inner, root)).encode("utf-8")


def calendar_query(filter_xml, prop_xml="<D:getetag/><C:calendar-data/>", extra=""):
    """A calendar-query body: <D:prop>prop_xml</D:prop><C:filter>filter_xml</C:filter>extra."""
    prop = "<D:prop>%s</D:prop>" % prop_xml if prop_xml is not None else ""
    return report_body("calendar-query",
                       "%s<C:filter>%s</C:filter>%s" % (prop, filter_xml, extra))


def calendar_multiget(hrefs, prop_xml="<D:getetag/><C:calendar-data/>"):
    items = "".join("<D:href>%s</D:href>" % xml_escape(h) for h in hrefs)
    return report_body("calendar-multiget", "<D:prop>%s</D:prop>%s" % (prop_xml, items))


def free_busy_query(start=None, end=None):
    attrs = "".join(' %s="%s"' % (k, v) for k, v in (("start", start), ("end", end)) if v)
    return report_body("free-busy-query", "<C:time-range%s/>" % attrs)


def error_elements(resp):
    """Clark names of the children of a DAV:error body ([] if the body is not
    a DAV:error document)."""
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype not in ("text/xml", "application/xml"):
        return []
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError:
        return []
    if root.tag != q("error"):
        return []
    return [c.tag for c in root]


def precondition(resp, name, ns=CALDAV, status=403, what=""):
    """Assert resp is `status` with a DAV:error body naming the precondition
    <ns:name>; return that element."""
    assert resp.status_code == status, (
        "%s: expected %d with <%s> (%s), got %d: %s" % (
            what or resp.request.method, status, name, ns, resp.status_code,
            resp.text[:600]))
    root = dav_error(resp)
    elem = root.find(q(name, ns))
    assert elem is not None, "%s: %d DAV:error lacks <%s> (%s); it has %s: %s" % (
        what or resp.request.method, status, name, ns, [c.tag for c in root],
        resp.text[:600])
    return elem


def href_path(href_text):
    """Decoded path of an href (absolute URL or absolute path)."""
    return unquote(urlsplit(href_text.strip()).path)


def _dav_mkcalendar(self, rel, body=None, headers=None):
    h = {"Content-Type": "application/xml; charset=utf-8"} if body is not None else {}
    h.update(headers or {})
    return self.request("MKCALENDAR", rel, h, body)


def _dav_mkcol_ext(self, rel, body, headers=None):
    h = {"Content-Type": "application/xml; charset=utf-8"}
    h.update(headers or {})
    return self.request("MKCOL", rel, h, body)


def _dav_report(self, rel, body, depth=None, headers=None):
    h = {"Content-Type": "application/xml; charset=utf-8"}
    if depth is not None:
        h["Depth"] = depth
    h.update(headers or {})
    return self.request("REPORT", rel, h, body)


def _dav_put_ics(self, rel, body, headers=None, content_type="text/calendar; charset=utf-8"):
    if isinstance(body, str):
        body = body.encode("utf-8")
    return self.put(rel, body, content_type, headers)


def _dav_make_calendar(self, rel, props=()):
    """MKCALENDAR rel (with props, if any) that must give 201."""
    r = self.mkcalendar(rel, mkcalendar_body(props) if props else None)
    assert r.status_code == 201, (
        "MKCALENDAR %s: expected 201, got %d (is MKCALENDAR implemented?): %s"
        % (self.path(rel), r.status_code, r.text[:300]))
    return rel


def _dav_prop(self, rel, name, ns=DAV, depth="0"):
    """The element of one property reported with 200 on rel (assert it)."""
    ms = self.props(rel, [(ns, name)], depth=depth)
    resp = ms.only(self.path(rel)) if depth == "0" else ms[self.path(rel)]
    props = resp.props(200)
    assert q(name, ns) in props, "%s: property {%s}%s not reported with 200 (%s)" % (
        self.path(rel), ns, name, resp.all_statuses())
    return props[q(name, ns)]


def _dav_ctag(self, rel):
    return (self.prop(rel, "getctag", CS).text or "").strip()


Dav.mkcalendar = _dav_mkcalendar
Dav.mkcol_ext = _dav_mkcol_ext
Dav.report = _dav_report
Dav.put_ics = _dav_put_ics
Dav.make_calendar = _dav_make_calendar
Dav.prop = _dav_prop
Dav.ctag = _dav_ctag


def report_hrefs(resp):
    """Paths of a REPORT multistatus: {path: PropResponse}."""
    return multistatus(resp).responses


def calendar_data(presp):
    """Text of the C:calendar-data of one response (asserting 200)."""
    return presp.text(cq("calendar-data"))


# --- iCalendar, parsed just enough to compare --------------------------------

class Prop:
    __slots__ = ("name", "params", "value")

    def __init__(self, name, params, value):
        self.name = name            # upper case
        self.params = params        # {NAME: (values...)}
        self.value = value

    def param(self, name, default=None):
        v = self.params.get(name.upper())
        return v[0] if v else default

    def key(self):
        return (self.name, tuple(sorted(self.params.items())), self.value)

    def line(self):
        ps = "".join(";%s=%s" % (k, ",".join(v)) for k, v in sorted(self.params.items()))
        return "%s%s:%s" % (self.name, ps, self.value)


class Comp:
    def __init__(self, name):
        self.name = name
        self.props = []
        self.comps = []

    def get(self, name):
        return [p for p in self.props if p.name == name.upper()]

    def one(self, name):
        got = self.get(name)
        assert len(got) == 1, "%s: expected one %s, got %d" % (self.name, name, len(got))
        return got[0]

    def value(self, name, default=None):
        got = self.get(name)
        return got[0].value if got else default

    def sub(self, name):
        return [c for c in self.comps if c.name == name.upper()]

    def walk(self, name):
        """Every descendant component named name (depth first)."""
        out = []
        for c in self.comps:
            if c.name == name.upper():
                out.append(c)
            out.extend(c.walk(name))
        return out

    def label(self):
        for key in ("UID", "TZID"):
            v = self.value(key)
            if v is not None:
                rid = self.value("RECURRENCE-ID")
                return "%s[%s%s]" % (self.name, v, " RID=" + rid if rid else "")
        start = self.value("DTSTART")
        return "%s[%s]" % (self.name, start) if start else self.name


def ical_unfold(text):
    """Content lines of an iCalendar text (CRLF, LF or CR; folded lines joined)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _split_params(s):
    """Split on the first unquoted char in ';:', honouring quoted strings."""
    out, cur, quoted = [], [], False
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == ":":
            out.append("".join(cur))
            return out, s[i + 1:]
        elif not quoted and ch == ";":
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    raise AssertionError("content line without ':': %r" % s)


def _param_values(v):
    vals, cur, quoted = [], [], False
    for ch in v:
        if ch == '"':
            quoted = not quoted
            continue
        if ch == "," and not quoted:
            vals.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    vals.append("".join(cur))
    return tuple(vals)


def parse_line(line):
    parts, value = _split_params(line)
    name = parts[0].strip().upper()
    params = {}
    for p in parts[1:]:
        assert "=" in p, "parameter without '=' in %r" % line
        k, v = p.split("=", 1)
        params[k.strip().upper()] = _param_values(v)
    return Prop(name, params, value)


def ical_parse(text):
    """The VCALENDAR of an iCalendar text (asserting exactly one, well nested)."""
    stack = [Comp("#root")]
    for line in ical_unfold(text):
        p = parse_line(line)
        if p.name == "BEGIN":
            c = Comp(p.value.strip().upper())
            stack[-1].comps.append(c)
            stack.append(c)
        elif p.name == "END":
            assert len(stack) > 1 and stack[-1].name == p.value.strip().upper(), (
                "END:%s does not close %s" % (p.value, stack[-1].name))
            stack.pop()
        else:
            assert len(stack) > 1, "property outside a component: %r" % line
            stack[-1].props.append(p)
    assert len(stack) == 1, "unclosed component %s" % stack[-1].name
    root = stack[0]
    assert [c.name for c in root.comps] == ["VCALENDAR"], (
        "expected one VCALENDAR, got %s" % [c.name for c in root.comps])
    return root.comps[0]


def _norm_props(comp):
    out = []
    for p in comp.props:
        if p.name == "FREEBUSY":
            for period in p.value.split(","):
                s, e = period_bounds(period)
                out.append(Prop(p.name, p.params, "%s/%s" % (fmt_utc(s), fmt_utc(e))))
        else:
            out.append(p)
    return out


def ical_canon(comp):
    """Order-independent comparable form of a component."""
    return (comp.name, tuple(sorted(p.key() for p in _norm_props(comp))),
            tuple(sorted(ical_canon(c) for c in comp.comps)))


def ical_lines(comp, path=""):
    """Flat, sorted description of a component tree, for readable diffs."""
    here = path + "/" + comp.label()
    out = [here + " " + p.line() for p in _norm_props(comp)]
    for c in comp.comps:
        out.extend(ical_lines(c, here))
    return sorted(out)


def assert_ical_equal(got, expected, what=""):
    """got/expected: text or Comp.  Compared semantically (see above)."""
    g = ical_parse(got) if not isinstance(got, Comp) else got
    e = ical_parse(expected) if not isinstance(expected, Comp) else expected
    if ical_canon(g) == ical_canon(e):
        return
    gl, el = ical_lines(g), ical_lines(e)
    missing = [x for x in el if x not in gl]
    extra = [x for x in gl if x not in el]
    raise AssertionError("%s: calendar data differs\n  missing:\n    %s\n  unexpected:\n    %s"
                         % (what or "calendar-data", "\n    ".join(missing) or "-",
                            "\n    ".join(extra) or "-"))


# --- date-times, durations, periods -----------------------------------------

UTC = _dt.timezone.utc
_DUR = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_utc(value):
    """'20060104T150000Z' -> aware datetime; asserts the value is in UTC."""
    v = value.strip()
    assert re.match(r"^\d{8}T\d{6}Z$", v), "not a UTC DATE-TIME: %r" % value
    return _dt.datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def fmt_utc(when):
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_duration(value):
    m = _DUR.match(value.strip())
    assert m, "bad DURATION %r" % value
    sign, w, d, h, mi, s = m.groups()
    delta = _dt.timedelta(weeks=int(w or 0), days=int(d or 0), hours=int(h or 0),
                          minutes=int(mi or 0), seconds=int(s or 0))
    return -delta if sign == "-" else delta


def period_bounds(period):
    """'start/end' or 'start/duration' (UTC) -> (start, end)."""
    a, b = period.strip().split("/", 1)
    start = parse_utc(a)
    end = start + parse_duration(b) if b[:1] in ("P", "+", "-") else parse_utc(b)
    return start, end


def merge_periods(periods):
    """Sorted list of (start, end) with overlapping or adjacent periods merged."""
    out = []
    for s, e in sorted(periods):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def freebusy_periods(vfreebusy):
    """{FBTYPE: merged [(start, end)]} of a VFREEBUSY component."""
    out = {}
    for p in vfreebusy.get("FREEBUSY"):
        fbtype = p.param("FBTYPE", "BUSY").upper()
        for period in p.value.split(","):
            out.setdefault(fbtype, []).append(period_bounds(period))
    return {k: merge_periods(v) for k, v in out.items()}


def ics(*lines, crlf=True):
    """Join content lines into an iCalendar text (CRLF by default), as bytes."""
    sep = "\r\n" if crlf else "\n"
    return (sep.join(lines) + sep).encode("utf-8")
