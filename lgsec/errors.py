"""Errors and exit codes shared by the CLI, the plugins and the tests."""

from __future__ import annotations

# Exit codes of every lgsec command (the table in README.md).
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


# Where the traceback of an unexpected error goes (exit 4): LGSEC_ERROR_LOG, else the first of
# these that can be written. The terminal gets one line naming what failed (-v: the traceback too).
ERROR_LOG = "lgsec-error.log"


def log_unexpected(exc: BaseException, argv: list[str], places: list) -> str | None:
    """Append the traceback of an unexpected error, with the time and the command, to the error
    log; returns its path, None when no place could be written."""
    import os
    import tempfile
    import traceback
    from datetime import UTC, datetime
    from pathlib import Path

    text = "".join(traceback.format_exception(exc))
    head = f"--- {datetime.now(UTC).isoformat(timespec='seconds')} lgsec {' '.join(argv)}\n"
    candidates = [os.environ.get("LGSEC_ERROR_LOG")] + [Path(p) / ERROR_LOG for p in places]
    candidates.append(Path(tempfile.gettempdir()) / f"lgsec-error-{os.getuid()}.log")
    for path in filter(None, candidates):
        try:
            with open(path, "a", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(head + text)
            return str(path)
        except OSError:
            continue
    return None
