"""Parsers for the configuration formats the Linux facts carry. Pure functions, no I/O.

Each value keeps where it was read (path and line) so a verdict can cite it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    value: str
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _lines(text: str):
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def settings(text: str, path: str, style: str = "equals") -> dict[str, Setting]:
    """Key/value files. style: 'equals' (pwquality, faillock: `key = value`, bare flags get "");
    'space' (login.defs: `KEY value`); 'shell' (`KEY=value`). The last occurrence wins."""
    out: dict[str, Setting] = {}
    for number, line in _lines(text):
        if style == "space":
            key, *rest = line.split(None, 1)  # login.defs(5): separated by whitespace (Debian: a tab)
            value = rest[0].strip() if rest else ""
        else:
            key, _, value = line.partition("=")
            value = value.strip().strip('"').strip("'")
        out[key.strip()] = Setting(value, path, number)
    return out


@dataclass(frozen=True)
class PamLine:
    path: str
    line: int
    type: str
    control: str
    module: str
    args: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def arg(self, name: str) -> str | None:
        """Value of name=value, "" for a bare flag, None when absent."""
        for arg in self.args:
            key, sep, value = arg.partition("=")
            if key == name:
                return value if sep else ""
        return None

    @property
    def text(self) -> str:
        return " ".join((self.type, self.control, self.module, *self.args))


_PAM_RE = re.compile(r"^-?(auth|account|password|session)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$")


def pam(text: str, path: str) -> list[PamLine]:
    out = []
    for number, line in _lines(text):
        match = _PAM_RE.match(line)
        if match:
            ptype, control, module, rest = match.groups()
            out.append(PamLine(path, number, ptype, control, module.rsplit("/", 1)[-1], tuple(rest.split())))
    return out


def sshd_t(stdout: str) -> dict[str, str]:
    """`sshd -T` output: lower-case keyword → value (repeated keywords joined by a space)."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out[key] = f"{out[key]} {value}" if key in out else value
    return out


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]
    line: int


def groups(text: str) -> dict[str, Group]:
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit():
            members = tuple(m for m in fields[3].split(",") if m)
            out[fields[0]] = Group(fields[0], int(fields[2]), members, number)
    return out


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str
    shell: str
    line: int


def passwd(text: str) -> list[User]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split(":")
        if len(fields) >= 7 and fields[2].isdigit() and fields[3].isdigit():
            out.append(User(fields[0], int(fields[2]), int(fields[3]), fields[5], fields[6], number))
    return out


@dataclass(frozen=True)
class SudoRule:
    path: str
    line: int
    who: str  # user name, or %group
    text: str


_SUDO_SKIP = ("Defaults", "User_Alias", "Runas_Alias", "Host_Alias", "Cmnd_Alias", "@include", "#include")


def sudoers(files: dict[str, str]) -> tuple[list[SudoRule], dict[str, Setting]]:
    """Privilege rules (who may run what) and Defaults settings of sudoers and sudoers.d."""
    rules: list[SudoRule] = []
    defaults: dict[str, Setting] = {}
    for path in sorted(files):
        for number, raw in enumerate(files[path].splitlines(), 1):
            line = raw.strip()
            if not line or (line.startswith("#") and not line.startswith("#include")):
                continue
            if line.startswith("Defaults"):
                for item in line.split(None, 1)[1].split(",") if len(line.split(None, 1)) > 1 else []:
                    key, _, value = item.strip().partition("=")
                    defaults[key.strip()] = Setting(value.strip(), path, number)
                continue
            if line.startswith(_SUDO_SKIP):
                continue
            who = line.split(None, 1)[0]
            rules.append(SudoRule(path, number, who, line))
    return rules, defaults


_TMOUT_RE = re.compile(r"^(?:(?:readonly|export|declare\s+-\w+|typeset\s+-\w+)\s+)*TMOUT=(\d+)")
_READONLY_RE = re.compile(r"^(?:readonly|declare\s+-\w*r\w*|typeset\s+-\w*r\w*)\s+(?:\w+=\S*\s+)*TMOUT\b")


def tmout(files: dict[str, str]) -> tuple[list[Setting], list[Setting]]:
    """TMOUT assignments and readonly declarations in shell start-up files."""
    values, readonly = [], []
    for path in sorted(files):
        for number, line in _lines(files[path]):
            match = _TMOUT_RE.match(line)
            if match:
                values.append(Setting(match.group(1), path, number))
            if _READONLY_RE.match(line):
                readonly.append(Setting("readonly", path, number))
    return values, readonly


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    arch: str
    state: str  # dpkg's status word (installed, config-files, unpacked …); rpm: installed
    line: int

    @property
    def present(self) -> bool:
        """Its files are on the host: anything but not-installed or configuration files only."""
        return self.state not in ("not-installed", "config-files")


_DPKG_STATES = {
    "n": "not-installed",
    "c": "config-files",
    "H": "half-installed",
    "U": "unpacked",
    "F": "half-configured",
    "W": "triggers-awaited",
    "t": "triggers-pending",
    "i": "installed",
}


def dpkg_packages(stdout: str) -> list[Package]:
    """`dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\n'`:
    every package dpkg knows, with its state (the second letter of the abbreviation)."""
    out = []
    for number, line in enumerate(stdout.splitlines(), 1):
        fields = line.split("\t")
        if len(fields) >= 4 and len(fields[0]) >= 2:
            state = _DPKG_STATES.get(fields[0][1], f"unknown ({fields[0].strip()})")
            out.append(Package(fields[1], fields[2], fields[3], state, number))
    return out


def rpm_packages(stdout: str) -> list[Package]:
    """`rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'`: the installed packages."""
    out = []
    for number, line in enumerate(stdout.splitlines(), 1):
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0]:
            out.append(Package(fields[0], fields[1], fields[2], "installed", number))
    return out
