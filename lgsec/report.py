"""Report: write report.json and print the terminal summary; decide the exit code."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from lgsec import __version__
from lgsec.checks import PROBLEMS, STATUSES
from lgsec.errors import EXIT_COMPLIANT, EXIT_NONCOMPLIANT, EXIT_UNREACHABLE

# Status labels, Japanese and English: the one source for the summary and every report format.
STATUS_LABELS = {
    "pass": ("適合", "pass"),
    "fail": ("不適合", "fail"),
    "waived": ("例外承認", "waived"),
    "not_applicable": ("対象外", "n/a"),
    "error": ("判定不能", "error"),
    "manual": ("要手動確認", "manual"),
    "unreachable": ("接続不可", "unreachable"),
}
LABELS = {status: f"{ja} {en}" for status, (ja, en) in STATUS_LABELS.items()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build(results: list[dict], *, started: str, inventory: str, mode: str) -> dict:
    return {
        "run": {
            "started": started,
            "finished": now_iso(),
            "lgsec_version": __version__,
            "inventory": inventory,
            "mode": mode,
        },
        "results": results,
    }


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


def write(report: dict, outdir: str | os.PathLike, history: str | os.PathLike | bool | None = None) -> Path:
    """Write the reports of one run together: OUTDIR/report.json, report.csv, junit.xml and
    report.html, each atomically; returns the path of report.json. The run is compared with the
    previous one in the history database (default OUTDIR/history.sqlite; False: none) and stored
    there once the reports are written; when the database is damaged or locked, report.json says
    so in `history_error` (the caller exits 4) and the reports are written all the same."""
    from lgsec import history as audit_history
    from lgsec import report_formats, report_html

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    database = None if history is False else Path(history) if history else outdir / "history.sqlite"
    if database:
        audit_history.attach(report, database)
    target = outdir / "report.json"
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"  # fails before any file is replaced
    outputs = {
        "report.csv": report_formats.to_csv(report["results"]),
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
            atomic_write(target, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
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


def summary(results: list[dict]) -> str:
    """Per host: counts by status, then each failure with expected vs actual."""
    by_host: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_host[r["host"]].append(r)
    out = []
    for host, rows in by_host.items():
        counts = Counter(r["status"] for r in rows)
        klass = rows[0].get("importance")
        head = f"== {host}" + (f" (重要性{klass})" if klass else "") + " =="
        out.append(head)
        out.append("  " + "  ".join(f"{LABELS[s]}: {counts[s]}" for s in STATUSES if counts[s]))
        for r in rows:
            if r["status"] in ("fail", "error"):
                out.append(f"  [{r['status'].upper()}] {r['control']} {r['title_ja']} ({' '.join(r['articles'])})")
                out.append(f"      expected 期待値: {r['expected']}")
                out.append(f"      actual   実際値: {r['actual']}")
        unreachable = [r for r in rows if r["status"] == "unreachable"]
        if unreachable:
            out.append(f"  [UNREACHABLE] {unreachable[0]['actual']}")
    total = Counter(r["status"] for r in results)
    out.append("total: " + (", ".join(f"{s} {total[s]}" for s in STATUSES if total[s]) or "no results"))
    return "\n".join(out)
