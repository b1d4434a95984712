"""Filters that let the Windows roles reuse the audit's own judgement (lgsec/windows.py): the
same member matching (SID, DOMAIN\\name or name) and the same idea of an idle account."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

try:
    import lgsec  # noqa: F401  installed (pip install -e ., or an execution environment)
except ImportError:  # a plain checkout: the package stands beside the playbooks
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lgsec.checks.windows_logs import AUDIT
from lgsec.checks.windows_software import name_matches
from lgsec.windows import member_matches, rid


def lgsec_win_not_approved(members: list, approved: list) -> list:
    """Members ({Name, SID}) of a group that the approved list does not name; the built-in
    Administrator (RID 500) is never among them (PRIV-DEFAULT-ID renames it instead)."""
    return [m for m in members or [] if rid(m["SID"]) != 500 and not member_matches(m, list(approved or []))]


def lgsec_win_idle(users: list, max_idle_days: int, exempt: list | None = None) -> list:
    """Enabled local accounts ({Name, SID, Enabled, IdleDays}) idle longer than max_idle_days
    (IdleDays counts from the last logon, else the last password change; None = never)."""
    skip = {str(e).casefold() for e in exempt or []}
    out = []
    for user in users or []:
        if not user.get("Enabled") or str(user["Name"]).casefold() in skip or user["SID"].casefold() in skip:
            continue
        idle = user.get("IdleDays")
        if idle is None or int(idle) > int(max_idle_days):
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


class FilterModule:
    def filters(self):
        return {
            "lgsec_win_not_approved": lgsec_win_not_approved,
            "lgsec_win_idle": lgsec_win_idle,
            "lgsec_win_denied": lgsec_win_denied,
            "lgsec_win_audit_wanted": lgsec_win_audit_wanted,
            "lgsec_win_in_networks": lgsec_win_in_networks,
        }
