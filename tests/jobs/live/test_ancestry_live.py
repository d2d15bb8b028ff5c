"""Folders and organization, live: the project's parent chain (Projects.GetProject, Folders.GetFolder) and each
folder's and the organization's IAM policy, read through the real Resource Manager v3 clients over real gRPC from
the fake; a denied read is unknown, said in a note with the permission and role to grant, never "no grant"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FIXTURES, findings_of, run_cli
from fakegcp import FakeGcpServer, World
from test_iam_rules_live import SCOPE, _world

PROJECT = "netra-staging"
FOLDER, PARENT_FOLDER, ORG = "123456789", "222222222", "987654321"
CHECKOUT = f"serviceAccount:checkout@{PROJECT}.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
FOLDERS = "google.cloud.resourcemanager.v3.Folders"


def _granted_on_a_folder(tmp_path: Path) -> tuple[World, str, str]:
    """secret-access-denied's world (checkout holds no grant on its secret nor its project), with the project under
    two folders and an organization, and the nearest folder granting checkout Secret Accessor."""
    world, target, baseline = _world(FIXTURES / "rules" / "secret-access-denied", tmp_path)
    world.set_ancestry(
        [
            {"id": PROJECT, "type": "project"},
            {"id": FOLDER, "type": "folder"},
            {"id": PARENT_FOLDER, "type": "folder"},
            {"id": ORG, "type": "organization"},
        ]
    )
    world.set_ancestor_iam_policy(f"folders/{FOLDER}", {"bindings": [{"role": ACCESSOR, "members": [CHECKOUT]}]})
    return world, target, baseline


def _compare(server: FakeGcpServer, target: str, baseline: str) -> dict[str, Any]:
    run = run_cli("compare", target, baseline, *SCOPE, "--endpoint", server.address, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


def test_a_secret_readable_only_through_a_folder_grant_is_not_secret_access_denied(tmp_path: Path) -> None:
    world, target, baseline = _granted_on_a_folder(tmp_path)
    with FakeGcpServer(world) as server:
        report = _compare(server, target, baseline)
        calls = list(server.calls)
    assert findings_of(report, "secret-access-denied") == []
    assert not report["notes"], report["notes"]
    assert ("GetProject", f"projects/{PROJECT}") in calls
    assert [name for method, name in calls if method == "GetFolder"] == [
        f"folders/{FOLDER}",
        f"folders/{PARENT_FOLDER}",
    ]
    policies = sorted(name for method, name in calls if method == "GetIamPolicy" and not name.startswith("projects/"))
    assert policies == [f"folders/{FOLDER}", f"folders/{PARENT_FOLDER}", f"organizations/{ORG}"]  # once each


def test_without_the_folder_grant_the_rule_fires_and_says_every_level_was_read(tmp_path: Path) -> None:
    world, target, baseline = _granted_on_a_folder(tmp_path)
    del world.folder_iam_policies[f"folders/{FOLDER}"]
    with FakeGcpServer(world) as server:
        report = _compare(server, target, baseline)
    (finding,) = findings_of(report, "secret-access-denied")
    assert f"nor in those of folder {FOLDER}, folder {PARENT_FOLDER}, organization {ORG}." in finding["explanation"], (
        finding["explanation"]
    )
    assert "not read" not in finding["explanation"]


def test_a_denied_folder_policy_read_is_a_note_and_the_folder_unread_never_no_grant(tmp_path: Path) -> None:
    world, target, baseline = _granted_on_a_folder(tmp_path)
    faults = {(f"{FOLDERS}/GetIamPolicy", f"folders/{FOLDER}"): "PERMISSION_DENIED"}
    with FakeGcpServer(world, faults=faults) as server:
        report = _compare(server, target, baseline)
    (note,) = [n for n in report["notes"] if "folder_iam_policies" in n]
    assert f"could not read folder_iam_policies:folders/{FOLDER} (PERMISSION_DENIED" in note
    assert "needs resourcemanager.folders.getIamPolicy (roles/iam.securityReviewer)" in note
    assert report["incomplete"] is True
    # the grant it holds is not seen: the finding says the folder was not read, so it is checked before granting
    (finding,) = findings_of(report, "secret-access-denied")
    assert f"the folder {FOLDER} policies were not read, so check those before granting" in finding["explanation"]


def test_a_denied_folder_read_keeps_the_walk_so_far_and_leaves_what_is_above_unread(tmp_path: Path) -> None:
    world, target, baseline = _granted_on_a_folder(tmp_path)
    faults = {("GetFolder", f"folders/{PARENT_FOLDER}"): "PERMISSION_DENIED"}
    out = tmp_path / "snap.json"
    with FakeGcpServer(world, faults=faults) as server:
        run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", out)
        assert run.code == 0, run.stderr
        report = _compare(server, target, baseline)
    stored = json.loads(out.read_text())["project_ancestries"][PROJECT]
    assert stored["ancestors"] == [
        {"id": PROJECT, "type": "project"},
        {"id": FOLDER, "type": "folder"},
        {"id": PARENT_FOLDER, "type": "folder"},
    ]
    assert stored["error"].startswith("PERMISSION_DENIED")
    assert "needs resourcemanager.folders.get (roles/browser)" in stored["error"]
    # the nearest folder's grant is still read: no finding; what is above is said not to be known
    assert findings_of(report, "secret-access-denied") == []
    assert any(f"project_ancestries:{PROJECT}" in note for note in report["notes"]), report["notes"]
    from_file = run_cli("compare", target, baseline, "--from", out, "--format", "json")
    assert findings_of(from_file.json(), "secret-access-denied") == []
