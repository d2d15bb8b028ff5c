"""Peel recorded API responses, long-running operations and list outputs down to the single resources inside.

Real evidence is often not the bare resource: test suites record `{"headers", "body"}` pairs, deploy tools save
the operation that created a service, and list commands wrap items in `{"items": [...]}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from driftcheck.errors import InputError

_LIST_KEYS = ("items", "services", "instances", "connectors", "secrets")
_OPERATION = re.compile(r"^projects/[^/]+/locations/[^/]+/operations/[^/]+$")

Matcher = Callable[[Any], bool]


def resources(data: Any, label: str, known: Matcher) -> Iterator[Any]:
    """Every resource in a parsed document; `known` tells whether a value already is a resource of a known kind."""
    if known(data):
        yield data
    elif _is_recording(data):
        yield from resources(data["body"], label, known)
    elif isinstance(data, dict) and isinstance(data.get("error"), dict):
        raise InputError(_error_message(data["error"]), file=label)
    elif _is_operation(data):
        yield from resources(_operation_payload(data, label, known), label, known)
    elif isinstance(data, dict) and _list_key(data):
        for item in data[_list_key(data) or ""]:
            yield from resources(item, label, known)
    elif isinstance(data, list):
        for item in data:
            yield from resources(item, label, known)
    else:
        yield data  # the caller says why it is not a known kind


def _is_recording(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("body"), dict) and "headers" in data


def _error_message(error: dict[str, Any]) -> str:
    return (
        f"a recorded API error ({error.get('code')} {error.get('status', '')}: {error.get('message', '')}), "
        "not a resource"
    )


def _is_operation(data: Any) -> bool:
    return isinstance(data, dict) and bool(_OPERATION.match(str(data.get("name", "")))) and "metadata" in data


def _operation_payload(data: dict[str, Any], label: str, known: Matcher) -> Any:
    """A done operation holds the result under `response`; a running one (or a delete) under `metadata`."""
    for key in ("response", "metadata"):
        if known(data.get(key)):
            return data[key]
    raise InputError(f"a long-running operation ({data['name']}) that holds no resource driftcheck reads", file=label)


def _list_key(data: dict[str, Any]) -> str | None:
    return next((k for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
