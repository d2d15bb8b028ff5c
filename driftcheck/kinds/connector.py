"""Serverless VPC Access connectors: `gcloud compute networks vpc-access connectors describe --format=json`.

A connector is created either on a network and a /28 range (`--network NET --range CIDR`: the API's `network` and
`ipCidrRange`) or on a subnet of its own (`--subnet SUBNET [--subnet-project P]`: `subnet {name, projectId}`, and
often no `network`). The subnet's name is not its network's: such a connector's network is unknown until the subnet's
export says it (kinds/network/path.py), never the subnet's name.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
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
    network, subnet = data.get("network"), subnet_path(data.get("subnet"), match["project"], match["region"])
    if network:
        said: str | Unknown = str(network).rsplit("/", 1)[-1]
    elif isinstance(subnet, str):
        said = Unknown(f"it names subnet {compute.name_of(subnet)}, not a network: the subnet's export says which")
    else:
        said = Unknown("no network field")
    return Connector(
        name=str(data["name"]),
        region=match["region"],
        network=said,
        state=data.get("state") or Unknown("no state field"),
        origin=origin,
        provenance={
            "state": f"{origin}:state",
            "network": f"{origin}:network",
            "region": f"{origin}:name",
            "ip_cidr_range": f"{origin}:ipCidrRange",
            "subnet": f"{origin}:subnet",
        },
        ip_cidr_range=str(data["ipCidrRange"]) if data.get("ipCidrRange") else Unknown("no ipCidrRange field"),
        subnet=subnet,
    )


def subnet_path(raw: Any, project: str, region: str) -> str | None:
    """`projects/P/regions/R/subnetworks/NAME` from the API's `subnet {name, projectId}`: the subnet is in the
    connector's region, and in its project unless `projectId` says another; None when it names no subnet. A name or
    project Terraform knows only after apply carries its mark (resolved to Unknown with the rest)."""
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    name = str(raw["name"])
    owner = raw.get("projectId") or compute.project_of(name) or project
    return f"projects/{owner}/regions/{region}/subnetworks/{compute.name_of(name)}"


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
