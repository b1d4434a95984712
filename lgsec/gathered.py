"""A host's gathered facts as the playbooks register them: which gather step ran on it, and
whether it gave facts (shared by the audit's report step and the hardening's plan step)."""

from __future__ import annotations

GATHERED = ["lgsec_gather", "lgsec_gather_windows", "lgsec_gather_network"]


def pick_gathered(hostvars: dict, names: list[str]) -> dict | None:
    """The result of the gather task that ran on this host (each platform registers its own)."""
    for name in names:
        result = hostvars.get(name)
        if result and not result.get("skipped"):
            return result
    return None


def gather_problem(gathered: dict | None, recheck: dict | None = None) -> tuple[str, str] | None:
    """(status, reason) when a host's gather step gave no facts; None when it did. recheck: the
    audit's ping of a host whose gather failed: unreachable then means the host went away during
    the gather (a connection may report that as a failed module), not that it answered wrongly."""
    if not gathered:
        return "error", "facts were not gathered (host skipped or failed earlier)"
    if gathered.get("unreachable"):
        return "unreachable", f"unreachable: {gathered.get('msg', '')}".strip()
    if gathered.get("failed") or "lgsec_facts" not in gathered:
        if recheck and recheck.get("unreachable"):
            return "unreachable", f"unreachable during the gather: {recheck.get('msg', '')}".strip()
        return "error", f"gather failed: {gathered.get('msg', 'no facts')}"
    return None
