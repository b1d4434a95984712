"""Network devices: the controller's store of configuration backups (playbooks/backup_network.yml,
action_plugins/lgsec_network_backup.py) — a git repository of <host>.cfg files, one commit per
backup run, each changed device's diff in changes/<host>.diff — and a device's last recorded
change, which its report rows carry."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def last_change(store: str | Path, host: str) -> dict | None:
    """The last backup commit that changed a device's configuration in the store (a git
    repository of <host>.cfg files), with the command that shows its diff; None when the store
    has no history of that device."""
    store = Path(store)
    name = f"{host}.cfg"
    if not (store / ".git").exists() or not (store / name).exists():
        return None
    out = _git(store, "log", "-1", "--format=%H%x09%cI%x09%s", "--", name, check=False).strip()
    if not out:
        return None
    commit, date, subject = out.split("\t", 2)
    diff = store / "changes" / f"{host}.diff"
    recorded = diff.exists() and commit in _git(store, "log", "-1", "--format=%H", "--", f"changes/{host}.diff")
    return {
        "commit": commit,
        "date": date,
        "subject": subject,
        "diff": str(diff) if recorded else f"git -C {store} show {commit[:12]} -- {name}",
    }


def with_last_change(rows: list[dict], facts: dict) -> list[dict]:
    """A device's report rows carry its last recorded configuration change (`last_change`)."""
    if facts.get("last_change"):
        for r in rows:
            r["last_change"] = facts["last_change"]
    return rows


# Lines a device rewrites at every `show running-config` without any change being made.
VOLATILE = re.compile(
    r"^(! Last configuration change at|! NVRAM config last updated|! No configuration change since"
    r"|Current configuration\s*:|ntp clock-period )"
)


def backup_text(running: str, vendor: str, host: str) -> str:
    """A running configuration as the store keeps it: lgsec's header (so `lgsec audit --configs`
    reads the store as it is) and no line that changes without a change."""
    lines = [ln for ln in running.split("\n") if not VOLATILE.match(ln)]  # only LF ends a line, as on IOS
    return f"! lgsec: vendor={vendor} host={host}\n" + "\n".join(lines).strip("\n") + "\n"


def _git(store: Path, *args: str, check: bool = True) -> str:
    env_args = ["-c", "user.name=lgsec backup", "-c", "user.email=lgsec-backup@localhost", "-c", "core.quotepath=off"]
    done = subprocess.run(["git", "-C", str(store), *env_args, *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {store}: {done.stderr.strip()}")
    return done.stdout


def store_backups(store: str | Path, configs: dict[str, str], note: str = "", dry_run: bool = False) -> dict:
    """Write each device's configuration (host → backup_text) into the store, a git repository
    created on first use; every device whose configuration changed gets its diff in
    changes/<host>.diff, and one commit records them all (第53条, 第77条: what changed, when).
    Returns {changed: [hosts], new: [hosts], commit, diffs: {host: path}}."""
    store = Path(store)
    if not (store / ".git").exists():
        if dry_run:
            return {"changed": [], "new": sorted(configs), "commit": None, "diffs": {}}
        store.mkdir(mode=0o700, parents=True, exist_ok=True)  # configurations carry hashes and keys
        _git(store, "init", "-q")
    changed, new, diffs = [], [], {}
    for host, text in sorted(configs.items()):
        path = store / f"{host}.cfg"
        old = path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else None
        if old == text:
            continue
        (new if old is None else changed).append(host)
        if dry_run:
            continue
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        if old is not None:
            diff = _git(store, "diff", "--", path.name)
            (store / "changes").mkdir(exist_ok=True)
            (store / "changes" / f"{host}.diff").write_text(diff, encoding="utf-8")
            diffs[host] = str(store / "changes" / f"{host}.diff")
    if dry_run or not (changed or new):
        return {"changed": changed, "new": new, "commit": None, "diffs": diffs}
    _git(store, "add", "-A", ".")
    subject = f"backup: changed {', '.join(changed) or 'none'}; new {', '.join(new) or 'none'}"
    _git(store, "commit", "-q", "-m", subject, *(["-m", note] if note else []))
    commit = _git(store, "rev-parse", "HEAD").strip()
    return {"changed": changed, "new": new, "commit": commit, "diffs": diffs}
