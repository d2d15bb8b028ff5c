"""Values a plan knows only after apply: the mark such a string travels as through the parsers, made Unknown after."""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.kinds import shape
from driftcheck.model import Redacted, Unknown

# A string value known only after apply travels through the parsers as this mark and becomes Unknown after.
UNKNOWN_MARK = shape.UNKNOWN_MARK
AFTER_APPLY = "known after apply"


def with_unknown(value: Any, keys: list[str]) -> Any:
    if not keys:
        return Unknown(AFTER_APPLY)
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: with_unknown(value[head], rest)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and head in _field_names(value):
        return dataclasses.replace(value, **{head: with_unknown(getattr(value, head), rest)})
    return value


def _field_names(value: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(value)}


def resolve_marks(value: Any) -> Any:
    """Every value that carries the after-apply mark becomes Unknown; a list with one unknown item is unknown."""
    if isinstance(value, str):
        return Unknown(AFTER_APPLY) if UNKNOWN_MARK in value else value
    if isinstance(value, Unknown | Redacted):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: resolve_marks(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {k: resolve_marks(v) for k, v in value.items()}
    if isinstance(value, tuple):
        items = tuple(resolve_marks(v) for v in value)
        return Unknown(AFTER_APPLY) if any(isinstance(i, Unknown) for i in items) else items
    return value
