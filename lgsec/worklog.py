"""Work records of hardening runs (第8条, 第53条, 第77条): who ran it, who confirmed it, when,
on which hosts, which controls, what changed and the outcome, as an append-only JSON-lines file
in which every entry carries the SHA-256 of its content and of the entry before it.

`verify` finds an edited entry (its hash no longer matches), a removed, inserted or reordered
entry (the sequence number or the chain breaks) and a removed last entry (the head file beside
the log, `<log>.head`, names the last entry's number and hash; copy it off the controller too,
e.g. into the ticket of the change, so that the head itself cannot be rewritten unnoticed).

A run writes two entries: `started` (who, what, on which hosts) before any host is touched, and
`finished` (what changed, the outcome: ok, failed, unreachable or interrupted) naming the first
by its seq in `run`. A `started` entry that no `finished` entry names is a run the controller
never finished (killed, power lost): `unfinished` lists those.

Each entry is one line, exactly its canonical serialisation (`line`: sorted keys, ASCII only, so
any text, U+2028 or a lone surrogate included, stays on its line and is kept losslessly); verify
refuses any other spelling of the same entry (duplicate keys, re-spacing, `\u0074` escapes),
which a reader or grep would see differently from the parsed entry. A torn last line (power lost,
disk full during a write) is named by verify; the next run appends after it on a line of its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from functools import cache
from pathlib import Path

import yaml

from lgsec.catalog import ROOT

GENESIS = "0" * 64
SSHD_VARS = ROOT / "roles" / "sshd" / "vars" / "main.yml"  # in a checkout and in the wheel
SSHD_DROPIN = re.compile(r"/30-lgsec-([a-z0-9-]+)\.conf$")


@cache
def sshd_dropins() -> dict[str, list[str]]:
    """roles/sshd's drop-ins: name → the controls that demand it (lgsec_sshd_dropins)."""
    try:
        found = yaml.safe_load(SSHD_VARS.read_text(encoding="utf-8"))["lgsec_sshd_dropins"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}
    return {name: list(entry.get("controls", [])) for name, entry in found.items()}


def sshd_controls(res: dict) -> list[str]:
    """The controls a change of roles/sshd's shared drop-in writer made (its file names them)."""
    match = SSHD_DROPIN.search(str(res.get("dest") or ""))  # the template module's result
    return sshd_dropins().get(match.group(1), []) if match else []


def digest(entry: dict) -> str:
    """SHA-256 of the entry without its own hash, in a canonical JSON form."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def line(entry: dict) -> str:
    """The one way an entry is written: canonical, ASCII only (no line break of any kind inside)."""
    return json.dumps(entry, ensure_ascii=True, sort_keys=True)


def _parse(text: str) -> dict | None:
    """The entry a line holds when the line is exactly its canonical form (or the form lgsec
    wrote before, UTF-8 instead of escapes, so older records still verify); None otherwise."""
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    return entry if text in (line(entry), json.dumps(entry, ensure_ascii=False, sort_keys=True)) else None


def _lines(data: bytes) -> list[str]:
    """The log's lines (split on \n only: a record holds no other line break)."""
    return data.decode("utf-8", "replace").split("\n")


def _head(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def append(path: str | Path, record: dict) -> dict:
    """Add one record (seq, prev_hash and hash are set here) under an exclusive lock; returns the entry."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        data = handle.read()
        entries = [e for e in map(_parse, _lines(data)) if e is not None]
        last = entries[-1] if entries else None  # the last intact entry: a torn line after it is skipped
        seq = last["seq"] + 1 if last and isinstance(last.get("seq"), int) else 1
        entry = {"seq": seq, **record, "prev_hash": last.get("hash", GENESIS) if last else GENESIS}
        entry["hash"] = digest(entry)
        text = line(entry)  # fails (nothing written) before the file is touched
        handle.write((b"\n" if data and not data.endswith(b"\n") else b"") + text.encode("ascii") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
        _head(path).write_text(f"{entry['seq']} {entry['hash']}\n", encoding="utf-8")
    return entry


def verify(path: str | Path) -> list[str]:
    """Problems found, one line each naming the entry (line number and seq); [] when intact."""
    path = Path(path)
    if not path.exists():
        return [f"{path}: no work record"]
    problems = []
    prev_hash, expected_seq, last = GENESIS, 1, None
    lines = _lines(path.read_bytes())
    if lines and lines[-1] == "":
        lines.pop()  # the file ends with a line break, as it should
    for number, text in enumerate(lines, start=1):
        where = f"{path}:{number}"
        entry = _parse(text)
        if entry is None:
            try:
                json.loads(text)
            except ValueError:
                torn = number == len(lines) and not path.read_bytes().endswith(b"\n")
                why = "torn: its write was cut off, by a power loss or a full disk" if torn else "edited or torn"
                problems.append(f"{where}: not a JSON entry ({why})")
                continue
            problems.append(f"{where}: not written as lgsec writes entries (edited: keys, spacing or escapes)")
            continue
        seq = entry.get("seq")
        if entry.get("hash") != digest(entry):
            problems.append(f"{where}: entry seq {seq} was edited (its hash does not match its content)")
        if seq != expected_seq:
            problems.append(f"{where}: entry seq {seq} where seq {expected_seq} was expected (removed or reordered)")
        if entry.get("prev_hash") != prev_hash:
            problems.append(
                f"{where}: entry seq {seq} does not follow the entry before it (removed, inserted or reordered)"
            )
        prev_hash, expected_seq, last = entry.get("hash"), (seq if isinstance(seq, int) else expected_seq) + 1, entry
    head = _head(path)
    if head.exists():
        seq, _, hash_ = head.read_text(encoding="utf-8").strip().partition(" ")
        ends = last.get("seq") if last else None
        if last is None or str(ends) != seq or last.get("hash") != hash_:
            problems.append(
                f"{head}: names entry seq {seq}; the log ends at seq {ends} (its end was removed or changed)"
            )
    else:
        problems.append(f"{head}: missing (the end of the log cannot be checked)")
    return problems


def entries(path: str | Path) -> list[dict]:
    """The log's intact entries, in order."""
    return [e for e in map(_parse, _lines(Path(path).read_bytes())) if e is not None]


def unfinished(path: str | Path) -> list[dict]:
    """`started` entries that no `finished` entry names (the log is assumed intact: verify first)."""
    found = entries(path)
    closed = {e.get("run") for e in found if e.get("event") == "finished"}
    return [e for e in found if e.get("event") == "started" and e.get("seq") not in closed]


class Collector:
    """ansible-runner event handler: what changed per host (changed and failed tasks, with the
    control id the task name starts with and the diff, shortened), the controls whose tasks ran
    or were all skipped (a waived control), and the play's final stats."""

    def __init__(self):
        self.hosts: dict[str, dict] = {}
        self.stats: dict = {}

    def _host(self, name: str) -> dict:
        empty = {"changed": [], "failed": [], "unreachable": False, "controls_run": [], "controls_skipped": []}
        return self.hosts.setdefault(name, empty)

    def __call__(self, event: dict) -> bool:
        kind, data = event.get("event"), event.get("event_data") or {}
        host, task, res = data.get("host"), data.get("task", ""), data.get("res") or {}
        control = task.split(" | ")[0] if " | " in task else None
        if kind == "playbook_on_stats":
            self.stats = {k: data.get(k, {}) for k in ("ok", "changed", "failures", "unreachable", "skipped")}
        if not host or kind not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped"):
            return True
        seen = self._host(host)
        item = {"task": task, "control": control}
        if kind == "runner_on_unreachable":
            seen["unreachable"] = True
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            seen["failed"].append({**item, "msg": str(res.get("msg", ""))[:500]})
        elif kind == "runner_on_ok" and res.get("changed"):
            diff = json.dumps(res["diff"], ensure_ascii=False)[:2000] if res.get("diff") else None
            demanded = sshd_controls(res) if control == "SSHD" else []
            if demanded:  # the drop-in of these controls (one file may serve two: PermitRootLogin)
                item = {**item, "control": demanded[0], "controls": demanded}
            seen["changed"].append({**item, "diff": diff} if diff else item)
        if control:
            ran = kind != "runner_on_skipped"
            if ran and control not in seen["controls_run"]:
                seen["controls_run"].append(control)
            if ran and control in seen["controls_skipped"]:
                seen["controls_skipped"].remove(control)
            if not ran and control not in seen["controls_run"] and control not in seen["controls_skipped"]:
                seen["controls_skipped"].append(control)
        return True  # keep the event in the runner's artefacts
