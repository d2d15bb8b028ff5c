"""One cause, one finding: the hits of one rule become one finding, and a finding that another explains becomes
that finding's corroboration.

Both steps are generic, driven by the rule files, so user rules group the same way:
- every hit of a rule on one subject (sixteen env vars a target predates, three secrets emptied) is one finding
  listing them all, its fix actions merged into one command;
- a rule that lists `explained_by` folds into a finding of one of those rules when there is one: a private-IP-only
  instance is why a missing VPC path matters, and the platform's "failed to start and listen" is what a port
  mismatch causes. The explaining finding keeps its id, takes the higher severity and carries the other's
  explanation as a confirmation. A finding of the platform's stated failure folds only into a finding that itself
  quotes that status: any other would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from driftcheck.ruleset import fixes
from driftcheck.ruleset.findings import SEVERITIES, Evidence, Finding
from driftcheck.ruleset.schema import Rule


def merged(findings: list[Finding], explanation: str) -> Finding:
    """Several findings of one rule as one: the most severe first, every row of evidence and confirmation once."""
    ordered = sorted(findings, key=lambda f: SEVERITIES.index(f.severity))
    first = ordered[0]
    actions = tuple(action for f in findings for action in f.fix)
    return replace(
        first,
        explanation=explanation,
        evidence=_unique_evidence(e for f in findings for e in f.evidence),
        confirmations=_unique(c for f in findings for c in f.confirmations),
        fix=actions,
        remediation=fixes.render(actions) if actions else _joined_remediation(findings),
        peers_agreeing=max(f.peers_agreeing for f in findings),
        peers_likeness=max(f.peers_likeness for f in findings),
        status_quote=next((f.status_quote for f in ordered if f.status_quote), None),
        items=len(findings),
        peers_text=None if len(findings) > 1 else first.peers_text,  # one item's words do not fit them all
    )


def fold_explained(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """Each finding whose rule is `explained_by` a rule with a finding here becomes that finding's corroboration;
    a status finding also folds into any configuration finding that quotes the same status (it claims to explain
    it), listed in `explained_by` or not, so a new configuration rule needs no entry in the status rules."""
    kept: list[Finding | None] = list(findings)
    for index, finding in enumerate(kept):
        rule = rules.get(finding.rule) if finding is not None else None
        if finding is None or rule is None or not (rule.explained_by or rule.scope in ("status", "logs")):
            continue
        others = [(i, f) for i, f in enumerate(kept) if f is not None and i != index]
        host = _explaining(finding, rule, others, rules)
        explaining = kept[host] if host is not None else None
        if host is not None and explaining is not None:
            kept[host] = _absorb(explaining, finding, rule)
            kept[index] = None
    return [f for f in kept if f is not None]


def _explaining(finding: Finding, rule: Rule, others: list[tuple[int, Finding]], rules: dict[str, Rule]) -> int | None:
    """The index of the finding that explains this one best: the most severe, then the first `explained_by` names,
    then a configuration finding quoting the status."""
    order = {name: position for position, name in enumerate(rule.explained_by)}
    stated = rule.scope == "status" and finding.status_quote is not None
    # a log line a log rule (or a status rule, when the status said nothing) found: it folds into what quotes it
    logged = rule.scope in ("status", "logs") and not stated and finding.log_quote is not None
    candidates = [
        (SEVERITIES.index(f.severity), order.get(f.rule, len(order)), i)
        for i, f in others
        if f.subject == finding.subject
        and (
            f.rule in order
            or (stated and _quotes_the_status(f, rules))
            or (logged and _quotes_the_log(f, finding.log_quote, rules))
        )
        and (not stated or f.status_quote)  # the platform's words fold only into what quotes them
    ]
    return min(candidates)[2] if candidates else None


def _quotes_the_log(finding: Finding, quote: str | None, rules: dict[str, Rule]) -> bool:
    """A finding, not a log rule's, that quotes the same log signature (ruleset/logs.py): what it explains."""
    own = rules.get(finding.rule)
    return finding.log_quote == quote and own is not None and own.scope != "logs"


def _quotes_the_status(finding: Finding, rules: dict[str, Rule]) -> bool:
    """A configuration finding that quotes the stated failure: what it explains (a status rule's own finding
    restates the status, it does not explain it)."""
    own = rules.get(finding.rule)
    return bool(finding.status_quote) and own is not None and own.scope != "status"


def _absorb(host: Finding, folded: Finding, rule: Rule) -> Finding:
    severity = min(host.severity, folded.severity, key=SEVERITIES.index)
    # A status finding only restates the status the host already quotes (and the report shows), a log finding the
    # log line the host quotes; any other brings its own fact and evidence.
    restates = (rule.scope == "status" and folded.status_quote is not None) or (
        folded.log_quote is not None and folded.log_quote == host.log_quote
    )
    said = () if restates else (folded.explanation, *folded.confirmations)
    return replace(
        host,
        severity=severity,
        confirmations=_unique([*host.confirmations, *said]),
        evidence=host.evidence if restates else _unique_evidence([*host.evidence, *folded.evidence]),
        status_quote=host.status_quote or folded.status_quote,
        log_quote=host.log_quote or folded.log_quote,
        corroborated_by=(*host.corroborated_by, folded.rule, *folded.corroborated_by),
    )


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


def _unique_evidence(rows: Iterable[Evidence]) -> tuple[Evidence, ...]:
    seen: dict[tuple[str, str], Evidence] = {}
    for row in rows:
        seen.setdefault((row.path, repr(row.target)), row)
    return tuple(seen.values())


def _joined_remediation(findings: list[Finding]) -> dict[str, str]:
    """A user rule's text fixes: each distinct command once, run one after the other."""
    kinds = dict.fromkeys(kind for f in findings for kind in f.remediation)
    joined = {}
    for kind in kinds:
        commands = _unique(f.remediation[kind] for f in findings if kind in f.remediation)
        joined[kind] = " && ".join(commands)
    return joined
