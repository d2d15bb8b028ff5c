"""The drift job: every service Terraform state manages, paired with its live (or snapshot) counterpart.

Each drifted field is an `iac-drift` finding; the root-cause rules run on the same pair (live as the target,
state as the baseline), and a drifted field takes the severity of the worst root cause it triggers. Services
found on one side only are `iac-missing` (in state, not live) and `unmanaged` (live, not in state).
"""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase

from driftcheck.compare.diff import source_of
from driftcheck.model import Inventory, Service, subject_of
from driftcheck.ruleset import cel, fixes, group
from driftcheck.ruleset.context import service_context
from driftcheck.ruleset.evaluate import evaluate
from driftcheck.ruleset.findings import SEVERITIES, Finding, Result, Unverified
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.rank import rank
from driftcheck.ruleset.render import rendered_finding
from driftcheck.ruleset.variables import DriftItem
from driftcheck.sources.evidence import documents_at, load_document, resolve_project_numbers

DRIFT_RULE = "iac-drift"


def load_declared(state_location: str) -> Inventory:
    """What the state declares (a local file or gs://bucket/key), as the same canonical model as live."""
    declared = Inventory()
    for document in documents_at(state_location):
        load_document(document, declared)
    resolve_project_numbers(declared)
    return declared


def drift(
    declared: Inventory,
    live: Inventory,
    ruleset: RuleSet,
    *,
    state_label: str,
    live_label: str,
    config: Inventory | None = None,
) -> Result:
    """`config`, the .tf folder behind the state, brings lifecycle.ignore_changes: drift there is intended."""
    # State often knows the project number (google_project) that a v1 export names the project by: share it.
    live.project_aliases = {**declared.project_aliases, **live.project_aliases}
    resolve_project_numbers(live)
    merged = _merged(live, declared)  # live resources first: a live connector or secret is what serves traffic
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    notes: list[str] = []
    for name, declared_service in sorted(declared.services.items()):
        live_service = live.services.get(name)
        if live_service is None:
            findings += _inventory_findings(ruleset, declared_service, "state", merged)
            continue
        result = evaluate(
            _named(live_service, "live"),
            [_named(declared_service, "state")],
            merged,
            ruleset,
            drift=True,
            per_item_scopes=("drift",),  # drifted fields, grouped below by the cause they trigger
        )
        kept, ignored = _apply_ignore_changes(list(result.findings), declared_service, config)
        findings += [
            _about(finding, live_service, declared_service) for finding in _one_per_cause(kept, ruleset, live_service)
        ]
        notes += [f"{name}: {path} differs from state but lifecycle.ignore_changes covers it" for path in ignored]
        unverified += result.unverified
    for name, live_service in sorted(live.services.items()):
        if name not in declared.services:
            findings += _inventory_findings(ruleset, live_service, "live", merged)
    return Result(
        target=live_label,
        baselines=(state_label,),
        status={"known": False, "reason": f"drift check of {len(declared.services)} managed services"},
        findings=tuple(rank(findings, [r.id for r in ruleset.rules])),
        unverified=tuple(unverified),
        notes=tuple(notes),
        unread=dict(live.errors),
        located_at="baseline",  # a drift is fixed where it is declared
    )


def _about(finding: Finding, service: Service, declared: Service) -> Finding:
    """Name the subject, and point the fix at the real service: `api (live)` reads well in an explanation, but
    `gcloud run services update 'api (live)'` is not a command anyone can paste; Terraform's address is the
    declaration's."""
    ref = dataclasses.replace(fixes.service_ref(service), address=declared.metadata.address)
    fix = tuple(dataclasses.replace(action, service=ref) if action.service else action for action in finding.fix)
    remediation = fixes.render(fix) if fix else _renamed(finding.remediation, service)
    return dataclasses.replace(finding, subject=subject_of(service), fix=fix, remediation=remediation)


def _renamed(remediation: dict[str, str], service: Service) -> dict[str, str]:
    """A user rule's text fix, with the two sides' labels replaced by the service's name."""
    labels = [_named(service, side).name for side in ("live", "state")]
    renamed = {}
    for kind, text in remediation.items():
        for label in labels:
            text = text.replace(label, service.name)
        renamed[kind] = text
    return renamed


def _named(service: Service, side: str) -> Service:
    """`api (live)` against `api (terraform state)`: root-cause explanations then read as they should."""
    return dataclasses.replace(service, name=f"{service.name} ({'live' if side == 'live' else 'terraform state'})")


def _merged(first: Inventory, second: Inventory) -> Inventory:
    merged = Inventory(
        project_aliases={**second.project_aliases, **first.project_aliases}, errors={**second.errors, **first.errors}
    )
    for kind in {**second.resources, **first.resources}:
        merged.resources[kind] = {**second.resources.get(kind, {}), **first.resources.get(kind, {})}  # first wins
    return merged


def _one_per_cause(findings: list[Finding], ruleset: RuleSet, service: Service) -> list[Finding]:
    """The drifted fields a root cause explains are one finding, as severe as that cause (a lost connector and
    its egress are one critical drift, with "no VPC access" as its corroboration); the fields no cause explains
    are one more. A cause with no drifted field of its own (a disabled secret version) stays as it is."""
    drifted = [f for f in findings if f.rule == DRIFT_RULE]
    grouped: list[Finding] = []
    for cause in (f for f in findings if f.rule != DRIFT_RULE):
        fields = [d for d in drifted if any(_same_field(_drifted_path(d), e.path) for e in cause.evidence)]
        drifted = [d for d in drifted if d not in fields]
        grouped.append(_drift_finding(fields, ruleset, service, cause) if fields else cause)
    return grouped + ([_drift_finding(drifted, ruleset, service, None)] if drifted else [])


def _drift_finding(fields: list[Finding], ruleset: RuleSet, service: Service, cause: Finding | None) -> Finding:
    rule = ruleset.get(DRIFT_RULE)
    explanation = fields[0].explanation
    if len(fields) > 1 and rule is not None and rule.summary:
        items: list[DriftItem] = [
            {"path": e.path, "live": e.target, "state": e.baseline} for f in fields for e in f.evidence[:1]
        ]
        context = cel.new_context({"target": {"name": service.name}, "items": items})
        explanation = cel.render(rule.summary, context)
    # its identity (report/fingerprint.py) is the cause it groups by, never its first field
    finding = group.merged(fields, explanation)
    if cause is None:
        return dataclasses.replace(finding, group="unexplained")
    return dataclasses.replace(
        finding,
        group=f"cause:{cause.rule}:{cause.group or ''}",
        severity=min(finding.severity, cause.severity, key=SEVERITIES.index),
        confirmations=(*finding.confirmations, cause.explanation, *cause.confirmations),
        corroborated_by=(cause.rule, *cause.corroborated_by),
        status_quote=finding.status_quote or cause.status_quote,
    )


def _drifted_path(finding: Finding) -> str:
    return finding.evidence[0].path if finding.evidence else ""


def _apply_ignore_changes(
    findings: list[Finding], declared: Service, config: Inventory | None
) -> tuple[list[Finding], list[str]]:
    """Drop iac-drift findings on fields the resource's .tf says to ignore; return what was dropped."""
    configured = next(
        (s for s in (config.services.values() if config else ()) if s.metadata.address == declared.metadata.address),
        None,
    )
    globs = configured.metadata.ignore_changes if configured else ()
    kept, ignored = [], []
    for finding in findings:
        path = finding.evidence[0].path if finding.evidence else ""
        if finding.rule == DRIFT_RULE and any(fnmatchcase(path, glob) for glob in globs):
            ignored.append(path)
        else:
            kept.append(_declared_in_tf(finding, configured) if configured else finding)
    return kept, ignored


def _declared_in_tf(finding: Finding, configured: Service) -> Finding:
    """Point the declared side of the evidence at the .tf line that declares it: that is where a fix goes."""
    evidence = tuple(
        dataclasses.replace(e, baseline_source=source_of(configured, e.path)) if e.baseline_source else e
        for e in finding.evidence
    )
    return dataclasses.replace(finding, evidence=evidence)


def _same_field(drifted: str, evidence: str) -> bool:
    return drifted == evidence or drifted.startswith(evidence + ".") or evidence.startswith(drifted + ".")


def _inventory_findings(ruleset: RuleSet, service: Service, side: str, inventory: Inventory) -> list[Finding]:
    rules = [r for r in ruleset.rules if r.scope == "inventory"]
    context = cel.new_context({"target": service_context(service, inventory), "side": side})
    return [
        dataclasses.replace(rendered_finding(rule, context), subject=subject_of(service))
        for rule in rules
        if rule.when and cel.evaluate(rule.when, context)
    ]
