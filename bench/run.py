#!/usr/bin/python3
"""run.py - the mod_caldav benchmark (see bench/README.md).

    bench/run.sh [--quick] [--sizes 1k,10k,100k] [--duration 5] ...

For each calendar size it starts, one after the other, on 127.0.0.1:

  caldav    scripts/devserver.py, provider caldav (a copy of the module
            taken at the start of the run; CalDAVDurability from the config)
  fs        scripts/devserver.py, provider fs (Apache's mod_dav_fs); the same
            httpd also serves the same .ics bytes as static files under
            /static/ (default handler, same Basic auth) -> "static"
  radicale  the Debian package, threaded server, storage in a temp dir
            (sizes <= --radicale-max only)

loads the generated calendar (PUT at --load-conc connections; Radicale: the
files are copied into its storage, then one query builds its item cache),
then measures every operation with wrk (bench/bench.lua) at concurrency 1
and 16 (PUT: 1 and 8), and writes bench/results/<date>.md (+ .json).
"""

import argparse
import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(BENCH))
import devserver  # noqa: E402
import gen  # noqa: E402

AUTH = "Basic " + base64.b64encode(b"alice:alice").decode()
WEEK = ("20260601T000000Z", "20260608T000000Z")      # the week of gen.REF
EMPTY_WEEK = ("20150601T000000Z", "20150608T000000Z")  # before any data
MONTH = ("20260601T000000Z", "20260701T000000Z")

PROPFIND_BODY = ('<?xml version="1.0" encoding="utf-8"?>\n'
                 '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>\n')


def query_body(tr, data):
    prop = "<D:getetag/>" + ("<C:calendar-data/>" if data else "")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop>%s</D:prop><C:filter><C:comp-filter name="VCALENDAR">'
            '<C:comp-filter name="VEVENT"><C:time-range start="%s" end="%s"/>'
            '</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>\n' % ((prop,) + tr))


def freebusy_body(tr):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:time-range start="%s" end="%s"/></C:free-busy-query>\n' % tr)


# (op id, label, servers, concurrencies)
OPS = [
    ("get", "GET object", ("static", "fs", "caldav", "radicale"), (1, 16)),
    ("get_round", "GET object, one round", (), (1, 16)),
    ("propfind", "PROPFIND Depth 1 (getetag)", ("fs", "caldav", "radicale"), (1, 16)),
    ("query", "calendar-query 1 week, getetag", ("caldav", "radicale"), (1, 16)),
    ("query_data", "calendar-query 1 week, calendar-data", ("caldav", "radicale"), (1, 16)),
    ("query_empty", "calendar-query 1 week in 2015 (no matches)", ("caldav", "radicale"), (1,)),
    ("multiget", "calendar-multiget 50 hrefs (calendar-data)", ("caldav", "radicale"), (1, 16)),
    ("freebusy", "free-busy-query 1 month", ("caldav",), (1, 16)),
    # bench_fill(): the smallest calendar plus filler objects outside the week
    ("query_fill", "calendar-query 1 week, getetag, same matches (smallest set + fillers)", (), (1, 16)),
    ("query_data_fill", "calendar-query 1 week, calendar-data, same matches (smallest set + fillers)",
     (), (1, 16)),
    ("put", "PUT new object", ("fs", "caldav", "radicale"), (1, 8)),
    ("put_round", "PUT new object, one round", ("fs", "caldav"), (1, 8)),
]
OP_LABEL = {o[0]: o[1] for o in OPS}
SERVER_ORDER = ("static", "fs", "caldav", "caldav-nosync", "radicale")


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def size_label(n):
    return "%dk" % (n // 1000) if n % 1000 == 0 else str(n)


def parse_size(s):
    s = s.strip().lower()
    return int(s[:-1]) * 1000 if s.endswith("k") else int(s)


# --- HTTP helpers -------------------------------------------------------------

def http_req(port, method, path, body=None, headers=None, timeout=600):
    h = {"Authorization": AUTH}
    h.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    c.request(method, path, body, h)
    r = c.getresponse()
    data = r.read()
    el = time.perf_counter() - t0
    c.close()
    return r.status, data, el


def count_responses(data):
    return len(re.findall(rb"<(?:[A-Za-z0-9]+:)?response[ >]", data))


def load_objects(port, coll, files, conc):
    """PUT every file to coll at `conc` persistent connections. -> (secs, statuses)"""
    statuses = {}
    lock = threading.Lock()
    errors = []

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        h = {"Authorization": AUTH, "Content-Type": "text/calendar; charset=utf-8"}
        for i in range(k, len(files), conc):
            f = files[i]
            body = f.read_bytes()
            for attempt in range(3):
                try:
                    c.request("PUT", coll + f.name, body, h)
                    r = c.getresponse()
                    data = r.read()
                    break
                except (OSError, http.client.HTTPException):
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            else:
                raise RuntimeError("PUT %s failed 3 times" % f.name)
            with lock:
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status >= 300 and len(errors) < 5:
                    errors.append("%s %d %s" % (f.name, r.status, data[:200]))
        c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, statuses, errors


# --- process metrics ------------------------------------------------------------

def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])          # kB
    except OSError:
        pass
    return out


def cpu_snapshot():
    """(machine busy CPU seconds, this process's CPU s, reaped children's CPU s)"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")   # minus idle, iowait
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy, time.process_time(), ru.ru_utime + ru.ru_stime


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def wait_idle(pids_fn, timeout=300.0):
    """Wait until the server processes use < 10% of one core over 0.5 s.

    wrk stops at the end of its duration but the server finishes the
    requests it had already accepted (a c=16 phase of slow REPORTs leaves 16
    of them behind): the next phase must not start before that work is done.
    Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pids = pids_fn()
        c0 = sum(proc_cpu(p) for p in pids)
        time.sleep(0.5)
        if sum(proc_cpu(p) for p in pids) - c0 < 0.05:
            break
    return time.monotonic() - t0


def wait_quiet(pids_fn, timeout=60.0):
    """Wait until processes other than the server (and us) use < 10% of the
    machine over one second. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pids = pids_fn()
        a, s0 = cpu_snapshot(), sum(proc_cpu(p) for p in pids)
        time.sleep(1.0)
        b, s1 = cpu_snapshot(), sum(proc_cpu(p) for p in pids)
        other = (b[0] - a[0]) - (s1 - s0) - (b[1] - a[1])
        if other < 0.1 * os.cpu_count():
            break
    return time.monotonic() - t0


class Sampler:
    """Peak memory of the server processes during one phase.

    Before the phase every process's VmHWM is reset (clear_refs 5); a thread
    samples VmRSS/RssAnon every 50 ms; at the end VmHWM is read.  Reported:
    the largest value over the processes (per child, not summed)."""

    def __init__(self, pids_fn):
        self.pids_fn = pids_fn
        self.stop_ev = threading.Event()
        self.peak_anon = 0
        self.peak_rss = 0
        self.cpu0 = {}

    def __enter__(self):
        for pid in self.pids_fn():
            try:
                with open("/proc/%d/clear_refs" % pid, "w") as f:
                    f.write("5")
            except OSError:
                pass
            self.cpu0[pid] = proc_cpu(pid)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        return self

    def _run(self):
        pids, k = self.pids_fn(), 0
        while not self.stop_ev.wait(0.05):
            k += 1
            if k % 20 == 0:                 # scanning /proc costs CPU: once a second
                pids = self.pids_fn()
            for pid in pids:
                s = proc_status(pid)
                self.peak_anon = max(self.peak_anon, s.get("RssAnon", 0))
                self.peak_rss = max(self.peak_rss, s.get("VmRSS", 0))

    def __exit__(self, *a):
        self.stop_ev.set()
        self.t.join()
        pids = self.pids_fn()
        self.hwm = max([proc_status(p).get("VmHWM", 0) for p in pids] or [0])
        self.nprocs = len(pids)
        cpu = 0.0
        for pid in pids:
            cpu += proc_cpu(pid) - self.cpu0.get(pid, 0.0)
        self.cpu = cpu


# --- servers --------------------------------------------------------------------

class Httpd:
    def __init__(self, kind, port, var, module, static_dir=None, nosync=False):
        self.kind = kind
        extra = "CalDAVDurability nosync\n" if nosync else ""
        if static_dir:
            extra = ('Alias /static "%s"\n<Directory "%s">\n    Require all granted\n</Directory>\n'
                     '<Location /static>\n    AuthType Basic\n    AuthName "mod_caldav"\n'
                     '    AuthUserFile "%s"\n    Require valid-user\n</Location>\n'
                     % (static_dir, static_dir, Path(var) / "conf" / "htpasswd"))
        self.extra = extra
        self.srv = devserver.Server(var=var, port=port, module=module,
                                    provider="caldav" if kind == "caldav" else "fs",
                                    mpm="event", extra=extra)
        self.port = port

    def start(self):
        devserver.start(self.srv)
        self.errlog_pos = 0
        self.acclog_pos = 0

    def stop(self):
        devserver.stop(self.srv)

    def pids(self):
        pid = devserver.running_pid(self.srv)
        return devserver.child_pids(pid) if pid else []

    def mark_logs(self):
        self.errlog_pos = self._size(self.srv.error_log)
        self.acclog_pos = self._size(self.srv.access_log)

    @staticmethod
    def _size(p):
        try:
            return p.stat().st_size
        except OSError:
            return 0

    def new_log_lines(self, which):
        p = self.srv.error_log if which == "error" else self.srv.access_log
        pos = self.errlog_pos if which == "error" else self.acclog_pos
        try:
            with open(p, "rb") as f:
                f.seek(pos)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def anomalies(self):
        """(status counts >= 400 from the access log, notable error-log lines)"""
        codes = {}
        for line in self.new_log_lines("access"):
            m = re.search(r'" (\d{3}) ', line)
            if m and int(m.group(1)) >= 400:
                codes[m.group(1)] = codes.get(m.group(1), 0) + 1
        errs = [l for l in self.new_log_lines("error")
                if re.search(r"\[(\w+:)?(error|crit|alert|emerg)\]|exit signal|AH00060|"
                             r"scoreboard is full|MaxRequestWorkers", l)]
        return codes, errs


class Radicale:
    kind = "radicale"

    def __init__(self, port, var):
        self.port = port
        self.var = Path(var)
        self.proc = None

    def prepare(self):
        (self.var / "collections").mkdir(parents=True, exist_ok=True)
        (self.var / "config").write_text(
            "[server]\nhosts = 127.0.0.1:%d\nmax_connections = 32\ntimeout = 600\n"
            "[auth]\ntype = none\n[rights]\ntype = owner_only\n"
            "[storage]\nfilesystem_folder = %s\n[web]\ntype = none\n"
            "[logging]\nlevel = warning\n" % (self.port, self.var / "collections"))

    def coll_dir(self, rel):
        return self.var / "collections" / "collection-root" / rel

    def start(self):
        self.logf = open(self.var / "radicale.log", "ab")
        self.proc = subprocess.Popen(["/usr/bin/radicale", "--config", str(self.var / "config")],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("OPTIONS", "/", headers={"Authorization": AUTH})
                c.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("radicale did not start; see %s" % (self.var / "radicale.log"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def mark_logs(self):
        self.logpos = (self.var / "radicale.log").stat().st_size

    def anomalies(self):
        with open(self.var / "radicale.log", "rb") as f:
            f.seek(self.logpos)
            lines = f.read().decode(errors="replace").splitlines()
        # vobject logs every Windows zone name it cannot map as an ERROR: noise
        return {}, [l for l in lines if ("[ERROR]" in l or "[CRITICAL]" in l)
                    and not re.search(r"\[ERROR\] '[^']*Standard Time'$", l)]


def radicale_rejects(files):
    """Names of files Radicale's own PUT validation refuses (vobject cannot
    serialise some Windows TZIDs); they are left out of Radicale's copy.
    Only files with a Windows zone name are checked (the only class seen)."""
    cand = [str(f) for f in files if b"Standard Time" in f.read_bytes()]
    if not cand:
        return []
    code = r"""
import sys, logging, vobject
logging.disable(logging.CRITICAL)
from radicale import item as ri
for name in sys.stdin.read().split():
    try:
        items = list(vobject.readComponents(open(name, encoding="utf-8").read()))
        ri.check_and_sanitize_items(items, is_collection=False, tag="VCALENDAR")
        ri.Item(collection_path="alice/cal", vobject_item=items[0]).prepare()
    except Exception:
        print(name)
"""
    res = subprocess.run(["/usr/bin/python3", "-c", code], input="\n".join(cand),
                         capture_output=True, text=True)
    return [Path(l).name for l in res.stdout.split()]


# --- one measured phase ------------------------------------------------------------

def run_wrk(port, conc, duration, env, timeout_s=300):
    threads = 1 if conc == 1 else 2
    e = dict(os.environ)
    e.update(env)
    e["BENCH_AUTH"] = AUTH
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conc, "-d%ds" % duration,
           "--timeout", "%ds" % timeout_s, "-s", str(BENCH / "bench.lua"),
           "http://127.0.0.1:%d" % port]
    res = subprocess.run(cmd, env=e, capture_output=True, text=True,
                         timeout=duration + timeout_s + 60)
    for line in res.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON "):])
    raise RuntimeError("wrk failed: %s\n%s" % (res.stdout, res.stderr))


class Runner:
    def __init__(self, args):
        self.a = args
        self.results = []
        self.notes = []
        self.fill_check = None           # bench_fill: (same objects?, n, n of the base set)
        self.loads = []
        self.work = Path(args.work)
        self.trash = self.work / "trash"
        self.trashed = 0

    def discard(self, var):
        """Put a server's var dir aside; purge() deletes it when every phase
        has run.  On ext4 without a journal (as on this kind of VM) creating
        a file passes over every inode freed in the last minutes, reading its
        inode table block each time (recently_deleted() in fs/ext4/ialloc.c,
        seen in a profile): after tens of thousands of files were deleted,
        mod_dav_fs's PUT took 1.3 ms of CPU instead of 0.31 for minutes.
        Deleting the previous size's stores between phases made the fs
        baseline of the next size slow.  A rename frees no inode."""
        if not var.exists():
            return
        self.trash.mkdir(exist_ok=True)
        self.trashed += 1
        os.rename(var, self.trash / ("%d-%d-%s" % (os.getpid(), self.trashed, var.name)))

    def paths_file(self, op, kind, prefix, names):
        """The request list of phase 'op' of server 'kind': one path
        (prefix + name) per line, written afresh for every phase."""
        pf = self.work / ("paths-%s-%s.txt" % (op, kind))
        pf.write_text("".join("%s%s\n" % (prefix, n) for n in names))
        return pf

    def purge(self):
        """Delete what discard() put aside (with --keep: nothing)."""
        if self.trash.exists() and not self.a.keep:
            shutil.rmtree(self.trash, ignore_errors=True)

    def phase_duration(self, probe_s, conc):
        """Base duration, longer for slow requests so that every connection
        completes several of them (capped)."""
        per_req = probe_s * max(1.0, conc / 2.0)
        return int(min(self.a.max_duration, max(self.a.duration, 6 * per_req + 1)))

    def measure(self, server, size, op, conc, env, probe):
        """probe: (status_ok, seconds, matches, bytes) of one request first."""
        ok, probe_s, matches, nbytes, detail = probe
        if not ok:
            self.notes.append("%s %s %s: probe failed: %s" % (server.kind, size_label(size), op, detail))
            log("  PROBE FAILED %s" % detail)
        dur = self.phase_duration(probe_s, conc)
        if probe_s * max(1.0, conc / 2.0) > self.a.max_duration:
            self.notes.append("%s %s %s c=%d skipped: one request takes %.1f s alone, so a "
                              "round at c=%d would not finish within --max-duration %d s" % (
                                  server.kind, size_label(size), op, conc, probe_s, conc,
                                  self.a.max_duration))
            log("  %-9s %-5s %-12s c=%-2d skipped (one request %.1f s)" % (
                server.kind, size_label(size), op, conc, probe_s))
            return None
        best = None
        for attempt in range(1 + self.a.retries):
            if attempt:
                q = wait_quiet(server.pids)
                log("  %-9s %-5s %-12s c=%-2d disturbed (%.0f%% of the CPU used by other "
                    "processes): again (attempt %d, waited %.0f s for quiet)" % (
                        server.kind, size_label(size), op, conc, best[3], attempt + 1, q))
            e = dict(env, BENCH_TAG="a%d" % attempt)
            server.mark_logs()
            c0 = cpu_snapshot()
            t0 = time.monotonic()
            with Sampler(server.pids) as smp:
                w = run_wrk(server.port, conc, dur, e)
            c1 = cpu_snapshot()
            wall = time.monotonic() - t0
            drain = wait_idle(server.pids)
            if drain > 2.0:
                self.notes.append("%s %s %s c=%d: the server went on working %.0f s after wrk "
                                  "stopped (requests wrk had abandoned); the harness waited" % (
                                      server.kind, size_label(size), op, conc, drain))
            client_cpu = (c1[1] - c0[1]) + (c1[2] - c0[2])        # harness + wrk
            other = (c1[0] - c0[0]) - smp.cpu - client_cpu
            other_pct = max(0.0, 100.0 * other / (wall * os.cpu_count()))
            codes, errs = server.anomalies()
            if best is None or other_pct < best[3]:
                best = (w, smp, (c0, c1, wall, client_cpu), other_pct, codes, errs)
            if other_pct <= 10.0:
                break
        w, smp, (c0, c1, wall, client_cpu), other_pct, codes, errs = best
        secs = w["duration_us"] / 1e6
        row = {
            "server": "static" if op.startswith("get_static") else server.kind,
            "size": size, "op": {"get_static": "get", "get_static_round": "get_round"}.get(op, op),
            "conc": conc,
            "duration": round(secs, 1), "requests": w["requests"],
            "rps": w["requests"] / secs if secs and w["requests"] else 0.0,
            "p50_ms": w["lat_p50"] / 1000.0, "p95_ms": w["lat_p95"] / 1000.0,
            "p99_ms": w["lat_p99"] / 1000.0, "max_ms": w["lat_max"] / 1000.0,
            "mean_ms": w["lat_mean"] / 1000.0,
            "err_status": w["err_status"], "err_sock": w["err_connect"] + w["err_write"] + w["err_timeout"],
            "reconnects": w["err_read"],
            "bytes_per_req": w["bytes"] / w["requests"] if w["requests"] else 0,
            "probe_ms": probe_s * 1000.0, "matches": matches, "probe_bytes": nbytes,
            "hwm_mb": smp.hwm / 1024.0, "anon_mb": smp.peak_anon / 1024.0,
            "procs": smp.nprocs,
            "cpu_ms_per_req": 1000.0 * smp.cpu / w["requests"] if w["requests"] else 0.0,
            "server_cpu_pct": 100.0 * smp.cpu / (wall * os.cpu_count()),
            "client_cpu_pct": 100.0 * client_cpu / (wall * os.cpu_count()),
            "other_cpu_pct": other_pct,
            "codes": codes, "errlog": errs[:5], "errlog_n": len(errs),
            "attempts": attempt + 1,
        }
        self.results.append(row)
        log("  %-9s %-5s %-12s c=%-2d %8.1f req/s  p50 %8.2f ms  p95 %8.2f ms  n=%d%s%s" % (
            row["server"], size_label(size), row["op"], conc, row["rps"], row["p50_ms"],
            row["p95_ms"], w["requests"],
            "  status-errors=%d" % w["err_status"] if w["err_status"] else "",
            "  errlog=%d" % len(errs) if errs else ""))
        return row

    # -- probes: one request with Python, validated ------------------------------
    def probe(self, port, method, path, body=None, headers=None, expect=(200,), kind="xml"):
        st, data, el = http_req(port, method, path, body, headers)
        if kind == "xml":
            n = count_responses(data)
        elif kind == "fb":
            n = len(re.findall(rb"\nFREEBUSY[;:]", data))
        else:
            n = 1
        ok = st in expect
        return ok, el, n, len(data), "%s %s -> %d %s" % (method, path, st, data[:200])

    def run_ops(self, server, size, coll, names, files, get=True):
        """The read phases of one server; with get=False without GET
        (get_rounds() measures it)."""
        port = server.port
        kind = server.kind
        for op, label, servers, concs in OPS:
            if op in ("put", "put_round") or (op == "get" and not get):
                continue
            if kind not in servers:
                continue
            if op == "get":
                self.run_get(server, size, coll, names, "get", concs)
                continue
            if op == "propfind":
                spec = ("PROPFIND", PROPFIND_BODY, "1", (207,), "xml")
            elif op in ("query", "query_data", "query_empty"):
                tr = EMPTY_WEEK if op == "query_empty" else WEEK
                spec = ("REPORT", query_body(tr, op == "query_data"), "1", (207,), "xml")
            elif op == "freebusy":
                spec = ("REPORT", freebusy_body(MONTH), "1", (200,), "fb")
            elif op == "multiget":
                pf = self.paths_file("multiget", kind, coll, names)
                for c in concs:
                    body = ('<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-multiget xmlns:D="DAV:" '
                            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>'
                            '<C:calendar-data/></D:prop>%s</C:calendar-multiget>'
                            % "".join("<D:href>%s%s</D:href>" % (coll, n) for n in names[:50]))
                    pr = self.probe(port, "REPORT", coll, body.encode(),
                                    {"Depth": "1", "Content-Type": "application/xml"}, (207,))
                    self.measure(server, size, op, c,
                                 {"BENCH_OP": "multiget",
                                  "BENCH_PATHS": str(pf),
                                  "BENCH_COLL": coll, "BENCH_N": "50", "BENCH_SEED": "7"}, pr)
                continue
            self.fixed_phase(server, size, op, coll, spec, concs)
        # PUT last: the calendar stays as generated for every read phase.
        # mod_dav_fs and mod_caldav: put_rounds(), interleaved.
        if kind == "radicale":
            self.put_phase(server, size, coll.rsplit("/", 2)[0] + "/", files, c=1, op="put")
            self.put_phase(server, size, coll.rsplit("/", 2)[0] + "/", files, c=8, op="put")

    def fixed_phase(self, server, size, op, coll, spec, concs):
        """Phase 'op' at each concurrency: the same request again and again,
        spec = (method, body, depth, expected statuses, probe kind)."""
        method, body, depth, expect, pk = spec
        bodyfile = self.work / ("body-%s.xml" % op)
        bodyfile.write_text(body)
        for c in concs:
            pr = self.probe(server.port, method, coll, body.encode(),
                            {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
                            expect, pk)
            self.measure(server, size, op, c,
                         {"BENCH_OP": "fixed", "BENCH_METHOD": method, "BENCH_PATH": coll,
                          "BENCH_DEPTH": depth, "BENCH_BODY": str(bodyfile)}, pr)

    def add_medians(self, rows, op):
        """rows: server kind -> its round rows; each server's median round
        becomes its result for 'op', with every round's req/s."""
        for kind, rr in rows.items():
            if rr:
                med = sorted(rr, key=lambda r: r["rps"])[len(rr) // 2]
                self.results.append(dict(med, op=op, rounds=[round(r["rps"]) for r in rr]))

    def put_phase(self, server, size, parent, files, c, op, rnd=0):
        """One PUT phase of 'server' at concurrency c into a new collection
        below 'parent'; returns the result row (or None)."""
        pool = self.work / "putpool.txt"
        pool.write_text("\n".join(str(f) for f in files[:2000]) + "\n")
        pcoll = "%sput-%s-c%d-r%d/" % (parent, size_label(size), c, rnd)
        mk = "MKCOL" if server.kind == "fs" else "MKCALENDAR"
        st, data, _ = http_req(server.port, mk, pcoll)
        if st != 201:
            self.notes.append("%s: %s %s -> %d" % (server.kind, mk, pcoll, st))
        body = files[0].read_bytes().replace(b"\nUID:", b"\nUID:probe-", 1)
        pr = self.probe(server.port, "PUT", pcoll + "probe.ics", body,
                        {"Content-Type": "text/calendar; charset=utf-8"}, (201,), "none")
        return self.measure(server, size, op, c,
                            {"BENCH_OP": "put", "BENCH_PATHS": pcoll, "BENCH_POOL": str(pool),
                             "BENCH_SEED": str(3 + rnd)}, pr)

    def put_rounds(self, size, files, servers):
        """The PUT comparison: --put-rounds rounds per concurrency, the servers
        taking turns (the order alternates from round to round), so that a
        slow stretch of the machine (another VM on the host: invisible from
        here) does not fall on one server's phase only.  Each server's
        result is its median round; every round is kept as "put_round"."""
        for c in (1, 8):
            rows = {srv.kind: [] for srv in servers}
            for rnd in range(self.a.put_rounds):
                for srv in (servers if rnd % 2 == 0 else servers[::-1]):
                    row = self.put_phase(srv, size, "/dav/b/", files, c, "put_round", rnd)
                    if row:
                        row["round"] = rnd + 1
                        rows[srv.kind].append(row)
            self.add_medians(rows, "put")

    def run_get(self, server, size, prefix, names, op, concs, seed=5):
        pf = self.paths_file(op, server.kind, prefix, names)
        rows = []
        for c in concs:
            pr = self.probe(server.port, "GET", prefix + names[len(names) // 2], kind="none")
            rows.append(self.measure(server, size, op, c,
                                     {"BENCH_OP": "get", "BENCH_PATHS": str(pf),
                                      "BENCH_SEED": str(seed)}, pr))
        return rows

    def get_rounds(self, size, names, servers):
        """GET of a random object from static files (the fs server's /static/),
        mod_dav_fs and mod_caldav, taking turns in --put-rounds interleaved
        rounds per concurrency as in put_rounds(); a server's result is its
        median round, every round is kept as "get_round"."""
        targets = []
        for srv in servers:
            if srv.kind == "fs":
                targets.append((srv, "/static/", "get_static_round", "static"))
            targets.append((srv, "/dav/b/cal/", "get_round", srv.kind))
        for c in (1, 16):
            rows = {t[3]: [] for t in targets}
            for rnd in range(self.a.put_rounds):
                for srv, prefix, op, kind in (targets if rnd % 2 == 0 else targets[::-1]):
                    row = self.run_get(srv, size, prefix, names, op, (c,), seed=5 + rnd)[0]
                    if row:
                        row["round"] = rnd + 1
                        rows[kind].append(row)
            self.add_medians(rows, "get")

    # -- per server ------------------------------------------------------------------
    def bench_fill(self, base_files, fill_files, port):
        """The one-week query on a calendar of len(base_files) +
        len(fill_files) objects whose week holds the same instances as the
        base calendar's (gen.generate_filler): what the calendar's size
        alone costs.  The base set is also loaded as a second calendar of
        the same store, to check that both weeks answer the same objects."""
        total = len(base_files) + len(fill_files)
        var = self.work / "caldav-fill"
        self.discard(var)
        srv = Httpd("caldav", port, var, str(self.module))
        load = None
        log("caldav %s (%s + fillers): starting httpd on %d" % (
            size_label(total), size_label(len(base_files)), port))
        srv.start()
        try:
            sts = [http_req(port, m, c)[0] for m, c in (("MKCOL", "/dav/b/"),
                                                       ("MKCALENDAR", "/dav/b/cal/"),
                                                       ("MKCALENDAR", "/dav/b/base/"))]
            if sts != [201] * 3:
                raise RuntimeError("caldav-fill: creating the calendars failed: %s" % sts)
            srv.mark_logs()
            secs, statuses, errors = load_objects(port, "/dav/b/cal/", base_files + fill_files,
                                                  self.a.load_conc)
            _, statuses2, errors2 = load_objects(port, "/dav/b/base/", base_files,
                                                 self.a.load_conc)
            codes, errs = srv.anomalies()
            load = {"server": "caldav", "size": total, "secs": secs,
                    "rate": total / secs, "statuses": statuses,
                    "errors": errors + errors2, "errlog": errs[:5],
                    "store_mb": du_mb(var / "store"),
                    "what": "%s set + %d fillers (and the %s set again as a second calendar)" % (
                        size_label(len(base_files)), len(fill_files),
                        size_label(len(base_files)))}
            self.loads.append(load)
            log("  loaded in %.1f s (%.0f PUT/s) %s" % (secs, total / secs, statuses))
            hrefs = {}
            for coll in ("/dav/b/cal/", "/dav/b/base/"):
                st, data, _ = http_req(port, "REPORT", coll, query_body(WEEK, False).encode(),
                                       {"Depth": "1", "Content-Type": "application/xml"})
                hrefs[coll] = sorted(h.rsplit(b"/", 1)[-1].decode() for h in
                                     re.findall(rb"<(?:[A-Za-z0-9]+:)?href>([^<]*)<", data))
            same = hrefs["/dav/b/cal/"] == hrefs["/dav/b/base/"] and hrefs["/dav/b/cal/"]
            self.fill_check = (bool(same), len(hrefs["/dav/b/cal/"]), len(hrefs["/dav/b/base/"]))
            if not same:
                self.notes.append("caldav-fill: the week of the %s calendar answered %d objects, "
                                  "the %s set's own calendar %d: not the same matches" % (
                                      size_label(total), len(hrefs["/dav/b/cal/"]),
                                      size_label(len(base_files)), len(hrefs["/dav/b/base/"])))
            for op in ("query_fill", "query_data_fill"):
                self.fixed_phase(srv, total, op, "/dav/b/cal/",
                                 ("REPORT", query_body(WEEK, op == "query_data_fill"), "1",
                                  (207,), "xml"), (1, 16))
        finally:
            if load:
                load["store_mb_end"] = du_mb(var / "store")
            srv.stop()
            if not self.a.keep:
                self.discard(var)

    def bench_nosync_put(self, size, files, port):
        """Information only: caldav PUT with CalDAVDurability nosync."""
        var = self.work / ("caldav-nosync-%s" % size_label(size))
        self.discard(var)
        srv = Httpd("caldav", port, var, str(self.module), None, nosync=True)
        srv.kind = "caldav-nosync"
        log("caldav-nosync %s: starting httpd on %d" % (size_label(size), port))
        srv.start()
        try:
            http_req(port, "MKCOL", "/dav/b/")
            pool = self.work / "putpool.txt"
            pool.write_text("\n".join(str(f) for f in files[:2000]) + "\n")
            for c in (1, 8):
                pcoll = "/dav/b/put-c%d/" % c
                http_req(port, "MKCALENDAR", pcoll)
                body = files[0].read_bytes().replace(b"\nUID:", b"\nUID:probe-", 1)
                pr = self.probe(port, "PUT", pcoll + "probe.ics", body,
                                {"Content-Type": "text/calendar; charset=utf-8"}, (201,), "none")
                self.measure(srv, size, "put", c,
                             {"BENCH_OP": "put", "BENCH_PATHS": pcoll, "BENCH_POOL": str(pool),
                              "BENCH_SEED": "3"}, pr)
        finally:
            srv.stop()
            if not self.a.keep:
                self.discard(var)

    def bench_httpd(self, kind, size, files, port, nosync=False, keep_running=False):
        """Start, load and measure the read phases of one httpd; with
        keep_running, return it still running (end_httpd() stops it)."""
        var = self.work / ("%s-%s" % (kind, size_label(size)))
        self.discard(var)
        static_dir = None
        if kind == "fs":
            static_dir = var / "static"
            static_dir.mkdir(parents=True)
            for f in files:
                os.link(f, static_dir / f.name)
        srv = Httpd(kind, port, var, str(self.module), static_dir, nosync)
        srv.bench_var, srv.bench_load, srv.bench_ended = var, None, False
        log("%s %s: starting httpd on %d" % (kind, size_label(size), port))
        srv.start()
        try:
            st, _, _ = http_req(port, "MKCOL", "/dav/b/")
            coll = "/dav/b/cal/"
            st2, _, _ = http_req(port, "MKCOL" if kind == "fs" else "MKCALENDAR", coll)
            if (st, st2) != (201, 201):
                raise RuntimeError("%s: creating %s failed: %d %d" % (kind, coll, st, st2))
            log("%s %s: loading %d objects (PUT, c=%d)" % (kind, size_label(size), len(files),
                                                           self.a.load_conc))
            srv.mark_logs()
            secs, statuses, errors = load_objects(port, coll, files, self.a.load_conc)
            codes, errs = srv.anomalies()
            self.loads.append({"server": kind, "size": size, "secs": secs,
                               "rate": len(files) / secs, "statuses": statuses,
                               "errors": errors, "errlog": errs[:5],
                               "store_mb": du_mb(var / "store")})
            log("  loaded in %.1f s (%.0f PUT/s) %s" % (secs, len(files) / secs, statuses))
            if errors:
                self.notes.append("%s %s load: %s" % (kind, size_label(size), errors))
            names = [f.name for f in files]
            self.run_ops(srv, size, coll, names, files, get=False)
            srv.bench_load = self.loads[-1]
        except BaseException:
            self.end_httpd(srv)
            raise
        if not keep_running:
            self.end_httpd(srv)
        return srv

    def end_httpd(self, srv):
        """Stop a server bench_httpd() started (once), note its store size."""
        if srv.bench_ended:
            return
        srv.bench_ended = True
        if srv.bench_load is not None:
            srv.bench_load["store_mb_end"] = du_mb(srv.bench_var / "store")
        srv.stop()
        if not self.a.keep:
            self.discard(srv.bench_var)

    def bench_radicale(self, size, files, port):
        var = self.work / ("radicale-%s" % size_label(size))
        self.discard(var)
        srv = Radicale(port, var)
        srv.prepare()
        rejects = set(radicale_rejects(files))
        kept = [f for f in files if f.name not in rejects]
        cal = srv.coll_dir("alice/cal")
        cal.mkdir(parents=True)
        (cal / ".Radicale.props").write_text('{"tag": "VCALENDAR"}')
        t0 = time.perf_counter()
        for f in kept:
            shutil.copyfile(f, cal / f.name)
        log("radicale %s: %d files copied (%d refused by Radicale's validation left out: %s)"
            % (size_label(size), len(kept), len(rejects), " ".join(sorted(rejects))))
        srv.start()
        try:
            coll = "/alice/cal/"
            # one query reads every item once and fills .Radicale.cache
            st, data, el = http_req(port, "REPORT", coll, query_body(WEEK, False).encode(),
                                    {"Depth": "1", "Content-Type": "application/xml"})
            secs = time.perf_counter() - t0
            self.loads.append({"server": "radicale", "size": size, "secs": secs,
                               "rate": len(kept) / secs, "statuses": {"copied": len(kept)},
                               "errors": [], "errlog": [], "rejected": sorted(rejects),
                               "warmup_query_s": el, "store_mb": du_mb(var / "collections")})
            log("  radicale warm-up query: %d in %.1f s" % (st, el))
            names = [f.name for f in kept]
            self.run_ops(srv, size, coll, names, kept)
        finally:
            srv.stop()
            if not self.a.keep:
                self.discard(var)


def du_mb(p):
    total = 0
    for root, dirs, fs in os.walk(p):
        for n in fs:
            try:
                total += os.lstat(os.path.join(root, n)).st_blocks * 512
            except OSError:
                pass
    return total / 1048576.0


# --- environment and report --------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return "(%s)" % e


def environment(module, module_src):
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'")
    env = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "host": "%s, %s cores, %s" % (cpu, os.cpu_count(), sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'") or "bare metal"),
        "memory": sh("free -g | awk '/^Mem:/{print $2\" GB\"}'"),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "filesystem": sh("df -T /tmp | awk 'NR==2{print $2\" on \"$1}'"),
        "apache2": sh("apache2 -v | head -1"),
        "libdb": sh("dpkg-query -W -f='${Version}' libdb5.3"),
        "libical": sh("dpkg-query -W -f='${Version}' libical3"),
        "radicale": sh("dpkg-query -W -f='${Version}' radicale"),
        "wrk": sh("dpkg-query -W -f='${Version}' wrk"),
        "python": platform.python_version(),
        "module": "%s (copied from %s, md5 %s)" % (module, module_src,
                                                   hashlib.md5(module.read_bytes()).hexdigest()),
        "git": sh("cd %s && git rev-parse --short HEAD" % REPO) + (
            " + uncommitted changes" if sh("cd %s && git status --porcelain -uno" % REPO) else ""),
        "durability": sh("grep -h '^ *CalDAVDurability' %s/conf/httpd.conf.in" % REPO) or "default (sync)",
        "loadavg_start": open("/proc/loadavg").read().strip(),
        "other_httpd": sh("ps -eo pid,args | grep -c '[a]pache2 -f'"),
    }
    return env


def fmt(v, nd=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        if v >= 1000:
            return "%.0f" % v
        if v >= 100:
            return "%.1f" % v if nd else "%.0f" % v
        return ("%%.%df" % max(nd, 2 if v < 10 else 1)) % v
    return str(v)


def find(results, server, size, op, conc):
    for r in results:
        if (r["server"], r["size"], r["op"], r["conc"]) == (server, size, op, conc):
            return r
    return None


def targets(results, sizes, fill_check=None):
    t = []
    for size in sizes:
        for c in (1, 8):
            cd, fs = find(results, "caldav", size, "put", c), find(results, "fs", size, "put", c)
            if cd and fs:
                ratio = cd["rps"] / fs["rps"]
                rounds = ""
                if cd.get("rounds") and fs.get("rounds"):
                    rounds = " (medians of %d interleaved rounds: caldav %s, fs %s)" % (
                        len(cd["rounds"]), " / ".join(map(str, cd["rounds"])),
                        " / ".join(map(str, fs["rounds"])))
                t.append(("PUT c=%d at %s: caldav (durable) ≥ 0.7× mod_dav_fs" % (c, size_label(size)),
                          "%.0f vs %.0f req/s = %.2f×%s" % (cd["rps"], fs["rps"], ratio, rounds),
                          ratio >= 0.7))
    for size in sizes:
        for c in (1, 16):
            cd, st = find(results, "caldav", size, "get", c), find(results, "static", size, "get", c)
            if cd and st:
                ratio = cd["rps"] / st["rps"]
                rounds = ""
                if cd.get("rounds") and st.get("rounds"):
                    rounds = " (medians of %d interleaved rounds: caldav %s, static %s)" % (
                        len(cd["rounds"]), " / ".join(map(str, cd["rounds"])),
                        " / ".join(map(str, st["rounds"])))
                t.append(("GET c=%d at %s: caldav ≥ 0.7× static files" % (c, size_label(size)),
                          "%.0f vs %.0f req/s = %.2f×%s" % (cd["rps"], st["rps"], ratio, rounds),
                          ratio >= 0.7))
    lo, hi = min(sizes), max(sizes)
    if hi != lo:
        for op in ("query", "query_data"):
            a, b = find(results, "caldav", lo, op, 1), find(results, "caldav", hi, op, 1)
            if a and b:
                ratio = b["mean_ms"] / a["mean_ms"]
                t.append(("%s c=1: time at %s ≤ 3× time at %s" % (OP_LABEL[op], size_label(hi), size_label(lo)),
                          "%.2f ms vs %.2f ms = %.1f× (matches %d vs %d; per match %.3f vs %.3f ms)" % (
                              b["mean_ms"], a["mean_ms"], ratio, b["matches"], a["matches"],
                              b["mean_ms"] / max(1, b["matches"]), a["mean_ms"] / max(1, a["matches"])),
                          ratio <= 3.0))
        for op, base_op in (("query_fill", "query"), ("query_data_fill", "query_data")):
            a, b = find(results, "caldav", lo, base_op, 1), find(results, "caldav", hi, op, 1)
            if a and b:
                ratio = b["mean_ms"] / a["mean_ms"]
                same = bool(fill_check and fill_check[0]) and b["matches"] == a["matches"]
                t.append(("%s c=1: time at %s (the %s set + %d objects outside the week) ≤ 3× "
                          "time at %s" % (OP_LABEL[base_op], size_label(hi), size_label(lo), hi - lo,
                                          size_label(lo)),
                          "%.2f ms vs %.2f ms = %.1f× (matches %d vs %d%s)" % (
                              b["mean_ms"], a["mean_ms"], ratio, b["matches"], a["matches"],
                              "; the same objects as the %s set's own calendar" % size_label(lo)
                              if same else "; NOT the same matches"),
                          ratio <= 3.0 and same))
        a, b = find(results, "caldav", lo, "query_empty", 1), find(results, "caldav", hi, "query_empty", 1)
        if a and b:
            ratio = b["mean_ms"] / a["mean_ms"]
            t.append(("(supplementary) week in 2015, before the index window, no matches, c=1: "
                      "time at %s ≤ 3× time at %s" % (size_label(hi), size_label(lo)),
                      "%.2f ms vs %.2f ms = %.1f× (matches %d vs %d)" % (b["mean_ms"], a["mean_ms"], ratio,
                                                                        b["matches"], a["matches"]),
                      ratio <= 3.0))
    rsize = 10000 if 10000 in sizes else None
    if rsize:
        for op in ("query", "query_data"):
            cd, ra = find(results, "caldav", rsize, op, 1), find(results, "radicale", rsize, op, 1)
            if cd and ra:
                ratio = ra["mean_ms"] / cd["mean_ms"]
                t.append(("%s c=1 at 10k: caldav ≥ 100× faster than Radicale" % OP_LABEL[op],
                          "%.2f ms vs %.1f ms = %.0f× (matches %d vs %d)" % (
                              cd["mean_ms"], ra["mean_ms"], ratio, cd["matches"], ra["matches"]),
                          ratio >= 100))
    if hi != lo:
        for op in ("propfind", "query", "query_data", "multiget", "freebusy"):
            for c in (1, 16):
                a, b = find(results, "caldav", lo, op, c), find(results, "caldav", hi, op, c)
                if a and b:
                    ok = b["anon_mb"] <= 1.5 * a["anon_mb"] + 8
                    t.append(("memory, %s c=%d: peak private RSS per child at %s ≤ 1.5× at %s + 8 MB"
                              % (OP_LABEL[op], c, size_label(hi), size_label(lo)),
                              "anon %.1f vs %.1f MB; VmHWM %.1f vs %.1f MB" % (
                                  b["anon_mb"], a["anon_mb"], b["hwm_mb"], a["hwm_mb"]), ok))
    return t


def write_report(path, env, args, results, loads, notes, tlist, wall, sizes, dataset):
    L = []
    L.append("# mod_caldav benchmark — %s\n" % env["date"])
    L.append("Command: `%s`  \nWall time: %.1f min. Generated by bench/run.py; see bench/README.md "
             "for what each number means.\n" % (" ".join(["bench/run.sh"] + args.argv), wall / 60))
    L.append("## Environment\n")
    L.append("| | |\n|---|---|")
    for k, v in env.items():
        L.append("| %s | %s |" % (k, str(v).replace("|", "\\|")))
    L.append("| dataset | %s |" % dataset)
    L.append("")
    L.append("## Targets (issue 3)\n")
    L.append("| target | measured | result |\n|---|---|---|")
    for name, meas, ok in tlist:
        L.append("| %s | %s | **%s** |" % (name, meas, "PASS" if ok else "FAIL"))
    L.append("")
    L.append("## Loading\n")
    L.append("| server | size | objects/s | time s | result | store MB (after load → after run) |\n|---|---|---|---|---|---|")
    for l in loads:
        L.append("| %s | %s | %.0f | %.1f | %s | %.0f → %s |" % (
            l["server"], size_label(l["size"]), l["rate"], l["secs"],
            ("%s; " % l["what"] if l.get("what") else "") + ", ".join("%s: %s" % kv for kv in sorted(l["statuses"].items(), key=str))
            + ("; %d refused by Radicale, left out" % len(l["rejected"]) if l.get("rejected") else "")
            + ("; warm-up query %.1f s" % l["warmup_query_s"] if "warmup_query_s" in l else ""),
            l["store_mb"], "%.0f" % l["store_mb_end"] if "store_mb_end" in l else "—"))
    L.append("")
    L.append("## All measurements\n")
    L.append("req/s and latencies from wrk (persistent connections); *matches* = responses in the "
             "probe's multistatus (FREEBUSY lines for free-busy); *KB/resp* = bytes per response; "
             "*CPU ms/req* = server CPU time (all processes) per request; *HWM* = largest VmHWM of "
             "one server process in the phase (reset before it); *anon* = largest sampled RssAnon of "
             "one process; *CPU %* = share of both cores used by the server / by wrk and this harness / "
             "by anything else on the machine; *err* = responses ≥ 400 / socket errors; *reconn* = "
             "connections the server closed (keep-alive) that wrk had to reopen.\n")
    hdr = ("| operation | size | server | c | req/s | p50 ms | p95 ms | p99 ms | matches | KB/resp "
           "| CPU ms/req | CPU % srv/client/other | HWM MB | anon MB | err | reconn |")
    L.append(hdr)
    L.append("|" + "---|" * (hdr.count("|") - 1))
    order = {o[0]: i for i, o in enumerate(OPS)}
    for r in sorted(results, key=lambda r: (order[r["op"]], r["conc"], r["size"],
                                            SERVER_ORDER.index(r["server"]))):
        L.append("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %.1f | %s | %.0f/%.0f/%.0f | %.1f | %.1f | %s | %d |" % (
            OP_LABEL[r["op"]], size_label(r["size"]), r["server"], r["conc"], fmt(r["rps"]),
            fmt(r["p50_ms"]), fmt(r["p95_ms"]), fmt(r["p99_ms"]),
            r["matches"] if r["op"] not in ("get", "get_round", "put", "put_round") else "",
            r["bytes_per_req"] / 1024.0, fmt(r["cpu_ms_per_req"]), r["server_cpu_pct"],
            r["client_cpu_pct"], r["other_cpu_pct"], r["hwm_mb"], r["anon_mb"],
            "%d/%d" % (r["err_status"], r["err_sock"]), r["reconnects"]))
    L.append("")
    anomalies = list(notes)
    for r in results:
        if r["err_status"] or r["err_sock"] or r["codes"] or r["errlog_n"]:
            anomalies.append("%s %s %s c=%d: %d error responses %s, %d socket errors, %d error-log lines %s" % (
                r["server"], size_label(r["size"]), r["op"], r["conc"], r["err_status"],
                json.dumps(r["codes"]), r["err_sock"], r["errlog_n"],
                ("e.g. `%s`" % r["errlog"][0][:300]) if r["errlog"] else ""))
    retried = [r for r in results if r.get("attempts", 1) > 1]
    if retried:
        anomalies.append("phases repeated because other processes used > 10%% of the CPU: %s" % (
            ", ".join("%s %s %s c=%d (%d attempts)" % (r["server"], size_label(r["size"]), r["op"],
                                                        r["conc"], r["attempts"]) for r in retried)))
    busy = [r for r in results if r["other_cpu_pct"] > 10]
    if busy:
        anomalies.append("CPU used by other processes on the machine during %d phase(s) (> 10%% of "
                         "both cores, in the least disturbed of the attempts): %s — those numbers are less reliable" % (
                             len(busy), ", ".join("%s %s %s c=%d (%.0f%%)" % (
                                 r["server"], size_label(r["size"]), r["op"], r["conc"],
                                 r["other_cpu_pct"]) for r in busy)))
    for l in loads:
        if l["errlog"]:
            anomalies.append("%s %s load: error log: `%s`" % (l["server"], size_label(l["size"]), l["errlog"][0][:300]))
    L.append("## Anomalies seen by the harness\n")
    L.extend("- %s" % a for a in anomalies) if anomalies else L.append("None.")
    L.append("")
    Path(path).write_text("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1k,10k,100k", help="calendar sizes (default 1k,10k,100k)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1k only, 3 s phases")
    ap.add_argument("--servers", default="static,fs,caldav,radicale",
                    help="which servers to run (static comes with fs)")
    ap.add_argument("--duration", type=int, default=5, help="seconds per measured phase (minimum)")
    ap.add_argument("--max-duration", type=int, default=30, help="cap for slow operations")
    ap.add_argument("--radicale-max", default="10k", help="largest size Radicale is run at")
    ap.add_argument("--retries", type=int, default=2,
                    help="repeat a phase (up to N times) when other processes used > 10%% of "
                         "the CPU during it; the least disturbed attempt is reported")
    ap.add_argument("--load-conc", type=int, default=8, help="connections used to load calendars")
    ap.add_argument("--put-rounds", type=int, default=3,
                    help="interleaved PUT rounds per server and concurrency (median reported)")
    ap.add_argument("--module", default=str(REPO / "build" / "mod_caldav.so"))
    ap.add_argument("--port-base", type=int, default=9140)
    ap.add_argument("--seed", default="42")
    ap.add_argument("--cache", default="/tmp/bench-cache", help="generated .ics files (kept)")
    ap.add_argument("--work", default="/tmp/bench-run",
                    help="server var dirs (deleted when the run ends)")
    ap.add_argument("--keep", action="store_true", help="keep the var dirs")
    ap.add_argument("--no-fill", action="store_true",
                    help="skip the week query on the smallest set plus fillers (bench_fill)")
    ap.add_argument("--no-nosync", action="store_true",
                    help="skip the informational caldav PUT run with CalDAVDurability nosync")
    ap.add_argument("--out", default="", help="report path (default bench/results/<date>.md)")
    args = ap.parse_args()
    args.argv = sys.argv[1:]

    def _stop(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, _stop)           # servers are stopped in finally:
    signal.signal(signal.SIGINT, _stop)            # (also when started in background)
    if args.quick:
        args.sizes = "1k"
        args.duration = min(args.duration, 3)
        args.max_duration = min(args.max_duration, 10)
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    servers = set(s.strip() for s in args.servers.split(","))
    rad_max = parse_size(args.radicale_max)
    for tool in ["wrk"] + (["/usr/bin/radicale"] if "radicale" in servers else []):
        if not shutil.which(tool):
            sys.exit("bench: %s is not installed (apt-get install -y %s)" % (tool, os.path.basename(tool)))
    t_start = time.time()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    # the request lists and bodies of an earlier run: a phase must never
    # read one (the multiget of 2026-11-22-0027 did, see bench/README.md)
    for pat in ("paths-*.txt", "body-*.xml", "putpool.txt"):
        for f in work.glob(pat):
            f.unlink()
    src = Path(args.module).resolve()
    if "caldav" in servers and not src.is_file():
        sys.exit("bench: %s does not exist (run make)" % src)
    module = work / "mod_caldav.so"
    if src.is_file():
        # a snapshot (others may rebuild meanwhile), put in place by rename: an
        # httpd still running from an interrupted run keeps its mapped inode intact
        tmp = module.with_name(module.name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, module)
    else:
        module.write_bytes(b"")
    env = environment(module, src)

    # data: one set per size, each in its own cache directory; the span of
    # dates grows with the count (constant density), so a smaller set is not
    # a prefix of a larger one.  All sets are generated before any server runs.
    size_files, size_desc = {}, []
    for size in sizes:
        data = Path(args.cache) / ("%s-seed%s-%d" % (gen.FORMAT_VERSION, args.seed, size))
        log("data for %s: %d objects, dates REF ± %d days, in %s (cached)" % (
            size_label(size), size, gen.span_days(size), data))
        gen.generate(str(data), size, args.seed)
        for p in (Path(args.cache), data):
            os.chmod(p, 0o755)
        rows = gen.read_manifest(str(data))
        if len(rows) != size:
            sys.exit("bench: %s holds %d objects, not %d" % (data, len(rows), size))
        size_files[size] = [data / r[0] for r in rows]
        size_desc.append("%s: REF ± %d days, avg %.0f bytes, %.1f%% VTODO, %.1f%% recurring" % (
            size_label(size), gen.span_days(size), sum(r[3] for r in rows) / size,
            100.0 * sum(r[1] == "VTODO" for r in rows) / size, 100.0 * sum(r[2] for r in rows) / size))
    fill_files = None
    if "caldav" in servers and len(sizes) > 1 and not args.no_fill:
        lo, hi = sizes[0], sizes[-1]
        if gen.span_days(lo) <= gen.FILL_CLEAR:
            data = Path(args.cache) / ("%s-seed%s-fill-%d-%d" % (gen.FORMAT_VERSION, args.seed, lo, hi))
            log("filler for %s: %d objects outside REF ± %d days, in %s (cached)" % (
                size_label(hi), hi - lo, gen.FILL_CLEAR, data))
            gen.generate_filler(str(data), lo, hi, args.seed)
            os.chmod(data, 0o755)
            rows = gen.read_manifest(str(data))
            if len(rows) != hi - lo:
                sys.exit("bench: %s holds %d objects, not %d" % (data, len(rows), hi - lo))
            fill_files = [data / r[0] for r in rows]
            size_desc.append("%s + fillers: the %s set plus %d objects (%s %s) whose dates avoid "
                             "REF ± %d days, the recurring ones before REF ending %d days before it" % (
                                 size_label(hi), size_label(lo), hi - lo, gen.FORMAT_VERSION,
                                 gen.FILL_VERSION, gen.FILL_CLEAR, gen.FILL_END_DAYS))
    dataset = "%s, seed %s, REF %s, one set per size (constant density): %s" % (
        gen.FORMAT_VERSION, args.seed, gen.REF.isoformat(), "; ".join(size_desc))

    now = dt.datetime.utcnow()
    if not (gen.REF - dt.timedelta(days=358) <= now <= gen.REF + dt.timedelta(days=700)):
        env["WARNING"] = ("the query week (%s) is not inside mod_caldav's index window "
                          "(now - 366 days, now + 2 years): the week query then reads the "
                          "unindexed past/future and is not comparable with runs made near "
                          "%s" % (WEEK[0], gen.REF.date()))
    run = Runner(args)
    run.module = module
    p = args.port_base
    try:
        for size in sizes:
            files = size_files[size]
            log("=== size %s ===" % size_label(size))
            running = []
            try:
                if servers & {"static", "fs"}:
                    running.append(run.bench_httpd("fs", size, files, p + 1, keep_running=True))
                if "caldav" in servers:
                    running.append(run.bench_httpd("caldav", size, files, p + 2,
                                                   keep_running=True))
                run.get_rounds(size, [f.name for f in files], running)
                run.put_rounds(size, files, running)
            finally:
                for srv in running:
                    run.end_httpd(srv)
            if "caldav" in servers and size == sizes[0] and not args.no_nosync:
                run.bench_nosync_put(size, files, p + 4)
            if "radicale" in servers and size <= rad_max:
                run.bench_radicale(size, files, p + 3)
        if fill_files:
            run.bench_fill(size_files[sizes[0]], fill_files, p + 5)
    finally:
        wall = time.time() - t_start
        out = args.out or str(BENCH / "results" / ("%s.md" % dt.datetime.now().strftime("%Y-%m-%d-%H%M")))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        tl = targets(run.results, sizes, run.fill_check)
        write_report(out, env, args, run.results, run.loads, run.notes, tl, wall, sizes, dataset)
        Path(out).with_suffix(".json").write_text(json.dumps(
            {"env": env, "results": run.results, "loads": run.loads, "notes": run.notes,
             "targets": [{"target": a, "measured": b, "pass": c} for a, b, c in tl]}, indent=1))
        log("report: %s (%.1f min)" % (out, wall / 60))
        run.purge()


if __name__ == "__main__":
    main()
