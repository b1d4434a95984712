"""WIPE-RECORDED on real block devices: playbooks/decommission.yml erases loop devices of this
machine (files in a temporary folder, attached with losetup) as it would a server's data disks.

Known data is written first; after the run none of it can be read back, every byte reads zero,
and the disposal record is on the controller. Every refusal (no confirmation, an approver who is
the operator, a mounted disk among those named) is proved to leave the data in place. Only the
loop devices this test attaches are ever named; the system disk guard is proved in tests/unit/test_wipe.py
on lsblk output, never on this machine's own disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SIZE = 8 * 1024 * 1024

if os.geteuid() != 0 or not shutil.which("losetup"):
    pytest.skip("needs root and losetup to attach loop devices (CI runs as root)", allow_module_level=True)


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


@pytest.fixture
def disks(tmp_path):
    """Three loop devices filled with a known secret; the third carries a mounted filesystem."""
    secret = f"LGSEC-SECRET-{uuid.uuid4()}\n".encode()
    devices = []
    for name in ("a", "b", "c"):
        image = tmp_path / f"{name}.img"
        image.write_bytes(secret * (SIZE // len(secret)) + b"\0" * (SIZE % len(secret)))
        devices.append(run("losetup", "--find", "--show", str(image)).stdout.strip())
    mount = tmp_path / "mnt"
    mount.mkdir()
    run("mkfs.ext4", "-q", "-F", devices[2])
    run("mount", devices[2], str(mount))
    yield devices, secret
    run("umount", str(mount), check=False)
    for device in devices:
        run("losetup", "-d", device, check=False)


def holds(device: str, secret: bytes) -> bool:
    return secret in Path(device).read_bytes()


def all_zero(device: str) -> bool:
    return Path(device).read_bytes() == b"\0" * SIZE


def decommission(tmp_path: Path, devices: list[str], **extra: str) -> subprocess.CompletedProcess:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    disposal-lab:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n      lgsec_importance: II\n"
        f"      lgsec_wipe_recorded_record_file: {tmp_path / 'disposal.jsonl'}\n",
        encoding="utf-8",
    )
    variables = {
        "lgsec_decommission_confirm": "disposal-lab",
        "lgsec_decommission_operator": "tanaka",
        "lgsec_decommission_approver": "suzuki",
        "lgsec_decommission_reference": "R8-0123",
        "lgsec_decommission_devices": devices,
        **extra,
    }
    variables = {k: v for k, v in variables.items() if v is not None}
    playbook = [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/decommission.yml"]
    return subprocess.run(
        [*playbook, "-e", json.dumps(variables)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        check=False,
    )


def records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "disposal.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_overwrite_erases_beyond_recovery_and_records_it(tmp_path, disks):
    devices, secret = disks
    assert holds(devices[0], secret) and holds(devices[1], secret)
    proc = decommission(tmp_path, devices[:2], lgsec_wipe_recorded_passes=2)
    assert proc.returncode == 0, proc.stdout[-3000:]
    for device in devices[:2]:
        assert not holds(device, secret) and all_zero(device), f"{device} still holds data"
    found = records(tmp_path)
    assert [(r["device"], r["result"], r["method"], r["passes"]) for r in found] == [
        (devices[0], "erased", "overwrite", 2),
        (devices[1], "erased", "overwrite", 2),
    ]
    assert {(r["operator"], r["approver"], r["reference"], r["host"]) for r in found} == {
        ("tanaka", "suzuki", "R8-0123", "disposal-lab")
    }
    assert found[0]["size_bytes"] == SIZE and "every byte zero" in found[0]["verification"]


def test_discard_then_verification_read(tmp_path, disks):
    devices, _ = disks
    proc = decommission(tmp_path, devices[:1], lgsec_wipe_recorded_method="discard")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert all_zero(devices[0]) and records(tmp_path)[0]["result"] == "erased"


def test_the_audit_judges_the_disposal_from_the_record(tmp_path, disks):
    devices, _ = disks
    assert decommission(tmp_path, devices[:2]).returncode == 0
    inventory = tmp_path / "audit.yml"
    inventory.write_text(
        "all:\n  hosts:\n    disposal-lab:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n      lgsec_importance: II\n"
        "      lgsec_decommissioned: true\n"
        f"      lgsec_decommission_devices: {json.dumps(devices[:2])}\n"
        f"      lgsec_wipe_recorded_record_file: {tmp_path / 'disposal.jsonl'}\n",
        encoding="utf-8",
    )
    proc = run(str(BIN / "lgsec"), "audit", "-i", str(inventory), "-o", str(tmp_path / "out"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["results"]
    assert [(r["control"], r["status"]) for r in rows] == [("WIPE-RECORDED", "pass")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"lgsec_decommission_confirm": "another-host"}, "Refusing to erase disposal-lab"),
        ({"lgsec_decommission_approver": "tanaka"}, "not the operator"),
        ({"lgsec_decommission_approver": None}, "lgsec_decommission_approver"),
    ],
    ids=["confirmation-names-another-host", "approver-is-the-operator", "no-approver"],
)
def test_refused_without_confirmation_and_two_people_nothing_erased(tmp_path, disks, extra, message):
    devices, secret = disks
    proc = decommission(tmp_path, devices[:1], **extra)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert holds(devices[0], secret) and records(tmp_path) == []


def test_a_mounted_disk_among_those_named_stops_everything(tmp_path, disks):
    devices, secret = disks
    proc = decommission(tmp_path, [devices[0], devices[2]])
    assert proc.returncode != 0
    assert f"{devices[2]} is in use: {devices[2]} on" in proc.stdout
    assert holds(devices[0], secret) and records(tmp_path) == []
