"""Serverless VPC Access connectors in Terraform (`google_vpc_access_connector`) into the canonical model."""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.kinds import connector as connector_kind
from driftcheck.model import Connector, Inventory
from driftcheck.sources.terraform_resources.instance import Instance, first
from driftcheck.sources.terraform_resources.marks import resolve_marks


def load_connector(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    full = str(attrs.get("id") or "")
    if not connector_kind.matches({"name": full}):
        full = f"projects/{attrs.get('project')}/locations/{attrs.get('region')}/connectors/{attrs.get('name')}"
    subnet = first(attrs.get("subnet"))  # a subnet { name, project_id } block: the API's subnet {name, projectId}
    data: dict[str, Any] = {"name": full, "network": attrs.get("network") or None, "state": attrs.get("state") or None}
    data["subnet"] = {"name": subnet.get("name"), "projectId": subnet.get("project_id")} if subnet else None
    parsed: Connector = resolve_marks(connector_kind.parse_connector(data, label))
    at = f"{label}:{instance.address}"
    provenance = {"state": f"{at}.state", "network": f"{at}.network", "region": f"{at}.region"}
    provenance["subnet"] = f"{at}.subnet"
    inventory.connectors[parsed.name] = dataclasses.replace(parsed, provenance=provenance)
