"""Audit from saved evidence, without touching any host: facts read from files → the same
evaluator → the same report and exit code as a live run.

`report_offline` is the shared step (any platform's saved facts); `config_hosts` reads a folder
of network devices' running configurations (`lgsec audit --configs DIR`).
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from lgsec import netconfig, network, network_store, report, textsafe, windows
from lgsec.catalog import Catalog
from lgsec.errors import InputError
from lgsec.evaluate import evaluate_host, evidence_hostvars, host_platform


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
    report.check_outdir(outdir)
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
    return report.exit_code(data["results"]) if not data.get("history_error") else report.history_failed(data)


def judge_host(
    catalog: Catalog, host: str, facts: dict, hostvars: dict, *, source: str, only: list[str] | None = None
) -> list[dict]:
    """One host's rows. An unexpected failure while judging it (facts no check foresaw) costs
    that host alone: its rows are `error`, saying why; the other hosts are judged (live and
    offline alike: action_plugins/lgsec_report.py uses this too)."""
    try:
        return network_store.with_last_change(
            evaluate_host(catalog, host, facts, hostvars, source=source, only=only), facts
        )
    except Exception as exc:  # any exception: the host's rows say it, never the run's end
        from lgsec.checks import Verdict
        from lgsec.evaluate import host_class, row, selected

        platform = host_platform(hostvars, facts if isinstance(facts, dict) else None)
        reason = f"lgsec could not judge the facts: {type(exc).__name__}: {exc}"[:2000]
        verdict = Verdict("error", "facts lgsec can judge", reason)
        klass = host_class(hostvars)
        return [row(host, c, verdict, platform, klass, source) for c in selected(catalog, platform, hostvars, only)]


MAX_CONFIG_BYTES = 8 * 1024 * 1024  # a device's configuration is well under a few MB
HOST_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,253}")


def evidence_triples(
    catalog, directory: str | Path, inventory: dict[str, dict] | None = None, *, limited: bool = False
) -> list[tuple[str, dict, dict]]:
    """(host, facts, host variables) of every evidence folder under directory. The host is the
    computer the manifest names ($env:COMPUTERNAME when collected), matched case-insensitively to
    an inventory host; a folder named otherwise (renamed, copied) is judged under the manifest's
    name with a warning, and two folders of one computer are an InputError (which one is
    current cannot be told). Variables come from the inventory (catalog defaults otherwise) and
    are validated like a live run's. With --limit, only inventory hosts."""
    known = {name.casefold(): name for name in inventory or {}}
    seen: dict[str, Path] = {}
    out = []
    for folder_name, folder in windows.evidence_hosts(directory).items():
        facts = windows.read_evidence_dir(folder)
        computer = str(facts["computer"])
        if computer.casefold() in seen:
            raise InputError(
                str(folder),
                f"{windows.MANIFEST} computer",
                f"{computer!r} also collected in {seen[computer.casefold()]}: keep one evidence folder per computer",
            )
        seen[computer.casefold()] = folder
        if computer.casefold() != folder_name.casefold():
            print(
                f"lgsec: warning: {textsafe.for_terminal(folder)} holds the evidence of "
                f"{textsafe.for_terminal(computer)} (its manifest's computer name): judged as that computer",
                file=sys.stderr,
            )
        host = known.get(computer.casefold(), computer)
        if limited and host not in (inventory or {}):
            continue
        hostvars = evidence_hostvars(catalog, inventory, host, str(folder))
        out.append((host, facts, hostvars))
    return out


def _safe(name: str) -> str:
    return "".join(c if HOST_NAME.fullmatch(c) else "_" for c in name)[:253] or "_"


def config_hosts(
    catalog: Catalog, directory: str | Path, inventory: dict[str, dict] | None = None
) -> list[tuple[str, dict, dict]]:
    """(host, facts, host variables) of every saved running configuration in a directory.
    The host is the header's `host=` or the file name without its suffix; its variables come
    from the inventory when one is given (catalog defaults otherwise); the vendor from the
    inventory, else the header (`! lgsec: vendor=frr`), else ios. When the directory is the
    backup store (a git repository), each device's last recorded change is attached.

    A device that cannot be judged from its file gets facts with an `error` (its rows say
    `error`, naming the file and why; the other devices are judged): a file that cannot be read,
    is larger than MAX_CONFIG_BYTES, is not a regular file (a FIFO or directory named *.cfg),
    whose `hostname` is not the device it is judged as, two files for one device, and every
    network device of the inventory with no file at all."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(str(directory), "--configs", "not a directory")
    entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    out: dict[str, tuple[str, dict, dict]] = {}
    sources: dict[str, list[str]] = {}
    for path in entries:
        if not _regular(path):
            if path.suffix == ".cfg":
                host = _safe(path.stem)
                out.setdefault(host, (host, _error_facts(path, "not a regular file (a FIFO, directory or device)"), {}))
                sources.setdefault(host, []).append(str(path))
            continue
        host, facts = _read_config(path)
        sources.setdefault(host, []).append(str(path))
        out.setdefault(host, (host, facts, {}))
    if not out:
        raise InputError(str(directory), "--configs", "no configuration file in the directory")
    hosts = []
    for host, (_, facts, _) in out.items():
        if len(sources[host]) > 1:
            facts = _error_facts(
                Path(sources[host][0]), f"{len(sources[host])} files for {host}: {', '.join(sources[host])}"
            )
        hostvars = evidence_hostvars(catalog, inventory, host, facts["source"])
        vendor = _vendor(hostvars, facts)
        wrong = _wrong_device(host, hostvars, facts)
        if isinstance(vendor, InputError) or wrong:
            facts = _error_facts(Path(facts["source"]), wrong or str(vendor))
        facts["vendor"] = vendor if isinstance(vendor, str) else "ios"
        change = network_store.last_change(directory, host)
        if change:
            facts["last_change"] = change
        hosts.append((host, facts, hostvars))
    for host, hostvars in (inventory or {}).items():
        if host not in out and host_platform(hostvars) == "network" and not hostvars.get("lgsec_decommissioned"):
            facts = _error_facts(directory / f"{host}.cfg", f"no saved configuration of {host} in {directory}")
            facts["vendor"] = network.vendor_of(hostvars, where=str(directory))
            hosts.append((host, facts, evidence_hostvars(catalog, inventory, host, str(directory))))
    return hosts


def _vendor(hostvars: dict, facts: dict) -> str | InputError:
    """The device's vendor; an unknown one in the file's header is that device's error (an
    unknown one in the inventory stops the run: the inventory is the operator's input)."""
    header = facts.pop("header", {})
    try:
        return network.vendor_of(hostvars, header, where=facts["source"])
    except InputError as exc:
        if hostvars.get("lgsec_network_vendor") or not header.get("vendor"):
            raise
        return exc


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # let the read say why (a dangling link, no permission)


def _error_facts(path: Path, why: str) -> dict:
    return {"platform": "network", "running_config": "", "source": str(path), "error": f"{path}: {why}"}


def _read_config(path: Path) -> tuple[str, dict]:
    """(host, facts) of one saved configuration; facts carry an `error` when it cannot be judged."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        return path.stem, _error_facts(path, f"cannot read the configuration: {exc.strerror or exc}")
    if len(data) > MAX_CONFIG_BYTES:
        return path.stem, _error_facts(
            path, f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB: not a device configuration"
        )
    text = netconfig.byte_view(data)  # the bytes as the device reads them; words decoded for display
    header = network.read_header(text)
    host = header.get("host") or path.stem
    if not HOST_NAME.fullmatch(host):
        return _safe(host), _error_facts(path, f"{_safe(host)!r} is not a host name (letters, digits, . _ : -)")
    facts = {"platform": "network", "source": str(path), "header": header}
    try:
        facts["running_config"] = data.decode("utf-8")
    except UnicodeDecodeError:  # cp932 or any bytes: kept one byte per character, the model reads the bytes
        facts.update(running_config=data.decode("latin-1"), encoding="bytes")
    hostname = next(iter(network.parse(network.config_bytes(facts), "ios", str(path)).top(r"^hostname \S+")), None)
    facts["hostname"] = hostname.words[1] if hostname else None
    return host, facts


def _wrong_device(host: str, hostvars: dict, facts: dict) -> str:
    """Why a file is not the configuration of the device it is judged as ("" when it is): its
    `hostname` must be the host (or its first label, or the host's lgsec_network_hostname)."""
    named = facts.pop("hostname", None)
    if facts.get("error") or named is None:
        return ""
    expected = str(hostvars.get("lgsec_network_hostname") or host)
    if named.lower() in (expected.lower(), expected.split(".")[0].lower()):
        return ""
    why = f"hostname {named} in the file, but judged as {host}"
    header = network.read_header(facts["running_config"])
    why += f" (header host={header['host']})" if header.get("host") else " (its file name)"
    return why + ": a copy of another device's configuration? (lgsec_network_hostname names a differing hostname)"
