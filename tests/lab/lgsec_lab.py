"""Helpers shared by the molecule scenarios' testinfra tests (molecule/*/tests).

Molecule sets the MOLECULE_* variables when it runs the verifier; pyproject.toml puts this
folder on pytest's pythonpath, so a scenario's tests `from lgsec_lab import …`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import yaml

SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "/nonexistent"))
ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[2]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")

Rows = dict[tuple[str, str], dict]


@cache
def scenario() -> dict:
    return yaml.safe_load((SCENARIO / "molecule.yml").read_text(encoding="utf-8"))


def hostvars(name: str, *roles: str) -> dict:
    """The roles' defaults, then the scenario's group_vars (all, then the platform's groups) and
    host_vars, as Ansible layers them."""
    inventory = scenario()["provisioner"]["inventory"]
    merged: dict = {}
    for role in roles:
        merged.update(yaml.safe_load((ROOT / f"roles/{role}/defaults/main.yml").read_text(encoding="utf-8")))
    platform = next((p for p in scenario()["platforms"] if p["name"] == name), {})
    for group in ["all", *platform.get("groups", [])]:
        merged.update(inventory.get("group_vars", {}).get(group, {}))
    merged.update(inventory.get("host_vars", {}).get(name, {}))
    return merged


def sh(host, script: str):
    """Run a shell snippet in the container (root)."""
    return host.run("bash -c " + shlex.quote(script))


def report_rows(path: Path) -> Rows:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {(row["host"], row["control"]): row for row in data["results"]}


def audit(out: Path, *args: str) -> Rows:
    """`lgsec audit` of the scenario's hosts from the controller, as an operator runs it."""
    cli = shutil.which("lgsec") or str(ROOT / ".venv/bin/lgsec")
    assert Path(cli).exists(), "the lgsec CLI is not installed (pip install -e '.[test]')"
    command = [cli, "audit", "-i", INVENTORY, "-o", str(out), *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert (out / "report.json").exists(), f"lgsec audit wrote no report (exit {proc.returncode}):\n{proc.stderr}"
    return report_rows(out / "report.json")


def audit_before() -> Rows:
    """The audit prepare.yml ran before hardening."""
    report = EPHEMERAL / "before" / "report.json"
    assert report.exists(), "prepare did not leave the audit-before report"
    return report_rows(report)


def assert_status(rows: Rows, host, control: str, status: str) -> dict:
    """The report row of this host and control has this status; the row, for further checks."""
    row = rows[(host.backend.name, control)]
    assert row["status"] == status, (
        f"{control} on {host.backend.name}: {row['status']}, expected {status} ({row['actual']}) {row['evidence']}"
    )
    return row


SSHD_DROPINS = "/etc/ssh/sshd_config.d"


def lgsec_sshd_dropins(host) -> dict[str, str]:
    """lgsec's sshd drop-ins on the host (name → text): 30-lgsec-*.conf and any old *lgsec* one."""
    names = host.check_output(f"find {SSHD_DROPINS} -maxdepth 1 -name '*lgsec*' -printf '%f\\n'").split()
    return {name: host.file(f"{SSHD_DROPINS}/{name}").content_string for name in sorted(names)}


def assert_one_owner(text: str, path: str, writer: str, *controls: str) -> None:
    """A file lgsec owns: one header line naming the task file that writes it whole and the
    controls it serves (what an administrator reads to find where to change it)."""
    header = [line for line in text.splitlines() if line.startswith("# Managed by lgsec")]
    assert len(header) == 1, f"{path}: {len(header)} 'Managed by lgsec' headers (one owner, one template)"
    assert f"written whole by {writer}" in header[0], f"{path}: {header[0]}"
    for control in controls:
        assert f"{control} (" in header[0], f"{path}: the header does not name {control}"


def assert_keywords_once(dropins: dict[str, str]) -> None:
    """No sshd keyword in two lgsec drop-ins (sshd keeps the first value it reads)."""
    seen: dict[str, str] = {}
    for name, text in dropins.items():
        for line in text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                keyword = line.split()[0].lower()
                assert keyword not in seen, f"{keyword} is set in {seen[keyword]} and {name}"
                seen[keyword] = name


def assert_sshd_dropins_owned(host, expected: dict[str, tuple[str, str]]) -> None:
    """lgsec's drop-ins on the host are exactly expected (name → a control that demands it and
    that control's task file): no old shared drop-in left, each with one owner header naming
    them, mode 0600, and no keyword in two of them."""
    dropins = lgsec_sshd_dropins(host)
    assert set(dropins) == set(expected), "no old shared drop-in (40-/41-lgsec-*.conf) may stay, nothing else there"
    for name, (control, task_file) in expected.items():
        path = f"{SSHD_DROPINS}/{name}"
        assert_one_owner(dropins[name], path, "roles/sshd/tasks/dropin.yml", control)
        assert task_file in dropins[name], f"{path}: the header does not name {task_file}"
        assert host.file(path).mode == 0o600 and host.file(path).user == "root"
    assert_keywords_once(dropins)


# ---- what a lab container cannot show ---------------------------------------------------------
# The rows that fail in a podman container for a reason the container itself causes, each with
# that reason and how the row says it (every "; "-separated problem must be of that kind: one
# configuration problem among them is a real fail). Used by molecule/network_access, the
# end-to-end stock-server test (tests/e2e) and `make bench` (tests/bench), so all three accept
# exactly the same rows.


def _problems(row: dict) -> list[str]:
    return row["actual"].split("; ")


CONTAINER_ONLY: dict[str, tuple[str, object]] = {
    "KERNEL-NET": (
        "the running net values: a container's /proc/sys is read-only and podman sets ip_forward 1 in it "
        "(the sysctl files and the modprobe.d rules are judged and pass)",
        lambda row: (
            all(re.fullmatch(r"\S+ running value \S*", p) for p in _problems(row))
            and any("read-only here (a container)" in e for e in row["evidence"])
        ),
    ),
    "LOG-AUDIT": (
        "process accounting cannot be turned on in a container (the kernel's accounting is the host's: accton "
        "is refused), nor can auditd run (its rules are written and judged, the daemon and the loaded rules "
        "cannot be shown)",
        lambda row: all(
            re.match(r"process accounting cannot be shown on: this host is a \S+ container, whose kernel accounting", p)
            for p in _problems(row)
        ),
    ),
    "TIME-SYNC": (
        "no NTP server is reachable from the lab (only Debian's mirror is): chrony is configured with lgsec's "
        "sources, the clock cannot be shown synchronised",
        lambda row: all(p.startswith(("not synchronised (", "no source selected (")) for p in _problems(row)),
    ),
    "BACKUP-RECENT": (
        "the site declares its backup job (lgsec_backup_recent_job or stamp_file): a stock server has none",
        lambda row: row["actual"] == "no backup job declared for this host",
    ),
}


def container_only(row: dict) -> str | None:
    """The reason a failing row is one a container cannot show, or None (a real fail)."""
    entry = CONTAINER_ONLY.get(row["control"])
    return entry[0] if entry and row["status"] == "fail" and entry[1](row) else None


# ---- a stock lab container made ready for a first hardening -------------------------------------
# What the lab has to stand in for (used by the e2e stock-server test and `make bench`; podman:
# a function running `podman ARGV…` that raises on failure).

LAB_SIGDB = ROOT / "molecule" / "antivirus" / "files"


def lab_chrony(podman, name: str) -> None:
    """A container has no CAP_SYS_TIME, so chrony.service's condition skips it (chronyd never runs,
    and every hardening starts it again). As in molecule/logging: chronyd runs with -x (it never
    sets the clock) once lgsec's sources file exists."""
    folder = "/etc/systemd/system/chrony.service.d"
    dropin = (
        "[Unit]\nConditionCapability=\nConditionPathExists=/etc/chrony/sources.d/lgsec.sources\n"
        "[Service]\nExecStart=\nExecStart=!/usr/sbin/chronyd -x $DAEMON_OPTS\n"
    )
    podman("exec", name, "bash", "-c", f"mkdir -p {folder} && printf '{dropin}' > {folder}/lab-container.conf")


def lab_signatures(podman, name: str, tmp: Path) -> None:
    """No signature mirror is reachable from the lab: the host gets the database molecule/antivirus
    builds (lab_sigdb.py), as the union's private mirror would deliver it, and Debian's clamd units
    accept its unsigned .cud files (as in that scenario)."""
    podman("exec", name, "mkdir", "-p", "/var/lib/clamav",
           "/etc/systemd/system/clamav-daemon.service.d", "/etc/systemd/system/clamav-daemon.socket.d")  # fmt: skip
    for db in ("main", "daily"):
        subprocess.run([sys.executable, str(LAB_SIGDB / "lab_sigdb.py"), str(tmp / f"{db}.cud"),
                        str(LAB_SIGDB / "lab-sample.txt")], check=True, capture_output=True)  # fmt: skip
        podman("cp", str(tmp / f"{db}.cud"), f"{name}:/var/lib/clamav/{db}.cud")
    dropin = (
        "[Unit]\nConditionPathExistsGlob=\nConditionPathExistsGlob=/var/lib/clamav/main.{c[vl]d,cud}\n"
        "ConditionPathExistsGlob=/var/lib/clamav/daily.{c[vl]d,cud}\n"
    )
    for unit in ("service", "socket"):
        path = f"/etc/systemd/system/clamav-daemon.{unit}.d/lgsec-lab-unsigned-db.conf"
        podman("exec", name, "bash", "-c", f"printf '{dropin}' > {path}")
