"""Network devices: the parsed running configuration, and the changes that make it compliant.

One model serves the audit (lgsec/checks/network.py judges it) and the enforcement (the
network_device role pushes the lines `plan` computes from the same model), so what check mode
shows is exactly what the audit found.

The configuration is parsed with ciscoconfparse2 rather than matched line by line: it builds
the parent/child tree of IOS syntax (an `exec-timeout` belongs to its `line vty`, a `shutdown`
to its `interface`) and keeps multi-line banners out of the tree, offline and in plain Python —
the cisco.ios resource modules' `state: parsed` would need Ansible in the loop and have no
parser for `line` or FRR. FRR's `show running-config` (vtysh) uses the same indentation, so one
parser reads both vendors; the checks say where their syntax differs.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lgsec.errors import InputError

VENDORS = ("ios", "frr")
# ansible_network_os → vendor
NETWORK_OS = {"cisco.ios.ios": "ios", "ios": "ios", "frr.frr.frr": "frr", "frr": "frr"}
HEADER = re.compile(r"^[!#]\s*lgsec:\s*(.*)$")


def read_header(text: str) -> dict[str, str]:
    """`! lgsec: vendor=ios host=sw01` among the first lines of a saved configuration; without
    one, FRR's own `frr version …` line says frr (key `frr`)."""
    head = text.splitlines()[:10]
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


SECRET = re.compile(r"\b(password|secret|key-string|key)( \d+)? \S+")


def redact(text: str) -> str:
    """A configuration line without its password, secret or key (reports never carry them)."""
    return SECRET.sub(r"\1\2 <hidden>", text)


def community_label(name: str, defaults: list[str]) -> str:
    """An SNMP community as a report shows it: a default name in full, any other hidden."""
    return name if name.lower() in {d.lower() for d in defaults} else f"{name[:1]}… (hidden)"


class Config:
    """A running configuration as a tree: top-level commands and their children."""

    def __init__(self, text: str, vendor: str, source: str):
        from ciscoconfparse2 import CiscoConfParse

        self.vendor = vendor
        self.source = source
        self.parse = CiscoConfParse(text.splitlines(), syntax="ios", loguru=False)

    def top(self, pattern: str) -> list:
        """Top-level commands matching a regex (banner bodies and children excluded)."""
        rx = re.compile(pattern)
        return [o for o in self.parse.objs if o.parent is o and o.indent == 0 and rx.search(o.text)]

    def first(self, pattern: str):
        found = self.top(pattern)
        return found[0] if found else None

    @staticmethod
    def children(parent, pattern: str) -> list:
        rx = re.compile(pattern)
        return [c for c in parent.children if rx.search(c.text.strip())]

    def child(self, parent, pattern: str):
        found = self.children(parent, pattern)
        return found[-1] if found else None  # the last one wins, as on the device

    def where(self, obj) -> str:
        """file:line: text of a configuration line (the evidence of a verdict)."""
        parent = obj.parent if obj.parent is not obj else None
        text = f"{parent.text.strip()} / {obj.text.strip()}" if parent else obj.text.strip()
        return f"{self.source}:{obj.linenum + 1}: {redact(text)}"

    def lines(self, kind: str) -> list:
        """`line con 0`, `line vty 0 4` … blocks of one kind (con, vty)."""
        return self.top(rf"^line {kind}\b")

    def interfaces(self) -> dict[str, object]:
        return {o.text.split(None, 1)[1].strip(): o for o in self.top(r"^interface \S")}


@lru_cache(maxsize=64)
def parse(text: str, vendor: str, source: str) -> Config:
    return Config(text, vendor, source)


def from_facts(facts: dict) -> Config:
    """The parsed configuration of a device's facts ({platform: network, running_config, vendor or
    network_os (ansible_network_os)})."""
    vendor = facts.get("vendor") or NETWORK_OS.get(facts.get("network_os") or "cisco.ios.ios")
    if vendor not in VENDORS:
        raise ValueError(
            f"network OS {facts.get('network_os')!r} is not one lgsec reads (known: {', '.join(NETWORK_OS)})"
        )
    return parse(facts["running_config"], vendor, facts.get("source", "running-config"))


def is_access_port(iface) -> bool:
    return any(c.text.strip() == "switchport mode access" for c in iface.children)


def is_shut(iface) -> bool:
    return any(c.text.strip() == "shutdown" for c in iface.children)


DEFAULT_EXEC_TIMEOUT = 600  # IOS and FRR: 10 minutes, not shown in the running configuration


def exec_timeout(cfg: Config, block) -> tuple[int, str]:
    """A line block's idle timeout in seconds (0 = never) and where it was read."""
    obj = cfg.child(block, r"^(no )?exec-timeout\b")
    if obj is None:
        return (
            DEFAULT_EXEC_TIMEOUT,
            f"{cfg.source}:{block.linenum + 1}: {block.text.strip()} (no exec-timeout: default 10 min)",
        )
    parts = obj.text.split()
    if parts[0] == "no":
        return 0, cfg.where(obj)
    return int(parts[1]) * 60 + (int(parts[2]) if len(parts) > 2 else 0), cfg.where(obj)


# ---- enforcement: the lines that make a configuration compliant ---------------------------


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


DEFAULT_USERNAMES = ("admin", "administrator", "cisco", "root", "manager", "guest", "support", "user")


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
    for block in cfg.lines("con") + cfg.lines("vty") if ios else cfg.lines("vty"):
        name = block.text.strip()
        if not 0 < exec_timeout(cfg, block)[0] <= timeout * 60:
            cmds.append(Cmd("SESSION-LIMIT", name, f"exec-timeout {timeout} 0", r"^exec-timeout "))
        if " vty " in f" {name} " and vty_acl and vty_acl in access_lists(cfg):
            want = f"access-class {vty_acl} in" if ios else f"access-class {vty_acl}"
            if not cfg.children(block, rf"^{re.escape(want)}$"):
                cmds.append(Cmd("REMOTE-MINIMAL", name, want, r"^access-class \S+( in)?$"))
        if ios and " vty " in f" {name} " and not cfg.children(block, r"^transport input ssh$"):
            cmds.append(Cmd("REMOTE-ENCRYPTED", name, "transport input ssh", r"^transport input "))
    for name in params["NET-PORTS-UNUSED"]["unused_ports"]:
        iface = cfg.interfaces().get(name)
        if iface is not None and not is_shut(iface):
            cmds.append(Cmd("NET-PORTS-UNUSED", f"interface {name}", "shutdown", r"^no shutdown$"))
    if not ios and not (cfg.first(r"^log syslog\b") or cfg.first(r"^log file ")):
        cmds.append(Cmd("LOG-RETENTION", "", "log syslog informational", r"^no log syslog"))
    if not ios and params["LOG-CENTRAL"]["hosts"] and not cfg.first(r"^log syslog\b"):
        cmds.append(Cmd("LOG-CENTRAL", "", "log syslog informational", r"^no log syslog"))
    seen: set[tuple[str, str]] = set()
    return [c for c in cmds if (c.parent, c.line) not in seen and not seen.add((c.parent, c.line))]


def access_lists(cfg: Config) -> set[str]:
    """Names of the access lists the configuration defines: numbered (IOS) or named (FRR)
    `access-list NAME …`, IOS `ip access-list standard|extended NAME`."""
    names = {o.text.split()[1] for o in cfg.top(r"^access-list \S+")}
    return names | {o.text.split()[-1] for o in cfg.top(r"^ip access-list (standard|extended) \S+$")}


def blockers(cfg: Config, params: dict[str, dict]) -> list[str]:
    """Findings the plan cannot fix by itself: the role stops and says what the site must decide."""
    out = []
    acl = params["REMOTE-MINIMAL"]["vty_acl"]
    if acl and acl not in access_lists(cfg):
        out.append(
            f"REMOTE-MINIMAL: access list {acl} (lgsec_remote_minimal_vty_acl) is not defined on the device: "
            "create it with the management networks first (an access-class naming no list may lock everyone out)"
        )
    if cfg.vendor == "ios" and not cfg.first(r"^enable (algorithm-type \S+ )?secret "):
        out.append("PRIV-DEFAULT-ID: no enable secret: set lgsec_network_enable_secret (vaulted) to have one set")
    return out


def _ios_globals(cfg: Config, params: dict[str, dict], operator: str) -> list[Cmd]:
    cmds = []
    pw, lock = params["PW-LENGTH"], params["LOCKOUT"]
    length = cfg.first(r"^security passwords min-length \d+$")
    if not length or int(length.text.split()[-1]) < pw["min"]:
        cmds.append(Cmd("PW-LENGTH", "", f"security passwords min-length {pw['min']}", r"^security passwords min"))
    block = cfg.first(r"^login block-for \d+ attempts \d+ within \d+$")
    if not block or not _block_ok(block.text, lock):
        line = f"login block-for {lock['unlock_time']} attempts {lock['deny']} within {lock['unlock_time']}"
        cmds.append(Cmd("LOCKOUT", "", line, r"^login block-for "))
    for user in cfg.top(r"^username \S+"):
        name = user.text.split()[1]
        if name.lower() in DEFAULT_USERNAMES and name != operator:
            cmds.append(Cmd("PRIV-DEFAULT-ID", "", f"no username {name}", rf"^username {re.escape(name)}\b", False))
    if cfg.first(r"^enable password "):
        cmds.append(Cmd("PRIV-DEFAULT-ID", "", "no enable password", r"^enable password ", False))
    if not cfg.first(r"^ip ssh version 2$"):
        cmds.append(Cmd("REMOTE-ENCRYPTED", "", "ip ssh version 2", r"^ip ssh version "))
    ports = params["NET-PORTS-UNUSED"]
    for name, iface in access_ports(cfg, ports).items() if ports["port_security"] else ():
        if iface is None or is_shut(iface):
            continue
        if not is_access_port(iface):  # port-security needs a static access port
            cmds.append(Cmd("NET-PORTS-UNUSED", f"interface {name}", "switchport mode access", r"^switchport mode "))
        for line, removes in port_security_needs(cfg, iface, ports):
            cmds.append(Cmd("NET-PORTS-UNUSED", f"interface {name}", line, removes))
    snmp = params["NET-SNMP"]
    for community in snmp_offending(cfg, snmp):
        name = community.text.split()[2]
        cmds.append(Cmd("NET-SNMP", "", f"no snmp-server community {name}", rf"^snmp-server community {name}\b", False))
    svc = params["SVC-UNNEEDED"]
    for command in svc["network_deny"]:
        if cfg.first(rf"^{re.escape(command)}$"):
            cmds.append(Cmd("SVC-UNNEEDED", "", f"no {command}", rf"^{re.escape(command)}$"))
    for name in cdp_on(cfg, svc["cdp_off_interfaces"]):
        cmds.append(Cmd("SVC-UNNEEDED", f"interface {name}", "no cdp enable", r"^cdp enable$"))
    size = params["LOG-RETENTION"]["network_buffer_bytes"]
    buffered = cfg.first(r"^logging buffered \d+")
    if not buffered or int(buffered.text.split()[2]) < size:
        cmds.append(Cmd("LOG-RETENTION", "", f"logging buffered {size} informational", r"^logging buffered"))
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
    for server in configured if wanted else ():
        if server not in wanted:
            cmds.append(Cmd("TIME-SYNC", "", f"no ntp server {server}", rf"^ntp server {re.escape(server)}\b", False))
    return cmds


def access_ports(cfg: Config, ports: dict) -> dict[str, object]:
    """Access ports for end devices (NET-PORTS-UNUSED port-security): those the inventory names
    (access_ports; None for one the configuration lacks), else every `switchport mode access`
    port; the ports declared unused are not among them."""
    ifaces = cfg.interfaces()
    if ports["access_ports"]:
        found = {n: ifaces.get(n) for n in ports["access_ports"]}
    else:
        found = {n: i for n, i in ifaces.items() if is_access_port(i)}
    return {n: i for n, i in found.items() if n not in ports["unused_ports"]}


def port_security_needs(cfg: Config, iface, ports: dict) -> list[tuple[str, str]]:
    """(command, the lines it replaces) an access port in use still needs for port-security."""
    needs = []
    if not cfg.children(iface, r"^switchport port-security$"):
        needs.append(("switchport port-security", ""))
    maximum = cfg.child(iface, r"^switchport port-security maximum \d+")
    current = int(maximum.text.split()[3]) if maximum else 1  # IOS default: 1 address
    if current > ports["max_mac"] or (maximum is None and ports["max_mac"] != 1):
        needs.append((f"switchport port-security maximum {ports['max_mac']}", r"^switchport port-security maximum "))
    violation = cfg.child(iface, r"^switchport port-security violation ")
    if (violation.text.split()[-1] if violation else "shutdown") != ports["violation"]:
        line = f"switchport port-security violation {ports['violation']}"
        needs.append((line, r"^switchport port-security violation "))
    return needs


def _block_ok(text: str, lock: dict) -> bool:
    _, _, block_for, _, attempts, _, _ = text.split()
    return int(attempts) <= lock["deny"] and int(block_for) >= lock["unlock_time"]


def snmp_offending(cfg: Config, snmp: dict) -> list:
    """`snmp-server community` lines the NET-SNMP parameters forbid."""
    communities = cfg.top(r"^snmp-server community \S+")
    if snmp["v3_only"]:
        return communities
    return [c for c in communities if c.text.split()[2].lower() in {d.lower() for d in snmp["default_communities"]}]


def cdp_on(cfg: Config, external: list[str]) -> list[str]:
    """External interfaces where CDP still runs (global `no cdp run` turns it off everywhere)."""
    if cfg.first(r"^no cdp run$"):
        return []
    ifaces = cfg.interfaces()
    return [n for n in external if n in ifaces and not cfg.children(ifaces[n], r"^no cdp enable$")]


def logging_hosts(cfg: Config) -> dict[str, object]:
    """Log hosts: `logging host X …` and the older `logging X` (an address)."""
    out = {}
    for obj in cfg.top(r"^logging (host )?\S+"):
        words = obj.text.split()
        name = words[2] if words[1] == "host" and len(words) > 2 else words[1]
        if words[1] == "host" or re.match(r"^[\d.:]+$", name):
            out[name] = obj
    return out


def missing_log_hosts(cfg: Config, central: dict) -> list[str]:
    configured = logging_hosts(cfg)
    return [h for h in central["hosts"] if h.partition(":")[0] not in configured]


def ntp_servers(cfg: Config) -> dict[str, object]:
    return {o.text.split()[2]: o for o in cfg.top(r"^ntp server (vrf \S+ )?\S+")}


def render(cmds: list[Cmd]) -> str:
    """The plan as configuration text: global commands, then each block with its children."""
    out = [c.line for c in cmds if not c.parent]
    for parent in dict.fromkeys(c.parent for c in cmds if c.parent):
        out.append(parent)
        out += [f" {c.line}" for c in cmds if c.parent == parent]
    return "\n".join(out) + ("\n" if out else "")


def apply(text: str, cmds: list[Cmd]) -> str:
    """The configuration as the device shows it after the plan: each command removes what it
    replaces and, where the device shows it, appears in its block (a new block at the end).
    Used to prove offline that the plan turns a failing configuration into a passing one."""
    lines = text.splitlines()
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
    return "\n".join(lines) + "\n"


# ---- the controller's store of configuration backups (playbooks/backup_network.yml) --------


def last_change(store: str | Path, host: str) -> dict | None:
    """The last backup commit that changed a device's configuration in the store (a git
    repository of <host>.cfg files), with the command that shows its diff; None when the store
    has no history of that device."""
    store = Path(store)
    name = f"{host}.cfg"
    if not (store / ".git").exists() or not (store / name).exists():
        return None
    out = _git(store, "log", "-1", "--format=%H%x09%cI%x09%s", "--", name, check=False).strip()
    if not out:
        return None
    commit, date, subject = out.split("\t", 2)
    diff = store / "changes" / f"{host}.diff"
    recorded = diff.exists() and commit in _git(store, "log", "-1", "--format=%H", "--", f"changes/{host}.diff")
    return {
        "commit": commit,
        "date": date,
        "subject": subject,
        "diff": str(diff) if recorded else f"git -C {store} show {commit[:12]} -- {name}",
    }


def with_last_change(rows: list[dict], facts: dict) -> list[dict]:
    """A device's report rows carry its last recorded configuration change (`last_change`)."""
    if facts.get("last_change"):
        for r in rows:
            r["last_change"] = facts["last_change"]
    return rows


# Lines a device rewrites at every `show running-config` without any change being made.
VOLATILE = re.compile(
    r"^(! Last configuration change at|! NVRAM config last updated|! No configuration change since"
    r"|Current configuration\s*:|ntp clock-period )"
)


def backup_text(running: str, vendor: str, host: str) -> str:
    """A running configuration as the store keeps it: lgsec's header (so `lgsec audit --configs`
    reads the store as it is) and no line that changes without a change."""
    lines = [ln for ln in running.splitlines() if not VOLATILE.match(ln)]
    return f"! lgsec: vendor={vendor} host={host}\n" + "\n".join(lines).strip("\n") + "\n"


def _git(store: Path, *args: str, check: bool = True) -> str:
    env_args = ["-c", "user.name=lgsec backup", "-c", "user.email=lgsec-backup@localhost", "-c", "core.quotepath=off"]
    done = subprocess.run(["git", "-C", str(store), *env_args, *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {store}: {done.stderr.strip()}")
    return done.stdout


def store_backups(store: str | Path, configs: dict[str, str], note: str = "", dry_run: bool = False) -> dict:
    """Write each device's configuration (host → backup_text) into the store, a git repository
    created on first use; every device whose configuration changed gets its diff in
    changes/<host>.diff, and one commit records them all (第53条, 第77条: what changed, when).
    Returns {changed: [hosts], new: [hosts], commit, diffs: {host: path}}."""
    store = Path(store)
    if not (store / ".git").exists():
        if dry_run:
            return {"changed": [], "new": sorted(configs), "commit": None, "diffs": {}}
        store.mkdir(mode=0o700, parents=True, exist_ok=True)  # configurations carry hashes and keys
        _git(store, "init", "-q")
    changed, new, diffs = [], [], {}
    for host, text in sorted(configs.items()):
        path = store / f"{host}.cfg"
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        (new if old is None else changed).append(host)
        if dry_run:
            continue
        path.write_text(text, encoding="utf-8")
        if old is not None:
            diff = _git(store, "diff", "--", path.name)
            (store / "changes").mkdir(exist_ok=True)
            (store / "changes" / f"{host}.diff").write_text(diff, encoding="utf-8")
            diffs[host] = str(store / "changes" / f"{host}.diff")
    if dry_run or not (changed or new):
        return {"changed": changed, "new": new, "commit": None, "diffs": diffs}
    _git(store, "add", "-A", ".")
    subject = f"backup: changed {', '.join(changed) or 'none'}; new {', '.join(new) or 'none'}"
    _git(store, "commit", "-q", "-m", subject, *(["-m", note] if note else []))
    commit = _git(store, "rev-parse", "HEAD").strip()
    return {"changed": changed, "new": new, "commit": commit, "diffs": diffs}
