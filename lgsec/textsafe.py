"""Host-derived text made safe for where lgsec shows it.

Everything a host reports (configuration lines, host and account names, evidence) is data, never
markup or terminal control: `for_terminal` is the one place that makes such text printable.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls, DEL, and the characters that move or hide text without being controls:
# line/paragraph separators, bidirectional overrides and isolates (a right-to-left override can
# make "fail" read as "liaf"), zero-width joiners are harmless and kept.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(value: object) -> str:
    """One printable line: every control character, ESC sequences, line breaks of any kind and
    bidi controls shown as `\\xNN` / `\\uNNNN`, so host text can neither move the cursor nor
    start a line of its own (a forged summary line). Unassigned and surrogate code points too."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(_escape, text)
    if any(unicodedata.category(c) in ("Cs", "Cn", "Co") for c in text):
        text = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cs", "Cn", "Co") else c for c in text)
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value):
    """The value (rows: dicts, lists, text) with every lone surrogate (a broken UTF-16 pair read
    from a host: it cannot be written as UTF-8) shown as its `\\udXXX` escape, so one host's
    broken text cannot stop a report from being written."""
    if isinstance(value, str):
        return _SURROGATE.sub(_escape, value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value
