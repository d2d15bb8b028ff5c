"""A declared instance to the canonical model: mapped as state is (terraform_resources), then its unresolved fields
made Unknown, its provenance pointed at the file and line, and its lifecycle.ignore_changes read as field globs.
"""

from __future__ import annotations

import dataclasses

from driftcheck.kinds.service import common
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.sources import terraform_resources
from driftcheck.sources.terraform_hcl.instances import PLACEHOLDER, TfInstance
from driftcheck.sources.terraform_hcl.parse import where
from driftcheck.sources.terraform_hcl.paths import within
from driftcheck.sources.terraform_hcl.unknowns import covered, mark_unresolved

_CLOUD_RUN = frozenset({"google_cloud_run_v2_service", "google_cloud_run_service"})
# What a service points at, each with the attributes its key is built from (a network is global: no region).
_REFERENCED = {
    "google_vpc_access_connector": ("name", "project", "region"),
    "google_sql_database_instance": ("name", "project", "region"),
    "google_compute_network": ("name", "project"),
    "google_compute_subnetwork": ("name", "project", "region"),
    "google_compute_router": ("name", "project", "region"),
    "google_compute_firewall": ("name", "project"),
    "google_redis_instance": ("name", "project", "region"),
}


def load_instance(found: TfInstance, inventory: Inventory) -> None:
    """A Cloud Run service, or a connector or Cloud SQL instance a service points at, into the inventory."""
    if found.instance.type in _REFERENCED:
        _load_referenced(found, inventory)
        return
    if found.instance.type not in _CLOUD_RUN:  # Secret Manager declarations go through secrets.load_secrets
        return
    own = Inventory()
    terraform_resources.load_instances([found.instance], own, str(found.file))
    for service in own.services.values():
        common.add_service(inventory, _finish(service, found))


def _load_referenced(found: TfInstance, inventory: Inventory) -> None:
    """A connector, Cloud SQL instance, network resource or Memorystore instance the services point at; only when
    the attributes its key is built from (name, project, region) are known."""
    address, values = found.instance.address, found.instance.attributes
    needed = _REFERENCED[found.instance.type]
    missing = [k for k in needed if k in found.unresolved or not values.get(k)]
    if missing:
        inventory.errors[address] = f"{where(found.file, found.line)}: {', '.join(missing)} not known from the .tf"
        return
    own = Inventory()
    terraform_resources.load_instances([found.instance], own, str(found.file))
    prefix = f"{found.file}:{address}."
    for kind, collection in own.resources.items():
        for key, resource in collection.items():
            fields = {c: f.removeprefix(prefix) for c, f in resource.provenance.items()}
            resource = mark_unresolved(resource, fields, found.unresolved)
            at = f"{found.file}:{found.line}" if found.line else f"{found.file}:{address}"
            located = dataclasses.replace(resource, provenance=dict.fromkeys(resource.provenance, at))
            if "state" in {f.name for f in dataclasses.fields(resource)}:
                state = Unknown("a .tf declares no state (READY, RUNNABLE...); export the resource with gcloud")
                located = dataclasses.replace(located, state=state)
            inventory.of(kind)[key] = located


def _finish(service: Service, found: TfInstance) -> Service:
    """The mapped service with Unknowns, file:line provenance, its address as name when the name is unresolved."""
    address = found.instance.address
    fields = _fields(service, address, found.instance.type)
    service = mark_unresolved(service, fields, found.unresolved)
    service = _placeholder_connector(service, found.unresolved)
    at = str(found.line) if found.line else address
    provenance = {canonical: _located(found, at, tf_path) for canonical, tf_path in fields.items()}
    name = address if "name" in found.unresolved else service.name
    ignored = tuple(glob for tf_path in found.ignore_changes for glob in _ignored_globs(fields, tf_path))
    metadata = dataclasses.replace(service.metadata, ignore_changes=ignored)
    return dataclasses.replace(service, name=name, origin=str(found.file), provenance=provenance, metadata=metadata)


def _ignored_globs(fields: dict[str, str], tf_path: str) -> list[str]:
    """The canonical fields an ignore_changes entry covers, each with everything under it."""
    if tf_path == "all":
        return ["*"]
    under = [c for c, f in fields.items() if within(f, tf_path)] or covered(fields, tf_path)
    return [glob for canonical in under for glob in (canonical, f"{canonical}.*")]


def _placeholder_connector(service: Service, unresolved: dict[str, str]) -> Service:
    """A short connector name is expanded with the service's project and region: unknown when either one is."""
    connector = service.vpc.connector
    if not isinstance(connector, str) or f"/{PLACEHOLDER}-" not in connector:
        return service
    expression = unresolved.get("project") or unresolved.get("location") or PLACEHOLDER
    unknown = Unknown(f"unresolved: {expression} (the connector's project or region)")
    return dataclasses.replace(service, vpc=dataclasses.replace(service.vpc, connector=unknown))


def _fields(service: Service, address: str, kind: str) -> dict[str, str]:
    """Canonical path -> Terraform attribute path: the parsers' provenance, plus the fields they leave unrecorded."""
    fields = {c: f.removeprefix(f"{address}.") for c, f in service.provenance.items()}
    fields.update({"name": "name", "project": "project", "region": "location"})
    fields["vpc.connector"] = fields.get("vpc", "")
    throttling = "template[0].metadata[0].annotations[run.googleapis.com/cpu-throttling]"
    boost = "template[0].metadata[0].annotations[run.googleapis.com/startup-cpu-boost]"
    v2 = kind == "google_cloud_run_v2_service"
    ref = "value_source[0].secret_key_ref[0]" if v2 else "value_from[0].secret_key_ref[0]"
    for canonical, base in list(fields.items()):
        parts = canonical.split(".")
        if len(parts) == 4 and parts[0] == "containers" and parts[2] == "env":
            fields[f"{canonical}.value"] = f"{base}.value"
            fields[f"{canonical}.secret.secret"] = f"{base}.{ref}.{'secret' if v2 else 'name'}"
            fields[f"{canonical}.secret.version"] = f"{base}.{ref}.{'version' if v2 else 'key'}"
        if len(parts) != 2 or parts[0] != "containers":
            continue
        fields.update({f"{canonical}.{name}": f"{base}.{name}" for name in ("command", "args", "env", "image")})
        fields[f"{canonical}.cpu_always_allocated"] = f"{base}.resources[0].cpu_idle" if v2 else throttling
        fields[f"{canonical}.startup_cpu_boost"] = f"{base}.resources[0].startup_cpu_boost" if v2 else boost
    return fields


def _located(found: TfInstance, at: str, tf_path: str) -> str:
    """The line of the attribute (else of its block, else of the resource), so a report says `main.tf:12`; then the
    variables that fed the field."""
    holders = [path for path in found.lines if tf_path and within(tf_path, path)]
    if holders:
        at = str(found.lines[max(holders, key=len)])
    used = sorted({note for path, note in found.notes if tf_path and within(path, tf_path)})
    return f"{at} ({'; '.join(used)})" if used else at
