"""Helpers the checks of every platform share, one definition each: a verdict from a list of
problems, the length of a day, how a moment is shown, a gathered command's result whatever its
exit code, the units systemd enables, a long list of names cut short, the disposal record's verdict.

Where two helpers look alike they differ in meaning, and each name says which:
- `utc` shows a moment to the second (file times, backup runs); `utc_minutes` to the minute,
  as ClamAV's database headers give their build time (the malware rows).
- `ran` is None when the command's program is not installed (the logs and time rows judge that
  absence); `probed` returns the result even then (rc None, the reason in stderr: the gather
  records a clamd it did not ask that way).
- `enabled_units` is Unreadable without systemd (a control that needs the units cannot be
  judged); `enabled_units_if_systemd` is None then (SW-PATCHED judges a host without systemd
  on its other facts).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from lgsec import wipe
from lgsec.catalog import ROOT
from lgsec.checks import Ctx, Unreadable, Verdict

DAY = 86400
ENABLED_UNITS = "enabled unit files"  # lgsec_linux_facts: the units enabled in /etc/systemd/system
SHOWN = 10  # offending names spelled out in `actual`; the full list goes to the row's details


def shown(names: list[str]) -> str:
    head = ", ".join(names[:SHOWN])
    return head + (f" … and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def verdict(problems: list[str], expected: str, ok: str, evidence: list[str]) -> Verdict:
    """pass when there is no problem, else fail listing the problems as the actual value."""
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence)
    return Verdict("pass", expected, ok, evidence)


def utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_minutes(when: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))


def ran(ctx: Ctx, name: str) -> dict | None:
    """A gathered command's result whatever its exit code (the code is part of the evidence:
    `systemctl is-active` exits 3 for inactive, chronyc 1 when chronyd is down). None when its
    program is not installed; Unreadable when it was not run or could not be run."""
    if name in ctx.facts.get("errors", {}):
        raise Unreadable(f"{name}: {ctx.facts['errors'][name]}")
    result = ctx.facts.get("commands", {}).get(name)
    if result is None:
        raise Unreadable(f"{name}: not gathered")
    return None if result["rc"] is None else result


def probed(ctx: Ctx, name: str) -> dict:
    """A gathered probe whatever its exit status (rc None: not run, the reason in stderr)."""
    if name in ctx.facts.get("errors", {}):
        raise Unreadable(f"{name}: {ctx.facts['errors'][name]}")
    result = ctx.facts.get("commands", {}).get(name)
    if result is None:
        raise Unreadable(f"{name}: not gathered")
    return result


def enabled_units_if_systemd(ctx: Ctx) -> set[str] | None:
    """Unit files enabled to start (services, sockets, timers); None when the host has no systemctl."""
    result = ctx.command(ENABLED_UNITS)
    if result is None:
        return None
    return {line.split()[0] for line in result["stdout"].splitlines() if line.strip()}


def enabled_units(ctx: Ctx) -> set[str]:
    """Unit files enabled to start; without systemd these controls cannot be judged."""
    units = enabled_units_if_systemd(ctx)
    if units is None:
        raise Unreadable(f"{ENABLED_UNITS}: systemctl is not installed (no systemd): enabled units unknown")
    return units


# ---- WIPE-RECORDED (第20条, 第26条): the same records judge a Linux and a Windows host ----------


def disposal_verdict(ctx: Ctx) -> Verdict:
    """A host marked lgsec_decommissioned must have every disk it names erased and recorded
    (playbooks/decommission.yml); a host in service is not applicable. Judged from the records on
    the controller, so a host already erased (unreachable) is still judged."""
    expected = "every data disk erased, verified and recorded (date, operator, approver, method) before disposal"
    if not ctx.hostvars.get("lgsec_decommissioned"):
        return Verdict("not_applicable", expected, "in service (lgsec_decommissioned not set)")
    path = Path(ctx.params["record_file"])
    path = path if path.is_absolute() else ROOT / path
    found = wipe.records(path, ctx.host)
    last: dict[str, dict] = {}
    for record in found:  # the latest record of each device decides
        last[record.get("device", "")] = record
    devices = ctx.hostvars.get("lgsec_decommission_devices") or sorted(last)
    evidence = [
        f"{path}: {r['recorded_at']} {r['device']} serial {r.get('serial') or '-'} {r['method']} by "
        f"{r['operator']}, approved by {r['approver']}: {r['result']}"
        for r in found
    ] or [f"{path}: no record of {ctx.host}"]
    problems = []
    for device in devices:
        record = last.get(device)
        if record is None:
            problems.append(f"{device}: no disposal record")
        elif record["result"] != "erased":
            problems.append(f"{device}: last erasure {record['result']}")
        elif record["approver"] == record["operator"]:
            problems.append(f"{device}: approved by its own operator")
    if not devices:
        problems.append("no disk recorded as erased")
    return verdict(problems, expected, f"erased and recorded: {', '.join(devices)}", evidence)
