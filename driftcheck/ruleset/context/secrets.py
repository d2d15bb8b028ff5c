"""The secrets a service reads (env secretKeyRefs, env values the app resolves, volumes), joined with the evidence."""

from __future__ import annotations

import re
from typing import Any, Literal

from driftcheck.model import Inventory, Secret, Service, Unknown, secret_reference, to_plain
from driftcheck.ruleset.context.access import secret_access
from driftcheck.ruleset.context.shapes import SecretAdded, SecretPlain, SecretUse

_SECRET_PATH = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")


def secret_refs(service: Service, inventory: Inventory) -> list[SecretUse]:
    """Every secret the service reads: env secretKeyRefs (`env`), env values the app resolves itself (`env-value`:
    `sm://S`, `projects/P/secrets/S/versions/V`) and secret volumes (`volume`)."""
    refs = []
    for key, container in service.containers.items():
        for name, var in container.env.items():
            if var.secret:
                secret_id = var.secret.secret
                refs.append(_secret_ref("env", name, secret_id, var.secret.version, inventory, key, service))
            elif isinstance(var.value, str) and (named := secret_reference(var.value)):
                secret_id = _own_secret_id(named.secret, service.project, inventory.project_aliases)
                refs.append(_secret_ref("env-value", name, secret_id, named.version, inventory, key, service))
    for name, volume in service.volumes.items():
        if volume.kind == "secret" and volume.secret:
            for version in sorted(set(volume.items.values())) or ["latest"]:
                refs.append(_secret_ref("volume", name, volume.secret, version, inventory, None, service))
    return refs


def _own_secret_id(secret: str, project: str | Unknown, aliases: dict[str, str]) -> str:
    """`projects/P/secrets/S` of the service's own project is plain `S`, as the sources name a secretKeyRef's."""
    match = _SECRET_PATH.match(secret)
    if match is None or isinstance(project, Unknown):
        return secret
    own = aliases.get(project, project)
    return match["secret"] if aliases.get(match["project"], match["project"]) == own else secret


def _secret_ref(
    via: Literal["env", "env-value", "volume"],
    name: str,
    secret_id: str,
    version: str,
    inventory: Inventory,
    container: str | None,
    service: Service,
) -> SecretUse:
    secret = inventory.secrets.get(secret_id)
    return {
        "via": via,
        "name": name,
        "container": container,
        "secret": secret_id,
        "version": version,
        "resource": _secret_plain(secret) if secret else Unknown(f"secret {secret_id} is not in the evidence"),
        "resolved_version": _resolved_version(secret, version),
        "enabled_versions": _enabled_versions(secret),
        "version_state": _version_state(secret, version, secret_id),
        "source": secret.origin if secret else None,
        "access": secret_access(service, secret_id, inventory),
    }


def _secret_plain(secret: Secret) -> SecretPlain:
    plain: dict[str, Any] = to_plain(secret)
    added: SecretAdded = {
        "origin": secret.origin,
        "iam_source": secret.provenance.get("bindings"),
        "versions_source": secret.provenance.get("versions"),
    }
    plain.update(added)
    return plain


def _version_state(secret: Secret | None, version: str, secret_id: str) -> str | Unknown:
    """The state of the version a reference resolves to; `latest` is the newest version, whatever its state."""
    if secret is None:
        return Unknown(f"secret {secret_id} is not in the evidence")
    if isinstance(secret.versions, Unknown):
        return secret.versions
    resolved = _resolved_version(secret, version)
    if not resolved.isdigit() and resolved != "latest":  # an alias: the versions list does not say what it names
        return Unknown(f"version alias {version!r} of secret {secret_id}: aliases are not in the versions list")
    found = secret.versions.get(resolved)
    return found.state if found else "ABSENT"


def _enabled_versions(secret: Secret | None) -> list[str]:
    """Version numbers a reference could be pinned to instead, oldest first."""
    if secret is None or isinstance(secret.versions, Unknown):
        return []
    return sorted((n for n, v in secret.versions.items() if n.isdigit() and v.state == "ENABLED"), key=int)


def _resolved_version(secret: Secret | None, version: str) -> str:
    """`latest` names the newest version whatever its state; anything else names itself."""
    if version != "latest" or secret is None or isinstance(secret.versions, Unknown):
        return version
    numbers = sorted((v for v in secret.versions if v.isdigit()), key=int)
    return numbers[-1] if numbers else version
