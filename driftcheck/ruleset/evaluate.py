"""Run every rule over a target and its baselines; turn hits into findings, and unknowns into "could not verify"."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from driftcheck.compare.diff import Change, compare_services, source_of
from driftcheck.compare.likeness import likeness
from driftcheck.model import Inventory, Service, Unknown, to_plain
from driftcheck.paths import paths_of
from driftcheck.ruleset import cel, group
from driftcheck.ruleset.batch import PairContext
from driftcheck.ruleset.causes import aggregate, one_per_cause
from driftcheck.ruleset.context import service_context
from driftcheck.ruleset.findings import Result, Unverified
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.logs import LogEvidence
from driftcheck.ruleset.pair import Hit, Pair
from driftcheck.ruleset.rank import rank
from driftcheck.ruleset.run import run

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
    solo = Pair(target, None, solo_variables, [], shared, logs)
    hits: dict[str, dict[str, list[Hit]]] = {}  # rule id -> item key -> the hit on each baseline
    unverified: dict[tuple[str, str], Unverified] = {}
    matched_paths: set[str] = set()
    # inventory and audit rules belong to their jobs; a declared form is no other service to call or be called by
    skipped = {"inventory", "audit", "across" if drift else "drift"}
    for rule in ruleset.rules:
        if rule.scope in skipped:
            continue
        for pair in [solo] if rule.scope in ("target", "status", "logs") else pairs:
            for hit in run(rule, pair, unverified, matched_paths):
                hits.setdefault(rule.id, {}).setdefault(hit.key, []).append(hit)
    # A declared form is the service itself, never "a different application".
    peers = {} if drift else {b.name: likeness(target, b) for b in baselines}
    rules = {r.id: r for r in ruleset.rules}
    findings = [
        finding
        for rule_id, by_key in hits.items()
        for finding in (
            [aggregate(rules[rule_id], item, peers) for item in by_key.values()]
            if rules[rule_id].scope in per_item_scopes
            else one_per_cause(rules[rule_id], by_key, peers, {b.name for b in baselines})
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


def _pair(
    target: Service,
    baseline: Service,
    contexts: tuple[dict[str, Any], dict[str, dict[str, Any]]],
    changes: list[Change],
    ruleset: RuleSet,
) -> Pair:
    target_ctx, baseline_ctx = contexts
    variables = {
        "target": target_ctx,
        "baseline": baseline_ctx[baseline.name],
        "baselines": list(baseline_ctx.values()),
    }
    return Pair(target, baseline, variables, changes, PairContext(variables, changes, ruleset.rules))


def _unmatched(pairs: list[Pair], matched: set[str]) -> tuple[Change, ...]:
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
