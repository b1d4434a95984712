"""WIPE-RECORDED: which disks the disposal wipe may erase (lgsec/wipe.py), and how a decommissioned
host is judged. The erasure itself is proved on loop devices in tests/disposal."""

from __future__ import annotations

import pytest
from conftest import evaluate, row_for

from lgsec.errors import InputError
from lgsec.evaluate import failed_host, validate_hostvars
from lgsec.wipe import wipe_plan

# lsblk -J -b -p -o NAME,TYPE,SIZE,RO,SERIAL,MODEL,MOUNTPOINTS of a server: the system on sda
# (LVM), a data disk sdb with a mounted partition, an unused sdc, a loop device, a DVD.
LSBLK = {
    "blockdevices": [
        {"name": "/dev/sda", "type": "disk", "size": 480103981056, "ro": False, "serial": "S1", "model": "SSD",
         "mountpoints": [None], "children": [
             {"name": "/dev/sda1", "type": "part", "size": 536870912, "ro": False, "mountpoints": ["/boot/efi"]},
             {"name": "/dev/sda2", "type": "part", "size": 479566069760, "ro": False, "mountpoints": [None],
              "children": [
                  {"name": "/dev/mapper/vg-root", "type": "lvm", "size": 100, "ro": False, "mountpoints": ["/"]},
                  {"name": "/dev/mapper/vg-swap", "type": "lvm", "size": 100, "ro": False, "mountpoints": [None]},
              ]},
         ]},
        {"name": "/dev/sdb", "type": "disk", "size": 1000204886016, "ro": False, "serial": " WD-1 ",
         "model": "WDC", "mountpoints": [None], "children": [
             {"name": "/dev/sdb1", "type": "part", "size": 1000, "ro": False, "mountpoints": ["/srv/data"]}]},
        {"name": "/dev/sdc", "type": "disk", "size": 2000, "ro": False, "serial": "WD-2", "model": "WDC",
         "mountpoints": [None]},
        {"name": "/dev/loop3", "type": "loop", "size": 4096, "ro": False, "serial": None, "model": None,
         "mountpoints": [None]},
        {"name": "/dev/sr0", "type": "rom", "size": 1024, "ro": True, "serial": "DVD", "model": "DVD",
         "mountpoints": [None]},
    ]
}  # fmt: skip
ROOT_SOURCE = "/dev/mapper/vg-root"


def problems(device: str, **kwargs) -> list[str]:
    return wipe_plan(LSBLK, ROOT_SOURCE, [device], **kwargs)[0]["problems"]


def test_an_unused_disk_or_loop_device_may_be_erased_and_is_identified_for_the_record():
    plan = wipe_plan(LSBLK, ROOT_SOURCE, ["/dev/sdc", "/dev/loop3"])
    assert [p["problems"] for p in plan] == [[], []]
    assert plan[0] == {"device": "/dev/sdc", "serial": "WD-2", "model": "WDC", "size_bytes": 2000, "problems": []}


def test_the_system_disk_is_refused_unless_explicitly_allowed():
    assert "holds the running system (/ is on /dev/mapper/vg-root)" in problems("/dev/sda")[0]
    assert problems("/dev/sda", allow_system_disk=True) == []


def test_a_mounted_disk_or_swap_is_refused_naming_what_uses_it():
    assert problems("/dev/sdb") == ["/dev/sdb is in use: /dev/sdb1 on /srv/data"]
    assert problems("/dev/sdc", swaps=["/dev/sdc"]) == ["/dev/sdc is in use: /dev/sdc on swap"]


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ("/dev/sdb1", "/dev/sdb1 is a part on a disk: name the whole disk"),
        ("/dev/sdz", "/dev/sdz is not a block device on this host"),
        ("/dev/sr0", "/dev/sr0 is a rom, not a disk"),
    ],
)
def test_what_is_not_a_whole_writable_disk_is_refused(device, reason):
    assert reason in problems(device)


def test_a_host_in_service_is_not_applicable(catalog, base12):
    row = row_for(evaluate(catalog, base12, {}), "WIPE-RECORDED")
    assert row["status"] == "not_applicable"


def test_a_decommissioned_host_is_judged_on_its_disposal_record_alone_even_unreachable(catalog):
    hostvars = {
        "lgsec_decommissioned": True,
        "lgsec_decommission_devices": ["/dev/sdb", "/dev/nvme0n1"],
        "lgsec_wipe_recorded_record_file": "tests/fixtures/linux/WIPE-RECORDED/disposal-pass.jsonl",
    }
    rows = failed_host(catalog, "web01", hostvars, "unreachable", "unreachable: host is gone")
    assert [(r["control"], r["status"]) for r in rows] == [("WIPE-RECORDED", "pass")]
    assert any("approved by suzuki: erased" in e for e in rows[0]["evidence"])


def test_lgsec_decommissioned_must_be_a_boolean(catalog):
    with pytest.raises(InputError, match="lgsec_decommissioned"):
        validate_hostvars(catalog, "web01", {"lgsec_decommissioned": "yes", "lgsec_importance": "II"})
