"""A project's folders and organization (kinds/ancestry.py): the evidence files, the snapshot, Terraform, the
resolver reading their policies, and the rule it silences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, ROOT, compare_rule_fixture, findings_of, run_cli, write_snapshot, write_state

from driftcheck.kinds import access
from driftcheck.kinds.access import AccessCheck, may
from driftcheck.kinds.ancestry import AncestorIamPolicy, ProjectAncestry, parse_policy
from driftcheck.kinds.project_iam import parse_policy as parse_project_policy
from driftcheck.model import Inventory, Secret
from driftcheck.sources.evidence import load_evidence

PROJECT = "netra-staging"
FOLDER, PARENT_FOLDER, ORG = "123456789", "222222222", "987654321"
SA = "serviceAccount:checkout@netra-staging.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
SECRET = f"//secretmanager.googleapis.com/projects/{PROJECT}/secrets/stripe-api-key"
ANCESTORS = [
    {"id": PROJECT, "type": "project"},
    {"id": FOLDER, "type": "folder"},
    {"id": PARENT_FOLDER, "type": "folder"},
    {"id": ORG, "type": "organization"},
]
RULE_CASE = FIXTURES / "rules" / "secret-access-denied"
NUMBER = "123456789012"  # the rule fixture's Knative export names its project by number


def _inventory(*, ancestry: ProjectAncestry | None, folder: list[dict[str, Any]] | None = None) -> Inventory:
    """The secret's policy (no grant) and the project's (no grant) read; the ancestry and policies given."""
    inventory = Inventory()
    inventory.of("secret")["stripe-api-key"] = Secret(
        "stripe-api-key", PROJECT, "s.json", bindings={}, provenance={"bindings": "s.iam.json"}
    )
    inventory.of("project_iam_policy")[PROJECT] = parse_project_policy(PROJECT, {"bindings": []}, "p.json")
    if ancestry is not None:
        inventory.of("project_ancestry")[PROJECT] = ancestry
    if folder is not None:
        name = f"folders/{FOLDER}"
        inventory.of("folder_iam_policy")[name] = parse_policy(name, {"bindings": folder}, "f.folder-iam.json")
    org = f"organizations/{ORG}"
    inventory.of("organization_iam_policy")[org] = parse_policy(org, {"bindings": []}, "o.org-iam.json")
    return inventory


def _ancestry(*ancestors: tuple[str, str], reason: str | None = None) -> ProjectAncestry:
    return ProjectAncestry(PROJECT, "a.json", ancestors, complete=reason is None, reason=reason)


def _check(inventory: Inventory) -> access.Answer:
    return may(AccessCheck(SA, access.SECRET_ACCESS, SECRET), inventory)


# --- the resolver ---------------------------------------------------------------------------------------------------


def test_a_plain_folder_grant_grants_and_says_where() -> None:
    ancestry = _ancestry(("folder", FOLDER), ("organization", ORG))
    answer = _check(_inventory(ancestry=ancestry, folder=[{"role": ACCESSOR, "members": [SA]}]))
    assert answer.access == "granted"
    assert answer.via == f"{ACCESSOR} on folder {FOLDER}"
    assert [(level.level, level.name, level.source) for level in answer.read] == [
        ("secret", "stripe-api-key", "s.iam.json"),
        ("project", PROJECT, "p.json:bindings"),
        ("folder", FOLDER, "f.folder-iam.json:bindings"),
        ("organization", ORG, "o.org-iam.json:bindings"),
    ]
    assert answer.unread == ()


def test_every_level_read_without_a_grant_is_denied_with_nothing_unread() -> None:
    ancestry = _ancestry(("folder", FOLDER), ("organization", ORG))
    answer = _check(_inventory(ancestry=ancestry, folder=[{"role": "roles/run.invoker", "members": [SA]}]))
    assert answer.access == "denied" and answer.unread == ()


def test_a_conditional_folder_grant_is_unknown() -> None:
    ancestry = _ancestry(("folder", FOLDER), ("organization", ORG))
    grant = {"role": ACCESSOR, "members": [SA], "condition": {"title": "t", "expression": "true"}}
    answer = _check(_inventory(ancestry=ancestry, folder=[grant]))
    assert answer.access == "unknown"
    assert answer.why_unknown == (f"{ACCESSOR} on folder {FOLDER} is granted only under a condition",)


def test_a_folder_whose_policy_is_not_in_the_evidence_is_unread_by_its_id() -> None:
    ancestry = _ancestry(("folder", FOLDER), ("folder", PARENT_FOLDER), ("organization", ORG))
    answer = _check(_inventory(ancestry=ancestry, folder=[]))
    assert answer.access == "denied"
    assert [(level.level, level.name) for level in answer.read][2:] == [("folder", FOLDER), ("organization", ORG)]
    (unread,) = answer.unread
    assert (unread.level, unread.name) == ("folder", PARENT_FOLDER)
    assert unread.reason == f"the IAM policy of folder {PARENT_FOLDER} is not in the evidence"


def test_without_the_ancestry_folder_and_organization_stay_unread_as_before() -> None:
    answer = _check(_inventory(ancestry=None, folder=[{"role": ACCESSOR, "members": [SA]}]))
    assert answer.access == "denied"  # the folder's grant cannot be placed above this project
    assert [(level.level, level.name) for level in answer.unread] == [("folder", ""), ("organization", "")]
    assert "the ancestry of project netra-staging is not in the evidence" in str(answer.unread[0].reason)


def test_an_ancestry_known_only_in_part_leaves_what_is_above_unread() -> None:
    ancestry = _ancestry(("folder", FOLDER), reason="PERMISSION_DENIED: resourcemanager.folders.get")
    answer = _check(_inventory(ancestry=ancestry, folder=[]))
    assert answer.access == "denied"
    assert ("folder", FOLDER) in [(level.level, level.name) for level in answer.read]
    assert [(level.level, level.name) for level in answer.unread] == [("folder", ""), ("organization", "")]
    assert f"what is above folder {FOLDER} is not known (PERMISSION_DENIED" in str(answer.unread[0].reason)


def test_a_folder_grant_alone_grants_but_a_folder_without_one_proves_nothing() -> None:
    """Neither the secret's nor the project's policy read: a folder grant still grants (it is inherited), but no
    grant there is no "denied" (the grant may be on the secret)."""
    inventory = _inventory(ancestry=_ancestry(("folder", FOLDER)), folder=[{"role": ACCESSOR, "members": [SA]}])
    del inventory.of("secret")["stripe-api-key"]
    del inventory.of("project_iam_policy")[PROJECT]
    assert _check(inventory).access == "granted"
    inventory.of("folder_iam_policy")[f"folders/{FOLDER}"] = parse_policy(f"folders/{FOLDER}", {}, "f.json")
    answer = _check(inventory)
    assert answer.access == "unknown" and "or of its project is in the evidence" in answer.why_unknown[0]


def test_a_role_the_service_agent_holds_on_the_organization_counts() -> None:
    ancestry = _ancestry(("organization", ORG))
    inventory = _inventory(ancestry=ancestry)
    agent = access.service_agent(NUMBER)
    org = f"organizations/{ORG}"
    policy = {"bindings": [{"role": access.RUN_AGENT_ROLE, "members": [agent]}]}
    inventory.of("organization_iam_policy")[org] = parse_policy(org, policy, "o.json")
    answer = access.holds_role(agent, access.RUN_AGENT_ROLE, PROJECT, inventory)
    assert answer.access == "granted" and answer.via == f"{access.RUN_AGENT_ROLE} on organization {ORG}"


# --- evidence files -------------------------------------------------------------------------------------------------


def _evidence(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PROJECT}.ancestors.json").write_text(json.dumps(ANCESTORS))
    grant = {"bindings": [{"role": ACCESSOR, "members": [SA]}], "etag": "BwY="}
    (folder / f"{FOLDER}.folder-iam.json").write_text(json.dumps(grant))
    (folder / f"{ORG}.org-iam.json").write_text(json.dumps({"bindings": [], "etag": "BwY="}))
    return folder


def test_the_evidence_files_load_as_the_ancestry_and_the_policies(tmp_path: Path) -> None:
    inventory = load_evidence([_evidence(tmp_path / "e")])
    ancestry = inventory.of("project_ancestry")[PROJECT]
    assert ancestry.ancestors == (("folder", FOLDER), ("folder", PARENT_FOLDER), ("organization", ORG))
    assert ancestry.complete and ancestry.names() == [
        f"folders/{FOLDER}",
        f"folders/{PARENT_FOLDER}",
        f"organizations/{ORG}",
    ]
    folder = inventory.of("folder_iam_policy")[f"folders/{FOLDER}"]
    assert folder.bindings == {ACCESSOR: (SA,)} and folder.complete
    assert folder.origin == str(tmp_path / "e" / f"{FOLDER}.folder-iam.json")
    assert inventory.of("organization_iam_policy")[f"organizations/{ORG}"].bindings == {}
    assert not inventory.of("project_iam_policy")  # named for a folder: not read as a project's


def test_a_folder_policy_and_the_rule_fixture_side_by_side_silence_secret_access_denied(tmp_path: Path) -> None:
    case = Path(shutil.copytree(RULE_CASE, tmp_path / "case"))
    (case / f"{NUMBER}.project-iam.json").write_text(json.dumps({"bindings": [], "etag": "BwY="}))
    (finding,) = findings_of(compare_rule_fixture(case), "secret-access-denied")
    assert "folder and organization policies were not read" in finding["explanation"]
    ancestors = [{"id": NUMBER, "type": "project"}, *ANCESTORS[1:]]
    (case / f"{NUMBER}.ancestors.json").write_text(json.dumps(ancestors))
    (finding,) = findings_of(compare_rule_fixture(case), "secret-access-denied")  # no policy of theirs yet
    assert (
        f"the folder {FOLDER} and folder {PARENT_FOLDER} and organization {ORG} policies were not read"
        in (finding["explanation"])
    )
    grant = {"bindings": [{"role": ACCESSOR, "members": [SA]}], "etag": "BwY="}
    (case / f"{FOLDER}.folder-iam.json").write_text(json.dumps(grant))
    assert findings_of(compare_rule_fixture(case), "secret-access-denied") == []


def test_every_level_read_without_a_grant_says_so_and_names_none_unread(tmp_path: Path) -> None:
    case = Path(shutil.copytree(RULE_CASE, tmp_path / "case"))
    empty = json.dumps({"bindings": [], "etag": "BwY="})
    (case / f"{NUMBER}.project-iam.json").write_text(empty)
    (case / f"{NUMBER}.ancestors.json").write_text(json.dumps([{"id": NUMBER, "type": "project"}, ANCESTORS[1]]))
    (case / f"{FOLDER}.folder-iam.json").write_text(empty)
    (finding,) = findings_of(compare_rule_fixture(case), "secret-access-denied")
    assert (
        f"Nor does it hold one in the IAM policy of project {NUMBER}, nor in those of folder {FOLDER}."
        in (finding["explanation"])
    )
    assert "not read" not in finding["explanation"]


def test_a_folder_policy_named_for_no_folder_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / ".folder-iam.json").write_text(json.dumps({"bindings": [], "etag": "BwY="}))
    run = run_cli("compare", "a", "b", "--from", tmp_path / ".folder-iam.json")
    assert run.code == 2 and "a folder IAM policy carries no id; save it as ID.folder-iam.json" in run.stderr


# --- snapshot -------------------------------------------------------------------------------------------------------


def test_a_snapshot_round_trips_and_stored_errors_are_unknown_not_absent(tmp_path: Path) -> None:
    denied = "PERMISSION_DENIED: resourcemanager.folders.getIamPolicy"
    cut = "PERMISSION_DENIED: Permission 'resourcemanager.folders.get' denied"
    grant = {"bindings": [{"role": ACCESSOR, "members": [SA]}], "etag": "BwY="}
    path = write_snapshot(
        tmp_path,
        PROJECT,
        project_ancestries={
            PROJECT: ANCESTORS,
            "netra-prod": {"ancestors": [{"id": "netra-prod", "type": "project"}, ANCESTORS[1]], "error": cut},
            "netra-dev": {"error": "PERMISSION_DENIED: resourcemanager.projects.get"},
        },
        folder_iam_policies={f"folders/{FOLDER}": grant, f"folders/{PARENT_FOLDER}": {"error": denied}},
        organization_iam_policies={f"organizations/{ORG}": {"bindings": [], "etag": "BwY="}},
    )
    inventory = load_evidence([path])
    ancestries = inventory.of("project_ancestry")
    assert ancestries[PROJECT] == ProjectAncestry(
        PROJECT,
        f"{path}#project_ancestry:{PROJECT}",
        (("folder", FOLDER), ("folder", PARENT_FOLDER), ("organization", ORG)),
    )
    assert ancestries["netra-prod"].complete is False and ancestries["netra-prod"].reason == cut
    assert "netra-dev" not in ancestries
    origin = f"{path}#folder_iam:folders/{FOLDER}"
    assert inventory.of("folder_iam_policy")[f"folders/{FOLDER}"] == AncestorIamPolicy(
        f"folders/{FOLDER}", origin, {ACCESSOR: (SA,)}, {}, True, {"bindings": f"{origin}:bindings"}
    )
    assert f"folders/{PARENT_FOLDER}" not in inventory.of("folder_iam_policy")
    assert inventory.errors == {
        f"folder_iam_policies:folders/{PARENT_FOLDER}": denied,
        "project_ancestries:netra-dev": "PERMISSION_DENIED: resourcemanager.projects.get",
        "project_ancestries:netra-prod": cut,
    }
    # the resolver: the folder grant grants; and a denied folder read is unread with the API's reason
    inventory.of("secret")["stripe-api-key"] = Secret("stripe-api-key", PROJECT, "s.json", bindings={})
    assert _check(inventory).via == f"{ACCESSOR} on folder {FOLDER}"
    del inventory.of("folder_iam_policy")[f"folders/{FOLDER}"]
    unread = {(level.name, level.reason) for level in _check(inventory).unread}
    assert (PARENT_FOLDER, denied) in unread


# --- Terraform ------------------------------------------------------------------------------------------------------


def test_terraform_folder_and_organization_iam_resources(tmp_path: Path) -> None:
    policy = json.dumps({"bindings": [{"role": "roles/run.invoker", "members": [SA]}]})
    state = write_state(
        tmp_path,
        ("google_folder_iam_member", {"folder": f"folders/{FOLDER}", "role": ACCESSOR, "member": SA, "condition": []}),
        ("google_folder_iam_binding", {"folder": FOLDER, "role": "roles/viewer", "members": [SA]}),
        ("google_organization_iam_policy", {"org_id": ORG, "policy_data": policy}),
        (
            "google_organization_iam_binding",
            {"org_id": ORG, "role": ACCESSOR, "members": [SA], "condition": [{"title": "t", "expression": "true"}]},
        ),
    )
    inventory = load_evidence([state])
    folder = inventory.of("folder_iam_policy")[f"folders/{FOLDER}"]
    assert folder.complete is False  # the rest of the folder's policy is not in this state
    assert folder.bindings == {ACCESSOR: (SA,), "roles/viewer": (SA,)}
    assert folder.provenance["bindings"].endswith("google_folder_iam_binding.r1.members")
    org = inventory.of("organization_iam_policy")[f"organizations/{ORG}"]
    assert org.complete is True and org.bindings == {"roles/run.invoker": (SA,)}
    assert org.conditional == {ACCESSOR: (SA,)}


# --- README ---------------------------------------------------------------------------------------------------------


def test_the_readme_lists_the_export_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in (
        "gcloud projects get-ancestors netra-staging --format=json > netra-staging.ancestors.json",
        "gcloud resource-manager folders get-iam-policy 123456789 --format=json > 123456789.folder-iam.json",
        "gcloud organizations get-iam-policy 987654321 --format=json > 987654321.org-iam.json",
    ):
        assert command in readme, command
