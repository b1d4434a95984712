"""roles/logging on real Debian 12 and 13, checked the way an auditor or a user would.

Run by `molecule verify -s logging` (testinfra over podman://logging-d12, podman://logging-d13),
after prepare (fixtures, the log host and NTP server, the audit before hardening), converge and
idempotence. Figures come from the role's defaults and the scenario's inventory, never from
this file. logging-loghost (the union's log host and NTP server) is reached through testinfra
over podman; the clients reach it by name on the scenario's own podman network.

What a container cannot show, and how this file says so:
- auditd cannot run in a container (the kernel's audit subsystem is the host's, which the lab
  never touches): the rules are verified as files and as augenrules merges them; the test that
  an event is recorded is skipped with that reason.
- chronyd cannot set a container's clock: the lab runs it with -x (prepare.yml). Sources,
  selection, offset and leap status are real; only the clock is never stepped.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
import testinfra
from lgsec_lab import EPHEMERAL, assert_status, audit, audit_before, hostvars, sh

LOGHOST = "logging-loghost"

# Section E controls the role enforces: each fails before hardening and passes after.
CONTROLS = ["LOG-RETENTION", "LOG-AUDIT", "LOG-CENTRAL", "TIME-SYNC"]
# Days per logrotate period, as the audit counts them (a month is 1/12 year).
PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 365 / 12, "yearly": 365}


@pytest.fixture
def v(host) -> dict:
    return hostvars(host.backend.name, "logging")


@pytest.fixture(scope="module")
def loghost():
    return testinfra.get_host(f"podman://{LOGHOST}")


def in_container(host) -> bool:
    return host.run("systemd-detect-virt --container").rc == 0


# ---- the audit, before and after -------------------------------------------------------


@pytest.fixture(scope="session")
def audit_after() -> dict[tuple[str, str], dict]:
    """A fresh `lgsec audit` of the clients after converge, once chronyd reports a selected
    source (it was restarted by the converge a few seconds ago; iburst takes ~2-8 s)."""
    for name in ("logging-d12", "logging-d13"):
        # waitsync: up to 30 tries 1 s apart, until synchronised (any correction, any skew)
        testinfra.get_host(f"podman://{name}").run("chronyc waitsync 30 0 0 1")
    return audit(EPHEMERAL / "after", "-l", "clients", "--controls", ",".join(CONTROLS))


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_before_hardening_fails(host, control):
    assert_status(audit_before(), host, control, "fail")


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_after_hardening_passes(host, control, audit_after):
    if control == "LOG-AUDIT" and in_container(host):
        pytest.skip("process accounting cannot be on in a container: the row says so (next test)")
    assert_status(audit_after, host, control, "pass")


def test_audit_says_what_a_container_cannot_show(host, audit_after):
    """In a container the kernel's audit and process accounting are the host's: the row fails for
    that reason alone, says so, and judged the rules files."""
    row = audit_after[(host.backend.name, "LOG-AUDIT")]
    if not in_container(host):
        pytest.skip("not a container: the row passes (previous test)")
    assert row["status"] == "fail"
    problems = row["actual"].split("; ")
    assert problems and all("container, whose kernel accounting is its host's" in p for p in problems), row["actual"]
    assert any("the kernel's rules cannot be read here: judged on the rules files" in e for e in row["evidence"])


# ---- LOG-RETENTION (第55条1–2) ----------------------------------------------------------


def journald_effective(host) -> dict[str, str]:
    """journald's settings as systemd merges them (journald.conf, then the drop-ins)."""
    values: dict[str, str] = {}
    for line in host.check_output("systemd-analyze cat-config systemd/journald.conf").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith(("#", ";", "[")):
            values[key] = value
    return values


def test_journal_kept_on_disk_without_age_limit(host):
    conf = journald_effective(host)
    assert conf.get("Storage") == "persistent"
    assert conf.get("MaxRetentionSec", "0") == "0"
    # journald writes its system journal under /var/log/journal/<machine id>/
    assert sh(host, "ls /var/log/journal/*/system.journal").rc == 0
    marker = f"lgsec-retention-{uuid.uuid4().hex}"
    host.run(f"logger -t lgsec-test {marker}")
    journal = "/var/log/journal/$(cat /etc/machine-id)"
    out = sh(host, f"journalctl --directory={journal} -t lgsec-test --no-pager -q | grep -c {marker}")
    assert out.stdout.strip() == "1", "the message is not in the on-disk journal"


def test_logrotate_keeps_syslog_for_the_retention_period(host, v):
    """logrotate's own dry run says how many rotations of which period it keeps."""
    out = host.run("logrotate -d /etc/logrotate.conf")
    text = out.stdout + out.stderr
    pattern = r"rotating pattern: /var/log/syslog.*?(hourly|daily|weekly|monthly|yearly)\b[^\n(]*\((\d+) rotations\)"
    block = re.search(pattern, text, re.S)
    assert block, text[-2000:]
    period, count = block.group(1), int(block.group(2))
    assert count * PERIOD_DAYS[period] >= v["lgsec_log_retention_days"], f"{period}, {count} rotations"


# ---- LOG-AUDIT (第55条1) -----------------------------------------------------------------


def test_auditd_installed_and_enabled(host):
    assert host.package("auditd").is_installed
    assert host.service("auditd").is_enabled


def test_process_accounting_installed_and_enabled(host):
    """acct (第55条1): installed and enabled for boot; running where the kernel lets accton turn it
    on, refused in a container (Operation not permitted), which the audit row says."""
    assert host.package("acct").is_installed
    assert host.service("acct").is_enabled
    assert host.file("/var/log/account").is_directory
    if in_container(host):
        assert not host.service("acct").is_running
        journal = host.run("journalctl -u acct.service --no-pager -o cat").stdout
        assert "Operation not permitted" in journal, journal
    else:
        assert host.service("acct").is_running
        assert host.run("lastcomm --user root | head -1").stdout.strip()


def test_audit_rules_merged_for_boot(host):
    """augenrules has merged rules.d into /etc/audit/audit.rules, what auditd loads at boot."""
    rules = host.file("/etc/audit/rules.d/lgsec.rules")
    assert rules.mode == 0o640 and rules.user == "root"
    merged = host.file("/etc/audit/audit.rules").content_string
    for line in (
        "-w /etc/passwd -p wa -k identity",
        "-w /etc/shadow -p wa -k identity",
        "-w /etc/sudoers -p wa -k scope",
        "-w /usr/bin/sudo -p x -k privileged",
        "-w /var/log/btmp -p wa -k logins",
        "-w /etc/pam.d -p wa -k policy",
        "-w /etc/ssh/sshd_config -p wa -k policy",
    ):
        assert line in merged, line
    assert "No change" in host.run("augenrules --check").stdout


def test_audit_records_an_account_change(host):
    if in_container(host):
        pytest.skip(
            "auditd cannot run in a container: the kernel's audit subsystem belongs to the host, which the "
            "lab never touches. The rules are verified as files (above); recording is verified on a real host, "
            "where the audit reads `auditctl -l`."
        )
    assert host.service("auditd").is_running
    sh(host, "useradd -M lgsec-audit-probe && userdel lgsec-audit-probe")
    assert "lgsec-audit-probe" in sh(host, "ausearch -k identity -ts recent -i").stdout


# ---- LOG-CENTRAL (第55条3, 第94条) -------------------------------------------------------


def test_forwarding_configuration_is_valid(host):
    assert host.service("rsyslog").is_running
    assert host.run("rsyslogd -N1").rc == 0


def test_a_message_reaches_the_log_host(host, loghost):
    """logger on the server; the log host wrote it to its file for that sender."""
    marker = f"lgsec-central-{uuid.uuid4().hex}"
    assert host.run(f"logger -t lgsec-test {marker}").rc == 0
    hostname = host.check_output("hostname")
    path = f"/var/log/remote/{hostname}.log"
    for _ in range(30):
        if loghost.run(f"grep -F {marker} {path}").rc == 0:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"{marker} did not arrive in {LOGHOST}:{path} within 15 s")
    line = loghost.check_output(f"grep -F {marker} {path}")
    assert f"{hostname} lgsec-test: {marker}" in line


# ---- TIME-SYNC (第94条2) ---------------------------------------------------------------


def test_chrony_uses_only_the_union_servers(host, v):
    sources = [line.split(",") for line in host.check_output("chronyc -c -N sources").splitlines()]
    assert {row[2] for row in sources} == set(v["lgsec_time_sync_servers"])
    assert any(row[1] == "*" for row in sources), sources
    lines = "grep -hE '^[[:space:]]*(pool|server|peer)[[:space:]]' /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf"
    active = sh(host, lines)
    assert active.stdout.strip() == "", active.stdout


def test_clock_synchronised_to_the_ntp_server(host):
    lines = host.check_output("chronyc -n tracking").splitlines()
    tracking = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}
    assert tracking["Leap status"] == "Normal"
    address = host.check_output(f"getent hosts {LOGHOST}").split()[0]
    assert tracking["Reference ID"].endswith(f"({address})"), tracking["Reference ID"]
    assert float(tracking["System time"].split()[0]) < 0.1  # seconds; the clock is the host's
