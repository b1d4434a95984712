"""WIPE-RECORDED (第20条, 第26条, 第30条, 第59条2): which disks a disposal wipe may erase, and the
disposal record. Plain Python shared by playbooks/decommission.yml (through filter_plugins/lgsec.py)
and the audit, unit-tested on lsblk output.

A device is refused when it is not a whole block device lsblk knows, is read-only, holds a mounted
filesystem or swap (itself or any partition / mapping on it), or is the disk the running system
was started from — unless the operator explicitly allows the system disk.
"""

from __future__ import annotations

import json
from pathlib import Path

WIPEABLE_TYPES = ("disk", "loop")
RECORD_FIELDS = ("recorded_at", "host", "device", "serial", "model", "size_bytes", "method", "passes", "operator",
                 "approver", "result", "verification")  # fmt: skip


def _walk(node: dict, parents: tuple[dict, ...] = ()):
    yield node, parents
    for child in node.get("children") or []:
        yield from _walk(child, (*parents, node))


def _mounts(node: dict) -> list[str]:
    points = node.get("mountpoints") or ([node["mountpoint"]] if node.get("mountpoint") else [])
    return [p for p in points if p]


def wipe_plan(
    lsblk: dict, root_source: str, devices: list[str], allow_system_disk: bool = False, swaps: list[str] = ()
) -> list[dict]:
    """One entry per requested device: its identity (for the record) and why it may not be wiped
    (`problems`, empty when it may). lsblk: `lsblk -J -b -p -o NAME,TYPE,SIZE,RO,SERIAL,MODEL,MOUNTPOINTS`;
    root_source: `findmnt -n -o SOURCE /` (the device / is mounted from); swaps: `swapon --show=NAME`."""
    tops = lsblk.get("blockdevices") or []
    plan = []
    for wanted in devices:
        top = next((d for d in tops if d.get("name") == wanted), None)
        entry = {"device": wanted, "serial": "", "model": "", "size_bytes": 0, "problems": []}
        plan.append(entry)
        if top is None:
            inner = next((n for d in tops for n, _ in _walk(d) if n.get("name") == wanted), None)
            entry["problems"].append(
                f"{wanted} is a {inner.get('type')} on a disk: name the whole disk"
                if inner
                else f"{wanted} is not a block device on this host"
            )
            continue
        entry.update(
            serial=(top.get("serial") or "").strip(),
            model=(top.get("model") or "").strip(),
            size_bytes=int(top.get("size") or 0),
        )
        if top.get("type") not in WIPEABLE_TYPES:
            entry["problems"].append(f"{wanted} is a {top.get('type')}, not a disk")
        if top.get("ro") in (True, "1", 1):
            entry["problems"].append(f"{wanted} is read-only")
        in_use = [(n["name"], m) for n, _ in _walk(top) for m in _mounts(n)]
        in_use += [(n["name"], "swap") for n, _ in _walk(top) if n.get("name") in swaps and "[SWAP]" not in _mounts(n)]
        system = any(n.get("name") == root_source for n, _ in _walk(top))
        if system and not allow_system_disk:
            entry["problems"].append(
                f"{wanted} holds the running system (/ is on {root_source}): set lgsec_decommission_allow_system_disk"
            )
        elif in_use and not system:
            entry["problems"].append(
                f"{wanted} is in use: " + ", ".join(f"{name} on {point}" for name, point in in_use)
            )
    return plan


def records(path: str | Path, host: str) -> list[dict]:
    """The disposal records of one host, oldest first (JSON lines, as decommission.yml appends them)."""
    file = Path(path)
    if not file.exists():
        return []
    out = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{file}:{number}: not a JSON record ({exc})") from exc
        if record.get("host") == host:
            out.append(record)
    return out
