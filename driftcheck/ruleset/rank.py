"""Most likely root cause first: severity, then strength of evidence, then how many peers agree."""

from __future__ import annotations

from driftcheck.ruleset.findings import SEVERITIES, Finding


def rank(findings: list[Finding], rule_order: list[str]) -> list[Finding]:
    order = {rule_id: index for index, rule_id in enumerate(rule_order)}

    def key(finding: Finding) -> tuple[int, int, float, int, str]:
        agreement = finding.peers_agreeing / finding.peers_total if finding.peers_total else 0.0
        return (
            SEVERITIES.index(finding.severity),
            -finding.strength,  # a cross-resource confirmation or a status message naming the cause
            -agreement,
            order.get(finding.rule, len(order)),
            finding.explanation,
        )

    return sorted(findings, key=key)
