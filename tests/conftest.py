"""Shared test helpers: paths to the bundled fixtures and the read-only shared corpus, and a CLI runner."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
INCIDENT = FIXTURES / "incident"
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str | Path, cwd: Path | None = None) -> Run:
    """The installed console entry point, in a subprocess: exit codes and stderr exactly as a user sees them."""
    completed = subprocess.run(
        [sys.executable, "-m", "driftcheck", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def cli() -> Any:
    return run_cli


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collecting no test is a failure, not a pass (pytest's exit code 5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
