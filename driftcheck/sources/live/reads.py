"""One read per API call a kind declares, and `READS`, the table that maps (kind, part) to its read."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from google.api_core import exceptions
from google.iam.v1 import iam_policy_pb2
from google.protobuf import json_format

from driftcheck.kinds.ancestry import FOLDER_GET, MAX_DEPTH
from driftcheck.kinds.registry import LIST, LiveRead, kind_named
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, ApiClients, call_retry
from driftcheck.sources.live.results import Failure, failure, rest

T = TypeVar("T")

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


class ApiReads:
    """The reads of `LiveFetcher` (its base): one method per API read, each a failure as evidence, never raised."""

    clients: ApiClients
    project: str
    region: str

    def _get_service(self, path: str) -> dict[str, Any] | Failure:
        return self._call(
            SERVICE.live_read("get"),
            lambda: rest(self.clients.services.get_service(name=path, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _versions(self, secret: str) -> list[dict[str, Any]] | Failure:
        secret_path = self._secret_path(secret)
        return self._call(
            SECRET.live_read("versions"),
            lambda: [
                rest(v)
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
            lambda: rest(self.clients.sql.get(request=request, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _connector(self, path: str) -> dict[str, Any] | Failure:
        return self._call(
            CONNECTOR.live_read("get"),
            lambda: rest(self.clients.connectors.get_connector(name=path, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
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
        """Who may invoke the service: its own IAM policy, by its full name (the kind's key: the service's own
        region, whichever the fetcher's is; a short name is of the fetcher's project and region)."""
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
                subscription.name: rest(subscription)
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
            return {instance.host or instance.name: rest(instance) for instance in pager}

        return self._call(REDIS.live_read(LIST), listed)

    # Compute Engine speaks REST only: the same proto-plus messages, the same retries, over HTTP/1.1 ---------------
    def _network(self, name: str) -> dict[str, Any] | Failure:
        """A network by name, in the fetch's project (a Shared VPC host project's is not read from here)."""
        return self._call(
            NETWORK.live_read("get"),
            lambda: rest(
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
            lambda: rest(
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
            return {f"{region}/{router.name}": rest(router) for router in pager}

        return self._call(ROUTER.live_read(LIST), listed)

    def _firewalls(self, parent: str) -> dict[str, dict[str, Any]] | Failure:
        """Every VPC firewall rule of `projects/P`, by name: one paged call per project."""
        project = parent.split("/")[1]

        def listed() -> dict[str, dict[str, Any]]:
            pager = self.clients.compute.firewalls.list(project=project, retry=call_retry(), timeout=CALL_TIMEOUT_S)
            return {rule.name: rest(rule) for rule in pager}

        return self._call(FIREWALL.live_read(LIST), listed)

    def _service_account(self, email: str) -> dict[str, Any] | Failure:
        """`projects/-`: the account's own project, whichever it is. NOT_FOUND is stored as the API's answer, and
        read back as an account that does not exist (the kind's `absent_on`)."""
        name = f"projects/-/serviceAccounts/{email}"
        return self._call(
            SERVICE_ACCOUNT.live_read("get"),
            lambda: rest(self.clients.iam.get_service_account(name=name, retry=call_retry(), timeout=CALL_TIMEOUT_S)),
        )

    def _call(self, read: LiveRead, call: Callable[[], T]) -> T | Failure:
        try:
            return call()
        except exceptions.GoogleAPICallError as exc:
            return failure(exc, read)
        except exceptions.RetryError as exc:  # retries exhausted: the last cause says why
            cause = exc.cause if isinstance(exc.cause, exceptions.GoogleAPICallError) else None
            return failure(cause, read) if cause else Failure("RETRIES_EXHAUSTED", str(exc), read)

    def _secret_path(self, secret: str) -> str:
        return secret if secret.startswith("projects/") else f"projects/{self.project}/secrets/{secret}"

    def _service_path(self, name: str) -> str:
        return (
            name if name.startswith("projects/") else f"projects/{self.project}/locations/{self.region}/services/{name}"
        )


# How each read a kind declares is made, by (kind, part): the one place a new kind's live read plugs in.
# tests/kinds/test_registry.py fails when a kind declares a read this table does not make.
READS: dict[tuple[str, str], Callable[[ApiReads, str], Any]] = {
    (SECRET.name, "versions"): ApiReads._versions,
    (SECRET.name, "iam"): ApiReads._iam,
    (SQL.name, "get"): ApiReads._sql,
    (CONNECTOR.name, "get"): ApiReads._connector,
    (PROJECT_IAM.name, "get"): ApiReads._project_iam,
    (ANCESTRY.name, "get"): ApiReads._ancestry,
    (FOLDER_IAM.name, "get"): ApiReads._folder_iam,
    (ORGANIZATION_IAM.name, "get"): ApiReads._organization_iam,
    (SERVICE_ACCOUNT.name, "get"): ApiReads._service_account,
    (RUN_IAM.name, "get"): ApiReads._run_iam,
    (SUBSCRIPTION.name, LIST): ApiReads._subscriptions,
    (REDIS.name, LIST): ApiReads._redis_instances,
    (NETWORK.name, "get"): ApiReads._network,
    (SUBNET.name, "get"): ApiReads._subnet,
    (ROUTER.name, LIST): ApiReads._routers,
    (FIREWALL.name, LIST): ApiReads._firewalls,
}
