"""`driftcheck audit` and `driftcheck merge` against the fake Google API server serving fixtures/audit-live/world.

The world: netra-staging (auth, api without its connector, billing, ledger-eu with ALL_TRAFFIC egress, worker
without VPC access), netra-prod (api) and netra-dev (api); fixtures/audit-live/driftcheck.toml declares the
staging-backends peer group, the staging/prod api pair, the staging Terraform state and two ignores.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import AUDIT_CONFIG, FIXTURES, Run, run_cli
from fakegcp import FakeGcpServer, World
from google.cloud import run_v2

CONFIG = AUDIT_CONFIG
LEDGER = "projects/netra-staging/locations/us-central1/services/ledger-eu"



def _audit(
    fake: FakeGcpServer,
    history: Path | str,
    *extra: str | Path,
    env: dict[str, str] | None = None,
    process: bool = False,
) -> Run:
    """`process`: in a process of its own, as the next nightly run is, with its own fingerprint key for credentials."""
    args = ["audit", "--config", CONFIG, "--endpoint", fake.address, "--history", history, *extra]
    return run_cli(*args, env=env, process=process)


def _rules(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["rule"], f["subject"]) for f in report["findings"]]


def test_two_audits_around_a_change_report_exactly_that_change(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    first = _audit(audit_server, tmp_path / "h", "--format", "json", process=True)
    assert first.code == 1, first.stderr  # critical drift of staging/api: findings at or above "high"
    assert first.json()["changes"] == []
    assert "first audit of netra-staging, netra-prod, netra-dev" in " ".join(first.json()["notes"])

    audit_server.world.services[LEDGER].template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY
    second = _audit(audit_server, tmp_path / "h", "--format", "json").json()

    assert [(c["service"], c["path"], c["kind"], c["from"], c["to"]) for c in second["changes"]] == [
        ("netra-staging/us-central1/ledger-eu", "vpc.egress", "changed", "all_traffic", "private_ranges_only")
    ]
    change = second["changes"][0]
    assert change["before"] < change["after"]
    # The fix also ends the peer-group finding it caused, and nothing else moved.
    assert ("peer-group-outlier", "netra-staging/us-central1/ledger-eu") in _rules(first.json())
    assert set(_rules(first.json())) - set(_rules(second)) == {
        ("peer-group-outlier", "netra-staging/us-central1/ledger-eu")
    }

    history = run_cli("history", "ledger-eu", "--path", "vpc.egress", "--history", tmp_path / "h", "--format", "json")
    assert history.code == 0, history.stderr
    assert [(c["before"], c["after"], c["from"], c["to"]) for c in history.json()] == [
        (change["before"], change["after"], "all_traffic", "private_ranges_only")
    ]


def test_history_of_a_name_in_several_projects_asks_which(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    assert _audit(audit_server, tmp_path / "h", "--format", "json").code == 1
    ambiguous = run_cli("history", "api", "--history", tmp_path / "h")
    assert ambiguous.code == 2
    assert "netra-dev, netra-prod, netra-staging: pass --project" in ambiguous.stderr
    chosen = run_cli("history", "api", "--project", "netra-prod", "--history", tmp_path / "h")
    assert chosen.code == 0 and chosen.stdout.startswith("api: 0 changes across 1 snapshots")


def test_a_peer_group_outlier_names_the_outlier_and_the_majority(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    report = _audit(audit_server, tmp_path / "h", "--format", "json").json()
    outliers = [f for f in report["findings"] if f["rule"] == "peer-group-outlier"]
    assert len(outliers) == 1  # the worker differs too, but an ignore in the config covers it
    outlier = outliers[0]
    assert outlier["subject"] == "netra-staging/us-central1/ledger-eu"
    assert "ledger-eu has vpc.egress = all_traffic" in outlier["explanation"]
    assert "the rest of peer group staging-backends has private_ranges_only (2/4 agree)" in outlier["explanation"]
    assert outlier["evidence"][0] | {"source": None} == {
        "path": "vpc.egress", "baseline": "private_ranges_only", "target": "all_traffic", "source": None
    }
    assert "2 findings ignored by ignores[0] (batch worker reaches no private range)" in report["notes"]


def test_one_report_has_drift_parity_and_environment_findings(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    report = _audit(audit_server, tmp_path / "h", "--format", "json").json()
    rules = _rules(report)
    assert ("iac-drift", "netra-staging/us-central1/api") in rules  # the connector lost outside Terraform
    assert ("iac-missing", "netra-staging/us-central1/legacy-worker") in rules
    assert ("environment-mismatch", "netra-prod/us-central1/api") in rules
    assert report["findings"][0]["severity"] == "critical"
    assert report["status"]["reason"] == "audit of 7 services in 3 projects"
    expired = "ignores[1] expired on 2026-01-31 and applies no more (migration to per-service accounts, INFRA-412)"
    assert expired in report["notes"]


def test_three_shards_merged_equal_one_unsharded_audit(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    whole = _audit(audit_server, tmp_path / "whole", "--format", "json")
    parts = tmp_path / "parts"
    parts.mkdir()
    for index in range(3):  # shard 0 in a process of its own: the merge meets two fingerprint keys, as Cloud Run's do
        task = {"CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": "3"}
        shard = _audit(audit_server, tmp_path / "sharded", "--partial", f"{parts}/", env=task, process=index == 0)
        assert shard.code == 0, shard.stderr
        assert shard.stdout == ""  # a shard writes its partial, not a report
    assert sorted(p.name for p in parts.iterdir()) == [f"part-{i}-of-3.json" for i in range(3)]
    assert [json.loads((parts / f"part-{i}-of-3.json").read_text())["projects"] for i in range(3)] == [
        ["netra-staging"], ["netra-prod"], ["netra-dev"]
    ]
    merged = run_cli("merge", parts, "--config", CONFIG, "--format", "json")
    assert merged.code == whole.code == 1
    assert merged.json() == whole.json()
    # the environment pair spans shards 0 and 1: only the merge can see both sides
    assert ("environment-mismatch", "netra-prod/us-central1/api") in _rules(merged.json())


def test_a_missing_shard_makes_the_merge_incomplete(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    for index in (0, 2):
        partial = tmp_path / f"p{index}.json"
        assert _audit(audit_server, tmp_path / "h", "--shard", f"{index}/3", "--partial", partial).code == 0
    merged = run_cli("merge", tmp_path / "p0.json", tmp_path / "p2.json", "--config", CONFIG, "--format", "json")
    report = merged.json()
    assert report["incomplete"] is True
    reasons = [u["reason"] for u in report["unverified"]]
    assert any("netra-prod/us-central1/api is not in this audit's snapshots" in reason for reason in reasons)
    strict = run_cli("merge", tmp_path / "p0.json", tmp_path / "p2.json", "--config", CONFIG, "--strict")
    assert strict.code == 3 and "could not be read" in strict.stderr
    twice = run_cli("merge", tmp_path / "p0.json", tmp_path / "p0.json", "--config", CONFIG)
    assert twice.code == 2 and "shard 0/3 is given twice" in twice.stderr


def test_strict_exits_3_when_something_could_not_be_read(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    audit_server.inject("GetConnector", "*prod-connector", "PERMISSION_DENIED")
    lenient = _audit(audit_server, tmp_path / "h", "--format", "json")
    assert lenient.code == 1
    unread = lenient.json()
    assert unread["incomplete"] is True
    (note,) = [n for n in unread["notes"] if n.startswith("could not read")]
    assert "netra-prod: connectors:projects/netra-prod/locations/us-central1/connectors/prod-connector" in note
    assert "roles/vpcaccess.viewer" in note  # what to grant
    strict = _audit(audit_server, tmp_path / "h2", "--strict", "--format", "json")
    assert strict.code == 3
    assert "1 resources could not be read (--strict)" in strict.stderr
    assert strict.json()["findings"] == unread["findings"]  # the report is still written in full
    written = _audit(audit_server, tmp_path / "h3", "--strict", "-o", tmp_path / "report.json", "--format", "json")
    assert written.code == 3
    (line,) = [line for line in written.stderr.splitlines() if line.startswith("wrote ")]
    assert line.endswith("; exit 3 (--strict: 1 resources could not be read)"), line


def test_a_project_that_cannot_be_listed_is_unread_and_not_stored(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    audit_server.inject("ListServices", "*netra-prod*", "PERMISSION_DENIED")
    run = _audit(audit_server, tmp_path / "h", "--format", "json")
    report = run.json()
    stored = sorted(p.name.split("--")[1] for p in (tmp_path / "h").iterdir())
    assert stored == ["netra-dev_us-central1.json", "netra-staging_us-central1.json"]
    assert report["incomplete"] is True
    reasons = [u["reason"] for u in report["unverified"]]
    assert any("netra-prod/us-central1/api is not in this audit's snapshots" in reason for reason in reasons)
    assert not any(f["rule"] == "environment-mismatch" for f in report["findings"])  # unknown is not absent


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:  # the name http.server dispatches POST to
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/hooks/T000/SECRET", handler
    httpd.shutdown()


def test_webhook_gets_a_summary_with_slack_text(
    audit_server: FakeGcpServer, tmp_path: Path, hook: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook
    run = _audit(audit_server, tmp_path / "h", "--webhook", url, "-o", tmp_path / "audit.html", "--format", "html")
    assert run.code == 1, run.stderr
    (payload,) = handler.received
    # One cause, one finding: the connector lost outside Terraform (its egress, its VPC path, the private-IP
    # instance it cut off and the start failure Cloud Run states) is the audit's one critical finding.
    assert payload["verdict"] == "failing" and payload["counts"]["critical"] == 1
    assert payload["reports"] == [str(tmp_path / "audit.html")]
    assert payload["text"].startswith("driftcheck audit of netra-staging, netra-prod, netra-dev (us-central1): failing")
    assert "• HIGH netra-staging/us-central1/ledger-eu: A service differs from its peer group" in payload["text"]
    assert "An0ther-S3cret" not in json.dumps(payload)


def test_a_failing_webhook_loses_neither_report_nor_snapshot(
    audit_server: FakeGcpServer, tmp_path: Path, hook: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook
    handler.status = 500
    run = _audit(audit_server, tmp_path / "h", "--webhook", url, "-o", tmp_path / "audit.json", "--format", "json")
    assert run.code == 1  # the findings decide, not the chat
    assert "webhook 127.0.0.1" in run.stderr and "HTTP 500" in run.stderr
    assert "SECRET" not in run.stderr  # a webhook URL carries its own credential
    assert json.loads((tmp_path / "audit.json").read_text())["findings"]
    assert len(list((tmp_path / "h").iterdir())) == 3
    closed = _audit(audit_server, tmp_path / "h", "--webhook", "http://127.0.0.1:9/x", "-o", tmp_path / "again.json")
    assert closed.code == 1 and "could not be reached" in closed.stderr and (tmp_path / "again.json").exists()


def test_config_outputs_are_written_too(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    config = tmp_path / "driftcheck.toml"
    config.write_text(
        'projects = ["netra-dev"]\nregions = ["us-central1"]\nfail_on = "none"\n'
        '[[outputs]]\nformat = "sarif"\npath = "out/audit.sarif"\n'
    )
    (tmp_path / "out").mkdir()
    run = run_cli("audit", "--config", config, "--endpoint", audit_server.address, "--no-history")
    assert run.code == 0, run.stderr
    assert json.loads((tmp_path / "out" / "audit.sarif").read_text())["version"] == "2.1.0"
    assert "audit of 1 services in 1 projects" in run.stdout
    # Each file written says so, with the verdict and what set the threshold (the configuration, here).
    assert f"wrote {tmp_path / 'out' / 'audit.sarif'}: " in run.stderr
    assert "; exit 0 (fail_on = none in the configuration)" in run.stderr


def test_one_off_audit_without_a_config(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    run = run_cli("audit", "--project", "netra-prod", "--region", "us-central1", "--endpoint", audit_server.address,
                  "--history", tmp_path / "h", "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json()["target"] == "audit of netra-prod (us-central1)"
    assert len(list((tmp_path / "h").iterdir())) == 1


def test_one_off_audit_reports_a_service_that_is_not_ready(audit_server: FakeGcpServer) -> None:
    """No configuration is no green lie: the region's services are peers, as for `compare` without a baseline, and
    staging's api, which does not start, is reported with its stated failure and its likely cause."""
    args = ("audit", "--project", "netra-staging", "--region", "us-central1", "--endpoint", audit_server.address,
            "--no-history")  # fmt: skip
    run = run_cli(*args, "--format", "json")
    assert run.code == 1, run.stderr
    findings = run.json()["findings"]
    assert {f["subject"] for f in findings} == {"netra-staging/us-central1/api"}  # the ready ones are its peers
    first = findings[0]
    assert (first["rule"], first["severity"]) == ("vpc-access-missing", "critical")
    assert first["status_quote"] == "failed to start and listen on the port"
    assert "container-start-failed" in first["corroborated_by"]
    assert "3/4 peers reach the VPC" in json.dumps(first)
    table = run_cli(*args, env={"COLUMNS": "160"})
    assert "No finding." not in table.stdout
    assert "netra-staging/us-central1/api: No VPC access where the peer has it" in table.stdout


def test_a_local_terraform_state_that_is_not_there_is_a_config_error(
    audit_server: FakeGcpServer, tmp_path: Path
) -> None:
    config = tmp_path / "driftcheck.toml"
    config.write_text('projects = ["netra-staging"]\nregions = ["us-central1"]\n'
                      '[terraform_state]\nnetra-staging = "states/staging.tfstate"\n')  # fmt: skip
    run = run_cli("audit", "--config", config, "--endpoint", audit_server.address, "--no-history")
    assert run.code == 2
    assert run.stderr.strip() == (
        f"driftcheck: error: {config}:terraform_state.netra-staging: no such file: {tmp_path}/states/staging.tfstate"
    )
    assert audit_server.call_count == 0  # said before any API call


def test_a_state_in_cloud_storage_that_cannot_be_read_makes_the_audit_incomplete(
    audit_server: FakeGcpServer, tmp_path: Path, gcs_bucket: str
) -> None:
    config = tmp_path / "driftcheck.toml"
    config.write_text('projects = ["netra-staging"]\nregions = ["us-central1"]\nfail_on = "none"\n'
                      f'[terraform_state]\nnetra-staging = "gs://{gcs_bucket}/no-such.tfstate"\n')  # fmt: skip
    run = run_cli("audit", "--config", config, "--endpoint", audit_server.address, "--no-history", "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json()["incomplete"] is True
    notes = run.json()["notes"]
    assert any(n.startswith(f"could not read netra-staging: terraform state gs://{gcs_bucket}/no-such") for n in notes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--config", CONFIG, "--shard", "3/3"), "--shard: expected I/N with 0 <= I < N"),
        (("--config", "missing.toml"), "missing.toml: configuration file not found"),
        (("--config", CONFIG, "--project", "x"), "give --config or --project, not both"),
        (("--config", CONFIG, "--webhook", "ftp://x"), "is not an http(s) URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(audit_server: FakeGcpServer, args: tuple[str, ...], message: str) -> None:
    run = run_cli("audit", "--endpoint", audit_server.address, "--no-history", *args)
    assert run.code == 2, run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_partial_left_from_an_earlier_run_is_named(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    for index in range(3):
        assert _audit(audit_server, tmp_path / "h", "--shard", f"{index}/3", "--partial", f"{tmp_path}/").code == 0
    old = tmp_path / "part-2-of-3.json"
    data = json.loads(old.read_text())
    data["collected"][0]["taken"] = "2026-11-27T03:00:00.000000Z"  # this task failed last night: its part is stale
    old.write_text(json.dumps(data))
    report = run_cli("merge", tmp_path, "--config", CONFIG, "--format", "json").json()
    assert any("netra-dev's may be left from an earlier run" in note for note in report["notes"])


def test_history_and_partials_in_cloud_storage(audit_server: FakeGcpServer, tmp_path: Path, gcs_bucket: str) -> None:
    history, partials = f"gs://{gcs_bucket}/history", f"gs://{gcs_bucket}/partials/nightly/"
    for index in range(3):  # last night's staging task in a process of its own: its fingerprint key is not tonight's
        last_night = _audit(audit_server, history, "--shard", f"{index}/3", "--partial", partials, process=index == 0)
        assert last_night.code == 0, last_night.stderr
    audit_server.world.services[LEDGER].template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY
    for index in range(3):
        assert _audit(audit_server, history, "--shard", f"{index}/3", "--partial", partials).code == 0
    merged = run_cli("merge", partials, "--config", CONFIG, "--format", "json")
    assert merged.code == 1, merged.stderr
    assert [(c["service"], c["path"]) for c in merged.json()["changes"]] == [
        ("netra-staging/us-central1/ledger-eu", "vpc.egress")
    ]
    timeline = run_cli("history", "ledger-eu", "--history", history, "--format", "json")
    assert [(c["path"], c["to"]) for c in timeline.json()] == [("vpc.egress", "private_ranges_only")]


def test_one_name_in_two_regions_is_two_services(tmp_path: Path) -> None:
    """`auth` in us-central1 and in europe-west1: a name is unique within a region only."""
    world = World.from_folder(FIXTURES / "incident-live")
    europe = run_v2.Service(world.services["projects/netra-staging/locations/us-central1/services/auth"])
    europe.name = "projects/netra-staging/locations/europe-west1/services/auth"
    world.add_service(europe)
    args = ["audit", "--project", "netra-staging", "--region", "us-central1", "--region", "europe-west1",
            "--history", tmp_path / "h", "--format", "json"]
    with FakeGcpServer(world) as fake:
        first = run_cli(*args, "--endpoint", fake.address, process=True)  # the next run: another fingerprint key
        assert first.code == 1, first.stderr  # the incident's api is not ready (vpc-access-missing)
        assert first.json()["status"]["reason"] == "audit of 3 services in 1 projects"
        fake.world.services[europe.name].template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.ALL_TRAFFIC
        second = run_cli(*args, "--endpoint", fake.address).json()
    assert [(c["service"], c["path"], c["to"]) for c in second["changes"]] == [
        ("netra-staging/europe-west1/auth", "vpc.egress", "all_traffic")
    ]
    ambiguous = run_cli("history", "auth", "--history", tmp_path / "h")
    assert ambiguous.code == 2 and "'auth' runs in europe-west1, us-central1" in ambiguous.stderr
    europe_only = run_cli("history", "auth", "--region", "europe-west1", "--history", tmp_path / "h", "-f", "json")
    assert [(c["path"], c["to"]) for c in europe_only.json()] == [("vpc.egress", "all_traffic")]
    assert run_cli("history", "auth", "--region", "us-central1", "--history", tmp_path / "h", "-f", "json").json() == []
