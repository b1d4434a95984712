"""lgsec_network_plan: the network_device role's changes (lgsec/network_plan.py), computed on the
audit's own model (lgsec/network.py) of the device's running configuration, so check mode shows
exactly the findings of `lgsec audit` and a compliant device gets no change at all."""

from __future__ import annotations

import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))

from lgsec import network, network_plan, network_store
from lgsec.catalog import load_catalog
from lgsec.evaluate import params_for


def lgsec_network_plan(running: str, variables: dict, operator: str = "", enable_secret_given: bool = False) -> dict:
    """{vendor, text: {control id: configuration text}, commands: [...], blockers: [...]}.
    `variables`: the role's lgsec_* variables and ansible_network_os."""
    catalog = load_catalog()
    vendor = network.vendor_of(variables, where="network_device role")
    cfg = network.Config(running, vendor, "running-config")
    params = {c.id: params_for(c, variables) for c in catalog}
    cmds = network_plan.plan(cfg, params, operator)
    blockers = network_plan.blockers(cfg, params)
    if enable_secret_given:
        blockers = [b for b in blockers if "no enable secret" not in b]
    # IOS-XE asks to confirm `no username X`: those go to cisco.ios.ios_user (state absent), which answers
    users = [c.line.split()[2] for c in cmds if c.line.startswith("no username ")]
    pushed = [c for c in cmds if not c.line.startswith("no username ")]
    controls = dict.fromkeys(c.control for c in pushed)
    return {
        "vendor": vendor,
        "text": {cid: network_plan.render([c for c in pushed if c.control == cid]) for cid in controls},
        "remove_users": users,
        "commands": [{"control": c.control, "parent": c.parent, "line": c.line} for c in cmds],
        "blockers": blockers,
        "enable_secret_missing": vendor == "ios" and cfg.first(r"^enable (algorithm-type \S+ )?secret ") is None,
    }


def lgsec_network_last_change(host: str, store: str) -> dict | None:
    """The device's last configuration change recorded by playbooks/backup_network.yml."""
    return network_store.last_change(store, host)


class FilterModule:
    def filters(self):
        return {"lgsec_network_plan": lgsec_network_plan, "lgsec_network_last_change": lgsec_network_last_change}
