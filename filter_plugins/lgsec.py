"""Filters that let the enforcement roles reuse the evaluator's own logic (one rule, one place)."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import lgsec  # noqa: F401  installed (pip install -e ., or an execution environment)
except ImportError:  # a plain checkout: the package stands beside the playbooks
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lgsec.checks.linux import idle_accounts


def lgsec_idle_accounts(facts: dict, max_idle_days: int, exempt: list | None = None) -> list[str]:
    """ID-UNUSED (第68条3): the accounts lgsec_linux_facts shows unused, as the audit judges them."""
    return sorted(idle_accounts(facts, int(max_idle_days), list(exempt or [])))


class FilterModule:
    def filters(self):
        return {"lgsec_idle_accounts": lgsec_idle_accounts}
