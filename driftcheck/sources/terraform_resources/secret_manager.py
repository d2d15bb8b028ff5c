"""Secret Manager in Terraform into the secret kind: secrets, their versions' metadata (never the payload) and who
may access them."""

from __future__ import annotations

from typing import Any

from driftcheck.kinds import project_iam
from driftcheck.kinds import secret as secret_kind
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, SecretVersion, Unknown
from driftcheck.sources.terraform_resources.iam import project_grants
from driftcheck.sources.terraform_resources.instance import Instance


def _secret_id(raw: Any) -> str:
    return last_segment(str(raw or ""))


def load_secret(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    secret_id = str(attrs.get("secret_id") or _secret_id(attrs.get("name")))
    project = attrs.get("project") or Unknown("no project attribute in state")
    secret_kind.merge(inventory, secret_id, project, label, {"secret": f"{instance.address}.secret_id"})


def load_secret_version(instance: Instance, inventory: Inventory, label: str) -> None:
    """Only metadata: `secret_data` (the payload, in plain text in state) is never read."""
    attrs = instance.attributes
    secret_id = _secret_id(attrs.get("secret"))
    number = str(attrs.get("version") or _secret_id(attrs.get("name")) or "unknown")
    state = "DESTROYED" if attrs.get("destroy_time") else ("DISABLED" if attrs.get("enabled") is False else "ENABLED")
    existing = inventory.secrets.get(secret_id)
    versions = dict(existing.versions) if existing and isinstance(existing.versions, dict) else {}
    versions[number] = SecretVersion(number, state, attrs.get("create_time") or None)
    project = Unknown("no project in a secret version's state")
    provenance = {"versions": f"{instance.address}.enabled"}
    secret_kind.merge(inventory, secret_id, project, label, provenance, versions=versions)


def load_secret_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """_member adds one member, _binding one role's members, _policy (policy_data, a JSON string) every binding. A
    grant under a `condition` block (or a policy_data binding with a condition) is kept apart, as a project's is."""
    attrs = instance.attributes
    secret_id = _secret_id(attrs.get("secret_id"))
    existing = inventory.secrets.get(secret_id)
    bindings = dict(existing.bindings) if existing and isinstance(existing.bindings, dict) else {}
    conditional = dict(existing.conditional) if existing and isinstance(existing.bindings, dict) else {}
    plain, conditioned = project_grants(instance, label)
    project = Unknown("no project in an IAM resource's state")
    provenance = {"bindings": f"{instance.address}.{IAM_FIELD[instance.type]}"}
    secret_kind.merge(
        inventory,
        secret_id,
        project,
        label,
        provenance,
        bindings=project_iam.with_grants(bindings, plain),
        conditional=project_iam.with_grants(conditional, conditioned),
    )


IAM_FIELD = {
    "google_secret_manager_secret_iam_member": "member",
    "google_secret_manager_secret_iam_binding": "members",
    "google_secret_manager_secret_iam_policy": "policy_data",
}
