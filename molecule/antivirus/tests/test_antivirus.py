"""roles/antivirus on real Debian 12 and 13, checked the way an auditor or a user would.

Run by `molecule verify -s antivirus` (testinfra over podman://antivirus-d12, podman://antivirus-d13)
after prepare (a signature database built 10 days ago, the audit before hardening), converge and
idempotence. No signature mirror is reachable from the lab: the tests stand in for the union's
mirror, putting a database built now (files/lab_sigdb.py) where freshclam would and having clamd
reload it. Figures come from the role's defaults and the scenario's inventory, never from this file.
test_antivirus_when_broken.py (run after this file) then breaks the hosts on purpose.
"""

from __future__ import annotations

import pytest
from av_lab import (
    CONTROLS,
    DETECTED,
    EPHEMERAL,
    SAMPLE,
    audit,
    hostvars,
    names,
    put,
    reload_clamd,
    report_rows,
    show,
    supply_database,
)
from lgsec_lab import assert_status, audit_before

# Why each control fails on the stock host with the 10-day-old database (prepare).
BEFORE = {
    "AV-RESIDENT": ["no ClamAV daemon installed"],
    "AV-CURRENT": ["freshclam is not running", "daily.cud built 10.0 days ago"],
    "AV-FULLSCAN": ["no full-scan timer"],
}


# ---- the audit, before and after -------------------------------------------------------


@pytest.fixture(scope="session")
def audit_after() -> dict[tuple[str, str], dict]:
    """The lab supplies a database built now (version 2), clamd loads it, then `lgsec audit`."""
    for name in names():
        supply_database(name, age_days=0, version=2)
        reload_clamd(name, version=2)
    return audit("after")


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_before_hardening_fails(host, control):
    row = assert_status(audit_before(), host, control, "fail")
    for reason in BEFORE[control]:
        assert reason in row["actual"], row["actual"]


def test_audit_before_reads_the_database_header(host):
    """The stale database's file is new (copied by prepare): only its header says 10 days."""
    row = report_rows(EPHEMERAL / "before" / "report.json")[(host.backend.name, "AV-CURRENT")]
    assert any("daily.cud (unsigned, locally built container) header: version 1" in e for e in row["evidence"])


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_after_hardening_passes(host, control, audit_after):
    assert_status(audit_after, host, control, "pass")


def test_audit_after_asked_clamd_and_read_the_new_database(host, audit_after):
    row = audit_after[(host.backend.name, "AV-RESIDENT")]
    assert "clamd PING on /var/run/clamav/clamd.ctl: PONG" in row["evidence"]
    current = audit_after[(host.backend.name, "AV-CURRENT")]
    assert "daily.cud version 2 built 0.0 days ago" in current["actual"]


# ---- the host after hardening ------------------------------------------------------------


def test_daemon_and_updater_run_and_start_at_boot(host):
    for package in ("clamav-daemon", "clamdscan", "clamav-freshclam"):
        assert host.package(package).is_installed
    for service in ("clamav-daemon", "clamav-freshclam"):
        assert host.service(service).is_running, service
        assert host.service(service).is_enabled, service


def test_freshclam_asks_only_the_private_mirror(host):
    v = hostvars()
    conf = host.file("/etc/clamav/freshclam.conf")
    assert conf.contains(f"^PrivateMirror {v['lgsec_av_current_mirror']}$")
    assert conf.contains("^NotifyClamd /etc/clamav/clamd.conf$")
    log = host.file("/var/log/clamav/freshclam.log").content_string
    assert f"from {v['lgsec_av_current_mirror']}/daily.c" in log  # it did try, and only there
    assert "clamav.net" not in log, "freshclam went to a public mirror"


def test_clamd_detects_the_sample_and_passes_a_clean_file(host, audit_after):
    put(host.backend.name, "/tmp/lab-sample.txt", SAMPLE)
    put(host.backend.name, "/tmp/lab-clean.txt", b"an ordinary text file\n")
    try:
        found = host.run("clamdscan --fdpass --no-summary /tmp/lab-sample.txt")
        clean = host.run("clamdscan --fdpass --no-summary /tmp/lab-clean.txt")
    finally:
        host.run("rm -f /tmp/lab-sample.txt /tmp/lab-clean.txt")
    assert found.rc == 1 and f"/tmp/lab-sample.txt: {DETECTED}" in found.stdout, found.stdout + found.stderr
    assert clean.rc == 0 and "/tmp/lab-clean.txt: OK" in clean.stdout, clean.stdout + clean.stderr


def test_full_scan_timer_follows_the_schedule(host):
    v = hostvars()
    timer = show(host, "lgsec-clamscan.timer")
    assert timer["UnitFileState"] == "enabled" and timer["ActiveState"] == "active"
    day = f"{v['lgsec_av_fullscan_weekday']} " if v["lgsec_av_fullscan_schedule"] == "weekly" else ""
    assert f"OnCalendar={day}*-*-* {v['lgsec_av_fullscan_time']}:00 ;" in timer["TimersCalendar"]
    verify = host.run("systemd-analyze verify lgsec-clamscan.service lgsec-clamscan.timer")
    assert verify.rc == 0, verify.stderr
