"""Reporters: pure functions from a Result to text. To add a format, write a module with `render(result) -> str`
and list it in FORMATS.

A format's module is imported only when that format is asked for: the table's rich costs ~40 ms of start-up
that a JSON or Markdown run does not need.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from driftcheck.ruleset.findings import Result

Reporter = Callable[[Result], str]

FORMATS: dict[str, str] = {  # format name -> module in driftcheck.report
    "table": "table",
    "json": "json_format",
    "markdown": "markdown",
}


def reporter(name: str) -> Reporter:
    render: Reporter = importlib.import_module(f"driftcheck.report.{FORMATS[name]}").render
    return render
