"""Audit history (第95条3): every audit's rows in an embedded SQLite database, the change since
the previous audit of the same inventory (new failures, fixed, drift), the compliance trend,
and `lgsec history` (compliance over time per host and per article).

Default database: OUTDIR/history.sqlite (reports/history.sqlite for `lgsec audit`); `--history
PATH` (lgsec_history_db for ansible-playbook) chooses another.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from lgsec.checks import PROBLEMS
from lgsec.errors import InputError

COMPLIANT = ("pass", "waived")
TREND_RUNS = 30
LOCK_WAIT = 10.0  # seconds an audit waits for another process's lock on the database
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, inventory TEXT NOT NULL,
  mode TEXT, lgsec_version TEXT);
CREATE TABLE IF NOT EXISTS results (
  run_id INTEGER NOT NULL REFERENCES runs(id), host TEXT NOT NULL, control TEXT NOT NULL,
  status TEXT NOT NULL, articles TEXT NOT NULL, importance TEXT, platform TEXT, expected TEXT, actual TEXT,
  evidence TEXT);
CREATE INDEX IF NOT EXISTS results_run ON results(run_id);
"""
# Columns added since the first schema: a database written by an older lgsec gets them (NULL in
# its old rows). runs.run_key: the report's run id (its folder in OUTDIR/runs); results.evidence:
# the row's evidence as a JSON list, so that the history keeps what each audit saw.
ADDED = (("runs", "run_key", "TEXT"), ("results", "evidence", "TEXT"))


class HistoryError(Exception):
    """The history database could not be read or written (damaged, locked, unwritable); the
    reports are written all the same and the failure is reported (exit 4)."""


def connect(path: str | Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, timeout=LOCK_WAIT)
        db.executescript(SCHEMA)
        for table, column, kind in ADDED:
            if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    except sqlite3.Error as exc:
        raise InputError(str(path), "-", f"not a usable history database: {problem(exc)}") from exc
    return db


def _cause(exc: BaseException) -> BaseException:
    """The database's own error behind connect's InputError."""
    return exc.__cause__ if isinstance(exc, InputError) and exc.__cause__ else exc


def problem(exc: BaseException) -> str:
    """What is wrong with the database, in the words an operator acts on."""
    text = str(exc)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"the database is damaged ({text}): restore it from a backup or move it aside"
    if "locked" in text or "busy" in text:
        return f"the database is locked by another process ({text}): retry when it has finished"
    return text


def compliance(statuses: Iterable[str]) -> float | None:
    """Share of judged rows that comply (pass, waived) among those that were judged (not n/a,
    not manual); None when nothing was judged."""
    counted = [s for s in statuses if s in COMPLIANT or s in PROBLEMS]
    return sum(s in COMPLIANT for s in counted) / len(counted) if counted else None


def _runs(db: sqlite3.Connection, inventory: str | None, limit: int) -> list[tuple]:
    where, args = ("WHERE inventory = ?", [inventory]) if inventory is not None else ("", [])
    query = f"SELECT id, started FROM runs {where} ORDER BY started DESC, id DESC LIMIT ?"
    return list(reversed(db.execute(query, [*args, limit]).fetchall()))


def _rows(db: sqlite3.Connection, run_id: int) -> list[dict]:
    query = "SELECT host, control, status, articles, importance, actual FROM results WHERE run_id = ?"
    return [
        {"host": h, "control": c, "status": s, "articles": json.loads(a), "importance": i, "actual": act}
        for h, c, s, a, i, act in db.execute(query, [run_id])
    ]


def evidence_of(path: str | Path, run_key: str) -> list[dict]:
    """The rows of one stored run (by its run id) with their expected, actual and evidence."""
    with closing(connect(path)) as db:
        found = db.execute("SELECT id FROM runs WHERE run_key = ?", [run_key]).fetchone()
        if not found:
            raise InputError(str(path), "run", f"no run {run_key} in the history")
        query = "SELECT host, control, status, expected, actual, evidence FROM results WHERE run_id = ?"
        return [
            {"host": h, "control": c, "status": s, "expected": e, "actual": a, "evidence": json.loads(ev or "[]")}
            for h, c, s, e, a, ev in db.execute(query, [found[0]])
        ]


def changes(previous: list[dict], rows: list[dict]) -> dict:
    """new_failures: now fail/error/unreachable, before not (or not judged); fixed: the reverse;
    drift: any other change of status, or the same status with another actual value."""
    before = {(r["host"], r["control"]): r for r in previous}
    out: dict[str, list[dict]] = {"new_failures": [], "fixed": [], "drift": []}
    for row in rows:
        old = before.get((row["host"], row["control"]))
        was = old["status"] if old else None
        item = {"host": row["host"], "control": row["control"], "was": was, "now": row["status"]}
        if row["status"] in PROBLEMS and was not in PROBLEMS:
            out["new_failures"].append(item)
        elif was in PROBLEMS and row["status"] not in PROBLEMS:
            out["fixed"].append(item)
        elif old and was != row["status"]:
            out["drift"].append(item)
        elif old and str(old.get("actual")) != str(row.get("actual")):
            out["drift"].append(
                {**item, "was": f"{was}: {old.get('actual')}", "now": f"{row['status']}: {row.get('actual')}"}
            )
    return out


def attach(report: dict, path: str | Path) -> dict:
    """Fill the report's `changes` (against the previous audit of the same inventory in the
    database) and `trend` (the stored audits and this one); the database is not changed."""
    rows = report["results"]
    run = report["run"]
    current = {"started": run["started"], "compliance": compliance(r["status"] for r in rows)}
    if not Path(path).exists():
        report["changes"], report["trend"] = None, [current]
        return report
    try:
        with closing(connect(path)) as db:
            runs = _runs(db, run.get("inventory", ""), TREND_RUNS - 1)
            trend = [{"started": s, "compliance": compliance(r["status"] for r in _rows(db, i))} for i, s in runs]
            previous = changes(_rows(db, runs[-1][0]), rows) if runs else None
    except (sqlite3.Error, InputError, ValueError) as exc:  # damaged or locked: the report is written without
        report["changes"], report["trend"] = None, [current]
        report["history_error"] = (
            f"{path}: {problem(exc.__cause__ or exc) if isinstance(exc, InputError) else problem(exc)}"
        )
        return report
    report["changes"] = {"previous": runs[-1][1], **previous} if runs else None
    report["trend"] = [p for p in [*trend, current] if p["compliance"] is not None]
    return report


def record(report: dict, path: str | Path) -> int:
    """Store one audit (its run and every row); returns the run's id. HistoryError when the
    database cannot take it (damaged, locked, unwritable)."""
    try:
        return _record(report, path)
    except (sqlite3.Error, InputError, OSError) as exc:
        raise HistoryError(f"{path}: {problem(_cause(exc))}") from exc


def _record(report: dict, path: str | Path) -> int:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    run = report["run"]
    with closing(connect(path)) as db, db:
        cursor = db.execute(
            "INSERT INTO runs (started, finished, inventory, mode, lgsec_version, run_key) VALUES (?, ?, ?, ?, ?, ?)",
            [
                run["started"],
                run.get("finished"),
                run.get("inventory", ""),
                run.get("mode"),
                run.get("lgsec_version"),
                run.get("id"),
            ],
        )
        run_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO results (run_id, host, control, status, articles, importance, platform, expected, actual,"
            " evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    r["host"],
                    r["control"],
                    r["status"],
                    json.dumps(r.get("articles", []), ensure_ascii=False),
                    r.get("importance"),
                    r.get("platform"),
                    str(r.get("expected", "")),
                    str(r.get("actual", "")),
                    json.dumps(r.get("evidence") or [], ensure_ascii=False, default=str),
                )
                for r in report["results"]
            ],
        )
    return run_id


def over_time(path: str | Path, by: str, inventory: str | None = None, limit: int = 10) -> tuple[list[str], dict]:
    """(run start times, {host or article: [compliance of each run or None]}) for `lgsec history`."""
    from lgsec.catalog import article_key

    if not Path(path).exists():
        raise InputError(str(path), "--history", "no history database (run an audit first)")
    try:
        with closing(connect(path)) as db:
            runs = _runs(db, inventory, limit)
            table: dict[str, list] = defaultdict(lambda: [None] * len(runs))
            for column, (run_id, _) in enumerate(runs):
                groups: dict[str, list[str]] = defaultdict(list)
                for row in _rows(db, run_id):
                    keys = [row["host"]] if by == "host" else {article_key(a) for a in row["articles"]}
                    for key in keys:
                        groups[key].append(row["status"])
                for key, statuses in groups.items():
                    table[key][column] = compliance(statuses)
    except (sqlite3.Error, ValueError, TypeError) as exc:  # a bad page, a locked file, a row not lgsec wrote
        raise InputError(str(path), "--history", problem(exc)) from exc
    return [s for _, s in runs], dict(sorted(table.items()))


def format_table(started: list[str], table: dict, by: str) -> str:
    """The table `lgsec history` prints; host names and times from the database are host data,
    made printable (lgsec.textsafe.for_terminal): none can start a line of its own."""
    from lgsec.textsafe import for_terminal

    head = f"{'ホスト host' if by == 'host' else '条項 article':<24}"
    head += "".join(f"{for_terminal(s[:16]):>18}" for s in started)
    lines = [head]
    for key, values in table.items():
        cells = "".join(f"{'-' if v is None else f'{v:.0%}':>18}" for v in values)
        lines.append(f"{for_terminal(key):<24}{cells}")
    return "\n".join(lines)
