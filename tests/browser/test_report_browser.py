"""report.html in a real browser (Debian's chromium, headless): it opens, shows the counts of
the run, and the language switch works. `make browser` installs chromium (make report-deps);
the screenshots stay in reports/browser/ as the test's artefact."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from lgsec import report
from lgsec.catalog import load_catalog
from lgsec.checks import STATUSES
from lgsec.evaluate import evaluate_host, failed_host

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "reports" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make report-deps installs it)")


def chromium(*args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict]:
    """A run of three hosts from the recorded Debian 12 and 13 facts (one with hostile evidence)
    and one unreachable host, written by report.write like an audit."""
    catalog = load_catalog()
    rows = []
    for host, base, klass in (("web01", "base-debian12.json", "II"), ("db01", "base-debian13.json", "I")):
        facts = json.loads((ROOT / "tests" / "fixtures" / "linux" / base).read_text(encoding="utf-8"))
        rows += evaluate_host(catalog, host, facts, {"lgsec_importance": klass}, source="fixture")
    rows += failed_host(catalog, "ghost", {"lgsec_importance": "III"}, "unreachable", "unreachable: refused")
    problem = next(r for r in rows if r["status"] == "fail")
    problem["evidence"] = [*problem["evidence"], "<img src=x onerror=alert(1)> & <b>"]
    outdir = tmp_path_factory.mktemp("report")
    earlier = [{**r, "status": "pass"} if r is problem else dict(r) for r in rows]  # the previous audit
    report.write(report.build(earlier, started="2026-11-18T09:00:00+00:00", inventory="fixtures", mode="audit"), outdir)
    data = report.build(rows, started="2026-11-25T09:00:00+00:00", inventory="fixtures", mode="audit")
    report.write(data, outdir)
    return outdir / "report.html", data


def dom(path: Path, suffix: str = "") -> str:
    return chromium("--dump-dom", path.as_uri() + suffix)


def shown_counts(text: str, attr: str, name: str) -> dict[str, int]:
    line = re.search(rf'<tr data-{attr}="{re.escape(name)}">(.*?)</tr>', text).group(1)
    return {s: int(n) for s, n in re.findall(r'data-status="(\w+)">(\d+)<', line)}


def test_the_page_shows_the_counts_of_the_run(page):
    path, data = page
    text = dom(path)
    rows = data["results"]
    for host in ("web01", "db01", "ghost"):
        expected = Counter(r["status"] for r in rows if r["host"] == host)
        assert shown_counts(text, "host", host) == {s: expected[s] for s in STATUSES}, host
    for klass in ("I", "II", "III"):
        expected = Counter(r["status"] for r in rows if r["importance"] == klass)
        assert shown_counts(text, "importance", klass) == {s: expected[s] for s in STATUSES}, klass
    fifty = Counter(r["status"] for r in rows if any(a.startswith("第50条") for a in r["articles"]))
    assert shown_counts(text, "article", "第50条") == {s: fifty[s] for s in STATUSES}
    problems = sum(r["status"] in ("fail", "error", "unreachable") for r in rows)
    assert text.count('<tr class="finding"') == problems > 0
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;" in text
    assert 'data-change="new_failures">1</span>' in text and text.count("<circle ") == 2  # history: change, trend


@pytest.mark.parametrize(
    ("suffix", "lang", "title"),
    [
        ("", "ja", "情報セキュリティ対策要綱 監査報告"),
        ("#en", "en", "Information security audit report"),
        ("?lang=en", "en", "Information security audit report"),
        ("#ja", "ja", "情報セキュリティ対策要綱 監査報告"),
    ],
)
def test_language_switch(page, suffix, lang, title):
    text = dom(page[0], suffix)
    assert re.search(rf'<html lang="{lang}" data-lang="{lang}"', text)
    assert f"<title>{title}</title>" in text


def test_screenshots_differ_by_language(page):
    """The switch changes what is shown, not only an attribute: the two renderings differ."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shots = {}
    for lang in ("ja", "en"):
        target = ARTEFACTS / f"report-{lang}.png"
        target.unlink(missing_ok=True)
        chromium("--window-size=1280,4000", f"--screenshot={target}", page[0].as_uri() + f"#{lang}")
        assert target.stat().st_size > 10_000
        shots[lang] = target.read_bytes()
    assert shots["ja"] != shots["en"]
    shutil.copy(page[0], ARTEFACTS / "report.html")


def visible_rows(text: str) -> list[str]:
    """The status of each row of the every-row table the browser shows (not hidden by a filter)."""
    rows = re.findall(r'<tr class="row" data-status="(\w+)"[^>]*?( hidden="")?>', text)
    return [status for status, hidden in rows if not hidden]


def test_every_row_is_there_and_a_pass_row_is_shown(page):
    path, data = page
    text = dom(path)
    assert len(visible_rows(text)) == len(data["results"])
    assert "pass" in visible_rows(text)
    passing = next(r for r in data["results"] if r["status"] == "pass")
    assert re.search(rf'<tr class="row" data-status="pass" [^>]*data-host="{passing["host"]}"', text)


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("?status=pass", lambda r: r["status"] == "pass"),
        ("?host=db01", lambda r: r["host"] == "db01"),
        ("?importance=I&status=fail", lambda r: r["importance"] == "I" and r["status"] == "fail"),
        ("?article=第50条", lambda r: any(a.startswith("第50条") for a in r["articles"])),
    ],
)
def test_filters_show_only_the_chosen_rows(page, query, keep):
    path, data = page
    text = dom(path, query)
    wanted = [r["status"] for r in data["results"] if keep(r)]
    assert visible_rows(text) == wanted and wanted
    assert f'<b id="shown">{len(wanted)}</b>' in text


def test_print_view_pages(page):
    """The printed report: A4 pages, the committee page first and alone, no language switch or
    filters. Screenshots of the print view (?view=print) stay in reports/browser/."""
    path, _ = page
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTEFACTS / "report-print.pdf"
    pdf.unlink(missing_ok=True)
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page[^s]", data)
    boxes = {tuple(round(float(v)) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)}
    assert len(pages) > 2
    assert boxes == {(0, 0, 595, 842)}  # A4 in points
    text = dom(path, "?view=print")
    assert 'class="print-view"' in text
    for lang in ("ja", "en"):
        target = ARTEFACTS / f"report-print-{lang}.png"
        target.unlink(missing_ok=True)
        chromium("--window-size=794,1123", f"--screenshot={target}", path.as_uri() + f"?view=print#{lang}")
        assert target.stat().st_size > 10_000
