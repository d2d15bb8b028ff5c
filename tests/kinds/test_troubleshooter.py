"""Policy Troubleshooter answers: the evidence file, the snapshot, `--troubleshoot-iam` against the fake over real gRPC,
and what an answer does to the rules (it decides the access outright)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, compare_rule_fixture, findings_of, run_cli, write_snapshot
from fakegcp import FakeGcpServer, World

from driftcheck.errors import InputError
from driftcheck.kinds.troubleshooter import TroubleshooterAnswer
from driftcheck.model import Inventory
from driftcheck.sources.evidence import load_evidence

ANSWERS = FIXTURES / "troubleshooter"
RULE_CASE = FIXTURES / "rules" / "secret-access-denied"
PROJECT = "netra-staging"
CHECKOUT = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"
ACCESS = "secretmanager.versions.access"
STRIPE = "//secretmanager.googleapis.com/projects/123456789012/secrets/stripe-api-key"
KEY = f"{CHECKOUT} {ACCESS} {STRIPE}"
EXPLAINED = {
    "granted": "granted through roles/secretmanager.secretAccessor on folders/447192033518",
    "denied": "no allow policy grants it (checked: projects/123456789012/secrets/stripe-api-key, "
    "projects/netra-staging)",
    "unknown": "could not be determined: the troubleshooter could not read every policy involved (the caller needs "
    "roles/iam.securityReviewer)",
}


def answers(inventory: Inventory) -> dict[str, TroubleshooterAnswer]:
    return inventory.of("iam_troubleshooter")


def _answer_file(access: str) -> Path:
    return ANSWERS / access / "checkout-stripe-api-key.json"


# --- the evidence file -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("access", "state"), [("granted", 1), ("denied", 2), ("unknown", 3)])
def test_each_fixture_is_a_v3_answer_the_installed_client_reads_strictly(access: str, state: int) -> None:
    from google.cloud import policytroubleshooter_iam_v3 as v3

    # from_json refuses a field the proto does not have: the fixtures spell the API's own field names
    response = v3.TroubleshootIamPolicyResponse.from_json(_answer_file(access).read_text())
    assert response.overall_access_state == state
    assert response.access_tuple.full_resource_name == STRIPE


@pytest.mark.parametrize("access", ["granted", "denied", "unknown"])
def test_the_reader_keys_an_answer_by_member_permission_and_resource(access: str) -> None:
    path = _answer_file(access)
    found = answers(load_evidence([path.parent]))
    blind = access == "unknown"  # the fixture's unknown is UNKNOWN_INFO: the caller could not read every policy
    expected = TroubleshooterAnswer(CHECKOUT, ACCESS, STRIPE, access, EXPLAINED[access], str(path), blind)  # type: ignore[arg-type]
    assert found == {KEY: expected}


def test_a_deny_policy_and_a_condition_are_said(tmp_path: Path) -> None:
    denied = json.loads(_answer_file("denied").read_text())
    denied["denyPolicyExplanation"] = {
        "denyAccessState": "DENY_ACCESS_STATE_DENIED",
        "explainedResources": [
            {
                "denyAccessState": "DENY_ACCESS_STATE_DENIED",
                "fullResourceName": "//cloudresourcemanager.googleapis.com/organizations/90211",
            }
        ],
    }
    conditional = json.loads(_answer_file("granted").read_text())
    conditional["overallAccessState"] = "UNKNOWN_CONDITIONAL"
    folder = conditional["allowPolicyExplanation"]["explainedPolicies"][2]
    folder["bindingExplanations"][0]["allowAccessState"] = "ALLOW_ACCESS_STATE_UNKNOWN_CONDITIONAL"
    folder["bindingExplanations"][0]["condition"] = {"title": "business hours", "expression": "request.time < x"}
    for name, data in (("deny", denied), ("conditional", conditional)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "answer.json").write_text(json.dumps(data))
    (deny,) = answers(load_evidence([tmp_path / "deny"])).values()
    assert (deny.access, deny.explanation) == ("denied", "denied by a deny policy on organizations/90211")
    (cond,) = answers(load_evidence([tmp_path / "conditional"])).values()
    assert cond.access == "unknown"
    assert cond.explanation == (
        "could not be determined: it is granted only under a condition the troubleshooter could not evaluate "
        "(roles/secretmanager.secretAccessor on folders/447192033518 if 'business hours')"
    )


def test_gclouds_v2alpha1_answer_names_no_access_tuple_and_is_refused_saying_so(tmp_path: Path) -> None:
    (tmp_path / "answer.json").write_text(json.dumps({"access": "GRANTED", "explainedPolicies": []}))
    with pytest.raises(InputError, match=r"answer\.json:access: a Policy Troubleshooter v2alpha1 answer names no"):
        load_evidence([tmp_path])


# --- the snapshot --------------------------------------------------------------------------------------------------

DENIED = (
    "PERMISSION_DENIED: The caller does not have permission; needs resourcemanager.projects.getIamPolicy, "
    "iam.roles.get (roles/iam.securityReviewer; and policytroubleshooter.googleapis.com enabled)"
)


def test_a_snapshot_round_trips_an_answer_and_a_failed_call_is_no_answer(tmp_path: Path) -> None:
    other = f"{CHECKOUT} {ACCESS} //secretmanager.googleapis.com/projects/123456789012/secrets/db-password"
    stored = {KEY: json.loads(_answer_file("granted").read_text()), other: {"error": DENIED}}
    path = write_snapshot(tmp_path, PROJECT, iam_troubleshooter_answers=stored)
    inventory = load_evidence([path])
    expected = TroubleshooterAnswer(
        CHECKOUT, ACCESS, STRIPE, "granted", EXPLAINED["granted"], f"{path}#iam_troubleshooter:{KEY}"
    )
    assert answers(inventory) == {KEY: expected}
    assert inventory.errors == {f"iam_troubleshooter_answers:{other}": DENIED}  # why there is no answer


# --- live: the real policytroubleshooter client over gRPC against the fake -----------------------------------------

API = "serviceAccount:api@netra-staging.iam.gserviceaccount.com"
AUTH = "serviceAccount:auth@netra-staging.iam.gserviceaccount.com"
DB_PASSWORD = "//secretmanager.googleapis.com/projects/netra-staging/secrets/db-password"
STAGING = "//cloudresourcemanager.googleapis.com/projects/netra-staging"
# What kinds/access/ asks about api and auth: each account on the secret it reads and on its Cloud SQL project.
INCIDENT_CHECKS = {
    f"{API} {ACCESS} {DB_PASSWORD}",
    f"{API} cloudsql.instances.connect {STAGING}",
    f"{AUTH} {ACCESS} {DB_PASSWORD}",
    f"{AUTH} cloudsql.instances.connect {STAGING}",
}


CITED = "Policy Troubleshooter, which weighs every level, says it is denied."  # the rule's words for its answer


def _canned(access: str, member: str, resource: str) -> Any:
    """A fixture answer, re-aimed at another access tuple, as the fake's world holds it."""
    from google.cloud import policytroubleshooter_iam_v3 as v3

    data = json.loads(_answer_file(access).read_text())
    data["accessTuple"] = {**data["accessTuple"], "principal": member.split(":", 1)[1], "fullResourceName": resource}
    return v3.TroubleshootIamPolicyResponse.from_json(json.dumps(data))


def _compare_live(world: World, *flags: str, faults: dict[Any, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    with FakeGcpServer(world, faults=faults) as fake:
        run = run_cli(
            "compare", "api", "auth", "--project", PROJECT, "--region", "us-central1", "--endpoint", fake.address,
            "--format", "json", "--fail-on", "none", *flags,
        )  # fmt: skip
        asked = fake.called("TroubleshootIamPolicy")
    assert run.code == 0, run.stderr
    return dict(run.json()), asked


def test_without_the_flag_the_troubleshooter_is_never_called() -> None:
    _, asked = _compare_live(World.from_folder(FIXTURES / "incident-live"))
    assert asked == []


def test_with_the_flag_exactly_the_checks_of_the_compared_services_are_asked_once_each() -> None:
    _, asked = _compare_live(World.from_folder(FIXTURES / "incident-live"), "--troubleshoot-iam")
    members = {"api@netra-staging.iam.gserviceaccount.com": API, "auth@netra-staging.iam.gserviceaccount.com": AUTH}
    as_keys = [f"{members[p]} {permission} {resource}" for p, permission, resource in (a.split(" ") for a in asked)]
    assert sorted(as_keys) == sorted(INCIDENT_CHECKS)


def test_the_answers_land_in_the_inventory_keyed_as_the_resolver_reads_them() -> None:
    from driftcheck.jobs.compare_live import troubleshoot_iam
    from driftcheck.kinds.service.common import add_service
    from driftcheck.sources.live.clients import connect
    from driftcheck.sources.live.fetch import LiveFetcher, parse_services
    from driftcheck.sources.snapshot_file import load_references

    world = World.from_folder(FIXTURES / "incident-live")
    world.add_troubleshooter_answer(_canned("denied", API, DB_PASSWORD))
    with FakeGcpServer(world) as fake:
        fetcher = LiveFetcher(connect(fake.address), PROJECT, "us-central1")
        try:
            services = parse_services(list(fetcher.services(["api", "auth"]).values()))
            inventory = Inventory()
            for service in services:
                add_service(inventory, service)
            load_references(fetcher.referenced(services), inventory, "live")
            notes = troubleshoot_iam(fetcher, services, inventory)
        finally:
            fetcher.close()
    found = answers(inventory)
    assert set(found) == INCIDENT_CHECKS and notes == []
    denied = found[f"{API} {ACCESS} {DB_PASSWORD}"]
    assert denied.access == "denied" and denied.origin == f"live#iam_troubleshooter:{API} {ACCESS} {DB_PASSWORD}"
    # a tuple the world holds no answer for: UNKNOWN_INFO, kept as such (unknown, never absent)
    assert found[f"{AUTH} {ACCESS} {DB_PASSWORD}"].access == "unknown"


def test_a_denied_troubleshooter_leaves_the_local_answers_and_says_so_in_one_note() -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    plain, _ = _compare_live(world)
    report, asked = _compare_live(world, "--troubleshoot-iam", faults={"TroubleshootIamPolicy": "PERMISSION_DENIED"})
    assert len(asked) == len(INCIDENT_CHECKS)
    (note,) = [n for n in report["notes"] if "Policy Troubleshooter" in n]
    assert note.startswith(f"could not ask Policy Troubleshooter about {len(INCIDENT_CHECKS)} access checks")
    assert "roles/iam.securityReviewer" in note and "the IAM policies in the evidence answer them" in note
    assert [f["rule"] for f in report["findings"]] == [f["rule"] for f in plain["findings"]]


def test_an_answer_asked_live_is_cited_as_the_source_of_a_finding() -> None:
    """The local policy grants api the secret; Policy Troubleshooter says it may not (a deny policy, say)."""
    world = World.from_folder(FIXTURES / "incident-live")
    world.add_troubleshooter_answer(_canned("denied", API, DB_PASSWORD))
    plain, _ = _compare_live(world)
    assert findings_of(plain, "secret-access-denied") == []
    report, _ = _compare_live(world, "--troubleshoot-iam")
    (finding,) = findings_of(report, "secret-access-denied")
    assert CITED in finding["explanation"]


def test_the_flag_with_evidence_files_is_a_usage_error() -> None:
    run = run_cli("compare", "api", "auth", "--from", FIXTURES / "incident", "--troubleshoot-iam")
    assert run.code == 2 and "--troubleshoot-iam asks the live API" in run.stderr


def test_the_help_says_what_the_troubleshooter_needs() -> None:
    run = run_cli("compare", "--help")
    assert "--troubleshoot-iam" in run.stdout and "roles/iam.securityReviewer" in " ".join(run.stdout.split())


# --- what an answer does to the rules: it decides the access outright ----------------------------------------------


def _rule_case(tmp_path: Path, access: str | None) -> Path:
    folder = shutil.copytree(RULE_CASE, tmp_path / "case")
    if access is not None:
        shutil.copy(_answer_file(access), folder / "checkout-stripe-api-key.troubleshooter.json")
    return folder


def test_the_local_policies_alone_fire_secret_access_denied(tmp_path: Path) -> None:
    assert len(findings_of(compare_rule_fixture(_rule_case(tmp_path, None)), "secret-access-denied")) == 1


def test_a_can_access_answer_silences_secret_access_denied(tmp_path: Path) -> None:
    report = compare_rule_fixture(_rule_case(tmp_path, "granted"))
    assert findings_of(report, "secret-access-denied") == []
    assert not [u for u in report["unverified"] if u["rule"] == "secret-access-denied"]


def test_a_cannot_access_answer_is_cited_as_the_source(tmp_path: Path) -> None:
    folder = _rule_case(tmp_path, "denied")
    (finding,) = findings_of(compare_rule_fixture(folder), "secret-access-denied")
    assert CITED in finding["explanation"]
    local = compare_rule_fixture(_rule_case(tmp_path / "local", None))
    assert CITED not in findings_of(local, "secret-access-denied")[0]["explanation"]


def test_the_fake_serves_a_world_folders_answer_and_unknown_info_for_any_other_tuple() -> None:
    from google.cloud import policytroubleshooter_iam_v3 as v3
    from google.cloud.policytroubleshooter_iam_v3.services.policy_troubleshooter.transports import (
        PolicyTroubleshooterGrpcTransport,
    )

    world = World.from_folder(ANSWERS / "granted")
    with FakeGcpServer(world) as fake:
        client = v3.PolicyTroubleshooterClient(transport=PolicyTroubleshooterGrpcTransport(channel=fake.channel()))
        principal = CHECKOUT.split(":", 1)[1]
        asked = v3.AccessTuple(principal=principal, permission=ACCESS, full_resource_name=STRIPE)
        known = client.troubleshoot_iam_policy(request={"access_tuple": asked})
        other = v3.AccessTuple(principal=principal, permission=ACCESS, full_resource_name=DB_PASSWORD)
        unknown = client.troubleshoot_iam_policy(request={"access_tuple": other})
        assert fake.called("TroubleshootIamPolicy") == [
            f"{principal} {ACCESS} {STRIPE}",
            f"{principal} {ACCESS} {DB_PASSWORD}",
        ]
    assert known.overall_access_state.name == "CAN_ACCESS"
    assert (
        unknown.overall_access_state.name == "UNKNOWN_INFO" and unknown.access_tuple.full_resource_name == DB_PASSWORD
    )
