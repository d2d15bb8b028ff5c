"""Memorystore for Redis: `gcloud redis instances describe NAME --region R --format=json > NAME.redis.json`.

An instance has only a private IP, reachable from its authorized network: through VPC peering to a Google-managed
network (`DIRECT_PEERING`), or through that network's private services access (`PRIVATE_SERVICE_ACCESS`). A service
reaches it through a connector or Direct VPC on that network, or not at all.

A service names an instance by its host, the IP in an env value (`REDIS_HOST=10.0.0.3`, `REDIS_URL=redis://
10.0.0.3:6379/0`), so instances are keyed by host; one whose host is not known yet (being created) by its name.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
from driftcheck.kinds.registry import LIST, Kind, LiveRead, register
from driftcheck.kinds.shape import compile_shape
from driftcheck.model import Inventory, Service, Unknown

KIND = "Memorystore Redis instance (gcloud redis instances describe NAME --region R --format=json)"
WHAT = "Memorystore Redis instance"
CONNECT_MODES = ("DIRECT_PEERING", "PRIVATE_SERVICE_ACCESS")
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/instances/(?P<instance>[^/]+)$")
# An env var whose name says Redis may hold a bare host or host:port; any other holds a redis:// URL or nothing
_REDIS_NAME = re.compile(r"REDIS|MEMORYSTORE", re.IGNORECASE)
_SCHEMES = ("redis", "rediss")
_SHAPE = compile_shape(
    {
        "name": str,
        "host": str,
        "authorizedNetwork": str,
        "connectMode": str,
        "state": str,
        "tier": str,
        "redisVersion": str,
        "authEnabled": bool,
        "transitEncryptionMode": str,
    }
)


@dataclass(frozen=True, slots=True)
class MemorystoreRedis:
    """A Memorystore for Redis instance (gcloud redis instances describe)."""

    name: str  # projects/P/locations/R/instances/N
    project: str
    region: str
    origin: str
    host: str | Unknown  # the private IP clients connect to
    port: int | Unknown  # 6379 unless set otherwise
    authorized_network: str | Unknown  # the network's name: only it reaches the instance
    authorized_network_path: str | Unknown  # projects/P/global/networks/N (another project's, with Shared VPC)
    connect_mode: str | Unknown  # DIRECT_PEERING | PRIVATE_SERVICE_ACCESS
    state: str | Unknown  # READY, CREATING, UPDATING, MAINTENANCE, REPAIRING, FAILING_OVER...
    tier: str | Unknown  # BASIC | STANDARD_HA
    redis_version: str | Unknown  # REDIS_7_0...
    auth_enabled: bool  # clients must send AUTH (the API omits a false authEnabled)
    transit_encryption_mode: str | Unknown  # SERVER_AUTHENTICATION: clients must speak TLS (rediss://); DISABLED
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.host if isinstance(self.host, str) else self.name


def matches(data: Any) -> bool:
    """What only `redis instances describe` writes: an instance path, its Redis version, and the tier and size
    every instance has (a Memcached or Filestore instance has the same kind of path)."""
    return (
        isinstance(data, dict)
        and bool(_NAME.match(str(data.get("name", ""))))
        and "redisVersion" in data
        and "tier" in data
        and "memorySizeGb" in data
    )


def load(doc: Document, inventory: Inventory) -> None:
    instance = parse_instance(doc.data, doc.label)
    inventory.of(REDIS.name)[instance.key] = instance


def parse_instance(data: Any, origin: str) -> MemorystoreRedis:
    """The Memorystore API's JSON (and gcloud's); Terraform's attributes are rewritten to it first."""
    data = compute.checked(data, _SHAPE, WHAT, origin)
    name = compute.required(data, "name", WHAT, origin)
    match = _NAME.match(name)
    if match is None:
        raise InputError(f"not projects/P/locations/R/instances/N: {name!r:.60}", file=origin, where="name")
    host, port, network = data.get("host"), data.get("port"), data.get("authorizedNetwork")
    if host is not None and not _is_ip(host):
        raise InputError(f"not an IP address: {host!r:.40}", file=origin, where="host")
    mode = data.get("connectMode")
    if mode is not None and mode not in CONNECT_MODES:
        raise InputError(f"{mode!r:.40} is not one of: {', '.join(CONNECT_MODES)}", file=origin, where="connectMode")
    return MemorystoreRedis(
        name=name,
        project=match["project"],
        region=match["region"],
        origin=origin,
        host=str(host) if host else Unknown("no host field (an instance gets one once created)"),
        port=compute.whole_number(port, 1, 65535, origin, "port") if port is not None else Unknown("no port field"),
        authorized_network=compute.name_of(network) if network else Unknown("no authorizedNetwork field"),
        authorized_network_path=_network_path(network, match["project"]) if network else Unknown("no field"),
        connect_mode=str(mode) if mode else Unknown("no connectMode field"),
        state=compute.text(data, "state"),
        tier=compute.text(data, "tier"),
        redis_version=compute.text(data, "redisVersion"),
        auth_enabled=bool(data.get("authEnabled", False)),
        transit_encryption_mode=compute.text(data, "transitEncryptionMode"),
        provenance={
            "host": f"{origin}:host",
            "port": f"{origin}:port",
            "authorized_network": f"{origin}:authorizedNetwork",
            "connect_mode": f"{origin}:connectMode",
            "state": f"{origin}:state",
            "auth_enabled": f"{origin}:authEnabled",
            "transit_encryption_mode": f"{origin}:transitEncryptionMode",
        },
    )


def _network_path(network: str, own_project: str) -> str:
    """`projects/P/global/networks/N` whichever way it is written; a bare name is the instance's own project's."""
    return f"projects/{compute.project_of(network) or own_project}/global/networks/{compute.name_of(network)}"


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def host_in(name: str, value: str) -> str | None:
    """The IP an env value names as a Redis host: in a redis:// or rediss:// URL under any name; bare (`10.0.0.3`,
    `10.0.0.3:6379`) under a name that says Redis. None otherwise: a hostname is not a Memorystore host."""
    text = value.strip()
    if "://" in text:
        host = _url_host(text) if text.split("://", 1)[0].lower() in _SCHEMES else None
    elif _REDIS_NAME.search(name):
        host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    else:
        host = None
    return host if host and _is_ip(host) else None


def _url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # a masked password (`[REDACTED:...]`) reads as a bad IPv6 literal
        return None


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> MemorystoreRedis | None:
    return None if "error" in stored else parse_instance(stored, f"{origin}#redis:{key}")


def reached_by(service: Service) -> tuple[str, ...]:
    """The hosts its plain env values name (see `host_in`)."""
    found = []
    for container in service.containers.values():
        if isinstance(container.env, Unknown):  # a plan's or .tf's env not known yet
            continue
        for name, var in container.env.items():
            host = host_in(name, var.value) if isinstance(var.value, str) else None
            found += [host] if host else []
    return tuple(found)


def _listed_in(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """Where an instance it names may be: its own project and region (`projects/P/locations/R`)."""
    known = isinstance(service.project, str) and isinstance(service.region, str) and reached_by(service)
    return (f"projects/{service.project}/locations/{service.region}",) if known else ()


def _hosts_of(services: Sequence[Service], inventory: Inventory) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed instance (the API's JSON) is one whose host a service names."""
    hosts = {host for service in services for host in reached_by(service)}
    return lambda raw: raw.get("host") in hosts


REDIS = register(
    Kind(
        name="redis",
        title="Memorystore Redis instance",
        model=MemorystoreRedis,
        readers=(sys.modules[__name__],),
        key=lambda instance: str(instance.key),
        snapshot_key="redis_instances",
        from_snapshot=_from_snapshot,
        references=reached_by,
        # A service names an instance by its host, not by its name: the live read lists the instances of its
        # project and region (one paged ListInstances), keeping those whose host a service names.
        # roles/redis.viewer: read-only on instances, no AUTH string (redis.instances.getAuthString is not in it)
        live_reads=(LiveRead(LIST, "redis.instances.list", "roles/redis.viewer"),),
        listed_in=_listed_in,
        listed_for=_hosts_of,
        terraform_types=("google_redis_instance",),
    )
)
