"""Most likely root cause first: what explains the failure the platform states, then severity, then strength of
evidence, then how many (and how alike) peers agree."""

from __future__ import annotations

from driftcheck.ruleset.findings import SEVERITIES, Finding


def rank(findings: list[Finding], rule_order: list[str]) -> list[Finding]:
    order = {rule_id: index for index, rule_id in enumerate(rule_order)}

    def key(finding: Finding) -> tuple[bool, int, int, float, int, str]:
        return (
            not finding.explains_status,  # Cloud Run said why it failed: what explains that comes first
            SEVERITIES.index(finding.severity),
            -finding.strength,  # a cross-resource confirmation or a status message naming the cause
            -finding.peers_likeness,
            order.get(finding.rule, len(order)),
            finding.explanation,
        )

    return sorted(findings, key=key)
