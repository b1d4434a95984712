"""Linux checks: the desk and the device (CONTROLS.md section B) — screen lock, locked
settings, USB storage, autorun.

GNOME reads its settings through dconf. lgsec judges the system database `local`: its
keyfiles (/etc/dconf/db/local.d/*, later files win), its locks (local.d/locks/*), the user
profile that makes users read it (/etc/dconf/profile/user: system-db:local) and, when the
database is compiled or a desktop is installed, that `dconf update` ran after the last change.
On a host without a desktop the keyfiles are judged as written: they take effect when a
desktop is installed and `dconf update` compiles them (roles/desktop runs it).
"""

from __future__ import annotations

import json
import re

from lgsec import parse
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import utc, verdict
from lgsec.checks.linux_accounts import LOGIN_DEFS, SHELL_STARTUP, sysctl_effective, sysctl_files
from lgsec.checks.linux_logs import dropins
from lgsec.parse_logs import ini_section

PROFILE = "/etc/dconf/profile/user"
KEYFILES = "/etc/dconf/db/local.d/"
LOCKS = "/etc/dconf/db/local.d/locks/"
COMPILED = "/etc/dconf/db/local"

IDLE_DELAY = "/org/gnome/desktop/session/idle-delay"
LOCK_ENABLED = "/org/gnome/desktop/screensaver/lock-enabled"
LOCK_DELAY = "/org/gnome/desktop/screensaver/lock-delay"
IDLE_ACTIVATION = "/org/gnome/desktop/screensaver/idle-activation-enabled"
NO_LOCK_SCREEN = "/org/gnome/desktop/lockdown/disable-lock-screen"
AUTOMOUNT = "/org/gnome/desktop/media-handling/automount"
AUTOMOUNT_OPEN = "/org/gnome/desktop/media-handling/automount-open"
AUTORUN_NEVER = "/org/gnome/desktop/media-handling/autorun-never"
# SCREEN-LOCK's booleans and AUTORUN's keys with the value they must have.
SCREEN_BOOLS = {LOCK_ENABLED: True, IDLE_ACTIVATION: True, NO_LOCK_SCREEN: False}
AUTORUN_KEYS = {AUTOMOUNT: False, AUTOMOUNT_OPEN: False, AUTORUN_NEVER: True}
# Every key roles/desktop sets: SETTINGS-LOCKED wants each locked.
LOCKED_KEYS = (IDLE_DELAY, LOCK_DELAY, *SCREEN_BOOLS, *AUTORUN_KEYS)

SHELL_FILES = ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc")


def short(key: str) -> str:
    return key.rsplit("/", 1)[-1]


# ---- dconf -------------------------------------------------------------------------------


def dconf_keyfiles(files: dict[str, str]) -> dict[str, parse.Setting]:
    """Key path → GVariant text of the database's keyfiles; dconf reads them in name order
    and a later file overrides an earlier one."""
    out: dict[str, parse.Setting] = {}
    for path in sorted(files):
        group = None
        for number, raw in enumerate(files[path].splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                group = line[1:-1].strip().strip("/")
                continue
            key, sep, value = line.partition("=")
            if sep and group is not None:
                out[f"/{group}/{key.strip()}"] = parse.Setting(value.strip(), path, number)
    return out


def dconf_locks(files: dict[str, str]) -> dict[str, parse.Setting]:
    """Locked key → where it is locked (one key per line)."""
    out: dict[str, parse.Setting] = {}
    for path in sorted(files):
        for number, raw in enumerate(files[path].splitlines(), 1):
            line = raw.strip()
            if line and not line.startswith("#"):
                out.setdefault(line, parse.Setting("locked", path, number))
    return out


def database_files(ctx: Ctx) -> tuple[dict[str, str], dict[str, str]]:
    """(keyfiles, lock files) of the database local; hidden files are not read by dconf."""
    keyfiles, locks = {}, {}
    for path, text in ctx.files(KEYFILES).items():
        if path.rsplit("/", 1)[-1].startswith("."):
            continue
        (locks if path.startswith(LOCKS) else keyfiles)[path] = text
    return keyfiles, locks


def dconf_in_force(ctx: Ctx) -> tuple[list[str], list[str], str]:
    """Whether users' sessions read the database local as its keyfiles say.
    Returns (problems, evidence, note for the actual value)."""
    problems, evidence, note = [], [], ""
    profile = ctx.file(PROFILE, required=False)
    if profile is None:
        problems.append(f"no {PROFILE}: sessions read no system database (system-db:local)")
        evidence.append(f"{PROFILE}: not present")
    else:
        lines = [(n, line.strip()) for n, line in enumerate(profile.splitlines(), 1)]
        found = [n for n, line in lines if line == "system-db:local"]
        if found:
            evidence.append(f"{PROFILE}:{found[0]}: system-db:local")
        else:
            problems.append(f"{PROFILE} does not list system-db:local")
            evidence.append(f"{PROFILE}: no system-db:local line")
    result = ctx.command("find /etc/dconf")
    if result is None:
        raise Unreadable("find /etc/dconf: find is not installed")
    entries: dict[str, tuple[float, str]] = {}
    for line in result["stdout"].splitlines():
        fields = line.split(" ", 2)
        if len(fields) == 3:
            entries[fields[2]] = (float(fields[0]), fields[1])
    backend = sorted(p for p in entries if p.endswith("/libdconfsettings.so"))
    sources = {p: m for p, (m, _) in entries.items() if p == KEYFILES.rstrip("/") or p.startswith(KEYFILES)}
    newest = max(sources, key=sources.get) if sources else None
    compiled = entries.get(COMPILED)
    if compiled and compiled[1] == "f":
        if newest and sources[newest] > compiled[0]:
            problems.append(
                f"{COMPILED} is older than {newest}: `dconf update` has not run since the change, "
                "sessions still get the old values"
            )
        evidence.append(
            f"{COMPILED}: compiled {utc(compiled[0])}; newest source {newest}: {utc(sources.get(newest, 0))}"
        )
    elif backend:
        problems.append(f"GSettings reads dconf here ({backend[0]}) but {COMPILED} was never compiled (`dconf update`)")
        evidence.append(f"{COMPILED}: not present; dconf backend {backend[0]}")
    else:
        note = "no desktop on this host (no dconf GSettings backend): judged on the keyfiles, compiled when one is"
        evidence.append("no libdconfsettings.so under /usr/lib: no desktop reads dconf here")
    return problems, evidence, note


_UINT = re.compile(r"^(?:(uint32|int32|uint16|int16|uint64|int64|byte)\s+)?(\d+)$")


def uint32(values: dict[str, parse.Setting], key: str, problems: list[str], evidence: list[str]) -> int | None:
    """A uint32 key's value; a problem when unset, or set without the uint32 type (GSettings then
    ignores it and the session uses the schema default)."""
    setting = values.get(key)
    if setting is None:
        problems.append(f"{short(key)} not set in {KEYFILES}")
        return None
    evidence.append(f"{setting.where}: {short(key)}={setting.value}")
    match = _UINT.match(setting.value)
    if not match:
        problems.append(f"{short(key)}={setting.value} is not a number")
        return None
    if match.group(1) != "uint32":
        problems.append(f"{short(key)}={setting.value} is not typed uint32: GNOME ignores it ({setting.where})")
        return None
    return int(match.group(2))


def booleans(values: dict[str, parse.Setting], wanted: dict[str, bool], problems: list[str], evidence: list[str]):
    for key, want in wanted.items():
        setting = values.get(key)
        if setting is None:
            problems.append(f"{short(key)} not set in {KEYFILES}")
            continue
        evidence.append(f"{setting.where}: {short(key)}={setting.value}")
        if setting.value != ("true" if want else "false"):
            problems.append(f"{short(key)}={setting.value}")


def console_tmout(ctx: Ctx, limit: int, problems: list[str], evidence: list[str]) -> str:
    """The readonly TMOUT of login shells (the same files SESSION-LIMIT reads)."""
    shell_files = {p: ctx.file(p, required=False) or "" for p in SHELL_FILES}
    shell_files.update(ctx.files("/etc/profile.d/"))
    values, readonly = parse.tmout(shell_files)
    evidence += [f"{v.where}: TMOUT={v.value}" for v in values] + [f"{r.where}: readonly TMOUT" for r in readonly]
    if not values:
        problems.append("console TMOUT not set")
        return "no console TMOUT"
    last = values[-1]
    if not 0 < int(last.value) <= limit:
        problems.append(f"console TMOUT = {last.value} ({last.where})")
    elif not readonly:
        problems.append("console TMOUT not readonly (a user can unset it)")
    return f"TMOUT = {last.value}" + (" readonly" if readonly else "")


@check(
    "SCREEN-LOCK",
    "linux",
    files=(
        "/etc/dconf/profile/user",
        "/etc/dconf/db/local.d/*",
        "/etc/dconf/db/local.d/locks/*",
        *SHELL_STARTUP,
    ),
    commands=("find /etc/dconf",),
)
def screen_lock(ctx: Ctx) -> Verdict:
    limit = ctx.params["idle_seconds"]
    expected = (
        f"GNOME (dconf database local): idle-delay uint32 1..{limit} s, idle-delay + lock-delay <= {limit} s, "
        f"lock-enabled true, idle-activation-enabled true, disable-lock-screen false; "
        f"console: readonly TMOUT 1..{limit} s"
    )
    problems, evidence, note = dconf_in_force(ctx)
    keyfiles, _ = database_files(ctx)
    values = dconf_keyfiles(keyfiles)
    idle = uint32(values, IDLE_DELAY, problems, evidence)
    delay = uint32(values, LOCK_DELAY, problems, evidence)
    if idle is not None and not 0 < idle <= limit:
        problems.append(f"idle-delay {idle} s" + (" (0 = never idle)" if idle == 0 else ""))
    elif idle is not None and delay is not None and idle + delay > limit:
        problems.append(f"locks after idle-delay {idle} s + lock-delay {delay} s = {idle + delay} s")
    booleans(values, SCREEN_BOOLS, problems, evidence)
    console = console_tmout(ctx, limit, problems, evidence)
    desktop = f"locks after {idle} + {delay} s" if idle is not None and delay is not None else "lock delay unknown"
    ok = "; ".join(x for x in (f"GNOME {desktop}, lock-enabled", console, note) if x)
    if problems and note:
        problems.append(note)
    return verdict(problems, expected, ok, evidence)


@check(
    "SETTINGS-LOCKED",
    "linux",
    files=("/etc/dconf/profile/user", "/etc/dconf/db/local.d/*", "/etc/dconf/db/local.d/locks/*"),
    commands=("find /etc/dconf",),
)
def settings_locked(ctx: Ctx) -> Verdict:
    expected = "dconf locks in database local for " + ", ".join(short(k) for k in LOCKED_KEYS)
    problems, evidence, note = dconf_in_force(ctx)
    _, lock_files = database_files(ctx)
    locks = dconf_locks(lock_files)
    missing = [short(k) for k in LOCKED_KEYS if k not in locks]
    if missing:
        problems.append(f"not locked (a user can change them): {', '.join(missing)}")
    evidence += [f"{locks[k].where}: {k}" for k in LOCKED_KEYS if k in locks]
    if not lock_files:
        evidence.append(f"{LOCKS}: no lock file")
    ok = "; ".join(x for x in (f"all {len(LOCKED_KEYS)} keys locked", note) if x)
    if problems and note:
        problems.append(note)
    return verdict(problems, expected, ok, evidence)


@check(
    "AUTORUN",
    "linux",
    files=("/etc/dconf/profile/user", "/etc/dconf/db/local.d/*", "/etc/dconf/db/local.d/locks/*"),
    commands=("find /etc/dconf",),
)
def autorun(ctx: Ctx) -> Verdict:
    expected = "GNOME (dconf database local): automount false, automount-open false, autorun-never true"
    problems, evidence, note = dconf_in_force(ctx)
    keyfiles, _ = database_files(ctx)
    booleans(dconf_keyfiles(keyfiles), AUTORUN_KEYS, problems, evidence)
    ok = "; ".join(x for x in ("automount false, automount-open false, autorun-never true", note) if x)
    if problems and note:
        problems.append(note)
    return verdict(problems, expected, ok, evidence)


# ---- USB storage ---------------------------------------------------------------------------

# kmod's configuration folders, most important first: a file's name in an earlier folder hides
# the same name in a later one; the files are then read in name order.
MODPROBE_DIRS = (
    "/etc/modprobe.d/",
    "/run/modprobe.d/",
    "/usr/local/lib/modprobe.d/",
    "/lib/modprobe.d/",
    "/usr/lib/modprobe.d/",
)
USB_MODULES = ("usb_storage", "uas")
NO_OP = ("false", "true")


def modprobe_config(ctx: Ctx) -> list[tuple[str, int, list[str]]]:
    """The effective modprobe.d lines in kmod's reading order: (path, line, words)."""
    chosen: dict[str, str] = {}
    texts: dict[str, str] = {}
    for folder in MODPROBE_DIRS:
        for path, text in ctx.files(folder).items():
            name = path[len(folder) :]
            if "/" in name or not name.endswith(".conf"):
                continue
            chosen.setdefault(name, path)
            texts[path] = text
    lines = []
    for name in sorted(chosen):
        path = chosen[name]
        pending, start = "", 0
        for number, raw in enumerate(texts[path].splitlines(), 1):
            if not pending:
                start = number
            line = raw.rstrip()
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = (pending + line).strip(), ""
            if line and not line.startswith("#"):
                lines.append((path, start, line.split()))
    return lines


def module_name(name: str) -> str:
    return name.replace("-", "_")


def modprobe_blocks(ctx: Ctx, problems: list[str], evidence: list[str], modules=USB_MODULES) -> list[str]:
    """Each module's first install command (kmod runs the first it finds): the modules blocked."""
    lines = modprobe_config(ctx)
    blocked = []
    for module in map(module_name, modules):
        installs = [(p, n, w) for p, n, w in lines if w[0] == "install" and len(w) > 2 and module_name(w[1]) == module]
        blacklist = [(p, n) for p, n, w in lines if w[0] == "blacklist" and len(w) > 1 and module_name(w[1]) == module]
        evidence += [f"{p}:{n}: blacklist {module}" for p, n in blacklist]
        if not installs:
            problems.append(f"{module} can load (no `install {module} /bin/false` in modprobe.d)")
            read = ", ".join(dict.fromkeys(p for p, _, _ in lines)) or "no file with settings"
            evidence.append(f"read {' '.join(MODPROBE_DIRS)} ({read}): no `install {module}` line")
            continue
        path, number, words = installs[0]
        command = " ".join(words[2:])
        evidence.append(f"{path}:{number}: install {words[1]} {command}")
        if len(words) == 3 and words[2].rsplit("/", 1)[-1] in NO_OP:
            blocked.append(module)
        else:
            problems.append(f"{module} install command `{command}` loads it ({path}:{number})")
    return blocked


_IFACE = re.compile(r"with-interface\s+(?:(all-of|one-of|none-of|equals|equals-ordered|match-all)\s+)?(\{[^}]*\}|\S+)")


def usbguard_rules(ctx: Ctx) -> list[parse.Setting]:
    """Rules in the order USBGuard loads them: RuleFile, then RuleFolder's *.conf by name."""
    rules = []
    texts = [("/etc/usbguard/rules.conf", ctx.file("/etc/usbguard/rules.conf", required=False) or "")]
    texts += sorted(ctx.files("/etc/usbguard/rules.d/").items())
    for path, text in texts:
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line and not line.startswith("#"):
                rules.append(parse.Setting(line, path, number))
    return rules


def interfaces(rule: str) -> tuple[str | None, list[str]] | None:
    """(operator, interface patterns) of a rule's with-interface, None when it has none."""
    match = _IFACE.search(rule)
    if not match:
        return None
    return match.group(1), match.group(2).strip("{}").split()


def is_storage(pattern: str) -> bool:
    return pattern.split(":", 1)[0] in ("08", "*")


def admits_no_storage(rule: str) -> bool:
    """An allow rule that cannot match a device with a mass-storage (08) interface."""
    found = interfaces(rule)
    if found is None:
        return False
    operator, patterns = found
    if operator == "none-of":
        return "08:*:*" in patterns or "*:*:*" in patterns
    return operator in (None, "equals", "equals-ordered") and not any(is_storage(p) for p in patterns)


def closes_storage(rule: str) -> bool:
    """A block/reject rule, with no other condition, for every device with a mass-storage interface."""
    match = _IFACE.search(rule)
    if not match:
        return False
    rest = (rule[: match.start()] + rule[match.end() :]).split()
    patterns = match.group(2).strip("{}").split()
    return len(rest) == 1 and match.group(1) == "one-of" and "08:*:*" in patterns


_ID = re.compile(r"\bid\s+([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\b")


def usbguard(ctx: Ctx, allowed: list[str], problems: list[str], evidence: list[str]) -> str:
    allowed_ids = {a.lower() for a in allowed}
    rules = usbguard_rules(ctx)
    if not rules:
        problems.append("no USBGuard rule (/etc/usbguard/rules.conf, rules.d)")
    granted, closed = set(), False
    for rule in rules:
        target = rule.value.split()[0]
        if target in ("block", "reject") and closes_storage(rule.value):
            closed = True
            evidence.append(f"{rule.where}: {rule.value}")
            continue
        if target != "allow" or closed:
            continue
        ident = _ID.search(rule.value)
        if ident and f"{ident.group(1)}:{ident.group(2)}".lower() in allowed_ids:
            granted.add(f"{ident.group(1)}:{ident.group(2)}".lower())
            evidence.append(f"{rule.where}: {rule.value}")
        elif admits_no_storage(rule.value):
            evidence.append(f"{rule.where}: {rule.value}")
        else:
            problems.append(f"`{rule.value}` may admit USB storage not in the allow-list ({rule.where})")
    missing = sorted(allowed_ids - granted)
    if missing:
        problems.append(f"allow-list device(s) without an allow rule: {', '.join(missing)}")
    conf_path = "/etc/usbguard/usbguard-daemon.conf"
    conf = parse.settings(ctx.file(conf_path, required=False) or "", conf_path, style="shell")
    for key, default, good in (
        ("ImplicitPolicyTarget", "block", ("block", "reject")),
        ("PresentDevicePolicy", "apply-policy", ("apply-policy", "block", "reject")),
        ("InsertedDevicePolicy", "apply-policy", ("apply-policy", "block", "reject")),
    ):
        setting = conf.get(key)
        value = setting.value if setting else default
        evidence.append(f"{setting.where}: {key}={value}" if setting else f"{conf_path}: {key} unset ({default})")
        if value not in good:
            problems.append(f"USBGuard {key}={value}")
    unit = ctx.command("systemctl show usbguard")
    if unit is None:
        raise Unreadable("systemctl show usbguard: systemctl is not installed")
    state = dict(line.partition("=")[::2] for line in unit["stdout"].splitlines())
    evidence.append(
        "systemctl show usbguard: "
        + ", ".join(f"{k}={state.get(k, '')}" for k in ("LoadState", "UnitFileState", "ActiveState"))
    )
    controllers = ctx.files("/sys/bus/usb/devices/")
    if state.get("LoadState") != "loaded":
        problems.append("usbguard is not installed")
    elif state.get("UnitFileState") != "enabled":
        problems.append(f"usbguard.service is {state.get('UnitFileState') or 'not enabled'}")
    elif state.get("ActiveState") != "active":
        if controllers:
            problems.append(f"usbguard.service is {state.get('ActiveState')}: the rules are not enforced")
        else:
            return "no USB controller on this host (/sys/bus/usb): the daemon cannot run, judged on its configuration"
    return "USBGuard " + state.get("ActiveState", "")


@check(
    "USB-STORAGE",
    "linux",
    files=(
        "/etc/modprobe.d/*.conf",
        "/run/modprobe.d/*.conf",
        "/usr/local/lib/modprobe.d/*.conf",
        "/lib/modprobe.d/*.conf",
        "/usr/lib/modprobe.d/*.conf",
        "/etc/usbguard/rules.conf",
        "/etc/usbguard/rules.d/*.conf",
        "/etc/usbguard/usbguard-daemon.conf",
        "/sys/bus/usb/devices/usb*/idVendor",
    ),
    commands=("systemctl show usbguard",),
)
def usb_storage(ctx: Ctx) -> Verdict:
    allowed, use_usbguard = ctx.params["allowed_devices"], ctx.params["use_usbguard"]
    others = ctx.params["other_media_modules"]
    problems, evidence = [], []
    other_expected = f"; never loaded either: {', '.join(others)}" if others else ""
    other_blocked = modprobe_blocks(ctx, problems, evidence, others) if others else []
    other_ok = f"; {len(other_blocked)} FireWire, Thunderbolt and media file system modules blocked" if others else ""
    if use_usbguard:
        expected = (
            "USBGuard enabled and running, ImplicitPolicyTarget block; devices with a mass-storage interface "
            f"allowed only by id: {', '.join(allowed) or 'none'}"
        ) + other_expected
        state = usbguard(ctx, allowed, problems, evidence)
        ok = f"{state}; storage allowed only for {', '.join(allowed) or 'no device'}" + other_ok
        return verdict(problems, expected, ok, evidence)
    expected = "usb-storage and uas never load: `install <module> /bin/false` (or /bin/true) in modprobe.d"
    expected += other_expected
    blocked = modprobe_blocks(ctx, problems, evidence)
    ok = f"{' and '.join(blocked)} blocked (modprobe.d install /bin/false)" + other_ok
    if allowed:
        ok += f"; allowed_devices {', '.join(allowed)} not usable without use_usbguard (all USB storage blocked)"
    return verdict(problems, expected, ok, evidence)


# ---- PW-NOSTORE (第50条(8)) ------------------------------------------------------------------

# Where each browser reads its machine-wide (mandatory) policy on Linux, and the policies that
# must be off. Firefox: https://mozilla.github.io/policy-templates/ (policies.json in
# /etc/firefox/policies); Chromium and Chrome: every *.json of the managed directory
# (chromium.org "Linux Quick Start", the Chrome Enterprise policy list: PasswordManagerEnabled).
BROWSER_POLICIES = {
    "firefox": ("/etc/firefox/policies/policies.json", ("PasswordManagerEnabled", "OfferToSaveLogins")),
    "chromium": ("/etc/chromium/policies/managed/", ("PasswordManagerEnabled",)),
    "chrome": ("/etc/opt/chrome/policies/managed/", ("PasswordManagerEnabled",)),
}


def policy_documents(ctx: Ctx, browser: str) -> dict[str, dict]:
    """Path → the policies of each of this browser's mandatory policy files (Firefox nests
    them under "policies"); a file that is not a JSON object maps to {"": reason}."""
    location, _ = BROWSER_POLICIES[browser]
    if location.endswith("/"):
        texts = {p: t for p, t in ctx.files(location).items() if p.endswith(".json")}
    else:
        text = ctx.file(location, required=False)
        texts = {} if text is None else {location: text}
    out = {}
    for path, text in texts.items():
        try:
            doc = json.loads(text)
        except ValueError as exc:
            out[path] = {"": f"not valid JSON ({exc.msg}, line {exc.lineno}): the browser ignores it"}
            continue
        if browser == "firefox":
            doc = doc.get("policies") if isinstance(doc, dict) else None
        out[path] = doc if isinstance(doc, dict) else {"": "not a JSON object of policies"}
    return out


# Core dumps (第70条): a dump of a process's memory can hold the passwords it handled.
# pam_limits(8): limits.conf, then limits.d/*.conf in C-locale order; a later line of the same
# kind of domain replaces an earlier one, and a user's or group's line beats the wildcard's.
LIMITS = "/etc/security/limits.conf"
LIMITS_DIR = "/etc/security/limits.d/"
COREDUMP = "/etc/systemd/coredump.conf"
COREDUMP_DIRS = tuple(f"{d}/systemd/coredump.conf.d/" for d in ("/usr/lib", "/usr/local/lib", "/run", "/etc"))


def limit_lines(ctx: Ctx, item: str) -> list[tuple[str, str, str, parse.Setting]]:
    """(domain, type, value, where) of every pam_limits line of `item`, in the order pam_limits reads them."""
    files = [(LIMITS, ctx.file(LIMITS, required=False))]
    extra = ctx.files(LIMITS_DIR).items()
    files += sorted((p, t) for p, t in extra if p.endswith(".conf") and "/" not in p[len(LIMITS_DIR) :])
    out = []
    for path, text in files:
        for number, line in parse._lines(text or ""):
            words = line.split()
            if len(words) == 4 and words[2] == item:
                out.append((words[0], words[1], words[3], parse.Setting(words[3], path, number)))
    return out


def core_dumps(ctx: Ctx, problems: list[str], evidence: list[str]) -> str:
    """Core dumps off: `* hard core 0` (and no user or group above 0), fs.suid_dumpable 0 in the
    sysctl files, systemd-coredump Storage=none and ProcessSizeMax=0."""
    hard: dict[str, parse.Setting] = {}  # domain → its last hard core line (the one pam_limits keeps)
    for domain, kind, _value, setting in limit_lines(ctx, "core"):
        if kind in ("hard", "-"):
            hard[domain] = setting
    evidence += [f"{s.where}: {d} hard core {s.value}" for d, s in hard.items()]
    if "*" not in hard:
        problems.append(f"no `* hard core 0` in {LIMITS} or {LIMITS_DIR} (core dumps allowed)")
    for domain, setting in hard.items():
        if setting.value != "0":
            beats = "" if domain == "*" else f": beats the wildcard for {domain}"
            problems.append(f"{domain} hard core {setting.value} ({setting.where}){beats}")
    suid = sysctl_effective(sysctl_files(ctx), ["fs.suid_dumpable"]).get("fs.suid_dumpable")
    if suid is None:
        problems.append("fs.suid_dumpable not set in the sysctl files")
        evidence.append("sysctl files: no fs.suid_dumpable")
    else:
        evidence.append(f"{suid.where}: fs.suid_dumpable = {suid.value}")
        if suid.value != "0":
            problems.append(f"fs.suid_dumpable = {suid.value} ({suid.where})")
    values: dict[str, parse.Setting] = {}
    text = ctx.file(COREDUMP, required=False)
    if text is not None:
        values.update(ini_section(text, COREDUMP, "Coredump"))
    for path, extra in dropins(ctx, COREDUMP_DIRS, ".conf"):
        values.update(ini_section(extra, path, "Coredump"))
    for key, good in (("Storage", ("none",)), ("ProcessSizeMax", ("0", "0B"))):
        setting = values.get(key)
        if setting is None:
            problems.append(f"systemd-coredump {key} not set (its default keeps dumps)")
            evidence.append(f"{COREDUMP} and coredump.conf.d: no {key}")
        else:
            evidence.append(f"{setting.where}: {key}={setting.value}")
            if setting.value not in good:
                problems.append(f"systemd-coredump {key}={setting.value} ({setting.where})")
    return "core dumps off"


# umask (第16条, 第70条): login.defs UMASK (pam_umask, useradd) and the login shells' umask.
_UMASK_RE = re.compile(r"^umask\s+(?:--\s+)?([0-7]{1,4})\s*(?:$|[;&|])")
_UMASK_ANY_RE = re.compile(r"^umask\b(?!\s+-S\s*$)")


def umask_ok(value: str, wanted: str) -> bool:
    """An octal umask masks at least the bits of wanted."""
    return int(wanted, 8) & ~int(value, 8) == 0


def default_umask(ctx: Ctx, wanted: str, problems: list[str], evidence: list[str]) -> str:
    defs = parse.settings(ctx.file(LOGIN_DEFS), LOGIN_DEFS, "space").get("UMASK")
    if defs is None:
        problems.append(f"UMASK not set in {LOGIN_DEFS} (pam_umask and useradd use 022)")
        evidence.append(f"{LOGIN_DEFS}: no UMASK line")
    else:
        evidence.append(f"{defs.where}: UMASK {defs.value}")
        if not re.fullmatch(r"[0-7]{1,4}", defs.value) or not umask_ok(defs.value, wanted):
            problems.append(f"login.defs UMASK {defs.value} ({defs.where})")
    shell_files = {p: ctx.file(p, required=False) or "" for p in SHELL_FILES}
    shell_files.update({p: t for p, t in ctx.files("/etc/profile.d/").items() if p.endswith(".sh")})
    last = None
    for path in sorted(shell_files):  # as parse.tmout reads them: /etc/bash.bashrc, /etc/profile, profile.d/*
        for number, line in parse._lines(shell_files[path]):
            match = _UMASK_RE.match(line)
            if match:
                last = parse.Setting(match.group(1), path, number)
                evidence.append(f"{last.where}: umask {last.value}")
            elif _UMASK_ANY_RE.match(line):
                last = parse.Setting(line, path, number)  # symbolic or computed: not an octal lgsec can judge
                evidence.append(f"{last.where}: {line}")
    if last is None:
        problems.append("no umask in /etc/profile, /etc/bash.bashrc or /etc/profile.d (login shells keep 022)")
    elif not re.fullmatch(r"[0-7]{1,4}", last.value):
        problems.append(f"shell umask `{last.value}` ({last.where}) is not an octal lgsec can judge")
    elif not umask_ok(last.value, wanted):
        problems.append(f"shell umask {last.value} ({last.where})")
    return f"umask {wanted} or stricter"


@check(
    "PW-NOSTORE",
    "linux",
    files=(
        "/etc/firefox/policies/policies.json",
        "/etc/chromium/policies/managed/*.json",
        "/etc/opt/chrome/policies/managed/*.json",
        LIMITS,
        f"{LIMITS_DIR}*.conf",
        COREDUMP,
        *(f"{d}*.conf" for d in COREDUMP_DIRS),
        "/etc/sysctl.conf",
        "/etc/sysctl.d/*.conf",
        "/run/sysctl.d/*.conf",
        "/usr/local/lib/sysctl.d/*.conf",
        "/usr/lib/sysctl.d/*.conf",
        LOGIN_DEFS,
        *SHELL_STARTUP,
    ),
)
def pw_nostore(ctx: Ctx) -> Verdict:
    browsers = list(ctx.params["browsers"])  # validated against the catalog's choices
    expected = "password manager off by machine policy for " + ", ".join(browsers)
    problems, evidence = [], []
    extra = []
    if not ctx.params["core_dumps"]:
        expected += "; core dumps off (* hard core 0, fs.suid_dumpable 0, systemd-coredump Storage=none"
        expected += " and ProcessSizeMax=0)"
        extra.append(core_dumps(ctx, problems, evidence))
    wanted = ctx.params["umask"]
    expected += f"; default umask {wanted} or stricter (login.defs UMASK, login shells)"
    extra.append(default_umask(ctx, wanted, problems, evidence))
    for browser in browsers:
        location, keys = BROWSER_POLICIES[browser]
        docs = policy_documents(ctx, browser)
        for path, doc in docs.items():
            if "" in doc:
                problems.append(f"{path}: {doc['']}")
        if not docs:
            problems.append(f"{browser}: no policy in {location}")
            evidence.append(f"read {location}: no {'policy file' if location.endswith('/') else 'such file'}")
            continue
        for key in keys:
            values = {path: doc[key] for path, doc in docs.items() if key in doc}
            evidence += [f"{path}: {key} = {json.dumps(value)}" for path, value in values.items()]
            wrong = [path for path, value in values.items() if value is not False]
            if not values:
                problems.append(f"{browser}: {key} not set in {location}")
                evidence.append(f"read {', '.join(docs)}: no {key}")
            elif wrong:
                problems.append(f"{browser}: {key} is not false in {', '.join(wrong)}")
    return verdict(problems, expected, "; ".join(["off for " + ", ".join(browsers), *extra]), evidence)
