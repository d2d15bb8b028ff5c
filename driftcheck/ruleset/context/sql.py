"""The Cloud SQL instances a service uses: those it attaches, and those its env reaches by IP, with their metadata."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.model import Inventory, Service, SqlInstance, Unknown, to_plain
from driftcheck.ruleset import traits
from driftcheck.ruleset.context.env import env_refs
from driftcheck.ruleset.context.resources import unread
from driftcheck.ruleset.context.shapes import SqlAdded, SqlPlain, SqlUse

# What an attached name must be to name an instance: PROJECT:REGION:INSTANCE (a domain-scoped project keeps its
# `example.com:` prefix). Any other (a plain instance name, a path, whitespace) names none: rule
# cloudsql-instance-name-malformed reports it, and it is no instance to look up. Letter case is not judged.
CONNECTION_NAME_FORM = re.compile(
    r"(?i)(?:[a-z0-9-]+(?:\.[a-z0-9-]+)+:)?[a-z0-9][a-z0-9-]*:[a-z]+-[a-z]+\d+:[a-z0-9][a-z0-9-]*"
)


def sql_attached(service: Service, inventory: Inventory) -> list[SqlUse]:
    """The instances the service attaches, known or not; a malformed name names none."""
    return [_sql(name, inventory) for name in service.cloudsql_instances if CONNECTION_NAME_FORM.fullmatch(name)]


def sql_known_in_use(service: Service, inventory: Inventory, env_values: list[str]) -> list[SqlPlain]:
    return [_sql_plain(i) for i in instances_used(service, inventory, env_values).values()]


def instances_used(
    service: Service, inventory: Inventory, env_values: list[str] | None = None
) -> dict[str, SqlInstance]:
    """Known instances the service attaches, or reaches by putting an instance's IP address in its env (its plain
    env values, read here when not given): what every rule, and the connection budget, counts as using one."""
    if env_values is None:
        env_values = [e["value"] for e in env_refs(service)]
    used = {
        name: inventory.sql_instances[name] for name in service.cloudsql_instances if name in inventory.sql_instances
    }
    for instance in inventory.sql_instances.values():
        addresses = [a for a in (instance.private_ip,) if a]
        if any(a in value for a in addresses for value in env_values):
            used.setdefault(instance.connection_name, instance)
    return used


def sql_in_use(attached: list[SqlUse], known_in_use: list[SqlPlain]) -> list[SqlUse]:
    """Every instance the service uses: attached ones (known or not), plus those its env reaches by IP."""
    names = {entry["connection_name"] for entry in attached}
    reached = [i for i in known_in_use if i["connection_name"] not in names]
    return [*attached, *(_sql_use(i["connection_name"], i) for i in reached)]


def _sql_use(connection_name: str, resource: SqlPlain | Unknown) -> SqlUse:
    """An instance as its connection name tells it: `project`, and the `environment` its project or name names."""
    return {
        "connection_name": connection_name,
        "project": connection_name.partition(":")[0],
        "environment": traits.instance_environment(connection_name),
        "resource": resource,
    }


def _sql(connection_name: str, inventory: Inventory) -> SqlUse:
    instance = inventory.sql_instances.get(connection_name)
    return _sql_use(
        connection_name, _sql_plain(instance) if instance else unread(inventory, "sql_instances", connection_name)
    )


def _sql_plain(instance: SqlInstance) -> SqlPlain:
    plain: dict[str, Any] = to_plain(instance)
    added: SqlAdded = {
        "origin": instance.origin,
        "private_only": (
            instance.public_ip
            if isinstance(instance.public_ip, Unknown)
            else (not instance.public_ip and bool(instance.private_ip))
        ),
    }
    plain.update(added)
    return plain
