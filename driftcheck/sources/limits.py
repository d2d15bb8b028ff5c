"""Limits that keep a hostile or broken file from hanging driftcheck or exhausting memory.

No real export comes near them: gcloud and the Cloud Run API nest about a dozen levels and write no YAML aliases,
and the largest Terraform state seen in the wild is tens of megabytes. Each limit is an input error naming the file.
"""

from __future__ import annotations

import mmap
import os
import re
from pathlib import Path
from typing import Any

import yaml

from driftcheck.errors import InputError

MAX_FILE_MB_ENV = "DRIFTCHECK_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 100
MAX_DEPTH = 100  # levels of nesting of one document; real exports nest about a dozen
# Where an alias can start a node (after a key, a dash, a bracket, a comma, or at the start of a line); anything
# else with a `*` (a glob, a quoted string) is not one, and spares the event scan below.
_MAYBE_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]", re.MULTILINE)
_MAYBE_ALIAS_BYTES = re.compile(_MAYBE_ALIAS.pattern.encode(), re.MULTILINE)


def max_file_bytes() -> int:
    """The size above which a file is refused unread: DRIFTCHECK_MAX_FILE_MB, else 100 MB."""
    return int(positive_setting(MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB, "megabytes") * 2**20)


def positive_setting(variable: str, default: float, unit: str) -> float:
    """A limit from the environment: a number above 0, else an input error naming the variable; unset, `default`."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InputError(f"{variable}={raw!r} is not a positive number of {unit}")
    return value


def check_size(size: int, label: str) -> None:
    """Refuse before reading: a file this large is not an export, and reading it would hold it all in memory."""
    limit = max_file_bytes()
    if size > limit:
        raise InputError(
            f"file is {_amount(size)}, above the {_amount(limit)} limit for one evidence file "
            f"(no real export is that large; raise it with {MAX_FILE_MB_ENV}=N)",
            file=label,
        )


def _amount(size: int) -> str:
    return f"{round(size / 2**20, 1):g} MB" if size >= 2**20 // 10 else f"{size / 2**10:.0f} KB"


def refuse_yaml_aliases(text: str | bytes | mmap.mmap, label: str) -> None:
    """YAML aliases (`*a`) are refused, not expanded: gcloud never writes them, and ten nested ones turn a
    1 KB file into a billion values. Scanning events expands nothing, so the refusal is immediate. `text` may
    be a file's bytes (a memory map): they are searched in place, and copied only when an alias may be there."""
    if isinstance(text, str):
        if "*" not in text or not _MAYBE_ALIAS.search(text):  # the plain search first: it runs at memchr speed
            return
    elif text.find(b"*") < 0 or not _MAYBE_ALIAS_BYTES.search(text):
        return
    else:
        text = bytes(text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                raise InputError(
                    f"YAML alias *{event.anchor} is not supported (gcloud never writes aliases, and nested "
                    "ones can expand a small file into billions of values)",
                    file=label,
                    where=f"line {event.start_mark.line + 1}" if event.start_mark else None,
                )
    except yaml.YAMLError:
        return  # malformed: the ordinary load says where


def check_depth(data: Any, label: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, walking it without recursion (so it cannot overflow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(too_deep_message(), file=label)
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values() if isinstance(child, dict | list))
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value if isinstance(child, dict | list))


def too_deep_message() -> str:
    return f"nested more than {MAX_DEPTH} levels deep (no real export nests more than a few dozen)"


def path_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None
