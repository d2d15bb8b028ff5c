"""The fake's Network Management API: Connectivity Tests (`ReachabilityService` Create, Get, Delete) and their
long-running operations (`google.longrunning.Operations/GetOperation`), over the same gRPC port as the rest.

A test's analysis answers with the canned result for its source and destination ("REVISION IP:PORT" in `results`,
REVISION the revision's short name), else for its destination ("IP:PORT"), else UNDETERMINED, once its operation has
been polled `polls` times, as the real API's analysis takes a while. Every test created and deleted is recorded
(`created`, `deleted`), and `tests` holds those that still exist, so a test can prove that a run leaves none behind,
and that a run without --connectivity-test creates none.

    fake.reachability.results["10.20.0.3:5432"] = unreachable("APPLY_EGRESS_FIREWALL_RULE", "FIREWALL_RULE", "deny-sql")
"""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

from google.cloud import network_management_v1 as nm
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, empty_pb2

REACHABILITY = "google.cloud.networkmanagement.v1.ReachabilityService"
OPERATIONS = "google.longrunning.Operations"
PERMISSIONS = {
    "CreateConnectivityTest": "networkmanagement.connectivitytests.create",
    "GetConnectivityTest": "networkmanagement.connectivitytests.get",
    "DeleteConnectivityTest": "networkmanagement.connectivitytests.delete",
    "GetOperation": "networkmanagement.operations.get",
}
_PARENT = re.compile(r"^projects/(?P<project>[^/]+)/locations/global$")
_TEST_ID = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_TEST = re.compile(r"^projects/[^/]+/locations/global/connectivityTests/[^/]+$")
_REVISION = re.compile(r"^projects/[^/]+/locations/[^/]+/revisions/[^/]+$")  # what the API takes as a source


def reachable() -> nm.ReachabilityDetails:
    steps = [_step("START_FROM_CLOUD_RUN_REVISION"), _step("ARRIVE_AT_VPC_CONNECTOR"), _step("APPLY_ROUTE"),
             _step("DELIVER")]  # fmt: skip
    return nm.ReachabilityDetails(result="REACHABLE", traces=[nm.Trace(steps=steps)])


def unreachable(at: str, cause: str, firewall: str | None = None) -> nm.ReachabilityDetails:
    """Dropped at step `at` (a Step.State name) for `cause` (a DropInfo.Cause name), by `firewall` where one does."""
    causing = _step(at, causes_drop=True, description=f"the packet is dropped at {at}")
    if firewall:
        causing.firewall = nm.FirewallInfo(display_name=firewall, action="DENY", direction="EGRESS")
    drop = _step("DROP")
    drop.drop = nm.DropInfo(cause=cause)
    return nm.ReachabilityDetails(
        result="UNREACHABLE", traces=[nm.Trace(steps=[_step("START_FROM_CLOUD_RUN_REVISION"), causing, drop])]
    )


def verdict(result: str, message: str = "") -> nm.ReachabilityDetails:
    """AMBIGUOUS or UNDETERMINED, with no trace (an error message, if given)."""
    details = nm.ReachabilityDetails(result=result)
    if message:
        details.error.message = message
    return details


def _step(state: str, *, causes_drop: bool = False, description: str = "") -> nm.Step:
    return nm.Step(state=state, causes_drop=causes_drop, description=description or state.lower())


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(type(message).pb(message) if hasattr(type(message), "pb") else message)
    return packed


class Reachability:
    """The tests and operations of the fake project; `methods()` are what the server serves for them."""

    def __init__(self, polls: int = 1) -> None:
        self.results: dict[str, nm.ReachabilityDetails] = {}  # "[REVISION ]IP:PORT" -> the analysis' answer
        self.polls = polls  # GetOperation answers not done this many times first
        self.tests: dict[str, nm.ConnectivityTest] = {}  # by name: those that exist now
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.sources: list[str] = []  # each created test's source revision, as sent
        self._operations: dict[str, tuple[Any, int]] = {}  # name -> (its result once done, polls left)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def methods(self) -> list[tuple[str, str, Any, Any, Any, Any]]:
        """(service, method, request type, response type, the request's resource name, handler) for each."""
        return [
            (REACHABILITY, "CreateConnectivityTest", nm.CreateConnectivityTestRequest, operations_pb2.Operation,
             lambda r: f"{r.parent}/connectivityTests/{r.test_id}", self._create),
            (REACHABILITY, "GetConnectivityTest", nm.GetConnectivityTestRequest, nm.ConnectivityTest,
             lambda r: r.name, self._get),
            (REACHABILITY, "DeleteConnectivityTest", nm.DeleteConnectivityTestRequest, operations_pb2.Operation,
             lambda r: r.name, self._delete),
            (OPERATIONS, "GetOperation", operations_pb2.GetOperationRequest, operations_pb2.Operation,
             lambda r: r.name, self._get_operation),
        ]  # fmt: skip

    def _create(self, request: nm.CreateConnectivityTestRequest) -> operations_pb2.Operation:
        from .server import _Abort, grpc

        parent = _PARENT.match(request.parent)
        if not parent or not _TEST_ID.match(request.test_id):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid parent or test id: {request.parent!r}.")
        test = nm.ConnectivityTest(request.resource)
        source, destination = test.source.cloud_run_revision.uri, test.destination
        if not _REVISION.match(source) or not destination.ip_address or not destination.port:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "A Cloud Run revision source and an IP:port destination.")
        name = f"{request.parent}/connectivityTests/{request.test_id}"
        with self._lock:
            if name in self.tests:
                raise _Abort(grpc.StatusCode.ALREADY_EXISTS, f"Resource '{name}' already exists")
            test.name = name
            address = f"{destination.ip_address}:{destination.port}"
            canned = self.results.get(f"{source.rsplit('/', 1)[-1]} {address}", self.results.get(address))
            test.reachability_details = canned if canned is not None else verdict("UNDETERMINED")
            self.tests[name] = test
            self.created.append(name)
            self.sources.append(source)
        return self._operation(parent["project"], test)

    def _get(self, request: nm.GetConnectivityTestRequest) -> nm.ConnectivityTest:
        with self._lock:
            test = self.tests.get(request.name)
        if test is None:
            raise _not_found(request.name)
        return test

    def _delete(self, request: nm.DeleteConnectivityTestRequest) -> operations_pb2.Operation:
        if not _TEST.match(request.name):
            raise _not_found(request.name)
        with self._lock:
            if self.tests.pop(request.name, None) is None:
                raise _not_found(request.name)
            self.deleted.append(request.name)
        return self._operation(request.name.split("/")[1], empty_pb2.Empty())

    def _operation(self, project: str, result: Any) -> operations_pb2.Operation:
        name = f"projects/{project}/locations/global/operations/operation-{next(self._numbers)}"
        with self._lock:
            self._operations[name] = (result, self.polls)
        metadata = _packed(nm.OperationMetadata(verb="create" if isinstance(result, nm.ConnectivityTest) else "delete"))
        return operations_pb2.Operation(name=name, done=False, metadata=metadata)

    def _get_operation(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
        with self._lock:
            if request.name not in self._operations:
                raise _not_found(request.name)
            result, polls = self._operations[request.name]
            self._operations[request.name] = (result, polls - 1)
        if polls > 0:
            return operations_pb2.Operation(name=request.name, done=False)
        return operations_pb2.Operation(name=request.name, done=True, response=_packed(result))


def _not_found(name: str) -> Exception:
    from .server import _Abort, grpc

    return _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
