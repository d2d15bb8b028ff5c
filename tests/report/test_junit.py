"""`--format junit`: well-formed JUnit XML whose failures are the findings that fail the run (--fail-on), whose
skipped tests are the checks that could not be verified, and which holds no secret."""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from test_offline_imports import _loaded
from test_redaction_reports import SECRETS
from test_sarif import HEALTHY, _incomplete, _secret_findings

from driftcheck.report import junit
from driftcheck.ruleset.findings import SEVERITIES, Evidence, Finding, Result


def _junit(*args: str | Path, fail_on: str = "high") -> tuple[ET.Element, str]:
    run = run_cli("compare", *args, "--format", "junit", "--fail-on", fail_on)
    assert run.code in (0, 1), run.stderr
    return ET.fromstring(run.stdout), run.stdout


def _findings(*args: str | Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(_json_report(*args))  # parsed anew: a test may change its copy
    return report


@functools.cache
def _json_report(*args: str | Path) -> str:
    """The JSON report of the same inputs, which the junit tests here read again and again: one run per process."""
    run = run_cli("compare", *args, "--format", "json", "--fail-on", "none")
    assert run.code in (0, 1), run.stderr
    return run.stdout


def _suite(root: ET.Element) -> ET.Element:
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == "driftcheck"
    return suites[0]


def _cases(root: ET.Element, child: str) -> list[ET.Element]:
    return [case for case in _suite(root).iter("testcase") if case.find(child) is not None]


def _assert_counts_agree(root: ET.Element) -> None:
    suite = _suite(root)
    cases = suite.findall("testcase")
    expected = {
        "tests": len(cases),
        "failures": len(_cases(root, "failure")),
        "skipped": len(_cases(root, "skipped")),
        "errors": 0,
    }
    for element in (root, suite):
        assert {key: int(element.get(key, "-1")) for key in expected} == expected


@pytest.mark.parametrize("fail_on", [*SEVERITIES, "none"])
def test_failures_are_the_findings_at_or_above_fail_on(fail_on: str) -> None:
    root, _ = _junit("api", "auth", "--from", INCIDENT, fail_on=fail_on)
    findings = _findings("api", "auth", "--from", INCIDENT)["findings"]
    limit = SEVERITIES.index(fail_on) if fail_on != "none" else -1
    failing = [f for f in findings if SEVERITIES.index(f["severity"]) <= limit]
    failures = [case.find("failure") for case in _cases(root, "failure")]
    assert [(f.get("type"), f.get("message")) for f in failures if f is not None] == [
        (f["severity"], f["title"]) for f in failing
    ]
    names = [case.get("name") for case in _suite(root).findall("testcase")]
    assert [name.split(" ")[0] for name in names if name != junit.CLEAN] == [f["rule"] for f in findings]
    assert (junit.CLEAN in names) == (not failing)
    _assert_counts_agree(root)


def test_every_finding_fails_with_fail_on_info() -> None:
    root, _ = _junit("api", "auth", "--from", INCIDENT, fail_on="info")
    assert len(_cases(root, "failure")) == len(_findings("api", "auth", "--from", INCIDENT)["findings"]) == 2


def test_failure_body_has_explanation_evidence_and_fix() -> None:
    root, _ = _junit("api", "auth", "--from", INCIDENT)
    finding = _findings("api", "auth", "--from", INCIDENT)["findings"][0]
    case = _cases(root, "failure")[0]
    assert case.get("name") == "vpc-access-missing (vpc.path)" and case.get("classname") == "driftcheck.api"
    body = case.findtext("failure") or ""
    assert body.startswith(finding["explanation"])
    assert f"target source: {finding['evidence'][0]['source']['target']}" in body
    assert f"Fix (gcloud): {finding['remediation']['gcloud']}" in body and f"Docs: {finding['docs']}" in body


def test_a_finding_below_fail_on_passes_and_is_still_shown() -> None:
    root, _ = _junit("api", "auth", "--from", INCIDENT)  # default high: service-account-mismatch is low
    case = next(c for c in _suite(root).iter("testcase") if (c.get("name") or "").startswith("service-account"))
    assert case.find("failure") is None
    assert (case.findtext("system-out") or "").startswith("[LOW] Runs as a different service account")


def test_healthy_pair_is_one_pass_and_no_failure() -> None:
    root, _ = _junit(HEALTHY / "target.yaml", HEALTHY / "baseline.yaml", "--from", HEALTHY)
    assert _cases(root, "failure") == []
    names = [case.get("name") for case in _suite(root).findall("testcase")]
    assert names == ["service-account-mismatch (service_account)", junit.CLEAN]
    properties = {p.get("name"): p.get("value") for p in _suite(root).iter("property")}
    assert properties == {"target": "catalog", "baselines": "inventory", "fail-on": "high", "incomplete": "false"}
    _assert_counts_agree(root)


def test_unverified_checks_are_skipped(tmp_path: Path) -> None:
    evidence = _incomplete(tmp_path)
    root, _ = _junit("api", "auth", "--from", evidence)
    unverified = _findings("api", "auth", "--from", evidence)["unverified"]
    skipped = _cases(root, "skipped")
    assert unverified, "the incomplete evidence must leave a check unverified"
    assert [case.get("name") for case in skipped] == [f"{u['rule']} (could not verify)" for u in unverified]
    first = skipped[0].find("skipped")
    assert first is not None and unverified[0]["reason"] in (first.get("message") or "")
    assert {p.get("name"): p.get("value") for p in _suite(root).iter("property")}["incomplete"] == "true"
    _assert_counts_agree(root)


def test_no_secret_in_junit(tmp_path: Path) -> None:
    for evidence in (FIXTURES / "redaction", _secret_findings(tmp_path)):
        root, text = _junit("orders", "catalog", "--from", evidence, fail_on="low")
        assert not [secret for secret in SECRETS if secret in text]
    assert "[REDACTED]" in text  # the last one's findings carry masked credentials in their evidence
    # the stated failure, the missing variables (one finding), DB_HOST's private address with no VPC path, the account
    assert len(_cases(root, "failure")) == 4


def test_output_file_and_help(tmp_path: Path) -> None:
    out = tmp_path / "driftcheck.xml"
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "junit", "-o", out)
    assert run.code == 1 and run.stdout == "", run.stderr
    assert len(_cases(ET.parse(out).getroot(), "failure")) == 1  # the one critical cause; the low one passes
    assert "junit" in run_cli("compare", "--help").stdout


def test_characters_xml_cannot_carry_are_replaced() -> None:
    """A control character in a value (YAML allows "\\x07") must not make the whole file unreadable."""
    evidence = Evidence("containers.app.env.BELL", "ring\x07", None, None, "api.yaml:env")
    finding = Finding("env-var-missing", "medium", "title\x00", "why\x1b", (evidence,), {"gcloud": "g"}, "")
    text = junit.render(Result("api", ("auth",), {}, (finding,)), fail_on="medium")
    failure = ET.fromstring(text).find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "title\N{REPLACEMENT CHARACTER}"
    assert "ring\N{REPLACEMENT CHARACTER}" in (failure.text or "")


@pytest.mark.parametrize("output_format", ["sarif", "junit"])
def test_ci_formats_load_no_google_or_grpc_module(output_format: str) -> None:
    """A CI gate on evidence files starts as fast as a JSON run: neither format pulls in the live clients."""
    args = ("compare", "api", "auth", "--from", "fixtures/incident", "--format", output_format, "--fail-on", "none")
    loaded, report = _loaded('runpy.run_module("driftcheck", run_name="__main__")', *args)
    assert "vpc-access-missing" in report
    assert loaded == [], f"a {output_format} compare imported {loaded[:10]}"
