"""Every check declares the facts it reads (`@check(ID, platform, files=…, commands=…, facts=…)`,
lgsec.checks.Reads), and the declarations are the truth:

- each check, run on its fixtures (and the Linux checks on the recorded stock images) with ONLY the
  facts it declares, gives the row it gives on all the facts; a lookup of an undeclared fact fails
  the test at once, naming it;
- a fixture overlay changes only facts that its control's check declares;
- the Linux gather (library/lgsec_linux_facts.py) reads exactly the union of the Linux and mail
  declarations: nothing a check needs is left out (its rows would be errors on every host), and
  nothing is read that no check reads;
- every Windows evidence file a check declares is one the collector writes.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import windows_fixtures as wf
import yaml
from conftest import FIXTURES, ROOT, import_path, load_base, load_fixture
from test_network import CONFIGS, inventory_vars

from lgsec import offline, windows
from lgsec.checks import CHECKS, READS, Ctx, Reads, declared, load_all
from lgsec.evaluate import evaluate_host, host_platform

load_all()
gather = import_path("lgsec_linux_facts_reads", ROOT / "library" / "lgsec_linux_facts.py")

MAIL = ROOT / "tests" / "fixtures" / "mail"
# Facts that say what the facts are, not what the host holds: every check may read them.
STRUCTURAL = {
    "schema",
    "platform",
    "collected_at",
    "euid",
    "read_at",  # Windows: the audit's moment (evidence age)
    "computer",
    "collector",
    "registry_keys",  # Windows: which evidence file holds which exported key
    "vendor",  # network devices: ios or frr, the source it was read from, why it was not
    "source",
    "error",
    "encoding",
}
# Windows evidence the collector writes for a person to read, that no check judges.
WINDOWS_EVIDENCE_ONLY = {"w32tm.txt": "w32tm /query /configuration: TIME-SYNC reads the W32Time registry keys"}


class Undeclared(AssertionError):
    """A check looked up a fact it does not declare (an AssertionError: the evaluator does not
    turn it into an error row)."""


class StrictDict(dict):
    """The declared part of a facts mapping; looking up any other key raises Undeclared."""

    def __init__(self, data: dict, allowed, what: str):
        super().__init__({k: v for k, v in data.items() if allowed(k)})
        self.allowed, self.what = allowed, what

    def _check(self, key):
        if not self.allowed(key):
            raise Undeclared(f"{self.what} {key!r} is read but not declared")

    def __getitem__(self, key):
        self._check(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._check(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._check(key)
        return super().__contains__(key)


class StrictList(list):
    def __init__(self, data: list, allowed, what: str):
        super().__init__(k for k in data if allowed(k))
        self.allowed, self.what = allowed, what

    def __contains__(self, key):
        if not self.allowed(key):
            raise Undeclared(f"{self.what} {key!r} is read but not declared")
        return super().__contains__(key)


def only_declared(facts: dict, reads: Reads) -> StrictDict:
    """The facts one check may read: what it declares and the structural keys."""

    def named(key: str) -> bool:
        return reads.reads_file(key) or reads.reads_command(key)

    top = {"files", "missing", "errors", "commands", *reads.facts, *(f"{f}_source" for f in reads.facts)}
    out = dict(facts)
    for key, allowed in (("files", reads.reads_file), ("commands", reads.reads_command), ("errors", named)):
        if key in out:
            out[key] = StrictDict(out[key], allowed, f"{key}:")
    if "missing" in out:
        out["missing"] = StrictList(out["missing"], reads.reads_file, "missing:")
    strict = StrictDict(out, lambda k: k in STRUCTURAL or k in top, "fact")
    strict.reads = reads
    return strict


@pytest.fixture(autouse=True)
def folders_are_declared(monkeypatch):
    """ctx.files(prefix) reads a whole folder: a declared file must lie in it."""
    original = Ctx.files

    def files(self, prefix):
        reads = getattr(self.facts, "reads", None)
        if reads is not None and not any(p.startswith(prefix) or fnmatch.fnmatchcase(prefix, p) for p in reads.files):
            raise Undeclared(f"files under {prefix!r} are read but none is declared")
        return original(self, prefix)

    monkeypatch.setattr(Ctx, "files", files)


def check_key(control_id: str, facts: dict, hostvars: dict) -> tuple[str, str] | None:
    """The check the evaluator runs for this control on this host (as lgsec.evaluate.judge picks it)."""
    platforms = [host_platform(hostvars, facts), *hostvars.get("lgsec_extra_platforms", [])]
    return next(((control_id, p) for p in platforms if (control_id, p) in CHECKS), None)


def assert_declared(catalog, control_id: str, facts: dict, hostvars: dict, host: str = "web01") -> None:
    key = check_key(control_id, facts, hostvars)
    assert key is not None, f"{control_id}: no check for this host"
    full = evaluate_host(catalog, host, facts, hostvars, only=[control_id])
    strict = evaluate_host(catalog, host, only_declared(facts, READS[key]), hostvars, only=[control_id])
    shown = ("status", "expected", "actual", "evidence", "details")
    want, got = ({k: r[0].get(k) for k in shown} for r in (full, strict))
    assert got == want, f"{key} reads a fact it does not declare: with its declared facts only it gives {got}"


def linux_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yml")) + sorted(MAIL.glob("*/*.yml"))


@pytest.mark.parametrize("path", linux_fixtures(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}")
def test_a_linux_or_mail_check_reads_only_what_it_declares(catalog, path):
    facts, hostvars, _overlay = load_fixture(path)
    if path.is_relative_to(MAIL):
        hostvars = {"lgsec_extra_platforms": ["mail"], **hostvars}
    assert_declared(catalog, path.parent.name, facts, hostvars)


@pytest.mark.parametrize("base", ["base-debian12.json", "base-debian13.json"])
def test_every_linux_check_on_the_stock_image_reads_only_what_it_declares(catalog, base):
    facts = load_base(base)
    for control_id in sorted(cid for cid, platform in CHECKS if platform == "linux"):
        assert_declared(catalog, control_id, facts, {})


@pytest.mark.parametrize("path", wf.fixture_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_windows_check_reads_only_what_it_declares(catalog, path, tmp_path):
    for base in wf.BASES:
        facts, hostvars, _overlay = wf.fixture_facts(path, tmp_path, base)
        assert_declared(catalog, path.parent.name, facts, hostvars, host="pc01")


def test_a_network_check_reads_only_what_it_declares(catalog):
    devices = offline.config_hosts(catalog, CONFIGS, inventory_vars())
    assert devices
    for host, facts, hostvars in devices:
        for control_id in sorted(cid for cid, platform in CHECKS if platform == "network"):
            assert_declared(catalog, control_id, facts, hostvars, host=host)


def test_an_undeclared_read_is_caught():
    """The strict facts do catch a check reading past its declaration (a test that cannot fail
    would prove nothing)."""
    facts = load_base()
    strict = only_declared(facts, Reads(files=("/etc/login.defs",)))
    ctx = Ctx("web01", strict, {}, {}, lambda _cid: {})
    assert ctx.file("/etc/login.defs")
    with pytest.raises(Undeclared, match="/etc/passwd"):
        ctx.file("/etc/passwd")
    with pytest.raises(Undeclared, match="sshd -T"):
        ctx.command("sshd -T")
    with pytest.raises(Undeclared, match="shadow"):
        ctx.fact("shadow")
    with pytest.raises(Undeclared, match="/etc/sudoers"):
        Ctx.files(ctx, "/etc/sudoers")


# ---- fixture overlays ------------------------------------------------------------------------


def overlay_facts(path: Path) -> list[tuple[str, str]]:
    """(kind, key) of every fact a Linux or mail overlay changes."""
    overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = [("files", p) for p in overlay.get("files") or {}]
    found += [("commands", c) for c in overlay.get("commands") or {}]
    found += [("facts", k) for k in ("shadow", "lastlog") if overlay.get(k)]
    found += [("commands", "postconf -P -x" if "/" in n else "postconf -x") for n in overlay.get("postconf") or {}]
    return found


def windows_overlay_facts(path: Path) -> list[tuple[str, str]]:
    overlay = wf.load_overlay(path)
    names = [*(overlay.get("replace") or {}), *(overlay.get("append") or {}), *(overlay.get("remove") or [])]
    manifest = overlay.get("manifest") or {}
    names += [*(manifest.get("errors") or {}), *(manifest.get("missing") or [])]
    names += [f for f in (manifest.get("registry_keys") or {}).values() if f]
    return [("files", n) for n in names]


def declares(reads: Reads, kind: str, key: str) -> bool:
    if kind == "files":
        return reads.reads_file(key)
    if kind == "commands":
        return reads.reads_command(key)
    return key in reads.facts


@pytest.mark.parametrize(
    "path",
    linux_fixtures() + wf.fixture_files(),
    ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}",
)
def test_an_overlay_changes_only_facts_some_check_declares(path):
    """A fixture sets facts a check reads: one no check declares would be gathered nowhere (a
    fixture the gather could never record). Facts of other controls are allowed: a fixture keeps
    its host consistent (ID-UNUSED's users are in /etc/passwd too)."""
    if path.is_relative_to(wf.WIN_FIXTURES):
        platforms, changed = ("windows",), windows_overlay_facts(path)
    else:
        platforms, changed = ("linux", "mail"), overlay_facts(path)
    reads = [r for (_cid, platform), r in READS.items() if platform in platforms]
    assert (path.parent.name, "mail" if path.is_relative_to(MAIL) else platforms[0]) in READS
    stray = [f"{kind} {key}" for kind, key in changed if not any(declares(r, kind, key) for r in reads)]
    assert not stray, f"{path}: the overlay sets facts no check declares: {stray}"


def test_an_overlay_fact_no_check_declares_is_caught(tmp_path):
    path = tmp_path / "linux" / "LOCKOUT" / "fail.yml"
    path.parent.mkdir(parents=True)
    path.write_text("files:\n  /etc/nowhere.conf: x\n", encoding="utf-8")
    reads = [r for (_cid, platform), r in READS.items() if platform in ("linux", "mail")]
    stray = [k for kind, k in overlay_facts(path) if not any(declares(r, kind, k) for r in reads)]
    assert stray == ["/etc/nowhere.conf"]


# ---- the Linux gather is the union of the declarations -----------------------------------------


def declared_union(kind: str) -> set[str]:
    return {
        key
        for (_cid, platform), reads in READS.items()
        if platform in ("linux", "mail")
        for key in getattr(reads, kind)
    }


def gathered(kind: str) -> list[str]:
    """What the gather module reads, by the names the facts use (patterns for the readers' own)."""
    if kind == "files":
        return [*gather.FILES, *gather.GLOBS, *gather.MAIL_FILES, *gather.READERS["files"]]
    return [*gather.COMMANDS, *gather.MAIL_COMMANDS, *gather.READERS["commands"]]


@pytest.mark.parametrize("kind", ["files", "commands"])
def test_the_gather_reads_what_some_check_declares(kind):
    union = declared_union(kind)
    unread = [name for name in gathered(kind) if not any(fnmatch.fnmatchcase(name, p) for p in union)]
    assert not unread, f"the gather reads {kind} no check declares (declare them, or stop reading them): {unread}"


@pytest.mark.parametrize("kind", ["files", "commands"])
def test_every_declared_fact_is_gathered(kind):
    names = gathered(kind)
    never = sorted(p for p in declared_union(kind) if not any(fnmatch.fnmatchcase(n, p) for n in names))
    assert not never, f"checks declare {kind} the gather never reads (their rows would be errors): {never}"


def test_windows_checks_declare_evidence_the_collector_writes():
    collected = [*windows.FILES, *windows.REG_KEYS.values()]
    declared = {name for (_cid, platform), reads in READS.items() if platform == "windows" for name in reads.files}
    user_hives = {n for n in declared if "*" in n}
    assert user_hives == {"registry/*-user-*.reg"}  # the loaded user hives (SW-INVENTORY, SW-UNAPPROVED)
    assert sorted(declared - set(collected) - user_hives) == []
    unread = [n for n in collected if n not in declared and n not in WINDOWS_EVIDENCE_ONLY]
    assert not unread, f"the collector writes evidence no Windows check declares: {unread}"


def test_network_and_mail_checks_declare_their_structured_facts():
    for (cid, platform), reads in READS.items():
        if platform == "network":
            assert reads.facts == ("running_config",), cid
        if platform == "mail":
            assert "mail" in reads.facts, cid


def test_declared_gives_what_a_check_reads():
    """What `lgsec catalog show ID` prints: the declaration, also on the registered function."""
    reads = declared("LOCKOUT", "linux")
    assert "/etc/security/faillock.conf" in reads.files and "/etc/pam.d/common-auth" in reads.files
    assert CHECKS[("LOCKOUT", "linux")].reads == reads
    assert declared("PW-LENGTH", "windows").files == ("secedit.inf",)
    assert declared("LOCKOUT", "network").facts == ("running_config",)
    with pytest.raises(KeyError):
        declared("LOCKOUT", "mail")  # no such check
