"""Evaluate: facts + catalog + host variables → one result per (host, control).

Plain Python, no Ansible: the action plugin calls it for live hosts, the CLI for saved
evidence, the unit tests on fixtures.
"""

from __future__ import annotations

import sys
from typing import Any

from lgsec import eol
from lgsec.catalog import CLASSES, PLATFORMS, Catalog, Control, check_value, var_name
from lgsec.checks import CHECKS, VALIDATORS, Ctx, Unreadable, Verdict, load_all
from lgsec.errors import InputError

# Inventory groups that give a host its importance class (第10条); I is the most important.
CLASS_GROUPS = {f"importance_{n}": c for n, c in zip(("1", "2", "3", "4"), CLASSES, strict=True)}
CLASS_HINT = "set lgsec_importance (I, II, III or IV) or put the host in exactly one of the groups " + ", ".join(
    CLASS_GROUPS
)
DISPOSAL = "WIPE-RECORDED"  # the one control of a host marked lgsec_decommissioned
CONNECTION_PLATFORM = {
    "winrm": "windows",
    "psrp": "windows",
    "ansible.windows.winrm": "windows",
    "network_cli": "network",
    "ansible.netcommon.network_cli": "network",
}


def evidence_hostvars(catalog: Catalog, inventory: dict[str, dict] | None, host: str, source: str) -> dict:
    """The variables of a host judged from saved evidence (configurations, Windows exports): the
    inventory's, validated like a live run's; catalog defaults without an inventory. A host the
    inventory given lacks is judged on the defaults too, and a warning on stderr says so."""
    if inventory is not None and host not in inventory:
        from lgsec.textsafe import for_terminal

        print(
            f"lgsec: warning: {for_terminal(source)}: {for_terminal(host)} is not in the inventory: judged on the "
            "catalog defaults",
            file=sys.stderr,
        )
    hostvars = dict((inventory or {}).get(host, {}))
    validate_hostvars(catalog, host, hostvars, source=source)
    return hostvars


def validate_hostvars(
    catalog: Catalog, host: str, hostvars: dict, source: str = "inventory", *, require_class: bool | None = None
) -> None:
    """Every lgsec_<control>_<param> variable must name a known parameter with the right type,
    and the host must be in exactly one importance class (第10条). require_class None: when the
    host comes from an inventory (Ansible gives its variables group_names); saved evidence judged
    without an inventory (`--configs`/`--evidence` without -i) has no class to check."""
    from lgsec import variables

    known = catalog.variables()
    load_all()  # the checks' modules register the parameters' input validators
    prefixes = {var_name(c.id, ""): c for c in catalog}
    where = f"{source}: host {host}"
    for name, value in hostvars.items():
        if not isinstance(name, str) or not name.startswith("lgsec_"):
            continue
        if name in known:
            control, param = known[name]
            problem = check_value(value, param)
            if not problem and (control.id, param.name) in VALIDATORS:
                problem = VALIDATORS[(control.id, param.name)](value)
            if problem:
                raise InputError(where, name, f"{control.id} parameter {param.name} {problem}")
            continue
        for prefix, control in prefixes.items():
            if name.startswith(prefix):
                raise InputError(
                    where,
                    name,
                    f"{control.id} has no parameter {name[len(prefix) :]!r} "
                    f"(known: {', '.join(control.params) or 'none'})",
                )
        problem = variables.unknown(catalog, name)
        if problem:
            raise InputError(where, name, problem)
    ids = hostvars.get("lgsec_controls", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InputError(where, "lgsec_controls", "must be a list of control ids")
    unknown = [i for i in ids if i not in catalog.controls]
    if unknown:
        raise InputError(where, "lgsec_controls", f"unknown control id(s) {', '.join(unknown)}")
    extra = hostvars.get("lgsec_extra_platforms", [])
    if not isinstance(extra, list) or not all(isinstance(p, str) and p in PLATFORMS for p in extra):
        raise InputError(where, "lgsec_extra_platforms", f"must be a list of {', '.join(PLATFORMS)}")
    platform = hostvars.get("lgsec_platform")
    if platform is not None and (not isinstance(platform, str) or platform not in PLATFORMS):
        raise InputError(where, "lgsec_platform", f"must be one of {', '.join(PLATFORMS)}, got {platform!r}")
    for flag in ("lgsec_decommissioned", "lgsec_mobile"):  # 'no' (quoted) is text, and text is true
        if not isinstance(hostvars.get(flag, False), bool):
            raise InputError(where, flag, f"must be true or false (a YAML boolean), got {hostvars[flag]!r}")
    network_os = hostvars.get("ansible_network_os")
    if network_os not in (None, "") and not hostvars.get("lgsec_network_vendor"):
        from lgsec.network import NETWORK_OS  # an OS lgsec does not read is never judged as IOS

        if not isinstance(network_os, str) or network_os not in NETWORK_OS:
            raise InputError(
                where,
                "ansible_network_os",
                f"lgsec reads no configuration of {network_os!r} (known: {', '.join(NETWORK_OS)})",
            )
    klass = hostvars.get("lgsec_importance")
    if klass is not None and (not isinstance(klass, str) or klass not in CLASSES):
        raise InputError(where, "lgsec_importance", f"must be one of {', '.join(CLASSES)}, got {klass!r}")
    eol.validate_host(catalog, hostvars)  # SW-SUPPORTED's data file is input too (exit 2 when broken)
    if require_class is None:
        require_class = "group_names" in hostvars
    classes = host_classes(hostvars)
    if require_class and len(classes) != 1:
        if not classes:
            raise InputError(where, "lgsec_importance", f"no importance class (第10条): {CLASS_HINT}")
        raise InputError(
            where, "lgsec_importance", f"in {len(classes)} importance classes ({', '.join(classes)}): {CLASS_HINT}"
        )


def params_for(control: Control, hostvars: dict) -> dict[str, Any]:
    return {name: hostvars.get(control.var(name), p.default) for name, p in control.params.items()}


def host_classes(hostvars: dict) -> list[str]:
    """The importance classes the inventory gives a host: lgsec_importance and the groups
    importance_1…4 (a valid host has exactly one), most important first."""
    found = {hostvars["lgsec_importance"]} if hostvars.get("lgsec_importance") else set()
    found |= {CLASS_GROUPS[g] for g in hostvars.get("group_names", []) if g in CLASS_GROUPS}
    return [c for c in CLASSES if c in found]


def host_class(hostvars: dict) -> str | None:
    """The host's importance class (validated: exactly one); None for saved evidence judged without an inventory."""
    classes = host_classes(hostvars)
    return classes[0] if classes else None


def host_platform(hostvars: dict, facts: dict | None = None) -> str:
    if facts and facts.get("platform"):
        return facts["platform"]
    if hostvars.get("lgsec_platform"):
        return hostvars["lgsec_platform"]
    return CONNECTION_PLATFORM.get(str(hostvars.get("ansible_connection", "")), "linux")


def selected(catalog: Catalog, platform: str, hostvars: dict, only: list[str] | None = None) -> list[Control]:
    """The catalog's controls for this platform, in catalog order, narrowed by --controls and
    the host's lgsec_controls."""
    platforms = {platform, *hostvars.get("lgsec_extra_platforms", [])}
    wanted = set(only or catalog.controls) & set(hostvars.get("lgsec_controls") or catalog.controls)
    if hostvars.get("lgsec_decommissioned"):  # being disposed of: only the disposal wipe is judged
        wanted &= {DISPOSAL}
    return [c for c in catalog if c.id in wanted and platforms & set(c.platforms)]


def row(host: str, control: Control, verdict: Verdict, platform: str, klass: str | None, source: str) -> dict:
    out = {
        "host": host,
        "control": control.id,
        "articles": list(control.articles),
        "title_ja": control.title_ja,
        "title_en": control.title_en,
        "status": verdict.status,
        "expected": verdict.expected,
        "actual": verdict.actual,
        "evidence": verdict.evidence,
        "platform": platform,
        "importance": klass,
        "source": source,
    }
    if verdict.details:
        out["details"] = verdict.details
    return out


def judge(control: Control, ctx: Ctx, platform: str, klass: str | None, mobile: bool) -> Verdict:
    """The control's verdict, by the check of the host's platform or of one it adds
    (lgsec_extra_platforms: a mail server is a Linux host whose mail controls have mail checks)."""
    if klass is not None and klass not in control.classes:
        return Verdict("not_applicable", f"applies to 重要性 {', '.join(control.classes)}", f"host is 重要性{klass}")
    if control.mobile_only and not mobile:
        return Verdict("not_applicable", "applies to mobile devices", "host not marked lgsec_mobile")
    if control.automation == "manual":
        return Verdict("manual", control.manual_note or "attested by a person", "not machine-checkable")
    platforms = [platform, *ctx.hostvars.get("lgsec_extra_platforms", [])]
    fn = next((CHECKS[(control.id, p)] for p in platforms if (control.id, p) in CHECKS), None)
    if fn is None:
        return Verdict("manual", "no automated probe yet", f"lgsec does not check {control.id} on {platform} yet")
    try:
        return fn(ctx)
    except Unreadable as exc:
        return Verdict("error", "the fact must be readable", f"could not read: {exc}")
    except (KeyError, ValueError, TypeError) as exc:
        return Verdict("error", "facts in the expected format", f"{type(exc).__name__}: {exc}")


def evaluate_host(
    catalog: Catalog,
    host: str,
    facts: dict,
    hostvars: dict,
    *,
    source: str = "live",
    only: list[str] | None = None,
) -> list[dict]:
    """Judge one host's gathered facts against every selected control."""
    load_all()
    platform = host_platform(hostvars, facts)
    klass = host_class(hostvars)
    mobile = bool(hostvars.get("lgsec_mobile", False))
    cache: dict[str, dict] = {}

    def all_params(cid: str) -> dict:
        if cid not in cache:
            cache[cid] = params_for(catalog[cid], hostvars)
        return cache[cid]

    rows = []
    for control in selected(catalog, platform, hostvars, only):
        ctx = Ctx(host=host, facts=facts, params=all_params(control.id), hostvars=hostvars, all_params=all_params)
        rows.append(row(host, control, judge(control, ctx, platform, klass, mobile), platform, klass, source))
    return rows


def failed_host(
    catalog: Catalog, host: str, hostvars: dict, status: str, reason: str, *, only: list[str] | None = None
) -> list[dict]:
    """Rows for a host whose facts could not be gathered: every control `unreachable` or `error`.
    A decommissioned host is judged on its disposal record alone, which the controller keeps."""
    if hostvars.get("lgsec_decommissioned"):
        return evaluate_host(catalog, host, {"platform": host_platform(hostvars)}, hostvars, only=only)
    platform = host_platform(hostvars)
    klass = host_class(hostvars)
    verdict = Verdict(status, "host reachable and facts gathered", reason)
    return [row(host, c, verdict, platform, klass, "live") for c in selected(catalog, platform, hostvars, only)]
