"""A finding's evidence rows: the changed path, and each row its rule's `evidence` names, looked up or evaluated."""

from __future__ import annotations

from typing import Any

from driftcheck.compare.diff import Change, source_of
from driftcheck.model import Unknown, to_plain
from driftcheck.ruleset import cel
from driftcheck.ruleset.findings import Evidence
from driftcheck.ruleset.pair import Pair
from driftcheck.ruleset.schema import Rule


def evidence_rows(rule: Rule, pair: Pair, context: Any, change: Change | None) -> list[Evidence]:
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


def _path_evidence(path: str, pair: Pair) -> Evidence:
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
