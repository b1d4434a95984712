"""Filters of roles/network_access: address checks for the lockout guard, and the audit's own
reading of the sysctl files (one rule, one place)."""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parents[3]))

from lgsec.checks import Ctx
from lgsec.checks.linux_network import sysctl_effective, sysctl_files

PORT_RE = re.compile(r"^(tcp|udp)/(\d{1,5})(?:-(\d{1,5}))?$")


def lgsec_net_invalid_networks(values: list) -> list[str]:
    """FW-DEFAULT-DENY: entries that are not an IPv4/IPv6 network or address."""
    bad = []
    for value in values or []:
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            bad.append(str(value))
    return bad


def lgsec_net_in_networks(address: str, networks: list) -> bool:
    """FW-DEFAULT-DENY: is the address inside one of the networks (IPv4-mapped IPv6 counts as IPv4)?"""
    addr = ipaddress.ip_address(str(address).split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(addr in ipaddress.ip_network(str(n), strict=False) for n in networks or [])


def lgsec_net_invalid_ports(values: list) -> list[str]:
    """FW-DEFAULT-DENY: entries that are not proto/port or proto/low-high (tcp/443, udp/60000-61000)."""
    bad = []
    for value in values or []:
        match = PORT_RE.match(str(value))
        ports = [int(p) for p in match.groups()[1:] if p] if match else []
        if not match or not all(1 <= p <= 65535 for p in ports) or ports != sorted(ports):
            bad.append(str(value))
    return bad


def lgsec_net_sysctl_effective(lines: list, keys: list) -> dict[str, dict]:
    """KERNEL-NET: key -> {value, where}, as the audit reads the sysctl files. lines: "path<TAB>text"
    for every line of every file (awk '{ print FILENAME "\\t" $0 }')."""
    texts: dict[str, list[str]] = {}
    for line in lines or []:
        path, _, text = str(line).partition("\t")
        texts.setdefault(path, []).append(text)
    files = {path: "\n".join(body) + "\n" for path, body in texts.items()}
    facts = {"files": files, "missing": [] if "/etc/sysctl.conf" in files else ["/etc/sysctl.conf"], "errors": {}}
    ctx = Ctx(host="", facts=facts, params={}, hostvars={}, all_params=lambda _cid: {})
    effective = sysctl_effective(sysctl_files(ctx), [str(k) for k in keys])
    return {k: {"value": s.value, "where": s.where} for k, s in effective.items()}


def lgsec_net_sysctl_mismatch(effective: dict, wanted: dict) -> list[str]:
    """KERNEL-NET: each wanted key the files leave unset or set otherwise ('key = value (file:line)')."""
    out = []
    for key, value in wanted.items():
        got = effective.get(key)
        if got is None:
            out.append(f"{key} not set")
        elif got["value"] != " ".join(str(value).split()):
            out.append(f"{key} = {got['value']} ({got['where']})")
    return out


def lgsec_net_sysctl_differs(lines: list, wanted: dict) -> list[str]:
    """KERNEL-NET: keys whose running value (`sysctl` output lines 'key = value') differs from wanted."""
    live = {}
    for line in lines or []:
        key, sep, value = str(line).partition(" = ")
        if sep:
            live[key.strip()] = " ".join(value.split())
    return [k for k, v in wanted.items() if k in live and live[k] != " ".join(str(v).split())]


class FilterModule:
    def filters(self):
        return {
            "lgsec_net_invalid_networks": lgsec_net_invalid_networks,
            "lgsec_net_in_networks": lgsec_net_in_networks,
            "lgsec_net_invalid_ports": lgsec_net_invalid_ports,
            "lgsec_net_sysctl_effective": lgsec_net_sysctl_effective,
            "lgsec_net_sysctl_mismatch": lgsec_net_sysctl_mismatch,
            "lgsec_net_sysctl_differs": lgsec_net_sysctl_differs,
        }
