"""The hardening's own rules, shared by `lgsec harden` and playbooks/harden.yml run directly:

- the two-person rule (第8条, 第77条): the operator and the confirming person are named, and
  they are two people (compared after NFKC, case folding and whitespace, so that "Tanaka",
  "ｔａｎａｋａ" and " tanaka " are one person);
- the audit-driven plan: on each host, the controls whose audit passes are skipped, unless the
  catalog says the audit cannot see all their role sets (`harden: always`) or they must follow a
  control being repaired (`harden: with`); waived controls are skipped; a host whose facts could
  not be read, and `--full` / `lgsec_harden_full`, run everything;
- the work record's entries (lgsec/worklog.py appends them).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lgsec import exceptions, report, worklog
from lgsec.catalog import ROOT, SAFE_LOADER, Catalog
from lgsec.errors import InputError

ROLES_DIR = ROOT / "roles"
PASSING, WAIVED, NOT_APPLICABLE = "passing", "waived", "not applicable"  # why a control was skipped
# a control's import in a role's tasks/main.yml (tests/unit/test_exceptions.py keeps them all so)
GUARDED = re.compile(r"^'([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)' not in \(lgsec_waived_controls \| default\(\[\]\)\)$")


def two_persons(operator: object, confirmer: object, fields: str = "--operator/--confirmed-by") -> tuple[str, str]:
    """(operator, confirmer) as given (outer white space off); InputError when either is missing or
    both name the same person."""
    named = isinstance(operator, str) and isinstance(confirmer, str)
    if not named or not exceptions.person(operator) or not exceptions.person(confirmer):
        raise InputError(
            fields, "-", "both people must be named: the operator and the one who confirms (第8条, 第77条)"
        )
    operator, confirmer = operator.strip(), confirmer.strip()  # recorded as given (lgsec/worklog.py keeps any text)
    if exceptions.same_person(operator, confirmer):
        raise InputError(fields, "-", f"{confirmer} is the operator: another person must confirm (第8条, 第77条)")
    return operator, confirmer


# The OS families the Linux roles know (their vars/main.yml key paths and packages by Ansible's
# os_family): judged once, here, on the audit's gather of each host, before any role runs — the
# os-release reading of lgsec/checks/linux_software.py (`family`), so audit and roles agree.
LINUX_FAMILIES = {"debian": "Debian", "rhel": "RedHat"}


def linux_family(host: str, facts: dict, source: str = "inventory") -> str:
    """The host's family as Ansible names it (Debian, RedHat); InputError naming the inventory, the
    host and /etc/os-release when the Linux roles do not know it (nothing is changed there)."""
    from lgsec.checks import Ctx, Unreadable
    from lgsec.checks.linux_software import OS_RELEASE, family, os_release

    ctx = Ctx(host=host, facts=facts, params={}, hostvars={}, all_params=lambda cid: {})
    where = f"{source}: host {host}"
    try:
        found = family(ctx)
        values = os_release(ctx)
    except Unreadable as exc:
        raise InputError(where, OS_RELEASE, f"cannot tell the OS family: {exc}") from exc
    if found not in LINUX_FAMILIES:
        named = ", ".join(f"{k}={values[k].value}" for k in ("ID", "ID_LIKE") if k in values) or "no ID"
        raise InputError(
            where,
            f"{OS_RELEASE} ID",
            f"{named}: lgsec's Linux roles know the Debian and RedHat families only; nothing was changed",
        )
    return LINUX_FAMILIES[found]


def role_controls(role: str, roles_dir: Path = ROLES_DIR) -> list[str]:
    """The control ids a role enforces: the imports of its tasks/main.yml guarded by
    lgsec_waived_controls (the skip list this plan feeds)."""
    path = roles_dir / role / "tasks" / "main.yml"
    try:
        tasks = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or []
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), "-", f"cannot read the role's tasks: {exc}") from exc
    found = []
    for task in tasks:
        match = GUARDED.match(str(task.get("when", ""))) if isinstance(task, dict) else None
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def plan_host(
    catalog: Catalog,
    enforced: list[str],
    rows: list[dict] | None,
    waived: list[str],
    *,
    full: bool = False,
    problem: str | None = None,
) -> dict:
    """What the hardening does on one host. enforced: the control ids its roles enforce; rows:
    the audit's rows for it (None when its facts could not be read: problem says why).
    {"run": {id: why}, "skipped": {id: passing|waived}, "audit": how the plan was made}."""
    status = {r["control"]: r["status"] for r in rows or []}
    run: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for cid in enforced:
        control = catalog.controls.get(cid)
        if cid in waived:
            skipped[cid] = WAIVED
        elif full:
            run[cid] = "full run"
        elif rows is None:
            run[cid] = f"not audited: {problem or 'no facts'}"
        elif status.get(cid) == "not_applicable":
            # the policy does not ask it of this host (its class, no sshd, no log host named): its
            # role would set nothing the audit cannot see (LOG-CENTRAL fails on a forwarding left)
            skipped[cid] = NOT_APPLICABLE
        elif status.get(cid) != "pass":
            run[cid] = f"audit: {status.get(cid, 'not judged')}"
        elif control is not None and control.harden_always:
            run[cid] = f"always ({control.harden_always})"
        else:
            skipped[cid] = PASSING
    # a passing control runs again when a control it follows is being repaired (its changes can
    # undo it); an always-run control whose audit passes is not being repaired
    repaired = {cid for cid, why in run.items() if not why.startswith("always")}
    changed = True
    while changed:
        changed = False
        for cid, why in list(skipped.items()):
            control = catalog.controls.get(cid)
            follows = [x for x in (control.harden_with if control else ()) if x in repaired]
            if why == PASSING and follows:
                run[cid] = f"follows {', '.join(follows)}"
                del skipped[cid]
                repaired.add(cid)
                changed = True
    audit = "full run (lgsec_harden_full)" if full else f"not audited: {problem}" if rows is None else "audited"
    return {"run": dict(sorted(run.items())), "skipped": dict(sorted(skipped.items())), "audit": audit}


def roles_to_run(plan: dict, roles: dict[str, list[str]]) -> list[str]:
    """The roles with a control to run on the host (a role none of whose controls runs is not
    entered at all: its guards and shared steps serve only those controls)."""
    return [role for role, ids in roles.items() if any(cid in plan["run"] for cid in ids)]


def skip_list(plan: dict) -> list[str]:
    """The ids the roles' guarded imports skip on the host (lgsec_waived_controls)."""
    return sorted(plan["skipped"])


class PlanCatcher:
    """ansible-runner event handler: the plans of the run's lgsec_harden_plan step, and the input
    error a controller-side step stopped the run with (lgsec.action: `lgsec_input_error`), e.g. a
    host of an OS family the roles do not know, found by the plan on the gather (exit 2)."""

    def __init__(self):
        self.plans: dict[str, dict] = {}
        self.input_error: str | None = None

    def __call__(self, event: dict) -> bool:
        data = event.get("event_data") or {}
        res = data.get("res") or {}
        if event.get("event") == "runner_on_ok" and str(data.get("task_action", "")).endswith("lgsec_harden_plan"):
            self.plans.update(res.get("plans") or {})
        if event.get("event") == "runner_on_failed" and isinstance(res.get("lgsec_input_error"), str):
            self.input_error = self.input_error or res["lgsec_input_error"]
        return True


def with_plans(changes: dict[str, dict], plans: dict[str, dict]) -> dict[str, dict]:
    """The record's per-host changes, each with the plan: which controls were to run and why,
    which were skipped and why (passing, not applicable, waived)."""
    out = {host: dict(seen) for host, seen in changes.items()}
    for host, plan in plans.items():
        seen = out.setdefault(host, {})
        seen["plan"] = plan
        # a control the plan skipped whose shared read or guard steps ran for the others (named
        # after it) did not run: listed apart, unless one of its tasks changed something
        changed = {c for item in seen.get("changed", []) for c in item.get("controls", [item.get("control")])}
        ran = seen.get("controls_run", [])
        seen["controls_run"] = [c for c in ran if c not in plan["skipped"] or c in changed]
        shared = [c for c in ran if c in plan["skipped"] and c not in changed]
        if shared:
            seen["controls_read_only"] = shared
    return out


def outcome(rc: int, unreachable: bool, interrupted: bool = False) -> str:
    return "ok" if rc == 0 else "interrupted" if interrupted else "unreachable" if unreachable else "failed"


def record_started(log: str | Path, run: dict) -> dict:
    """The `started` entry, before any host is touched (an unwritable record is bad input: nothing has run)."""
    try:
        return worklog.append(log, {"event": "started", "started": report.now_iso(), **run})
    except OSError as exc:
        raise InputError(str(log), "--log", f"cannot write the work record: {exc.strerror or exc}") from exc


def record_finished(log: str | Path, opened: dict, run: dict, changes: dict, stats: dict, result: str, rc) -> dict:
    """The `finished` entry naming the `started` one (its seq)."""
    entry = {
        "event": "finished",
        "run": opened["seq"],
        "started": opened["started"],
        "finished": report.now_iso(),
        **run,
        "changes": changes,
        "stats": stats,
        "outcome": result,
        "rc": rc,
    }
    return worklog.append(log, entry)


def open_run(log: str | Path, seq: object, operator: str, confirmer: str) -> bool:
    """Is entry seq of log a `started` entry of these two people that no `finished` entry names
    (the run lgsec harden opened before starting the playbook)?"""
    if not isinstance(seq, int) or not Path(log).is_file():
        return False
    return any(
        e["seq"] == seq and exceptions.same_person(str(e.get("operator", "")), operator)
        and exceptions.same_person(str(e.get("confirmed_by", "")), confirmer)
        for e in worklog.unfinished(log)
    )  # fmt: skip
