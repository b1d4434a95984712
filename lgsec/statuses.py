"""The statuses a row can have and their labels, Japanese and English: the one source for the
checks, the summary and every report format (a module below all of them)."""

from __future__ import annotations

STATUSES = ("pass", "fail", "waived", "not_applicable", "error", "manual", "unreachable")
PROBLEMS = ("fail", "error", "unreachable")  # the statuses that are findings (open, reported, counted)

# Status labels, Japanese and English.
STATUS_LABELS = {
    "pass": ("適合", "pass"),
    "fail": ("不適合", "fail"),
    "waived": ("例外承認", "waived"),
    "not_applicable": ("対象外", "n/a"),
    "error": ("判定不能", "error"),
    "manual": ("要手動確認", "manual"),
    "unreachable": ("接続不可", "unreachable"),
}
LABELS = {status: f"{ja} {en}" for status, (ja, en) in STATUS_LABELS.items()}
