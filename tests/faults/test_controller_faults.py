"""Faults on the controller (issue 9): the report folder's disk fills up between two audits. The
second audit must stop cleanly (a non-zero exit saying so), and what the first one left —
report.json and the history database — must stay whole and readable. Runs as root on this
machine: the report folder is a small tmpfs mounted for the test."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

if os.geteuid() != 0 or not shutil.which("mount"):
    pytest.skip("needs root to mount a small tmpfs (CI runs as root)", allow_module_level=True)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "reports"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    if subprocess.run(["umount", str(mount)], check=False).returncode:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def audit(outdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lgsec"), "audit", "-o", str(outdir), "--controls", "PW-LENGTH,NET-SNMP"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip


def test_a_full_report_disk_stops_the_audit_and_keeps_the_last_report_and_history(small_disk):
    first = audit(small_disk)
    assert first.returncode in (0, 1), first.stderr[-2000:]
    report = (small_disk / "report.json").read_bytes()
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)  # to ENOSPC
    second = audit(small_disk)
    assert second.returncode not in (0, 1), "an audit that could not write its report must not look done"
    assert "without writing" in second.stderr or "No space left" in second.stdout + second.stderr
    assert (small_disk / "report.json").read_bytes() == report  # the last good report is untouched
    json.loads(report)
    db = sqlite3.connect(small_disk / "history.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert not [p.name for p in small_disk.iterdir() if p.name.startswith(".report")]  # no half-written file left
