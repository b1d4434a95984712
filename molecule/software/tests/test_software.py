"""roles/software on real Debian 12 and 13, checked the way an auditor or a user would.

Run by `molecule verify -s software` (testinfra over podman://software-d12, podman://software-d13),
after prepare (telnet installed, the audit before hardening), converge and idempotence.
Figures come from the role's defaults and the scenario's inventory, never from this file.
"""

from __future__ import annotations

import subprocess

import pytest
import testinfra
from lgsec_lab import EPHEMERAL, INVENTORY, ROOT, assert_status, audit, audit_before, hostvars

# Enforced controls: each fails before hardening (telnet installed; no security archive, no
# unattended-upgrades on the stock image) and passes after.
ENFORCED = ["SW-UNAPPROVED", "SW-PATCHED"]
# Audit-only controls: pass before and after (the stock images are supported releases and
# their package lists read cleanly); their fail sides are on fixtures (Debian 10, a half-
# configured package): the lab has no Debian 10 image.
AUDIT_ONLY = ["SW-INVENTORY", "SW-SUPPORTED"]
SECURITY_LISTS = "/var/lib/apt/lists/*security*Release"


def defaults() -> dict:
    """The role's defaults and the scenario's group_vars (both hosts share them)."""
    return hostvars("", "software")


def state(host) -> str:
    """What an audit must not change: the package database and the package lists (with times)."""
    return host.check_output(
        "md5sum /var/lib/dpkg/status; stat -c '%n %Y %s' /var/lib/apt/lists/*Release /var/lib/apt/lists/*Packages*; "
        "ls -la --time-style=+%s /var/cache/apt/ /var/lib/apt/periodic/ 2>/dev/null || true"
    )


@pytest.fixture(scope="session")
def before() -> dict[tuple[str, str], dict]:
    return audit_before()


@pytest.fixture(scope="session")
def audit_after() -> dict[tuple[str, str], dict]:
    """A fresh `lgsec audit` of both hosts after converge."""
    return audit(EPHEMERAL / "after")


# ---- the audit, before and after -------------------------------------------------------


@pytest.mark.parametrize("control", ENFORCED)
def test_audit_before_hardening_fails(host, before, control):
    assert_status(before, host, control, "fail")


def test_audit_before_names_what_is_wrong(host, before):
    name = host.backend.name
    assert "telnet " in before[(name, "SW-UNAPPROVED")]["actual"]
    patched = before[(name, "SW-PATCHED")]["actual"]
    assert "no security archive in the package lists" in patched
    assert "unattended-upgrades is not installed" in patched


@pytest.mark.parametrize("control", ENFORCED + AUDIT_ONLY)
def test_audit_after_hardening_passes(host, audit_after, control):
    assert_status(audit_after, host, control, "pass")


@pytest.mark.parametrize("control", AUDIT_ONLY)
def test_audit_only_controls_pass_before_too(host, before, control):
    row = before[(host.backend.name, control)]
    assert row["status"] == "pass", f"{control} before hardening: {row['status']} ({row['actual']})"


def test_inventory_lists_every_installed_package(host, before, audit_after):
    """SW-INVENTORY (第63条2): the row's details are dpkg's own list of installed packages."""
    listed = host.check_output("dpkg-query -W -f='${db:Status-Status} ${Package} ${Version}\\n'").splitlines()
    installed = sorted((n, v) for s, n, v in (line.split(" ", 2) for line in listed) if s == "installed")
    row = audit_after[(host.backend.name, "SW-INVENTORY")]
    assert sorted((d["name"], d["version"]) for d in row["details"]) == installed
    assert row["actual"].startswith(f"{len(installed)} packages installed")
    names_before = {d["name"] for d in before[(host.backend.name, "SW-INVENTORY")]["details"]}
    assert "telnet" in names_before and "telnet" not in {d["name"] for d in row["details"]}


def test_supported_release_is_judged_on_its_dates(host, audit_after):
    release = host.system_info.release.split(".")[0]
    row = audit_after[(host.backend.name, "SW-SUPPORTED")]
    assert any(e.startswith("catalog/eol.yml:") and f"debian {release} " in e for e in row["evidence"]), row["evidence"]
    assert "LTS until 20" in row["actual"] and "days left" in row["actual"]


# ---- what a user finds on the host -------------------------------------------------------


def test_deny_listed_packages_are_purged(host):
    for name in defaults()["lgsec_sw_unapproved_deny"]:
        out = host.run(f"dpkg-query -W -f='${{db:Status-Abbrev}}' {name}")
        assert out.rc != 0 or out.stdout.strip() in ("un", "pn"), f"{name}: {out.stdout!r}"  # purged: no config left
    assert host.run("command -v telnet").rc != 0


def test_security_archive_is_in_the_apt_sources(host):
    policy = host.check_output("apt-cache policy")
    codename = host.system_info.codename
    assert f"{codename}-security/main" in policy, policy


def test_unattended_upgrades_runs_daily_for_security(host):
    assert host.package("unattended-upgrades").is_installed
    config = host.check_output("apt-config dump APT::Periodic")
    assert 'APT::Periodic::Update-Package-Lists "1";' in config
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert host.service(timer).is_enabled
    dry = host.check_output("unattended-upgrade --dry-run -v 2>&1")
    codename = host.system_info.codename
    assert f"codename={codename}-security,label=Debian-Security" in dry, dry


def test_security_archive_is_written_in_the_release_format(host):
    """Debian 12's installer writes one-line sources.list(5) files, Debian 13's deb822 .sources."""
    codename = host.system_info.codename
    one_line, deb822 = (host.file(f"/etc/apt/sources.list.d/lgsec-security.{ext}") for ext in ("list", "sources"))
    if host.system_info.release.split(".")[0] == "12":
        assert not deb822.exists
        lines = [x for x in one_line.content_string.splitlines() if x and not x.startswith("#")]
        assert lines == [
            f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
            f"{defaults()['lgsec_sw_patched_security_mirror']} {codename}-security main"
        ]
    else:
        assert not one_line.exists
        assert f"Suites: {codename}-security" in deb822.content_string
        assert deb822.content_string.count("Types: deb") == 1


def test_unattended_upgrade_ran_once_and_left_its_stamp(host):
    """The role ran apt.systemd.daily install (what apt-daily-upgrade.service runs) once."""
    assert host.file("/var/lib/apt/periodic/upgrade-stamp").is_file
    log = host.file("/var/log/unattended-upgrades/unattended-upgrades.log")
    assert log.exists and "Allowed origins are:" in log.content_string


def test_no_security_update_is_pending(host):
    sim = host.check_output("LC_ALL=C apt-get -s dist-upgrade")
    pending = [line for line in sim.splitlines() if line.startswith("Inst ") and "ecurity" in line]
    assert not pending, pending


# ---- the audit is read-only (issue 9) -----------------------------------------------------------

# Files the host's own services rewrite on their schedule whatever anybody does (systemd's timer
# stamps and random seed, logrotate's state): left out of the comparison, and said so.
VOLATILE = ("/var/lib/systemd", "/var/lib/logrotate", "/var/lib/apt/daily_lock", "/var/lib/private")


def everything(host) -> str:
    prune = " -o ".join(f"-path {p}" for p in VOLATILE)
    return host.check_output(
        f"find /etc /var/lib -xdev \\( {prune} \\) -prune -o \\( -type f -o -type l \\) -print0 | sort -z"
        " | xargs -0 sha256sum 2>&1; dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n'"
    )


@pytest.fixture(scope="session")
def audited_twice() -> tuple[dict, dict, str]:
    """Both hosts' /etc, /var/lib and package list, then a full audit with ansible-playbook (its
    recap), then the same again."""
    hosts = {name: testinfra.get_host(f"podman://{name}") for name in ("software-d12", "software-d13")}
    before = {name: everything(node) for name, node in hosts.items()}
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "-i", INVENTORY, str(ROOT / "playbooks/audit.yml"),
         "-e", f"lgsec_report_dir={EPHEMERAL / 'read-only'}"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    return before, {name: everything(node) for name, node in hosts.items()}, proc.stdout


def test_a_full_audit_changes_nothing_on_the_host(host, audited_twice):
    before, after, _ = audited_twice
    name = host.backend.name
    changed = sorted(set(before[name].splitlines()) ^ set(after[name].splitlines()))
    assert not changed, "the audit changed files or packages:\n" + "\n".join(changed[:20])
    assert len(before[name].splitlines()) > 1000  # /etc, /var/lib and the packages were really read


def test_ansible_reports_no_change_for_the_audit(host, audited_twice):
    recap = audited_twice[2].split("PLAY RECAP", 1)[-1]
    line = next(x for x in recap.splitlines() if x.startswith(host.backend.name))
    assert "changed=0" in line and "failed=0" in line and "unreachable=0" in line, line
