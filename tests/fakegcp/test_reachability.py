"""The fake's Connectivity Tests, through the real Network Management client over gRPC: create (a long-running
operation polled until done, with the canned analysis), get, delete (gone after), each call recorded."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from google.api_core import exceptions
from google.cloud import network_management_v1 as nm
from google.cloud.network_management_v1.services.reachability_service.transports import (
    ReachabilityServiceGrpcTransport,
)

from fakegcp import FakeGcpServer, World
from fakegcp.reachability import unreachable

PARENT = "projects/netra-staging/locations/global"
REVISION = "projects/netra-staging/locations/us-central1/revisions/auth-00017-wuj"


def _test(address: str = "10.20.0.3", port: int = 5432) -> nm.ConnectivityTest:
    return nm.ConnectivityTest(
        source=nm.Endpoint(cloud_run_revision=nm.Endpoint.CloudRunRevisionEndpoint(uri=REVISION)),
        destination=nm.Endpoint(ip_address=address, port=port),
        protocol="TCP",
    )


def test_create_get_delete() -> None:
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live")) as server:
        server.reachability.polls = 2
        server.reachability.results["auth-00017-wuj 10.20.0.3:5432"] = unreachable(
            "APPLY_EGRESS_FIREWALL_RULE", "FIREWALL_RULE", "deny-sql"
        )
        client = nm.ReachabilityServiceClient(transport=ReachabilityServiceGrpcTransport(channel=server.channel()))
        operation = client.create_connectivity_test(parent=PARENT, test_id="t-1", resource=_test())
        assert not operation.done()  # the analysis takes a while: polled
        done = operation.result(timeout=30)
        name = f"{PARENT}/connectivityTests/t-1"
        assert done.name == name and done.reachability_details.result.name == "UNREACHABLE"
        steps = done.reachability_details.traces[0].steps
        assert [s.state.name for s in steps] == ["START_FROM_CLOUD_RUN_REVISION", "APPLY_EGRESS_FIREWALL_RULE", "DROP"]
        assert steps[1].causes_drop and steps[1].firewall.display_name == "deny-sql"
        assert steps[2].drop.cause.name == "FIREWALL_RULE"
        assert client.get_connectivity_test(name=name).reachability_details.result.name == "UNREACHABLE"
        other = client.create_connectivity_test(parent=PARENT, test_id="t-2", resource=_test(port=6379)).result(30)
        assert other.reachability_details.result.name == "UNDETERMINED"  # nothing canned for it
        with pytest.raises(exceptions.AlreadyExists):
            client.create_connectivity_test(parent=PARENT, test_id="t-1", resource=_test())
        client.delete_connectivity_test(name=name).result(timeout=30)
        with pytest.raises(exceptions.NotFound):
            client.get_connectivity_test(name=name)
        with pytest.raises(exceptions.InvalidArgument):  # a service is not a revision
            bad = _test()
            bad.source.cloud_run_revision.uri = "projects/netra-staging/locations/us-central1/services/auth"
            client.create_connectivity_test(parent=PARENT, test_id="t-3", resource=bad)
    assert server.reachability.created == [name, f"{PARENT}/connectivityTests/t-2"]
    assert server.reachability.deleted == [name] and list(server.reachability.tests) == [
        f"{PARENT}/connectivityTests/t-2"
    ]
    assert server.called("CreateConnectivityTest")[:2] == server.reachability.created
    assert len(server.called("GetOperation")) >= 3
