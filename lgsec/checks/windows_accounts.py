"""Windows checks: identification, passwords, privileged IDs (CONTROLS.md section A).

The account policy is read from `secedit /export` ([System Access]), registry values from
`reg export`, accounts and groups from Get-LocalUser / Get-LocalGroupMember — all by SID:
Administrators S-1-5-32-544, the built-in Administrator RID 500, Guest RID 501 (names are
localised on a Japanese host and can be renamed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.checks.common import verdict

SECEDIT = "secedit.inf [System Access]"
LSA = r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa"
# Names the built-in Administrator ships with (English and the main localised names; the
# Japanese edition keeps "Administrator"). A rename to any of these is no rename.
DEFAULT_ADMIN_NAMES = {"administrator", "admin", "administrateur", "administrador", "administratör", "администратор"}


def policy_int(ctx: Ctx, key: str, evidence: list[str]) -> int | None:
    value = win.system_access(ctx, key)
    evidence.append(f"{SECEDIT}: {key} = {'unset' if value is None else value}")
    return value


@check("PW-LENGTH", "windows", files=("secedit.inf",))
def pw_length(ctx: Ctx) -> Verdict:
    want, priv = ctx.params["min"], ctx.params["privileged_min"]
    evidence: list[str] = []
    value = policy_int(ctx, "MinimumPasswordLength", evidence)
    evidence.append(f"Windows applies one minimum to every local account; privileged_min {priv} is not separable")
    problems = [] if value is not None and value >= want else [f"MinimumPasswordLength = {value}"]
    return verdict(problems, f"MinimumPasswordLength >= {want}", f"MinimumPasswordLength = {value}", evidence)


@check("PW-COMPLEXITY", "windows", files=("secedit.inf",))
def pw_complexity(ctx: Ctx) -> Verdict:
    evidence: list[str] = []
    value = policy_int(ctx, "PasswordComplexity", evidence)
    problems = [] if value == 1 else [f"PasswordComplexity = {value}"]
    if ctx.params["minclass"] > 3:
        problems.append(f"minclass {ctx.params['minclass']}: Windows complexity asks 3 of 4 character classes at most")
    if ctx.params["dictcheck"]:
        # Windows has no local dictionary check; complexity also refuses the account name.
        evidence.append("dictcheck: Windows' local policy has no dictionary check (complexity refuses the user name)")
    return verdict(problems, "PasswordComplexity = 1 (3 of 4 character classes)", "PasswordComplexity = 1", evidence)


@check("PW-HISTORY", "windows", files=("secedit.inf",))
def pw_history(ctx: Ctx) -> Verdict:
    want = ctx.params["remember"]
    evidence: list[str] = []
    value = policy_int(ctx, "PasswordHistorySize", evidence)
    problems = [] if value is not None and value >= want else [f"PasswordHistorySize = {value}"]
    return verdict(problems, f"PasswordHistorySize >= {want}", f"PasswordHistorySize = {value}", evidence)


@check("PW-MAXAGE", "windows", files=("secedit.inf", "users.json", "groups.json"))
def pw_maxage(ctx: Ctx) -> Verdict:
    """MaximumPasswordAge (days; 0 or -1 = never) and every enabled local account whose password
    never expires; members of Administrators must have changed theirs within privileged_max_days."""
    want, priv = ctx.params["max_days"], ctx.params["privileged_max_days"]
    evidence: list[str] = []
    value = policy_int(ctx, "MaximumPasswordAge", evidence)
    problems = [] if value is not None and 0 < value <= want else [f"MaximumPasswordAge = {value}"]
    now = win.as_of(ctx)
    admins = {m["SID"] for m in win.group(ctx, win.ADMINISTRATORS)["Members"]}
    for user in win.users(ctx):
        if not win.flag(user.get("Enabled")):
            continue
        name = f"{user.get('Name')} ({user['SID']})"
        if never_expires(user):
            problems.append(f"{name}: password never expires")
        last = win.ps_time(user.get("PasswordLastSet"))
        if user["SID"] in admins and last is not None and win.days_between(now, last) > priv:
            problems.append(f"{name}: administrator password {int(win.days_between(now, last))} days old (> {priv})")
        evidence.append(
            f"users.json: {name} PasswordLastSet {win.fmt_time(last)}, expires {user.get('PasswordExpires')}"
        )
    expected = f"MaximumPasswordAge 1..{want} days, no enabled account without expiry, administrators <= {priv} days"
    return verdict(problems, expected, f"MaximumPasswordAge = {value}", evidence)


def never_expires(user: dict) -> bool:
    """The account's "Password never expires" flag: PasswordNeverExpires, which the collector
    reads from Win32_UserAccount.PasswordExpires (learn.microsoft.com/windows/win32/cimwin32prov/
    win32-useraccount). Get-LocalUser's PasswordExpires is only a date and is null for a
    never-expiring password AND for a password that was never set (a provisioned account that
    must change it at first logon, PW-TEMP): null alone is not "never expires". Evidence
    without the flag: never expires = a password was set and still has no expiry date."""
    flag = win.flag(user.get("PasswordNeverExpires"))
    if flag is not None:
        return flag
    return user.get("PasswordExpires") is None and user.get("PasswordLastSet") is not None


@check("PW-EMPTY", "windows", files=("secedit.inf", "users.json", "registry/01-lsa.reg"))
def pw_empty(ctx: Ctx) -> Verdict:
    evidence: list[str] = []
    problems = []
    # "Minimum password length": 0 = no password required (a blank one can be set for any local
    # account); "Accounts: Limit local account use of blank passwords to console logon only"
    # blocks only network and remote logons with a blank password, never the console
    # (learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/threat-protection/
    # security-policy-settings/minimum-password-length and .../accounts-limit-local-account-use-
    # of-blank-passwords-to-console-logon-only).
    length = policy_int(ctx, "MinimumPasswordLength", evidence)
    if not length:
        problems.append(f"MinimumPasswordLength = {length}: a blank password can be set (console logon allowed)")
    limit = win.reg_value(ctx, LSA, "LimitBlankPasswordUse")
    evidence.append(win.reg_where(LSA, "LimitBlankPasswordUse", limit))
    if limit != 1:
        problems.append(f"LimitBlankPasswordUse = {limit if limit is not None else 'absent'}")
    guest = win.builtin_account(ctx, 501)
    if guest is None:
        evidence.append("users.json: no account with RID 501 (Guest)")
    else:
        evidence.append(f"users.json: Guest {guest.get('Name')} ({guest['SID']}) Enabled {guest.get('Enabled')}")
        if win.flag(guest.get("Enabled")) is not False:
            problems.append(f"Guest account {guest.get('Name')} (RID 501) enabled")
    for user in win.users(ctx):
        if win.flag(user.get("Enabled")) and win.flag(user.get("PasswordRequired")) is False:
            problems.append(f"{user.get('Name')} ({user['SID']}): password not required")
    expected = (
        "MinimumPasswordLength >= 1, LimitBlankPasswordUse = 1, Guest (RID 501) disabled, "
        "every enabled account requires a password"
    )
    actual = f"MinimumPasswordLength = {length}, LimitBlankPasswordUse = 1, Guest disabled"
    return verdict(problems, expected, actual, evidence)


@check("PW-NOSTORE", "windows", files=("registry/01-lsa.reg", "registry/03-policies.reg"))
def pw_nostore(ctx: Ctx) -> Verdict:
    # DisableDomainCreds: "Network access: Do not allow storage of passwords and credentials
    # for network authentication" (learn.microsoft.com, security-policy-settings).
    # PasswordManagerEnabled: Edge and Chrome enterprise policies (Microsoft Edge policy
    # reference; chromeenterprise.google/policies/#PasswordManagerEnabled).
    # A host whose scheduled task runs with a stored password keeps DisableDomainCreds 0 with the
    # reason in windows_domain_creds_reason (docs/windows-roles.md, PW-NOSTORE): the role writes 0
    # then, so 0 passes with the reason in the evidence (1 is stricter and passes too).
    reason = str(ctx.params["windows_domain_creds_reason"] or "").strip()
    wanted = [
        (LSA, "DisableDomainCreds", (0, 1) if reason else (1,)),
        (r"HKLM\SOFTWARE\Policies\Microsoft\Edge", "PasswordManagerEnabled", (0,)),
        (r"HKLM\SOFTWARE\Policies\Google\Chrome", "PasswordManagerEnabled", (0,)),
    ]
    evidence, problems = [], []
    for key, name, want in wanted:
        value = win.reg_value(ctx, key, name)
        evidence.append(win.reg_where(key, name, value))
        if value not in want:
            problems.append(f"{key.rsplit(chr(92), 1)[-1]} {name} = {value if value is not None else 'absent'}")
    creds = "DisableDomainCreds = 1"
    if reason:
        creds = "DisableDomainCreds = 0 or 1 (kept off: windows_domain_creds_reason)"
        evidence.append(f"windows_domain_creds_reason: {reason}")
    expected = f"{creds}; Edge and Chrome PasswordManagerEnabled = 0"
    return verdict(problems, expected, "credentials and browser passwords are not stored", evidence)


@check("LOCKOUT", "windows", files=("secedit.inf",))
def lockout(ctx: Ctx) -> Verdict:
    deny, unlock = ctx.params["deny"], ctx.params["unlock_time"]
    evidence: list[str] = []
    count = policy_int(ctx, "LockoutBadCount", evidence)
    duration = policy_int(ctx, "LockoutDuration", evidence)  # minutes; -1 = until an admin unlocks
    admin_lockout = policy_int(ctx, "AllowAdministratorLockout", evidence)
    problems = []
    if count is None or not 0 < count <= deny:
        problems.append(f"LockoutBadCount = {count}")
    if duration is None or (duration != -1 and duration * 60 < unlock):
        problems.append(f"LockoutDuration = {duration} min")
    if admin_lockout == 0:
        problems.append("AllowAdministratorLockout = 0 (the built-in Administrator is never locked)")
    elif admin_lockout is None:
        evidence.append(
            "AllowAdministratorLockout not in the template: this build cannot lock the built-in Administrator"
        )
    expected = f"LockoutBadCount 1..{deny}, LockoutDuration >= {unlock // 60} min, AllowAdministratorLockout = 1"
    return verdict(problems, expected, f"LockoutBadCount = {count}, LockoutDuration = {duration} min", evidence)


@check("PRIV-MEMBERS", "windows", files=("groups.json",))
def priv_members(ctx: Ctx) -> Verdict:
    """Members of Administrators (S-1-5-32-544) against the approved list (SID, DOMAIN\\name or
    name). The built-in Administrator (RID 500) is PRIV-DEFAULT-ID's concern and not counted."""
    approved = ctx.params["approved"]
    admins = win.group(ctx, win.ADMINISTRATORS)
    members = admins["Members"]
    extra = [m for m in members if win.rid(m["SID"]) != 500 and not win.member_matches(m, approved)]
    evidence = [
        f"groups.json: {admins.get('Name')} ({win.ADMINISTRATORS}): " + ", ".join(map(win.member_label, members))
    ]
    expected = f"Administrators ({win.ADMINISTRATORS}) only: {', '.join(approved) or 'the built-in Administrator'}"
    actual = ", ".join(map(win.member_label, members)) or "no member"
    if extra:
        return Verdict("fail", expected, "not approved: " + ", ".join(map(win.member_label, extra)), evidence)
    return Verdict("pass", expected, actual, evidence)


@check("PRIV-DEFAULT-ID", "windows", files=("secedit.inf", "users.json"))
def priv_default_id(ctx: Ctx) -> Verdict:
    admin = win.builtin_account(ctx, 500)
    if admin is None:
        return Verdict(
            "error",
            "the built-in Administrator (RID 500) is listed",
            "no account with RID 500 in users.json",
            ["users.json"],
        )
    name = str(admin.get("Name") or "")
    evidence = [f"users.json: RID 500 = {name} ({admin['SID']}), Enabled {admin.get('Enabled')}"]
    configured = win.secpol(ctx)["System Access"].get("NewAdministratorName")
    if configured is not None:
        evidence.append(f"{SECEDIT}: NewAdministratorName = {configured}")
    expected = "built-in Administrator (RID 500) renamed"
    if name.casefold() in DEFAULT_ADMIN_NAMES:
        return Verdict("fail", expected, f"RID 500 is still named {name}", evidence)
    return Verdict("pass", expected, f"RID 500 is named {name}", evidence)


@check("ID-UNUSED", "windows", files=("users.json", "registry/11-lgsec-provisioned.reg"))
def id_unused(ctx: Ctx) -> Verdict:
    """Enabled local accounts without a logon for max_idle_days (never logged on: counted from
    the last password change). An account that never logged on and that
    playbooks/provision_user_windows.yml recorded (HKLM\\SOFTWARE\\lgsec\\Provisioned, value = its
    SID, data = the UTC creation time) is waiting for its first logon while the record is at most
    provision_grace_days (and max_idle_days) older than the collection, and idle once it is older:
    win.first_logon_wait, the rule the role's enforce_lock applies. Never logged on, no record and
    no password set either (Get-LocalUser: LastLogon and PasswordLastSet null — made with "must
    change password at next logon", PW-TEMP): no date to count from, listed in the evidence, not
    idle. Windows has no useradd INACTIVE default."""
    limit, exempt = ctx.params["max_idle_days"], {e.casefold() for e in ctx.params["exempt"]}
    grace = ctx.params["provision_grace_days"]
    now = win.as_of(ctx)
    idle, evidence = [], []
    for user in win.users(ctx):
        name = str(user.get("Name") or "")
        if not win.flag(user.get("Enabled")) or name.casefold() in exempt or user["SID"].casefold() in exempt:
            continue
        last = win.ps_time(user.get("LastLogon"))
        evidence.append(f"users.json: {name} ({user['SID']}) LastLogon {win.fmt_time(last)}")
        recorded = None if last else provisioned_at(ctx, user["SID"])
        days = None if recorded is None else win.days_between(now, recorded)
        wait = win.first_logon_wait(last is None, days, grace, limit)
        if recorded is not None:
            evidence.append(
                f"{win.PROVISIONED}: {name} recorded {win.fmt_time(recorded)}, {days:.1f} days before the collection"
                f" (provision_grace_days {grace})"
            )
        if wait == "waiting":
            evidence.append(f"users.json: {name}: never logged on, waiting for the first logon (provisioned, PW-TEMP)")
            continue
        if wait == "overdue":
            idle.append(f"{name} (never logged on, provisioned {win.fmt_time(recorded)})")
            continue
        since = last or win.ps_time(user.get("PasswordLastSet"))
        if since is None:
            evidence.append(f"users.json: {name}: never logged on, password not yet set (provisioned, PW-TEMP)")
            continue
        if win.days_between(now, since) > limit:
            idle.append(f"{name} (last logon {win.fmt_time(last)})")
    expected = f"no enabled account idle > {limit} days (a provisioned one never logged on: <= {grace} days)"
    return verdict(idle, expected, "no idle account", evidence or ["users.json: no enabled account"])


def provisioned_at(ctx: Ctx, sid: str) -> datetime | None:
    """When provision_user_windows.yml recorded the account (None: no record). A record that is
    not a UTC time as the playbook writes it (2026-11-19T05:30:00Z) is Unreadable, never "none"."""
    data = win.reg_value(ctx, win.PROVISIONED, sid)
    if data is None:
        return None
    try:
        moment = datetime.fromisoformat(str(data).strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        shown = str(data)[:40]
        raise Unreadable(f"{win.PROVISIONED}: {sid} = {shown!r} is not a UTC date and time (2026-11-19T05:30:00Z)")
    return moment.astimezone(UTC)


# "Allow users to connect remotely by using Remote Desktop Services" (TerminalServer.admx) writes
# fDenyTSConnections under the policy key; it wins over the Control Panel's own value under
# Control\Terminal Server (policy_value).
TS_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
TS = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"


@check("SESSION-LIMIT", "windows", files=("registry/03-policies.reg", "registry/04-terminal-server.reg"))
def session_limit(ctx: Ctx) -> Verdict:
    # "Set time limit for active but idle / disconnected Remote Desktop Services sessions":
    # MaxIdleTime / MaxDisconnectionTime in ms (TerminalServer.admx; 0 = never).
    limit_ms = ctx.params["tmout"] * 1000
    evidence, problems = [], []
    deny, where, _ = win.policy_value(ctx, "fDenyTSConnections", TS_POLICY, TS)
    evidence.append(where)
    if deny == 1:  # no remote session to limit; the console locks by SCREEN-LOCK
        return Verdict(
            "pass", f"RDP sessions limited to {limit_ms} ms, or RDP off", "RDP off (fDenyTSConnections = 1)", evidence
        )
    for name in ("MaxIdleTime", "MaxDisconnectionTime"):
        value = win.reg_value(ctx, TS_POLICY, name)
        evidence.append(win.reg_where(TS_POLICY, name, value))
        if not isinstance(value, int) or not 0 < value <= limit_ms:
            problems.append(f"{name} = {value if value is not None else 'absent'}")
    expected = f"RDP MaxIdleTime and MaxDisconnectionTime 1..{limit_ms} ms"
    return verdict(problems, expected, f"both <= {limit_ms} ms", evidence)
