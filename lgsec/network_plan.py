"""Network devices: the change plan — the configuration commands that make a device's running
configuration compliant, computed from the audit's own model (lgsec/network.py), and the
configuration as the device shows it once they are applied (to prove offline that the plan turns
a failing configuration into a passing one). The network_device role pushes them
(filter_plugins/lgsec_network.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lgsec.network import (
    DEFAULT_USERNAMES,
    Config,
    access_lists,
    access_ports,
    block_for,
    buffered_problems,
    cdp_on,
    enable_secret,
    exec_timeout,
    is_access_port,
    is_shut,
    lockout_problems,
    logging_buffered,
    logging_off,
    missing_log_hosts,
    ntp_servers,
    num,
    other_time_sources,
    port_security_needs,
    session_lines,
    snmp_offending,
    vty_access_class,
)


@dataclass(frozen=True)
class Cmd:
    """One configuration command of the plan, under its parent block (empty: global).
    `removes` is the regex of the lines it takes away (e.g. `no ntp server X` removes
    `ntp server X`); `shown` says whether the device then shows the command itself
    (IOS shows `no ip http server`, not `no snmp-server community …`)."""

    control: str
    parent: str
    line: str
    removes: str = ""
    shown: bool = True


def plan(cfg: Config, params: dict[str, dict], operator: str = "") -> list[Cmd]:
    """The commands that bring `cfg` to the controls' parameters (params: control id → params).
    Only what differs is listed, so a compliant device gets an empty plan (idempotence).
    `operator` (the login the role connects with) is never removed."""
    cmds: list[Cmd] = []
    ios = cfg.vendor == "ios"
    vty_acl = params["REMOTE-MINIMAL"]["vty_acl"]
    timeout = params["SESSION-LIMIT"]["exec_timeout"]
    if ios:
        cmds += _ios_globals(cfg, params, operator)
    # PRIV-DEFAULT-ID (both vendors): passwords in the configuration stored encrypted
    if not cfg.first(r"^service password-encryption$"):
        cmds.append(Cmd("PRIV-DEFAULT-ID", "", "service password-encryption", r"^no service password-encryption$"))
    for block in session_lines(cfg):
        name = block.text
        seconds = exec_timeout(cfg, block)[0]
        if seconds is None or not 0 < seconds <= timeout * 60:
            cmds.append(Cmd("SESSION-LIMIT", name, f"exec-timeout {timeout} 0", r"^(no )?exec-timeout\b"))
        if block.words[1] == "vty" and vty_acl and vty_acl in access_lists(cfg):
            want = f"access-class {vty_acl} in" if ios else f"access-class {vty_acl}"
            current = vty_access_class(cfg, block)
            if current is None or current.text != want:
                cmds.append(Cmd("REMOTE-MINIMAL", name, want, r"^access-class \S+( in)?$"))
        if ios and block.words[1] == "vty" and not cfg.children(block, r"^transport input ssh$"):
            cmds.append(Cmd("REMOTE-ENCRYPTED", name, "transport input ssh", r"^transport input "))
    for name in params["NET-PORTS-UNUSED"]["unused_ports"]:
        iface = cfg.interface(name)
        if iface is not None and not is_shut(iface):
            cmds.append(Cmd("NET-PORTS-UNUSED", iface.text, "shutdown", r"^no shutdown$"))
    if not ios and not (cfg.first(r"^log syslog\b") or cfg.first(r"^log file ")):
        cmds.append(Cmd("LOG-RETENTION", "", "log syslog informational", r"^no log syslog"))
    if not ios and params["LOG-CENTRAL"]["hosts"] and not cfg.first(r"^log syslog\b"):
        cmds.append(Cmd("LOG-CENTRAL", "", "log syslog informational", r"^no log syslog"))
    seen: set[tuple[str, str]] = set()
    return [c for c in cmds if (c.parent, c.line) not in seen and not seen.add((c.parent, c.line))]


def blockers(cfg: Config, params: dict[str, dict]) -> list[str]:
    """Findings the plan cannot fix by itself: the role stops and says what the site must decide."""
    out = []
    if cfg.problem:
        out.append(f"ALL: the running configuration read cannot be trusted: {cfg.problem}")
    acl = params["REMOTE-MINIMAL"]["vty_acl"]
    if acl and acl not in access_lists(cfg):
        out.append(
            f"REMOTE-MINIMAL: access list {acl} (lgsec_remote_minimal_vty_acl) is not defined on the device: "
            "create it with the management networks first (an access-class naming no list may lock everyone out)"
        )
    if cfg.vendor == "ios" and not enable_secret(cfg):
        out.append("PRIV-DEFAULT-ID: no enable secret: set lgsec_network_enable_secret (vaulted) to have one set")
    return out


def _ios_globals(cfg: Config, params: dict[str, dict], operator: str) -> list[Cmd]:
    cmds = []
    pw, lock = params["PW-LENGTH"], params["LOCKOUT"]
    length = cfg.first(r"^security passwords min-length \d+$")
    if not length or num(length.words[-1]) < pw["min"]:
        cmds.append(Cmd("PW-LENGTH", "", f"security passwords min-length {pw['min']}", r"^security passwords min"))
    line, values = block_for(cfg)
    if line is None or lockout_problems(values, lock):
        within = max(lock["unlock_time"], lock["network_within"])
        cmds.append(
            Cmd(
                "LOCKOUT",
                "",
                f"login block-for {lock['unlock_time']} attempts {lock['deny']} within {within}",
                r"^login block-for ",
            )
        )
    for name in dict.fromkeys(u.words[1] for u in cfg.top(r"^username \S+")):
        if name.lower() in DEFAULT_USERNAMES and name != operator:
            cmds.append(Cmd("PRIV-DEFAULT-ID", "", f"no username {name}", rf"^username {re.escape(name)}\b", False))
    if cfg.first(r"^enable password "):
        cmds.append(Cmd("PRIV-DEFAULT-ID", "", "no enable password", r"^enable password ", False))
    if not cfg.first(r"^ip ssh version 2$"):
        cmds.append(Cmd("REMOTE-ENCRYPTED", "", "ip ssh version 2", r"^ip ssh version "))
    ports = params["NET-PORTS-UNUSED"]
    for iface in access_ports(cfg, ports).values() if ports["port_security"] else ():
        if iface is None or is_shut(iface):
            continue
        if not is_access_port(iface):  # port-security needs a static access port
            cmds.append(Cmd("NET-PORTS-UNUSED", iface.text, "switchport mode access", r"^switchport mode "))
        for needed, removes in port_security_needs(cfg, iface, ports):
            cmds.append(Cmd("NET-PORTS-UNUSED", iface.text, needed, removes))
    snmp = params["NET-SNMP"]
    for node in snmp_offending(cfg, snmp):
        identity = " ".join(node.key)
        removes = rf"^{re.escape(identity)}\b"
        cmds.append(Cmd("NET-SNMP", "", f"no {identity}", removes, False))
    svc = params["SVC-UNNEEDED"]
    for command in svc["network_deny"]:
        if cfg.first(rf"^{re.escape(command)}$"):
            cmds.append(Cmd("SVC-UNNEEDED", "", f"no {command}", rf"^{re.escape(command)}$"))
    for name in cdp_on(cfg, svc["cdp_off_interfaces"]):
        cmds.append(Cmd("SVC-UNNEEDED", f"interface {name}", "no cdp enable", r"^cdp enable$"))
    if logging_off(cfg):
        cmds.append(Cmd("LOG-RETENTION", "", "logging on", r"^no logging on$", False))
    size = params["LOG-RETENTION"]["network_buffer_bytes"]
    buffered = logging_buffered(cfg)
    if buffered_problems(buffered, size):
        cmds.append(Cmd("LOG-RETENTION", "", f"logging buffered {size} informational", r"^(no )?logging buffered"))
    if not cfg.first(r"^service timestamps log datetime"):
        stamp = "service timestamps log datetime msec localtime show-timezone"
        cmds.append(Cmd("LOG-RETENTION", "", stamp, r"^(no )?service timestamps log"))
    central = params["LOG-CENTRAL"]
    for host in missing_log_hosts(cfg, central):
        name, _, port = host.partition(":")
        line = f"logging host {name} transport {central['protocol']} port {port or central['port']}"
        cmds.append(Cmd("LOG-CENTRAL", "", line, rf"^logging host {re.escape(name)}\b"))
    configured, wanted = ntp_servers(cfg), params["TIME-SYNC"]["servers"]
    for server in wanted:
        if server not in configured:
            cmds.append(Cmd("TIME-SYNC", "", f"ntp server {server}"))
    for server, node in configured.items() if wanted else ():
        if server not in wanted:
            identity = " ".join(node.key)
            cmds.append(Cmd("TIME-SYNC", "", f"no {identity}", rf"^{re.escape(identity)}\b", False))
    for node in other_time_sources(cfg) if wanted else ():
        identity = " ".join(node.key)
        cmds.append(Cmd("TIME-SYNC", "", f"no {identity}", rf"^{re.escape(identity)}\b", False))
    return cmds


def render(cmds: list[Cmd]) -> str:
    """The plan as configuration text: global commands, then each block with its children."""
    out = [c.line for c in cmds if not c.parent]
    for parent in dict.fromkeys(c.parent for c in cmds if c.parent):
        out.append(parent)
        out += [f" {c.line}" for c in cmds if c.parent == parent]
    return "\n".join(out) + ("\n" if out else "")


def apply(text: str, cmds: list[Cmd]) -> str:
    """The configuration as the device shows it after the plan: each command removes what it
    replaces and, where the device shows it, appears in its block (a new block before `end`).
    Used to prove offline that the plan turns a failing configuration into a passing one."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    cut = max((i for i, ln in enumerate(lines) if ln.strip() == "end"), default=len(lines))
    lines, tail = lines[:cut], lines[cut:]
    for cmd in cmds:
        start, end = 0, len(lines)
        if cmd.parent:
            if cmd.parent not in lines:
                lines += [cmd.parent, "!"]
            start = lines.index(cmd.parent) + 1
            end = next((i for i in range(start, len(lines)) if not lines[i].startswith(" ")), len(lines))
        indent = " " if cmd.parent else ""
        rx = re.compile(cmd.removes) if cmd.removes else None
        kept = [ln for ln in lines[start:end] if not (rx and ln.startswith(indent) and rx.search(ln.strip()))]
        if cmd.shown and f"{indent}{cmd.line}" not in kept:
            kept.append(f"{indent}{cmd.line}")
        lines[start:end] = kept
    return "\n".join(lines + tail).rstrip("\n") + "\n"
