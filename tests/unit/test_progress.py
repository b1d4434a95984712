"""Progress per host on a terminal (hosts done / total, failures so far); quiet otherwise."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from lgsec import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def events(*hosts_and_kinds):
    yield {"event": "playbook_on_task_start", "event_data": {"task": "Gather the facts"}}
    for host, kind in hosts_and_kinds:
        yield {"event": kind, "event_data": {"host": host, "task": "Gather the facts"}}
    yield {"event": "playbook_on_stats", "event_data": {}}


def test_progress_counts_hosts_and_failures_on_a_terminal():
    screen = Terminal()
    handler = progress.for_terminal(3, screen)
    for event in events(("web01", "runner_on_ok"), ("db01", "runner_on_unreachable"), ("pc01", "runner_on_failed")):
        assert handler(event) is True
    lines = [part for part in screen.getvalue().split("\r\033[K") if part]
    assert lines == [
        "[1/3 hosts] failed so far: 0 · Gather the facts",
        "[2/3 hosts] failed so far: 1 · Gather the facts",
        "[3/3 hosts] failed so far: 2 · Gather the facts",
    ]
    assert screen.getvalue().endswith("\r\033[K")  # the line is cleared before the summary


def test_quiet_when_not_a_terminal():
    assert progress.for_terminal(3, io.StringIO()) is None


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("script") is None, reason="script(1) is needed to give lgsec a terminal")
def test_a_real_audit_shows_progress_on_a_terminal_only(tmp_path):
    inv = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "lgsec_importance": "II"}
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}}}), encoding="utf-8")
    lgsec = [sys.executable, "-m", "lgsec.cli", "audit", "-i", str(inv), "--controls", "PW-LENGTH", "-o", str(tmp_path)]
    piped = subprocess.run(lgsec, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "hosts]" not in piped.stdout + piped.stderr
    line = " ".join(lgsec)
    tty = subprocess.run(["script", "-qec", line, "/dev/null"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "[1/1 hosts] failed so far: 0" in tty.stdout, tty.stdout[-2000:]
