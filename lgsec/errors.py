"""Errors and exit codes shared by the CLI, the plugins and the tests."""

from __future__ import annotations

# Exit codes of every lgsec command (documented in README.md).
EXIT_COMPLIANT = 0  # every result pass / waived / not_applicable / manual
EXIT_NONCOMPLIANT = 1  # at least one fail or error
EXIT_INPUT = 2  # bad input: catalog, inventory, variables, exceptions; nothing was run
EXIT_UNREACHABLE = 3  # at least one host could not be reached (its rows say unreachable)
EXIT_RUN_FAILED = 4  # Ansible itself failed before a report could be written
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C or SIGTERM (128 + SIGINT, as a shell reports it)


class InputError(Exception):
    """Bad input. `where` names the file (and entry), `field` the field at fault."""

    def __init__(self, where: str, field: str, message: str):
        self.where, self.field, self.message = where, field, message
        super().__init__(f"{where}: {field}: {message}")
