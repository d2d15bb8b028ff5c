"""Secret Manager declarations into the Secret objects state gives: the secret (id, project), its IAM grants
(`_iam_member`, `_iam_binding`, `_iam_policy`, mapped as state maps them) and whether versions are declared.

Never a payload: `secret_data` is dropped before anything is resolved (instances.PAYLOADS). A declared version's
number is assigned when it is created, so the versions stay Unknown (a guessed number would make a pinned or `latest`
reference look ABSENT). A version or grant whose secret is not known (an unresolved reference, a count or for_each
that cannot be expanded) may be on any secret: then every declared secret's versions or bindings are Unknown, never
a policy that leaves the grant out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.kinds import secret as secret_kind
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, Unknown
from driftcheck.sources import terraform_resources
from driftcheck.sources.terraform_hcl.instances import TfInstance
from driftcheck.sources.terraform_hcl.parse import TfFile, where
from driftcheck.sources.terraform_hcl.resolve import Scope, provider_default, provider_of, resolve

SECRET = "google_secret_manager_secret"
VERSION = "google_secret_manager_secret_version"
_IAM = (
    "google_secret_manager_secret_iam_member",
    "google_secret_manager_secret_iam_binding",
    "google_secret_manager_secret_iam_policy",
)
KINDS = frozenset({SECRET, VERSION, *_IAM})
_ANY = "*"  # an Unknown for every declared secret
_TARGET = {VERSION: "secret", **dict.fromkeys(_IAM, "secret_id")}  # the attribute naming the secret
_FIELD = {VERSION: "versions", **dict.fromkeys(_IAM, "bindings")}


def secret_references(files: list[TfFile], scope: Scope) -> dict[str, Any]:
    """`google_secret_manager_secret.NAME.secret_id` (and `.id`, `.name` when its project is known) for each secret
    the folder declares once (no count or for_each) with a literal or resolvable secret_id."""
    references: dict[str, Any] = {}
    for tf in files:
        for block in tf.data.get("resource") or ():
            for name, body in (block.get(SECRET) or {}).items():
                if not isinstance(body, dict) or "count" in body or "for_each" in body:
                    continue
                own = dataclasses.replace(scope, notes=[])
                secret_id = resolve(body.get("secret_id"), own)
                default = provider_default(scope, provider_of(body), "project").value
                project = resolve(body.get("project", default), own)
                if not isinstance(secret_id, str):
                    continue
                references[f"{SECRET}.{name}.secret_id"] = secret_id
                if isinstance(project, str):
                    for attribute in ("id", "name"):
                        references[f"{SECRET}.{name}.{attribute}"] = f"projects/{project}/secrets/{secret_id}"
    return references


def load_secrets(declared: list[TfInstance], inventory: Inventory) -> None:
    """Every Secret Manager instance of the tree; then the Unknowns, so a later grant cannot overwrite one."""
    unknown: dict[tuple[str, str], str] = {}  # (secret id or _ANY, "versions" | "bindings") -> reason
    for found in declared:
        kind, address = found.instance.type, found.instance.address
        at = where(found.file, found.line)
        if kind == SECRET:
            _secret(found, at, inventory)
            continue
        target = _TARGET[kind]
        if target in found.unresolved:
            reason = f"{at}: {address} names its secret by {found.unresolved[target]}, not known from the .tf"
            unknown.setdefault((_ANY, _FIELD[kind]), reason)
            continue
        secret_id = last_segment(str(found.instance.attributes.get(target) or ""))
        if kind == VERSION:
            _version(found, secret_id, at, inventory, unknown)
        else:
            _grant(found, secret_id, at, inventory, unknown)
    for address, message in inventory.errors.items():  # a count or for_each not expanded: its secrets are not known
        kind = address.split(".")[-2] if "." in address else ""
        if kind in _FIELD:
            unknown.setdefault((_ANY, _FIELD[kind]), message)
    _mark(inventory, unknown)


def _secret(found: TfInstance, at: str, inventory: Inventory) -> None:
    values, unresolved = found.instance.attributes, found.unresolved
    if "secret_id" in unresolved or not isinstance(values.get("secret_id"), str):
        inventory.errors[found.instance.address] = f"{at}: secret_id not known from the .tf"
        return
    project = Unknown(f"unresolved: {unresolved['project']}") if "project" in unresolved else values["project"]
    line = found.lines.get("secret_id") or found.line
    located = {"secret": str(line) if line else found.instance.address}
    secret_kind.merge(inventory, values["secret_id"], project, str(found.file), located)


def _version(
    found: TfInstance, secret_id: str, at: str, inventory: Inventory, unknown: dict[tuple[str, str], str]
) -> None:
    """Declared, so the secret has a version; which number it got (and so what `latest` names) only the API knows."""
    project = Unknown("a secret version names no project")
    located = {"versions": str(found.line) if found.line else found.instance.address}
    secret_kind.merge(inventory, secret_id, project, str(found.file), located)
    unknown.setdefault(
        (secret_id, "versions"),
        f"{at}: {found.instance.address} declares a version, but its number is given when it is created; "
        f"export them: gcloud secrets versions list {secret_id} --format=json",
    )


def _grant(
    found: TfInstance, secret_id: str, at: str, inventory: Inventory, unknown: dict[tuple[str, str], str]
) -> None:
    """A grant with a known role and members, mapped as state maps it; any other value makes the policy Unknown."""
    unread = [expression for path, expression in found.unresolved.items() if not path.startswith(("project", "cond"))]
    if unread:
        unknown.setdefault((secret_id, "bindings"), f"unresolved: {unread[0]} ({at})")
        secret_kind.merge(inventory, secret_id, Unknown("an IAM grant names no project"), str(found.file), {})
        return
    terraform_resources.load_instances([found.instance], inventory, str(found.file))
    secret = inventory.secrets[secret_id]
    field = next((f for f in ("member", "members", "policy_data") if f in found.lines), "")
    located = where(found.file, found.lines.get(field) or found.line)
    inventory.secrets[secret_id] = dataclasses.replace(secret, provenance={**secret.provenance, "bindings": located})


def _mark(inventory: Inventory, unknown: dict[tuple[str, str], str]) -> None:
    for secret_id, secret in list(inventory.secrets.items()):
        changes: dict[str, Any] = {
            part: Unknown(reason)
            for part in ("versions", "bindings")
            if (reason := unknown.get((secret_id, part)) or unknown.get((_ANY, part)))
        }
        if changes:
            inventory.secrets[secret_id] = dataclasses.replace(secret, **changes)
