"""The fake answers the real client libraries over real gRPC: pagination, NOT_FOUND, faults, latency, call records."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api_core import exceptions, retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2, secretmanager_v1, sqladmin_v1, vpcaccess_v1
from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)
from google.cloud.sqladmin_v1.services.sql_instances_service.transports import SqlInstancesServiceGrpcTransport
from google.cloud.vpcaccess_v1.services.vpc_access_service.transports import VpcAccessServiceGrpcTransport

from fakegcp import FakeGcpServer, Fault, World, WorldFileError

LIVE = Path(__file__).resolve().parents[2] / "fixtures" / "incident-live"
PARENT = "projects/netra-staging/locations/us-central1"
API = f"{PARENT}/services/api"
AUTH = f"{PARENT}/services/auth"
SECRET = "projects/netra-staging/secrets/db-password"
CONNECTOR = f"{PARENT}/connectors/staging-connector"
FAST_RETRY = retry.Retry(
    predicate=retry.if_exception_type(exceptions.ServiceUnavailable), initial=0.01, maximum=0.05, timeout=10.0
)


@pytest.fixture(scope="module")
def world() -> World:
    return World.from_folder(LIVE)


@pytest.fixture
def fake(world: World) -> Iterator[FakeGcpServer]:
    with FakeGcpServer(world, page_size=1) as server:
        yield server


def services_client(fake: FakeGcpServer) -> run_v2.ServicesClient:
    return run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=fake.channel()))


def revisions_client(fake: FakeGcpServer) -> run_v2.RevisionsClient:
    return run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=fake.channel()))


def secrets_client(fake: FakeGcpServer) -> secretmanager_v1.SecretManagerServiceClient:
    transport = SecretManagerServiceGrpcTransport(channel=fake.channel())
    return secretmanager_v1.SecretManagerServiceClient(transport=transport)


# The world -------------------------------------------------------------------------------------------------------
def test_world_reads_the_live_incident_folder(world: World) -> None:
    assert sorted(world.services) == [API, AUTH]
    assert sorted(world.revisions) == [
        f"{API}/revisions/api-00041-bop",
        f"{API}/revisions/api-00042-fix",
        f"{AUTH}/revisions/auth-00017-wuj",
    ]
    assert world.project_numbers == {"123456789012": "netra-staging"}
    assert [v.state.name for v in world.versions_newest_first("db-password")] == ["ENABLED", "DESTROYED", "DISABLED"]
    assert [b.role for b in world.iam_policies["db-password"].bindings] == ["roles/secretmanager.secretAccessor"]
    assert world.sql_instances[("netra-staging", "staging-shared-postgres")].state.name == "RUNNABLE"
    assert world.connectors[CONNECTOR].state.name == "READY"


def test_synthesized_revisions_carry_the_template_at_the_top_level(world: World) -> None:
    latest = world.revisions[f"{API}/revisions/api-00042-fix"]
    assert latest.service == API
    assert latest.service_account == "api@netra-staging.iam.gserviceaccount.com"
    assert "vpc_access" not in latest  # absent stays absent, not an empty message
    assert latest.volumes[0].cloud_sql_instance.instances == ["netra-staging:us-central1:staging-shared-postgres"]
    [ready] = latest.conditions
    assert ready.type_ == "Ready" and ready.state == run_v2.Condition.State.CONDITION_FAILED
    assert ready.revision_reason == run_v2.Condition.RevisionReason.HEALTH_CHECK_CONTAINER_ERROR
    last_ready = world.revisions[f"{API}/revisions/api-00041-bop"]
    assert last_ready.conditions[0].state == run_v2.Condition.State.CONDITION_SUCCEEDED
    auth = world.revisions[f"{AUTH}/revisions/auth-00017-wuj"]
    assert auth.vpc_access.connector == CONNECTOR
    assert auth.vpc_access.egress == run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY


def test_an_explicit_revision_file_wins_over_the_synthesized_one(tmp_path: Path) -> None:
    shutil.copytree(LIVE, tmp_path / "world")
    revision = {
        "name": f"{API}/revisions/api-00041-bop",
        "service": API,
        "vpcAccess": {"connector": CONNECTOR, "egress": "PRIVATE_RANGES_ONLY"},
        "conditions": [{"type": "Ready", "state": "CONDITION_SUCCEEDED"}],
        "someFutureField": True,
    }
    (tmp_path / "world" / "api-00041-bop.json").write_text(json.dumps(revision))
    world = World.from_folder(tmp_path / "world")
    assert world.revisions[f"{API}/revisions/api-00041-bop"].vpc_access.connector == CONNECTOR
    assert "vpc_access" not in world.revisions[f"{API}/revisions/api-00042-fix"]  # still synthesized


def test_a_file_of_unknown_kind_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')
    with pytest.raises(WorldFileError, match=r"notes\.json"):
        World.from_folder(tmp_path)


# Cloud Run --------------------------------------------------------------------------------------------------------
def test_services_are_listed_across_pages_and_fetched(fake: FakeGcpServer, world: World) -> None:
    client = services_client(fake)
    listed = list(client.list_services(parent=PARENT))
    assert [s.name for s in listed] == [API, AUTH]
    assert fake.called("ListServices") == [PARENT, PARENT]  # page_size=1: two pages, the pager followed the token
    for service in listed:
        got = client.get_service(name=service.name)
        assert got == world.services[service.name]
    api = client.get_service(name=API)
    assert "vpc_access" not in api.template
    assert api.terminal_condition.state == run_v2.Condition.State.CONDITION_FAILED
    assert api.latest_ready_revision.endswith("/revisions/api-00041-bop")
    assert "https://api-123456789012.us-central1.run.app" in api.urls
    assert client.get_service(name=AUTH).template.vpc_access.connector == CONNECTOR


def test_a_request_page_size_overrides_the_server_default(world: World) -> None:
    with FakeGcpServer(world, page_size=50) as fake:
        pager = services_client(fake).list_services(request={"parent": PARENT, "page_size": 1})
        assert len(list(pager)) == 2
        assert fake.counts["ListServices"] == 2


def test_the_project_may_be_named_by_number(fake: FakeGcpServer) -> None:
    service = services_client(fake).get_service(name="projects/123456789012/locations/us-central1/services/api")
    assert service.name == API


def test_an_unknown_service_is_not_found(fake: FakeGcpServer) -> None:
    with pytest.raises(exceptions.NotFound, match="Resource 'nope' of kind 'SERVICE' in region 'us-central1'"):
        services_client(fake).get_service(name=f"{PARENT}/services/nope")
    with pytest.raises(exceptions.NotFound):
        revisions_client(fake).get_revision(name=f"{API}/revisions/api-00001-old")


def test_a_malformed_name_is_invalid_argument(fake: FakeGcpServer) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        services_client(fake).get_service(name="api")


def test_revisions_are_listed_newest_first_and_fetched(fake: FakeGcpServer) -> None:
    client = revisions_client(fake)
    names = [r.name.rsplit("/", 1)[-1] for r in client.list_revisions(parent=API)]
    assert names == ["api-00042-fix", "api-00041-bop"]
    latest = client.get_revision(name=f"{API}/revisions/api-00042-fix")
    assert latest.conditions[0].state == run_v2.Condition.State.CONDITION_FAILED
    assert "failed to start and listen on the port" in latest.conditions[0].message


# Secret Manager ---------------------------------------------------------------------------------------------------
def test_secret_metadata_versions_and_iam_policy(fake: FakeGcpServer) -> None:
    client = secrets_client(fake)
    assert client.get_secret(name=SECRET).name == "projects/123456789012/secrets/db-password"
    assert [s.name for s in client.list_secrets(parent="projects/netra-staging")] == [
        "projects/123456789012/secrets/db-password"
    ]
    versions = list(client.list_secret_versions(parent=SECRET))
    assert [v.state.name for v in versions] == ["ENABLED", "DESTROYED", "DISABLED"]
    assert fake.counts["ListSecretVersions"] == 3  # page_size=1
    enabled = list(client.list_secret_versions(request={"parent": SECRET, "filter": "state:ENABLED"}))
    assert [v.name.rsplit("/", 1)[-1] for v in enabled] == ["3"]
    assert client.get_secret_version(name=f"{SECRET}/versions/latest").name.endswith("/versions/3")
    policy = client.get_iam_policy(request={"resource": SECRET})
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        (
            "roles/secretmanager.secretAccessor",
            [
                "serviceAccount:api@netra-staging.iam.gserviceaccount.com",
                "serviceAccount:auth@netra-staging.iam.gserviceaccount.com",
            ],
        )
    ]
    with pytest.raises(exceptions.NotFound, match=r"Secret \[projects/netra-staging/secrets/nope\] not found"):
        client.get_iam_policy(request={"resource": "projects/netra-staging/secrets/nope"})
    with pytest.raises(exceptions.NotFound):
        client.get_secret_version(name=f"{SECRET}/versions/9")


def test_access_secret_version_is_unimplemented_and_recorded(fake: FakeGcpServer) -> None:
    client = secrets_client(fake)
    with pytest.raises(exceptions.MethodNotImplemented):
        client.access_secret_version(name=f"{SECRET}/versions/3")
    assert fake.calls == [("AccessSecretVersion", f"{SECRET}/versions/3")]


# Cloud SQL and VPC Access -----------------------------------------------------------------------------------------
def test_cloud_sql_instances(fake: FakeGcpServer) -> None:
    client = sqladmin_v1.SqlInstancesServiceClient(transport=SqlInstancesServiceGrpcTransport(channel=fake.channel()))
    instance = client.get(request={"project": "netra-staging", "instance": "staging-shared-postgres"})
    assert instance.connection_name == "netra-staging:us-central1:staging-shared-postgres"
    assert instance.settings.ip_configuration.ipv4_enabled is False
    # The generated ListPager iterates `warnings`, not `items` (sqladmin_v1 0.1.2): read the pages.
    assert list(client.list(request={"project": "netra-staging"})) == []
    pages = client.list(request={"project": "netra-staging"}).pages
    assert [i.name for page in pages for i in page.items] == ["staging-shared-postgres"]
    assert fake.calls[0] == ("Get", "projects/netra-staging/instances/staging-shared-postgres")
    with pytest.raises(exceptions.NotFound, match="The Cloud SQL instance does not exist"):
        client.get(request={"project": "netra-staging", "instance": "nope"})


def test_a_world_built_in_code_pages_cloud_sql_by_max_results() -> None:
    world = World()
    for name in ("db-a", "db-b", "db-c"):
        world.add_sql_instance(sqladmin_v1.DatabaseInstance(name=name, project="p", region="us-central1"))
    with FakeGcpServer(world, page_size=100) as fake:
        client = sqladmin_v1.SqlInstancesServiceClient(
            transport=SqlInstancesServiceGrpcTransport(channel=fake.channel())
        )
        pages = list(client.list(request={"project": "p", "max_results": 2}).pages)
        assert [[i.name for i in page.items] for page in pages] == [["db-a", "db-b"], ["db-c"]]
        assert fake.called("List") == ["projects/p", "projects/p"]


def test_vpc_access_connectors(fake: FakeGcpServer) -> None:
    # Credentials belong to the transport; with a channel given, none are looked up or sent.
    transport = VpcAccessServiceGrpcTransport(credentials=AnonymousCredentials(), channel=fake.channel())
    client = vpcaccess_v1.VpcAccessServiceClient(transport=transport)
    assert client.get_connector(name=CONNECTOR).network == "staging-vpc"
    assert [c.name for c in client.list_connectors(parent=PARENT)] == [CONNECTOR]
    with pytest.raises(exceptions.NotFound):
        client.get_connector(name=f"{PARENT}/connectors/nope")


# Faults, latency, accounting --------------------------------------------------------------------------------------
def test_unavailable_twice_then_success_is_retried_through(world: World) -> None:
    faults = {("GetService", "*/services/api"): ["UNAVAILABLE", grpc.StatusCode.UNAVAILABLE]}
    with FakeGcpServer(world, faults=faults) as fake:
        client = services_client(fake)
        assert client.get_service(name=API, retry=FAST_RETRY, timeout=5).name == API
        assert fake.called("GetService") == [API, API, API]
        assert client.get_service(name=AUTH, retry=retry.Retry(predicate=lambda _: False)).name == AUTH  # no glob hit


def test_a_sequence_is_consumed_per_resource(world: World) -> None:
    with FakeGcpServer(world, faults={"GetService": [grpc.StatusCode.UNAVAILABLE]}) as fake:
        client = services_client(fake)
        for name in (API, AUTH):
            with pytest.raises(exceptions.ServiceUnavailable, match="currently unavailable"):
                client.get_service(name=name, retry=None)
            assert client.get_service(name=name, retry=None).name == name


def test_a_permanent_fault_names_the_missing_permission(world: World) -> None:
    faults = {("GetIamPolicy", "*/secrets/db-password"): grpc.StatusCode.PERMISSION_DENIED}
    with FakeGcpServer(world, faults=faults) as fake:
        client = secrets_client(fake)
        for _ in range(2):
            with pytest.raises(exceptions.PermissionDenied, match=r"secretmanager\.secrets\.getIamPolicy"):
                client.get_iam_policy(request={"resource": SECRET})
        assert len(list(client.list_secret_versions(parent=SECRET))) == 3  # other methods unaffected


def test_an_exhausted_sequence_lets_later_rules_decide(world: World) -> None:
    faults = {"*": ["UNAVAILABLE"], ("GetIamPolicy", SECRET): "PERMISSION_DENIED"}
    with FakeGcpServer(world, faults=faults) as fake:
        client = secrets_client(fake)
        with pytest.raises(exceptions.ServiceUnavailable):
            client.get_iam_policy(request={"resource": SECRET}, retry=None)
        with pytest.raises(exceptions.PermissionDenied):
            client.get_iam_policy(request={"resource": SECRET}, retry=None)
        with pytest.raises(exceptions.ServiceUnavailable):
            client.get_secret(name=SECRET, retry=None)
        assert client.get_secret(name=SECRET, retry=None).name.endswith("/db-password")


def test_fault_objects_and_injection_while_serving(world: World) -> None:
    faults = {"*": Fault(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")}
    with FakeGcpServer(world, faults=faults) as fake, pytest.raises(exceptions.ResourceExhausted, match="slow down"):
        services_client(fake).get_service(name=API, retry=None)
    with FakeGcpServer(world) as fake:
        fake.inject("google.cloud.vpcaccess.v1.VpcAccessService/GetConnector", "*", "NOT_FOUND")
        client = vpcaccess_v1.VpcAccessServiceClient(transport=VpcAccessServiceGrpcTransport(channel=fake.channel()))
        with pytest.raises(exceptions.NotFound):
            client.get_connector(name=CONNECTOR)


def test_latency_makes_concurrent_calls_overlap(world: World) -> None:
    with FakeGcpServer(world, latency=0.3) as fake:
        client = services_client(fake)
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def call() -> None:
            barrier.wait()
            try:
                client.get_service(name=API)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert fake.call_count == 8
        assert fake.max_concurrency > 1
        assert fake.in_flight == 0


# The fixture itself -----------------------------------------------------------------------------------------------
def test_driftcheck_reads_the_live_fixture_offline_like_the_gcloud_one(cli: Any) -> None:
    live = cli("compare", "api", "auth", "--from", LIVE, "--format", "json")
    gcloud = cli("compare", "api", "auth", "--from", LIVE.parent / "incident", "--format", "json")
    assert live.code == gcloud.code == 1, live.stderr
    assert live.json()["findings"][0]["rule"] == "vpc-access-missing"
    assert [f["rule"] for f in live.json()["findings"]] == [f["rule"] for f in gcloud.json()["findings"]]
    assert live.json()["status"]["ready"] is False
    assert live.json()["status"]["latest_ready_revision"] == gcloud.json()["status"]["latest_ready_revision"]
