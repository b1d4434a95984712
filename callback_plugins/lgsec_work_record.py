"""lgsec_work_record callback: the `finished` entry of a hardening run started by the
lgsec_work_record action (playbooks/harden.yml run directly, e.g. from AWX): what changed and
failed per host, the controls that ran and why each other one was skipped, the outcome.
It writes nothing in any other run (audits, or lgsec harden, which records the run itself)."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.plugins.callback import CallbackBase

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))

DOCUMENTATION = r"""
---
name: lgsec_work_record
type: aggregate
short_description: The finished entry of lgsec's hash-chained work record for playbooks/harden.yml
description:
  - Collects every task result (lgsec.worklog.Collector, the same as lgsec harden) and, when the
    run's lgsec_work_record step wrote a C(started) entry, appends the C(finished) entry at the end
    of the playbook. A run stopped before its end (Ctrl-C, a killed controller) leaves the
    C(started) entry open, which C(lgsec log verify) lists.
  - Needs no enabling (loaded from the callback_plugins path of ansible.cfg).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lgsec_work_record"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened: dict | None = None
        self.plans: dict = {}
        self.collector = None

    def _event(self, kind: str, result, ignore_errors: bool = False) -> None:
        action = str(getattr(result._task, "action", ""))
        res = result._result or {}
        if kind == "runner_on_ok" and action.endswith("lgsec_work_record") and res.get("written"):
            from lgsec import worklog

            self.opened, self.collector = res, worklog.Collector()
        if kind == "runner_on_ok" and action.endswith("lgsec_harden_plan"):
            self.plans.update(res.get("plans") or {})
        if self.collector is not None:
            task = result._task.name or result._task.action  # as ansible-runner names it in its events
            data = {"host": result._host.get_name(), "task": task, "res": res}
            self.collector({"event": kind, "event_data": {**data, "ignore_errors": ignore_errors}})

    def v2_runner_on_ok(self, result):
        self._event("runner_on_ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._event("runner_on_failed", result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._event("runner_on_skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._event("runner_on_unreachable", result)

    def v2_playbook_on_stats(self, stats):
        if self.opened is None:
            return
        from lgsec import harden

        counts = {"ok": stats.ok, "changed": stats.changed, "failures": stats.failures}
        counts |= {"unreachable": stats.dark, "skipped": stats.skipped}
        self.collector({"event": "playbook_on_stats", "event_data": counts})
        unreachable = any(seen["unreachable"] for seen in self.collector.hosts.values()) or bool(stats.dark)
        rc = 4 if unreachable else 2 if stats.failures else 0  # ansible-playbook's exit codes
        changes = harden.with_plans(self.collector.hosts, self.plans)
        result = harden.outcome(rc, unreachable)
        try:
            entry = harden.record_finished(
                self.opened["log"], self.opened["opened"], self.opened["run"], changes,
                self.collector.stats, result, rc,
            )  # fmt: skip
        except OSError as exc:
            self._display.error(f"lgsec: cannot write the work record {self.opened['log']}: {exc.strerror}")
            return
        mode = ", check mode" if self.opened["run"]["check_mode"] else ""
        self._display.display(
            f"work record: {self.opened['log']} entry {entry['seq']} ({result}{mode}) {entry['hash']}"
        )
        self.opened = None
