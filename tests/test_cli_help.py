"""`--help` as a person reads it at 80 columns, and the hints a mistyped name gets."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli
from fakegcp import FakeGcpServer, World

COMMANDS = [
    (),
    ("compare",),
    ("drift",),
    ("audit",),
    ("merge",),
    ("snapshot",),
    ("history",),
    ("rules",),
    ("rules", "list"),
    ("rules", "show"),
    ("rules", "schema"),
]
WIDTH = 80
PYTHON_TYPE = re.compile(r"<(?:bool|str|int|float|path|list\[.*?\]|[a-z]+ range)>|\b(?:TEXT|INTEGER|BOOLEAN)\b")


def _help(command: tuple[str, ...]) -> list[str]:
    run = run_cli(*command, "--help", env={"COLUMNS": str(WIDTH)})
    assert run.code == 0, run.stderr
    return run.stdout.splitlines()


def _prose(lines: list[str]) -> list[str]:
    """The description above the first panel, without the usage line and the examples."""
    above = lines[: next(i for i, line in enumerate(lines) if line.startswith("╭"))]
    examples = next(i for i, line in enumerate(above) if line.strip() == "Examples")
    return [line.rstrip() for line in above[:examples] if not line.lstrip().startswith("Usage:")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "driftcheck")
def test_help_reads_well_at_80_columns(command: tuple[str, ...]) -> None:
    lines = _help(command)
    text = "\n".join(lines)
    assert not PYTHON_TYPE.search(text), PYTHON_TYPE.search(text)
    assert all(len(line) <= WIDTH for line in lines)
    assert "…" not in text  # nothing cut short
    for mark in ("[default:", "[env var:", "[required"):  # each shown whole, on one line
        for line in lines:
            if mark in line:
                assert "]" in line.split(mark, 1)[1], line
    # A prose line ends early only at a paragraph's end: otherwise the next line's first word would have fitted.
    prose = _prose(lines)
    for line, following in pairwise(prose):
        if line.strip() and following.strip():
            assert len(line) + 1 + len(following.split()[0]) > WIDTH - 1, f"broken mid-sentence: {line!r}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "driftcheck")
def test_every_command_has_examples_that_fit(command: tuple[str, ...]) -> None:
    lines = _help(command)
    start = next(i for i, line in enumerate(lines) if line.strip() == "Examples")
    end = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    examples = [line.rstrip() for line in lines[start + 1 : end] if line.strip()]
    assert examples and examples[0].lstrip().startswith("driftcheck ")
    for line, following in zip(examples, [*examples[1:], ""], strict=True):
        # an example is one line, or goes on after a shell continuation `\`, indented further
        if not line.endswith("\\"):
            assert not following or following.lstrip().startswith("driftcheck "), f"example broken: {line!r}"


def test_history_suggests_the_closest_service_name(tmp_path: Path) -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    with FakeGcpServer(world) as server:
        scope = ("--project", "netra-staging", "--region", "us-central1", "--endpoint", server.address)
        stored = run_cli("snapshot", *scope, "--history", tmp_path)
    assert stored.code == 0, stored.stderr
    run = run_cli("history", "auht", "--history", tmp_path)
    assert run.code == 2
    assert run.stderr == (
        "driftcheck: error: no service 'auht' in any of the 1 snapshots in history; did you mean 'auth'?\n"
    )
    unlike = run_cli("history", "billing", "--history", tmp_path)
    assert unlike.stderr == "driftcheck: error: no service 'billing' in any of the 1 snapshots in history\n"
