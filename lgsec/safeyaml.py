"""Reading the YAML files users write (inventory, exceptions, attestations, catalog, eol data):
the one reader, so every such file gets the same limits.

- A size cap (MAX_BYTES): a user file is a few kilobytes; a huge one is refused, not read.
- Aliases (`*name`) capped: a few hundred bytes of nested aliases (a "billion laughs" bomb)
  expand to billions of values for whatever walks the data; a file whose values, every alias
  expanded, number more than MAX_NODES is refused before it is loaded. Ordinary anchors and
  aliases (one list of hosts used twice) stay allowed.
- Dates stay text (`dates_as_text`): YAML would turn `2026-10-01` into a date, `2026-02-30` into
  a crash and `2026-10-01 10:00:00` into a time; the callers check dates strictly themselves
  (`strict_date`: YYYY-MM-DD only).
- Every error is an InputError naming the file and the line (exit 2), never a traceback.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from lgsec.errors import InputError

MAX_BYTES = 4 * 1024 * 1024  # the largest user YAML file lgsec reads (the catalog is ~100 kB)
MAX_NODES = 200_000  # values in a file, aliases expanded (the catalog has ~10 000)
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _without_timestamps(loader: type) -> None:
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != TIMESTAMP]
        for first, resolvers in _BASE.yaml_implicit_resolvers.items()
    }


def _timestamp(loader, node):
    """A YAML date or time; one the calendar lacks (2026-02-30) is an error naming its line."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date of the calendar ({exc})", node.start_mark
        ) from exc


class DateLoader(_BASE):
    """Safe YAML; a date the calendar lacks is a YAML error."""


DateLoader.add_constructor(TIMESTAMP, _timestamp)


class TextDateLoader(_BASE):
    """Safe YAML, dates kept as the text written."""


_without_timestamps(TextDateLoader)


class AnyTagLoader(DateLoader):
    """YAML as Ansible reads it (dates are dates; !vault, !unsafe …: the tags are not
    interpreted, only the syntax)."""


AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _line(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f"line {mark.line + 1}" if mark else "-"


def read_text(path: str | Path, what: str, max_bytes: int = MAX_BYTES) -> str:
    """A user file's text (UTF-8), refused when larger than max_bytes or unreadable."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(str(path), "-", f"cannot read the {what}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InputError(str(path), "-", f"the {what} is larger than {max_bytes} bytes: refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", f"the {what} is not UTF-8 text") from exc


def loads(text: str, where: str, what: str, *, dates_as_text: bool = True, any_tags: bool = False) -> Any:
    """Parse YAML text read from `where`; aliases refused."""
    loader = AnyTagLoader if any_tags else TextDateLoader if dates_as_text else DateLoader
    try:
        _check_expansion(text, where, what)
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or exc
        raise InputError(where, _line(exc), f"cannot parse {what}: not valid YAML ({problem})") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a value YAML cannot construct
        raise InputError(where, "-", f"the {what} holds a value YAML cannot read ({exc})") from exc


def _check_expansion(text: str, where: str, what: str) -> None:
    """Count the values of the event stream, each alias as the size of what it names."""
    sizes: dict[str, int] = {}
    stack: list[list] = [[None, 0]]  # [anchor, values so far] of each open collection; the bottom: the file
    for event in yaml.parse(text, Loader=_BASE):
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            stack.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            anchor, size = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor, 1)
        else:
            continue
        if anchor:
            sizes[anchor] = size
        stack[-1][1] += size
        if stack[-1][1] > MAX_NODES or size > MAX_NODES:
            line = event.start_mark.line + 1 if event.start_mark else "-"
            raise InputError(
                where, f"line {line}", f"the {what} expands to more than {MAX_NODES} values (YAML aliases): refused"
            )


def load(path: str | Path, what: str, **options) -> Any:
    """Read and parse a user YAML file (see the module's notes)."""
    max_bytes = options.pop("max_bytes", MAX_BYTES)
    return loads(read_text(path, what, max_bytes), str(path), what, **options)


def strict_date(where: str, field: str, value: Any) -> date:
    """A date written as YYYY-MM-DD and existing in the calendar (2026-02-30, 2026-W40-1,
    20261001 and times refused)."""
    text = value.isoformat() if type(value) is date else value
    if isinstance(text, str) and DATE_RE.match(text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise InputError(where, field, f"must be a date YYYY-MM-DD: {text.strip()} does not exist") from None
    raise InputError(where, field, f"must be a date YYYY-MM-DD, not {value!r}")
