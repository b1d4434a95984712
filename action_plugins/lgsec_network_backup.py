"""lgsec_network_backup: keep the network devices' running configurations in a git store on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_network_backup
short_description: Record network devices' running configurations and what changed since the last backup
description:
  - Runs on the controller, once. Takes each host's registered C(show running-config) result, writes
    C(<host>.cfg) into the store (a git repository, created on first use), writes
    C(changes/<host>.diff) for every device whose configuration changed and commits them in one commit.
  - The store is what C(lgsec audit --configs STORE) reads, and a live audit links each device's last
    change (commit and diff) in its report rows.
  - In check mode nothing is written; the result lists the devices that would be recorded.
options:
  hosts: {description: Hosts of the run, type: list, elements: str, required: true}
  store: {description: Directory of the store, type: str, required: true}
  result_var: {description: Name of the registered show running-config result, type: str, default: lgsec_backup_running}
  note: {description: Text added to the commit message (operator, ticket), type: str, default: ""}
"""

EXAMPLES = r"""
- name: Read each device's running configuration
  ansible.netcommon.cli_command:
    command: show running-config
  register: lgsec_backup_running

- name: Record them in the store, one commit for the run
  lgsec_network_backup:
    hosts: "{{ ansible_play_hosts_all }}"
    store: /srv/lgsec/backups/network
    note: "change 2026-041, operator yamada"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
changed: {description: A device's configuration was new or changed (a commit was made), returned: always, type: bool}
msg: {description: Summary (devices recorded, changed, the commit), returned: always, type: str}
"""

import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec import network, network_store
from lgsec.action import ControllerAction


class ActionModule(ControllerAction):
    def act(self, args, task_vars):
        configs, missing = {}, {}
        for host in args["hosts"]:
            hvars = task_vars["hostvars"][host]
            got = hvars.get(args.get("result_var") or "lgsec_backup_running") or {}
            if got.get("skipped"):
                continue
            if got.get("failed") or got.get("unreachable") or "stdout" not in got:
                missing[host] = got.get("msg", "not read")
                continue
            vendor = network.vendor_of(dict(hvars), where=f"host {host}")
            configs[host] = network_store.backup_text(got["stdout"], vendor, host)
        try:
            done = network_store.store_backups(
                args["store"], configs, args.get("note", ""), dry_run=self._task.check_mode
            )
        except RuntimeError as exc:
            return {"failed": True, "msg": str(exc)}
        msg = f"{len(configs)} device(s) read; changed: {', '.join(done['changed']) or 'none'}; "
        msg += f"new: {', '.join(done['new']) or 'none'}"
        msg += f"; commit {done['commit'][:12]}" if done["commit"] else "; nothing to commit"
        if missing:
            msg += f"; NOT backed up: {', '.join(f'{h} ({r})' for h, r in missing.items())}"
        return {
            **done,
            "changed": bool(done["changed"] or done["new"]),
            "failed": bool(missing),
            "not_backed_up": missing,
            "msg": msg,
        }
