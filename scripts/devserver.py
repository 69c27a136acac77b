#!/usr/bin/env python3
"""devserver.py - run a private httpd that serves mod_caldav (stdlib only).

    devserver.py start --port P --var DIR --module PATH
                       [--san] [--mpm event|prefork] [--provider caldav|fs]
                       [--loglevel "warn caldav:info"]
    devserver.py stop  --port P --var DIR

`start` lays out DIR (conf/ store/ logs/ run/ htdocs/), writes an htpasswd
file with the demo users alice/alice and bob/bob, renders
conf/httpd.conf.in into DIR/conf/httpd.conf, checks it with `apache2 -t`,
starts `apache2 -f DIR/conf/httpd.conf -k start` and waits until the port
answers HTTP.  If a server is already running from DIR with the same
settings, it is restarted gracefully (this reloads a rebuilt module);
otherwise it is stopped first.  `stop` stops the server recorded in
DIR/run/httpd.pid and waits until the parent and its children are gone.

Provider "fs" serves the same URL space with Apache's own mod_dav_fs; the
HTTP test suite uses it to validate itself (`pytest --provider fs`).

The functions below are also imported by tests/http/conftest.py: build a
Server, then prepare() / start() / stop().
"""

import argparse
import base64
import dataclasses
import hashlib
import http.client
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "conf" / "httpd.conf.in"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES_DIR = Path("/usr/lib/apache2/modules")
RUN_USER = "www-data"
RUN_GROUP = "www-data"
DEMO_USERS = (("alice", "alice"), ("bob", "bob"))
DEFAULT_LOGLEVEL = {"caldav": "warn caldav:info", "fs": "warn"}
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0
GRACEFUL_STOP = 5.0    # seconds a graceful stop may take before SIGTERM


class ServerError(Exception):
    """Starting, checking or stopping the server failed; the message says why."""


@dataclasses.dataclass
class Server:
    """One private httpd instance, everything under `var`."""

    var: Path
    port: int
    module: str = ""
    provider: str = "caldav"     # caldav | fs
    mpm: str = "event"           # event | prefork
    san: bool = False            # preload ASan + UBSan runtimes
    loglevel: str = ""           # "" -> DEFAULT_LOGLEVEL[provider]
    extra: str = ""              # directives appended to the config

    def __post_init__(self):
        self.var = Path(self.var).resolve()
        if self.provider not in ("caldav", "fs"):
            raise ServerError("provider must be caldav or fs, not %r" % self.provider)
        if self.mpm not in ("event", "prefork"):
            raise ServerError("mpm must be event or prefork, not %r" % self.mpm)
        if not self.loglevel:
            self.loglevel = DEFAULT_LOGLEVEL[self.provider]

    # --- layout ---------------------------------------------------------
    conf_dir = property(lambda s: s.var / "conf")
    conf_file = property(lambda s: s.var / "conf" / "httpd.conf")
    htpasswd = property(lambda s: s.var / "conf" / "htpasswd")
    store = property(lambda s: s.var / "store")
    logs = property(lambda s: s.var / "logs")
    run = property(lambda s: s.var / "run")
    htdocs = property(lambda s: s.var / "htdocs")
    pid_file = property(lambda s: s.var / "run" / "httpd.pid")
    state_file = property(lambda s: s.var / "run" / "devserver.json")
    error_log = property(lambda s: s.var / "logs" / "error_log")
    access_log = property(lambda s: s.var / "logs" / "access_log")

    @property
    def base_url(self):
        return "http://127.0.0.1:%d/dav/" % self.port

    def settings(self):
        """What must match for a graceful restart instead of stop + start."""
        return {"port": self.port, "module": self.module, "provider": self.provider,
                "mpm": self.mpm, "san": self.san}


# --- helpers ---------------------------------------------------------------

def is_root():
    return os.geteuid() == 0


def run_ids():
    """(uid, gid) of the user httpd serves as when started as root."""
    return pwd.getpwnam(RUN_USER).pw_uid, grp.getgrnam(RUN_GROUP).gr_gid


def check_reachable(path, uid, gid):
    """Fail unless uid/gid may traverse every directory above `path`.

    As root, httpd's children run as www-data; a store below /root (mode
    0700) would be invisible to them and every request would fail with 500.
    """
    for parent in reversed(Path(path).parents):
        st = parent.stat()
        mode = st.st_mode
        ok = (mode & stat.S_IXOTH
              or (st.st_uid == uid and mode & stat.S_IXUSR)
              or (st.st_gid == gid and mode & stat.S_IXGRP))
        if not ok:
            raise ServerError(
                "%s cannot reach %s: %s is mode %04o. Use a var directory "
                "elsewhere (e.g. make run VAR=/tmp/caldav-var) or chmod o+x %s"
                % (RUN_USER, path, parent, stat.S_IMODE(mode), parent))


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def write_htpasswd(path, users=DEMO_USERS):
    """Write an htpasswd file; htpasswd(1) if available, else {SHA} entries."""
    tool = shutil.which("htpasswd")
    path = Path(path)
    if path.exists():
        path.unlink()
    if tool:
        for i, (user, password) in enumerate(users):
            flags = "-bc" if i == 0 else "-b"
            res = subprocess.run([tool, flags, str(path), user, password],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if res.returncode != 0:
                raise ServerError("htpasswd failed: %s" % res.stderr.strip())
    else:
        lines = []
        for user, password in users:
            digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
            lines.append("%s:{SHA}%s\n" % (user, digest))
        path.write_text("".join(lines))


def render_config(server):
    """The text of httpd.conf for `server` (conf/httpd.conf.in, filled in)."""
    user_group = ""
    if is_root():
        user_group = "User %s\nGroup %s" % (RUN_USER, RUN_GROUP)
    values = {
        # first, so that the extra directives may use the other placeholders
        "EXTRA": server.extra,
        "SERVER_ROOT": str(server.var),
        "PORT": str(server.port),
        "MODULE": server.module or "/nonexistent/mod_caldav.so",
        "STORE": str(server.store),
        "HTPASSWD": str(server.htpasswd),
        "MPM": server.mpm,
        "PROVIDER": server.provider,
        "LOGLEVEL": server.loglevel,
        "USER_GROUP": user_group,
    }
    out = []
    for line in TEMPLATE.read_text().splitlines(keepends=True):
        if not line.lstrip().startswith("#"):     # comments keep their @NAME@s
            for key, value in values.items():
                line = line.replace("@%s@" % key, value)
            left = re.findall(r"@[A-Z_]+@", line)
            if left:
                raise ServerError("%s: unknown placeholder %s" % (TEMPLATE, left[0]))
        out.append(line)
    return "".join(out)


def prepare(server):
    """Create the var layout, the htpasswd file and httpd.conf."""
    if server.provider == "caldav":
        if not server.module:
            raise ServerError("--module is required with provider caldav")
        if not Path(server.module).is_file():
            raise ServerError("module %s does not exist (build it with make)" % server.module)
    for d in (server.var, server.conf_dir, server.store, server.logs, server.run, server.htdocs):
        d.mkdir(parents=True, exist_ok=True)
    write_htpasswd(server.htpasswd)
    server.conf_file.write_text(render_config(server))
    if is_root():
        uid, gid = run_ids()
        check_reachable(server.var, uid, gid)
        for d in (server.var, server.conf_dir, server.htdocs):
            os.chmod(d, 0o755)
        os.chown(server.htpasswd, 0, gid)
        os.chmod(server.htpasswd, 0o640)
        for d in (server.store, server.logs, server.run):
            chown_tree(d, uid, gid)


def san_env(server):
    """Environment additions that preload the sanitizer runtimes."""
    if not server.san:
        return {}
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        res = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True, text=True)
        lib = res.stdout.strip()
        if res.returncode != 0 or not os.path.isabs(lib) or not os.path.exists(lib):
            raise ServerError("--san: gcc cannot find %s" % name)
        libs.append(os.path.realpath(lib))
    return {
        "LD_PRELOAD": " ".join(libs),
        # allow_user_segv_handler=0: httpd installs its own SIGSEGV handler
        # (sig_coredump), which would hide a segfault from ASan; this way a
        # crash in a child leaves a report with a stack trace.
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:allow_user_segv_handler=0:"
                        "log_path=%s" % (server.logs / "asan"),
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s" % (server.logs / "ubsan"),
    }


def sanitizer_reports(server):
    """Report files written by ASan/UBSan (logs/asan.<pid>, logs/ubsan.<pid>)."""
    if not server.logs.is_dir():
        return []
    return sorted(p for p in server.logs.iterdir()
                  if p.name.startswith("asan.") or p.name.startswith("ubsan."))


def apache_env(server):
    env = dict(os.environ)
    env["LANG"] = "C"
    env.pop("LD_PRELOAD", None)
    env.update(san_env(server))
    return env


def apache(server, *args, timeout=30):
    """Run the apache2 binary on our config; returns CompletedProcess."""
    out = server.logs / "apache2-cmd.log"
    with open(out, "wb") as f:
        # Output goes to a file, not a pipe: a daemonising httpd could keep a
        # pipe open and make us wait for EOF forever.
        res = subprocess.run([APACHE, "-f", str(server.conf_file)] + list(args),
                             stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                             env=apache_env(server), timeout=timeout)
    res.output = out.read_text(errors="replace")
    return res


def check_config(server):
    res = apache(server, "-t")
    if res.returncode != 0:
        raise ServerError("config check failed (%s):\n%s" % (server.conf_file, res.output))


def error_log_tail(server, lines=40):
    try:
        text = server.error_log.read_text(errors="replace")
    except OSError:
        return "(no error log at %s)" % server.error_log
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def is_httpd(pid):
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return False
    return os.path.basename(exe.replace(" (deleted)", "")) in ("apache2", "httpd")


def read_pid(server):
    try:
        return int(server.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def running_pid(server):
    """The pid of the httpd parent running from server.var, or None."""
    pid = read_pid(server)
    if pid and pid_alive(pid) and is_httpd(pid):
        return pid
    return None


def child_pids(ppid):
    """Live child processes of ppid (the same list as `ps --ppid ppid`)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            kids.append(int(entry))
    return sorted(kids)


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def answers(port, timeout=1.0):
    """True if an HTTP server answers on 127.0.0.1:port (any status)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("OPTIONS", "/dav/")
        conn.getresponse().read()
        conn.close()
        return True
    except (OSError, http.client.HTTPException):
        return False


def wait_ready(server, pid_hint=None, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = running_pid(server)
        if pid and answers(server.port):
            return pid
        if pid_hint and not pid_alive(pid_hint):
            break
        time.sleep(0.1)
    raise ServerError("httpd did not answer on port %d within %.0f s; error log tail:\n%s"
                      % (server.port, timeout, error_log_tail(server)))


def start(server, timeout=START_TIMEOUT):
    """Prepare, check and start the server; wait until it answers.

    Returns the parent pid.  If a server with the same settings already runs
    from server.var, it is restarted gracefully (new config, reloaded module);
    if the settings differ, it is stopped and started afresh.
    """
    pid = running_pid(server)
    if pid:
        try:
            old = json.loads(server.state_file.read_text())
        except (OSError, ValueError):
            old = None
        if old == server.settings():
            prepare(server)
            check_config(server)
            res = apache(server, "-k", "graceful")
            if res.returncode != 0:
                raise ServerError("graceful restart failed:\n%s" % res.output)
            time.sleep(0.5)
            server.restarted = True
            return wait_ready(server, timeout=timeout)
        stop(server)
    server.restarted = False
    if not port_free(server.port):
        raise ServerError("port %d on 127.0.0.1 is already in use by another process"
                          % server.port)
    prepare(server)
    check_config(server)
    for stale in (server.pid_file,):
        if stale.exists():
            stale.unlink()
    res = apache(server, "-k", "start")
    if res.returncode != 0:
        raise ServerError("apache2 -k start failed (exit %d):\n%s\nerror log tail:\n%s"
                          % (res.returncode, res.output, error_log_tail(server)))
    server.state_file.write_text(json.dumps(server.settings()))
    try:
        return wait_ready(server, timeout=timeout)
    except ServerError:
        kill_all(server)
        raise


def kill_all(server):
    """SIGKILL the parent recorded in the pid file and its children."""
    pid = read_pid(server)
    if not pid or not pid_alive(pid) or not is_httpd(pid):
        return
    kids = child_pids(pid)
    for p in [pid] + kids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_gone([pid] + kids, 5.0)


def wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(pid_alive(p) for p in pids)


def stop(server, timeout=STOP_TIMEOUT):
    """Stop the server: a graceful stop (SIGWINCH to the parent, as
    `apachectl graceful-stop`), SIGTERM if it is not gone within
    GRACEFUL_STOP, SIGKILL leftovers after timeout.

    The graceful stop first: on SIGTERM httpd 2.4's event MPM stops its
    children ungracefully, and a child's main thread then closes the
    sockets of worker threads that may be tearing down their connection at
    that moment (close_worker_sockets): now and then the child segfaults in
    apr_os_sock_get while stopping (seen in about one run in seven of
    test_authz_matrix.py, which stops many servers; reproduced with builds
    from before and after the day's changes, no mod_caldav frame on the
    stack).  A graceful stop lets the workers finish instead.

    Returns None if no server was running, "clean" if the parent and all
    its children exited by themselves, "killed" if something had to be
    SIGKILLed.  Never waits longer than timeout + 5 s.
    """
    pid = running_pid(server)
    if not pid:
        if server.pid_file.exists():
            server.pid_file.unlink()
        return None
    outcome = "clean"
    kids = child_pids(pid)
    try:
        os.kill(pid, signal.SIGWINCH)
    except ProcessLookupError:
        pass
    if not wait_gone([pid], min(GRACEFUL_STOP, timeout)):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if not wait_gone([pid], timeout):
        sys.stderr.write("httpd %d did not stop within %.0f s; killing it\n" % (pid, timeout))
        outcome = "killed"
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # The parent reaps its children before exiting; anything left is killed.
    kids = [k for k in kids + child_pids(pid) if pid_alive(k) and is_httpd(k)]
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
            outcome = "killed"
        except ProcessLookupError:
            pass
    wait_gone([pid] + kids, 5.0)
    if server.pid_file.exists() and not pid_alive(pid):
        server.pid_file.unlink()
    return outcome


# --- command line ------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="start (or gracefully restart) the server")
    sp = sub.add_parser("stop", help="stop the server")
    for p in (st, sp):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--var", required=True, help="state directory (config, store, logs)")
    st.add_argument("--module", default="", help="path of mod_caldav.so")
    st.add_argument("--san", action="store_true", help="preload ASan/UBSan runtimes")
    st.add_argument("--mpm", choices=("event", "prefork"), default="event")
    st.add_argument("--provider", choices=("caldav", "fs"), default="caldav")
    st.add_argument("--loglevel", default="", help='LogLevel (default "warn caldav:info")')
    args = ap.parse_args(argv)

    try:
        if args.cmd == "start":
            server = Server(var=args.var, port=args.port, module=args.module,
                            provider=args.provider, mpm=args.mpm, san=args.san,
                            loglevel=args.loglevel)
            pid = start(server)
            if server.restarted:
                print("httpd was already running from %s (pid %d): restarted gracefully"
                      % (server.var, pid))
            else:
                print("httpd started (pid %d, %s MPM, provider %s%s)"
                      % (pid, server.mpm, server.provider, ", ASan+UBSan" if server.san else ""))
            print()
            print("  URL:        %s" % server.base_url)
            print("  users:      %s" % ", ".join("%s / %s" % u for u in DEMO_USERS))
            print("  try:        curl -u alice:alice -X PROPFIND -H 'Depth: 1' %s" % server.base_url)
            print("  logs:       %s" % server.logs)
            print("  store:      %s" % server.store)
            print()
            print("stop with: make stop PORT=%d" % server.port)
        else:
            server = Server(var=args.var, port=args.port, provider="fs")
            try:
                settings = json.loads(server.state_file.read_text())
            except (OSError, ValueError):
                settings = {}
            if settings.get("port") not in (None, args.port):
                print("note: the server in %s listens on port %s, not %d; stopping it anyway"
                      % (server.var, settings["port"], args.port))
            if stop(server):
                print("httpd stopped (%s)" % server.var)
            else:
                print("no httpd running from %s" % server.var)
            reports = sanitizer_reports(server)
            if reports:
                print("WARNING: sanitizer reports: %s" % " ".join(map(str, reports)))
        return 0
    except ServerError as e:
        sys.stderr.write("devserver: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
