"""The `lgsec_*` variables lgsec knows: every catalog parameter's variable (catalog/controls.yml)
and lgsec's own (OWN, below: documented in docs/usage.md, the playbooks and the roles' defaults).
A host variable lgsec_* that is neither is a mistake (a misspelt parameter would silently keep
the catalog's default): `unknown` names it with the closest known name."""

from __future__ import annotations

import difflib

from lgsec.catalog import Catalog

# lgsec's own variables (not catalog parameters), where a user or the CLI sets them
OWN = frozenset(
    {
        # the host (README: inventory)
        "lgsec_importance", "lgsec_platform", "lgsec_extra_platforms", "lgsec_controls", "lgsec_mobile",
        "lgsec_decommissioned", "lgsec_network_vendor", "lgsec_network_enable_secret",
        "lgsec_winrm_cert_validation", "lgsec_backup_recent_job", "lgsec_backup_recent_stamp_file",
        # a run (extra variables of lgsec audit/harden and of the AWX job templates)
        "lgsec_hosts", "lgsec_only_controls", "lgsec_report_dir", "lgsec_inventory_label", "lgsec_started",
        "lgsec_exceptions_file", "lgsec_history_db", "lgsec_waived_controls", "lgsec_fail_on_findings",
        # playbooks/harden.yml run directly or by lgsec harden (two people, the work record, --full)
        "lgsec_operator", "lgsec_confirmed_by", "lgsec_work_log", "lgsec_work_record_run", "lgsec_harden_full",
        # playbooks/backup_network.yml
        "lgsec_network_backup_dir", "lgsec_network_backups", "lgsec_backup_note",
        # playbooks/decommission.yml (roles/decommission/defaults)
        "lgsec_decommission_devices", "lgsec_decommission_operator", "lgsec_decommission_approver",
        "lgsec_decommission_reference", "lgsec_decommission_confirm", "lgsec_decommission_allow_system_disk",
        "lgsec_decommission_record_path",
        # playbooks/schedule_audit.yml
        "lgsec_schedule_inventory", "lgsec_schedule_state", "lgsec_schedule_root", "lgsec_schedule_lgsec",
        "lgsec_schedule_outdir", "lgsec_schedule_log", "lgsec_schedule_on_calendar", "lgsec_schedule_cron",
        # playbooks/provision.yml
        "lgsec_provision_users", "lgsec_provision_shell", "lgsec_provision_initial_password",
        "lgsec_provision_list", "lgsec_provision_login_shell",
        # tests/windows_live/collect.yml
        "lgsec_remote_dir",
    }
)  # fmt: skip


# lgsec's own variables that were renamed: refused under the old name with the new one (a host
# still marked with the old name would silently lose what it set)
RENAMED = {
    # the platforms a host has beyond lgsec_platform (a mail server: a Linux host, [mail])
    "lgsec_platforms": "lgsec_extra_platforms",
}

# families of variables that are not lgsec's settings: the lab's and the molecule scenarios' own
# (lgsec_lab_admin_password, lgsec_lab_ssh_port … in molecule/*/molecule.yml)
OWN_PREFIXES = ("lgsec_lab_",)


def known(catalog: Catalog) -> set[str]:
    return set(catalog.variables()) | OWN


def unknown(catalog: Catalog, name: str) -> str | None:
    """Why an lgsec_* name is not acceptable (with the closest known name), or None when known."""
    if name in RENAMED:
        return f"renamed: use {RENAMED[name]} (the platforms a host has beyond lgsec_platform, e.g. [mail])"
    names = known(catalog)
    if name in names or name.startswith(OWN_PREFIXES):
        return None
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else "not a catalog parameter nor one of lgsec's own variables"
    return f"unknown lgsec variable: {hint}"
