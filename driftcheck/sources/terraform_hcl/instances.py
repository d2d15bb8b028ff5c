"""HCL resource blocks to the state-shaped instances terraform_resources maps: count and for_each expanded, the
provider's project and region filled in (of the aliased provider a `provider = google.eu` names), secret payloads
dropped unread, unresolved values split out (by Terraform path), and lifecycle.ignore_changes read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcheck.sources.terraform_hcl.parse import Expr, TfFile, where
from driftcheck.sources.terraform_hcl.paths import join
from driftcheck.sources.terraform_hcl.resolve import (
    Scope,
    Unresolved,
    as_written,
    has_unresolved,
    provider_default,
    provider_of,
    resolve,
)
from driftcheck.sources.terraform_resources import LIST_BLOCKS, MODELLED, SINGLE_BLOCKS, Instance, index_suffix

_META_ARGUMENTS = ("count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection")
# A secret version's payload: never resolved, stored or shown (state keeps it in plain text; driftcheck reads neither).
PAYLOADS = frozenset({"secret_data", "secret_data_wo"})
# The attribute a resource's location is in, where the provider's region is the default.
_LOCATION = {
    "google_cloud_run_v2_service": "location",
    "google_cloud_run_service": "location",
    "google_vpc_access_connector": "region",
    "google_sql_database_instance": "region",
    "google_compute_subnetwork": "region",
    "google_compute_router": "region",
    "google_redis_instance": "region",
}

# Unresolved values the parsers validate (enums, quantities, numbers) or read as blocks are left out; any other
# unresolved value is replaced by PLACEHOLDER, which keeps list positions and block shapes. Either way the canonical
# fields they feed become Unknown after parsing (unknowns.mark_unresolved), so neither a default nor the placeholder
# is ever compared.
PLACEHOLDER = "unresolved"
_LEFT_OUT = frozenset(
    {
        "ingress",
        "egress",
        "execution_environment",
        "timeout",
        "timeout_seconds",
        "cpu",
        "memory",
        "cpu_idle",
        "startup_cpu_boost",
        "session_affinity",
        "container_concurrency",
        "max_instance_request_concurrency",
        "min_instance_count",
        "max_instance_count",
        "container_port",
        "port",
        "initial_delay_seconds",
        "period_seconds",
        "failure_threshold",
        "annotations",
        "labels",
        "limits",
        "enabled",
        "ipv4_enabled",
        "activation_policy",
        "database_version",
        # the network kinds' (kinds/network/, kinds/redis.py): ranges, numbers, enums and booleans they check
        "ip_cidr_range",
        "private_ip_google_access",
        "auto_create_subnetworks",
        "mtu",
        "priority",
        "direction",
        "source_ranges",
        "destination_ranges",
        "host",
        "connect_mode",
        "auth_enabled",
    }
    | SINGLE_BLOCKS
    | LIST_BLOCKS
) - {"secret"}  # fmt: skip  (`secret` is also the secret id inside secret_key_ref: a placeholder keeps the ref)
_VALIDATED_MAPS = frozenset({"annotations", "limits"})  # an unresolved entry is left out, not replaced


def _split(value: Any, path: str, unresolved: dict[str, str], key: str = "") -> Any:
    """Unresolved values out of the attributes (listed in `unresolved` by Terraform path), so parsers never see them.

    A list with an unresolved item, or a block whose name is unresolved, is unresolved as a whole.
    """
    if isinstance(value, Unresolved):
        unresolved[path] = value.expression
        return _DROPPED if key in _LEFT_OUT or key.startswith("run.googleapis.com/") or "/" in key else PLACEHOLDER
    if isinstance(value, list):
        bad = next((p for p in map(_item_problem, value) if p), None)
        if bad:
            unresolved[path] = bad
        items = [_split(v, f"{path}[{i}]", {} if bad else unresolved, key) for i, v in enumerate(value)]
        return [PLACEHOLDER if i is _DROPPED else i for i in items]
    if isinstance(value, dict):
        keys = {k: key if key in _VALIDATED_MAPS else k for k in value}  # entries of a validated map count as it
        kept = {k: _split(v, join(path, k), unresolved, keys[k]) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROPPED}
    return value


_DROPPED = object()


def _item_problem(item: Any) -> str | None:
    if isinstance(item, Unresolved):
        return item.expression
    if isinstance(item, dict) and isinstance(item.get("name"), Unresolved):
        return str(item["name"].expression)
    return None


@dataclass(frozen=True)
class TfInstance:
    instance: Instance
    file: Path
    line: int | None
    unresolved: dict[str, str]  # Terraform attribute path -> expression
    notes: list[tuple[str, str]]  # (Terraform attribute path, which variable value was used)
    lines: dict[str, int] = field(default_factory=dict)  # Terraform attribute path -> line
    ignore_changes: tuple[str, ...] = ()  # lifecycle.ignore_changes, as Terraform attribute paths (or "all")


class _Unexpandable(Exception):
    """count / for_each that is not a literal: the instances (and so their addresses) are unknown."""


def resource_instances(files: list[TfFile], scope: Scope, prefix: str, errors: dict[str, str]) -> Iterator[TfInstance]:
    """Each modelled resource's instances; one whose count or for_each is not known is an error at its address."""
    for tf in files:
        for block in tf.data.get("resource") or ():
            for kind, named in block.items():
                if kind not in MODELLED:
                    continue
                for name, body in named.items():
                    line = tf.lines.get(("resource", kind, name))
                    address = f"{prefix}{kind}.{name}"
                    try:
                        keyed = _instance_keys(body, scope)
                    except _Unexpandable as exc:  # the other resources are still worth comparing
                        errors[address] = f"{where(tf.path, line)}: {exc}"
                        continue
                    for key, own in keyed:
                        yield _instance(tf, line, address + index_suffix(key), (kind, name), body, own)


def _instance_keys(body: dict[str, Any], scope: Scope) -> list[tuple[Any, Scope]]:
    """count and for_each over literals (or resolved variables): one instance each, keyed as Terraform keys them."""
    if "count" in body:
        count = resolve(body["count"], scope)
        if not isinstance(count, int) or isinstance(count, bool):
            raise _Unexpandable(f"count = {as_written(body['count'])} is not a literal, so its instances are unknown")
        return [(i, scope.bind("count", i, i)) for i in range(count)]
    if "for_each" in body:
        items = resolve(body["for_each"], scope)
        if has_unresolved(items) or not isinstance(items, dict | list):
            raise _Unexpandable(
                f"for_each = {as_written(body['for_each'])} is not a literal, so its instances are unknown"
            )
        pairs = items.items() if isinstance(items, dict) else ((str(v), v) for v in items)
        return [(key, scope.bind("each", key, value)) for key, value in pairs]
    return [(None, scope)]


def _instance(
    tf: TfFile, line: int | None, address: str, labels: tuple[str, str], body: dict[str, Any], scope: Scope
) -> TfInstance:
    kind, name = labels
    own = dataclasses.replace(scope, notes=[])
    unresolved: dict[str, str] = {}
    attributes = {k: v for k, v in body.items() if k not in _META_ARGUMENTS and k not in PAYLOADS}
    provider = provider_of(body)
    for key in ("project", _LOCATION.get(kind)):
        if key and key not in attributes:  # created in the provider's project or region; provenance says so
            default = provider_default(scope, provider, "project" if key == "project" else "region")
            attributes[key] = default.value
            own.notes.append((key, default.where))
    values = _split(resolve(attributes, own), "", unresolved)
    for key in ("name", "project", "location", "region"):
        if key in unresolved:  # the mappers build resource names from these; Unknown replaces them afterwards
            values[key] = f"{PLACEHOLDER}-{key}"
    lines = tf.inner.get(("resource", kind, name), {})
    ignored = _ignore_changes(body)
    return TfInstance(Instance(address, kind, values), tf.path, line, unresolved, own.notes, lines, ignored)


def _ignore_changes(body: dict[str, Any]) -> tuple[str, ...]:
    """`lifecycle { ignore_changes = [template[0].containers[0].image, client] }`, or `= all`."""
    listed: Any = [(block or {}).get("ignore_changes") for block in body.get("lifecycle") or ()]
    paths = []
    for entry in listed:
        items = entry if isinstance(entry, list) else [entry] if entry is not None else []
        paths += [item.text if isinstance(item, Expr) else str(item) for item in items]
    return tuple(paths)
