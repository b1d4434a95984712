"""Linux checks: logs and time (CONTROLS.md section E) — LOG-RETENTION, LOG-AUDIT, LOG-CENTRAL,
TIME-SYNC (第55条, 第94条).

The configuration formats read here (systemd drop-ins, logrotate, audit rules, rsyslog, chrony)
are parsed in this module; every value keeps the file and line it came from.
"""

from __future__ import annotations

import fnmatch
import math
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.linux import verdict
from lgsec.parse import Setting

DAY = 86400


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


def ini_section(text: str, path: str, section: str) -> dict[str, Setting]:
    """KEY=value of one section of a systemd-style ini file; an empty value resets the key."""
    out: dict[str, Setting] = {}
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if current != section or not sep:
            continue
        key, value = key.strip(), value.strip()
        if value:
            out[key] = Setting(value, path, number)
        else:
            out.pop(key, None)
    return out


# systemd.time(7) time spans; "m" is minutes and "M" months (the only case-sensitive units).
_TIMESPAN_UNITS = {
    unit: factor
    for names, factor in (
        ("usec us µs", 1e-6),
        ("msec ms", 1e-3),
        ("seconds second sec s", 1),
        ("minutes minute min m", 60),
        ("hours hour hr h", 3600),
        ("days day d", DAY),
        ("weeks week w", 7 * DAY),
        ("months month M", 2629800),  # 30.44 days
        ("years year y", 31557600),  # 365.25 days
    )
    for unit in names.split()
} | {"": 1}
_TIMESPAN_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ]*)")


def timespan(text: str) -> float:
    """Seconds of a systemd time span ("1month", "365d", "2w 3d", "3600"); ValueError if invalid."""
    text, total, pos = text.strip(), 0.0, 0
    if not text:
        raise ValueError("empty time span")
    while pos < len(text):
        match = _TIMESPAN_RE.match(text, pos)
        if not match:
            raise ValueError(f"not a time span: {text!r}")
        number, unit = match.groups()
        factor = _TIMESPAN_UNITS.get(unit, _TIMESPAN_UNITS.get(unit.lower()) if len(unit) > 1 else None)
        if factor is None:
            raise ValueError(f"unknown time unit {unit!r} in {text!r}")
        total += float(number) * factor
        pos = match.end()
    return total


def days_text(days: float) -> str:
    if math.isinf(days):
        return "unlimited"
    return f"{days:.0f}" if abs(days - round(days)) < 0.05 else f"{days:.1f}"


# ---- LOG-RETENTION ------------------------------------------------------------------------

JOURNALD = "/etc/systemd/journald.conf"
JOURNALD_DIRS = ("/usr/lib/systemd/journald.conf.d/", "/run/systemd/journald.conf.d/", "/etc/systemd/journald.conf.d/")
LOGROTATE = "/etc/logrotate.conf"
LOGROTATE_DIR = "/etc/logrotate.d"
# The files rsyslog writes the system's messages to (Debian, RHEL): their stanza is judged.
SYSLOG_FILES = ("/var/log/syslog", "/var/log/messages", "/var/log/auth.log", "/var/log/secure")
# logrotate(8) skips files in an included directory with these endings (its default tabooext).
_TABOOEXT = ",v .bak .cfsaved .disabled .dpkg-bak .dpkg-del .dpkg-dist .dpkg-new .dpkg-old .rpmnew .rpmorig .rpmsave "
LOGROTATE_TABOO = tuple((_TABOOEXT + ".swp .ucf-dist .ucf-new .ucf-old ~").split())
# Days per rotation period; a month counts as 1/12 year so that "monthly, rotate 12" is a year.
PERIODS = {"hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 365 / 12, "yearly": 365.0}
_LOGROTATE_KEYS = ("rotate", "maxage", "size", "maxsize")
_LOGROTATE_SCRIPTS = ("postrotate", "prerotate", "firstaction", "lastaction", "preremove")


@dataclass
class RotateBlock:
    """Rotation settings in effect: the global defaults, or one stanza (defaults + its own)."""

    where: str
    paths: tuple[str, ...] = ()
    settings: dict[str, Setting] = field(default_factory=dict)

    def retention(self) -> tuple[float | None, str]:
        """(days a rotated log is kept, how it was worked out); None when rotation is by size,
        so no period can be promised."""
        s = self.settings
        period = s["period"].value if "period" in s else "daily"
        rotate = int(s["rotate"].value) if "rotate" in s else 0
        how = f"{period} × rotate {rotate}" + ("" if "rotate" in s else " (unset)")
        if "size" in s:
            return None, f"rotated by size (size {s['size'].value}, {s['size'].where})"
        if "maxsize" in s:
            return None, f"rotated early by size (maxsize {s['maxsize'].value}, {s['maxsize'].where})"
        days = math.inf if rotate < 0 else rotate * PERIODS[period]
        if "maxage" in s:
            days = min(days, float(int(s["maxage"].value)))
            how += f", maxage {s['maxage'].value}"
        return days, how

    def cited(self) -> str:
        keys = [k for k in ("period", "rotate", "maxage", "size", "maxsize") if k in self.settings]
        return ", ".join(f"{self.settings[k].where} {self.settings[k].value if k == 'period' else k}" for k in keys)


def _logrotate_directive(settings: dict[str, Setting], words: list[str], path: str, number: int) -> None:
    word = words[0]
    if "=" in word and word.split("=", 1)[0] in _LOGROTATE_KEYS:  # "size=100k"
        word, value = word.split("=", 1)
        words = [word, value]
    if word in PERIODS:
        settings["period"] = Setting(word, path, number)
    elif word in _LOGROTATE_KEYS and len(words) > 1:
        settings[word] = Setting(words[1], path, number)


def logrotate(ctx: Ctx) -> tuple[RotateBlock, list[RotateBlock]] | None:
    """The global defaults and every stanza, reading /etc/logrotate.conf and what it includes
    (in order, as logrotate does). None when logrotate is not installed."""
    text = ctx.file(LOGROTATE, required=False)
    if text is None:
        return None
    defaults = RotateBlock(LOGROTATE)
    stanzas: list[RotateBlock] = []
    included = ctx.files(LOGROTATE_DIR + "/")

    def read(path: str, content: str, depth: int = 0) -> None:
        block: RotateBlock | None = None
        pending: list[str] = []
        script = False
        for number, raw in enumerate(content.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if script:
                script = line != "endscript"
                continue
            if block is not None:
                if line.startswith("}"):
                    stanzas.append(block)
                    block = None
                elif line.split()[0] in _LOGROTATE_SCRIPTS:
                    script = True
                else:
                    _logrotate_directive(block.settings, line.split(), path, number)
                continue
            if "{" in line:
                head = line.split("{", 1)[0]
                paths = tuple(pending + [p.strip("\"'") for p in head.split()])
                block = RotateBlock(f"{path}:{number - len(pending)}", paths, dict(defaults.settings))
                pending = []
                continue
            if line.startswith(("/", '"', "'")):
                pending += [p.strip("\"'") for p in line.split()]
                continue
            words = line.split()
            if words[0] == "include" and len(words) > 1 and depth < 3:
                target = words[1].rstrip("/")
                if target == LOGROTATE_DIR:
                    for name in sorted(included):
                        base = posixpath.basename(name)
                        if not base.startswith(".") and not base.endswith(LOGROTATE_TABOO):
                            read(name, included[name], depth + 1)
                else:
                    read(target, ctx.file(target), depth + 1)
                continue
            _logrotate_directive(defaults.settings, words, path, number)

    read(LOGROTATE, text)
    return defaults, stanzas


def journald(ctx: Ctx) -> dict[str, Setting]:
    """journald's [Journal] settings: journald.conf, then the drop-ins (a later one wins)."""
    values: dict[str, Setting] = {}
    text = ctx.file(JOURNALD, required=False)
    if text is not None:
        values.update(ini_section(text, JOURNALD, "Journal"))
    for path, extra in dropins(ctx, JOURNALD_DIRS, ".conf"):
        values.update(ini_section(extra, path, "Journal"))
    return values


@check("LOG-RETENTION", "linux")
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
_FIELD_RE = re.compile(r"^([\w-]+)(!=|>=|<=|&=|=|>|<|&)(.*)$")


@dataclass(frozen=True)
class AuditRule:
    where: str
    text: str
    path: str = ""  # the watched path (-w, or -F path= / -F dir=), "" for other rules
    perms: str = ""
    syscalls: tuple[str, ...] = ()
    fields: tuple[tuple[str, str, str], ...] = ()
    compare: tuple[str, ...] = ()

    def covers(self, target: str, perm: str) -> bool:
        """A write (w) or execute (x) of target is recorded by this watch."""
        if not self.path or perm not in self.perms:
            return False
        watched = _norm(self.path)
        return _norm(target) == watched or _norm(target).startswith(watched + "/")

    @property
    def elevated_exec(self) -> bool:
        """An execve rule that records programs run with raised privileges (sudo, su …)."""
        if "execve" not in self.syscalls and "all" not in self.syscalls:
            return False
        euid0 = any(f == ("euid", "=", "0") for f in self.fields)
        differs = any(c.replace(" ", "") in ("uid!=euid", "euid!=uid") for c in self.compare)
        return euid0 or differs


def _norm(path: str) -> str:
    path = posixpath.normpath(path)
    return "/run" + path[len("/var/run") :] if path == "/var/run" or path.startswith("/var/run/") else path


def audit_rules(text: str, source: str, rules: list[AuditRule] | None = None) -> list[AuditRule]:
    """Rules of an audit rules file (or `auditctl -l`), added to `rules` in order."""
    rules = [] if rules is None else rules
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        where = f"{source}:{number}"
        opts: dict[str, list[str]] = {}
        i = 0
        while i < len(words):
            word = words[i]
            value = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("-") else ""
            if word.startswith("-") and value:
                opts.setdefault(word, []).append(value)
                i += 2
            else:
                opts.setdefault(word, []).append("")
                i += 1
        if "-D" in opts:  # augenrules moves -D to the top of the merged file: it deletes no file's rules
            continue
        if "-W" in opts:
            gone = _norm(opts["-W"][0])
            rules[:] = [r for r in rules if _norm(r.path) != gone or r.syscalls]
            continue
        if "-w" in opts:
            perms = opts.get("-p", ["rwxa"])[0]
            rules.append(AuditRule(where, line, opts["-w"][0], perms))
            continue
        action = (opts.get("-a") or opts.get("-A") or [""])[0]
        if not action or "never" in action.split(","):
            continue
        fields = []
        for item in opts.get("-F", []):
            match = _FIELD_RE.match(item)
            if match:
                fields.append(match.groups())
        syscalls = tuple(s for group in opts.get("-S", []) for s in group.split(","))
        lookup = {name: value for name, op, value in fields if op == "="}
        path = lookup.get("path") or lookup.get("dir") or ""
        perms = lookup.get("perm", "rwxa") if path else ""
        rules.append(AuditRule(where, line, path, perms, syscalls, tuple(fields), tuple(opts.get("-C", []))))
    return rules


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
    """`systemctl show` of several units: Id → its properties (blocks separated by a blank line)."""
    out = {}
    for block in stdout.split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            out[props["Id"]] = props
    return out


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


@check("LOG-AUDIT", "linux")
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
_ACTION_RE = re.compile(r"\baction\s*\(", re.I)
_PARAM_RE = re.compile(r"([\w.]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s)]+)")
_LEGACY_FWD_RE = re.compile(r"^(\S+)\s+@(@?)(?:\([^)]*\))?(\[[^\]]+\]|[^:;\s]+)(?::(\d+))?")
_INCLUDE_D_RE = re.compile(
    r"^\s*(\$IncludeConfig\s+/etc/rsyslog\.d/?(\*\.conf)?|include\s*\(\s*file\s*=\s*\"/etc/rsyslog\.d/\*\.conf\")", re.M
)


@dataclass(frozen=True)
class Forward:
    where: str
    selector: str  # "*.*", "auth.*", "if …" (a condition), "ruleset NAME" (not the default ruleset)
    target: str
    port: int
    protocol: str
    queued: bool  # a disk-assisted queue (queue.filename set) keeps messages while the host is down
    text: str

    @property
    def all_messages(self) -> bool:
        first = self.selector.split(";", 1)[0]
        return "*" in first.split(".", 1)[0].split(",")


def _strip_comments(text: str) -> str:
    """rsyslog text with `#` comments blanked (not inside quotes), line numbers kept."""
    out = []
    for line in text.splitlines():
        kept, quote = [], ""
        for ch in line:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            kept.append(ch)
        out.append("".join(kept))
    return "\n".join(out)


def _context(text: str, start: int) -> str:
    """Selector or block a RainerScript action at `start` belongs to."""
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start].strip()
    if prefix.startswith("if") or prefix.startswith("else"):
        return prefix.rstrip("{ ").strip()
    if prefix and prefix not in ("{", "&"):
        return prefix
    heads = []
    for match in re.finditer(r"[{}]", text[:start]):
        if match.group() == "{":
            head_start = text.rfind("\n", 0, match.start()) + 1
            heads.append(text[head_start : match.start()].strip())
        elif heads:
            heads.pop()
    for head in reversed(heads):
        named = re.search(r"ruleset\s*\(\s*name\s*=\s*\"([^\"]*)\"", head)
        if named:
            return f"ruleset {named.group(1)}"
        if head.startswith(("if", "else")):
            return head
        if head and "." in head.split()[0]:
            return head.split()[0]
    return "*.*"


def rsyslog_forwards(text: str, path: str) -> list[Forward]:
    """Forwarding actions of one rsyslog file: RainerScript action(type="omfwd" …) and the
    legacy `selector @@host:port` (TCP) / `@host` (UDP) lines."""
    clean = _strip_comments(text)
    found = []
    for match in _ACTION_RE.finditer(clean):
        pos, depth, quote = match.end(), 1, ""
        while pos < len(clean) and depth:
            ch = clean[pos]
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch in "()":
                depth += 1 if ch == "(" else -1
            pos += 1
        body = clean[match.end() : pos - 1]
        params = {k.lower(): v.strip("\"'") for k, v in _PARAM_RE.findall(body)}
        if params.get("type", "").lower() != "omfwd":
            continue
        line = clean.count("\n", 0, match.start()) + 1
        port = params.get("port", "514")
        found.append(
            Forward(
                f"{path}:{line}",
                _context(clean, match.start()),
                params.get("target", ""),
                int(port) if port.isdigit() else 0,
                params.get("protocol", "udp").lower(),
                bool(params.get("queue.filename")) and params.get("queue.type", "direct").lower() != "direct",
                " ".join(clean[match.start() : pos].split()),
            )
        )
    for number, line in enumerate(clean.splitlines(), 1):
        legacy = _LEGACY_FWD_RE.match(line.strip())
        if legacy:
            selector, tcp, host, port = legacy.groups()
            found.append(
                Forward(
                    f"{path}:{number}",
                    selector,
                    host.strip("[]"),
                    int(port or 514),
                    "tcp" if tcp else "udp",
                    False,
                    line.strip(),
                )
            )
    return found


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


@check("LOG-CENTRAL", "linux")
def log_central(ctx: Ctx) -> Verdict:
    hosts, protocol, port = ctx.params["hosts"], ctx.params["protocol"], ctx.params["port"]
    if not hosts:
        return Verdict(
            "not_applicable",
            "logs forwarded to the log hosts, when the inventory names them",
            "no log host configured (lgsec_log_central_hosts is empty)",
            ["lgsec_log_central_hosts: []"],
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

CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
_CHRONY_SOURCES = ("server", "pool", "peer")


@dataclass(frozen=True)
class Source:
    kind: str
    name: str
    where: str


def chrony_sources(ctx: Ctx) -> tuple[str | None, list[Source], list[str]]:
    """(main configuration file, the NTP sources it configures — with those of its confdir,
    sourcedir and include files —, notes on what lgsec does not read)."""
    main = next((p for p in CHRONY_CONFS if ctx.file(p, required=False) is not None), None)
    if main is None:
        return None, [], []
    sources: list[Source] = []
    notes: list[str] = []

    def read(path: str, text: str, depth: int = 0) -> None:
        for number, raw in enumerate(text.splitlines(), 1):
            words = raw.split()
            if not words or words[0][0] in "#%!;":
                continue
            key = words[0].lower()
            if key in _CHRONY_SOURCES and len(words) > 1:
                sources.append(Source(key, words[1], f"{path}:{number}"))
            elif key in ("confdir", "sourcedir", "include") and depth < 3:
                for pattern in words[1:]:
                    folder = pattern.rstrip("/")
                    if key == "include":
                        folder, glob = posixpath.dirname(pattern), pattern
                    else:
                        glob = folder + ("/*.conf" if key == "confdir" else "/*.sources")
                    if folder not in GATHERED_CHRONY_DIRS:
                        notes.append(
                            f"{path}:{number}: {key} {pattern} is not read by lgsec (its sources are seen live)"
                        )
                        continue
                    matched = ctx.files(folder + "/")
                    for sub in sorted(p for p in matched if fnmatch.fnmatch(p, glob)):
                        read(sub, matched[sub], depth + 1)

    read(main, ctx.file(main))
    return main, sources, notes


# Folders whose chrony drop-ins the gather module reads (library/lgsec_linux_facts.py).
GATHERED_CHRONY_DIRS = ("/etc/chrony/conf.d", "/etc/chrony/sources.d", "/run/chrony-dhcp")


def tracking(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


@check("TIME-SYNC", "linux")
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
