"""Windows evidence: read what Windows itself writes, for the Windows checks.

One facts shape for both ways of reading a host (see README "Windows"):

- live: library/lgsec_windows_facts.ps1 runs the collector (tools/windows/
  Ansible.ModuleUtils.LgsecCollect.psm1) on the host and returns each evidence file's text;
- offline: tools/windows/lgsec-collect.ps1 runs the same collector and leaves the files in a
  folder, which `lgsec audit --evidence DIR` reads with read_evidence_dir().

    {"platform": "windows", "computer": "PC01", "collected_at": <Unix time>, "collector": "...",
     "files": {"secedit.inf": <text>, "registry/03-policies.reg": <text>, ...},
     "errors": {"bitlocker.json": "<why it could not be read>"},
     "missing": ["stamps.json"],                   # not produced on this host (not an error)
     "registry_keys": {"HKLM\\SOFTWARE\\Policies": "registry/03-policies.reg",
                       "HKLM\\SOFTWARE\\WOW6432Node\\...\\Uninstall": null}}  # null: key absent

The files are kept as Windows wrote them (decoded to text) and parsed here, on the controller:
`secedit /export` INF and `reg export` files (UTF-16LE with BOM), `auditpol /backup` or
`auditpol /get /category:* /r` CSV (matched by subcategory GUID, never by its localised name),
ConvertTo-Json output (UTF-8 with or without BOM, or UTF-16LE from a PowerShell 5.1 `>`
redirection; /Date(ms)/ or ISO dates; a one-element array printed as a bare object).
Accounts and groups are matched by SID, never by their (localised) names.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lgsec.checks import Ctx, Unreadable
from lgsec.errors import InputError

FORMAT = "lgsec-windows-evidence/1"
MANIFEST = "lgsec-evidence.json"

# Evidence files the collector writes (name -> what produces it). The PowerShell collector
# writes exactly these names; tests/unit/test_windows_readers.py keeps the two lists equal.
FILES = {
    "secedit.inf": "secedit /export /cfg (UTF-16LE)",
    "auditpol.csv": "auditpol /backup /file",
    "os.json": r"Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'",
    "users.json": "Get-LocalUser",
    "groups.json": "Get-LocalGroup -SID S-1-5-32-544, S-1-5-32-555 | Get-LocalGroupMember",
    "defender.json": "Get-MpComputerStatus",
    "mppreference.json": "Get-MpPreference",
    "avproducts.json": "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct",
    "firewall.json": "Get-NetFirewallProfile -PolicyStore ActiveStore",
    "listening.json": "Get-NetTCPConnection -State Listen; Get-NetUDPEndpoint",
    "hotfixes.json": "Get-HotFix",
    "bitlocker.json": "Get-BitLockerVolume",
    "services.json": "Get-Service",
    "features.json": "Get-WindowsOptionalFeature -Online",
    "tasks.json": r"Get-ScheduledTask | Get-ScheduledTaskInfo (outside \Microsoft\, and \Microsoft\Windows\Backup\)",
    "w32tm.txt": "w32tm /query /configuration",
    "timesource.txt": "w32tm /query /source",
    "timeoffset.txt": "w32tm /stripchart /computer:<first NtpServer, or the NT5DS source> /samples:1 /dataonly",
    "winrm.json": r"Get-ChildItem WSMan:\localhost\Listener; (Get-Item WSMan:\localhost\Service\RootSDDL).Value",
    "appx.json": "Get-AppxPackage -AllUsers",
    "profiles.json": "Get-CimInstance Win32_UserProfile",
    "stamps.json": "Get-Item <lgsec_backup_recent_stamp_file>",
}

# Registry keys exported with `reg export` (each with its subkeys) -> file name. Every value a
# Windows check reads lies under one of them; a key absent on the host is recorded as null.
REG_KEYS = {
    r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa": "registry/01-lsa.reg",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies": "registry/02-cv-policies.reg",
    r"HKLM\SOFTWARE\Policies": "registry/03-policies.reg",
    r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server": "registry/04-terminal-server.reg",
    r"HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application": "registry/05-eventlog-application.reg",
    r"HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Security": "registry/06-eventlog-security.reg",
    r"HKLM\SYSTEM\CurrentControlSet\Services\EventLog\System": "registry/07-eventlog-system.reg",
    r"HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters": "registry/08-w32time.reg",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall": "registry/09-uninstall.reg",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall": "registry/10-uninstall-wow64.reg",
    # playbooks/provision_user_windows.yml: value name = a new account's SID, data = when it was made (UTC)
    r"HKLM\SOFTWARE\lgsec\Provisioned": "registry/11-lgsec-provisioned.reg",
}
PROVISIONED = r"HKLM\SOFTWARE\lgsec\Provisioned"

# Well-known SIDs (https://learn.microsoft.com/windows/win32/secauthz/well-known-sids)
ADMINISTRATORS = "S-1-5-32-544"
REMOTE_DESKTOP_USERS = "S-1-5-32-555"
REMOTE_MANAGEMENT_USERS = "S-1-5-32-580"
HIVES = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU", "HKEY_USERS": "HKU", "HKEY_CLASSES_ROOT": "HKCR"}


# ---- decoding ------------------------------------------------------------------------------


def decode(data: bytes, name: str) -> str:
    """Text of an evidence file as Windows writes it: UTF-16LE/BE with BOM (secedit, reg export,
    PowerShell 5.1 `>`), UTF-8 with or without BOM (Out-File -Encoding utf8, PowerShell 7), or
    the ANSI code page of a Japanese host (cp932) for a cmd.exe redirection."""
    try:
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le")
        if data.startswith(b"\xfe\xff"):
            return data[2:].decode("utf-16-be")
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
        if b"\0" in data:  # text in UTF-8 or cp932 never holds NUL: UTF-16LE without BOM
            return data.decode("utf-16-le")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not text in any encoding Windows writes ({exc.reason} at byte {exc.start})") from exc


# ---- secedit /export INF ----------------------------------------------------------------------


@lru_cache(maxsize=32)
def parse_inf(text: str) -> dict[str, dict[str, str]]:
    """Sections of a security template: {section: {key: raw value}}. Keys keep their case;
    values lose surrounding spaces (and quotes, for NewAdministratorName and the like)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in re.split(r"\r?\n", text):  # not splitlines(): \x85, \u2028 … are no line ends here
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if current is None or "=" not in line:
            raise ValueError(f"not a security template line: {raw[:80]!r}")
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        current[key.strip()] = value
    if "System Access" not in sections:
        raise ValueError("no [System Access] section (not a secedit /export file)")
    return sections


def sids(value: str) -> list[str]:
    """[Privilege Rights] value: '*S-1-5-32-544,*S-1-5-32-555' (names without '*' kept as names)."""
    return [v.strip().lstrip("*") for v in value.split(",") if v.strip()]


# ---- reg export ------------------------------------------------------------------------------

REG_HEADER = "Windows Registry Editor Version 5.00"
TYPES = {"0": "REG_NONE", "1": "REG_SZ", "2": "REG_EXPAND_SZ", "3": "REG_BINARY", "4": "REG_DWORD",
         "7": "REG_MULTI_SZ", "b": "REG_QWORD"}  # fmt: skip


def norm_key(key: str) -> str:
    """HKEY_LOCAL_MACHINE\\Software\\X -> HKLM\\SOFTWARE\\X in one case (registry keys are
    case-insensitive), for lookups."""
    key = key.strip().strip("\\")
    hive, _, rest = key.partition("\\")
    hive = HIVES.get(hive.upper(), hive.upper())
    return f"{hive}\\{rest}".rstrip("\\").casefold()


def _utf16(data: bytes) -> str:
    return data.decode("utf-16-le")


def _reg_data(raw: str) -> tuple[str, Any]:
    if raw.startswith('"'):
        if not raw.endswith('"') or len(raw) < 2:
            raise ValueError(f"unterminated string {raw[:60]!r}")
        return "REG_SZ", re.sub(r"\\(.)", r"\1", raw[1:-1])
    if raw.startswith("dword:"):
        return "REG_DWORD", int(raw[6:], 16)
    m = re.match(r"hex(?:\(([0-9a-fA-F]+)\))?:(.*)$", raw, re.S)
    if not m:
        raise ValueError(f"unknown value data {raw[:60]!r}")
    kind = (m.group(1) or "3").lower()
    hexes = re.sub(r"[\s\\]", "", m.group(2))
    data = bytes(int(h, 16) for h in hexes.split(",") if h)
    name = TYPES.get(kind, f"REG_TYPE_{kind}")
    if kind == "2":
        return name, _utf16(data).split("\0", 1)[0]
    if kind == "7":
        return name, [s for s in _utf16(data).split("\0") if s]
    if kind == "4":
        return name, int.from_bytes(data[:4], "little")
    if kind == "b":
        return name, int.from_bytes(data[:8], "little")
    return name, data.hex()


def open_string(line: str) -> bool:
    """A `"name"="data` line whose data string is not closed yet (an unescaped final quote)."""
    m = re.match(r'\s*(?:@|"(?:[^"\\]|\\.)*")="((?:[^"\\]|\\.)*)("?)', line, re.S)
    return bool(m) and not m.group(2) and m.end() == len(line.rstrip("\r"))


@lru_cache(maxsize=32)
def parse_reg(text: str) -> dict[str, dict[str, tuple[str, Any]]]:
    """A `reg export` file: {normalised key: {value name in lower case ('' = default): (type, data)}}.
    Continuation lines (ending in a backslash) are joined; a key or value deletion
    ([-KEY], "name"=-) is not export output and is refused."""
    # Lines end in CRLF (or LF): never str.splitlines(), which also breaks at \x85, \u2028,
    # \x0b … that a REG_SZ may hold.
    physical = text.split("\n")
    lines = [r.removesuffix("\r") for r in physical]
    if not lines or lines[0].strip() != REG_HEADER:
        raise ValueError(f"first line is not {REG_HEADER!r}")
    keys: dict[str, dict[str, tuple[str, Any]]] = {}
    current: dict[str, tuple[str, Any]] | None = None
    i = 1
    while i < len(lines):
        line = lines[i]
        i += 1
        while line.endswith("\\") and not open_string(line) and i < len(lines):  # hex data goes on
            line = line[:-1] + lines[i].strip()
            i += 1
        # reg export writes a REG_SZ as it is: a value holding a line break (a logon banner,
        # legalnoticetext) goes on over the next lines until its closing quote; the break is
        # kept as written (CRLF or LF)
        while open_string(line) and i < len(lines):
            line = line + ("\r\n" if physical[i - 1].endswith("\r") else "\n") + lines[i]
            i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            if stripped.startswith("[-"):
                raise ValueError(f"a key deletion is not `reg export` output: {stripped[:80]}")
            current = keys.setdefault(norm_key(stripped[1:-1]), {})
            continue
        if current is None:
            raise ValueError(f"value before any key: {stripped[:80]!r}")
        if stripped.startswith("@="):
            name, raw = "", stripped[2:]
        else:
            m = re.match(r'"((?:[^"\\]|\\.)*)"=(.*)$', stripped, re.S)
            if not m:
                raise ValueError(f"not a registry value line: {stripped[:80]!r}")
            name, raw = re.sub(r"\\(.)", r"\1", m.group(1)), m.group(2)
        if raw == "-":
            raise ValueError(f"a value deletion is not `reg export` output: {stripped[:80]}")
        current[name.casefold()] = _reg_data(raw)
    return keys


# ---- auditpol -----------------------------------------------------------------------------------

GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
# `auditpol /get /r` prints the setting in the display language; /backup adds the number
# (0 none, 1 success, 2 failure, 3 both), which is what lgsec prefers. Known texts:
SETTING_TEXT = {
    "no auditing": 0,
    "success": 1,
    "failure": 2,
    "success and failure": 3,
    "監査なし": 0,
    "成功": 1,
    "失敗": 2,
    "成功および失敗": 3,
}


def per_user(target: str) -> bool:
    """auditpol's Policy Target column: "System" for the system policy; a per-user audit policy
    row (auditpol /set /user:, learn.microsoft.com/windows-server/administration/windows-commands/
    auditpol-set) names the user — a SID or DOMAIN\\name — and never sets the system's policy."""
    target = target.strip()
    return bool(re.match(r"^S-1-\d", target, re.I)) or "\\" in target


@lru_cache(maxsize=8)
def parse_auditpol(text: str) -> dict[str, tuple[str, int | None, str]]:
    """auditpol CSV (either form): {guid in lower case: (subcategory name, setting 0-3 or None
    when the text is in an unknown language, setting text)}. Columns are taken by position
    (the header is localised too): machine, target, subcategory, GUID, inclusion, exclusion
    [, setting value]."""
    out: dict[str, tuple[str, int | None, str]] = {}
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or len(rows[0]) < 6:
        raise ValueError("not auditpol CSV output (expected 6 or 7 columns)")
    for row in rows[1:]:
        if len(row) < 6:
            continue
        m = GUID_RE.match(row[3].strip())
        if not m:
            continue  # option rows (Option:CrashOnAuditFail …) and blank lines
        if per_user(row[1]):
            continue  # per-user policy (auditpol /set /user): not the system's setting
        inclusion = row[4].strip()
        numeric = len(row) >= 7 and row[6].strip().isdigit()
        value = int(row[6]) if numeric else SETTING_TEXT.get(inclusion.casefold())
        out[m.group(1).lower()] = (row[2].strip(), value, inclusion)
    if not out:
        raise ValueError("no subcategory row with a GUID")
    return out


# ---- ConvertTo-Json ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def parse_json(text: str) -> Any:
    return json.loads(text)


def as_list(value: Any) -> list:
    """ConvertTo-Json prints a one-element array as the bare element, and $null as nothing."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ps_time(value: Any) -> datetime | None:
    """A date as ConvertTo-Json prints it: '/Date(1700000000000)/' (Windows PowerShell 5.1),
    ISO 8601 (PowerShell 7, or [string] of a DateTime in 'o' format), or an object with
    DateTime/value (5.1 with -Depth); None for null."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("value") or value.get("DateTime")
        if value is None:
            return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, UTC)
    text = str(value).replace("\\/", "/")
    m = DATE_RE.match(text)
    if m:
        moment = datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
        return moment
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def flag(value: Any) -> bool | None:
    """A boolean as PowerShell prints it: true/false, 'True'/'False', 1/0 (a GpoBoolean enum:
    1 True, 0 False, 2 NotConfigured -> None)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {0: False, 1: True}.get(value)
    if isinstance(value, str):
        return {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower())
    return None


# ---- the evidence folder -----------------------------------------------------------------------


def read_evidence_dir(path: str | Path, read_at: float | None = None) -> dict:
    """Facts of one host from a folder written by lgsec-collect.ps1 (see facts_from_files)."""
    folder = Path(path)
    if not (folder / MANIFEST).is_file():
        raise InputError(
            str(folder), MANIFEST, "not an lgsec evidence folder (no manifest written by lgsec-collect.ps1)"
        )
    files = {}
    for item in folder.rglob("*"):
        if item.is_file():
            try:
                files[item.relative_to(folder).as_posix()] = item.read_bytes()
            except OSError as exc:
                raise InputError(str(item), "-", f"cannot read: {exc.strerror}") from exc
    return facts_from_files(files, where=str(folder), read_at=read_at)


def facts_from_files(files: dict[str, bytes], where: str, read_at: float | None = None) -> dict:
    """Facts of one host from its evidence files (name -> bytes as Windows wrote them): a
    folder (offline) or the live module's result. A missing or invalid manifest is an
    InputError naming it; a file the manifest expects that is missing or cannot be decoded
    becomes an `errors` entry (its controls report `error`, never pass)."""
    label = f"{where}/{MANIFEST}"
    if MANIFEST not in files:
        raise InputError(where, MANIFEST, "no manifest (lgsec-evidence.json) in the evidence")
    try:
        manifest = json.loads(decode(files[MANIFEST], label))
    except ValueError as exc:
        raise InputError(label, "-", f"unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(label, "format", f"must be {FORMAT!r}")
    for field in ("computer", "collected"):
        if not isinstance(manifest.get(field), str) or not manifest[field]:
            raise InputError(label, field, "missing")
    try:
        collected = ps_time(manifest["collected"])
    except ValueError as exc:
        raise InputError(label, "collected", str(exc)) from exc
    if collected is None:
        raise InputError(label, "collected", "must be a date and time with its offset")
    if not isinstance(manifest.get("errors") or {}, dict):
        raise InputError(label, "errors", "must be a mapping of file -> reason")
    errors = {str(k): str(v) for k, v in (manifest.get("errors") or {}).items()}
    registry_keys = manifest.get("registry_keys") or {}
    if not isinstance(registry_keys, dict):
        raise InputError(label, "registry_keys", "must be a mapping of key -> file or null")
    facts: dict[str, Any] = {
        "platform": "windows",
        "computer": manifest["computer"],
        "collected_at": collected.timestamp(),
        "read_at": time.time() if read_at is None else read_at,  # the audit's moment (as_of)
        "collector": str(manifest.get("collector", "")),
        "files": {},
        "errors": errors,
        "missing": [str(m) for m in as_list(manifest.get("missing"))],  # 5.1 may print one as a bare string
        "registry_keys": registry_keys,
    }
    for name in [*FILES, *(f for f in registry_keys.values() if f)]:
        if name in errors or name in facts["missing"]:
            continue
        if name not in files:
            errors[name] = f"{name}: file not in the evidence ({where})"
            continue
        try:
            text = decode(files[name], f"{where}/{name}")
            check_text(name, text)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        facts["files"][name] = text
    return facts


def check_text(name: str, text: str) -> None:
    """A file the collector wrote whole: never empty (every collector step writes at least `[]`,
    `{}` or the tool's header: an empty file is an interrupted collection), a .json file parses,
    and no lone surrogate (ConvertTo-Json escapes one as \\udXXX; no Windows name holds one
    that can be shown or compared). ValueError naming the file, line and column."""
    if not text.strip():
        raise ValueError(
            f"{name}: empty ({len(text)} characters): the collection was interrupted or the tool wrote nothing"
        )
    if name.endswith(".json"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from exc
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name}: a lone surrogate (\\u{ord(exc.object[exc.start]):04x}) in a string") from exc
    elif any("\ud800" <= c <= "\udfff" for c in text):
        raise ValueError(f"{name}: a lone surrogate in the text")


def evidence_hosts(path: str | Path) -> dict[str, Path]:
    """DIR is one host's evidence folder (it holds the manifest) or a folder of them, one
    subfolder per host; host name = the subfolder's name. InputError when none is found."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(str(folder), "-", "evidence folder not found")
    if (folder / MANIFEST).is_file():
        return {folder.resolve().name: folder}
    hosts = {p.name: p for p in sorted(folder.iterdir()) if p.is_dir() and (p / MANIFEST).is_file()}
    if not hosts:
        raise InputError(str(folder), MANIFEST, "no host evidence folder (a folder holding lgsec-evidence.json) in it")
    return hosts


# ---- access from checks ---------------------------------------------------------------------


def now(ctx: Ctx) -> datetime:
    """When the evidence was collected (offline evidence is judged as of that moment)."""
    return datetime.fromtimestamp(float(ctx.fact("collected_at")), UTC)


def as_of(ctx: Ctx) -> datetime:
    """The collection time, for a judgement that depends on time (signature age, patches,
    support end, last backup, idle accounts): evidence read more than evidence_max_age_days
    after it was collected says nothing about the host today -> Unreadable ("evidence too
    old"), never an old pass. A collection time more than a day after the audit (the host's
    clock is wrong) is Unreadable too."""
    collected = now(ctx)
    read_at = ctx.facts.get("read_at")
    if read_at is None:
        return collected
    limit = ctx.params["evidence_max_age_days"]
    age = days_between(datetime.fromtimestamp(float(read_at), UTC), collected)
    if age > limit:
        raise Unreadable(
            f"evidence too old: collected {fmt_time(collected)}, {age:.0f} days before the audit "
            f"(evidence_max_age_days {limit}): collect again"
        )
    if age < -1:
        raise Unreadable(f"evidence collected {fmt_time(collected)}, after the audit: the host's clock is wrong")
    return collected


def secpol(ctx: Ctx) -> dict[str, dict[str, str]]:
    try:
        return parse_inf(ctx.file("secedit.inf"))
    except ValueError as exc:
        raise Unreadable(f"secedit.inf: {exc}") from exc


def system_access(ctx: Ctx, key: str) -> int | None:
    """An integer of [System Access] (None when the template does not set it)."""
    value = secpol(ctx)["System Access"].get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Unreadable(f"secedit.inf: [System Access] {key} = {value!r} is not a number") from exc


def privilege(ctx: Ctx, right: str) -> list[str]:
    """SIDs holding a user right ([Privilege Rights]); [] when nobody holds it."""
    return sids(secpol(ctx).get("Privilege Rights", {}).get(right, ""))


def _reg_file(ctx: Ctx, key: str) -> tuple[str | None, str]:
    """The evidence file that covers a key and the exported root's name; (None, root) when the
    root key is absent on the host. Unreadable when no collected key covers it."""
    want = norm_key(key)
    roots = ctx.facts.get("registry_keys") or {}
    for root, name in sorted(roots.items(), key=lambda kv: -len(kv[0])):
        nroot = norm_key(root)
        if want == nroot or want.startswith(nroot + "\\"):
            return name, root
    raise Unreadable(f"registry key {key} was not collected")


def reg_key(ctx: Ctx, key: str) -> dict[str, tuple[str, Any]] | None:
    """Values of a registry key (None when the key does not exist on the host)."""
    name, _root = _reg_file(ctx, key)
    if name is None:
        return None
    try:
        return parse_reg(ctx.file(name)).get(norm_key(key))
    except ValueError as exc:
        raise Unreadable(f"{name}: {exc}") from exc


def reg_subkeys(ctx: Ctx, key: str) -> dict[str, dict[str, tuple[str, Any]]]:
    """Direct subkeys of a key -> their values ({} when the key is absent)."""
    name, _root = _reg_file(ctx, key)
    if name is None:
        return {}
    try:
        keys = parse_reg(ctx.file(name))
    except ValueError as exc:
        raise Unreadable(f"{name}: {exc}") from exc
    prefix = norm_key(key) + "\\"
    return {k[len(prefix) :]: v for k, v in keys.items() if k.startswith(prefix) and "\\" not in k[len(prefix) :]}


def reg_value(ctx: Ctx, key: str, value: str) -> Any:
    """A registry value's data (None when the value or its key is absent)."""
    values = reg_key(ctx, key)
    if values is None or value.casefold() not in values:
        return None
    return values[value.casefold()][1]


class Setting(NamedTuple):
    value: Any
    where: str  # the key and value that decided, for the evidence
    by_policy: bool  # True when the Group Policy value decided


def policy_value(ctx: Ctx, name: str, policy_key: str, local_key: str | None) -> Setting:
    """A setting that Group Policy can set: the value under the policy key (HKLM\\SOFTWARE\\Policies\\…,
    written by the ADMX's policy, local or domain GPO) wins over the component's own value:
    registry-based policy lives under the Policies keys and takes precedence over the preference
    a user or an administrator set in the component (learn.microsoft.com/previous-versions/windows/
    desktop/policy/registry-policy-file-format; each setting's ADMX names its key). The one
    helper every registry-backed check uses where a policy key exists; `where` names the key
    that decided, or both keys when neither holds the value."""
    value = reg_value(ctx, policy_key, name)
    if value is not None:
        return Setting(value, reg_where(policy_key, name, value) + " (Group Policy)", True)
    if local_key is None:
        return Setting(None, reg_where(policy_key, name, None), False)
    value = reg_value(ctx, local_key, name)
    if value is not None:
        return Setting(value, reg_where(local_key, name, value) + f" (no Group Policy value under {policy_key})", False)
    return Setting(None, f"{reg_where(policy_key, name, None)}; {reg_where(local_key, name, None)}", False)


def reg_where(key: str, value: str, data: Any) -> str:
    shown = "absent" if data is None else data
    return f"{key}\\{value} = {shown}"


def data(ctx: Ctx, name: str) -> Any:
    """A ConvertTo-Json evidence file, parsed (Unreadable naming the file when it is not JSON)."""
    text = ctx.file(name)
    if not text.strip():
        raise Unreadable(f"{name}: empty: the collection was interrupted")
    try:
        return parse_json(text.strip())
    except ValueError as exc:
        raise Unreadable(f"{name}: not JSON ({exc})") from exc


def optional_data(ctx: Ctx, name: str) -> Any:
    """A ConvertTo-Json file the host may rightly not have (the collector lists it in `missing`:
    Defender not installed on a Server, no root/SecurityCenter2 namespace on Windows Server):
    None then; an error or an unreadable file stays Unreadable."""
    if ctx.file(name, required=False) is None:
        return None
    return data(ctx, name)


def is_server(ctx: Ctx) -> bool:
    info = os_info(ctx)
    return str(info.get("InstallationType", "")).casefold().startswith("server")


def records(ctx: Ctx, name: str) -> list[dict]:
    items = as_list(data(ctx, name))
    if not all(isinstance(i, dict) for i in items):
        raise Unreadable(f"{name}: expected a list of objects")
    return items


def os_info(ctx: Ctx) -> dict:
    info = data(ctx, "os.json")
    if not isinstance(info, dict) or not str(info.get("CurrentBuild", "")).isdigit():
        raise Unreadable("os.json: no CurrentBuild")
    return info


def users(ctx: Ctx) -> list[dict]:
    out = records(ctx, "users.json")
    for u in out:
        if not isinstance(u.get("SID"), str) or not u["SID"].startswith("S-1-"):
            raise Unreadable(f"users.json: account {u.get('Name')!r} has no SID string")
    return out


def rid(sid: str) -> int | None:
    last = sid.rsplit("-", 1)[-1]
    return int(last) if sid.startswith("S-1-5-21-") and last.isdigit() else None


def builtin_account(ctx: Ctx, number: int) -> dict | None:
    """The built-in account with this RID (500 Administrator, 501 Guest) of the local domain."""
    found = [u for u in users(ctx) if rid(u["SID"]) == number]
    return found[0] if found else None


def group(ctx: Ctx, sid: str) -> dict:
    for g in records(ctx, "groups.json"):
        if g.get("SID") == sid:
            members = as_list(g.get("Members"))
            for m in members:
                if not isinstance(m, dict) or not isinstance(m.get("SID"), str):
                    raise Unreadable(f"groups.json: a member of {sid} has no SID string")
            return {**g, "Members": members}
    raise Unreadable(f"groups.json: group {sid} not collected")


def member_label(member: dict) -> str:
    return f"{member.get('Name') or '?'} ({member['SID']})"


def member_matches(member: dict, names: list[str]) -> bool:
    """A member is named by SID, by DOMAIN\\name or by its name alone (case-insensitive)."""
    wanted = {str(n).casefold() for n in names}
    full = str(member.get("Name") or "").casefold()
    return member["SID"].casefold() in wanted or full in wanted or full.rsplit("\\", 1)[-1] in wanted


def fmt_time(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def days_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier) / timedelta(days=1)


def first_logon_wait(
    never_logged_on: bool, provisioned_days: float | None, grace_days: int, max_idle_days: int
) -> str | None:
    """ID-UNUSED's one rule for a new account (the audit's check and the role's lgsec_win_idle):
    an account that never logged on and that provision_user_windows.yml recorded (PROVISIONED)
    provisioned_days ago is "waiting" for its first logon while that is at most provision_grace_days
    and at most max_idle_days; recorded longer ago (or in the future: a wrong clock is no grace) it
    is "overdue" = idle. None: it logged on, or it has no record (the caller's own rule applies)."""
    if not never_logged_on or provisioned_days is None:
        return None
    if 0 <= float(provisioned_days) <= min(int(grace_days), int(max_idle_days)):
        return "waiting"
    return "overdue"
