"""roles/antivirus: the audit tells when anti-malware stops protecting a host.

Runs after test_antivirus.py (pytest takes the files in name order, and testinfra takes all the
tests of one file host by host): the hosts are broken on purpose here. Lab samples are planted
where malware hides (/root, /dev/shm) and in the directory the scan excludes; the weekly full
scan is run now on both hosts at once; then clamd is stopped and the signature database is 10
days old again; then `lgsec audit`. Each control must fail, for the right reason, and the audit
must not have started clamd again (connecting to its socket would).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from av_lab import CONTROLS, DETECTED, SAMPLE, SCAN_LOG, audit, names, podman, put, show, supply_database

TAMPERED = {
    "AV-RESIDENT": ["clamav-daemon.service not running (ActiveState=inactive"],
    "AV-CURRENT": ["daily.cud built 10.0 days ago"],
    "AV-FULLSCAN": ["found infected files"],
}


def start_full_scan(name: str):
    return podman(name, "systemctl", "start", "lgsec-clamscan.service", timeout=600)


@pytest.fixture(scope="session")
def tampered() -> dict[tuple[str, str], dict]:
    for name in names():
        for path in ("/root/lab-sample.txt", "/dev/shm/lab-sample.txt"):
            put(name, path, SAMPLE)
    with ThreadPoolExecutor(len(names())) as pool:
        list(pool.map(start_full_scan, names()))
    for name in names():
        podman(name, "rm", "-f", "/root/lab-sample.txt", "/dev/shm/lab-sample.txt")
        assert podman(name, "systemctl", "stop", "clamav-daemon.service").returncode == 0
        supply_database(name, age_days=10, version=3)
    return audit("tampered", CONTROLS)


def test_full_scan_finds_the_planted_samples_and_skips_the_excluded(host, tampered):
    log = host.file(SCAN_LOG).content_string
    assert f"/root/lab-sample.txt: {DETECTED}" in log
    assert f"/dev/shm/lab-sample.txt: {DETECTED}" in log
    assert "/srv/lgsec-lab-excluded" not in log
    assert "/proc/" not in log and "Not supported file type" not in log
    service = show(host, "lgsec-clamscan.service")
    assert (service["Result"], service["ExecMainStatus"]) == ("exit-code", "1")


@pytest.mark.parametrize("control", CONTROLS)
def test_audit_sees_what_went_wrong(host, control, tampered):
    row = tampered[(host.backend.name, control)]
    assert row["status"] == "fail", f"{control}: {row['status']} ({row['actual']})"
    for reason in TAMPERED[control]:
        assert reason in row["actual"], row["actual"]


def test_the_audit_did_not_start_the_stopped_clamd(host, tampered):
    """Its socket stays open (socket activation): a PING would have started clamd again."""
    assert show(host, "clamav-daemon.socket")["ActiveState"] == "active"
    assert show(host, "clamav-daemon.service")["ActiveState"] == "inactive"
    row = tampered[(host.backend.name, "AV-RESIDENT")]
    assert any("not asked" in e for e in row["evidence"]), row["evidence"]
