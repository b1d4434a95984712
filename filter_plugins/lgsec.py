"""Filters that let the enforcement roles reuse the evaluator's own logic (one rule, one place)."""

from __future__ import annotations

import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))

from ansible.errors import AnsibleFilterError

from lgsec.catalog import load_catalog
from lgsec.checks.linux_accounts import idle_accounts
from lgsec.wipe import wipe_plan


def lgsec_idle_accounts(facts: dict, max_idle_days: int, exempt: list | None = None) -> list[str]:
    """ID-UNUSED (第68条3): the accounts lgsec_linux_facts shows unused, as the audit judges them."""
    return sorted(idle_accounts(facts, int(max_idle_days), list(exempt or [])))


def lgsec_wipe_plan(
    lsblk: dict, root_source: str, devices: list, allow_system_disk: bool = False, swaps: list | None = None
) -> list[dict]:
    """WIPE-RECORDED (第20条, 第26条): the devices decommission.yml may erase, and why not."""
    return wipe_plan(lsblk, root_source, list(devices), bool(allow_system_disk), list(swaps or []))


def lgsec_missing_packages(names: str | list, facts: dict | None) -> list[str]:
    """The packages of names (one or a list) not in ansible_facts.packages: an install step runs
    only for those (a module run saved per installed package). All of them when the play has not
    read the package facts: the install step then runs as it always did."""
    names = [names] if isinstance(names, str) else list(names)
    installed = (facts or {}).get("packages")
    return names if installed is None else [name for name in names if name not in installed]


def lgsec_catalog_default(variable: str):
    """The catalog's default of a host variable lgsec_<control>_<param>, the figure the audit judges
    by when the host sets none: a role that needs another role's figure (the one console TMOUT of
    SESSION-LIMIT and SCREEN-LOCK) takes the same one whether or not that role has run."""
    found = load_catalog().variables().get(str(variable))
    if found is None:
        raise AnsibleFilterError(f"lgsec_catalog_default: {variable} is no parameter of catalog/controls.yml")
    return found[1].default


class FilterModule:
    def filters(self):
        return {
            "lgsec_idle_accounts": lgsec_idle_accounts,
            "lgsec_wipe_plan": lgsec_wipe_plan,
            "lgsec_missing_packages": lgsec_missing_packages,
            "lgsec_catalog_default": lgsec_catalog_default,
        }
