"""Every Linux check on its pass/fail fixture pair, and on the recorded stock Debian images."""

from __future__ import annotations

import pytest
import yaml
from conftest import (
    FIXTURES,
    SECTION_A_CHECKED,
    assert_fixture_verdict,
    evaluate,
    fixture_files,
    load_base,
    load_fixture,
    row_for,
    status_of,
)

from lgsec.checks import load_all

BASES = ("base-debian12.json", "base-debian13.json")


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_gives_its_verdict(catalog, path):
    facts, hostvars, overlay = load_fixture(path)
    assert_fixture_verdict(status_of(catalog, facts, path.parent.name, hostvars), path, overlay)


def test_every_linux_check_has_a_fixture_pair():
    linux_checks = sorted(cid for cid, platform in load_all() if platform == "linux")
    assert set(SECTION_A_CHECKED) <= set(linux_checks)
    missing = [f"{cid}/{kind}.yml" for cid in linux_checks for kind in ("pass", "fail")]
    missing = [name for name in missing if not (FIXTURES / name).is_file()]
    assert not missing, f"controls without their fixture pair: {missing}"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_says_what_it_is(path):
    assert path.stem in ("pass", "fail")
    assert path.read_text(encoding="utf-8").startswith("_fixture: ")
    overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "constructed" in overlay["_fixture"] or "recorded" in overlay["_fixture"]
    assert (FIXTURES / overlay["base"]).is_file()


@pytest.mark.parametrize("name", BASES)
def test_base_is_a_recording_of_the_stock_lab_image(name):
    facts = load_base(name)
    version = name.removeprefix("base-debian").removesuffix(".json")
    assert facts["_fixture"].startswith(f"recorded on localhost/lgsec-debian:{version} (stock) on ")
    assert facts["os"]["ID"] == "debian" and facts["os"]["VERSION_ID"] == version
    assert facts["euid"] == 0 and not facts["errors"]
    assert facts["commands"]["sshd -T"]["rc"] == 0


@pytest.mark.parametrize("name", BASES)
def test_stock_debian_is_not_hardened(catalog, name):
    rows = evaluate(catalog, load_base(name))
    got = {r["control"]: r["status"] for r in rows if r["control"] in SECTION_A_CHECKED}
    # Stock Debian: only root is privileged, but cron and at have no allow list, su is open to all and
    # sshd_config is 0644 (第69条1); sshd ships PermitRootLogin prohibit-password.
    assert got == dict.fromkeys(SECTION_A_CHECKED, "fail")
    members = row_for(rows, "PRIV-MEMBERS")
    assert "not approved" not in members["actual"] and "root: uid 0" in members["evidence"]
    for finding in ("no /etc/cron.allow", "no /etc/at.allow", "/etc/ssh/sshd_config mode 0644", "su not limited"):
        assert finding in members["actual"]
    assert row_for(rows, "PRIV-DEFAULT-ID")["actual"] == "PermitRootLogin without-password"
    assert "nullok on pam_unix (/etc/pam.d/common-auth:" in row_for(rows, "PW-EMPTY")["actual"]
    assert row_for(rows, "PW-MAXAGE")["actual"] == "PASS_MAX_DAYS = 99999"
    assert "INACTIVE = -1" in row_for(rows, "ID-UNUSED")["actual"]
