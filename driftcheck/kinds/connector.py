"""Serverless VPC Access connectors: `gcloud compute networks vpc-access connectors describe --format=json`."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.model import Connector, Inventory, Unknown

KIND = "Serverless VPC Access connector (gcloud compute networks vpc-access connectors describe)"
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<connector>[^/]+)$")


def matches(data: Any) -> bool:
    return isinstance(data, dict) and bool(_NAME.match(str(data.get("name", ""))))


def load(doc: Document, inventory: Inventory) -> None:
    connector = parse_connector(doc.data, doc.label)
    inventory.connectors[connector.name] = connector


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
        provenance={"state": f"{origin}:state", "network": f"{origin}:network", "region": f"{origin}:name"},
    )
