"""playbooks/schedule_audit.yml in check mode on this machine: the systemd timer or, without
systemd, the cron entry, running `lgsec audit` of the given inventory with its log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_schedule_in_check_mode_shows_the_job(tmp_path):
    inventory = tmp_path / "hosts.yml"
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "playbooks/schedule_audit.yml",
        "--check",
        "--diff",
    ]
    command += ["-e", f"lgsec_schedule_inventory={inventory}", "-e", "lgsec_schedule_log=/var/log/lgsec-test/audit.log"]
    timer = Path("/etc/systemd/system/lgsec-audit.timer")
    installed = timer.exists()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lgsec = Path(sys.executable).parent / "lgsec"  # the lgsec of the Python running the playbook
    assert lgsec.is_file()  # the scheduled command exists (a pip install, not only a checkout's .venv)
    job = f"{lgsec} audit -i {inventory} -o {ROOT}/reports"
    if Path("/run/systemd/system").is_dir():
        assert f"ExecStart={job}" in done.stdout and "OnCalendar=*-*-* 02:30:00" in done.stdout
        assert "StandardOutput=append:/var/log/lgsec-test/audit.log" in done.stdout
        if not installed:  # first install: check mode cannot ask systemd about a timer it did not write
            assert "would enable and start lgsec-audit.timer" in done.stdout and not timer.exists()
    else:
        assert f"30 2 * * * root cd {ROOT} && {job} >> /var/log/lgsec-test/audit.log 2>&1" in done.stdout
    assert not Path("/var/log/lgsec-test").exists()  # check mode: nothing was made


def test_schedule_needs_an_inventory():
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/schedule_audit.yml", "--check"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode != 0 and "give -e lgsec_schedule_inventory" in done.stdout
