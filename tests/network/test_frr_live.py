"""FRRouting 8.4 as a real network device over network_cli (make network).

The lab: a podman container from localhost/lgsec-frr:8 (lab/frr: Debian 12 + frr + sshd whose user
`netadmin` logs straight into vtysh), SSH published on 127.0.0.1 only. The lab (not the role) first
gives the router the drift a real one accumulates; then the audit must fail, check mode must show
the lines and change nothing, hardening must fix it and a second run change nothing, the audit must
pass, and the backup playbook must record a change made between two runs, linked from the report.

Which controls this proves live, and which only on the IOS fixtures (tests/unit/test_network.py),
is printed by test_audit_after_hardening_passes (run with -s, or read the report's not_applicable rows).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
NAME = "network-frr"
IMAGE = "localhost/lgsec-frr:8"
PORT = int(os.environ.get("LGSEC_FRR_PORT", "2250"))
BIN = ROOT / ".venv" / "bin"
ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf"),
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "ANSIBLE_NOCOLOR": "1",
}
# FRR has these controls (vtysh syntax); the others are judged on the IOS fixtures only and are
# not_applicable on FRR, each row saying which Linux control covers the host instead.
LIVE_ON_FRR = {"PRIV-DEFAULT-ID", "SESSION-LIMIT", "REMOTE-MINIMAL", "NET-PORTS-UNUSED", "LOG-RETENTION", "LOG-CENTRAL"}
IOS_FIXTURES_ONLY = {"PW-LENGTH", "LOCKOUT", "REMOTE-ENCRYPTED", "NET-SNMP", "SVC-UNNEEDED", "TIME-SYNC"}
# What the lab does to the stock FRR before the first audit (as found on a router nobody hardened).
DRIFT = [
    "configure terminal",
    "no service password-encryption",
    "password lab-clear-text",  # a clear-text vty password
    "no log syslog",
    "access-list MGMT seq 5 permit 10.88.0.0/16",  # the site's management ACL, not applied yet
    "line vty",
    "exec-timeout 0 0",
    "exit",
    "interface swp9",
    "description declared unused",
    "no shutdown",
    "end",
    "write memory",
]


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, env=ENV, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {done.stderr}")
    return done.stdout


def vtysh(*commands: str) -> str:
    return podman("exec", NAME, "vtysh", *[x for c in commands for x in ("-c", c)])


def running() -> str:
    return vtysh("show running-config")


def run(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    if rc is not None:
        assert done.returncode == rc, (
            f"{' '.join(args)} → {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        )
    return done


def recap_changed(output: str) -> int:
    line = next(ln for ln in output.splitlines() if ln.startswith("frr01 "))
    return int(line.split("changed=")[1].split()[0])


def wait_ready(timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = podman("exec", NAME, "systemctl", "is-active", "frr", "ssh", check=False).split()
        if state == ["active", "active"]:
            with socket.create_connection(("127.0.0.1", PORT), timeout=2) as s:
                if s.recv(64).startswith(b"SSH-2.0"):
                    return
        time.sleep(0.5)
    raise AssertionError(f"{NAME}: frr and ssh not active after {timeout} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if shutil.which("podman") is None or subprocess.run(["podman", "image", "exists", IMAGE], env=ENV).returncode:
        pytest.skip(f"{IMAGE} not built (make network builds it: lab/frr/build.sh)")
    if not (ROOT / "collections" / "ansible_collections" / "frr" / "frr" / "MANIFEST.json").exists():
        pytest.skip("frr.frr not in ./collections (make frr-collection)")
    podman("rm", "-f", "-t", "0", NAME, check=False)
    # zebra needs CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces); in its own container they
    # reach no further than that container's namespaces.
    podman(
        "run", "-d", "--name", NAME, "--hostname", "frr01", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN",
        "-p", f"127.0.0.1:{PORT}:22", IMAGE,
    )  # fmt: skip
    try:
        wait_ready()
        vtysh(*DRIFT)
        work = tmp_path_factory.mktemp("frr")
        inventory = work / "hosts.yml"
        host = {
            "ansible_host": "127.0.0.1",
            "ansible_port": PORT,
            "ansible_user": "netadmin",
            "ansible_password": "lgsec-lab-only",
            "ansible_connection": "ansible.netcommon.network_cli",
            "ansible_host_key_checking": False,  # a lab container made fresh each run (ansible.cfg checks keys)
            "ansible_network_os": "frr.frr.frr",
            "lgsec_importance": "II",
            "lgsec_remote_minimal_vty_acl": "MGMT",
            "lgsec_session_limit_exec_timeout": 5,
            "lgsec_net_ports_unused_unused_ports": ["swp9"],
            "lgsec_log_central_hosts": ["10.10.0.50"],
            "lgsec_network_backups": str(work / "backups"),
        }
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"frr01": host}}}), encoding="utf-8")
        yield {"inventory": str(inventory), "work": work, "store": work / "backups"}
    finally:
        podman("rm", "-f", "-t", "0", NAME, check=False)


def audit(lab, name: str, *extra: str) -> tuple[int, dict[str, dict]]:
    out = lab["work"] / name
    done = run(str(BIN / "lgsec"), "audit", "-i", lab["inventory"], "-o", str(out), *extra, rc=None)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]
    return done.returncode, {r["control"]: r for r in rows}


def test_audit_before_hardening_fails(lab):
    config = running()
    rc, rows = audit(lab, "before")
    assert running() == config  # the audit changed nothing on the device
    assert rc == 1
    assert {c for c, r in rows.items() if r["status"] == "fail"} == LIVE_ON_FRR
    assert {c for c, r in rows.items() if r["status"] == "not_applicable"} == IOS_FIXTURES_ONLY
    assert "clear-text password" in rows["PRIV-DEFAULT-ID"]["actual"]
    assert "lab-clear-text" not in json.dumps(rows)  # the password itself never reaches the report
    assert rows["SESSION-LIMIT"]["actual"] == "line vty: exec-timeout never"
    assert all(r["source"] == "live" and r["platform"] == "network" for r in rows.values())


def harden(lab) -> tuple[str, ...]:
    """playbooks/harden.yml run directly, as an AWX job would: two people named (第8条), the work
    record in the lab's folder."""
    people = ("-e", "lgsec_operator=lab-operator", "-e", "lgsec_confirmed_by=lab-confirmer")
    record = ("-e", f"lgsec_work_log={lab['work'] / 'work-record.jsonl'}")
    return (str(BIN / "ansible-playbook"), "-i", lab["inventory"], "playbooks/harden.yml", *people, *record)


def test_check_mode_shows_the_lines_and_changes_nothing(lab):
    before = running()
    done = run(*harden(lab), "--check", "--diff")
    for line in ("service password-encryption", "exec-timeout 5 0", "access-class MGMT", "log syslog informational"):
        assert line in done.stdout
    assert "interface swp9\nshutdown" in done.stdout
    assert recap_changed(done.stdout) == 5  # one per failing control (LOG-CENTRAL shares log syslog)
    assert running() == before


def test_an_undefined_vty_acl_stops_the_role_before_any_change(lab):
    before = running()
    playbook = harden(lab)
    done = run(*playbook, "-e", "lgsec_remote_minimal_vty_acl=NOT-DEFINED", rc=2)
    assert "access list NOT-DEFINED (lgsec_remote_minimal_vty_acl) is not defined on the device" in done.stdout
    assert running() == before
    # a run limited to another control is not stopped by it
    only = run(*playbook, "-e", "lgsec_remote_minimal_vty_acl=NOT-DEFINED", "--tags", "SESSION-LIMIT", "--check")
    assert recap_changed(only.stdout) == 1


def test_harden_then_a_second_run_changes_nothing(lab):
    first = run(*harden(lab))
    assert recap_changed(first.stdout) >= 5
    config = running()
    for line in ("service password-encryption", " exec-timeout 5 0", " access-class MGMT", "log syslog informational"):
        assert line in config
    assert "password 8 " in config and "lab-clear-text" not in config
    saved = podman("exec", NAME, "cat", "/etc/frr/frr.conf")
    assert " exec-timeout 5 0" in saved  # written to the startup configuration (write memory)
    second = run(*harden(lab))
    assert recap_changed(second.stdout) == 0
    verified = run(str(BIN / "lgsec"), "log", "verify", "--log", str(lab["work"] / "work-record.jsonl"))
    # the playbook's own record of its runs (each started and finished, none torn or edited)
    assert "chain intact" in verified.stdout and "has no finished entry" not in verified.stdout


def test_audit_after_hardening_passes(lab):
    rc, rows = audit(lab, "after")
    assert rc == 0
    passed = {c for c, r in rows.items() if r["status"] == "pass"}
    assert passed == LIVE_ON_FRR
    print("\nnetwork controls proved live on FRRouting 8.4 (fail before, pass after hardening):")
    for c in sorted(LIVE_ON_FRR):
        print(f"  LIVE {c:<18} {rows[c]['evidence'][0]}")
    print("proved on the IOS fixtures only (tests/unit/test_network.py); not applicable on FRR:")
    for c in sorted(IOS_FIXTURES_ONLY):
        print(f"  IOS  {c:<18} {rows[c]['actual']}")


def test_network_devices_and_hosts_in_one_report(lab):
    """One audit of an inventory holding the router and a Linux host (this controller, read-only)."""
    data = yaml.safe_load(Path(lab["inventory"]).read_text(encoding="utf-8"))
    data["all"]["hosts"]["controller"] = {"ansible_connection": "local", "lgsec_importance": "II"}
    mixed = lab["work"] / "mixed.yml"
    mixed.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = lab["work"] / "mixed"
    done = run(str(BIN / "lgsec"), "audit", "-i", str(mixed), "-o", str(out), rc=None)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]
    platforms = {(r["host"], r["platform"]) for r in rows}
    assert platforms == {("frr01", "network"), ("controller", "linux")}
    assert {r["status"] for r in rows if r["host"] == "frr01"} == {"pass", "not_applicable"}


def test_backup_records_a_change_made_between_two_runs(lab):
    backup = (str(BIN / "ansible-playbook"), "-i", lab["inventory"], "playbooks/backup_network.yml")
    run(*backup)
    store = lab["store"]
    assert (store / "frr01.cfg").read_text(encoding="utf-8").startswith("! lgsec: vendor=frr host=frr01\n")
    vtysh("configure terminal", "access-list MGMT seq 10 permit 192.168.10.0/24", "end")
    second = run(*backup)
    assert "changed: frr01" in " ".join(second.stdout.split())
    diff = (store / "changes" / "frr01.diff").read_text(encoding="utf-8")
    assert "+access-list MGMT seq 10 permit 192.168.10.0/24" in diff
    head = subprocess.run(["git", "-C", str(store), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    third = run(*backup)  # nothing changed since: no new commit
    assert "changed: none; new: none; nothing to commit" in " ".join(third.stdout.split())
    # the report links each device's last change, live and from the store
    _, live = audit(lab, "linked")
    assert live["SESSION-LIMIT"]["last_change"]["commit"] == head.strip()
    assert live["SESSION-LIMIT"]["last_change"]["diff"] == str(store / "changes" / "frr01.diff")
    rc, saved = audit(lab, "from-store", "--configs", str(store))
    assert rc == 0 and {c for c, r in saved.items() if r["status"] == "pass"} == LIVE_ON_FRR
    assert saved["LOG-CENTRAL"]["source"] == "config" and saved["LOG-CENTRAL"]["last_change"]["commit"] == head.strip()
