"""The permission resolver (kinds/access/): one answer to "may this member do this here", and the rules on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, compare_rule_fixture, findings_of

from driftcheck.kinds import access
from driftcheck.kinds.access import AccessCheck, may
from driftcheck.kinds.project_iam import ProjectIamPolicy, parse_policy
from driftcheck.model import Inventory, Secret
from driftcheck.sources.evidence import load_evidence

PROJECT = "netra-staging"
SA = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
SECRET = f"//secretmanager.googleapis.com/projects/{PROJECT}/secrets/stripe-api-key"
SQL_PROJECT = access.project_resource(PROJECT)
SECRET_CASE = FIXTURES / "rules" / "secret-access-denied"
PUSH_CASE = FIXTURES / "rules" / "push-invoker-missing"
SQL_CASE = FIXTURES / "rules" / "cloudsql-client-role-missing"
AGENT_CASE = FIXTURES / "rules" / "service-agent-role-missing"


def _inventory(
    project_bindings: list[dict[str, Any]] | None, secret_bindings: dict[str, tuple[str, ...]] | None
) -> Inventory:
    inventory = Inventory()
    if project_bindings is not None:
        policy = parse_policy(PROJECT, {"bindings": project_bindings}, "p.project-iam.json")
        inventory.of("project_iam_policy")[PROJECT] = policy
    if secret_bindings is not None:
        secret = Secret(
            "stripe-api-key", PROJECT, "s.json", bindings=secret_bindings, provenance={"bindings": "s.iam.json"}
        )
        inventory.of("secret")["stripe-api-key"] = secret
    return inventory


def _secret(
    project_bindings: list[dict[str, Any]] | None, secret_bindings: dict[str, tuple[str, ...]] | None = None
) -> access.Answer:
    return may(AccessCheck(SA, access.SECRET_ACCESS, SECRET), _inventory(project_bindings, secret_bindings or {}))


def test_a_plain_project_grant_grants_and_says_where() -> None:
    answer = _secret([{"role": ACCESSOR, "members": [SA]}])
    assert answer.access == "granted"
    assert answer.via == f"{ACCESSOR} on project {PROJECT}"
    assert [(level.level, level.source) for level in answer.read] == [
        ("secret", "s.iam.json"),
        ("project", "p.project-iam.json:bindings"),
    ]
    assert [level.level for level in answer.unread] == ["folder", "organization"]


def test_no_grant_at_the_levels_read_is_denied_with_what_was_not_read() -> None:
    answer = _secret([{"role": "roles/run.invoker", "members": [SA]}])
    assert answer.access == "denied" and answer.why_unknown == ()
    assert [level.level for level in answer.unread] == ["folder", "organization"]


def test_without_the_project_policy_it_is_denied_at_the_secret_and_the_project_unread() -> None:
    answer = _secret(None)
    assert answer.access == "denied"
    assert [level.level for level in answer.unread] == ["project", "folder", "organization"]
    assert "not in the evidence" in str(answer.unread[0].reason)


def test_nothing_read_is_unknown_never_denied() -> None:
    answer = may(AccessCheck(SA, access.SECRET_ACCESS, SECRET), Inventory())
    assert answer.access == "unknown" and "no IAM policy" in answer.why_unknown[0]


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (SA, "granted"),
        ("allUsers", "granted"),
        ("allAuthenticatedUsers", "granted"),  # a service account is a signed-in principal
        ("deleted:" + SA + "?uid=123", "denied"),  # a deleted member never grants, even of the same email
        ("user:someone@example.com", "denied"),
        ("group:db-readers@example.com", "unknown"),
        ("domain:example.com", "unknown"),
        ("principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*", "unknown"),
    ],
)
def test_member_kinds(member: str, expected: str) -> None:
    answer = _secret([{"role": ACCESSOR, "members": [member]}])
    assert answer.access == expected, answer
    if expected == "unknown":
        assert f"granted to {member}, whose members are not in the evidence" in answer.why_unknown[0]


def test_a_conditional_grant_is_unknown() -> None:
    answer = _secret([{"role": ACCESSOR, "members": [SA], "condition": {"title": "t", "expression": "true"}}])
    assert answer.access == "unknown"
    assert answer.why_unknown == (f"{ACCESSOR} on project {PROJECT} is granted only under a condition",)


def test_a_custom_role_and_a_basic_role_are_unknown_and_an_unrelated_predefined_role_is_no() -> None:
    custom = _secret([{"role": "projects/netra-staging/roles/secretReader", "members": [SA]}])
    assert custom.access == "unknown"
    assert (
        "a custom role projects/netra-staging/roles/secretReader whose permissions are not known"
        in custom.why_unknown[0]
    )
    assert _secret([{"role": "roles/editor", "members": [SA]}]).access == "unknown"
    assert _secret([{"role": "roles/secretmanager.viewer", "members": [SA]}]).access == "denied"


def test_a_grant_on_the_secret_itself_grants() -> None:
    answer = _secret(None, {ACCESSOR: (SA,)})
    assert answer.access == "granted" and answer.via == f"{ACCESSOR} on secret stripe-api-key"


def test_a_partial_project_policy_proves_no_grant_missing() -> None:
    inventory = _inventory([], {})
    partial = ProjectIamPolicy(PROJECT, "terraform.tfstate", bindings={}, complete=False)
    inventory.of("project_iam_policy")[PROJECT] = partial
    answer = may(AccessCheck(SA, access.SECRET_ACCESS, SECRET), inventory)
    assert answer.access == "unknown"
    assert "the project's policy is known only in part (Terraform member resources)" in answer.why_unknown


def test_cloud_sql_connect_is_asked_of_the_instances_project() -> None:
    inventory = _inventory([{"role": "roles/cloudsql.client", "members": [SA]}], None)
    check = access.sql_check(SA, f"{PROJECT}:us-central1:orders-pg", inventory)
    assert check.resource == SQL_PROJECT
    assert may(check, inventory).access == "granted"
    assert may(AccessCheck(SA, access.SQL_CONNECT, SQL_PROJECT), _inventory([], None)).access == "denied"


def test_checks_for_a_service_cover_its_secrets_instances_and_push_identities() -> None:
    inventory = load_evidence([PUSH_CASE])
    target = inventory.services["public-api"]
    checks = access.checks_for(target, inventory)
    assert (
        AccessCheck(
            "serviceAccount:events-push@netra-staging.iam.gserviceaccount.com",
            access.RUN_INVOKE,
            "//run.googleapis.com/projects/123456789012/locations/us-central1/services/public-api",
        )
        in checks
    )
    secrets = load_evidence([SECRET_CASE])
    checkout = access.checks_for(secrets.services["checkout"], secrets)
    assert [c.permission for c in checkout] == [access.SECRET_ACCESS]
    assert checkout[0].resource.endswith("/secrets/stripe-api-key")


def test_a_policy_troubleshooter_answer_for_exactly_the_check_wins() -> None:
    troubleshooter = pytest.importorskip(
        "driftcheck.kinds.troubleshooter", reason="the iam_troubleshooter kind is not in this tree yet"
    )
    check = AccessCheck(SA, access.SECRET_ACCESS, SECRET)
    inventory = _inventory([{"role": ACCESSOR, "members": [SA]}], {})  # the local policies would grant it
    answered = troubleshooter.TroubleshooterAnswer(
        SA, access.SECRET_ACCESS, SECRET, "denied", "a deny policy on the organization", "ts.json"
    )
    inventory.of(access.TROUBLESHOOTER)[check.key] = answered
    answer = may(check, inventory)
    assert answer.access == "denied"
    assert [(level.level, level.source) for level in answer.read] == [("troubleshooter", "ts.json")]


def test_a_troubleshooter_that_could_not_read_every_policy_leaves_the_local_answer() -> None:
    """UNKNOWN_INFO says the caller lacked reads, not that access is in doubt: it must not hide a local grant."""
    from driftcheck.kinds import troubleshooter

    check = AccessCheck(SA, access.SECRET_ACCESS, SECRET)
    inventory = _inventory([{"role": ACCESSOR, "members": [SA]}], {})
    inventory.of(access.TROUBLESHOOTER)[check.key] = troubleshooter.parse_answer(
        {
            "overallAccessState": "UNKNOWN_INFO",
            "accessTuple": {
                "principal": SA.split(":", 1)[1],
                "fullResourceName": SECRET,
                "permission": check.permission,
            },
        },
        "ts.json",
    )
    answer = may(check, inventory)
    assert answer.access == "granted"
    assert "troubleshooter" not in [level.level for level in answer.read]


def test_the_service_agent_number_comes_from_the_evidence_or_is_unknown() -> None:
    inventory = Inventory(project_aliases={"123456789012": PROJECT})
    assert access.project_number(PROJECT, inventory) == "123456789012"
    assert access.project_number("123456789012", Inventory()) == "123456789012"
    assert access.project_number(PROJECT, Inventory()) is None


# --- the rules on it, through the command line ------------------------------------------------------------------


def _with_project_policy(tmp_path: Path, case: Path, bindings: list[dict[str, Any]], name: str) -> Path:
    folder = Path(shutil.copytree(case, tmp_path / "case"))
    (folder / f"{name}.project-iam.json").write_text(json.dumps({"bindings": bindings, "etag": "BwY="}))
    return folder


CHECKOUT = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"


def test_acceptance_a_secret_granted_only_at_project_level_is_not_secret_access_denied(tmp_path: Path) -> None:
    granted = _with_project_policy(
        tmp_path / "a", SECRET_CASE, [{"role": ACCESSOR, "members": [CHECKOUT]}], "123456789012"
    )
    assert findings_of(compare_rule_fixture(granted), "secret-access-denied") == []
    removed = _with_project_policy(
        tmp_path / "b", SECRET_CASE, [{"role": "roles/run.invoker", "members": [CHECKOUT]}], "123456789012"
    )
    (finding,) = findings_of(compare_rule_fixture(removed), "secret-access-denied")
    assert "Nor does it hold one in the IAM policy of project 123456789012" in finding["explanation"]


def test_a_project_level_invoker_grant_silences_push_invoker_missing(tmp_path: Path) -> None:
    identity = "serviceAccount:events-push@netra-staging.iam.gserviceaccount.com"
    folder = _with_project_policy(
        tmp_path, PUSH_CASE, [{"role": "roles/run.invoker", "members": [identity]}], "123456789012"
    )
    assert findings_of(compare_rule_fixture(folder), "push-invoker-missing") == []
    assert findings_of(compare_rule_fixture(PUSH_CASE), "push-invoker-missing")  # without it, it fires


def test_cloudsql_client_role_missing_is_silent_with_the_grant_and_without_the_policy(tmp_path: Path) -> None:
    policy = json.loads((SQL_CASE / "netra-staging.project-iam.json").read_text())
    for binding in policy["bindings"]:
        if binding["role"] == "roles/cloudsql.client":
            binding["members"].append("serviceAccount:catalog@netra-staging.iam.gserviceaccount.com")
    granted = Path(shutil.copytree(SQL_CASE, tmp_path / "granted"))
    (granted / "netra-staging.project-iam.json").write_text(json.dumps(policy))
    assert findings_of(compare_rule_fixture(granted), "cloudsql-client-role-missing") == []
    unread = Path(shutil.copytree(SQL_CASE, tmp_path / "unread"))
    (unread / "netra-staging.project-iam.json").unlink()
    report = compare_rule_fixture(unread)
    assert findings_of(report, "cloudsql-client-role-missing") == []
    assert "cloudsql-client-role-missing" not in {u["rule"] for u in report["unverified"]}


def test_cloudsql_client_role_granted_to_a_group_could_not_be_verified(tmp_path: Path) -> None:
    policy = json.loads((SQL_CASE / "netra-staging.project-iam.json").read_text())
    policy["bindings"].append({"role": "roles/cloudsql.client", "members": ["group:db-clients@example.com"]})
    folder = Path(shutil.copytree(SQL_CASE, tmp_path / "case"))
    (folder / "netra-staging.project-iam.json").write_text(json.dumps(policy))
    report = compare_rule_fixture(folder)
    assert findings_of(report, "cloudsql-client-role-missing") == []
    (reason,) = [u["reason"] for u in report["unverified"] if u["rule"] == "cloudsql-client-role-missing"]
    assert "group:db-clients@example.com, whose members are not in the evidence" in reason


def test_service_agent_role_missing_fires_with_a_full_command_and_is_silent_when_granted(tmp_path: Path) -> None:
    (finding,) = findings_of(compare_rule_fixture(AGENT_CASE), "service-agent-role-missing")
    assert finding["remediation"]["gcloud"] == (
        "gcloud projects add-iam-policy-binding netra-staging --member serviceAccount:service-123456789012"
        "@serverless-robot-prod.iam.gserviceaccount.com --role roles/run.serviceAgent"
    )
    assert findings_of(compare_rule_fixture(SQL_CASE), "service-agent-role-missing") == []  # granted there


def test_service_agent_needs_a_host_projects_connector_role(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SQL_CASE, tmp_path / "case"))
    target = folder / "target.yaml"
    connector = "projects/netra-host/locations/us-central1/connectors/shared-connector"
    target.write_text(
        target.read_text().replace("vpc-access-connector: staging-connector", f"vpc-access-connector: {connector}")
    )
    (folder / "netra-host.project-iam.json").write_text(json.dumps({"bindings": [], "etag": "BwY="}))
    (finding,) = findings_of(compare_rule_fixture(folder), "service-agent-role-missing")
    assert "holds no roles/vpcaccess.user in the IAM policy of project netra-host" in finding["explanation"]
    assert "--role roles/vpcaccess.user" in finding["remediation"]["gcloud"]
