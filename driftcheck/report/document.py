"""The one JSON-able form of a result that every reporter renders; redaction happens here, once, for all formats.

Schema (stable; fields are only ever added), written out with types in report-schema.json beside this file, which
tests/report/test_json_schema.py holds the output to:
{"schema_version", "tool", "target", "baselines", "status", "findings": [{"rule", "severity", "title",
 "explanation", "confirmations", "peers", "evidence": [{"path", "baseline", "target", "source": {"baseline",
 "target"}}], "remediation": {"gcloud", "terraform"}, "docs"}], "unverified": [{"rule", "title", "reason", "hint"}],
 "other_differences": [...], "notes", "incomplete"}
"""

from __future__ import annotations

from typing import Any

from driftcheck import __version__
from driftcheck.compare import Change
from driftcheck.model import Redacted, Unknown, to_plain
from driftcheck.redact import MASK, redact_tree
from driftcheck.ruleset.findings import Evidence, Finding, Result

SCHEMA_VERSION = 1


def build(result: Result) -> dict[str, Any]:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "driftcheck", "version": __version__},
        "target": result.target,
        "baselines": list(result.baselines),
        "status": _value(result.status),
        "findings": [_finding(f) for f in result.findings],
        "unverified": [
            {"rule": u.rule, "title": u.title, "reason": u.reason, "hint": u.hint} for u in result.unverified
        ],
        "other_differences": [_change(c) for c in result.other_differences],
        "notes": list(result.notes),
        "located_at": result.located_at,
        "incomplete": result.incomplete,
    }
    redacted: dict[str, Any] = redact_tree(document)
    return redacted


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "title": finding.title,
        "explanation": finding.explanation,
        "confirmations": list(finding.confirmations),
        "peers": finding.peer_summary,
        "evidence": [_evidence(e) for e in finding.evidence],
        "remediation": dict(finding.remediation),
        "docs": finding.docs,
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {
        "path": evidence.path,
        "baseline": _value(evidence.baseline),
        "target": _value(evidence.target),
        "source": {"baseline": evidence.baseline_source, "target": evidence.target_source},
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "kind": change.kind,
        "baseline": _value(change.baseline),
        "target": _value(change.target),
        "source": {"baseline": change.baseline_source, "target": change.target_source},
    }


def _value(value: Any) -> Any:
    """Model values to JSON: unknown says why, redacted says only that it was redacted."""
    value = to_plain(value)
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if isinstance(value, Redacted):
        return str(value)
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def display(value: Any) -> str:
    """A document value as a person reads it in a table or a Markdown cell."""
    if value is None:
        return "—"
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return f"unknown ({value['unknown']})"
    if isinstance(value, list):
        return ", ".join(display(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={display(v)}" for k, v in value.items() if v is not None) or "—"
    if isinstance(value, bool):
        return str(value).lower()
    if value == "":
        return '""'  # set but empty, which is not the same clue as absent
    return str(value)


def change_cells(baseline: Any, target: Any) -> tuple[str, str]:
    """Both sides of a change (a row known to differ) as a reader sees them. When redaction makes them look alike
    (two masked passwords), the target says it differs, so the row does not read as a mistake."""
    before, after = display(baseline), display(target)
    if before == after and MASK in after:
        after += " (differs)"
    return before, after
