"""Mail server checks (CONTROLS.md section G, and AV-GATEWAY of section D) for Postfix.

A mail server is a Linux host with `lgsec_extra_platforms: [mail]`; its one gather run
(library/lgsec_linux_facts.py with mail: true, area M) adds Postfix's EFFECTIVE configuration:
`postconf -x` of the parameters judged here (defaults included, $names expanded), `postconf -n`
(what main.cf sets), `postconf -M` (master.cf services) and `postconf -P -x` (their -o overrides),
the alias maps as Postfix reads them (`postalias -s`, `postmap -s`), users' .forward files and
clamav-milter's configuration and unit. An smtpd parameter is judged per smtpd service of
master.cf (its -o override, else main.cf's value), the others where main.cf or any -o sets them.
"""

from __future__ import annotations

import ipaddress
import re

from lgsec.checks import Ctx, Unreadable, Verdict, check, validator
from lgsec.checks.common import verdict
from lgsec.checks.linux_malware import DAEMON_UNITS, state, units

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SPLIT = re.compile(r"[\s,]+")


# ---- Postfix's effective configuration ---------------------------------------------------


def postconf_values(stdout: str) -> dict[str, str]:
    values = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition(" =")
        if sep:
            values[name.strip()] = value.strip()
    return values


def postfix(ctx: Ctx) -> dict[str, str]:
    """`postconf -x`: every judged parameter's effective value."""
    if "mail" not in ctx.facts:
        raise Unreadable("mail facts not gathered (the gather ran without mail: true)")
    result = ctx.command("postconf -x")
    if result is None:
        raise Unreadable("postconf: Postfix is not installed")
    return postconf_values(result["stdout"])


def explicit(ctx: Ctx) -> set[str]:
    """The parameters main.cf sets (`postconf -n`)."""
    result = ctx.command("postconf -n")
    return set(postconf_values(result["stdout"]) if result else {})


def smtpd_services(ctx: Ctx) -> list[str]:
    """master.cf services run by smtpd (`postconf -M`): name/type."""
    result = ctx.command("postconf -M")
    found = []
    for line in (result or {}).get("stdout", "").splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[7] == "smtpd":
            found.append(f"{fields[0]}/{fields[1]}")
    return found


def overrides(ctx: Ctx) -> dict[str, dict[str, str]]:
    """`postconf -P -x`: service name/type → its -o parameter overrides."""
    result = ctx.command("postconf -P -x")
    out: dict[str, dict[str, str]] = {}
    for key, value in postconf_values((result or {}).get("stdout", "")).items():
        service, _, param = key.rpartition("/")
        out.setdefault(service, {})[param] = value
    return out


def settings(ctx: Ctx, param: str, smtpd: bool = True) -> list[tuple[str, str]]:
    """(where, value) of a parameter as Postfix applies it. smtpd: one per smtpd service of
    master.cf (its -o override, else main.cf's value); else main.cf's value and every -o of it."""
    values, extra = postfix(ctx), overrides(ctx)
    if param not in values:
        raise Unreadable(f"postconf -x: {param} not shown")
    origin = "main.cf" if param in explicit(ctx) else "Postfix default"
    main = (f"{param} = {values[param]!r} ({origin})", values[param])
    if not smtpd:
        sets = [(f"{param} = {o[param]!r} (master.cf {s} -o)", o[param]) for s, o in extra.items() if param in o]
        return [main, *sets]
    out = []
    for service in smtpd_services(ctx) or [None]:
        own = extra.get(service or "", {})
        if param in own:
            out.append((f"{service}: {param} = {own[param]!r} (master.cf -o)", own[param]))
        else:
            out.append((f"{service or 'no smtpd service'}: {main[0]}", main[1]))
    return out


def evidence_of(rows: list[tuple[str, str]]) -> list[str]:
    return [f"postconf -x: {where}" for where, _ in rows]


def as_int(where: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{where}: not an integer") from None


# ---- networks (mynetworks, its validation) -----------------------------------------------


def network(text: str) -> Network:
    """A Postfix network (`[::1]/128`, `10.1.2.0/24`, an address); IPv4-mapped IPv6 as IPv4."""
    net = ipaddress.ip_network(re.sub(r"^\[(.*)\]", r"\1", text.strip()), strict=False)
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.network_address.ipv4_mapped:
        return ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
    return net


# The widest networks lgsec accepts in mynetworks (they relay without authentication).
WIDEST = {4: 16, 6: 48}


@validator("MAIL-NO-RELAY", "mynetworks")
def narrow_networks(value: list) -> str | None:
    """mynetworks: each entry an address or network, none wider than /16 (IPv4) or /48 (IPv6),
    loopback excepted."""
    for entry in value:
        try:
            net = network(str(entry))
        except ValueError:
            return f"{entry!r} is not an IP address or network (Postfix [ipv6]/len or a.b.c.d/len)"
        if net.prefixlen < WIDEST[net.version] and not net.is_loopback:
            return (
                f"{entry!r} is over-broad: every address in mynetworks may relay without authentication; "
                f"networks must be /{WIDEST[4]} or narrower (IPv4), /{WIDEST[6]} or narrower (IPv6), loopback excepted"
            )
    return None


# ---- MAIL-NO-RELAY -----------------------------------------------------------------------

GUARDS = {"reject_unauth_destination", "defer_unauth_destination", "reject", "defer"}
# Restrictions that never let an unauthenticated client outside mynetworks relay.
HARMLESS = {"permit_mynetworks", "permit_sasl_authenticated", "permit_tls_clientcerts", "permit_auth_destination"}


def relay_problem(restrictions: str) -> str | None:
    """Why a restriction list may let a stranger relay, or None when it refuses first."""
    for item in SPLIT.split(restrictions.strip()):
        if not item or ":" in item:  # a lookup table is an argument of the item before
            continue
        if item in GUARDS:
            return None
        if item in HARMLESS or item.startswith(("reject_", "defer_", "warn_")):
            continue
        return f"{item} comes before reject_unauth_destination"
    return "no reject_unauth_destination"


@check(
    "MAIL-NO-RELAY", "mail", commands=("postconf -n", "postconf -x", "postconf -M", "postconf -P -x"), facts=("mail",)
)
def mail_no_relay(ctx: Ctx) -> Verdict:
    allowed = [network(n) for n in ctx.params["mynetworks"]]
    expected = (
        "every smtpd service refuses relaying (reject_unauth_destination) to clients outside mynetworks "
        f"without SASL; mynetworks within {', '.join(ctx.params['mynetworks'])}"
    )
    relay, recipient = settings(ctx, "smtpd_relay_restrictions"), settings(ctx, "smtpd_recipient_restrictions")
    problems, evidence = [], evidence_of(relay) + evidence_of(recipient)
    for (where, value), (_, value2) in zip(relay, recipient, strict=True):
        why, why2 = relay_problem(value), relay_problem(value2)
        if why and why2:
            service = where.split(":")[0]
            why = f"smtpd_relay_restrictions: {why}; smtpd_recipient_restrictions: {why2}"
            problems.append(f"{service}: open relay ({why})")
    (where, value), *_ = settings(ctx, "mynetworks", smtpd=False)
    evidence.append(f"postconf -x: {where}")
    for entry in SPLIT.split(value.strip()):
        if not entry:
            continue
        try:
            net = network(entry)
        except ValueError:
            problems.append(f"mynetworks entry {entry} is not a network lgsec can judge")
            continue
        if not any(net.version == a.version and net.subnet_of(a) for a in allowed):
            problems.append(f"mynetworks {entry} is not within the approved networks")
    return verdict(problems, expected, "relaying refused; mynetworks = " + (value or "(empty)"), evidence)


# ---- MAIL-SIZE-LIMIT, MAIL-MAILBOX-LIMIT -----------------------------------------------------


def cap_problems(rows: list[tuple[str, str]], limit: int) -> list[str]:
    problems = []
    for where, value in rows:
        size = as_int(where, value)
        if size == 0 or size > limit:
            problems.append(f"{where.split(' (')[0]}: {'no limit' if size == 0 else f'above {limit}'}")
    return problems


@check(
    "MAIL-SIZE-LIMIT", "mail", commands=("postconf -n", "postconf -x", "postconf -M", "postconf -P -x"), facts=("mail",)
)
def mail_size_limit(ctx: Ctx) -> Verdict:
    limit = ctx.params["max_bytes"]
    rows = settings(ctx, "message_size_limit", smtpd=False)
    ok = ", ".join(v for _, v in rows) + " bytes"
    return verdict(cap_problems(rows, limit), f"message_size_limit between 1 and {limit} bytes", ok, evidence_of(rows))


@check(
    "MAIL-MAILBOX-LIMIT",
    "mail",
    commands=("postconf -n", "postconf -x", "postconf -M", "postconf -P -x"),
    facts=("mail",),
)
def mail_mailbox_limit(ctx: Ctx) -> Verdict:
    limit, values = ctx.params["max_bytes"], postfix(ctx)
    expected = (
        f"mailbox_size_limit (and virtual_mailbox_limit for virtual domains) between message_size_limit and {limit}"
    )
    for param, agent in (("mailbox_transport", ""), ("virtual_transport", "virtual")):
        handed = values.get(param, "")
        if handed not in ("", agent) and (param == "mailbox_transport" or values.get("virtual_mailbox_domains")):
            return Verdict(
                "manual",
                expected,
                f"{param} = {handed}: that delivery agent's quota is not Postfix's; attest it",
                [f"postconf -x: {param} = {handed!r}"],
            )
    rows = settings(ctx, "mailbox_size_limit", smtpd=False)
    if values.get("virtual_mailbox_domains"):
        rows += settings(ctx, "virtual_mailbox_limit", smtpd=False)
    message = as_int("message_size_limit", values["message_size_limit"])
    problems = cap_problems(rows, limit)
    problems += [f"{w.split(' (')[0]}: below message_size_limit {message}" for w, v in rows if 0 < int(v) < message]
    evidence = [*evidence_of(rows), f"postconf -x: message_size_limit = {message}"]
    return verdict(problems, expected, ", ".join(v for _, v in rows) + " bytes", evidence)


# ---- MAIL-RATE-LIMIT -----------------------------------------------------------------------

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhdw]?)", text.strip())
    if not match:
        raise ValueError(f"anvil_rate_time_unit {text!r} is not a time")
    return int(match[1]) * UNITS[match[2] or "s"]


@check(
    "MAIL-RATE-LIMIT", "mail", commands=("postconf -n", "postconf -x", "postconf -M", "postconf -P -x"), facts=("mail",)
)
def mail_rate_limit(ctx: Ctx) -> Verdict:
    p = ctx.params
    unit_rows = settings(ctx, "anvil_rate_time_unit", smtpd=False)
    unit = max(seconds(v) for _, v in unit_rows)  # the longest unit: the loosest rate
    rates = {
        "smtpd_client_message_rate_limit": p["client_message_rate"],
        "smtpd_client_recipient_rate_limit": p["client_recipient_rate"],
        "smtpd_client_connection_rate_limit": p["client_connection_rate"],
    }
    expected = (
        ", ".join(f"{name} <= {rate} per {p['rate_time_unit']} s" for name, rate in rates.items())
        + f", smtpd_recipient_limit <= {p['recipient_limit']}, exempt only {p['limit_exceptions'] or 'nobody'}"
    )
    problems, evidence, seen = [], evidence_of(unit_rows), []
    for name, rate in rates.items():
        rows = settings(ctx, name)
        evidence += evidence_of(rows)
        for where, value in rows:
            count = as_int(where, value)
            seen.append(f"{name} = {count}")
            if count == 0:
                problems.append(f"{where.split(':')[0]}: {name} = 0 (no limit)")
            elif count * p["rate_time_unit"] > rate * unit:
                problems.append(f"{where.split(':')[0]}: {name} = {count} per {unit} s")
    rows = settings(ctx, "smtpd_recipient_limit")
    evidence += evidence_of(rows)
    over = [(w, v) for w, v in rows if as_int(w, v) > p["recipient_limit"]]
    problems += [f"{w.split(':')[0]}: smtpd_recipient_limit = {v}" for w, v in over]
    rows = settings(ctx, "smtpd_client_event_limit_exceptions")
    evidence += evidence_of(rows)
    for where, value in rows:
        extra = [e for e in SPLIT.split(value.strip()) if e and e not in p["limit_exceptions"]]
        if extra:
            problems.append(f"{where.split(':')[0]}: exempt from the limits: {', '.join(extra)}")
    ok = f"{', '.join(dict.fromkeys(seen))} per {unit} s; no client exempt beyond {p['limit_exceptions'] or 'nobody'}"
    return verdict(problems, expected, ok, evidence)


# ---- MAIL-NO-AUTOFORWARD -------------------------------------------------------------------


def domains(values: dict[str, str], internal: list[str]) -> list[str]:
    if internal:
        return [d.lower() for d in internal]
    names = (values.get(p, "") for p in ("mydestination", "virtual_alias_domains", "virtual_mailbox_domains"))
    found = [d.lower() for text in names for d in SPLIT.split(text) if d and ":" not in d and "/" not in d]
    return list(dict.fromkeys(found))


def outside(target: str, inside: list[str]) -> bool:
    """An address (user@domain) whose domain is none of the union's domains nor under one."""
    target = target.strip().strip('"').strip("<>").lower()
    if not re.fullmatch(r"[^@\s|/:]+@[^@\s]+", target):  # a local name, |command, /file, :include:
        return False
    domain = target.rsplit("@", 1)[1]
    return not any(domain == d or domain.endswith("." + d) for d in inside)


def map_entries(stdout: str) -> list[tuple[str, str]]:
    """`postalias -s` / `postmap -s` lines: key, then its value (after ': ' or whitespace)."""
    out = []
    for line in stdout.splitlines():
        match = re.match(r"^([^\s:]+):\s+(.*)$", line) or re.match(r"^(\S+)\s+(.*)$", line)
        if match:
            out.append((match[1], match[2].strip()))
    return out


def forward_files(ctx: Ctx) -> dict[str, str]:
    """.forward* files of the users' homes, by path."""
    homes = ctx.facts["mail"]["forward_homes"]
    for path, reason in ctx.facts.get("errors", {}).items():
        if "/.forward" in path:
            raise Unreadable(f"{path}: {reason}")
    return {
        path: text
        for path, text in ctx.facts.get("files", {}).items()
        if path.rsplit("/", 1)[0] in homes and path.rsplit("/", 1)[-1].startswith(".forward")
    }


@check(
    "MAIL-NO-AUTOFORWARD",
    "mail",
    files=("/*/.forward*",),
    commands=("postconf -x", "postalias -s *", "postmap -s *"),
    facts=("mail",),
)
def mail_no_autoforward(ctx: Ctx) -> Verdict:
    values = postfix(ctx)
    inside = domains(values, ctx.params["internal_domains"])
    expected = f"no alias or .forward sends mail outside {', '.join(inside) or '(no local domain)'}"
    source = "lgsec_mail_no_autoforward_internal_domains" if ctx.params["internal_domains"] else "mydestination"
    evidence = [f"internal domains ({source}): {', '.join(inside)}"]
    for name in ctx.facts.get("errors", {}):
        if name.startswith(("postalias -s", "postmap -s")):
            ctx.command(name)  # a map lgsec cannot list: error, never pass
    problems = []
    for name in ctx.facts["mail"]["alias_maps"]:
        result = ctx.command(name)
        entries = map_entries(result["stdout"]) if result else []
        evidence.append(f"{name}: {len(entries)} entries")
        for key, value in entries:
            far = [t.strip() for t in value.split(",") if outside(t, inside)]
            if far:
                problems.append(f"alias {key} -> {', '.join(far)} ({name})")
    forward_path = values.get("forward_path", "")
    evidence.append(f"postconf -x: forward_path = {forward_path!r}")
    for path, text in sorted(forward_files(ctx).items()):
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        far = [t for line in lines for t in line.split(",") if outside(t, inside)]
        if not far:
            continue
        if not forward_path.strip():
            evidence.append(f"{path}: {', '.join(t.strip() for t in far)} (ignored: forward_path is empty)")
        else:
            problems.append(f".forward {path} -> {', '.join(t.strip() for t in far)}")
    return verdict(problems, expected, "no forwarding outside the union's domains", evidence)


# ---- MAIL-TLS ------------------------------------------------------------------------------

INBOUND = {"may": ("may", "encrypt"), "encrypt": ("encrypt",)}
OUTBOUND = {
    "may": ("may", "dane", "dane-only", "encrypt", "fingerprint", "verify", "secure"),
    "encrypt": ("encrypt", "dane-only", "fingerprint", "verify", "secure"),
    "dane": ("dane", "dane-only"),
}
TLS_PROTOCOL_PARAMS = (
    "smtpd_tls_protocols",
    "smtpd_tls_mandatory_protocols",
    "smtp_tls_protocols",
    "smtp_tls_mandatory_protocols",
)
PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def oldest_protocol(value: str) -> str:
    """The oldest protocol a Postfix protocol list (`>=TLSv1.2`, `!SSLv2, !SSLv3`) allows."""
    allowed = list(PROTOCOLS)
    named = [t for t in SPLIT.split(value.strip()) if t]
    included = [t for t in named if t in PROTOCOLS]
    if included:
        allowed = [p for p in allowed if p in included]
    for token in named:
        if token.startswith(">=") and token[2:] in PROTOCOLS:
            allowed = [p for p in allowed if PROTOCOLS.index(p) >= PROTOCOLS.index(token[2:])]
        elif token.startswith("!"):
            allowed = [p for p in allowed if p != token[1:]]
    return allowed[0] if allowed else "none"


@check("MAIL-TLS", "mail", commands=("postconf -n", "postconf -x", "postconf -M", "postconf -P -x"), facts=("mail",))
def mail_tls(ctx: Ctx) -> Verdict:
    p = ctx.params
    expected = (
        f"STARTTLS: smtpd_tls_security_level {p['level']} or stricter with a certificate, "
        f"smtp_tls_security_level {p['outbound_level']} or stricter, nothing older than {p['min_protocol']}"
    )
    problems, evidence = [], []
    rows = settings(ctx, "smtpd_tls_security_level")
    evidence += evidence_of(rows)
    weak = [(w, v) for w, v in rows if v not in INBOUND[p["level"]]]
    problems += [f"{w.split(':')[0]}: smtpd_tls_security_level = {v!r}" for w, v in weak]
    for what in ("cert", "key"):
        rows = settings(ctx, f"smtpd_tls_{what}_file")
        chain = settings(ctx, "smtpd_tls_chain_files")
        evidence += evidence_of(rows)
        for (where, value), (_, chained) in zip(rows, chain, strict=True):
            wanted = p[f"{what}_file"]
            if not value and not chained:
                problems.append(f"{where.split(':')[0]}: no smtpd_tls_{what}_file")
            elif wanted and value != wanted:
                problems.append(f"{where.split(':')[0]}: smtpd_tls_{what}_file is {value!r}, not {wanted}")
    rows = settings(ctx, "smtp_tls_security_level", smtpd=False)
    evidence += evidence_of(rows)
    problems += [f"smtp_tls_security_level = {v!r}" for _, v in rows if v not in OUTBOUND[p["outbound_level"]]]
    for name in TLS_PROTOCOL_PARAMS:
        rows = settings(ctx, name, smtpd=name.startswith("smtpd_"))
        evidence += evidence_of(rows)
        for where, value in rows:
            oldest = oldest_protocol(value)
            if oldest != "none" and PROTOCOLS.index(oldest) < PROTOCOLS.index(p["min_protocol"]):
                problems.append(f"{where.split(' = ')[0]} allows {oldest}")
    ok = "STARTTLS offered with a certificate; TLS levels and protocols as required"
    return verdict(problems, expected, ok, evidence)


# ---- AV-GATEWAY ----------------------------------------------------------------------------

MILTER_CONF = "/etc/clamav/clamav-milter.conf"


def conf_value(text: str, key: str, default: str) -> str:
    value = default
    for line in text.splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2 and fields[0] == key:
            value = fields[1].strip()
    return value


def milter_matches(milter: str, socket: str, queue: str) -> bool:
    """A Postfix milter address (unix:/path, inet:host:port) names clamav-milter's MilterSocket
    (/path, unix:/path, local:/path, inet:port@host, tcp:port@host)."""
    milter = milter.strip("{} ")
    kind, _, where = milter.partition(":")
    sock_kind, _, sock_where = socket.partition(":") if ":" in socket else ("unix", "", socket)
    if kind in ("unix", "local") and sock_kind in ("unix", "local"):
        return sock_where in (where, queue.rstrip("/") + where)
    if kind == "inet" and sock_kind in ("inet", "tcp", "inet6"):
        return where.rsplit(":", 1)[-1] == sock_where.split("@")[0]
    return False


@check(
    "AV-GATEWAY",
    "mail",
    files=("/etc/clamav/clamav-milter.conf",),
    commands=(
        "postconf -n",
        "postconf -x",
        "postconf -M",
        "postconf -P -x",
        "systemctl show clamav",
        "systemctl show clamav-milter",
    ),
    facts=("mail",),
)
def av_gateway(ctx: Ctx) -> Verdict:
    expected = (
        "every smtpd service hands mail to clamav-milter (running; OnInfected not Accept, OnFail not Accept), "
        "clamd running, milter_default_action not accept"
    )
    values, problems = postfix(ctx), []
    conf = ctx.file(MILTER_CONF, required=False)
    rows = settings(ctx, "smtpd_milters")
    evidence = evidence_of(rows)
    if conf is None:
        problems.append("clamav-milter is not configured (no /etc/clamav/clamav-milter.conf)")
    else:
        socket = conf_value(conf, "MilterSocket", "")
        evidence.append(f"{MILTER_CONF}: MilterSocket {socket or '(unset)'}")
        for where, value in rows:
            milters = [m for m in SPLIT.split(value) if m]
            if not any(milter_matches(m, socket, values.get("queue_directory", "")) for m in milters):
                named = socket or "no socket"
                problems.append(f"{where.split(':')[0]}: smtpd_milters does not name clamav-milter ({named})")
        for key, default in (("OnInfected", "Quarantine"), ("OnFail", "Defer")):
            action = conf_value(conf, key, default)
            evidence.append(f"{MILTER_CONF}: {key} {action}")
            if action.lower() == "accept":
                problems.append(f"clamav-milter {key} Accept lets the mail through")
    action = values.get("milter_default_action", "")
    evidence.append(f"postconf -x: milter_default_action = {action!r}")
    if action == "accept":
        problems.append("milter_default_action = accept: mail passes unscanned when the milter fails")
    shown = ctx.command("systemctl show clamav-milter")
    props = dict(line.partition("=")[::2] for line in (shown or {}).get("stdout", "").splitlines())
    evidence.append(state("clamav-milter.service", props))
    if props.get("ActiveState") != "active":
        problems.append("clamav-milter is not running")
    daemons = units(ctx)
    evidence += [state(u, daemons[u]) for u in DAEMON_UNITS if u in daemons]
    if not any(daemons.get(u, {}).get("ActiveState") == "active" for u in DAEMON_UNITS):
        problems.append("clamd is not running")
    return verdict(problems, expected, "mail scanned by clamav-milter before it is accepted", evidence)
