"""Fetch services and everything they reference, in a bounded number of concurrent rounds of API calls.

Round 1: the named services (or the region's list). Round 2: revisions, when asked for. Then every
secret (versions, IAM policy), Cloud SQL instance, connector and runtime service account the services reference,
their projects' IAM policies and the services' own, each project's Pub/Sub subscriptions (a listing, of which
those pushing to the services are kept), the Memorystore instances their env names (a listing per region, kept by
host), and the networks, subnets, routers and firewall rules of Direct VPC, all at once. What those resources name
on the services' paths (a connector's network, then the routers and firewall rules of that network: the kinds'
`references_in`) is read in at most `PATH_ROUNDS` more rounds, each with what the one before read, until nothing
new is named.
A failed call is evidence, not an exception: the resource becomes unknown with the API's own words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from google.api_core import exceptions
from google.iam.v1 import iam_policy_pb2
from google.protobuf import json_format

from driftcheck.errors import InputError
from driftcheck.kinds.access import AccessCheck
from driftcheck.kinds.ancestry import FOLDER_GET, MAX_DEPTH
from driftcheck.kinds.logs import parse_key, service_key
from driftcheck.kinds.registry import LIST, Kind, LiveRead, kind_named, kinds, with_snapshot
from driftcheck.kinds.service import cloudrun_v2
from driftcheck.kinds.troubleshooter import TROUBLESHOOT, TROUBLESHOOTER, principal_of
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, Service
from driftcheck.sources.live import logs
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, ApiClients, call_retry
from driftcheck.sources.live.logs import LogQuery
from driftcheck.sources.snapshot_file import ReadBack, load_references

T = TypeVar("T")
Progress = Callable[[str], None]

SERVICE, SECRET, SQL, CONNECTOR, PROJECT_IAM, SERVICE_ACCOUNT = map(
    kind_named, ("service", "secret", "sql_instance", "connector", "project_iam_policy", "service_account")
)
RUN_IAM = kind_named("run_service_iam_policy")
SUBSCRIPTION = kind_named("pubsub_subscription")
NETWORK, SUBNET, ROUTER, FIREWALL, REDIS = map(kind_named, ("network", "subnet", "router", "firewall", "redis"))
ANCESTRY, FOLDER_IAM, ORGANIZATION_IAM = map(
    kind_named, ("project_ancestry", "folder_iam_policy", "organization_iam_policy")
)
# Policy version 3: a conditional grant comes back with its condition (an older version would hide it).
_POLICY_VERSION = 3
# Rounds after the first read of references: connector -> its subnet -> that subnet's network -> nothing new.
PATH_ROUNDS = 3
Calls = dict[tuple[str, str, str], Callable[[], Any]]  # (kind, part, key or parent listed) -> the call
SERVICE_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$")


@dataclass(frozen=True)
class Failure:
    """A call that did not succeed, after retries."""

    code: str
    message: str
    read: LiveRead  # what was read: a denied read says what to grant

    def reason(self) -> str:
        hint = f"; needs {self.read.needs}" if self.code == "PERMISSION_DENIED" else ""
        return f"{self.code}: {self.message}{hint}"


class LiveFetcher:
    def __init__(
        self,
        clients: ApiClients,
        project: str,
        region: str,
        *,
        concurrency: int = 16,
        progress: Progress | None = None,
        pool: ThreadPoolExecutor | None = None,
        answers: Mapping[tuple[str, str, str], Any] | None = None,
    ) -> None:
        """`pool`: one bounded pool shared by the fetchers of many projects, so --concurrency bounds the whole run.
        `answers`: what a bulk read (Cloud Asset Inventory, sources/live/assets.py) answered already, by (kind, part,
        key) as `_calls` names a read: such a read makes no API call, in any round."""
        self.answers = answers or {}
        self.clients = clients
        self.project = project
        self.region = region
        self.owns_pool = pool is None
        self.pool = pool or ThreadPoolExecutor(max_workers=max(1, concurrency))
        self.progress = progress or (lambda _: None)
        self._read_back: ReadBack = {}  # each answer as read into the model, once for every round (`_inventory`)

    def close(self) -> None:
        if self.owns_pool:
            self.pool.shutdown(wait=False, cancel_futures=True)

    # Round 1 ---------------------------------------------------------------------------------------------
    def services(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The named services as v2 REST JSON. A name that does not exist is the user's input error."""
        results = self._parallel(names, lambda name: self._get_service(self._service_path(name)))
        for name, result in results.items():
            if isinstance(result, Failure):
                raise InputError(f"service {name!r} in {self.project}/{self.region}: {result.reason()}")
        return results  # type: ignore[return-value]

    def list_services(self) -> list[dict[str, Any]]:
        parent = f"projects/{self.project}/locations/{self.region}"
        pager = self.clients.services.list_services(parent=parent, retry=call_retry(), timeout=CALL_TIMEOUT_S)
        return [_rest(service) for service in pager]  # the pager follows next_page_token to the end

    def try_list_services(self) -> list[dict[str, Any]] | Failure:
        """The listing, or why it failed: an audit of many projects goes on past one it may not read."""
        return self._call(SERVICE.live_read("list"), self.list_services)

    def revisions(self, wanted: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
        """Several revisions in one concurrent round, in the order asked."""
        results = self._parallel(range(len(wanted)), lambda index: self.revision(*wanted[index]))
        return [results[index] for index in range(len(wanted))]

    def revision(self, service: dict[str, Any], which: str) -> dict[str, Any]:
        """`latest`, `last-ready` or a revision name, as a Service-shaped dict the v2 parser reads."""
        name = {"latest": service.get("latestCreatedRevision"), "last-ready": service.get("latestReadyRevision")}.get(
            which, f"{service['name']}/revisions/{which}"
        )
        if not name:
            raise InputError(f"service {last_segment(service['name'])!r} has no {which} revision")
        try:
            revision = _rest(self.clients.revisions.get_revision(name=name, retry=call_retry(), timeout=CALL_TIMEOUT_S))
        except exceptions.GoogleAPICallError as exc:
            raise InputError(
                f"revision {last_segment(name)}: {_failure(exc, SERVICE.live_read('revision')).reason()}"
            ) from None
        return revision_as_service(service, revision)

    # Last round ------------------------------------------------------------------------------------------
    def referenced(self, services: list[Service]) -> dict[str, Any]:
        """Everything the services reference and what is on their paths, fetched concurrently, in snapshot shape."""
        return self.gather(self.submit_referenced(services), services)

    def gather(self, futures: dict[tuple[str, str, str], Future[Any]], services: list[Service]) -> dict[str, Any]:
        """Wait for the calls `submit_referenced(services)` queued; then read what their results name on the
        services' paths, in at most PATH_ROUNDS more concurrent rounds; every result in snapshot shape, each
        listing kept to what relates to the services."""
        results = self._wait(futures)
        settled = self._settled(results, services)  # kept for the next round, and the last one for the answer
        # What a service names itself was asked for in the first round: later rounds ask only the kinds that follow
        # paths (an audit of thousands of projects spent most of its CPU asking the others again, for nothing new)
        following = [kind for kind in with_snapshot() if kind.follows_paths]
        for _ in range(PATH_ROUNDS):
            calls = self._calls(services, settled[1], done=set(results), asked=following)
            if not calls:
                break
            results.update(self._wait(self._submit(calls)))
            settled = self._settled(results, services)
        return snapshot_parts(settled[0])

    def submit_referenced(self, services: list[Service]) -> dict[tuple[str, str, str], Future[Any]]:
        """Queue the calls for everything the services reference, without waiting: several projects queued one
        after another on a shared pool finish in that order, so the first can be analysed while the rest fetch.
        `gather(futures, services)` then reads what the results name on the services' paths."""
        return self._submit(self._calls(services, Inventory(), done=set()))

    def _submit(self, calls: Calls) -> dict[tuple[str, str, str], Future[Any]]:
        """Each call on the pool, in order; one the bulk read answered is done already (no thread, no wait: an
        audit whose inventory answers every read spends no pool round trip on it)."""
        futures: dict[tuple[str, str, str], Future[Any]] = {}
        for key, call in calls.items():
            if key in self.answers:
                answered: Future[Any] = Future()
                answered.set_result(self.answers[key])
                futures[key] = answered
            else:
                futures[key] = self.pool.submit(call)
        return futures

    def _calls(
        self,
        services: list[Service],
        inventory: Inventory,
        *,
        done: set[tuple[str, str, str]],
        asked: Iterable[Kind] | None = None,
    ) -> Calls:
        """The calls for what the services reference, and what `inventory` (read so far) puts on their paths, that
        are not `done` yet: a get per resource, one paged listing per parent. `asked`: the kinds asked (all)."""
        calls: Calls = {}
        for kind in with_snapshot() if asked is None else asked:
            keys: list[str] | None = None  # only asked of a kind read by key (a listed kind's are not used)
            for read in kind.live_reads:
                make = READS[kind.name, read.part]
                if read.part == LIST:  # one paged listing per parent, of which what relates to the services is kept
                    parents = sorted({p for service in services for p in kind.listed_in(service, inventory)})
                    calls.update({(kind.name, LIST, p): functools.partial(make, self, p) for p in parents})
                    continue
                if keys is None:
                    keys = sorted({key for service in services for key in kind.referenced(service, inventory)})
                calls.update({(kind.name, read.part, key): functools.partial(make, self, key) for key in keys})
        return {key: self._answered(key, call) for key, call in calls.items() if key not in done}

    def _answered(self, key: tuple[str, str, str], call: Callable[[], Any]) -> Callable[[], Any]:
        return functools.partial(_given, self.answers[key]) if key in self.answers else call

    def _wait(self, futures: dict[tuple[str, str, str], Future[Any]]) -> dict[tuple[str, str, str], Any]:
        results = {}
        for key, future in futures.items():
            results[key] = future.result()
            self.progress(str(key))
        return results

    def _settled(
        self, results: dict[tuple[str, str, str], Any], services: list[Service]
    ) -> tuple[dict[tuple[str, str, str], Any], Inventory]:
        """The results with each listing kept to what its kind relates to the services, and the inventory they make.
        What one listing keeps may depend on another's (a Memorystore instance's network decides which firewall
        rules are on the path): kept again until nothing changes."""
        listings = {key: r for key, r in results.items() if key[1] == LIST and not isinstance(r, Failure)}
        kept: dict[tuple[str, str, str], Any] = {key: {} for key in listings}
        named = _kinds_by_name()
        for _ in range(len(listings) + 1):
            inventory = self._inventory({**results, **kept})
            keep = {name: named[name].listed_for(services, inventory) for name, _, _ in listings}
            again = {key: {k: r for k, r in listed.items() if keep[key[0]](r)} for key, listed in listings.items()}
            if again == kept:
                break
            kept = again
        return {**results, **kept}, inventory

    def _inventory(self, results: dict[tuple[str, str, str], Any]) -> Inventory:
        inventory = Inventory()
        parts = {**snapshot_parts(results), "scope": {"project": self.project}}
        load_references(parts, inventory, "live", self._read_back)
        return inventory

    # Calls -----------------------------------------------------------------------------------------------
    def _get_service(self, path: str) -> dict[str, Any] | Failure:
        return self._call(
            SERVICE.live_read("get"),
            lambda: _rest(self.clients.services.get_service(name=path, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _versions(self, secret: str) -> list[dict[str, Any]] | Failure:
        secret_path = self._secret_path(secret)
        return self._call(
            SECRET.live_read("versions"),
            lambda: [
                _rest(v)
                for v in self.clients.secrets.list_secret_versions(
                    parent=secret_path, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            ],
        )

    def _iam(self, secret: str) -> dict[str, Any] | Failure:
        return self._policy(SECRET.live_read("iam"), self.clients.secrets.get_iam_policy, self._secret_path(secret))

    def _sql(self, connection_name: str) -> dict[str, Any] | Failure:
        project, _, instance = connection_name.split(":", 2) if connection_name.count(":") == 2 else ("", "", "")
        if not instance:
            return Failure(
                "INVALID_ARGUMENT", f"{connection_name!r} is not project:region:instance", SQL.live_read("get")
            )
        from google.cloud import sqladmin_v1

        request = sqladmin_v1.SqlInstancesGetRequest(project=project, instance=instance)
        return self._call(
            SQL.live_read("get"),
            lambda: _rest(self.clients.sql.get(request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _connector(self, path: str) -> dict[str, Any] | Failure:
        return self._call(
            CONNECTOR.live_read("get"),
            lambda: _rest(self.clients.connectors.get_connector(name=path, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _project_iam(self, project: str) -> dict[str, Any] | Failure:
        return self._policy(PROJECT_IAM.live_read("get"), self.clients.projects.get_iam_policy, f"projects/{project}")

    def _ancestry(self, project: str) -> list[dict[str, str]] | dict[str, Any] | Failure:
        """The project's parents, from the project up, as `gcloud projects get-ancestors --format=json` writes them:
        Projects.GetProject, then Folders.GetFolder on each folder up to the organization (at most MAX_DEPTH). A
        folder read that fails keeps the walk so far, with the error: {"ancestors": [...], "error": reason}."""
        found = self._call(
            ANCESTRY.live_read("get"),
            lambda: self.clients.projects.get_project(
                name=f"projects/{project}", retry=call_retry(), timeout=CALL_TIMEOUT_S
            ),
        )
        if isinstance(found, Failure):
            return found
        chain = [{"id": project, "type": "project"}]
        parent = str(found.parent)
        for _ in range(MAX_DEPTH):
            kind, _, ident = parent.partition("/")
            if kind == "organizations":
                return [*chain, {"id": ident, "type": "organization"}]
            if kind != "folders" or not ident:  # no parent: a project outside any organization
                return chain
            chain.append({"id": ident, "type": "folder"})
            get_folder = functools.partial(
                self.clients.folders.get_folder, name=parent, retry=call_retry(), timeout=CALL_TIMEOUT_S
            )
            folder = self._call(FOLDER_GET, get_folder)
            if isinstance(folder, Failure):
                return {"ancestors": chain, "error": folder.reason()}
            parent = str(folder.parent)
        return {"ancestors": chain, "error": f"DEPTH: more than {MAX_DEPTH} levels above the project"}

    def _folder_iam(self, name: str) -> dict[str, Any] | Failure:
        """A folder's IAM policy, by `folders/ID`."""
        return self._policy(FOLDER_IAM.live_read("get"), self.clients.folders.get_iam_policy, name)

    def _organization_iam(self, name: str) -> dict[str, Any] | Failure:
        """An organization's IAM policy, by `organizations/ID`."""
        return self._policy(ORGANIZATION_IAM.live_read("get"), self.clients.organizations.get_iam_policy, name)

    def _run_iam(self, service: str) -> dict[str, Any] | Failure:
        """Who may invoke the service: its own IAM policy, by its full name."""
        path = self._service_path(service)
        return self._policy(RUN_IAM.live_read("get"), self.clients.services.get_iam_policy, path)

    def _policy(self, read: LiveRead, get_iam_policy: Callable[..., Any], resource: str) -> dict[str, Any] | Failure:
        """One IAM policy, as JSON; asked for in version 3, so a conditional grant comes back with its condition."""
        request = iam_policy_pb2.GetIamPolicyRequest(resource=resource)
        request.options.requested_policy_version = _POLICY_VERSION
        policy = functools.partial(get_iam_policy, request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S)
        return self._call(read, lambda: json_format.MessageToDict(policy()))

    def _subscriptions(self, project: str) -> dict[str, dict[str, Any]] | Failure:
        """Every Pub/Sub subscription of `projects/P`, by full name: the pager follows next_page_token to the end,
        one paged call per project."""
        return self._call(
            SUBSCRIPTION.live_read(LIST),
            lambda: {
                subscription.name: _rest(subscription)
                for subscription in self.clients.subscriptions.list_subscriptions(
                    project=project, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            },
        )

    def _redis_instances(self, parent: str) -> dict[str, dict[str, Any]] | Failure:
        """Every Memorystore Redis instance of `projects/P/locations/R`, by host (how services name one): one paged
        ListInstances per region."""

        def listed() -> dict[str, dict[str, Any]]:
            pager = self.clients.redis.list_instances(parent=parent, retry=call_retry(), timeout=CALL_TIMEOUT_S)
            return {instance.host or instance.name: _rest(instance) for instance in pager}

        return self._call(REDIS.live_read(LIST), listed)

    # Compute Engine speaks REST only: the same proto-plus messages, the same retries, over HTTP/1.1 ---------------
    def _network(self, name: str) -> dict[str, Any] | Failure:
        """A network by name, in the fetch's project (a Shared VPC host project's is not read from here)."""
        return self._call(
            NETWORK.live_read("get"),
            lambda: _rest(
                self.clients.compute.networks.get(
                    project=self.project, network=name, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            ),
        )

    def _subnet(self, key: str) -> dict[str, Any] | Failure:
        """A subnet by `REGION/NAME` (the subnet kind's key), in the fetch's project."""
        region, _, name = key.rpartition("/")
        if region in ("", "-"):
            return Failure("INVALID_ARGUMENT", f"{key!r} is not REGION/NAME", SUBNET.live_read("get"))
        return self._call(
            SUBNET.live_read("get"),
            lambda: _rest(
                self.clients.compute.subnetworks.get(
                    project=self.project, region=region, subnetwork=name, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            ),
        )

    def _routers(self, parent: str) -> dict[str, dict[str, Any]] | Failure:
        """Every Cloud Router of `projects/P/regions/R`, by `REGION/NAME`: one paged call per region."""
        project, region = parent.split("/")[1], parent.split("/")[3]

        def listed() -> dict[str, dict[str, Any]]:
            pager = self.clients.compute.routers.list(
                project=project, region=region, retry=call_retry(), timeout=CALL_TIMEOUT_S
            )
            return {f"{region}/{router.name}": _rest(router) for router in pager}

        return self._call(ROUTER.live_read(LIST), listed)

    def _firewalls(self, parent: str) -> dict[str, dict[str, Any]] | Failure:
        """Every VPC firewall rule of `projects/P`, by name: one paged call per project."""
        project = parent.split("/")[1]

        def listed() -> dict[str, dict[str, Any]]:
            pager = self.clients.compute.firewalls.list(project=project, retry=call_retry(), timeout=CALL_TIMEOUT_S)
            return {rule.name: _rest(rule) for rule in pager}

        return self._call(FIREWALL.live_read(LIST), listed)

    def _service_account(self, email: str) -> dict[str, Any] | Failure:
        """`projects/-`: the account's own project, whichever it is. NOT_FOUND is stored as the API's answer, and
        read back as an account that does not exist (the kind's `absent_on`)."""
        name = f"projects/-/serviceAccounts/{email}"
        return self._call(
            SERVICE_ACCOUNT.live_read("get"),
            lambda: _rest(self.clients.iam.get_service_account(name=name, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    # With --troubleshoot-iam: one more round, once the last has read what the checks derive from ---------------
    def troubleshoot(self, checks: Iterable[AccessCheck]) -> dict[str, Any]:
        """Policy Troubleshooter's answer to each access check, concurrently, in snapshot shape: {snapshot key:
        {"MEMBER PERMISSION RESOURCE": the v3 answer, or {"error": reason}}}. A member it cannot be asked about (a
        group, allUsers) is not asked: the local answer stands for it."""
        asked = {check.key: check for check in checks if principal_of(check.member)}
        results = self._parallel(sorted(asked), lambda key: self._troubleshoot(asked[key]))
        stored = {key: {"error": r.reason()} if isinstance(r, Failure) else r for key, r in results.items()}
        return {str(TROUBLESHOOTER.snapshot_key): stored}

    def _troubleshoot(self, check: AccessCheck) -> dict[str, Any] | Failure:
        from google.cloud import policytroubleshooter_iam_v3 as v3

        access = v3.AccessTuple(
            principal=principal_of(check.member), full_resource_name=check.resource, permission=check.permission
        )
        request = v3.TroubleshootIamPolicyRequest(access_tuple=access)
        return self._call(
            TROUBLESHOOT,
            lambda: _rest(
                self.clients.troubleshooter.troubleshoot_iam_policy(
                    request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S
                )
            ),
        )

    # Unless --no-logs: one bounded query per service, once the services are known --------------------------------
    def log_entries(self, raw_services: Iterable[dict[str, Any]], query: LogQuery) -> logs.LogRead:
        """Each service's recent warnings, errors and failed requests (sources/live/logs.py), concurrently: by the
        service's full name (`api` in two regions is two services, each with its own sample), its sample of
        LogEntry JSON, or {"error": reason}; and which samples were cut at the limit."""
        services = {self._whose(raw): raw for raw in raw_services}
        start = logs.start_of(query)
        results = self._parallel(sorted(services), lambda key: self._log_sample(key, services[key], start, query))
        stored = {key: {"error": r.reason()} if isinstance(r, Failure) else r.stored() for key, r in results.items()}
        cut = (key for key, r in results.items() if isinstance(r, logs.Sample) and r.truncated)
        return logs.LogRead(stored, tuple(sorted(cut)), start, query.limit)

    def _whose(self, service: dict[str, Any]) -> str:
        """The service's full name, as its sample is keyed (one named short is of the fetcher's project and region)."""
        path = SERVICE_NAME.match(str(service["name"]))
        return path[0] if path else service_key(self.project, self.region, str(service["name"]))

    def _log_sample(self, key: str, service: dict[str, Any], start: str, query: LogQuery) -> logs.Sample | Failure:
        named_project, named_region, name = parse_key(key)
        project, region = named_project or self.project, named_region or self.region
        request = {
            "resource_names": [f"projects/{project}"],
            "filter": logs.log_filter(project, region, name, start),
            "order_by": "timestamp desc",
            "page_size": query.limit,
        }
        return self._call(
            logs.LOG_ENTRIES,
            lambda: logs.sample(
                self.clients.logging.entries.list_log_entries(
                    request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S
                ),
                service.get("latestCreatedRevision"),
                query.limit,
            ),
        )

    def _call(self, read: LiveRead, call: Callable[[], T]) -> T | Failure:
        try:
            return call()
        except exceptions.GoogleAPICallError as exc:
            return _failure(exc, read)
        except exceptions.RetryError as exc:  # retries exhausted: the last cause says why
            cause = exc.cause if isinstance(exc.cause, exceptions.GoogleAPICallError) else None
            return _failure(cause, read) if cause else Failure("RETRIES_EXHAUSTED", str(exc), read)

    def _parallel(self, keys: Iterable[Any], work: Callable[[Any], T]) -> dict[Any, T]:
        keys = list(keys)
        futures = {key: self.pool.submit(work, key) for key in keys}
        results = {}
        for key, future in futures.items():
            results[key] = future.result()
            self.progress(str(key))
        return results

    def _secret_path(self, secret: str) -> str:
        return secret if secret.startswith("projects/") else f"projects/{self.project}/secrets/{secret}"

    def _service_path(self, name: str) -> str:
        return (
            name if name.startswith("projects/") else f"projects/{self.project}/locations/{self.region}/services/{name}"
        )


# How each read a kind declares is made, by (kind, part). tests/kinds/test_registry.py fails when a kind declares a
# read this table does not make.
READS: dict[tuple[str, str], Callable[[LiveFetcher, str], Any]] = {
    (SECRET.name, "versions"): LiveFetcher._versions,
    (SECRET.name, "iam"): LiveFetcher._iam,
    (SQL.name, "get"): LiveFetcher._sql,
    (CONNECTOR.name, "get"): LiveFetcher._connector,
    (PROJECT_IAM.name, "get"): LiveFetcher._project_iam,
    (ANCESTRY.name, "get"): LiveFetcher._ancestry,
    (FOLDER_IAM.name, "get"): LiveFetcher._folder_iam,
    (ORGANIZATION_IAM.name, "get"): LiveFetcher._organization_iam,
    (SERVICE_ACCOUNT.name, "get"): LiveFetcher._service_account,
    (RUN_IAM.name, "get"): LiveFetcher._run_iam,
    (SUBSCRIPTION.name, LIST): LiveFetcher._subscriptions,
    (REDIS.name, LIST): LiveFetcher._redis_instances,
    (NETWORK.name, "get"): LiveFetcher._network,
    (SUBNET.name, "get"): LiveFetcher._subnet,
    (ROUTER.name, LIST): LiveFetcher._routers,
    (FIREWALL.name, LIST): LiveFetcher._firewalls,
}


def _given(answer: T) -> T:
    return answer


def _failure(exc: exceptions.GoogleAPICallError, read: LiveRead) -> Failure:
    """A REST client's error (Compute) names an HTTP status: said as the gRPC code Google maps it to, in the API's
    own words (without the `GET URL: ` google.api_core puts before them)."""
    code = exc.grpc_status_code.name if exc.grpc_status_code is not None else _HTTP_CODES.get(exc.code or 0)
    return Failure(code or type(exc).__name__, _REQUEST.sub("", exc.message or "", count=1) or str(exc), read)


_REQUEST = re.compile(r"^[A-Z]+ https?://\S+: ")
# HTTP statuses whose google.api_core exception carries no gRPC code, as google.rpc.Code maps them
_HTTP_CODES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 409: "ABORTED",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 504: "DEADLINE_EXCEEDED",
}  # fmt: skip


def _rest(message: Any) -> dict[str, Any]:
    """A proto-plus message as the REST API spells it: camelCase, enum names, defaults omitted."""
    result: dict[str, Any] = type(message).to_dict(
        message,
        use_integers_for_enums=False,
        preserving_proto_field_name=False,
        always_print_fields_with_no_presence=False,
    )
    return result


_TEMPLATE_FIELDS = (
    "containers",
    "volumes",
    "vpcAccess",
    "serviceAccount",
    "executionEnvironment",
    "timeout",
    "maxInstanceRequestConcurrency",
    "scaling",
    "sessionAffinity",
    "annotations",
    "labels",
)


def revision_as_service(service: dict[str, Any], revision: dict[str, Any]) -> dict[str, Any]:
    """A revision carries the template fields at its top level; give it a Service's shape so one parser reads both."""
    ready: dict[str, Any] = next((c for c in revision.get("conditions") or () if c.get("type") == "Ready"), {})
    return {
        "name": service["name"],
        "ingress": service.get("ingress", ""),
        "template": {key: revision[key] for key in _TEMPLATE_FIELDS if key in revision}
        | {"revision": last_segment(revision["name"])},
        "terminalCondition": ready,
        "latestCreatedRevision": revision["name"],
        "latestReadyRevision": revision["name"] if ready.get("state") == "CONDITION_SUCCEEDED" else None,
        "urls": service.get("urls", []),
    }


def snapshot_parts(results: dict[tuple[str, str, str], Any]) -> dict[str, Any]:
    """API results keyed by (kind, part, resource), as the snapshot file stores them: a kind read in one call
    stores the answer, one read in parts a map of them; failures as {"error": reason}."""
    parts: dict[str, Any] = {kind.snapshot_key: {} for kind in with_snapshot() if kind.snapshot_key}
    named = _kinds_by_name()
    for (name, part, key), result in results.items():
        kind = named[name]
        value = {"error": result.reason()} if isinstance(result, Failure) else result
        stored = parts[kind.snapshot_key or ""]
        if part == LIST and not isinstance(result, Failure):  # a listing: each resource kept, under its own key
            stored.update(value)
        elif len(kind.live_reads) == 1:
            stored[key] = value
        else:
            stored.setdefault(key, {})[part] = value
    return parts


def _kinds_by_name() -> dict[str, Kind]:
    """Every kind by name, once per use (as `kind_named` finds them, without walking every kind per result)."""
    return {kind.name: kind for kind in kinds()}


def parse_services(raw: list[dict[str, Any]]) -> list[Service]:
    return [cloudrun_v2.parse_service(item, f"live:{item['name']}") for item in raw]
