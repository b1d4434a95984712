"""Progress of a playbook run on the terminal: per task, hosts done / total and the hosts that
failed so far, on one line rewritten in place. Nothing at all when the output is not a terminal
(cron, CI, a pipe), so logs and reports stay clean. An ansible-runner event handler."""

from __future__ import annotations

import sys
from typing import TextIO

from lgsec import textsafe

DONE = ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped")


class Progress:
    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream = total, stream
        self.task, self.done, self.failed = "", set(), set()

    def __call__(self, event: dict) -> bool:
        kind, data = event.get("event"), event.get("event_data") or {}
        if kind == "playbook_on_task_start":
            self.task, self.done = data.get("task", ""), set()
        elif kind in DONE and data.get("host"):
            self.done.add(data["host"])
            if kind in ("runner_on_failed", "runner_on_unreachable"):
                self.failed.add(data["host"])
            self.show()
        elif kind == "playbook_on_stats":
            self.stream.write("\r\033[K")  # clear the line before the summary
            self.stream.flush()
        return True  # keep the event

    def show(self) -> None:
        done = min(len(self.done), self.total)
        task = textsafe.for_terminal(self.task)  # a task name may carry templated host data
        line = f"[{done}/{self.total} hosts] failed so far: {len(self.failed)} · {task}"
        self.stream.write("\r\033[K" + line[:150])
        self.stream.flush()


def for_terminal(total: int, stream: TextIO | None = None) -> Progress | None:
    """A progress handler when the stream (stderr) is a terminal, else None (quiet)."""
    stream = stream or sys.stderr
    return Progress(total, stream) if stream.isatty() else None


def chain(*handlers):
    """One event handler calling several (None entries are skipped)."""
    live = [h for h in handlers if h]

    def handle(event: dict) -> bool:
        for handler in live:
            handler(event)
        return True

    return handle
