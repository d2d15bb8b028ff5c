"""`-o FILE` as a user gives it: a symlink is written through, `/dev/stdout` and a named pipe are written to."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from conftest import INCIDENT, run_cli, run_cli_process

COMPARE = ("compare", "api", "auth", "--from", INCIDENT, "--format", "json", "--fail-on", "none")


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "latest.json"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o644)
    link = tmp_path / "report.json"
    link.symlink_to(target)
    run = run_cli(*COMPARE, "-o", link)
    assert run.code == 0, run.stderr
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text())["target"] == "api"
    assert target.stat().st_mode & 0o777 == 0o644  # a file written over keeps its permissions


def test_output_to_dev_stdout_goes_to_standard_output() -> None:
    run = run_cli_process(*COMPARE, "-o", "/dev/stdout")  # its own fd 1: in-process, it would be the test's
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["target"] == "api"


def test_output_to_a_named_pipe_is_written_to_it(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    run = run_cli(*COMPARE, "-o", fifo)
    reader.join(timeout=30)
    assert run.code == 0, run.stderr
    assert received, "nothing was written to the pipe (was it renamed over?)"
    assert json.loads(received[0])["target"] == "api"
