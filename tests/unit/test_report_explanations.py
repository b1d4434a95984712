"""catalog/explanations.yml: every control explained (why, how to fix, references), validated
with the catalog, carried into the report rows."""

from __future__ import annotations

import shutil

import pytest
import yaml

from lgsec.catalog import DEFAULT_CATALOG, load_catalog
from lgsec.errors import InputError

EXPLANATIONS = DEFAULT_CATALOG.parent / "explanations.yml"


def test_every_control_is_explained_in_both_languages():
    catalog = load_catalog()
    for control in catalog:
        exp = control.explanation
        assert exp is not None, control.id
        for text in (exp.description, exp.rationale, exp.remediation):
            assert text["ja"] and text["en"], control.id
        assert any(a.split("条")[0] + "条" in exp.rationale["ja"] for a in control.articles), control.id
        assert f"lgsec harden --tags {control.id}" in exp.remediation["ja"]
        assert any(r.startswith("総務省ガイドライン") for r in exp.references), control.id


def copied(tmp_path, change) -> tuple:
    shutil.copy(DEFAULT_CATALOG, tmp_path / "controls.yml")
    data = yaml.safe_load(EXPLANATIONS.read_text(encoding="utf-8"))
    change(data["explanations"])
    path = tmp_path / "explanations.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path / "controls.yml", path


@pytest.mark.parametrize(
    ("change", "entry", "field", "why"),
    [
        (lambda e: e.pop("LOCKOUT"), "explanation LOCKOUT", "-", "missing"),
        (lambda e: e.__setitem__("NO-SUCH", e["LOCKOUT"]), "explanation NO-SUCH", "id", "not a control"),
        (lambda e: e["PW-EMPTY"]["rationale"].pop("en"), "explanation PW-EMPTY", "rationale", "ja and en"),
        (
            lambda e: e["USB-STORAGE"]["rationale"].__setitem__("ja", "大事だから。"),
            "explanation USB-STORAGE",
            "rationale.ja",
            "article",
        ),
        (
            lambda e: e["TIME-SYNC"]["remediation"].__setitem__("en", "run chrony"),
            "explanation TIME-SYNC",
            "remediation.en",
            "lgsec harden --tags TIME-SYNC",
        ),
        (lambda e: e["MAIL-TLS"].__setitem__("references", ["RFC 3207"]), "explanation MAIL-TLS", "references", "総務"),
        (lambda e: e["AUTORUN"].__setitem__("severity", "high"), "explanation AUTORUN", "severity", "unknown"),
    ],
)
def test_bad_explanation_names_file_entry_and_field(tmp_path, change, entry, field, why):
    catalog, path = copied(tmp_path, change)
    with pytest.raises(InputError) as raised:
        load_catalog(catalog)
    message = str(raised.value)
    assert str(path) in message and entry in message
    assert why in message
    if field != "-":
        assert raised.value.field == field


def test_rows_and_the_self_inspection_say_why(catalog):
    from conftest import FIXTURES, evaluate, load_fixture

    from lgsec import report, selfinspect

    facts, hostvars, _ = load_fixture(FIXTURES / "LOCKOUT" / "fail.yml")
    rows = evaluate(catalog, facts, hostvars, only=["LOCKOUT", "PW-LENGTH"])
    data = report.build(rows, started="2026-11-25T09:00:00+00:00", inventory="inv.yml", mode="audit", catalog=catalog)
    lockout = next(r for r in data["results"] if r["control"] == "LOCKOUT")
    exp = catalog["LOCKOUT"].explanation
    assert lockout["rationale"] == exp.rationale and lockout["remediation"] == exp.remediation
    assert lockout["description"] == exp.description and lockout["references"] == list(exp.references)
    document = selfinspect.build(data, catalog, [], selfinspect.load_sections())
    finding = next(line for line in document.splitlines() if "| LOCKOUT |" in line)
    assert exp.rationale["ja"] in finding and exp.rationale["en"] in finding
    assert "2026-11-25 18:00:00 JST" in document
