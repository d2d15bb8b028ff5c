"""A VPC network and its peerings: `gcloud compute networks describe NET --format=json > NET.json`.

Private services access (how Cloud SQL and Memorystore get private IPs in the network) shows as a peering named
`servicenetworking-googleapis-com` to a network called `servicenetworking` in a Google tenant project: an INACTIVE
one, or none, and the private IPs behind it are unreachable. Keyed by the network's name, as references name it
(`staging-vpc`, `projects/P/global/networks/staging-vpc` and its selfLink all name the same network).

Terraform declares the network (`google_compute_network`) and its private services access apart
(`google_service_networking_connection`): a network read from Terraform knows only the peerings the same state
declares (`peerings_complete` is false), so a missing one there proves nothing.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.path import networks_on_path
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.kinds.shape import compile_shape
from driftcheck.model import Inventory, Service, Unknown

KIND = "VPC network (gcloud compute networks describe NET --format=json)"
WHAT = "VPC network"
SERVICE_NETWORKING = "servicenetworking"  # the producer network at the other end of private services access
PSA_PEERING = "servicenetworking-googleapis-com"
_SHAPE = compile_shape(
    {
        "name": str,
        "selfLink": str,
        "autoCreateSubnetworks": bool,
        "routingConfig": dict,
        "routingConfig.routingMode": str,
        "subnetworks": list,
        "subnetworks[]": str,
        "peerings": list,
        "peerings[]": dict,
        "peerings[].name": str,
        "peerings[].network": str,
        "peerings[].state": str,
        "peerings[].importCustomRoutes": bool,
        "peerings[].exportCustomRoutes": bool,
    }
)


@dataclass(frozen=True, slots=True)
class Peering:
    """One VPC Network Peering of a network."""

    name: str
    peer_network: str  # the network at the other end, projects/P/global/networks/N
    state: str | Unknown  # ACTIVE | INACTIVE (the other side is missing or was deleted)
    private_services_access: bool  # a peering to servicenetworking: private IPs of Cloud SQL, Memorystore...
    import_custom_routes: bool | Unknown
    export_custom_routes: bool | Unknown


@dataclass(frozen=True, slots=True)
class Network:
    """A VPC network (gcloud compute networks describe)."""

    name: str
    project: str | Unknown
    origin: str
    auto_create_subnetworks: bool | Unknown  # auto mode: one subnet in every region
    routing_mode: str | Unknown  # REGIONAL | GLOBAL: where its Cloud Routers' learned routes apply
    mtu: int | Unknown
    subnetworks: tuple[str, ...] | Unknown  # its subnets, as REGION/NAME (the subnet kind's keys)
    peerings: dict[str, Peering] | Unknown  # by peering name
    private_services_access: bool | Unknown  # an ACTIVE peering to servicenetworking
    peerings_complete: bool = True  # False: only the peerings Terraform declares are known; absence proves none
    provenance: dict[str, str] = field(default_factory=dict)


def matches(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "compute#network"


def load(doc: Document, inventory: Inventory) -> None:
    network = parse_network(doc.data, doc.label)
    inventory.of(NETWORK.name)[network.name] = network


def parse_network(data: Any, origin: str) -> Network:
    """The Compute API's JSON (and gcloud's); Terraform's attributes are rewritten to it first."""
    data = compute.checked(data, _SHAPE, WHAT, origin)
    name = compute.required(data, "name", WHAT, origin)
    raw_peerings = data.get("peerings")
    peerings = {p.name: p for p in (_peering(raw, origin, index) for index, raw in enumerate(raw_peerings or ()))}
    subnets = data.get("subnetworks")
    routing = (data.get("routingConfig") or {}).get("routingMode")
    mtu = data.get("mtu")
    return Network(
        name=name,
        project=compute.project_of(str(data.get("selfLink") or "")) or Unknown("no selfLink field"),
        origin=origin,
        auto_create_subnetworks=bool(data["autoCreateSubnetworks"])
        if data.get("autoCreateSubnetworks") is not None
        else Unknown("no autoCreateSubnetworks field"),
        routing_mode=str(routing) if routing else Unknown("no routingConfig.routingMode field"),
        mtu=compute.whole_number(mtu, 576, 8896, origin, "mtu") if mtu is not None else Unknown("no mtu field"),
        # the API omits an empty list: a network without subnets or peerings has no such field
        subnetworks=tuple(sorted(_subnet_key(link) for link in subnets or ())),
        peerings=peerings,
        private_services_access=psa_of(peerings, complete=True),
        provenance={
            "auto_create_subnetworks": f"{origin}:autoCreateSubnetworks",
            "routing_mode": f"{origin}:routingConfig.routingMode",
            "mtu": f"{origin}:mtu",
            "subnetworks": f"{origin}:subnetworks",
            "peerings": f"{origin}:peerings",
            "private_services_access": f"{origin}:peerings",
        },
    )


def _peering(raw: dict[str, Any], origin: str, index: int) -> Peering:
    at = f"peerings[{index}]"
    name = compute.required(raw, "name", "peering", origin, at)
    peer = compute.required(raw, "network", "peering", origin, at)
    path = f"projects/{compute.project_of(peer) or '-'}/global/networks/{compute.name_of(peer)}"
    return Peering(
        name=name,
        peer_network=path,
        state=compute.text(raw, "state"),
        private_services_access=name == PSA_PEERING or compute.name_of(peer) == SERVICE_NETWORKING,
        import_custom_routes=_flag(raw, "importCustomRoutes"),
        export_custom_routes=_flag(raw, "exportCustomRoutes"),
    )


def _flag(raw: dict[str, Any], key: str) -> bool | Unknown:
    value = raw.get(key)
    return bool(value) if value is not None else Unknown(f"no {key} field")


def _subnet_key(link: str) -> str:
    region = compute.region_of(link.rsplit("/subnetworks/", 1)[0]) if "/regions/" in link else Unknown("no region")
    return compute.regional_key(region, compute.name_of(link))


def psa_of(peerings: dict[str, Peering] | Unknown, *, complete: bool) -> bool | Unknown:
    """Whether private services access is up: an ACTIVE peering to servicenetworking. Unknown when a peering's
    state is not known, or when no such peering is known among peerings that are not all known."""
    if isinstance(peerings, Unknown):
        return peerings
    psa = [p for p in peerings.values() if p.private_services_access]
    if any(p.state == "ACTIVE" for p in psa):
        return True
    if any(isinstance(p.state, Unknown) for p in psa):
        return Unknown("the state of the servicenetworking peering is not known")
    if not psa and not complete:
        return Unknown("Terraform declares no google_service_networking_connection for this network here")
    return False


def with_peering(inventory: Inventory, network: str, peering: Peering, origin: str, at: str) -> None:
    """Add a peering Terraform declares apart from its network (a service networking connection)."""
    networks = inventory.of(NETWORK.name)
    existing = networks.get(network) or terraform_network(
        network, Unknown("no google_compute_network in state"), origin
    )
    peerings = {**(existing.peerings if isinstance(existing.peerings, dict) else {}), peering.name: peering}
    networks[network] = dataclasses.replace(
        existing,
        peerings=peerings,
        private_services_access=psa_of(peerings, complete=existing.peerings_complete),
        provenance={**existing.provenance, "peerings": at, "private_services_access": at},
    )


def terraform_network(name: str, project: str | Unknown, origin: str) -> Network:
    """A network as Terraform knows it before any attribute: its peerings are only those declared apart."""
    reason = "not in Terraform state"
    return Network(
        name=name,
        project=project,
        origin=origin,
        auto_create_subnetworks=Unknown(reason),
        routing_mode=Unknown(reason),
        mtu=Unknown(reason),
        subnetworks=Unknown("Terraform declares subnets apart (google_compute_subnetwork)"),
        peerings={},
        private_services_access=psa_of({}, complete=False),
        peerings_complete=False,
    )


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> Network | None:
    return None if "error" in stored else parse_network(stored, f"{origin}#network:{key}")


def _reached_by(service: Service) -> tuple[str, ...]:
    """The networks of its Direct VPC interfaces. A connector's network, and the network of an interface that names
    only its subnet, are in those resources, not in the service: `_on_path` finds them in the inventory."""
    interfaces = service.vpc.network_interfaces
    return tuple(compute.name_of(i.network) for i in interfaces.values() if i.network)


def _on_path(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """Every network on its path (kinds/network/path.py): its connector's, its Cloud SQL and Memorystore ones'."""
    return tuple(sorted({name for _, name in networks_on_path(service, inventory)}))


NETWORK = register(
    Kind(
        name="network",
        title="VPC network",
        model=Network,
        readers=(sys.modules[__name__],),
        key=lambda network: str(network.name),
        snapshot_key="networks",
        from_snapshot=_from_snapshot,
        references=_reached_by,
        references_in=_on_path,
        # read in the project of the fetch (a Shared VPC host project's network is not read from there)
        live_reads=(LiveRead("get", "compute.networks.get", "roles/compute.networkViewer"),),
        absent_on=("NOT_FOUND",),  # the network a connector names was deleted: absent, not unknown
        terraform_types=("google_compute_network", "google_service_networking_connection"),
    )
)
