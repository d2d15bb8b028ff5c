"""Secret Manager metadata from gcloud: `secrets describe`, `secrets versions list`, `secrets get-iam-policy`.

Only metadata: driftcheck never reads a secret payload. A secret's IAM policy is parsed as a project's is
(kinds/project_iam.py): a grant under a condition is kept apart (`conditional`), never read as a plain grant.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import project_iam
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, Secret, SecretVersion, Service, Unknown

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
            f"as SECRET{IAM_SUFFIX} (a project's, from `gcloud projects get-iam-policy`, as PROJECT.project-iam.json)",
            file=doc.label,
        )
    secret_id = name[: -len(IAM_SUFFIX)]
    policy = project_iam.parse_policy(secret_id, doc.data, doc.label)  # a conditional grant kept apart, as there
    merge(
        inventory,
        secret_id,
        Unknown("not in the IAM policy file"),
        doc.label,
        {"bindings": "bindings"},
        bindings=policy.bindings,
        conditional=policy.conditional,
    )


def merge(
    inventory: Inventory, secret_id: str, project: str | Unknown, origin: str, provenance: dict[str, str], **parts: Any
) -> None:
    """A secret's evidence arrives in up to three files; each adds what it knows."""
    located = {key: f"{origin}:{field}" for key, field in provenance.items()}
    secrets = inventory.of(SECRET.name)
    existing = secrets.get(secret_id)
    if existing is None:
        secrets[secret_id] = Secret(secret_id, project, origin, provenance=located, **parts)
        return
    if isinstance(existing.project, Unknown) and not isinstance(project, Unknown):
        parts["project"] = project
    secrets[secret_id] = dataclasses.replace(existing, provenance={**existing.provenance, **located}, **parts)


def _from_snapshot(secret_id: str, stored: Any, origin: str, project: str | Unknown) -> Secret:
    """A secret is read in two parts (its versions, its IAM policy); a part that failed is unknown, not absent."""
    origin = f"{origin}#secret:{secret_id}"
    provenance = {"bindings": f"{origin}:iam", "versions": f"{origin}:versions"}
    secret = Secret(secret_id, project, origin, provenance=provenance)
    versions, iam = stored.get("versions"), stored.get("iam")
    if isinstance(versions, dict) and "error" in versions:
        secret = dataclasses.replace(secret, versions=Unknown(versions["error"]))
    elif isinstance(versions, list):
        secret = dataclasses.replace(secret, versions=dict(map(_version, versions)))
    if isinstance(iam, dict) and "error" in iam:
        secret = dataclasses.replace(secret, bindings=Unknown(iam["error"]))
    elif isinstance(iam, dict):
        policy = project_iam.parse_policy(secret_id, iam, origin)
        secret = dataclasses.replace(secret, bindings=policy.bindings, conditional=policy.conditional)
    return secret


def _version(raw: dict[str, Any]) -> tuple[str, SecretVersion]:
    number = last_segment(raw["name"])
    return number, SecretVersion(number, raw.get("state", ""), raw.get("createTime"))


def _read_by(service: Service) -> set[str]:
    """The secrets the platform mounts for the service: env secretKeyRefs and secret volumes. (An env value the app
    resolves itself, `sm://S`, is the app's read, not the platform's: rules see it, the live fetch does not.)"""
    ids = {var.secret.secret for c in service.containers.values() for var in c.env.values() if var.secret}
    return ids | {v.secret for v in service.volumes.values() if v.kind == "secret" and v.secret}


SECRET = register(
    Kind(
        name="secret",
        title="Secret Manager secret",
        model=Secret,
        readers=(sys.modules[__name__],),
        key=lambda secret: str(secret.id),
        snapshot_key="secrets",
        from_snapshot=_from_snapshot,
        references=_read_by,
        live_reads=(
            LiveRead("versions", "secretmanager.versions.list", "roles/secretmanager.viewer"),
            LiveRead("iam", "secretmanager.secrets.getIamPolicy", "roles/secretmanager.viewer"),
        ),
        terraform_types=(
            "google_secret_manager_secret",
            "google_secret_manager_secret_version",
            "google_secret_manager_secret_iam_member",
            "google_secret_manager_secret_iam_binding",
            "google_secret_manager_secret_iam_policy",
        ),
    )
)
