"""Bad evidence through the real command line: exit 2, one line on stderr naming the file and field or line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT, ROOT, Run, run_cli


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


# --- limits: no input hangs driftcheck or exhausts memory (sources/limits.py) -------------------------------------


def alias_bomb() -> str:
    """About 1 KB of YAML whose last alias expands to 10^9 strings (the "billion laughs")."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["notes.yaml", "api-override.yml"])
def test_yaml_alias_bomb_in_any_file_of_a_folder_is_refused(tmp_path: Path, name: str) -> None:
    evidence = shutil.copytree(INCIDENT, tmp_path / "evidence")
    (evidence / name).write_text(alias_bomb())
    assert_one_line(compare_from(evidence), f"{evidence / name}:line 2", "YAML alias *a0 is not supported")


def test_yaml_alias_inside_evidence_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(service()).replace("metadata:\n", "metadata: &meta\n") + "status: {observed: *meta}\n"
    (tmp_path / "api.yaml").write_text(text)
    assert_one_line(compare_from(tmp_path), "api.yaml:line ", "YAML alias *meta")


def test_yaml_anchor_without_alias_and_a_glob_value_still_load(tmp_path: Path) -> None:
    doc = service()
    doc["metadata"]["annotations"] = {"example.com/paths": "/api/*, *.js"}
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(doc).replace("metadata:\n", "metadata: &meta\n"))
    run = run_cli("compare", "api", "api", "--from", tmp_path, "--fail-on", "none", "--format", "json")
    assert run.code == 0, run.stderr


def nested(levels: int) -> str:
    """JSON text of lists nested `levels` deep (json.dumps itself cannot write it)."""
    return "[" * levels + "]" * levels


def with_value(doc: dict[str, Any], key: str, value_text: str) -> str:
    """`doc` as JSON with `key` set to the raw JSON text `value_text`."""
    return json.dumps({**doc, key: "VALUE"}).replace('"VALUE"', value_text)


def deep_tfstate() -> str:
    attributes = with_value({"name": "api", "location": "r1"}, "template", nested(5000))
    resource = {"mode": "managed", "type": "google_cloud_run_v2_service", "name": "api", "instances": ["ATTR"]}
    state = {"version": 4, "terraform_version": "1.9.0", "resources": [resource]}
    return json.dumps(state).replace('"ATTR"', '{"attributes": ' + attributes + "}")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", nested(100_000)),
        ("deep.yaml", "key: " + nested(100_000) + "\n"),
        ("block.yaml", "".join(" " * i + "k:\n" for i in range(900)) + " " * 900 + "k: 1\n"),
        ("value.json", with_value(service(), "spec", nested(5000))),
        ("shallower.json", with_value(service(), "spec", nested(500))),  # within json's own recursion limit
        ("terraform.tfstate", deep_tfstate()),  # read resource by resource (sources/tfstate_stream.py)
    ],
)
def test_deep_nesting_is_an_input_error_naming_the_file(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    assert_one_line(compare_from(tmp_path), f"{tmp_path / name}:", "nested more than 100 levels deep")


@pytest.mark.parametrize("levels", [5000, 100_000])
def test_deep_nesting_in_a_tf_file_is_an_input_error(tmp_path: Path, levels: int) -> None:
    (tmp_path / "main.tf").write_text("locals {\n  x = " + nested(levels) + "\n}\n")
    run = run_cli("compare", f"{tmp_path}#google_cloud_run_v2_service.api", "auth", "--from", INCIDENT)
    assert_one_line(run, f"{tmp_path / 'main.tf'}: nested more than 100 levels deep")


def test_file_above_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    evidence = shutil.copytree(INCIDENT, tmp_path / "evidence")
    big = evidence / "big.json"
    big.write_text('{"padding": "' + "x" * 3 * 2**20 + '"}')
    run = run_cli("compare", "api", "auth", "--from", evidence, env={"DRIFTCHECK_MAX_FILE_MB": "2"})
    assert_one_line(run, f"{big}: file is 3 MB, above the 2 MB limit", "DRIFTCHECK_MAX_FILE_MB")


def test_size_limit_that_is_not_a_number_is_an_input_error() -> None:
    run = run_cli("compare", "api", "auth", "--from", INCIDENT, env={"DRIFTCHECK_MAX_FILE_MB": "lots"})
    assert_one_line(run, "DRIFTCHECK_MAX_FILE_MB='lots' is not a positive number")


# --- what is not understood is said (one line naming file and field) --------------------------------------------


def v2_service(**template: Any) -> dict[str, Any]:
    """A minimal Cloud Run v2 Service JSON; tests break one thing in its template."""
    return {"name": "projects/p/locations/r1/services/api", "template": {"containers": [{"image": "i"}], **template}}


@pytest.mark.parametrize("containers", [[], None])
def test_service_without_containers_names_the_field(tmp_path: Path, containers: Any) -> None:
    doc = service()
    doc["spec"]["template"]["spec"]["containers"] = containers
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "v2.json").write_text(json.dumps(v2_service(containers=containers)))
    run = run_cli("compare", "api", "api", "--from", tmp_path / "api.yaml")
    assert_one_line(run, "api.yaml:spec.template.spec.containers: no containers")
    run = run_cli("compare", "api", "api", "--from", tmp_path / "v2.json")
    assert_one_line(run, "v2.json:template.containers: no containers")


@pytest.mark.parametrize(("port", "field"), [(70000, "ports[0].containerPort"), (0, "ports[0].containerPort")])
def test_port_outside_1_to_65535_names_the_field(tmp_path: Path, port: int, field: str) -> None:
    doc = service()
    doc["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": port}]
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(doc))
    full = f"spec.template.spec.containers[0].{field}"
    assert_one_line(compare_from(tmp_path), f"api.yaml:{full}: port {port} is outside 1-65535")


def test_probe_port_outside_the_range_names_the_field(tmp_path: Path) -> None:
    probe = {"tcpSocket": {"port": 99999}}
    (tmp_path / "v2.json").write_text(json.dumps(v2_service(containers=[{"image": "i", "startupProbe": probe}])))
    field = "template.containers[0].startupProbe.port"
    assert_one_line(compare_from(tmp_path), f"v2.json:{field}: port 99999 is outside 1-65535")


def test_duplicate_key_in_yaml_names_key_and_line(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(service()) + "kind: Service\n")
    assert_one_line(compare_from(tmp_path), "api.yaml:line ", "duplicate key 'kind'")


def test_duplicate_key_in_json_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "v2.json").write_text(json.dumps(v2_service())[:-1] + ', "template": {}}')
    assert_one_line(compare_from(tmp_path), "v2.json: duplicate key 'template' in one JSON object")


def test_duplicate_key_in_a_streamed_state_names_the_key(tmp_path: Path) -> None:
    state = json.dumps({"version": 4, "terraform_version": "1.9.0", "resources": [{"mode": "managed"}]})
    (tmp_path / "terraform.tfstate").write_text(state.replace('"mode": "managed"', '"mode": "managed", "mode": "data"'))
    assert_one_line(compare_from(tmp_path), "terraform.tfstate: duplicate key 'mode'")


@pytest.mark.parametrize("spelling", ["knative", "v2"])
def test_duplicate_env_name_in_one_container_names_the_field(tmp_path: Path, spelling: str) -> None:
    env = [{"name": "DB_HOST", "value": "a"}, {"name": "DB_HOST", "value": "b"}]
    if spelling == "knative":
        doc = service()
        doc["spec"]["template"]["spec"]["containers"][0]["env"] = env
        field = "spec.template.spec.containers[0].env[1].name"
    else:
        doc, field = v2_service(containers=[{"image": "i", "env": env}]), "template.containers[0].env[1].name"
    (tmp_path / "api.json").write_text(json.dumps(doc))
    assert_one_line(compare_from(tmp_path), f"api.json:{field}: env name 'DB_HOST' appears twice")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("plan.json", {"format_version": "2.0", "planned_values": {}}, ":format_version: Terraform JSON format"),
        ("terraform.tfstate", {"version": 5, "terraform_version": "2.0", "resources": []}, ":version: Terraform state"),
    ],
)
def test_unknown_major_format_version_is_refused(tmp_path: Path, name: str, content: Any, says: str) -> None:
    (tmp_path / name).write_text(json.dumps(content))
    version = repr(content.get("format_version", content.get("version")))
    assert_one_line(compare_from(tmp_path), f"{tmp_path / name}{says}", f"version {version}", "not supported")


@pytest.mark.parametrize(("name", "text"), [("api.json", "null\n"), ("api.yaml", "---\n~\n")])
def test_null_document_is_said_to_be_null(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    assert_one_line(compare_from(tmp_path), f"{tmp_path / name}: file holds only null")


@pytest.mark.parametrize(
    ("doc", "field", "says"),
    [
        ({**v2_service(), "template": [1]}, "template", "expected a mapping, found a list"),
        (
            v2_service(containers=[{"image": "i", "ports": [5]}]),
            "template.containers[0].ports[0]",
            "expected a mapping",
        ),
        (v2_service(containers=["api"]), "template.containers[0]", "expected a mapping, found a string"),
        (v2_service(scaling={"minInstanceCount": [1]}), "template.scaling.minInstanceCount", "expected a whole number"),
    ],
)
def test_wrong_type_names_the_field_not_a_python_error(tmp_path: Path, doc: Any, field: str, says: str) -> None:
    (tmp_path / "api.json").write_text(json.dumps(doc))
    run = compare_from(tmp_path)
    assert_one_line(run, f"api.json:{field}: {says}")
    assert "object" not in run.stderr  # never "'int' object is not subscriptable"


def test_knative_ports_of_the_wrong_type_names_the_field(tmp_path: Path) -> None:
    doc = service()
    doc["spec"]["template"]["spec"]["containers"][0]["ports"] = 8080
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(doc))
    field = "spec.template.spec.containers[0].ports"
    assert_one_line(compare_from(tmp_path), f"api.yaml:{field}: expected a list, found a number (8080)")


def without_read_override() -> list[str]:
    """As root, permissions do not stop a read: drop the capabilities that bypass them (CAP_DAC_*)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: an unreadable folder cannot be made")
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all"]


def test_unreadable_subfolder_is_an_error_not_a_silent_gap(tmp_path: Path) -> None:
    evidence = shutil.copytree(INCIDENT, tmp_path / "evidence")
    hidden = evidence / "more"
    hidden.mkdir()
    (hidden / "payments.yaml").write_text(yaml.safe_dump(service()))
    hidden.chmod(0)
    try:
        command = [*without_read_override(), sys.executable, "-m", "driftcheck", "compare", "api", "auth"]
        done = subprocess.run(
            [*command, "--from", str(evidence)], capture_output=True, text=True, cwd=ROOT, check=False
        )
    finally:
        hidden.chmod(0o700)
    assert_one_line(Run(done.returncode, done.stdout, done.stderr), f"{hidden}: cannot read folder: Permission denied")
