"""--connectivity-test: the real Network Management client, over real gRPC, against the fake's ReachabilityService
and its long-running operations (tests/fakegcp/reachability.py).

The world is the incident's (fixtures/incident-live): `api` has no VPC access to Cloud SQL's private IP (its path is
broken at `vpc`), `auth` reaches it through a connector, with no firewall rule in the evidence (its path is unknown
at `firewall-egress`). One Connectivity Test each, from the revision compared to 10.20.0.3:5432; each deleted.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, run_cli
from fakegcp import FakeGcpServer, World
from fakegcp.reachability import reachable, unreachable, verdict

SCOPE = ("--project", "netra-staging", "--region", "us-central1")
SQL = "10.20.0.3:5432"
REVISIONS = "projects/netra-staging/locations/us-central1/revisions/"
METHODS = ("CreateConnectivityTest", "GetConnectivityTest", "DeleteConnectivityTest", "GetOperation")
ROLE = "roles/networkmanagement.admin"


def _world() -> World:
    return World.from_folder(FIXTURES / "incident-live")


def _compare(server: FakeGcpServer, *args: str, command: tuple[str, ...] = ("compare", "api", "auth")) -> Any:
    run = run_cli(*command, *SCOPE, "--endpoint", server.address, "--format", "json", "--fail-on", "none", *args)
    assert run.code == 0, run.stderr
    return run.json()


def _paths(report: Any) -> dict[str, Any]:
    return {path["service"]: path for path in report["paths"]}


def _hop(path: Any, kind: str) -> Any:
    [hop] = [hop for hop in path["hops"] if hop["kind"] == kind]
    return hop


def _none_left(server: FakeGcpServer) -> None:
    fake = server.reachability
    assert fake.created and sorted(fake.created) == sorted(fake.deleted)
    assert fake.tests == {}


def test_without_the_flag_nothing_is_created() -> None:
    with FakeGcpServer(_world()) as server:
        server.reachability.results[SQL] = reachable()
        report = _compare(server)
    assert not [method for method, _ in server.calls if method in METHODS]
    assert server.reachability.created == []
    assert _paths(report)["api"]["state"] == "broken" and _paths(report)["auth"]["state"] == "unknown"
    assert not [note for note in report["notes"] if "Connectivity Test" in note]


def test_unreachable_breaks_the_hop_it_drops_at_and_every_test_is_deleted() -> None:
    with FakeGcpServer(_world()) as server:
        fake = server.reachability
        fake.results[f"api-00042-fix {SQL}"] = unreachable("START_FROM_CLOUD_RUN_REVISION", "VPC_CONNECTOR_NOT_SET")
        fake.results[f"auth-00017-wuj {SQL}"] = unreachable(
            "APPLY_EGRESS_FIREWALL_RULE", "FIREWALL_RULE", "deny-sql-egress"
        )
        report = _compare(server, "--connectivity-test")
    _none_left(server)
    assert sorted(fake.sources) == [f"{REVISIONS}api-00042-fix", f"{REVISIONS}auth-00017-wuj"]  # the compared ones
    names = {name.rsplit("/", 1)[-1] for name in fake.created}
    assert all(name.startswith("driftcheck-") for name in names)
    api, auth = _paths(report)["api"], _paths(report)["auth"]
    vpc = _hop(api, "vpc")
    assert vpc["state"] == "broken" and api["breaks_at"] == "vpc"
    assert vpc["detail"].startswith("Connectivity Test driftcheck-")
    assert "UNREACHABLE, dropped at START_FROM_CLOUD_RUN_REVISION (VPC_CONNECTOR_NOT_SET)" in vpc["detail"]
    assert vpc["evidence"][0] == vpc["detail"] and vpc["detail"].split(":")[0].split()[-1] in names
    firewall = _hop(auth, "firewall-egress")
    assert auth["state"] == "broken" and auth["breaks_at"] == "firewall-egress"
    assert firewall["state"] == "broken" and firewall["export"] is None
    assert "UNREACHABLE, dropped at APPLY_EGRESS_FIREWALL_RULE (FIREWALL_RULE) by deny-sql-egress" in firewall["detail"]
    assert "firewall egress tcp:5432 ✗" in auth["line"] and auth["line"].endswith(
        f"→ Cloud SQL staging-shared-postgres {SQL}"
    )
    assert [note for note in report["notes"] if "Connectivity Test" in note] == [
        "--connectivity-test: asked 2 Connectivity Tests in netra-staging; none left behind"
    ]
    # what each call named: a create per test, its operation polled until done, then deleted
    creates = server.called("CreateConnectivityTest")
    assert sorted(creates) == sorted(fake.created) and sorted(server.called("DeleteConnectivityTest")) == sorted(
        creates
    )
    assert len(server.called("GetOperation")) >= 4  # each create's and each delete's operation, polled to done


def test_reachable_verifies_the_unknown_hops(tmp_path: Any) -> None:
    with FakeGcpServer(_world()) as server:
        server.reachability.results[f"auth-00017-wuj {SQL}"] = reachable()
        report = _compare(server, "--connectivity-test")
        html = run_cli("compare", "api", "auth", *SCOPE, "--endpoint", server.address, "--format", "html",
                       "--fail-on", "none", "--connectivity-test")  # fmt: skip
    _none_left(server)
    auth = _paths(report)["auth"]
    assert auth["state"] == "verified" and "(?)" not in auth["line"]
    firewall = _hop(auth, "firewall-egress")
    assert firewall["state"] == "verified" and firewall["detail"].endswith(": REACHABLE")
    assert firewall["evidence"] == [firewall["detail"]]
    api = _paths(report)["api"]  # UNDETERMINED (nothing canned): stays as the evidence shows it, and says so
    assert api["state"] == "broken" and _hop(api, "vpc")["detail"].startswith("no connector")
    [undetermined] = [note for note in report["notes"] if "for api → " in note]
    assert undetermined.endswith(f"for api → {SQL}: UNDETERMINED: its path stays as the evidence shows it")
    assert html.code == 0 and 'class="hop verified" data-kind="firewall-egress"' in html.stdout


def test_an_ambiguous_answer_settles_nothing_but_is_said_on_the_unknown_hop() -> None:
    with FakeGcpServer(_world()) as server:
        server.reachability.results[SQL] = verdict("AMBIGUOUS", "several routes match")
        report = _compare(server, "--connectivity-test")
    _none_left(server)
    auth = _paths(report)["auth"]
    assert auth["state"] == "unknown"
    firewall = _hop(auth, "firewall-egress")
    assert firewall["state"] == "unknown" and firewall["export"] == "gcloud compute firewall-rules list --format=json"
    assert "; Connectivity Test driftcheck-" in firewall["detail"]
    assert firewall["detail"].endswith(": AMBIGUOUS (several routes match)")


def test_a_denied_create_is_a_note_naming_the_role_never_a_failure() -> None:
    with FakeGcpServer(_world()) as plain:
        without = _compare(plain)
    denied = {"CreateConnectivityTest": "PERMISSION_DENIED"}
    with FakeGcpServer(_world(), faults=denied) as server:
        report = _compare(server, "--connectivity-test")
    assert server.reachability.created == [] and not server.called("DeleteConnectivityTest")
    assert len(server.called("CreateConnectivityTest")) == 2  # asked, and denied: not retried
    assert report["paths"] == without["paths"]
    assert [f["rule"] for f in report["findings"]] == [f["rule"] for f in without["findings"]]
    notes = [note for note in report["notes"] if "could not run a Connectivity Test" in note]
    assert len(notes) == 2
    for note in notes:
        assert "PERMISSION_DENIED: Permission 'networkmanagement.connectivitytests.create' denied" in note
        assert note.endswith(f"its path stays as the evidence shows it (a test needs {ROLE})")


def test_a_test_that_fails_after_it_was_created_is_deleted_all_the_same() -> None:
    """`check api`: one test, so its create's operation is operation-1 and the delete's operation-2."""
    failing = {("GetOperation", "*/operations/operation-1"): "INTERNAL"}
    with FakeGcpServer(_world(), faults=failing) as server:
        server.reachability.results[SQL] = reachable()
        report = _compare(server, "--connectivity-test", command=("check", "api"))
    _none_left(server)
    assert len(server.reachability.created) == 1
    [note] = [note for note in report["notes"] if "could not run" in note]
    assert note.startswith(f"could not run a Connectivity Test for api → {SQL} (INTERNAL: ")
    assert _paths(report)["api"]["state"] == "broken"  # as the evidence shows it


def test_a_test_left_behind_is_said_with_the_command_that_deletes_it() -> None:
    with FakeGcpServer(_world(), faults={"DeleteConnectivityTest": "PERMISSION_DENIED"}) as server:
        server.reachability.results[SQL] = reachable()
        report = _compare(server, "--connectivity-test", command=("check", "api"))
    [name] = server.reachability.created
    assert server.reachability.deleted == [] and list(server.reachability.tests) == [name]
    assert (
        "--connectivity-test: asked 1 Connectivity Test in netra-staging; 1 could not be deleted (below)"
        in (report["notes"])
    )
    [left] = [note for note in report["notes"] if note.startswith("could not delete")]
    assert left.startswith(f"could not delete Connectivity Test {name} (PERMISSION_DENIED: ")
    assert left.endswith(
        f"delete it with `gcloud network-management connectivity-tests delete {name.rsplit('/', 1)[-1]}`"
    )


def test_offline_the_flag_is_an_input_error() -> None:
    run = run_cli("compare", "api", "auth", "--from", FIXTURES / "incident", "--connectivity-test")
    assert run.code == 2
    assert run.stderr.strip().endswith("--connectivity-test asks the live API: use it without --from and local files")


@pytest.mark.parametrize("command", ["compare", "check"])
def test_help_says_it_writes_and_names_the_role(command: str) -> None:
    run = run_cli(command, "--help")
    text = " ".join(run.stdout.split())
    assert "--connectivity-test" in text and "WRITES to the project" in text and ROLE in text
