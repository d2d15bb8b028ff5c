"""driftcheck's own snapshot files (`driftcheck snapshot -o FILE`), and the same shape a live run fetches into.

One format for both, so a live compare and a compare `--from` the snapshot of the same moment read the same
thing. A resource that could not be read is stored as {"error": "CODE: message"} and loads as unknown.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import cloudsql
from driftcheck.kinds import connector as connector_kind
from driftcheck.kinds.document import Document
from driftcheck.kinds.service import cloudrun_v2, common
from driftcheck.kinds.units import last_segment
from driftcheck.model import Inventory, Secret, SecretVersion, Unknown

KIND = "driftcheck snapshot (driftcheck snapshot -o FILE)"
MARKER = "driftcheck_snapshot"
FORMAT_VERSION = 1


_REGION = re.compile(r"/locations/([^/]+)/")

def matches(data: Any) -> bool:
    return isinstance(data, dict) and MARKER in data


def load(doc: Document, inventory: Inventory) -> None:
    version = doc.data.get(MARKER)
    if version != FORMAT_VERSION:
        raise InputError(
            f"snapshot format {version!r} is not supported (this driftcheck reads {FORMAT_VERSION})",
            file=doc.label,
            where=MARKER,
        )
    load_snapshot(doc.data, inventory, doc.label)


def load_snapshot(data: dict[str, Any], inventory: Inventory, origin: str) -> None:
    for index, raw in enumerate(data.get("services") or ()):
        if not cloudrun_v2.matches(raw):
            raise InputError("not a Cloud Run v2 Service", file=origin, where=f"services[{index}]")
        common.add_service(inventory, cloudrun_v2.parse_service(raw, f"{origin}#{raw['name']}"))
    load_references(data, inventory, origin)


def load_by_region(data: dict[str, Any], origin: str) -> dict[str, Inventory]:
    """One inventory per region, as a service name is unique only within a region (`api` in us-central1 and in
    europe-west1 are two services): every region of the snapshot's scope, even one without a service, and any
    region a service is named in."""
    raw_services = data.get("services") or ()
    named = {m.group(1) for raw in raw_services if (m := _REGION.search(str(raw.get("name"))))}
    scoped = [str(r) for r in (data.get("scope") or {}).get("regions") or ()]
    inventories = {}
    for region in [*scoped, *sorted(named - set(scoped))]:
        inventory = Inventory()
        here = [raw for raw in raw_services if f"/locations/{region}/" in str(raw.get("name"))]
        load_snapshot({**data, "services": here}, inventory, origin)
        inventories[region] = inventory
    return inventories


def fetch_errors(data: dict[str, Any]) -> dict[str, str]:
    """Every resource the snapshot could not read, as "kind:name" -> "CODE: message"."""
    errors = {
        f"{kind}:{name}": raw["error"]
        for kind in ("sql_instances", "connectors")
        for name, raw in (data.get(kind) or {}).items()
        if "error" in raw
    }
    for secret_id, parts in (data.get("secrets") or {}).items():
        errors.update(
            {
                f"secret {part}:{secret_id}": value["error"]
                for part, value in parts.items()
                if isinstance(value, dict) and "error" in value
            }
        )
    return dict(sorted(errors.items()))


def load_references(data: dict[str, Any], inventory: Inventory, origin: str) -> None:
    inventory.errors.update(fetch_errors(data))
    for name, raw in (data.get("sql_instances") or {}).items():
        if "error" not in raw:
            instance = cloudsql.parse_instance(raw, f"{origin}#sql:{name}")
            inventory.sql_instances[instance.connection_name] = instance
    for name, raw in (data.get("connectors") or {}).items():
        if "error" not in raw:
            connector = connector_kind.parse_connector(raw, f"{origin}#connector:{name}")
            inventory.connectors[connector.name] = connector
    for secret_id, parts in (data.get("secrets") or {}).items():
        inventory.secrets[secret_id] = _secret(secret_id, parts, data, f"{origin}#secret:{secret_id}")
    inventory.project_aliases.update(data.get("project_aliases") or {})


def _secret(secret_id: str, parts: dict[str, Any], data: dict[str, Any], origin: str) -> Secret:
    project = (data.get("scope") or {}).get("project") or Unknown("no project in the snapshot scope")
    secret = Secret(
        secret_id, project, origin, provenance={"bindings": f"{origin}:iam", "versions": f"{origin}:versions"}
    )
    versions, iam = parts.get("versions"), parts.get("iam")
    if isinstance(versions, dict) and "error" in versions:
        secret = dataclasses.replace(secret, versions=Unknown(versions["error"]))
    elif isinstance(versions, list):
        secret = dataclasses.replace(
            secret,
            versions={
                last_segment(v["name"]): SecretVersion(last_segment(v["name"]), v.get("state", ""), v.get("createTime"))
                for v in versions
            },
        )
    if isinstance(iam, dict) and "error" in iam:
        secret = dataclasses.replace(secret, bindings=Unknown(iam["error"]))
    elif isinstance(iam, dict):
        secret = dataclasses.replace(
            secret, bindings={b["role"]: tuple(sorted(b.get("members", ()))) for b in iam.get("bindings", ())}
        )
    return secret
