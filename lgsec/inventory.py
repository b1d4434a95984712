"""The inventory as the playbook will see it: read with Ansible's own inventory code, after
--limit, every vault-encrypted variable checked against the password given, each host's
variables cut down to what lgsec reads (lgsec.hostvars.pick). Errors name the inventory file."""

from __future__ import annotations

from pathlib import Path

from lgsec import safeyaml
from lgsec.catalog import ROOT
from lgsec.errors import InputError
from lgsec.hostvars import pick

LOCAL_INVENTORY = ROOT / "inventories" / "localhost.yml"


def load_inventory(
    path: str, limit: str | None, vault_password_file: str | None = None, all_groups: dict | None = None
) -> dict[str, dict]:
    """Hosts (after --limit) → their variables, read with Ansible's own inventory code so the
    CLI validates exactly what the playbook will see. Errors name the inventory file."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    if not Path(path).exists():
        raise InputError(path, "-", "inventory not found")
    check_yaml(path)
    loader = DataLoader()
    if vault_password_file:
        from ansible.cli import CLI

        files = [vault_password_file]
        secrets = CLI.setup_vault_secrets(loader, [], vault_password_files=files, initialize_context=False)
        loader.set_vault_secrets(secrets)  # no process-wide context: lgsec may load inventories twice
    try:
        inventory = InventoryManager(loader=loader, sources=[path])
    except Exception as exc:  # Ansible raises several error types for a broken source
        raise InputError(path, "-", f"cannot parse inventory: {exc}") from exc
    if all_groups is not None:  # every host's groups, before --limit (the exceptions file names any host)
        all_groups.update({h.name: [g.name for g in h.get_groups() if g.name != "all"] for h in inventory.get_hosts()})
    if limit:
        inventory.subset(limit)
    hosts = inventory.get_hosts()
    if not hosts:
        raise InputError(path, "hosts", "no host in the inventory" + (f" matches --limit {limit}" if limit else ""))
    variables = VariableManager(loader=loader, inventory=inventory)
    out = {}
    for host in hosts:
        hvars = variables.get_vars(host=host, include_hostvars=False)
        check_vaulted(path, host.name, hvars, loader)
        out[host.name] = pick(hvars)
    return out


def check_yaml(path: str) -> None:
    """A YAML inventory must parse: Ansible would only warn and go on with no host at all. Read
    with lgsec's limits (size, alias expansion) before Ansible reads it."""
    if Path(path).is_dir() or Path(path).suffix not in (".yml", ".yaml"):
        return
    safeyaml.load(path, "inventory", any_tags=True)


def check_vaulted(path: str, host: str, hvars: dict, loader) -> None:
    """Every vault-encrypted variable of the host must decrypt with the vault password given:
    a missing or wrong password is an input error naming the variable, before anything runs."""
    from ansible.parsing.vault import AnsibleVaultError, EncryptedString, VaultLib

    for name, value in hvars.items():
        if not isinstance(value, EncryptedString):
            continue
        secrets = loader._vault.secrets if loader._vault else []
        if not secrets:
            raise InputError(path, f"host {host}: {name}", "is vault-encrypted: give --vault-password-file")
        try:
            VaultLib(secrets).decrypt(value._ciphertext)
        except AnsibleVaultError as exc:
            raise InputError(
                path, f"host {host}: {name}", f"cannot be decrypted with the vault password given ({exc})"
            ) from exc
