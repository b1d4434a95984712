"""Checks: one function per (control id, platform) that judges gathered facts.

A check receives a Ctx (the host's facts, this control's resolved parameters, the host's
variables) and returns a Verdict. It raises Unreadable when a fact it needs could not be
read; the evaluator turns that into an `error` row with the reason, never a `pass`.

Each check declares the facts it reads (`@check(ID, platform, files=…, commands=…, facts=…)`);
`declared(ID, platform)` gives them back. tests/unit/test_declared_reads.py runs every check on
its fixtures with only its declared facts, and keeps the Linux gather's lists equal to the union
of the declarations (docs/adding-a-control.md).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lgsec.statuses import PROBLEMS, STATUSES  # noqa: F401  (lgsec.checks.STATUSES is a public name)


@dataclass
class Verdict:
    status: str
    expected: str
    actual: str
    evidence: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)  # optional rows (SW-INVENTORY's package list)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


class Unreadable(Exception):
    """A fact the check needs was not read; the message says which and why."""


@dataclass
class Ctx:
    host: str
    facts: dict
    params: dict[str, Any]
    hostvars: dict
    all_params: Callable[[str], dict[str, Any]]

    def param(self, control_id: str, name: str) -> Any:
        """A parameter of another control (PW-MAXAGE uses PRIV-MEMBERS' groups)."""
        return self.all_params(control_id)[name]

    def file(self, path: str, required: bool = True) -> str | None:
        """Text of a gathered file; None when absent and not required."""
        files = self.facts.get("files", {})
        if path in files:
            return files[path]
        reason = self.facts.get("errors", {}).get(path)
        if reason:
            raise Unreadable(f"{path}: {reason}")
        if path in self.facts.get("missing", []):
            if required:
                raise Unreadable(f"{path}: not present on the host")
            return None
        raise Unreadable(f"{path}: not gathered")

    def files(self, prefix: str) -> dict[str, str]:
        """Every gathered file under a directory prefix (sudoers.d, profile.d …); Unreadable
        when one of them could not be read (a check must not judge on the others alone)."""
        for path, reason in self.facts.get("errors", {}).items():
            if path.startswith(prefix):
                raise Unreadable(f"{path}: {reason}")
        return {p: t for p, t in self.facts.get("files", {}).items() if p.startswith(prefix)}

    def command(self, name: str) -> dict | None:
        """Output of a gathered command; None when its program is not installed."""
        if name in self.facts.get("errors", {}):
            raise Unreadable(f"{name}: {self.facts['errors'][name]}")
        result = self.facts.get("commands", {}).get(name)
        if result is None:
            raise Unreadable(f"{name}: not gathered")
        if result["rc"] is None:
            return None
        if result["rc"] != 0:
            raise Unreadable(f"{name} exited {result['rc']}: {result['stderr'][:200]}")
        return result

    def fact(self, key: str) -> Any:
        """A structured fact (shadow, lastlog); Unreadable when its source failed."""
        if key in self.facts:
            return self.facts[key]
        source = {"shadow": "/etc/shadow"}.get(key, key)
        reason = self.facts.get("errors", {}).get(source, "not gathered")
        raise Unreadable(f"{source}: {reason}")


class Reads(NamedTuple):
    """The gathered facts one check reads, by the keys its platform's facts use:

    files     Linux, mail: absolute paths (`/etc/login.defs`) or glob patterns of them
              (`/etc/sudoers.d/*`, `/proc/sys/net/ipv6/*`), as in the facts' `files`/`missing`/`errors`.
              Windows: evidence file names (`secedit.inf`, `registry/01-lsa.reg`; lgsec.windows.FILES
              and REG_KEYS), patterns for the per-user hives (`registry/*-user-*.reg`).
    commands  Linux, mail: names of gathered commands (`sshd -T`, `postconf -x`), as in `commands`;
              a pattern where the name carries the host's own value (`systemctl show *` for the
              backup job BACKUP-RECENT's host variables name).
    facts     structured facts the gather builds: `shadow`, `lastlog` (Linux), `mail` (mail
              servers), `running_config` (network devices: the whole configuration).

    Patterns are fnmatch patterns (`*` also matches `/`)."""

    files: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()

    def reads_file(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.files)

    def reads_command(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.commands)


CheckFn = Callable[[Ctx], Verdict]
CHECKS: dict[tuple[str, str], CheckFn] = {}
READS: dict[tuple[str, str], Reads] = {}


def check(
    control_id: str,
    platform: str,
    *,
    files: tuple[str, ...] = (),
    commands: tuple[str, ...] = (),
    facts: tuple[str, ...] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register a check for one control on one platform, with the facts it reads (see Reads)."""

    def register(fn: CheckFn) -> CheckFn:
        key = (control_id, platform)
        if key in CHECKS:
            raise ValueError(f"two checks for {control_id} on {platform}")
        if any(isinstance(names, str) for names in (files, commands, facts)):
            raise TypeError(f"{control_id} on {platform}: files, commands and facts are tuples of names")
        CHECKS[key] = fn
        READS[key] = fn.reads = Reads(tuple(files), tuple(commands), tuple(facts))
        return fn

    return register


def declared(control_id: str, platform: str) -> Reads:
    """What the check of one control on one platform reads: Reads(files, commands, facts), e.g.
    `declared("LOCKOUT", "linux").files`. KeyError when there is no such check (a manual
    control, or one not automated on that platform). The registered function carries the same
    value as `fn.reads`; `lgsec catalog show ID` prints it."""
    load_all()
    return READS[(control_id, platform)]


# Input checks beyond a parameter's type and range (catalog), by (control id, parameter): a
# function of the host variable's value returning why it is refused, or None. Validation
# (lgsec.evaluate.validate_hostvars) runs them, so a refused value stops the run before any host is touched.
ValidatorFn = Callable[[Any], str | None]
VALIDATORS: dict[tuple[str, str], ValidatorFn] = {}


def validator(control_id: str, param: str) -> Callable[[ValidatorFn], ValidatorFn]:
    """Register an input check for one control parameter (MAIL-NO-RELAY mynetworks)."""

    def register(fn: ValidatorFn) -> ValidatorFn:
        VALIDATORS[(control_id, param)] = fn
        return fn

    return register


def load_all() -> dict[tuple[str, str], CheckFn]:
    """Import every platform's checks (they register themselves) and return the registry."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return CHECKS
