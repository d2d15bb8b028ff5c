"""A large terraform.tfstate read resource by resource instead of all at once.

A platform's state runs to tens of megabytes, nearly all of it resources driftcheck does not model. Decoding
the whole document first would hold every one of them at once (about 4 x the file size in Python objects);
here the top-level keys before `resources` are decoded, then each resource is decoded (by json's own C scanner)
only when the loader asks for it, and dropped unless it is modelled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from driftcheck.errors import InputError

# What Terraform writes at the top of every state (`version` first, then `terraform_version`).
_HEAD = re.compile(r'\s*\{\s*"version"\s*:\s*\d+\s*,\s*"terraform_version"\s*:')
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class StreamedState:
    header: dict[str, Any]  # the top-level keys that come before `resources`
    text: str
    resources_at: int | None  # offset of the `[` that opens `resources`; None when the state has none
    label: str

    def resources(self) -> Iterator[Any]:
        if self.resources_at is None:
            return
        pos = self._expect(self.resources_at, "[")
        if self.text.startswith("]", pos):
            return
        while True:
            try:
                item, pos = _DECODER.raw_decode(self.text, pos)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON: {exc.msg}", file=self.label, where=f"line {exc.lineno}") from None
            yield item
            pos = _skip(self.text, pos)
            if self.text.startswith("]", pos):
                return
            pos = self._expect(pos, ",")

    def _expect(self, pos: int, char: str) -> int:
        if not self.text.startswith(char, pos):
            line = self.text.count("\n", 0, pos) + 1
            raise InputError(f"malformed JSON: expected {char!r}", file=self.label, where=f"line {line}")
        return _skip(self.text, pos + 1)


def open_state(text: str, label: str) -> StreamedState | None:
    """A StreamedState when the text starts like a state Terraform wrote; None to read it the ordinary way
    (which also gives the ordinary error for a header that does not decode)."""
    if not _HEAD.match(text):
        return None
    try:
        return _read_header(text, label)
    except (json.JSONDecodeError, IndexError):
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
