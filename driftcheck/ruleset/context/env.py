"""The service's plain env values: each with its variable, and the Cloud SQL names and private addresses they hold."""

from __future__ import annotations

import re

from driftcheck.model import Service
from driftcheck.ruleset.context.shapes import EnvSetting

_CONNECTION_NAME = re.compile(r"\b([a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*)\b")
# RFC 1918 addresses in env values (REDIS_HOST=10.0.0.3): something reached only through the VPC. A range
# (TRUSTED_PROXIES=10.0.0.0/8) is not an address anything connects to.
_PRIVATE_ADDRESS = re.compile(
    r"(?<![\d.])(?:10(?:\.\d{1,3}){3}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|192\.168(?:\.\d{1,3}){2})(?![\d./])"
)


def env_refs(service: Service) -> list[EnvSetting]:
    """Plain env vars with their names, so a rule can say which variable holds a suspicious value."""
    return [
        {"container": key, "name": name, "value": str(var.value)}
        for key, container in service.containers.items()
        for name, var in container.env.items()
        if isinstance(var.value, str) and var.value
    ]


def cloudsql_mentioned(env_values: list[str]) -> list[str]:
    """The Cloud SQL connection names the values name."""
    return sorted({m for v in env_values for m in _CONNECTION_NAME.findall(v)})


def private_addresses(env_values: list[str]) -> list[str]:
    """The RFC 1918 addresses in the values: something reached only through the VPC."""
    return sorted({a for v in env_values for a in _PRIVATE_ADDRESS.findall(v)})
