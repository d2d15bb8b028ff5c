"""A rule's texts and fix filled in for one case: a hit on a compared pair, or a case a job decides in code."""

from __future__ import annotations

import contextlib
from typing import Any

from driftcheck.compare.diff import Change
from driftcheck.model import Service
from driftcheck.ruleset import cel, fixes, status
from driftcheck.ruleset.evidence import evidence_rows
from driftcheck.ruleset.findings import Evidence, Finding
from driftcheck.ruleset.logs import LogMatch
from driftcheck.ruleset.pair import Pair
from driftcheck.ruleset.schema import Rule


def hit_finding(rule: Rule, pair: Pair, context: Any, change: Change | None, logged: LogMatch | None = None) -> Finding:
    """`logged`: the log signature that is the item; else the first the rule's `log_match` finds corroborates."""
    confirmations = [cel.render(c.label, context) for c in rule.confirm if _holds(c.when, context)]
    said = status.stated(rule, pair.target)
    if said and rule.scope != "status":  # a status rule's explanation quotes it already
        confirmations.append(said.confirmation(pair.target.name))
    logged = logged or _logged(rule, pair)
    if logged and rule.scope != "logs":  # a log rule's explanation quotes it already
        confirmations.append(logged.confirmation())
    actions, remediation = _fixed(rule, context, fixes.service_ref(pair.target))
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        title=rule.title,
        explanation=cel.render(rule.explanation, context),
        evidence=tuple(evidence_rows(rule, pair, context, change)),
        remediation=remediation,
        docs=rule.docs,
        confirmations=tuple(confirmations),
        peers_text=cel.render(rule.peers, context) if rule.peers else None,
        fix=actions,
        status_quote=said.quote if said else None,
        log_quote=logged.signature if logged else None,
    )


def _logged(rule: Rule, pair: Pair) -> LogMatch | None:
    """The target's log signature the rule's `log_match` finds, if any (ruleset/logs.py)."""
    return pair.logs.found(rule.log_match) if rule.log_match and pair.logs is not None else None


def rendered_finding(
    rule: Rule, context: Any, evidence: tuple[Evidence, ...] = (), service: Service | None = None
) -> Finding:
    """A rule's texts filled in for one case: for jobs that decide in code when a rule applies (drift, audit).
    Its fix applies to `service`, else to the context's `target` when it has one."""
    ref: fixes.ServiceRef | None = None
    if service is not None:
        ref = fixes.service_ref(service)
    elif rule.fix:
        with contextlib.suppress(cel.CelFailure):  # an audit's context names its service in its own words
            ref = fixes.context_ref(cel.evaluate("target", context))
    actions, remediation = _fixed(rule, context, ref)
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        title=rule.title,
        explanation=cel.render(rule.explanation, context),
        evidence=evidence,
        remediation=remediation,
        docs=rule.docs,
        fix=actions,
    )


def _fixed(
    rule: Rule, context: Any, service: fixes.ServiceRef | None
) -> tuple[tuple[fixes.FixAction, ...], dict[str, str]]:
    """The rule's fix actions for one finding and their rendering (or a user rule's `remediation` templates).
    Each argument is evaluated; one that fails or is unknown is None, so the renderer writes a placeholder or no
    command at all. A `for_each` gives one action per element."""
    if not rule.fix:
        return (), {kind: cel.render(template, context) for kind, template in rule.remediation.items()}
    actions = []
    for spec in rule.fix:
        items = f"({spec.for_each})" if spec.for_each else "[null]"
        applies = _each(items, spec.when or "true", context)
        args = {name: _each(items, expression, context) for name, expression in spec.args.items()}
        for index, when in enumerate(applies):
            values = {name: column[index] if index < len(column) else None for name, column in args.items()}
            actions += [fixes.FixAction(spec.action, values, service)] if when is True else []
    return tuple(actions), fixes.render(actions)


def _each(items: str, expression: str, context: Any) -> list[Any]:
    """`expression` for each element of `items` (bound as `each`) in one call; [] when it fails."""
    try:
        values = cel.evaluate(f"{items}.map(each, {expression})", context)
    except cel.CelFailure:
        return []
    return [None if _unknown(v) or (isinstance(v, list) and any(map(_unknown, v))) else v for v in values or []]


def _unknown(value: Any) -> bool:
    return isinstance(value, dict) and cel.UNKNOWN_KEY in value


def _holds(expression: str, context: Any) -> bool:
    try:
        return cel.evaluate(expression, context) is True
    except cel.CelFailure:
        return False
