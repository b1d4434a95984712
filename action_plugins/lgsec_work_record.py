"""lgsec_work_record: the two-person rule and the `started` entry of the hash-chained work record
for playbooks/harden.yml run directly (ansible-playbook, AWX); callback_plugins/lgsec_work_record.py
writes the `finished` entry at the end of the run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_work_record
short_description: Two-person rule and work record of an lgsec hardening run (第8条, 第53条, 第77条)
description:
  - Runs on the controller. Fails unless C(operator) and C(confirmed_by) name two different
    people (compared after NFKC, case folding and whitespace). Then appends the C(started) entry
    of the run to the hash-chained work record (lgsec/worklog.py), before any host is touched;
    the callback plugin lgsec_work_record appends the C(finished) entry with what changed.
  - Run by C(lgsec harden), which has written the C(started) entry itself, C(cli_run) names that
    entry (log and seq); it must be an open entry of the same two people, and nothing is written.
options:
  operator: {description: The person who runs the change (lgsec_operator), type: str, required: true}
  confirmed_by: {description: The other person who confirms it (lgsec_confirmed_by), type: str, required: true}
  log: {description: The work record (JSON lines), type: path, required: true}
  hosts: {description: The run's hosts, type: list, elements: str, required: true}
  inventory: {description: The inventory, type: str, default: ""}
  limit: {description: The run's --limit, type: str}
  check_mode: {description: A check-mode run, type: bool, default: false}
  controls: {description: The run's --tags, type: list, elements: str, default: [all]}
  exceptions: {description: The exceptions file, type: str}
  full: {description: Every control runs (lgsec_harden_full), type: bool, default: false}
  cli_run: {description: "lgsec harden's open entry: {log, seq}", type: dict}
"""

EXAMPLES = r"""
- name: Two people and the started entry of the work record, before any host is touched
  lgsec_work_record:
    operator: "{{ lgsec_operator }}"
    confirmed_by: "{{ lgsec_confirmed_by }}"
    log: /srv/lgsec/reports/work-record.jsonl
    hosts: "{{ ansible_play_hosts_all }}"
    check_mode: "{{ ansible_check_mode }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
written:
  description: Whether this task appended the started entry (false when lgsec harden had written it)
  returned: success
  type: bool
opened:
  description: "The started entry this run appended (seq, hash …)"
  returned: when written
  type: dict
log:
  description: The work record's path
  returned: when written
  type: str
"""

import sys
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec import harden
from lgsec.action import ControllerAction, input_failure


class ActionModule(ControllerAction):
    def act(self, args, task_vars):
        operator, confirmer = harden.two_persons(
            args.get("operator"), args.get("confirmed_by"), "lgsec_operator/lgsec_confirmed_by"
        )
        cli_run = args.get("cli_run")
        if cli_run:
            log, seq = (str(cli_run.get("log", "")), cli_run.get("seq")) if isinstance(cli_run, dict) else ("", None)
            if not harden.open_run(log, seq, operator, confirmer):
                msg = f"lgsec_work_record_run names no open started entry of {operator} and {confirmer}"
                return input_failure(f"{msg} ({log} seq {seq!r})")
            return {"changed": False, "written": False, "msg": f"recorded by lgsec harden: {log} seq {seq}"}
        log = str(Path(args["log"]).expanduser().resolve())
        run = {
            "operator": operator,
            "confirmed_by": confirmer,
            "inventory": args.get("inventory") or "",
            "limit": args.get("limit") or None,
            "check_mode": boolean(args.get("check_mode", False), strict=False),
            "full": boolean(args.get("full", False), strict=False),
            "hosts": sorted(args["hosts"]),
            "controls": list(args.get("controls") or ["all"]),
            "exceptions": args.get("exceptions") or None,
            "recorded_by": "playbooks/harden.yml",
        }
        try:
            opened = harden.record_started(log, run)
        except OSError as exc:
            return {"failed": True, "msg": f"lgsec: cannot write the work record {log}: {exc.strerror}"}
        msg = f"work record: {log} entry {opened['seq']} (started)"
        return {"changed": False, "written": True, "log": log, "opened": opened, "run": run, "msg": msg}
