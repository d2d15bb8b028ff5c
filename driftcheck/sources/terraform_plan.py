"""`terraform show -json` output: of a state (`values`) or of a plan (`planned_values` and `resource_changes`).

A plan's planned values leave out what is known only after apply, indistinguishable from absent; each change's
`after_unknown` says which, and those values become Unknown: never compared as literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.model import Inventory
from driftcheck.sources import terraform_formats, terraform_resources
from driftcheck.sources.terraform_resources import (
    LIST_BLOCKS,
    MODELLED,
    NOTHING_MODELLED,
    SINGLE_BLOCKS,
    UNKNOWN_MARK,
    Instance,
)

# What the format is called and whether a document is one live in terraform_formats, which sources/__init__.py
# lists without importing this module.
KIND = terraform_formats.PLAN_KIND
matches = terraform_formats.plan_matches
_is_plan = terraform_formats.is_plan

# Attributes whose values are numbers or booleans: an unknown one is left out and its field marked afterwards.
_NOT_STRINGS = frozenset(
    {
        "container_port", "min_instance_count", "max_instance_count", "max_instance_request_concurrency",
        "container_concurrency", "timeout_seconds", "port", "initial_delay_seconds", "period_seconds",
        "failure_threshold", "percent", "cpu_idle", "startup_cpu_boost", "session_affinity", "generation",
        "ipv4_enabled", "enabled", "latest_revision", "reconciling",
    }
)  # fmt: skip
_DROP = object()
_MAJOR_VERSIONS = ("0", "1")


def load(doc: Document, inventory: Inventory) -> None:
    data = doc.data.get("tfplan", doc.data)  # a plan wrapped by a CI tool
    check_format_version(data, doc.label)
    if not terraform_resources.load_instances(instances(data, doc.label), inventory, doc.label):
        raise InputError(NOTHING_MODELLED.replace("state", "Terraform JSON"), file=doc.label)


def check_format_version(data: dict[str, Any], label: str) -> None:
    """Terraform changes the major format version only for changes a reader must know about (0.x and 1.x so far):
    a newer one is refused rather than half-read."""
    version = str(data.get("format_version", "1"))  # absent in some CI tools' wrappers: read as written today
    if version.split(".", 1)[0] not in _MAJOR_VERSIONS:
        raise InputError(
            f"Terraform JSON format version {version!r} is not supported (driftcheck reads 0.x and 1.x)",
            file=label,
            where="format_version",
        )


def instances(data: dict[str, Any], label: str) -> Iterator[Instance]:
    if _is_plan(data):
        planned = data.get("planned_values")
        if not isinstance(planned, dict):
            raise InputError(
                "a plan without planned_values; write it with `terraform show -json PLANFILE`",
                file=label,
                where="planned_values",
            )
        changes = {c.get("address"): c.get("change") or {} for c in data.get("resource_changes") or ()}
        for resource in _module_resources(planned.get("root_module") or {}):
            yield _planned(resource, changes.get(resource.get("address")))
    elif isinstance(data.get("values"), dict):
        for resource in _module_resources(data["values"].get("root_module") or {}):
            yield Instance(str(resource.get("address")), str(resource.get("type")), resource.get("values") or {})
    else:
        raise InputError(
            "neither values (a state) nor planned_values (a plan): nothing to read", file=label, where="planned_values"
        )


def _module_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in module.get("resources") or ():
        if resource.get("mode", "managed") == "managed" and resource.get("type") in MODELLED:
            yield resource
    for child in module.get("child_modules") or ():
        yield from _module_resources(child)


def _planned(resource: dict[str, Any], change: dict[str, Any] | None) -> Instance:
    values = resource.get("values") or {}
    unknown_paths: set[str] = set()
    if change and isinstance(change.get("after"), dict):
        values = change["after"]
    if change and change.get("after_unknown"):
        values = mark_unknown(values, change["after_unknown"], "", unknown_paths)
    marked = bool(change and change.get("after_unknown"))
    address, kind = str(resource.get("address")), str(resource.get("type"))
    return Instance(address, kind, values, frozenset(unknown_paths), marked)


def mark_unknown(values: Any, unknown: Any, path: str, dropped: set[str]) -> Any:
    """Strings known after apply become the mark; numbers, booleans and whole blocks are left out and listed."""
    if unknown is True:
        key = path.rsplit(".", 1)[-1].split("[", 1)[0]
        if key in _NOT_STRINGS or key in SINGLE_BLOCKS or key in LIST_BLOCKS:
            dropped.add(path)
            return _DROP
        return UNKNOWN_MARK
    if isinstance(unknown, dict) and isinstance(values, dict | None):
        marked = dict(values or {})
        for key, inner in unknown.items():
            value = mark_unknown(marked.get(key), inner, f"{path}.{key}" if path else str(key), dropped)
            if value is _DROP:
                marked.pop(key, None)
            else:
                marked[key] = value
        return marked
    if isinstance(unknown, list) and isinstance(values, list | None):
        items = list(values or [])
        items += [None] * (len(unknown) - len(items))
        marked_items = [
            mark_unknown(v, u, f"{path}[{i}]", dropped)
            for i, (v, u) in enumerate(zip(items[: len(unknown)], unknown, strict=True))
        ]
        return [None if v is _DROP else v for v in marked_items] + items[len(unknown) :]
    return values
