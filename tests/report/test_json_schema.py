"""`--format json` keeps its documented shape: driftcheck/report/report-schema.json, checked with jsonschema.

The schema refuses undocumented keys in the report, its findings, evidence and changes: adding a field means
writing it into the schema (and the docstring of driftcheck/report/document.py) first, which is the point.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, run_cli

import driftcheck.report

SCHEMA_FILE = Path(driftcheck.report.__file__).with_name("report-schema.json")
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# The keys the module docstring of driftcheck/report/document.py promises.
DOCUMENTED = {
    "report": {"target", "baselines", "status", "findings", "unverified", "changes", "incomplete"},
    "finding": {"rule", "subject", "severity", "title", "explanation", "evidence", "remediation"},
    "evidence": {"path", "baseline", "target", "source"},
}


def _report(*args: str | Path) -> dict[str, Any]:
    run = run_cli("compare", *args, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


@pytest.fixture(scope="module")
def incident() -> dict[str, Any]:
    return _report("api", "auth", "--from", FIXTURES / "incident")


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_requires_every_documented_key() -> None:
    defs = SCHEMA["$defs"]
    assert DOCUMENTED["report"] <= set(SCHEMA["required"])
    assert DOCUMENTED["finding"] <= set(defs["finding"]["required"])
    assert DOCUMENTED["evidence"] <= set(defs["evidence"]["required"])
    assert set(defs["source"]["required"]) == {"baseline", "target"}
    assert set(defs["timeline_change"]["required"]) == {"service", "before", "after", "path", "kind", "from", "to"}


@pytest.mark.parametrize(
    "args",
    [
        ("api", "auth", "--from", FIXTURES / "incident"),
        ("auth", "api", "--from", FIXTURES / "incident"),  # the healthy one as target: other findings, if any
        ("api", "--from", FIXTURES / "incident"),  # no baseline named: every other service is a peer
        ("orders", "catalog", "--from", FIXTURES / "redaction"),  # no finding, redacted differences
    ],
    ids=["incident", "reversed", "peers", "redaction"],
)
def test_reports_match_the_schema(args: tuple[str | Path, ...]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(_report(*args))]
    assert not errors, "\n".join(errors)


def test_incomplete_evidence_matches_the_schema(tmp_path: Path) -> None:
    """Without a secret's IAM policy or the connector, checks are unverified and values unknown: still the schema."""
    evidence = tmp_path / "incident"
    shutil.copytree(FIXTURES / "incident", evidence)
    (evidence / "db-password.iam.json").unlink()
    (evidence / "staging-connector.json").unlink()
    report = _report("api", "auth", "--from", evidence)
    assert report["incomplete"] is True
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(report)]
    assert not errors, "\n".join(errors)


def test_incident_has_the_documented_keys_and_types(incident: dict[str, Any]) -> None:
    assert isinstance(incident["target"], str) and incident["target"] == "api"
    assert incident["baselines"] == ["auth"]
    assert incident["changes"] == []  # a compare has no snapshot history: the audit's section stays empty
    assert all(finding["subject"] is None for finding in incident["findings"])  # about the target, as always
    assert isinstance(incident["status"], dict) and isinstance(incident["incomplete"], bool)
    finding = incident["findings"][0]  # the schema allows no findings; the incident must have one to check
    assert DOCUMENTED["finding"] <= set(finding)
    assert finding["severity"] in SCHEMA["$defs"]["severity"]["enum"]
    assert all(isinstance(finding[k], str) for k in ("rule", "title", "explanation"))
    assert isinstance(finding["remediation"], dict) and finding["remediation"]
    for evidence in finding["evidence"]:
        assert DOCUMENTED["evidence"] <= set(evidence)
        assert isinstance(evidence["path"], str)
        assert set(evidence["source"]) == {"baseline", "target"}


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("an undocumented top-level key", lambda r: r.update(surprise=1)),
        ("a finding without evidence", lambda r: r["findings"][0].pop("evidence")),
        ("an evidence source as a plain string", lambda r: r["findings"][0]["evidence"][0].update(source="x.yaml")),
        ("an unknown severity", lambda r: r["findings"][0].update(severity="urgent")),
        ("incomplete as a string", lambda r: r.update(incomplete="no")),
    ],
)
def test_schema_rejects_a_drifted_report(incident: dict[str, Any], where: str, change: Any) -> None:
    """Guard against a vacuous schema: each of these drifts must be caught."""
    drifted = copy.deepcopy(incident)
    change(drifted)
    assert not VALIDATOR.is_valid(drifted), f"the schema accepts {where}"
