"""A project's place in the resource hierarchy, and the IAM policies of its folders and organization.

Three kinds, because each is read with its own permission and stored under its own key:
- `project_ancestry`: `gcloud projects get-ancestors PROJECT --format=json > PROJECT.ancestors.json`, a list of
  {id, type} from the project up (project, its folders nearest first, its organization). Its content names the
  project, so any file name will do. Read live by walking `parent` up from the project (Resource Manager v3): a
  walk cut short by a denied read is an ancestry known only in part (`complete` False, `reason` why), whose
  levels above the last one read stay unread;
- `folder_iam_policy` and `organization_iam_policy`: `gcloud resource-manager folders get-iam-policy FOLDER_ID
  --format=json > FOLDER_ID.folder-iam.json` and `gcloud organizations get-iam-policy ORG_ID --format=json >
  ORG_ID.org-iam.json`, keyed `folders/ID` and `organizations/ID`. Two kinds rather than one because the registry
  declares one permission per read (resourcemanager.folders.getIamPolicy, resourcemanager.organizations.getIamPolicy,
  held by different roles), and one file ending per reader. Their content carries no name, so the file name names
  the folder or organization, as PROJECT.project-iam.json names a project; they are parsed as a project's policy
  is (kinds/project_iam.py): a grant under a condition kept apart, a policy pieced together from Terraform's member
  and binding resources not `complete`.

A service's folders and organization are those of the ancestry of its project, once that is read: the live fetch
reads their policies a round after the ancestry (`references_in`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import project_iam
from driftcheck.kinds.document import Document
from driftcheck.kinds.project_iam import Grants
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Inventory, Service, Unknown

ANCESTOR_TYPES = ("folder", "organization")
_TYPES = ("project", *ANCESTOR_TYPES)
# Folders nest at most 10 deep under an organization (Resource Manager's limit): the live walk stops after that.
MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class ProjectAncestry:
    project: str  # as the export names it (`gcloud projects get-ancestors` gives the id)
    origin: str
    ancestors: tuple[tuple[str, str], ...] = ()  # (type, id) from the nearest folder up to the organization
    complete: bool = True  # False: the walk up stopped at a read it could not make; `reason` says which
    reason: str | None = None

    def names(self) -> list[str]:
        """`folders/ID` and `organizations/ID`, nearest first: the keys of their policies."""
        return [resource_name(kind, ident) for kind, ident in self.ancestors]


@dataclass(frozen=True, slots=True)
class AncestorIamPolicy:
    resource: str  # folders/ID or organizations/ID
    origin: str
    bindings: Grants = field(default_factory=dict)  # plain grants
    conditional: Grants = field(default_factory=dict)  # grants that hold only when their condition does
    complete: bool = True  # False: only some members are known (Terraform's _member and _binding resources)
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return "folder" if self.resource.startswith("folders/") else "organization"

    @property
    def ident(self) -> str:
        return self.resource.split("/", 1)[1]


def resource_name(kind: str, ident: str) -> str:
    return f"{'folders' if kind == 'folder' else 'organizations'}/{ident}"


# --- the ancestry -------------------------------------------------------------------------------------------------


def _is_ancestor_list(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(a, dict) and set(a) == {"id", "type"} and a.get("type") in _TYPES for a in data)
        and data[0].get("type") == "project"
    )


def parse_ancestry(data: list[dict[str, Any]], origin: str, *, reason: str | None = None) -> ProjectAncestry:
    """`gcloud projects get-ancestors` output (or what the live walk stores, in the same shape)."""
    project = str(data[0]["id"])
    ancestors = tuple((str(a["type"]), str(a["id"])) for a in data[1:])
    if any(kind == "project" for kind, _ in ancestors):
        raise InputError("a project's ancestry names a second project", file=origin)
    return ProjectAncestry(project, origin, ancestors, complete=reason is None, reason=reason)


class _AncestryReader:
    KIND = "project ancestry (gcloud projects get-ancestors PROJECT --format=json > PROJECT.ancestors.json)"

    def matches(self, data: Any) -> bool:
        return _is_ancestor_list(data)

    def load(self, doc: Document, inventory: Inventory) -> None:
        ancestry = parse_ancestry(doc.data, doc.label)
        inventory.of(ANCESTRY.name)[ancestry.project] = ancestry


def _ancestry_from_snapshot(key: str, stored: Any, origin: str, scope: str | Unknown) -> ProjectAncestry | None:
    """A list (the whole walk); {"ancestors": [...], "error": ...}: the walk up to a read that failed, known in
    part; {"error": ...} alone: not known (None; the registry reads the error)."""
    at = f"{origin}#project_ancestry:{key}"
    if isinstance(stored, list):
        return parse_ancestry(stored, at) if _is_ancestor_list(stored) else None
    walked = stored.get("ancestors") if isinstance(stored, dict) else None
    if isinstance(walked, list) and _is_ancestor_list(walked):
        return parse_ancestry(walked, at, reason=str(stored.get("error") or "the walk up stopped"))
    return None


def ancestry_of(project: str, inventory: Inventory) -> ProjectAncestry | None:
    """The ancestry of a project under its id or its number, whichever the evidence keys it by."""
    found = inventory.of(ANCESTRY.name)
    aliases = inventory.project_aliases
    names = [project, aliases.get(project, project), *(n for n, pid in aliases.items() if pid == project)]
    return next((found[name] for name in names if name in found), None)


def _own_project(service: Service) -> tuple[str, ...]:
    return (service.project,) if isinstance(service.project, str) and service.project else ()


def _ancestors_of(kind: str) -> Any:
    def referenced(service: Service, inventory: Inventory) -> tuple[str, ...]:
        if not isinstance(service.project, str) or not service.project:
            return ()
        ancestry = ancestry_of(service.project, inventory)
        return tuple(resource_name(k, i) for k, i in ancestry.ancestors if k == kind) if ancestry else ()

    return referenced


ANCESTRY = register(
    Kind(
        name="project_ancestry",
        title="project ancestry (folders and organization)",
        model=ProjectAncestry,
        readers=(_AncestryReader(),),
        key=lambda ancestry: str(ancestry.project),
        snapshot_key="project_ancestries",
        from_snapshot=_ancestry_from_snapshot,
        references=_own_project,
        # Projects.GetProject, then Folders.GetFolder on each folder up (resourcemanager.folders.get, which
        # roles/browser holds too: FOLDER_GET below)
        live_reads=(LiveRead("get", "resourcemanager.projects.get", "roles/browser"),),
    )
)
# The walk's other read, said when it is denied (Google's Browser role page: folders.get, organizations.get,
# projects.get, projects.getIamPolicy, folders.list, projects.list).
FOLDER_GET = LiveRead("get", "resourcemanager.folders.get", "roles/browser")


# --- the policies of folders and organizations --------------------------------------------------------------------


class _PolicyReader:
    def __init__(self, level: str, ending: str, command: str) -> None:
        self.level = level
        self.NAMED_BY = ending
        self.KIND = f"{level} IAM policy ({command} ID --format=json > ID{ending})"

    def matches(self, data: Any) -> bool:
        return project_iam.matches(data)

    def load(self, doc: Document, inventory: Inventory) -> None:
        name = doc.path.name
        ident = name[: -len(self.NAMED_BY)] if name.endswith(self.NAMED_BY) else ""
        if not ident:
            raise InputError(f"a {self.level} IAM policy carries no id; save it as ID{self.NAMED_BY}", file=doc.label)
        policy = parse_policy(resource_name(self.level, ident), doc.data, doc.label)
        inventory.of(_KIND_OF[self.level])[policy.resource] = policy


def parse_policy(resource: str, data: dict[str, Any], origin: str) -> AncestorIamPolicy:
    parsed = project_iam.parse_policy(resource, data, origin)
    return AncestorIamPolicy(resource, origin, parsed.bindings, parsed.conditional, True, parsed.provenance)


def _policy_from_snapshot(prefix: str) -> Any:
    def read(key: str, stored: Any, origin: str, scope: str | Unknown) -> AncestorIamPolicy | None:
        """None for a stored error: the registry reads the error, and the policy stays unknown, never empty."""
        return None if "error" in stored else parse_policy(key, stored, f"{origin}#{prefix}:{key}")

    return read


_KIND_OF = {"folder": "folder_iam_policy", "organization": "organization_iam_policy"}

FOLDER_IAM = register(
    Kind(
        name="folder_iam_policy",
        title="folder IAM policy",
        model=AncestorIamPolicy,
        readers=(_PolicyReader("folder", ".folder-iam.json", "gcloud resource-manager folders get-iam-policy"),),
        key=lambda policy: str(policy.resource),
        snapshot_key="folder_iam_policies",
        from_snapshot=_policy_from_snapshot("folder_iam"),
        references_in=_ancestors_of("folder"),
        # roles/iam.securityReviewer: the one read-only predefined role holding it (Folder IAM Admin, Folder Editor
        # and Folder Admin hold it too, but may change policies); a custom role with only this permission is less
        live_reads=(LiveRead("get", "resourcemanager.folders.getIamPolicy", "roles/iam.securityReviewer"),),
        terraform_types=("google_folder_iam_member", "google_folder_iam_binding", "google_folder_iam_policy"),
    )
)
ORGANIZATION_IAM = register(
    Kind(
        name="organization_iam_policy",
        title="organization IAM policy",
        model=AncestorIamPolicy,
        readers=(_PolicyReader("organization", ".org-iam.json", "gcloud organizations get-iam-policy"),),
        key=lambda policy: str(policy.resource),
        snapshot_key="organization_iam_policies",
        from_snapshot=_policy_from_snapshot("organization_iam"),
        references_in=_ancestors_of("organization"),
        # roles/iam.organizationRoleViewer: the least-privileged predefined role holding it (custom roles and the
        # organization's and its projects' policies, read-only)
        live_reads=(LiveRead("get", "resourcemanager.organizations.getIamPolicy", "roles/iam.organizationRoleViewer"),),
        terraform_types=(
            "google_organization_iam_member",
            "google_organization_iam_binding",
            "google_organization_iam_policy",
        ),
    )
)
