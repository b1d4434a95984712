"""The evidence archive (a dated folder per run, signed bundles, verify), the history's rows
with evidence, and times the way the union counts them (JST, 年度, exceptions to 24:00 JST)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from datetime import date, datetime

import pytest
import yaml
from conftest import FIXTURES, evaluate, load_fixture

from lgsec import archive, exceptions, history, report, report_data
from lgsec.catalog import DEFAULT_CATALOG
from lgsec.errors import InputError


@pytest.fixture
def run(catalog):
    facts, hostvars, _ = load_fixture(FIXTURES / "LOCKOUT" / "fail.yml")
    rows = evaluate(catalog, facts, hostvars, only=["LOCKOUT", "PW-LENGTH"])
    rows += evaluate(catalog, facts, hostvars, host="../../etc/evil", only=["LOCKOUT"])
    data = report.build(rows, started="2026-11-25T15:30:00+00:00", inventory="inv.yml", mode="audit")
    return data, {"web01": facts, "../../etc/evil": facts}


def written(tmp_path, run, head: str | None = "7 abc123"):
    data, facts = run
    tmp_path.mkdir(parents=True, exist_ok=True)
    if head:
        (tmp_path / "work-record.jsonl.head").write_text(head + "\n", encoding="utf-8")
    report.write(data, tmp_path, facts=facts)
    return data, archive.find_run(tmp_path, None)


def test_each_run_keeps_its_reports_facts_and_manifest_in_a_dated_folder(tmp_path, run):
    data, folder = written(tmp_path, run)
    # 15:30 UTC on the 25th is 00:30 JST on the 26th: the folder is the JST day
    assert folder.parent.name == "2026-11-26" and folder.name == data["run"]["id"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name in ("report.json", "report.csv", "report.html", "junit.xml"):
        assert (folder / name).read_bytes() == (tmp_path / name).read_bytes()
        assert manifest["files"][name] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert json.loads((folder / manifest["facts"]["web01"]).read_text()) == json.loads(json.dumps(run[1]["web01"]))
    evil = manifest["facts"]["../../etc/evil"]  # a host name is never a path
    assert evil.startswith("facts/") and "/" not in evil[len("facts/") :] and (folder / evil).is_file()
    catalog_bytes = DEFAULT_CATALOG.read_bytes() + (DEFAULT_CATALOG.parent / "explanations.yml").read_bytes()
    assert manifest["catalog_sha256"] == hashlib.sha256(catalog_bytes).hexdigest() == data["run"]["catalog_sha256"]
    assert manifest["lgsec_version"] == data["run"]["lgsec_version"]
    assert manifest["work_record_head"] == "7 abc123"
    assert manifest["timezone"] == "Asia/Tokyo"


def test_a_second_run_does_not_overwrite_the_first(tmp_path, run, catalog):
    first, folder = written(tmp_path, run)
    second = report.build([dict(r) for r in first["results"]], started=report.now_iso(), inventory="i", mode="audit")
    report.write(second, tmp_path)
    folders = sorted(p.parent.name for p in (tmp_path / "runs").glob("*/*/manifest.json"))
    assert folders == sorted([first["run"]["id"], second["run"]["id"]])
    assert (folder / "report.json").is_file()


def test_history_keeps_every_rows_evidence(tmp_path, run):
    data, _ = written(tmp_path, run)
    stored = history.evidence_of(tmp_path / "history.sqlite", data["run"]["id"])
    assert [(r["host"], r["control"], r["evidence"]) for r in stored] == [
        (r["host"], r["control"], r["evidence"]) for r in data["results"]
    ]
    assert all(r["evidence"] for r in stored)


def test_an_old_history_database_gets_the_evidence_column(tmp_path, run):
    import sqlite3

    path = tmp_path / "history.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, inventory TEXT NOT NULL,"
        " mode TEXT, lgsec_version TEXT);"
        "CREATE TABLE results (run_id INTEGER NOT NULL, host TEXT NOT NULL, control TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " articles TEXT NOT NULL, importance TEXT, platform TEXT, expected TEXT, actual TEXT);"
        "INSERT INTO runs VALUES (1, '2026-11-01T09:00:00+09:00', NULL, 'inv.yml', 'audit', '0');"
        "INSERT INTO results VALUES (1, 'web01', 'LOCKOUT', 'pass', '[]', NULL, 'linux', '', '');"
    )
    db.commit()
    db.close()
    data, _ = written(tmp_path, run)
    assert history.evidence_of(path, data["run"]["id"])[0]["evidence"]
    assert data["changes"]["previous"] == "2026-11-01T09:00:00+09:00"


def signing_key(tmp_path):
    key = tmp_path / "site_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lgsec", "-f", str(key)], check=True)
    signers = tmp_path / "allowed_signers"
    signers.write_text("audit@example.lg.jp " + key.with_suffix(".pub").read_text(), encoding="utf-8")
    return key, signers


def test_bundle_is_signed_and_verifies(tmp_path, run):
    _, folder = written(tmp_path / "out", run)
    key, signers = signing_key(tmp_path)
    bundle, signature = archive.bundle(folder, key, tmp_path / "bundles")
    assert bundle.name == f"{folder.name}.tar.gz" and signature.read_text().startswith("-----BEGIN SSH SIGNATURE")
    assert archive.verify(bundle, signers, "audit@example.lg.jp") == []
    with tarfile.open(bundle) as tar:
        names = sorted(m.name.split("/", 1)[1] for m in tar.getmembers())
    assert "manifest.json" in names and "facts/web01.json" in names and "report.html" in names


def test_verify_finds_a_changed_file_and_a_foreign_signer(tmp_path, run):
    _, folder = written(tmp_path / "out", run)
    key, signers = signing_key(tmp_path)
    bundle, signature = archive.bundle(folder, key, tmp_path / "bundles")
    assert archive.verify(bundle, signers, "someone@else") != []  # not an allowed identity
    # rewrite one fact in the archive and sign it again with another key: the manifest catches it
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, content in members:
            if member.name.endswith("facts/web01.json"):
                content = content.replace(b"deny", b"DENY")
                member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    bundle.write_bytes(buffer.getvalue())
    problems = archive.verify(bundle, signers, "audit@example.lg.jp")
    assert any("signature not valid" in p for p in problems)
    assert "facts/web01.json: content differs from the manifest's SHA-256" in problems
    signature.unlink()
    assert archive.verify(bundle, signers, "audit@example.lg.jp") == [f"{signature}: no signature beside the archive"]


def test_bundle_without_the_key_is_an_input_error(tmp_path, run):
    _, folder = written(tmp_path / "out", run)
    with pytest.raises(InputError, match="signing key"):
        archive.bundle(folder, tmp_path / "missing", tmp_path / "bundles")
    with pytest.raises(InputError, match="no run NOPE"):
        archive.find_run(tmp_path / "out", "NOPE")


@pytest.mark.parametrize(
    ("day", "year", "label"),
    [
        (date(2026, 4, 1), 2026, "令和8年度 (2026年度)"),
        (date(2027, 3, 31), 2026, "令和8年度 (2026年度)"),
        (date(2026, 3, 31), 2025, "令和7年度 (2025年度)"),
    ],
)
def test_fiscal_year_runs_april_to_march(day, year, label):
    assert report.fiscal_year(day) == year and report.fiscal_label(day) == label


def test_times_are_shown_in_jst():
    assert report.jst("2026-11-25T15:00:00+00:00") == "2026-11-26 00:00:00 JST"
    assert report.now_iso().endswith("+09:00")
    assert report.jst("s") == "s"


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        ("2027-03-31T23:59:00+09:00", "live"),  # the last minute of its last day, JST
        ("2027-04-01T00:00:00+09:00", "expired"),  # 2027-03-31 15:00 UTC: already over in Japan
    ],
)
def test_an_exception_lives_through_its_last_day_in_jst(monkeypatch, catalog, tmp_path, moment, state):
    monkeypatch.setattr(report_data, "now", lambda: datetime.fromisoformat(moment))
    entry = {
        "reference": "情シ第2026-014号",
        "control": "USB-STORAGE",
        "hosts": ["pc01"],
        "reason": "障害対応",
        "requested_by": "山田",
        "approved_by": "CISO 佐藤",
        "approved_on": "2026-10-01",
        "expires_on": "2027-03-31",
    }
    path = tmp_path / "exceptions.yml"
    path.write_text(yaml.safe_dump({"exceptions": [entry]}, allow_unicode=True), encoding="utf-8")
    found = exceptions.load(path, catalog, {"pc01": []})
    data = {"run": {"started": moment}, "results": [{"host": "pc01", "control": "USB-STORAGE", "status": "fail"}]}
    exceptions.attach(data, found, {"pc01": []})
    assert data["exceptions"][0]["state"] == state
    assert data["results"][0]["status"] == ("waived" if state == "live" else "fail")


def test_expiry_notes_warn_30_days_ahead_and_list_the_fiscal_year_end():
    data = {
        "run": {"started": "2027-03-05T10:00:00+09:00"},
        "exceptions": [
            {"reference": "A", "state": "live", "days_to_expiry": 26, "expires_on": "2027-03-31"},
            {"reference": "B", "state": "live", "days_to_expiry": 31, "expires_on": "2027-04-05"},
            {"reference": "C", "state": "expired", "days_to_expiry": -3, "expires_on": "2027-03-02"},
        ],
    }
    notes = report.expiry_notes(data)
    assert [e["reference"] for e in notes["soon"]] == ["A"]
    assert notes["fiscal_year_end"] == "2027-03-31"
    assert [e["reference"] for e in notes["by_fiscal_year_end"]] == ["A"]


def test_cli_audit_format_json_bundle_and_verify(tmp_path, capsys):
    """`lgsec audit --format json` writes the report on stdout (nothing else there); `lgsec report
    bundle` signs the latest run; `lgsec report verify` accepts it and refuses it once changed."""
    from test_network import CONFIGS, NET

    from lgsec import cli

    out = tmp_path / "reports"
    rc = cli.main(
        ["audit", "--configs", str(CONFIGS), "-i", str(NET / "inventory.yml"), "-o", str(out), "--format", "json"]
    )
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout is the report and only the report
    assert rc == 1 and data == json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert f"report: {out / 'report.json'}" in captured.err
    assert all(r["rationale"]["ja"] for r in data["results"])
    manifest = json.loads((archive.find_run(out, data["run"]["id"]) / "manifest.json").read_text(encoding="utf-8"))
    # what each device's judge read: the four saved files, and the inventory's FRR devices with none (error rows)
    assert sorted(manifest["facts"]) == sorted({r["host"] for r in data["results"]})
    assert {"rt-bad", "rt-good", "sw-bad", "sw-good"} <= set(manifest["facts"])
    saved = json.loads((archive.find_run(out, None) / manifest["facts"]["sw-bad"]).read_text(encoding="utf-8"))
    text = (CONFIGS / "sw-bad.cfg").read_text(encoding="utf-8")
    assert saved["running_config"].count("\n") == text.count("\n")  # the whole configuration, line for line
    for secret in ("cisco123", "0822455D0A16544541", "045802150C2E", "community private", "community public"):
        assert secret in text and secret not in saved["running_config"]  # no secret in the archive
    key, signers = signing_key(tmp_path)
    assert cli.main(["report", "bundle", "-o", str(out)]) == 2  # no key given
    assert "--key" in capsys.readouterr().err
    assert cli.main(["report", "bundle", "-o", str(out), "--key", str(key)]) == 0
    bundle = out / "bundles" / f"{data['run']['id']}.tar.gz"
    assert f"archive: {bundle}" in capsys.readouterr().out
    verify = ["report", "verify", str(bundle), "--allowed-signers", str(signers), "--identity", "audit@example.lg.jp"]
    assert cli.main(verify) == 0
    assert "every file matches its manifest" in capsys.readouterr().out
    bundle.write_bytes(bundle.read_bytes()[:-20] + b"\0" * 20)  # damaged in transit
    assert cli.main(verify) == 1
    assert "signature not valid" in capsys.readouterr().out
    assert cli.main(["report", "bundle", "NO-SUCH-RUN", "-o", str(out), "--key", str(key)]) == 2
