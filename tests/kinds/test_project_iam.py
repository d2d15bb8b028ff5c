"""The project IAM policy kind: evidence file, snapshot, Terraform, live fetch, and the rule it silences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, run_cli, write_snapshot, write_state
from fakegcp import FakeGcpServer, World

from driftcheck.kinds.project_iam import ProjectIamPolicy
from driftcheck.kinds.secret import SECRET
from driftcheck.model import Inventory
from driftcheck.sources.evidence import load_evidence

POLICY = FIXTURES / "project-iam" / "netra-staging.project-iam.json"
RULE_CASE = FIXTURES / "rules" / "secret-access-denied"
PROJECT = "netra-staging"
CHECKOUT = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"
REPORTS = "serviceAccount:reports@netra-staging.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"


def policies(inventory: Inventory) -> dict[str, ProjectIamPolicy]:
    return inventory.of("project_iam_policy")


def test_the_evidence_file_loads_as_the_projects_policy_with_conditional_grants_apart() -> None:
    policy = policies(load_evidence([POLICY]))[PROJECT]
    assert policy.complete is True and policy.origin == str(POLICY)
    assert policy.roles_of(CHECKOUT) == [ACCESSOR]
    assert policy.roles_of(REPORTS) == []  # granted only under a condition: no plain yes
    assert policy.conditional_roles_of(REPORTS) == [ACCESSOR]
    assert policy.bindings["roles/owner"] == ("user:platform-admin@example.com",)


def test_a_project_policy_and_a_secret_policy_side_by_side_do_not_collide(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path)
    shutil.copy(RULE_CASE / "stripe-api-key.iam.json", tmp_path)
    inventory = load_evidence([tmp_path])
    assert set(policies(inventory)) == {PROJECT}
    assert set(inventory.of(SECRET.name)) == {"stripe-api-key"}  # the secret reader did not claim the project's


def test_a_policy_named_for_neither_says_how_to_name_it(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path / "policy.json")
    run = run_cli("compare", "a", "b", "--from", tmp_path)
    assert run.code == 2 and "PROJECT.project-iam.json" in run.stderr


def _snapshot(tmp_path: Path, stored: dict[str, Any]) -> Path:
    return write_snapshot(tmp_path, PROJECT, project_iam_policies=stored)


def test_a_snapshot_round_trips_and_a_stored_error_is_unknown_not_absent(tmp_path: Path) -> None:
    denied = "PERMISSION_DENIED: resourcemanager.projects.getIamPolicy"
    path = _snapshot(tmp_path, {PROJECT: json.loads(POLICY.read_text()), "netra-prod": {"error": denied}})
    inventory = load_evidence([path])
    from_file = policies(load_evidence([POLICY]))[PROJECT]
    origin = f"{path}#project_iam:{PROJECT}"
    assert policies(inventory)[PROJECT] == ProjectIamPolicy(
        PROJECT, origin, from_file.bindings, from_file.conditional, provenance={"bindings": f"{origin}:bindings"}
    )
    assert "netra-prod" not in policies(inventory)
    assert inventory.errors == {"project_iam_policies:netra-prod": denied}


def _state(tmp_path: Path, *resources: tuple[str, dict[str, Any]]) -> Path:
    return write_state(tmp_path, *resources)


def test_terraform_members_and_bindings_are_a_partial_policy(tmp_path: Path) -> None:
    condition = [{"title": "reports-only", "expression": "true", "description": ""}]
    state = _state(
        tmp_path,
        ("google_project_iam_member", {"project": PROJECT, "role": ACCESSOR, "member": CHECKOUT, "condition": []}),
        ("google_project_iam_binding", {"project": PROJECT, "role": "roles/run.invoker", "members": [CHECKOUT]}),
        (
            "google_project_iam_member",
            {"project": PROJECT, "role": ACCESSOR, "member": REPORTS, "condition": condition},
        ),
    )
    policy = policies(load_evidence([state]))[PROJECT]
    assert policy.complete is False  # the rest of the project's policy is not in this state
    assert policy.roles_of(CHECKOUT) == ["roles/run.invoker", ACCESSOR]
    assert policy.conditional_roles_of(REPORTS) == [ACCESSOR] and policy.roles_of(REPORTS) == []
    assert policy.provenance["bindings"].endswith("google_project_iam_member.r2.member")


def test_terraform_policy_data_is_the_whole_policy(tmp_path: Path) -> None:
    state = _state(tmp_path, ("google_project_iam_policy", {"project": PROJECT, "policy_data": POLICY.read_text()}))
    policy = policies(load_evidence([state]))[PROJECT]
    assert policy.complete is True
    assert policy.roles_of(CHECKOUT) == [ACCESSOR] and policy.conditional_roles_of(REPORTS) == [ACCESSOR]


# --- live: the real resource-manager client over gRPC against the fake server -------------------------------------


def _world() -> World:
    world = World.from_folder(FIXTURES / "incident-live")
    world.set_project_iam_policy(PROJECT, json.loads(POLICY.read_text()))
    return world


def _take_snapshot(server: FakeGcpServer, out: Path) -> dict[str, Any]:
    run = run_cli("snapshot", "--project", PROJECT, "--region", "us-central1", "--endpoint", server.address, "-o", out)
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text()))


def test_the_live_fetch_reads_the_projects_policy(tmp_path: Path) -> None:
    with FakeGcpServer(_world()) as server:
        data = _take_snapshot(server, tmp_path / "snap.json")
        assert server.called("GetIamPolicy").count(f"projects/{PROJECT}") == 1  # once, however many services
    stored = data["project_iam_policies"][PROJECT]
    assert {
        "role": ACCESSOR,
        "members": sorted([CHECKOUT, "serviceAccount:api@netra-staging.iam.gserviceaccount.com"]),
    } in [{**b, "members": sorted(b["members"])} for b in stored["bindings"]]
    assert policies(load_evidence([tmp_path / "snap.json"]))[PROJECT].roles_of(CHECKOUT) == [ACCESSOR]


def test_a_denied_live_read_is_recorded_with_the_role_to_grant(tmp_path: Path) -> None:
    faults = {("google.cloud.resourcemanager.v3.Projects/GetIamPolicy", "*"): "PERMISSION_DENIED"}
    with FakeGcpServer(_world(), faults=faults) as server:
        data = _take_snapshot(server, tmp_path / "snap.json")
    error = data["project_iam_policies"][PROJECT]["error"]
    assert error.startswith("PERMISSION_DENIED") and "resourcemanager.projects.getIamPolicy (roles/browser)" in error
    assert "error" not in data["secrets"]["db-password"]["iam"]  # the secret's policy is another read


# --- the rule it serves: secret-access-denied ---------------------------------------------------------------------


NUMBER = "123456789012"  # the Knative export names its project by number, and nothing in it links the id


def _rule_case(tmp_path: Path, policy: dict[str, Any] | None) -> Path:
    folder = shutil.copytree(RULE_CASE, tmp_path / "case")
    if policy is not None:  # `gcloud projects get-iam-policy` takes the number as well as the id
        (folder / f"{NUMBER}.project-iam.json").write_text(json.dumps(policy))
    return folder


def _access_denied(folder: Path) -> list[dict[str, Any]]:
    run = run_cli("compare", folder / "target.yaml", folder / "baseline.yaml", "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return [f for f in run.json()["findings"] if f["rule"] == "secret-access-denied"]


def test_a_project_level_accessor_grant_silences_the_rule(tmp_path: Path) -> None:
    assert _access_denied(_rule_case(tmp_path, json.loads(POLICY.read_text()))) == []


def test_without_the_project_policy_the_rule_fires_as_before(tmp_path: Path) -> None:
    (finding,) = _access_denied(_rule_case(tmp_path, None))
    assert "Only the secret-level IAM policy was seen" in finding["explanation"]


def test_a_project_policy_without_the_grant_says_it_was_read(tmp_path: Path) -> None:
    policy = json.loads(POLICY.read_text())
    policy["bindings"] = [b for b in policy["bindings"] if CHECKOUT not in b["members"]]
    (finding,) = _access_denied(_rule_case(tmp_path, policy))
    assert f"Nor does it hold one in the IAM policy of project {NUMBER}" in finding["explanation"]
    assert "folder and organization policies were not read" in finding["explanation"]


def test_a_grant_only_under_a_condition_could_not_be_verified_not_a_finding(tmp_path: Path) -> None:
    policy = json.loads(POLICY.read_text())
    policy["bindings"] = [b for b in policy["bindings"] if CHECKOUT not in b["members"]]
    policy["bindings"].append(
        {"role": ACCESSOR, "members": [CHECKOUT], "condition": {"title": "t", "expression": "true"}}
    )
    folder = _rule_case(tmp_path, policy)
    assert _access_denied(folder) == []
    report = compare_rule_fixture(folder)
    (reason,) = [u["reason"] for u in report["unverified"] if u["rule"] == "secret-access-denied"]
    assert f"{ACCESSOR} on project {NUMBER} is granted only under a condition" in reason
