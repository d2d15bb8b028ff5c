"""Terraform attribute paths as state spells them (`template[0].containers[0].env[2]`): building and matching them."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^.\[\]]+|\[[^\]]*\]")


def join(path: str, key: str) -> str:
    """`path.key`, or `path[key]` for a key a dot would misread (annotation names: `run.googleapis.com/...`)."""
    step = f"[{key}]" if "." in key or "/" in key else f".{key}"
    return (path + step).lstrip(".")


def steps(path: str) -> list[str]:
    """The path's names and `[index]` steps, in order."""
    return _TOKEN.findall(path)


def within(path: str, prefix: str) -> bool:
    """Is `path` at or under `prefix`? `[]` in either (`volumes[].cloud_sql_instance`) stands for any index."""
    tokens, head = steps(path), steps(prefix)
    if len(head) > len(tokens):
        return False
    return all(_same_step(a, b) for a, b in zip(head, tokens[: len(head)], strict=True))


def _same_step(a: str, b: str) -> bool:
    return a == b or ("[]" in (a, b) and a.startswith("[") and b.startswith("["))
