"""lgsec_harden_plan: on the controller, judge the hardening's gathered facts like the audit and
say per host which controls its roles enforce in this run, and why each other one is skipped."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_harden_plan
short_description: Plan an audit-driven hardening run (lgsec) from the facts of the audit's gather
description:
  - Runs on the controller. For each host, evaluates the registered result of the gather step
    (the audit's module, one run) with lgsec.evaluate and plans the run with lgsec.harden.plan_host, in which
    the controls whose audit passes are skipped, unless the catalog marks them C(harden.always) or
    they follow a control being repaired (C(harden.with)); waived controls are skipped; a host
    whose gather gave no facts, and C(full), run every control.
  - Fails, naming the inventory, the host and /etc/os-release, when a host with facts is of an OS
    family the Linux roles do not know (the Debian and RedHat families only); this is the one
    platform guard of every Linux role, before any of them runs (also with C(full)).
  - Returns C(plans) (host → run, skipped, audit), C(skip) (host → ids for lgsec_waived_controls)
    and C(roles) (host → the roles with a control to run).
options:
  hosts: {description: Hosts of the play, type: list, elements: str, required: true}
  roles: {description: The roles the play runs, in order, type: list, elements: str, required: true}
  waived:
    description: Host → control ids its approved exceptions waive (lgsec_validate's C(waived))
    type: dict
    default: {}
  full: {description: Run every control (no audit-driven skipping), type: bool, default: false}
  gathered:
    description: Names of the registered gather results (the first that ran on a host is used)
    type: list
    elements: str
    default: [lgsec_gather]
  catalog: {description: Catalog path (default catalog/controls.yml), type: str}
"""

EXAMPLES = r"""
- name: Plan each host's controls from the audit's gather (passing skipped, waived separately)
  lgsec_harden_plan:
    hosts: "{{ ansible_play_hosts_all }}"
    roles: [accounts, software, desktop, network_access, web_integrity, antivirus, logging, mail_server]
    waived: "{{ lgsec_validated.waived }}"
    full: false
  register: lgsec_harden_plan
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
plans:
  description: "Host → {run: control → why it runs, skipped: control → passing or waived, audit: control → status}"
  returned: always
  type: dict
skip:
  description: Host → the control ids its roles skip (set as lgsec_waived_controls)
  returned: always
  type: dict
roles:
  description: Host → the roles with at least one control to run there, in order
  returned: always
  type: dict
"""

import sys
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec import harden
from lgsec.action import ControllerAction
from lgsec.catalog import load_catalog
from lgsec.evaluate import evaluate_host, host_platform
from lgsec.gathered import gather_problem, pick_gathered
from lgsec.hostvars import pick


class ActionModule(ControllerAction):
    def act(self, args, task_vars):
        full = boolean(args.get("full", False), strict=False)
        waived = args.get("waived") or {}
        catalog = load_catalog(args.get("catalog"))
        roles = {role: harden.role_controls(role) for role in args["roles"]}
        plans, skip, to_run = {}, {}, {}
        for host in args["hosts"]:
            hostvars = task_vars["hostvars"][host]
            hvars = pick(hostvars)
            platforms = {host_platform(hvars), *hvars.get("lgsec_extra_platforms", [])}
            # the controls the roles enforce on a host of its platforms (a mail server's too)
            enforced = [
                c
                for ids in roles.values()
                for c in ids
                if c not in catalog.controls or platforms & set(catalog[c].platforms)
            ]
            rows, problem = None, None
            gathered = pick_gathered(hostvars, args.get("gathered") or ["lgsec_gather"])
            found = gather_problem(gathered)
            if found:
                problem = found[1]
            else:
                # a Linux host the roles do not know stops the run before any role (every host): an InputError
                harden.linux_family(host, gathered["lgsec_facts"], str(hvars.get("inventory_file") or "inventory"))
                if not full:
                    rows = evaluate_host(catalog, host, gathered["lgsec_facts"], hvars)
            plan = harden.plan_host(catalog, enforced, rows, waived.get(host, []), full=full, problem=problem)
            plans[host], skip[host], to_run[host] = plan, harden.skip_list(plan), harden.roles_to_run(plan, roles)
        ran = sum(len(p["run"]) for p in plans.values())
        passing = sum(list(p["skipped"].values()).count(harden.PASSING) for p in plans.values())
        msg = f"{len(plans)} host(s): {ran} control run(s) to do, {passing} skipped as passing"
        return {"changed": False, "msg": msg, "plans": plans, "skip": skip, "roles": to_run}
