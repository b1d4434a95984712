"""report.json, the terminal summary and the exit code."""

from __future__ import annotations

import json
import shlex

import pytest
from conftest import FIXTURES, evaluate, load_fixture

from lgsec import __version__, history, report
from lgsec.errors import EXIT_COMPLIANT, EXIT_NONCOMPLIANT, EXIT_UNREACHABLE
from lgsec.evaluate import failed_host


def rows_with(*statuses: str) -> list[dict]:
    return [{"host": f"h{i}", "status": s} for i, s in enumerate(statuses)]


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ((), EXIT_COMPLIANT),
        (("pass", "waived", "not_applicable", "manual"), EXIT_COMPLIANT),
        (("pass", "fail"), EXIT_NONCOMPLIANT),
        (("pass", "error"), EXIT_NONCOMPLIANT),
        (("unreachable",), EXIT_UNREACHABLE),
        (("fail", "error", "unreachable", "pass"), EXIT_UNREACHABLE),
    ],
)
def test_exit_code_precedence(statuses, code):
    assert report.exit_code(rows_with(*statuses)) == code


def test_exit_codes_are_the_documented_numbers():
    assert (EXIT_COMPLIANT, EXIT_NONCOMPLIANT, EXIT_UNREACHABLE) == (0, 1, 3)


@pytest.fixture
def lockout_rows(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "LOCKOUT" / "fail.yml")
    rows = evaluate(catalog, facts, {**hostvars, "lgsec_importance": "II"}, only=["LOCKOUT", "PW-TEMP"])
    return report.explain(rows, catalog)  # as report.build gives them to the summary


def test_summary_shows_expected_and_actual_of_failures(lockout_rows):
    failed = next(r for r in lockout_rows if r["control"] == "LOCKOUT")
    assert failed["status"] == "fail"
    text = report.summary(lockout_rows, "inventories/site.yml")
    lines = text.splitlines()
    assert lines[0] == "web01 (重要性II): 不適合 fail 1  要手動確認 manual 1"
    assert lines[1] == f"[FAIL] LOCKOUT {failed['title_ja']} (第69条5): 1 host(s): web01"
    assert lines[2] == f"    expected 期待値: {failed['expected']}"
    assert lines[3] == f"    web01: {failed['actual']}"
    assert lines[4] == (
        "    fix 是正: lgsec harden -i inventories/site.yml -l web01 --tags LOCKOUT"
        ' --operator "$LGSEC_OPERATOR" --confirmed-by "$LGSEC_CONFIRMED_BY"'
    )
    assert "PW-TEMP" not in text  # only failures and errors are listed
    assert lines[-1] == "total: fail 1, manual 1"


def test_summary_of_a_fleet_one_line_per_host_failures_grouped_by_control(catalog, lockout_rows):
    rows = []
    for n in range(5):
        host = "pc$(reboot)" if n == 4 else f"pc{n:02d}"
        rows += [{**r, "host": host, "actual": f"{r['actual']} on {host}"} for r in lockout_rows]
    text = report.summary(rows, "inv dir/hosts.yml")
    lines = text.splitlines()
    assert lines[:5] == [
        f"{h} (重要性II): 不適合 fail 1  要手動確認 manual 1" for h in ("pc00", "pc01", "pc02", "pc03", "pc$(reboot)")
    ]
    assert lines[5].endswith(": 5 host(s): pc00, pc01, pc02, pc03, pc$(reboot)") and lines[5].startswith(
        "[FAIL] LOCKOUT"
    )
    assert [line.split(":")[0].strip() for line in lines[7:10]] == ["pc00", "pc01", "pc02"]
    assert lines[10] == "    … 2 more in the report"
    fix = lines[11].removeprefix("    fix 是正: ")
    words = shlex.split(fix)  # as a POSIX shell reads it: the host list is one quoted word
    assert words[:8] == [
        "lgsec",
        "harden",
        "-i",
        "inv dir/hosts.yml",
        "-l",
        "pc00,pc01,pc02,pc03,pc$(reboot)",
        "--tags",
        "LOCKOUT",
    ]
    assert "'pc00,pc01,pc02,pc03,pc$(reboot)'" in fix
    assert text.count("[FAIL] LOCKOUT") == 1


def test_summary_escapes_what_hosts_report(lockout_rows):
    rows = [{**r, "host": "web01\x1b[2J\nweb02", "actual": "x\r\ntotal: pass 46"} for r in lockout_rows]
    text = report.summary(rows)
    assert "\x1b" not in text and "\r" not in text
    assert not any(line.startswith("total: pass") for line in text.splitlines())


def test_summary_shows_why_a_host_was_unreachable(catalog):
    reason = "unreachable: Failed to connect to the host via ssh: Connection refused"
    text = report.summary(failed_host(catalog, "ghost", {}, "unreachable", reason, only=["PW-LENGTH", "LOCKOUT"]))
    assert f"[UNREACHABLE] {reason}" in text
    assert text.splitlines()[-1] == "total: unreachable 2"


def test_build_records_the_run(lockout_rows):
    data = report.build(lockout_rows, started="2026-11-25T09:00:00+00:00", inventory="inv.yml", mode="audit")
    run = data["run"]
    assert run["started"] == "2026-11-25T09:00:00+00:00"
    assert run["finished"] >= run["started"]
    assert (run["lgsec_version"], run["inventory"], run["mode"]) == (__version__, "inv.yml", "audit")
    assert data["results"] == lockout_rows


def test_write_keeps_japanese_readable(tmp_path, lockout_rows):
    data = report.build(lockout_rows, started="s", inventory="i", mode="audit")
    target = report.write(data, tmp_path / "out")
    assert target == tmp_path / "out" / "report.json"
    assert json.loads(target.read_text(encoding="utf-8")) == data
    assert "ログイン試行回数" in target.read_text(encoding="utf-8")


class Unserialisable:
    """JSON cannot encode this: json.dump fails after part of the report is written."""


def test_write_is_atomic(tmp_path, lockout_rows):
    good = report.build(lockout_rows, started="s", inventory="i", mode="audit")
    target = report.write(good, tmp_path)
    before = target.read_bytes()
    broken = report.build(
        [*lockout_rows, {"host": "web02", "control": "PW-LENGTH", "status": "fail", "actual": Unserialisable()}],
        started="s",
        inventory="i",
        mode="audit",
    )
    with pytest.raises(TypeError):
        report.write(broken, tmp_path)
    assert target.read_bytes() == before
    names = ["history.sqlite", "junit.xml", "report.csv", "report.html", "report.json", "runs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary left
    assert history.over_time(tmp_path / "history.sqlite", "host")[0] == ["s"]  # the broken run is not stored


def test_write_interrupted_before_the_first_report(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        report.write(report.build([], started="s", inventory="i", mode="audit"), tmp_path)
    assert list(tmp_path.iterdir()) == []
