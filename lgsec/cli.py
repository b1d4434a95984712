"""lgsec command line: argument parsing and the commands (`lgsec audit`, `harden`, `catalog` …).
The inventory is read by lgsec/inventory.py, the playbooks run by lgsec/runner.py."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lgsec import __version__, exceptions, progress, report
from lgsec.catalog import load_catalog
from lgsec.errors import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NONCOMPLIANT,
    EXIT_RUN_FAILED,
    EXIT_UNREACHABLE,
    InputError,
    log_unexpected,
)
from lgsec.evaluate import validate_hostvars
from lgsec.inventory import LOCAL_INVENTORY, load_inventory
from lgsec.report import check_outdir, history_failed
from lgsec.runner import run_playbook
from lgsec.textsafe import for_terminal

WORK_LOG = "reports/work-record.jsonl"  # lgsec harden's hash-chained record (lgsec/worklog.py)


def cmd_audit(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    only = [c.strip() for c in args.controls.split(",")] if args.controls else None
    unknown = [c for c in only or [] if c not in catalog.controls]
    if unknown:
        raise InputError("--controls", "-", f"unknown control id(s): {', '.join(unknown)}")
    if args.configs and args.evidence:
        raise InputError("--evidence", "-", "give --configs or --evidence, not both")
    if args.configs:
        return audit_configs(args, catalog, only)
    if args.evidence:
        return audit_evidence(args, catalog, only)
    inventory = args.inventory or str(LOCAL_INVENTORY)
    exceptions_file = exceptions_path(args, inventory)
    ticker = None if args.verbose else progress.for_terminal(0)

    def validate() -> None:  # while Ansible starts (the playbook validates the same first thing)
        groups: dict[str, list[str]] = {}
        hosts = load_inventory(inventory, args.limit, args.vault_password_file, groups)
        for host, hvars in hosts.items():
            validate_hostvars(catalog, host, hvars, source=inventory)
        if exceptions_file:
            exceptions.load(exceptions_file, catalog, groups)
        if ticker:
            ticker.total = len(hosts)

    outdir = check_outdir(args.outdir)
    target = outdir / "report.json"
    before = target.stat().st_mtime_ns if target.exists() else None
    extravars = {
        "lgsec_report_dir": str(outdir),
        "lgsec_inventory_label": inventory,
        "lgsec_started": report.now_iso(),
    }
    if only:
        extravars["lgsec_only_controls"] = only
    if exceptions_file:
        extravars["lgsec_exceptions_file"] = exceptions_file
    if args.history:
        extravars["lgsec_history_db"] = str(Path(args.history).resolve())
    if args.catalog:
        os.environ["LGSEC_CATALOG"] = str(Path(args.catalog).resolve())
    rc, stdout = run_playbook(
        "audit.yml",
        inventory,
        extravars,
        args.limit,
        quiet=not args.verbose,
        vault_file=args.vault_password_file,
        meanwhile=validate,
        event_handler=ticker,
    )
    if rc == EXIT_INTERRUPTED:
        print(f"lgsec: audit interrupted: no new report; {target} is the last one written", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not target.exists() or target.stat().st_mtime_ns == before:
        print(terminal_lines(stdout[-4000:]), file=sys.stderr)
        print(f"lgsec: the audit playbook ended (rc {rc}) without writing {target}", file=sys.stderr)
        return EXIT_RUN_FAILED
    data = json.loads(target.read_text(encoding="utf-8"))
    report.show(data, target, args.format)
    return report.exit_code(data["results"]) if not data.get("history_error") else history_failed(data)


def terminal_lines(text: str) -> str:
    """Ansible's output shown on a failure: each line made printable (it carries host data)."""
    return "\n".join(for_terminal(line) for line in text.splitlines())


def exceptions_path(args: argparse.Namespace, inventory: str) -> str | None:
    """The exceptions file's absolute path: --exceptions, else exceptions.yml beside the inventory."""
    path = Path(args.exceptions) if args.exceptions else exceptions.default_file(inventory)
    if path is None:
        return None
    if not path.is_file():
        raise InputError(str(path), "--exceptions", "exceptions file not found")
    return str(path.resolve())


def checked_exceptions(args: argparse.Namespace, catalog, inventory: str, groups: dict[str, list[str]]) -> str | None:
    """The exceptions file, validated against the catalog and every host of the inventory."""
    path = exceptions_path(args, inventory)
    if path:
        exceptions.load(path, catalog, groups)
    return path


def audit_configs(args: argparse.Namespace, catalog, only: list[str] | None) -> int:
    """`lgsec audit --configs DIR`: judge saved running configurations; no device is touched."""
    from lgsec import offline

    groups: dict[str, list[str]] = {}
    inventory = load_inventory(args.inventory, args.limit, args.vault_password_file, groups) if args.inventory else None
    hosts = offline.config_hosts(catalog, args.configs, inventory)
    if inventory is not None and args.limit:
        hosts = [h for h in hosts if h[0] in inventory]
    label = f"{args.inventory or 'no inventory'}; configurations {args.configs}"
    extras = offline_extras(args, catalog, groups)
    return offline.report_offline(
        catalog, hosts, source="config", outdir=args.outdir, inventory=label, only=only, output=args.format, **extras
    )


def audit_evidence(args: argparse.Namespace, catalog, only: list[str] | None) -> int:
    """`lgsec audit --evidence DIR`: judge Windows evidence folders written by
    tools/windows/lgsec-collect.ps1 (DIR is one host's folder or holds one per host); no host
    is touched. -i gives the hosts' variables (matched on the folder name, case-insensitive)."""
    from lgsec import offline

    groups: dict[str, list[str]] = {}
    inventory = load_inventory(args.inventory, args.limit, args.vault_password_file, groups) if args.inventory else None
    hosts = offline.evidence_triples(catalog, args.evidence, inventory, limited=bool(args.limit))
    label = f"{args.inventory or 'no inventory'}; evidence {args.evidence}"
    extras = offline_extras(args, catalog, groups)
    return offline.report_offline(
        catalog, hosts, source="evidence", outdir=args.outdir, inventory=label, only=only, output=args.format, **extras
    )


def offline_extras(args: argparse.Namespace, catalog, groups: dict[str, list[str]]) -> dict:
    """Exceptions (they name inventory hosts and groups: -i is needed) and the history database
    for an audit of saved evidence."""
    extras: dict = {"history": args.history}
    if args.inventory:
        path = exceptions_path(args, args.inventory)
        if path:
            extras |= {"waivers": exceptions.load(path, catalog, groups), "groups": groups}
    elif args.exceptions:
        raise InputError("--exceptions", "-", "exceptions name inventory hosts and groups: give -i INVENTORY")
    return extras


def cmd_harden(args: argparse.Namespace) -> int:
    """`lgsec harden`: playbooks/harden.yml by two people (第8条, 第77条): --operator runs it,
    --confirmed-by checks it; refused when they are the same person. Every run, also a failed
    or check-mode one, appends a hash-chained work record (lgsec/worklog.py) with, per host, the
    controls that ran and why each other one was skipped (lgsec/harden.py: passing, waived).
    Audit-driven unless --full: the controls that pass on a host are skipped there."""
    from lgsec import harden, textsafe, worklog

    operator, confirmer = harden.two_persons(args.operator, args.confirmed_by)
    catalog = load_catalog(args.catalog)
    groups: dict[str, list[str]] = {}
    hosts = load_inventory(args.inventory, args.limit, args.vault_password_file, groups)
    for host, hvars in hosts.items():
        validate_hostvars(catalog, host, hvars, source=args.inventory)
    tags = [t.strip() for t in args.tags.split(",")] if args.tags else []
    unknown = [t for t in tags if t not in catalog.controls and t != "always"]
    if unknown:
        raise InputError("--tags", "-", f"unknown control id(s): {', '.join(unknown)}")
    exceptions_file = checked_exceptions(args, catalog, args.inventory, groups)
    extravars = {"lgsec_exceptions_file": exceptions_file} if exceptions_file else {}
    run = {
        "operator": operator,
        "confirmed_by": confirmer,
        "inventory": str(Path(args.inventory).resolve()),
        "limit": args.limit,
        "check_mode": args.check,
        "full": args.full,
        "hosts": sorted(hosts),
        "controls": tags or ["all"],
        "exceptions": exceptions_file,
    }
    # the start is on record before any host is touched: a run the controller never finished shows
    opened = harden.record_started(args.log, run)
    # the playbook checks the two people again and finds this open entry, so it writes none itself
    log = str(Path(args.log).resolve())
    extravars |= {"lgsec_operator": operator, "lgsec_confirmed_by": confirmer}
    extravars |= {"lgsec_work_record_run": {"log": log, "seq": opened["seq"]}, "lgsec_harden_full": args.full}
    collector, planned = worklog.Collector(), harden.PlanCatcher()
    rc, stdout = run_playbook(
        "harden.yml",
        args.inventory,
        extravars,
        args.limit,
        quiet=not args.verbose,
        vault_file=args.vault_password_file,
        extra_args=("--check", "--diff") if args.check else (),
        tags=",".join(tags) or None,
        event_handler=progress.chain(collector, planned, None if args.verbose else progress.for_terminal(len(hosts))),
    )
    unreachable = sorted(h for h, c in collector.hosts.items() if c["unreachable"])
    outcome = harden.outcome(rc, bool(unreachable), interrupted=rc == EXIT_INTERRUPTED)
    changes = harden.with_plans(collector.hosts, planned.plans)
    entry = harden.record_finished(args.log, opened, run, changes, collector.stats, outcome, rc)
    for host, seen in sorted(changes.items()):
        state = (
            "unreachable"
            if seen.get("unreachable")
            else f"{len(seen.get('changed', []))} changed, {len(seen.get('failed', []))} failed"
        )
        plan = seen.get("plan")
        if plan:
            why = list(plan["skipped"].values())
            state += (
                f"; {len(plan['run'])} control(s) run, {why.count(harden.PASSING)} skipped as passing,"
                f" {why.count(harden.NOT_APPLICABLE)} as not applicable, {why.count(harden.WAIVED)} waived"
            )
        print(textsafe.for_terminal(f"{host}: {state}"))
        for item in seen.get("changed", []) + seen.get("failed", []):
            print(textsafe.for_terminal(f"  {item['task']}"))
    if rc not in (0, EXIT_INTERRUPTED) and not args.verbose:
        print(terminal_lines(stdout[-4000:]), file=sys.stderr)
    mode = ", check mode" if args.check else ""
    print(f"work record: {for_terminal(args.log)} entry {entry['seq']} ({outcome}{mode}) {entry['hash']}")
    if rc == EXIT_INTERRUPTED:
        return EXIT_INTERRUPTED
    if rc and planned.input_error:  # refused on the controller before any role ran (nothing applied)
        print(f"lgsec: input error: {for_terminal(planned.input_error)}", file=sys.stderr)
        return EXIT_INPUT
    return 0 if rc == 0 else EXIT_UNREACHABLE if unreachable else EXIT_RUN_FAILED


def cmd_log(args: argparse.Namespace) -> int:
    """`lgsec log verify`: is the work record intact (no entry edited, removed or reordered)?"""
    from lgsec import worklog

    problems = worklog.verify(args.log)
    for line in problems:
        print(for_terminal(line))
    if problems:
        return EXIT_NONCOMPLIANT
    count = len(worklog.entries(args.log))
    head = for_terminal(Path(args.log + ".head").read_text(encoding="utf-8", errors="replace").strip())
    print(f"{for_terminal(args.log)}: {count} entries, chain intact; head: {head}")
    for entry in worklog.unfinished(args.log):
        print(
            f"note: the run of entry seq {entry['seq']} ({for_terminal(entry.get('started'))}, "
            f"{for_terminal(entry.get('operator'))}) has no finished entry: the controller stopped during it; "
            "check its hosts"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """`lgsec report self-inspection|bundle|verify` (bundle and verify: lgsec/archive.py)."""
    from lgsec import archive

    if args.kind == "self-inspection":
        return cmd_self_inspection(args)
    if args.kind == "bundle":
        if not args.key:
            raise InputError("--key", "-", "give the site's signing key (an SSH private key): --key PATH")
        folder = archive.find_run(Path(args.outdir), args.target)
        bundle, signature = archive.bundle(folder, Path(args.key), Path(args.outdir) / "bundles")
        print(f"archive: {bundle}\nsignature: {signature} (ssh-keygen -Y sign, namespace {archive.NAMESPACE})")
        return 0
    if not args.target or not args.allowed_signers:
        raise InputError("report verify", "-", "give the ARCHIVE and --allowed-signers FILE")
    problems = archive.verify(Path(args.target), Path(args.allowed_signers), args.identity)
    for line in problems:
        print(line)
    if problems:
        return EXIT_NONCOMPLIANT
    print(f"{args.target}: signed by {args.identity}, every file matches its manifest")
    return 0


def cmd_self_inspection(args: argparse.Namespace) -> int:
    """`lgsec report self-inspection`: the latest audit + attested manual items, by chapter (第119–120条)."""
    from lgsec import selfinspect

    if not args.attestations:
        raise InputError("--attestations", "-", "report self-inspection needs the attested manual items (YAML)")
    catalog = load_catalog(args.catalog)
    source = Path(args.report)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # unreadable, not JSON, nested beyond reason
        raise InputError(str(source), "--report", f"cannot read the audit report: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise InputError(str(source), "results", "not an lgsec report.json (no results)")
    for index, row in enumerate(data["results"], start=1):
        fields = ("host", "control", "status")
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) for f in fields):
            raise InputError(str(source), f"results[{index}]", "not an lgsec result row (host, control, status)")
        if not isinstance(row.get("articles", []), list):
            raise InputError(str(source), f"results[{index}].articles", "must be a list")
    if not isinstance(data.get("run", {}), dict):
        raise InputError(str(source), "run", "must be a mapping")
    sections = selfinspect.load_sections()
    items = selfinspect.load_attestations(args.attestations, catalog, sections)
    target = check_outdir(args.outdir) / "self-inspection.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    document = selfinspect.build(data, catalog, items, sections)
    report.atomic_write(target, document.encode("utf-8"))
    report.atomic_write(target.with_suffix(".html"), selfinspect.to_html(document).encode("utf-8"))
    print(f"self-inspection report: {for_terminal(target)} and {for_terminal(target.with_suffix('.html').name)}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """`lgsec history`: compliance (pass and waived among judged rows) of the stored audits,
    per host and per article."""
    from lgsec import history

    path = args.history or str(Path(args.outdir) / "history.sqlite")
    for by in ("host", "article") if args.by == "both" else (args.by,):
        started, table = history.over_time(path, by, inventory=args.inventory, limit=args.runs)
        print(history.format_table(started, table, by))
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    """`lgsec catalog`: validate and list; `catalog list`: the controls with their titles;
    `catalog show ID`: one control and every file it lives in (lgsec/trace.py)."""
    from lgsec import trace

    catalog = load_catalog(args.catalog)
    if args.action == "show":
        if not args.id:
            raise InputError("catalog show", "-", "give a control id: lgsec catalog show ID")
        print("\n".join(trace.show(catalog, args.id)))
        return 0
    if args.id:
        raise InputError(f"catalog {args.action or ''}".strip(), args.id, "takes no control id (catalog show ID does)")
    if args.action == "list":
        print("\n".join(trace.listing(catalog)))
        return 0
    for c in catalog:
        line = f"{c.id:<20} {c.automation:<11} {','.join(c.platforms):<28} {' '.join(c.articles)}  {c.title_ja}"
        print(for_terminal(line))
    print(f"{len(catalog)} controls, catalog {for_terminal(catalog.path)} is valid")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgsec", description="情報セキュリティ対策要綱 hardening and audit")
    p.add_argument("--version", action="version", version=f"lgsec {__version__}")
    p.add_argument("--catalog", help="catalog file (default catalog/controls.yml)")
    sub = p.add_subparsers(dest="command", required=True)
    audit = sub.add_parser("audit", help="read-only audit; writes OUTDIR/report.json")
    audit.add_argument("-i", "--inventory", help="Ansible inventory (default: this machine)")
    audit.add_argument("-l", "--limit", help="limit to these hosts or groups")
    audit.add_argument("-o", "--outdir", default="reports", help="report directory (default reports/)")
    audit.add_argument("--controls", help="only these control ids, comma separated")
    audit.add_argument(
        "--configs",
        metavar="DIR",
        help="judge the network devices' saved running configurations in DIR (one file per device) without "
        "connecting; -i gives their variables and vendor",
    )
    audit.add_argument(
        "--evidence",
        metavar="DIR",
        help="judge Windows evidence collected offline by tools/windows/lgsec-collect.ps1 (DIR: one host's folder, "
        "or a folder of them, one per host) without connecting; -i gives their variables",
    )
    audit.add_argument("--vault-password-file", help="ansible-vault password file for the inventory")
    audit.add_argument(
        "--exceptions",
        metavar="FILE",
        help="approved exceptions (第99–101条; default: exceptions.yml beside the inventory, when present)",
    )
    audit.add_argument("-v", "--verbose", action="store_true", help="show Ansible's output")
    audit.add_argument("--history", metavar="PATH", help="history database (default OUTDIR/history.sqlite)")
    audit.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: the report on stdout (notes on stderr)"
    )
    audit.set_defaults(func=cmd_audit)
    hist = sub.add_parser("history", help="compliance over time per host and per article (第95条3)")
    hist.add_argument("--history", metavar="PATH", help="history database (default OUTDIR/history.sqlite)")
    hist.add_argument("-o", "--outdir", default="reports", help="report directory holding history.sqlite")
    hist.add_argument("-i", "--inventory", help="only the audits of this inventory (as the report names it)")
    hist.add_argument("--by", choices=("host", "article", "both"), default="both")
    hist.add_argument("-n", "--runs", type=int, default=10, help="the last N audits (default 10)")
    hist.set_defaults(func=cmd_history)
    harden = sub.add_parser("harden", help="enforce (playbooks/harden.yml) by two people, with a work record")
    harden.add_argument("-i", "--inventory", required=True, help="Ansible inventory")
    harden.add_argument("-l", "--limit", help="limit to these hosts or groups")
    harden.add_argument("--operator", required=True, help="the person who runs the change (第77条)")
    harden.add_argument("--confirmed-by", required=True, help="the other person who confirms it (第8条)")
    harden.add_argument("--check", action="store_true", help="check mode with diffs: change nothing")
    harden.add_argument("--tags", help="only these control ids, comma separated")
    harden.add_argument(
        "--full",
        action="store_true",
        help="run every control, also those whose audit passes (default: only the failing)",
    )
    harden.add_argument("--exceptions", metavar="FILE", help="approved exceptions (default: exceptions.yml beside it)")
    harden.add_argument("--log", default=WORK_LOG, help=f"work record (default {WORK_LOG})")
    harden.add_argument("--vault-password-file", help="ansible-vault password file for the inventory")
    harden.add_argument("-v", "--verbose", action="store_true", help="show Ansible's output")
    harden.set_defaults(func=cmd_harden)
    log = sub.add_parser("log", help="the work record of lgsec harden")
    log.add_argument("action", choices=("verify",))
    log.add_argument("--log", default=WORK_LOG, help=f"work record (default {WORK_LOG})")
    log.set_defaults(func=cmd_log)
    rep = sub.add_parser("report", help="reports built from the latest audit")
    rep.add_argument(
        "kind",
        choices=("self-inspection", "bundle", "verify"),
        help="self-inspection: 第119–120条, by chapter; bundle: sign one run's archive; verify: check an archive",
    )
    rep.add_argument(
        "target", nargs="?", metavar="RUN|ARCHIVE", help="bundle: run id (default the latest); verify: archive"
    )
    rep.add_argument("--attestations", metavar="FILE", help="self-inspection: attested manual items (YAML)")
    rep.add_argument("--key", metavar="PATH", help="bundle: the site's SSH private key that signs (ssh-keygen -Y sign)")
    rep.add_argument("--allowed-signers", metavar="FILE", help="verify: ssh-keygen allowed signers file")
    rep.add_argument("--identity", default="lgsec", help="verify: the signer's identity in that file (default lgsec)")
    rep.add_argument("--report", default="reports/report.json", help="the audit (default reports/report.json)")
    rep.add_argument(
        "-o", "--outdir", default="reports", help="where self-inspection.md is written; bundle: the reports of the runs"
    )
    rep.set_defaults(func=cmd_report)
    cat = sub.add_parser("catalog", help="validate and list the control catalog; show one control's files")
    cat.add_argument(
        "action",
        nargs="?",
        choices=("list", "show"),
        help="list: id, section, articles, title, platforms; show ID: the control and where it lives",
    )
    cat.add_argument("id", nargs="?", metavar="ID", help="show: the control id (docs/usage-catalog.md)")
    cat.set_defaults(func=cmd_catalog)
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit codes (errors.py, README): 0 compliant, 1 non-compliant (a report is written), 2 bad
    input (nothing run), 3 unreachable host, 4 a failed run or an unexpected error (never 1: the
    scheduled audit counts 1 as "report written"), 130 interrupted."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"lgsec: input error: {for_terminal(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:  # before or after a playbook run (during one, Interrupt handles it)
        print("lgsec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug or the machine (disk full …): exit 4, the traceback in a log
        return unexpected(exc, args, argv)


def unexpected(exc: Exception, args: argparse.Namespace, argv: list[str]) -> int:
    """One line naming what failed; the traceback in the error log (and on stderr with -v)."""
    import traceback

    log = log_unexpected(exc, argv, [p for p in (getattr(args, "outdir", None), "reports") if p])
    if getattr(args, "verbose", False):
        traceback.print_exception(exc, file=sys.stderr)
    where = f"; traceback in {log}" if log else ""
    print(
        f"lgsec: unexpected error in `lgsec {args.command}`: {type(exc).__name__}: {for_terminal(exc)}{where}",
        file=sys.stderr,
    )
    return EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
