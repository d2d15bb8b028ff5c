"""A live run that cannot reach the API, or has no credentials, stops within seconds and says why (exit 2)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from conftest import run_cli

SCOPE = ("--project", "netra-staging", "--region", "us-central1")


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [("compare", "api", "auth"), ("audit", "--no-history")])  # snapshot: as audit
def test_an_unreachable_endpoint_is_one_line_naming_the_host(command: tuple[str, ...], tmp_path: Path) -> None:
    host = f"127.0.0.1:{closed_port()}"
    env = {"DRIFTCHECK_ENDPOINT": host, "DRIFTCHECK_CONNECT_TIMEOUT": "0.5"}
    run = run_cli(*command, *SCOPE, cwd=tmp_path, env=env)
    assert run.code == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    waiting = [line for line in lines if line.startswith("driftcheck: retrying (round ")]
    assert waiting and all(host in line for line in waiting)  # it said it was waiting, on a pipe too
    assert [int(line.split("round ")[1].split(")")[0]) for line in waiting] == list(range(1, len(waiting) + 1))
    (error,) = [line for line in lines if line not in waiting]
    assert error == f"driftcheck: error: cannot reach {host} (no connection within 0.5 s): check the network, " \
                    "a proxy or firewall, or --endpoint"  # fmt: skip
    assert run.stdout == ""


def test_no_credentials_says_how_to_log_in(tmp_path: Path) -> None:
    missing = tmp_path / "adc.json"
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(missing), "DRIFTCHECK_ENDPOINT": ""}
    run = run_cli("snapshot", *SCOPE, "-o", tmp_path / "snap.json", env=env)
    assert run.code == 2
    assert run.stderr.strip() == (
        f"driftcheck: error: no Google credentials (File {missing} was not found): run "
        "`gcloud auth application-default login`, or pass --from with exported files"
    )


def test_a_bad_connect_timeout_is_an_input_error(tmp_path: Path) -> None:
    env = {"DRIFTCHECK_ENDPOINT": f"127.0.0.1:{closed_port()}", "DRIFTCHECK_CONNECT_TIMEOUT": "soon"}
    run = run_cli("compare", "api", "auth", *SCOPE, env=env)
    assert run.code == 2
    assert run.stderr.strip() == (
        "driftcheck: error: DRIFTCHECK_CONNECT_TIMEOUT='soon' is not a positive number of seconds"
    )
