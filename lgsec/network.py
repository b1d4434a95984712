"""Network devices: the configuration model — a running configuration as the device executes it,
and the questions the audit and the enforcement ask of it (which lines are sessions, what the
lockout is, which SNMP lines are too old …).

One model serves the audit (lgsec/checks/network.py judges it) and the enforcement (the change
plan, lgsec/network_plan.py, computes the lines the network_device role pushes from the same
model), so what check mode shows is exactly what the audit found. The controller's store of
configuration backups: lgsec/network_store.py.

The model (lgsec/netconfig.py) reads a configuration the way IOS applies it: top to bottom, a
later `no …` or value wins, text blocks (banners, macros) are not commands, only LF ends a line,
blanks are blanks (docs/network.md: each behaviour and its source). FRR's `show running-config`
(vtysh) reads the same way; the checks say where the syntax differs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lgsec.errors import InputError
from lgsec.netconfig import Parsed, canonical_interface

VENDORS = ("ios", "frr")
# ansible_network_os → vendor
NETWORK_OS = {"cisco.ios.ios": "ios", "ios": "ios", "frr.frr.frr": "frr", "frr": "frr"}
HEADER = re.compile(r"^[!#]\s*lgsec:\s*(.*)$")


def read_header(text: str) -> dict[str, str]:
    """`! lgsec: vendor=ios host=sw01` among the first lines of a saved configuration; without
    one, FRR's own `frr version …` line says frr (key `frr`)."""
    head = [line.rstrip("\r") for line in text.split("\n")[:10]]
    for line in head:
        match = HEADER.match(line.strip())
        if match:
            return dict(part.split("=", 1) for part in match.group(1).split() if "=" in part)
    return {"frr": "1"} if any(line.startswith("frr version ") for line in head) else {}


def vendor_of(hostvars: dict, header: dict | None = None, where: str = "-") -> str:
    """Vendor from the inventory (lgsec_network_vendor, ansible_network_os), else the file's
    header, else ios."""
    vendor = hostvars.get("lgsec_network_vendor") or NETWORK_OS.get(str(hostvars.get("ansible_network_os", "")))
    vendor = vendor or (header or {}).get("vendor") or ("frr" if (header or {}).get("frr") else "ios")
    if vendor not in VENDORS:
        raise InputError(where, "vendor", f"unknown network vendor {vendor!r} (known: {', '.join(VENDORS)})")
    return vendor


SECRET = re.compile(
    r"\b(password|secret|key-string|key|auth (?:md5|sha\S*)|priv (?:des|3des|aes(?: \d+)?))((?: \d+)?(?: md5)?) \S+",
    re.ASCII,
)


def redact(text: str) -> str:
    """A configuration line without its password, secret or key (reports never carry them)."""
    return SECRET.sub(r"\1\2 <hidden>", text)


# An SNMP community (or an SNMP user's name, a community to v1/v2c) in a saved configuration
SNMP_NAME = re.compile(r"^([ \t]*snmp-server[ \t]+(?:community|user)[ \t]+)(\S+)", re.ASCII | re.MULTILINE)


def redact_config(text: str) -> str:
    """A whole configuration as lgsec keeps it (the run archive): every password, secret and
    key hidden line by line (`redact`), and every SNMP community and SNMP user name."""
    return SNMP_NAME.sub(r"\1<hidden>", "\n".join(redact(line) for line in text.split("\n")))


def community_label(name: str, defaults: list[str]) -> str:
    """An SNMP community as a report shows it: a default name in full, any other hidden."""
    return name if name.lower() in {d.lower() for d in defaults} else f"{name[:1]}… (hidden)"


class Config:
    """A running configuration as the device executes it (lgsec/netconfig.py): the effective
    top-level commands and their blocks' children, nothing that IOS would not execute."""

    def __init__(self, text: str | bytes, vendor: str, source: str):
        self.vendor = vendor
        self.source = source
        self.parse = Parsed(text, vendor)

    @property
    def problem(self) -> str:
        """Why the configuration cannot be judged as complete ("" when it can)."""
        if not self.parse.commands:
            return "no configuration command in it (empty, or comments only)"
        return self.parse.problem

    def top(self, pattern: str) -> list:
        """Top-level commands matching a regex (text blocks and children excluded)."""
        rx = re.compile(pattern, re.ASCII)
        return [o for o in self.parse.objs if rx.search(o.text)]

    def first(self, pattern: str):
        found = self.top(pattern)
        return found[0] if found else None

    @staticmethod
    def children(parent, pattern: str) -> list:
        rx = re.compile(pattern, re.ASCII)
        return [c for c in parent.children if rx.search(c.text)]

    def child(self, parent, pattern: str):
        found = self.children(parent, pattern)
        return found[-1] if found else None

    def where(self, obj) -> str:
        """file:line: text of a configuration line (the evidence of a verdict)."""
        parent = obj.parent if obj.parent is not obj else None
        text = f"{parent.text} / {obj.text}" if parent else obj.text
        return f"{self.source}:{obj.linenum + 1}: {redact(text)}"

    def lines(self, kind: str) -> list:
        """`line con 0`, `line vty 0 4` … blocks of one kind (con, aux, vty)."""
        return [o for o in self.parse.objs if o.words[:2] == ["line", kind]]

    def interfaces(self) -> dict[str, object]:
        return {o.words[1]: o for o in self.parse.objs if o.key[:1] == ("interface",)}

    def interface(self, name: str):
        """An interface by any name IOS accepts for it (Gi1/0/1 = GigabitEthernet1/0/1)."""
        return self.interfaces().get(canonical_interface(name))


@lru_cache(maxsize=64)
def parse(text: str | bytes, vendor: str, source: str) -> Config:
    return Config(text, vendor, source)


def from_facts(facts: dict) -> Config:
    """The parsed configuration of a device's facts ({platform: network, running_config, vendor or
    network_os (ansible_network_os)})."""
    vendor = facts.get("vendor") or NETWORK_OS.get(facts.get("network_os") or "cisco.ios.ios")
    if vendor not in VENDORS:
        raise ValueError(
            f"network OS {facts.get('network_os')!r} is not one lgsec reads (known: {', '.join(NETWORK_OS)})"
        )
    return parse(config_bytes(facts), vendor, facts.get("source", "running-config"))


def config_bytes(facts: dict) -> str | bytes:
    """The configuration as the device holds it: a saved file that is not UTF-8 is kept one byte
    per character (`encoding: bytes`, so its facts stay valid text for JSON), its bytes restored here."""
    text = facts["running_config"]
    return text.encode("latin-1") if facts.get("encoding") == "bytes" else text


def num(word: str) -> int | None:
    """A number as IOS reads it (ASCII digits only), None for anything else."""
    return int(word) if word.isascii() and word.isdigit() else None


def is_access_port(iface) -> bool:
    return any(c.text == "switchport mode access" for c in iface.children)


def is_shut(iface) -> bool:
    return any(c.text == "shutdown" for c in iface.children)


def is_switch_port(iface) -> bool:
    """A layer-2 port: configured with switchport commands and not made a routed port."""
    texts = [c.text for c in iface.children]
    return "no switchport" not in texts and any(t.startswith("switchport") for t in texts)


def is_trunk(iface) -> bool:
    return any(c.text == "switchport mode trunk" for c in iface.children)


DEFAULT_EXEC_TIMEOUT = 600  # IOS and FRR: 10 minutes, not shown in the running configuration


def exec_timeout(cfg: Config, block) -> tuple[int | None, str]:
    """A line block's idle timeout in seconds (0 = never, None = a value IOS would not take)
    and where it was read."""
    obj = cfg.child(block, r"^(no )?exec-timeout\b")
    if obj is None:
        return (
            DEFAULT_EXEC_TIMEOUT,
            f"{cfg.source}:{block.linenum + 1}: {block.text} (no exec-timeout: default 10 min)",
        )
    if obj.negated:
        return 0, cfg.where(obj)
    minutes, seconds = [*obj.words[1:3], "0"][:2] if len(obj.words) > 1 else (None, None)
    if minutes is None or num(minutes) is None or num(seconds) is None:
        return None, cfg.where(obj)
    return num(minutes) * 60 + num(seconds), cfg.where(obj)


def session_lines(cfg: Config) -> list:
    """The line blocks a person can log in on: IOS con, aux (unless `no exec`) and vty; FRR vty."""
    if cfg.vendor != "ios":
        return cfg.lines("vty")
    aux = [b for b in cfg.lines("aux") if not cfg.children(b, r"^no exec$")]
    return cfg.lines("con") + aux + cfg.lines("vty")


def vty_access_class(cfg: Config, block):
    """The access-class that restricts logins on a vty (`in`; FRR has no direction)."""
    found = [c for c in cfg.children(block, r"^access-class \S+") if c.key == ("access-class", "in")]
    return found[-1] if found else None


# user names devices ship with (PRIV-DEFAULT-ID: the audit finds them, the plan removes them)
DEFAULT_USERNAMES = ("admin", "administrator", "cisco", "root", "manager", "guest", "support", "user")


def access_lists(cfg: Config) -> set[str]:
    """Names of the access lists the configuration defines: numbered (IOS) or named (FRR)
    `access-list NAME …`, IOS `ip access-list standard|extended NAME`."""
    names = {o.words[1] for o in cfg.top(r"^access-list \S+")}
    return names | {o.words[-1] for o in cfg.top(r"^ip access-list (standard|extended) \S+$")}


def enable_secret(cfg: Config):
    return cfg.first(r"^enable (algorithm-type \S+ )?secret ")


def block_for(cfg: Config) -> tuple[object, dict | None]:
    """(line, {block_for, attempts, within}) of `login block-for`; None values: not readable."""
    line = cfg.first(r"^login block-for ")
    if line is None:
        return None, None
    words = line.words
    if len(words) != 7 or words[3] != "attempts" or words[5] != "within":
        return line, None
    values = {"block_for": num(words[2]), "attempts": num(words[4]), "within": num(words[6])}
    return line, values if None not in values.values() else None


def lockout_problems(values: dict | None, lock: dict) -> list[str]:
    if values is None:
        return ["login block-for not readable as IOS takes it (login block-for N attempts N within N)"]
    problems = [f"attempts {values['attempts']} > {lock['deny']}"] if values["attempts"] > lock["deny"] else []
    if values["block_for"] < lock["unlock_time"]:
        problems.append(f"block-for {values['block_for']} s < {lock['unlock_time']} s")
    if values["within"] < lock["network_within"]:
        problems.append(f"within {values['within']} s < {lock['network_within']} s (failures spread out never block)")
    return problems


def access_ports(cfg: Config, ports: dict) -> dict[str, object]:
    """Access ports for end devices (NET-PORTS-UNUSED port-security): those the inventory names
    (access_ports; None for one the configuration lacks), else every layer-2 port that is not a
    trunk: `switchport mode access`, and a port with switchport lines but no mode (IOS default:
    dynamic, which negotiates a trunk with whatever is plugged in); the ports declared unused are
    not among them."""
    ifaces = cfg.interfaces()
    if ports["access_ports"]:
        found = {canonical_interface(n): cfg.interface(n) for n in ports["access_ports"]}
    else:
        found = {n: i for n, i in ifaces.items() if is_access_port(i) or (is_switch_port(i) and not is_trunk(i))}
    unused = {canonical_interface(n) for n in ports["unused_ports"]}
    return {n: i for n, i in found.items() if n not in unused}


def port_security_needs(cfg: Config, iface, ports: dict) -> list[tuple[str, str]]:
    """(command, the lines it replaces) an access port in use still needs for port-security."""
    needs = []
    if not cfg.children(iface, r"^switchport port-security$"):
        needs.append(("switchport port-security", ""))
    maximum = cfg.child(iface, r"^switchport port-security maximum \d+$")
    current = num(maximum.words[3]) if maximum else 1  # IOS default: 1 address
    if current > ports["max_mac"] or (maximum is None and ports["max_mac"] != 1):
        needs.append((f"switchport port-security maximum {ports['max_mac']}", r"^switchport port-security maximum "))
    violation = cfg.child(iface, r"^switchport port-security violation ")
    modes = ports["violation_modes"]
    if (violation.words[-1] if violation else "shutdown") not in modes:
        line = f"switchport port-security violation {modes[0]}"
        needs.append((line, r"^switchport port-security violation "))
    return needs


SNMP_OLD = re.compile(r"^snmp-server (group \S+|user \S+ \S+) (v1|v2c)\b", re.ASCII)


def snmp_offending(cfg: Config, snmp: dict) -> list:
    """SNMPv1/v2c the NET-SNMP parameters forbid: `snmp-server community` lines, and groups and
    users of v1 or v2c (a v2c user's name is a community string: `snmp-server user public G v2c`)."""
    old = [
        o for o in cfg.top(r"^snmp-server (community|group|user) ") if o.key[1] == "community" or SNMP_OLD.match(o.text)
    ]
    if snmp["v3_only"]:
        return old
    defaults = {d.lower() for d in snmp["default_communities"]}
    return [o for o in old if o.words[2].lower() in defaults and o.key[1] != "group"]


def snmp_name(node, defaults: list[str]) -> str:
    """How a report names an SNMPv1/v2c line: the community (or v2c user) hidden unless a default."""
    label = community_label(node.words[2], defaults)
    if node.key[1] == "community":
        return f"community {label} ({' '.join(node.words[3:]) or 'RO'})"
    if node.key[1] == "user":
        return f"{node.words[-1] if node.words[-1] in ('v1', 'v2c') else 'v2c'} user {label} (a community string)"
    return f"{node.words[3]} group {node.words[2]}"


def cdp_on(cfg: Config, external: list[str]) -> list[str]:
    """External interfaces where CDP still runs (global `no cdp run` turns it off everywhere)."""
    if cfg.first(r"^no cdp run$"):
        return []
    out = []
    for name in external:
        iface = cfg.interface(name)
        if iface is not None and not cfg.children(iface, r"^no cdp enable$"):
            out.append(iface.words[1])
    return out


LEVELS = ("emergencies", "alerts", "critical", "errors", "warnings", "notifications", "informational", "debugging")
MIN_LEVEL = 5  # notifications: login (SEC_LOGIN-5) and configuration (SYS-5-CONFIG_I) messages


def level_of(word: str) -> int | None:
    return LEVELS.index(word) if word in LEVELS else num(word) if num(word) is not None and num(word) < 8 else None


def logging_off(cfg: Config):
    """`no logging on`: the device logs nowhere but the console."""
    return cfg.first(r"^no logging on$")


def logging_buffered(cfg: Config) -> tuple[object, int | None, int | None]:
    """(line, size in bytes, severity 0–7) of `logging buffered [size] [level]`; None for a value
    IOS would not take. No line: IOS keeps a small default buffer (4096 bytes, debugging)."""
    line = cfg.first(r"^(no )?logging buffered\b")
    if line is None:
        return None, 4096, 7
    if line.negated:
        return line, 0, None
    size, level = 4096, 7
    for word in line.words[2:]:
        if level_of(word) is not None:
            level = level_of(word)
        elif num(word) is not None:
            size = num(word)
        else:
            return line, None, None
    return line, size, level


def buffered_problems(buffered: tuple, size: int) -> list[str]:
    line, have, level = buffered
    if line is not None and line.negated:
        return ["no logging buffered (nothing kept on the device)"]
    if have is None:
        return [f"{line.text}: not readable as IOS takes it"]
    problems = (
        [f"{line.text if line else 'logging buffered not set (default 4096)'}: {have} bytes < {size}"]
        if have < size
        else []
    )
    if level is not None and level < MIN_LEVEL:
        problems.append(f"{line.text}: severity {LEVELS[level]} keeps no login or configuration message")
    return problems


def logging_hosts(cfg: Config) -> dict[str, object]:
    """Log hosts: `logging host X …` and the older `logging X` (an address)."""
    return {o.key[2]: o for o in cfg.top(r"^logging ") if o.key[:2] == ("logging", "host") and len(o.key) > 2}


def missing_log_hosts(cfg: Config, central: dict) -> list[str]:
    configured = logging_hosts(cfg)
    return [h for h in central["hosts"] if h.partition(":")[0] not in configured]


def ntp_servers(cfg: Config) -> dict[str, object]:
    """NTP servers by address (`ntp server vrf Mgmt 10.0.0.1`: 10.0.0.1)."""
    return {o.key[-1]: o for o in cfg.top(r"^ntp server ") if len(o.key) > 2}


def other_time_sources(cfg: Config) -> list:
    """Time sources that are not servers: `ntp peer X` (a peer can set our clock), `ntp master`
    (the device trusts its own clock)."""
    return cfg.top(r"^ntp (peer \S+|master\b)")
