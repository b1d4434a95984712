"""Linux checks: data at rest and backup (CONTROLS.md section H) — disk encryption of mobile
PCs, a recent good backup, the disposal wipe's record."""

from __future__ import annotations

import json

from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import DAY, disposal_verdict, utc, verdict

# Mount points that cannot sit on an encrypted volume in a standard install (the firmware and
# the boot loader read them before any key is entered).
BOOT_MOUNTS = ("/boot", "/boot/efi", "/efi")


def flag(value) -> bool:
    """lsblk's RM/HOTPLUG: JSON booleans (util-linux >= 2.33) or "0"/"1"."""
    return value in (True, "1", 1)


def block_chains(devices: list[dict]) -> dict[str, list[list[dict]]]:
    """Mount point → every chain of devices from a disk down to the one mounted there (a device
    with two parents, an LVM volume on two disks, has two chains)."""
    chains: dict[str, list[list[dict]]] = {}

    def walk(node: dict, above: list[dict]):
        chain = [*above, node]
        points = node.get("mountpoints")
        if points is None:
            points = [node.get("mountpoint")]
        for point in points:
            if point:
                chains.setdefault(point, []).append(chain)
        for child in node.get("children") or []:
            walk(child, chain)

    for device in devices:
        walk(device, [])
    return chains


def describe(chain: list[dict]) -> str:
    parts = []
    for node in reversed(chain):
        kind = " ".join(x for x in (node.get("type"), node.get("fstype")) if x)
        parts.append(f"{node.get('name')} ({kind})")
    return " ← ".join(parts)


@check("DISK-ENCRYPTED", "linux", files=("/etc/crypttab",), commands=("lsblk -J -p", "findmnt /"))
def disk_encrypted(ctx: Ctx) -> Verdict:
    expected = (
        "the root filesystem, every other mounted volume and swap on dm-crypt (LUKS); /boot and removable media aside"
    )
    lsblk = ctx.command("lsblk -J -p")
    findmnt = ctx.command("findmnt /")
    if lsblk is None or findmnt is None:
        raise Unreadable("lsblk/findmnt: util-linux is not installed")
    chains = block_chains(json.loads(lsblk["stdout"] or "{}").get("blockdevices", []))
    roots = json.loads(findmnt["stdout"] or "{}").get("filesystems", [])
    problems, evidence, encrypted = [], [], []
    if "/" not in chains:
        root = roots[0] if roots else {}
        source, fstype = root.get("source", "unknown"), root.get("fstype", "unknown")
        problems.append(f"/ is {fstype} from {source}: not on a block device, no encryption seen")
        evidence.append(f"findmnt /: source {source}, fstype {fstype}; lsblk lists no device mounted on /")
    for point in sorted(chains):
        if point in BOOT_MOUNTS:
            continue
        paths = chains[point]
        if any(flag(node.get("rm")) or flag(node.get("hotplug")) for chain in paths for node in chain[:1]):
            evidence.append(f"{point}: removable or hot-plug media, not judged ({describe(paths[0])})")
            continue
        evidence += [f"{point}: {describe(chain)}" for chain in paths]
        if all(any(node.get("type") == "crypt" for node in chain) for chain in paths):
            encrypted.append(point)
        else:
            problems.append(f"{point} not encrypted")
    crypttab = ctx.file("/etc/crypttab", required=False)
    for number, raw in enumerate((crypttab or "").splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            evidence.append(f"/etc/crypttab:{number}: {' '.join(line.split()[:2])}")
    return verdict(problems, expected, "encrypted: " + ", ".join(encrypted), evidence)


# ---- backup ----------------------------------------------------------------------------------


def unit_name(name: str) -> str:
    """As the gather module names it: no suffix means a service."""
    return name if name.rsplit(".", 1)[-1] in ("service", "timer") else f"{name}.service"


def show(ctx: Ctx, unit: str) -> dict[str, str]:
    result = ctx.command(f"systemctl show {unit}")
    if result is None:
        raise Unreadable(f"systemctl show {unit}: systemctl is not installed")
    return dict(line.partition("=")[::2] for line in result["stdout"].splitlines())


def stamp_time(text: str) -> int | None:
    """systemctl --timestamp=unix: "@1795637870"; empty when it never happened."""
    text = text.strip()
    return int(text[1:]) if text.startswith("@") and text[1:].isdigit() else None


def journal_success(ctx: Ctx, service: str) -> int | None:
    """When the journal last recorded the service's start job done (a oneshot service finished
    without error), in this boot or an earlier one."""
    name = f"journalctl UNIT={service} JOB_TYPE=start JOB_RESULT=done"
    result = ctx.command(name)
    if result is None:
        return None
    lines = [line for line in result["stdout"].splitlines() if line.strip()]
    if not lines:
        return None
    return int(json.loads(lines[-1])["__REALTIME_TIMESTAMP"]) // 1_000_000


def backup_job(ctx: Ctx, job: str, max_days: int, problems: list[str], evidence: list[str]) -> str:
    now = ctx.facts["collected_at"]
    unit = unit_name(job)
    props = show(ctx, unit)
    if props.get("LoadState") != "loaded":
        problems.append(f"backup job {unit} not found (LoadState={props.get('LoadState', '')})")
        evidence.append(f"systemctl show {unit}: LoadState={props.get('LoadState', '')}")
        return ""
    if unit.endswith(".timer"):
        timers, service = [unit], props.get("Unit", "")
        service_props = show(ctx, service)
    else:
        timers = [t for t in props.get("TriggeredBy", "").split() if t.endswith(".timer")]
        service, service_props = unit, props
    active = []
    for timer in timers:
        tprops = props if timer == unit else show(ctx, timer)
        evidence.append(
            f"systemctl show {timer}: ActiveState={tprops.get('ActiveState', '')}, "
            f"UnitFileState={tprops.get('UnitFileState', '')}, "
            f"last trigger {utc(last) if (last := stamp_time(tprops.get('LastTriggerUSec', ''))) else 'never'}, "
            f"next {tprops.get('NextElapseUSecRealtime') or 'none'}"
        )
        if tprops.get("ActiveState") == "active":
            active.append(timer)
    if timers and not active:
        problems.append(f"{', '.join(timers)} not active: no further backup is scheduled")
    schedule = f"scheduled by {', '.join(active)}" if active else "no systemd timer starts it"
    exit_at = stamp_time(service_props.get("ExecMainExitTimestamp", ""))
    result, status = service_props.get("Result", ""), service_props.get("ExecMainStatus", "")
    evidence.append(
        f"systemctl show {service}: Type={service_props.get('Type', '')}, Result={result}, "
        f"ExecMainStatus={status}, ExecMainExitTimestamp={utc(exit_at) if exit_at else 'none this boot'}"
    )
    successes = []
    if exit_at and result == "success" and status == "0":
        successes.append(exit_at)
    elif exit_at:
        problems.append(f"the latest run of {service} failed at {utc(exit_at)} (Result={result}, status {status})")
    if service_props.get("Type") == "oneshot":
        done = journal_success(ctx, service)
        evidence.append(f"journal: {service} last finished without error {utc(done) if done else 'never'}")
        if done:
            successes.append(done)
    if not successes:
        problems.append(f"{service} has no successful run on record")
        return schedule
    last = max(successes)
    age = (now - last) / DAY
    if age > max_days:
        problems.append(f"last good backup by {service} {age:.1f} days ago ({utc(last)})")
    return f"last good backup by {service} {age:.1f} days ago ({utc(last)}), {schedule}"


def stamp(ctx: Ctx, path: str, max_days: int, problems: list[str], evidence: list[str]) -> str:
    name = f"stat {path}"
    if name in ctx.facts.get("errors", {}):
        raise Unreadable(f"{name}: {ctx.facts['errors'][name]}")
    result = ctx.facts.get("commands", {}).get(name)
    if result is None:
        raise Unreadable(f"{name}: not gathered")
    if result["rc"] != 0:
        if "No such file" not in result["stderr"]:
            raise Unreadable(f"{name} exited {result['rc']}: {result['stderr'][:200]}")
        problems.append(f"stamp file {path} missing: the backup job never recorded a success")
        evidence.append(f"{name}: {result['stderr']}")
        return ""
    touched = int(result["stdout"].strip())
    age = (ctx.facts["collected_at"] - touched) / DAY
    evidence.append(f"{name}: modified {utc(touched)}")
    if age > max_days:
        problems.append(f"stamp file {path} {age:.1f} days old")
    return f"{path} touched {age:.1f} days ago"


@check(
    "BACKUP-RECENT",
    "linux",
    commands=("systemctl show *.service", "systemctl show *.timer", "journalctl UNIT=*", "stat /*"),
)
def backup_recent(ctx: Ctx) -> Verdict:
    job, stamp_file, max_days = (ctx.params[k] for k in ("job", "stamp_file", "max_age_days"))
    expected = f"the host's declared backup job succeeded within {max_days} days and is still scheduled"
    if not job and not stamp_file:
        evidence = ["lgsec_backup_recent_job and lgsec_backup_recent_stamp_file are empty"]
        return Verdict("fail", expected, "no backup job declared for this host", evidence)
    problems, evidence, actual = [], [], []
    if job:
        actual.append(backup_job(ctx, job, max_days, problems, evidence))
    if stamp_file:
        actual.append(stamp(ctx, stamp_file, max_days, problems, evidence))
    return verdict(problems, expected, "; ".join(a for a in actual if a), evidence)


# ---- WIPE-RECORDED (第20条, 第26条) -----------------------------------------------------------


@check("WIPE-RECORDED", "linux")
def wipe_recorded(ctx: Ctx) -> Verdict:
    return disposal_verdict(ctx)
