"""Serverless VPC Access connectors: `gcloud compute networks vpc-access connectors describe --format=json`."""

from __future__ import annotations

import re
import sys
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Connector, Inventory, Service, Unknown

KIND = "Serverless VPC Access connector (gcloud compute networks vpc-access connectors describe)"
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<connector>[^/]+)$")


def matches(data: Any) -> bool:
    return isinstance(data, dict) and bool(_NAME.match(str(data.get("name", ""))))


def load(doc: Document, inventory: Inventory) -> None:
    connector = parse_connector(doc.data, doc.label)
    inventory.of(CONNECTOR.name)[connector.name] = connector


def parse_connector(data: dict[str, Any], origin: str) -> Connector:
    match = _NAME.match(str(data["name"]))
    assert match
    network = data.get("network") or (data.get("subnet") or {}).get("name")
    return Connector(
        name=str(data["name"]),
        region=match["region"],
        network=str(network).rsplit("/", 1)[-1] if network else Unknown("no network field"),
        state=data.get("state") or Unknown("no state field"),
        origin=origin,
        provenance={
            "state": f"{origin}:state",
            "network": f"{origin}:network",
            "region": f"{origin}:name",
            "ip_cidr_range": f"{origin}:ipCidrRange",
        },
        ip_cidr_range=str(data["ipCidrRange"]) if data.get("ipCidrRange") else Unknown("no ipCidrRange field"),
    )


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> Connector | None:
    return None if "error" in stored else parse_connector(stored, f"{origin}#connector:{key}")


def _used_by(service: Service) -> tuple[str, ...]:
    connector = service.vpc.connector
    return (connector,) if isinstance(connector, str) and connector else ()


CONNECTOR = register(
    Kind(
        name="connector",
        title="Serverless VPC Access connector",
        model=Connector,
        readers=(sys.modules[__name__],),
        snapshot_key="connectors",
        from_snapshot=_from_snapshot,
        references=_used_by,
        live_reads=(LiveRead("get", "vpcaccess.connectors.get", "roles/vpcaccess.viewer"),),
        terraform_types=("google_vpc_access_connector",),
    )
)
