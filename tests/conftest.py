"""Shared test helpers: paths to the bundled fixtures and the read-only shared corpus, the CLI runners (in this
process by default, in a subprocess where only a process shows it), and the fake servers' fixtures."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
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
_EVERY_RUN_IN_A_PROCESS = False  # --cli-process: run_cli starts a subprocess too


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, process: bool = False
) -> Run:
    """`python -m driftcheck ARGS` in this process, through the same entry point: exit code, stdout and stderr as a
    user sees them, half a second sooner than a subprocess (the imports are paid once per test process).

    For the call, as a subprocess would have them: `env` on top of this process's environment, `cwd` (default: the
    checkout) as the working directory, an empty stdin, stdout and stderr as pipes (UTF-8, no terminal: no colour,
    the default width), logging and warnings reaching stderr; all restored afterwards. `process=True` runs it in a
    fresh interpreter (`run_cli_process`), for what only a process shows: which modules a run imports, a write to
    /dev/stdout, and two runs compared where a new process would differ (redact's per-process fingerprint key,
    str hash order)."""
    if process or _EVERY_RUN_IN_A_PROCESS:
        return run_cli_process(*args, cwd=cwd, env=env)
    stdout, stderr = io.BytesIO(), io.BytesIO()
    with _environment(env), contextlib.chdir(cwd or ROOT), _standard_streams(stdout, stderr), _as_a_fresh_process():
        code = _exit_status(_main(list(map(str, args))))
    return Run(code, stdout.getvalue().decode(), stderr.getvalue().decode())


def write_snapshot(folder: Path, project: str, **stored: dict[str, Any]) -> Path:
    """A driftcheck snapshot of `project` with no service and the given kinds' stored answers, by snapshot key."""
    path = folder / "snapshot.json"
    data = {"driftcheck_snapshot": 1, "scope": {"project": project}, "services": [], **stored}
    path.write_text(json.dumps(data))
    return path


def write_state(folder: Path, *resources: tuple[str, dict[str, Any]]) -> Path:
    """A terraform.tfstate (format 4) holding one instance of each (type, attributes) given."""
    listed = [
        {
            "mode": "managed",
            "type": kind,
            "name": f"r{index}",
            "provider": 'provider["registry.terraform.io/hashicorp/google"]',
            "instances": [{"schema_version": 0, "attributes": attributes}],
        }
        for index, (kind, attributes) in enumerate(resources)
    ]
    state = {"version": 4, "terraform_version": "1.7.5", "serial": 1, "lineage": "0" * 8, "resources": listed}
    path = folder / "terraform.tfstate"
    path.write_text(json.dumps(state))
    return path


def compare_rule_fixture(folder: Path) -> dict[str, Any]:
    """A rule fixture's target.yaml against its baseline.yaml, with the folder as evidence: the JSON report."""
    run = run_cli("compare", folder / "target.yaml", folder / "baseline.yaml", "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


def findings_of(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def run_cli_process(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """`python -m driftcheck ARGS` in a fresh interpreter, stdin empty. `env`: variables to set on top of this
    process's environment. Output is decoded as written (no newline translation), as `run_cli` returns it."""
    completed = subprocess.run(
        [sys.executable, "-m", "driftcheck", *map(str, args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd or ROOT,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    return Run(completed.returncode, completed.stdout.decode(), completed.stderr.decode())


def _main(args: list[str]) -> object:
    """driftcheck/__main__.py run as `python -m driftcheck ARGS` runs it (runpy sets argv[0] and __main__, so usage
    lines name `python -m driftcheck` as there); what it exits with: SystemExit's code, or None if it returns."""
    saved, sys.argv = sys.argv, ["-m", *args]
    try:
        runpy.run_module("driftcheck", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code
    finally:
        sys.argv = saved
    return None


def _exit_status(code: object) -> int:
    """As the interpreter turns SystemExit into a status: None is 0, a number its low byte, anything else is
    printed to stderr and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code % 256
    print(code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _environment(extra: dict[str, str] | None) -> Iterator[None]:
    """`extra` set for the call; afterwards the environment is as it was, whatever the call changed."""
    saved = dict(os.environ)
    os.environ.update(extra or {})
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


@contextlib.contextmanager
def _standard_streams(stdout: io.BytesIO, stderr: io.BytesIO) -> Iterator[None]:
    """stdin empty, stdout and stderr into `stdout` and `stderr`, with the error handlers Python gives pipes;
    sys.__stdout__ and the others too: the terminal size is read from sys.__stdout__ (a pipe has none)."""
    names = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")
    saved = {name: getattr(sys, name) for name in names}
    streams = {
        "stdin": io.TextIOWrapper(io.BytesIO(), encoding="utf-8"),
        "stdout": io.TextIOWrapper(stdout, encoding="utf-8", errors="strict", write_through=True),
        "stderr": io.TextIOWrapper(stderr, encoding="utf-8", errors="backslashreplace", write_through=True),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    try:
        yield
    finally:
        for stream in streams.values():
            stream.flush()
            stream.detach()  # leaves the bytes readable
        for name, value in saved.items():
            setattr(sys, name, value)


@contextlib.contextmanager
def _as_a_fresh_process() -> Iterator[None]:
    """Logging and warnings as a new interpreter has them, not as pytest set them up to collect them: no handler on
    the root logger (a warning reaches stderr through logging's last resort) and the default warning filters, with
    warnings printed to stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
                warnings.simplefilter("ignore", category)
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            warnings.showwarning = _warning_to_stderr
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _warning_to_stderr(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cli-process",
        action="store_true",
        help="driftcheck's tests: run_cli starts a subprocess too (slower; checks in-process runs hide nothing)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _EVERY_RUN_IN_A_PROCESS
    _EVERY_RUN_IN_A_PROCESS = bool(config.getoption("--cli-process"))


@pytest.fixture
def cli() -> Any:
    return run_cli


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collecting no test is a failure, not a pass (pytest's exit code 5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def storage_emulator() -> Any:
    """One gcp-storage-emulator (in memory) per test process, and its address: stopping one takes half a second
    (its HTTP server polls for shutdown), so it is shared; `gcs_emulator` empties it for each test."""
    emulator = pytest.importorskip("gcp_storage_emulator.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = emulator.create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcs_emulator(storage_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The storage emulator, emptied (no bucket, no object), and a storage client on it. STORAGE_EMULATOR_HOST points
    at it, which google-cloud-storage honours in this process, in CLI runs and in the subprocesses they start."""
    server, address = storage_emulator
    server.wipe()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", address)
    from google.cloud import storage

    return storage.Client(project="test")


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
