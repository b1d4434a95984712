"""Report: write report.json and print the terminal summary; decide the exit code."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from lgsec import __version__
from lgsec.checks import STATUSES
from lgsec.errors import EXIT_COMPLIANT, EXIT_NONCOMPLIANT, EXIT_UNREACHABLE

LABELS = {
    "pass": "適合 pass",
    "fail": "不適合 fail",
    "waived": "例外承認 waived",
    "not_applicable": "対象外 n/a",
    "error": "判定不能 error",
    "manual": "要手動確認 manual",
    "unreachable": "接続不可 unreachable",
}


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


def write(report: dict, outdir: str | os.PathLike) -> Path:
    """Write OUTDIR/report.json atomically (a half-written report never replaces a good one)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / "report.json"
    fd, tmp = tempfile.mkstemp(prefix=".report.", dir=outdir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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
