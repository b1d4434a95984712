"""report.html: one self-contained file (inline CSS, a few lines of inline JS, inline SVG; no
external asset or library) for the CISO and the committee. Japanese by default; English with
the switch at the top, `#en` or `?lang=en`.

Sections: totals; by article (第N条); by host; by importance class (第10条); each failure with
expected, actual and evidence; exceptions (第101条 review, filled when the run had an exceptions
file); change since the previous audit and the trend (filled from the history database).
Every value read from a host is escaped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from html import escape

from lgsec.catalog import CLASSES
from lgsec.checks import PROBLEMS, STATUSES

ARTICLE = re.compile(r"第(\d+)条")
CSS = """
body{font-family:"IPAGothic","Noto Sans CJK JP",sans-serif;margin:1.5em;color:#222}
html[data-lang=ja] .en,html[data-lang=en] .ja{display:none}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.2em .5em;vertical-align:top}
th{background:#eee}td.n{text-align:right}.pass{color:#176b2c}.fail,.error,.unreachable{color:#b00020;font-weight:bold}
.waived{color:#8a5a00}.totals>span{display:inline-block;margin-right:1em;padding:.3em .6em;border:1px solid #bbb}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:90%}
table.failures{width:100%}table.failures td:last-child{width:35%}.switch a{margin-left:.5em}.muted{color:#666}
"""
# Honour #en / #ja and ?lang=en; the links at the top set the hash.
JS = """
function lgsecLang(){var h=location.hash.slice(1),q=new URLSearchParams(location.search).get('lang');
var l=(h==='en'||h==='ja')?h:(q==='en'?'en':'ja');document.documentElement.setAttribute('data-lang',l);
document.documentElement.lang=l;document.title=document.documentElement.getAttribute('data-title-'+l);}
lgsecLang();window.addEventListener('hashchange',lgsecLang);
"""
TITLE = ("情報セキュリティ対策要綱 監査報告", "Information security audit report")


def t(ja: str, en: str) -> str:
    """Both languages; the stylesheet shows one."""
    return f'<span class="ja">{escape(ja)}</span><span class="en">{escape(en)}</span>'


def label(status: str) -> str:
    from lgsec.report import STATUS_LABELS

    ja, en = STATUS_LABELS[status]
    return f'<span class="{status}">{t(ja, en)}</span>'


def article_key(article: str) -> str:
    """第50条(3) → 第50条: the summary counts by article."""
    match = ARTICLE.search(article)
    return match.group(0) if match else article


def counts_table(first: tuple[str, str], groups: dict[str, list[dict]], key: str, extra=None) -> str:
    """One line per group: its rows counted by status."""
    head = f"<th>{t(*first)}</th>" + (f"<th>{t(*extra[0])}</th>" if extra else "")
    head += "".join(f"<th>{label(s)}</th>" for s in STATUSES)
    body = []
    for name, rows in groups.items():
        counts = Counter(r["status"] for r in rows)
        cells = "".join(f'<td class="n" data-status="{s}">{counts[s]}</td>' for s in STATUSES)
        more = f"<td>{escape(extra[1](rows))}</td>" if extra else ""
        body.append(f'<tr data-{key}="{escape(name)}"><th>{escape(name)}</th>{more}{cells}</tr>')
    return f'<table class="by-{key}"><tr>{head}</tr>{"".join(body)}</table>'


def by_article(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        for article in dict.fromkeys(article_key(a) for a in row.get("articles", [])):
            groups[article].append(row)
    return dict(
        sorted(groups.items(), key=lambda kv: int(ARTICLE.search(kv[0]).group(1)) if ARTICLE.search(kv[0]) else 0)
    )


def grouped(rows: list[dict], field: str, missing: str = "-") -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[str(row.get(field) or missing)].append(row)
    return dict(groups)


def class_order(item: tuple[str, list]) -> int:
    return CLASSES.index(item[0]) if item[0] in CLASSES else len(CLASSES)


def evidence(row: dict) -> str:
    items = row.get("evidence") or []
    return "<pre>" + escape("\n".join(map(str, items if isinstance(items, list) else [items]))) + "</pre>"


def failures(rows: list[dict]) -> str:
    problems = [r for r in rows if r["status"] in PROBLEMS]
    if not problems:
        return f'<p class="none">{t("不適合・判定不能はありません。", "No failures or errors.")}</p>'
    head = "".join(
        f"<th>{t(*h)}</th>"
        for h in (
            ("ホスト", "Host"),
            ("管理策", "Control"),
            ("条項", "Articles"),
            ("判定", "Status"),
            ("期待値", "Expected"),
            ("実際値", "Actual"),
            ("根拠", "Evidence"),
        )
    )
    body = "".join(
        f'<tr class="finding" data-status="{r["status"]}"><td>{escape(r["host"])}</td>'
        f"<td>{escape(r['control'])} {t(r.get('title_ja', ''), r.get('title_en', ''))}</td>"
        f"<td>{escape(' '.join(r.get('articles', [])))}</td><td>{label(r['status'])}</td>"
        f"<td>{escape(str(r.get('expected', '')))}</td><td>{escape(str(r.get('actual', '')))}</td>"
        f"<td>{evidence(r)}</td></tr>"
        for r in problems
    )
    return f'<table class="failures"><tr>{head}</tr>{body}</table>'


def exceptions_section(report: dict) -> str:
    items = report.get("exceptions")
    if items is None:
        return f'<p class="muted">{t("例外ファイルなし。", "No exceptions file for this run.")}</p>'
    if not items:
        return f'<p class="muted">{t("例外はありません。", "No exceptions.")}</p>'
    cols = (
        ("reference", "承認番号", "Reference"),
        ("control", "管理策", "Control"),
        ("hosts", "対象ホスト", "Hosts covered"),
        ("reason", "理由", "Reason"),
        ("requested_by", "申請者", "Requested by"),
        ("approved_by", "承認者", "Approved by"),
        ("approved_on", "承認日", "Approved on"),
        ("expires_on", "有効期限", "Expires on"),
        ("days_to_expiry", "残日数", "Days to expiry"),
        ("state", "状態", "State"),
    )
    head = "".join(f"<th>{t(ja, en)}</th>" for _, ja, en in cols)
    body = []
    for item in items:
        cells = []
        for key, _, _ in cols:
            value = item.get(key, "")
            cells.append(f"<td>{escape(', '.join(value) if isinstance(value, list) else str(value))}</td>")
        body.append(f'<tr class="exception" data-state="{escape(str(item.get("state", "")))}">{"".join(cells)}</tr>')
    return f'<table class="exceptions"><tr>{head}</tr>{"".join(body)}</table>'


def changes_section(report: dict) -> str:
    changes = report.get("changes")
    if not changes:
        return f'<p class="muted">{t("前回の監査記録がありません。", "No previous audit to compare with.")}</p>'
    parts = [
        f"<p>{t('前回の監査', 'Previous audit')}: {escape(str(changes.get('previous', '')))}</p>",
    ]
    kinds = (
        ("new_failures", "新たな不適合", "New failures"),
        ("fixed", "是正済み", "Fixed"),
        ("drift", "変化（判定または実際値）", "Drift (status or actual value changed)"),
    )
    for key, ja, en in kinds:
        items = changes.get(key, [])
        lines = "".join(
            f"<li>{escape(c['host'])} {escape(c['control'])}: {escape(str(c.get('was') or '-'))} → "
            f"{escape(str(c.get('now') or '-'))}</li>"
            for c in items
        )
        parts.append(f'<h3>{t(ja, en)} <span class="n" data-change="{key}">{len(items)}</span></h3><ul>{lines}</ul>')
    return "".join(parts)


def trend_svg(report: dict) -> str:
    """Compliance (pass / judged rows) of each stored audit, as an inline SVG line chart."""
    points = report.get("trend") or []
    if len(points) < 2:
        return (
            f'<p class="muted">{t("推移は2回目の監査から表示します。", "The trend shows from the second audit.")}</p>'
        )
    width, height, pad = 640, 200, 30
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [(pad + i * step, height - pad - (height - 2 * pad) * p["compliance"]) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(p["started"])}: {p["compliance"]:.0%}</title></circle>'
        for (x, y), p in zip(coords, points, strict=True)
    )
    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="2" y="{pad + 4}" font-size="10">100%</text><text x="8" y="{height - pad}" font-size="10">0%</text>'
        f'<text x="{pad}" y="{height - 8}" font-size="10">{escape(points[0]["started"][:10])}</text>'
        f'<text x="{width - pad - 60}" y="{height - 8}" font-size="10">{escape(points[-1]["started"][:10])}</text>'
    )
    return (
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
        f'{axis}<polyline fill="none" stroke="#176b2c" stroke-width="2" points="{line}"/>{dots}</svg>'
    )


def render(report: dict) -> str:
    rows = report["results"]
    run = report.get("run", {})
    total = Counter(r["status"] for r in rows)
    totals = "".join(f'<span data-status="{s}">{label(s)}: <b>{total[s]}</b></span>' for s in STATUSES)
    hosts = grouped(rows, "host")
    classes = dict(sorted(grouped(rows, "importance").items(), key=class_order))
    platform_of = ("種別", "Platform"), lambda rs: ", ".join(sorted({str(r.get("platform", "")) for r in rs}))
    sections = [
        ("totals", ("集計", "Totals"), f'<p class="totals"><b>{t("結果", "Results")}: {len(rows)}</b> {totals}</p>'),
        ("by-article", ("条項別", "By article"), counts_table(("条項", "Article"), by_article(rows), "article")),
        ("by-host", ("ホスト別", "By host"), counts_table(("ホスト", "Host"), hosts, "host", platform_of)),
        (
            "by-importance",
            ("重要性別（第10条）", "By importance class (Art. 10)"),
            counts_table(("重要性", "Class"), classes, "importance"),
        ),
        ("failures", ("不適合・判定不能の詳細", "Failures and errors"), failures(rows)),
        ("exceptions", ("例外（第99〜101条）", "Exceptions (Art. 99-101)"), exceptions_section(report)),
        (
            "changes",
            ("前回からの変化（第95条3）", "Change since the previous audit (Art. 95-3)"),
            changes_section(report),
        ),
        ("trend", ("適合率の推移", "Compliance trend"), trend_svg(report)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{t(*title)}</h2>{content}</section>' for sid, title, content in sections)
    meta = (
        f"<p>{t('開始', 'Started')}: {escape(str(run.get('started', '')))} · {t('終了', 'Finished')}: "
        f"{escape(str(run.get('finished', '')))} · {t('インベントリ', 'Inventory')}: "
        f"{escape(str(run.get('inventory', '')))}"
        f" · lgsec {escape(str(run.get('lgsec_version', '')))} · {t('ホスト数', 'Hosts')}: {len(hosts)}</p>"
    )
    switch = (
        '<p class="switch">言語 / Language: <a href="#ja" lang="ja">日本語</a><a href="#en" lang="en">English</a></p>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="ja" data-lang="ja" data-title-ja="{escape(TITLE[0])}" '
        f'data-title-en="{escape(TITLE[1])}"><head><meta charset="utf-8">'
        f"<title>{escape(TITLE[0])}</title><style>{CSS}</style></head><body>"
        f"<h1>{t(*TITLE)}</h1>{switch}{meta}{body}<script>{JS}</script></body></html>\n"
    )
