"""Read the host variables lgsec needs from Ansible's hostvars (used by the plugins)."""

from __future__ import annotations

KEEP = ("group_names", "ansible_connection", "ansible_network_os", "inventory_file")  # what validate_hostvars reads


def pick(hostvars) -> dict:
    """lgsec_* and a few of Ansible's variables of one host — not all of hostvars, which would
    template every variable, secrets included."""
    return {k: hostvars[k] for k in hostvars if k.startswith("lgsec_") or k in KEEP}
