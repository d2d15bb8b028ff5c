"""Run every rule over a target and its baselines; turn hits into findings, and unknowns into "could not verify"."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from driftcheck.compare.diff import Change, compare_services, source_of
from driftcheck.compare.likeness import Likeness, likeness
from driftcheck.model import Inventory, Service, Unknown, to_plain
from driftcheck.paths import paths_of
from driftcheck.ruleset import cel, fixes, group, status
from driftcheck.ruleset.batch import PairContext, candidates_of, change_plain
from driftcheck.ruleset.context import service_context
from driftcheck.ruleset.findings import SEVERITIES, Evidence, Finding, Result, Unverified
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.logs import LogEvidence, LogMatch
from driftcheck.ruleset.rank import rank
from driftcheck.ruleset.schema import Rule


@dataclass(frozen=True)
class _Pair:
    target: Service
    baseline: Service | None
    variables: dict[str, Any]
    changes: list[Change]
    cel: PairContext  # one CEL context for every rule on this pair (see ruleset/batch.py)
    logs: LogEvidence | None = None  # the target's recent logs and its peers', for `log_match` (ruleset/logs.py)


@dataclass(frozen=True)
class _Hit:
    key: str
    baseline: str | None
    finding: Finding
    subject: Any  # the hit's item or change: what a rule's `summary` lists as `items`
    pair: _Pair


class _Candidate(NamedTuple):
    """What a rule is asked about once: a change, an item, or the pair itself."""

    key: str
    extra: dict[str, Any]  # what the rule's expressions see besides the pair: `change` or `item`
    change: Change | None
    verdict: Any  # the rule's `when` for it, when it came with the item
    logged: LogMatch | None = None  # the log signature that is the item (a logs rule's, or a status rule's)


# What a report says when the target was judged on its own: a normal case (a service with no healthy peer, or
# `driftcheck check`), not an error.
NO_PEER_NOTE = (
    "no peer was compared: only the rules that judge a service on its own ran, with the platform's stated failure"
)


def evaluate(
    target: Service,
    baselines: list[Service],
    inventory: Inventory,
    ruleset: RuleSet,
    *,
    drift: bool = False,
    per_item_scopes: tuple[str, ...] = (),
) -> Result:
    """Every rule over the target and its baselines. With `drift`, the baseline is the declared (Terraform) form
    of the target and the drift-scope rules apply too. The rules of `per_item_scopes` give one finding per item
    they hit (the drift job groups drifted fields by the root cause they trigger, see jobs/drift.py)."""
    # In CEL form once: each service's context is in several pairs' contexts (as target, baseline, baselines).
    plain = {id(s): to_plain(s) for s in (target, *baselines)}  # once each: contexts and deepdiff both need it
    target_ctx = cel.to_cel(service_context(target, inventory, plain[id(target)]))
    baseline_ctx = {b.name: cel.to_cel(service_context(b, inventory, plain[id(b)])) for b in baselines}
    expected = ruleset.expected_drift_differences if drift else ruleset.expected_differences
    changes = {b.name: compare_services(target, b, expected, (plain[id(target)], plain[id(b)])) for b in baselines}
    # A live service that equals its declared form leaves the pair rules nothing to explain (they explain how a
    # target differs from its baseline): then only the target rules run, on a context without the pair. Most
    # services of a drift audit are such, and a pair's CEL context is the largest cost of evaluating it.
    settled = drift and not any(changes.values())
    pairs = (
        [] if settled else [_pair(target, b, (target_ctx, baseline_ctx), changes[b.name], ruleset) for b in baselines]
    )
    solo_variables = {"target": target_ctx, "baseline": None, "baselines": list(baseline_ctx.values())}
    # Target rules never name `baseline` (checked at load), so they can share the first pair's context: one
    # conversion of the services fewer.
    shared = pairs[0].cel if pairs else PairContext(solo_variables, [], ruleset.rules)
    logs = LogEvidence(target, [] if drift else baselines, inventory)  # a declared form logs nothing of its own
    pairs = [replace(pair, logs=logs) for pair in pairs]
    solo = _Pair(target, None, solo_variables, [], shared, logs)
    hits: dict[str, dict[str, list[_Hit]]] = {}  # rule id -> item key -> the hit on each baseline
    unverified: dict[tuple[str, str], Unverified] = {}
    matched_paths: set[str] = set()
    # inventory and audit rules belong to their jobs; a declared form is no other service to call or be called by
    skipped = {"inventory", "audit", "across" if drift else "drift"}
    for rule in ruleset.rules:
        if rule.scope in skipped:
            continue
        for pair in [solo] if rule.scope in ("target", "status", "logs") else pairs:
            for hit in _run(rule, pair, unverified, matched_paths):
                hits.setdefault(rule.id, {}).setdefault(hit.key, []).append(hit)
    # A declared form is the service itself, never "a different application".
    peers = {} if drift else {b.name: likeness(target, b) for b in baselines}
    rules = {r.id: r for r in ruleset.rules}
    findings = [
        finding
        for rule_id, by_key in hits.items()
        for finding in (
            [_aggregate(rules[rule_id], item, peers) for item in by_key.values()]
            if rules[rule_id].scope in per_item_scopes
            else _one_per_cause(rules[rule_id], by_key, peers, {b.name for b in baselines})
        )
    ]
    findings = group.fold_explained(findings, rules)
    return Result(
        target=target.name,
        baselines=tuple(b.name for b in baselines),
        status=status_summary(target),
        findings=tuple(rank(findings, [r.id for r in ruleset.rules])),
        unverified=tuple(unverified.values()),
        other_differences=_unmatched(pairs, matched_paths),
        notes=tuple(peer.note(target.name, name) for name, peer in peers.items() if peer.unlike),
        unread=dict(inventory.errors),
        peer_likeness={name: peer.score for name, peer in peers.items()},
        paths=tuple(path for service in (target, *baselines) for path in paths_of(service, inventory)),
        logs=logs.digests(),
    )


def _one_per_cause(
    rule: Rule, by_key: dict[str, list[_Hit]], peers: dict[str, Likeness], compared: set[str]
) -> list[Finding]:
    """One cause, one finding: the items a rule hit on this target against the same peers are one finding (what
    every peer has and the target lacks is one cause; what one peer of two has is another, weaker one). The peers
    are the finding's `group`, its identity whatever items it lists."""
    causes: dict[frozenset[str | None], list[list[_Hit]]] = {}
    for hits in by_key.values():
        causes.setdefault(frozenset(h.baseline for h in hits), []).append(hits)
    return [
        replace(_one_finding(rule, items, peers), group=_group_key(against, compared))
        for against, items in causes.items()
    ]


def _group_key(against: frozenset[str | None], compared: set[str]) -> str:
    """'' when a cause holds against every peer compared, or needs none (the usual case: a peer that joins the
    evidence, a revision name that changes, leave it alone); else the peers it holds against, by service name
    (`api (FILE)`, `api@latest (api-00042-xyz)`: `api`), so a second group of one rule is told apart."""
    names = {name for name in against if name is not None}
    if not names or names == compared:
        return ""
    return "peers:" + ",".join(sorted({name.split(" (", 1)[0].split("@", 1)[0] for name in names}))


def _one_finding(rule: Rule, items: list[list[_Hit]], peers: dict[str, Likeness]) -> Finding:
    per_item = [_aggregate(rule, hits, peers) for hits in items]
    if len(per_item) == 1:
        return per_item[0]
    first = items[0][0]
    if rule.summary:
        listed = [hits[0].subject for hits in items]
        explanation = cel.render(rule.summary, first.pair.cel.scoped(vars=rule.vars, items=listed))
    else:
        explanation = " ".join(dict.fromkeys(f.explanation for f in per_item))
    return group.merged(per_item, explanation)


def _pair(
    target: Service,
    baseline: Service,
    contexts: tuple[dict[str, Any], dict[str, dict[str, Any]]],
    changes: list[Change],
    ruleset: RuleSet,
) -> _Pair:
    target_ctx, baseline_ctx = contexts
    variables = {
        "target": target_ctx,
        "baseline": baseline_ctx[baseline.name],
        "baselines": list(baseline_ctx.values()),
    }
    return _Pair(target, baseline, variables, changes, PairContext(variables, changes, ruleset.rules))


def _run(rule: Rule, pair: _Pair, unverified: dict[tuple[str, str], Unverified], matched: set[str]) -> list[_Hit]:
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
            finding = _finding(rule, pair, pair.cel.scoped(vars=rule.vars, **extra), change, logged)
            matched.update(e.path for e in finding.evidence)  # shown as evidence, so not an "other difference"
            subject = extra.get("item", extra.get("change"))
            hits.append(_Hit(key, pair.baseline.name if pair.baseline else None, finding, subject, pair))
            if logged is not None:  # the signatures in rank order: the first that holds is the cause, one finding
                return hits
    for which, reason in unsure.items():
        unverified.setdefault(which, reason)
    return hits


def _unlisted(rule: Rule, pair: _Pair, variables: dict[str, Any]) -> Unverified | None:
    """A `for_each` that is a path to an unknown value (`target.refs.pushed_by` when the listing of the project's
    subscriptions failed): the rule is unverified with that value's reason and the rule's `unverified_hint`."""
    if rule.for_each is None:
        return None
    reason = _unknown_need([rule.for_each.strip()], variables)  # an expression that is not a plain path: None
    if reason is None:
        return None
    hint = cel.render(rule.unverified_hint, pair.cel.scoped(vars=rule.vars)) if rule.unverified_hint else None
    return Unverified(rule.id, rule.title, reason, hint)


def _batch_verdicts(rule: Rule, pair: _Pair, count: int) -> list[Any] | None:
    """`when` for every candidate in one CEL call; None when that fails and each must be asked on its own."""
    if rule.when is None or rule.for_each is not None or not count:
        return None  # for_each items come with their verdicts
    try:
        verdicts = pair.cel.for_all(rule, rule.when)
    except cel.CelFailure:
        return None
    return verdicts if len(verdicts) == count else None


def _verdict(rule: Rule, scope: dict[str, Any], pair: _Pair, extra: dict[str, Any], batched: Any) -> bool | Unverified:
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


def _candidates(rule: Rule, pair: _Pair) -> list[_Candidate]:
    """What a rule is asked about: each matching change, each item of for_each, or the pair itself; with the
    item's `when` when it came with the item. A rule that reads the logs is asked about each signature its
    `log_match` finds, in rank order (`_run` stops at the first that holds)."""
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


def _finding(rule: Rule, pair: _Pair, context: Any, change: Change | None, logged: LogMatch | None = None) -> Finding:
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
        evidence=tuple(_evidence(rule, pair, context, change)),
        remediation=remediation,
        docs=rule.docs,
        confirmations=tuple(confirmations),
        peers_text=cel.render(rule.peers, context) if rule.peers else None,
        fix=actions,
        status_quote=said.quote if said else None,
        log_quote=logged.signature if logged else None,
    )


def _logged(rule: Rule, pair: _Pair) -> LogMatch | None:
    """The target's log signature the rule's `log_match` finds, if any (ruleset/logs.py)."""
    return pair.logs.found(rule.log_match) if rule.log_match and pair.logs is not None else None


def _every_logged(rule: Rule, pair: _Pair) -> list[LogMatch]:
    """Each of the target's log signatures the rule's `log_match` finds, in rank order (ruleset/logs.py)."""
    return pair.logs.every(rule.log_match) if rule.log_match and pair.logs is not None else []


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


def _aggregate(rule: Rule, hits: list[_Hit], peers: dict[str, Likeness]) -> Finding:
    """One item's hits on every baseline: how many peers agree, weighted by how much each is a real peer."""
    first = hits[0].finding
    if hits[0].baseline is None or not peers:  # a target rule, or a drift check: its baseline is no peer
        return first
    agreeing = {h.baseline for h in hits if h.baseline is not None}  # every baseline has a likeness in `peers`
    share = sum(peers[n].score for n in agreeing) / (sum(p.score for p in peers.values()) or 1.0)
    finding = replace(first, peers_agreeing=len(agreeing), peers_total=len(peers), peers_likeness=share)
    only_unlike = all(peers[name].unlike for name in agreeing)
    if rule.scope == "pair" and only_unlike and SEVERITIES.index(finding.severity) < SEVERITIES.index("medium"):
        finding = replace(finding, severity="medium")  # a difference from another application is a weak clue
    return finding


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
