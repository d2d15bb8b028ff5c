"""Secret Manager metadata from gcloud: `secrets describe`, `secrets versions list`, `secrets get-iam-policy`.

Only metadata: driftcheck never reads a secret payload.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.model import Inventory, Secret, SecretVersion, Unknown

KIND = "Secret Manager secret (gcloud secrets describe / versions list / get-iam-policy)"
_SECRET = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
_VERSION = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$")
IAM_SUFFIX = ".iam.json"


def matches(data: Any) -> bool:
    return _is_secret(data) or _is_version_list(data) or _is_policy(data)


def _is_secret(data: Any) -> bool:
    return isinstance(data, dict) and bool(_SECRET.match(str(data.get("name", ""))))


def _is_version_list(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(v, dict) and _VERSION.match(str(v.get("name", ""))) for v in data)
    )


def _is_policy(data: Any) -> bool:
    """An IAM policy carries no resource name: only `bindings`, `etag` and `version` (etag is absent in hand-kept
    copies, and `bindings` in an empty policy)."""
    keys = {"bindings", "etag", "version", "auditConfigs"}
    return isinstance(data, dict) and bool(data) and set(data) <= keys and ("etag" in data or "bindings" in data)


def load(doc: Document, inventory: Inventory) -> None:
    if _is_secret(doc.data):
        match = _SECRET.match(doc.data["name"])
        assert match
        merge(inventory, match["secret"], match["project"], doc.label, {"secret": "name"})
    elif _is_version_list(doc.data):
        _load_versions(doc, inventory)
    else:
        _load_policy(doc, inventory)


def _load_versions(doc: Document, inventory: Inventory) -> None:
    by_secret: dict[tuple[str, str], dict[str, SecretVersion]] = {}
    for item in doc.data:
        match = _VERSION.match(item["name"])
        assert match
        versions = by_secret.setdefault((match["secret"], match["project"]), {})
        versions[match["version"]] = SecretVersion(match["version"], str(item.get("state", "")), item.get("createTime"))
    for (secret_id, project), versions in by_secret.items():
        merge(inventory, secret_id, project, doc.label, {"versions": "[].state"}, versions=versions)


def _load_policy(doc: Document, inventory: Inventory) -> None:
    name = doc.path.name
    if not name.endswith(IAM_SUFFIX):
        raise InputError(
            "an IAM policy carries no secret name; save `gcloud secrets get-iam-policy SECRET --format=json` "
            f"as SECRET{IAM_SUFFIX}",
            file=doc.label,
        )
    bindings: dict[str, tuple[str, ...]] = {}
    for index, binding in enumerate(doc.data.get("bindings") or ()):
        if "role" not in binding:
            raise InputError("binding has no role", file=doc.label, where=f"bindings[{index}]")
        members = bindings.get(binding["role"], ()) + tuple(str(m) for m in binding.get("members") or ())
        bindings[binding["role"]] = tuple(sorted(set(members)))
    secret_id = name[: -len(IAM_SUFFIX)]
    merge(
        inventory,
        secret_id,
        Unknown("not in the IAM policy file"),
        doc.label,
        {"bindings": "bindings"},
        bindings=bindings,
    )


def merge(
    inventory: Inventory, secret_id: str, project: str | Unknown, origin: str, provenance: dict[str, str], **parts: Any
) -> None:
    """A secret's evidence arrives in up to three files; each adds what it knows."""
    located = {key: f"{origin}:{field}" for key, field in provenance.items()}
    existing = inventory.secrets.get(secret_id)
    if existing is None:
        inventory.secrets[secret_id] = Secret(secret_id, project, origin, provenance=located, **parts)
        return
    if isinstance(existing.project, Unknown) and not isinstance(project, Unknown):
        parts["project"] = project
    inventory.secrets[secret_id] = dataclasses.replace(existing, provenance={**existing.provenance, **located}, **parts)
