"""A project's IAM policy: `gcloud projects get-iam-policy PROJECT --format=json > PROJECT.project-iam.json`.

A policy carries no resource name, so the file name names the project (as SECRET.iam.json names a secret's). A grant
under a condition is kept apart from a plain one: it holds only when its condition does, so it is no plain yes.
A policy pieced together from Terraform's member and binding resources is not the whole policy: `complete` says so.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Inventory, Service, Unknown

KIND = "project IAM policy (gcloud projects get-iam-policy PROJECT --format=json > PROJECT.project-iam.json)"
NAMED_BY = ".project-iam.json"  # evidence detection gives a policy file so named to this reader, not a secret's
_POLICY_KEYS = {"bindings", "etag", "version", "auditConfigs"}

Grants = dict[str, tuple[str, ...]]  # role -> members, sorted


@dataclass(frozen=True, slots=True)
class ProjectIamPolicy:
    project: str
    origin: str
    bindings: Grants = field(default_factory=dict)  # plain grants
    conditional: Grants = field(default_factory=dict)  # grants that hold only when their condition does
    complete: bool = True  # False: only some members are known (Terraform's _member and _binding resources)
    provenance: dict[str, str] = field(default_factory=dict)

    def roles_of(self, member: str) -> list[str]:
        """The roles `member` holds without a condition."""
        return sorted(role for role, members in self.bindings.items() if member in members)

    def conditional_roles_of(self, member: str) -> list[str]:
        return sorted(role for role, members in self.conditional.items() if member in members)


def matches(data: Any) -> bool:
    """An IAM policy: only `bindings`, `etag`, `version` (and `auditConfigs`, which a project's may carry)."""
    return (
        isinstance(data, dict) and bool(data) and set(data) <= _POLICY_KEYS and bool({"etag", "bindings"} & set(data))
    )


def load(doc: Document, inventory: Inventory) -> None:
    name = doc.path.name
    if not name.endswith(NAMED_BY):
        raise InputError(f"a project IAM policy carries no project id; save it as PROJECT{NAMED_BY}", file=doc.label)
    project = name[: -len(NAMED_BY)]
    policy = parse_policy(project, doc.data, doc.label)
    inventory.of(PROJECT_IAM.name)[project] = policy


def parse_policy(project: str, data: dict[str, Any], origin: str) -> ProjectIamPolicy:
    """A whole policy, as the API (and gcloud) write it."""
    plain: list[tuple[str, list[str]]] = []
    conditional: list[tuple[str, list[str]]] = []
    for index, binding in enumerate(data.get("bindings") or ()):
        if "role" not in binding:
            raise InputError("binding has no role", file=origin, where=f"bindings[{index}]")
        members = [str(m) for m in binding.get("members") or ()]
        (conditional if binding.get("condition") else plain).append((str(binding["role"]), members))
    return ProjectIamPolicy(
        project,
        origin,
        bindings=with_grants({}, plain),
        conditional=with_grants({}, conditional),
        provenance={"bindings": f"{origin}:bindings"},
    )


def with_grants(grants: Grants, added: list[tuple[str, list[str]]]) -> Grants:
    """`grants` with more members added to their roles (a role granted twice holds both bindings' members)."""
    result = dict(grants)
    for role, members in added:
        result[role] = tuple(sorted({*result.get(role, ()), *members}))
    return result


def _from_snapshot(project: str, stored: Any, origin: str, scope: str | Unknown) -> ProjectIamPolicy | None:
    """None for a stored error: the registry reads the error, and the policy stays unknown, never empty."""
    return None if "error" in stored else parse_policy(project, stored, f"{origin}#project_iam:{project}")


def _own_project(service: Service) -> tuple[str, ...]:
    return (service.project,) if isinstance(service.project, str) and service.project else ()


PROJECT_IAM = register(
    Kind(
        name="project_iam_policy",
        title="project IAM policy",
        model=ProjectIamPolicy,
        readers=(sys.modules[__name__],),
        key=lambda policy: str(policy.project),
        snapshot_key="project_iam_policies",
        from_snapshot=_from_snapshot,
        references=_own_project,
        # roles/browser: the least-privileged predefined role with this permission (folders and projects get/list
        # and the project's policy, none of the project's resources)
        live_reads=(LiveRead("get", "resourcemanager.projects.getIamPolicy", "roles/browser"),),
        terraform_types=("google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy"),
    )
)
