"""Golden reports: the incident compare in every format, and an audit-like Result (many services, subjects, changes
since the previous snapshot) rendered by each reporter, compared byte for byte with tests/report/golden/.

The goldens are produced by running the code, never written by hand. When a change to the rules or the reporters
is intended, rewrite them, then review `git diff tests/report/golden/` like any other change:

    DRIFTCHECK_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/report/test_golden_reports.py

The runs use run_cli (working directory: the repository root) with a relative --from and a fixed terminal width,
so no golden holds a machine's absolute path or depends on the terminal pytest runs in. The audit goldens come from
test_audit_report.audit_result() through driftcheck.report.reporter(name), the table at fixed widths.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from conftest import run_cli
from test_audit_report import audit_result

from driftcheck.report import reporter, table

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DRIFTCHECK_UPDATE_GOLDENS") == "1"
COMPARE = ("compare", "api", "auth", "--from", "fixtures/incident")
# golden file -> (format, terminal columns). The table is also kept at 80 and 160 columns, where layout breaks show.
CASES = {
    "incident.table.txt": ("table", 120),
    "incident.table-80.txt": ("table", 80),
    "incident.table-160.txt": ("table", 160),
    "incident.json": ("json", 120),
    "incident.md": ("markdown", 120),
    "incident.sarif": ("sarif", 120),
    "incident.junit.xml": ("junit", 120),
    "incident.html": ("html", 120),
}
# golden file -> (format, table width): the audit Result, rendered without the CLI.
AUDIT_CASES = {
    "audit.table.txt": ("table", 120),
    "audit.table-80.txt": ("table", 80),
    "audit.json": ("json", 120),
    "audit.md": ("markdown", 120),
    "audit.sarif": ("sarif", 120),
    "audit.junit.xml": ("junit", 120),
    "audit.html": ("html", 120),
}


@pytest.mark.parametrize("name", CASES)
def test_incident_report_matches_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    output_format, columns = CASES[name]
    monkeypatch.setenv("COLUMNS", str(columns))  # stdout is a pipe: the table takes its width from COLUMNS
    run = run_cli(*COMPARE, "--format", output_format)
    assert run.code == 1, run.stderr  # the incident's critical finding
    _check(name, run.stdout)


@pytest.mark.parametrize("name", AUDIT_CASES)
def test_audit_report_matches_golden(name: str) -> None:
    output_format, width = AUDIT_CASES[name]
    output = (
        table.render(audit_result(), width=width)
        if output_format == "table"
        else reporter(output_format)(audit_result())
    )
    _check(name, output)


def _check(name: str, output: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(output)
    assert golden.exists(), f"no {golden}: create it with DRIFTCHECK_UPDATE_GOLDENS=1 (see this module's docstring)"
    expected = golden.read_text()
    assert output == expected, _diff(expected, output, name)


def test_goldens_name_sources_relatively() -> None:
    """Relative paths in, relative paths out: a golden naming this checkout would fail in every other one."""
    root = str(Path(__file__).resolve().parents[2])
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted({**CASES, **AUDIT_CASES})
    for golden in GOLDEN.iterdir():
        text = golden.read_text()
        assert root not in text, f"{golden.name} holds this checkout's path"
        evidence = "netra-staging.json" if golden.name in AUDIT_CASES else "api.yaml"
        assert evidence in text, f"{golden.name} names no evidence file"


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"golden/{name}", "output", lineterm="")
    hint = "if the change is intended: DRIFTCHECK_UPDATE_GOLDENS=1 python -m pytest tests/report/test_golden_reports.py"
    return "\n".join([*list(lines)[:60], hint])
