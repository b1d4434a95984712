"""lgsec_validate: check the catalog and every targeted host's lgsec variables before anything runs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_validate
short_description: Validate lgsec's catalog and the hosts' lgsec variables on the controller
description:
  - Loads catalog/controls.yml and checks every C(lgsec_<control>_<param>) variable of the
    given hosts against the parameter's type and range, and every control id named in
    C(lgsec_controls). Fails, naming the file or host and the variable, on the first error.
options:
  hosts: {description: Hosts to check, type: list, elements: str, required: true}
  catalog: {description: Catalog path (default catalog/controls.yml), type: str}
  exceptions:
    description:
      - Exceptions file (第99–101条, lgsec/exceptions.py), validated against the catalog and the
        inventory. Returns C(waived), host → control ids its live exceptions cover (the hardening
        skips them there).
    type: str
"""

EXAMPLES = r"""
- name: Validate the catalog and the hosts' lgsec variables
  lgsec_validate:
    hosts: "{{ ansible_play_hosts_all }}"
    exceptions: /srv/lgsec/exceptions.yml
  register: lgsec_validated
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
platforms:
  description: "Host to its platforms (linux, windows or network first; then mail …)"
  returned: success
  type: dict
waived: {description: Host to the control ids its live exceptions cover, returned: success, type: dict}
"""

import sys
from pathlib import Path

# an installed lgsec (pip, an execution environment) is found first; a plain checkout's stands beside
sys.path.append(str(Path(__file__).resolve().parent.parent))
from lgsec import exceptions
from lgsec.action import ControllerAction, input_failure
from lgsec.catalog import load_catalog
from lgsec.errors import InputError
from lgsec.evaluate import host_platform, validate_hostvars
from lgsec.hostvars import pick


class ActionModule(ControllerAction):
    def act(self, args, task_vars):
        try:
            catalog = load_catalog(args.get("catalog"))
            platforms = {}
            for host in args["hosts"]:
                hvars = pick(task_vars["hostvars"][host])
                validate_hostvars(catalog, host, hvars, source=str(hvars.get("inventory_file") or "inventory"))
                platforms[host] = [host_platform(hvars), *hvars.get("lgsec_extra_platforms", [])]
            waived = {}
            if args.get("exceptions"):
                inventory = exceptions.inventory_groups(task_vars["groups"])
                found = exceptions.load(args["exceptions"], catalog, inventory)
                today = exceptions.today()
                for host in args["hosts"]:
                    waived[host] = exceptions.waived_controls(found, host, inventory.get(host, []), today)
        except InputError as exc:
            return input_failure(exc)
        except Exception as exc:  # a bug: named in one line (the run stops: nothing is applied)
            return {
                "failed": True,
                "msg": f"lgsec unexpected error in validation: {type(exc).__name__}: {exc}",
            }
        msg = f"catalog {len(catalog)} controls; {len(args['hosts'])} host(s) valid"
        # host → its platforms (linux, windows, network, and mail where lgsec_extra_platforms adds it):
        # the playbooks group hosts by them so each platform's play gets only its own hosts.
        # waived: host → control ids its live exceptions cover (harden.yml sets lgsec_waived_controls)
        waived = {host: waived.get(host, []) for host in args["hosts"]}
        return {"changed": False, "msg": msg, "platforms": platforms, "waived": waived}
