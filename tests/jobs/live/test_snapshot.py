"""Snapshots: scope from the environment, several regions, atomic writes, and the file read back offline."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, INCIDENT, ROOT, run_cli
from fakegcp import FakeGcpServer, World

from driftcheck.errors import DriftcheckError
from driftcheck.fileio import write_atomic

WORLD = FIXTURES / "incident-live"



def test_snapshot_records_scope_version_and_fetch_errors(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    denied = {("GetIamPolicy", "*/secrets/*"): "PERMISSION_DENIED"}  # the secret's policy, not the project's
    with FakeGcpServer(World.from_folder(WORLD), faults=denied) as server:
        run = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1", "--region", "europe-west1",
                      "--endpoint", server.address, "-o", out)
        listed = sorted(server.called("ListServices"))
    assert run.code == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["driftcheck_snapshot"] == 1 and data["tool"]["name"] == "driftcheck"
    assert data["scope"] == {"project": "netra-staging", "regions": ["us-central1", "europe-west1"]}
    assert listed == ["projects/netra-staging/locations/europe-west1", "projects/netra-staging/locations/us-central1"]
    assert sorted(s["name"].rsplit("/", 1)[-1] for s in data["services"]) == ["api", "auth"]
    assert data["errors"]["secret iam:db-password"].startswith("PERMISSION_DENIED")
    assert "1 fetch errors" in run.stderr


def test_project_and_region_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "snap.json"
    with FakeGcpServer(World.from_folder(WORLD)) as server:
        monkeypatch.setenv("CLOUDSDK_CORE_PROJECT", "netra-staging")
        monkeypatch.setenv("CLOUDSDK_RUN_REGION", "us-central1")
        monkeypatch.setenv("DRIFTCHECK_ENDPOINT", server.address)
        run = run_cli("snapshot", "-o", out)
    assert run.code == 0, run.stderr
    assert json.loads(out.read_text())["scope"] == {"project": "netra-staging", "regions": ["us-central1"]}


def test_snapshot_of_another_format_version_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps({"driftcheck_snapshot": 99, "services": []}))
    run = run_cli("compare", "api", "auth", "--from", bad)
    assert run.code == 2 and "old.json" in run.stderr and "driftcheck_snapshot" in run.stderr


def test_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("old and complete")

    def interrupted(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)  # Ctrl-C arrives while the new content is being flushed
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new " * 10_000)
    assert target.read_text() == "old and complete"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_unwritable_output_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(DriftcheckError, match="cannot write"):
        write_atomic(tmp_path / "missing-folder" / "out.json", "x")
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "-o", tmp_path / "missing-folder" / "r.txt")
    assert run.code == 2 and "cannot write" in run.stderr


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` provides the terminal")
def test_progress_goes_to_a_terminal_stderr_only(tmp_path: Path) -> None:
    """Under a pseudo-terminal the snapshot draws progress; redirected stdout still receives nothing."""
    out, stdout = tmp_path / "snap.json", tmp_path / "stdout.txt"
    with FakeGcpServer(World.from_folder(WORLD), latency=0.2) as server:
        command = (f"{shlex.quote(sys.executable)} -m driftcheck snapshot --project netra-staging "
                   f"--region us-central1 --endpoint {server.address} -o {out} > {stdout}")
        done = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True,
                              check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout
    assert "fetching" in done.stdout and "calls" in done.stdout  # the terminal saw the progress bar
    assert stdout.read_text() == ""
    assert json.loads(out.read_text())["services"]


def test_a_project_that_cannot_be_listed_is_one_line_naming_the_role(tmp_path: Path) -> None:
    with FakeGcpServer(World.from_folder(WORLD), faults={"ListServices": "PERMISSION_DENIED"}) as server:
        run = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1",
                      "--endpoint", server.address, "-o", tmp_path / "snap.json")
    assert run.code == 2 and not (tmp_path / "snap.json").exists()
    assert "cannot list the services of netra-staging: PERMISSION_DENIED" in run.stderr
    assert "roles/run.viewer" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_an_error_message_quoting_a_credential_is_redacted_in_the_snapshot_file(tmp_path: Path) -> None:
    import grpc
    from fakegcp.server import Fault

    leaky = "connector config rejected: postgresql://admin:Hunter2-Leak@10.0.0.1/db"
    faults = {"GetIamPolicy": Fault(grpc.StatusCode.PERMISSION_DENIED, leaky)}
    with FakeGcpServer(World.from_folder(WORLD), faults=faults) as server:
        run = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1",
                      "--endpoint", server.address, "-o", tmp_path / "snap.json", "--history", tmp_path / "h")
    assert run.code == 0, run.stderr
    for written in (tmp_path / "snap.json", *(tmp_path / "h").iterdir()):
        text = written.read_text()
        assert "admin:[REDACTED]@10.0.0.1" in text and "Hunter2-Leak" not in text, written


def test_the_value_after_a_credential_flag_is_not_kept_in_the_snapshot_file(tmp_path: Path) -> None:
    """`--password hunter2` is two list items: the second says nothing by its shape, only by its place."""
    world = tmp_path / "world"
    shutil.copytree(WORLD, world)
    api = json.loads((world / "api.json").read_text())
    api["template"]["containers"][0]["args"] = ["serve", "--db-password", "Plain-Hunter2-Leak", "--port", "8080"]
    (world / "api.json").write_text(json.dumps(api))
    with FakeGcpServer(World.from_folder(world)) as server:
        run = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1",
                      "--endpoint", server.address, "-o", tmp_path / "snap.json")
    assert run.code == 0, run.stderr
    text = (tmp_path / "snap.json").read_text()
    assert "Plain-Hunter2-Leak" not in text
    (stored,) = [s for s in json.loads(text)["services"] if s["name"].endswith("/api")]
    args = stored["template"]["containers"][0]["args"]
    assert args[:2] == ["serve", "--db-password"] and args[2].startswith("[REDACTED")
    assert args[3:] == ["--port", "8080"]  # only the credential's value goes


def test_a_file_name_with_control_characters_is_said_escaped(tmp_path: Path) -> None:
    out = tmp_path / "snap\x1b[31m.json"
    with FakeGcpServer(World.from_folder(WORLD)) as server:
        run = run_cli("snapshot", "--project", "netra-staging", "--region", "us-central1",
                      "--endpoint", server.address, "-o", out, "--history", tmp_path / "h\x07")
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr
    assert "snap\\x1b[31m.json" in run.stderr and "h\\x07" in run.stderr
