"""Audit from saved evidence, without touching any host: facts read from files → the same
evaluator → the same report and exit code as a live run.

`report_offline` is the shared step (any platform's saved facts); `config_hosts` reads a folder
of network devices' running configurations (`lgsec audit --configs DIR`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lgsec import network, report, textsafe
from lgsec.catalog import Catalog
from lgsec.errors import InputError
from lgsec.evaluate import evaluate_host, evidence_hostvars


def report_offline(
    catalog: Catalog,
    hosts: Iterable[tuple[str, dict, dict]],
    *,
    source: str,
    outdir: str | Path,
    inventory: str,
    only: list[str] | None = None,
    waivers: list | None = None,
    groups: dict[str, list[str]] | None = None,
    history: str | Path | None = None,
    output: str = "text",
) -> int:
    """Judge (host, facts, host variables) triples, write OUTDIR/report.json, print the
    summary; returns lgsec's exit code. waivers: the validated exceptions (lgsec/exceptions.py)
    with groups, host → its inventory groups; history: the history database (default OUTDIR's);
    output: text (the summary) or json (the report on stdout)."""
    from lgsec.cli import check_outdir, history_failed

    check_outdir(outdir)
    started = report.now_iso()
    rows: list[dict] = []
    seen: dict[str, dict] = {}
    for host, facts, hostvars in hosts:
        seen[host] = facts
        rows += judge_host(catalog, host, facts, hostvars, source=source, only=only)
    if not rows:
        raise InputError(inventory, "-", "no host to judge")
    data = report.build(textsafe.storable(rows), started=started, inventory=inventory, mode="audit", catalog=catalog)
    if waivers is not None:
        from lgsec import exceptions

        data = exceptions.attach(data, waivers, {r["host"]: (groups or {}).get(r["host"], []) for r in rows})
    path = report.write(data, outdir, history=history, facts=seen)
    report.show(data, path, output)
    return report.exit_code(data["results"]) if not data.get("history_error") else history_failed(data)


def judge_host(
    catalog: Catalog, host: str, facts: dict, hostvars: dict, *, source: str, only: list[str] | None = None
) -> list[dict]:
    """One host's rows. An unexpected failure while judging it (facts no check foresaw) costs
    that host alone: its rows are `error`, saying why; the other hosts are judged (live and
    offline alike: action_plugins/lgsec_report.py uses this too)."""
    try:
        return network.with_last_change(evaluate_host(catalog, host, facts, hostvars, source=source, only=only), facts)
    except Exception as exc:  # any exception: the host's rows say it, never the run's end
        from lgsec.checks import Verdict
        from lgsec.evaluate import host_class, host_platform, row, selected

        platform = host_platform(hostvars, facts if isinstance(facts, dict) else None)
        reason = f"lgsec could not judge the facts: {type(exc).__name__}: {exc}"[:2000]
        verdict = Verdict("error", "facts lgsec can judge", reason)
        klass = host_class(hostvars)
        return [row(host, c, verdict, platform, klass, source) for c in selected(catalog, platform, hostvars, only)]


def config_hosts(
    catalog: Catalog, directory: str | Path, inventory: dict[str, dict] | None = None
) -> list[tuple[str, dict, dict]]:
    """(host, facts, host variables) of every saved running configuration in a directory.
    The host is the header's `host=` or the file name without its suffix; its variables come
    from the inventory when one is given (catalog defaults otherwise); the vendor from the
    inventory, else the header (`! lgsec: vendor=frr`), else ios. When the directory is the
    backup store (a git repository), each device's last recorded change is attached."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(str(directory), "--configs", "not a directory")
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError(str(directory), "--configs", "no configuration file in the directory")
    out = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), "-", f"cannot read the configuration: {exc}") from exc
        header = network.read_header(text)
        host = header.get("host") or path.stem
        hostvars = evidence_hostvars(catalog, inventory, host, str(path))
        facts = {
            "platform": "network",
            "vendor": network.vendor_of(hostvars, header, where=str(path)),
            "running_config": text,
            "source": str(path),
        }
        change = network.last_change(directory, host)
        if change:
            facts["last_change"] = change
        out.append((host, facts, hostvars))
    return out
