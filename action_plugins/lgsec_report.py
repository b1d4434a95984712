"""lgsec_report: evaluate every host's gathered facts on the controller and write the report."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_report
short_description: Judge gathered lgsec facts against the catalog and write report.json
description:
  - Runs on the controller. For each host, reads the registered result of the gather step,
    evaluates it with lgsec.evaluate (catalog, host variables, importance class) and writes
    one report for the run. A host whose gather step was unreachable gets C(unreachable)
    rows, one whose gather failed gets C(error) rows; neither is ever C(pass).
options:
  hosts: {description: Hosts of the run, type: list, elements: str, required: true}
  outdir: {description: Directory for report.json, type: str, required: true}
  gathered:
    description:
      - Names of the registered gather results, one per platform's gather task. A host's facts
        come from the first of them that ran (was not skipped) on it.
    type: list
    elements: str
    default: [lgsec_gather, lgsec_gather_windows, lgsec_gather_network]
  controls: {description: Only these control ids (default all), type: list, elements: str}
  inventory: {description: Inventory label for the report, type: str, default: ""}
  started: {description: Start time of the run (ISO 8601), type: str}
  catalog: {description: Catalog path (default catalog/controls.yml), type: str}
  history:
    description: History database (第95条3; default OUTDIR/history.sqlite) for the change since the last audit
    type: str
  exceptions:
    description:
      - Exceptions file (第99–101条). A C(fail) row covered by a live exception becomes C(waived)
        with the exception's reference; the report lists every exception for the review.
    type: str
"""

EXAMPLES = r"""
- name: Evaluate on the controller and write the report
  lgsec_report:
    hosts: "{{ ansible_play_hosts_all }}"
    outdir: /srv/lgsec/reports
    history: /srv/lgsec/history.sqlite
  register: lgsec_result
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
report: {description: Path of report.json, returned: success, type: str}
exit_code:
  description: "lgsec's exit code for the run: 0 compliant, 1 findings, 3 unreachable"
  returned: success
  type: int
counts: {description: Rows by status, returned: success, type: dict}
host_counts: {description: Host to its rows by status, returned: success, type: dict}
findings: {description: C(host/CONTROL) of every fail, error or unreachable row, returned: success, type: list}
msg: {description: The summary, one line per finding, returned: always, type: str}
"""

import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec import exceptions, report, textsafe
from lgsec.action import ControllerAction
from lgsec.catalog import load_catalog
from lgsec.evaluate import failed_host
from lgsec.gathered import GATHERED, gather_problem, pick_gathered
from lgsec.hostvars import pick
from lgsec.offline import judge_host


class ActionModule(ControllerAction):
    def act(self, args, task_vars):
        started = args.get("started") or report.now_iso()
        only = args.get("controls") or None
        inventory = exceptions.inventory_groups(task_vars["groups"])
        catalog = load_catalog(args.get("catalog"))
        waivers = exceptions.load(args["exceptions"], catalog, inventory) if args.get("exceptions") else None
        rows, gathered_facts = [], {}
        for host in args["hosts"]:
            hvars = pick(task_vars["hostvars"][host])
            gathered = pick_gathered(task_vars["hostvars"][host], args.get("gathered") or GATHERED)
            problem = gather_problem(gathered, task_vars["hostvars"][host].get("lgsec_recheck"))
            if problem:
                rows += failed_host(catalog, host, hvars, *problem, only=only)
            else:
                facts = gathered["lgsec_facts"]
                gathered_facts[host] = facts
                # an unexpected failure judging one host's facts: that host's rows say error, the others are judged
                rows += judge_host(catalog, host, facts, hvars, source="live", only=only)
        rows = textsafe.storable(rows)  # a lone surrogate in one host's text cannot stop the report
        data = report.build(rows, started=started, inventory=args.get("inventory", ""), mode="audit", catalog=catalog)
        if waivers is not None:
            data = exceptions.attach(data, waivers, {h: inventory.get(h, []) for h in args["hosts"]})
        path = report.write(data, args["outdir"], history=args.get("history"), facts=gathered_facts)
        return {
            "changed": False,
            "report": str(path),
            "exit_code": report.exit_code(rows),
            "msg": report.summary(rows, report.inventory_of(data))
            + (f"\nhistory not recorded: {data['history_error']}" if data.get("history_error") else ""),
            **report.stats(rows),
        }
