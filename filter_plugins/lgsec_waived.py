"""Filters for approved exceptions (第99–101条) in the roles: leave waived controls out."""

from __future__ import annotations

# Documentation for ansible-doc: lgsec_network_plan_without.yml beside this file.


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
        return {"lgsec_network_plan_without": lgsec_network_plan_without}
