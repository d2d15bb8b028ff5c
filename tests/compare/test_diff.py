"""deepdiff over canonical forms: keyed maps differ key by key, unknown values never differ."""

from __future__ import annotations

import dataclasses

from conftest import INCIDENT

from driftcheck.compare.diff import compare_services
from driftcheck.model import EnvVar, Service, Unknown
from driftcheck.sources.evidence import load_evidence


def _incident() -> tuple[Service, Service]:
    inventory = load_evidence([INCIDENT])
    return inventory.services["api"], inventory.services["auth"]


def test_env_maps_with_no_name_in_common_still_differ_name_by_name() -> None:
    api, auth = _incident()
    container = api.containers["ingress"]
    api = dataclasses.replace(api, containers={"ingress": dataclasses.replace(container, env={"ONLY": EnvVar("x")})})
    changes = {(c.path, c.kind) for c in compare_services(api, auth)}
    assert ("containers.ingress.env.ONLY", "added") in changes
    assert ("containers.ingress.env.DB_HOST", "removed") in changes
    assert not any(path == "containers.ingress.env" for path, _ in changes)


def test_an_unknown_value_is_never_a_difference() -> None:
    api, auth = _incident()
    unknown_sa = dataclasses.replace(api, service_account=Unknown("PERMISSION_DENIED"))
    assert "service_account" in {c.path for c in compare_services(api, auth)}
    assert "service_account" not in {c.path for c in compare_services(unknown_sa, auth)}
