"""The litmus WebDAV compliance suite (Debian package litmus)."""

import os
import re
import shutil
import subprocess
import uuid
import warnings

import pytest

SUITES = ["basic", "copymove", "props", "http"]
SUMMARY = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, "
                     r"(\d+) failed")
WARNED = re.compile(r"-> (\d+) warnings? (?:was|were) issued")
FAILED_TEST = re.compile(r"^\s*\d+\.\s+(\S+?)\.*\s+FAIL\b.*$", re.M)


@pytest.mark.litmus
def test_litmus(dav, tmp_path):
    litmus = shutil.which("litmus")
    if litmus is None:
        pytest.fail("litmus is not installed (apt-get install litmus)")
    rel = "litmus-%s/" % uuid.uuid4().hex[:8]
    assert dav.mkcol(rel).status_code == 201
    url = dav.url(rel)
    env = dict(os.environ, TESTS=" ".join(SUITES))
    # -k: run every suite even after a failing one.  litmus writes
    # debug.log and child.log into its working directory.
    res = subprocess.run([litmus, "-k", url, "alice", "alice"], cwd=tmp_path, env=env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=300)
    out = res.stdout.replace("\r", "\n")
    summaries = {m.group(1): tuple(int(x) for x in m.group(2, 3, 4))
                 for m in SUMMARY.finditer(out)}
    detail = "litmus exit %d, output:\n%s\n--- stderr:\n%s\n--- debug.log tail:\n%s" % (
        res.returncode, out[-6000:], res.stderr[-2000:], tail(tmp_path / "debug.log"))
    assert sorted(summaries) == sorted(SUITES), detail
    failures = {s: v for s, v in summaries.items() if v[2] != 0 or v[0] != v[1]}
    assert not failures, "failed: %s (%s)\n%s" % (
        failures, ", ".join(FAILED_TEST.findall(out)), detail)
    assert res.returncode == 0, detail
    # Warnings do not fail the test; they are reported in pytest's summary.
    lines = [l.strip() for l in out.splitlines() if "WARNING" in l]
    nwarn = sum(int(m.group(1)) for m in WARNED.finditer(out))
    if nwarn or lines:
        warnings.warn("litmus issued %d warning(s): %s" % (nwarn, "; ".join(lines)))


def tail(path, n=60):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(none)"
