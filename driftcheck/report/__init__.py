"""Reporters: pure functions from a Result to text. To add a format, write a module and list it in FORMATS."""

from __future__ import annotations

from collections.abc import Callable

from driftcheck.report import json_format, markdown, table
from driftcheck.ruleset.findings import Result

Reporter = Callable[[Result], str]

FORMATS: dict[str, Reporter] = {
    "table": table.render,
    "json": json_format.render,
    "markdown": markdown.render,
}
