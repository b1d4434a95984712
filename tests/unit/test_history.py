"""Audit history (第95条3): every write stores the run; the next report shows what changed and
the trend; `lgsec history` shows compliance over time per host and per article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgsec import history, report
from lgsec.catalog import load_catalog
from lgsec.cli import main
from lgsec.errors import InputError


def row(host: str, control: str, status: str, actual: str = "a", articles=("第50条(3)",)) -> dict:
    return {"host": host, "control": control, "status": status, "actual": actual, "articles": list(articles)}


FIRST = [
    row("web01", "PW-LENGTH", "fail", "minlen = 8"),
    row("web01", "LOCKOUT", "pass", "deny = 5", ["第69条5"]),
    row("web01", "USB-STORAGE", "pass", "blocked", ["第64条"]),
    row("db01", "PW-LENGTH", "pass", "minlen = 12"),
    row("db01", "LOCKOUT", "pass", "deny = 5", ["第69条5"]),
]
SECOND = [
    row("web01", "PW-LENGTH", "pass", "minlen = 12"),  # fixed
    row("web01", "LOCKOUT", "fail", "deny = 10", ["第69条5"]),  # new failure
    row("web01", "USB-STORAGE", "pass", "blocked by usbguard", ["第64条"]),  # drift: same status, other value
    row("db01", "PW-LENGTH", "waived", "minlen = 8"),  # drift: status
    row("db01", "LOCKOUT", "pass", "deny = 5", ["第69条5"]),  # unchanged
]


def audit(outdir, rows, started, inventory="inv.yml") -> dict:
    data = report.build([dict(r) for r in rows], started=started, inventory=inventory, mode="audit")
    report.write(data, outdir)
    return json.loads((outdir / "report.json").read_text(encoding="utf-8"))


def test_the_first_audit_has_nothing_to_compare(tmp_path):
    data = audit(tmp_path, FIRST, "2026-11-01T09:00:00+00:00")
    assert data["changes"] is None
    assert data["trend"] == [{"started": "2026-11-01T09:00:00+00:00", "compliance": 0.8}]
    assert "No previous audit to compare with." in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_next_audit_shows_new_failures_fixed_and_drift(tmp_path):
    audit(tmp_path, FIRST, "2026-11-01T09:00:00+00:00")
    data = audit(tmp_path, SECOND, "2026-11-08T09:00:00+00:00")
    changes = data["changes"]
    assert changes["previous"] == "2026-11-01T09:00:00+00:00"
    assert changes["new_failures"] == [{"host": "web01", "control": "LOCKOUT", "was": "pass", "now": "fail"}]
    assert changes["fixed"] == [{"host": "web01", "control": "PW-LENGTH", "was": "fail", "now": "pass"}]
    assert changes["drift"] == [
        {"host": "web01", "control": "USB-STORAGE", "was": "pass: blocked", "now": "pass: blocked by usbguard"},
        {"host": "db01", "control": "PW-LENGTH", "was": "pass", "now": "waived"},
    ]
    assert [p["compliance"] for p in data["trend"]] == [0.8, 0.8]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for key, count in (("new_failures", 1), ("fixed", 1), ("drift", 2)):
        assert f'data-change="{key}">{count}</span>' in page
    assert page.count("<circle ") == 2 and '<svg class="trend"' in page


def test_audits_of_another_inventory_are_not_compared(tmp_path):
    audit(tmp_path, FIRST, "2026-11-01T09:00:00+00:00", inventory="other.yml")
    assert audit(tmp_path, SECOND, "2026-11-08T09:00:00+00:00")["changes"] is None


def test_history_per_host_and_per_article(tmp_path, capsys):
    audit(tmp_path, FIRST, "2026-11-01T09:00:00+00:00")
    audit(tmp_path, SECOND, "2026-11-08T09:00:00+00:00")
    started, hosts = history.over_time(tmp_path / "history.sqlite", "host")
    assert started == ["2026-11-01T09:00:00+00:00", "2026-11-08T09:00:00+00:00"]
    assert hosts == {"db01": [1.0, 1.0], "web01": [2 / 3, 2 / 3]}
    _, articles = history.over_time(tmp_path / "history.sqlite", "article")
    assert articles == {"第50条": [0.5, 1.0], "第64条": [1.0, 1.0], "第69条": [1.0, 0.5]}
    assert main(["history", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["ホスト", "host"] and out[0].count("2026-11-0") == 2
    assert out[2].split() == ["web01", "67%", "67%"]
    assert out[4].split() == ["第50条", "50%", "100%"]


def test_history_without_a_database_is_an_input_error(tmp_path, capsys):
    assert main(["history", "--history", str(tmp_path / "none.sqlite")]) == 2
    assert "no history database" in capsys.readouterr().err


def test_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "history.sqlite"
    bad.write_text("not sqlite\n" * 100, encoding="utf-8")
    with pytest.raises(InputError, match="not a usable history database"):
        history.over_time(bad, "host")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["pass", "fail"], 0.5), (["pass", "waived", "manual", "not_applicable"], 1.0), (["manual"], None)],
)
def test_compliance_counts_judged_rows(statuses, expected):
    assert history.compliance(statuses) == expected


# ---- issue 16: a damaged or locked database never costs the report -------------------------------


def offline_audit(outdir: Path) -> int:
    from lgsec import offline

    configs = Path(__file__).resolve().parents[1] / "fixtures" / "network" / "configs"
    catalog = load_catalog()
    return offline.report_offline(catalog, offline.config_hosts(catalog, configs), source="config",
                                  outdir=outdir, inventory="test")  # fmt: skip


def damage(path: Path) -> None:
    """One bad page: the second page (a table's b-tree) overwritten, as a failing disk leaves it."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page : page + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def test_a_damaged_database_costs_no_report_and_is_named(tmp_path, capsys):
    from lgsec.cli import main

    assert offline_audit(tmp_path) == 1
    damage(tmp_path / "history.sqlite")
    (tmp_path / "report.json").unlink()
    assert offline_audit(tmp_path) == 4  # not 1: the history failure must be seen
    captured = capsys.readouterr()
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(data["results"]) == 48 and "damaged" in data["history_error"]
    assert "[FAIL]" in captured.out and "history not recorded" in captured.err and "damaged" in captured.err
    assert main(["history", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "history.sqlite: --history: the database is damaged" in err and "Traceback" not in err


def test_a_locked_database_costs_no_report(tmp_path, capsys, monkeypatch):
    import sqlite3

    from lgsec import history

    assert offline_audit(tmp_path) == 1
    monkeypatch.setattr(history, "LOCK_WAIT", 0.1)
    holder = sqlite3.connect(tmp_path / "history.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert offline_audit(tmp_path) == 4
    finally:
        holder.close()
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert "locked" in data["history_error"] and len(data["results"]) == 48
    assert "locked" in capsys.readouterr().err
