"""The reports written beside report.json: report.csv (Excel), junit.xml (CI), report.html."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from conftest import FIXTURES, evaluate, load_fixture

from lgsec import report, report_formats, report_html
from lgsec.evaluate import failed_host

HOSTILE = ['=HYPERLINK("http://x")', "<script>alert('x')</script> & </td>", "line\x1bwith an escape"]


@pytest.fixture
def run(catalog) -> dict:
    """Two hosts: web01 from the LOCKOUT fail fixture (one evidence line hostile), ghost unreachable."""
    facts, hostvars, _ = load_fixture(FIXTURES / "LOCKOUT" / "fail.yml")
    rows = evaluate(catalog, facts, {**hostvars, "lgsec_importance": "II"}, only=["LOCKOUT", "PW-TEMP", "PW-LENGTH"])
    assert [r["control"] for r in rows] == ["PW-LENGTH", "PW-TEMP", "LOCKOUT"]
    rows[0]["evidence"] = [*rows[0]["evidence"], *HOSTILE]
    rows[2]["status"] = "waived"  # as an exception would make it
    rows += failed_host(
        catalog, "ghost", {"lgsec_importance": "I"}, "unreachable", "unreachable: refused", only=["PW-LENGTH"]
    )
    return report.build(rows, started="2026-11-25T09:00:00+00:00", inventory="inv.yml", mode="audit")


def test_write_puts_the_four_reports_together(tmp_path, run):
    report.write(run, tmp_path, history=False)
    names = ["junit.xml", "report.csv", "report.html", "report.json", "runs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_csv_opens_in_japanese_excel(run):
    data = report_formats.to_csv(run["results"], run["run"])
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8, not Shift_JIS
    text = data.decode("utf-8-sig")
    # records end in CRLF; a line break inside a quoted cell (evidence lines) stays LF, a break within the cell
    assert text.endswith("\r\n") and text.count("\r\n") == len(run["results"]) + 1
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0][:8] == [
        "実施日時 audited_at",
        "実行ID run id",
        "ホスト host",
        "管理策 control",
        "管理策名 title (ja)",
        "管理策名(英) title (en)",
        "判定 status",
        "期待値 expected",
    ]
    assert len(table) == len(run["results"]) + 1
    first = dict(zip(table[0], table[1], strict=True))
    row = run["results"][0]
    assert first["判定 status"] == report.LABELS[row["status"]]
    assert first["実際値 actual"] == row["actual"]
    assert first["根拠 evidence"].split("\n")[: len(row["evidence"]) - 3] == row["evidence"][:-3]
    assert first["重要性 importance"] == "II" and first["条項 articles"] == "第50条(3)"
    # every row: the run's time in JST (09:00 UTC is 18:00 JST) and its id, to combine runs in Excel
    assert {line[0] for line in table[1:]} == {"2026-11-25 18:00:00 JST"}
    assert {line[1] for line in table[1:]} == {run["run"]["id"]} and run["run"]["id"].startswith("20261125-180000-")
    # why it matters and how to fix it, both languages
    why = first["理由（なぜ必要か） rationale"]
    assert "第50条(3)" in why and "Art. 50(3)" in why
    assert "lgsec harden --tags PW-LENGTH" in first["是正方法 remediation"]
    assert "総務省ガイドライン 5.4" in first["参照 references"]


def test_csv_cells_cannot_become_formulas(run):
    table = list(csv.reader(io.StringIO(report_formats.to_csv(run["results"]).decode("utf-8-sig"), newline="")))
    cells = [c for line in table for c in line]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert report_formats.cell({"actual": "=1+1"}, "actual") == "'=1+1"


def test_junit_one_suite_per_host_one_case_per_control(run):
    root = ET.fromstring(report_formats.to_junit(run))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["web01", "ghost"]
    web = suites["web01"]
    statuses = {r["control"]: r["status"] for r in run["results"] if r["host"] == "web01"}
    assert statuses == {"PW-LENGTH": "fail", "LOCKOUT": "waived", "PW-TEMP": "manual"}
    cases = {c.get("name").split()[0]: c for c in web.iter("testcase")}
    assert cases["PW-LENGTH"].find("failure") is not None
    assert "<script>" in cases["PW-LENGTH"].find("failure").text  # escaped by XML, read back as text
    assert cases["LOCKOUT"].find("skipped").get("message").startswith("waived: ")
    assert cases["PW-TEMP"].find("skipped") is not None
    assert (web.get("tests"), web.get("failures"), web.get("errors"), web.get("skipped")) == ("3", "1", "0", "2")
    ghost = suites["ghost"]
    assert ghost.find("testcase/error").get("type") == "unreachable" and ghost.get("errors") == "1"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "1", "2")


def test_html_escapes_what_hosts_say(run):
    page = report_html.render(run)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;/td&gt;" in page
    assert page.count("<script>") == 1  # the language switch only
    assert 'src="' not in page and "<link" not in page and "http://" not in page.replace("http://x", "")


def test_html_counts_by_article_host_and_class(run):
    page = report_html.render(run)
    by_host = Counter((r["host"], r["status"]) for r in run["results"])
    assert (
        f'<tr data-host="web01"><th>web01</th><td>linux</td><td class="n" data-status="pass">{by_host["web01", "pass"]}'
        in page
    )
    assert (
        '<tr data-importance="I"><th>I</th><td class="n" data-status="pass">0</td><td class="n" data-status="fail">0'
        in page
    )
    assert '<tr data-article="第50条">' in page and '<tr data-article="第69条">' in page
    assert page.count('<tr class="finding"') == 2  # PW-LENGTH fail on web01, PW-LENGTH unreachable on ghost


def test_html_placeholders_until_exceptions_and_history_fill_them(run):
    page = report_html.render(run)
    for section in ("exceptions", "changes", "trend"):
        assert f'<section id="{section}">' in page
    assert "No exceptions file for this run." in page and "No previous audit to compare with." in page


@pytest.mark.parametrize("article", ["第50条(3)", "第69条5", "第81条(3)"])
def test_article_key(article):
    assert report_html.article_key(article) == article[: article.index("条") + 1]


@pytest.mark.parametrize(
    "text",
    ["=1+1", " =1+1", "\t=1+1", "\r\n=HYPERLINK(\"http://x\")", "\u3000=1", "＝1+1", "＋1", "－1", "＠SUM(A1)",
     "  \u3000 @cmd", "\t", "\rx", "-2"],
)  # fmt: skip
def test_a_formula_after_white_space_or_in_full_width_is_text(text):
    assert report_formats.cell({"actual": text}, "actual") == "'" + text


@pytest.mark.parametrize("text", ["8", "a = b", "web01", "第50条(3)", ""])
def test_plain_text_is_kept_as_it_is(text):
    assert report_formats.cell({"actual": text}, "actual") == text
