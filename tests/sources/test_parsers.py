"""Spellings real files use, in small documents: quantities, strings for numbers, wrappers, templates, policies."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftcheck.errors import InputError
from driftcheck.kinds.units import cpu_cores, memory_bytes
from driftcheck.model import Inventory
from driftcheck.sources.evidence import load_evidence


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("512Mi", 512 * 2**20), ("512M", 512 * 10**6), ("4000M", 4 * 10**9), ("2Gi", 2 * 2**30), ("1G", 10**9)],
)
def test_memory_quantities_binary_and_decimal(raw: str, expected: int) -> None:
    assert memory_bytes(raw, file="f", field="m") == expected


@pytest.mark.parametrize(("raw", "expected"), [("1000m", 1.0), ("1", 1.0), ("0.5", 0.5), (2, 2.0), ("583m", 0.583)])
def test_cpu_quantities(raw: object, expected: float) -> None:
    assert cpu_cores(raw, file="f", field="c") == pytest.approx(expected)


def knative(containers: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "svc", "namespace": "123456789012"},
        "spec": {"template": {"metadata": {"annotations": annotations or {}}, "spec": {"containers": containers}}},
    }


def load(tmp_path: Path, data: Any, name: str = "svc.yaml") -> Inventory:
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    return load_evidence([path])


def test_numbers_written_as_strings(tmp_path: Path) -> None:
    container = {"image": "i", "ports": [{"containerPort": "5002"}], "resources": {"limits": {"cpu": "0.5"}}}
    doc = knative([container], {"autoscaling.knative.dev/maxScale": "7"})
    doc["spec"]["template"]["spec"]["timeoutSeconds"] = "60"
    service = load(tmp_path, doc).services["svc"]
    assert (service.containers["ingress"].port, service.containers["ingress"].cpu) == (5002, 0.5)
    assert (service.max_instances, service.timeout_s) == (7, 60)


def test_utf16_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_bytes(codecs.BOM_UTF16_LE + yaml.safe_dump(knative([{"image": "i"}])).encode("utf-16-le"))
    assert set(load_evidence([path]).services) == {"svc"}


def test_unnamed_sidecars_do_not_overwrite_each_other(tmp_path: Path) -> None:
    containers = [{"image": "app", "ports": [{"containerPort": 8080}]}, {"image": "s1"}, {"image": "s2"}]
    service = load(tmp_path, knative(containers)).services["svc"]
    assert {k: c.image for k, c in service.containers.items()} == {
        "ingress": "app",
        "container-1": "s1",
        "container-2": "s2",
    }


def test_container_dependencies_that_are_not_a_map_name_the_annotation(tmp_path: Path) -> None:
    doc = knative([{"image": "i"}], {"run.googleapis.com/container-dependencies": "app after collector"})
    with pytest.raises(InputError, match=r"container-dependencies\]: run.googleapis.com/container-dependencies is"):
        load(tmp_path, doc)


def test_shell_placeholders_in_env_are_not_a_template(tmp_path: Path) -> None:
    doc = knative([{"image": "i", "env": [{"name": "JDBC", "value": "jdbc:${DB_HOST}"}], "args": ["${HOME}"]}])
    assert "svc" in load(tmp_path, doc).services


def test_placeholder_in_the_image_is_a_template(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"containers\[0\]\.image: looks like a template.*'\$\{IMAGE\}'"):
        load(tmp_path, knative([{"image": "${IMAGE}"}]))


def v2_service(name: str = "svc") -> dict[str, Any]:
    return {"name": f"projects/p/locations/r/services/{name}", "template": {"containers": [{"image": "i"}]}}


def test_operation_holding_the_service_under_metadata_only(tmp_path: Path) -> None:
    """A running (or delete) operation has no `response` yet; the Service is in `metadata`."""
    operation = {"name": "projects/p/locations/r/operations/123", "metadata": v2_service()}
    recorded = {"headers": {"status": "200"}, "body": operation}
    assert set(load(tmp_path, recorded, "op.json").services) == {"svc"}


def test_operation_about_something_else_is_refused(tmp_path: Path) -> None:
    operation = {"name": "projects/p/locations/r/operations/9", "metadata": {"@type": "type.googleapis.com/x.Meta"}}
    with pytest.raises(InputError, match=r"long-running operation \(projects/p/locations/r/operations/9\)"):
        load(tmp_path, operation, "op.json")


def test_secret_policy_without_etag_loads_when_named_after_the_secret(tmp_path: Path) -> None:
    policy = {"version": 1, "bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["user:a@b.c"]}]}
    secret = load(tmp_path, policy, "db-password.iam.json").secrets["db-password"]
    assert secret.bindings == {"roles/secretmanager.secretAccessor": ("user:a@b.c",)}


def test_comments_only_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text("# deploy with gcloud run deploy\n# nothing here\n")
    with pytest.raises(InputError, match="holds only comments"):
        load_evidence([path])


def test_wrong_type_deep_inside_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    doc = knative([{"image": "i", "env": [{"name": "A", "valueFrom": "not-a-mapping"}]}])
    field = r"spec\.template\.spec\.containers\[0\]\.env\[0\]\.valueFrom"
    with pytest.raises(InputError, match=rf"svc\.yaml:{field}: expected a mapping, found a string"):
        load(tmp_path, doc)


def test_own_project_secret_by_number_is_the_plain_secret(tmp_path: Path) -> None:
    """gcloud aliases a secret given by full path; with the service's own project number it is just the id."""
    annotations = {"run.googleapis.com/secrets": "k-1:projects/123456789012/secrets/key"}
    env = [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "k-1", "key": "2"}}}]
    service = load(tmp_path, knative([{"image": "i", "env": env}], annotations)).services["svc"]
    secret = service.containers["ingress"].env["K"].secret
    assert secret is not None and (secret.secret, secret.version) == ("key", "2")


def test_other_project_secret_keeps_its_path(tmp_path: Path) -> None:
    annotations = {"run.googleapis.com/secrets": "k-1:projects/999999999999/secrets/key"}
    env = [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "k-1", "key": "latest"}}}]
    service = load(tmp_path, knative([{"image": "i", "env": env}], annotations)).services["svc"]
    secret = service.containers["ingress"].env["K"].secret
    assert secret is not None and secret.secret == "projects/999999999999/secrets/key"


def test_gpu_spelled_both_ways_is_the_same(tmp_path: Path) -> None:
    limits = {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    v1 = knative([{"image": "i", "resources": {"limits": limits}}])
    v1["spec"]["template"]["spec"]["nodeSelector"] = {"run.googleapis.com/accelerator": "nvidia-l4"}
    v2 = v2_service("gpu")
    v2["template"]["nodeSelector"] = {"accelerator": "nvidia-l4"}
    v2["template"]["containers"][0]["resources"] = {"limits": {**limits, "nvidia.com/gpu": 1}}
    one, two = load(tmp_path, v1).services["svc"], load(tmp_path, v2, "gpu.json").services["gpu"]
    for service in (one, two):
        assert (service.accelerator, service.containers["ingress"].gpus) == ("nvidia-l4", 1)
