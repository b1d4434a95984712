"""Faults mid-run on real hosts (issue 9): a host that dies during hardening or during the audit's
gather, and Ctrl-C during hardening. The run stops or finishes cleanly, the other host's results
are kept, the dead host is `unreachable` (never `pass`), and the history database and the work
log stay intact. Targets: systemd containers from the lab image (lab/build-images.sh), reached
over the podman connection; `make machine` runs this after the image is built."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LGSEC = str(Path(sys.executable).parent / "lgsec")
IMAGE = "localhost/lgsec-debian:12"
# Controls whose hardening makes a dozen changes per host without installing a package
CONTROLS = "PW-MAXAGE,PW-HISTORY,LOCKOUT,SESSION-LIMIT,PW-EMPTY"
PEOPLE = ["--operator", "tanaka", "--confirmed-by", "suzuki"]

if not shutil.which("podman") or subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode:
    pytest.skip(f"needs podman and the lab image {IMAGE} (make lab)", allow_module_level=True)


def podman(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {"CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf"), **os.environ}  # the lab's two settings
    return subprocess.run(["podman", *argv], capture_output=True, text=True, check=check, env=env)


class Lab:
    """Two hosts (containers), their inventory (extra host variables: vars[name]), the work log
    and the history database of the test."""

    def __init__(self, names: list[str], folder: Path):
        self.a, self.b = names
        self.vars: dict[str, dict] = {name: {} for name in names}
        self.inventory = folder / "hosts.yml"
        self.log = folder / "work-record.jsonl"
        self.history = folder / "history.sqlite"

    def write(self) -> str:
        group = {
            "lgsec_importance": "II",
            "ansible_connection": "containers.podman.podman",
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        self.inventory.write_text(json.dumps({"all": {"vars": group, "hosts": self.vars}}), encoding="utf-8")
        return str(self.inventory)  # (JSON is YAML)


@pytest.fixture
def hosts(tmp_path):
    """Two fresh hosts booted from the lab image."""
    names = [f"lgsec-fault-{os.getpid()}-{x}" for x in "ab"]
    for name in names:
        podman("rm", "-f", name, check=False)
        podman("run", "-d", "--name", name, "--systemd=always", IMAGE, "/sbin/init")
    for name in names:
        for _ in range(100):
            state = podman("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
    yield Lab(names, tmp_path)
    for name in names:
        podman("rm", "-f", name, check=False)


def run_until(argv: list[str], marker: str, action, timeout: int = 600) -> tuple[int, str]:
    """Run lgsec with -v (Ansible's output streamed), call action(proc) once at the first line
    containing marker; (exit code, output)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [LGSEC, *argv, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env
    )
    out, done = [], False
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        out.append(line)
        if not done and marker in line:
            action(proc)
            done = True
        assert time.monotonic() < deadline, "the run did not end"
    rc = proc.wait(timeout=60)
    assert done, f"never saw {marker!r}:\n" + "".join(out[-40:])
    return rc, "".join(out)


def audit(h, outdir: Path) -> subprocess.CompletedProcess:
    argv = [LGSEC, "audit", "-i", h.write(), "--controls", CONTROLS, "-o", str(outdir), "--history", str(h.history)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)


def statuses(outdir: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in json.loads((outdir / "report.json").read_text(encoding="utf-8"))["results"]:
        out.setdefault(row["host"], set()).add(row["status"])
    return out


def work_log(h) -> list[dict]:
    verified = subprocess.run([LGSEC, "log", "verify", "--log", str(h.log)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout  # the chain is intact
    return [json.loads(line) for line in h.log.read_text(encoding="utf-8").splitlines()]


def history(h) -> tuple[int, dict[str, set[str]]]:
    """The history database is whole: (number of runs, statuses per host of the last run)."""
    db = sqlite3.connect(h.history)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (runs, last), out = db.execute("SELECT COUNT(*), MAX(id) FROM runs").fetchone(), {}
        for host, status in db.execute("SELECT host, status FROM results WHERE run_id = ?", (last,)):
            out.setdefault(host, set()).add(status)
        return runs, out
    finally:
        db.close()


def slow_to_answer(h, host: str) -> None:
    """The host's Python starts 4 s late: a signal sent at the gather's start lands mid-gather."""
    slow = '#!/bin/sh\nsleep 4\nexec /usr/bin/python3 "$@"\n'
    wrapper = "/usr/local/bin/python3-slow"
    podman("exec", host, "sh", "-c", f"printf '%s' '{slow}' > {wrapper} && chmod 755 {wrapper}")
    h.vars[host] = {"ansible_python_interpreter": wrapper}


def test_a_host_that_dies_during_hardening_is_unreachable_and_the_other_finishes(hosts, tmp_path):
    h = hosts
    argv = ["harden", "-i", h.write(), *PEOPLE, "--tags", CONTROLS, "--log", str(h.log)]
    rc, out = run_until(argv, f"changed: [{h.b}]", lambda proc: podman("kill", h.b))
    assert rc == 3, out[-3000:]  # some host unreachable
    opened, finished = work_log(h)
    assert (opened["event"], finished["event"], finished["outcome"]) == ("started", "finished", "unreachable")
    assert finished["changes"][h.b]["unreachable"] is True and finished["changes"][h.b]["changed"]
    a = finished["changes"][h.a]
    assert not a["unreachable"] and not a["failed"] and len(a["changed"]) >= 10  # the other host finished
    # the audit afterwards: the hardened host passes, the dead one is unreachable, never pass
    done = audit(h, tmp_path / "out")
    assert done.returncode == 3, done.stdout + done.stderr
    assert statuses(tmp_path / "out") == {h.a: {"pass"}, h.b: {"unreachable"}}
    assert history(h) == (1, statuses(tmp_path / "out"))


def test_a_host_that_dies_during_the_audit_gather_is_unreachable(hosts, tmp_path):
    h = hosts
    assert audit(h, tmp_path / "before").returncode == 1  # not hardened: failures, both hosts read
    # b answers slowly (4 s before its Python starts), and dies while the gather waits for it
    slow = '#!/bin/sh\nsleep 4\nexec /usr/bin/python3 "$@"\n'
    wrapper = "/usr/local/bin/python3-slow"
    podman("exec", h.b, "sh", "-c", f"printf '%s' '{slow}' > {wrapper} && chmod 755 {wrapper}")
    h.vars[h.b] = {"ansible_python_interpreter": wrapper}
    argv = ["audit", "-i", h.write(), "--controls", CONTROLS, "-o", str(tmp_path / "out"), "--history", str(h.history)]

    def kill_b(proc) -> None:
        time.sleep(1.5)  # b's module is running (sleeping) now
        podman("kill", h.b)

    rc, out = run_until(argv, "TASK [Gather the facts every Linux control needs", kill_b)
    assert rc == 3, out[-3000:]
    found = statuses(tmp_path / "out")
    assert found[h.b] == {"unreachable"}, found  # never pass, never a stale result
    assert "fail" in found[h.a] and "unreachable" not in found[h.a]  # the other host's results are kept
    assert history(h) == (2, found)  # both audits recorded, the database whole


def test_ctrl_c_during_hardening_stops_cleanly_and_a_rerun_completes(hosts, tmp_path):
    h = hosts
    h.vars = {h.a: {}}  # one host
    argv = ["harden", "-i", h.write(), *PEOPLE, "--tags", CONTROLS, "--log", str(h.log)]
    started = time.monotonic()
    rc, out = run_until(argv, f"changed: [{h.a}]", lambda proc: proc.send_signal(signal.SIGINT))
    assert rc == 130, out[-3000:]
    assert time.monotonic() - started < 120
    assert "interrupted" in out
    assert not subprocess.run(["pgrep", "-f", str(h.inventory)], capture_output=True).stdout  # no playbook left behind
    opened, finished = work_log(h)
    assert (finished["run"], finished["outcome"], finished["rc"]) == (opened["seq"], "interrupted", 130)
    assert finished["changes"][h.a]["changed"]  # what was changed before the stop is on record
    # the host is whole: sshd and sudo configurations valid, and a rerun finishes the job
    assert podman("exec", h.a, "sshd", "-t", check=False).returncode == 0
    assert podman("exec", h.a, "visudo", "-c", check=False).returncode == 0
    rerun = subprocess.run([LGSEC, *argv], capture_output=True, text=True, cwd=ROOT, check=False)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-2000:]
    assert [e["outcome"] for e in work_log(h) if e["event"] == "finished"] == ["interrupted", "ok"]
    done = audit(h, tmp_path / "out")
    assert done.returncode == 0, done.stdout
    assert statuses(tmp_path / "out") == {h.a: {"pass"}}


def test_ctrl_c_during_an_audit_keeps_the_last_report_and_the_history(hosts, tmp_path):
    h, out = hosts, tmp_path / "out"
    h.vars = {h.a: {}}
    assert audit(h, out).returncode == 1
    last = (out / "report.json").read_bytes()
    slow_to_answer(h, h.a)
    argv = ["audit", "-i", h.write(), "--controls", CONTROLS, "-o", str(out), "--history", str(h.history)]
    rc, output = run_until(
        argv, "TASK [Gather the facts every Linux control needs", lambda p: p.send_signal(signal.SIGINT)
    )
    assert rc == 130, output[-3000:]
    assert "audit interrupted: no new report" in output
    assert (out / "report.json").read_bytes() == last, output[-4000:]  # the last complete report stays, whole
    assert history(h)[0] == 1  # the interrupted audit added nothing half-done
    assert not subprocess.run(["pgrep", "-f", str(h.inventory)], capture_output=True).stdout
