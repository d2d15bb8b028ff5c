"""`--format json`: the document, as stable machine-readable JSON (see report/document.py for the schema)."""

from __future__ import annotations

import json

from driftcheck.report import document
from driftcheck.ruleset.findings import Result


def render(result: Result) -> str:
    return json.dumps(document.build(result), indent=2, sort_keys=False) + "\n"
