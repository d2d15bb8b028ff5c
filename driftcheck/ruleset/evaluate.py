"""Run every rule over a target and its baselines; turn hits into findings, and unknowns into "could not verify"."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from driftcheck.compare import Change, compare_services, source_of
from driftcheck.model import Inventory, Service, ServiceStatus, Unknown, to_plain
from driftcheck.ruleset import cel
from driftcheck.ruleset.context import service_context
from driftcheck.ruleset.findings import Evidence, Finding, Result, Unverified
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.rank import rank
from driftcheck.ruleset.schema import Rule


@dataclass(frozen=True)
class _Pair:
    target: Service
    baseline: Service | None
    variables: dict[str, Any]
    changes: list[Change]
    context: Any  # one CEL context for every rule on this pair: the service maps are converted once, not per rule
    current: dict[str, Any]  # what the per-candidate variables hold now, so an unchanged one is not set again

    @classmethod
    def of(cls, target: Service, baseline: Service | None, variables: dict[str, Any], changes: list[Change]) -> _Pair:
        context = cel.new_context({**variables, **_PER_CANDIDATE})
        return cls(target, baseline, variables, changes, context, dict(_PER_CANDIDATE))

    def scoped(self, **candidate: Any) -> Any:
        """The pair's context with this candidate's variables; each is reset, so none leaks from the last one."""
        for name, default in _PER_CANDIDATE.items():
            value = candidate.get(name, default)
            if value is not self.current[name]:
                self.context.add_variable(name, cel.to_cel(value))
                self.current[name] = value
        return self.context


_PER_CANDIDATE: dict[str, Any] = {"vars": {}, "change": None, "item": None}


@dataclass(frozen=True)
class _Hit:
    key: str
    baseline: str | None
    finding: Finding


def evaluate(
    target: Service, baselines: list[Service], inventory: Inventory, ruleset: RuleSet, *, drift: bool = False
) -> Result:
    """Every rule over the target and its baselines. With `drift`, the baseline is the declared (Terraform) form
    of the target and the drift-scope rules apply too."""
    target_ctx = service_context(target, inventory)
    baseline_ctx = {b.name: service_context(b, inventory) for b in baselines}
    expected = ruleset.expected_drift_differences if drift else ruleset.expected_differences
    pairs = [_pair(target, b, target_ctx, baseline_ctx, expected) for b in baselines]
    solo_variables = {"target": target_ctx, "baseline": None, "baselines": list(baseline_ctx.values())}
    solo = _Pair.of(target, None, solo_variables, [])
    hits: dict[tuple[str, str], list[_Hit]] = {}
    unverified: dict[tuple[str, str], Unverified] = {}
    matched_paths: set[str] = set()
    for rule in ruleset.rules:
        if rule.scope in ("inventory", "audit") or (rule.scope == "drift" and not drift):
            continue
        for pair in [solo] if rule.scope == "target" else pairs:
            for hit in _run(rule, pair, unverified, matched_paths):
                hits.setdefault((rule.id, hit.key), []).append(hit)
    findings = [_aggregate(group, len(baselines)) for group in hits.values()]
    return Result(
        target=target.name,
        baselines=tuple(b.name for b in baselines),
        status=status_summary(target),
        findings=tuple(rank(findings, [r.id for r in ruleset.rules])),
        unverified=tuple(unverified.values()),
        other_differences=_unmatched(pairs, matched_paths),
        unread=dict(inventory.errors),
    )


def _pair(
    target: Service,
    baseline: Service,
    target_ctx: dict[str, Any],
    baseline_ctx: dict[str, dict[str, Any]],
    expected: tuple[str, ...],
) -> _Pair:
    variables = {
        "target": target_ctx,
        "baseline": baseline_ctx[baseline.name],
        "baselines": list(baseline_ctx.values()),
    }
    return _Pair.of(target, baseline, variables, compare_services(target, baseline, expected))


def _run(rule: Rule, pair: _Pair, unverified: dict[tuple[str, str], Unverified], matched: set[str]) -> list[_Hit]:
    variables = {**pair.variables, "vars": rule.vars}
    try:
        candidates = _candidates(rule, pair)
    except cel.CelFailure as exc:  # a rule that cannot list its items checked nothing: say so, never "no match"
        unverified.setdefault((rule.id, ""), Unverified(rule.id, rule.title, f"could not evaluate: {exc}"))
        return []
    hits = []
    for key, extra, change in candidates:
        scope = {**variables, **extra}
        context = pair.scoped(vars=rule.vars, **extra)
        verdict = _verdict(rule, scope, context)
        if isinstance(verdict, Unverified):
            unverified.setdefault((rule.id, key), verdict)
        elif verdict:
            finding = _finding(rule, pair, context, change)
            matched.update(e.path for e in finding.evidence)  # shown as evidence, so not an "other difference"
            hits.append(_Hit(key, pair.baseline.name if pair.baseline else None, finding))
    return hits


def _verdict(rule: Rule, scope: dict[str, Any], context: Any) -> bool | Unverified:
    """Whether the rule holds for one candidate, or why that cannot be told."""
    needs = [cel.render(need, context) for need in rule.needs]  # a need may name the item: containers.{{ ... }}
    reason = _unknown_need(needs, scope)
    if reason is not None:
        hint = cel.render(rule.unverified_hint, context) if rule.unverified_hint else None
        return Unverified(rule.id, rule.title, reason, hint)
    try:
        return rule.when is None or cel.evaluate(rule.when, context) is True
    except cel.CelFailure as exc:
        return Unverified(rule.id, rule.title, f"could not evaluate: {exc}")


def _candidates(rule: Rule, pair: _Pair) -> list[tuple[str, dict[str, Any], Change | None]]:
    """What a rule is asked about: each matching change, each item of for_each, or the pair itself."""
    if rule.match is not None:
        match = rule.match
        return [
            (c.path, {"change": _change_plain(c)}, c)
            for c in pair.changes
            if fnmatchcase(c.path, match.path) and c.kind in match.kinds
        ]
    if rule.for_each is not None:
        items = cel.evaluate(rule.for_each, pair.scoped(vars=rule.vars))
        keyed: list[tuple[str, dict[str, Any], Change | None]] = []
        for index, item in enumerate(items or []):
            key = str(index)
            if rule.item_key:
                key = cel.display(cel.evaluate(rule.item_key, pair.scoped(vars=rule.vars, item=item)))
            keyed.append((key, {"item": item}, None))
        return keyed
    return [("", {}, None)]


def _change_plain(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "kind": change.kind,
        "key": change.path.split(".")[-1],
        "keys": change.path.split("."),
        "baseline": change.baseline,
        "target": change.target,
    }


def _unknown_need(needs: list[str], scope: dict[str, Any]) -> str | None:
    """The first `needs` path that resolves to an unknown value, as its reason."""
    for need in needs:
        value: Any = scope
        for part in need.split("."):
            if isinstance(value, Unknown):
                break
            value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, dict) and cel.UNKNOWN_KEY in value:
                value = Unknown(value[cel.UNKNOWN_KEY])
        if isinstance(value, Unknown):
            return f"{need}: {value.reason}"
    return None


def _finding(rule: Rule, pair: _Pair, context: Any, change: Change | None) -> Finding:
    confirmations = [cel.render(c.label, context) for c in rule.confirm if _holds(c.when, context)]
    status = pair.target.status
    if rule.status_match and isinstance(status, ServiceStatus):
        text = f"{status.reason or ''} {status.message or ''}"
        said = next((m.group(0) for p in rule.status_match if (m := re.search(p, text, re.I))), None)
        if said:
            confirmations.append(f"status of {pair.target.name} says {said!r} ({status.reason})")
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        title=rule.title,
        explanation=cel.render(rule.explanation, context),
        evidence=tuple(_evidence(rule, pair, context, change)),
        remediation={k: cel.render(v, context) for k, v in rule.remediation.items()},
        docs=rule.docs,
        confirmations=tuple(confirmations),
        peers_text=cel.render(rule.peers, context) if rule.peers else None,
    )


def rendered_finding(rule: Rule, context: Any, evidence: tuple[Evidence, ...] = ()) -> Finding:
    """A rule's texts filled in for one case: for jobs that decide in code when a rule applies (drift, audit)."""
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        title=rule.title,
        explanation=cel.render(rule.explanation, context),
        evidence=evidence,
        remediation={kind: cel.render(template, context) for kind, template in rule.remediation.items()},
        docs=rule.docs,
    )


def _holds(expression: str, context: Any) -> bool:
    try:
        return cel.evaluate(expression, context) is True
    except cel.CelFailure:
        return False


def _evidence(rule: Rule, pair: _Pair, context: Any, change: Change | None) -> list[Evidence]:
    evidence = []
    if change is not None:
        evidence.append(
            Evidence(change.path, change.baseline, change.target, change.baseline_source, change.target_source)
        )
    for spec in rule.evidence:
        if spec.path:  # a path may name the item at hand: containers.{{ item }}.startup_probe
            row = _path_evidence(cel.render(spec.path, context), pair)
            if row.baseline not in _EMPTY or row.target not in _EMPTY:  # a row of two blanks says nothing
                evidence.append(row)
        else:
            evidence.append(
                Evidence(
                    path=cel.render(spec.label or "", context),
                    baseline=_value(spec.baseline, context) if pair.baseline else None,
                    target=_value(spec.target, context),
                    baseline_source=None,
                    target_source=cel.display(_value(spec.source, context)) if spec.source else None,
                )
            )
    return evidence


_EMPTY: tuple[Any, ...] = (None, {}, [], "")


def _path_evidence(path: str, pair: _Pair) -> Evidence:
    baseline = pair.baseline
    return Evidence(
        path=path,
        baseline=_lookup(to_plain(baseline), path) if baseline else None,
        target=_lookup(to_plain(pair.target), path),
        baseline_source=source_of(baseline, path) if baseline else None,
        target_source=source_of(pair.target, path),
    )


def _lookup(tree: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(tree, dict):
            return None
        tree = tree.get(part)
    return tree


def _value(expression: str | None, context: Any) -> Any:
    if expression is None:
        return None
    try:
        value = cel.evaluate(expression, context)
    except cel.CelFailure:
        return Unknown("could not be evaluated")
    if isinstance(value, dict) and cel.UNKNOWN_KEY in value:
        return Unknown(value[cel.UNKNOWN_KEY])
    return value


def _aggregate(hits: list[_Hit], total_baselines: int) -> Finding:
    first = hits[0].finding
    if hits[0].baseline is None:
        return first
    agreeing = len({h.baseline for h in hits})
    return replace(first, peers_agreeing=agreeing, peers_total=total_baselines)


def _unmatched(pairs: list[_Pair], matched: set[str]) -> tuple[Change, ...]:
    seen: dict[str, Change] = {}
    for pair in pairs:
        for change in pair.changes:
            if not any(change.path == m or change.path.startswith(m + ".") for m in matched):
                seen.setdefault(change.path, change)
    return tuple(seen.values())


def status_summary(service: Service) -> dict[str, Any]:
    if isinstance(service.status, Unknown):
        return {"known": False, "reason": service.status.reason}
    summary: dict[str, Any] = to_plain(service.status)
    summary["known"] = True
    summary["source"] = source_of(service, "status")
    return summary
