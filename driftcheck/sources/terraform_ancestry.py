"""Terraform's folder and organization IAM resources into the folder and organization IAM policy kinds
(kinds/ancestry.py), read as a project's are (terraform_resources): `_member` and `_binding` add to what is known of
the policy (the rest of it is not in state: `complete` False), `_policy` (policy_data) is the whole of it; a grant
under a `condition` block is kept apart.

`google_folder_iam_*` names its folder `folders/ID` (or, in older states, the bare ID); `google_organization_iam_*`
names its organization by `org_id`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from driftcheck.errors import InputError
from driftcheck.kinds import ancestry, project_iam
from driftcheck.model import Inventory

if TYPE_CHECKING:
    from driftcheck.sources.terraform_resources import Instance

_FIELD = {"_member": "member", "_binding": "members", "_policy": "policy_data"}


def _folder(instance: Instance, inventory: Inventory, label: str) -> None:
    folder = str(instance.attributes.get("folder") or "")
    if not folder:
        raise InputError("no folder attribute", file=label, where=f"{instance.address}.folder")
    ident = folder.removeprefix("folders/")
    _add(instance, inventory, label, ancestry.FOLDER_IAM.name, ancestry.resource_name("folder", ident))


def _organization(instance: Instance, inventory: Inventory, label: str) -> None:
    org = str(instance.attributes.get("org_id") or "")
    if not org:
        raise InputError("no org_id attribute", file=label, where=f"{instance.address}.org_id")
    ident = org.removeprefix("organizations/")
    _add(instance, inventory, label, ancestry.ORGANIZATION_IAM.name, ancestry.resource_name("organization", ident))


def _add(instance: Instance, inventory: Inventory, label: str, kind: str, resource: str) -> None:
    from driftcheck.sources.terraform_resources import project_grants  # a project's grants, read the same way

    policies = inventory.of(kind)
    existing = policies.get(resource) or ancestry.AncestorIamPolicy(resource, label, complete=False)
    plain, conditional = project_grants(instance, label)
    field = next(name for suffix, name in _FIELD.items() if instance.type.endswith(suffix))
    policies[resource] = dataclasses.replace(
        existing,
        bindings=project_iam.with_grants(existing.bindings, plain),
        conditional=project_iam.with_grants(existing.conditional, conditional),
        complete=existing.complete or instance.type.endswith("_iam_policy"),
        provenance={**existing.provenance, "bindings": f"{label}:{instance.address}.{field}"},
    )


LOADERS: dict[str, Callable[[Instance, Inventory, str], None]] = {
    **{t: _folder for t in ancestry.FOLDER_IAM.terraform_types},
    **{t: _organization for t in ancestry.ORGANIZATION_IAM.terraform_types},
}
