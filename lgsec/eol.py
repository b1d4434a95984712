"""End-of-support dates of OS releases (catalog/eol.yml), for SW-SUPPORTED (第80条(6)).

The file is input like the catalog: it is validated before any host is touched (the CLI and
the playbooks' validation step, through lgsec.evaluate.validate_hostvars), and every error
names the file, the entry and the field (InputError, exit code 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from lgsec.catalog import ROOT, Catalog
from lgsec.errors import InputError

CONTROL = "SW-SUPPORTED"
PARAM = "eol_file"
ENDS = ("regular", "lts")
FIELDS = ("id", "version", "name", "released", "regular_end", "lts_end", "source")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
VERSION_RE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Release:
    id: str
    version: str
    name: str
    released: date
    regular_end: date
    lts_end: date
    source: tuple[str, ...]
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def end(self, which: str) -> date:
        """The last supported day: `lts` (the vendor's last security fix) or `regular`."""
        if which not in ENDS:
            raise ValueError(f"support_end must be one of {', '.join(ENDS)}, got {which!r}")
        return self.lts_end if which == "lts" else self.regular_end


@dataclass(frozen=True)
class EolData:
    path: str
    releases: dict[tuple[str, str], Release]

    def find(self, os_id: str, version_id: str) -> Release | None:
        """The entry for an os-release ID and VERSION_ID (matched on its major part)."""
        major = version_id.split(".", 1)[0]
        return self.releases.get((os_id, major))


def resolve(path: str | os.PathLike) -> Path:
    """An eol_file parameter: absolute, or relative to the repository root."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path


def _date(where: str, fld: str, value: Any) -> date:
    if isinstance(value, datetime):
        raise InputError(where, fld, f"must be a date (YYYY-MM-DD), got a time {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(where, fld, f"must be a date YYYY-MM-DD, got {value!r}")


def _release(path: str, index: int, line: int, entry: Any) -> Release:
    if not isinstance(entry, dict):
        raise InputError(path, f"releases[{index}]", "must be a mapping")
    rid, version = entry.get("id"), entry.get("version")
    named = isinstance(rid, str) and isinstance(version, str)
    where = f"{path}: release {rid} {version}" if named else f"{path}: releases[{index}] (line {line})"
    for key in FIELDS:
        if key not in entry:
            raise InputError(where, key, "missing")
    unknown = sorted(map(str, set(entry) - set(FIELDS)))
    if unknown:
        raise InputError(where, ", ".join(map(str, unknown)), f"unknown field (known: {', '.join(FIELDS)})")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        raise InputError(where, "id", f"must be an /etc/os-release ID in lower case (debian, rhel), got {rid!r}")
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise InputError(where, "version", f'must be the major version as a quoted string ("12"), got {version!r}')
    if not isinstance(entry["name"], str) or not entry["name"].strip():
        raise InputError(where, "name", "must be a non-empty string")
    released = _date(where, "released", entry["released"])
    regular_end = _date(where, "regular_end", entry["regular_end"])
    lts_end = _date(where, "lts_end", entry["lts_end"])
    if not released < regular_end:
        raise InputError(where, "regular_end", f"{regular_end} is not after released {released}")
    if lts_end < regular_end:
        raise InputError(where, "lts_end", f"{lts_end} is before regular_end {regular_end}")
    source = entry["source"]
    if not isinstance(source, list) or not source:
        raise InputError(where, "source", "must be a non-empty list of URLs naming where the dates come from")
    for url in source:
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            raise InputError(where, "source", f"{url!r} is not an http(s) URL")
    return Release(
        id=rid,
        version=version,
        name=entry["name"].strip(),
        released=released,
        regular_end=regular_end,
        lts_end=lts_end,
        source=tuple(source),
        path=path,
        line=line,
    )


def _lines(text: str) -> list[int]:
    """Line number of each entry of the releases list (for evidence), best effort."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "releases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


_CACHE: dict[tuple[str, int], EolData] = {}


def load_eol(path: str | os.PathLike) -> EolData:
    """Load and validate an eol file (cached while the file is unchanged)."""
    resolved = resolve(path)
    label = str(path)
    try:
        stamp = resolved.stat().st_mtime_ns
        key = (str(resolved), stamp)
        if key in _CACHE:
            return _CACHE[key]
        text = resolved.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(label, "-", f"cannot read {resolved}: {exc.strerror}") from exc
    from lgsec import safeyaml

    data = safeyaml.loads(text, label, "end-of-support data", dates_as_text=False)
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise InputError(label, "releases", "the file must be a mapping with a 'releases' list")
    unknown = sorted(map(str, set(data) - {"releases"}))
    if unknown:
        raise InputError(label, ", ".join(map(str, unknown)), "unknown top-level key (only 'releases')")
    lines = _lines(text)
    releases: dict[tuple[str, str], Release] = {}
    for index, entry in enumerate(data["releases"]):
        line = lines[index] if index < len(lines) else 0
        release = _release(label, index, line, entry)
        if (release.id, release.version) in releases:
            raise InputError(f"{label}: release {release.id} {release.version}", "id, version", "duplicate entry")
        releases[(release.id, release.version)] = release
    loaded = EolData(path=label, releases=releases)
    _CACHE[key] = loaded
    return loaded


def validate_host(catalog: Catalog, hostvars: dict) -> None:
    """Load the eol file SW-SUPPORTED will read for this host (InputError when it is broken)."""
    if CONTROL not in catalog.controls or PARAM not in catalog[CONTROL].params:
        return
    control = catalog[CONTROL]
    path = hostvars.get(control.var(PARAM), control.params[PARAM].default)
    if isinstance(path, str):  # a wrong type is reported by validate_hostvars itself
        load_eol(path)
