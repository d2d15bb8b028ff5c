"""One CEL context per compared pair, and a rule's expression evaluated for all of its candidates in one call.

Why: the CEL binding converts the whole context again on the first evaluation after any variable is set (about
100 µs for two services' contexts) and evaluates in about 2 µs otherwise. Setting `item` or `change` for each
candidate therefore cost more than everything else in an audit of a few thousand services. So the pair's context
holds every rule's `vars`, the pair's changes and each `match` rule's candidates from the start, and a rule's
expression runs for all candidates at once inside CEL's own macros: `list.map(item, ...)` binds `item` (or
`change`, or `vars`) exactly as the rule's expression expects it.

The per-candidate context (`scoped`) remains for what is rare: rendering a finding's texts, a templated `needs`,
and any rule whose batch fails (one candidate's error must stay that candidate's "could not evaluate").
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, TypedDict

from driftcheck.compare.diff import Change
from driftcheck.ruleset import cel
from driftcheck.ruleset.naming import with_labels
from driftcheck.ruleset.schema import Rule

PER_CANDIDATE: dict[str, Any] = {"vars": {}, "change": None, "item": None, "items": []}


class ChangeItem(TypedDict):
    """A `match` rule's `change`: one difference between the target and the baseline."""

    path: str  # the canonical path that differs: containers.api.env.DB_HOST.value
    kind: str  # added (the target has it, the baseline not), removed (the reverse) or changed
    key: str  # the path's last part: value
    keys: list[str]  # the path's parts: [containers, api, env, DB_HOST, value]
    baseline: Any  # the baseline's value; null when added
    target: Any  # the target's value; null when removed


class PairContext:
    """`variables` (target, baseline, baselines) must already be in CEL form (cel.to_cel)."""

    def __init__(self, variables: dict[str, Any], changes: list[Change], rules: Iterable[Rule]) -> None:
        rules, variables = list(rules), with_labels(variables)  # two services of one name: `label` tells them apart
        candidates = {r.id: [c.path for c in changes if _matches(r, c)] for r in rules if r.match is not None}
        own = {
            **PER_CANDIDATE,
            "__vars": {rule.id: rule.vars for rule in rules},
            "__changes": [change_plain(c) for c in changes],
            "__candidates": candidates,
        }
        # The services' contexts are converted once by the caller, however many pairs they are in.
        self.context = cel.new_context({**variables, **cel.to_cel(own)}, converted=True)
        self.current = dict(PER_CANDIDATE)

    def scoped(self, **candidate: Any) -> Any:
        """The context with one candidate's variables; each is reset, so none leaks from the last candidate."""
        for name, default in PER_CANDIDATE.items():
            value = candidate.get(name, default)
            if value is not self.current[name] and value != self.current[name]:
                self.context.add_variable(name, cel.to_cel(value))
                self.current[name] = value
        return self.context

    def items(self, rule: Rule) -> list[tuple[Any, Any, Any]]:
        """The rule's for_each items, each with its item_key and its `when` (None: ask it on its own), in one
        call: CEL iterates a map in no fixed order, so two calls could pair an item with another item's verdict.
        Raises cel.CelFailure when the items themselves cannot be listed."""
        assert rule.for_each is not None
        key, when = rule.item_key or "null", rule.when or "true"
        try:
            listed = cel.evaluate(_with_vars(rule, f"({rule.for_each}).map(item, [item, {key}, {when}])"), self.context)
            return [(item, item_key, verdict) for item, item_key, verdict in listed or []]
        except cel.CelFailure:  # one item's `when` failed: list them, and let each be asked on its own
            listed = cel.evaluate(_with_vars(rule, f"({rule.for_each}).map(item, [item, {key}])"), self.context)
            return [(item, item_key, None) for item, item_key in listed or []]

    def for_all(self, rule: Rule, expression: str) -> list[Any]:
        """`expression` for each candidate of a `match` rule (one per matching change, in order) or for a rule
        without candidates of its own (one). Raises cel.CelFailure."""
        assert rule.for_each is None, "for_each rules batch through items(), which keeps items and verdicts together"
        return list(cel.evaluate(_over_candidates(rule, expression), self.context) or [])


def candidates_of(rule: Rule, changes: list[Change]) -> list[Change]:
    return [change for change in changes if _matches(rule, change)]


def change_plain(change: Change) -> ChangeItem:
    return {
        "path": change.path,
        "kind": change.kind,
        "key": change.path.split(".")[-1],
        "keys": change.path.split("."),
        "baseline": change.baseline,
        "target": change.target,
    }


def _matches(rule: Rule, change: Change) -> bool:
    return rule.match is not None and fnmatchcase(change.path, rule.match.path) and change.kind in rule.match.kinds


def _over_candidates(rule: Rule, expression: str) -> str:
    if rule.match is not None:
        inner = f'__changes.filter(change, change.path in __candidates["{rule.id}"]).map(change, {expression})'
    else:
        inner = f"[{expression}]"
    return _with_vars(rule, inner)


def _with_vars(rule: Rule, expression: str) -> str:
    return f'[__vars["{rule.id}"]].map(vars, {expression})[0]'
