"""catalog/eol.yml and SW-SUPPORTED: the data file is validated like the catalog (file, entry,
field; exit 2 before anything runs), and the check judges the release on the audit's date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT, load_base, load_fixture, status_of

from lgsec.cli import main
from lgsec.eol import load_eol, validate_host
from lgsec.errors import InputError

EOL = ROOT / "catalog" / "eol.yml"
GOOD = {
    "id": "debian",
    "version": "12",
    "name": "bookworm",
    "released": "2023-06-10",
    "regular_end": "2026-06-10",
    "lts_end": "2028-06-30",
    "source": ["https://wiki.debian.org/LTS"],
}


def eol_file(tmp_path: Path, *entries: dict, raw: str | None = None) -> Path:
    path = tmp_path / "eol.yml"
    path.write_text(raw if raw is not None else yaml.safe_dump({"releases": list(entries)}), encoding="utf-8")
    return path


def at(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() + 12 * 3600


# ---- the shipped data --------------------------------------------------------------------------


def test_shipped_file_is_valid_and_covers_the_releases_named_in_the_brief():
    data = load_eol(EOL)
    wanted = {("debian", v) for v in ("10", "11", "12", "13")}
    wanted |= {(os_id, v) for os_id in ("rhel", "rocky", "almalinux") for v in ("8", "9", "10")}
    assert wanted <= set(data.releases)
    for release in data.releases.values():
        assert release.source and all(url.startswith("https://") for url in release.source)
        assert release.released < release.regular_end <= release.lts_end


def test_shipped_debian_dates():
    data = load_eol(EOL)
    assert (data.releases[("debian", "10")].lts_end, data.releases[("debian", "11")].lts_end) == (
        date(2024, 6, 30),
        date(2026, 8, 31),
    )
    bookworm = data.releases[("debian", "12")]
    assert (bookworm.regular_end, bookworm.lts_end) == (date(2026, 6, 10), date(2028, 6, 30))


def test_every_unverified_date_says_so_in_a_comment():
    """Planned or unconfirmed dates carry the word in the file, for the reviewer of 第80条(6)."""
    text = EOL.read_text(encoding="utf-8")
    for block in text.split("  - id: ")[1:]:
        head = block.splitlines()[0] + " " + block.splitlines()[1].strip()
        if head.startswith(("rhel", "rocky", "almalinux")) and '"10"' in head:
            assert "unverified" in block, head


# ---- validation: file, entry, field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "field", "message"),
    [
        ({"lts_end": None}, "release debian 12", "lts_end", "missing"),
        ({"lts_end": "2028-13-40"}, "release debian 12", "lts_end", "must be a date"),
        ({"lts_end": "2025-01-01"}, "release debian 12", "lts_end", "before regular_end"),
        ({"regular_end": "2020-01-01"}, "release debian 12", "regular_end", "not after released"),
        ({"version": 12}, "releases[0] (line 2)", "version", "quoted string"),
        ({"id": "Debian"}, "release Debian 12", "id", "lower case"),
        ({"source": []}, "release debian 12", "source", "non-empty list"),
        ({"source": ["wiki.debian.org/LTS"]}, "release debian 12", "source", "not an http(s) URL"),
        ({"eol": "2028-06-30"}, "release debian 12", "eol", "unknown field"),
    ],
)
def test_a_broken_entry_names_file_entry_and_field(tmp_path, change, where, field, message):
    entry = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = eol_file(tmp_path, entry)
    with pytest.raises(InputError) as err:
        load_eol(path)
    assert err.value.where == f"{path}: {where}"
    assert err.value.field == field
    assert message in err.value.message


def test_duplicate_release(tmp_path):
    with pytest.raises(InputError, match="duplicate entry"):
        load_eol(eol_file(tmp_path, GOOD, GOOD))


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ("releases: [\n", "line 2", "not valid YAML"),
        ("- debian\n", "releases", "a 'releases' list"),
        ("releases: []\nextra: 1\n", "extra", "unknown top-level key"),
    ],
)
def test_a_broken_file(tmp_path, raw, field, message):
    with pytest.raises(InputError) as err:
        load_eol(eol_file(tmp_path, raw=raw))
    assert (err.value.field, message in err.value.message) == (field, True)


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_eol(tmp_path / "nope.yml")


def test_validation_reads_the_file_the_host_will_use(catalog, tmp_path):
    broken = eol_file(tmp_path, {**GOOD, "lts_end": "soon"})
    validate_host(catalog, {})  # the default file: fine
    with pytest.raises(InputError, match="lts_end"):
        validate_host(catalog, {"lgsec_sw_supported_eol_file": str(broken)})


def test_cli_exits_2_on_a_broken_eol_file_before_anything_runs(tmp_path, capsys):
    broken = eol_file(tmp_path, {**GOOD, "regular_end": "2026-06-31"})
    inv = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "lgsec_sw_supported_eol_file": str(broken)}
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"web01": host}}}), encoding="utf-8")
    outdir = tmp_path / "out"
    assert main(["audit", "-i", str(inv), "-o", str(outdir)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: release debian 12: regular_end: must be a date" in err
    assert not (outdir / "report.json").exists()


# ---- SW-SUPPORTED on the audit's date ----------------------------------------------------------


def supported(catalog, facts, **params):
    return status_of(catalog, facts, "SW-SUPPORTED", {f"lgsec_sw_supported_{k}": v for k, v in params.items()})


def test_debian_12_within_lts_passes_and_fails_on_regular_support(catalog, base12):
    base12["collected_at"] = at("2026-11-25")
    row = supported(catalog, base12)
    assert row["status"] == "pass"
    assert "regular security support ended 2026-06-10; LTS until 2028-06-30" in row["actual"]
    row = supported(catalog, base12, support_end="regular")
    assert row["status"] == "fail"
    assert "regular support ended 2026-06-10, 168 days before the audit" in row["actual"]


@pytest.mark.parametrize(("day", "status"), [("2028-06-30", "pass"), ("2028-07-01", "fail")])
def test_the_end_date_is_the_last_supported_day(catalog, base12, day, status):
    base12["collected_at"] = at(day)
    assert supported(catalog, base12)["status"] == status


def test_debian_13_before_its_regular_end(catalog):
    facts = load_base("base-debian13.json")
    facts["collected_at"] = at("2026-11-25")
    row = supported(catalog, facts)
    assert row["status"] == "pass"
    assert "regular security support until 2028-08-09; LTS until 2030-06-30" in row["actual"]


OS_RELEASES = {
    "sid": 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nID=debian\n',
    "debian14": 'PRETTY_NAME="Debian GNU/Linux 14 (forky)"\nVERSION_ID="14"\nID=debian\n',
    "ubuntu": 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
    "rhel94": 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\nID="rhel"\nID_LIKE="fedora"\n'
    'PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n',
    "alma8": 'NAME="AlmaLinux"\nVERSION_ID="8.10"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
    'PRETTY_NAME="AlmaLinux 8.10 (Cerulean Leopard)"\n',
}


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        ("sid", "fail", "no VERSION_ID in /etc/os-release"),
        ("debian14", "fail", "debian 14 (Debian GNU/Linux 14 (forky)) not in catalog/eol.yml"),
        ("ubuntu", "fail", "ubuntu 24.04 (Ubuntu 24.04.1 LTS) not in catalog/eol.yml"),
        ("rhel94", "pass", "LTS until 2032-05-31"),
        ("alma8", "pass", "LTS until 2029-03-01"),
    ],
)
def test_releases_are_matched_on_id_and_major_version(catalog, base12, name, status, text):
    base12["files"]["/etc/os-release"] = OS_RELEASES[name]
    base12["collected_at"] = at("2026-11-25")
    row = supported(catalog, base12)
    assert (row["status"], text in row["actual"]) == (status, True), row["actual"]


def test_a_broken_eol_file_at_evaluation_is_an_error_never_a_pass(catalog, base12, tmp_path):
    broken = eol_file(tmp_path, {**GOOD, "source": "https://wiki.debian.org/LTS"})
    row = supported(catalog, base12, eol_file=str(broken))
    assert row["status"] == "error"
    assert "source" in row["actual"]


def test_fail_fixture_is_debian_10(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "SW-SUPPORTED" / "fail.yml")
    row = status_of(catalog, facts, "SW-SUPPORTED", hostvars)
    assert "catalog/eol.yml:" in " ".join(row["evidence"])  # cites the entry's line
