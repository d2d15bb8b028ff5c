"""invoker-mismatch beyond public access: a caller's identity the peer grants roles/run.invoker and the target does not.

The case (fixtures/iam/invoker-mismatch-caller): public-api was deleted and created again, and its new policy grants
roles/run.invoker only to deploy-bot. Its peer public-api-canary (one application, one environment, both with ingress
all) still grants it to checkout, which calls both, and to its own runtime account (a self-call, no caller of
public-api). Whether the target grants a member is the permission resolver's answer, so a project-level grant counts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of

CASE = FIXTURES / "iam" / "invoker-mismatch-caller"
PUBLIC_CASE = FIXTURES / "rules" / "invoker-mismatch"
RULE = "invoker-mismatch"
INVOKER = "roles/run.invoker"
CHECKOUT = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"
DEPLOY_BOT = "serviceAccount:deploy-bot@netra-staging.iam.gserviceaccount.com"
CANARY_SA = "serviceAccount:public-api-canary@netra-staging.iam.gserviceaccount.com"
PROJECT_NUMBER = "123456789012"  # the fixtures' services name their project by number


def _copy(tmp_path: Path, case: Path = CASE) -> Path:
    return Path(shutil.copytree(case, tmp_path / "case"))


def _write(path: Path, *bindings: dict[str, Any]) -> None:
    path.write_text(json.dumps({"bindings": list(bindings), "etag": "BwY=", "version": 3}))


def _unverified(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for u in report["unverified"] if u["rule"] == RULE]


def test_a_caller_the_peer_grants_and_the_target_does_not_is_named_with_its_grant() -> None:
    report = compare_rule_fixture(CASE)
    (finding,) = findings_of(report, RULE)
    assert finding["severity"] == "high"
    explanation = finding["explanation"]
    assert f"public-api-canary lets {CHECKOUT} invoke it" in explanation and "public-api does not" in explanation
    assert f"403 every request {CHECKOUT} makes" in explanation
    assert DEPLOY_BOT not in explanation  # the target grants it
    assert CANARY_SA not in explanation  # the peer's own account: a self-call
    assert finding["remediation"]["gcloud"].startswith(
        f"gcloud run services add-iam-policy-binding public-api --region us-central1 --member {CHECKOUT} "
        f"--role {INVOKER}"
    )
    assert not _unverified(report)


def test_a_project_level_grant_to_the_caller_silences_it(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _write(folder / f"{PROJECT_NUMBER}.project-iam.json", {"role": INVOKER, "members": [CHECKOUT]})
    report = compare_rule_fixture(folder)
    assert findings_of(report, RULE) == [] and not _unverified(report)


def test_a_target_open_to_every_signed_in_principal_lets_the_caller_in(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _write(folder / "public-api.run-iam.json", {"role": INVOKER, "members": ["allAuthenticatedUsers"]})
    report = compare_rule_fixture(folder)
    assert findings_of(report, RULE) == [] and not _unverified(report)


def test_a_caller_granted_on_the_target_only_under_a_condition_is_unverified(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _write(
        folder / "public-api.run-iam.json",
        {"role": INVOKER, "members": [DEPLOY_BOT]},
        {"role": INVOKER, "members": [CHECKOUT], "condition": {"title": "t", "expression": "true"}},
    )
    report = compare_rule_fixture(folder)
    assert findings_of(report, RULE) == []
    (unverified,) = _unverified(report)
    assert f"{INVOKER} on service public-api is granted only under a condition" in unverified["reason"]


def test_a_target_policy_known_only_in_part_proves_no_grant_missing(tmp_path: Path) -> None:
    """A Terraform member resource names some of a policy: silent, as before, never a finding."""
    folder = _copy(tmp_path)
    (folder / "public-api.run-iam.json").unlink()
    state = {
        "version": 4,
        "terraform_version": "1.7.5",
        "serial": 1,
        "lineage": "0" * 8,
        "resources": [
            {
                "mode": "managed",
                "type": "google_cloud_run_v2_service_iam_member",
                "name": "deploy",
                "provider": 'provider["registry.terraform.io/hashicorp/google"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "project": "netra-staging",
                            "location": "us-central1",
                            "name": "public-api",
                            "role": INVOKER,
                            "member": DEPLOY_BOT,
                        },
                    }
                ],
            }
        ],
    }
    (folder / "terraform.tfstate").write_text(json.dumps(state))
    report = compare_rule_fixture(folder)
    assert findings_of(report, RULE) == [] and not _unverified(report)


def test_a_public_peer_and_a_caller_are_one_finding_naming_both(tmp_path: Path) -> None:
    folder = _copy(tmp_path, PUBLIC_CASE)
    _write(folder / "public-api-canary.run-iam.json", {"role": INVOKER, "members": ["allUsers", CHECKOUT]})
    (finding,) = findings_of(compare_rule_fixture(folder), RULE)
    assert f"public-api-canary lets allUsers, {CHECKOUT} invoke it" in finding["explanation"]
    assert "public-api refuses their requests with 403" in finding["explanation"]


def test_nothing_is_named_between_two_applications(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    other = (folder / "baseline.yaml").read_text().replace("public-api", "billing")
    (folder / "baseline.yaml").write_text(other)
    (folder / "public-api-canary.run-iam.json").rename(folder / "billing-canary.run-iam.json")
    report = compare_rule_fixture(folder)
    assert findings_of(report, RULE) == [] and not _unverified(report)
