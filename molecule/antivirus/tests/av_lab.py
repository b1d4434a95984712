"""Helpers of the antivirus scenario's tests: the scenario's figures, podman exec into the lab
hosts, the lab's signature database (files/lab_sigdb.py) put where freshclam would, lgsec audit.

No signature mirror is reachable from the lab: the tests stand in for the union's mirror.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lgsec_lab
from lgsec_lab import EPHEMERAL, INVENTORY, ROOT, SCENARIO, report_rows, scenario  # noqa: F401  (re-exported)

sys.path.insert(0, str(SCENARIO / "files"))

import lab_sigdb

CONTROLS = ["AV-RESIDENT", "AV-CURRENT", "AV-FULLSCAN"]
SAMPLE = (SCENARIO / "files" / "lab-sample.txt").read_bytes()
DETECTED = f"{lab_sigdb.NAME}.UNOFFICIAL FOUND"  # ClamAV marks signatures of unsigned databases
DB_DIR = "/var/lib/clamav"
SCAN_LOG = "/var/log/clamav/lgsec-fullscan.log"


def names() -> list[str]:
    return [p["name"] for p in scenario()["platforms"]]


def hostvars() -> dict:
    """The role's defaults, then the scenario's group_vars (both hosts share them)."""
    return lgsec_lab.hostvars(names()[0], "antivirus")


def podman(name: str, *argv: str, stdin: bytes | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", "exec", "-i", name, *argv], input=stdin, capture_output=True, timeout=timeout, check=False
    )


def put(name: str, path: str, data: bytes, owner: str = "root") -> None:
    script = f"cat > {path}.new && chown {owner}: {path}.new && chmod 0644 {path}.new && mv {path}.new {path}"
    proc = podman(name, "sh", "-c", script, stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()


def supply_database(name: str, age_days: float, version: int) -> None:
    """What the union's mirror and freshclam would do: new main/daily databases, clamd reloads."""
    built = int(time.time() - age_days * 86400)
    with tempfile.TemporaryDirectory() as tmp:
        for stem in ("main", "daily"):
            out = Path(tmp) / f"{stem}.cud"
            lab_sigdb.build(str(out), SAMPLE, built, version)
            put(name, f"{DB_DIR}/{stem}.cud", out.read_bytes(), owner="clamav")


def reload_clamd(name: str, version: int) -> None:
    """RELOAD, then wait until clamd reports the new daily version (VERSION: ClamAV x/daily/date)."""
    proc = podman(name, "clamdscan", "--reload")
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    for _ in range(60):
        out = podman(name, "clamdscan", "--version").stdout.decode()
        if f"/{version}/" in out:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name}: clamd did not load daily version {version}: {out}")


def audit(out: str, controls: list[str] | None = None) -> dict[tuple[str, str], dict]:
    return lgsec_lab.audit(EPHEMERAL / out, *(["--controls", ",".join(controls)] if controls else []))


def show(host, unit: str) -> dict[str, str]:
    out = host.check_output(f"systemctl show --timestamp=unix {unit}")
    return dict(line.partition("=")[::2] for line in out.splitlines())
