"""The rule vocabulary. A rule file is validated when loaded; errors name the file, the rule and the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import RuleError
from driftcheck.ruleset import fixes
from driftcheck.ruleset.findings import SEVERITIES

CHANGE_KINDS = ("added", "removed", "changed")
# pair: target against each baseline; target: the target alone; drift: live against its declared state, in the
# drift job only; inventory: a resource found on one side only (in state but not live, live but not in state);
# audit: peer-group and environment parity, built by driftcheck/jobs/parity.py from the rule's texts; status: the
# failure the platform states in the target's status, matched by `status_match` (named groups become `item.*`), or
# failing that in its logs by `log_match`; logs: a signature of the target's recent logs, matched by `log_match`
# (ruleset/logs.py), with no difference from a peer needed.
SCOPES = ("pair", "target", "status", "logs", "across", "drift", "inventory", "audit")
_RULE_KEYS = {
    "id",
    "title",
    "severity",
    "scope",
    "match",
    "for_each",
    "item_key",
    "when",
    "needs",
    "unverified_hint",
    "confirm",
    "status_match",
    "log_match",
    "explanation",
    "remediation",
    "fix",
    "evidence",
    "docs",
    "vars",
    "peers",
    "description",
    "explained_by",
    "summary",
}


@dataclass(frozen=True)
class Match:
    path: str  # fnmatch glob over canonical paths, e.g. containers.*.env.*
    kinds: tuple[str, ...] = CHANGE_KINDS


@dataclass(frozen=True)
class Confirm:
    label: str  # template
    when: str  # CEL


@dataclass(frozen=True)
class EvidenceSpec:
    path: str | None = None  # canonical service path (may hold placeholders): both sides and sources from the services
    label: str | None = None  # template, for cross-resource facts
    target: str | None = None  # CEL
    baseline: str | None = None  # CEL
    source: str | None = None  # CEL


@dataclass(frozen=True)
class FixSpec:
    """One fix action as a rule spells it: what to do, with each argument a CEL expression (see ruleset/fixes.py)."""

    action: str
    args: dict[str, str] = field(default_factory=dict)
    when: str | None = None  # CEL: the action applies only when this holds
    for_each: str | None = None  # CEL list: one action per element, bound as `each` in `when` and `args`


_FIX_KEYS = {"action", "args", "when", "for_each"}


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    explanation: str
    docs: str
    origin: str
    scope: str = "pair"
    match: Match | None = None
    for_each: str | None = None
    item_key: str | None = None
    when: str | None = None
    needs: tuple[str, ...] = ()
    unverified_hint: str | None = None
    confirm: tuple[Confirm, ...] = ()
    status_match: tuple[str, ...] = ()
    log_match: tuple[str, ...] = ()  # patterns over the target's log signatures (ruleset/logs.py)
    remediation: dict[str, str] = field(default_factory=dict)  # text templates: user rules written before `fix`
    fix: tuple[FixSpec, ...] = ()
    evidence: tuple[EvidenceSpec, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    peers: str | None = None  # template completing "2/2 peers ...", e.g. "have {{ item.name }}"
    # Rules whose finding, when one is present, explains this one: this finding then becomes its corroboration.
    explained_by: tuple[str, ...] = ()
    summary: str | None = None  # template for several hits shown as one finding; `items` lists each hit's item


def parse_rule(raw: dict[str, Any], origin: str) -> Rule:
    rule_id = str(raw.get("id", "?"))

    def fail(field_name: str, problem: str) -> RuleError:
        return RuleError(f"{origin}: rule {rule_id}: {field_name}: {problem}")

    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown field (allowed: {', '.join(sorted(_RULE_KEYS))})")
    for required in ("id", "title", "severity", "explanation", "docs"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise fail(required, "required, a non-empty string")
    if raw["severity"] not in SEVERITIES:
        raise fail("severity", f"{raw['severity']!r} is not one of {', '.join(SEVERITIES)}")
    scope = raw.get("scope", "pair")
    if scope not in SCOPES:
        raise fail("scope", f"{scope!r} is not one of {', '.join(SCOPES)}")
    if "match" not in raw and "when" not in raw and scope not in ("status", "logs"):
        raise fail("when", "a rule needs `match`, `when`, or both")
    if scope == "status" and not raw.get("status_match"):
        raise fail("status_match", "a status rule needs the patterns of the failure it names")
    if scope == "logs" and not raw.get("log_match"):
        raise fail("log_match", "a logs rule needs the patterns of the log lines it names")
    for pattern in _str_list(raw, "log_match", fail):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail("log_match", f"{pattern!r}: not a regular expression ({exc})") from None
    if "match" in raw and scope not in ("pair", "drift"):
        raise fail("match", "change matching compares against a baseline: use scope pair or drift")
    if raw.get("fix") and raw.get("remediation"):
        raise fail("remediation", "a rule gives `fix` actions or `remediation` templates, not both")
    return Rule(
        id=rule_id,
        title=raw["title"],
        severity=raw["severity"],
        explanation=raw["explanation"],
        docs=raw["docs"],
        origin=origin,
        scope=scope,
        match=_match(raw["match"], fail) if "match" in raw else None,
        for_each=_optional_str(raw, "for_each", fail),
        item_key=_optional_str(raw, "item_key", fail),
        when=_optional_str(raw, "when", fail),
        needs=tuple(_str_list(raw, "needs", fail)),
        unverified_hint=_optional_str(raw, "unverified_hint", fail),
        confirm=tuple(_confirm(c, fail) for c in raw.get("confirm") or ()),
        status_match=tuple(_str_list(raw, "status_match", fail)),
        log_match=tuple(_str_list(raw, "log_match", fail)),
        remediation=_remediation(raw.get("remediation") or {}, fail),
        fix=_fix(raw.get("fix") or [], fail),
        evidence=tuple(_evidence(e, fail) for e in raw.get("evidence") or ()),
        vars=dict(raw.get("vars") or {}),
        description=_optional_str(raw, "description", fail),
        peers=_optional_str(raw, "peers", fail),
        explained_by=tuple(_str_list(raw, "explained_by", fail)),
        summary=_optional_str(raw, "summary", fail),
    )


def _optional_str(raw: dict[str, Any], key: str, fail: Any) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise fail(key, "must be a string")
    return value


def _str_list(raw: dict[str, Any], key: str, fail: Any) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of strings")
    return value


def _match(raw: Any, fail: Any) -> Match:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise fail("match", "needs a `path` glob")
    kinds = raw.get("kind", list(CHANGE_KINDS))
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not all(k in CHANGE_KINDS for k in kinds):
        raise fail("match.kind", f"{kinds!r}: each must be one of {', '.join(CHANGE_KINDS)}")
    return Match(raw["path"], tuple(kinds))


def _confirm(raw: Any, fail: Any) -> Confirm:
    if not isinstance(raw, dict) or not isinstance(raw.get("label"), str) or not isinstance(raw.get("when"), str):
        raise fail("confirm", "each entry needs `label` and `when`")
    return Confirm(raw["label"], raw["when"])


def _remediation(raw: Any, fail: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise fail("remediation", "a mapping such as {gcloud: ..., terraform: ...}")
    return {str(k): v for k, v in raw.items()}


def _fix(raw: Any, fail: Any) -> tuple[FixSpec, ...]:
    if not isinstance(raw, list):
        raise fail("fix", "a list of actions, each `{action: NAME, args: {ARG: CEL expression}}`")
    return tuple(_fix_action(entry, f"fix[{index}]", fail) for index, entry in enumerate(raw))


def _fix_action(raw: Any, where: str, fail: Any) -> FixSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("action"), str):
        raise fail(f"{where}.action", "required: the name of a fix action")
    unknown = set(raw) - _FIX_KEYS
    if unknown:
        raise fail(f"{where}.{sorted(unknown)[0]}", f"unknown key (allowed: {', '.join(sorted(_FIX_KEYS))})")
    args = raw.get("args") or {}
    if not isinstance(args, dict) or not all(_is_expression(v) for v in args.values()):
        raise fail(f"{where}.args", "a mapping of argument to CEL expression (a literal string is quoted: '\"gen2\"')")
    wrong = fixes.problem(raw["action"], args)
    if wrong is not None:
        raise fail(f"{where}.{wrong[0]}", wrong[1])
    for key in ("when", "for_each"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(f"{where}.{key}", "must be a CEL expression (a string)")
    # YAML reads `port: 8080` and `throttled: false` as numbers and booleans: as CEL they are the same literals.
    expressions = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in args.items()}
    return FixSpec(raw["action"], expressions, raw.get("when"), raw.get("for_each"))


def _is_expression(value: Any) -> bool:
    return isinstance(value, str | int | float) and (not isinstance(value, str) or bool(value.strip()))


def _evidence(raw: Any, fail: Any) -> EvidenceSpec:
    if not isinstance(raw, dict) or not ({"path", "target", "baseline"} & set(raw)):
        raise fail("evidence", "each entry needs `path`, or `label` with `target`/`baseline` expressions")
    unknown = set(raw) - {"path", "label", "target", "baseline", "source"}
    if unknown:
        raise fail("evidence", f"unknown key {sorted(unknown)[0]!r}")
    return EvidenceSpec(**{k: str(v) for k, v in raw.items()})
