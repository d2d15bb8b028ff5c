"""The one JSON-able form of a result that every reporter renders; redaction happens here, once, for all formats.

Schema (stable; fields are only ever added), written out with types in report-schema.json beside this file, which
tests/report/test_json_schema.py holds the output to:
{"schema_version", "tool", "target", "baselines", "status", "findings": [{"rule", "subject", "severity", "title",
 "explanation", "confirmations", "peers", "evidence": [{"path", "baseline", "target", "source": {"baseline",
 "target"}}], "remediation": {"gcloud", "terraform"}, "docs", "status_quote", "items", "corroborated_by", "fix",
 "fingerprint", "baseline"}],
 "unverified": [{"rule", "title", "reason", "hint"}], "other_differences": [...], "changes": [{"service", "before",
 "after", "path", "kind", "from", "to"}], "notes", "peer_likeness", "incomplete", "baseline": {"file", "counts":
 {"new", "known", "fixed"}, "new", "known", "fixed": [{"rule", "subject", "reason", "fingerprint"}]} | null,
 "paths": [{"service", "kind", "destination", "address", "port", "named_by", "state", "breaks_at", "line",
 "hops": [{"kind", "label", "state", "detail", "evidence", "export"}]}],
 "logs": [{"service", "known", "reason", "entries", "first", "last", "truncated", "more", "signatures":
 [{"signature", "log", "count", "first", "last", "severity", "example", "destination", "in_peers"}]}]}
- `logs`: the compared services' recent log entries (kinds/logs/), target first, as their top signatures: the
  normalised text, count, first and last time, highest severity, one redacted example and the dependency its
  address names; `in_peers` (the target's): how many compared peers log it too, null when none's logs are known.
  Empty when the evidence holds no logs of any compared service. Never a raw entry.
- `paths`: how the target, then each baseline, reaches each dependency over the network (driftcheck/paths/): each
  hop verified, broken (with the fields read) or unknown (with the export that would decide it); facts, not findings.
- `fingerprint`: a finding's identity across runs (report/fingerprint.py), as SARIF's partialFingerprints carry it.
- `baseline` (`--baseline-file`): on a finding, "new" or "known" (listed in the file), null with no file; at the
  top, the file and its findings by state: new, known, and fixed (listed, no longer found), as the file's entries.
- `status_quote`: the words of the target's stated failure a finding explains (those rank first); `items`: how
  many hits of its rule one finding stands for; `corroborated_by`: rules folded into it (ruleset/group.py).
- `peer_likeness`: baseline -> 0..1, how alike it is to the target (driftcheck/compare/likeness.py); empty in drift.
- `subject`: the service a finding is about (project/region/service) when one report covers many (an audit);
  null in a compare, whose findings are all about its target.
- `changes`: an audit's changes since the previous snapshot, informational, never findings; `before`/`after` are
  when the two snapshots were taken (ISO 8601, UTC, `Z`); empty in a compare. A change under a path that names a
  credential (`containers.api.env.DB_PASSWORD.value`) shows only the mask, whatever the snapshot held; a secret
  reference under it (`...DB_PASSWORD.secret`: a secret's name and version) stays readable.
- `path` is the canonical path, which tools match on; a reader sees `display_path(path)`, where the serving
  container, keyed `ingress` in the model whatever each tool named it, is `container` (`container.port`).
"""

from __future__ import annotations

from typing import Any

from driftcheck import __version__
from driftcheck.compare.diff import Change
from driftcheck.compare.timeline_change import TimelineChange
from driftcheck.kinds.service.common import INGRESS_KEY
from driftcheck.model import Redacted, Unknown, to_plain
from driftcheck.paths import NetworkPath
from driftcheck.redact import MASK, is_credential_key, is_readable_value, redact_tree
from driftcheck.report.fingerprint import fingerprints, subject_of
from driftcheck.ruleset.findings import Evidence, Finding, FindingsBaseline, KnownFinding, Result
from driftcheck.ruleset.logs import LogDigest

SCHEMA_VERSION = 1
# Model field names that read as credentials but name a reference (`env.X.secret`, `secrets`), never a value.
_REFERENCE_FIELDS = frozenset({"secret", "secrets"})
# How the model spells a secret reference and an env var (model.SecretRef, model.EnvVar) in a document.
_SECRET_REF = frozenset({"secret", "version"})
_ENV_VAR = frozenset({"value", "secret"})
_SERVING = f"containers.{INGRESS_KEY}"


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
        "changes": [_timeline_change(c) for c in result.changes],
        "notes": list(result.notes),
        "located_at": result.located_at,
        "peer_likeness": dict(result.peer_likeness),
        "incomplete": result.incomplete,
        "paths": [_path(p) for p in result.paths],
        "logs": [_logs(digest) for digest in result.logs],
    }
    redacted: dict[str, Any] = redact_tree(document)
    _mark_known(redacted, [f.group for f in result.findings], result.findings_baseline)
    return redacted


def _mark_known(document: dict[str, Any], groups: list[str | None], known: FindingsBaseline | None) -> None:
    """Each finding's fingerprint (what SARIF and a baseline file carry: report/fingerprint.py, from the redacted
    paths they show); with a baseline file, whether the finding is new or known, and what it lists that no longer
    occurs (fixed)."""
    findings = document["findings"]
    for finding, fingerprint in zip(findings, fingerprints(findings, document["target"], groups), strict=True):
        finding["fingerprint"] = fingerprint
        finding["baseline"] = None
    document["baseline"] = None
    if known is None:
        return
    listed = {entry.fingerprint: _entry(entry) for entry in known.known}
    lists: dict[str, list[dict[str, str]]] = {"new": [], "known": [], "fixed": []}
    for finding in findings:
        fingerprint = finding["fingerprint"]
        finding["baseline"] = "known" if fingerprint in listed else "new"
        lists[finding["baseline"]].append(listed.get(fingerprint) or baseline_entry(finding, document["target"]))
    occurring = {finding["fingerprint"] for finding in findings}
    lists["fixed"] = [entry for fingerprint, entry in listed.items() if fingerprint not in occurring]
    counts = {state: len(entries) for state, entries in lists.items()}
    document["baseline"] = {"file": known.file, "counts": counts, **lists}


def baseline_entry(finding: dict[str, Any], target: str) -> dict[str, str]:
    """A finding as a baseline file lists it: rule, subject, a short reason (its title), fingerprint."""
    return {
        "rule": finding["rule"],
        "subject": subject_of(finding, target),
        "reason": finding["title"],
        "fingerprint": finding["fingerprint"],
    }


def _entry(known: KnownFinding) -> dict[str, str]:
    return {"rule": known.rule, "subject": known.subject, "reason": known.reason, "fingerprint": known.fingerprint}


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "subject": finding.subject,
        "severity": finding.severity,
        "title": finding.title,
        "explanation": finding.explanation,
        "confirmations": list(finding.confirmations),
        "peers": finding.peer_summary,
        "evidence": [_evidence(e) for e in finding.evidence],
        "remediation": dict(finding.remediation),
        "docs": finding.docs,
        "status_quote": finding.status_quote,
        "items": finding.items,
        "corroborated_by": list(finding.corroborated_by),
        "fix": [{"action": a.action, "args": _value(a.args)} for a in finding.fix],
    }


def _path(path: NetworkPath) -> dict[str, Any]:
    """A network path as the reports show it: its line, and each hop with its state and what decided it."""
    return {
        "service": path.service,
        "kind": path.kind,
        "destination": path.destination,
        "address": path.address,
        "port": path.port,
        "named_by": list(path.named_by),
        "state": path.state,
        "breaks_at": path.breaks_at,
        "line": path.line,
        "hops": [
            {
                "kind": hop.kind,
                "label": hop.label,
                "state": hop.state,
                "detail": hop.detail,
                "evidence": list(hop.evidence),
                "export": hop.export,
            }
            for hop in path.hops
        ],
    }


def _logs(digest: LogDigest) -> dict[str, Any]:
    """A compared service's recent logs: its top signatures (redacted examples, never raw entries)."""
    return {
        "service": digest.service,
        "known": digest.known,
        "reason": digest.reason,
        "entries": digest.entries,
        "first": digest.first,
        "last": digest.last,
        "truncated": digest.truncated,
        "more": digest.more,
        "signatures": [
            {
                "signature": s.signature,
                "log": s.log,
                "count": s.count,
                "first": s.first,
                "last": s.last,
                "severity": s.severity,
                "example": s.example,
                "destination": s.destination,
                "in_peers": s.in_peers,
            }
            for s in digest.signatures
        ],
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


def _timeline_change(change: TimelineChange) -> dict[str, Any]:
    plain = change.as_dict()
    old, new = _value(plain["from"]), _value(plain["to"])
    if _names_a_credential(change.path):  # a snapshot's raw value under DB_PASSWORD: redact_tree keys on from/to
        name = _var_name(change.path)
        mask = _masked_var if change.path.count(".") == 3 and name else _masked
        old, new = mask(old, name), mask(new, name)
    return {
        "service": plain.get("service"),
        "before": plain["before"],
        "after": plain["after"],
        "path": plain["path"],
        "kind": plain["kind"],
        "from": old,
        "to": new,
    }


def _names_a_credential(path: str) -> bool:
    """`containers.api.env.DB_PASSWORD.value`: a segment names a credential, as a key would in redact_tree. Not
    an env var's secret reference (`...env.DB_PASSWORD.secret`), nor a volume: they name secrets and versions."""
    parts, name = path.split("."), _var_name(path)
    if name:
        return is_credential_key(name) and parts[4:5] != ["secret"]
    return parts[0] != "volumes" and any(is_credential_key(p) for p in parts if p not in _REFERENCE_FIELDS)


def _var_name(path: str) -> str:
    """The env var a path is under (`containers.api.env.DB_PASSWORD.value`: DB_PASSWORD), or ''."""
    parts = path.split(".")
    return parts[3] if len(parts) >= 4 and parts[0] == "containers" and parts[2] == "env" else ""


def _masked_var(value: Any, name: str) -> Any:
    """A whole env var: its value masked, its secret reference (a name and a version) kept."""
    if isinstance(value, dict) and set(value) == _ENV_VAR:
        return {"value": _masked(value["value"], name), "secret": value["secret"]}
    return _masked(value, name)


def _masked(value: Any, name: str = "") -> Any:
    """Every string of a document value as the mask, but what no credential can be (`true`, MAX_TOKENS=4096);
    why a value is unknown is kept, it holds no value."""
    if isinstance(value, str):
        return MASK if value and not is_readable_value(name, value) else value
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return value
    if isinstance(value, dict):
        return {k: _masked(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, name) for v in value]
    return value


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
    if isinstance(value, dict) and set(value) == _SECRET_REF:  # gcloud's own SECRET:VERSION
        return f"secret {display(value['secret'])}:{display(value['version'])}"
    if isinstance(value, dict) and set(value) == _ENV_VAR:  # an env var is its value, or the secret it reads
        return display(value["secret"] if value["secret"] is not None else value["value"])
    if isinstance(value, dict):
        return ", ".join(f"{k}={display(v)}" for k, v in value.items() if v is not None) or "—"
    if isinstance(value, bool):
        return str(value).lower()
    if value == "":
        return '""'  # set but empty, which is not the same clue as absent
    return str(value)


def display_path(path: str) -> str:
    """A canonical path as a reader sees it: the serving container is `container` (`container.port`), never
    `containers.ingress`, which reads like the service's ingress setting. gcloud shows a container by its name and
    an unnamed one as plain "Container"; a sidecar keeps its name (`containers.proxy.port`)."""
    if path == _SERVING or path.startswith(_SERVING + "."):
        return "container" + path.removeprefix(_SERVING)
    return path


def change_cells(baseline: Any, target: Any) -> tuple[str, str]:
    """Both sides of a change (a row known to differ) as a reader sees them. When redaction makes them look alike
    (two masked passwords), the target says it differs, so the row does not read as a mistake."""
    before, after = display(baseline), display(target)
    if before == after and MASK in after:
        after += " (differs)"
    return before, after


def heading(doc: dict[str, Any]) -> str:
    """What the report is about: `api compared with auth`; an audit, which compares with no one baseline, is named
    by its target alone (`audit of netra-staging, netra-prod (us-central1)`)."""
    if not doc["baselines"]:
        return str(doc["target"])
    return f"{doc['target']} compared with {', '.join(doc['baselines'])}"


def snapshot_pairs(changes: list[dict[str, Any]]) -> list[tuple[tuple[str, str], list[dict[str, Any]]]]:
    """Changes grouped by the two snapshots they lie between, in the order the document lists them."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault((change["before"], change["after"]), []).append(change)
    return list(groups.items())


def latest_ready(status: dict[str, Any], quote: str = "") -> str:
    """A failed first revision has no ready revision: say so, never "latest ready None"."""
    revision = status.get("latest_ready_revision")
    return f"latest ready {quote}{revision}{quote}" if revision else "no ready revision"
