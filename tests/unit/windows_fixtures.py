"""Windows fixtures: a base evidence folder (tests/fixtures/windows/base-win11-{en,ja}, files in
the encodings Windows writes) plus a per-control YAML overlay, materialised into a temporary
evidence folder and read back through lgsec.windows.read_evidence_dir — the readers run on
every fixture, as they do on a real collection.

Overlay keys (tests/fixtures/windows/<ID>/{pass,fail}.yml):

  _fixture       what the fixture represents and how it was made (required, one line)
  base           base folder name (base-win11-en); the Japanese twin is base-win11-ja
  expect_actual  (fail.yml) strings the fail row's `actual` must contain
  vars           host variables (lgsec_*)
  replace        file -> [[old, new], ...] on the decoded text; every `old` must be found once
                 ('re:<pattern>' for a regular expression, for rows whose names are localised)
  append         file -> text appended (new keys of a .reg file, new lines)
  remove         files deleted from the folder
  manifest       keys merged into lgsec-evidence.json (errors, registry_keys …)

Text is written back in the base file's encoding and line ending (a UTF-16LE .reg stays one).
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

from lgsec.windows import MANIFEST, read_evidence_dir

ROOT = Path(__file__).resolve().parents[2]
WIN_FIXTURES = ROOT / "tests" / "fixtures" / "windows"
BASES = ("base-win11-en", "base-win11-ja")  # every overlay runs on both
ALL_BASES = (*BASES, "base-server2022", "base-win11-apexone", "base-win11-domain", "base-win11-provisioned")
# The audit of the constructed evidence runs the day after its collection (2026-11-20 on every
# base): within evidence_max_age_days. A test of stale evidence passes its own read_at.
AUDITED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC).timestamp()


def read_evidence(folder: Path, read_at: float = AUDITED) -> dict:
    """An evidence folder read as `lgsec audit --evidence` reads it, audited at read_at."""
    return read_evidence_dir(folder, read_at=read_at)


KEYS = {"_fixture", "base", "expect_actual", "vars", "replace", "append", "remove", "manifest"}


def encoding_of(data: bytes) -> tuple[bytes, str]:
    if data.startswith(b"\xff\xfe"):
        return b"\xff\xfe", "utf-16-le"
    if data.startswith(b"\xef\xbb\xbf"):
        return b"\xef\xbb\xbf", "utf-8"
    return b"", "utf-8"


def rewrite(path: Path, change) -> None:
    """Change a file's text, keeping its BOM, encoding and line endings."""
    data = path.read_bytes() if path.exists() else b"\xff\xfe"
    bom, enc = encoding_of(data)
    text = data[len(bom) :].decode(enc)
    crlf = "\r\n" in text or path.suffix in (".reg", ".inf")
    text = change(text.replace("\r\n", "\n"))
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes(bom + text.encode(enc))


def materialise(overlay: dict, target: Path, base: str | None = None) -> Path:
    """Base folder + overlay -> an evidence folder at target."""
    unknown = set(overlay) - KEYS
    assert not unknown, f"unknown overlay key(s) {unknown}"
    shutil.copytree(WIN_FIXTURES / (base or overlay["base"]), target)
    for name, pairs in (overlay.get("replace") or {}).items():

        def swap(text: str, pairs=pairs, name=name) -> str:
            for old, new in pairs:
                if old.startswith("re:"):  # a regular expression (auditpol rows whose names are localised)
                    text, count = re.subn(old[3:], lambda _m, new=new: new, text)
                else:
                    count = text.count(old)
                    text = text.replace(old, new)
                assert count == 1, f"{name}: {old!r} found {count} times"
            return text

        rewrite(target / name, swap)
    for name, extra in (overlay.get("append") or {}).items():
        rewrite(target / name, lambda text, extra=extra: text.rstrip("\n") + "\n\n" + extra)
    for name in overlay.get("remove") or []:
        (target / name).unlink()
    if overlay.get("manifest"):
        path = target / MANIFEST
        bom, enc = encoding_of(path.read_bytes())
        data = json.loads(path.read_bytes()[len(bom) :].decode(enc))
        data.update(overlay["manifest"])
        path.write_bytes(bom + json.dumps(data, ensure_ascii=False, indent=4).encode(enc))
    return target


def load_overlay(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def fixture_facts(path: Path, tmp: Path, base: str | None = None) -> tuple[dict, dict, dict]:
    """(facts, host variables, overlay) of one fixture file, read through the evidence reader."""
    overlay = load_overlay(path)
    folder = materialise(overlay, tmp / f"{path.parent.name}-{path.stem}-{base or overlay['base']}", base)
    return read_evidence(folder), dict(overlay.get("vars") or {}), overlay


def fixture_files() -> list[Path]:
    return sorted(WIN_FIXTURES.glob("*/*.yml"))
