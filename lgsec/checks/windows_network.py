"""Windows checks: network and remote access (section F)."""

from __future__ import annotations

import re

from lgsec import windows as win
from lgsec.checks import Ctx, Unreadable, Verdict, check, validator
from lgsec.checks.common import shown, verdict

PROFILES = ("Domain", "Private", "Public")
# NetSecurity enums as ConvertTo-Json prints them when not converted to text: GpoBoolean
# (0 False, 1 True, 2 NotConfigured), Action (0 NotConfigured, 2 Allow, 4 Block).
ACTION = {"0": "NotConfigured", "2": "Allow", "4": "Block"}
TS = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"
RDP_TCP = TS + r"\WinStations\RDP-Tcp"
TS_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
WINRM_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service"
LOOPBACK = ("127.", "::1", "0:0:0:0:0:0:0:1")
DYNAMIC = (49152, 65535)  # Windows' default dynamic (ephemeral) port range, TCP and UDP


@check("FW-DEFAULT-DENY", "windows", files=("firewall.json",))
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


def port_rule(entry: str) -> tuple[str, int, int, set[str]]:
    """'tcp/135', 'udp/5353', 'tcp/49152-65535:lsass,svchost' -> (proto, low, high, owners)."""
    spec, _, owners = str(entry).partition(":")
    proto, _, ports = spec.partition("/")
    low, _, high = ports.partition("-")
    return proto.casefold(), int(low), int(high or low), {o.casefold() for o in owners.split(",") if o}


@validator("PORTS-APPROVED", "windows_system_listeners")
def listener_rules(value: list) -> str | None:
    """Each entry proto/port[-port][:process,...] with tcp or udp and ports 1-65535."""
    for entry in value:
        try:
            proto, low, high, _owners = port_rule(entry)
        except ValueError:
            return f"{entry!r} is not proto/port[-port][:process,...] (tcp/135:svchost, tcp/49152-65535:lsass)"
        if proto not in ("tcp", "udp") or not 1 <= low <= high <= 65535:
            return f"{entry!r}: protocol tcp or udp, ports 1-65535, low <= high"
    return None


def allowed_by(rules: list, proto: str, port: int, process: str) -> bool:
    for rproto, low, high, owners in rules:
        if rproto == proto and low <= port <= high and (not owners or process.casefold() in owners):
            return True
    return False


@check("PORTS-APPROVED", "windows", files=("listening.json",))
def ports_approved(ctx: Ctx) -> Verdict:
    """Listening servers only: TCP sockets in the Listen state (Get-NetTCPConnection -State Listen)
    and UDP endpoints bound below the dynamic port range. Get-NetUDPEndpoint lists every bound
    UDP socket, clients included; a client's socket gets an ephemeral port from the dynamic range
    (49152-65535 since Windows Vista / Server 2008: learn.microsoft.com/troubleshoot/windows-server/
    networking/default-dynamic-port-range-tcpip-chang), so those are listed in the evidence and
    not counted. Windows' own listeners (windows_system_listeners) are allowed with their owner
    process; everything else must be in `allowed`."""
    allowed = {str(a).casefold() for a in ctx.params["allowed"]}
    system = [port_rule(e) for e in ctx.params["windows_system_listeners"]]
    seen: dict[str, set[str]] = {}
    local, clients, stock = set(), set(), set()
    for sock in win.records(ctx, "listening.json"):
        address, port, proto = (
            str(sock.get("LocalAddress", "")),
            sock.get("LocalPort"),
            str(sock.get("Protocol", "tcp")).casefold(),
        )
        if not isinstance(port, int):
            raise Unreadable(f"listening.json: {proto} socket on {address} without a port number")
        key = f"{proto}/{port}"
        process = str(sock.get("Process") or sock.get("OwningProcess") or "?")
        if address.startswith(LOOPBACK):
            local.add(f"{key} ({address}, {process})")
        elif proto == "udp" and DYNAMIC[0] <= port <= DYNAMIC[1]:
            clients.add(process)
        elif key not in allowed and allowed_by(system, proto, port, process):
            stock.add(f"{key} ({process})")
        else:
            seen.setdefault(key, set()).add(process)
    extra = sorted(k for k in seen if k not in allowed)
    evidence = [f"listening.json: {k} by {', '.join(sorted(seen[k]))}" for k in sorted(seen)]
    if stock:
        evidence.append("Windows system listeners (windows_system_listeners): " + shown(sorted(stock)))
    if clients:
        evidence.append(
            f"UDP on the dynamic range {DYNAMIC[0]}-{DYNAMIC[1]} (clients, not counted): {shown(sorted(clients))}"
        )
    if local:
        evidence.append("loopback only (not counted): " + shown(sorted(local)))
    expected = f"only {', '.join(sorted(allowed)) or 'no port'} and Windows' own listeners listen beyond loopback"
    if extra:
        return Verdict(
            "fail", expected, "not approved: " + shown([f"{k} ({', '.join(sorted(seen[k]))})" for k in extra]), evidence
        )
    return Verdict("pass", expected, ", ".join(sorted(seen)) or "only Windows' own listeners", evidence)


@check("SVC-UNNEEDED", "windows", files=("features.json", "services.json"))
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


@check("REMOTE-ENCRYPTED", "windows", files=("registry/03-policies.reg", "registry/04-terminal-server.reg"))
def remote_encrypted(ctx: Ctx) -> Verdict:
    # RDP: "Require user authentication for remote connections by using Network Level
    # Authentication" = UserAuthentication 1; "Require use of specific security layer" SSL =
    # SecurityLayer 2 (TerminalServer.admx). WinRM service: "Allow unencrypted traffic" and
    # "Allow Basic authentication" Disabled = AllowUnencryptedTraffic 0, AllowBasic 0
    # (WindowsRemoteManagement.admx).
    evidence, problems = [], []
    deny, where, _ = win.policy_value(ctx, "fDenyTSConnections", TS_POLICY, TS)
    evidence.append(where)
    if deny != 1:
        for name, want in (("UserAuthentication", 1), ("SecurityLayer", 2)):
            value, where, _ = win.policy_value(ctx, name, TS_POLICY, RDP_TCP)
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


# SDDL aliases that can appear in the WinRM RootSDDL (learn.microsoft.com/windows/win32/secauthz/
# sid-strings) and the SIDs they stand for; granted WinRM by default: BA and RM, IU read-only
# (interactive users: local, not remote). Default (Windows 10 / Server 2016 and later):
# O:NSG:BAD:P(A;;GA;;;BA)(A;;GXGR;;;RM)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)
SDDL_ALIASES = {"BA": win.ADMINISTRATORS, "RM": win.REMOTE_MANAGEMENT_USERS, "IU": "S-1-5-4", "WD": "S-1-1-0",
                "AU": "S-1-5-11", "BU": "S-1-5-32-545", "NS": "S-1-5-20", "SY": "S-1-5-18"}  # fmt: skip
WINRM_DEFAULT = {win.ADMINISTRATORS, win.REMOTE_MANAGEMENT_USERS, "S-1-5-4"}
ACE_RE = re.compile(r"\(([^;()]*);[^;()]*;([^;()]*);[^;()]*;[^;()]*;([^;()]*)\)")


def sddl_allowed(sddl: str) -> list[str]:
    """SIDs an SDDL's DACL allows (A / OA entries); the SACL (after S:) is auditing, skipped."""
    dacl = sddl.split("S:", 1)[0]
    return [
        SDDL_ALIASES.get(sid.upper(), sid)
        for kind, rights, sid in ACE_RE.findall(dacl)
        if kind.upper() in ("A", "OA") and rights
    ]


def running_or_automatic(service: dict | None) -> bool:
    return bool(service) and (
        str(service.get("Status")) in ("Running", "4") or str(service.get("StartType")) in ("Automatic", "2")
    )


@check("REMOTE-MINIMAL", "windows", files=("groups.json", "secedit.inf", "services.json", "winrm.json"))
def remote_minimal(ctx: Ctx) -> Verdict:
    """Every way to log on remotely, limited to allow_groups (by SID or name):
    - Remote Desktop: Remote Desktop Users (S-1-5-32-555) members, and the right to log on
      through Remote Desktop held by Administrators and that group alone;
    - WinRM (PowerShell remoting, Ansible): Remote Management Users (S-1-5-32-580) members, and
      the service's RootSDDL granting nobody beyond Administrators, Remote Management Users and
      interactive users (about_Remote_Requirements; learn.microsoft.com/windows/win32/winrm/
      installation-and-configuration-for-windows-remote-management);
    - OpenSSH Server (sshd service, an optional capability): off unless windows_openssh_server."""
    allow = ctx.params["allow_groups"]
    expected = (
        f"Remote Desktop Users ({win.REMOTE_DESKTOP_USERS}) and Remote Management Users "
        f"({win.REMOTE_MANAGEMENT_USERS}) only: {', '.join(allow) or '(not decided)'}; WinRM RootSDDL default; "
        + ("OpenSSH Server allowed" if ctx.params["windows_openssh_server"] else "no OpenSSH Server")
    )
    rdu = win.group(ctx, win.REMOTE_DESKTOP_USERS)
    rmu = win.group(ctx, win.REMOTE_MANAGEMENT_USERS)
    holders = win.privilege(ctx, "SeRemoteInteractiveLogonRight")
    evidence = [
        f"groups.json: {g.get('Name')} ({g['SID']}): " + (", ".join(map(win.member_label, g["Members"])) or "empty")
        for g in (rdu, rmu)
    ]
    evidence.append(f"secedit.inf [Privilege Rights]: SeRemoteInteractiveLogonRight = {', '.join(holders) or 'nobody'}")
    services = {str(s.get("Name", "")).casefold(): s for s in win.records(ctx, "services.json")}
    winrm = win.data(ctx, "winrm.json")
    if not isinstance(winrm, dict):
        raise Unreadable("winrm.json: not the WinRM configuration object")
    listeners = win.as_list(winrm.get("Listeners"))
    sddl = str(winrm.get("RootSDDL") or "")
    service = services.get("winrm")
    evidence.append(
        f"services.json: WinRM {service.get('Status') if service else 'absent'}; winrm.json: listeners "
        + (", ".join(f"{x.get('Transport')} {x.get('Port')}" for x in listeners if isinstance(x, dict)) or "none")
        + f"; RootSDDL {sddl or 'absent'}"
    )
    sshd = services.get("sshd")
    evidence.append(
        "services.json: sshd (OpenSSH Server) "
        + (f"{sshd.get('Status')}, start {sshd.get('StartType')}" if sshd else "not installed")
    )
    if not allow:
        return Verdict("fail", expected, "lgsec_remote_minimal_allow_groups is empty: not decided", evidence)
    problems = [
        f"{win.member_label(m)} not allowed (Remote Desktop)"
        for m in rdu["Members"]
        if not win.member_matches(m, allow)
    ]
    problems += [
        f"{win.member_label(m)} not allowed (WinRM)" for m in rmu["Members"] if not win.member_matches(m, allow)
    ]
    others = [s for s in holders if s not in (win.ADMINISTRATORS, win.REMOTE_DESKTOP_USERS)]
    if others:
        problems.append("SeRemoteInteractiveLogonRight also held by " + ", ".join(others))
    if service and str(service.get("Status")) in ("Running", "4") and not sddl:
        raise Unreadable("winrm.json: WinRM runs but its RootSDDL was not read")
    granted = [s for s in sddl_allowed(sddl) if s not in WINRM_DEFAULT and not win.member_matches({"SID": s}, allow)]
    if granted:
        problems.append("WinRM RootSDDL also grants " + ", ".join(granted))
    if running_or_automatic(sshd) and not ctx.params["windows_openssh_server"]:
        problems.append(f"OpenSSH Server (sshd) {sshd.get('Status')}, start {sshd.get('StartType')}")
    members = [*rdu["Members"], *rmu["Members"]]
    return verdict(problems, expected, ", ".join(map(win.member_label, members)) or "no member", evidence)
