"""What a rule sees: a service in canonical form, joined with the resources it references.

The joins live here so rules stay judgments: `refs.secrets[].resource` is the secret's metadata, or an
unknown marker when the evidence does not hold it (never "missing").

`refs`: `secrets[]` (each reference with `version_state`, `resolved_version`, `enabled_versions`), `sql[]` (attached
instances), `sql_used[]` (known instances attached or reached by private IP from env), `sql_all[]` (both, as
`{connection_name, resource}`), `connector`, `env[]` (`{container, name, value}`), `env_values`,
`cloudsql_mentioned` (connection names in env). `member` is the service account as an IAM member.
`secrets[].via` is `env` (a secretKeyRef), `env-value` (a value the app resolves itself: `sm://S`,
`projects/P/secrets/S/versions/V`) or `volume`; env ones name their `container`. Each `sql[]` entry has the
instance's `project` and `environment`. Traits (ruleset/traits.py), so a rule can tell an ordinary difference
between applications or environments from a cause: `images` (container -> `{repository, name}`), `app_keys`,
`service_stem`, `environment` (`{stage, tier, source}`), `identity` (`{default, name, own_project}`); and
`cloudsql_socket` (an env value names /cloudsql), `private_addresses` (RFC 1918 addresses in env values).

For sentences (ruleset/naming.py): `label` names the service, each container's `display` names the container.
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.model import (
    Connector,
    Inventory,
    Secret,
    Service,
    SqlInstance,
    Unknown,
    secret_reference,
    to_plain,
)
from driftcheck.ruleset import traits
from driftcheck.ruleset.naming import container_display

_CONNECTOR_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)$")
_CONNECTION_NAME = re.compile(r"\b([a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*)\b")
_SECRET_PATH = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
# RFC 1918 addresses in env values (REDIS_HOST=10.0.0.3): something reached only through the VPC.
_PRIVATE_ADDRESS = re.compile(
    r"(?<![\d.])(?:10(?:\.\d{1,3}){3}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|192\.168(?:\.\d{1,3}){2})(?![\d.])"
)


def service_context(service: Service, inventory: Inventory, plain: dict[str, Any] | None = None) -> dict[str, Any]:
    """`plain`: to_plain(service), when the caller has it already (it is not changed)."""
    plain = dict(plain if plain is not None else to_plain(service))
    plain["label"], plain["origin"] = service.name, service.origin  # with_labels qualifies a shared name
    plain["containers"] = {  # copies: the caller's tree is compared as it is
        key: {**tree, "display": container_display(key, service.containers[key], len(service.containers))}
        for key, tree in plain["containers"].items()
    }
    env_values = [
        str(var.value)
        for container in service.containers.values()
        for var in container.env.values()
        if isinstance(var.value, str) and var.value
    ]
    plain["refs"] = {
        "secrets": _secret_refs(service, inventory),
        "sql": [_sql(name, inventory) for name in service.cloudsql_instances],
        "env": _env_refs(service),
        "connector": _connector(service, inventory),
        "env_values": env_values,
        "cloudsql_mentioned": sorted({m for v in env_values for m in _CONNECTION_NAME.findall(v)}),
        "cloudsql_socket": any("/cloudsql" in v for v in env_values),
        "private_addresses": sorted({a for v in env_values for a in _PRIVATE_ADDRESS.findall(v)}),
        "images": traits.images(service),
        "app_keys": traits.app_keys(service),
        "service_stem": traits.service_stem(service),
        "environment": traits.environment(service, inventory.project_aliases),
        "identity": traits.identity(service, inventory.project_aliases),
    }
    plain["refs"]["sql_used"] = _sql_used(service, inventory, env_values)
    plain["refs"]["sql_all"] = _sql_all(plain["refs"]["sql"], plain["refs"]["sql_used"])
    plain["member"] = (
        f"serviceAccount:{service.service_account}"
        if isinstance(service.service_account, str)
        else Unknown(service.service_account.reason)
    )
    return plain


def _env_refs(service: Service) -> list[dict[str, Any]]:
    """Plain env vars with their names, so a rule can say which variable holds a suspicious value."""
    return [
        {"container": key, "name": name, "value": str(var.value)}
        for key, container in service.containers.items()
        for name, var in container.env.items()
        if isinstance(var.value, str) and var.value
    ]


def _secret_refs(service: Service, inventory: Inventory) -> list[dict[str, Any]]:
    """Every secret the service reads: env secretKeyRefs (`env`), env values the app resolves itself (`env-value`:
    `sm://S`, `projects/P/secrets/S/versions/V`) and secret volumes (`volume`)."""
    refs = []
    for key, container in service.containers.items():
        for name, var in container.env.items():
            if var.secret:
                refs.append(_secret_ref("env", name, var.secret.secret, var.secret.version, inventory, key))
            elif isinstance(var.value, str) and (named := secret_reference(var.value)):
                secret_id = _own_secret_id(named.secret, service.project, inventory.project_aliases)
                refs.append(_secret_ref("env-value", name, secret_id, named.version, inventory, key))
    for name, volume in service.volumes.items():
        if volume.kind == "secret" and volume.secret:
            for version in sorted(set(volume.items.values())) or ["latest"]:
                refs.append(_secret_ref("volume", name, volume.secret, version, inventory))
    return refs


def _own_secret_id(secret: str, project: str | Unknown, aliases: dict[str, str]) -> str:
    """`projects/P/secrets/S` of the service's own project is plain `S`, as the sources name a secretKeyRef's."""
    match = _SECRET_PATH.match(secret)
    if match is None or isinstance(project, Unknown):
        return secret
    own = aliases.get(project, project)
    return match["secret"] if aliases.get(match["project"], match["project"]) == own else secret


def _secret_ref(
    via: str, name: str, secret_id: str, version: str, inventory: Inventory, container: str | None = None
) -> dict[str, Any]:
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
    }


def _secret_plain(secret: Secret) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(secret)
    plain["origin"] = secret.origin
    plain["iam_source"] = secret.provenance.get("bindings")
    plain["versions_source"] = secret.provenance.get("versions")
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


def _sql_all(attached: list[dict[str, Any]], used: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every instance the service uses: attached ones (known or not), plus those its env reaches by IP."""
    names = {entry["connection_name"] for entry in attached}
    reached = [i for i in used if i["connection_name"] not in names]
    return [*attached, *(_named(i["connection_name"]) | {"resource": i} for i in reached)]


def _named(connection_name: str) -> dict[str, Any]:
    """An instance as its connection name tells it: `project`, and the `environment` its project or name names."""
    return {
        "connection_name": connection_name,
        "project": connection_name.partition(":")[0],
        "environment": traits.instance_environment(connection_name),
    }


def _sql(connection_name: str, inventory: Inventory) -> dict[str, Any]:
    instance = inventory.sql_instances.get(connection_name)
    return {
        **_named(connection_name),
        "resource": _sql_plain(instance) if instance else _unread(inventory, "sql_instances", connection_name),
    }


def _unread(inventory: Inventory, kind: str, name: str) -> Unknown:
    """Why a referenced resource is not here: the API's own error when a live read failed, else absent evidence."""
    error = inventory.errors.get(f"{kind}:{name}")
    return Unknown(f"{name}: {error}" if error else f"{name} is not in the evidence")


def _sql_plain(instance: SqlInstance) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(instance)
    plain["origin"] = instance.origin
    plain["private_only"] = (
        instance.public_ip
        if isinstance(instance.public_ip, Unknown)
        else (not instance.public_ip and bool(instance.private_ip))
    )
    return plain


def _connector_by_number(path: str, inventory: Inventory) -> Connector | None:
    """A v1 service names its project by number, a connector export by id, and often nothing in the evidence links
    the two: then the only exported connector with that region and name is taken to be the one meant."""
    match = _CONNECTOR_PATH.match(path)
    if match is None or not match["project"].isdigit():
        return None
    same = [
        c
        for c in inventory.connectors.values()
        if (m := _CONNECTOR_PATH.match(c.name)) and (m["region"], m["name"]) == (match["region"], match["name"])
    ]
    return same[0] if len(same) == 1 else None


def _connector(service: Service, inventory: Inventory) -> Any:
    path = service.vpc.connector
    if isinstance(path, Unknown):  # a .tf reference or a value known only after apply
        return path
    if not path:
        return None
    connector = inventory.connectors.get(path) or _connector_by_number(path, inventory)
    if connector is None:
        return _unread(inventory, "connectors", path)
    plain = to_plain(connector)
    plain["origin"] = connector.origin
    return plain
