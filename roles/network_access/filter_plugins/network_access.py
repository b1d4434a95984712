"""Filters of roles/network_access: the address check of the lockout guard (the sources' form is
checked with the catalog: lgsec/catalog.py FORMATS), and the audit's own
reading of the sysctl files (one rule, one place)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parents[3]))

from lgsec.checks import Ctx
from lgsec.checks.linux_network import sysctl_effective, sysctl_files


def lgsec_net_in_networks(address: str, networks: list) -> bool:
    """FW-DEFAULT-DENY: is the address inside one of the networks (IPv4-mapped IPv6 counts as IPv4)?"""
    addr = ipaddress.ip_address(str(address).split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(addr in ipaddress.ip_network(str(n), strict=False) for n in networks or [])


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
            "lgsec_net_in_networks": lgsec_net_in_networks,
            "lgsec_net_sysctl_effective": lgsec_net_sysctl_effective,
            "lgsec_net_sysctl_mismatch": lgsec_net_sysctl_mismatch,
            "lgsec_net_sysctl_differs": lgsec_net_sysctl_differs,
        }
