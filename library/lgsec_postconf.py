#!/usr/bin/python
# lgsec — set Postfix parameters through postconf, idempotent and honest in check mode.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lgsec_postconf
short_description: Set Postfix main.cf parameters, master.cf services and their -o overrides with postconf
description:
  - Compares each wanted value with what Postfix applies now (C(postconf -h NAME), main.cf's value or
    the default; C(postconf -M SERVICE/TYPE); C(postconf -P -h SERVICE/TYPE/NAME)) and writes only the
    differing ones with C(postconf -e), C(postconf -M -e), C(postconf -P -e). Postfix's own tool edits
    main.cf and master.cf, continuation lines included; nothing else is touched.
  - Check mode reports what would change, with a diff, and writes nothing. Postfix is not reloaded
    here (notify a handler).
  - Services are written before their overrides (writing an entry drops its -o options).
options:
  params: {description: main.cf parameter → value, type: dict, default: {}}
  services:
    description: "C(name/type) → the master.cf entry's fields (C(submission inet n - y - - smtpd))"
    type: dict
    default: {}
  service_params: {description: "C(name/type/parameter) → value of a -o override", type: dict, default: {}}
"""

EXAMPLES = r"""
- name: No relaying for strangers
  lgsec_postconf:
    params:
      smtpd_relay_restrictions: permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
    services:
      submission/inet: submission inet n - y - - smtpd
    service_params:
      submission/inet/smtpd_sasl_auth_enable: "yes"
"""

RETURN = r"""
changed_settings: {description: What was (or in check mode would be) written, returned: always, type: list}
"""

from ansible.module_utils.basic import AnsibleModule


def norm(value):
    return " ".join(str(value).split())


def main():
    module = AnsibleModule(
        argument_spec={
            "params": {"type": "dict", "default": {}},
            "services": {"type": "dict", "default": {}},
            "service_params": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    postconf = module.get_bin_path("postconf", required=True, opt_dirs=["/usr/sbin"])
    env = {"LC_ALL": "C"}

    def read(*args):
        rc, out, err = module.run_command([postconf, *args], environ_update=env)
        if rc != 0:
            module.fail_json(msg=f"postconf {' '.join(args)} failed: {err.strip()}")
        return out.strip()

    # (kind, key, read args, current → comparable, write args)
    kinds = (
        ("params", ["-h"], lambda cur: cur, []),
        ("services", ["-M"], lambda cur: " ".join(cur.split()[:8]), ["-M"]),
        ("service_params", ["-P", "-h"], lambda cur: cur, ["-P"]),
    )
    before, after, changed = {}, {}, []
    for kind, read_args, comparable, write_args in kinds:
        for key, wanted in module.params[kind].items():
            current = comparable(read(*read_args, key))
            if norm(current) == norm(wanted):
                continue
            before[key], after[key] = current, str(wanted)
            changed.append(f"{key} = {wanted}")
            if not module.check_mode:
                read(*write_args, "-e", f"{key}={wanted}")
    diff = {
        "before": "".join(f"{k} = {v}\n" for k, v in before.items()),
        "after": "".join(f"{k} = {v}\n" for k, v in after.items()),
    }
    module.exit_json(changed=bool(changed), changed_settings=changed, diff=diff)


if __name__ == "__main__":
    main()
