"""report.html: one self-contained file (inline CSS, a few lines of inline JS, inline SVG; no
external asset or library) for the CISO and the committee. Japanese by default; English with
the switch at the top, `#en` or `?lang=en`.

First page, for the committee: compliance overall and by chapter of the policy (a bar chart),
the top risks (failures on 重要性Ⅰ–Ⅱ hosts first), the exceptions close to expiry (30 days) and
those ending with the fiscal year (年度), and the approval boxes (決裁欄: 作成・確認・承認).
Then: totals; by article (第N条); by host; by importance class (第10条); each failure with
why it matters (rationale) and how it is fixed (remediation); every row, passes too, with
filters by status, article, host and class; exceptions (第101条 review); change since the
previous audit and the trend (from the history database). Times in JST (Asia/Tokyo).
A print stylesheet gives A4 pages (the first page alone, no buttons or filters).
Every value read from a host is escaped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from html import escape

from lgsec.catalog import ARTICLE, CLASSES, article_key
from lgsec.history import compliance
from lgsec.report_data import (
    EXPIRY_WARNING_DAYS,
    expiry_notes,
    fiscal_label,
    fixable,
    harden_command,
    inventory_of,
    jst,
    run_day,
)
from lgsec.selfinspect import load_sections, section_of
from lgsec.statuses import PROBLEMS, STATUS_LABELS, STATUSES

CSS = """
body{font-family:"Yu Gothic UI","Yu Gothic","YuGothic","Meiryo","Hiragino Sans","IPAGothic","Noto Sans CJK JP",
sans-serif;margin:1.5em;color:#222}
html[data-lang=ja] .en,html[data-lang=en] .ja{display:none}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.2em .5em;vertical-align:top}
th{background:#eee}td.n{text-align:right}.pass{color:#176b2c}.fail,.error,.unreachable{color:#b00020;font-weight:bold}
.waived{color:#8a5a00}.totals>span{display:inline-block;margin-right:1em;padding:.3em .6em;border:1px solid #bbb}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:90%}
table.failures{width:100%}table.failures td:last-child{width:35%}.switch a{margin-left:.5em}.muted{color:#666}
.overall{font-size:200%;font-weight:bold}.risk td{font-size:95%}.soon{background:#fff3cd}
table.approval td{width:8em;height:5em}table.approval th{width:8em}.why{font-size:90%;margin:.2em 0}
.filters label{margin-right:1em}table.rows{width:100%}tr.row[hidden]{display:none}
html.print-view body{width:186mm;margin:0 auto}
@page{size:A4;margin:14mm 12mm}
@media print{body{margin:0;font-size:9pt}.switch,.filters,button,script{display:none!important}
#committee{break-after:page}section{break-inside:auto}h2{break-after:avoid}
tr,.why{break-inside:avoid}thead{display:table-header-group}a{color:inherit;text-decoration:none}
svg{max-width:100%}}
"""
# Honour #en / #ja and ?lang=en; the links at the top set the hash.
JS = """
function lgsecLang(){var h=location.hash.slice(1),q=new URLSearchParams(location.search).get('lang');
var l=(h==='en'||h==='ja')?h:(q==='en'?'en':'ja');document.documentElement.setAttribute('data-lang',l);
document.documentElement.lang=l;document.title=document.documentElement.getAttribute('data-title-'+l);}
lgsecLang();window.addEventListener('hashchange',lgsecLang);
function lgsecFilter(){var f={};document.querySelectorAll('.filters select').forEach(function(s){f[s.name]=s.value;});
var n=0;document.querySelectorAll('tr.row').forEach(function(r){var ok=Object.keys(f).every(function(k){
return !f[k]||(' '+r.getAttribute('data-'+k)+' ').indexOf(' '+f[k]+' ')>=0;});r.hidden=!ok;if(ok)n++;});
document.getElementById('shown').textContent=n;}
document.querySelectorAll('.filters select').forEach(function(s){s.addEventListener('change',lgsecFilter);});
// ?view=print: the print stylesheet on screen (to look at, or screenshot, the printed pages)
if(new URLSearchParams(location.search).get('view')==='print'){Array.prototype.forEach.call(document.styleSheets,
function(sh){Array.prototype.slice.call(sh.cssRules).forEach(function(r){if(r.media&&r.media.mediaText==='print'){
Array.prototype.forEach.call(r.cssRules,function(x){sh.insertRule(x.cssText,sh.cssRules.length);});}});});
document.documentElement.classList.add('print-view');}
(function(){var q=new URLSearchParams(location.search);document.querySelectorAll('.filters select').forEach(
function(s){if(q.get(s.name))s.value=q.get(s.name);});lgsecFilter();})();
"""
TITLE = ("情報セキュリティ対策要綱 監査報告", "Information security audit report")


def header(*columns: tuple[str, str]) -> str:
    """A table's header cells, each column named in both languages."""
    return "".join(f"<th>{t(ja, en)}</th>" for ja, en in columns)


def t(ja: str, en: str) -> str:
    """Both languages; the stylesheet shows one."""
    return f'<span class="ja">{escape(ja)}</span><span class="en">{escape(en)}</span>'


def label(status: str) -> str:

    ja, en = STATUS_LABELS[status]
    return f'<span class="{status}">{t(ja, en)}</span>'


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


def failures(rows: list[dict], inventory: str = "INVENTORY") -> str:
    problems = [r for r in rows if r["status"] in PROBLEMS]
    if not problems:
        return f'<p class="none">{t("不適合・判定不能はありません。", "No failures or errors.")}</p>'
    head = header(
        ("ホスト", "Host"),
        ("管理策", "Control"),
        ("条項", "Articles"),
        ("判定", "Status"),
        ("期待値", "Expected"),
        ("実際値", "Actual"),
        ("根拠", "Evidence"),
    )
    body = "".join(
        f'<tr class="finding" data-status="{r["status"]}"><td>{escape(r["host"])}</td>'
        f"<td>{escape(r['control'])} {t(r.get('title_ja', ''), r.get('title_en', ''))}{why_and_fix(r, inventory)}</td>"
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
        soon = item.get("state") == "live" and int(item.get("days_to_expiry", 10**6)) <= EXPIRY_WARNING_DAYS
        body.append(
            f'<tr class="exception{" soon" if soon else ""}" data-state="{escape(str(item.get("state", "")))}">'
            f"{''.join(cells)}</tr>"
        )
    return f'<table class="exceptions"><tr>{head}</tr>{"".join(body)}</table>'


def changes_section(report: dict) -> str:

    changes = report.get("changes")
    if not changes:
        return f'<p class="muted">{t("前回の監査記録がありません。", "No previous audit to compare with.")}</p>'
    parts = [
        f"<p>{t('前回の監査', 'Previous audit')}: {escape(jst(changes.get('previous', '')))}</p>",
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
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(jst(p["started"]))}: {p["compliance"]:.0%}'
        "</title></circle>"
        for (x, y), p in zip(coords, points, strict=True)
    )
    axis = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="2" y="{pad + 4}" font-size="10">100%</text><text x="8" y="{height - pad}" font-size="10">0%</text>'
        f'<text x="{pad}" y="{height - 8}" font-size="10">{escape(jst(points[0]["started"])[:10])}</text>'
        f'<text x="{width - pad - 60}" y="{height - 8}" font-size="10">{escape(jst(points[-1]["started"])[:10])}</text>'
    )
    return (
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
        f'{axis}<polyline fill="none" stroke="#176b2c" stroke-width="2" points="{line}"/>{dots}</svg>'
    )


def why_and_fix(row: dict, inventory: str) -> str:
    """Why the control matters (rationale) and how it is fixed (remediation, and the command
    for this host when lgsec harden can fix it), both languages."""

    parts = []
    for key, ja, en in (("rationale", "なぜ必要か", "Why it matters"), ("remediation", "是正方法", "How to fix")):
        text = row.get(key)
        if isinstance(text, dict):
            parts.append(
                f'<p class="why {key}"><b>{t(ja, en)}:</b> <span class="ja">{escape(text.get("ja", ""))}</span>'
                f'<span class="en">{escape(text.get("en", ""))}</span></p>'
            )
    if fixable(row):
        command = harden_command(inventory, row["host"], row["control"])
        parts.append(f'<p class="why command"><b>{t("実行例", "Command")}:</b> <code>{escape(command)}</code></p>')
    refs = row.get("references")
    if refs:
        parts.append(f'<p class="why muted">{t("参照", "References")}: {escape("; ".join(map(str, refs)))}</p>')
    return "".join(parts)


def class_rank(row: dict) -> int:
    klass = row.get("importance")
    return CLASSES.index(klass) if klass in CLASSES else len(CLASSES)


def top_risks(rows: list[dict], inventory: str, limit: int = 5) -> str:
    """The failures to act on first: hosts of 重要性Ⅰ–Ⅱ first, fail before error before unreachable."""
    order = {"fail": 0, "error": 1, "unreachable": 2}
    problems = sorted((r for r in rows if r["status"] in PROBLEMS), key=lambda r: (class_rank(r), order[r["status"]]))
    if not problems:
        return f'<p class="none">{t("重大なリスクはありません。", "No open risks.")}</p>'
    items = "".join(
        f'<tr class="risk" data-status="{r["status"]}"><td>{escape(str(r.get("importance") or "-"))}</td>'
        f"<td>{escape(r['host'])}</td><td>{escape(r['control'])} {t(r.get('title_ja', ''), r.get('title_en', ''))}"
        f"</td><td>{label(r['status'])}</td><td>{why_and_fix(r, inventory)}</td></tr>"
        for r in problems[:limit]
    )
    head = header(
        ("重要性", "Class"),
        ("ホスト", "Host"),
        ("管理策", "Control"),
        ("判定", "Status"),
        ("理由と是正", "Why and fix"),
    )
    more = len(problems) - limit
    tail = (
        f'<p class="muted">{t(f"ほか {more} 件は下の一覧に", f"{more} more in the tables below")}</p>'
        if more > 0
        else ""
    )
    return f'<table class="top-risks"><thead><tr>{head}</tr></thead>{items}</table>{tail}'


def chapter_chart(rows: list[dict]) -> str:
    """Compliance (pass and waived among judged rows) by chapter of the policy, as SVG bars."""

    sections = load_sections()
    chapters = dict.fromkeys((s.chapter, s.chapter_title) for s in sections)
    bars = []
    for number, title in chapters:
        in_chapter = [s for s in sections if s.chapter == number]
        share = compliance(r["status"] for r in rows if any(section_of(in_chapter, a) for a in r.get("articles", [])))
        bars.append((number, title, share))
    width, bar, gap, label_w = 640, 18, 6, 260
    height = len(bars) * (bar + gap) + gap
    out = []
    for i, (number, title, share) in enumerate(bars):
        y = gap + i * (bar + gap)
        text = "-" if share is None else f"{share:.0%}"
        fill = "#176b2c" if share is not None and share >= 0.9 else "#b00020" if share is not None else "#ccc"
        size = 0 if share is None else (width - label_w - 50) * share
        out.append(
            f'<g class="chapter" data-chapter="{number}" data-compliance="{text}">'
            f'<text x="0" y="{y + bar - 5}" font-size="12">第{number}章 {escape(title)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width - label_w - 50}" height="{bar}" fill="#eee"/>'
            f'<rect x="{label_w}" y="{y}" width="{size:.1f}" height="{bar}" fill="{fill}"/>'
            f'<text x="{width - 44}" y="{y + bar - 5}" font-size="12">{text}</text></g>'
        )
    return f'<svg class="by-chapter" width="{width}" height="{height}" role="img">{"".join(out)}</svg>'


def days_left(item: dict) -> str:
    days = item.get("days_to_expiry")
    return t(f"残り{days}日", f"{days} days left")


def expiring(report: dict) -> str:

    if report.get("exceptions") is None:
        return f'<p class="muted">{t("例外ファイルなし。", "No exceptions file for this run.")}</p>'
    notes = expiry_notes(report)
    parts = []
    for key, ja, en in (
        ("soon", f"{EXPIRY_WARNING_DAYS}日以内に期限切れ", f"Expiring within {EXPIRY_WARNING_DAYS} days"),
        (
            "by_fiscal_year_end",
            f"年度末（{notes['fiscal_year_end']}）までに期限切れ",
            f"Expiring by the fiscal year end ({notes['fiscal_year_end']})",
        ),
    ):
        items = notes[key]
        lines = (
            "".join(
                f'<li class="expiring" data-reference="{escape(str(e["reference"]))}">{escape(str(e["reference"]))} '
                f"{escape(str(e['control']))} ({escape(', '.join(e.get('hosts', [])))}): "
                f"{escape(str(e['expires_on']))}, {days_left(e)}</li>"
                for e in items
            )
            or f"<li>{t('なし', 'none')}</li>"
        )
        parts.append(f'<h3>{t(ja, en)} <span class="n" data-expiring="{key}">{len(items)}</span></h3><ul>{lines}</ul>')
    return "".join(parts)


APPROVAL = (("作成", "Prepared"), ("確認", "Checked"), ("承認", "Approved"))


def approval_boxes() -> str:
    head = header(*APPROVAL)
    cells = "".join("<td></td>" for _ in APPROVAL)
    return (
        f'<table class="approval"><caption>{t("決裁欄", "Approval")}</caption><tr>{head}</tr><tr>{cells}</tr></table>'
    )


ROW_COLUMNS = (
    ("ホスト", "Host"),
    ("管理策", "Control"),
    ("条項", "Articles"),
    ("重要性", "Class"),
    ("判定", "Status"),
    ("期待値", "Expected"),
    ("実際値", "Actual"),
    ("根拠", "Evidence"),
)


def filters(rows: list[dict]) -> str:

    options = {
        "status": [
            (s, f"{STATUS_LABELS[s][0]} {STATUS_LABELS[s][1]}") for s in STATUSES if any(r["status"] == s for r in rows)
        ],
        "article": [(a, a) for a in by_article(rows)],
        "host": [(h, h) for h in sorted({r["host"] for r in rows})],
        "importance": [(c, c) for c in sorted({str(r.get("importance") or "-") for r in rows})],
    }
    names = {
        "status": ("判定", "Status"),
        "article": ("条項", "Article"),
        "host": ("ホスト", "Host"),
        "importance": ("重要性", "Class"),
    }
    out = []
    for key, values in options.items():
        opts = "".join(f'<option value="{escape(v)}">{escape(text)}</option>' for v, text in values)
        out.append(f'<label>{t(*names[key])} <select name="{key}"><option value="">*</option>{opts}</select></label>')
    count = f'<span>{t("表示", "Shown")}: <b id="shown">{len(rows)}</b> / {len(rows)}</span>'
    return f'<p class="filters">{"".join(out)}{count}</p>'


def all_rows(rows: list[dict], inventory: str) -> str:
    """Every row of the run, passes too, each with its evidence; filtered in the browser."""
    head = header(*ROW_COLUMNS)
    body = []
    for r in rows:
        articles = " ".join(dict.fromkeys(article_key(a) for a in r.get("articles", [])))
        why = why_and_fix(r, inventory) if r["status"] in PROBLEMS else ""
        body.append(
            f'<tr class="row" data-status="{escape(r["status"])}" data-article="{escape(articles)}" '
            f'data-host="{escape(r["host"])}" data-importance="{escape(str(r.get("importance") or "-"))}">'
            f"<td>{escape(r['host'])}</td><td>{escape(r['control'])} {t(r.get('title_ja', ''), r.get('title_en', ''))}"
            f"{why}</td><td>{escape(' '.join(r.get('articles', [])))}</td>"
            f"<td>{escape(str(r.get('importance') or '-'))}</td><td>{label(r['status'])}</td>"
            f"<td>{escape(str(r.get('expected', '')))}</td><td>{escape(str(r.get('actual', '')))}</td>"
            f"<td>{evidence(r)}</td></tr>"
        )
    return f'{filters(rows)}<table class="rows"><thead><tr>{head}</tr></thead>{"".join(body)}</table>'


def committee(report: dict, inventory: str) -> str:
    """The first page: overall compliance, by chapter, the top risks, exceptions near expiry, 決裁欄."""

    rows = report["results"]
    share = compliance(r["status"] for r in rows)
    run = report.get("run", {})
    overall = "-" if share is None else f"{share:.0%}"
    judged = sum(r["status"] in ("pass", "waived", *PROBLEMS) for r in rows)
    return (
        f"<p>{t('対象年度', 'Fiscal year')}: <b>{escape(fiscal_label(run_day(report)))}</b> · "
        f"{t('実施日時', 'Audited at')}: {escape(jst(run.get('started', '')))} · {t('実行ID', 'Run id')}: "
        f"{escape(str(run.get('id', '')))}</p>"
        f'<p>{t("適合率（判定済み項目）", "Compliance (judged rows)")}: <span class="overall" data-overall="{overall}">'
        f"{overall}</span> ({judged} {t('項目', 'rows')})</p>"
        f"<h3>{t('章別の適合率', 'Compliance by chapter of the policy')}</h3>{chapter_chart(rows)}"
        f"<h3>{t('優先して対処すべきリスク（重要性Ⅰ・Ⅱを優先）', 'Top risks (重要性 I–II hosts first)')}</h3>"
        f"{top_risks(rows, inventory)}"
        f"<h3>{t('期限が近い例外', 'Exceptions close to expiry')}</h3>{expiring(report)}"
        f"{approval_boxes()}"
    )


def render(report: dict) -> str:
    rows = report["results"]
    run = report.get("run", {})
    total = Counter(r["status"] for r in rows)
    totals = "".join(f'<span data-status="{s}">{label(s)}: <b>{total[s]}</b></span>' for s in STATUSES)
    hosts = grouped(rows, "host")
    classes = dict(sorted(grouped(rows, "importance").items(), key=class_order))
    platform_of = ("種別", "Platform"), lambda rs: ", ".join(sorted({str(r.get("platform", "")) for r in rs}))

    inventory = inventory_of(report)
    sections = [
        ("committee", ("監査結果の概要（委員会用）", "Summary for the committee"), committee(report, inventory)),
        ("totals", ("集計", "Totals"), f'<p class="totals"><b>{t("結果", "Results")}: {len(rows)}</b> {totals}</p>'),
        ("by-article", ("条項別", "By article"), counts_table(("条項", "Article"), by_article(rows), "article")),
        ("by-host", ("ホスト別", "By host"), counts_table(("ホスト", "Host"), hosts, "host", platform_of)),
        (
            "by-importance",
            ("重要性別（第10条）", "By importance class (Art. 10)"),
            counts_table(("重要性", "Class"), classes, "importance"),
        ),
        ("failures", ("不適合・判定不能の詳細", "Failures and errors"), failures(rows, inventory)),
        ("rows", ("全項目（適合を含む）", "Every row, passes too"), all_rows(rows, inventory)),
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
        f"<p>{t('開始', 'Started')}: {escape(jst(run.get('started', '')))} · {t('終了', 'Finished')}: "
        f"{escape(jst(run.get('finished', '')))} · {t('インベントリ', 'Inventory')}: "
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
