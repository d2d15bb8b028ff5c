"""Reporters: pure functions from a Result to text. To add a format, write a module with `render(result) -> str`
and list it in FORMATS. A format whose verdicts must agree with the exit code (junit: which findings are failures)
takes a `fail_on` keyword too, and is given the run's --fail-on.

A format's module is imported only when that format is asked for: the table's rich costs ~40 ms of start-up
that a JSON or Markdown run does not need.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftcheck.ruleset.findings import Result

Reporter = Callable[["Result"], str]

FORMATS: dict[str, str] = {  # format name -> module in driftcheck.report
    "table": "table",
    "json": "json_format",
    "markdown": "markdown",
    "sarif": "sarif",
    "junit": "junit",
    "html": "html",
}


def reporter(name: str, fail_on: str = "high") -> Reporter:
    render = importlib.import_module(f"driftcheck.report.{FORMATS[name]}").render
    chosen: Reporter = (
        functools.partial(render, fail_on=fail_on) if "fail_on" in inspect.signature(render).parameters else render
    )
    return chosen
