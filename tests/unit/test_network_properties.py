"""Property-based tests of the network model (hypothesis): configurations the tests did not write.

From the compliant and the failing fixtures of tests/fixtures/network/configs:
- text IOS does not execute (banners of every kind and delimiter, descriptions with any
  Unicode, comments, text after `end`) holding compliant and non-compliant commands never
  changes a verdict;
- a trailing `no <line>` of a compliant line, however spaced, turns its control to fail;
- the same configuration with other blanks (runs of spaces and tabs, leading blanks on any line,
  CR LF) gives the same verdicts.
Bounded (max_examples, no deadline) so the file runs in well under a minute."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_network import CONFIGS, N_CONTROLS, inventory_vars

from lgsec.catalog import load_catalog
from lgsec.evaluate import evaluate_host

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTS = ("sw-good", "sw-bad", "rt-good", "rt-bad")


@cache
def fixture(host: str) -> str:
    return (CONFIGS / f"{host}.cfg").read_text(encoding="utf-8")


@cache
def catalog():
    return load_catalog()


def verdicts(host: str, text: str) -> dict[str, str]:
    facts = {"platform": "network", "vendor": "ios", "running_config": text, "source": f"{host}.cfg"}
    found = evaluate_host(catalog(), host, facts, inventory_vars()[host], source="config")
    return {r["control"]: r["status"] for r in found if r["control"] in N_CONTROLS}


# Lines that would flip a verdict of the compliant fixtures if they were executed at the end,
# and the other lines of all four fixtures (interfaces and lines entered with their block).
FLIPS = [
    "ip http server",
    "snmp-server community public RW",
    "no service password-encryption",
    "interface GigabitEthernet1/0/23\n no shutdown",
    "line vty 0 15\n exec-timeout 0 0\n transport input telnet",
    "username admin privilege 15 password 0 cisco",
    "ntp server 192.0.2.1",
    "no logging host 10.10.0.50",
    "security passwords min-length 6",
    "login block-for 60 attempts 10 within 60",
    "no ip ssh version 2",
    "logging buffered 4096",
]
COMMANDS = FLIPS + sorted(
    {ln for h in HOSTS for ln in fixture(h).split("\n") if ln.strip() and not ln.startswith(("!", " ", "end"))}
)
TYPES = ("motd", "login", "exec", "incoming", "slip-ppp", "prompt-timeout", "config-save", "")
# What a text body may hold: any Unicode but LF (which IOS would end the line on), spread over lines.
UNICODE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=30)
COMMAND = st.one_of(st.sampled_from(FLIPS), st.sampled_from(COMMANDS))
BODY = st.lists(st.one_of(COMMAND, UNICODE), min_size=1, max_size=4).map("\n".join)


@st.composite
def text_block(draw) -> str:
    """A banner, aaa banner or macro whose body holds commands, closed by its delimiter."""
    kind = draw(st.sampled_from(["banner", "aaa", "macro"]))
    body = draw(BODY)
    if kind == "macro":
        return f"macro name M{draw(st.integers(0, 99))}\n{body.replace('@', '')}\n@"
    delim = draw(st.sampled_from(["^C", "#", "%", "$", "~", "*", "X", "^", "@", "|"]))
    while delim in body:  # "^^CC" without "^C" is "^C" again: the body must not hold its delimiter
        body = body.replace(delim, "")
    if delim == "^" and body.startswith("C"):  # `^C…` is how show running-config writes the ^C delimiter
        body = " " + body
    head = "aaa authentication " + draw(st.sampled_from(["banner", "fail-message"])) if kind == "aaa" else "banner"
    if kind == "banner" and draw(st.sampled_from(TYPES)):
        head += " " + draw(st.sampled_from(TYPES[:-1]))
    tail = draw(st.sampled_from(["", " ", "  trailing words ip http server"]))
    return f"{head} {delim}{body}\n{delim}{tail}" if draw(st.booleans()) else f"{head} {delim}\n{body}{delim}{tail}"


def banner_lines(lines: list[str]) -> set[int]:
    """Indices of the lines after a multi-line `banner … ^C` of the fixture, up to its closing ^C."""
    inside, open_at = set(), None
    for i, line in enumerate(lines):
        if open_at is not None:
            inside.add(i)
            if "^C" in line:
                open_at = None
        elif line.startswith("banner ") and line.count("^C") == 1:
            open_at = i
    return inside


@st.composite
def hostile(draw, host: str) -> str:
    """The fixture with text that is not executed put in: text blocks and comments between
    top-level commands, description bodies with any Unicode, lines after `end`."""
    lines = fixture(host).rstrip("\n").split("\n")
    end = lines.index("end")
    inside = banner_lines(lines)  # inserting there would end the fixture's own banner early (IOS executes the rest)
    tops = [i for i in range(1, end + 1) if not lines[i].startswith(" ") and i not in inside]
    inserts: dict[int, list[str]] = {}
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.one_of(st.just(end), st.sampled_from(tops)))  # before `end`: nothing later overrides
        what = draw(st.one_of(text_block(), BODY.map(lambda b: "\n".join(f"!{ln}" for ln in b.split("\n")))))
        inserts.setdefault(at, []).append(what)
    ifaces = [i for i in range(end) if lines[i].startswith("interface ")]
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.sampled_from(ifaces)) + 1
        text = draw(UNICODE)
        desc = text + draw(st.sampled_from(["\u2028ntp server 10.10.0.11", "\x0bip http server", "\u0085shutdown"]))
        inserts.setdefault(at, []).append(f" description {desc}")
    out = []
    for i, line in enumerate(lines):
        out += inserts.get(i, [])
        out.append(line)
    return "\n".join(out) + "\n" + draw(BODY) + "\n"


@SETTINGS
@given(st.data())
def test_text_that_ios_does_not_execute_never_changes_a_verdict(data):
    host = data.draw(st.sampled_from(HOSTS))
    text = data.draw(hostile(host))
    assert verdicts(host, text) == verdicts(host, fixture(host))


# A compliant line of sw-good per control, as `no` undoes it (block, line); the control must then fail.
UNDO = [
    ("PW-LENGTH", "", "security passwords min-length 12"),
    ("LOCKOUT", "", "login block-for 900 attempts 5 within 120"),
    ("PRIV-DEFAULT-ID", "", "service password-encryption"),
    ("PRIV-DEFAULT-ID", "", "enable secret 9 $9$Yq8eWvC2dn4Kd.$Y3t6BzHk1QpJx7nXr0sEw2q5vZ8uF4gT6hN1mL9cA0k"),
    ("SESSION-LIMIT", "line con 0", "exec-timeout 5 0"),
    ("SESSION-LIMIT", "line vty 5 15", "exec-timeout 5 0"),
    ("REMOTE-ENCRYPTED", "", "ip ssh version 2"),
    ("REMOTE-ENCRYPTED", "line vty 0 4", "transport input ssh"),
    ("REMOTE-MINIMAL", "line vty 0 4", "access-class MGMT-SSH in"),
    ("NET-PORTS-UNUSED", "interface GigabitEthernet1/0/23", "shutdown"),
    ("NET-PORTS-UNUSED", "interface GigabitEthernet1/0/1", "switchport port-security"),
    ("NET-PORTS-UNUSED", "interface GigabitEthernet1/0/2", "switchport mode access"),
    ("SVC-UNNEEDED", "", "ip http server"),  # sw-good has `no ip http server`: undoing that turns it on
    ("LOG-RETENTION", "", "logging buffered 65536 informational"),
    ("LOG-RETENTION", "", "service timestamps log datetime msec localtime show-timezone"),
    ("LOG-CENTRAL", "", "logging host 10.10.0.50 transport tcp port 514"),
    ("TIME-SYNC", "", "ntp server 10.10.0.11"),
]
BLANK = st.text(st.sampled_from(" \t"), min_size=1, max_size=3)


def respace(draw, line: str, leading: bool = True) -> str:
    lead = draw(st.text(st.sampled_from(" \t"), max_size=3)) if leading else ""
    words = line.split(" ")
    return lead + "".join(w + (draw(BLANK) if i < len(words) - 1 else "") for i, w in enumerate(words))


@SETTINGS
@given(st.data())
def test_a_trailing_no_of_a_compliant_line_fails_its_control(data):
    control, block, line = data.draw(st.sampled_from(UNDO))
    text = fixture("sw-good")
    assert verdicts("sw-good", text)[control] == "pass"
    undo = line if line == "ip http server" else f"no {line}"
    extra = (respace(data.draw, block, leading=False) + "\n" if block else "") + respace(data.draw, undo)
    changed = text.replace("\n!\nend", f"\n{extra}\n!\nend")
    assert verdicts("sw-good", changed)[control] == "fail", extra


@SETTINGS
@given(st.data())
def test_blanks_and_line_ends_do_not_change_a_verdict(data):
    host = data.draw(st.sampled_from(HOSTS))
    lines = fixture(host).split("\n")
    cr = data.draw(st.booleans())
    spaced = []
    for line in lines:
        if not line.strip() or data.draw(st.integers(0, 3)) == 0:
            spaced.append(line)
            continue
        stripped = line.lstrip(" ")
        lead = line[: len(line) - len(stripped)] or data.draw(st.sampled_from(["", "", " ", "\t", "  "]))
        trail = data.draw(st.sampled_from(["", " ", "\t"]))
        spaced.append(lead + respace(data.draw, stripped, leading=False) + trail)
    text = ("\r\n" if cr else "\n").join(spaced)
    assert verdicts(host, text) == verdicts(host, fixture(host))
