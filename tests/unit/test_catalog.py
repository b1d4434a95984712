"""The catalog against CONTROLS.md and its schema; host variables against the catalog."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import ROOT

from lgsec.catalog import DEFAULT_CATALOG, load_catalog
from lgsec.errors import InputError
from lgsec.evaluate import validate_hostvars

CONTROLS_MD = ROOT / "docs" / "CONTROLS.md"  # the specification, copied into the repository
SHARED_MD = ROOT.parent / "shared" / "CONTROLS.md"  # where the union keeps it, beside a checkout
ROW = re.compile(r"^\| ([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*) \|")
SECTION = re.compile(r"^## ([A-Z])\. ")


def test_the_repository_copy_of_the_specification_is_current():
    """docs/CONTROLS.md is the specification the catalog is written from; where the union's own
    copy is beside the checkout, the two are the same text."""
    if not SHARED_MD.is_file():
        pytest.skip(f"{SHARED_MD} is not on this machine: only the repository's copy is checked")
    assert CONTROLS_MD.read_text(encoding="utf-8") == SHARED_MD.read_text(encoding="utf-8")


def spec_ids() -> dict[str, str]:
    """Control id → section letter, from the `| ID | …` rows of CONTROLS.md."""
    if not CONTROLS_MD.is_file():
        pytest.skip(f"{CONTROLS_MD} is not on this machine")
    ids, section = {}, None
    for line in CONTROLS_MD.read_text(encoding="utf-8").splitlines():
        if match := SECTION.match(line):
            section = match.group(1)
        elif match := ROW.match(line):
            ids[match.group(1)] = section
    return ids


def test_catalog_has_the_46_controls_of_controls_md(catalog):
    spec = spec_ids()
    assert len(spec) == 46
    assert list(catalog.controls) == list(spec)
    assert {c.id: c.section for c in catalog} == spec


def test_every_manual_control_says_what_to_attest(catalog):
    manual = [c for c in catalog if c.automation == "manual"]
    assert manual
    assert all(c.manual_note for c in manual)


# ---- malformed catalogs ----------------------------------------------------------------------


def real_catalog() -> dict:
    return yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))


def entry(data: dict, cid: str) -> dict:
    return next(c for c in data["controls"] if c["id"] == cid)


def drop_title(data):
    del entry(data, "PW-LENGTH")["title_en"]


def unknown_platform(data):
    entry(data, "LOCKOUT")["platforms"] = ["linux", "solaris"]


def default_of_wrong_type(data):
    entry(data, "PW-HISTORY")["params"]["remember"]["default"] = "five"


def default_below_minimum(data):
    entry(data, "PW-LENGTH")["params"]["min"]["default"] = 4


def unknown_param_type(data):
    entry(data, "PW-MAXAGE")["params"]["max_days"]["type"] = "integer"


def duplicate_id(data):
    twin = copy.deepcopy(entry(data, "PW-COMPLEXITY"))
    twin["id"] = "PW-LENGTH"
    data["controls"].append(twin)


def bad_article(data):
    entry(data, "SESSION-LIMIT")["articles"] = ["72条"]


def unknown_field(data):
    entry(data, "PRIV-MEMBERS")["severity"] = "high"


def bad_automation(data):
    entry(data, "ID-UNUSED")["automation"] = "automatic"


def unknown_format(data):
    entry(data, "USB-STORAGE")["params"]["allowed_devices"]["format"] = "vid-pid"


def default_of_wrong_format(data):
    entry(data, "FW-DEFAULT-DENY")["params"]["management_sources"]["default"] = ["anywhere"]


@pytest.mark.parametrize(
    ("mutate", "control", "field", "why"),
    [
        (drop_title, "PW-LENGTH", "title_en", "missing"),
        (unknown_platform, "LOCKOUT", "platforms", "solaris"),
        (default_of_wrong_type, "PW-HISTORY", "params.remember.default", "must be int"),
        (default_below_minimum, "PW-LENGTH", "params.min.default", "at least 8"),
        (unknown_param_type, "PW-MAXAGE", "params.max_days.type", "'integer'"),
        (duplicate_id, "PW-LENGTH", "id", "duplicate"),
        (bad_article, "SESSION-LIMIT", "articles", "72条"),
        (unknown_field, "PRIV-MEMBERS", "severity", "unknown field"),
        (bad_automation, "ID-UNUSED", "automation", "must be one of"),
        (unknown_format, "USB-STORAGE", "params.allowed_devices.format", "must be one of usb-id"),
        (default_of_wrong_format, "FW-DEFAULT-DENY", "params.management_sources.default", "got 'anywhere'"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_malformed_catalog_names_file_control_and_field(tmp_path, mutate, control, field, why):
    data = real_catalog()
    mutate(data)
    path = tmp_path / "controls.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_catalog(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"control {control}" in message
    assert raised.value.field == field and f": {field}: " in message
    assert why in message


def test_catalog_that_is_not_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "controls.yml"
    text = DEFAULT_CATALOG.read_text(encoding="utf-8").replace("    section: A\n", "    section: [A\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_catalog(path)
    assert str(path) in str(raised.value)
    assert re.search(r"line \d+", raised.value.field)
    assert "not valid YAML" in raised.value.message


def test_catalog_without_controls_list(tmp_path):
    path = tmp_path / "controls.yml"
    path.write_text("version: 1\ncontrol: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="'controls' list") as raised:
        load_catalog(path)
    assert raised.value.where == str(path)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(InputError, match="cannot read") as raised:
        load_catalog(tmp_path / "nope.yml")
    assert raised.value.where == str(tmp_path / "nope.yml")


def test_catalog_path_from_the_environment(tmp_path, monkeypatch):
    data = real_catalog()
    data["controls"] = data["controls"][:3]
    path = tmp_path / "small.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LGSEC_CATALOG", str(path))
    assert list(load_catalog().controls) == ["PW-LENGTH", "PW-COMPLEXITY", "PW-HISTORY"]


# ---- host variables ----------------------------------------------------------------------------


def test_valid_host_variables_pass(catalog):
    hostvars = {
        "lgsec_pw_length_min": 14,
        "lgsec_pw_complexity_dictcheck": False,
        "lgsec_priv_members_approved": ["tanaka"],
        "lgsec_importance": "II",
        "lgsec_controls": ["PW-LENGTH", "LOCKOUT"],
        "lgsec_mobile": True,
        "ansible_host": "192.0.2.10",
    }
    validate_hostvars(catalog, "web01", hostvars, source="inventories/prod.yml")


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("lgsec_pw_length_min", "twelve", "must be int, got str 'twelve'"),
        ("lgsec_pw_length_min", True, "must be int, got bool True"),
        ("lgsec_pw_length_min", 0, "must be at least 8, got 0"),
        ("lgsec_lockout_deny", 11, "must be at most 10, got 11"),
        ("lgsec_pw_complexity_dictcheck", "yes", "must be bool"),
        ("lgsec_priv_members_approved", "tanaka", "must be list"),
        ("lgsec_pw_length_minimum", 12, "PW-LENGTH has no parameter 'minimum'"),
        ("lgsec_controls", ["PW-LENGTH", "PW-LENGHT"], "unknown control id(s) PW-LENGHT"),
        ("lgsec_controls", "PW-LENGTH", "must be a list of control ids"),
        ("lgsec_importance", "V", "must be one of I, II, III, IV"),
    ],
)
def test_bad_host_variable_names_host_and_variable(catalog, variable, value, why):
    source = "inventories/prod.yml"
    with pytest.raises(InputError) as raised:
        validate_hostvars(catalog, "web01", {"lgsec_pw_length_min": 12, variable: value}, source=source)
    error = raised.value
    assert (error.where, error.field) == (f"{source}: host web01", variable)
    assert why in error.message
    assert str(error).startswith(f"{source}: host web01: {variable}: ")


def test_catalog_variables_follow_the_naming_rule(catalog):
    variables = catalog.variables()
    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    # The examples of docs/usage.md (Variables): each a real variable of the control it names
    for name, (cid, param) in {
        "lgsec_pw_length_min": ("PW-LENGTH", "min"),
        "lgsec_lockout_deny": ("LOCKOUT", "deny"),
        "lgsec_priv_members_approved": ("PRIV-MEMBERS", "approved"),
    }.items():
        control, spec = variables[name]
        assert (control.id, spec.name) == (cid, param)
        assert f"`{name}: " in usage, name
    assert len(variables) == sum(len(c.params) for c in catalog)  # no two parameters share a variable
