"""Network device checks (CONTROLS.md platform N): Cisco IOS / IOS-XE syntax, and FRRouting
(vtysh) where it has the same concept. Facts: {platform: network, vendor: ios|frr,
running_config: text, source: where it was read}. The configuration is parsed once
(lgsec/network.py); each verdict cites the configuration lines it read.

enable secret / service password-encryption have no control of their own in the catalog: they
protect the privileged (enable) ID's password and every password the configuration stores
(第69条1, 第70条), so they are judged under PRIV-DEFAULT-ID with the default user names.
"""

from __future__ import annotations

import re

from lgsec import network
from lgsec.checks import Ctx, Unreadable, Verdict, check
from lgsec.network import Config

FRR_OS = "FRR has no {what}: {where}"


def device(ctx: Ctx) -> Config:
    """The device's configuration; Unreadable (error rows, never a verdict) when it was not read,
    or what was read is not a whole configuration (truncated, empty, a text block never closed)."""
    if ctx.facts.get("error") or not ctx.facts.get("running_config"):
        where = ctx.facts.get("source") or ctx.host
        raise Unreadable(f"running configuration of {ctx.host}: {ctx.facts.get('error') or f'{where}: empty'}")
    cfg = network.from_facts(ctx.facts)
    if cfg.problem:
        raise Unreadable(f"{cfg.source}: {cfg.problem}")
    return cfg


def judged(problems: list[str], expected: str, ok: str, evidence: list[str]) -> Verdict:
    if problems:
        return Verdict("fail", expected, "; ".join(problems), evidence)
    return Verdict("pass", expected, ok, evidence)


def not_on_frr(cfg: Config, expected: str, what: str, where: str) -> Verdict:
    return Verdict("not_applicable", expected, FRR_OS.format(what=what, where=where), [f"{cfg.source}: vendor frr"])


def vty_blocks(cfg: Config) -> list:
    blocks = cfg.lines("vty")
    if not blocks:
        raise Unreadable(f"{cfg.source}: no `line vty` in the running configuration")
    return blocks


@check("PW-LENGTH", "network", facts=("running_config",))
def pw_length(ctx: Ctx) -> Verdict:
    cfg, want = device(ctx), ctx.params["min"]
    expected = f"security passwords min-length >= {want}"
    if cfg.vendor == "frr":
        return not_on_frr(
            cfg, expected, "password length policy", "its users are the host's accounts (Linux PW-LENGTH)"
        )
    line = cfg.first(r"^security passwords min-length \d+$")
    if line is None:
        return Verdict("fail", expected, "security passwords min-length not set", [f"{cfg.source}: no such line"])
    value = network.num(line.words[-1])
    return judged([f"min-length {value}"] if value < want else [], expected, f"min-length {value}", [cfg.where(line)])


@check("LOCKOUT", "network", facts=("running_config",))
def lockout(ctx: Ctx) -> Verdict:
    cfg, p = device(ctx), ctx.params
    expected = (
        f"login block-for >= {p['unlock_time']} s after at most {p['deny']} attempts within >= {p['network_within']} s"
    )
    if cfg.vendor == "frr":
        return not_on_frr(cfg, expected, "login blocking", "logins go through the host's sshd and PAM (Linux LOCKOUT)")
    line, values = network.block_for(cfg)
    if line is None:
        return Verdict("fail", expected, "login block-for not set", [f"{cfg.source}: no login block-for line"])
    return judged(network.lockout_problems(values, p), expected, line.text, [cfg.where(line)])


@check("PRIV-DEFAULT-ID", "network", facts=("running_config",))
def priv_default_id(ctx: Ctx) -> Verdict:
    cfg = device(ctx)
    evidence, problems = [], []
    encryption = cfg.first(r"^service password-encryption$")
    if encryption is None:
        problems.append("service password-encryption off")
    else:
        evidence.append(cfg.where(encryption))
    if cfg.vendor == "ios":
        expected = f"no default user name ({', '.join(network.DEFAULT_USERNAMES)}), users and enable with secret, "
        expected += "no enable password, service password-encryption"
        for user in cfg.top(r"^username \S+"):
            name, words = user.words[1], user.words[2:]
            if name.lower() in network.DEFAULT_USERNAMES:
                problems.append(f"default user name {name}")
            if "nopassword" in words:
                problems.append(f"username {name} with no password (nopassword)")
            elif "password" in words:
                problems.append(f"username {name} with a reversible password (use secret)")
            elif "secret" not in words:
                problems.append(f"username {name} without a secret")
            evidence.append(cfg.where(user))
        if cfg.first(r"^enable password "):
            problems.append("enable password set (reversible; use enable secret)")
            evidence.append(f"{cfg.source}: enable password <hidden>")
        secret = network.enable_secret(cfg)
        if secret is None:
            problems.append("no enable secret")
        else:
            evidence.append(f"{cfg.source}:{secret.linenum + 1}: enable secret <hidden>")
    else:
        expected = (
            "service password-encryption; no clear-text password or enable password (FRR has no users of its own)"
        )
        for obj in cfg.top(r"^(enable )?password \S+") + [
            c for b in cfg.lines("vty") for c in cfg.children(b, r"^password \S+")
        ]:
            words = obj.words
            if words[-2] not in ("8",):  # `password 8 <hash>`: stored encrypted
                problems.append(f"clear-text {' '.join(words[:-1])}")
                evidence.append(f"{cfg.source}:{obj.linenum + 1}: {' '.join(words[:-1])} <hidden>")
    return judged(problems, expected, "passwords stored encrypted, no default user name", evidence or [cfg.source])


@check("SESSION-LIMIT", "network", facts=("running_config",))
def session_limit(ctx: Ctx) -> Verdict:
    cfg, minutes = device(ctx), ctx.params["exec_timeout"]
    kinds = ("con", "aux", "vty") if cfg.vendor == "ios" else ("vty",)
    expected = f"exec-timeout on {', '.join(f'line {k}' for k in kinds)} at most {minutes} min, never 0"
    if cfg.vendor == "ios":
        expected += " (line aux with `no exec` takes no login)"
    blocks = network.session_lines(cfg)
    if not blocks:
        raise Unreadable(f"{cfg.source}: no line {'/'.join(kinds)} block in the running configuration")
    problems, evidence = [], []
    for block in blocks:
        seconds, where = network.exec_timeout(cfg, block)
        evidence.append(where)
        if seconds is None:
            problems.append(f"{block.text}: exec-timeout not readable as IOS takes it")
        elif not 0 < seconds <= minutes * 60:
            problems.append(f"{block.text}: exec-timeout {'never' if seconds == 0 else f'{seconds} s'}")
    return judged(problems, expected, f"every line times out within {minutes} min", evidence)


@check("REMOTE-ENCRYPTED", "network", facts=("running_config",))
def remote_encrypted(ctx: Ctx) -> Verdict:
    cfg = device(ctx)
    expected = "ip ssh version 2; every line vty: transport input ssh only"
    if cfg.vendor == "frr":
        where = "remote access is the host's sshd into vtysh (Linux REMOTE-ENCRYPTED)"
        return not_on_frr(cfg, expected, "remote access protocol of its own", where)
    problems, evidence = [], []
    version = cfg.first(r"^ip ssh version 2$")
    if version is None:
        problems.append("ip ssh version 2 not set (SSH v1 allowed)")
    else:
        evidence.append(cfg.where(version))
    for block in vty_blocks(cfg):
        transport = cfg.child(block, r"^(no )?transport input\b")
        if transport is None or transport.negated:
            problems.append(f"{block.text}: no transport input (the device default may allow telnet)")
            evidence.append(f"{cfg.source}:{block.linenum + 1}: {block.text} (no transport input)")
            continue
        evidence.append(cfg.where(transport))
        protocols = transport.words[2:]
        if protocols != ["ssh"]:
            problems.append(f"{block.text}: transport input {' '.join(protocols)}")
    return judged(problems, expected, "SSH v2 only on every vty", evidence)


@check("REMOTE-MINIMAL", "network", facts=("running_config",))
def remote_minimal(ctx: Ctx) -> Verdict:
    cfg, acl = device(ctx), ctx.params["vty_acl"]
    expected = f"every line vty: access-class {acl or '<a defined ACL>'}{' in' if cfg.vendor == 'ios' else ''}"
    acls = network.access_lists(cfg)
    problems, evidence = [], []
    for block in vty_blocks(cfg):
        line = network.vty_access_class(cfg, block)
        if line is None:
            outbound = cfg.child(block, r"^access-class \S+ out\b")
            why = " (only `out`, which restricts outgoing connections)" if outbound else ""
            problems.append(f"{block.text}: no access-class in{why}")
            evidence.append(f"{cfg.source}:{block.linenum + 1}: {block.text} (no access-class in)")
            continue
        evidence.append(cfg.where(line))
        name = line.words[1]
        if acl and name != acl:
            problems.append(f"{block.text}: access-class {name}, not {acl}")
        elif name not in acls:
            problems.append(f"{block.text}: access-class {name} names no access-list in the configuration")
    return judged(problems, expected, "every vty restricted by its access-class", evidence)


@check("NET-PORTS-UNUSED", "network", facts=("running_config",))
def net_ports_unused(ctx: Ctx) -> Verdict:
    cfg, p = device(ctx), ctx.params
    expected = f"declared unused ports shut ({', '.join(p['unused_ports']) or 'none declared'})"
    if cfg.vendor == "ios" and p["port_security"]:
        expected += (
            f"; access ports in use: switchport mode access, port-security, maximum <= {p['max_mac']}, "
            f"violation {' or '.join(p['violation_modes'])}"
        )
    problems, evidence = [], []
    for name in p["unused_ports"]:
        iface = cfg.interface(name)
        if iface is None:
            problems.append(f"{name}: no such interface in the configuration")
            continue
        evidence.append(
            f"{cfg.source}:{iface.linenum + 1}: {iface.text}{' / shutdown' if network.is_shut(iface) else ''}"
        )
        if not network.is_shut(iface):
            problems.append(f"{iface.words[1]} declared unused but not shut")
    access = {n: i for n, i in network.access_ports(cfg, p).items() if i is None or not network.is_shut(i)}
    if cfg.vendor == "ios" and p["port_security"]:
        for name, iface in access.items():
            if iface is None:
                problems.append(f"{name}: no such interface in the configuration")
                continue
            needs = [] if network.is_access_port(iface) else ["switchport mode access"]
            needs += [line for line, _ in network.port_security_needs(cfg, iface, p)]
            if needs:
                mode = "" if network.is_access_port(iface) else " (no switchport mode access: IOS default dynamic)"
                problems.append(f"{name}: access port without {', '.join(needs)}{mode}")
            evidence.append(f"{cfg.source}:{iface.linenum + 1}: {name} access port")
    elif cfg.vendor == "frr":
        access = {}
    if not p["unused_ports"] and not access:
        return Verdict("not_applicable", expected, "no access port, no port declared unused", [cfg.source])
    if cfg.vendor == "frr":
        expected += " (FRR has no switch ports: port-security does not apply)"
    return judged(
        problems, expected, f"{len(p['unused_ports'])} unused shut, {len(access)} access ports secured", evidence
    )


@check("NET-SNMP", "network", facts=("running_config",))
def net_snmp(ctx: Ctx) -> Verdict:
    cfg, p = device(ctx), ctx.params
    expected = (
        "SNMPv3 only: no snmp-server community, no v1/v2c group or user"
        if p["v3_only"]
        else (f"no community named {', '.join(p['default_communities'])}")
    )
    if cfg.vendor == "frr":
        return not_on_frr(cfg, expected, "SNMP agent of its own", "agentx to the host's snmpd (Linux NET-SNMP)")
    offending = network.snmp_offending(cfg, p)
    names = [network.snmp_name(o, p["default_communities"]) for o in offending]
    evidence = [f"{cfg.source}:{o.linenum + 1}: snmp-server {n}" for o, n in zip(offending, names, strict=True)]
    communities = cfg.top(r"^snmp-server community \S+")
    users = [u for u in cfg.top(r"^snmp-server (user|group) ") if u not in offending]
    evidence += [cfg.where(u) for u in users[:5]] or [f"{cfg.source}: {len(communities)} community line(s)"]
    return judged(names, expected, f"{len(communities)} communities, {len(users)} SNMPv3 user/group lines", evidence)


@check("SVC-UNNEEDED", "network", facts=("running_config",))
def svc_unneeded(ctx: Ctx) -> Verdict:
    cfg, p = device(ctx), ctx.params
    external = p["cdp_off_interfaces"]
    expected = f"absent: {', '.join(p['network_deny'])}; CDP off on {', '.join(external) or 'no external interface'}"
    if cfg.vendor == "frr":
        return not_on_frr(
            cfg, expected, "HTTP server, small servers or CDP", "the host's services (Linux SVC-UNNEEDED)"
        )
    problems, evidence = [], []
    for command in p["network_deny"]:
        found = cfg.top(rf"^{re.escape(' '.join(command.split()))}$")
        problems += [command for _ in found[:1]]
        evidence += [cfg.where(o) for o in found] or [f"{cfg.source}: no `{command}` line"]
    for name in network.cdp_on(cfg, external):
        problems.append(f"CDP on external interface {name}")
    problems += [f"{n}: no such interface in the configuration" for n in external if cfg.interface(n) is None]
    global_off = cfg.first(r"^no cdp run$")
    if global_off:
        evidence.append(cfg.where(global_off))
    return judged(problems, expected, "no unneeded service, CDP off where external", evidence)


@check("LOG-RETENTION", "network", facts=("running_config",))
def log_retention(ctx: Ctx) -> Verdict:
    cfg, size = device(ctx), ctx.params["network_buffer_bytes"]
    if cfg.vendor == "frr":
        expected = "log syslog or log file (the host keeps the files for the period: Linux LOG-RETENTION)"
        found = cfg.top(r"^log (syslog|file)\b")
        if not found:
            return Verdict("fail", expected, "no log syslog or log file: FRR logs nowhere lasting", [cfg.source])
        return Verdict("pass", expected, ", ".join(o.text for o in found), [cfg.where(o) for o in found])
    expected = (
        f"logging on; logging buffered >= {size} bytes at severity {network.LEVELS[network.MIN_LEVEL]} or more; "
        "service timestamps log datetime"
    )
    problems, evidence = [], []
    off = network.logging_off(cfg)
    if off:
        problems.append("no logging on (logging turned off)")
        evidence.append(cfg.where(off))
    buffered = network.logging_buffered(cfg)
    problems += network.buffered_problems(buffered, size)
    if buffered[0] is not None:
        evidence.append(cfg.where(buffered[0]))
    stamps = cfg.first(r"^service timestamps log datetime")
    if stamps is None:
        problems.append("log messages without date and time (service timestamps log datetime)")
    else:
        evidence.append(cfg.where(stamps))
    return judged(problems, expected, "buffered and timestamped", evidence or [cfg.source])


@check("LOG-CENTRAL", "network", facts=("running_config",))
def log_central(ctx: Ctx) -> Verdict:
    cfg, p = device(ctx), ctx.params
    if cfg.vendor == "frr":
        if not p["hosts"]:
            return Verdict("not_applicable", "log syslog to the log hosts", "no log host configured", [cfg.source])
        expected = "log syslog (the host's rsyslog forwards to the log hosts: Linux LOG-CENTRAL)"
        found = cfg.first(r"^log syslog\b")
        evidence = [cfg.where(found)] if found else [cfg.source]
        return judged([] if found else ["no log syslog"], expected, found.text if found else "", evidence)
    configured = network.logging_hosts(cfg)
    if not p["hosts"] and not configured:
        expected = "logging host for each log host"
        return Verdict("not_applicable", expected, "no log host in the inventory or on the device", [cfg.source])
    expected = f"logging host {', '.join(p['hosts']) if p['hosts'] else 'the device names'}; logging on"
    expected += f"; logging trap {network.LEVELS[network.MIN_LEVEL]} or more"
    missing = network.missing_log_hosts(cfg, p)
    evidence = [cfg.where(o) for o in configured.values()] or [f"{cfg.source}: no logging host line"]
    problems = [f"no logging host {h}" for h in missing]
    off = network.logging_off(cfg)
    if off:
        problems.append("no logging on (nothing is sent)")
        evidence.append(cfg.where(off))
    trap = cfg.first(r"^(no )?logging trap\b")
    level = None if trap is None or trap.negated else [network.level_of(w) for w in trap.words[2:3]] or [6]
    if trap is not None and (level is None or level[0] is None or level[0] < network.MIN_LEVEL):
        problems.append(f"{trap.text}: the log hosts get no login or configuration message")
        evidence.append(cfg.where(trap))
    return judged(problems, expected, f"logging host {', '.join(configured)}", evidence)


@check("TIME-SYNC", "network", facts=("running_config",))
def time_sync(ctx: Ctx) -> Verdict:
    cfg, wanted = device(ctx), ctx.params["servers"]
    expected = f"ntp server {', '.join(wanted)} and no other time source" if wanted else "at least one ntp server"
    if cfg.vendor == "frr":
        return not_on_frr(cfg, expected, "NTP client", "the host's clock is chrony's (Linux TIME-SYNC)")
    configured = network.ntp_servers(cfg)
    others = network.other_time_sources(cfg)
    evidence = [cfg.where(o) for o in [*configured.values(), *others]] or [f"{cfg.source}: no ntp server line"]
    if not wanted:
        problems = (
            [] if configured else ["no ntp server configured and none in the inventory (lgsec_time_sync_servers)"]
        )
    else:
        problems = [f"missing ntp server {s}" for s in wanted if s not in configured]
        problems += [f"other ntp server {s}" for s in configured if s not in wanted]
        problems += [f"other time source: {o.text}" for o in others]
    return judged(problems, expected, f"ntp server {', '.join(configured)}", evidence)
