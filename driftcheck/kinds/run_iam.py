"""A Cloud Run service's IAM policy, who may invoke it:
`gcloud run services get-iam-policy SERVICE --region R --format=json > SERVICE.run-iam.json`.

A policy carries no resource name, so the file name names the service (as PROJECT.project-iam.json names a project).
Grants are parsed as a project's are (kinds/project_iam.py): a conditional grant kept apart, and a policy pieced
together from Terraform's member and binding resources marked incomplete.

Snapshot (what a live run stores, and `driftcheck snapshot -o FILE` writes), and the inventory:

    "run_service_iam_policies": {
        "projects/P/locations/us-central1/services/api": {IAM policy JSON},
        "projects/P/locations/europe-west1/services/api": {"error": "PERMISSION_DENIED: ...; needs ..."}
    }

keyed by the service's full name, as the API names it: a service name is unique only within one region of one
project (`api` in us-central1 and `api` in europe-west1 are two services, each with its own policy), and the live
read asks for the policy of the service's own full name. A snapshot of an earlier driftcheck keyed a policy by the
short name alone (`"api"`, read in the fetch's first region whatever the service's): it is the policy of the
snapshot's one service of that name (`upgraded`), and when the snapshot has several (one per region) their policies
are unknown, never another region's. An exported file (`api.run-iam.json`) and Terraform name the service alone:
such a policy is kept under its short name and is the policy of the one service of that name the evidence holds
(`key_of`, which every reader of a service's policy asks).
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
from driftcheck.kinds.service_keys import parse_key, service_key, short_key_owners
from driftcheck.model import Inventory, Service, Unknown

SNAPSHOT_KEY = "run_service_iam_policies"
KIND = "Cloud Run service IAM policy (gcloud run services get-iam-policy SERVICE --format=json > SERVICE.run-iam.json)"
NAMED_BY = ".run-iam.json"  # evidence detection gives a policy file so named to this reader alone
INVOKER = "roles/run.invoker"
PUBLIC = ("allUsers", "allAuthenticatedUsers")


@dataclass(frozen=True, slots=True)
class RunServiceIamPolicy:
    service: str  # the service's name, as the evidence names it: its full name (live, snapshot), or short (a file)
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


def key_of(project: str | None, region: str | None, name: str, inventory: Inventory) -> str:
    """The key of the policy of service `name` in `project` and `region` (None: not known): its full name (with its
    project by id or by number, whichever the evidence holds its policy or its read's error under); the short name
    when that is all the evidence names (an exported file, Terraform, a project or region not known)."""
    if not project or not region:
        return name
    aliases = inventory.project_aliases
    numbers = [number for number, id_ in aliases.items() if id_ == project]
    projects = dict.fromkeys([project, aliases.get(project, project), *numbers])
    spellings = [service_key(p, region, name) for p in projects]
    found = inventory.of(RUN_IAM.name)
    held = next((key for key in spellings if key in found or f"{SNAPSHOT_KEY}:{key}" in inventory.errors), None)
    if held is not None:
        return held
    if name in found or f"{SNAPSHOT_KEY}:{name}" in inventory.errors:
        return name
    return spellings[0]


def _own_key(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The policy is the service's, keyed by its full name in Cloud Run (`key_of`): a revision of a revision compare
    reads it too."""
    name = own_name(service)
    if not isinstance(name, str) or not name:
        return ()
    project, region = (_known(value) for value in (service.project, service.region))
    return (key_of(project, region, name, inventory),)


def _known(value: str | Unknown) -> str | None:
    return value if isinstance(value, str) and value else None


def upgraded(stored: dict[str, Any], services: list[str], project: str | None, regions: list[str]) -> dict[str, Any]:
    """The policies of a snapshot by the full names of their services. A snapshot of an earlier driftcheck keyed a
    policy by the service's short name: it is the policy of the snapshot's one service of that name (`services`,
    their full names), or, with no such service, of that name in the snapshot's one region (`project`, `regions`: its
    scope). Of a name with a service in several regions one policy was kept, read in one region for all: a policy
    names no resource, so whose it is is not known, and each of their policies is unknown, never another's."""
    if all("/" in key for key in stored):  # the current shape: nothing to do
        return stored
    owned = short_key_owners(list(stored), services, project, regions)
    result: dict[str, Any] = {}
    for key, policy in stored.items():
        owners = owned[key]
        if len(owners) <= 1:
            result[owners[0] if owners else key] = policy
            continue
        where = ", ".join(sorted(str(parse_key(owner)[1]) for owner in owners))
        lost = {
            "error": f"a snapshot of an earlier driftcheck kept one IAM policy of the services named {key} "
            f"({where}), not whose: that of this one is not known"
        }
        result.update(dict.fromkeys(owners, lost))
    return result


RUN_IAM = register(
    Kind(
        name="run_service_iam_policy",
        title="Cloud Run service IAM policy",
        model=RunServiceIamPolicy,
        readers=(sys.modules[__name__],),
        key=lambda policy: str(policy.service),
        snapshot_key=SNAPSHOT_KEY,
        from_snapshot=_from_snapshot,
        # by the inventory read so far: its full name, or the short one an exported file names (`key_of`)
        references_in=_own_key,
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
