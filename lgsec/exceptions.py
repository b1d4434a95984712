"""Exceptions to the policy (第99–101条): a YAML file of approved exceptions, validated before
anything runs; in the audit a failing control covered by a live exception is `waived`; the
hardening skips it on the hosts it covers; the report lists every exception for the periodic
review (第101条).

File (default: exceptions.yml beside the inventory; `lgsec audit|harden --exceptions FILE`, or
the variable lgsec_exceptions_file for ansible-playbook):

    exceptions:
      - reference: 情シ第2026-014号        # approval number, unique
        control: USB-STORAGE
        hosts: [somu-pc01]                 # and/or
        groups: [importance_3]
        reason: 障害対応用の外付けディスク
        requested_by: 山田
        approved_by: CISO 佐藤              # 第8条: never the requester
        approved_on: 2026-10-01
        expires_on: 2027-03-31
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lgsec import safeyaml
from lgsec.catalog import Catalog
from lgsec.errors import InputError

REQUIRED = ("reference", "control", "reason", "requested_by", "approved_by", "approved_on", "expires_on")
KNOWN = (*REQUIRED, "hosts", "groups")
TEXT = ("reference", "control", "reason", "requested_by", "approved_by")  # text, not a list or number
MAX_YEARS = 3  # the longest an exception may run: expires_on at most this many years after approved_on


@dataclass(frozen=True)
class PolicyException:
    reference: str
    control: str
    hosts: tuple[str, ...]
    groups: tuple[str, ...]
    reason: str
    requested_by: str
    approved_by: str
    approved_on: date
    expires_on: date

    def covers(self, host: str, group_names: list[str]) -> bool:
        return host in self.hosts or bool(set(self.groups) & set(group_names))

    def live(self, today: date) -> bool:
        return self.approved_on <= today <= self.expires_on


def person(name: str) -> str:
    """A person's name as 第8条 compares them: Unicode NFKC (full-width ｙａｍａｄａ is yamada), case
    folded, runs of white space (U+3000 too) collapsed. Used for exceptions' requester and
    approver and for harden's operator and confirmer."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


def same_person(a: str, b: str) -> bool:
    return person(a) == person(b)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _names(where: str, field: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(where, field, "must be a list of names")
    return tuple(value)


def load(
    path: str | Path, catalog: Catalog, inventory: dict[str, list[str]], max_years: int = MAX_YEARS
) -> list[PolicyException]:
    """Read and validate the file against the catalog and the inventory (host → its groups, for
    every host of the inventory, not only the limited ones). Any error: InputError naming the
    file, the entry and the field; nothing is applied."""
    path = Path(path)
    data = safeyaml.load(path, "exceptions file")
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("exceptions"), list):
        raise InputError(str(path), "exceptions", "the file must be a mapping with a list `exceptions`")
    groups = {g for names in inventory.values() for g in names}
    out, seen = [], set()
    for index, entry in enumerate(data["exceptions"], start=1):
        where = f"{path}: exception {index}"
        if not isinstance(entry, dict):
            raise InputError(where, "-", "must be a mapping")
        if isinstance(entry.get("reference"), str) and entry.get("reference"):
            where = f"{path}: exception {index} ({entry['reference']})"
        unknown = sorted(map(str, set(entry) - set(KNOWN)))
        if unknown:
            raise InputError(where, str(unknown[0]), f"unknown field (known: {', '.join(KNOWN)})")
        for field in REQUIRED:
            if entry.get(field) is None or entry.get(field) == "":
                raise InputError(where, field, "missing")
        for field in TEXT:
            if not isinstance(entry[field], str) or not entry[field].strip():
                raise InputError(where, field, f"must be text, not {type(entry[field]).__name__} {entry[field]!r}")
        reference = entry["reference"].strip()
        if reference in seen:
            raise InputError(where, "reference", "used by an earlier exception")
        seen.add(reference)
        if entry["control"] not in catalog.controls:
            raise InputError(where, "control", f"unknown control id {entry['control']!r}")
        hosts, group_list = _names(where, "hosts", entry.get("hosts")), _names(where, "groups", entry.get("groups"))
        if not hosts and not group_list:
            raise InputError(where, "hosts", "name the hosts or groups the exception covers")
        for host in hosts:
            if host not in inventory:
                raise InputError(where, "hosts", f"unknown host {host!r} (not in the inventory)")
        for group in group_list:
            if group not in groups:
                raise InputError(where, "groups", f"unknown group {group!r} (not in the inventory)")
        requester, approver = entry["requested_by"].strip(), entry["approved_by"].strip()
        if same_person(requester, approver):
            raise InputError(where, "approved_by", "the approver must not be the requester (第8条)")
        approved = safeyaml.strict_date(where, "approved_on", entry["approved_on"])
        expires = safeyaml.strict_date(where, "expires_on", entry["expires_on"])
        if expires < approved:
            raise InputError(where, "expires_on", f"{expires} is before the approval {approved}")
        if expires > _years_later(approved, max_years):
            raise InputError(
                where, "expires_on", f"{expires} is more than {max_years} years after the approval {approved}"
            )
        out.append(
            PolicyException(
                reference,
                entry["control"],
                hosts,
                group_list,
                entry["reason"],
                requester,
                approver,
                approved,
                expires,
            )
        )
    return out


def today() -> date:
    """The date exceptions are judged on: today in JST (Asia/Tokyo), so that an exception is live
    through its expires_on day until 24:00 JST, as the union counts it."""
    from lgsec.report_data import now

    return now().date()


def inventory_groups(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """Ansible's `groups` (group → hosts) as host → its groups (without `all`), like group_names."""
    out: dict[str, list[str]] = {}
    for group, hosts in groups.items():
        for host in hosts:
            out.setdefault(host, [])
            if group != "all":
                out[host].append(group)
    return out


def default_file(inventory: str | Path) -> Path | None:
    """exceptions.yml beside the inventory file (or in the inventory directory), when present."""
    inventory = Path(inventory)
    candidate = (inventory if inventory.is_dir() else inventory.parent) / "exceptions.yml"
    return candidate if candidate.is_file() else None


def waived_controls(exceptions: list[PolicyException], host: str, group_names: list[str], today: date) -> list[str]:
    """Control ids the hardening skips on this host: those of its live exceptions."""
    return sorted({e.control for e in exceptions if e.live(today) and e.covers(host, group_names)})


def apply(
    rows: list[dict], exceptions: list[PolicyException], groups_of: dict[str, list[str]], today: date
) -> list[dict]:
    """A `fail` row covered by a live exception becomes `waived`, with the exception in the row;
    an expired (or not yet approved) exception waives nothing."""
    for row in rows:
        if row["status"] != "fail":
            continue
        for exc in exceptions:
            if (
                exc.control == row["control"]
                and exc.live(today)
                and exc.covers(row["host"], groups_of.get(row["host"], []))
            ):
                row["status"] = "waived"
                row["exception"] = {"reference": exc.reference, "reason": exc.reason, "expires_on": str(exc.expires_on)}
                break
    return rows


def review(exceptions: list[PolicyException], groups_of: dict[str, list[str]], today: date) -> list[dict]:
    """The report's exceptions section (第101条 periodic review): every exception, its state,
    days to expiry and the hosts of this run it covers."""
    out = []
    for exc in exceptions:
        state = "live" if exc.live(today) else "expired" if today > exc.expires_on else "not yet approved"
        out.append(
            {
                "reference": exc.reference,
                "control": exc.control,
                "hosts": sorted(h for h, g in groups_of.items() if exc.covers(h, g)),
                "reason": exc.reason,
                "requested_by": exc.requested_by,
                "approved_by": exc.approved_by,
                "approved_on": str(exc.approved_on),
                "expires_on": str(exc.expires_on),
                "days_to_expiry": (exc.expires_on - today).days,
                "state": state,
            }
        )
    return out


def attach(report: dict, exceptions: list[PolicyException], groups_of: dict[str, list[str]]) -> dict:
    """The report with its failing rows waived by live exceptions and its exceptions section."""
    day = today()
    apply(report["results"], exceptions, groups_of, day)
    report["exceptions"] = review(exceptions, groups_of, day)
    return report
