"""roles/software on real Debian 12 and 13: what changes the hosts for a while runs here, after
test_software.py (testinfra runs one module for every host before the next module).

The audit changes nothing and does not take stale package lists for fresh ones; the role
refuses a removal that would take a package the deny-list does not name. Each fixture is one
run for both hosts and undoes what it did before it returns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import test_software as sw
import testinfra
import yaml
from lgsec_lab import INVENTORY, ROOT, SCENARIO, audit

from lgsec.catalog import load_catalog


@pytest.fixture(scope="session")
def hosts():
    platforms = yaml.safe_load((SCENARIO / "molecule.yml").read_text(encoding="utf-8"))["platforms"]
    return {p["name"]: testinfra.get_host(f"podman://{p['name']}") for p in platforms}


@pytest.fixture(scope="session")
def stale_audit(hosts, tmp_path_factory):
    """Package lists aged past max_pending_days (and no update-stamp), then one audit of both
    hosts, with the host's state taken before and after it. The lists' times are restored."""
    # the audit's figure: the scenario's own or the catalog default (the role does not read it: make generate
    # writes only what the role's files name)
    var = "lgsec_sw_patched_max_pending_days"
    limit = sw.defaults().get(var, load_catalog().variables()[var][1].default)
    seen = {}
    for name, node in hosts.items():
        aged = int(node.check_output("date +%s")) - (limit + 6) * 86400
        node.check_output(f"touch -d @{aged} {sw.SECURITY_LISTS} && rm -f /var/lib/apt/periodic/update-stamp")
        seen[name] = sw.state(node)
    try:
        rows = audit(tmp_path_factory.mktemp("stale"))
        return limit, rows, seen, {name: sw.state(node) for name, node in hosts.items()}
    finally:
        for node in hosts.values():
            node.check_output(f"touch {sw.SECURITY_LISTS}")


def test_audit_refreshes_nothing(host, stale_audit):
    _, _, seen, after = stale_audit
    assert after[host.backend.name] == seen[host.backend.name], (
        "the audit changed dpkg's database, the lists or apt's cache"
    )


def test_stale_package_lists_fail_patched(host, stale_audit):
    limit, rows, _, _ = stale_audit
    row = rows[(host.backend.name, "SW-PATCHED")]
    assert row["status"] == "fail"
    assert f"package lists older than {limit} days" in row["actual"] and "run apt update" in row["actual"]


@pytest.fixture(scope="session")
def refused_removal(hosts, tmp_path_factory):
    """Hardening never removes what the deny-list does not name: with telnet installed, a
    deny-list naming only inetutils-telnet (which telnet depends on) must stop the role."""
    for node in hosts.values():
        node.check_output("DEBIAN_FRONTEND=noninteractive apt-get install -y -q telnet")
    work = tmp_path_factory.mktemp("refused")
    extra = work / "deny.json"
    extra.write_text(json.dumps({"lgsec_sw_unapproved_deny": ["inetutils-telnet"]}), encoding="utf-8")
    play = work / "play.yml"
    play.write_text(
        "- name: SW-UNAPPROVED with a deny-list that would take a dependent\n  hosts: all\n"
        "  gather_facts: true\n  gather_subset: [min]\n  roles: [{role: software}]\n",
        encoding="utf-8",
    )
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    try:
        proc = subprocess.run(
            [playbook, "-i", INVENTORY, str(play), "--tags", "SW-UNAPPROVED", "-e", f"@{extra}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
            cwd=ROOT,
        )
        return proc, {name: node.package("telnet").is_installed for name, node in hosts.items()}
    finally:
        for node in hosts.values():
            node.check_output("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q telnet inetutils-telnet")


def test_removal_that_would_take_another_package_is_refused(host, refused_removal):
    proc, telnet_kept = refused_removal
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert f"Refusing to remove inetutils-telnet from {host.backend.name}: apt would also remove telnet" in out
    assert telnet_kept[host.backend.name], "telnet was removed although the deny-list does not name it"


@pytest.fixture(scope="session")
def checked_with_reboot_flag(hosts):
    """A reboot asked for by a package (as its postinst does: /run/reboot-required and .pkgs),
    then `--check --tags SW-PATCHED` of the hardened hosts; the flag is removed after."""
    for node in hosts.values():
        node.check_output("echo '*** System restart required ***' > /run/reboot-required")
        node.check_output("echo libc6 > /run/reboot-required.pkgs")
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    try:
        return subprocess.run(
            [playbook, "-i", INVENTORY, str(SCENARIO / "converge.yml"), "--check", "--tags", "SW-PATCHED"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
            cwd=ROOT,
        )
    finally:
        for node in hosts.values():
            node.check_output("rm -f /run/reboot-required /run/reboot-required.pkgs")


def test_check_mode_lists_what_it_would_install_and_reports_the_reboot(host, checked_with_reboot_flag):
    proc = checked_with_reboot_flag
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    name, out = host.backend.name, " ".join(proc.stdout.split())  # the callback wraps long messages
    assert f"{name}: would install 0 security updates (lgsec_sw_patched_apply: security)" in out
    reboot = f"REBOOT REQUIRED on {name} (/run/reboot-required): the updates of libc6 take effect after a reboot"
    assert reboot in out
