"""The roles' shared steps (lockout guards, the check of what sshd applies) run for the controls a
run enforces, and only for those (filter lgsec_enforced). Found by `make bench` on 2026-12-02:
on the hardened lab host, the audit-driven rerun entered roles/network_access for KERNEL-NET
(its running values cannot be set in a container), skipped REMOTE-ENCRYPTED as passing, and the
shared "sshd applies the lgsec values" step still asserted REMOTE-ENCRYPTED's key exchanges —
unfiltered by that control's skipped step that keeps only those this OpenSSH knows — and failed
the run. The same step would fail a host where an approved exception waives REMOTE-ENCRYPTED."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import import_path

ROOT = Path(__file__).resolve().parents[2]
waived = import_path("lgsec_waived_filter_enforced", ROOT / "filter_plugins" / "lgsec_waived.py")


@pytest.mark.parametrize(
    ("run_tags", "skip_tags", "skipped", "enforced"),
    [
        (["all"], [], [], True),
        (["REMOTE-ENCRYPTED"], [], [], True),
        (["REMOTE-MINIMAL"], [], [], False),  # --tags another control
        (["all"], ["REMOTE-ENCRYPTED"], [], False),  # --skip-tags
        (["all"], [], ["REMOTE-ENCRYPTED"], False),  # passing (audit-driven) or waived by an exception
        (["REMOTE-ENCRYPTED"], [], ["REMOTE-ENCRYPTED"], False),
    ],
)
def test_a_control_is_enforced_when_selected_and_not_skipped(run_tags, skip_tags, skipped, enforced):
    assert waived.lgsec_enforced("REMOTE-ENCRYPTED", run_tags, skip_tags, skipped) is enforced


def test_no_role_step_decides_from_the_tags_alone():
    """A step that asks only the tags whether a control runs ignores the skip list
    (lgsec_waived_controls): it guards or checks a control the run does not enforce."""
    raw = re.compile(r"'all' in ansible_run_tags")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "roles").glob("*/tasks/*.yml")
        if raw.search(path.read_text(encoding="utf-8"))
    ]
    # a network device's plan keeps the blockers of the tagged controls; the waived ones it drops
    # through lgsec_network_plan_without (tests/unit/test_exceptions.py)
    offenders.remove("roles/network_device/tasks/plan.yml")
    assert not offenders, offenders


def sshd_effective(tmp_path: Path, skipped: list[str]) -> subprocess.CompletedProcess:
    """roles/network_access's sshd check, run on this machine with a recorded `sshd -T` of a
    Debian 12 host that REMOTE-MINIMAL hardened but where REMOTE-ENCRYPTED's drop-in is absent."""
    sshd_t = tmp_path / "sshd-T.txt"
    sshd_t.write_text("port 22\nx11forwarding no\npermitrootlogin no\nallowgroups sudo\nmaxauthtries 6\n")
    sshd = tmp_path / "sshd"  # stands in for /usr/sbin/sshd: `sshd -T` prints the recording
    sshd.write_text(f"#!/bin/sh\nexec cat {sshd_t}\n")
    sshd.chmod(0o755)
    extra = {  # extra vars: they outrank the role's vars (lgsec_sshd_binary)
        "lgsec_sshd_binary": str(sshd),
        "lgsec_network_access_sshd": {"stat": {"exists": True}},
        "lgsec_network_access_ssh_known": {"cipher": None, "mac": None, "kex": None},
        "lgsec_remote_minimal_allow_groups": ["sudo"],
        "lgsec_waived_controls": skipped,
        "ansible_python_interpreter": sys.executable,
    }
    (tmp_path / "extra.yml").write_text(yaml.safe_dump(extra), encoding="utf-8")
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"ansible.builtin.include_role": {"name": "network_access", "tasks_from": "sshd_effective.yml"}}],
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play), encoding="utf-8")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
    command += ["-e", f"@{tmp_path / 'extra.yml'}"]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_ROLES_PATH": str(ROOT / "roles")}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False)


def test_the_sshd_check_leaves_out_a_control_the_run_skips(tmp_path):
    done = sshd_effective(tmp_path, ["REMOTE-ENCRYPTED"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_sshd_check_still_fails_a_control_the_run_enforces(tmp_path):
    done = sshd_effective(tmp_path, [])
    assert done.returncode != 0
    assert "sshd -T does not show" in done.stdout
    assert "maxauthtries 3" in done.stdout and "ciphers chacha20-poly1305" in done.stdout
