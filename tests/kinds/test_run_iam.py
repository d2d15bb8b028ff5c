"""The Cloud Run service IAM policy kind: evidence, snapshot, Terraform, live fetch, and invoker-mismatch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, run_cli, write_snapshot, write_state
from fakegcp import FakeGcpServer, World

from driftcheck.kinds.run_iam import RunServiceIamPolicy
from driftcheck.model import Inventory
from driftcheck.sources.evidence import load_evidence

RULE_CASE = FIXTURES / "rules" / "invoker-mismatch"
PROJECT = "netra-staging"
RULE = "invoker-mismatch"
INVOKER = "roles/run.invoker"
PUBLIC = {"bindings": [{"role": INVOKER, "members": ["allUsers"]}], "etag": "BwYjQ9xT2rE=", "version": 1}


def policies(inventory: Inventory) -> dict[str, RunServiceIamPolicy]:
    return inventory.of("run_service_iam_policy")


def test_the_export_loads_by_its_file_name_and_keeps_conditional_grants_apart(tmp_path: Path) -> None:
    conditional = {"role": "roles/run.developer", "members": ["user:ana@example.com"], "condition": {"title": "t"}}
    data = {**PUBLIC, "bindings": [*PUBLIC["bindings"], conditional]}  # type: ignore[list-item]
    (tmp_path / "orders.run-iam.json").write_text(json.dumps(data))
    policy = policies(load_evidence([tmp_path]))["orders"]
    assert policy.bindings == {INVOKER: ("allUsers",)} and policy.public_invokers() == ["allUsers"]
    assert policy.conditional == {"roles/run.developer": ("user:ana@example.com",)}
    assert policy.complete is True and policy.provenance["bindings"].endswith("orders.run-iam.json:bindings")


def test_the_rule_case_exports_go_to_this_kind_not_to_the_project_or_a_secret() -> None:
    inventory = load_evidence([RULE_CASE])
    assert sorted(policies(inventory)) == ["public-api", "public-api-canary"]
    assert not inventory.of("project_iam_policy") and not inventory.secrets


def test_a_snapshot_round_trips_and_a_stored_error_stays_unknown(tmp_path: Path) -> None:
    denied = "PERMISSION_DENIED: Permission 'run.services.getIamPolicy' denied; needs run.services.getIamPolicy"
    stored = {"api": PUBLIC, "auth": {"error": denied}}
    inventory = load_evidence([write_snapshot(tmp_path, PROJECT, run_service_iam_policies=stored)])
    assert policies(inventory)["api"].bindings == {INVOKER: ("allUsers",)}
    assert "auth" not in policies(inventory)
    assert inventory.errors == {"run_service_iam_policies:auth": denied}


def _state(tmp_path: Path, *resources: tuple[str, dict[str, Any]]) -> Path:
    return write_state(tmp_path, *resources)


def test_terraform_member_and_binding_are_partial_and_a_policy_whole(tmp_path: Path) -> None:
    where = {"project": PROJECT, "location": "us-central1"}
    state = _state(
        tmp_path,
        ("google_cloud_run_v2_service_iam_member", {**where, "name": "api", "role": INVOKER, "member": "allUsers"}),
        ("google_cloud_run_service_iam_binding", {**where, "service": "v1/projects/p/locations/l/services/api",
                                                  "role": "roles/run.developer", "members": ["user:a@example.com"]}),
        ("google_cloud_run_v2_service_iam_policy", {**where, "name": f"projects/{PROJECT}/locations/x/services/auth",
                                                    "policy_data": json.dumps(PUBLIC)}),
    )  # fmt: skip
    found = policies(load_evidence([state]))
    api, auth = found["api"], found["auth"]
    assert api.bindings == {INVOKER: ("allUsers",), "roles/run.developer": ("user:a@example.com",)}
    assert api.complete is False and auth.complete is True and auth.public_invokers() == ["allUsers"]


# --- live: the real run_v2 client over gRPC against the fake server ------------------------------------------------


def test_the_live_fetch_reads_each_services_policy_an_unset_one_empty(tmp_path: Path) -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    world.set_run_iam_policy("api", PUBLIC)
    out = tmp_path / "snap.json"
    with FakeGcpServer(world) as server:
        run = run_cli("snapshot", "--project", PROJECT, "--region", "us-central1", "--endpoint", server.address,
                      "-o", out)  # fmt: skip
        called = server.called("GetIamPolicy")
    assert run.code == 0, run.stderr
    assert any("/services/api" in str(call) for call in called), called
    stored = json.loads(out.read_text())["run_service_iam_policies"]
    api = f"projects/{PROJECT}/locations/us-central1/services/api"  # by full name: a name is unique in a region only
    assert stored[api]["bindings"] == [{"role": INVOKER, "members": ["allUsers"]}]
    others = [name for name in stored if name != api]
    assert others and all("bindings" not in stored[name] and "error" not in stored[name] for name in others)
    assert policies(load_evidence([out]))[api].public_invokers() == ["allUsers"]


def test_a_denied_live_read_is_recorded_with_the_role_to_grant(tmp_path: Path) -> None:
    denied = {("google.cloud.run.v2.Services/GetIamPolicy", "*"): "PERMISSION_DENIED"}
    out = tmp_path / "snap.json"
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live"), faults=denied) as server:
        run = run_cli("snapshot", "--project", PROJECT, "--region", "us-central1", "--endpoint", server.address,
                      "-o", out)  # fmt: skip
    assert run.code == 0, run.stderr
    api = f"projects/{PROJECT}/locations/us-central1/services/api"
    error = json.loads(out.read_text())["run_service_iam_policies"][api]["error"]
    assert error.startswith("PERMISSION_DENIED") and "run.services.getIamPolicy (roles/run.viewer)" in error


# --- the rule: invoker-mismatch ---------------------------------------------------------------------------


def _case(tmp_path: Path, target_policy: dict[str, Any] | None = None, *, drop_target: bool = False) -> Path:
    folder = Path(shutil.copytree(RULE_CASE, tmp_path / "case"))
    if drop_target:
        (folder / "public-api.run-iam.json").unlink()
    if target_policy is not None:
        (folder / "public-api.run-iam.json").write_text(json.dumps(target_policy))
    return folder


def _report(folder: Path, baseline: str = "baseline.yaml") -> dict[str, Any]:
    run = run_cli("compare", folder / "target.yaml", folder / baseline, "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


def _fired(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == RULE]


def test_the_rule_fires_with_the_add_binding_command(tmp_path: Path) -> None:
    (finding,) = _fired(_report(_case(tmp_path)))
    assert finding["severity"] == "high"
    assert finding["remediation"]["gcloud"].startswith(
        "gcloud run services add-iam-policy-binding public-api --region us-central1 --member allUsers "
        "--role roles/run.invoker"
    )
    (granted,) = finding["evidence"]
    assert granted["source"]["target"].endswith("public-api.run-iam.json:bindings")  # where its policy was read


def test_the_rule_is_silent_on_a_public_target(tmp_path: Path) -> None:
    assert _fired(_report(_case(tmp_path, PUBLIC))) == []


def test_a_target_policy_not_in_the_evidence_is_unverified(tmp_path: Path) -> None:
    report = _report(_case(tmp_path, drop_target=True))
    assert _fired(report) == []
    (unverified,) = [u for u in report["unverified"] if u["rule"] == RULE]
    assert "gcloud run services get-iam-policy public-api --region us-central1" in unverified["hint"]
    assert report["incomplete"] is True


def test_the_rule_is_silent_between_different_applications(tmp_path: Path) -> None:
    folder = _case(tmp_path)
    other = (folder / "baseline.yaml").read_text().replace("public-api", "billing")
    (folder / "other.yaml").write_text(other)
    (folder / "public-api-canary.run-iam.json").rename(folder / "billing-canary.run-iam.json")
    report = _report(folder, "other.yaml")
    assert _fired(report) == [] and not [u for u in report["unverified"] if u["rule"] == RULE]
