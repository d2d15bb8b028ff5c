"""Check the types of the fields a parser reads, before it reads them, so a wrong type is named by its field.

Without it, `ports: 5` surfaces deep in a parser as `TypeError('int' object is not subscriptable)`. A shape is a
map from a field path (`[]` for every item of a list) to the type the parser expects there; a missing or null
field is left to the parser (most are optional), and a field of the wrong type is an input error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from driftcheck.errors import InputError

# A string a Terraform plan knows only after apply travels through the parsers as this mark (terraform_resources).
UNKNOWN_MARK = "\x00unknown\x00"

Shape = Mapping[str, type]
_NAMES = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


@dataclass
class _Field:
    """What one key holds: its type, its items' type (for `key[]`), and the fields below it and below its items."""

    kind: type | None = None
    item_kind: type | None = None
    children: dict[str, _Field] = dataclass_field(default_factory=dict)
    item_children: dict[str, _Field] = dataclass_field(default_factory=dict)


Compiled = dict[str, _Field]


def compile_shape(shape: Shape) -> Compiled:
    """The field paths as a tree, so a document is walked once however many paths share a prefix."""
    root: Compiled = {}
    for pattern, expected in shape.items():
        node, parts = root, pattern.split(".")
        for depth, part in enumerate(parts):
            each = part.endswith("[]")
            entry = node.setdefault(part.removesuffix("[]"), _Field())
            if depth == len(parts) - 1:
                if each:
                    entry.item_kind = expected
                else:
                    entry.kind = expected
            node = entry.item_children if each else entry.children
    return root


def check(data: Any, shape: Compiled, origin: str, path: str = "") -> None:
    if not isinstance(data, dict):
        return
    for key, spec in shape.items():
        value = data.get(key)
        field = f"{path}.{key}" if path else key
        if value is None or _unknown(value):
            continue
        _expect(value, spec.kind, origin, field)
        check(value, spec.children, origin, field)
        if isinstance(value, list) and (spec.item_kind or spec.item_children):
            for index, item in enumerate(value):
                if item is not None and not _unknown(item):
                    _expect(item, spec.item_kind, origin, f"{field}[{index}]")
                    check(item, spec.item_children, origin, f"{field}[{index}]")


def _expect(value: Any, expected: type | None, origin: str, field: str) -> None:
    if expected is not None and not isinstance(value, expected):
        found = _NAMES.get(type(value), type(value).__name__)
        raise InputError(f"expected {_NAMES[expected]}, found {found} ({value!r:.40})", file=origin, where=field)


def _unknown(value: Any) -> bool:
    """A plan's value known only after apply stands in for a block of any type (sources/terraform_plan.py)."""
    return isinstance(value, str) and UNKNOWN_MARK in value


def require_containers(data: Any, field: str, origin: str) -> None:
    """Cloud Run runs at least one container: an export with none (`[]`, `null`, absent) is not one to compare."""
    parent = data
    for key in field.split("."):
        parent = parent.get(key) if isinstance(parent, dict) else None
    if not parent:
        what = "an empty list" if isinstance(parent, list) else "missing or null"
        raise InputError(f"no containers ({what}); a Cloud Run service runs at least one", file=origin, where=field)


def container_shape(prefix: str, *, v2: bool) -> dict[str, type]:
    """The container fields both Cloud Run spellings share (camelCase Knative keys)."""
    fields: dict[str, type] = {
        prefix: list,
        f"{prefix}[]": dict,
        f"{prefix}[].env": list,
        f"{prefix}[].env[]": dict,
        f"{prefix}[].ports": list,
        f"{prefix}[].ports[]": dict,
        f"{prefix}[].volumeMounts": list,
        f"{prefix}[].volumeMounts[]": dict,
        f"{prefix}[].resources": dict,
        f"{prefix}[].resources.limits": dict,
        f"{prefix}[].command": list,
        f"{prefix}[].args": list,
        f"{prefix}[].startupProbe": dict,
        f"{prefix}[].livenessProbe": dict,
    }
    source = "valueSource" if v2 else "valueFrom"
    fields[f"{prefix}[].env[].{source}"] = dict
    fields[f"{prefix}[].env[].{source}.secretKeyRef"] = dict
    if v2:
        fields[f"{prefix}[].dependsOn"] = list
    return fields
