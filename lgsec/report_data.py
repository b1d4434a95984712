"""What every report format reads from a run: its dates in JST and 年度, the exceptions near their
end, the command that fixes a finding, and the atomic write of a report file. Below report.py
(which writes the formats together) and the formats themselves (report_formats, report_html,
archive), so none of them imports another back."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

# Japan Standard Time: Asia/Tokyo has kept UTC+9 without daylight saving since 1951, so a fixed
# offset is exact and needs no time zone database on the controller.
JST = timezone(timedelta(hours=9), "JST")
TIMEZONE = "Asia/Tokyo"
EXPIRY_WARNING_DAYS = 30  # exceptions this close to their end are warned about


def now() -> datetime:
    return datetime.now(JST)


def now_iso() -> str:
    """The time now in JST, ISO 8601 with its offset (2026-12-02T10:15:00+09:00)."""
    return now().isoformat(timespec="seconds")


def jst(stamp: str) -> str:
    """An ISO time (any offset) as JST "2026-12-02 10:15:00 JST"; the text itself when not a time."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is None:  # lgsec writes offsets; a naive time is taken as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")


def fiscal_year(day: date) -> int:
    """The Japanese fiscal year (年度, April to March) a day belongs to: 2027-03-31 → 2026."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_label(day: date) -> str:
    """令和8年度 (2026年度) for a day of April 2026 to March 2027."""
    year = fiscal_year(day)
    era = f"令和{year - 2018}年度" if year >= 2019 else f"{year}年度"
    return f"{era} ({year}年度)" if year >= 2019 else era


def fiscal_year_end(day: date) -> date:
    return date(fiscal_year(day) + 1, 3, 31)


def run_day(report: dict) -> date:
    """The JST day of the run (today when the start time cannot be read)."""
    try:
        return datetime.fromisoformat(str(report["run"]["started"])).astimezone(JST).date()
    except (KeyError, ValueError):
        return now().date()


def expiry_notes(report: dict) -> dict:
    """The exceptions that end within EXPIRY_WARNING_DAYS, and those that end by the end of this
    fiscal year (both: live ones only; an exception is live through its expires_on day in JST)."""
    items = [e for e in report.get("exceptions") or [] if e.get("state") == "live"]
    end = fiscal_year_end(run_day(report))
    return {
        "soon": [e for e in items if int(e.get("days_to_expiry", 10**6)) <= EXPIRY_WARNING_DAYS],
        "fiscal_year_end": str(end),
        "by_fiscal_year_end": [e for e in items if str(e.get("expires_on", "9999")) <= str(end)],
    }


def inventory_of(report: dict) -> str:
    """The inventory the run read, for a command to run again: the inventory path of the run
    (an offline run's label is "INVENTORY; evidence DIR"); INVENTORY when it had none."""
    label = str(report.get("run", {}).get("inventory") or "").split(";")[0].strip()
    return label if label and label != "no inventory" else "INVENTORY"


def harden_command(inventory: str, host: str, control: str) -> str | None:
    """The command that fixes one finding, runnable as printed in a POSIX shell (host and
    inventory shell-quoted: they come from the inventory; the two people are the shell's
    variables, refused by lgsec when empty)."""
    import shlex

    base = shlex.join(["lgsec", "harden", "-i", inventory, "-l", host, "--tags", control])
    return f'{base} --operator "$LGSEC_OPERATOR" --confirmed-by "$LGSEC_CONFIRMED_BY"'


def fixable(row: dict) -> bool:
    return row.get("automation") == "automated" and row.get("status") in ("fail", "error")


def atomic_write(target: Path, data: bytes) -> None:
    """Replace target with data in one step (a half-written file never replaces a good one)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
