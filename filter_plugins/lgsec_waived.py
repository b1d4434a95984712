"""Filters for the controls a run leaves out in the roles: those an approved exception waives
(第99–101条) and, in an audit-driven run, those whose audit passes (lgsec_waived_controls)."""

from __future__ import annotations

# Documentation for ansible-doc: lgsec_network_plan_without.yml and lgsec_enforced.yml beside this file.


def lgsec_enforced(control: str, run_tags: list[str], skip_tags: list[str], skipped: list[str]) -> bool:
    """Does this run enforce the control on the host: selected by the tags (all, or its id),
    not skipped by a tag, not in lgsec_waived_controls (waived, or passing in an audit-driven
    run). A shared step that checks or guards a control's settings runs only when it does."""
    run_tags, skip_tags, skipped = set(run_tags or ()), set(skip_tags or ()), set(skipped or ())
    return ("all" in run_tags or control in run_tags) and control not in skip_tags and control not in skipped


def lgsec_network_plan_without(plan: dict, waived: list[str]) -> dict:
    waived = set(waived or [])
    if not waived:
        return plan
    out = dict(plan)
    out["text"] = {cid: text for cid, text in plan.get("text", {}).items() if cid not in waived}
    out["commands"] = [c for c in plan.get("commands", []) if c.get("control") not in waived]
    out["blockers"] = [b for b in plan.get("blockers", []) if b.split(": ", 1)[0] not in waived]
    if "PRIV-DEFAULT-ID" in waived:
        out["remove_users"], out["enable_secret_missing"] = [], False
    out["waived"] = sorted(waived)
    return out


class FilterModule:
    def filters(self):
        return {"lgsec_network_plan_without": lgsec_network_plan_without, "lgsec_enforced": lgsec_enforced}
