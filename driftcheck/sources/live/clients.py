"""The official API clients, built once per run: Application Default Credentials, or an endpoint override.

`--endpoint HOST:PORT` (or DRIFTCHECK_ENDPOINT) sends every call to that address over plaintext gRPC with
anonymous credentials: for emulators, proxies and tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import grpc
from google.api_core import exceptions, retry
from google.cloud import run_v2, secretmanager_v1, sqladmin_v1, vpcaccess_v1
from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)
from google.cloud.sqladmin_v1.services.sql_instances_service.transports import SqlInstancesServiceGrpcTransport
from google.cloud.vpcaccess_v1.services.vpc_access_service.transports import VpcAccessServiceGrpcTransport

from driftcheck.errors import InputError

ENDPOINT_VARIABLE = "DRIFTCHECK_ENDPOINT"
CALL_TIMEOUT_S = 20.0  # one attempt; retries add attempts until RETRY's own deadline
RETRY = retry.Retry(
    predicate=retry.if_exception_type(
        exceptions.ServiceUnavailable, exceptions.ResourceExhausted, exceptions.DeadlineExceeded
    ),
    initial=0.1,
    maximum=4.0,
    multiplier=2.0,
    timeout=60.0,
)


@dataclass(frozen=True)
class ApiClients:
    services: run_v2.ServicesClient
    revisions: run_v2.RevisionsClient
    secrets: secretmanager_v1.SecretManagerServiceClient
    sql: sqladmin_v1.SqlInstancesServiceClient
    connectors: vpcaccess_v1.VpcAccessServiceClient


def connect(endpoint: str | None = None) -> ApiClients:
    endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
    if endpoint:
        return _over_channel(grpc.insecure_channel(endpoint))
    credentials = _default_credentials()
    return ApiClients(
        services=run_v2.ServicesClient(credentials=credentials, transport="grpc"),
        revisions=run_v2.RevisionsClient(credentials=credentials, transport="grpc"),
        secrets=secretmanager_v1.SecretManagerServiceClient(credentials=credentials, transport="grpc"),
        sql=sqladmin_v1.SqlInstancesServiceClient(credentials=credentials, transport="grpc"),
        connectors=vpcaccess_v1.VpcAccessServiceClient(credentials=credentials, transport="grpc"),
    )


def _over_channel(channel: grpc.Channel) -> ApiClients:
    """Given a channel, the transports use it as is: no credentials are looked up or sent."""
    return ApiClients(
        services=run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=channel)),
        revisions=run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=channel)),
        secrets=secretmanager_v1.SecretManagerServiceClient(
            transport=SecretManagerServiceGrpcTransport(channel=channel)
        ),
        sql=sqladmin_v1.SqlInstancesServiceClient(transport=SqlInstancesServiceGrpcTransport(channel=channel)),
        connectors=vpcaccess_v1.VpcAccessServiceClient(transport=VpcAccessServiceGrpcTransport(channel=channel)),
    )


def _default_credentials() -> Any:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform.read-only"])
    except DefaultCredentialsError:
        raise InputError(
            "no Google credentials: run `gcloud auth application-default login`, or pass --from with exported files"
        ) from None
    return credentials
