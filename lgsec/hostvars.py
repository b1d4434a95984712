"""The host variables lgsec reads, out of all Ansible gives a host: the one list, for the
command line (lgsec/inventory.py) and the plugins (action_plugins: validate, report, harden plan)."""

from __future__ import annotations

# Ansible's variables lgsec reads besides its own lgsec_* ones:
#   group_names         the importance class groups (第10条) and the exceptions' groups
#   ansible_connection  the platform (winrm, network_cli …: lgsec.evaluate.host_platform)
#   ansible_network_os  a device's vendor (lgsec.network.vendor_of), also of a saved configuration
#   inventory_file      the inventory a validation error names (action_plugins/lgsec_validate.py)
KEEP = ("group_names", "ansible_connection", "ansible_network_os", "inventory_file")


def pick(hostvars) -> dict:
    """lgsec_* and KEEP of one host's variables (a dict, or Ansible's hostvars of a host) — not
    all of them, which would template every variable, secrets included."""
    return {k: hostvars[k] for k in hostvars if k.startswith("lgsec_") or k in KEEP}
