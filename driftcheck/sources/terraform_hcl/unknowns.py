"""Unresolved Terraform values become Unknown in the canonical fields they feed, each in its field's own shape."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, TypeVar

from driftcheck.model import EnvVar, Unknown
from driftcheck.sources.terraform_hcl.paths import steps, within

T = TypeVar("T")


class UnresolvedCollection(Unknown):
    """An unknown map or list (env from an unexpanded dynamic block, a list with an unresolved item).

    compare drops every change under it, as under any Unknown; code that iterates a service's maps and lists (the
    rule context walks `container.env.values()`) sees an empty one instead of failing.
    """

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def values(self) -> tuple[()]:
        return ()

    def items(self) -> tuple[()]:
        return ()

    def keys(self) -> tuple[()]:
        return ()


def mark_unresolved(resource: T, fields: dict[str, str], unresolved: dict[str, str]) -> T:
    """Every canonical field (path -> Terraform path in `fields`) an unresolved expression feeds, made Unknown."""
    for tf_path, expression in unresolved.items():
        reason = Unknown(f"unresolved: {expression}")
        for canonical in covered(fields, tf_path):
            resource = _mark(resource, canonical.split("."), reason)
    return resource


def covered(fields: dict[str, str], tf_path: str) -> list[str]:
    """The canonical fields an unresolved value feeds: those inside it, else the most specific one holding it."""
    inside = [c for c, f in fields.items() if within(f, tf_path) and f != tf_path]
    holders = [c for c, f in fields.items() if within(tf_path, f)]
    if holders:
        inside.append(max(holders, key=lambda c: (len(steps(fields[c])), len(c))))
    return inside


def _mark(value: Any, keys: list[str], unknown: Unknown) -> Any:
    if not keys:
        return _unknown_like(value, unknown)
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _mark(value[head], rest, unknown)}
    if _is_record(value) and head in {f.name for f in dataclasses.fields(value)}:
        return dataclasses.replace(value, **{head: _mark(getattr(value, head), rest, unknown)})
    return value


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type | Unknown)


def _unknown_like(value: Any, unknown: Unknown) -> Any:
    """Unknown in the value's own place: rules read env vars, containers and volumes as objects, maps as maps."""
    if isinstance(value, Unknown):
        return value  # already unknown (two unresolved values feed it): the first reason stays, and so does its type
    if isinstance(value, EnvVar):
        return EnvVar(value=unknown)
    if isinstance(value, dict | tuple | list):
        return UnresolvedCollection(unknown.reason)
    if _is_record(value):
        changes = {f.name: _unknown_like(getattr(value, f.name), unknown) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return unknown
