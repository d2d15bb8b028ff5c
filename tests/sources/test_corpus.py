"""Every real-world file in the shared corpus either loads or is refused with one clear line naming it.

The corpus (../shared/corpus, read-only, files written by other people) is not part of the project; without it
these tests skip. Counts below were recorded on 2026-11-29 (95 of 135 files load: every Cloud Run service file
that is an export or API response, and every Terraform state or plan holding a resource driftcheck models; 40 are
refused, each with its reason); the load counts are floors, as the corpus grows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS

from driftcheck.errors import InputError
from driftcheck.model import Inventory, Unknown
from driftcheck.sources.evidence import load_evidence

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@dataclass(frozen=True)
class Outcome:
    inventory: Inventory | None
    error: str | None

    @property
    def resources(self) -> int:
        inv = self.inventory
        return 0 if inv is None else len(inv.services) + sum(len(found) for found in inv.resources.values())


@cache
def outcome(path: Path) -> Outcome:
    """Any exception other than InputError escapes here and fails the test: that is the point."""
    try:
        return Outcome(load_evidence([path]), None)
    except InputError as exc:
        return Outcome(None, str(exc))


def folder_of(path: Path) -> str:
    return path.parent.relative_to(CORPUS).as_posix()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CORPUS).as_posix()[:120])
def test_file_loads_or_is_refused_with_a_reason(path: Path) -> None:
    result = outcome(path)
    if result.error is None:
        assert result.resources >= 1
        return
    assert result.error.startswith(f"{path}:")  # names the file (and field or line, when there is one)
    assert len(result.error) - len(str(path)) >= 30  # and says why
    assert "\n" not in result.error and "Traceback" not in result.error


@dataclass(frozen=True)
class Expect:
    loaded: int  # at least this many load (recorded 2026-11-29)
    refused: int  # recorded 2026-11-29, for the record; refusals must carry one of the reasons below
    reasons: tuple[str, ...]


FOLDERS = {
    "knative": Expect(62, 9, ("looks like a template, not an export", "holds only comments")),
    "knative_json": Expect(4, 0, ()),
    "v2": Expect(11, 1, ("a recorded API error (404 NOT_FOUND",)),
    # Cloud Asset Inventory records load since 2026-12 (sources/asset_inventory.py); refused: tfplan2cai templates
    # whose project is a placeholder (an instance is known by project:region:name), and records with no region
    "sqladmin": Expect(8, 4, ("Cloud Asset Inventory record", "Cloud SQL instance request body")),
    "tfstate": Expect(9, 9, ("no Cloud Run, Secret Manager, Cloud SQL or VPC Access resources in this state",)),
    "plan": Expect(
        2,
        6,
        ("no Cloud Run, Secret Manager, Cloud SQL or VPC Access resources", "looks like a template, not an export"),
    ),
    "cai": Expect(2, 0, ()),  # v1 (Knative) and v2 Service data; their project is a placeholder, so unknown
    "secret_iam": Expect(2, 3, ("get-iam-policy SECRET --format=json` as SECRET.iam.json", "Cloud Asset Inventory")),
    "iam_policy": Expect(0, 1, ("an IAM policy carries no secret name",)),
    ".": Expect(0, 2, ("not a known kind of evidence", "malformed YAML")),  # README.md, PROVENANCE.tsv
}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_folder_tally(folder: str) -> None:
    paths = [p for p in FILES if folder_of(p) == folder]
    tally = Counter("loaded" if outcome(p).error is None else "refused" for p in paths)
    expect = FOLDERS[folder]
    print(f"{folder}: {tally['loaded']} loaded, {tally['refused']} refused of {len(paths)}")
    assert paths, f"no files in {folder}"
    assert tally["loaded"] >= expect.loaded
    for path in paths:
        error = outcome(path).error
        assert error is None or any(r in error for r in expect.reasons), error


def test_every_folder_is_accounted_for() -> None:
    assert {folder_of(p) for p in FILES} <= set(FOLDERS)


def load_one(relative: str) -> Inventory:
    result = outcome(CORPUS / relative)
    assert result.inventory is not None, result.error
    return result.inventory


def test_utf16_powershell_export_loads() -> None:
    service = load_one("knative/DETHIERJONATHAN__2Thier__current-service.yaml").services["crm-api"]
    assert (service.project, service.region) == ("864558991714", "europe-west1")
    assert service.cloudsql_instances == ("thiernew:europe-west1:crm-postgres-prod",)
    assert service.containers["ingress"].cpu == 2.0


def test_direct_vpc_annotation_gives_a_direct_path() -> None:
    service = load_one("knative/khhini__devsecops-template__cloudrun__service.yaml").services["gotodo-api-dev-prd"]
    assert service.vpc.path == "direct"
    assert service.vpc.network_interfaces["poc-dev-sandbox-vpc"].subnetwork == "poc-dev-sandbox-jkt-sub"


def test_gpu_service_with_node_selector_loads() -> None:
    service = load_one("knative/Terpedia__esm2-inference-service__cloudrun__service.yaml").services["terpedia-esm2"]
    container = service.containers["ingress"]
    assert (container.cpu, container.memory_bytes, container.gpus) == (8.0, 32 * 2**30, 1)
    assert service.accelerator == "nvidia-l4"


def test_non_json_container_dependencies_are_read() -> None:
    client = load_one("knative/agileguru__graalvm_cloud_native__cloud-run__service.yaml")  # "{client: [server]}"
    assert client.services["multi-container-example"].containers["ingress"].depends_on == ("server",)
    otel = load_one("knative/nbrandaleone-gcp__otlp-demo__cloudrun__service.yaml")  # "{app:[collector]}"
    assert otel.services["otel-cloud-run-demo"].containers["ingress"].depends_on == ("collector",)


def test_fractional_cpu_and_milli_cpu() -> None:
    soleo = load_one("knative/soleo__ext-image-processing-api-handler-cloud-run__cloud-run-config.yaml")
    assert soleo.services["ext-image-processing-api-handler"].containers["ingress"].cpu == pytest.approx(0.5833)
    calendar = load_one("knative/numazu-umineco__calendar__cloudrun__service.yaml").services["calendar"]
    assert calendar.containers["ingress"].cpu == 0.5  # cpu: "0.5"


def test_annotation_at_the_service_level_has_no_effect() -> None:
    """Cloud Run reads execution-environment on the template only; the misplaced copy stays visible in metadata."""
    service = load_one("knative/Evothesis__pixel-management__cloud-run.yaml").services["pixel-management"]
    assert service.execution_environment is None
    assert "run.googleapis.com/execution-environment" in service.metadata.annotations


def test_shell_placeholders_in_args_are_not_a_template() -> None:
    service = load_one("knative/MokonaSato__line-multi-agent-sample__current-service.yaml").services["line-multi-agent"]
    assert any("${CLEAN_TOKEN}" in arg for c in service.containers.values() for arg in c.args)


def test_recorded_v2_responses_and_operations_load() -> None:
    prefix = "v2/goblet__goblet__goblet__tests__data__http__"
    operation = load_one(f"{prefix}build-tags__post-v2-projects-goblet-locations-us-central1-services_1.json")
    assert set(operation.services) == {"goblet"}  # {"headers", "body": operation{response: Service}}
    connector = load_one(
        f"{prefix}vpcconnector-deploy-cloudrun__get-v2-projects-goblet-locations-us-central1-operations-"
        "6b0fc7f5-7bac-474d-b33d-6f8d470b1659_1.json"
    )
    assert connector.services["goblet-example-vpc"].vpc.connector == (
        "projects/goblet/locations/us-central1/connectors/vpc-test"
    )
    listing = load_one("v2/GoogleCloudPlatform__gcpdiag__test-data__cloudrun2__json-dumps__cloudrun_services.json")
    assert len(listing.services) == 3


def test_knative_list_response_and_sql_list_load() -> None:
    custodian = load_one(
        "knative_json/cloud-custodian__cloud-custodian__tools__c7n_gcp__tests__data__flights__"
        "gcp-cloud-run-service__get-v1-projects-cloud-custodian-locations---services_1.json"
    )
    assert custodian.services
    sql = load_one("sqladmin/GoogleCloudPlatform__gcpdiag__test-data__cloudsql2__json-dumps__cloudsql-instances.json")
    assert len(sql.sql_instances) == 6
    assert sql.project_aliases == {"12340006": "gcpdiag-cloudsql2-aaaa"}  # from the service agent's name


def test_terraform_state_with_modules_and_for_each_loads() -> None:
    """A v1 `google_cloud_run_service` per for_each key inside a module, each with a VPC connector annotation."""
    inventory = load_one("tfstate/nickysada__stagewell__cloud_run__terraform.tfstate")
    admin = inventory.services["admin-service"]
    assert admin.metadata.address == 'module.cloud_run["admin-service"].google_cloud_run_service.main'
    assert admin.vpc.path == "connector" and admin.containers["ingress"].cpu == 2.0


def test_terraform_v2_state_matches_the_api_shape() -> None:
    service = load_one("tfstate/Yns-data__Data_Api__terraform__cloud-run__terraform.tfstate").services["api-source-1"]
    assert (service.project, service.region, service.max_instances, service.min_instances) == (
        "glossy-metric-481911-c7",
        "europe-west9",
        10,
        1,
    )
    assert service.containers["ingress"].port == 8000
    assert service.containers["ingress"].startup_probe is None  # the default probe, as in a real export
    assert service.containers["ingress"].env["DATA_API_KEY"].secret is not None


def test_terraform_plan_with_unknown_project_loads() -> None:
    """A created Cloud SQL instance: its project and connection name are known after apply."""
    inventory = load_one(
        "plan/GoogleCloudPlatform__terraform-validator__testdata__templates__example_sql_database_instance.tfplan.json"
    )
    (instance,) = inventory.sql_instances.values()
    assert instance.database_version == "POSTGRES_9_6"
    assert isinstance(instance.project, Unknown)


def test_asset_inventory_records_of_both_service_versions_load() -> None:
    """tfplan2cai records: v1 holds Knative data, v2 the Admin API v2 shape without a name; the asset name gives it.
    Their project is a template placeholder: unknown, never a project of that name."""
    prefix = "cai/GoogleCloudPlatform__terraform-google-conversion__tfplan2cai__testdata__templates__example_"
    v1 = load_one(f"{prefix}cloud_run_service.json").services["cloudrun-to-get-cai"]
    v2 = load_one(f"{prefix}cloud_run_v2_service.json").services["cloudrunv2-to-get-cai"]
    for service in (v1, v2):
        assert service.region == "us-central1"
        assert isinstance(service.project, Unknown) and "{{.Provider.project}}" in service.project.reason
        container = service.containers["ingress"]
        assert (container.image, container.port, container.args) == ("gcr.io/cloudrun/hello", 8080, ("arrgs",))
    assert v1.concurrency == v2.concurrency == 10
