"""The items of a top-level JSON array, read from a file's bytes a chunk at a time.

`gcloud run services list --format=json` writes one array of thousands of services. Decoding the whole text
first would hold the text and every parsed service at once (about 3 x the file); here only a window of the
text and the item being decoded are held, so memory is the canonical model and little more.
"""

from __future__ import annotations

import codecs
import json
import mmap
import re
from collections.abc import Iterator
from typing import Any

from driftcheck.errors import InputError
from driftcheck.sources.limits import too_deep_message
from driftcheck.sources.tfstate_stream import DuplicateKey, duplicate_key_message

CHUNK = 1 << 18
_SPACE = re.compile(r"[ \t\n\r]*")


class _Window:
    """The undecoded rest of the file, a chunk at a time, with the line number of where the window starts."""

    def __init__(self, raw: bytes | mmap.mmap, label: str) -> None:
        self.raw, self.label = raw, label
        self.text, self.pos, self.fed, self.line = "", 0, 0, 1
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    @property
    def exhausted(self) -> bool:
        return self.fed >= len(self.raw)

    def more(self, at_least: int = CHUNK) -> bool:
        if self.exhausted:
            return False
        if self.pos > len(self.text) // 2:  # drop what is decoded, amortised: never a copy per item
            self.line += self.text.count("\n", 0, self.pos)
            self.text, self.pos = self.text[self.pos :], 0
        piece = bytes(self.raw[self.fed : self.fed + max(CHUNK, at_least)])
        try:
            self.text += self._utf8.decode(piece, final=self.fed + len(piece) >= len(self.raw))
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 or UTF-16 text (byte {self.fed + exc.start})", file=self.label) from None
        self.fed += len(piece)
        return True

    def skip_space(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            match = _SPACE.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def where(self, pos: int | None = None) -> str:
        return f"line {self.line + self.text.count(chr(10), 0, self.pos if pos is None else pos)}"

    def expect(self, char: str) -> None:
        if self.skip_space() != char:
            raise InputError(f"malformed JSON: expected {char!r}", file=self.label, where=self.where())
        self.pos += 1


def array_items(raw: bytes | mmap.mmap, label: str, decoder: json.JSONDecoder) -> Iterator[Any]:
    """Each item of the array the bytes hold, decoded when asked for; anything after the array is an error."""
    window = _Window(raw, label)
    window.expect("[")
    if window.skip_space() == "]":
        window.pos += 1
    else:
        while True:
            yield _decode_next(window, decoder)
            if window.skip_space() == "]":
                window.pos += 1
                break
            window.expect(",")
    if window.skip_space():  # what json.loads calls "Extra data"
        raise InputError("malformed JSON: Extra data", file=label, where=window.where())


def _decode_next(window: _Window, decoder: json.JSONDecoder) -> Any:
    """An item may run past the window: read more and decode again, until it fits or the file ends."""
    while True:
        window.skip_space()
        try:
            item, window.pos = decoder.raw_decode(window.text, window.pos)
            return item
        except json.JSONDecodeError as exc:
            if not window.more(at_least=len(window.text) - window.pos):  # doubling: one large item is not quadratic
                raise InputError(f"malformed JSON: {exc.msg}", file=window.label, where=window.where(exc.pos)) from None
        except DuplicateKey as exc:
            raise InputError(duplicate_key_message(exc), file=window.label) from None
        except RecursionError:  # json's C decoder gives up near the recursion limit
            raise InputError(too_deep_message(), file=window.label) from None
