"""Connectivity Tests (Network Intelligence Center), with --connectivity-test only: the one live call that WRITES.

For each probe (a Cloud Run revision as the source, an IP:port as the destination) driftcheck creates a Connectivity
Test (`ReachabilityService.CreateConnectivityTest`), waits for its long-running operation (the analysis is done
when it is), reads the reachability result and where a packet is dropped, and deletes the test, whatever happened
in between (try/finally; a delete that fails is said, with the command that deletes it). It needs
roles/networkmanagement.admin; a denied create is that probe's answer, never a failure of the run.

The answers are plain dicts, for paths/connectivity.py to settle the path's hops with:
{"test": NAME, "result": REACHABLE | UNREACHABLE | AMBIGUOUS | UNDETERMINED, "drop": {"at", "cause", "description",
"resource"} | None, "message", "error": reason (nothing was answered), "delete_error": reason}.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions, retry

from driftcheck.errors import InputError
from driftcheck.sources.live.clients import CALL_TIMEOUT_S, ENDPOINT_VARIABLE, call_retry

ROLE = "roles/networkmanagement.admin"
# Creating the analysis takes Google from seconds to a couple of minutes; deleting, seconds.
ANALYSIS_TIMEOUT_S = 240.0
DELETE_TIMEOUT_S = 60.0


# How an operation is polled: soon at first (a fake answers at once), then every few seconds, as gcloud does.
def _polling() -> retry.Retry:
    from google.api_core.future import polling

    return polling.DEFAULT_POLLING.with_delay(initial=0.2, maximum=5.0, multiplier=2.0).with_timeout(ANALYSIS_TIMEOUT_S)


_DEFINITE = ("PERMISSION_DENIED", "INVALID_ARGUMENT", "FAILED_PRECONDITION", "UNAUTHENTICATED", "NOT_FOUND")


@dataclass(frozen=True)
class Probe:
    """One Connectivity Test to run: from a Cloud Run revision to an address and port, over TCP."""

    key: str  # the caller's key for the answer
    revision: str  # projects/P/locations/R/revisions/REV
    address: str  # an IP address
    port: int


def reachability_client(endpoint: str | None) -> Any:
    """The ReachabilityService client: over plaintext gRPC to `endpoint` (anonymous, as every live call then is),
    otherwise Application Default Credentials with the cloud-platform scope (a Connectivity Test is written, which
    the read-only scope the other clients ask for does not allow)."""
    from google.cloud import network_management_v1

    endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
    if endpoint:
        import grpc
        from google.cloud.network_management_v1.services.reachability_service.transports import (
            ReachabilityServiceGrpcTransport,
        )

        transport = ReachabilityServiceGrpcTransport(channel=grpc.insecure_channel(endpoint))
        return network_management_v1.ReachabilityServiceClient(transport=transport)
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError:
        raise InputError("no Google credentials: run `gcloud auth application-default login`") from None
    return network_management_v1.ReachabilityServiceClient(credentials=credentials, transport="grpc")


def run_tests(
    client: Any,
    project: str,
    probes: list[Probe],
    pool: ThreadPoolExecutor,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """Every probe's answer, the tests run concurrently on `pool` (bounded as every other round of the run)."""
    futures = {probe.key: pool.submit(_run_one, client, project, probe) for probe in probes}
    answers = {}
    for key, future in futures.items():
        answers[key] = future.result()
        progress(f"connectivity test {key}")
    return answers


def _run_one(client: Any, project: str, probe: Probe) -> dict[str, Any]:
    from google.cloud import network_management_v1 as nm

    test_id = f"driftcheck-{secrets.token_hex(6)}"  # random: two runs at once never share a test
    parent = f"projects/{project}/locations/global"
    name = f"{parent}/connectivityTests/{test_id}"
    test = nm.ConnectivityTest(
        description=f"driftcheck --connectivity-test: {probe.key}; deleted when read",
        source=nm.Endpoint(cloud_run_revision=nm.Endpoint.CloudRunRevisionEndpoint(uri=probe.revision)),
        destination=nm.Endpoint(ip_address=probe.address, port=probe.port),
        protocol="TCP",
        labels={"created-by": "driftcheck"},
    )
    answer: dict[str, Any] = {"test": name}
    maybe_created = False
    try:
        maybe_created = True  # a create whose answer is lost may still have made it: deleted all the same
        operation = client.create_connectivity_test(
            parent=parent, test_id=test_id, resource=test, retry=call_retry(), timeout=CALL_TIMEOUT_S
        )
        done = operation.result(timeout=ANALYSIS_TIMEOUT_S, polling=_polling())
        answer.update(_answer(done))
    except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
        code, reason = _reason(exc)
        maybe_created = code not in _DEFINITE
        answer["error"] = f"{code}: {reason}" + (f"; needs {ROLE}" if code == "PERMISSION_DENIED" else "")
    except FutureTimeout:
        answer["error"] = f"DEADLINE_EXCEEDED: no result within {ANALYSIS_TIMEOUT_S:g} s"
    finally:
        if maybe_created:
            deleted = _delete(client, name)
            if deleted:
                answer["delete_error"] = deleted
    return answer


def _delete(client: Any, name: str) -> str | None:
    """Delete the test and wait until it is gone; why it could not be, or None (deleted, or never made)."""
    try:
        operation = client.delete_connectivity_test(name=name, retry=call_retry(), timeout=CALL_TIMEOUT_S)
        operation.result(timeout=DELETE_TIMEOUT_S, polling=_polling())
    except exceptions.NotFound:
        return None
    except (exceptions.GoogleAPICallError, exceptions.RetryError) as exc:
        code, reason = _reason(exc)
        return f"{code}: {reason}"
    except FutureTimeout:
        return f"DEADLINE_EXCEEDED: not deleted within {DELETE_TIMEOUT_S:g} s"
    return None


def _reason(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, exceptions.RetryError):
        cause = exc.cause
        if not isinstance(cause, exceptions.GoogleAPICallError):
            return "RETRIES_EXHAUSTED", str(exc)
        exc = cause
    assert isinstance(exc, exceptions.GoogleAPICallError)
    code = exc.grpc_status_code.name if exc.grpc_status_code is not None else type(exc).__name__
    return code, exc.message or str(exc)


def _answer(test: Any) -> dict[str, Any]:
    """The result of a finished test, and (unreachable) the step where the first trace's packet is dropped."""
    details = test.reachability_details
    answer: dict[str, Any] = {"result": details.result.name, "drop": None}
    if details.error and details.error.message:
        answer["message"] = details.error.message
    trace = details.traces[0] if details.traces else None
    steps = list(trace.steps) if trace else []
    if steps and steps[-1].state.name in ("DROP", "ABORT"):
        final = steps[-1]
        causing = next((step for step in reversed(steps[:-1]) if step.causes_drop), final)
        info = final.drop if final.state.name == "DROP" else final.abort
        answer["drop"] = {
            "at": causing.state.name,
            "cause": info.cause.name,
            "description": causing.description or final.description,
            "resource": causing.firewall.display_name or info.resource_uri or None,
        }
    return answer
