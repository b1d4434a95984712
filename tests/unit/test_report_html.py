"""report.html for the committee: the first page (overall, by chapter, top risks, exceptions
close to expiry, 決裁欄), every row with its evidence, why and how to fix, JST, print and fonts."""

from __future__ import annotations

import re
import shlex
from html import unescape

import pytest
from conftest import FIXTURES, evaluate, load_base, load_fixture

from lgsec import report, report_html
from lgsec.history import compliance


@pytest.fixture
def run(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "LOCKOUT" / "fail.yml")
    rows = evaluate(catalog, facts, {**hostvars, "lgsec_importance": "III"}, host="web01")
    rows += evaluate(catalog, load_base(), {"lgsec_importance": "I"}, host="db 01; rm -rf /")
    data = report.build(rows, started="2026-11-25T09:00:00+00:00", inventory="inventories/site.yml", mode="audit")
    data["exceptions"] = [
        {
            "reference": "R-1",
            "control": "USB-STORAGE",
            "hosts": ["web01"],
            "expires_on": "2026-12-20",
            "days_to_expiry": 25,
            "state": "live",
        },
        {
            "reference": "R-2",
            "control": "AUTORUN",
            "hosts": ["web01"],
            "expires_on": "2027-03-31",
            "days_to_expiry": 126,
            "state": "live",
        },
        {
            "reference": "R-3",
            "control": "TIME-SYNC",
            "hosts": ["web01"],
            "expires_on": "2027-06-30",
            "days_to_expiry": 217,
            "state": "live",
        },
    ]
    return data


def section(page: str, sid: str) -> str:
    return re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S).group(1)


def test_the_first_page_is_the_committees(run):
    page = report_html.render(run)
    assert page.index('id="committee"') < page.index('id="totals"')
    first = section(page, "committee")
    rows = run["results"]
    overall = f"{compliance(r['status'] for r in rows):.0%}"
    assert f'data-overall="{overall}"' in first
    assert "令和8年度 (2026年度)" in first and "2026-11-25 18:00:00 JST" in first
    chapters = re.findall(r'data-chapter="(\d+)" data-compliance="([^"]+)"', first)
    assert [c for c, _ in chapters] == [str(n) for n in range(1, 9)]
    fourth = compliance(r["status"] for r in rows if any(re.match(r"第(3[1-9]|4\d|50)条", a) for a in r["articles"]))
    assert dict(chapters)["4"] == f"{fourth:.0%}"
    # top risks: the 重要性Ⅰ host first, with why it matters and the command that fixes it
    risks = re.findall(r'<tr class="risk".*?</tr>', first, re.S)
    assert risks and all("db 01; rm -rf /" in r for r in risks[:5])
    assert "なぜ必要か" in risks[0] and "是正方法" in risks[0]
    for ja, en in report_html.APPROVAL:
        assert f'<span class="ja">{ja}</span><span class="en">{en}</span>' in first
    assert '<span class="ja">決裁欄</span>' in first
    # exceptions: R-1 within 30 days; by the end of the fiscal year (2027-03-31)
    assert re.findall(r'data-expiring="soon">(\d+)<', first) == ["1"]
    assert re.findall(r'data-expiring="by_fiscal_year_end">(\d+)<', first) == ["2"]
    assert 'data-reference="R-3"' not in first


def test_every_row_is_shown_passes_too_with_filters(run):
    page = report_html.render(run)
    rows = run["results"]
    shown = re.findall(r'<tr class="row" data-status="(\w+)" data-article="([^"]*)" data-host="([^"]*)"', page)
    assert len(shown) == len(rows) and "pass" in {s for s, _, _ in shown}
    assert [unescape(h) for _, _, h in shown] == [r["host"] for r in rows]
    filters = section(page, "rows")
    for name in ("status", "article", "host", "importance"):
        assert f'<select name="{name}">' in filters
    passing = next(r for r in rows if r["status"] == "pass")
    row = re.search(rf'<tr class="row" data-status="pass"[^>]*>.*?{re.escape(passing["control"])}.*?</tr>', page, re.S)
    assert report_html.escape(passing["evidence"][0]) in row.group(0)  # a pass shows what was read


def test_a_failure_says_why_and_how_with_a_runnable_command(run, catalog):
    page = report_html.render(run)
    failures = section(page, "failures")
    lockout = catalog["LOCKOUT"].explanation
    assert report_html.escape(lockout.rationale["ja"]) in failures
    assert report_html.escape(lockout.remediation["en"]) in failures
    commands = [unescape(c) for c in re.findall(r"<code>(lgsec harden [^<]*)</code>", failures)]
    command = next(c for c in commands if "db 01" in c and "--tags PW-LENGTH" in c)
    words = shlex.split(command)
    assert words[:8] == [
        "lgsec",
        "harden",
        "-i",
        "inventories/site.yml",
        "-l",
        "db 01; rm -rf /",
        "--tags",
        "PW-LENGTH",
    ]
    assert words[8:] == ["--operator", "$LGSEC_OPERATOR", "--confirmed-by", "$LGSEC_CONFIRMED_BY"]


def test_labels_times_fonts_and_print(run):
    page = report_html.render(run)
    assert '<span class="ja">期待値</span><span class="en">Expected</span>' in page
    assert '<span class="ja">実際値</span><span class="en">Actual</span>' in page
    assert "+00:00" not in page and '開始</span><span class="en">Started</span>: 2026-11-25 18:00:00 JST' in page
    fonts = re.search(r"body\{font-family:([^;]+);", page).group(1)
    order = [name.strip().strip('"') for name in fonts.replace("\n", "").split(",")]
    assert order.index("Yu Gothic") < order.index("Meiryo") < order.index("IPAGothic")
    assert "@page{size:A4" in page
    printed = re.search(r"@media print\{(.*?)\}\s*\}", page, re.S).group(1)
    assert ".switch,.filters,button" in printed and "#committee{break-after:page}" in printed


def test_exceptions_close_to_expiry_are_marked(run):
    page = report_html.render(run)
    assert page.count('class="exception soon"') == 1
