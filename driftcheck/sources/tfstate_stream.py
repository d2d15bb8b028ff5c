"""A large terraform.tfstate read resource by resource instead of all at once.

A platform's state runs to tens of megabytes, nearly all of it resources driftcheck does not model. Decoding
the whole document first would hold every one of them at once (about 4 x the file size in Python objects);
here the top-level keys before `resources` are decoded, then each resource is decoded (by json's own C scanner)
only when the loader asks for it, and dropped unless it is modelled.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from driftcheck.errors import InputError
from driftcheck.sources.limits import too_deep_message

# What Terraform writes at the top of every state (`version` first, then `terraform_version`).
_HEAD = re.compile(r'\s*\{\s*"version"\s*:\s*\d+\s*,\s*"terraform_version"\s*:')
_SPACE = re.compile(r"[ \t\n\r]*")


class DuplicateKey(ValueError):
    """A JSON object that repeats a key (json itself would keep the last value silently)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: an object that repeats a key is refused, not read as its last value."""
    mapping = dict(pairs)
    if len(mapping) < len(pairs):
        keys = [key for key, _ in pairs]
        raise DuplicateKey(next(key for key in keys if keys.count(key) > 1))
    return mapping


def interned_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`unique_keys`, its keys and string values interned: a list of services repeats keys, images, env names and
    values, and the model keeps them (not worth its time for a state, whose unmodelled resources are dropped)."""
    return unique_keys([(sys.intern(key), sys.intern(v) if type(v) is str else v) for key, v in pairs])


def decode_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook for whole documents: keys must be unique, and a Terraform resource of a type driftcheck
    does not model (in a plan, `show -json` or a state read whole) is cut to its name as soon as it is decoded, so
    a large plan is never held whole in memory (json calls the hook innermost object first)."""
    mapping = unique_keys(pairs)
    is_resource = "mode" in mapping and "type" in mapping and not _RESOURCE_BODIES.isdisjoint(mapping)
    if is_resource and mapping["type"] not in _modelled():
        return {key: mapping[key] for key in _RESOURCE_NAMES if key in mapping}
    return mapping


@functools.cache
def _modelled() -> frozenset[str]:
    from driftcheck.sources.terraform_resources import MODELLED  # late: it imports the parsers, which import us

    return MODELLED


def duplicate_key_message(exc: DuplicateKey) -> str:
    return f"duplicate key {exc.args[0]!r} in one JSON object (which value is meant is not for driftcheck to guess)"


_DECODER = json.JSONDecoder(object_pairs_hook=unique_keys)
# What a resource of a plan (`values`), a plan's change (`change`) or a state (`instances`) carries, and what of it
# is kept of one driftcheck does not model.
_RESOURCE_BODIES = frozenset({"values", "change", "instances"})
_RESOURCE_NAMES = ("address", "mode", "type", "name", "module", "index")


@dataclass(frozen=True)
class StreamedState:
    header: dict[str, Any]  # the top-level keys that come before `resources`
    text: str
    resources_at: int | None  # offset of the `[` that opens `resources`; None when the state has none
    label: str

    def resources(self) -> Iterator[Any]:
        if self.resources_at is not None:
            yield from array_items(self.text, self.resources_at, self.label, _DECODER)


def array_items(text: str, pos: int, label: str, decoder: json.JSONDecoder) -> Iterator[Any]:
    """The items of the JSON array whose `[` is at `pos`, each decoded only when asked for."""
    pos = _expect(text, pos, "[", label)
    if text.startswith("]", pos):
        return
    while True:
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON: {exc.msg}", file=label, where=f"line {exc.lineno}") from None
        except DuplicateKey as exc:
            raise InputError(duplicate_key_message(exc), file=label) from None
        except RecursionError:  # json's C decoder gives up near the recursion limit
            raise InputError(too_deep_message(), file=label) from None
        yield item
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return
        pos = _expect(text, pos, ",", label)


def _expect(text: str, pos: int, char: str, label: str) -> int:
    if not text.startswith(char, pos):
        line = text.count("\n", 0, pos) + 1
        raise InputError(f"malformed JSON: expected {char!r}", file=label, where=f"line {line}")
    return _skip(text, pos + 1)


def open_state(text: str, label: str) -> StreamedState | None:
    """A StreamedState when the text starts like a state Terraform wrote; None to read it the ordinary way
    (which also gives the ordinary error for a header that does not decode)."""
    if not _HEAD.match(text):
        return None
    try:
        return _read_header(text, label)
    except (json.JSONDecodeError, DuplicateKey, IndexError, RecursionError):
        return None


def _read_header(text: str, label: str) -> StreamedState:
    header: dict[str, Any] = {}
    pos = _skip(text, text.index("{") + 1)
    while text[pos] == '"':
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise IndexError(pos)
        pos = _skip(text, pos + 1)
        if key == "resources":
            return StreamedState(header, text, pos, label)
        header[key], pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return StreamedState(header, text, None, label)


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos
