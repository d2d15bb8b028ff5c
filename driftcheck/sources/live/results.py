"""What an API call returns, as the live fetch keeps it: REST JSON, a failure as evidence, the snapshot's parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions

from driftcheck.kinds.registry import LIST, Kind, LiveRead, kinds, with_snapshot
from driftcheck.kinds.units import last_segment


@dataclass(frozen=True)
class Failure:
    """A call that did not succeed, after retries."""

    code: str
    message: str
    read: LiveRead  # what was read: a denied read says what to grant

    def reason(self) -> str:
        hint = f"; needs {self.read.needs}" if self.code == "PERMISSION_DENIED" else ""
        return f"{self.code}: {self.message}{hint}"


def failure(exc: exceptions.GoogleAPICallError, read: LiveRead) -> Failure:
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


def rest(message: Any) -> dict[str, Any]:
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
    named = kinds_by_name()
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


def kinds_by_name() -> dict[str, Kind]:
    """Every kind by name, once per use (as `kind_named` finds them, without walking every kind per result)."""
    return {kind.name: kind for kind in kinds()}
