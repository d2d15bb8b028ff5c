"""`--format sarif`: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps) in a pre-deploy CI gate.

Built from the redacted document (report/document.py), so no credential reaches the log. One run:
- `tool.driver.rules`: each rule that produced a finding, with its title, description (for a built-in rule whose
  title matches: a `--rules` rule with a built-in id may mean something else), docs link and default level.
- `results`: one per finding, in rank order. Level: critical/high → error, medium → warning, low/info → note; the
  driftcheck severity and rank are kept in `properties`. No `security-severity`: GitHub reads it only on rules
  tagged `security`, and a configuration drift is a reliability finding, not a vulnerability.
- locations: the target side's first evidence source, whole in the location's message. `FILE:FIELD` gives a
  physical location (relative paths against `%SRCROOT%`, absolute ones as file: URIs) with the field as a logical
  location; `FILE:LINE`, `FILE:LINE:FIELD` and `FILE:LINE (NOTES)` (Terraform `.tf`) add `region.startLine`; a
  source that is no file (`live:…`, `gs://…`), or none at all, gives only a logical location naming it (or the
  target). The other sources, the baseline's included, are `relatedLocations`. GitHub code scanning refuses a
  whole upload in which one result has no physical location, so a live run (`live:` sources only) is valid SARIF
  that GitHub will not take: gate on evidence files, a snapshot, a plan or a state.
- a finding's subject (the service it is about, when one report covers many: an audit) opens its message and is
  `properties.subject`; the location with no file names it rather than the target.
- `partialFingerprints["driftcheck/v1"]`: a hash of rule id, subject (else the target service) and first evidence
  path, never of values, so an alert keeps its identity across runs while the values change: the fingerprint of
  report/fingerprint.py, the one a findings baseline file (`--baseline-file`) lists.
- with a baseline file, each result's `baselineState` is `new` or `unchanged` (known), and `run.properties.baseline`
  has the file, the counts and the fixed entries (listed in the file, no longer found).
- an audit's changes since the previous snapshot, which are not findings, are `run.properties.changes` (as in
  the JSON report), present only when there are some.
- checks that could not be verified are `invocations[0].toolExecutionNotifications`; `run.properties.incomplete`
  says so too, as in the JSON report.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import yaml

from driftcheck.report import document
from driftcheck.report.document import display, display_path
from driftcheck.report.fingerprint import FINGERPRINT_KEY
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import builtin_rules_dir

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SRCROOT = "%SRCROOT%"
_NOT_A_FILE = re.compile(r"^(live:|[a-zA-Z][a-zA-Z0-9+.-]*://)")  # live API names and gs:// style URLs
# What follows FILE: in a Terraform source: LINE, LINE:FIELD, or `LINE (NOTES)` (the variables that fed the field).
_LINE = re.compile(r"(\d+)(?::(.*)|\s.*)?", re.DOTALL)


def render(result: Result) -> str:
    return json.dumps(build(result), indent=2) + "\n"


def build(result: Result) -> dict[str, Any]:
    doc = document.build(result)
    rules = _rules(doc["findings"])
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    properties: dict[str, Any] = {
        "target": doc["target"],
        "baselines": doc["baselines"],
        "incomplete": doc["incomplete"],
    }
    if doc["changes"]:
        properties["changes"] = doc["changes"]
    if doc["baseline"]:
        known = doc["baseline"]
        properties["baseline"] = {"file": known["file"], "counts": known["counts"], "fixed": known["fixed"]}
    run = {
        "tool": {"driver": {"name": "driftcheck", "version": doc["tool"]["version"], "rules": rules}},
        "automationDetails": {"id": f"driftcheck/{doc['target']}/"},  # one category per target: uploads coexist
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The folder driftcheck was run in."}}},
        "invocations": [_invocation(doc)],
        "results": _results(doc, index),
        "properties": properties,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rules(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first: dict[str, dict[str, Any]] = {}
    for finding in findings:
        first.setdefault(finding["rule"], finding)
    return [_rule(finding) for finding in first.values()]


def _rule(finding: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": finding["rule"],
        "name": "".join(word.capitalize() for word in re.split(r"[^A-Za-z0-9]+", finding["rule"])),
        "shortDescription": {"text": finding["title"]},
    }
    description = _builtin_description(finding["rule"], finding["title"])
    if description:
        rule["fullDescription"] = {"text": description}
    if finding["docs"]:
        rule["helpUri"] = finding["docs"]
        rule["help"] = {"text": f"{description or finding['title']}\n\nDocs: {finding['docs']}"}
    rule["defaultConfiguration"] = {"level": LEVELS[finding["severity"]]}
    rule["properties"] = {"severity": finding["severity"], "tags": ["reliability", "cloud-run"]}
    return rule


def _builtin_description(rule_id: str, title: str) -> str | None:
    """The rule's description from the built-in library; the Result carries only what a finding says."""
    path = builtin_rules_dir() / f"{rule_id}.yaml"
    if not path.is_file():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("id") != rule_id or raw.get("title") != title:
        return None
    description = raw.get("description")
    return " ".join(description.split()) if isinstance(description, str) else None


def _invocation(doc: dict[str, Any]) -> dict[str, Any]:
    notifications = [_unverified(u) for u in doc["unverified"]]
    notifications += [{"level": "note", "message": {"text": note}} for note in doc["notes"]]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _unverified(unverified: dict[str, Any]) -> dict[str, Any]:
    text = f"could not verify {unverified['rule']} ({unverified['title']}): {unverified['reason']}"
    if unverified["hint"]:
        text += f"; {unverified['hint']}"
    # The rule id as a property, not `associatedRule`: a rule with no finding is not in tool.driver.rules, and a
    # reference to a descriptor the log does not hold is dangling.
    return {"level": "warning", "message": {"text": text}, "properties": {"rule": unverified["rule"]}}


def _results(doc: dict[str, Any], index: dict[str, int]) -> list[dict[str, Any]]:
    return [_result(finding, doc, index[finding["rule"]], rank) for rank, finding in enumerate(doc["findings"], 1)]


def _result(finding: dict[str, Any], doc: dict[str, Any], rule_index: int, rank: int) -> dict[str, Any]:
    target, side = doc["target"], doc.get("located_at", "target")
    result: dict[str, Any] = {
        "ruleId": finding["rule"],
        "ruleIndex": rule_index,
        "level": LEVELS[finding["severity"]],
        "message": {"text": _message(finding)},
        "locations": [_primary_location(finding, finding["subject"] or target, side)],
        "partialFingerprints": {FINGERPRINT_KEY: finding["fingerprint"]},
        "properties": {"severity": finding["severity"], "rank": rank},
    }
    if finding["baseline"]:
        result["baselineState"] = "unchanged" if finding["baseline"] == "known" else "new"
    if finding["subject"]:
        result["properties"]["subject"] = finding["subject"]
    related = _related_locations(finding, side)
    if related:
        result["relatedLocations"] = related
    return result


def _message(finding: dict[str, Any]) -> str:
    lines = [f"{finding['subject']}: {finding['explanation']}" if finding["subject"] else finding["explanation"]]
    if finding["peers"]:
        lines.append(f"Peers: {finding['peers']}.")
    lines += [f"Confirmed: {c}." for c in finding["confirmations"]]
    for e in finding["evidence"]:
        path = display_path(e["path"])
        lines.append(f"Evidence {path}: baseline {display(e['baseline'])}, target {display(e['target'])}.")
    lines += [f"Fix ({kind}): {command}" for kind, command in finding["remediation"].items()]
    return "\n".join(lines)


def _primary_location(finding: dict[str, Any], target: str, side: str = "target") -> dict[str, Any]:
    """Where to fix it: the target's source in a compare, the Terraform declaration's in a drift check."""
    for evidence in finding["evidence"]:
        source = evidence["source"][side]
        if source:
            return _location(source)
    return {"logicalLocations": [{"name": target, "fullyQualifiedName": target, "kind": "resource"}]}


def _related_locations(finding: dict[str, Any], side: str = "target") -> list[dict[str, Any]]:
    """Every other distinct source, each said to be the target's or the baseline's (GitHub shows only the first
    location; the peer's file is where a reader looks for what works)."""
    primary = next((e["source"][side] for e in finding["evidence"] if e["source"][side]), None)
    sources = [(side, e["source"][side]) for e in finding["evidence"] for side in ("target", "baseline")]
    unique = list(dict.fromkeys((side, s) for side, s in sources if s and s != primary))
    return [
        {"id": number, **_location(source), "message": {"text": f"{side}: {source}"}}
        for number, (side, source) in enumerate(unique, 1)
    ]


def _location(source: str) -> dict[str, Any]:
    """`FILE`, `FILE:FIELD`, `FILE#ADDRESS` or `FILE:LINE[:FIELD]` into a SARIF location; other sources stay names."""
    if _NOT_A_FILE.match(source):
        return {"logicalLocations": [{"fullyQualifiedName": source, "kind": "resource"}], "message": {"text": source}}
    cut = min((i for i in (source.find(":"), source.find("#")) if i >= 0), default=len(source))
    file, separator, where = source[:cut], source[cut : cut + 1], source[cut + 1 :]
    physical: dict[str, Any] = {"artifactLocation": _artifact(file)}
    line = _LINE.fullmatch(where)
    if line:
        physical["region"] = {"startLine": int(line.group(1))}
        where = line.group(2) or ""
    location: dict[str, Any] = {"physicalLocation": physical, "message": {"text": source}}  # notes included
    if where:
        kind = "resource" if separator == "#" else "property"  # FILE#ADDRESS names a resource, FILE:FIELD a field
        location["logicalLocations"] = [{"fullyQualifiedName": where, "kind": kind}]
    return location


def _artifact(file: str) -> dict[str, Any]:
    path = PurePosixPath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(file, safe="/"), "uriBaseId": SRCROOT}
