"""One rule over one compared pair: what it is asked about (its candidates), the verdict on each, its hits."""

from __future__ import annotations

from typing import Any, NamedTuple

from driftcheck.compare.diff import Change
from driftcheck.model import Unknown
from driftcheck.ruleset import cel, status
from driftcheck.ruleset.batch import candidates_of, change_plain
from driftcheck.ruleset.findings import Unverified
from driftcheck.ruleset.logs import LogMatch
from driftcheck.ruleset.pair import Hit, Pair
from driftcheck.ruleset.render import hit_finding
from driftcheck.ruleset.schema import Rule


class _Candidate(NamedTuple):
    """What a rule is asked about once: a change, an item, or the pair itself."""

    key: str
    extra: dict[str, Any]  # what the rule's expressions see besides the pair: `change` or `item`
    change: Change | None
    verdict: Any  # the rule's `when` for it, when it came with the item
    logged: LogMatch | None = None  # the log signature that is the item (a logs rule's, or a status rule's)


def run(rule: Rule, pair: Pair, unverified: dict[tuple[str, str], Unverified], matched: set[str]) -> list[Hit]:
    variables = {**pair.variables, "vars": rule.vars}
    unlisted = _unlisted(rule, pair, variables)
    if unlisted is not None:  # its items are themselves unknown (a listing that failed): checked nothing, say why
        unverified.setdefault((rule.id, ""), unlisted)
        return []
    try:
        candidates = _candidates(rule, pair)
    except cel.CelFailure as exc:  # a rule that cannot list its items checked nothing: say so, never "no match"
        unverified.setdefault((rule.id, ""), Unverified(rule.id, rule.title, f"could not evaluate: {exc}"))
        return []
    verdicts = _batch_verdicts(rule, pair, len(candidates))
    hits = []
    unsure: dict[tuple[str, str], Unverified] = {}  # a log signature's: moot once another of them holds
    for index, (key, extra, change, batched, logged) in enumerate(candidates):
        scope = {**variables, **extra}
        verdict = _verdict(rule, scope, pair, extra, verdicts[index] if verdicts else batched)
        if isinstance(verdict, Unverified):
            (unsure if logged else unverified).setdefault((rule.id, key), verdict)
        elif verdict:
            finding = hit_finding(rule, pair, pair.cel.scoped(vars=rule.vars, **extra), change, logged)
            matched.update(e.path for e in finding.evidence)  # shown as evidence, so not an "other difference"
            subject = extra.get("item", extra.get("change"))
            hits.append(Hit(key, pair.baseline.name if pair.baseline else None, finding, subject, pair))
            if logged is not None:  # the signatures in rank order: the first that holds is the cause, one finding
                return hits
    for which, reason in unsure.items():
        unverified.setdefault(which, reason)
    return hits


def _unlisted(rule: Rule, pair: Pair, variables: dict[str, Any]) -> Unverified | None:
    """A `for_each` that is a path to an unknown value (`target.refs.pushed_by` when the listing of the project's
    subscriptions failed): the rule is unverified with that value's reason and the rule's `unverified_hint`."""
    if rule.for_each is None:
        return None
    reason = _unknown_need([rule.for_each.strip()], variables)  # an expression that is not a plain path: None
    if reason is None:
        return None
    hint = cel.render(rule.unverified_hint, pair.cel.scoped(vars=rule.vars)) if rule.unverified_hint else None
    return Unverified(rule.id, rule.title, reason, hint)


def _batch_verdicts(rule: Rule, pair: Pair, count: int) -> list[Any] | None:
    """`when` for every candidate in one CEL call; None when that fails and each must be asked on its own."""
    if rule.when is None or rule.for_each is not None or not count:
        return None  # for_each items come with their verdicts
    try:
        verdicts = pair.cel.for_all(rule, rule.when)
    except cel.CelFailure:
        return None
    return verdicts if len(verdicts) == count else None


def _verdict(rule: Rule, scope: dict[str, Any], pair: Pair, extra: dict[str, Any], batched: Any) -> bool | Unverified:
    """Whether the rule holds for one candidate, or why that cannot be told. `batched`: its `when`, if known."""
    templated = any("{{" in need for need in rule.needs)
    context = pair.cel.scoped(vars=rule.vars, **extra) if templated else None
    needs = [cel.render(need, context) if context else need.strip() for need in rule.needs]
    reason = _unknown_need(needs, scope)  # a need may name the item: containers.{{ item.container }}.env
    if reason is not None:
        context = pair.cel.scoped(vars=rule.vars, **extra)
        hint = cel.render(rule.unverified_hint, context) if rule.unverified_hint else None
        return Unverified(rule.id, rule.title, reason, hint)
    if rule.when is None:
        return True
    if batched is not None:
        return batched is True
    try:
        return cel.evaluate(rule.when, pair.cel.scoped(vars=rule.vars, **extra)) is True
    except cel.CelFailure as exc:
        return Unverified(rule.id, rule.title, f"could not evaluate: {exc}")


def _candidates(rule: Rule, pair: Pair) -> list[_Candidate]:
    """What a rule is asked about: each matching change, each item of for_each, or the pair itself; with the
    item's `when` when it came with the item. A rule that reads the logs is asked about each signature its
    `log_match` finds, in rank order (`run` stops at the first that holds)."""
    if rule.match is not None:
        return [_Candidate(c.path, {"change": change_plain(c)}, c, None) for c in candidates_of(rule, pair.changes)]
    if rule.scope == "status":
        said = status.stated(rule, pair.target)
        if said:
            return [_Candidate("", {"item": said.item}, None, None)]
        # the status states nothing: the logs may say it
        return [_Candidate("", {"item": m.status_item}, None, None, m) for m in _every_logged(rule, pair)]
    if rule.scope == "logs":
        return [_Candidate("", {"item": m.item}, None, None, m) for m in _every_logged(rule, pair)]
    if rule.for_each is not None:
        listed = [
            _Candidate(cel.display(key) if rule.item_key else str(index), {"item": item}, None, verdict)
            for index, (item, key, verdict) in enumerate(pair.cel.items(rule))
        ]
        # CEL iterates a map in no fixed order: by key, the same evidence gives the same report every run.
        return sorted(listed, key=lambda candidate: candidate.key) if rule.item_key else listed
    return [_Candidate("", {}, None, None)]


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


def _every_logged(rule: Rule, pair: Pair) -> list[LogMatch]:
    """Each of the target's log signatures the rule's `log_match` finds, in rank order (ruleset/logs.py)."""
    return pair.logs.every(rule.log_match) if rule.log_match and pair.logs is not None else []
