"""Evidence shown to a person: control characters escaped, so a value cannot drive the terminal that prints it.

An env value, a status message, a service or file name may hold ESC (colours, cursor moves, OSC 8 links, OSC 52
clipboard writes), BEL, CR (overwrites the line) or a newline (a forged extra line). Each is shown as its escape
(`\\x1b`, `\\r`, `\\n`), as are the bidirectional overrides that reorder what a reader sees.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls (tab and newline included: every field is one line), DEL, C1 controls, bidi embeddings and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control character as its escape: `\\x1b`, `\\r`, `\\n`, `\\u202e`."""
    return _CONTROL.sub(_escaped, text)


def printable_tree(value: Any) -> Any:
    """Every string of a JSON-like value (keys too) made printable."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable_tree(v) for v in value]
    return value


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
