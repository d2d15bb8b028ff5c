"""Shared test helpers: paths to the bundled fixtures and the read-only shared corpus, and a CLI runner."""

from __future__ import annotations

import json
import os
import socket
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
AUDIT = FIXTURES / "audit-live"  # the audit's fake world (world/) and its driftcheck.toml
AUDIT_CONFIG = AUDIT / "driftcheck.toml"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """The installed console entry point, in a subprocess: exit codes and stderr exactly as a user sees them.
    `env`: variables to set on top of this process's environment."""
    completed = subprocess.run(
        [sys.executable, "-m", "driftcheck", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def cli() -> Any:
    return run_cli


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collecting no test is a failure, not a pass (pytest's exit code 5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def gcs_emulator(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A running gcp-storage-emulator (in memory) and a storage client on it. STORAGE_EMULATOR_HOST points at it,
    which google-cloud-storage honours in this process and in the CLI subprocesses it starts."""
    emulator = pytest.importorskip("gcp_storage_emulator.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = emulator.create_server("127.0.0.1", port, in_memory=True)
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    try:
        from google.cloud import storage

        yield storage.Client(project="test")
    finally:
        server.stop()


@pytest.fixture
def gcs_bucket(gcs_emulator: Any) -> str:
    """An empty bucket, `acme-audit`, in the emulator."""
    gcs_emulator.create_bucket("acme-audit")
    return "acme-audit"


@pytest.fixture
def audit_server() -> Any:
    """The fake Google APIs serving fixtures/audit-live/world (three projects), for audit tests."""
    from fakegcp import FakeGcpServer, World  # lazy: most tests need no gRPC server

    with FakeGcpServer(World.from_folder(AUDIT / "world")) as fake:
        yield fake
