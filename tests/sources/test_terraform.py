"""Terraform state (format 4) and `terraform show -json` load into the same canonical model as exports and the API.

fixtures/terraform/auth-v2.tfstate (google_cloud_run_v2_service in a module, for_each) and auth-v1.tfstate
(google_cloud_run_service, count) hold fixtures/incident/auth.yaml as Terraform records it; plan.json gives the
api service a connector created in the same apply, so its id (and the scaling maximum) is known after apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT

from driftcheck.compare.diff import compare_services, source_of
from driftcheck.errors import InputError
from driftcheck.jobs.compare import pick
from driftcheck.model import Inventory, Service, Unknown, to_plain
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.evidence import load_evidence

TERRAFORM = FIXTURES / "terraform"
STATE_V2 = TERRAFORM / "auth-v2.tfstate"
STATE_V1 = TERRAFORM / "auth-v1.tfstate"
PLAN = TERRAFORM / "plan.json"
AUTH = INCIDENT / "auth.yaml"
EXPECTED = load_ruleset().expected_differences
V2_ADDRESS = 'module.identity.google_cloud_run_v2_service.svc["auth"]'


def state_and_export(state: Path) -> tuple[Service, Service]:
    """The export is read against the state's evidence, as a TARGET file would be (project number -> id)."""
    inventory = load_evidence([state])
    return inventory.services["auth"], pick(str(AUTH), inventory)


def edited(tmp_path: Path, source: Path, edit: Any) -> Path:
    data = json.loads(source.read_text())
    edit(data)
    path = tmp_path / source.name
    path.write_text(json.dumps(data))
    return path


def v2_template(data: dict[str, Any]) -> dict[str, Any]:
    return data["resources"][0]["instances"][0]["attributes"]["template"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("state", [STATE_V2, STATE_V1], ids=["google_cloud_run_v2_service", "google_cloud_run_service"])
def test_service_in_state_equals_the_same_service_exported(state: Path) -> None:
    from_state, exported = state_and_export(state)
    assert compare_services(from_state, exported, EXPECTED) == []
    assert compare_services(exported, from_state, EXPECTED) == []
    assert from_state.vpc.path == "connector" and from_state.cloudsql_instances  # equal, and not vacuously


def test_one_drifted_field_is_one_change_located_in_state(tmp_path: Path) -> None:
    def lower_max(data: dict[str, Any]) -> None:
        v2_template(data)["scaling"][0]["max_instance_count"] = 5

    from_state, exported = state_and_export(edited(tmp_path, STATE_V2, lower_max))
    (change,) = compare_services(from_state, exported, EXPECTED)
    assert (change.path, change.baseline, change.target) == ("max_instances", 20, 5)
    assert change.target_source == f"{tmp_path / STATE_V2.name}:{V2_ADDRESS}.template[0].scaling[0].max_instance_count"


def test_v1_drift_is_located_in_the_template_annotations(tmp_path: Path) -> None:
    def drop_connector(data: dict[str, Any]) -> None:
        annotations = data["resources"][0]["instances"][0]["attributes"]["template"][0]["metadata"][0]["annotations"]
        del annotations["run.googleapis.com/vpc-access-connector"]

    from_state, exported = state_and_export(edited(tmp_path, STATE_V1, drop_connector))
    changes = {c.path: c for c in compare_services(from_state, exported, EXPECTED)}
    assert changes["vpc.path"].target == "none"
    assert changes["vpc.connector"].target_source.endswith(
        "template[0].metadata[0].annotations[run.googleapis.com/vpc-access-connector]"
    )


def test_provenance_names_the_address_and_the_list_indexed_attribute() -> None:
    service = load_evidence([STATE_V2]).services["auth"]
    assert source_of(service, "vpc.connector") == f"{STATE_V2}:{V2_ADDRESS}.template[0].vpc_access[0].connector"
    assert service.metadata.address == V2_ADDRESS
    assert load_evidence([STATE_V1]).services["auth"].metadata.address == "google_cloud_run_service.auth[0]"


def test_secrets_sql_and_connector_from_state() -> None:
    inventory = load_evidence([STATE_V2])
    secret = inventory.secrets["db-password"]
    assert isinstance(secret.versions, dict)
    assert {n: v.state for n, v in secret.versions.items()} == {"3": "ENABLED", "2": "DESTROYED"}
    assert secret.bindings == {  # the _binding's member and the _member's, merged
        "roles/secretmanager.secretAccessor": (
            "serviceAccount:api@netra-staging.iam.gserviceaccount.com",
            "serviceAccount:auth@netra-staging.iam.gserviceaccount.com",
        )
    }
    sql = inventory.sql_instances["netra-staging:us-central1:staging-shared-postgres"]
    assert (sql.engine, sql.public_ip, sql.private_ip) == ("postgres", False, "10.20.0.3")
    assert isinstance(sql.state, Unknown)  # Terraform does not record it: never assumed RUNNABLE
    connector = inventory.connectors["projects/netra-staging/locations/us-central1/connectors/staging-connector"]
    assert (connector.network, connector.state) == ("staging-vpc", "READY")


def test_secret_payload_in_state_is_never_read() -> None:
    assert "do-not-read-me-s3cr3t" in STATE_V2.read_text()  # the fixture does hold one, as real state does
    inventory = load_evidence([STATE_V2])
    assert "do-not-read-me-s3cr3t" not in repr(inventory)


def test_iam_policy_data_is_read(tmp_path: Path) -> None:
    policy = {"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["user:a@example.com"]}]}
    state = {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 1,
        "lineage": "x",
        "resources": [
            {
                "mode": "managed",
                "type": "google_secret_manager_secret_iam_policy",
                "name": "p",
                "instances": [{"attributes": {"secret_id": "projects/p/secrets/s", "policy_data": json.dumps(policy)}}],
            }
        ],
    }
    path = tmp_path / "policy.tfstate"
    path.write_text(json.dumps(state))
    assert load_evidence([path]).secrets["s"].bindings == {
        "roles/secretmanager.secretAccessor": ("user:a@example.com",)
    }


def refusal(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_evidence([path])
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_state_format_version_3_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "old.tfstate"
    path.write_text(json.dumps({"version": 3, "terraform_version": "0.11.14", "serial": 3, "modules": []}))
    message = refusal(path)
    assert message.startswith(f"{path}:version: Terraform state format version 3 is not supported")


def test_truncated_state_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.tfstate"
    path.write_text(STATE_V2.read_text()[:2000])
    assert refusal(path).startswith(f"{path}:line ")


def test_state_without_modelled_resources_says_so(tmp_path: Path) -> None:
    path = tmp_path / "buckets.tfstate"
    bucket = {"mode": "managed", "type": "google_storage_bucket", "name": "b", "instances": [{"attributes": {}}]}
    path.write_text(json.dumps({"version": 4, "terraform_version": "1.9.8", "lineage": "x", "resources": [bucket]}))
    assert "no Cloud Run, Secret Manager, Cloud SQL or VPC Access resources in this state" in refusal(path)


def test_show_json_of_a_state_equals_the_state(tmp_path: Path) -> None:
    """`terraform show -json` nests module resources under child_modules, with `values` for `attributes`."""
    state = json.loads(STATE_V2.read_text())
    service = next(r for r in state["resources"] if r["type"] == "google_cloud_run_v2_service")
    shown = {
        "format_version": "1.0",
        "terraform_version": "1.9.8",
        "values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.identity",
                        "resources": [
                            {
                                "address": V2_ADDRESS,
                                "mode": "managed",
                                "type": service["type"],
                                "name": "svc",
                                "index": "auth",
                                "values": service["instances"][0]["attributes"],
                            }
                        ],
                    }
                ]
            }
        },
    }
    path = tmp_path / "shown.json"
    path.write_text(json.dumps(shown))
    shown_service = load_evidence([path]).services["auth"]
    assert shown_service.metadata.address == V2_ADDRESS
    assert to_plain(shown_service) == to_plain(load_evidence([STATE_V2]).services["auth"])


def plan_inventory() -> Inventory:
    return load_evidence([PLAN])


def test_plan_values_known_after_apply_are_unknown() -> None:
    api = plan_inventory().services["api"]
    assert api.vpc.path == "connector"
    assert api.vpc.connector == Unknown("known after apply")
    assert to_plain(api)["vpc"]["connector"] == Unknown("known after apply")
    assert api.max_instances == Unknown("known after apply")  # a number: left out of the plan, marked afterwards
    assert api.min_instances == 1  # a known value stays a literal


def test_plan_unknowns_are_never_differences() -> None:
    """Read against the incident's evidence, which links auth.yaml's project number to the plan's project id."""
    inventory = load_evidence([INCIDENT])
    planned = pick(f"{PLAN}#google_cloud_run_v2_service.api", inventory)
    paths = {c.path for c in compare_services(planned, inventory.services["auth"], EXPECTED)}
    assert paths == {"service_account"}  # the one real difference; not vpc.connector, not max_instances


def test_plan_without_planned_values_names_the_field(tmp_path: Path) -> None:
    plan = json.loads(PLAN.read_text())
    del plan["planned_values"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert refusal(path).startswith(f"{path}:planned_values: a plan without planned_values")


def test_locator_picks_one_address_out_of_a_state() -> None:
    inventory = load_evidence([INCIDENT])
    service = pick(f"{STATE_V2}#{V2_ADDRESS}", inventory)
    assert (service.name, service.metadata.address) == ("auth", V2_ADDRESS)
    with pytest.raises(InputError, match=r"no Cloud Run service at address google_cloud_run_v2_service\.nope"):
        pick(f"{STATE_V2}#google_cloud_run_v2_service.nope", inventory)


def test_compare_a_planned_service_through_the_cli(cli: Any) -> None:
    run = cli(
        "compare",
        f"{PLAN.relative_to(FIXTURES.parent)}#google_cloud_run_v2_service.api",
        "fixtures/incident/auth.yaml",
        "--from",
        "fixtures/incident",
        "--format",
        "json",
        "--fail-on",
        "none",
    )
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["target"] == "api"
    evidence_paths = {e["path"] for f in report["findings"] for e in f["evidence"]}
    # the incident's logs are the live api's (fixtures/incident/api.logs.json): its timeouts are said as logged
    assert evidence_paths - {"logs of api"} == {"service_account"}
    assert not any(r.startswith("vpc") for r in (f["rule"] for f in report["findings"]))


def test_cli_bad_address_is_a_one_line_input_error(cli: Any) -> None:
    run = cli("compare", "fixtures/terraform/plan.json#google_cloud_run_v2_service.web", "auth", "--from", INCIDENT)
    assert run.code == 2
    assert run.stderr.count("\n") == 1 and "google_cloud_run_v2_service.api" in run.stderr  # lists what is there


def test_state_in_any_key_order_loads_the_same(tmp_path: Path) -> None:
    """Terraform writes `version` first and driftcheck then streams the resources; any other order is read whole."""
    path = tmp_path / "sorted.tfstate"
    path.write_text(json.dumps(json.loads(STATE_V2.read_text()), sort_keys=True))
    assert path.read_text().startswith('{"check_results"')
    assert to_plain(load_evidence([path]).services["auth"]) == to_plain(load_evidence([STATE_V2]).services["auth"])


def test_streamed_state_with_garbage_between_resources_names_the_line(tmp_path: Path) -> None:
    text = STATE_V2.read_text()
    cut = text.index('    {\n      "mode": "managed",\n      "type": "google_secret_manager_secret"')
    path = tmp_path / "bad.tfstate"
    path.write_text(text[: cut - 2] + " ;\n" + text[cut:])  # `;` where the `,` between two resources belongs
    line = path.read_text()[:cut].count("\n") + 1
    assert refusal(path) == f"{path}:line {line}: malformed JSON: expected ','"


def test_credential_named_value_known_after_apply_is_unknown_not_redacted(tmp_path: Path) -> None:
    def unknown_api_key(plan: dict[str, Any]) -> None:
        change = plan["resource_changes"][0]["change"]
        change["after"]["template"][0]["containers"][0]["env"][1] = {"name": "API_KEY", "value": None}
        change["after_unknown"]["template"][0]["containers"] = [{"env": [{}, {"value": True}]}]

    api = load_evidence([edited(tmp_path, PLAN, unknown_api_key)]).services["api"]
    assert api.containers["ingress"].env["API_KEY"].value == Unknown("known after apply")
    assert api.containers["ingress"].env["APP_ENV"].value == "staging"
