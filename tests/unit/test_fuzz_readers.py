"""Property-based tests of every reader lgsec has for input it did not write (issue 16): inventory
variables, exceptions, attestations, the catalog, YAML itself, the work record, and whole offline
audits over network configurations and Windows evidence. The contract, whatever the input:

- no uncaught exception: bad input is an InputError (exit 2) naming the file;
- the exit code is one of the documented ones (0 1 2 3 4 130);
- when a report is written, every other host is in it, judged as without the broken one.

Bounded (max_examples, no deadline): the whole file runs in well under two minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import yaml
from conftest import ROOT, load_base
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgsec import exceptions, offline, report_formats, safeyaml, selfinspect, worklog
from lgsec.catalog import load_catalog
from lgsec.checks import STATUSES
from lgsec.cli import main
from lgsec.errors import InputError
from lgsec.evaluate import validate_hostvars
from lgsec.variables import OWN

EXIT_CODES = {0, 1, 2, 3, 4, 130}
CATALOG = load_catalog()
CONFIGS = ROOT / "tests" / "fixtures" / "network" / "configs"
WINDOWS_BASE = ROOT / "tests" / "fixtures" / "windows" / "base-win11-en"
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text as a file holds it (no lone surrogates in a UTF-8 file), with the ugly characters weighted in
UGLY = st.sampled_from(["\x1b[2J", "\r", "\n", "\u2028", "\u3000", "\ufeff", "=", "＝", "|", "<", "*", "'", '"', "\\"])
TEXT = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), UGLY)
DATES = st.sampled_from(["2026-10-01", "2027-02-30", "2026-W40-1", "20261001", "2026-10-01 10:00:00", "9999-12-31"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), TEXT, DATES)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
VAR_NAMES = st.one_of(
    st.sampled_from(sorted(set(CATALOG.variables()) | OWN)),
    st.sampled_from(sorted(CATALOG.variables())).map(lambda n: n[:-1] + "x"),  # misspelt
    st.text("abcdefghijklmnopqrstuvwxyz_", max_size=12).map(lambda s: "lgsec_" + s),
)


def quiet(call):
    """(result, stdout, stderr) of call, output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = call()
    return result, out.getvalue(), err.getvalue()


@FEW
@given(st.dictionaries(VAR_NAMES, VALUES, max_size=4))
def test_inventory_variables_are_refused_or_judged_never_a_crash(hostvars):
    hostvars = {"lgsec_importance": "II", "group_names": [], **hostvars}
    try:
        validate_hostvars(CATALOG, "web01", hostvars, source="hosts.yml")
    except InputError as exc:
        assert exc.where.startswith("hosts.yml: host web01") and exc.field
        return
    rows = offline.judge_host(CATALOG, "web01", load_base(), hostvars, source="evidence")
    assert rows and {r["status"] for r in rows} <= set(STATUSES)


@SLOW
@given(st.sampled_from(sorted(CATALOG.variables())), VALUES)
def test_inventory_files_as_ansible_reads_them_are_refused_or_valid(name, value):
    """The inventory read by Ansible's own code (its YAML, its types), then validated as lgsec does."""
    from lgsec.inventory import load_inventory

    host = {"ansible_connection": "local", "lgsec_importance": "II", name: value}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "hosts.yml")
        path.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}}}, allow_unicode=True), encoding="utf-8")
        try:
            for host_name, hostvars in load_inventory(str(path), None).items():
                validate_hostvars(CATALOG, host_name, hostvars, source=str(path))
        except InputError as exc:
            assert exc.where.startswith(str(path))


EXCEPTION_KEYS = st.one_of(st.sampled_from([*exceptions.KNOWN, "ticket"]), st.integers(0, 3), st.none())


@FEW
@given(st.lists(st.dictionaries(EXCEPTION_KEYS, VALUES, max_size=9), max_size=3), st.booleans())
def test_exceptions_files_are_refused_or_read_never_a_crash(entries, full):
    base = {"reference": "R-1", "control": "USB-STORAGE", "hosts": ["web01"], "reason": "r", "requested_by": "a",
            "approved_by": "b", "approved_on": "2026-10-01", "expires_on": "2027-03-31"}  # fmt: skip
    entries = [{**base, **e} if full else e for e in entries]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "exceptions.yml")
        path.write_text(yaml.safe_dump({"exceptions": entries}, allow_unicode=True), encoding="utf-8")
        try:
            found = exceptions.load(path, CATALOG, {"web01": ["web"]})
        except InputError as exc:
            assert exc.where.startswith(str(path))
            return
    for exc in found:  # what is accepted is what the policy allows
        assert exc.approved_on <= exc.expires_on and not exceptions.same_person(exc.requested_by, exc.approved_by)


@FEW
@given(st.lists(st.dictionaries(st.sampled_from([*selfinspect.TEXT, "attested_on"]), VALUES, max_size=7), max_size=3))
def test_attestations_are_refused_or_read_never_a_crash(items):
    sections = selfinspect.load_sections()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "attestations.yml")
        path.write_text(yaml.safe_dump({"attestations": items}, allow_unicode=True), encoding="utf-8")
        try:
            selfinspect.load_attestations(path, CATALOG, sections)
        except InputError as exc:
            assert exc.where.startswith(str(path))


READERS = {
    "exceptions": lambda path: exceptions.load(path, CATALOG, {"web01": []}),
    "attestations": lambda path: selfinspect.load_attestations(path, CATALOG, selfinspect.load_sections()),
    "catalog": load_catalog,
}


@FEW
@given(st.sampled_from(sorted(READERS)), VALUES, st.booleans())
def test_any_document_shape_is_refused_or_read(reader, value, wrapped):
    data = {reader if reader != "catalog" else "controls": value} if wrapped else value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "file.yml")
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            READERS[reader](path)
        except InputError as exc:
            assert exc.where.startswith(str(path))


CATALOG_DATA = yaml.safe_load((ROOT / "catalog" / "controls.yml").read_text(encoding="utf-8"))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, len(CATALOG_DATA["controls"]) - 1), st.sampled_from(
    ["id", "section", "articles", "title_ja", "platforms", "automation", "params", "classes", "mobile_only", "x", 1]),
    VALUES)  # fmt: skip
def test_a_damaged_catalog_is_refused_never_a_crash(index, field, value):
    data = json.loads(json.dumps(CATALOG_DATA))
    data["controls"][index][field] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "controls.yml")
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            load_catalog(path)
        except InputError as exc:
            assert exc.where.startswith(str(path))


YAMLISH = st.lists(
    st.sampled_from([*"ab:- &*[]{}!|>'\"\n\t#%@`,?0123456789", "2026-02-30", "\u3000", "!vault ", "<<: *a\n"]),
    max_size=40,
).map("".join)


@FEW
@given(YAMLISH)
def test_any_yaml_text_is_read_or_refused_naming_the_file(text):
    try:
        safeyaml.loads(text, "f.yml", "exceptions file")
        safeyaml.loads(text, "f.yml", "inventory", any_tags=True)
    except InputError as exc:
        assert exc.where == "f.yml"


RECORD_TEXT = st.text(st.characters(), max_size=10)  # lone surrogates too: Ansible output is any text


@FEW
@given(st.lists(st.dictionaries(st.sampled_from(["operator", "task", "msg", "diff"]), RECORD_TEXT, max_size=4),
                min_size=1, max_size=4), st.binary(max_size=40))  # fmt: skip
def test_the_work_record_keeps_any_text_and_survives_a_torn_line(records, garbage):
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "work.jsonl")
        for record in records:
            worklog.append(log, record)
        assert worklog.verify(log) == []
        kept = [{k: v for k, v in e.items() if k not in ("seq", "hash", "prev_hash")} for e in worklog.entries(log)]
        assert kept == records
        with open(log, "ab") as handle:
            handle.write(garbage)  # a torn or damaged end
        worklog.verify(log)  # names it, or finds nothing wrong (garbage of white space)
        entry = worklog.append(log, {"operator": "next"})
        assert entry["seq"] == len(records) + 1 and worklog.entries(log)[-1] == entry


@FEW
@given(st.text(st.characters(), max_size=12))
def test_no_csv_cell_starts_a_formula(text):
    value = report_formats.cell({"actual": text}, "actual")
    assert value.startswith("'") or not value.lstrip().startswith(report_formats.FORMULA_START)


@FEW
@given(st.text(st.characters(), max_size=20))
def test_a_markdown_cell_is_one_line_and_no_markup(text):
    value = selfinspect.cell(text)
    assert len(value.splitlines()) <= 1 and not re.search(r"(?<!\\)(\\\\)*[<\[|`*]", value)
    assert len(selfinspect.plain(value).splitlines()) <= 1


# ---- whole offline audits: one broken input, every other host still in the report -------------

CONFIG_LINES = st.sampled_from(
    [" exec-timeout", " exec-timeout 0 0", "line vty 0 4", "snmp-server community public RO", "no snmp-server",
     "interface GigabitEthernet1/0/1", " shutdown", "hostname", "end", "!", "\x1b[2J", "\u2028", "banner motd ^C",
     " password 7 0822455D0A16", "ip ssh version 2", "username admin privilege 15 secret 0 x", "aaa new-model"]
)  # fmt: skip


def audit(folder: Path, option: str, out: Path) -> tuple[int, str, str]:
    return quiet(lambda: main(["audit", option, str(folder), "-o", str(out)]))


def verdicts(out: Path) -> dict[str, dict[str, str]]:
    """host → control → status of the report in out."""
    found: dict[str, dict[str, str]] = {}
    for row in json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]:
        found.setdefault(row["host"], {})[row["control"]] = row["status"]
    return found


@cache
def baseline(option: str) -> dict[str, dict[str, str]]:
    """The verdicts of the intact input, to compare each fuzzed run's other hosts with."""
    with tempfile.TemporaryDirectory() as tmp:
        if option == "--configs":
            folder = CONFIGS
        else:
            folder = Path(tmp, "evidence")
            shutil.copytree(WINDOWS_BASE, folder / "pc-good")
        code, _, stderr = audit(folder, option, Path(tmp, "out"))
        assert code in (0, 1), stderr
        return verdicts(Path(tmp, "out"))


@SLOW
@given(st.lists(st.one_of(CONFIG_LINES, TEXT), max_size=12), st.sampled_from(["utf-8", "shift_jis", "raw"]))
def test_a_broken_configuration_costs_only_its_own_device(lines, encoding):
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp, "configs"), Path(tmp, "out")
        shutil.copytree(CONFIGS, folder)
        text = "\n".join(lines) + "\n"
        data = bytes(range(128, 256)) if encoding == "raw" else text.encode(encoding, "replace")
        (folder / "sw-fuzz.cfg").write_bytes(data)
        code, _, stderr = audit(folder, "--configs", out)
        assert code in EXIT_CODES and "Traceback" not in stderr, stderr
        if code == 2:
            assert "sw-fuzz.cfg" in stderr, stderr  # the input error names the broken file
            return
        found = verdicts(out)
        assert "sw-fuzz" in found  # the broken device is in the report too (error rows where unreadable)
        assert {h: v for h, v in found.items() if h != "sw-fuzz"} == baseline("--configs")


EVIDENCE_FILES = sorted(p.name for p in WINDOWS_BASE.iterdir() if p.is_file())
BROKEN_JSON = st.one_of(
    st.sampled_from(['{"a": "\\ud800"}', '{"a": 1, "a": 2}', "[", "null", '"x"', "{}", "[]", "\ufeff{}", "1e999"]),
    TEXT.map(lambda t: json.dumps({"Name": t})),
)


@SLOW
@given(st.sampled_from(EVIDENCE_FILES), st.one_of(BROKEN_JSON, st.binary(max_size=30).map(bytes.hex)), st.booleans())
def test_broken_windows_evidence_costs_only_its_own_pc(name, content, shift_jis):
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp, "evidence"), Path(tmp, "out")
        shutil.copytree(WINDOWS_BASE, folder / "pc-good")
        shutil.copytree(WINDOWS_BASE, folder / "pc-odd")
        (folder / "pc-odd" / name).write_bytes(content.encode("shift_jis" if shift_jis else "utf-8", "replace"))
        code, _, stderr = audit(folder, "--evidence", out)
        assert code in EXIT_CODES and "Traceback" not in stderr, stderr
        if code == 2:
            assert "pc-odd" in stderr, stderr  # the input error names the broken PC's file
            return
        found = verdicts(out)
        assert "pc-odd" in found and found["pc-good"] == baseline("--evidence")["pc-good"]
