"""Live compare through the real Google clients over real gRPC, against the fake API server in tests/fakegcp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from fakegcp import FakeGcpServer, World
from google.cloud import run_v2

WORLD = FIXTURES / "incident-live"
LAST_READY = FIXTURES / "incident-live-revisions" / "api-00041-bop.json"
SCOPE = ("--project", "netra-staging", "--region", "us-central1")


def incident_world() -> World:
    world = World.from_folder(WORLD)
    world.add_revision(run_v2.Revision.from_json(LAST_READY.read_text()))  # the revision that still had VPC access
    return world


@pytest.fixture
def server() -> Iterator[FakeGcpServer]:
    with FakeGcpServer(incident_world(), page_size=1) as fake:
        yield fake


def ranked(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["severity"], f["explanation"]) for f in report["findings"]]


def live(server: FakeGcpServer, *args: str) -> Any:
    return run_cli("compare", *args, *SCOPE, "--endpoint", server.address, "--format", "json")


def test_live_compare_ranks_like_the_exported_files(server: FakeGcpServer) -> None:
    online = live(server, "api", "auth")
    offline = run_cli("compare", "api", "auth", "--from", WORLD, "--format", "json")
    exported_v1 = run_cli("compare", "api", "auth", "--from", INCIDENT, "--format", "json")  # gcloud --format=yaml
    assert online.code == offline.code == exported_v1.code == 1
    assert ranked(online.json()) == ranked(offline.json()) == ranked(exported_v1.json())
    assert online.json()["findings"][0]["rule"] == "vpc-access-missing"
    assert ("AccessSecretVersion", "projects/netra-staging/secrets/db-password") not in server.calls
    assert not [c for c in server.calls if c[0] == "AccessSecretVersion"]


def test_latest_against_last_ready_finds_what_the_deploy_dropped(server: FakeGcpServer) -> None:
    run = live(server, "api@latest", "api@last-ready")
    report = run.json()
    assert report["target"] == "api@latest (api-00042-fix)"
    assert report["baselines"] == ["api@last-ready (api-00041-bop)"]
    assert report["findings"][0]["rule"] == "vpc-access-missing"
    fix = report["findings"][0]["remediation"]["gcloud"]
    assert fix.startswith("gcloud run services update api --region us-central1 ")  # the service, not the label
    assert sorted(server.called("GetRevision")) == [  # fetched concurrently, in one round
        "projects/netra-staging/locations/us-central1/services/api/revisions/api-00041-bop",
        "projects/netra-staging/locations/us-central1/services/api/revisions/api-00042-fix",
    ]


# A rule that says who may invoke the target, from its own IAM policy and the permission resolver's answer.
PUBLIC_RULE = """
id: invokable-by-everyone
title: Everyone may invoke the target
severity: info
scope: target
description: The target's own policy grants allUsers roles/run.invoker.
when: >-
  target.refs.resources.run_service_iam_policy.exists(p, !is_unknown(p.resource)
  && "allUsers" in p.resource.bindings["roles/run.invoker"])
  && target.refs.invokers.exists(i, i.member == "allUsers" && i.invoke.access == "granted")
explanation: "{{ target.name }}'s own policy lets everyone invoke it"
docs: https://cloud.google.com/run/docs/authenticating/public
"""


def test_a_revision_compare_reads_the_service_s_iam_policy(server: FakeGcpServer, tmp_path: Path) -> None:
    # The policy is the service's (api), not the revision's as the report names it (api@latest (api-00042-fix)).
    server.world.set_run_iam_policy("api", {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]})
    (tmp_path / "invokable-by-everyone.yaml").write_text(PUBLIC_RULE)
    run = live(server, "api@latest", "api@last-ready", "--rules", str(tmp_path))
    assert run.code == 1, run.stderr
    report = run.json()
    assert report["target"] == "api@latest (api-00042-fix)"
    found = [f["explanation"] for f in report["findings"] if f["rule"] == "invokable-by-everyone"]
    assert found == ["api@latest (api-00042-fix)'s own policy lets everyone invoke it"]
    assert not [n for n in report["notes"] if "run_service_iam_policies" in n]  # nothing unread
    assert report["incomplete"] is False
    services = "projects/netra-staging/locations/us-central1/services/"
    assert [r for r in server.called("GetIamPolicy") if r.startswith(services)] == [f"{services}api"]  # once


def test_no_baseline_compares_a_failed_deploy_with_its_last_ready_revision(server: FakeGcpServer) -> None:
    report = live(server, "api").json()
    assert report["baselines"] == ["api@last-ready (api-00041-bop)"]
    assert any("last ready" in note for note in report["notes"])


def test_no_baseline_for_a_healthy_service_uses_the_region_as_peers(server: FakeGcpServer) -> None:
    report = live(server, "auth").json()
    assert report["baselines"] == ["api"]  # found by listing the region, one service per page
    assert server.counts["ListServices"] == 2


def test_denied_iam_policy_is_unverified_not_a_finding(server: FakeGcpServer) -> None:
    server.inject("GetIamPolicy", "*", "PERMISSION_DENIED")
    run = live(server, "api", "auth")
    report = run.json()
    assert run.code == 1  # --fail-on still applies to what could be verified
    assert report["findings"][0]["rule"] == "vpc-access-missing"
    assert "secret-access-denied" not in {f["rule"] for f in report["findings"]}
    assert report["incomplete"] is True
    unverified = {u["rule"]: u for u in report["unverified"]}
    assert "secretmanager.secrets.getIamPolicy" in unverified["secret-access-denied"]["reason"]


def test_transient_errors_are_retried_to_the_same_result(server: FakeGcpServer) -> None:
    clean = ranked(live(server, "api", "auth").json())
    server.inject("*", "*", ["UNAVAILABLE", "RESOURCE_EXHAUSTED"])
    server.inject("GetIamPolicy", "*", ["DEADLINE_EXCEEDED"])
    retried = live(server, "api", "auth")
    assert ranked(retried.json()) == clean
    assert retried.json()["incomplete"] is False
    # Every call failed twice (GetIamPolicy three times), in parallel: one "retrying" line per round, not one per
    # call, on a pipe too.
    waiting = [line for line in retried.stderr.splitlines() if line.startswith("driftcheck: retrying")]
    assert [line.split(":")[1] for line in waiting] == [f" retrying (round {n})" for n in (1, 2, 3)]
    assert "UNAVAILABLE" in waiting[0]


def test_missing_target_is_an_input_error(server: FakeGcpServer) -> None:
    run = live(server, "nope", "auth")
    assert run.code == 2
    assert "nope" in run.stderr and "NOT_FOUND" in run.stderr and run.stderr.count("\n") == 1


def test_endpoint_from_the_environment(server: FakeGcpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCHECK_ENDPOINT", server.address)
    run = run_cli("compare", "api", "auth", *SCOPE, "--format", "json")
    assert run.json()["findings"][0]["rule"] == "vpc-access-missing"
    assert server.counts["GetService"] == 2


def test_snapshot_then_offline_compare_gives_the_same_findings(server: FakeGcpServer, tmp_path: Path) -> None:
    snapshot = tmp_path / "staging.json"
    taken = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", snapshot, process=True)  # another key
    assert taken.code == 0 and "2 services" in taken.stderr
    assert taken.stdout == ""
    written = snapshot.read_text()
    assert "Sup3rS3cret-pg" not in written and "An0ther-S3cret" not in written  # DATABASE_URL passwords
    assert "[REDACTED:" in written
    from_snapshot = run_cli("compare", "api", "auth", "--from", snapshot, "--format", "json")
    assert ranked(from_snapshot.json()) == ranked(live(server, "api", "auth").json())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_denied_cloud_sql_read_names_the_permission_and_is_never_a_cause(server: FakeGcpServer) -> None:
    server.inject("Get", "*staging-shared-postgres*", "PERMISSION_DENIED")
    report = live(server, "api", "auth").json()
    assert report["findings"][0]["rule"] == "vpc-access-missing"  # still first, now without the SQL confirmation
    assert "sql-private-ip-unreachable" not in {f["rule"] for f in report["findings"]}
    reasons = " ".join(u["reason"] for u in report["unverified"])
    assert "PERMISSION_DENIED" in reasons and "cloudsql.instances.get" in reasons
    assert report["incomplete"] is True


def test_table_and_markdown_say_what_was_compared_and_what_was_not_read(server: FakeGcpServer) -> None:
    server.inject("GetConnector", "*", "PERMISSION_DENIED")
    for output_format in ("table", "markdown"):
        run = run_cli("compare", "api", *SCOPE, "--endpoint", server.address, "--format", output_format)
        text = " ".join(run.stdout.split())  # the table wraps long lines
        assert "compared api's latest revision with its last ready one" in text, output_format
        assert "could not read connectors:" in text and "vpcaccess.connectors.get" in text, output_format
