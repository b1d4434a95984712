"""Shared helpers of the unit tests: fixture loading, catalog, evaluation, import by path.

A control's fixture pair lives in tests/fixtures/linux/<ID>/{pass,fail}.yml: a YAML overlay on
a recorded base (tests/fixtures/linux/base-debian12.json). Overlay keys:

  _fixture       what the fixture represents (required, one line)
  base           the recorded facts it starts from (tests/fixtures/linux/<base>)
  expect_actual  (fail.yml) what the fail row's `actual` must name: the offending values
  files          path -> full text that replaces the file (null: the file is not on the host)
  shadow         user -> fields merged into that user's shadow entry (a new user: every field)
  lastlog        user -> last login, Unix time
  commands       command name -> {rc, stdout, stderr}, replacing the recorded result
  vars           host variables of the host (lgsec_*)
  postconf       mail servers (tests/fixtures/mail): Postfix parameter -> effective value, set in
                 the recorded `postconf -x` (`name/type/param`: a master.cf -o, in `postconf -P -x`)
  collected_at   when the facts were read (Unix time): fixtures with their own timeline (backup
                 runs, signature dates) fix it, so re-recording the base does not move them
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from lgsec.catalog import load_catalog
from lgsec.evaluate import evaluate_host

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "linux"
OVERLAY_KEYS = {"_fixture", "base", "expect_actual", "files", "shadow", "lastlog", "commands", "vars", "collected_at"}
OVERLAY_KEYS |= {"postconf"}  # mail servers

# Section A Linux controls with an automated check; each has a pass/fail fixture pair.
SECTION_A_CHECKED = (
    "PW-LENGTH",
    "PW-COMPLEXITY",
    "PW-HISTORY",
    "PW-MAXAGE",
    "PW-EMPTY",
    "LOCKOUT",
    "PRIV-MEMBERS",
    "PRIV-DEFAULT-ID",
    "ID-UNUSED",
    "SESSION-LIMIT",
)


@cache
def _base(name: str, folder: Path = FIXTURES) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def load_base(name: str = "base-debian12.json", folder: Path = FIXTURES) -> dict:
    """A recorded base, as a fresh copy the test may change."""
    return copy.deepcopy(_base(name, folder))


def apply_overlay(facts: dict, overlay: dict) -> tuple[dict, dict]:
    """Facts changed by an overlay, and the overlay's host variables."""
    unknown = set(overlay) - OVERLAY_KEYS
    assert not unknown, f"unknown overlay key(s) {unknown}"
    for path, text in (overlay.get("files") or {}).items():
        if text is None:
            facts["files"].pop(path, None)
            if path not in facts["missing"]:
                facts["missing"].append(path)
        else:
            facts["files"][path] = text
            if path in facts["missing"]:
                facts["missing"].remove(path)
    for user, fields in (overlay.get("shadow") or {}).items():
        facts["shadow"][user] = {**facts["shadow"].get(user, {}), **fields}
    facts["lastlog"].update(overlay.get("lastlog") or {})
    facts["commands"].update(overlay.get("commands") or {})
    for name, value in (overlay.get("postconf") or {}).items():
        result = facts["commands"]["postconf -P -x" if "/" in name else "postconf -x"]
        lines = [line for line in result["stdout"].splitlines() if line.partition(" =")[0] != name]
        result["stdout"] = "\n".join([*lines, f"{name} = {value}".rstrip()]) + "\n"
    facts["collected_at"] = overlay.get("collected_at", facts["collected_at"])
    return facts, dict(overlay.get("vars") or {})


def load_fixture(path: Path) -> tuple[dict, dict, dict]:
    """(facts, host variables, the overlay itself) of one fixture file."""
    overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts, hostvars = apply_overlay(load_base(overlay["base"], path.parent.parent), overlay)  # base of its platform
    return facts, hostvars, overlay


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yml"))


def evaluate(catalog, facts: dict, hostvars: dict | None = None, host: str = "web01", **kwargs) -> list[dict]:
    return evaluate_host(catalog, host, facts, hostvars or {}, source="fixture", **kwargs)


def row_for(rows: list[dict], control_id: str) -> dict:
    matches = [r for r in rows if r["control"] == control_id]
    assert len(matches) == 1, f"{control_id}: {len(matches)} rows"
    return matches[0]


def status_of(catalog, facts: dict, control_id: str, hostvars: dict | None = None) -> dict:
    """The row of one control after evaluating only that control."""
    return row_for(evaluate(catalog, facts, hostvars, only=[control_id]), control_id)


def assert_fixture_verdict(row: dict, path: Path, overlay: dict, where: str = "") -> None:
    """A fixture's row has the verdict its file name says (pass.yml / fail.yml), cites where it read its
    value, and a fail row names what its overlay's expect_actual lists (a fail fixture must list it)."""
    at = f"{path}{' on ' + where if where else ''}"
    assert row["status"] == path.stem, f"{at}: {row['actual']}"
    assert row["evidence"], "a verdict cites where it read its value"
    assert path.stem == "pass" or overlay.get("expect_actual"), f"{path}: list what the fail row names"
    for offending in overlay.get("expect_actual") or []:
        assert offending in row["actual"], f"{at}: {offending!r} not in {row['actual']!r}"


def import_path(name: str, path: Path):
    """Import a file that is not in a package (Ansible plugins and modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def base12() -> dict:
    return load_base("base-debian12.json")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs the real `lgsec audit` (a few seconds); -m 'not slow' skips it")
