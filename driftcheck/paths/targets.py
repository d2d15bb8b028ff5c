"""What a service reaches over the network: its private dependencies and the public hosts its env values name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from driftcheck.kinds.network import compute
from driftcheck.kinds.redis import REDIS, MemorystoreRedis, host_in
from driftcheck.model import Inventory, Service, SqlInstance, Unknown, secret_reference

# RFC 1918 addresses in env values, as ruleset/context/env.py reads them (a range is not an address)
_PRIVATE_ADDRESS = re.compile(
    r"(?<![\d.])(?:10(?:\.\d{1,3}){3}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|192\.168(?:\.\d{1,3}){2})(?![\d./])"
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,;'\"]+")
_CONNECTION_NAME = re.compile(r"\b[a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*\b")
_GOOGLE_HOSTS = ("googleapis.com", "run.app", "pkg.dev", "gcr.io")
_INTERNAL_SUFFIXES = (".internal",)
_METADATA = "metadata.google.internal"
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "sqlserver": 1433}


@dataclass(frozen=True)
class Target:
    kind: str
    destination: str
    address: str
    port: int | None
    named_by: tuple[str, ...]
    network: str | Unknown | None = None
    network_field: str | None = None  # file:field of the dependency's network
    behind_psa: bool = False  # reached through private services access (Cloud SQL; Memorystore in that mode)
    project: str | None = None  # the dependency's network's project
    unknown_mode: str | None = None  # why how it is reached is not known (a Memorystore instance's connect mode)
    describe: str | None = None  # the gcloud command that exports the dependency


def env_of(service: Service) -> list[tuple[str, str]]:
    return [
        (name, var.value)
        for container in service.containers.values()
        if not isinstance(container.env, Unknown)
        for name, var in container.env.items()
        if isinstance(var.value, str) and var.value
    ]


def _named(env: list[tuple[str, str]], text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for name, value in env if text in value))


def _port_after(env: list[tuple[str, str]], address: str) -> int | None:
    for _, value in env:
        found = re.search(rf"(?<![\d.]){re.escape(address)}:(\d{{1,5}})\b", value)
        if found and 0 < int(found[1]) < 65536:
            return int(found[1])
    return None


def private_targets(service: Service, inventory: Inventory, env: list[tuple[str, str]]) -> list[Target]:
    targets: list[Target] = []
    seen: set[str] = set()
    for instance in sorted(inventory.sql_instances.values(), key=lambda i: i.connection_name):
        target = _sql_target(service, instance, env)
        if target:
            targets.append(target)
            seen.add(target.address)
    instances: dict[str, MemorystoreRedis] = inventory.of(REDIS.name)
    for name, value in env:
        host = host_in(name, value)
        found = instances.get(host) if host else None
        if host and found and host not in seen:
            seen.add(host)
            port = found.port if isinstance(found.port, int) else _port_after(env, host) or 6379
            network = found.authorized_network
            targets.append(
                Target(
                    kind="redis",
                    destination=f"Memorystore {found.name.rsplit('/', 1)[-1]}",
                    address=host,
                    port=port,
                    named_by=_named(env, host),
                    network=network,
                    network_field=found.provenance.get("authorized_network"),
                    behind_psa=found.connect_mode == "PRIVATE_SERVICE_ACCESS",
                    project=_project_of_path(found.authorized_network_path),
                    unknown_mode=found.connect_mode.reason if isinstance(found.connect_mode, Unknown) else None,
                    describe=f"gcloud redis instances describe {found.name.rsplit('/', 1)[-1]} "
                    f"--region {found.region} --project {found.project} --format=json",
                )
            )
    for address in sorted({a for _, value in env for a in _PRIVATE_ADDRESS.findall(value)} - seen):
        seen.add(address)
        targets.append(Target("private", address, address, _port_after(env, address), _named(env, address)))
    for host in sorted({h for _, value in env for h in _hosts(value) if h.endswith(_INTERNAL_SUFFIXES)} - seen):
        if host != _METADATA:
            targets.append(Target("private", host, host, None, _named(env, host)))
    return targets


def _sql_target(service: Service, instance: SqlInstance, env: list[tuple[str, str]]) -> Target | None:
    """An instance it connects to by private IP: its IP in an env value, or attached while it has only a private
    IP (the Cloud SQL connection then goes to the private IP too)."""
    ip = instance.private_ip
    if not ip:
        return None
    named = _named(env, ip)
    attached = instance.connection_name in service.cloudsql_instances and instance.public_ip is False
    if not named and not attached:
        return None
    engine = instance.engine
    port = _port_after(env, ip) or (_DEFAULT_PORTS.get(engine) if isinstance(engine, str) else None)
    network = compute.name_of(instance.private_network) if instance.private_network else None
    return Target(
        kind="sql",
        destination=f"Cloud SQL {instance.name}",
        address=ip,
        port=port,
        named_by=(*named, *(("attached",) if attached else ())),
        network=network if network else Unknown(f"Cloud SQL {instance.name} names no private network"),
        network_field=f"{instance.origin}:settings.ipConfiguration.privateNetwork",
        behind_psa=True,
        project=compute.project_of(instance.private_network) if instance.private_network else None,
    )


def _project_of_path(path: str | Unknown) -> str | None:
    return compute.project_of(path) if isinstance(path, str) else None


def _hosts(value: str) -> list[str]:
    hosts = []
    for url in _URL.findall(value):
        try:
            host = urlsplit(url).hostname
        except ValueError:  # a masked password reads as a bad IPv6 literal
            continue
        if host:
            hosts.append(host.lower())
    return hosts


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def public_targets(service: Service, env: list[tuple[str, str]]) -> list[Target]:
    """With all-traffic egress: each public host its env names (Google's apart), or the internet when it names
    none; and Google APIs when it calls them itself (a googleapis.com host, a secret or Cloud SQL connection name
    its code resolves)."""
    if service.vpc.path == "none" or service.vpc.egress != "all_traffic":
        return []
    hosts = {h for _, value in env for h in _hosts(value)}
    public = sorted(
        h
        for h in hosts
        if not h.endswith(_INTERNAL_SUFFIXES)
        and h != "localhost"
        and not _is_google(h)
        and not (is_ip(h) and not ipaddress.ip_address(h).is_global)
    )
    targets = [Target("internet", host, host, None, _named(env, host)) for host in public]
    if not targets:
        targets.append(Target("internet", "the internet", "0.0.0.0/0", None, ()))
    google = tuple(
        dict.fromkeys(
            name
            for name, value in env
            if any(_is_google(h) for h in _hosts(value)) or secret_reference(value) or _CONNECTION_NAME.search(value)
        )
    )
    if google and service.vpc.path == "direct":
        targets.append(Target("google-apis", "Google APIs", "*.googleapis.com", 443, google))
    return targets


def _is_google(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in _GOOGLE_HOSTS)
