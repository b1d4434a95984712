"""Self-inspection report (第119–120条): the latest audit and the attested manual items by chapter
of the policy, with the open findings and the improvement actions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from lgsec import report, selfinspect
from lgsec.cli import main
from lgsec.errors import InputError

POLICY = ROOT.parent / "shared" / "policy" / "security-measures-guideline.ja.txt"
DONE = {
    "control": "PW-TEMP",
    "status": "done",
    "attested_by": "情報政策課 佐藤",
    "attested_on": "2026-11-01",
    "evidence": "playbooks/provision_user.yml の実行記録",
}
TRAINING = {
    "article": "第42条",
    "topic": "情報セキュリティ研修の実施",
    "status": "partial",
    "attested_by": "総務課長 山田",
    "attested_on": "2026-11-02",
    "evidence": "研修受講記録 | 受講率 98%",
    "action": "未受講者 3名に 12月中に受講させる",
}


def test_chapters_are_the_policy_table_of_contents():
    if not POLICY.exists():
        pytest.skip(f"the policy text is not here ({POLICY})")
    data = yaml.safe_load(selfinspect.CHAPTERS_FILE.read_text(encoding="utf-8"))["chapters"]
    assert data == selfinspect.parse_toc(POLICY.read_text(encoding="utf-8"))
    sections = selfinspect.load_sections()
    assert [s.chapter for s in sections if s.first <= 119 <= s.last] == [8]
    assert (sections[0].first, sections[-1].last) == (1, 122)


def attestations(tmp_path: Path, *items: dict) -> Path:
    path = tmp_path / "attestations.yml"
    path.write_text(yaml.safe_dump({"attestations": list(items)}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({**DONE, "control": "PW-LENGTH"}, "control", "'PW-LENGTH' is not a manual control (manual: PW-TEMP"),
        ({**TRAINING, "article": "第130条"}, "article", "'第130条' is not an article of the policy"),
        ({**DONE, "article": "第42条"}, "control", "give either"),
        ({**DONE, "attested_by": ""}, "attested_by", "missing"),
        ({**DONE, "evidence": None}, "evidence", "missing"),
        ({**TRAINING, "action": None}, "action", "an improvement action is required"),
        ({**DONE, "status": "ok"}, "status", "must be one of done, partial, not_done"),
        ({**DONE, "attested_on": "2026-02-30"}, "attested_on", "must be a date"),
    ],
)
def test_bad_attestations_name_file_item_and_field(tmp_path, catalog, item, field, message):
    path = attestations(tmp_path, TRAINING, item)
    with pytest.raises(InputError) as caught:
        selfinspect.load_attestations(path, catalog, selfinspect.load_sections())
    assert (caught.value.where, caught.value.field) == (f"{path}: attestation 2", field)
    assert message in caught.value.message


@pytest.fixture
def audit(tmp_path) -> Path:
    rows = [
        {
            "host": "web01",
            "control": "PW-LENGTH",
            "articles": ["第50条(3)"],
            "status": "fail",
            "expected": ">= 12",
            "actual": "8",
        },
        {
            "host": "web01",
            "control": "LOCKOUT",
            "articles": ["第69条5"],
            "status": "pass",
            "expected": "",
            "actual": "",
        },
        {
            "host": "web01",
            "control": "AV-CURRENT",
            "articles": ["第81条(2)"],
            "status": "error",
            "expected": "x",
            "actual": "y|z",
        },
    ]
    report.write(report.build(rows, started="2026-11-20T09:00:00+00:00", inventory="inv.yml", mode="audit"), tmp_path)
    return tmp_path / "report.json"


def test_the_document_by_chapter_with_findings_and_actions(tmp_path, capsys, audit):
    path = attestations(tmp_path, TRAINING)  # PW-TEMP left unanswered
    out = tmp_path / "out"
    assert main(["report", "self-inspection", "--attestations", str(path), "--report", str(audit), "-o", str(out)]) == 0
    text = (out / "self-inspection.md").read_text(encoding="utf-8")
    chapters = [line for line in text.splitlines() if line.startswith("## 第")]
    assert chapters[0] == "## 第1章 総則及び組織・体制" and len(chapters) == 8
    chapter4 = text.split("## 第4章")[1].split("## 第5章")[0]
    assert (
        "| 第42条 | 情報セキュリティ研修の実施 | 一部実施 partial | 総務課長 山田 | 2026-11-02 | "
        "研修受講記録 \\| 受講率 98% |" in chapter4
    )
    assert "| 第50条(7) 第70条2 | PW-TEMP 仮パスワードの初回ログイン時変更 | 未回答 not attested |" in chapter4
    assert "自動点検 Automated checks: fail 1" in chapter4
    findings = text.split("## 未解決の指摘 Open findings")[1].split("## 改善措置")[0]
    assert "| 第4章 | web01 | PW-LENGTH | 第50条(3) | fail | >= 12 | 8 |" in findings
    assert "| 第5章 | web01 | AV-CURRENT | 第81条(2) | error | x | y\\|z |" in findings
    assert "LOCKOUT" not in findings
    actions = text.split("## 改善措置 Improvement actions")[1]
    assert "| 第4章 | 第42条 情報セキュリティ研修の実施 | 未受講者 3名に 12月中に受講させる |" in actions
    assert actions.count("PW-TEMP 仮パスワードの初回ログイン時変更 | attest:") == 1  # in chapters 4 and 5, one action
    assert "## 第1章 総則及び組織・体制\n\n未点検 Not inspected" in text
    assert "lgsec harden --tags PW-LENGTH -l web01" in actions
    page = (out / "self-inspection.html").read_text(encoding="utf-8")
    assert page.count("<h2>") == text.count("\n## ") and "<script" not in page
    row = "<td>第42条</td><td>情報セキュリティ研修の実施</td><td>一部実施 partial</td><td>総務課長 山田</td>"
    assert row in page and "<td>研修受講記録 | 受講率 98%</td>" in page and "<td>y|z</td>" in page


def test_an_attested_manual_control_is_not_an_action(tmp_path, audit):
    path = attestations(tmp_path, DONE)
    assert (
        main(["report", "self-inspection", "--attestations", str(path), "--report", str(audit), "-o", str(tmp_path)])
        == 0
    )
    text = (tmp_path / "self-inspection.md").read_text(encoding="utf-8")
    assert "| PW-TEMP | 実施済み done | 情報政策課 佐藤 | 2026-11-01 |" in text
    assert "attest:" not in text


def test_a_missing_audit_report_is_an_input_error(tmp_path, capsys):
    path = attestations(tmp_path, DONE)
    assert (
        main(["report", "self-inspection", "--attestations", str(path), "--report", str(tmp_path / "none.json")]) == 2
    )
    assert "cannot read the audit report" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"run": {}}), encoding="utf-8")
    assert main(["report", "self-inspection", "--attestations", str(path), "--report", str(bad)]) == 2


def test_the_example_attestations_are_valid(catalog):
    items = selfinspect.load_attestations(
        ROOT / "inventories" / "example" / "attestations.yml", catalog, selfinspect.load_sections()
    )
    assert [i["status"] for i in items] == ["done", "partial", "done", "not_done"]


# ---- issue 16: host-derived text is never markup, and never a command ----------------------------

HOSTILE = (
    "ok\r## 第1章 forged heading\r\n<img src=http://evil.example/x.png> [click](javascript:alert(1)) *b* `c` \x1b[2J"
)


def test_host_text_forges_no_heading_link_image_or_command(tmp_path):
    rows = [
        {"host": "PC$(touch /tmp/pwned)", "control": "PW-LENGTH", "articles": ["第50条(3)"], "status": "fail",
         "expected": "<script>alert(1)</script>", "actual": HOSTILE},
        {"host": "web01", "control": "PW-LENGTH", "articles": ["第50条(3)"], "status": "fail",
         "expected": ">= 12", "actual": "8"},
    ]  # fmt: skip
    audit = tmp_path / "report.json"
    audit.write_text(json.dumps({"run": {"started": "x\n# forged", "inventory": "i"}, "results": rows}), "utf-8")
    path = attestations(tmp_path, {**TRAINING, "evidence": "記録\r\n## forged <b>x</b>"})
    out = tmp_path / "out"
    assert main(["report", "self-inspection", "--attestations", str(path), "--report", str(audit), "-o", str(out)]) == 0
    text = (out / "self-inspection.md").read_text(encoding="utf-8")
    headings = [line for line in text.split("\n") if line.startswith("#")]
    assert len(headings) == 1 + 8 + 2 and not [h for h in headings if "forged" in h]  # title, chapters, 2 sections
    assert "\r" not in text and "\x1b" not in text
    for raw in ("<img", "<script", "<b>", "[click]"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), text), raw  # each escaped: Markdown renders no markup
    assert "\\<img src=http://evil.example/x.png" in text  # shown as text
    assert "lgsec harden --tags PW-LENGTH -l web01" in text
    assert not [line for line in text.split("\n") if "lgsec harden --tags" in line and "touch" in line]
    page = (out / "self-inspection.html").read_text(encoding="utf-8")
    assert page.count("<h2>") == 10 and "forged heading</h2>" not in page
    for raw in ("<img", "<script", "<b>", 'href="javascript'):
        assert raw not in page, raw
    assert "&lt;img src=http://evil.example/x.png&gt; [click](javascript:alert(1)) *b* `c`" in page  # as written


@pytest.mark.parametrize("results", [[{"host": "a"}], ["x"], [{"host": "a", "control": "B", "status": ["fail"]}]])
def test_a_report_that_is_not_lgsecs_is_exit_2(tmp_path, capsys, results):
    audit = tmp_path / "report.json"
    audit.write_text(json.dumps({"run": {}, "results": results}), encoding="utf-8")
    path = attestations(tmp_path, TRAINING)
    args = ["report", "self-inspection", "--attestations", str(path), "--report", str(audit), "-o", str(tmp_path)]
    assert main(args) == 2
    assert f"{audit}: results[1]" in capsys.readouterr().err
