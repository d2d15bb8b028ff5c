"""Normalizers shared by every Cloud Run spelling: keys, defaults and references the model expects."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from driftcheck.errors import InputError
from driftcheck.kinds.shape import UNKNOWN_MARK
from driftcheck.kinds.units import cpu_cores, last_segment, memory_bytes, to_int
from driftcheck.model import Container, Inventory, NetworkInterface, Probe, Redacted, Service, Unknown
from driftcheck.redact import redact_env_value

SCRUBBED_MARK = "[REDACTED:"  # what `cloudrun_v2.scrubbed` leaves in a snapshot file
INGRESS_KEY = "ingress"  # the serving container, whatever each tool named it (gcloud `api-1`, Terraform "")
DEFAULT_PORT = 8080
GPU = "nvidia.com/gpu"
# Cloud Run's default startup probe; a service that shows it is the same as one that does not declare a probe.
DEFAULT_STARTUP = {"kind": "tcp", "timeout_s": 240, "period_s": 240, "failure_threshold": 1, "initial_delay_s": 0}
_DETERMINISTIC_URL = re.compile(r"^https://(?P<service>.+)-(?P<number>\d{6,})\.(?P<region>[a-z0-9-]+)\.run\.app/?$")


def add_service(inventory: Inventory, service: Service) -> None:
    existing = inventory.services.get(service.name)
    if existing is not None:
        raise InputError(
            f"service {service.name!r} is also described in {existing.origin}; pass one of them",
            file=service.origin,
        )
    inventory.services[service.name] = service


def aliases_from_urls(service: Service, urls: list[str]) -> dict[str, str]:
    """Deterministic URLs (`https://api-123456789012.us-central1.run.app`) reveal the project number."""
    if isinstance(service.project, Unknown) or service.project.isdigit():
        return {}
    found = {}
    for url in urls:
        match = _DETERMINISTIC_URL.match(url)
        if match and match["service"] == service.name:
            found[match["number"]] = service.project
    return found


URLS_ANNOTATION = "run.googleapis.com/urls"  # every URL of the service, as gcloud exports it (a JSON list)


def own_name(service: Service) -> str:
    """The name the service has in Cloud Run (its logs, its IAM policy, its resource path): a revision compare's
    names say more (`api@latest (api-00042-fix)`, ServiceMetadata.revision_of)."""
    return service.metadata.revision_of or service.name


def own_hosts(service: Service) -> list[str]:
    """Where others call the service: the host of each of its URLs (its status URL, the urls annotation). A caller's
    env names one to reach it, and a push subscription pushes to one (rules and the live fetch match on these)."""
    urls = [service.status.url] if not isinstance(service.status, Unknown) and service.status.url else []
    try:
        listed = json.loads(service.metadata.annotations.get(URLS_ANNOTATION, "[]"))
    except json.JSONDecodeError:
        listed = []
    urls += [u for u in listed if isinstance(u, str)] if isinstance(listed, list) else []
    return sorted({host for url in urls if (host := urlsplit(url).hostname)})


def service_account(raw: object, project: str | Unknown) -> str | Unknown:
    if raw:
        return str(raw).strip().lower()
    if isinstance(project, str) and project.isdigit():
        return f"{project}-compute@developer.gserviceaccount.com"
    return Unknown("default compute service account; project number not in evidence")


def split_instances(raw: str | list[str]) -> tuple[str, ...]:
    parts = raw.split(",") if isinstance(raw, str) else raw
    return tuple(sorted({p.strip() for p in parts if p and p.strip()}))


def connector_path(raw: str, project: str | Unknown, region: str | Unknown) -> str:
    """Short connector names resolve against the service's own project and region."""
    if raw.startswith("projects/"):
        return raw
    return f"projects/{_or_dash(project)}/locations/{_or_dash(region)}/connectors/{raw}"


def _or_dash(value: str | Unknown) -> str:
    return "-" if isinstance(value, Unknown) else value


def network_interfaces(raw: list[Any]) -> dict[str, NetworkInterface]:
    interfaces = {}
    for item in raw:
        network = item.get("network") or None
        subnetwork = item.get("subnetwork") or None
        interface = NetworkInterface(
            network=last_segment(network) if network else None,
            subnetwork=last_segment(subnetwork) if subnetwork else None,
            tags=tuple(sorted(str(t) for t in item.get("tags") or ())),
        )
        interfaces[interface.network or interface.subnetwork or "default"] = interface
    return interfaces


def refuse_duplicate_env(env: dict[str, Any], name: str, origin: str, field: str) -> None:
    """Two entries of one name: Cloud Run would not accept it, and which one wins is not driftcheck's to guess."""
    if name in env:
        raise InputError(f"env name {name!r} appears twice in one container", file=origin, where=field)


def env_value(name: str, value: object) -> str | Redacted | Unknown:
    text = "" if value is None else str(value)
    if UNKNOWN_MARK in text:  # a plan's value known only after apply: no credential, and it must stay recognizable
        return text
    if SCRUBBED_MARK in text:  # scrubbed by the run that wrote a snapshot: its fingerprint means nothing here
        return Unknown("credential scrubbed from the snapshot file; compare against the live project to check it")
    return redact_env_value(name, text)


def container_key(container: Container, count: int, index: int) -> str:
    if container.port is not None or count == 1:
        return INGRESS_KEY
    return container.name or f"container-{index}"  # unnamed sidecars must not overwrite each other


def container_key_raw(item: dict[str, Any], count: int, index: int) -> str:
    if item.get("ports") or count == 1:
        return INGRESS_KEY
    return str(item.get("name") or f"container-{index}")


def with_dependencies(containers: dict[str, Container], waits_for: dict[str, list[str]]) -> dict[str, Container]:
    """Start-up order, keyed like the containers: v1 and v2 name the ingress container differently."""
    key_of = {c.name: key for key, c in containers.items() if c.name}
    return {
        key: dataclasses.replace(
            c, depends_on=tuple(sorted(key_of.get(name, name) for name in waits_for.get(c.name, ())))
        )
        for key, c in containers.items()
    }


def with_resources(container: Container, limits: dict[str, Any], origin: str, field: str) -> Container:
    cpu = cpu_cores(limits["cpu"], file=origin, field=f"{field}.limits.cpu") if "cpu" in limits else None
    memory = memory_bytes(limits["memory"], file=origin, field=f"{field}.limits.memory") if "memory" in limits else None
    gpus = to_int(limits[GPU], file=origin, field=f"{field}.limits[{GPU}]") if GPU in limits else None
    return dataclasses.replace(container, cpu=cpu, memory_bytes=memory, gpus=gpus)


def with_ports_and_probes(container: Container, item: dict[str, Any], count: int, origin: str, field: str) -> Container:
    """v1 and v2 spell ports and probes alike (camelCase Knative keys)."""
    ports = item.get("ports") or []
    port, protocol = None, None
    if ports:
        port = port_number(ports[0].get("containerPort", DEFAULT_PORT), origin, f"{field}.ports[0].containerPort")
        protocol = "h2c" if ports[0].get("name") == "h2c" else "http1"
    elif count == 1:
        port, protocol = DEFAULT_PORT, "http1"
    return dataclasses.replace(
        container,
        port=port,
        protocol=protocol,
        startup_probe=_probe(item.get("startupProbe"), port, origin, f"{field}.startupProbe", startup=True),
        liveness_probe=_probe(item.get("livenessProbe"), port, origin, f"{field}.livenessProbe", startup=False),
    )


def port_number(raw: object, origin: str, field: str) -> int:
    port = to_int(raw, file=origin, field=field)
    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is outside 1-65535", file=origin, where=field)
    return port


def _probe(raw: Any, container_port: int | None, origin: str, field: str, *, startup: bool) -> Probe | None:
    if not raw:
        return None
    kind, target = next(
        ((k, raw[key] or {}) for key, k in (("httpGet", "http"), ("tcpSocket", "tcp"), ("grpc", "grpc")) if key in raw),
        ("tcp", {}),
    )
    probe = Probe(
        kind=kind,
        port=port_number(target["port"], origin, f"{field}.port") if target.get("port") else container_port,
        path=(target.get("path") or "/") if kind == "http" else None,
        initial_delay_s=to_int(raw.get("initialDelaySeconds", 0), file=origin, field=f"{field}.initialDelaySeconds"),
        period_s=to_int(raw.get("periodSeconds", 10), file=origin, field=f"{field}.periodSeconds"),
        timeout_s=to_int(raw.get("timeoutSeconds", 1), file=origin, field=f"{field}.timeoutSeconds"),
        failure_threshold=to_int(raw.get("failureThreshold", 3), file=origin, field=f"{field}.failureThreshold"),
    )
    if (
        startup
        and probe.port == container_port
        and all(getattr(probe, name) == value for name, value in DEFAULT_STARTUP.items())
    ):
        return None
    return probe


def interned(provenance: dict[str, str]) -> dict[str, str]:
    """Provenance paths repeat across services (`spec.template.spec.containers[0].image` for each of them): one
    copy of each string, whatever the number of services."""
    return {sys.intern(field): sys.intern(path) for field, path in provenance.items()}


def container_provenance(
    key: str, base: str, item: dict[str, Any], *, env_field: str, mounts_field: str
) -> dict[str, str]:
    prefix = f"containers.{key}"
    prov = {
        prefix: base,
        f"{prefix}.image": f"{base}.image",
        f"{prefix}.port": f"{base}.ports[0]",
        f"{prefix}.cpu": f"{base}.resources.limits.cpu",
        f"{prefix}.memory_bytes": f"{base}.resources.limits.memory",
        f"{prefix}.gpus": f"{base}.resources.limits[{GPU}]",
        f"{prefix}.startup_probe": f"{base}.startupProbe",
        f"{prefix}.liveness_probe": f"{base}.livenessProbe",
        f"{prefix}.volume_mounts": f"{base}.{mounts_field}",
    }
    for index, var in enumerate(item.get(env_field) or ()):
        if isinstance(var, dict) and "name" in var:
            prov[f"{prefix}.env.{var['name']}"] = f"{base}.{env_field}[{index}]"
    return prov
