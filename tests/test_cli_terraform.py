"""Terraform as TARGET or BASELINE of `compare`, with no --from: .tf folders, plans, state, through the real CLI."""

from __future__ import annotations

from typing import Any

from conftest import FIXTURES, INCIDENT, run_cli

TF_AUTH = f"{FIXTURES / 'terraform-hcl' / 'auth'}/#google_cloud_run_v2_service.auth"
TF_UNRESOLVED = f"{FIXTURES / 'terraform-hcl' / 'unresolved'}/#google_cloud_run_v2_service.auth"
PLAN_API = f"{FIXTURES / 'terraform' / 'plan.json'}#google_cloud_run_v2_service.api"


def _compare(*specs: str) -> Any:
    return run_cli("compare", *specs, "--format", "json")


def test_tf_declaration_equals_the_running_service() -> None:
    run = _compare(TF_AUTH, str(INCIDENT / "auth.yaml"))
    report = run.json()
    assert run.code == 0, run.stderr
    assert report["findings"] == [] and report["other_differences"] == []
    assert any("assumed project 123456789012 is netra-staging" in note for note in report["notes"])


def test_failing_service_against_its_tf_peer_ranks_the_root_cause_first() -> None:
    report = _compare(str(INCIDENT / "api.yaml"), TF_AUTH).json()
    assert report["findings"][0]["rule"] == "vpc-access-missing"


def test_unresolved_references_are_never_differences() -> None:
    report = _compare(TF_UNRESOLVED, str(INCIDENT / "auth.yaml")).json()
    paths = {c["path"] for c in report["other_differences"]}
    paths |= {e["path"] for f in report["findings"] for e in f["evidence"]}
    assert not any(path.startswith("vpc") for path in paths)  # connector = google_vpc_access_connector.x.id


def test_plan_values_known_after_apply_are_never_differences() -> None:
    report = _compare(PLAN_API, str(INCIDENT / "auth.yaml")).json()
    shown = [c for c in report["other_differences"] if "known after apply" in str(c)]
    assert shown == []
    assert "vpc-access-missing" not in {f["rule"] for f in report["findings"]}  # the plan adds a connector


def test_unknown_address_lists_what_the_folder_declares() -> None:
    run = _compare(
        f"{FIXTURES / 'terraform-hcl' / 'auth'}/#google_cloud_run_v2_service.nope", str(INCIDENT / "auth.yaml")
    )
    assert run.code == 2 and "google_cloud_run_v2_service.auth" in run.stderr and run.stderr.count("\n") == 1


def test_an_env_map_from_an_unresolved_dynamic_block_is_unverified_not_missing() -> None:
    spec = f"{FIXTURES / 'terraform-hcl' / 'unresolved'}/#google_cloud_run_v2_service.auth_dynamic"
    report = _compare(spec, str(INCIDENT / "auth.yaml")).json()
    assert "env-var-missing" not in {f["rule"] for f in report["findings"]}
    assert any(u["rule"] == "env-var-missing" and "dynamic" in u["reason"] for u in report["unverified"])
    assert report["incomplete"] is True


def test_hcl_syntax_error_is_one_line_naming_file_and_line() -> None:
    run = _compare(f"{FIXTURES / 'terraform-hcl' / 'bad-syntax'}/#google_cloud_run_v2_service.x", str(INCIDENT))
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "bad-syntax/main.tf:4: HCL syntax error" in run.stderr and "Traceback" not in run.stderr


def test_a_tf_target_brings_its_secrets_to_the_rules() -> None:
    """The secrets a .tf folder declares (with their grants) decide secret-access-denied: not 'could not verify'."""
    target = "fixtures/terraform-hcl/secrets/#google_cloud_run_v2_service.api"
    baseline = "fixtures/terraform-hcl/provider-region/#google_cloud_run_v2_service.api"
    report = run_cli("compare", target, baseline, "--format", "json", "--fail-on", "none").json()
    denied = [f for f in report["findings"] if f["rule"] == "secret-access-denied"]
    assert len(denied) == 1 and "stripe-api-key" in denied[0]["explanation"]
    assert "secret-access-denied" not in {u["rule"] for u in report["unverified"]}
