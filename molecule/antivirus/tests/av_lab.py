"""Helpers of the antivirus scenario's tests: the scenario's figures, podman exec into the lab
hosts, the lab's signature database (files/lab_sigdb.py) put where freshclam would, lgsec audit.

No signature mirror is reachable from the lab: the tests stand in for the union's mirror.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import yaml

SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO.parents[1]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
sys.path.insert(0, str(SCENARIO / "files"))

import lab_sigdb  # noqa: E402  (the scenario's own builder, next to prepare.yml)

CONTROLS = ["AV-RESIDENT", "AV-CURRENT", "AV-FULLSCAN"]
SAMPLE = (SCENARIO / "files" / "lab-sample.txt").read_bytes()
DETECTED = f"{lab_sigdb.NAME}.UNOFFICIAL FOUND"  # ClamAV marks signatures of unsigned databases
DB_DIR = "/var/lib/clamav"
SCAN_LOG = "/var/log/clamav/lgsec-fullscan.log"


@cache
def scenario() -> dict:
    return yaml.safe_load((SCENARIO / "molecule.yml").read_text(encoding="utf-8"))


def names() -> list[str]:
    return [p["name"] for p in scenario()["platforms"]]


def hostvars() -> dict:
    """The role's defaults, then the scenario's group_vars (as Ansible layers them)."""
    merged = yaml.safe_load((ROOT / "roles/antivirus/defaults/main.yml").read_text(encoding="utf-8"))
    merged.update(scenario()["provisioner"]["inventory"]["group_vars"]["all"])
    return merged


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
    cli = shutil.which("lgsec") or str(ROOT / ".venv/bin/lgsec")
    assert Path(cli).exists(), "the lgsec CLI is not installed (pip install -e '.[test]')"
    argv = [cli, "audit", "-i", INVENTORY, "-o", str(EPHEMERAL / out)]
    if controls:
        argv += ["--controls", ",".join(controls)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    report = EPHEMERAL / out / "report.json"
    assert report.exists(), f"lgsec audit wrote no report (exit {proc.returncode}):\n{proc.stderr}"
    return report_rows(report)


def report_rows(path: Path) -> dict[tuple[str, str], dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {(row["host"], row["control"]): row for row in data["results"]}


def show(host, unit: str) -> dict[str, str]:
    out = host.check_output(f"systemctl show --timestamp=unix {unit}")
    return dict(line.partition("=")[::2] for line in out.splitlines())
