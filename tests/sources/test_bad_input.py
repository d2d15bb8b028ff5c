"""Bad evidence through the real command line: exit 2, one line on stderr naming the file and field or line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT, Run, run_cli


def service(**changes: Any) -> dict[str, Any]:
    """A minimal valid Knative export; tests break one thing in it."""
    doc: dict[str, Any] = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "123456789012", "labels": {"cloud.googleapis.com/location": "r1"}},
        "spec": {
            "template": {
                "spec": {"containers": [{"image": "gcr.io/p/api", "resources": {"limits": {"memory": "512Mi"}}}]}
            }
        },
    }
    doc.update(changes)
    return doc


def compare_from(folder: Path) -> Run:
    return run_cli("compare", "api", "auth", "--from", folder)


def assert_one_line(run: Run, *fragments: str) -> None:
    assert run.code == 2, run.stderr
    assert run.stderr.endswith("\n") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in run.stderr


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "api.yaml"
    bad.write_text("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: api\n  labels: [a\n")
    assert_one_line(compare_from(tmp_path), f"{bad}:line ", "malformed YAML")


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "api.json"
    bad.write_text('{\n  "name": "projects/p/locations/r/services/api",\n  "template": {,}\n}\n')
    assert_one_line(compare_from(tmp_path), f"{bad}:line 3", "malformed JSON")


def test_file_of_no_known_kind_names_file_and_what_it_is(tmp_path: Path) -> None:
    odd = tmp_path / "notes.json"
    odd.write_text(json.dumps({"owner": "team-a", "services": "api"}))
    assert_one_line(compare_from(tmp_path), str(odd), "not a known kind of evidence", "'owner'")


def test_empty_folder(tmp_path: Path) -> None:
    assert_one_line(compare_from(tmp_path), str(tmp_path), "holds no evidence files")


def test_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert_one_line(compare_from(missing), str(missing), "no such file or folder")


def test_unknown_service_name_lists_the_services_found() -> None:
    run = run_cli("compare", "api", "payments", "--from", INCIDENT)
    assert_one_line(run, "no service named 'payments'", "api, auth")


def test_iam_policy_with_a_wrong_name_says_how_to_name_it(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": []}]}))
    assert_one_line(compare_from(tmp_path), str(policy), "as SECRET.iam.json")


def test_knative_service_without_spec_template_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "api.yaml"
    bad.write_text(yaml.safe_dump(service(spec={"traffic": []})))
    assert_one_line(compare_from(tmp_path), f"{bad}:spec.template:", "missing or not a mapping")


def test_bad_memory_quantity_names_the_field(tmp_path: Path) -> None:
    doc = service()
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "512 megs"
    bad = tmp_path / "api.yaml"
    bad.write_text(yaml.safe_dump(doc))
    field = "spec.template.spec.containers[0].resources.limits.memory"
    assert_one_line(compare_from(tmp_path), f"{bad}:{field}:", "'512 megs' is not a memory quantity")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("terraform.tfstate", {"version": 4, "terraform_version": "1.9.0", "resources": []}, "resources in this state"),
        ("old.tfstate", {"version": 3, "terraform_version": "0.11.0", "modules": []}, ":version: Terraform state"),
        ("plan.json", {"format_version": "1.2", "resource_changes": []}, ":planned_values: a plan without"),
        ("asset.json", [{"name": "//run.googleapis.com/x", "asset_type": "run.googleapis.com/Service"}], "Asset Inv"),
        ("get.json", {"error": {"code": 404, "status": "NOT_FOUND", "message": "gone"}}, "404 NOT_FOUND: gone"),
    ],
)
def test_known_but_unsupported_files_say_what_they_are(tmp_path: Path, name: str, content: Any, says: str) -> None:
    (tmp_path / name).write_text(json.dumps(content))
    assert_one_line(compare_from(tmp_path), str(tmp_path / name), says)


def test_template_names_the_placeholder_and_its_line(tmp_path: Path) -> None:
    tpl = tmp_path / "service.yaml.tpl"
    tpl.write_text("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n")
    assert_one_line(compare_from(tmp_path), f"{tpl}:line 4", "looks like a template, not an export")


def test_one_bad_file_among_good_ones_is_named(tmp_path: Path) -> None:
    evidence = shutil.copytree(INCIDENT, tmp_path / "evidence")
    (evidence / "broken.yaml").write_text(yaml.safe_dump(service(metadata={"labels": {}})))
    assert_one_line(compare_from(evidence), f"{evidence / 'broken.yaml'}:metadata.name", "needs metadata.name")
