"""Windows checks: logs and time (section E)."""

from __future__ import annotations

import re

from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import verdict

LOGS = ("Application", "Security", "System")
EVENTLOG_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\EventLog"
EVENTLOG_SERVICE = r"HKLM\SYSTEM\CurrentControlSet\Services\EventLog"
LSA = r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa"

# Advanced audit policy subcategories by GUID (auditpol /list /subcategory:* /v; the same GUIDs
# on every language): (name for the report, bits required: 1 success, 2 failure).
AUDIT = {
    "logon": {
        "0cce9215-69ae-11d9-bed3-505054503030": ("Logon", 3),
        "0cce9216-69ae-11d9-bed3-505054503030": ("Logoff", 1),
        "0cce9217-69ae-11d9-bed3-505054503030": ("Account Lockout", 2),
        "0cce921b-69ae-11d9-bed3-505054503030": ("Special Logon", 1),
        "0cce923f-69ae-11d9-bed3-505054503030": ("Credential Validation", 3),
    },
    "account_change": {
        "0cce9235-69ae-11d9-bed3-505054503030": ("User Account Management", 3),
        "0cce9237-69ae-11d9-bed3-505054503030": ("Security Group Management", 1),
    },
    "privilege_use": {
        "0cce9228-69ae-11d9-bed3-505054503030": ("Sensitive Privilege Use", 3),
    },
    "policy_change": {
        "0cce922f-69ae-11d9-bed3-505054503030": ("Audit Policy Change", 1),
        "0cce9230-69ae-11d9-bed3-505054503030": ("Authentication Policy Change", 1),
    },
}
BITS = {0: "No Auditing", 1: "Success", 2: "Failure", 3: "Success and Failure"}


def log_setting(ctx: Ctx, log: str) -> tuple[int | None, str, str | None, str]:
    """(max size in KB, where; archive-when-full and retain, where). Group Policy
    (HKLM\\SOFTWARE\\Policies\\...\\EventLog\\<log>: MaxSize in KB, Retention and
    AutoBackupLogFiles as REG_SZ "1" — EventLog.admx) wins over the service's own key (MaxSize in
    bytes, Retention and AutoBackupLogFiles as DWORDs; Retention 0xFFFFFFFF = never overwrite)."""
    policy, service = f"{EVENTLOG_POLICY}\\{log}", f"{EVENTLOG_SERVICE}\\{log}"
    size = win.policy_value(ctx, "MaxSize", policy, service)
    size_kb, size_where = None, size.where
    if size.value is not None:
        size_kb = int(size.value) if size.by_policy else int(size.value) // 1024
        size_where += " KB" if size.by_policy else " bytes"
    backup_p, retain_p = win.reg_value(ctx, policy, "AutoBackupLogFiles"), win.reg_value(ctx, policy, "Retention")
    if backup_p is not None or retain_p is not None:
        archive = str(backup_p) == "1" and str(retain_p) == "1"
        where = f"{policy}: AutoBackupLogFiles {backup_p}, Retention {retain_p}"
    else:
        backup_s, retain_s = win.reg_value(ctx, service, "AutoBackupLogFiles"), win.reg_value(ctx, service, "Retention")
        archive = backup_s == 1 and retain_s in (0xFFFFFFFF, -1)
        where = f"{service}: AutoBackupLogFiles {backup_s}, Retention {retain_s}"
    return size_kb, size_where, "archive" if archive else None, where


@check(
    "LOG-RETENTION",
    "windows",
    files=(
        "registry/03-policies.reg",
        "registry/05-eventlog-application.reg",
        "registry/06-eventlog-security.reg",
        "registry/07-eventlog-system.reg",
    ),
)
def log_retention(ctx: Ctx) -> Verdict:
    """Each of Application, Security, System at least windows_max_kb and archived when full
    (never overwritten: the period of 第55条 cannot be guaranteed by a size alone)."""
    want = ctx.params["windows_max_kb"]
    evidence, problems = [], []
    for log in LOGS:
        size, size_where, archive, where = log_setting(ctx, log)
        evidence += [size_where, where]
        if size is None or size < want:
            problems.append(f"{log} log {size} KB")
        if archive is None:
            problems.append(f"{log} log overwrites old events (not archived when full)")
    expected = f"Application, Security, System logs >= {want} KB, archived when full (AutoBackupLogFiles)"
    return verdict(problems, expected, f"the three logs >= {want} KB, archived when full", evidence)


@check("LOG-AUDIT", "windows", files=("auditpol.csv", "registry/01-lsa.reg"))
def log_audit(ctx: Ctx) -> Verdict:
    try:
        policy = win.parse_auditpol(ctx.file("auditpol.csv"))
    except ValueError as exc:
        raise Unreadable(f"auditpol.csv: {exc}") from exc
    evidence, problems = [], []
    force = win.reg_value(ctx, LSA, "SCENoApplyLegacyAuditPolicy")
    evidence.append(win.reg_where(LSA, "SCENoApplyLegacyAuditPolicy", force))
    if force != 1:
        problems.append("SCENoApplyLegacyAuditPolicy not 1 (category settings may override subcategories)")
    for event in ctx.params["events"]:
        for guid, (name, bits) in AUDIT.get(event, {}).items():
            found = policy.get(guid)
            if found is None:
                problems.append(f"{name} {{{guid}}} not in auditpol.csv")
                continue
            local, value, text = found
            if value is None:
                raise Unreadable(
                    f"auditpol.csv: {{{guid}}} setting {text!r} in an unknown language (use auditpol /backup)"
                )
            evidence.append(f"auditpol.csv: {{{guid}}} {local} = {value} ({text})")
            if value & bits != bits:
                problems.append(f"{name}: {BITS[value]} (want {BITS[bits]})")
    unknown = [e for e in ctx.params["events"] if e not in AUDIT]
    if unknown:
        problems.append(f"events without a Windows mapping: {', '.join(unknown)}")
    expected = f"advanced audit policy records {', '.join(ctx.params['events'])} (by subcategory GUID)"
    return verdict(problems, expected, "every required subcategory audited", evidence)


W32TIME = r"HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
W32TIME_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\W32Time\Parameters"
OFFSET_RE = re.compile(r"^\s*\d{1,2}:\d{2}:\d{2},\s*([+-]\d+(?:\.\d+)?)s\s*$", re.M)


def offset_ms(text: str) -> float:
    """The first sample of `w32tm /stripchart /dataonly` ('10:00:00, +00.0012345s'); the lines
    around it are in the display language and ignored."""
    m = OFFSET_RE.search(text)
    if not m:
        error = re.search(r"^\s*\d{1,2}:\d{2}:\d{2},\s*(.+)$", text, re.M)
        raise Unreadable(f"timeoffset.txt: no offset sample ({error.group(1).strip() if error else 'empty'})")
    return float(m.group(1)) * 1000


HOSTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9](,0x[0-9a-fA-F]+)?$")


@check(
    "TIME-SYNC",
    "windows",
    files=("registry/03-policies.reg", "registry/08-w32time.reg", "services.json", "timeoffset.txt", "timesource.txt"),
)
def time_sync(ctx: Ctx) -> Verdict:
    """w32time's sources and the measured clock offset, each value Group Policy first
    (W32Time.admx: Policies\\Microsoft\\W32Time\\Parameters). Type NTP/AllSync: the NtpServer
    list is used and judged. Type NT5DS (a domain member): NtpServer is unused — the client
    follows the domain hierarchy (learn.microsoft.com/windows-server/networking/windows-time-
    service/how-the-windows-time-service-works) — so the source is the one w32tm reports
    (`w32tm /query /source`, timesource.txt: the domain controller) and the offset is measured
    against it. The service is trigger-start (it starts on domain join or network and stops
    again on a workgroup PC, learn.microsoft.com/windows-server/networking/windows-time-service/
    windows-time-service-tools-and-settings): Stopped is normal, Disabled is not."""
    servers, max_ms = ctx.params["servers"], ctx.params["max_offset_ms"]
    win.as_of(ctx)
    evidence, problems = [], []
    kind, where, _ = win.policy_value(ctx, "Type", W32TIME_POLICY, W32TIME)
    evidence.append(where)
    wanted = {s.casefold() for s in servers}
    if kind == "NT5DS":
        source = (
            ctx.file("timesource.txt").strip().splitlines()[0].strip() if ctx.file("timesource.txt").strip() else ""
        )
        evidence.append(f"timesource.txt (w32tm /query /source): {source!r}")
        if not HOSTNAME_RE.match(source):
            problems.append(f"domain member without a domain time source ({source or 'none'}): local clock")
        elif servers and source.split(",", 1)[0].casefold() not in wanted:
            problems.append(f"source {source} not in the list")
        peers = [f"{source} (domain hierarchy, NT5DS)"]
    else:
        ntp, where, _ = win.policy_value(ctx, "NtpServer", W32TIME_POLICY, W32TIME)
        evidence.append(where)
        peers = [p.split(",", 1)[0] for p in str(ntp or "").split() if p]
        if kind not in ("NTP", "AllSync"):
            problems.append(f"Type {kind} (NTP or AllSync uses the configured servers)")
        if not peers:
            problems.append("no NTP server configured")
        elif servers:
            other = [p for p in peers if p.casefold() not in wanted]
            if other:
                problems.append("sources not in the list: " + ", ".join(other))
    service = {str(s.get("Name", "")).casefold(): s for s in win.records(ctx, "services.json")}.get("w32time")
    state = f"{service.get('Status')}, start {service.get('StartType')}" if service else "absent"
    evidence.append(f"services.json: W32Time {state}")
    if service is None or str(service.get("StartType")) in ("Disabled", "4"):
        problems.append(f"W32Time {state}")
    offset = offset_ms(ctx.file("timeoffset.txt"))
    evidence.append(f"timeoffset.txt: offset {offset:+.1f} ms")
    if abs(offset) > max_ms:
        problems.append(f"clock offset {offset:+.0f} ms")
    expected = f"w32time on {', '.join(servers) or 'its configured servers'}, offset within {max_ms} ms"
    return verdict(problems, expected, f"w32time on {', '.join(peers)}, offset {offset:+.1f} ms", evidence)
