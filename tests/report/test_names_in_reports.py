"""Names are not secrets, and every sentence tells the compared services and their containers apart.

fixtures/names/ holds two real-format Knative exports of one service, `billing`, in two projects: `prod.yaml`
(healthy) reads DB_PASSWORD from secret `billing-db-password` and sets STRIPE_API_KEY, `current.yaml` (failing)
sets SECRETS_ACCESS_GRANTED=true and WEBHOOK_SECRET, and both set API_TOKEN to different credentials. Neither
names its container, as `gcloud run deploy` leaves it.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli

from driftcheck.compare.timeline_change import TimelineChange
from driftcheck.report import document
from driftcheck.ruleset.findings import Result

EVIDENCE = FIXTURES / "names"
CREDENTIALS = ("tok_live_abcdef123456", "tok_live_zyxwvu987654", "sk_live_q8Zt3NwPd7LmX2vR", "whsec_Lr7Kp2Qx9Vn4")
FORMATS = ("table", "json", "markdown", "sarif", "junit", "html")
READERS = tuple(f for f in FORMATS if f != "json")  # JSON keeps canonical paths, which tools match on
WIDE = {"COLUMNS": "220"}  # no table cell folded, so a name is found whole


def _compare(target: Path, baseline: Path, output_format: str) -> str:
    run = run_cli("compare", target, baseline, "--format", output_format, "--fail-on", "none", env=WIDE)
    assert run.code == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def reports() -> dict[str, str]:
    return {f: _compare(EVIDENCE / "current.yaml", EVIDENCE / "prod.yaml", f) for f in FORMATS}


@pytest.mark.parametrize("output_format", FORMATS)
def test_secret_name_is_readable_and_credential_values_are_masked(output_format: str, reports: dict[str, str]) -> None:
    report = reports[output_format]
    assert "billing-db-password" in report  # the secret DB_PASSWORD reads: its name, not a value
    assert not [value for value in CREDENTIALS if value in report], output_format
    assert "[REDACTED]" in report  # STRIPE_API_KEY's value, in a finding's evidence
    assert not re.search(r"redacted:[0-9a-f]", report, re.I)  # no fingerprint, however deep the value sat
    assert "secret=[REDACTED]" not in report and "secret=secret=" not in report


@pytest.mark.parametrize("output_format", READERS)
def test_readers_see_a_secret_reference_as_gcloud_writes_it(output_format: str, reports: dict[str, str]) -> None:
    assert "secret billing-db-password:3" in reports[output_format]


def test_json_keeps_the_reference_with_its_name(reports: dict[str, str]) -> None:
    report = json_report(reports)
    evidence = [e for f in report["findings"] for e in f["evidence"] if e["path"].endswith(".env.DB_PASSWORD")]
    assert [e["baseline"] for e in evidence] == [
        {"value": None, "secret": {"secret": "billing-db-password", "version": "3"}}
    ]


def test_a_flag_under_a_credential_name_stays_readable(reports: dict[str, str]) -> None:
    changes = {c["path"]: c for c in json_report(reports)["other_differences"]}
    flag = changes["containers.ingress.env.SECRETS_ACCESS_GRANTED"]
    assert flag["target"] == {"value": "true", "secret": None}
    webhook = changes["containers.ingress.env.WEBHOOK_SECRET"]  # a whole variable added: its value stays masked
    assert webhook["target"] == {"value": "[REDACTED]", "secret": None}
    assert re.search(r"container\.env\.SECRETS_ACCESS_GRANTED\S*: baseline —, target true$", reports["markdown"], re.M)


@pytest.mark.parametrize("output_format", READERS)
def test_no_reader_sees_a_container_called_ingress(output_format: str, reports: dict[str, str]) -> None:
    report = reports[output_format]
    assert "containers.ingress" not in report and "Container ingress" not in report
    assert "container.port" in report  # the serving container, unnamed as gcloud deployed it


def test_sentences_tell_two_services_of_one_name_apart(reports: dict[str, str]) -> None:
    report = json_report(reports)
    port = next(f for f in report["findings"] if f["rule"] == "container-port-mismatch")
    assert port["explanation"].startswith("billing (project netra-test)'s container is configured for port 8081, ")
    assert "billing (project netra-prod)'s for port 8080" in port["explanation"]
    assert any("the target billing (project netra-test)" in note for note in report["notes"])
    assert report["target"] == "billing" and report["baselines"] == ["billing"]  # identities stay the names


def test_one_project_two_files_are_told_apart_by_file(tmp_path: Path) -> None:
    prod = tmp_path / "prod.yaml"
    prod.write_text((EVIDENCE / "prod.yaml").read_text().replace("namespace: netra-prod", "namespace: netra-test"))
    shutil.copy(EVIDENCE / "current.yaml", tmp_path / "current.yaml")
    report = json.loads(_compare(tmp_path / "current.yaml", prod, "json"))
    port = next(f for f in report["findings"] if f["rule"] == "container-port-mismatch")
    assert "billing (current.yaml)'s container" in port["explanation"]
    assert "billing (prod.yaml)'s for port 8080" in port["explanation"]


def test_a_named_container_is_called_by_its_name_and_one_name_needs_no_label(tmp_path: Path) -> None:
    named = tmp_path / "current.yaml"
    text = (EVIDENCE / "current.yaml").read_text().replace("name: billing\n", "name: invoices\n", 1)
    named.write_text(text.replace("        image: europe", "        name: invoices-1\n        image: europe"))
    report = json.loads(_compare(named, EVIDENCE / "prod.yaml", "json"))
    port = next(f for f in report["findings"] if f["rule"] == "container-port-mismatch")
    assert port["explanation"].startswith("invoices's container invoices-1 is configured for port 8081, billing's ")
    assert not [note for note in report["notes"] if "share a name" in note]


def _timeline(path: str, old: Any, new: Any) -> dict[str, Any]:
    moment = datetime(2026, 11, 28, tzinfo=UTC)
    change = TimelineChange(moment, moment, path, "changed", old, new, "netra-prod/europe-north1/billing")
    result = Result(target="audit", baselines=(), status={}, findings=(), changes=(change,))
    shown: dict[str, Any] = document.build(result)["changes"][0]
    return shown


def test_history_masks_credential_values_and_keeps_secret_names() -> None:
    reference = _timeline("containers.api.env.DB_PASSWORD.secret.secret", "billing-db-password", "billing-db-v2")
    assert (reference["from"], reference["to"]) == ("billing-db-password", "billing-db-v2")
    plain = _timeline("containers.api.env.DB_PASSWORD.value", "hunter2pass", "otherpass99")
    assert (plain["from"], plain["to"]) == ("[REDACTED]", "[REDACTED]")
    whole = _timeline(
        "containers.api.env.DB_PASSWORD",
        {"value": "hunter2pass", "secret": None},
        {"value": None, "secret": {"secret": "billing-db-password", "version": "3"}},
    )
    assert whole["from"] == {"value": "[REDACTED]", "secret": None}
    assert whole["to"] == {"value": None, "secret": {"secret": "billing-db-password", "version": "3"}}
    flag = _timeline("containers.api.env.SECRETS_ACCESS_GRANTED.value", "false", "true")
    assert (flag["from"], flag["to"]) == ("false", "true")


def json_report(reports: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(reports["json"])
    return parsed
