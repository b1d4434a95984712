"""The control catalog: load catalog/controls.yml and check it against its schema.

Every error names the file, the entry and the field (InputError, exit code 2).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lgsec.errors import InputError

# libyaml's parser when PyYAML has it (ten times faster: the catalog is read by every run's steps)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def project_root() -> Path:
    """Where the catalog, playbooks, roles and plugins are: lgsec/share in an installed wheel
    (package data, setup.py), the checkout itself in an editable install (make venv)."""
    package = Path(str(resources.files("lgsec")))
    share = package / "share"
    return share if (share / "catalog" / "controls.yml").is_file() else package.parent


ROOT = project_root()
DEFAULT_CATALOG = ROOT / "catalog" / "controls.yml"
# Why each control matters and how it is fixed: explanations.yml beside the catalog (the shipped
# one for a catalog copied elsewhere without it)
EXPLANATIONS = "explanations.yml"
EXPLANATION_TEXTS = ("description", "rationale", "remediation")

PLATFORMS = ("linux", "windows", "network", "mail")
AUTOMATION = ("automated", "audit-only", "manual")
CLASSES = ("I", "II", "III", "IV")
SECTIONS = tuple("ABCDEFGH")
PARAM_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "bool": bool,
    "str": str,
    "list": list,
    "dict": dict,
}
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
ARTICLE_RE = re.compile(r"^第\d+条")
REQUIRED = ("id", "section", "articles", "title_ja", "title_en", "platforms", "automation", "params")
OPTIONAL = ("classes", "mobile_only", "manual_note", "harden")
# harden: how the audit-driven hardening (playbooks/harden.yml, lgsec/harden.py) treats a control
# whose audit passes. always: why its role must run anyway (the audit cannot see all it sets);
# with: controls whose remediation can undo it (it runs whenever one of them is repaired).
HARDEN_KEYS = ("always", "with")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple | None = None
    format: str | None = None  # a str's or each list element's form (FORMATS)


def _network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


PORT_RANGE = re.compile(r"^(tcp|udp)/(\d{1,5})(?:-(\d{1,5}))?$")


def _proto_port(value: str) -> bool:
    match = PORT_RANGE.match(value)
    ports = [int(p) for p in match.groups()[1:] if p] if match else []
    return bool(match) and all(1 <= p <= 65535 for p in ports) and ports == sorted(ports)


# A parameter's `format`: what the roles and checks that read the value rely on, checked with
# its type by the validation every audit and hardening runs first. name -> (test, what it asks).
FORMATS: dict[str, tuple[Any, str]] = {
    "usb-id": (
        re.compile(r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$").match,
        "a USB vendor:product id of four hex digits each (0781:5581)",
    ),
    "setup-class-guid": (
        re.compile(r"^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$").match,
        "a device setup class GUID in braces ({4d36e96b-e325-11ce-bfc1-08002be10318})",
    ),
    "text": (str.strip, "text that is not blank"),
    "network": (_network, "an IPv4 or IPv6 network or address (192.0.2.0/24, 2001:db8::/32, 192.0.2.10)"),
    "proto-port": (_proto_port, "tcp or udp with a port or a low-high range of 1-65535 (tcp/443, udp/60000-61000)"),
}


@dataclass(frozen=True)
class Explanation:
    """description, rationale and remediation as {ja, en}; references (guideline, CIS, NIST)."""

    description: dict[str, str]
    rationale: dict[str, str]
    remediation: dict[str, str]
    references: tuple[str, ...]

    def as_row(self) -> dict:
        """The fields a report row carries."""
        return {
            "description": dict(self.description),
            "rationale": dict(self.rationale),
            "remediation": dict(self.remediation),
            "references": list(self.references),
        }


@dataclass(frozen=True)
class Control:
    id: str
    section: str
    articles: tuple[str, ...]
    title_ja: str
    title_en: str
    platforms: tuple[str, ...]
    automation: str
    params: dict[str, Param] = field(default_factory=dict)
    classes: tuple[str, ...] = CLASSES
    mobile_only: bool = False
    manual_note: str = ""
    explanation: Explanation | None = None
    harden_always: str = ""  # non-empty: the role runs on every hardening, with this reason
    harden_with: tuple[str, ...] = ()  # runs whenever one of these controls is being repaired

    def var(self, param: str) -> str:
        """The host variable that sets one of this control's parameters."""
        return var_name(self.id, param)


def var_name(control_id: str, param: str) -> str:
    return "lgsec_" + control_id.lower().replace("-", "_") + "_" + param


@dataclass(frozen=True)
class Catalog:
    path: str
    controls: dict[str, Control]

    def __getitem__(self, cid: str) -> Control:
        return self.controls[cid]

    def __iter__(self):
        return iter(self.controls.values())

    def __len__(self) -> int:
        return len(self.controls)

    def variables(self) -> dict[str, tuple[Control, Param]]:
        """Every parameter's host variable name → (control, param)."""
        return {c.var(p.name): (c, p) for c in self for p in c.params.values()}


def type_ok(value: Any, type_name: str) -> bool:
    """Exactly the type: a bool is not an int, a date or a quoted 'no' is not a bool."""
    expected = PARAM_TYPES[type_name]
    if type_name == "int" and isinstance(value, bool):
        return False
    return isinstance(value, expected)


def kind(value: Any) -> str:
    """The plain type name of a value (Ansible hands over its own subclasses of int, str …)."""
    for plain in (bool, int, float, str, list, dict):
        if isinstance(value, plain):
            return plain.__name__
    return type(value).__name__


def check_value(value: Any, param: Param) -> str | None:
    """Why value is not acceptable for param, or None. A list's elements and a mapping's keys are
    text (every list parameter of the catalog holds names, ids or patterns)."""
    if not type_ok(value, param.type):
        return f"must be {param.type}, got {kind(value)} {value!r}"
    if param.type == "list":
        wrong = [v for v in value if not isinstance(v, str)]
        if wrong:
            return f"elements must be text, got {kind(wrong[0])} {wrong[0]!r}"
    if param.type == "dict":
        wrong = [k for k in value if not isinstance(k, str)]
        if wrong:
            return f"keys must be text, got {kind(wrong[0])} {wrong[0]!r}"
    if param.type == "int":
        if param.minimum is not None and value < param.minimum:
            return f"must be at least {param.minimum}, got {value}"
        if param.maximum is not None and value > param.maximum:
            return f"must be at most {param.maximum}, got {value}"
    if param.choices is not None and param.type == "list":  # choices of a list: of its elements
        bad = [v for v in value if v not in param.choices]
        if bad:
            return f"elements must be of {', '.join(map(str, param.choices))}, got {', '.join(map(str, bad))}"
    elif param.choices is not None and value not in param.choices:
        return f"must be one of {', '.join(map(str, param.choices))}, got {value!r}"
    if param.format is not None:
        test, asks = FORMATS[param.format]
        bad = [v for v in (value if param.type == "list" else [value]) if not test(v)]
        if bad:
            each = "each element must be" if param.type == "list" else "must be"
            return f"{each} {asks}, got {bad[0]!r}"
    return None


def _param(where: str, name: str, spec: Any) -> Param:
    if not isinstance(spec, dict):
        raise InputError(where, f"params.{name}", "must be a mapping with type and default")
    unknown = set(spec) - {"type", "default", "description", "minimum", "maximum", "choices", "format"}
    if unknown:
        raise InputError(where, f"params.{name}", f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    ptype = spec.get("type")
    if ptype not in PARAM_TYPES:
        raise InputError(where, f"params.{name}.type", f"must be one of {', '.join(PARAM_TYPES)}, got {ptype!r}")
    if "default" not in spec:
        raise InputError(where, f"params.{name}.default", "missing")
    choices = spec.get("choices")
    fmt = spec.get("format")
    if fmt is not None and (fmt not in FORMATS or ptype not in ("str", "list")):
        raise InputError(where, f"params.{name}.format", f"must be one of {', '.join(FORMATS)} on a str or list")
    param = Param(
        name=name,
        type=ptype,
        default=spec["default"],
        description=str(spec.get("description", "")),
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
        choices=tuple(choices) if choices is not None else None,
        format=fmt,
    )
    problem = check_value(param.default, param)
    if problem:
        raise InputError(where, f"params.{name}.default", problem)
    return param


def _str_list(where: str, fld: str, value: Any, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InputError(where, fld, "must be a non-empty list of strings")
    if allowed:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise InputError(where, fld, f"unknown value(s) {', '.join(bad)}; allowed: {', '.join(allowed)}")
    return tuple(value)


def _harden(where: str, entry: dict) -> tuple[str, tuple[str, ...]]:
    """The `harden` field: (always reason, with ids); ids are checked against the catalog later."""
    spec = entry.get("harden")
    if spec is None:
        return "", ()
    if not isinstance(spec, dict) or not spec:
        raise InputError(where, "harden", "must be a mapping with always (a reason) and/or with (control ids)")
    unknown = set(spec) - set(HARDEN_KEYS)
    if unknown:
        raise InputError(where, "harden", f"unknown key(s) {', '.join(sorted(unknown))}; allowed: always, with")
    if entry.get("automation") != "automated":
        raise InputError(where, "harden", "only an automated control has a role to run")
    always = spec.get("always", "")
    if "always" in spec and (not isinstance(always, str) or not always.strip()):
        raise InputError(where, "harden.always", "must say why the audit cannot see everything the role sets")
    with_ = _str_list(where, "harden.with", spec["with"]) if "with" in spec else ()
    return always.strip(), with_


def _control(path: str, index: int, entry: Any) -> Control:
    if not isinstance(entry, dict):
        raise InputError(path, f"controls[{index}]", "must be a mapping")
    cid = entry.get("id")
    where = f"{path}: control {cid}" if isinstance(cid, str) else f"{path}: controls[{index}]"
    for key in REQUIRED:
        if key not in entry:
            raise InputError(where, key, "missing")
    unknown = set(entry) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise InputError(where, ", ".join(sorted(map(str, unknown))), "unknown field")
    if not isinstance(cid, str) or not ID_RE.match(cid):
        raise InputError(where, "id", f"must look like PW-LENGTH, got {cid!r}")
    if entry["section"] not in SECTIONS:
        raise InputError(where, "section", f"must be one of {', '.join(SECTIONS)}")
    articles = _str_list(where, "articles", entry["articles"])
    for art in articles:
        if not ARTICLE_RE.match(art):
            raise InputError(where, "articles", f"{art!r} does not cite an article as 第N条…")
    for key in ("title_ja", "title_en"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise InputError(where, key, "must be a non-empty string")
    if entry["automation"] not in AUTOMATION:
        raise InputError(where, "automation", f"must be one of {', '.join(AUTOMATION)}")
    params = entry["params"] or {}
    if not isinstance(params, dict):
        raise InputError(where, "params", "must be a mapping")
    mobile_only = entry.get("mobile_only", False)
    if not isinstance(mobile_only, bool):
        raise InputError(where, "mobile_only", "must be true or false")
    harden_always, harden_with = _harden(where, entry)
    return Control(
        id=cid,
        section=entry["section"],
        articles=articles,
        title_ja=entry["title_ja"].strip(),
        title_en=entry["title_en"].strip(),
        platforms=_str_list(where, "platforms", entry["platforms"], PLATFORMS),
        automation=entry["automation"],
        params={name: _param(where, name, spec) for name, spec in params.items()},
        classes=_str_list(where, "classes", entry.get("classes", list(CLASSES)), CLASSES),
        mobile_only=mobile_only,
        manual_note=str(entry.get("manual_note", "")).strip(),
        harden_always=harden_always,
        harden_with=harden_with,
    )


def _explanation(where: str, control: Control, entry: Any) -> Explanation:
    if not isinstance(entry, dict):
        raise InputError(where, "-", "must be a mapping with description, rationale, remediation, references")
    unknown = set(entry) - {*EXPLANATION_TEXTS, "references"}
    if unknown:
        raise InputError(where, ", ".join(sorted(unknown)), "unknown field")
    texts = {}
    for key in EXPLANATION_TEXTS:
        value = entry.get(key)
        if not isinstance(value, dict) or set(value) != {"ja", "en"}:
            raise InputError(where, key, "must be a mapping with exactly ja and en")
        for lang in ("ja", "en"):
            if not isinstance(value[lang], str) or not value[lang].strip():
                raise InputError(where, f"{key}.{lang}", "must be a non-empty string")
        texts[key] = {lang: value[lang].strip() for lang in ("ja", "en")}
    cited = {m.group(0) for m in re.finditer(r"第\d+条", texts["rationale"]["ja"])}
    own = {ARTICLE_RE.match(a).group(0) for a in control.articles}
    if not cited & own:
        raise InputError(where, "rationale.ja", f"must cite the control's article ({', '.join(sorted(own))})")
    for lang in ("ja", "en"):
        if f"lgsec harden --tags {control.id}" not in texts["remediation"][lang]:
            raise InputError(where, f"remediation.{lang}", f"must say what `lgsec harden --tags {control.id}` does")
    references = entry.get("references")
    if not isinstance(references, list) or not all(isinstance(r, str) and r.strip() for r in references):
        raise InputError(where, "references", "must be a list of strings")
    if not any(r.startswith("総務省ガイドライン") for r in references):
        raise InputError(where, "references", "must name the national model guideline section (総務省ガイドライン …)")
    return Explanation(references=tuple(references), **texts)


def explanations_path(catalog_path: Path) -> Path:
    beside = catalog_path.parent / EXPLANATIONS
    return beside if beside.is_file() else DEFAULT_CATALOG.parent / EXPLANATIONS


def load_explanations(catalog_path: Path, controls: dict[str, Control]) -> dict[str, Control]:
    """Every control with its explanation. An id the file has and the catalog does not is refused
    when the file is the catalog's own (beside it); every control of the catalog needs one."""
    path = explanations_path(catalog_path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise InputError(str(path), "-", f"cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark else "-"
        raise InputError(str(path), at, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("explanations"), dict):
        raise InputError(str(path), "explanations", "must be a mapping `explanations` of control id → explanation")
    entries = data["explanations"]
    if path.parent == catalog_path.parent:
        unknown = sorted(set(entries) - set(controls))
        if unknown:
            raise InputError(f"{path}: explanation {unknown[0]}", "id", f"not a control of {catalog_path}")
    out = {}
    for cid, control in controls.items():
        if cid not in entries:
            raise InputError(str(path), f"explanation {cid}", "missing: every control of the catalog needs one")
        explanation = _explanation(f"{path}: explanation {cid}", control, entries[cid])
        out[cid] = dataclasses.replace(control, explanation=explanation)
    return out


def load_catalog(path: str | os.PathLike | None = None) -> Catalog:
    path = Path(path or os.environ.get("LGSEC_CATALOG") or DEFAULT_CATALOG)
    from lgsec import safeyaml

    data = safeyaml.load(path, "catalog", dates_as_text=False)
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise InputError(str(path), "controls", "the catalog must be a mapping with a 'controls' list")
    controls: dict[str, Control] = {}
    for index, entry in enumerate(data["controls"]):
        control = _control(str(path), index, entry)
        if control.id in controls:
            raise InputError(f"{path}: control {control.id}", "id", "duplicate id")
        controls[control.id] = control
    for control in controls.values():
        bad = [cid for cid in control.harden_with if cid not in controls or cid == control.id]
        if bad:
            raise InputError(
                f"{path}: control {control.id}", "harden.with", f"not another control's id: {', '.join(bad)}"
            )
    return Catalog(path=str(path), controls=load_explanations(path, controls))


ARTICLE = re.compile(r"第(\d+)条")


def article_key(article: str) -> str:
    """第50条(3) → 第50条: the summary counts by article."""
    match = ARTICLE.search(article)
    return match.group(0) if match else article
