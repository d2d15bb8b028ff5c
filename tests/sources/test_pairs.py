"""One service in two spellings (Knative v1 export, Cloud Run Admin API v2 JSON) normalizes to one canonical form."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from driftcheck.compare.diff import compare_services
from driftcheck.jobs.compare import pick
from driftcheck.model import SecretRef, Service, to_plain
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.evidence import load_evidence

PAIRS = FIXTURES / "pairs"
CASES = sorted(p.name for p in PAIRS.iterdir() if p.is_dir())
EXPECTED = load_ruleset().expected_differences
MISSING = object()


def load_pair(v1: Path, v2: Path) -> tuple[Service, Service]:
    """The v2 file's deterministic URLs link project number and id; the v1 file is then read against that link."""
    inventory = load_evidence([v2])
    (v2_service,) = inventory.services.values()
    return pick(str(v1), inventory), v2_service


def spec(service: Service) -> dict[str, Any]:
    """The configuration alone: what is observed (status) or always differs (metadata) left out."""
    plain = to_plain(service)
    for key in ("status", "metadata"):
        plain.pop(key)
    return plain


def raw(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else json.loads(path.read_text())


def dig(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if (isinstance(data, dict) and key in data) or (isinstance(data, list) and isinstance(key, int)):
            data = data[key]
        else:
            return MISSING
    return data


def test_every_pair_folder_holds_both_spellings() -> None:
    assert len(CASES) >= 3
    for case in CASES:
        assert raw(PAIRS / case / "v1.yaml")["apiVersion"] == "serving.knative.dev/v1"
        assert raw(PAIRS / case / "v2.json")["name"].startswith("projects/netra-staging/")


@pytest.mark.parametrize("case", CASES)
def test_pair_compares_equal_both_ways(case: str) -> None:
    v1, v2 = load_pair(PAIRS / case / "v1.yaml", PAIRS / case / "v2.json")
    assert compare_services(v1, v2, EXPECTED) == []
    assert compare_services(v2, v1, EXPECTED) == []


@pytest.mark.parametrize("case", CASES)
def test_pair_spec_fields_are_equal(case: str) -> None:
    v1, v2 = load_pair(PAIRS / case / "v1.yaml", PAIRS / case / "v2.json")
    assert v1.project == v2.project == "netra-staging"  # the v1 namespace number, resolved through v2's URLs
    assert spec(v1) == spec(v2)


A1 = ("spec", "template", "metadata", "annotations")  # v1 template annotations
C1 = ("spec", "template", "spec", "containers", 0)
C2 = ("template", "containers", 0)
CONNECTOR = "projects/netra-staging/locations/us-central1/connectors/staging-connector"

# (case, what differs, v1 raw path, v2 raw path, canonical getter, canonical value)
SPELLINGS: list[tuple[str, str, tuple[Any, ...], tuple[Any, ...], Callable[[Service], Any], Any]] = [
    (
        "connector-secret-cloudsql",
        "short vs full connector",
        (*A1, "run.googleapis.com/vpc-access-connector"),
        ("template", "vpcAccess", "connector"),
        lambda s: s.vpc.connector,
        CONNECTOR,
    ),
    (
        "connector-secret-cloudsql",
        "cpu 1000m vs 1",
        (*C1, "resources", "limits", "cpu"),
        (*C2, "resources", "limits", "cpu"),
        lambda s: s.containers["ingress"].cpu,
        1.0,
    ),
    (
        "connector-secret-cloudsql",
        "secret key vs version",
        (*C1, "env", 1, "valueFrom", "secretKeyRef"),
        (*C2, "env", 1, "valueSource", "secretKeyRef"),
        lambda s: s.containers["ingress"].env["DB_PASSWORD"].secret,
        SecretRef("db-password", "3"),
    ),
    (
        "connector-secret-cloudsql",
        "Cloud SQL annotation vs volume and mount",
        (*A1, "run.googleapis.com/cloudsql-instances"),
        ("template", "volumes", 0, "cloudSqlInstance", "instances"),
        lambda s: (s.cloudsql_instances, s.containers["ingress"].volume_mounts),
        (("netra-staging:us-central1:staging-shared-postgres",), {}),
    ),
    (
        "connector-secret-cloudsql",
        "maxScale '100' present vs absent",
        (*A1, "autoscaling.knative.dev/maxScale"),
        ("template", "scaling", "maxInstanceCount"),
        lambda s: s.max_instances,
        100,
    ),
    (
        "connector-secret-cloudsql",
        "no throttling annotation vs cpuIdle true",
        (*A1, "run.googleapis.com/cpu-throttling"),
        (*C2, "resources", "cpuIdle"),
        lambda s: s.containers["ingress"].cpu_always_allocated,
        False,
    ),
    (
        "connector-secret-cloudsql",
        "default startup probe present vs absent",
        (*C1, "startupProbe"),
        (*C2, "startupProbe"),
        lambda s: s.containers["ingress"].startup_probe,
        None,
    ),
    (
        "direct-vpc-always-on",
        "network-interfaces annotation (JSON string) vs networkInterfaces",
        (*A1, "run.googleapis.com/network-interfaces"),
        ("template", "vpcAccess", "networkInterfaces"),
        lambda s: (s.vpc.path, {k: (i.subnetwork, i.tags) for k, i in s.vpc.network_interfaces.items()}),
        ("direct", {"default": ("run-subnet", ("run-egress",))}),
    ),
    (
        "direct-vpc-always-on",
        "cpu-throttling 'false' vs resources without cpuIdle",
        (*A1, "run.googleapis.com/cpu-throttling"),
        (*C2, "resources", "cpuIdle"),
        lambda s: s.containers["ingress"].cpu_always_allocated,
        True,
    ),
    (
        "direct-vpc-always-on",
        "maxScale absent vs maxInstanceCount 100",
        (*A1, "autoscaling.knative.dev/maxScale"),
        ("template", "scaling", "maxInstanceCount"),
        lambda s: s.max_instances,
        100,
    ),
    (
        "direct-vpc-always-on",
        "no startup probe vs the default one",
        (*C1, "startupProbe"),
        (*C2, "startupProbe"),
        lambda s: s.containers["ingress"].startup_probe,
        None,
    ),
    (
        "direct-vpc-always-on",
        "secret by id vs by full path",
        (*C1, "env", 0, "valueFrom", "secretKeyRef", "name"),
        (*C2, "env", 0, "valueSource", "secretKeyRef", "secret"),
        lambda s: s.containers["ingress"].env["API_TOKEN"].secret,
        SecretRef("api-token", "latest"),
    ),
    (
        "sidecar-secret-alias",
        "secret through a v1 alias vs by id",
        (*C1[:-1], 1, "env", 0, "valueFrom", "secretKeyRef", "name"),
        (*C2[:-1], 1, "env", 0, "valueSource", "secretKeyRef", "secret"),
        lambda s: s.containers["app"].env["SESSION_KEY"].secret,
        SecretRef("session-key", "latest"),
    ),
    (
        "sidecar-secret-alias",
        "secret volume through a v1 alias vs by id",
        ("spec", "template", "spec", "volumes", 0, "secret", "secretName"),
        ("template", "volumes", 0, "secret", "secret"),
        lambda s: (s.volumes["keys"].secret, s.volumes["keys"].items),
        ("session-key", {"session.key": "latest"}),
    ),
    (
        "sidecar-secret-alias",
        "connector path with the project number vs the id",
        (*A1, "run.googleapis.com/vpc-access-connector"),
        ("template", "vpcAccess", "connector"),
        lambda s: s.vpc.connector,
        CONNECTOR,
    ),
    (
        "sidecar-secret-alias",
        "container-dependencies flow map vs dependsOn",
        (*A1, "run.googleapis.com/container-dependencies"),
        (*C2, "dependsOn"),
        lambda s: s.containers["ingress"].depends_on,
        ("app",),
    ),
]


@pytest.mark.parametrize(
    ("case", "v1_path", "v2_path", "canonical", "value"),
    [(case, v1, v2, get, value) for case, _, v1, v2, get, value in SPELLINGS],
    ids=[what for _, what, *_ in SPELLINGS],
)
def test_each_spelling_differs_raw_and_agrees_canonically(
    case: str, v1_path: tuple[Any, ...], v2_path: tuple[Any, ...], canonical: Callable[[Service], Any], value: Any
) -> None:
    """Guards the fixtures: a pair that spelled a field the same way in both files would prove nothing."""
    folder = PAIRS / case
    assert dig(raw(folder / "v1.yaml"), *v1_path) != dig(raw(folder / "v2.json"), *v2_path)
    v1, v2 = load_pair(folder / "v1.yaml", folder / "v2.json")
    assert canonical(v1) == canonical(v2) == value


def _set(data: Any, keys: tuple[Any, ...], value: Any) -> None:
    for key in keys[:-1]:
        data = data[key]
    data[keys[-1]] = value


# One field changed in the v2 file -> exactly that canonical path differs: the equality test can fail.
SQL = "netra-staging:us-central1:staging-shared-postgres"
DB_PASSWORD = "containers.ingress.env.DB_PASSWORD"
MUTATIONS = [
    ((*C2, "resources", "limits", "memory"), "1Gi", "containers.ingress.memory_bytes"),
    (("template", "vpcAccess", "connector"), CONNECTOR.replace("staging-", "other-"), "vpc.connector"),
    ((*C2, "env", 1, "valueSource", "secretKeyRef", "version"), "4", f"{DB_PASSWORD}.secret.version"),
    (("template", "volumes", 0, "cloudSqlInstance", "instances"), [SQL, f"{SQL}-replica"], "cloudsql_instances"),
    (("template", "scaling"), {"maxInstanceCount": 20}, "max_instances"),
    ((*C2, "resources", "cpuIdle"), False, "containers.ingress.cpu_always_allocated"),
    ((*C2, "startupProbe"), {"failureThreshold": 3, "tcpSocket": {"port": 8080}}, "containers.ingress.startup_probe"),
    (("ingress",), "INGRESS_TRAFFIC_INTERNAL_ONLY", "ingress"),
]


@pytest.mark.parametrize(("keys", "value", "path"), MUTATIONS, ids=[m[2] for m in MUTATIONS])
def test_one_changed_field_is_the_one_difference(tmp_path: Path, keys: tuple[Any, ...], value: Any, path: str) -> None:
    folder = PAIRS / "connector-secret-cloudsql"
    changed = raw(folder / "v2.json")
    _set(changed, keys, value)
    (tmp_path / "v2.json").write_text(json.dumps(changed))
    v1, v2 = load_pair(folder / "v1.yaml", tmp_path / "v2.json")
    changes = compare_services(v1, v2, EXPECTED)
    assert changes and {c.path for c in changes} == {path}
    assert spec(v1) != spec(v2)
