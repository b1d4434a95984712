"""Parsers of the log and time configuration formats the logs-and-time checks judge
(lgsec.checks.linux_logs): systemd ini sections and time spans, logrotate, audit rules, rsyslog,
chrony. Every value keeps the file and line it came from.

The readers that follow includes (logrotate, chrony) take the check's context, which gives the
gathered files (`Reader`: lgsec.checks.Ctx is one); this module does not import the checks.
"""

from __future__ import annotations

import fnmatch
import math
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Protocol

from lgsec.checks.common import DAY
from lgsec.parse import Setting


class Reader(Protocol):
    """The gathered files, as a check's context (lgsec.checks.Ctx) gives them."""

    def file(self, path: str, required: bool = True) -> str | None: ...

    def files(self, prefix: str) -> dict[str, str]: ...


# ---- systemd configuration files (journald.conf and its drop-ins) ------------------------


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


# ---- systemd time spans ------------------------------------------------------------------

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


# ---- logrotate ---------------------------------------------------------------------------

LOGROTATE = "/etc/logrotate.conf"


LOGROTATE_DIR = "/etc/logrotate.d"


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


def logrotate(ctx: Reader) -> tuple[RotateBlock, list[RotateBlock]] | None:
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


# ---- audit rules (auditd) ----------------------------------------------------------------

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


# ---- rsyslog -----------------------------------------------------------------------------

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


# ---- chrony ------------------------------------------------------------------------------

CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")


_CHRONY_SOURCES = ("server", "pool", "peer")


@dataclass(frozen=True)
class Source:
    kind: str
    name: str
    where: str


def chrony_sources(ctx: Reader) -> tuple[str | None, list[Source], list[str]]:
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


def systemctl_blocks(stdout: str) -> dict[str, dict[str, list[str]]]:
    """`systemctl show UNIT… -p …`: unit Id → property → values (ExecStart may repeat)."""
    units = {}
    for block in stdout.split("\n\n"):
        props: dict[str, list[str]] = {}
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props.setdefault(key, []).append(value)
        if props.get("Id"):
            units[props["Id"][0]] = props
    return units
