"""Self-inspection report (第119–120条): the latest audit and the attested manual items, by chapter
of the policy, with the open findings and the improvement actions, for the CISO and the
committee. `lgsec report self-inspection --attestations FILE` writes OUTDIR/self-inspection.md.

Attestations file (YAML): each item answers a manual control of the catalog (`control:`) or an
article no machine can check (`article: 第42条`: training, contracts, audits, physical measures):

    attestations:
      - article: 第42条
        topic: 情報セキュリティ研修の実施
        status: done            # done | partial | not_done
        attested_by: 総務課長 山田
        attested_on: 2026-11-01
        evidence: 研修受講記録（2026年度、受講率 98%）
        action: 未受講者 3名に 12月中に受講させる   # required unless done
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from lgsec import safeyaml
from lgsec.catalog import ROOT, SAFE_LOADER, Catalog
from lgsec.checks import PROBLEMS
from lgsec.errors import InputError

CHAPTERS_FILE = ROOT / "catalog" / "chapters.yml"
STATES = {"done": ("実施済み", "done"), "partial": ("一部実施", "partial"), "not_done": ("未実施", "not done")}
ARTICLE = re.compile(r"第(\d+)条")
TEXT = ("control", "article", "topic", "status", "attested_by", "evidence", "action")  # text, never a list


@dataclass(frozen=True)
class Section:
    chapter: int
    chapter_title: str
    title: str
    first: int
    last: int


def parse_toc(text: str) -> list[dict]:
    """The policy's table of contents (目次) → chapters with their sections' article ranges."""
    chapters: list[dict] = []
    for raw in text.split("附則")[0].splitlines():
        line = raw.strip()
        chapter = re.match(r"第(\d+)章\s*(.+?)(?:\(第(\d+)条—第?(\d+)条\))?$", line)
        section = re.match(r"第(\d+)節\s*(.+?)\(第(\d+)条(?:—第?(\d+)条)?\)$", line)
        if chapter:
            if any(c["chapter"] == int(chapter[1]) for c in chapters):
                break  # the body repeats the headings after the table of contents
            chapters.append({"chapter": int(chapter[1]), "title_ja": chapter[2].strip(), "sections": []})
            if chapter[3]:
                chapters[-1]["sections"].append([int(chapter[3]), int(chapter[4]), chapter[2].strip()])
        elif section and chapters:
            chapters[-1]["sections"].append([int(section[3]), int(section[4] or section[3]), section[2].strip()])
    return chapters


def load_sections(path: Path = CHAPTERS_FILE) -> list[Section]:
    chapters = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)["chapters"]
    return [Section(c["chapter"], c["title_ja"], t, a, b) for c in chapters for a, b, t in c["sections"]]


def section_of(sections: list[Section], article: str) -> Section | None:
    match = ARTICLE.search(article)
    number = int(match.group(1)) if match else -1
    return next((s for s in sections if s.first <= number <= s.last), None)


def load_attestations(path: str | Path, catalog: Catalog, sections: list[Section]) -> list[dict]:
    """Validated items; InputError names the file, the item and the field."""
    path = Path(path)
    data = safeyaml.load(path, "attestations file")
    if not isinstance(data, dict) or not isinstance(data.get("attestations"), list):
        raise InputError(str(path), "attestations", "the file must be a mapping with a list `attestations`")
    items = []
    for index, item in enumerate(data["attestations"], start=1):
        where = f"{path}: attestation {index}"
        if not isinstance(item, dict):
            raise InputError(where, "-", "must be a mapping")
        if bool(item.get("control")) == bool(item.get("article")):
            raise InputError(where, "control", "give either a manual control id (control) or an article (article)")
        for field in TEXT:
            if item.get(field) is not None and not isinstance(item[field], str):
                raise InputError(where, field, f"must be text, not {type(item[field]).__name__} {item[field]!r}")
        if item.get("control"):
            control = catalog.controls.get(item["control"])
            if control is None or control.automation != "manual":
                manual = ", ".join(c.id for c in catalog if c.automation == "manual")
                raise InputError(where, "control", f"{item['control']!r} is not a manual control (manual: {manual})")
            articles = list(control.articles)
        else:
            if section_of(sections, str(item["article"])) is None:
                raise InputError(where, "article", f"{item['article']!r} is not an article of the policy")
            articles = [str(item["article"])]
        for field in ("status", "attested_by", "attested_on", "evidence"):
            if item.get(field) in (None, ""):
                raise InputError(where, field, "missing")
        if item["status"] not in STATES:
            raise InputError(where, "status", f"must be one of {', '.join(STATES)}")
        if item["status"] != "done" and not item.get("action"):
            raise InputError(where, "action", "an improvement action is required unless the item is done")
        attested = safeyaml.strict_date(where, "attested_on", item["attested_on"])
        items.append({**item, "articles": articles, "attested_on": str(attested)})
    return items


# every character str.splitlines() breaks a line at (the HTML page is built from the lines)
LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
# Markdown's active characters: escaped, host text can open no link, image, raw HTML, code or emphasis
MD_ACTIVE = re.compile(r"([\\`*_{}\[\]<#!|~&])")  # `<`: no raw HTML or autolink; `[`: no link or image
MD_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # a plain inventory host name, safe in a command


def cell(value) -> str:
    """Text from the audit or the attestations, for the Markdown document: one line (no line
    break of any kind: none can start a heading), control characters shown as escapes, and
    every Markdown-active character backslash-escaped (no link, image, raw HTML)."""
    from lgsec.textsafe import for_terminal

    text = for_terminal(LINE_BREAKS.sub(" ", str(value if value is not None else "")))
    return MD_ACTIVE.sub(r"\\\1", text)


def plain(markdown: str) -> str:
    """Markdown text with its backslash escapes undone (for the HTML page, which escapes for HTML)."""
    return MD_ESCAPED.sub(r"\1", markdown)


def harden_command(control: str, host: str, catalog: Catalog) -> str:
    """The command that fixes a finding, only for a control of the catalog and a plain host
    name (a name like `PC$(touch x)` from a forged report becomes no command)."""
    import shlex

    if control in catalog.controls and HOST_NAME.match(host):
        return f"lgsec harden --tags {shlex.quote(control)} -l {shlex.quote(host)}, or an approved exception (第99条)"
    return "an approved exception (第99条), or lgsec harden on this host (its name is no plain inventory host name)"


def why(catalog: Catalog, control: str) -> str:
    """The catalog's rationale of a control, Japanese then English."""
    found = catalog.controls.get(control)
    exp = found.explanation if found else None
    return f"{exp.rationale['ja']} / {exp.rationale['en']}" if exp else ""


def build(report: dict, catalog: Catalog, items: list[dict], sections: list[Section]) -> str:
    """The self-inspection document (Markdown), chapter by chapter; each open finding says why
    its control matters (the catalog's rationale)."""
    from lgsec.report_data import jst

    rows = report["results"]
    run = report.get("run", {})
    out = [
        "# 自己点検報告書 Self-inspection report (第119条・第120条)",
        "",
        f"- 監査 Audit: {cell(jst(run.get('started', '')))} – {cell(jst(run.get('finished', '')))} "
        f"({cell(run.get('inventory', ''))})",
        f"- ホスト数 Hosts: {len({r['host'] for r in rows})} · 判定 Results: {len(rows)}",
        f"- 自己点検項目 Attested items: {len(items)}",
        "",
    ]
    findings, actions = [], []
    attested_controls = {i["control"] for i in items if i.get("control")}
    for chapter in dict.fromkeys((s.chapter, s.chapter_title) for s in sections):
        in_chapter = [s for s in sections if s.chapter == chapter[0]]
        out += [f"## 第{chapter[0]}章 {chapter[1]}", ""]
        chapter_rows = [r for r in rows if any(section_of(in_chapter, a) for a in r.get("articles", []))]
        if chapter_rows:
            counts = Counter(r["status"] for r in chapter_rows)
            out.append("自動点検 Automated checks: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
            out.append("")
        open_rows = [r for r in chapter_rows if r["status"] in PROBLEMS]
        for r in open_rows:
            findings.append((chapter[0], r))
        chapter_items = [i for i in items if any(section_of(in_chapter, a) for a in i["articles"])]
        manual = [c for c in catalog if c.automation == "manual" and any(section_of(in_chapter, a) for a in c.articles)]
        if chapter_items or manual:
            out += [
                "| 条項 Article | 項目 Item | 状況 Status | 確認者 Attested by | 確認日 On | 根拠 Evidence |",
                "|---|---|---|---|---|---|",
            ]
            for i in chapter_items:
                ja, en = STATES[i["status"]]
                topic = i.get("control") or i.get("topic", "")
                out.append(
                    f"| {cell(' '.join(i['articles']))} | {cell(topic)} | {ja} {en} | {cell(i['attested_by'])} | "
                    f"{i['attested_on']} | {cell(i['evidence'])} |"
                )
                if i["status"] != "done":
                    actions.append((chapter[0], f"{' '.join(i['articles'])} {topic}", i["action"]))
            for c in manual:
                if c.id not in attested_controls:
                    out.append(
                        f"| {cell(' '.join(c.articles))} | {c.id} {cell(c.title_ja)} | 未回答 not attested | | | |"
                    )
                    actions.append((chapter[0], f"{c.id} {c.title_ja}", f"attest: {c.manual_note or 'not attested'}"))
            out.append("")
        if open_rows:
            out.append(f"未解決の指摘 Open findings: {len(open_rows)}")
            out.append("")
        if not (chapter_rows or chapter_items or manual):
            out += ["未点検 Not inspected: no automated check and no attestation for this chapter.", ""]
    out += ["## 未解決の指摘 Open findings", ""]
    if findings:
        out += [
            "| 章 | ホスト Host | 管理策 Control | 条項 Articles | 判定 Status | 期待値 Expected | 実際値 Actual "
            "| 理由 Why it matters |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for chapter, r in findings:
            out.append(
                f"| 第{chapter}章 | {cell(r['host'])} | {cell(r['control'])} | "
                f"{cell(' '.join(map(str, r.get('articles', []))))} | {cell(r['status'])} | "
                f"{cell(r.get('expected'))} | {cell(r.get('actual'))} | {cell(why(catalog, r['control']))} |"
            )
            actions.append(
                (
                    chapter,
                    f"{r['control']} on {r['host']}",
                    harden_command(str(r["control"]), str(r["host"]), catalog),
                )
            )
    else:
        out.append("なし None.")
    out += ["", "## 改善措置 Improvement actions", ""]
    if actions:
        out += ["| 章 | 対象 Item | 措置 Action |", "|---|---|---|"]
        seen: set[tuple[str, str]] = set()
        for c, item, action in sorted(actions, key=lambda a: a[0]):
            if (item, action) not in seen:  # an item of two chapters is acted on once
                seen.add((item, action))
                out.append(f"| 第{c}章 | {cell(item)} | {cell(action)} |")
    else:
        out.append("なし None.")
    return "\n".join(out) + "\n"


def to_html(markdown: str) -> str:
    """The same document as one self-contained HTML page (headings, lists, tables, paragraphs of
    the Markdown that build() writes), every value escaped."""
    from html import escape

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", re.sub(r"\\\\", "\x00", line.strip()))[1:-1]  # a pipe not escaped
        return [escape(plain(p.replace("\x00", "\\\\").strip())) for p in parts]

    body, table = [], []
    for line in [*markdown.split("\n"), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            head, rows = cells(table[0]), [cells(t) for t in table[2:]]
            body.append(
                "<table><tr>"
                + "".join(f"<th>{c}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
                + "</table>"
            )
            table = []
        if line.startswith("## "):
            body.append(f"<h2>{escape(plain(line[3:]))}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{escape(plain(line[2:]))}</h1>")
        elif line.startswith("- "):
            body.append(f"<ul><li>{escape(plain(line[2:]))}</li></ul>")
        elif line.strip():
            body.append(f"<p>{escape(plain(line))}</p>")
    style = "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
    style += "th,td{border:1px solid #bbb;padding:.2em .5em}"
    title = "自己点検報告書 Self-inspection report"
    return (
        f'<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )
