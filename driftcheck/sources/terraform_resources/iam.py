"""Project and Cloud Run service IAM in Terraform into their policy kinds; and how any IAM resource's grants are
read: `_member` one member, `_binding` one role's members, `_policy` (policy_data, a JSON string) every binding."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from driftcheck.errors import InputError
from driftcheck.kinds import project_iam, run_iam
from driftcheck.model import Inventory
from driftcheck.sources.terraform_resources.instance import Instance, first

# --- grants, as any IAM resource has them -----------------------------------------------------------------------

Granted = list[tuple[str, list[str]]]


def project_grants(instance: Instance, label: str) -> tuple[Granted, Granted]:
    """(plain grants, conditional grants) of one project, Cloud Run service or secret IAM resource."""
    if instance.type.endswith("_iam_policy"):
        policy = project_iam.parse_policy(instance.address, _policy_data(instance, label), label)
        return list(map(_listed, policy.bindings.items())), list(map(_listed, policy.conditional.items()))
    grants = _granted(instance, label)
    return ([], grants) if first(instance.attributes.get("condition")) else (grants, [])


def _listed(grant: tuple[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    return grant[0], list(grant[1])


def _granted(instance: Instance, label: str) -> list[tuple[str, list[str]]]:
    attrs = instance.attributes
    if instance.type.endswith("_member"):
        return [(str(attrs.get("role")), [str(attrs.get("member"))])]
    if instance.type.endswith("_binding"):
        return [(str(attrs.get("role")), [str(m) for m in attrs.get("members") or ()])]
    policy = _policy_data(instance, label)
    return [(str(b.get("role")), [str(m) for m in b.get("members") or ()]) for b in policy.get("bindings") or ()]


def _policy_data(instance: Instance, label: str) -> dict[str, Any]:
    try:
        policy = json.loads(instance.attributes.get("policy_data") or "{}")
    except json.JSONDecodeError:
        raise InputError("policy_data is not JSON", file=label, where=f"{instance.address}.policy_data") from None
    if not isinstance(policy, dict):
        raise InputError("policy_data is not a JSON object", file=label, where=f"{instance.address}.policy_data")
    return policy


_Policy = TypeVar("_Policy", "project_iam.ProjectIamPolicy", "run_iam.RunServiceIamPolicy")


def _with_grants(existing: _Policy, instance: Instance, label: str, field: str) -> _Policy:
    """The policy with one IAM resource's grants added: _member and _binding add to what is known of it (the rest
    is not in state), _policy is the whole of it."""
    plain, conditional = project_grants(instance, label)
    return dataclasses.replace(
        existing,
        bindings=project_iam.with_grants(existing.bindings, plain),
        conditional=project_iam.with_grants(existing.conditional, conditional),
        complete=existing.complete or instance.type.endswith("_iam_policy"),
        provenance={**existing.provenance, "bindings": f"{label}:{instance.address}.{field}"},
    )


# --- Project IAM ------------------------------------------------------------------------------------------------


def load_project_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """_member and _binding add to what is known of the project's policy (the rest of it is not in state); _policy
    is the whole of it. A grant under a `condition` block is kept apart: it holds only when its condition does."""
    attrs = instance.attributes
    project = str(attrs.get("project") or "")
    if not project:
        raise InputError("no project attribute", file=label, where=f"{instance.address}.project")
    policies = inventory.of(project_iam.PROJECT_IAM.name)
    existing = policies.get(project) or project_iam.ProjectIamPolicy(project, label, complete=False)
    policies[project] = _with_grants(existing, instance, label, PROJECT_IAM_FIELD[instance.type])


PROJECT_IAM_FIELD = {
    "google_project_iam_member": "member",
    "google_project_iam_binding": "members",
    "google_project_iam_policy": "policy_data",
}


# --- Cloud Run service IAM ------------------------------------------------------------------------------------


def load_run_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """Who may invoke a service, v2 (`name`) or v1 (`service`), either as a short name or a full path: as the
    project's policy, _member and _binding add to what is known, _policy is the whole of it."""
    attrs = instance.attributes
    service = str(attrs.get("name") or attrs.get("service") or "").rstrip("/").rsplit("/", 1)[-1]
    if not service:
        raise InputError("no service name", file=label, where=f"{instance.address}.name")
    policies = inventory.of(run_iam.RUN_IAM.name)
    existing = policies.get(service) or run_iam.RunServiceIamPolicy(service, label, complete=False)
    policies[service] = _with_grants(existing, instance, label, RUN_IAM_FIELD[instance.type])


RUN_IAM_FIELD = {
    f"google_cloud_run{version}_service_iam_{part}": field
    for version in ("_v2", "")
    for part, field in (("member", "member"), ("binding", "members"), ("policy", "policy_data"))
}
