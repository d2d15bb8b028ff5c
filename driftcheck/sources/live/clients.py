"""The official API clients, built once per run: Application Default Credentials, or an endpoint override.

`--endpoint HOST:PORT` (or DRIFTCHECK_ENDPOINT) sends every call to that address with anonymous credentials:
plaintext gRPC, and plain HTTP (`http://HOST:PORT`) for Compute Engine, which speaks REST only: for emulators,
proxies and tests (tests/fakegcp serves both on one port).

A run with no network (or a wrong endpoint) stops within DRIFTCHECK_CONNECT_TIMEOUT seconds, naming the host it
could not reach, instead of making every resource unknown after a minute of retries on each. Each round of retries
says so on stderr, one line per round, terminal or not.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import grpc
from google import pubsub_v1
from google.api_core import exceptions, retry
from google.api_core.client_options import ClientOptions
from google.cloud import (
    iam_admin_v1,
    policytroubleshooter_iam_v3,
    redis_v1,
    resourcemanager_v3,
    run_v2,
    secretmanager_v1,
    sqladmin_v1,
    vpcaccess_v1,
)
from google.cloud.iam_admin_v1.services.iam.transports import IAMGrpcTransport
from google.cloud.policytroubleshooter_iam_v3.services.policy_troubleshooter.transports import (
    PolicyTroubleshooterGrpcTransport,
)
from google.cloud.redis_v1.services.cloud_redis.transports import CloudRedisGrpcTransport
from google.cloud.resourcemanager_v3.services.folders.transports import FoldersGrpcTransport
from google.cloud.resourcemanager_v3.services.organizations.transports import OrganizationsGrpcTransport
from google.cloud.resourcemanager_v3.services.projects.transports import ProjectsGrpcTransport
from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)
from google.cloud.sqladmin_v1.services.sql_instances_service.transports import SqlInstancesServiceGrpcTransport
from google.cloud.vpcaccess_v1.services.vpc_access_service.transports import VpcAccessServiceGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from driftcheck.errors import DriftcheckError, InputError
from driftcheck.escape import printable
from driftcheck.sources.limits import positive_setting

ENDPOINT_VARIABLE = "DRIFTCHECK_ENDPOINT"
CONNECT_TIMEOUT_VARIABLE = "DRIFTCHECK_CONNECT_TIMEOUT"
CONNECT_TIMEOUT_S = 6.0  # until the endpoint accepts a connection; then each call has its own retries
CALL_TIMEOUT_S = 20.0  # one attempt; retries add attempts until the retry's own deadline
# The bases of ResourceExhausted and DeadlineExceeded: a REST client (Compute) raises them for HTTP 429 and 504.
TRANSIENT = retry.if_exception_type(
    exceptions.ServiceUnavailable, exceptions.TooManyRequests, exceptions.GatewayTimeout
)


class Unreachable(DriftcheckError):
    """The API endpoint accepts no connection: no call could succeed, so the run stops (exit 2)."""


class _Rounds:
    """Says "retrying …" on stderr once per round of retries, however many calls wait in that round."""

    def __init__(self) -> None:
        self.said = 0
        self.lock = threading.Lock()

    def hook(self) -> Any:
        """An on_error callback for one call's retry: it counts that call's attempts."""
        attempts = [0]

        def on_error(exc: Exception) -> None:
            attempts[0] += 1
            with self.lock:
                if attempts[0] <= self.said:
                    return
                self.said = attempts[0]
            # The error's text comes from the server: it must not drive the terminal.
            print(printable(f"driftcheck: retrying (round {attempts[0]}): {_short(exc)}"), file=sys.stderr, flush=True)

        return on_error


_ROUNDS = _Rounds()


def call_retry() -> retry.Retry:
    """The retry of one API call: backoff on UNAVAILABLE, RESOURCE_EXHAUSTED and DEADLINE_EXCEEDED for up to a
    minute, each round said on stderr."""
    return retry.Retry(predicate=TRANSIENT, initial=0.1, maximum=4.0, multiplier=2.0, timeout=60.0,
                       on_error=_ROUNDS.hook())  # fmt: skip


def _short(exc: Exception) -> str:
    if isinstance(exc, exceptions.GoogleAPICallError):
        code = exc.grpc_status_code.name if exc.grpc_status_code is not None else type(exc).__name__
        text = f"{code}: {exc.message}"
    else:
        text = str(exc)
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."


class ComputeClients:
    """Compute Engine's REST clients (networks, subnetworks, routers, firewalls), each built on first use: the
    library takes about a second to import, and a run whose services reach no VPC never needs it.

    `endpoint`: plain HTTP to HOST:PORT with anonymous credentials (the REST transport keeps the scheme of its
    `api_endpoint`); otherwise compute.googleapis.com over HTTPS with `credentials`."""

    def __init__(self, credentials: Any, endpoint: str | None = None) -> None:
        self.credentials = credentials
        self.endpoint = endpoint
        self.built: dict[str, Any] = {}
        self.lock = threading.Lock()

    @property
    def networks(self) -> Any:
        return self._client("NetworksClient")

    @property
    def subnetworks(self) -> Any:
        return self._client("SubnetworksClient")

    @property
    def routers(self) -> Any:
        return self._client("RoutersClient")

    @property
    def firewalls(self) -> Any:
        return self._client("FirewallsClient")

    def _client(self, name: str) -> Any:
        with self.lock:
            if name not in self.built:
                from google.cloud import compute_v1

                options = ClientOptions(api_endpoint=f"http://{self.endpoint}") if self.endpoint else None
                self.built[name] = getattr(compute_v1, name)(
                    credentials=self.credentials, transport="rest", client_options=options
                )
            return self.built[name]


class LoggingClient:
    """Cloud Logging's LoggingServiceV2Client, built on first use: google.cloud.logging_v2 takes a third of a second
    to import, and a run with --no-logs never needs it. Over `channel` (--endpoint) as is, with no credentials;
    otherwise logging.googleapis.com over gRPC with `credentials`."""

    def __init__(self, *, credentials: Any = None, channel: grpc.Channel | None = None) -> None:
        self.credentials = credentials
        self.channel = channel
        self.built: Any = None
        self.lock = threading.Lock()

    @property
    def entries(self) -> Any:
        """The client whose `list_log_entries` reads log entries (a LoggingServiceV2Client)."""
        with self.lock:
            if self.built is None:
                from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
                from google.cloud.logging_v2.services.logging_service_v2.transports import (
                    LoggingServiceV2GrpcTransport,
                )

                if self.channel is not None:
                    self.built = LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=self.channel))
                else:
                    self.built = LoggingServiceV2Client(credentials=self.credentials, transport="grpc")
            return self.built


@dataclass(frozen=True)
class ApiClients:
    services: run_v2.ServicesClient
    revisions: run_v2.RevisionsClient
    secrets: secretmanager_v1.SecretManagerServiceClient
    sql: sqladmin_v1.SqlInstancesServiceClient
    connectors: vpcaccess_v1.VpcAccessServiceClient
    projects: resourcemanager_v3.ProjectsClient  # a project's IAM policy, and its parent
    folders: resourcemanager_v3.FoldersClient  # the project's folders (their parents) and their IAM policies
    organizations: resourcemanager_v3.OrganizationsClient  # the organization's IAM policy
    iam: iam_admin_v1.IAMClient  # service accounts
    subscriptions: pubsub_v1.SubscriberClient  # a project's Pub/Sub subscriptions (those pushing to a service)
    redis: redis_v1.CloudRedisClient  # Memorystore Redis instances (listed per region, kept by host)
    compute: ComputeClients  # networks, subnets, routers, firewall rules: REST, built on first use
    # --troubleshoot-iam only; not waited for in connect(): a run without the flag never calls its host
    troubleshooter: policytroubleshooter_iam_v3.PolicyTroubleshooterClient
    # recent log entries (sources/live/logs.py); built on first use, not waited for: --no-logs never calls its host
    logging: LoggingClient


def connect(endpoint: str | None = None) -> ApiClients:
    """The clients, once the endpoint (or every Google API host) accepts a connection; Unreachable otherwise."""
    endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
    if endpoint:
        channel = grpc.insecure_channel(endpoint)
        wait_until_reachable({endpoint: channel})
        return _over_channel(channel, endpoint)
    credentials = _default_credentials()
    clients = ApiClients(
        services=run_v2.ServicesClient(credentials=credentials, transport="grpc"),
        revisions=run_v2.RevisionsClient(credentials=credentials, transport="grpc"),
        secrets=secretmanager_v1.SecretManagerServiceClient(credentials=credentials, transport="grpc"),
        sql=sqladmin_v1.SqlInstancesServiceClient(credentials=credentials, transport="grpc"),
        connectors=vpcaccess_v1.VpcAccessServiceClient(credentials=credentials, transport="grpc"),
        projects=resourcemanager_v3.ProjectsClient(credentials=credentials, transport="grpc"),
        folders=resourcemanager_v3.FoldersClient(credentials=credentials, transport="grpc"),
        organizations=resourcemanager_v3.OrganizationsClient(credentials=credentials, transport="grpc"),
        iam=iam_admin_v1.IAMClient(credentials=credentials, transport="grpc"),
        subscriptions=pubsub_v1.SubscriberClient(credentials=credentials, transport="grpc"),
        redis=redis_v1.CloudRedisClient(credentials=credentials, transport="grpc"),
        compute=ComputeClients(credentials),
        troubleshooter=policytroubleshooter_iam_v3.PolicyTroubleshooterClient(
            credentials=credentials, transport="grpc"
        ),
        logging=LoggingClient(credentials=credentials),
    )
    # One per API host (revisions is run's too); Any: the transports' base type does not declare grpc_channel.
    every: tuple[Any, ...] = (
        clients.services, clients.secrets, clients.sql, clients.connectors, clients.projects, clients.iam,
        clients.subscriptions, clients.redis,
    )  # fmt: skip
    wait_until_reachable({f"{client.api_endpoint}:443": client.transport.grpc_channel for client in every})
    return clients


def wait_until_reachable(channels: dict[str, grpc.Channel], deadline: float | None = None) -> None:
    """Connect every channel (no API call is made), retrying through google.api_core until `deadline` seconds
    (DRIFTCHECK_CONNECT_TIMEOUT, default 6) have passed; then Unreachable names the hosts that never answered."""
    deadline = deadline if deadline is not None else _connect_timeout()
    wait = min(1.0, max(deadline / 3, 0.05))  # one attempt: grpc keeps connecting in between, with its own backoff
    end = time.monotonic() + deadline

    def attempt() -> None:
        until = min(time.monotonic() + wait, end)
        futures = {host: grpc.channel_ready_future(channel) for host, channel in channels.items()}
        late = []
        for host, future in futures.items():
            try:
                future.result(timeout=max(0.0, until - time.monotonic()))
            except grpc.FutureTimeoutError:
                late.append(host)
                future.cancel()
        if late:
            raise exceptions.ServiceUnavailable(f"cannot reach {', '.join(late)}")  # type: ignore[no-untyped-call]

    policy = retry.Retry(predicate=retry.if_exception_type(exceptions.ServiceUnavailable), initial=0.25,
                         maximum=2.0, multiplier=2.0, timeout=deadline, on_error=_Rounds().hook())  # fmt: skip
    try:
        policy(attempt)()
    except exceptions.RetryError as exc:
        cause = exc.cause.message if isinstance(exc.cause, exceptions.GoogleAPICallError) else str(exc)
        raise Unreachable(
            f"{cause} (no connection within {deadline:g} s): check the network, a proxy or firewall, or --endpoint"
        ) from None


def _connect_timeout() -> float:
    return positive_setting(CONNECT_TIMEOUT_VARIABLE, CONNECT_TIMEOUT_S, "seconds")


def _over_channel(channel: grpc.Channel, endpoint: str) -> ApiClients:
    """Given a channel, the transports use it as is: no credentials are looked up or sent. Compute Engine's REST
    clients send none either (anonymous credentials), over plain HTTP to the same address."""
    from google.auth.credentials import AnonymousCredentials

    return ApiClients(
        services=run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=channel)),
        revisions=run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=channel)),
        secrets=secretmanager_v1.SecretManagerServiceClient(
            transport=SecretManagerServiceGrpcTransport(channel=channel)
        ),
        sql=sqladmin_v1.SqlInstancesServiceClient(transport=SqlInstancesServiceGrpcTransport(channel=channel)),
        connectors=vpcaccess_v1.VpcAccessServiceClient(transport=VpcAccessServiceGrpcTransport(channel=channel)),
        projects=resourcemanager_v3.ProjectsClient(transport=ProjectsGrpcTransport(channel=channel)),
        folders=resourcemanager_v3.FoldersClient(transport=FoldersGrpcTransport(channel=channel)),
        organizations=resourcemanager_v3.OrganizationsClient(transport=OrganizationsGrpcTransport(channel=channel)),
        iam=iam_admin_v1.IAMClient(transport=IAMGrpcTransport(channel=channel)),
        subscriptions=pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel)),
        redis=redis_v1.CloudRedisClient(transport=CloudRedisGrpcTransport(channel=channel)),
        compute=ComputeClients(AnonymousCredentials(), endpoint),  # type: ignore[no-untyped-call]
        troubleshooter=policytroubleshooter_iam_v3.PolicyTroubleshooterClient(
            transport=PolicyTroubleshooterGrpcTransport(channel=channel)
        ),
        logging=LoggingClient(channel=channel),
    )


def _default_credentials() -> Any:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    # Off Google Cloud, the metadata-server probe logs a warning per attempt: the one line below says it all.
    probe = logging.getLogger("google.auth.compute_engine._metadata")
    level, probe.level = probe.level, logging.ERROR
    try:
        # Compute Engine's methods list compute.readonly, not cloud-platform.read-only, among the scopes they accept
        scopes = [f"https://www.googleapis.com/auth/{s}" for s in ("cloud-platform.read-only", "compute.readonly")]
        credentials, _ = google.auth.default(scopes=scopes)
    except DefaultCredentialsError as exc:
        why = str(exc).split(". ", 1)[0].rstrip(".").splitlines()[0] if str(exc) else "none found"
        raise InputError(
            f"no Google credentials ({why}): run `gcloud auth application-default login`, or pass --from with "
            "exported files"
        ) from None
    finally:
        probe.setLevel(level)
    return credentials
