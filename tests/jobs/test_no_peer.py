"""No peer is a normal case: a service judged on its own, by the rules that need none and its stated failure.

`compare SERVICE` with no other service in the evidence, and `check SERVICE` whatever the evidence holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT, run_cli
from fakegcp import FakeGcpServer, World

from driftcheck.ruleset.evaluate import NO_PEER_NOTE
from driftcheck.ruleset.load import load_ruleset

SINGLE = FIXTURES / "incident-single"  # only the failing api and what it references
ALONE_SCOPES = {"target", "status"}


def scopes(report: dict[str, Any]) -> set[str]:
    by_id = {rule.id: rule.scope for rule in load_ruleset().rules}
    return {by_id[f["rule"]] for f in report["findings"]}


def test_compare_with_no_other_service_ranks_the_cause_alone() -> None:
    run = run_cli("compare", "api", "--from", SINGLE, "--format", "json")
    assert run.code == 1, run.stderr
    report = run.json()
    assert report["baselines"] == []
    assert report["findings"][0]["rule"] == "sql-private-ip-unreachable"
    assert report["findings"][0]["severity"] == "critical"
    assert "failed to start and listen on the port" in " ".join(report["findings"][0]["confirmations"])
    assert NO_PEER_NOTE in report["notes"]


def test_check_judges_the_service_alone_even_with_peers_in_the_evidence() -> None:
    checked = run_cli("check", "api", "--from", INCIDENT, "--format", "json").json()
    compared = run_cli("compare", "api", "--from", INCIDENT, "--format", "json").json()
    assert scopes(checked) <= ALONE_SCOPES < scopes(compared) | ALONE_SCOPES
    assert "vpc-access-missing" in {f["rule"] for f in compared["findings"]}  # the pair rule needs auth
    assert checked["findings"][0]["rule"] == "sql-private-ip-unreachable"
    assert NO_PEER_NOTE in checked["notes"] and NO_PEER_NOTE not in compared["notes"]


def test_check_says_no_peer_in_the_table_too() -> None:
    run = run_cli("check", "api", "--from", SINGLE)
    assert run.code == 1
    assert "no peer was compared" in run.stdout
    assert "private IP" in run.stdout
    header = next(line for line in run.stdout.splitlines() if " what " in line)
    assert "target" in header and "baseline" not in header  # no column of dashes for a peer there is not


def test_a_healthy_service_alone_has_nothing_serious() -> None:
    run = run_cli("check", "auth", "--from", INCIDENT, "--format", "json")
    assert run.code == 0, run.json()["findings"]
    assert not [f for f in run.json()["findings"] if f["severity"] in ("critical", "high")]


@pytest.fixture
def lonely_server() -> Iterator[FakeGcpServer]:
    """The live incident world with every service but api removed (no peer in the region), and no older revision
    to compare with (its first deploy)."""
    world = World.from_folder(FIXTURES / "incident-live")
    for name in [n for n in world.services if not n.endswith("/services/api")]:
        del world.services[name]
    (api,) = world.services.values()
    api.latest_ready_revision = ""
    with FakeGcpServer(world) as fake:
        yield fake


def test_live_compare_with_no_peer_in_the_region_judges_the_service_alone(lonely_server: FakeGcpServer) -> None:
    scope = ("--project", "netra-staging", "--region", "us-central1", "--endpoint", lonely_server.address)
    run = run_cli("compare", "api", *scope, "--format", "json")
    assert run.code == 1, run.stderr
    report = run.json()
    assert report["findings"][0]["rule"] == "sql-private-ip-unreachable"
    assert NO_PEER_NOTE in report["notes"]
    assert any("has no peer in netra-staging/us-central1" in note for note in report["notes"])


def test_live_check_reads_only_the_service_and_what_it_references(lonely_server: FakeGcpServer) -> None:
    scope = ("--project", "netra-staging", "--region", "us-central1", "--endpoint", lonely_server.address)
    run = run_cli("check", "api", *scope, "--format", "json")
    assert run.code == 1, run.stderr
    assert run.json()["findings"][0]["rule"] == "sql-private-ip-unreachable"
    assert not lonely_server.called("ListServices")  # no peers were looked for
