"""The compare job through the real command line: ranking, exit codes and one-line input errors."""

from __future__ import annotations

from pathlib import Path

from conftest import INCIDENT, run_cli


def test_incident_ranks_missing_vpc_access_first() -> None:
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "json")
    report = run.json()
    assert run.code == 1  # a critical finding is above the default --fail-on high
    assert report["findings"][0]["rule"] == "vpc-access-missing"
    first = report["findings"][0]
    assert "staging-connector" in first["explanation"]
    assert "staging-shared-postgres has only a private IP" in first["explanation"]
    assert report["status"]["ready"] is False
    assert report["status"]["latest_ready_revision"] == "api-00041-bop"


def test_fail_on_critical_still_fails_and_none_passes() -> None:
    assert run_cli("compare", "api", "auth", "--from", INCIDENT, "--fail-on", "critical").code == 1
    assert run_cli("compare", "api", "auth", "--from", INCIDENT, "--fail-on", "none").code == 0


def test_healthy_peer_against_failing_one_has_no_critical_finding() -> None:
    run = run_cli("compare", "auth", "api", "--from", INCIDENT, "--format", "json", "--fail-on", "critical")
    severities = {f["severity"] for f in run.json()["findings"]}
    assert "critical" not in severities
    assert run.code == 0


def test_unknown_service_is_one_line_exit_2() -> None:
    run = run_cli("compare", "api", "nope", "--from", INCIDENT)
    assert run.code == 2
    assert run.stderr.count("\n") == 1
    assert "nope" in run.stderr and "api, auth" in run.stderr
    assert "Traceback" not in run.stderr


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "svc.yaml"
    bad.write_text("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: [unclosed\n")
    run = run_cli("compare", "a", "b", "--from", tmp_path)
    assert run.code == 2
    assert str(bad) in run.stderr and "line" in run.stderr
    assert run.stderr.count("\n") == 1


def test_version() -> None:
    run = run_cli("--version")
    assert run.code == 0 and run.stdout.startswith("driftcheck ")


def test_usage_errors_are_one_line_exit_2() -> None:
    for args in (["compare"], ["compare", "api", "--format", "xml", "--from", str(INCIDENT)], ["compare", "--bogus"]):
        run = run_cli(*args)
        assert run.code == 2, args
        assert run.stderr.startswith("driftcheck: error: ") and run.stderr.count("\n") == 1, run.stderr
        assert "Traceback" not in run.stderr


def test_folder_with_a_file_of_no_known_kind(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')
    run = run_cli("compare", "a", "b", "--from", tmp_path)
    assert run.code == 2 and "notes.json" in run.stderr and "not a known kind" in run.stderr
