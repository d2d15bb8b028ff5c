"""What a rule sees: a service in canonical form, joined with the resources it references.

The joins live here so rules stay judgments: `refs.secrets[].resource` is the secret's metadata, or an
unknown marker when the evidence does not hold it (never "missing").
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.model import Inventory, Secret, Service, SqlInstance, Unknown, to_plain

_CONNECTION_NAME = re.compile(r"\b([a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*)\b")


def service_context(service: Service, inventory: Inventory) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(service)
    env_values = [
        str(var.value)
        for container in service.containers.values()
        for var in container.env.values()
        if isinstance(var.value, str) and var.value
    ]
    plain["refs"] = {
        "secrets": _secret_refs(service, inventory),
        "sql": [_sql(name, inventory) for name in service.cloudsql_instances],
        "connector": _connector(service, inventory),
        "env_values": env_values,
        "cloudsql_mentioned": sorted({m for v in env_values for m in _CONNECTION_NAME.findall(v)}),
    }
    plain["refs"]["sql_used"] = _sql_used(service, inventory, env_values)
    plain["member"] = (
        f"serviceAccount:{service.service_account}"
        if isinstance(service.service_account, str)
        else Unknown(service.service_account.reason)
    )
    return plain


def _secret_refs(service: Service, inventory: Inventory) -> list[dict[str, Any]]:
    refs = []
    for container in service.containers.values():
        for name, var in container.env.items():
            if var.secret:
                refs.append(_secret_ref("env", name, var.secret.secret, var.secret.version, inventory))
    for name, volume in service.volumes.items():
        if volume.kind == "secret" and volume.secret:
            for version in sorted(set(volume.items.values())) or ["latest"]:
                refs.append(_secret_ref("volume", name, volume.secret, version, inventory))
    return refs


def _secret_ref(via: str, name: str, secret_id: str, version: str, inventory: Inventory) -> dict[str, Any]:
    secret = inventory.secrets.get(secret_id)
    return {
        "via": via,
        "name": name,
        "secret": secret_id,
        "version": version,
        "resource": _secret_plain(secret) if secret else Unknown(f"secret {secret_id} is not in the evidence"),
        "version_state": _version_state(secret, version, secret_id),
        "source": secret.origin if secret else None,
    }


def _secret_plain(secret: Secret) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(secret)
    plain["origin"] = secret.origin
    plain["iam_source"] = secret.provenance.get("bindings")
    return plain


def _version_state(secret: Secret | None, version: str, secret_id: str) -> str | Unknown:
    """The state of the version a reference resolves to; `latest` is the newest version, whatever its state."""
    if secret is None:
        return Unknown(f"secret {secret_id} is not in the evidence")
    if isinstance(secret.versions, Unknown):
        return secret.versions
    numbers = sorted((v for v in secret.versions if v.isdigit()), key=int)
    resolved = numbers[-1] if version == "latest" and numbers else version
    found = secret.versions.get(resolved)
    return found.state if found else "ABSENT"


def _sql_used(service: Service, inventory: Inventory, env_values: list[str]) -> list[dict[str, Any]]:
    """Known instances the service attaches, or reaches by putting an instance's IP address in its env."""
    used = {
        name: inventory.sql_instances[name] for name in service.cloudsql_instances if name in inventory.sql_instances
    }
    for instance in inventory.sql_instances.values():
        addresses = [a for a in (instance.private_ip,) if a]
        if any(a in value for a in addresses for value in env_values):
            used.setdefault(instance.connection_name, instance)
    return [_sql_plain(i) for i in used.values()]


def _sql(connection_name: str, inventory: Inventory) -> dict[str, Any]:
    instance = inventory.sql_instances.get(connection_name)
    return {
        "connection_name": connection_name,
        "resource": _sql_plain(instance) if instance else Unknown(f"instance {connection_name} is not in the evidence"),
    }


def _sql_plain(instance: SqlInstance) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(instance)
    plain["origin"] = instance.origin
    plain["private_only"] = (
        instance.public_ip
        if isinstance(instance.public_ip, Unknown)
        else (not instance.public_ip and bool(instance.private_ip))
    )
    return plain


def _connector(service: Service, inventory: Inventory) -> Any:
    path = service.vpc.connector
    if not path:
        return None
    connector = inventory.connectors.get(path)
    if connector is None:
        return Unknown(f"connector {path} is not in the evidence")
    plain = to_plain(connector)
    plain["origin"] = connector.origin
    return plain
