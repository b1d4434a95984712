"""Linux checks: account and password controls (CONTROLS.md section A)."""

from __future__ import annotations

import fnmatch

from lgsec import parse
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import DAY, verdict

PWQUALITY = "/etc/security/pwquality.conf"
FAILLOCK = "/etc/security/faillock.conf"
PWHISTORY = "/etc/security/pwhistory.conf"
LOGIN_DEFS = "/etc/login.defs"
USERADD = "/etc/default/useradd"
# What the checks below read beside their own files (their declarations)
PWQUALITY_READS = (PWQUALITY, "/etc/security/pwquality.conf.d/*.conf")
SUDOERS = ("/etc/sudoers", "/etc/sudoers.d/*")
SHELL_STARTUP = ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc", "/etc/profile.d/*.sh")


# ---- PAM -------------------------------------------------------------------------------


def pam_stack(ctx: Ctx, kind: str) -> list[parse.PamLine]:
    """The PAM stack shared by all services: Debian common-<kind>, RHEL system-auth."""
    debian = f"/etc/pam.d/common-{kind}"
    text = ctx.file(debian, required=False)
    if text is not None:
        return parse.pam(text, debian)
    lines = []
    for path in ("/etc/pam.d/system-auth", "/etc/pam.d/password-auth"):
        text = ctx.file(path, required=False)
        if text is not None:
            lines += [p for p in parse.pam(text, path) if p.type == kind]
    if not lines:
        raise Unreadable(f"{debian}: no shared PAM {kind} stack (common-{kind} or system-auth) found")
    return lines


def pam_files(*kinds: str) -> tuple[str, ...]:
    """The files pam_stack reads for these kinds (for a check's declaration)."""
    return (*(f"/etc/pam.d/common-{kind}" for kind in kinds), "/etc/pam.d/system-auth", "/etc/pam.d/password-auth")


def stack_read(lines: list[parse.PamLine], kind: str, module: str) -> str:
    """Evidence that a module is absent: which stack files were read and what they hold."""
    paths = ", ".join(dict.fromkeys(line.path for line in lines)) or f"the {kind} stack"
    modules = ", ".join(dict.fromkeys(line.module for line in lines)) or "no rule"
    return f"read {paths} ({kind}: {len(lines)} rules: {modules}): no {module} line"


def find_module(lines: list[parse.PamLine], module: str, ptype: str | None = None) -> list[parse.PamLine]:
    return [p for p in lines if p.module == module and (ptype is None or p.type == ptype)]


def effective(ctx: Ctx, conf: str, lines: list[parse.PamLine], conf_dir: str | None = None) -> dict[str, parse.Setting]:
    """A PAM module's settings as it applies them: its .conf file, then conf.d files in order,
    then the arguments on its PAM lines (which override the files)."""
    values: dict[str, parse.Setting] = {}
    text = ctx.file(conf, required=False)
    if text is not None:
        values.update(parse.settings(text, conf))
    for path, extra in sorted(ctx.files(conf_dir).items()) if conf_dir else ():
        values.update(parse.settings(extra, path))
    for line in lines:
        for arg in line.args:
            key, _, value = arg.partition("=")
            values[key] = parse.Setting(value, line.path, line.line)
    return values


def pwquality(ctx: Ctx) -> tuple[dict[str, parse.Setting], list[str], list[str]]:
    """Effective pwquality settings: pwquality.conf, then conf.d (later wins), then PAM arguments.
    Returns (settings, problems, evidence)."""
    stack = pam_stack(ctx, "password")
    lines = find_module(stack, "pam_pwquality.so")
    if not lines:
        where = stack[0].path if stack else "common-password"
        return {}, [f"pam_pwquality is not in the password stack ({where})"], [f"{where}: no pam_pwquality line"]
    values = effective(ctx, PWQUALITY, lines[:1], "/etc/security/pwquality.conf.d/")
    return values, [], [f"{lines[0].where}: {lines[0].text}"]


def setting_int(values: dict[str, parse.Setting], key: str, default: int) -> tuple[int, str]:
    """An integer setting and where it came from ('default' when unset)."""
    setting = values.get(key)
    if setting is None:
        return default, f"{key} unset (default {default})"
    try:
        return int(setting.value), f"{setting.where}: {key} = {setting.value}"
    except ValueError:
        return default, f"{setting.where}: {key} = {setting.value!r} is not a number"


@check("PW-LENGTH", "linux", files=(*PWQUALITY_READS, *pam_files("password")))
def pw_length(ctx: Ctx) -> Verdict:
    want = ctx.params["min"]
    expected = f"pam_pwquality minlen >= {want}, enforce_for_root"
    values, problems, evidence = pwquality(ctx)
    if not problems:
        minlen, where = setting_int(values, "minlen", 8)  # pwquality's built-in default
        evidence.append(where)
        if minlen < want:
            problems.append(f"minlen = {minlen}")
        if "enforce_for_root" not in values:
            problems.append("enforce_for_root not set (root may choose a short password)")
        return verdict(problems, expected, f"minlen = {minlen}, enforce_for_root", evidence)
    return verdict(problems, expected, "", evidence)


@check("PW-COMPLEXITY", "linux", files=(*PWQUALITY_READS, *pam_files("password")))
def pw_complexity(ctx: Ctx) -> Verdict:
    want, dictcheck = ctx.params["minclass"], ctx.params["dictcheck"]
    expected = f"pam_pwquality minclass >= {want}" + (", dictcheck on" if dictcheck else "")
    values, problems, evidence = pwquality(ctx)
    if problems:
        return verdict(problems, expected, "", evidence)
    minclass, where = setting_int(values, "minclass", 0)
    evidence.append(where)
    if minclass < want:
        problems.append(f"minclass = {minclass}")
    check_dict, where = setting_int(values, "dictcheck", 1)
    evidence.append(where)
    if dictcheck and check_dict == 0:
        problems.append("dictcheck = 0")
    return verdict(problems, expected, f"minclass = {minclass}, dictcheck = {check_dict}", evidence)


@check("PW-HISTORY", "linux", files=(PWHISTORY, *pam_files("password")))
def pw_history(ctx: Ctx) -> Verdict:
    want = ctx.params["remember"]
    expected = f"pam_pwhistory remember >= {want} in the password stack"
    stack = pam_stack(ctx, "password")
    lines = find_module(stack, "pam_pwhistory.so")
    if not lines:
        where = stack[0].path if stack else "common-password"
        evidence = [f"{where}: no pam_pwhistory line"]
        return Verdict("fail", expected, "pam_pwhistory is not in the password stack", evidence)
    values = effective(ctx, PWHISTORY, lines[:1])
    remember, where = setting_int(values, "remember", 10)  # pam_pwhistory's built-in default
    evidence = [f"{lines[0].where}: {lines[0].text}", where]
    problems = [f"remember = {remember}"] if remember < want else []
    return verdict(problems, expected, f"remember = {remember}", evidence)


# ---- sysctl (KERNEL-NET, PW-NOSTORE) -------------------------------------------------------

# sysctl.d(5): files of the same name in an earlier directory replace those in later ones;
# then all are applied in the lexicographic order of their names. procps' `sysctl --system`
# applies /etc/sysctl.conf after them.
SYSCTL_DIRS = ("/etc/sysctl.d/", "/run/sysctl.d/", "/usr/local/lib/sysctl.d/", "/usr/lib/sysctl.d/")
SYSCTL_CONF = "/etc/sysctl.conf"


def sysctl_files(ctx: Ctx) -> list[tuple[str, str]]:
    """(path, text) of the sysctl configuration in the order it is applied."""
    by_name: dict[str, tuple[str, str]] = {}
    for folder in reversed(SYSCTL_DIRS):  # the earlier folder wins a name: apply it last
        for path, text in ctx.files(folder).items():
            name = path[len(folder) :]
            if "/" not in name and name.endswith(".conf"):
                by_name[name] = (path, text)
    ordered = [by_name[name] for name in sorted(by_name)]
    main = ctx.file(SYSCTL_CONF, required=False)
    if main is not None:
        ordered.append((SYSCTL_CONF, main))
    return ordered


def sysctl_key(raw: str) -> str:
    """sysctl.d(5): a key whose first separator is '/' uses '/' throughout."""
    key = raw.strip().lstrip("-").strip()
    return key.replace("/", ".") if "/" in key.split(".", 1)[0] else key


def sysctl_effective(files: list[tuple[str, str]], keys: list[str]) -> dict[str, parse.Setting]:
    """The value each key gets from the files (later assignments win; glob keys apply to the keys they match)."""
    out: dict[str, parse.Setting] = {}
    for path, text in files:
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key = sysctl_key(key)
            setting = parse.Setting(" ".join(value.split()), path, number)
            if any(c in key for c in "*?["):
                for wanted in keys:
                    if fnmatch.fnmatchcase(wanted, key):
                        out[wanted] = setting
            else:
                out[key] = setting
    return out


# ---- accounts ----------------------------------------------------------------------------


def privileged_accounts(ctx: Ctx) -> dict[str, str]:
    """Account → why it is privileged: root, members (or primary members) of the privileged
    groups, and users or groups granted rules in sudoers."""
    groups = parse.groups(ctx.file("/etc/group"))
    users = parse.passwd(ctx.file("/etc/passwd"))
    priv_groups = [g for g in ctx.param("PRIV-MEMBERS", "groups") if g in groups]
    sudo_files = {p: t for p, t in ctx.files("/etc/sudoers").items()}
    rules, _ = parse.sudoers(sudo_files)
    why: dict[str, str] = {u.name: "uid 0" for u in users if u.uid == 0}
    for rule in rules:
        if rule.who.startswith("%"):
            name = rule.who[1:]
            if name in groups and name not in priv_groups:
                priv_groups.append(name)
        elif rule.who != "root":
            why.setdefault(rule.who, f"sudoers rule {rule.path}:{rule.line}")
    for name in priv_groups:
        group = groups[name]
        for member in group.members:
            why.setdefault(member, f"member of {name} (/etc/group:{group.line})")
        for user in users:
            if user.gid == group.gid:
                why.setdefault(user.name, f"primary group {name} (/etc/passwd:{user.line})")
    return why


@check("PW-MAXAGE", "linux", files=(LOGIN_DEFS, "/etc/group", "/etc/passwd", *SUDOERS), facts=("shadow",))
def pw_maxage(ctx: Ctx) -> Verdict:
    limit, priv_limit = ctx.params["max_days"], ctx.params["privileged_max_days"]
    expected = f"PASS_MAX_DAYS <= {limit}; every password <= {limit} days (privileged <= {priv_limit})"
    defs = parse.settings(ctx.file(LOGIN_DEFS), LOGIN_DEFS, style="space")
    default, where = setting_int(defs, "PASS_MAX_DAYS", 99999)
    problems = [f"PASS_MAX_DAYS = {default}"] if default > limit else []
    evidence = [where]
    shadow = ctx.fact("shadow")
    privileged = privileged_accounts(ctx)
    for name, entry in sorted(shadow.items()):
        if entry["state"] != "set":
            continue
        allowed = priv_limit if name in privileged else limit
        max_days = entry["max_days"]
        if max_days is None or max_days > allowed:
            shown = "none" if max_days is None else max_days
            problems.append(f"{name}: max {shown} days (limit {allowed})")
            evidence.append(f"/etc/shadow:{entry['line']} {name} max_days={shown}")
    return verdict(problems, expected, f"PASS_MAX_DAYS = {default}; all passwords within limits", evidence)


@check("PW-EMPTY", "linux", files=pam_files("auth", "password"), commands=("sshd -T",), facts=("shadow",))
def pw_empty(ctx: Ctx) -> Verdict:
    expected = "no account with an empty password; no nullok in PAM; sshd PermitEmptyPasswords no"
    problems, evidence = [], []
    for name, entry in sorted(ctx.fact("shadow").items()):
        if entry["state"] == "empty":
            problems.append(f"{name} has an empty password")
            evidence.append(f"/etc/shadow:{entry['line']} {name}: empty password field")
    for kind in ("auth", "password"):
        for line in find_module(pam_stack(ctx, kind), "pam_unix.so"):
            if line.arg("nullok") is not None or line.arg("nullok_secure") is not None:
                problems.append(f"nullok on pam_unix ({line.where})")
                evidence.append(f"{line.where}: {line.text}")
    sshd = ctx.command("sshd -T")
    if sshd is not None:
        value = parse.sshd_t(sshd["stdout"]).get("permitemptypasswords", "no")
        evidence.append(f"sshd -T: permitemptypasswords {value}")
        if value != "no":
            problems.append(f"sshd PermitEmptyPasswords {value}")
    return verdict(problems, expected, "none found", evidence)


@check("LOCKOUT", "linux", files=(FAILLOCK, "/etc/group", *pam_files("auth", "account")))
def lockout(ctx: Ctx) -> Verdict:
    deny, unlock, root_unlock = (ctx.params[k] for k in ("deny", "unlock_time", "root_unlock_time"))
    expected = (
        f"pam_faillock preauth/authfail/account; deny <= {deny}, unlock_time >= {unlock}s, "
        f"even_deny_root, root_unlock_time >= {root_unlock}s; admin_group = the first privileged group "
        "present (PRIV-MEMBERS.groups: its members locked as long as root)"
    )
    auth_stack, account_stack = pam_stack(ctx, "auth"), pam_stack(ctx, "account")
    auth = find_module(auth_stack, "pam_faillock.so")
    account = find_module(account_stack, "pam_faillock.so")
    modes = {mode for line in auth for mode in ("preauth", "authfail") if line.arg(mode) is not None}
    problems = [f"pam_faillock {m} missing from the auth stack" for m in ("preauth", "authfail") if m not in modes]
    if not account:
        problems.append("pam_faillock missing from the account stack")
    evidence = [f"{line.where}: {line.text}" for line in auth + account]
    if not auth:
        evidence.append(stack_read(auth_stack, "auth", "pam_faillock.so"))
    if not account:
        evidence.append(stack_read(account_stack, "account", "pam_faillock.so"))
    if problems:
        return verdict(problems, expected, "", evidence)
    values = effective(ctx, FAILLOCK, auth)
    got_deny, where = setting_int(values, "deny", 3)
    evidence.append(where)
    if not 0 < got_deny <= deny:
        problems.append(f"deny = {got_deny}")
    got_unlock, where = setting_int(values, "unlock_time", 600)
    evidence.append(where)
    if 0 < got_unlock < unlock:  # 0 = locked until an administrator unlocks: stricter
        problems.append(f"unlock_time = {got_unlock}")
    if "even_deny_root" not in values:
        problems.append("even_deny_root not set (root is never locked)")
    else:
        evidence.append(f"{values['even_deny_root'].where}: even_deny_root")
        got_root, where = setting_int(values, "root_unlock_time", got_unlock)
        evidence.append(where)
        if 0 < got_root < root_unlock:
            problems.append(f"root_unlock_time = {got_root}")
    # roles/accounts: admin_group = the first of PRIV-MEMBERS' groups in /etc/group (faillock takes one)
    groups = parse.groups(ctx.file("/etc/group"))
    present = [g for g in ctx.param("PRIV-MEMBERS", "groups") if g in groups]
    admin = values.get("admin_group")
    if admin is not None:
        evidence.append(f"{admin.where}: admin_group = {admin.value}")
    if not present:
        evidence.append(f"/etc/group: none of {', '.join(ctx.param('PRIV-MEMBERS', 'groups'))} (no admin_group needed)")
    elif admin is None or admin.value != present[0]:
        shown = admin.value if admin is not None else "not set"
        problems.append(f"admin_group = {shown}, not {present[0]} (its members are not locked as long as root)")
    ok = f"deny = {got_deny}, unlock_time = {got_unlock}, even_deny_root"
    return verdict(problems, expected, ok + (f", admin_group = {present[0]}" if present else ""), evidence)


# ---- privileged operations (第69条1): cron and at, the files that grant them, su -------------

PRIVILEGED_PATHS = "find privileged paths"  # lgsec_linux_facts: "%m\t%U\t%G\t%y\t%p" of each path
CRON_DIRS = tuple(f"/etc/cron.{d}" for d in ("d", "hourly", "daily", "weekly", "monthly"))
PRIVILEGED_MODES = {
    **dict.fromkeys(CRON_DIRS, 0o700),
    "/etc/crontab": 0o600,
    "/etc/ssh/sshd_config": 0o600,
    "/etc/cron.allow": 0o644,  # the allow lists: root's, not writable by others
    "/etc/at.allow": 0o644,
}
SU_PAM = "/etc/pam.d/su"


def allow_list(ctx: Ctx, tool: str, allowed: set[str], problems: list[str], evidence: list[str]) -> None:
    """cron(8)/at(1): /etc/<tool>.allow is read first and, when present, only the names on it may
    use the tool (a line is a name as written; cron and at know no comments); without it
    /etc/<tool>.deny is read, and without both everyone may (Debian) — an allow list is required."""
    allow_path, deny_path = f"/etc/{tool}.allow", f"/etc/{tool}.deny"
    text = ctx.file(allow_path, required=False)
    deny = ctx.file(deny_path, required=False)
    if deny is not None:
        problems.append(f"{deny_path} present (remove it: {allow_path} is the list)")
        evidence.append(f"{deny_path}: present")
    if text is None:
        problems.append(f"no {allow_path}: every user may use {tool}")
        evidence.append(f"{allow_path}: not present")
        return
    names = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    evidence.append(f"{allow_path}: {', '.join(repr(n) if n != n.strip() else n for n in names) or 'no name'}")
    extra = sorted({n for n in names if n not in allowed})
    if extra:
        problems.append(f"{allow_path} allows {', '.join(extra)} (not in cron_allow)")


def privileged_modes(ctx: Ctx, problems: list[str], evidence: list[str]) -> None:
    """The cron directories, crontab, sshd_config and the allow lists owned by root:root and no
    more open than PRIVILEGED_MODES; a path that is not there grants nothing."""
    result = ctx.facts.get("commands", {}).get(PRIVILEGED_PATHS)
    if PRIVILEGED_PATHS in ctx.facts.get("errors", {}) or result is None or result["rc"] is None:
        raise Unreadable(f"{PRIVILEGED_PATHS}: {ctx.facts.get('errors', {}).get(PRIVILEGED_PATHS, 'not gathered')}")
    seen = {}
    for line in result["stdout"].splitlines():
        fields = line.split("\t", 4)
        if len(fields) == 5 and fields[4] in PRIVILEGED_MODES:
            seen[fields[4]] = fields
    for path, limit in PRIVILEGED_MODES.items():
        if path not in seen:
            if f"'{path}': No such file or directory" not in result["stderr"]:
                raise Unreadable(f"{PRIVILEGED_PATHS}: {path} not listed ({result['stderr'][:200] or 'no reason'})")
            evidence.append(f"{path}: not present")
            continue
        mode, uid, gid, kind, _ = seen[path]
        evidence.append(f"{path}: {kind} {mode} uid {uid} gid {gid}")
        wrong = []
        if uid != "0" or gid != "0":
            wrong.append(f"owned by uid {uid} gid {gid}")
        if int(mode, 8) & ~limit:
            wrong.append(f"mode {int(mode, 8):04o}")
        if wrong:
            problems.append(f"{path} {' and '.join(wrong)} (want root:root {limit:04o})")


def su_limited(ctx: Ctx, group: str, problems: list[str], evidence: list[str]) -> None:
    """pam(8) reads /etc/pam.d/su top to bottom: an `auth required|requisite pam_wheel.so use_uid
    group=<group>` line (no trust) before any other rule that can end the auth stack with success
    (pam_rootok lets root alone through). A `deny` line only keeps its group out: not the limit."""
    text = ctx.file(SU_PAM, required=False)
    if text is None:
        evidence.append(f"{SU_PAM}: not present (su not installed)")
        return
    good, bad, before, denying = None, [], [], []
    for rule in (r for r in parse.pam(text, SU_PAM) if r.type == "auth"):
        if rule.module != "pam_wheel.so":
            ends = "sufficient" in rule.control or "done" in rule.control
            if good is None and ends and rule.module != "pam_rootok.so":
                before.append(f"{rule.where}: {rule.text}")
            continue
        evidence.append(f"{rule.where}: {rule.text}")
        if rule.arg("deny") is not None:  # keeps a group out of su; it does not limit su to one
            denying.append(rule.where)
            continue
        flaws = ["trust (members su without a password)"] if rule.arg("trust") is not None else []
        if rule.control not in ("required", "requisite"):
            flaws.append(f"control {rule.control}")
        if rule.arg("use_uid") is None:
            flaws.append("no use_uid")
        if rule.arg("group") != group:
            flaws.append(f"group={rule.arg('group')}" if rule.arg("group") else "no group= (wheel or gid 0)")
        if flaws:
            bad.append(f"{rule.where}: {', '.join(flaws)}")
        elif good is None:
            good = rule
    problems += [f"pam_wheel {b}" for b in bad]
    if good is None and not bad:
        only = f" (only deny lines, {', '.join(denying)}: they keep a group out)" if denying else ""
        problems.append(f"su not limited to a group: no active auth pam_wheel.so line in {SU_PAM}{only}")
        evidence.append(f"{SU_PAM}: no uncommented auth pam_wheel.so line limiting su to a group")
    elif good is not None and before:
        problems.append(f"{'; '.join(before)} can end the auth stack before pam_wheel")


@check(
    "PRIV-MEMBERS",
    "linux",
    files=(
        "/etc/group",
        "/etc/passwd",
        *SUDOERS,
        *(f"/etc/{tool}.{kind}" for tool in ("cron", "at") for kind in ("allow", "deny")),
        SU_PAM,
    ),
    commands=(PRIVILEGED_PATHS,),
)
def priv_members(ctx: Ctx) -> Verdict:
    approved = set(ctx.params["approved"]) | {"root"}
    cron_allow, su_group = set(ctx.params["cron_allow"]), ctx.params["su_group"]
    expected = (
        f"privileged accounts only: {', '.join(sorted(approved))}; "
        f"cron and at only for {', '.join(sorted(cron_allow))} "
        "(cron.allow, at.allow; no deny files); cron directories 0700, crontab and sshd_config 0600, root:root; "
        f"su only for group {su_group} (pam_wheel)"
    )
    privileged = privileged_accounts(ctx)
    extra = sorted(set(privileged) - approved)
    evidence = [f"{name}: {why}" for name, why in sorted(privileged.items())]
    problems = [f"not approved: {', '.join(extra)}"] if extra else []
    for tool in ("cron", "at"):
        allow_list(ctx, tool, cron_allow, problems, evidence)
    privileged_modes(ctx, problems, evidence)
    su_limited(ctx, su_group, problems, evidence)
    ok = f"{', '.join(sorted(privileged)) or 'none'}; cron and at for {', '.join(sorted(cron_allow))}"
    ok += f"; su for {su_group}"
    return verdict(problems, expected, ok, evidence)


@check("PRIV-DEFAULT-ID", "linux", commands=("sshd -T",))
def priv_default_id(ctx: Ctx) -> Verdict:
    expected = "sshd PermitRootLogin no (root is not used as shipped; admins log in by name)"
    sshd = ctx.command("sshd -T")
    if sshd is None:
        return Verdict("not_applicable", expected, "no SSH server installed", ["sshd: not installed"])
    value = parse.sshd_t(sshd["stdout"]).get("permitrootlogin", "")
    problems = [f"PermitRootLogin {value}"] if value != "no" else []
    return verdict(problems, expected, f"PermitRootLogin {value}", [f"sshd -T: permitrootlogin {value}"])


def idle_accounts(facts: dict, max_idle_days: int, exempt: list[str]) -> dict[str, str]:
    """Accounts with a usable password and no login for max_idle_days (never-used accounts
    count from their last password change). Account → why. Shared with the role's filter."""
    now = facts["collected_at"]
    lastlog = facts.get("lastlog", {})
    limit = now - max_idle_days * DAY
    idle = {}
    for name, entry in facts["shadow"].items():
        if entry["state"] != "set" or name in exempt:
            continue
        if entry["expire"] is not None and entry["expire"] * DAY <= now:
            continue  # account already expired
        last = lastlog.get(name)
        if last is not None:
            if last < limit:
                idle[name] = f"last login {(now - last) // DAY} days ago"
        elif entry["last_change"] == 0:
            continue  # temporary password, must be changed at first login (PW-TEMP): not yet in use
        elif entry["last_change"] is not None and entry["last_change"] * DAY < limit:
            idle[name] = f"never logged in; password set {(now - entry['last_change'] * DAY) // DAY} days ago"
    return idle


@check("ID-UNUSED", "linux", files=(USERADD,), facts=("shadow", "lastlog"))
def id_unused(ctx: Ctx) -> Verdict:
    days, inactive = ctx.params["max_idle_days"], ctx.params["inactive_days"]
    expected = f"no usable account idle > {days} days; useradd INACTIVE between 0 and {inactive}"
    defaults = parse.settings(ctx.file(USERADD), USERADD, style="shell")
    got, where = setting_int(defaults, "INACTIVE", -1)
    problems = [] if 0 <= got <= inactive else [f"INACTIVE = {got}"]
    ctx.fact("shadow")
    idle = idle_accounts(ctx.facts, days, ctx.params["exempt"])
    problems += [f"{name}: {why}" for name, why in sorted(idle.items())]
    evidence = [where, f"last logins from {ctx.facts.get('lastlog_source', 'unknown')}"]
    return verdict(problems, expected, f"INACTIVE = {got}; no idle account", evidence)


@check("SESSION-LIMIT", "linux", files=(*SHELL_STARTUP, *SUDOERS), commands=("sshd -T",))
def session_limit(ctx: Ctx) -> Verdict:
    tmout, interval, count, sudo_ts = (
        ctx.params[k] for k in ("tmout", "client_alive_interval", "client_alive_count_max", "sudo_timestamp_timeout")
    )
    expected = (
        f"readonly TMOUT <= {tmout}s; sshd ClientAliveInterval 1..{interval}, ClientAliveCountMax 1..{count}; "
        f"sudo timestamp_timeout <= {sudo_ts} min"
    )
    problems, evidence, actual = [], [], []
    shell_files = {p: ctx.file(p, required=False) or "" for p in ("/etc/profile", "/etc/bash.bashrc", "/etc/bashrc")}
    shell_files.update(ctx.files("/etc/profile.d/"))
    values, readonly = parse.tmout(shell_files)
    good = [v for v in values if 0 < int(v.value) <= tmout]
    evidence += [f"{v.where}: TMOUT={v.value}" for v in values] + [f"{r.where}: readonly TMOUT" for r in readonly]
    if not values:
        read = [p for p, text in shell_files.items() if text]
        evidence.append(f"read {', '.join(read) or 'no shell start-up file'}: no TMOUT= line")
    if not good:
        problems.append("TMOUT not set" if not values else f"TMOUT = {values[-1].value}")
    elif not readonly:
        problems.append("TMOUT not readonly (a user can unset it)")
    else:
        actual.append(f"TMOUT = {good[-1].value} readonly")
    sshd = ctx.command("sshd -T")
    if sshd is not None:
        conf = parse.sshd_t(sshd["stdout"])
        got_interval = int(conf.get("clientaliveinterval", "0"))
        got_count = int(conf.get("clientalivecountmax", "3"))
        evidence.append(f"sshd -T: clientaliveinterval {got_interval}, clientalivecountmax {got_count}")
        if not 0 < got_interval <= interval:
            problems.append(f"ClientAliveInterval {got_interval}")
        if not 0 < got_count <= count:
            problems.append(f"ClientAliveCountMax {got_count}")
        actual.append(f"ClientAliveInterval {got_interval}, ClientAliveCountMax {got_count}")
    sudo_files = ctx.files("/etc/sudoers")
    if "/etc/sudoers" in sudo_files:
        _, defaults = parse.sudoers(sudo_files)
        setting = defaults.get("timestamp_timeout")
        got_ts = float(setting.value) if setting else 15.0  # sudo's built-in default
        evidence.append(f"{setting.where}: timestamp_timeout={setting.value}" if setting else "timestamp_timeout unset")
        if got_ts < 0 or got_ts > sudo_ts:
            problems.append(f"sudo timestamp_timeout {got_ts:g}")
        actual.append(f"sudo timestamp_timeout {got_ts:g}")
    else:
        evidence.append("read /etc/sudoers: not present (sudo not installed)")
    if sshd is None:
        evidence.append("SSH server: not installed")
    return verdict(problems, expected, "; ".join(actual), evidence)
