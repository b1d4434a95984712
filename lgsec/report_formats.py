"""report.csv (for Excel) and junit.xml (for CI systems), from the rows of one run.

Rows come from any platform (linux, windows, network, mail; live, evidence or config): only the
row fields every platform writes are used.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

# (row field, Japanese header, English header): one header row "ホスト host", … for Excel
CSV_COLUMNS = (
    ("host", "ホスト", "host"),
    ("control", "管理策", "control"),
    ("title_ja", "管理策名", "title (ja)"),
    ("title_en", "管理策名(英)", "title (en)"),
    ("status", "判定", "status"),
    ("expected", "期待値", "expected"),
    ("actual", "実際値", "actual"),
    ("evidence", "根拠", "evidence"),
    ("articles", "条項", "articles"),
    ("importance", "重要性", "importance"),
    ("platform", "種別", "platform"),
    ("source", "取得元", "source"),
    ("exception", "例外", "exception"),
    ("rationale", "理由（なぜ必要か）", "rationale"),
    ("remediation", "是正方法", "remediation"),
    ("references", "参照", "references"),
)
# Columns from the run, the same on every row: CSVs of several runs can be put together in Excel
RUN_COLUMNS = (("audited_at", "実施日時", "audited_at"), ("run_id", "実行ID", "run id"))
# A cell starting with one of these is a formula to Excel (CSV injection): evidence is read from
# the hosts, so such cells get a leading apostrophe, which Excel shows as text. Excel looks past
# leading white space (spaces, tabs, CR/LF, U+3000) and reads the full-width signs as the ASCII ones.
FORMULA_START = ("=", "+", "-", "@", "＝", "＋", "－", "＠")
# Characters XML 1.0 cannot carry (control characters read from a host's output)
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SKIPPED = ("manual", "not_applicable", "waived")
ERRORS = ("error", "unreachable")


def cell(row: dict, field: str) -> str:
    from lgsec.statuses import LABELS

    value = row.get(field)
    if field == "status":
        text = LABELS.get(value, str(value))
    elif field == "exception":
        text = (value or {}).get("reference", "") if isinstance(value, dict) else str(value or "")
    elif isinstance(value, dict) and set(value) == {"ja", "en"}:  # explanation texts
        text = f"{value['ja']}\n{value['en']}"
    elif isinstance(value, list):
        text = "\n".join(map(str, value))
    else:
        text = "" if value is None else str(value)
    formula = text[:1] in ("\t", "\r", "\n") or text.lstrip().startswith(FORMULA_START)
    return "'" + text if formula else text


def to_csv(rows: list[dict], run: dict | None = None) -> bytes:
    """UTF-8 with BOM and CRLF line ends: Japanese Excel opens it without an import dialog.
    Every row starts with the run's time (JST) and id."""
    from lgsec.report_data import jst

    run = run or {}
    values = {"audited_at": jst(run.get("started", "")), "run_id": str(run.get("id", ""))}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([f"{ja} {en}" for _, ja, en in (*RUN_COLUMNS, *CSV_COLUMNS)])
    for row in rows:
        first = [cell(values, field) for field, _, _ in RUN_COLUMNS]
        writer.writerow(first + [cell(row, field) for field, _, _ in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def xml_text(value) -> str:
    if isinstance(value, list):
        value = "\n".join(map(str, value))
    return XML_INVALID.sub("?", "" if value is None else str(value))


def reason(row: dict) -> str:
    """One line for a failure or a skip: expected and actual, and the exception when waived."""
    text = f"expected: {row.get('expected', '')}; actual: {row.get('actual', '')}"
    exception = row.get("exception")
    if isinstance(exception, dict) and exception.get("reference"):
        text = f"exception {exception['reference']}: {exception.get('reason', '')}; {text}"
    return text


def to_junit(report: dict) -> bytes:
    """One testsuite per host, one testcase per control: fail → failure, error/unreachable →
    error, manual/not_applicable/waived → skipped with the reason; pass → a plain testcase."""
    by_host: dict[str, list[dict]] = defaultdict(list)
    for row in report["results"]:
        by_host[row["host"]].append(row)
    suites = ET.Element("testsuites", name="lgsec audit", timestamp=xml_text(report["run"].get("started", "")))
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for host, rows in by_host.items():
        counts = {
            "tests": len(rows),
            "failures": sum(r["status"] == "fail" for r in rows),
            "errors": sum(r["status"] in ERRORS for r in rows),
            "skipped": sum(r["status"] in SKIPPED for r in rows),
        }
        suite = ET.SubElement(suites, "testsuite", name=xml_text(host), **{k: str(v) for k, v in counts.items()})
        for row in rows:
            name = f"{row['control']} {row.get('title_en', '')} ({' '.join(row.get('articles', []))})"
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"lgsec.{host}"), name=xml_text(name))
            status = row["status"]
            if status == "pass":
                continue
            tag = "failure" if status == "fail" else "error" if status in ERRORS else "skipped"
            element = ET.SubElement(case, tag, message=xml_text(f"{status}: {reason(row)}"), type=status)
            if tag != "skipped":
                element.text = xml_text(row.get("evidence"))
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
