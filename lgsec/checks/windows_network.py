"""Windows checks: network and remote access (section F)."""

from __future__ import annotations

from lgsec import windows as win
from lgsec.checks import Ctx, Verdict, check
from lgsec.checks.linux import verdict
from lgsec.checks.linux_software import shown

PROFILES = ("Domain", "Private", "Public")
# NetSecurity enums as ConvertTo-Json prints them when not converted to text: GpoBoolean
# (0 False, 1 True, 2 NotConfigured), Action (0 NotConfigured, 2 Allow, 4 Block).
ACTION = {"0": "NotConfigured", "2": "Allow", "4": "Block"}
TS = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"
RDP_TCP = TS + r"\WinStations\RDP-Tcp"
TS_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
WINRM_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service"
LOOPBACK = ("127.", "::1", "0:0:0:0:0:0:0:1")


@check("FW-DEFAULT-DENY", "windows")
def fw_default_deny(ctx: Ctx) -> Verdict:
    """All three profiles on, inbound blocked (the effective ActiveStore; NotConfigured is
    Windows' default: on, inbound Block)."""
    found = {str(p.get("Name")): p for p in win.records(ctx, "firewall.json")}
    evidence, problems = [], []
    for name in PROFILES:
        profile = found.get(name)
        if profile is None:
            problems.append(f"{name} profile not listed")
            continue
        enabled = profile.get("Enabled")
        inbound = ACTION.get(str(profile.get("DefaultInboundAction")), str(profile.get("DefaultInboundAction")))
        evidence.append(f"firewall.json: {name} Enabled {enabled}, DefaultInboundAction {inbound}")
        if win.flag(enabled) is False:
            problems.append(f"{name} profile off")
        if inbound not in ("Block", "NotConfigured"):
            problems.append(f"{name} inbound {inbound}")
        elif inbound == "NotConfigured":
            evidence.append(f"{name}: inbound NotConfigured = Windows' default, Block")
    return verdict(problems, "Domain, Private, Public on, inbound Block", "three profiles on, inbound Block", evidence)


@check("PORTS-APPROVED", "windows")
def ports_approved(ctx: Ctx) -> Verdict:
    allowed = {str(a).casefold() for a in ctx.params["allowed"]}
    seen: dict[str, set[str]] = {}
    local = set()
    for sock in win.records(ctx, "listening.json"):
        address, port, proto = (
            str(sock.get("LocalAddress", "")),
            sock.get("LocalPort"),
            str(sock.get("Protocol", "tcp")),
        )
        key = f"{proto.lower()}/{port}"
        process = str(sock.get("Process") or sock.get("OwningProcess") or "?")
        if address.startswith(LOOPBACK):
            local.add(f"{key} ({address}, {process})")
            continue
        seen.setdefault(key, set()).add(process)
    extra = sorted(k for k in seen if k not in allowed)
    evidence = [f"listening.json: {k} by {', '.join(sorted(seen[k]))}" for k in sorted(seen)]
    if local:
        evidence.append("loopback only (not counted): " + ", ".join(sorted(local)))
    expected = f"only {', '.join(sorted(allowed)) or 'no port'} listen beyond loopback"
    if extra:
        return Verdict(
            "fail", expected, "not approved: " + shown([f"{k} ({', '.join(sorted(seen[k]))})" for k in extra]), evidence
        )
    return Verdict("pass", expected, ", ".join(sorted(seen)) or "nothing listens", evidence)


@check("SVC-UNNEEDED", "windows")
def svc_unneeded(ctx: Ctx) -> Verdict:
    features = {str(f.get("FeatureName", "")).casefold(): f for f in win.records(ctx, "features.json")}
    services = {str(s.get("Name", "")).casefold(): s for s in win.records(ctx, "services.json")}
    evidence, problems = [], []
    for name in ctx.params["windows_features"]:
        feature = features.get(name.casefold())
        state = str(feature.get("State")) if feature else "not present"
        evidence.append(f"features.json: {name} {state}")
        if feature and state not in ("Disabled", "DisabledWithPayloadRemoved", "0", "6"):
            problems.append(f"feature {name} {state}")
    for name in ctx.params["windows_services"]:
        service = services.get(name.casefold())
        if service is None:
            evidence.append(f"services.json: {name} not installed")
            continue
        status, start = str(service.get("Status")), str(service.get("StartType"))
        evidence.append(f"services.json: {name} {status}, start {start}")
        if status not in ("Stopped", "1") or start not in ("Disabled", "4"):
            problems.append(f"service {name} {status}, start {start}")
    expected = "features " + ", ".join(ctx.params["windows_features"]) + " disabled; services "
    expected += ", ".join(ctx.params["windows_services"]) + " stopped and disabled"
    return verdict(problems, expected, "all disabled", evidence)


def effective(ctx: Ctx, name: str) -> tuple[object, str]:
    """An RDP setting: the Group Policy value wins over the RDP-Tcp listener's own."""
    value = win.reg_value(ctx, TS_POLICY, name)
    if value is not None:
        return value, win.reg_where(TS_POLICY, name, value)
    value = win.reg_value(ctx, RDP_TCP, name)
    return value, win.reg_where(RDP_TCP, name, value)


@check("REMOTE-ENCRYPTED", "windows")
def remote_encrypted(ctx: Ctx) -> Verdict:
    # RDP: "Require user authentication for remote connections by using Network Level
    # Authentication" = UserAuthentication 1; "Require use of specific security layer" SSL =
    # SecurityLayer 2 (TerminalServer.admx). WinRM service: "Allow unencrypted traffic" and
    # "Allow Basic authentication" Disabled = AllowUnencryptedTraffic 0, AllowBasic 0
    # (WindowsRemoteManagement.admx).
    evidence, problems = [], []
    deny = win.reg_value(ctx, TS, "fDenyTSConnections")
    evidence.append(win.reg_where(TS, "fDenyTSConnections", deny))
    if deny != 1:
        for name, want in (("UserAuthentication", 1), ("SecurityLayer", 2)):
            value, where = effective(ctx, name)
            evidence.append(where)
            if value != want:
                problems.append(f"RDP {name} = {value if value is not None else 'absent'} (want {want})")
    for name in ("AllowUnencryptedTraffic", "AllowBasic"):
        value = win.reg_value(ctx, WINRM_POLICY, name)
        evidence.append(win.reg_where(WINRM_POLICY, name, value))
        if value != 0:
            problems.append(f"WinRM {name} = {value if value is not None else 'absent (not enforced)'}")
    expected = "RDP with NLA over TLS (or RDP off); WinRM policy: no unencrypted traffic, no Basic"
    return verdict(problems, expected, "RDP NLA + TLS, WinRM encrypted without Basic", evidence)


@check("REMOTE-MINIMAL", "windows")
def remote_minimal(ctx: Ctx) -> Verdict:
    """Remote Desktop Users (S-1-5-32-555) holds only allow_groups (by SID or name), and the
    right to log on through Remote Desktop is held by Administrators and that group alone."""
    allow = ctx.params["allow_groups"]
    expected = f"Remote Desktop Users ({win.REMOTE_DESKTOP_USERS}) only: {', '.join(allow) or '(not decided)'}"
    rdu = win.group(ctx, win.REMOTE_DESKTOP_USERS)
    members = rdu["Members"]
    holders = win.privilege(ctx, "SeRemoteInteractiveLogonRight")
    evidence = [
        f"groups.json: {rdu.get('Name')} ({win.REMOTE_DESKTOP_USERS}): "
        + (", ".join(map(win.member_label, members)) or "empty"),
        f"secedit.inf [Privilege Rights]: SeRemoteInteractiveLogonRight = {', '.join(holders) or 'nobody'}",
    ]
    if not allow:
        return Verdict("fail", expected, "lgsec_remote_minimal_allow_groups is empty: not decided", evidence)
    problems = [f"{win.member_label(m)} not allowed" for m in members if not win.member_matches(m, allow)]
    others = [s for s in holders if s not in (win.ADMINISTRATORS, win.REMOTE_DESKTOP_USERS)]
    if others:
        problems.append("SeRemoteInteractiveLogonRight also held by " + ", ".join(others))
    return verdict(problems, expected, ", ".join(map(win.member_label, members)) or "no member", evidence)
