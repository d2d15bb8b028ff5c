"""The side-by-side evidence at 80 columns: a long value wraps where a person would break it (after a `/`, a `.`,
before a `[`), not every N characters."""

from __future__ import annotations

from itertools import pairwise

import pytest
from conftest import INCIDENT, run_cli

CONNECTOR = "projects/netra-staging/locations/us-central1/connectors/staging-connector"
FIELD = "spec.template.metadata.annotations[run.googleapis.com/vpc-access-connector]"
BOUNDARY_AFTER = "/.:-_@ "


@pytest.fixture(scope="module")
def evidence_rows() -> list[list[str]]:
    """The evidence table's lines of the first finding, as cells (what, baseline, target, source)."""
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, env={"COLUMNS": "80"})
    assert run.code == 1, run.stderr
    lines = run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "━━━╇" in line) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("╰"))
    return [[cell.strip() for cell in line.rstrip()[1:-1].split("│")] for line in lines[start:end]]


def _fragments(rows: list[list[str]], column: int, whole: str) -> list[str]:
    """The lines a cell holding `whole` was wrapped into: from its first fragment until they add up to it."""
    for first, row in enumerate(rows):
        if row[column] and whole.startswith(row[column]):
            pieces: list[str] = []
            for later in rows[first:]:
                pieces.append(later[column])
                if "".join(pieces) == whole:
                    return pieces
    raise AssertionError(f"{whole!r} is not in column {column}: {[r[column] for r in rows]}")


def test_a_resource_path_wraps_after_its_slashes(evidence_rows: list[list[str]]) -> None:
    pieces = _fragments(evidence_rows, 1, CONNECTOR)
    assert pieces[:5] == ["projects/", "netra-staging/", "locations/", "us-central1/", "connectors/"]
    assert all(piece[-1] in BOUNDARY_AFTER for piece in pieces[:-1]), pieces


def test_a_source_field_wraps_at_dots_and_brackets(evidence_rows: list[list[str]]) -> None:
    pieces = _fragments(evidence_rows, 3, FIELD)
    assert all(piece[-1] in BOUNDARY_AFTER or after.startswith("[") for piece, after in pairwise(pieces)), pieces
    assert "metadata.annotations" in pieces and "[run.googleapis.com/" in pieces
