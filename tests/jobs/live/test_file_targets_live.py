"""A file TARGET or BASELINE in a live compare (the CI gate's `driftcheck compare 'plan.json#ADDRESS' PEER --project
P --region R`): the file is read offline, the named services live, what both reference live, against the fake API
in tests/fakegcp; the findings are those of the same compare offline, with a snapshot of the project as evidence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AUDIT, FIXTURES, INCIDENT, run_cli
from fakegcp import FakeGcpServer, World

from driftcheck.jobs.compare_live import LiveOptions, compare_live
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.live.scope import Scope

WORLD = FIXTURES / "incident-live"
SCOPE = ("--project", "netra-staging", "--region", "us-central1")
PLAN = f"{FIXTURES / 'terraform' / 'plan.json'}#google_cloud_run_v2_service.api"
TF_AUTH = f"{FIXTURES / 'terraform-hcl' / 'auth'}/#google_cloud_run_v2_service.auth"
API_SA = "projects/-/serviceAccounts/api@netra-staging.iam.gserviceaccount.com"


@pytest.fixture
def server() -> Iterator[FakeGcpServer]:
    with FakeGcpServer(World.from_folder(WORLD)) as fake:
        yield fake


@pytest.fixture
def snapshot(server: FakeGcpServer, tmp_path: Path) -> Path:
    """The project as an offline compare reads it: one snapshot, taken before the live runs (and their calls)."""
    path = tmp_path / "staging.json"
    taken = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", path)
    assert taken.code == 0, taken.stderr
    server.calls.clear()
    server.counts.clear()
    return path


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """What a gate decides on and a reader is told: the ranked findings, what could not be verified, the notes."""
    return {
        "findings": [(f["rule"], f["severity"], f["explanation"], f["peers"]) for f in report["findings"]],
        "unverified": [(u["rule"], u["reason"]) for u in report["unverified"]],
        "incomplete": report["incomplete"],
        "target": report["target"],
        "baselines": report["baselines"],
    }


@pytest.mark.parametrize(
    ("target", "peer"),
    [
        (PLAN, "auth"),  # the CI gate: a plan's service against a live peer
        (str(INCIDENT / "api.yaml"), "auth"),  # a rendered service.yaml (gcloud's v1 YAML)
        ("api", TF_AUTH),  # a live target against a .tf folder's service
    ],
    ids=["plan", "service-yaml", "tf-folder-peer"],
)
def test_a_file_against_a_live_service_finds_what_the_offline_compare_finds(
    server: FakeGcpServer, snapshot: Path, target: str, peer: str
) -> None:
    online = run_cli("compare", target, peer, *SCOPE, "--endpoint", server.address, "--format", "json")
    offline = run_cli("compare", target, peer, "--from", snapshot, "--format", "json")
    assert online.code == offline.code and online.code in (0, 1), online.stderr
    assert verdict(online.json()) == verdict(offline.json())
    assert online.json()["findings"], "a compare with nothing to find proves nothing"
    assert server.counts["GetService"] == 1  # the live one, never the file's name
    assert server.counts["ListServices"] == 0  # named peers: the region is not listed


def test_the_plan_s_service_is_read_with_what_it_names_live(server: FakeGcpServer) -> None:
    run = run_cli("compare", PLAN, "auth", *SCOPE, "--endpoint", server.address, "--format", "json")
    assert run.code == 0, run.stderr  # the plan differs from auth by its account only (low)
    assert [f["rule"] for f in run.json()["findings"]] == ["service-account-mismatch"]
    assert server.called("GetService") == ["projects/netra-staging/locations/us-central1/services/auth"]
    assert ("GetServiceAccount", API_SA) in server.calls  # the account only the plan names, read live
    assert ("GetIamPolicy", "projects/netra-staging/locations/us-central1/services/api") in server.calls
    assert not [name for name, _ in server.calls if name == "AccessSecretVersion"]


def test_a_snapshot_s_service_against_a_live_one(server: FakeGcpServer, snapshot: Path) -> None:
    online = run_cli("compare", f"{snapshot}#api", "auth", *SCOPE, "--endpoint", server.address, "--format", "json")
    offline = run_cli("compare", "api", "auth", "--from", snapshot, "--format", "json")
    assert online.code == offline.code == 1
    assert online.json()["findings"][0]["rule"] == "vpc-access-missing"
    assert verdict(online.json())["findings"] == verdict(offline.json())["findings"]


def test_a_file_target_with_no_baseline_is_compared_with_the_region(server: FakeGcpServer) -> None:
    options = LiveOptions(Scope("netra-staging", ("us-central1",)), server.address, logs=None)
    result = compare_live(PLAN, [], options, load_ruleset(None))
    assert list(result.baselines) == ["api", "auth"]  # the service it would replace too, as offline
    assert "no baseline given: compared with the other 2 services of us-central1" in result.notes
    assert server.counts["ListServices"] == 1 and server.counts["GetService"] == 0


def test_a_lone_file_target_with_a_project_is_compared_with_the_region_s_services(
    server: FakeGcpServer, snapshot: Path
) -> None:
    online = run_cli("compare", PLAN, *SCOPE, "--endpoint", server.address, "--format", "json")
    assert online.code in (0, 1), online.stderr
    report = online.json()
    assert report["baselines"] == ["api", "auth"]  # the live services, the one the plan would replace too
    assert "no baseline given: compared with the other 2 services of us-central1" in report["notes"]
    assert server.counts["ListServices"] == 1 and server.counts["GetService"] == 0
    offline = run_cli("compare", PLAN, "--from", snapshot, "--format", "json")  # the same project, as evidence
    assert verdict(report) == verdict(offline.json())


def test_a_lone_file_target_without_a_project_is_judged_offline_on_its_own(server: FakeGcpServer) -> None:
    run = run_cli("compare", PLAN, "--format", "json", env={"DRIFTCHECK_ENDPOINT": server.address})
    assert run.code in (0, 1), run.stderr
    assert run.json()["baselines"] == []  # files only: nothing to compare with, and nothing asked of the API
    assert server.calls == []


@pytest.mark.parametrize(
    "missing",
    ["missing/plan.json#google_cloud_run_v2_service.api", "service.yaml", "infra/#google_cloud_run_v2_service.api"],
)
def test_a_file_that_does_not_exist_is_an_input_error_before_any_call(server: FakeGcpServer, missing: str) -> None:
    run = run_cli("compare", missing, "auth", *SCOPE, "--endpoint", server.address)
    assert run.code == 2
    assert run.stderr.count("\n") == 1 and "no such file" in run.stderr
    assert missing.partition("#")[0] in run.stderr
    assert server.calls == []


def test_a_bad_plan_address_is_an_input_error_naming_the_file(server: FakeGcpServer) -> None:
    run = run_cli("compare", f"{PLAN}.nope", "auth", *SCOPE, "--endpoint", server.address)
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "plan.json" in run.stderr and "google_cloud_run_v2_service.api.nope" in run.stderr
    assert server.calls == []


def test_a_file_of_another_project_is_compared_but_its_references_are_not_read_here(tmp_path: Path) -> None:
    with FakeGcpServer(World.from_folder(AUDIT / "world")) as fake:
        prod = tmp_path / "prod.json"
        assert (
            run_cli("snapshot", "--project", "netra-prod", *SCOPE[2:], "--endpoint", fake.address, "-o", prod).code == 0
        )
        fake.calls.clear()
        run = run_cli("compare", f"{prod}#api", "api", *SCOPE, "--endpoint", fake.address, "--format", "json")
        asked = list(fake.calls)
    assert run.code in (0, 1), run.stderr
    report = run.json()
    note = "api of project netra-prod is read from a file: what it references is read from the files, not from"
    assert any(n.startswith(note) for n in report["notes"])
    assert asked and not [name for _, name in asked if "netra-prod" in name or "prod-" in name]
    assert report["findings"][0]["explanation"].startswith("api (project netra-prod) ")  # told apart from staging's
