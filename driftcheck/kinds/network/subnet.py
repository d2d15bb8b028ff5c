"""A subnet: `gcloud compute networks subnets describe SUBNET --region R --format=json > SUBNET.json`.

A Direct VPC service takes its IPs from one; without Private Google Access its instances reach Google APIs only
through Cloud NAT (or not at all). Keyed by `REGION/NAME`: a subnet's name is unique only within its region (an
auto-mode network has a `default` subnet in every region).

A connector created on a subnet of its own (`--subnet`) names that subnet, not its network: the subnet is on the
service's path once the connector is read (`references_in`), and its network is the connector's (kinds/network/path.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.path import connector_of, connector_subnet_key, same_project
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.kinds.shape import compile_shape
from driftcheck.model import Inventory, Service, Unknown

KIND = "subnet (gcloud compute networks subnets describe SUBNET --region R --format=json)"
WHAT = "subnet"
_SHAPE = compile_shape(
    {
        "name": str,
        "selfLink": str,
        "network": str,
        "region": str,
        "ipCidrRange": str,
        "privateIpGoogleAccess": bool,
        "purpose": str,
        "secondaryIpRanges": list,
        "secondaryIpRanges[]": dict,
        "secondaryIpRanges[].rangeName": str,
        "secondaryIpRanges[].ipCidrRange": str,
    }
)


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet of a VPC network (gcloud compute networks subnets describe)."""

    name: str
    region: str | Unknown
    project: str | Unknown
    network: str | Unknown  # the network's name
    origin: str
    ip_cidr_range: str | Unknown  # its primary range, 10.10.0.0/24
    secondary_ranges: dict[str, str]  # range name -> CIDR
    private_google_access: bool | Unknown  # Private Google Access: Google APIs reachable without an external IP
    purpose: str | Unknown  # PRIVATE for ordinary subnets; REGIONAL_MANAGED_PROXY, PRIVATE_SERVICE_CONNECT...
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return compute.regional_key(self.region, self.name)


def matches(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "compute#subnetwork"


def load(doc: Document, inventory: Inventory) -> None:
    subnet = parse_subnet(doc.data, doc.label)
    inventory.of(SUBNET.name)[subnet.key] = subnet


def parse_subnet(data: Any, origin: str) -> Subnet:
    """The Compute API's JSON (and gcloud's); Terraform's attributes are rewritten to it first."""
    data = compute.checked(data, _SHAPE, WHAT, origin)
    name = compute.required(data, "name", WHAT, origin)
    region, network, cidr = data.get("region"), data.get("network"), data.get("ipCidrRange")
    access = data.get("privateIpGoogleAccess")
    secondary = {
        compute.required(raw, "rangeName", "secondary range", origin, f"secondaryIpRanges[{index}]"): compute.ip_range(
            raw.get("ipCidrRange"), origin, f"secondaryIpRanges[{index}].ipCidrRange"
        )
        for index, raw in enumerate(data.get("secondaryIpRanges") or ())
    }
    link = str(data.get("selfLink") or network or "")
    return Subnet(
        name=name,
        region=compute.region_of(region) if region else Unknown("no region field"),
        project=compute.project_of(link) or Unknown("no selfLink field"),
        network=compute.name_of(network) if network else Unknown("no network field"),
        origin=origin,
        ip_cidr_range=compute.ip_range(cidr, origin, "ipCidrRange") if cidr else Unknown("no ipCidrRange field"),
        secondary_ranges=secondary,  # the API omits an empty list
        private_google_access=bool(access) if access is not None else Unknown("no privateIpGoogleAccess field"),
        purpose=compute.text(data, "purpose"),
        provenance={
            "network": f"{origin}:network",
            "region": f"{origin}:region",
            "ip_cidr_range": f"{origin}:ipCidrRange",
            "secondary_ranges": f"{origin}:secondaryIpRanges",
            "private_google_access": f"{origin}:privateIpGoogleAccess",
            "purpose": f"{origin}:purpose",
        },
    )


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> Subnet | None:
    return None if "error" in stored else parse_subnet(stored, f"{origin}#subnet:{key}")


def _used_by(service: Service) -> tuple[str, ...]:
    """The subnets of its Direct VPC interfaces, in its own region (Cloud Run allows no other). An interface that
    names only a network uses the subnet of the same name (the Cloud Run API's NetworkInterface.subnetwork)."""
    interfaces = service.vpc.network_interfaces.values()
    named = (i.subnetwork or i.network for i in interfaces)
    return tuple(compute.regional_key(service.region, compute.name_of(n)) for n in named if n)


def _of_connector(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The subnet its connector names (`--subnet`), once the inventory holds the connector: read from the service's
    project (as a Direct VPC subnet is), so not when the connector names another project's (a Shared VPC host's)."""
    connector = connector_of(service, inventory)
    key = connector_subnet_key(connector) if connector is not None else None
    if connector is None or key is None:
        return ()
    return (key,) if same_project(compute.project_of(str(connector.subnet)), service.project, inventory) else ()


SUBNET = register(
    Kind(
        name="subnet",
        title="subnet",
        model=Subnet,
        readers=(sys.modules[__name__],),
        key=lambda subnet: str(subnet.key),
        snapshot_key="subnets",
        from_snapshot=_from_snapshot,
        references=_used_by,
        references_in=_of_connector,
        live_reads=(LiveRead("get", "compute.subnetworks.get", "roles/compute.networkViewer"),),
        absent_on=("NOT_FOUND",),
        terraform_types=("google_compute_subnetwork",),
    )
)
