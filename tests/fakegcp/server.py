"""A local gRPC server that answers the real Google Cloud clients with the contents of a `World`.

It registers the read-only methods driftcheck uses, with `grpc.method_handlers_generic_handler` and the
proto-plus (de)serializers of the installed client libraries, so a client built on
`...GrpcTransport(channel=grpc.insecure_channel(fake.address))` talks real gRPC to it. Any other method (notably
`SecretManagerService/AccessSecretVersion`, which reads a payload) answers UNIMPLEMENTED and is still recorded in
`calls`, so a test can prove it was never called. Compute Engine, which has no gRPC API, is served over REST on the
same port (compute.py: the port's front door passes gRPC connections through to the gRPC server).

    with FakeGcpServer(World.from_folder("fixtures/incident-live"), faults={("GetIamPolicy", "*db-password"):
                       grpc.StatusCode.PERMISSION_DENIED}) as fake:
        client = run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=grpc.insecure_channel(fake.address)))
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
from google import pubsub_v1
from google.cloud import (
    asset_v1,
    iam_admin_v1,
    policytroubleshooter_iam_v3,
    redis_v1,
    resourcemanager_v3,
    run_v2,
    secretmanager_v1,
    sqladmin_v1,
    vpcaccess_v1,
)
from google.cloud.logging_v2 import types as logging_types
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import json_format

from . import assets as fake_assets
from . import logs as fake_logs
from . import reachability as fake_reachability
from .compute import METHODS as COMPUTE_PERMISSIONS
from .compute import FrontDoor
from .world import (
    CONNECTOR_NAME,
    REDIS_NAME,
    REVISION_NAME,
    SECRET_NAME,
    SERVICE_ACCOUNT_NAME,
    SERVICE_NAME,
    VERSION_NAME,
    World,
)

RUN_SERVICES = "google.cloud.run.v2.Services"
RUN_REVISIONS = "google.cloud.run.v2.Revisions"
SECRET_MANAGER = "google.cloud.secretmanager.v1.SecretManagerService"
SQL_INSTANCES = "google.cloud.sql.v1.SqlInstancesService"
VPC_ACCESS = "google.cloud.vpcaccess.v1.VpcAccessService"
PROJECTS = "google.cloud.resourcemanager.v3.Projects"
FOLDERS = "google.cloud.resourcemanager.v3.Folders"
ORGANIZATIONS = "google.cloud.resourcemanager.v3.Organizations"
IAM_ADMIN = "google.iam.admin.v1.IAM"
POLICY_TROUBLESHOOTER = "google.cloud.policytroubleshooter.iam.v3.PolicyTroubleshooter"
PUBSUB_SUBSCRIBER = "google.pubsub.v1.Subscriber"
CLOUD_REDIS = "google.cloud.redis.v1.CloudRedis"
LOGGING = "google.logging.v2.LoggingServiceV2"

# The IAM permission each method needs: an injected PERMISSION_DENIED names it, as the real API does.
PERMISSIONS = {
    "GetService": "run.services.get",
    "ListServices": "run.services.list",
    "GetRevision": "run.revisions.get",
    "ListRevisions": "run.revisions.list",
    "GetSecret": "secretmanager.secrets.get",
    "ListSecrets": "secretmanager.secrets.list",
    "ListSecretVersions": "secretmanager.versions.list",
    "GetSecretVersion": "secretmanager.versions.get",
    "GetIamPolicy": "secretmanager.secrets.getIamPolicy",
    "Get": "cloudsql.instances.get",
    "List": "cloudsql.instances.list",
    "GetConnector": "vpcaccess.connectors.get",
    "ListConnectors": "vpcaccess.connectors.list",
    "GetServiceAccount": "iam.serviceAccounts.get",
    "GetProject": "resourcemanager.projects.get",
    "GetFolder": "resourcemanager.folders.get",
    "ListSubscriptions": "pubsub.subscriptions.list",
    "GetInstance": "redis.instances.get",
    "ListInstances": "redis.instances.list",
    "ListLogEntries": "logging.logEntries.list",
    "ListAssets": fake_assets.PERMISSION,  # Cloud Asset Inventory (assets.py)
    **COMPUTE_PERMISSIONS,  # served over REST (compute.py)
    **fake_reachability.PERMISSIONS,  # Connectivity Tests (reachability.py)
}
# Two services share the short name GetIamPolicy: an injected denial of the full name names the project's permission.
FULL_PERMISSIONS = {
    f"{PROJECTS}/GetIamPolicy": "resourcemanager.projects.getIamPolicy",
    f"{RUN_SERVICES}/GetIamPolicy": "run.services.getIamPolicy",
    f"{FOLDERS}/GetIamPolicy": "resourcemanager.folders.getIamPolicy",
    f"{ORGANIZATIONS}/GetIamPolicy": "resourcemanager.organizations.getIamPolicy",
}
_EMPTY_POLICY_ETAG = base64.b64decode("ACAB")  # what Secret Manager returns for a secret with no bindings
_PAGE_TOKEN = re.compile(r"^page-(\d+)$")
_PARENT = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)$")
_PROJECT = re.compile(r"^projects/(?P<project>[^/]+)$")
_FOLDER = re.compile(r"^folders/\d+$")
_ORGANIZATION = re.compile(r"^organizations/\d+$")


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Fault:
    """One injected outcome: fail with `code` (None: succeed) after sleeping `delay` seconds.

    `message` defaults to one like the real API's (PERMISSION_DENIED names the permission)."""

    code: grpc.StatusCode | None
    message: str | None = None
    delay: float = 0.0


FaultLike: TypeAlias = "Fault | grpc.StatusCode | str | None"
FaultSpec: TypeAlias = "FaultLike | Sequence[FaultLike]"
FaultKey: TypeAlias = "str | tuple[str, str]"


def _fault(value: FaultLike) -> Fault:
    if isinstance(value, Fault):
        return value
    if value is None:
        return Fault(None)
    if isinstance(value, grpc.StatusCode):
        return Fault(value)
    return Fault(grpc.StatusCode[str(value).upper()])


@dataclass
class _Rule:
    method: str  # short name, full "pkg.Service/Method", or "*"
    glob: str  # fnmatch pattern on the resource name ("*": any)
    sequence: tuple[Fault, ...] | None  # consumed per (method, resource name) in order, then success
    permanent: Fault | None


def _rules(faults: Mapping[FaultKey, FaultSpec] | None) -> list[_Rule]:
    rules = []
    for key, spec in (faults or {}).items():
        method, glob = (key, "*") if isinstance(key, str) else key
        if isinstance(spec, (list, tuple)):
            rules.append(_Rule(method, glob, tuple(_fault(v) for v in spec), None))
        else:
            rules.append(_Rule(method, glob, None, _fault(spec)))
    return rules


@dataclass(frozen=True)
class _Method:
    service: str
    name: str
    request: Any
    response: Any
    resource: Callable[[Any], str]  # the request's resource name, as recorded in `calls`
    handle: Callable[[Any], Any]


def _de(message_type: Any) -> Callable[[bytes], Any]:
    return getattr(message_type, "deserialize", None) or message_type.FromString


def _se(message_type: Any) -> Callable[[Any], bytes]:
    return getattr(message_type, "serialize", None) or message_type.SerializeToString


class FakeGcpServer:
    """Serve `world` on 127.0.0.1 (ephemeral port) over plaintext gRPC. Use as a context manager.

    - page_size: the page size of every List method when the request gives none (request page_size wins).
    - latency: seconds every call sleeps before answering (the server has `workers` threads, so calls overlap).
    - faults: {METHOD | (METHOD, GLOB): SPEC}. METHOD is a short name ("GetIamPolicy", "Get" for Cloud SQL), a full
      name ("google.cloud.secretmanager.v1.SecretManagerService/GetIamPolicy") or "*"; GLOB is an fnmatch pattern on
      the resource name recorded in `calls` (default "*"). SPEC is a list/tuple of outcomes returned in order, per
      (method, resource name), before calls succeed; or one outcome returned on every matching call. An outcome is
      a grpc.StatusCode, its name ("UNAVAILABLE"), None (success) or Fault(code, message, delay). Rules are tried in
      order: the first matching permanent rule, or matching sequence not yet exhausted for that (method, resource),
      decides the call; an exhausted sequence lets later rules decide. `inject()` adds rules while serving.

    - port: the port on 127.0.0.1 to listen on (0: a free one).

    Attributes: address ("127.0.0.1:PORT"), port, world, calls [(method short name, resource name)], counts
    (Counter by method), call_count, max_concurrency, in_flight.
    """

    def __init__(
        self,
        world: World,
        *,
        page_size: int = 2,
        latency: float = 0.0,
        faults: Mapping[FaultKey, FaultSpec] | None = None,
        workers: int = 64,
        port: int = 0,
    ) -> None:
        self.world = world
        self._requested_port = port
        self.page_size = page_size
        self.latency = latency
        self.workers = workers
        self.calls: list[tuple[str, str]] = []
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_concurrency = 0
        self._rules = _rules(faults)
        self._consumed: Counter[tuple[int, str, str]] = Counter()
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._front: FrontDoor | None = None
        self.grpc_port = 0
        self._channels: list[grpc.Channel] = []
        self.port = 0
        self.log_requests: list[Any] = []  # every ListLogEntries request, as sent (filter, order, page size)
        self.log_page_limit = 1000
        self.reachability = fake_reachability.Reachability()  # Connectivity Tests: canned results, calls
        # Cloud Asset Inventory (assets.py): every asset's update_time; asset types answered INVALID_ARGUMENT
        self.asset_update_time = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.UTC)
        self.unsupported_asset_types: set[str] = set()
        self._asset_lists: dict[tuple[Any, ...], list[Any]] = {}  # built on a listing's first page, read by the rest
        self._indexed: set[tuple[Any, ...]] = set()  # listings built ahead (index_assets): not built again

    # Lifecycle -----------------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        if not self.port:
            raise RuntimeError("the fake server is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def start(self) -> FakeGcpServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fakegcp"))
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for method in self._methods():
            by_service.setdefault(method.service, {})[method.name] = grpc.unary_unary_rpc_method_handler(
                self._wrap(method), request_deserializer=_de(method.request), response_serializer=_se(method.response)
            )
        handlers = [grpc.method_handlers_generic_handler(s, table) for s, table in by_service.items()]
        server.add_generic_rpc_handlers((*handlers, _Unimplemented(self)))
        # gRPC on an internal port; the public one is the front door's, which serves Compute's REST API itself and
        # passes gRPC connections through (compute.py): one address for both, as --endpoint is
        self.grpc_port = server.add_insecure_port("127.0.0.1:0")
        try:
            front = FrontDoor(self, self.grpc_port, self._requested_port)
        except OSError:
            raise RuntimeError(f"could not bind 127.0.0.1:{self._requested_port}") from None
        server.start()
        self._server, self._front = server, front.start()
        self.port = front.port
        return self

    def stop(self) -> None:
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        if self._front is not None:
            self._front.stop()
            self._front = None
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    def __enter__(self) -> FakeGcpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def channel(self) -> grpc.Channel:
        """A plaintext channel to the server, closed when the server stops."""
        channel = grpc.insecure_channel(self.address)
        self._channels.append(channel)
        return channel

    def inject(self, method: str, glob: str = "*", spec: FaultSpec = grpc.StatusCode.UNAVAILABLE) -> None:
        """Add a fault rule while serving (it goes after the rules given to the constructor)."""
        with self._lock:
            self._rules.extend(_rules({(method, glob): spec}))

    def called(self, method: str) -> list[str]:
        """The resource names `method` (short name) was called with, in order."""
        return [name for m, name in list(self.calls) if m == method]

    # Call accounting and faults ----------------------------------------------------------------------------
    def _record(self, method: str, name: str) -> None:
        with self._lock:
            self.calls.append((method, name))
            self.counts[method] += 1

    def _wrap(self, method: _Method) -> Callable[[Any, grpc.ServicerContext], Any]:
        full = f"{method.service}/{method.name}"

        def handler(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                name = method.resource(request)
            except Exception:
                name = ""
            self._record(method.name, name)
            with self._lock:
                self.in_flight += 1
                self.max_concurrency = max(self.max_concurrency, self.in_flight)
            try:
                if self.latency:
                    time.sleep(self.latency)
                fault = self._fault_for(method.name, full, name)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.code is not None:
                    context.abort(fault.code, fault.message or _message(fault.code, method.name, name, full))
                try:
                    return method.handle(request)
                except _Abort as abort:
                    context.abort(abort.code, abort.message)
            finally:
                with self._lock:
                    self.in_flight -= 1

        return handler

    def _fault_for(self, short: str, full: str, name: str) -> Fault | None:
        canonical = self.world.canonical(name)
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.method not in ("*", short, full):
                    continue
                if not (fnmatch.fnmatchcase(name, rule.glob) or fnmatch.fnmatchcase(canonical, rule.glob)):
                    continue
                if rule.permanent is not None:
                    return rule.permanent
                assert rule.sequence is not None
                key = (index, short, name)
                position = self._consumed[key]
                if position < len(rule.sequence):
                    self._consumed[key] += 1
                    return rule.sequence[position]
                # exhausted for this resource: the later rules decide
        return None

    # The methods ---------------------------------------------------------------------------------------------
    def _methods(self) -> list[_Method]:
        w = self
        return [
            _Method(RUN_SERVICES, "GetService", run_v2.GetServiceRequest, run_v2.Service, _name, w._get_service),
            _Method(
                RUN_SERVICES,
                "ListServices",
                run_v2.ListServicesRequest,
                run_v2.ListServicesResponse,
                _parent,
                w._list_services,
            ),
            _Method(
                RUN_SERVICES,
                "GetIamPolicy",
                iam_policy_pb2.GetIamPolicyRequest,
                policy_pb2.Policy,
                lambda r: r.resource,
                w._get_run_iam_policy,
            ),
            _Method(RUN_REVISIONS, "GetRevision", run_v2.GetRevisionRequest, run_v2.Revision, _name, w._get_revision),
            _Method(
                RUN_REVISIONS,
                "ListRevisions",
                run_v2.ListRevisionsRequest,
                run_v2.ListRevisionsResponse,
                _parent,
                w._list_revisions,
            ),
            _Method(
                SECRET_MANAGER,
                "GetSecret",
                secretmanager_v1.GetSecretRequest,
                secretmanager_v1.Secret,
                _name,
                w._get_secret,
            ),
            _Method(
                SECRET_MANAGER,
                "ListSecrets",
                secretmanager_v1.ListSecretsRequest,
                secretmanager_v1.ListSecretsResponse,
                _parent,
                w._list_secrets,
            ),
            _Method(
                SECRET_MANAGER,
                "ListSecretVersions",
                secretmanager_v1.ListSecretVersionsRequest,
                secretmanager_v1.ListSecretVersionsResponse,
                _parent,
                w._list_secret_versions,
            ),
            _Method(
                SECRET_MANAGER,
                "GetSecretVersion",
                secretmanager_v1.GetSecretVersionRequest,
                secretmanager_v1.SecretVersion,
                _name,
                w._get_secret_version,
            ),
            _Method(
                SECRET_MANAGER,
                "GetIamPolicy",
                iam_policy_pb2.GetIamPolicyRequest,
                policy_pb2.Policy,
                lambda r: r.resource,
                w._get_iam_policy,
            ),
            _Method(
                PROJECTS,
                "GetIamPolicy",
                iam_policy_pb2.GetIamPolicyRequest,
                policy_pb2.Policy,
                lambda r: r.resource,
                w._get_project_iam_policy,
            ),
            _Method(
                PROJECTS,
                "GetProject",
                resourcemanager_v3.GetProjectRequest,
                resourcemanager_v3.Project,
                _name,
                w._get_project,
            ),
            _Method(
                FOLDERS,
                "GetFolder",
                resourcemanager_v3.GetFolderRequest,
                resourcemanager_v3.Folder,
                _name,
                w._get_folder,
            ),
            _Method(
                FOLDERS,
                "GetIamPolicy",
                iam_policy_pb2.GetIamPolicyRequest,
                policy_pb2.Policy,
                lambda r: r.resource,
                w._get_folder_iam_policy,
            ),
            _Method(
                ORGANIZATIONS,
                "GetIamPolicy",
                iam_policy_pb2.GetIamPolicyRequest,
                policy_pb2.Policy,
                lambda r: r.resource,
                w._get_organization_iam_policy,
            ),
            _Method(
                POLICY_TROUBLESHOOTER,
                "TroubleshootIamPolicy",
                policytroubleshooter_iam_v3.TroubleshootIamPolicyRequest,
                policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse,
                _access_tuple,
                w._troubleshoot_iam_policy,
            ),
            _Method(
                IAM_ADMIN,
                "GetServiceAccount",
                iam_admin_v1.GetServiceAccountRequest,
                iam_admin_v1.ServiceAccount,
                lambda r: r.name,
                w._get_service_account,
            ),
            _Method(
                SQL_INSTANCES,
                "Get",
                sqladmin_v1.SqlInstancesGetRequest,
                sqladmin_v1.DatabaseInstance,
                lambda r: f"projects/{r.project}/instances/{r.instance}",
                w._sql_get,
            ),
            _Method(
                SQL_INSTANCES,
                "List",
                sqladmin_v1.SqlInstancesListRequest,
                sqladmin_v1.InstancesListResponse,
                lambda r: f"projects/{r.project}",
                w._sql_list,
            ),
            _Method(
                VPC_ACCESS,
                "GetConnector",
                vpcaccess_v1.GetConnectorRequest,
                vpcaccess_v1.Connector,
                _name,
                w._get_connector,
            ),
            _Method(
                VPC_ACCESS,
                "ListConnectors",
                vpcaccess_v1.ListConnectorsRequest,
                vpcaccess_v1.ListConnectorsResponse,
                _parent,
                w._list_connectors,
            ),
            _Method(CLOUD_REDIS, "GetInstance", redis_v1.GetInstanceRequest, redis_v1.Instance, _name, w._get_redis),
            _Method(
                CLOUD_REDIS,
                "ListInstances",
                redis_v1.ListInstancesRequest,
                redis_v1.ListInstancesResponse,
                _parent,
                w._list_redis,
            ),
            _Method(
                LOGGING,
                "ListLogEntries",
                logging_types.ListLogEntriesRequest,
                logging_types.ListLogEntriesResponse,
                lambda r: ",".join(r.resource_names),
                w._list_log_entries,
            ),
            _Method(
                PUBSUB_SUBSCRIBER,
                "ListSubscriptions",
                pubsub_v1.ListSubscriptionsRequest,
                pubsub_v1.ListSubscriptionsResponse,
                lambda r: r.project,
                w._list_subscriptions,
            ),
            _Method(
                fake_assets.ASSET_SERVICE,
                "ListAssets",
                asset_v1.ListAssetsRequest,
                asset_v1.ListAssetsResponse,
                _parent,
                w._list_assets,
            ),
            *(_Method(*method) for method in self.reachability.methods()),
        ]

    # Cloud Asset Inventory: ListAssets, paged (page_size from the request, else the server's); the list is built from
    # the world on a listing's first page and kept for its next pages, so a page costs what the real API's does
    def _list_assets(self, request: asset_v1.ListAssetsRequest) -> asset_v1.ListAssetsResponse:
        missing = sorted(set(request.asset_types) & self.unsupported_asset_types)
        if missing:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Asset type {missing[0]} is not supported.")
        key = (request.parent, tuple(request.asset_types), int(request.content_type))
        try:
            if key not in self._indexed and (not request.page_token or key not in self._asset_lists):
                self._asset_lists[key] = fake_assets.build(self.world, request, self.asset_update_time)
        except fake_assets.AssetError as exc:
            raise _Abort(exc.code, exc.message) from None
        page, token = self._page(self._asset_lists[key], request.page_size, request.page_token)
        response = fake_assets.page(page, token)  # the page's assets are built now, not all on the first page
        response.read_time = datetime.datetime.now(datetime.UTC)
        return response

    def index_assets(self, listings: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Build the assets of each (parent, content type name, asset types) listing now, as the real inventory
        answers from an index it built before the call: a benchmark then times the client, not the fake's
        conversion of the world into assets. The world must not change afterwards (the listings are kept)."""
        held = fake_assets.holdings(self.world)
        for parent, content, asset_types in listings:
            request = asset_v1.ListAssetsRequest(
                parent=parent, asset_types=list(asset_types), content_type=getattr(asset_v1.ContentType, content)
            )
            key = (request.parent, tuple(request.asset_types), int(request.content_type))
            made = fake_assets.build(self.world, request, self.asset_update_time, held)
            self._asset_lists[key] = [fake_assets.given(make()) for make in made]
            self._indexed.add(key)

    def _page(self, items: list[Any], page_size: int, page_token: str) -> tuple[list[Any], str]:
        size = page_size if page_size > 0 else self.page_size
        start = 0
        if page_token:
            match = _PAGE_TOKEN.match(page_token)
            if not match:
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid page token: {page_token!r}.")
            start = int(match[1])
        end = start + max(1, size)
        return items[start:end], (f"page-{end}" if end < len(items) else "")

    def _find(self, mapping: Mapping[str, Any], name: str) -> Any:
        if name in mapping:
            return mapping[name]
        canonical = self.world.canonical(name)
        return next((value for key, value in mapping.items() if self.world.canonical(key) == canonical), None)

    # Cloud Run
    def _get_service(self, request: run_v2.GetServiceRequest) -> run_v2.Service:
        match = _matched(SERVICE_NAME, request.name, "service name")
        service = self._find(self.world.services, request.name)
        if service is None:
            raise _not_found_run(match["service"], "SERVICE", match["region"], match["project"])
        return service

    def _get_run_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        """Who may invoke a service: one the world holds no policy for has none (only the project's roles apply)."""
        match = _matched(SERVICE_NAME, request.resource, "resource")
        if self._find(self.world.services, request.resource) is None:
            raise _not_found_run(match["service"], "SERVICE", match["region"], match["project"])
        policy = self.world.run_iam_policy(request.resource)
        return policy if policy is not None else policy_pb2.Policy(etag=_EMPTY_POLICY_ETAG)

    def _list_services(self, request: run_v2.ListServicesRequest) -> run_v2.ListServicesResponse:
        match = _matched(_PARENT, request.parent, "parent")
        if match["region"] == "-":
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, 'The location cannot be the "-" wildcard.')
        prefix = self.world.canonical(request.parent) + "/services/"
        items = [s for n, s in sorted(self.world.services.items()) if self.world.canonical(n).startswith(prefix)]
        page, token = self._page(items, request.page_size, request.page_token)
        return run_v2.ListServicesResponse(services=page, next_page_token=token)

    def _get_revision(self, request: run_v2.GetRevisionRequest) -> run_v2.Revision:
        match = _matched(REVISION_NAME, request.name, "revision name")
        revision = self._find(self.world.revisions, request.name)
        if revision is None:
            raise _not_found_run(match["revision"], "REVISION", match["region"], match["project"])
        return revision

    def _list_revisions(self, request: run_v2.ListRevisionsRequest) -> run_v2.ListRevisionsResponse:
        match = _matched(SERVICE_NAME, request.parent, "parent")
        if self._find(self.world.services, request.parent) is None:
            raise _not_found_run(match["service"], "SERVICE", match["region"], match["project"])
        prefix = self.world.canonical(request.parent) + "/revisions/"
        items = [r for n, r in self.world.revisions.items() if self.world.canonical(n).startswith(prefix)]
        items.sort(key=lambda r: (r.generation, r.name), reverse=True)  # newest first, as the API lists them
        page, token = self._page(items, request.page_size, request.page_token)
        return run_v2.ListRevisionsResponse(revisions=page, next_page_token=token)

    # Secret Manager: secrets are matched on their id, whatever project (id or number) the request names
    def _secret(self, name: str) -> secretmanager_v1.Secret:
        match = _matched(SECRET_NAME, name, "secret name")
        secret = self.world.secrets.get(match["secret"])
        if secret is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Secret [{name}] not found.")
        return secret

    def _get_secret(self, request: secretmanager_v1.GetSecretRequest) -> secretmanager_v1.Secret:
        return self._secret(request.name)

    def _list_secrets(self, request: secretmanager_v1.ListSecretsRequest) -> secretmanager_v1.ListSecretsResponse:
        match = _matched(_PROJECT, request.parent, "parent")
        if request.filter:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "The fake Secret Manager does not filter secrets.")
        project = self.world.project_id(match["project"])
        items = [
            s for _, s in sorted(self.world.secrets.items()) if self.world.project_id(s.name.split("/")[1]) == project
        ]
        page, token = self._page(items, request.page_size, request.page_token)
        return secretmanager_v1.ListSecretsResponse(secrets=page, next_page_token=token, total_size=len(items))

    def _list_secret_versions(
        self, request: secretmanager_v1.ListSecretVersionsRequest
    ) -> secretmanager_v1.ListSecretVersionsResponse:
        secret_id = self._secret(request.parent).name.rsplit("/", 1)[-1]
        items = [v for v in self.world.versions_newest_first(secret_id) if _state_filter(request.filter, v)]
        page, token = self._page(items, request.page_size, request.page_token)
        return secretmanager_v1.ListSecretVersionsResponse(versions=page, next_page_token=token, total_size=len(items))

    def _get_secret_version(self, request: secretmanager_v1.GetSecretVersionRequest) -> secretmanager_v1.SecretVersion:
        match = _matched(VERSION_NAME, request.name, "secret version name")
        self._secret(f"projects/{match['project']}/secrets/{match['secret']}")
        versions = self.world.versions_newest_first(match["secret"])
        wanted = (
            versions[:1]
            if match["version"] == "latest"
            else [v for v in versions if v.name.rsplit("/", 1)[-1] == match["version"]]
        )
        if not wanted:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{request.name}] not found.")
        return wanted[0]

    def _get_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        secret = self._secret(request.resource)
        policy = self.world.iam_policies.get(secret.name.rsplit("/", 1)[-1])
        return policy if policy is not None else policy_pb2.Policy(etag=_EMPTY_POLICY_ETAG)

    def _get_project_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        """A project the world holds no policy for has one with no bindings (the real API denies an unknown one)."""
        match = _matched(_PROJECT, request.resource, "resource")
        policy = self.world.project_iam_policies.get(self.world.project_id(match["project"]))
        return policy if policy is not None else policy_pb2.Policy(version=1, etag=_EMPTY_POLICY_ETAG)

    # Resource Manager: the hierarchy (World.parents) and folder and organization policies
    def _get_project(self, request: resourcemanager_v3.GetProjectRequest) -> resourcemanager_v3.Project:
        """A project with its parent; one the world holds no hierarchy for has none (no organization)."""
        match = _matched(_PROJECT, request.name, "name")
        project = self.world.project_id(match["project"])
        parent = self.world.parents.get(f"projects/{project}", "")
        active = resourcemanager_v3.Project.State.ACTIVE
        return resourcemanager_v3.Project(name=f"projects/{project}", project_id=project, parent=parent, state=active)

    def _get_folder(self, request: resourcemanager_v3.GetFolderRequest) -> resourcemanager_v3.Folder:
        """A folder the world's hierarchy names, with its parent; any other is denied, as the real API answers."""
        _matched(_FOLDER, request.name, "name")
        if request.name not in self.world.parents:
            denied = grpc.StatusCode.PERMISSION_DENIED
            raise _Abort(denied, _message(denied, "GetFolder", request.name))
        return resourcemanager_v3.Folder(name=request.name, parent=self.world.parents[request.name])

    def _get_folder_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        _matched(_FOLDER, request.resource, "resource")
        policy = self.world.folder_iam_policies.get(request.resource)
        return policy if policy is not None else policy_pb2.Policy(version=1, etag=_EMPTY_POLICY_ETAG)

    def _get_organization_iam_policy(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        _matched(_ORGANIZATION, request.resource, "resource")
        policy = self.world.organization_iam_policies.get(request.resource)
        return policy if policy is not None else policy_pb2.Policy(version=1, etag=_EMPTY_POLICY_ETAG)

    # Policy Troubleshooter (deny with faults={"TroubleshootIamPolicy": "PERMISSION_DENIED"})
    def _troubleshoot_iam_policy(
        self, request: policytroubleshooter_iam_v3.TroubleshootIamPolicyRequest
    ) -> policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse:
        """The world's canned answer for the access tuple; UNKNOWN_INFO for any other, echoing the tuple asked, as
        the real API answers a caller who may not read every policy involved."""
        asked = request.access_tuple
        if not (asked.principal and asked.permission and asked.full_resource_name):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "The access tuple needs principal, resource and permission.")
        answer = self.world.troubleshooter_answers.get((asked.principal, asked.permission, asked.full_resource_name))
        if answer is not None:
            return answer
        v3 = policytroubleshooter_iam_v3
        unknown = v3.TroubleshootIamPolicyResponse.OverallAccessState.UNKNOWN_INFO
        return v3.TroubleshootIamPolicyResponse(
            overall_access_state=unknown,
            access_tuple=v3.AccessTuple(
                principal=asked.principal, full_resource_name=asked.full_resource_name, permission=asked.permission
            ),
            allow_policy_explanation=v3.AllowPolicyExplanation(
                allow_access_state=v3.AllowAccessState.ALLOW_ACCESS_STATE_UNKNOWN_INFO
            ),
            deny_policy_explanation=v3.DenyPolicyExplanation(
                deny_access_state=v3.DenyAccessState.DENY_ACCESS_STATE_UNKNOWN_INFO
            ),
        )

    # IAM: service accounts
    def _get_service_account(self, request: iam_admin_v1.GetServiceAccountRequest) -> iam_admin_v1.ServiceAccount:
        """`projects/-/serviceAccounts/EMAIL` (or the account's project); one the world does not hold is deleted or
        was never created, and the real API says so in these words."""
        match = _matched(SERVICE_ACCOUNT_NAME, request.name, "name")
        account = self.world.service_accounts.get(match["account"])
        if account is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Unknown service account {match['account']}")
        return account

    # Cloud SQL
    def _sql_get(self, request: sqladmin_v1.SqlInstancesGetRequest) -> sqladmin_v1.DatabaseInstance:
        if not request.project or not request.instance:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Missing parameter: project and instance are required.")
        instance = self.world.sql_instances.get((self.world.project_id(request.project), request.instance))
        if instance is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, "The Cloud SQL instance does not exist.")
        return instance

    def _sql_list(self, request: sqladmin_v1.SqlInstancesListRequest) -> sqladmin_v1.InstancesListResponse:
        if not request.project:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Missing parameter: project is required.")
        if request.filter:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "The fake Cloud SQL Admin API does not filter instances.")
        project = self.world.project_id(request.project)
        items = [i for (p, _), i in sorted(self.world.sql_instances.items()) if p == project]
        page, token = self._page(items, request.max_results, request.page_token)
        return sqladmin_v1.InstancesListResponse(kind="sql#instancesList", items=page, next_page_token=token)

    # Serverless VPC Access
    def _get_connector(self, request: vpcaccess_v1.GetConnectorRequest) -> vpcaccess_v1.Connector:
        _matched(CONNECTOR_NAME, request.name, "connector name")
        connector = self._find(self.world.connectors, request.name)
        if connector is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name}' was not found")
        return connector

    def _list_connectors(self, request: vpcaccess_v1.ListConnectorsRequest) -> vpcaccess_v1.ListConnectorsResponse:
        _matched(_PARENT, request.parent, "parent")
        prefix = self.world.canonical(request.parent) + "/connectors/"
        items = [c for n, c in sorted(self.world.connectors.items()) if self.world.canonical(n).startswith(prefix)]
        page, token = self._page(items, request.page_size, request.page_token)
        return vpcaccess_v1.ListConnectorsResponse(connectors=page, next_page_token=token)

    # Pub/Sub: a project's subscriptions, by name (deny with faults={("ListSubscriptions", "projects/P"): ...})
    def _list_subscriptions(self, request: pubsub_v1.ListSubscriptionsRequest) -> pubsub_v1.ListSubscriptionsResponse:
        match = _matched(_PROJECT, request.project, "project")
        project = self.world.project_id(match["project"])
        items = [
            s for n, s in sorted(self.world.subscriptions.items()) if self.world.project_id(n.split("/")[1]) == project
        ]
        page, token = self._page(items, request.page_size, request.page_token)
        return pubsub_v1.ListSubscriptionsResponse(subscriptions=page, next_page_token=token)

    # Cloud Logging: the world's entries the filter selects (logs.py), in the order asked, paged; every request is
    # kept in `log_requests`. A page holds at most `log_page_limit` entries (the real API's 1000; lower it to see
    # the short pages the real API may answer with)
    def _list_log_entries(self, request: logging_types.ListLogEntriesRequest) -> logging_types.ListLogEntriesResponse:
        with self._lock:
            self.log_requests.append(request)
        entries = self.world.log_entries
        as_json = [json_format.MessageToDict(logging_types.LogEntry.pb(entry)) for entry in entries]
        try:
            chosen = fake_logs.selected(as_json, list(request.resource_names), request.filter, request.order_by)
        except fake_logs.FilterError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        size = min(request.page_size or self.page_size, self.log_page_limit)
        page, token = self._page([entries[i] for i in chosen], size, request.page_token)
        return logging_types.ListLogEntriesResponse(entries=page, next_page_token=token)

    # Memorystore for Redis: instances by full name, listed per region ("locations/-" lists every region)
    def _get_redis(self, request: redis_v1.GetInstanceRequest) -> redis_v1.Instance:
        _matched(REDIS_NAME, request.name, "instance name")
        instance = self._find(self.world.redis_instances, request.name)
        if instance is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name}' was not found")
        return instance

    def _list_redis(self, request: redis_v1.ListInstancesRequest) -> redis_v1.ListInstancesResponse:
        match = _matched(_PARENT, request.parent, "parent")
        project, region = self.world.project_id(match["project"]), match["region"]
        items = [
            i
            for n, i in sorted(self.world.redis_instances.items())
            if (found := REDIS_NAME.match(self.world.canonical(n)))
            and found["project"] == project
            and region in ("-", found["region"])
        ]
        page, token = self._page(items, request.page_size, request.page_token)
        return redis_v1.ListInstancesResponse(instances=page, next_page_token=token)


class _Unimplemented(grpc.GenericRpcHandler):
    """Last handler: records a method the fake does not serve (then gRPC answers UNIMPLEMENTED)."""

    def __init__(self, fake: FakeGcpServer) -> None:
        self.fake = fake

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> None:
        method = str(handler_call_details.method)
        params: dict[str, list[str]] = {}
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "x-goog-request-params":
                params = urllib.parse.parse_qs(str(value))
        name = next((params[k][0] for k in ("name", "resource", "parent") if k in params), "")
        self.fake._record(method.rsplit("/", 1)[-1], name)
        return None


def _name(request: Any) -> str:
    return str(request.name)


def _access_tuple(request: Any) -> str:
    """A troubleshooter call, recorded as "PRINCIPAL PERMISSION RESOURCE" (a fault's glob may match the resource)."""
    asked = request.access_tuple
    return f"{asked.principal} {asked.permission} {asked.full_resource_name}"


def _parent(request: Any) -> str:
    return str(request.parent)


def _matched(pattern: re.Pattern[str], value: str, what: str) -> re.Match[str]:
    match = pattern.match(value)
    if not match:
        raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid {what}: {value!r}.")
    return match


def _not_found_run(name: str, kind: str, region: str, project: str) -> _Abort:
    return _Abort(
        grpc.StatusCode.NOT_FOUND,
        f"Resource '{name}' of kind '{kind}' in region '{region}' in project '{project}' does not exist.",
    )


def _state_filter(expression: str, version: secretmanager_v1.SecretVersion) -> bool:
    """The filters a fetcher may use on versions: "", "state:ENABLED", "NOT state:DESTROYED"."""
    expression = expression.strip()
    if not expression:
        return True
    match = re.fullmatch(r"(NOT\s+)?state\s*[:=]\s*([A-Z_]+)", expression)
    if not match:
        raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"The fake Secret Manager cannot filter on {expression!r}.")
    return (version.state.name == match[2]) != bool(match[1])


def _message(code: grpc.StatusCode, method: str, name: str, full: str = "") -> str:
    if code == grpc.StatusCode.PERMISSION_DENIED:
        if method == "TroubleshootIamPolicy":  # it needs no permission of its own: what Google answers as a rule
            return "The caller does not have permission"
        permission = FULL_PERMISSIONS.get(full) or PERMISSIONS.get(method, method)
        return f"Permission '{permission}' denied on resource '{name}' (or it may not exist)."
    if code == grpc.StatusCode.UNAVAILABLE:
        return "The service is currently unavailable."
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return f"Quota exceeded for quota metric 'Read requests' (injected on {method})."
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "Deadline exceeded."
    if code == grpc.StatusCode.NOT_FOUND:
        return f"Resource '{name}' was not found."
    return f"Injected {code.name} on {method} {name}."
