"""A Cloud Run service's IAM policy, who may invoke it:
`gcloud run services get-iam-policy SERVICE --region R --format=json > SERVICE.run-iam.json`.

A policy carries no resource name, so the file name names the service (as PROJECT.project-iam.json names a project).
Grants are parsed as a project's are (kinds/project_iam.py): a conditional grant kept apart, and a policy pieced
together from Terraform's member and binding resources marked incomplete.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import project_iam
from driftcheck.kinds.document import Document
from driftcheck.kinds.project_iam import Grants
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.kinds.service.common import own_name
from driftcheck.model import Inventory, Service, Unknown

KIND = "Cloud Run service IAM policy (gcloud run services get-iam-policy SERVICE --format=json > SERVICE.run-iam.json)"
NAMED_BY = ".run-iam.json"  # evidence detection gives a policy file so named to this reader alone
INVOKER = "roles/run.invoker"
PUBLIC = ("allUsers", "allAuthenticatedUsers")


@dataclass(frozen=True, slots=True)
class RunServiceIamPolicy:
    service: str  # the service's name, as the evidence names it
    origin: str
    bindings: Grants = field(default_factory=dict)  # plain grants: role -> members, sorted
    conditional: Grants = field(default_factory=dict)  # grants that hold only when their condition does
    complete: bool = True  # False: only some members are known (Terraform's _member and _binding resources)
    provenance: dict[str, str] = field(default_factory=dict)

    def public_invokers(self) -> list[str]:
        """Who of everyone may invoke it without a condition: allUsers, allAuthenticatedUsers."""
        return [member for member in PUBLIC if member in self.bindings.get(INVOKER, ())]


def matches(data: Any) -> bool:
    return project_iam.matches(data)


def load(doc: Document, inventory: Inventory) -> None:
    name = doc.path.name
    if not name.endswith(NAMED_BY):
        raise InputError(f"a service IAM policy carries no service name; save it as SERVICE{NAMED_BY}", file=doc.label)
    service = name[: -len(NAMED_BY)]
    inventory.of(RUN_IAM.name)[service] = parse_policy(service, doc.data, doc.label)


def parse_policy(service: str, data: dict[str, Any], origin: str) -> RunServiceIamPolicy:
    """A whole policy, as the API (and gcloud) write it."""
    parsed = project_iam.parse_policy(service, data, origin)
    return RunServiceIamPolicy(
        service, origin, bindings=parsed.bindings, conditional=parsed.conditional, provenance=parsed.provenance
    )


def _from_snapshot(service: str, stored: Any, origin: str, scope: str | Unknown) -> RunServiceIamPolicy | None:
    """None for a stored error: the registry reads the error, and the policy stays unknown, never empty."""
    return None if "error" in stored else parse_policy(service, stored, f"{origin}#run_iam:{service}")


def _own_name(service: Service) -> tuple[str, ...]:
    """The policy is the service's, keyed by its name in Cloud Run: a revision of a revision compare reads it too."""
    name = own_name(service)
    return (name,) if isinstance(name, str) and name else ()


RUN_IAM = register(
    Kind(
        name="run_service_iam_policy",
        title="Cloud Run service IAM policy",
        model=RunServiceIamPolicy,
        readers=(sys.modules[__name__],),
        key=lambda policy: str(policy.service),
        snapshot_key="run_service_iam_policies",
        from_snapshot=_from_snapshot,
        references=_own_name,
        # roles/run.viewer: read-only on Cloud Run services, their revisions and their IAM policies
        live_reads=(LiveRead("get", "run.services.getIamPolicy", "roles/run.viewer"),),
        terraform_types=(
            "google_cloud_run_v2_service_iam_member",
            "google_cloud_run_v2_service_iam_binding",
            "google_cloud_run_v2_service_iam_policy",
            "google_cloud_run_service_iam_member",
            "google_cloud_run_service_iam_binding",
            "google_cloud_run_service_iam_policy",
        ),
    )
)
