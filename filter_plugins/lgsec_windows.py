"""Filters that let the Windows roles reuse the audit's own judgement (lgsec/windows.py): the
same member matching (SID, DOMAIN\\name or name) and the same idea of an idle account."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))

from lgsec.checks.windows_logs import AUDIT
from lgsec.checks.windows_software import name_matches
from lgsec.windows import first_logon_wait, member_matches, rid


def lgsec_win_not_approved(members: list, approved: list) -> list:
    """Members ({Name, SID}) of a group that the approved list does not name; the built-in
    Administrator (RID 500) is never among them (PRIV-DEFAULT-ID renames it instead)."""
    return [m for m in members or [] if rid(m["SID"]) != 500 and not member_matches(m, list(approved or []))]


def lgsec_win_idle(users: list, max_idle_days: int, exempt: list | None = None, grace_days: int | None = None) -> list:
    """Enabled local accounts ({Name, SID, Enabled, IdleDays}) idle longer than max_idle_days
    (IdleDays counts from the last logon, else the last password change; None = never).
    grace_days (ID-UNUSED provision_grace_days): an account that never logged on
    (NeverLoggedOn) and that playbooks/provision_user_windows.yml recorded ProvisionedDays ago,
    at most grace_days (and max_idle_days), is waiting for its first logon (PW-TEMP), not unused;
    recorded longer ago it is idle whatever its IdleDays (lgsec.windows.first_logon_wait, the
    same rule the ID-UNUSED check applies)."""
    skip = {str(e).casefold() for e in exempt or []}
    out = []
    for user in users or []:
        if not user.get("Enabled") or str(user["Name"]).casefold() in skip or user["SID"].casefold() in skip:
            continue
        wait = None
        if grace_days is not None:  # the audit's rule (ID-UNUSED check): lgsec.windows.first_logon_wait
            never = bool(user.get("NeverLoggedOn"))
            wait = first_logon_wait(never, user.get("ProvisionedDays"), grace_days, max_idle_days)
        if wait == "waiting":
            continue
        idle = user.get("IdleDays")
        if wait == "overdue" or idle is None or int(idle) > int(max_idle_days):
            out.append(user)
    return out


def lgsec_win_denied(programs: list, deny: list) -> list:
    """Installed programs ({Name, ...}) whose display name matches the deny-list, as SW-UNAPPROVED judges."""
    return [p for p in programs or [] if name_matches(str(p.get("Name", "")), list(deny or []))]


def lgsec_win_audit_wanted(events: list) -> dict:
    """LOG-AUDIT: {subcategory GUID: bits (1 success, 2 failure)} for the events, from the audit's table."""
    unknown = [e for e in events if e not in AUDIT]
    if unknown:
        raise ValueError(f"LOG-AUDIT events without a Windows mapping: {', '.join(unknown)}")
    return {guid: bits for event in events for guid, (_name, bits) in AUDIT[event].items()}


def lgsec_win_in_networks(addresses: list, networks: list) -> list:
    """The addresses (IPv4, IPv6, IPv4-mapped IPv6) that lie in one of the networks (CIDR)."""
    nets = [ipaddress.ip_network(str(n), strict=False) for n in networks or []]
    out = []
    for text in addresses or []:
        address = ipaddress.ip_address(str(text).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address.version == n.version and address in n for n in nets):
            out.append(str(text))
    return out


# The WinRM connection plugin (ansible/plugins/connection/winrm.py, _build_winrm_kwargs): with
# ansible_winrm_transport unset it uses kerberos for a UPN user (user@domain), otherwise "ssl"
# over HTTPS and "plaintext" over HTTP; it tries the listed transports in order. In pywinrm
# (winrm/transport.py) "plaintext" is Basic authentication and "ssl" is Basic over HTTPS unless a
# client certificate is given (then certificate authentication).
BASIC_TRANSPORTS = {"basic", "plaintext", "ssl"}
ENCRYPTING_TRANSPORTS = {"ntlm", "kerberos", "credssp", "negotiate"}  # message encryption over HTTP


def lgsec_win_winrm_transports(
    transport, scheme: str, user: str | None = None, connection: str = "winrm", psrp_auth: str | None = None
) -> list:
    """The transports the WinRM connection plugin will try for this host, in its order. Over
    psrp (ansible/plugins/connection/psrp.py, ansible_psrp_auth, default negotiate) the one
    authentication it uses; over ssh none: the run does not use WinRM."""
    if connection == "ssh":
        return []
    if connection == "psrp":
        return [str(psrp_auth or "negotiate").strip().lower()]
    if isinstance(transport, str):
        transport = [t for t in transport.split(",")]
    listed = [str(t).strip().lower() for t in transport or [] if t is not None and str(t).strip()]
    if listed:
        return listed
    if user and "@" in str(user):
        return ["kerberos"]
    return ["ssl" if scheme == "https" else "plaintext"]


def lgsec_win_winrm_dependence(
    transports: list, scheme: str, message_encryption: str | None = None, cert_pem: str | None = None
) -> dict:
    """What this run's WinRM connection may depend on that REMOTE-ENCRYPTED turns off:
    {basic: transports that authenticate with Basic (AllowBasic), unencrypted: transports whose
    messages travel unencrypted (AllowUnencryptedTraffic; only over HTTP)}."""
    basic = [t for t in transports if t in BASIC_TRANSPORTS and not (t == "ssl" and cert_pem)]
    unencrypted = []
    if scheme != "https":
        never = str(message_encryption or "auto").lower() == "never"
        unencrypted = [t for t in transports if t not in ENCRYPTING_TRANSPORTS or never]
    return {"basic": basic, "unencrypted": unencrypted}


def lgsec_win_admin_paths(members: list, operator: dict, removing: list | None = None) -> dict:
    """Through which members of Administrators ({Name, SID}) the connecting account is an
    administrator: its own SID or a group SID in its logon token (operator {SID, Groups}: the
    token's group SIDs, nested domain groups included). kept: those paths that stay after the
    members in removing are taken out; the run keeps its rights only while kept is not empty."""
    token = {str(operator.get("SID", "")).upper(), *(str(g).upper() for g in operator.get("Groups") or [])}
    token.discard("")
    paths = [m for m in members or [] if str(m.get("SID", "")).upper() in token]
    gone = {str(m.get("SID", "")).upper() for m in removing or []}
    return {"paths": paths, "kept": [m for m in paths if str(m["SID"]).upper() not in gone]}


class FilterModule:
    def filters(self):
        return {
            "lgsec_win_not_approved": lgsec_win_not_approved,
            "lgsec_win_idle": lgsec_win_idle,
            "lgsec_win_denied": lgsec_win_denied,
            "lgsec_win_audit_wanted": lgsec_win_audit_wanted,
            "lgsec_win_in_networks": lgsec_win_in_networks,
            "lgsec_win_winrm_transports": lgsec_win_winrm_transports,
            "lgsec_win_winrm_dependence": lgsec_win_winrm_dependence,
            "lgsec_win_admin_paths": lgsec_win_admin_paths,
        }
