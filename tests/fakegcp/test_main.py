"""`python -m tests.fakegcp WORLD`: the fake server by hand, as README's "Try it offline" starts it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from conftest import AUDIT, AUDIT_CONFIG, ROOT, run_cli


def test_the_documented_command_serves_a_world_until_interrupted(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakegcp", str(AUDIT / "world")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline().strip()
        name, _, endpoint = line.partition("=")
        assert name == "DRIFTCHECK_ENDPOINT" and endpoint.startswith("127.0.0.1:"), line
        env = {"DRIFTCHECK_ENDPOINT": endpoint}
        snapshot = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1",
                           "-o", tmp_path / "staging.json", env=env)  # fmt: skip
        assert snapshot.code == 0 and "wrote" in snapshot.stderr, snapshot.stderr
        audit = run_cli("audit", "--config", AUDIT_CONFIG, "--history", tmp_path / "h", "--format", "json", env=env)
        assert audit.code == 1 and audit.json()["status"]["reason"] == "audit of 7 services in 3 projects"
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "serving 7 services until Ctrl-C" in stderr


def test_a_folder_without_exports_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.fakegcp", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == f"fakegcp: {tmp_path}: no .json/.yaml files"
