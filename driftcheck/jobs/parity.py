"""Peer-group and environment parity over canonical services: who differs, and from what majority.

Pure functions: the audit job fetches and groups, these decide. Rule identity and texts come from the rule files
(scope `audit`), so `driftcheck rules show peer-group-outlier` explains what these findings mean.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from driftcheck.compare.diff import compare_services, source_of
from driftcheck.jobs.config import EnvironmentPair, PeerGroup
from driftcheck.model import Inventory, Service, Unknown, subject_of, to_plain
from driftcheck.ruleset import cel
from driftcheck.ruleset.evaluate import evaluate
from driftcheck.ruleset.findings import Evidence, Finding, Unverified
from driftcheck.ruleset.load import RuleSet, load_ruleset
from driftcheck.ruleset.render import rendered_finding

OUTLIER_RULE = "peer-group-outlier"
ENVIRONMENT_RULE = "environment-mismatch"
_MISSING = object()


@dataclass(frozen=True)
class Parity:
    findings: list[Finding] = field(default_factory=list)
    unverified: list[Unverified] = field(default_factory=list)  # an unknown value is never a different value


def peer_group_parity(group: PeerGroup, services: Iterable[Service], ruleset: RuleSet | None = None) -> Parity:
    members = sorted((s for s in services if group.includes(s)), key=subject_of)
    parity = Parity()
    rules = ruleset or load_ruleset()
    plain = {subject_of(s): to_plain(s) for s in members}  # once per service, not once per field
    for glob in group.fields:
        for path in _expand(glob, plain):
            _field_parity(group, path, members, plain, rules, parity)
    return parity


def region_peer_status(inventory: Inventory, ruleset: RuleSet) -> Parity:
    """No configuration: a region's services are one another's peers, as for `compare` without a baseline. Each
    service that is not ready is reported with its stated failure, compared with the ready ones for its causes."""
    services = sorted(inventory.services.values(), key=subject_of)
    ready = [s for s in services if not isinstance(s.status, Unknown) and s.status.ready and not _failing(s)]
    parity = Parity()
    for service in filter(_failing, services):
        result = evaluate(service, ready, inventory, ruleset)
        subject = subject_of(service)
        parity.findings.extend(dataclasses.replace(f, subject=subject) for f in result.findings)
        parity.unverified.extend(dataclasses.replace(u, reason=f"{subject}: {u.reason}") for u in result.unverified)
    return parity


def _failing(service: Service) -> bool:
    """Not ready, or its latest revision failed: what Cloud Run states (ready None is still reconciling)."""
    status = service.status
    return not isinstance(status, Unknown) and (status.ready is False or status.failure is not None)


def _expand(glob: str, plain: dict[str, Any]) -> list[str]:
    """`vpc.*` means each field under vpc; a plain path stays itself even where no member has it."""
    if not any(c in glob for c in "*?["):
        return [glob]
    paths = {p for tree in plain.values() for p in _leaf_paths(tree) if fnmatchcase(p, glob)}
    return sorted(paths)


def _leaf_paths(tree: Any, prefix: str = "") -> Iterable[str]:
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            yield from _leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif prefix:
        yield prefix  # a list (cloudsql_instances) is one value: its order means nothing, its items together do


def _field_parity(
    group: PeerGroup, path: str, members: list[Service], plain: dict[str, Any], rules: RuleSet, parity: Parity
) -> None:
    rule = _rule(rules, OUTLIER_RULE)
    values = {subject_of(s): _value_in(plain[subject_of(s)], path) for s in members}
    for service in members:
        if _is_unknown(values[subject_of(service)]):
            reason = f"{subject_of(service)}: could not verify {path} in peer group {group.name}"
            parity.unverified.append(Unverified(rule.id, rule.title, reason, _hint(rule, service, path)))
    known = {name: _key(v) for name, v in values.items() if not _is_unknown(v)}
    counts = Counter(known.values()).most_common()
    if len(counts) < 2:
        return  # all known values agree (or nothing known): nothing to say
    if counts[0][1] == counts[1][1]:
        parity.findings.append(_split(rule, group, path, members[0], counts))
        return
    majority, agree = counts[0]
    holder = next(s for s in members if known.get(subject_of(s)) == majority)
    for service in members:
        subject = subject_of(service)
        if subject in known and known[subject] != majority:
            context = _outlier_context(group, path, service, values[subject], holder, values[subject_of(holder)])
            context["agree"] = f"{agree}/{len(members)}"
            parity.findings.append(_finding(rule, context, path, service, holder, values))


def _outlier_context(
    group: PeerGroup, path: str, service: Service, value: Any, holder: Service, majority: Any
) -> dict[str, Any]:
    return {
        "split": False,
        "group": group.name,
        "field": path,
        "service": service.name,
        "project": str(service.project),
        "region": str(service.region),
        "value": cel.display(value),
        "majority": cel.display(majority),
        "values": "",
    }


def _finding(
    rule: Any, variables: dict[str, Any], path: str, service: Service, holder: Service, values: dict[str, Any]
) -> Finding:
    context = cel.new_context(variables)
    majority, value = values[subject_of(holder)], values[subject_of(service)]
    evidence = Evidence(path, majority, value, source_of(holder, path), source_of(service, path))
    return dataclasses.replace(rendered_finding(rule, context, (evidence,)), subject=subject_of(service))


def _split(rule: Any, group: PeerGroup, path: str, first: Service, counts: list[tuple[str, int]]) -> Finding:
    listed = "; ".join(f"{cel.display(json.loads(key))} ({n})" for key, n in counts)
    variables = _outlier_context(group, path, first, None, first, None)
    variables.update(split=True, values=listed, agree="")
    context = cel.new_context(variables)
    return dataclasses.replace(rendered_finding(rule, context), subject=f"peer group {group.name}")


def environment_parity(
    pair: EnvironmentPair,
    left: Service,
    right: Service,
    expected_globs: Iterable[str] = (),
    ruleset: RuleSet | None = None,
) -> list[Finding]:
    """Differences beyond the library's expected ones, the pair's own and `expected_globs`; unknowns never differ."""
    rules = ruleset or load_ruleset()
    rule = _rule(rules, ENVIRONMENT_RULE)
    expected = (*rules.expected_differences, *pair.expected, *expected_globs)
    findings = []
    for change in compare_services(right, left, expected):
        variables = {
            "pair": pair.name,
            "path": change.path,
            "left": str(pair.left),
            "right": str(pair.right),
            "left_value": cel.display(change.baseline),
            "right_value": cel.display(change.target),
            "right_service": pair.right.service,
            "right_project": pair.right.project,
            "right_region": pair.right.region,
        }
        context = cel.new_context(variables)
        evidence = Evidence(change.path, change.baseline, change.target, change.baseline_source, change.target_source)
        finding = rendered_finding(rule, context, (evidence,))
        findings.append(dataclasses.replace(finding, subject=str(pair.right)))
    return findings


def _value_in(node: Any, path: str) -> Any:
    """The canonical value at a dotted path; absent is None (a service without a connector has none)."""
    for part in path.split("."):
        if isinstance(node, Unknown):
            return node
        node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING:
            return None
    return node


def _is_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_is_unknown(v) for v in value.values())
    return isinstance(value, list) and any(_is_unknown(v) for v in value)


def _key(value: Any) -> str:
    """A hashable, order-free form: cloudsql_instances in another order is the same attachment."""
    if isinstance(value, list):
        value = sorted(value, key=str)
    return json.dumps(value, sort_keys=True, default=str)


def _hint(rule: Any, service: Service, path: str) -> str | None:
    if not rule.unverified_hint:
        return None
    context = cel.new_context({"service": service.name, "field": path})
    return cel.render(rule.unverified_hint, context)


def _rule(ruleset: RuleSet, rule_id: str) -> Any:
    rule = ruleset.get(rule_id)
    if rule is None:
        raise LookupError(f"rule {rule_id} is not in the rule library")
    return rule
