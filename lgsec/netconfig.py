"""A network device's configuration as the device executes it (Cisco IOS / IOS-XE; FRRouting's
vtysh reads its files the same way). docs/network.md lists each behaviour with its source.

IOS applies a configuration file line by line, top to bottom:
- a line ends at LF (CR LF: the CR is dropped); nothing else ends a line (U+2028, U+0085, form
  feed, vertical tab and a lone CR are characters of the line);
- words are separated by runs of spaces and tabs only; leading blanks mean nothing to IOS, the
  command itself says which mode it belongs to (a global command inside an interface block is
  global and leaves the block);
- `!` starts a comment line; `end` ends the configuration (what follows is not configuration);
- text blocks are not commands: `banner <type> <d>…<d>` (the body ends at the next <d>, even mid
  line; `^C` as a delimiter ends at the next `^C`), `aaa authentication banner|fail-message`,
  `macro name X … @`;
- `no X` undoes X, `default X` resets it, a later value of a setting replaces the earlier one,
  and a block entered twice (two `interface Gi1/0/1` blocks) is one block;
- `line vty 0 15` configures each of those lines: lines with the same settings are shown as one
  range, as `show running-config` does.

The device reads bytes: the text is cut on the bytes (each byte one character, latin-1), and each
word is then decoded for display (UTF-8, else cp932 as older Catalyst backups hold, else kept
byte for byte), so no encoding can move a line break or a delimiter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BLANKS = re.compile(r"[ \t]+")
TEXT_BLOCK = re.compile(
    r"(?i)(banner(?![\w-])(?:[ \t]+(?:motd|login|exec|incoming|slip-ppp|prompt-timeout|config-save)\b)?+"
    r"|aaa[ \t]+authentication[ \t]+(?:banner|fail-message)\b)[ \t]*"
)
MACRO = re.compile(r"(?i)macro[ \t]+name[ \t]+\S+")
# Keywords IOS reads in any case: lowered so `IP HTTP SERVER` is `ip http server`.
VOCABULARY = frozenset(
    [
        "no",
        "default",
        "ip",
        "http",
        "server",
        "secure-server",
        "service",
        "password-encryption",
        "tcp-small-servers",
        "udp-small-servers",
        "timestamps",
        "log",
        "debug",
        "datetime",
        "msec",
        "localtime",
        "show-timezone",
        "uptime",
        "security",
        "passwords",
        "min-length",
        "login",
        "block-for",
        "attempts",
        "within",
        "username",
        "privilege",
        "secret",
        "password",
        "nopassword",
        "enable",
        "algorithm-type",
        "scrypt",
        "sha256",
        "md5",
        "snmp-server",
        "community",
        "user",
        "group",
        "host",
        "v1",
        "v2c",
        "v3",
        "auth",
        "priv",
        "noauth",
        "access",
        "logging",
        "buffered",
        "trap",
        "on",
        "console",
        "monitor",
        "emergencies",
        "alerts",
        "critical",
        "errors",
        "warnings",
        "notifications",
        "informational",
        "debugging",
        "transport",
        "tcp",
        "udp",
        "port",
        "ntp",
        "peer",
        "master",
        "vrf",
        "prefer",
        "source",
        "interface",
        "line",
        "con",
        "console",
        "aux",
        "vty",
        "tty",
        "exec-timeout",
        "exec",
        "access-class",
        "in",
        "out",
        "input",
        "output",
        "ssh",
        "telnet",
        "all",
        "none",
        "shutdown",
        "switchport",
        "mode",
        "trunk",
        "dynamic",
        "auto",
        "desirable",
        "port-security",
        "maximum",
        "violation",
        "protect",
        "restrict",
        "vlan",
        "cdp",
        "run",
        "end",
        "exit",
        "hostname",
        "version",
        "access-list",
        "standard",
        "extended",
        "permit",
        "deny",
        "any",
        "description",
    ]
)
# Commands valid only in global configuration mode (the ones the controls read, and the blocks):
# wherever they stand, they are global and leave the block they follow.
GLOBAL_FIRST = frozenset(
    [
        "hostname",
        "service",
        "security",
        "username",
        "enable",
        "snmp-server",
        "ntp",
        "aaa",
        "banner",
        "clock",
        "boot",
        "version",
        "access-list",
        "interface",
        "line",
        "router",
        "vrf",
        "control-plane",
        "key",
        "class-map",
        "policy-map",
        "route-map",
        "crypto",
        "archive",
        "redundancy",
        "end",
    ]
)
GLOBAL_SECOND = {
    "ip": frozenset(
        [
            "http",
            "ssh",
            "domain",
            "domain-name",
            "route",
            "default-gateway",
            "access-list",
            "name-server",
            "scp",
            "source-route",
            "finger",
            "forward-protocol",
        ]
    ),
    "ipv6": frozenset(["access-list", "route"]),
    "login": frozenset(["block-for", "on-failure", "on-success", "delay", "quiet-mode"]),
    "cdp": frozenset(["run", "timer", "holdtime", "advertise-v2"]),
    "spanning-tree": frozenset(["mode", "extend", "vlan"]),
}
# Blocks whose commands IOS reads in the block whatever their indentation.
SUBMODES = ("interface", "line", "router", "ip access-list", "ipv6 access-list", "vlan", "vrf definition")
SUBMODE_FIRST = frozenset(m.split()[0] for m in SUBMODES)
LINE_KINDS = {"con": "con", "console": "con", "aux": "aux", "vty": "vty", "tty": "tty"}
MAX_RANGE = 2048  # members of one `line vty 0 N` or `interface range` (IOS has far fewer)
IFACE_TYPES = (
    "GigabitEthernet",
    "FastEthernet",
    "TenGigabitEthernet",
    "TwentyFiveGigE",
    "FortyGigabitEthernet",
    "HundredGigE",
    "TwoGigabitEthernet",
    "FiveGigabitEthernet",
    "AppGigabitEthernet",
    "Ethernet",
    "Port-channel",
    "Vlan",
    "Loopback",
    "Tunnel",
    "Serial",
    "Dialer",
    "BDI",
)
# The identity of a setting: these leading keywords plus this many argument words; a later line
# with the same identity replaces the earlier one, `no` + the identity removes it. Any other
# command's identity is the whole line.
IDENTITY = (
    (("username",), 1),
    (("snmp-server", "community"), 1),
    (("snmp-server", "user"), 2),
    (("snmp-server", "group"), 2),
    (("snmp-server", "host"), 1),
    (("logging", "host"), 1),
    (("logging", "buffered"), 0),
    (("logging", "trap"), 0),
    (("logging", "on"), 0),
    (("logging", "console"), 0),
    (("logging", "source-interface"), 0),
    (("ntp", "master"), 0),
    (("security", "passwords", "min-length"), 0),
    (("login", "block-for"), 0),
    (("ip", "ssh", "version"), 0),
    (("enable", "secret"), 0),
    (("enable", "password"), 0),
    (("hostname",), 0),
    (("service", "timestamps", "log"), 0),
    (("service", "timestamps", "debug"), 0),
    (("exec-timeout",), 0),
    (("transport", "input"), 0),
    (("transport", "output"), 0),
    (("password",), 0),
    (("switchport", "mode"), 0),
    (("switchport", "port-security", "maximum"), 0),
    (("switchport", "port-security", "violation"), 0),
    (("switchport", "access", "vlan"), 0),
    (("description",), 0),
)
# The keywords of the commands the controls read, as a tree: a word that is a proper prefix of
# one of them (`shut`, `ip http serv`) is an abbreviation IOS may accept; `show running-config`
# never writes one, and lgsec judges full commands only, so such a line makes the configuration
# unreadable (error rows) rather than misread. Words IOS has as commands of their own (`snmp`,
# `switch`) are not abbreviations.
KEYWORD_PHRASES = (
    "interface",
    "line con|console|aux|vty",
    "hostname",
    "service password-encryption|tcp-small-servers|udp-small-servers",
    "service timestamps log|debug",
    "security passwords min-length",
    "login block-for",
    "username",
    "enable secret|password|algorithm-type",
    "ip http server|secure-server",
    "ip ssh version",
    "ip access-list standard|extended",
    "access-list",
    "snmp-server community|user|group|host|location|contact",
    "logging host|buffered|trap|on|console|source-interface",
    "ntp server|peer|master",
    "cdp run|enable",
    "shutdown",
    "switchport mode access|trunk|dynamic",
    "switchport access vlan",
    "switchport port-security maximum|violation",
    "exec-timeout",
    "access-class",
    "transport input|output",
    "exec",
    "password",
    "description",
    "end",
    "exit",
)
NOT_ABBREVIATIONS = frozenset(["snmp", "switch"])


def _keyword_tree() -> dict:
    tree: dict = {}
    for phrase in KEYWORD_PHRASES:
        levels = [part.split("|") for part in phrase.split()]
        nodes = [tree]
        for alternatives in levels:
            nodes = [n.setdefault(a, {}) for n in nodes for a in alternatives]
    return tree


KEYWORDS = _keyword_tree()


def abbreviation(words: list[str]) -> str | None:
    """The keyword a command abbreviates (`no shut` → shutdown), None when it abbreviates none."""
    level = KEYWORDS
    for word in words[1:] if words[0] in ("no", "default") else words:
        low = word.lower()
        if low in level:
            level = level[low]
            continue
        longer = [k for k in level if k.startswith(low)]
        return longer[0] if longer and low not in NOT_ABBREVIATIONS else None
    return None


IDENTITY_BY_FIRST: dict[str, list] = {}
for _keywords, _args in IDENTITY:
    IDENTITY_BY_FIRST.setdefault(_keywords[0], []).append((_keywords, _args))
# `no` forms that remove a whole family of lines (IOS accepts them).
WILDCARD_NO = {("snmp-server",): 1, ("ntp",): 1, ("access-list",): 2}


def display(word: str) -> str:
    """A word of the byte view, decoded for display and matching."""
    if word.isascii():
        return word
    raw = word.encode("latin-1")
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return word


def byte_view(text: str | bytes) -> str:
    """The configuration as IOS sees it, one character per byte."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return data.decode("latin-1")


def physical_lines(text: str | bytes) -> list[str]:
    """Lines as IOS cuts them: at LF only, one trailing CR dropped."""
    return [ln[:-1] if ln.endswith("\r") else ln for ln in byte_view(text).split("\n")]


def canonical_interface(name: str) -> str:
    """`gi1/0/1`, `GigabitEthernet 1/0/1` → GigabitEthernet1/0/1 (IOS accepts any unique prefix)."""
    match = re.fullmatch(r"([A-Za-z-]+)[ \t]*([0-9][0-9/.:]*)", name.strip(), re.ASCII)
    if not match:
        return name.strip()
    kind, number = match.groups()
    exact = [t for t in IFACE_TYPES if t.lower() == kind.lower()]
    found = exact or [t for t in IFACE_TYPES if t.lower().startswith(kind.lower())]
    return f"{found[0]}{number}" if len(found) == 1 else f"{kind}{number}"


@dataclass(eq=False)
class Node:
    """One command as the device keeps it: canonical text (single spaces), where it was read
    (0-based line of the file), its block's children."""

    words: list[str]
    linenum: int
    key: tuple = ()
    indent: int = 0
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    index: dict = field(default_factory=dict, repr=False)  # children by identity, while reading

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def negated(self) -> bool:
        return self.words[0] == "no"


def identity(words: list[str]) -> tuple:
    """The identity of a command (without its `no`)."""
    low = [w.lower() for w in words]
    if low[:1] == ["enable"] and "secret" in low:
        return ("enable", "secret")
    if low[:1] == ["access-class"]:
        return ("access-class", "out" if "out" in low[2:] else "in")
    if low[:1] == ["ntp"] and len(low) > 1 and low[1] in ("server", "peer"):
        args = 3 if len(low) > 3 and low[2] == "vrf" else 1
        return tuple(low[:2]) + tuple(words[2 : 2 + args])
    if low[:1] == ["logging"] and len(words) == 2 and re.fullmatch(r"[0-9a-fA-F.:]+", words[1]):
        return ("logging", "host", words[1])  # the older `logging 10.0.0.5`
    for keywords, args in IDENTITY_BY_FIRST.get(low[0], ()):
        if tuple(low[: len(keywords)]) == keywords:
            return keywords + tuple(words[len(keywords) : len(keywords) + args])
    return tuple(low)


def is_global(words: list[str]) -> bool:
    """A command valid only in global configuration mode (or one opening a block)."""
    low = [w.lower() for w in (words[1:] if words[0].lower() in ("no", "default") else words)]
    if not low:
        return False
    if low[0] == "logging":
        return len(low) < 2 or low[1] not in ("synchronous", "event")
    return low[0] in GLOBAL_FIRST or (len(low) > 1 and low[1] in GLOBAL_SECOND.get(low[0], ()))


def submode(words: list[str]) -> str | None:
    if words[0].lower() not in SUBMODE_FIRST:
        return None
    low = " ".join(w.lower() for w in words[:2])
    for name in SUBMODES:
        if low == name or low.startswith(name + " "):
            return name
    return None


def _range(first: str, last: str | None) -> range:
    a = int(first)
    b = int(last) if last is not None else a
    return range(a, min(b, a + MAX_RANGE - 1) + 1)


def interface_members(words: list[str]) -> list[str]:
    """Interfaces of `interface X` or `interface range Gi1/0/1 - 24, Gi1/0/30`."""
    if len(words) > 2 and words[1].lower() == "range":
        out = []
        for part in " ".join(words[2:]).split(","):
            match = re.fullmatch(
                r"[ \t]*([A-Za-z-]+)[ \t]*((?:\d+/)*)(\d+)(?:[ \t]*-[ \t]*(\d+))?[ \t]*", part, re.ASCII
            )
            if not match:
                out.append(canonical_interface(part))
                continue
            kind, prefix, a, b = match.groups()
            out += [canonical_interface(f"{kind}{prefix}{n}") for n in _range(a, b)]
        return out[:MAX_RANGE]
    return [canonical_interface(" ".join(words[1:]))]


def line_members(words: list[str]) -> list[tuple[str, int | None]]:
    """(kind, number) of each line `line vty 0 4` configures; FRR's `line vty` has no number."""
    kind = LINE_KINDS.get(words[1].lower(), words[1].lower()) if len(words) > 1 else "?"
    nums = [w for w in words[2:4] if w.isascii() and w.isdigit()]
    if not nums:
        return [(kind, None)]
    return [(kind, n) for n in _range(nums[0], nums[1] if len(nums) > 1 else None)]


class Parsed:
    """The effective configuration: top-level commands (blocks with their children) in the order
    the device keeps them, and what was not executed."""

    def __init__(self, text: str | bytes, vendor: str = "ios"):
        self.vendor = vendor  # FRR's `banner motd line TEXT` is one line: no text block
        self.objs: list[Node] = []
        self.complete = False  # an `end` was read
        self.commands = 0
        self.text_blocks: list[tuple[int, str]] = []  # (line, what): not executed
        self.problem = ""
        self._lines: dict[tuple[str, int | None], Node] = {}
        self._ifaces: dict[str, Node] = {}
        self._top: dict[tuple, Node] = {}
        self._read(physical_lines(text))
        for node in [*self._top.values(), *self._lines.values()]:
            node.children = sorted(node.index.values(), key=lambda n: n.linenum)
        self.objs = sorted(self._top.values(), key=lambda n: n.linenum)
        self._group_lines()

    # -- reading --------------------------------------------------------------------------

    def _read(self, lines: list[str]) -> None:
        block: list[Node] | None = None  # the nodes the next child command applies to
        kind: str | None = None  # submode of that block (None: generic parent, indented children only)
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.lstrip(" \t")
            if not stripped.rstrip(" \t") or stripped.startswith("!"):
                i += 1
                continue
            match = None if self.vendor == "frr" else TEXT_BLOCK.match(stripped)
            if match:
                i = self._skip_text(lines, i, stripped, match.end(), match.group(1))
                block, kind = None, None
                continue
            if MACRO.match(stripped):
                i = self._skip_until(lines, i, stripped[MACRO.match(stripped).end() :], "@", "macro")
                block, kind = None, None
                continue
            words = [display(w) for w in BLANKS.split(stripped.rstrip(" \t"))]
            words = [w.lower() if w.lower() in VOCABULARY else w for w in words]
            indented = line[:1] in (" ", "\t")
            self.commands += 1
            full = abbreviation(words) if self.vendor == "ios" else None
            if full and not self.problem:
                self.problem = (
                    f"line {i + 1}: `{' '.join(words)}` abbreviates `{full}`; show running-config never abbreviates "
                    "and lgsec judges full commands only"
                )
            if words == ["end"]:
                self.complete = True
                return
            if words[0] == "exit" and len(words) == 1:
                if self.vendor == "ios" and kind is None and not indented and not self.problem:
                    # outside a block, `exit` leaves configuration mode: what follows is not configuration
                    self.problem = f"line {i + 1}: `exit` outside a block ends the configuration before its `end`"
                block, kind = None, None
                i += 1
                continue
            opened = submode(words[1:] if words[0] in ("no", "default") else words)
            if opened:
                block, kind = self._enter(words, i, opened), opened
            elif block is not None and not is_global(words) and (indented or kind is not None):
                for parent in block:
                    self._apply(parent.index, words, i, parent)
            else:
                node = self._apply(self._top, words, i, None)
                block, kind = ([node] if node is not None else None), None
            i += 1
        self.problem = self.problem or "no `end` line: the configuration is incomplete (cut short?)"

    def _skip_text(self, lines: list[str], i: int, stripped: str, start: int, what: str) -> int:
        rest = stripped[start:].rstrip(" \t")
        if not rest:  # `banner motd` alone: the delimiter is the first character of the next line
            i += 1
            while i < len(lines) and not lines[i].strip(" \t"):
                i += 1
            if i == len(lines):
                self.problem = f"line {i}: {what} without text"
                return i
            rest = lines[i].lstrip(" \t")
        delim = "^C" if rest.startswith("^C") else rest[0]
        return self._skip_until(lines, i, rest[len(delim) :], delim, " ".join(BLANKS.split(what.lower())))

    def _skip_until(self, lines: list[str], i: int, first: str, delim: str, what: str) -> int:
        """Skip a text block from line i (its rest after the opening delimiter: `first`) to the
        line holding the closing delimiter; returns the next line to read."""
        self.text_blocks.append((i, what))
        if delim in first:
            return i + 1
        for j in range(i + 1, len(lines)):
            if delim in lines[j]:
                return j + 1
        self.problem = f"line {i + 1}: {what} text never ends (no closing {delim})"
        return len(lines)

    def _enter(self, words: list[str], i: int, opened: str) -> list[Node] | None:
        """A block command: the nodes its children apply to (None after `no`/`default`)."""
        neg = words[0] in ("no", "default")
        body = words[1:] if neg else words
        if opened == "interface":
            members = interface_members(body)
            if neg:
                for name in members:
                    node = self._ifaces.pop(name, None)
                    if node is not None and words[0] == "no":
                        del self._top[node.key]
                    elif node is not None:
                        node.index.clear()
                        self._ifaces[name] = node
                return None
            out = []
            for name in members:
                if name not in self._ifaces:
                    node = Node(["interface", name], i, ("interface", name))
                    node.parent = node
                    self._ifaces[name] = node
                    self._top[node.key] = node
                out.append(self._ifaces[name])
            return out
        if opened == "line":
            out = []
            for member in line_members(body):
                if member not in self._lines:
                    self._lines[member] = Node(["line", member[0]], i, ("line", *map(str, member)))
                if neg:
                    self._lines[member].index.clear()
                out.append(self._lines[member])
            return None if neg else out
        node = self._apply(self._top, words, i, None)
        return [node] if node is not None else None

    def _apply(self, nodes: dict[tuple, Node], words: list[str], i: int, parent: Node | None) -> Node | None:
        """Apply one command to the commands by identity (global, or one block's children)."""
        neg = words[0] in ("no", "default")
        body = words[1:] if neg else words
        if not body:
            return None
        key = identity(body)
        wild = WILDCARD_NO.get(key[:1]) if neg and len(body) == WILDCARD_NO.get(key[:1], 0) else None
        if wild:
            prefix = tuple(w.lower() for w in body)
            for old in [
                k for k, n in nodes.items() if tuple(w.lower() for w in n.words[n.negated :])[: len(prefix)] == prefix
            ]:
                del nodes[old]
            return None
        same = nodes.get(key)
        if not neg and same is not None and same.words == words:
            return same  # a block entered again
        nodes.pop(key, None)
        if words[0] == "default":
            return None
        node = Node(words, i, key, indent=1 if parent else 0)
        node.parent = parent if parent is not None else node
        nodes[key] = node
        return node

    def _group_lines(self) -> None:
        """`line` blocks as the device shows them: consecutive lines with the same settings as one
        range (`line vty 0 4`), placed where the first of them was configured."""
        by_kind: dict[str, list[tuple[int | None, Node]]] = {}
        for (kind, number), node in self._lines.items():
            by_kind.setdefault(kind, []).append((number, node))
        for kind, members in by_kind.items():
            members.sort(key=lambda m: -1 if m[0] is None else m[0])
            groups: list[list[tuple[int | None, Node]]] = []
            for number, node in members:
                same = groups and [c.text for c in groups[-1][-1][1].children] == [c.text for c in node.children]
                if same and number is not None and groups[-1][-1][0] is not None and number == groups[-1][-1][0] + 1:
                    groups[-1].append((number, node))
                else:
                    groups.append([(number, node)])
            for group in groups:
                first, last = group[0][0], group[-1][0]
                numbers = [] if first is None else [str(first)] if first == last else [str(first), str(last)]
                head = Node(["line", kind, *numbers], min(n.linenum for _, n in group), ("line", kind, *numbers))
                head.parent = head
                head.children = group[0][1].children
                for child in head.children:
                    child.parent = head
                self.objs.append(head)
        self.objs.sort(key=lambda n: n.linenum)
        for node in self.objs:
            node.index = {}
