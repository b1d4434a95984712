"""Linux checks: logs and time (CONTROLS.md section E) — LOG-RETENTION, LOG-AUDIT, LOG-CENTRAL,
TIME-SYNC (第55条, 第94条).

The configuration formats read here (systemd drop-ins, logrotate, audit rules, rsyslog, chrony)
are parsed in lgsec/parse_logs.py; every value keeps the file and line it came from.
"""

from __future__ import annotations

import math
import re

from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import DAY, ran, verdict
from lgsec.parse import Setting
from lgsec.parse_logs import (
    _INCLUDE_D_RE,
    CHRONY_CONFS,
    LOGROTATE,
    AuditRule,
    _strip_comments,
    audit_rules,
    chrony_sources,
    ini_section,
    logrotate,
    rsyslog_forwards,
    systemctl_blocks,
    timespan,
    tracking,
)


def first_line(result: dict) -> str:
    text = (result.get("stdout") or "").strip() or (result.get("stderr") or "").strip()
    return text.splitlines()[0] if text else f"exit {result['rc']}, no output"


def dropins(ctx: Ctx, dirs: tuple[str, ...], suffix: str) -> list[tuple[str, str]]:
    """systemd drop-in files in the order they apply: by file name across the directories; a
    name in a later directory of `dirs` (higher priority) hides the same name in earlier ones."""
    by_name: dict[str, tuple[str, str]] = {}
    for folder in dirs:
        for path, text in ctx.files(folder).items():
            name = path[len(folder) :]
            if "/" not in name and name.endswith(suffix):
                by_name[name] = (path, text)
    return [by_name[name] for name in sorted(by_name)]


def days_text(days: float) -> str:
    if math.isinf(days):
        return "unlimited"
    return f"{days:.0f}" if abs(days - round(days)) < 0.05 else f"{days:.1f}"


# ---- LOG-RETENTION ------------------------------------------------------------------------

JOURNALD = "/etc/systemd/journald.conf"
JOURNALD_DIRS = ("/usr/lib/systemd/journald.conf.d/", "/run/systemd/journald.conf.d/", "/etc/systemd/journald.conf.d/")
# The files rsyslog writes the system's messages to (Debian, RHEL): their stanza is judged.
SYSLOG_FILES = ("/var/log/syslog", "/var/log/messages", "/var/log/auth.log", "/var/log/secure")


def journald(ctx: Ctx) -> dict[str, Setting]:
    """journald's [Journal] settings: journald.conf, then the drop-ins (a later one wins)."""
    values: dict[str, Setting] = {}
    text = ctx.file(JOURNALD, required=False)
    if text is not None:
        values.update(ini_section(text, JOURNALD, "Journal"))
    for path, extra in dropins(ctx, JOURNALD_DIRS, ".conf"):
        values.update(ini_section(extra, path, "Journal"))
    return values


@check(
    "LOG-RETENTION",
    "linux",
    files=(
        "/etc/systemd/journald.conf",
        "/usr/lib/systemd/journald.conf.d/*.conf",
        "/run/systemd/journald.conf.d/*.conf",
        "/etc/systemd/journald.conf.d/*.conf",
        "/etc/logrotate.conf",
        "/etc/logrotate.d/*",
    ),
    commands=("journal directories",),
)
def log_retention(ctx: Ctx) -> Verdict:
    days, max_use = ctx.params["days"], ctx.params["journal_max_use"]
    expected = (
        f"journald keeps its journal on disk (Storage=persistent, or auto with /var/log/journal), "
        f"MaxRetentionSec 0 or >= {days} days"
        + (f", SystemMaxUse={max_use}" if max_use else "")
        + f"; logrotate keeps >= {days} days (global default and the syslog files)"
    )
    problems: list[str] = []
    evidence: list[str] = []
    actual: list[str] = []

    # journald
    values = journald(ctx)
    listing = ran(ctx, "journal directories")
    if listing is None or listing["rc"] != 0:
        raise Unreadable(
            "journal directories: " + ("find is not installed" if listing is None else first_line(listing))
        )
    journal_dirs = listing["stdout"].split()
    has_dir = "/var/log/journal" in journal_dirs
    evidence.append(f"find /var/log -path '/var/log/journal*': {', '.join(journal_dirs) or 'none'}")
    storage = values.get("Storage")
    mode = storage.value.lower() if storage else "auto"
    evidence.append(f"{storage.where}: Storage={storage.value}" if storage else "Storage unset (default auto)")
    if mode == "persistent" or (mode == "auto" and has_dir):
        actual.append(f"journal Storage={mode}" + (" with /var/log/journal" if mode == "auto" else ""))
    elif mode == "auto":
        problems.append(
            "journald Storage=auto without /var/log/journal: the journal is kept in /run and lost at reboot"
        )
    else:
        problems.append(f"journald Storage={storage.value}: the journal is not kept on disk")
    retention = values.get("MaxRetentionSec")
    if retention is None:
        evidence.append("MaxRetentionSec unset (default 0: no age limit)")
        actual.append("MaxRetentionSec unset")
    else:
        evidence.append(f"{retention.where}: MaxRetentionSec={retention.value}")
        try:
            seconds = timespan(retention.value)
        except ValueError as exc:
            problems.append(f"journald MaxRetentionSec={retention.value}: {exc}")
        else:
            if 0 < seconds < days * DAY:
                kept = days_text(seconds / DAY)
                problems.append(f"journald MaxRetentionSec={retention.value} = {kept} days ({retention.where})")
            else:
                actual.append(f"MaxRetentionSec={retention.value}")
    use = values.get("SystemMaxUse")
    evidence.append(f"{use.where}: SystemMaxUse={use.value}" if use else "SystemMaxUse unset (journald's default cap)")
    if max_use and (use is None or use.value.lower() != max_use.lower()):
        problems.append(f"journald SystemMaxUse={use.value if use else 'unset'} (expected {max_use})")
    elif not max_use:  # the oldest entries go when the cap is reached: said, not judged
        cap = use.value if use else "journald's default"
        actual.append(f"size cap {cap} (not judged: lgsec_log_retention_journal_max_use unset)")

    # logrotate
    rotation = logrotate(ctx)
    if rotation is None:
        evidence.append(f"{LOGROTATE}: not present (logrotate not installed: no text log is rotated away)")
        actual.append("logrotate not installed")
    else:
        defaults, stanzas = rotation
        judged = [("logrotate default", "logrotate default", defaults)]
        judged += [
            (f"logrotate {s.where} ({' '.join(s.paths)})", f"logrotate {s.where}", s)
            for s in stanzas
            if set(s.paths) & set(SYSLOG_FILES)
        ]
        if len(judged) == 1:
            evidence.append("no logrotate stanza for the syslog files " + ", ".join(SYSLOG_FILES))
        for label, short, block in judged:
            kept, how = block.retention()
            evidence.append(f"{label}: {how} ({block.cited() or 'built-in defaults'})")
            if kept is None:
                problems.append(f"{short}: {how}: the period kept depends on the volume")
            elif kept < days:
                problems.append(f"{short}: {how} = {days_text(kept)} days")
            else:
                actual.append(f"{short}: {how} = {days_text(kept)} days")
    return verdict(problems, expected, "; ".join(actual), evidence)


# ---- LOG-AUDIT ----------------------------------------------------------------------------

AUDIT_RULES_DIR = "/etc/audit/rules.d/"


# What each event kind of lgsec_log_audit_events needs, as (what, accepted paths, permission):
# one watch on any of the accepted paths is enough. Kept in step with roles/logging's rules.
LOGIN_RECORDS = ("/var/log/wtmp", "/var/log/lastlog", "/var/log/wtmp.db", "/var/lib/lastlog/lastlog2.db")
FAILED_LOGIN_RECORDS = ("/var/log/btmp", "/run/faillock")
AUDIT_EVENTS: dict[str, tuple[tuple[str, tuple[str, ...], str], ...]] = {
    "logon": (
        ("logins in wtmp/lastlog", LOGIN_RECORDS, "w"),
        ("failures in btmp/faillock", FAILED_LOGIN_RECORDS, "w"),
    ),
    "account_change": tuple(
        (p, (p,), "w") for p in ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/security/opasswd")
    ),
    "privilege_use": (
        ("/etc/sudoers", ("/etc/sudoers",), "w"),
        ("/etc/sudoers.d", ("/etc/sudoers.d",), "w"),
        ("runs of sudo", ("/usr/bin/sudo",), "x"),
    ),
    "policy_change": (
        ("/etc/audit", ("/etc/audit",), "w"),
        ("/etc/pam.d", ("/etc/pam.d",), "w"),
        ("/etc/login.defs", ("/etc/login.defs",), "w"),
    ),
}
SSHD_CONFIG = ("/etc/ssh/sshd_config", ("/etc/ssh/sshd_config",), "w")


def audit_gaps(rules: list[AuditRule], events: list[str], sshd: bool) -> tuple[list[str], list[str]]:
    """(per event kind, what is not recorded: "account_change (/etc/shadow, /etc/gshadow)";
    evidence of what is)."""
    missing, found = [], []
    for event in events:
        needs = AUDIT_EVENTS[event] + ((SSHD_CONFIG,) if event == "policy_change" and sshd else ())
        gaps = []
        for what, paths, perm in needs:
            rule = next((r for r in rules for p in paths if r.covers(p, perm)), None)
            if rule is None and what == "runs of sudo":
                rule = next((r for r in rules if r.elevated_exec), None)
            if rule is None:
                gaps.append(what)
            else:
                found.append(f"{event} ({what}): {rule.where}: {rule.text}")
        if gaps:
            missing.append(f"{event} ({', '.join(gaps)})")
    return missing, found


ACCT_UNITS = "systemctl show acct"  # lgsec_linux_facts: acct.service (Debian), psacct.service (RHEL)
VIRT = "systemd-detect-virt --container"


def unit_blocks(stdout: str) -> dict[str, dict[str, str]]:
    """`systemctl show` of several units: Id → its properties (the first value of each)."""
    return {unit: {k: v[0] for k, v in props.items()} for unit, props in systemctl_blocks(stdout).items()}


def process_accounting(ctx: Ctx, problems: list[str], evidence: list[str]) -> str:
    """Process accounting (第55条1): the acct/psacct package's service (its unit is the package's)
    enabled and active (accton turned the kernel's accounting on). In a container the kernel's
    accounting is its host's (accton: Operation not permitted): the row says so and does not pass."""
    shown = ran(ctx, ACCT_UNITS)
    if shown is None or shown["rc"] != 0:
        raise Unreadable(f"{ACCT_UNITS}: {first_line(shown) if shown else 'systemctl is not installed'}")
    units = {u: p for u, p in unit_blocks(shown["stdout"]).items() if p.get("LoadState") == "loaded"}
    if not units:
        problems.append("process accounting not installed (acct / psacct: no acct.service or psacct.service)")
        evidence.append(f"{ACCT_UNITS}: neither unit loaded")
        return "no process accounting"
    unit, props = next(iter(units.items()))
    state = f"{props.get('ActiveState')}/{props.get('SubState')}, result {props.get('Result')}"
    evidence.append(f"{ACCT_UNITS}: {unit} {props.get('UnitFileState')}, {state}")
    if props.get("UnitFileState") not in ("enabled", "enabled-runtime", "static", "alias"):
        problems.append(f"{unit} is not enabled ({props.get('UnitFileState') or 'unknown'})")
    if props.get("ActiveState") == "active":
        return f"process accounting on ({unit} {props.get('UnitFileState')}, active)"
    virt = ran(ctx, VIRT)
    container = virt["stdout"].strip() if virt and virt["rc"] == 0 else ""
    if container:
        problems.append(
            f"process accounting cannot be shown on: this host is a {container} container, whose kernel accounting "
            f"is its host's ({unit} {state})"
        )
    else:
        problems.append(f"process accounting is not on ({unit} {state})")
    return "process accounting off"


@check(
    "LOG-AUDIT",
    "linux",
    files=("/etc/audit/rules.d/*.rules",),
    commands=(
        "auditctl -l",
        "systemctl is-enabled auditd",
        "systemctl is-active auditd",
        "sshd -T",
        ACCT_UNITS,
        VIRT,
    ),
)
def log_audit(ctx: Ctx) -> Verdict:
    events = list(ctx.params["events"])
    expected = f"auditd enabled and running; audit rules record {', '.join(events)}"
    if ctx.params["process_accounting"]:
        expected += "; process accounting (acct) enabled and on"
    unknown = [e for e in events if e not in AUDIT_EVENTS]
    if unknown:
        return Verdict(
            "error",
            expected,
            f"lgsec_log_audit_events: unknown event kind(s) {', '.join(unknown)} (known: {', '.join(AUDIT_EVENTS)})",
            ["catalog LOG-AUDIT events"],
        )
    problems, evidence, actual = [], [], []
    if ctx.params["process_accounting"]:
        actual.append(process_accounting(ctx, problems, evidence))
    listed = ran(ctx, "auditctl -l")
    if listed is None:
        problems.insert(0, "auditd is not installed")
        return Verdict("fail", expected, "; ".join(problems), ["auditctl: not installed", *evidence])
    enabled = ran(ctx, "systemctl is-enabled auditd")
    if enabled is None:
        raise Unreadable("systemctl is not available: cannot tell whether auditd starts at boot")
    state = first_line(enabled)
    evidence.append(f"systemctl is-enabled auditd: {state}")
    if state in ("enabled", "enabled-runtime", "static", "alias"):
        actual.append(f"auditd {state}")
    else:
        problems.append(f"auditd is not enabled ({state})")
    sshd_result = ctx.facts.get("commands", {}).get("sshd -T")
    sshd = bool(sshd_result and sshd_result.get("rc") is not None)

    files = {p: t for p, t in ctx.files(AUDIT_RULES_DIR).items() if p.endswith(".rules")}
    file_rules: list[AuditRule] = []
    for path in sorted(files):  # augenrules joins them in this order
        audit_rules(files[path], path, file_rules)
    missing, found = audit_gaps(file_rules, events, sshd)
    evidence.append(f"rules files: {', '.join(sorted(files)) or 'none in ' + AUDIT_RULES_DIR}")
    if missing:
        problems.append(f"rules files do not record {'; '.join(missing)}")
    if not missing:
        actual.append(f"rules files record {', '.join(events)}")

    if listed["rc"] == 0:  # the kernel's rules could be read: they are what is recorded now
        active = ran(ctx, "systemctl is-active auditd")
        running = first_line(active) if active else "unknown"
        evidence.append(f"systemctl is-active auditd: {running}")
        if running != "active":
            problems.append(f"auditd is not running ({running})")
        stdout = "" if listed["stdout"].strip() == "No rules" else listed["stdout"]
        loaded = audit_rules(stdout, "auditctl -l")
        loaded_missing, loaded_found = audit_gaps(loaded, events, sshd)
        if loaded_missing:
            problems.append(f"loaded rules (auditctl -l) do not record {'; '.join(loaded_missing)}")
        evidence += loaded_found
        evidence.append(f"auditctl -l: {len(loaded)} rules loaded")
        if not loaded_missing:
            actual.append(f"loaded rules record {', '.join(events)}")
    else:
        evidence += found
        note = first_line(listed)
        evidence.append(f"auditctl -l: {note} (the kernel's rules cannot be read here: judged on the rules files)")
        actual.append(f"loaded rules and auditd's running state not readable here (auditctl -l: {note})")
    return verdict(problems, expected, "; ".join(actual), evidence)


# ---- LOG-CENTRAL --------------------------------------------------------------------------

RSYSLOG = "/etc/rsyslog.conf"
RSYSLOG_DIR = "/etc/rsyslog.d/"
LGSEC_FORWARD = RSYSLOG_DIR + "90-lgsec-forward.conf"  # roles/logging writes it (lgsec_logging_rsyslog_forward)


def log_hosts(hosts: list[str], port: int) -> list[tuple[str, int]]:
    """(host, port) of each entry of lgsec_log_central_hosts: "host" or "host:port"."""
    out = []
    for entry in hosts:
        host, sep, custom = str(entry).rpartition(":")
        if sep and custom.isdigit() and ":" not in host:
            out.append((host, int(custom)))
        else:
            out.append((str(entry), port))
    return out


@check(
    "LOG-CENTRAL",
    "linux",
    files=("/etc/rsyslog.conf", "/etc/rsyslog.d/*.conf"),
    commands=("systemctl is-active rsyslog",),
)
def log_central(ctx: Ctx) -> Verdict:
    hosts, protocol, port = ctx.params["hosts"], ctx.params["protocol"], ctx.params["port"]
    if not hosts:
        expected = "logs forwarded to the log hosts, when the inventory names them"
        left = ctx.files(RSYSLOG_DIR).get(LGSEC_FORWARD)
        if left is not None:  # roles/logging removes it when the inventory names no log host
            targets = ", ".join(f.target for f in rsyslog_forwards(left, LGSEC_FORWARD)) or "no forwarding action"
            return Verdict(
                "fail",
                expected + "; none to a host it no longer names",
                f"no log host configured, but lgsec's forwarding {LGSEC_FORWARD} is still in place ({targets})",
                ["lgsec_log_central_hosts: []", f"{LGSEC_FORWARD}: present"],
            )
        return Verdict(
            "not_applicable",
            expected,
            "no log host configured (lgsec_log_central_hosts is empty)",
            ["lgsec_log_central_hosts: []", f"{LGSEC_FORWARD}: not present"],
        )
    wanted = log_hosts(hosts, port)
    expected = (
        "rsyslog running and forwarding all messages to "
        + ", ".join(f"{h}:{p}/{protocol}" for h, p in wanted)
        + " (第55条3: reviewed on the log host)"
    )
    conf = ctx.file(RSYSLOG, required=False)
    if conf is None:
        return Verdict("fail", expected, "rsyslog is not installed", [f"{RSYSLOG}: not present"])
    files = {RSYSLOG: conf}
    if _INCLUDE_D_RE.search(_strip_comments(conf)):
        files.update({p: t for p, t in ctx.files(RSYSLOG_DIR).items() if p.endswith(".conf")})
    forwards = [fwd for path in sorted(files) for fwd in rsyslog_forwards(files[path], path)]
    problems, evidence, actual = [], [], []
    active = ran(ctx, "systemctl is-active rsyslog")
    running = first_line(active) if active else "systemctl not available"
    evidence.append(f"systemctl is-active rsyslog: {running}")
    if running != "active":
        problems.append(f"rsyslog is not running ({running})")
    evidence += [f"{f.where}: {f.text}" for f in forwards] or [
        f"no forwarding action in {', '.join(sorted(files))}"
        + ("" if len(files) > 1 else f" ({RSYSLOG} does not include {RSYSLOG_DIR})")
    ]
    for host, want_port in wanted:
        to_host = [f for f in forwards if f.target.lower() == host.lower()]
        good = [f for f in to_host if f.port == want_port and f.protocol == protocol and f.all_messages]
        if good:
            queue = (
                "disk-assisted queue"
                if good[0].queued
                else "no disk-assisted queue: messages are lost while it is down"
            )
            actual.append(f"{host}:{want_port}/{protocol} ({good[0].where}, {queue})")
        elif to_host:
            seen = ", ".join(f"{f.target}:{f.port}/{f.protocol} for {f.selector} ({f.where})" for f in to_host)
            problems.append(f"{host}: forwarded as {seen}, expected {want_port}/{protocol} for all messages")
        else:
            problems.append(f"no forwarding to {host}")
    return verdict(problems, expected, "rsyslog running, forwarding to " + ", ".join(actual), evidence)


# ---- TIME-SYNC ----------------------------------------------------------------------------


@check(
    "TIME-SYNC",
    "linux",
    files=(
        "/etc/chrony/chrony.conf",
        "/etc/chrony.conf",
        "/etc/chrony/conf.d/*.conf",
        "/etc/chrony/sources.d/*.sources",
        "/run/chrony-dhcp/*.sources",
    ),
    commands=("chronyc -c -N sources", "chronyc -n tracking"),
)
def time_sync(ctx: Ctx) -> Verdict:
    servers, max_ms = list(ctx.params["servers"]), ctx.params["max_offset_ms"]
    expected = (
        f"chrony synchronised to {', '.join(servers)} (only these sources)"
        if servers
        else "chrony synchronised to a configured NTP source (none set in lgsec_time_sync_servers)"
    ) + f", offset <= {max_ms} ms"
    track = ran(ctx, "chronyc -n tracking")
    if track is None:
        return Verdict("fail", expected, "chrony is not installed", ["chronyc: not installed"])
    main, sources, notes = chrony_sources(ctx)
    problems, actual = [], []
    evidence = [f"{s.where}: {s.kind} {s.name}" for s in sources] + notes
    if main is None:
        problems.append(f"no chrony configuration ({' or '.join(CHRONY_CONFS)})")
        evidence.append(f"{' and '.join(CHRONY_CONFS)}: not present")
    names = {s.name.lower() for s in sources}
    if servers:
        absent = [s for s in servers if s.lower() not in names]
        if absent:
            problems.append(f"not configured: {', '.join(absent)}")
        extra = [s for s in sources if s.name.lower() not in {x.lower() for x in servers}]
        if extra:
            problems.append("other sources configured: " + ", ".join(f"{s.kind} {s.name} ({s.where})" for s in extra))
    elif main and not sources:
        problems.append(f"no NTP server configured in {main} and none in the inventory (lgsec_time_sync_servers)")
    if track["rc"] != 0:
        problems.append(f"chronyd is not running ({first_line(track)})")
        evidence.append(f"chronyc -n tracking: {first_line(track)}")
        return verdict(problems, expected, "", evidence)
    info = tracking(track["stdout"])
    leap, ref = info.get("Leap status", "?"), info.get("Reference ID", "?")
    evidence.append(f"chronyc -n tracking: Reference ID {ref}, Stratum {info.get('Stratum', '?')}, Leap status {leap}")
    ref_id = ref.split()[0] if ref != "?" else ""
    if leap != "Normal" or ref_id in ("", "00000000"):
        problems.append(f"not synchronised (Leap status {leap}, Reference ID {ref})")
    elif ref_id == "7F7F0101":
        problems.append("synchronised to its own clock only (local reference 7F7F0101)")
    system_time = re.match(r"([\d.]+) seconds (fast|slow)", info.get("System time", ""))
    if system_time:
        offset_ms = float(system_time.group(1)) * 1000
        evidence.append(f"chronyc -n tracking: System time {info['System time']}")
        if offset_ms > max_ms:
            problems.append(f"clock offset {offset_ms:.0f} ms")
    else:
        problems.append("chronyc tracking shows no System time offset")
    listed = ran(ctx, "chronyc -c -N sources")
    rows = [line.split(",") for line in (listed or {}).get("stdout", "").splitlines() if line.count(",") >= 2]
    selected = [r[2] for r in rows if r[1] == "*"]
    evidence += [f"chronyc -c -N sources: {','.join(r[:7])}" for r in rows]
    if rows and not selected:
        problems.append("no source selected (chronyc sources shows no '*')")
    live_extra = [r[2] for r in rows if servers and r[2].lower() not in {x.lower() for x in servers}]
    if live_extra:
        problems.append(f"chronyd also uses {', '.join(sorted(set(live_extra)))}")
    if selected and servers and selected[0].lower() not in {x.lower() for x in servers}:
        problems.append(f"synchronised to {selected[0]}, not to lgsec_time_sync_servers")
    if selected:
        actual.append(f"synchronised to {selected[0]}")
    actual.append(f"Leap status {leap}")
    if system_time:
        actual.append(f"offset {float(system_time.group(1)) * 1000:.3f} ms {system_time.group(2)}")
    return verdict(problems, expected, ", ".join(actual), evidence)
