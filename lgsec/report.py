"""Report: write report.json and print the terminal summary; decide the exit code."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

from lgsec import __version__
from lgsec.checks import PROBLEMS, STATUSES
from lgsec.errors import EXIT_COMPLIANT, EXIT_NONCOMPLIANT, EXIT_RUN_FAILED, EXIT_UNREACHABLE, InputError
from lgsec.report_data import (  # noqa: F401  (report.X is the public name of each)
    EXPIRY_WARNING_DAYS,
    JST,
    TIMEZONE,
    atomic_write,
    expiry_notes,
    fiscal_label,
    fiscal_year,
    fiscal_year_end,
    fixable,
    harden_command,
    inventory_of,
    jst,
    now,
    now_iso,
    run_day,
)
from lgsec.statuses import LABELS, STATUS_LABELS  # noqa: F401
from lgsec.textsafe import for_terminal


def catalog_hash(path: str | os.PathLike) -> str:
    """SHA-256 of the catalog and its explanations, as the run read them."""
    from lgsec.catalog import explanations_path

    digest = hashlib.sha256()
    for file in (Path(path), explanations_path(Path(path))):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def run_id(started: str) -> str:
    """A run's id: its JST start (sortable) and a random suffix, e.g. 20261202-101500-3f9a1c."""
    try:
        stamp = datetime.fromisoformat(str(started)).astimezone(JST).strftime("%Y%m%d-%H%M%S")
    except ValueError:
        stamp = now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def explain(results: list[dict], catalog) -> list[dict]:
    """Each row with its control's description, rationale, remediation and references."""
    for row in results:
        control = catalog.controls.get(row.get("control"))
        if control is not None and control.explanation is not None:
            row.update(control.explanation.as_row(), automation=control.automation)
    return results


def build(results: list[dict], *, started: str, inventory: str, mode: str, catalog=None) -> dict:
    """The report of one run. catalog: the one the run judged with (default: lgsec's own, or
    LGSEC_CATALOG); its explanations go into the rows, its hash into the run."""
    if catalog is None:
        from lgsec.catalog import load_catalog

        catalog = load_catalog()
    return {
        "run": {
            "id": run_id(started),
            "started": started,
            "finished": now_iso(),
            "timezone": TIMEZONE,
            "lgsec_version": __version__,
            "inventory": inventory,
            "mode": mode,
            "catalog": catalog.path,
            "catalog_sha256": catalog_hash(catalog.path),
        },
        "results": explain(results, catalog),
    }


def write(
    report: dict,
    outdir: str | os.PathLike,
    history: str | os.PathLike | bool | None = None,
    facts: dict[str, dict] | None = None,
) -> Path:
    """Write the reports of one run together: OUTDIR/report.json, report.csv, junit.xml and
    report.html, each atomically; returns the path of report.json. The run is compared with the
    previous one in the history database (default OUTDIR/history.sqlite; False: none) and stored
    there once the reports are written; when the database is damaged or locked, report.json says
    so in `history_error` (the caller exits 4) and the reports are written all the same. The run's
    own folder OUTDIR/runs/DAY/RUN-ID keeps the same reports, the facts gathered per host and a
    manifest (lgsec/archive.py)."""
    from lgsec import archive, report_formats, report_html
    from lgsec import history as audit_history

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    database = None if history is False else Path(history) if history else outdir / "history.sqlite"
    if database:
        audit_history.attach(report, database)
    target = outdir / "report.json"
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"  # fails before any file is replaced
    outputs = {
        "report.csv": report_formats.to_csv(report["results"], report.get("run")),
        "junit.xml": report_formats.to_junit(report),
        "report.html": report_html.render(report).encode("utf-8"),
    }
    for name, data in outputs.items():
        atomic_write(outdir / name, data)
    atomic_write(target, text.encode("utf-8"))
    if database and not report.get("history_error"):
        try:
            audit_history.record(report, database)
        except audit_history.HistoryError as exc:  # damaged or locked: the reports stand, the failure is named
            report["history_error"] = str(exc)
            text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
            atomic_write(target, text.encode("utf-8"))
    archive.keep(report, outdir, {**outputs, "report.json": text.encode("utf-8")}, facts)
    return target


def stats(results: list[dict]) -> dict:
    """Counts by status, overall and per host, and the failing host/control pairs: small enough
    for an AWX job's artifacts (set_stats), where the whole report would not fit."""
    per_host: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        per_host[r["host"]][r["status"]] += 1
    return {
        "counts": dict(Counter(r["status"] for r in results)),
        "host_counts": {host: dict(c) for host, c in per_host.items()},
        "findings": [f"{r['host']}/{r['control']}" for r in results if r["status"] in PROBLEMS],
    }


def exit_code(results: list[dict]) -> int:
    statuses = {r["status"] for r in results}
    if "unreachable" in statuses:
        return EXIT_UNREACHABLE
    if statuses & {"fail", "error"}:
        return EXIT_NONCOMPLIANT
    return EXIT_COMPLIANT


SHOWN_ACTUALS = 3  # hosts whose actual value the terminal shows per control; the rest is in the report


def summary(results: list[dict], inventory: str = "INVENTORY") -> str:
    """For a fleet: one line per host (counts by status), then the failures and errors grouped
    by control with their hosts, the expected value, a few actual values and the command that
    fixes them; the full detail stays in the report. Host text passes through for_terminal."""
    from lgsec.textsafe import for_terminal as safe

    by_host: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_host[r["host"]].append(r)
    out = []
    for host, rows in by_host.items():
        counts = Counter(r["status"] for r in rows)
        klass = rows[0].get("importance")
        line = f"{safe(host)}" + (f" (重要性{safe(klass)})" if klass else "") + ": "
        line += "  ".join(f"{LABELS[s]} {counts[s]}" for s in STATUSES if counts[s])
        unreachable = [r for r in rows if r["status"] == "unreachable"]
        if unreachable:
            line += f"  [UNREACHABLE] {safe(unreachable[0]['actual'])}"
        out.append(line)
    by_control: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        if r["status"] in ("fail", "error"):
            by_control[(r["status"], r["control"])].append(r)
    for (status, control), rows in sorted(by_control.items(), key=lambda kv: (kv[0][0] != "fail", kv[0][1])):
        first = rows[0]
        hosts = list(dict.fromkeys(r["host"] for r in rows))
        out.append(
            f"[{status.upper()}] {control} {first.get('title_ja', '')} ({' '.join(first.get('articles', []))}): "
            f"{len(hosts)} host(s): {', '.join(safe(h) for h in hosts)}"
        )
        out.append(f"    expected 期待値: {safe(first.get('expected', ''))}")
        for r in rows[:SHOWN_ACTUALS]:
            out.append(f"    {safe(r['host'])}: {safe(r.get('actual', ''))}")
        if len(rows) > SHOWN_ACTUALS:
            out.append(f"    … {len(rows) - SHOWN_ACTUALS} more in the report")
        if fixable(first):
            out.append(f"    fix 是正: {safe(harden_command(inventory, ','.join(hosts), control))}")
    total = Counter(r["status"] for r in results)
    out.append("total: " + (", ".join(f"{s} {total[s]}" for s in STATUSES if total[s]) or "no results"))
    return "\n".join(out)


def show(report: dict, path: Path, output: str = "text") -> None:
    """What `lgsec audit` prints: the summary, the exceptions' warnings and where the report is;
    with output json, the report itself on stdout (for scripts) and the rest on stderr."""
    import sys

    if output == "json":
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        notes = sys.stderr
    else:
        print(summary(report["results"], inventory_of(report)))
        notes = sys.stdout
    from lgsec.textsafe import for_terminal as safe

    for item in report.get("exceptions") or []:
        if item["state"] != "live":
            print(
                f"exception {safe(item['reference'])} ({safe(item['control'])}) is {item['state']}: it waives nothing",
                file=notes,
            )
    for line in expiry_lines(report):
        print(line, file=notes)
    print(f"report: {safe(path)}", file=notes)


def expiry_lines(report: dict) -> list[str]:
    """The terminal's warnings: exceptions ending within 30 days, and those ending by the end of
    the fiscal year (年度末)."""
    from lgsec.textsafe import for_terminal as safe

    notes = expiry_notes(report)
    lines = [
        f"exception {safe(e['reference'])} ({safe(e['control'])}) expires on {e['expires_on']} "
        f"(in {e['days_to_expiry']} days, through 24:00 JST): renew or fix"
        for e in notes["soon"]
    ]
    ending = [safe(e["reference"]) for e in notes["by_fiscal_year_end"]]
    if ending:
        lines.append(
            f"exceptions ending by the fiscal year end ({notes['fiscal_year_end']}, 年度末): {', '.join(ending)}"
        )
    return lines


def history_failed(data: dict) -> int:
    """The reports are written, the history database could not store the audit: exit 4."""
    print(f"lgsec: history not recorded: {for_terminal(data['history_error'])}", file=sys.stderr)
    return EXIT_RUN_FAILED


def check_outdir(outdir: str | os.PathLike) -> Path:
    """The report directory must be (or become) a writable directory: a file, a dangling
    symbolic link or a directory lgsec cannot write is bad input (exit 2), before anything runs."""
    path = Path(outdir)
    if path.is_symlink() and not path.exists():
        raise InputError(str(path), "-o/--outdir", f"is a symbolic link to {os.readlink(path)}, which does not exist")
    if path.exists() and not path.is_dir():
        raise InputError(str(path), "-o/--outdir", "is a file, not a directory")
    existing = next(p for p in [path.absolute(), *path.absolute().parents] if p.exists() or p.is_symlink())
    if not existing.is_dir():
        raise InputError(str(path), "-o/--outdir", f"cannot be created: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "the report directory" if existing == path.absolute() else f"{existing}, where it would be created,"
        raise InputError(str(path), "-o/--outdir", f"{what} is not writable")
    return path.resolve()
