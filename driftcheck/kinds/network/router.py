"""A Cloud Router and its Cloud NAT gateways: `gcloud compute routers describe ROUTER --region R --format=json`.

A service whose egress goes all through the VPC (`ALL_TRAFFIC`) reaches the internet only through Cloud NAT on a
router of that network, in its region, covering its subnet. Keyed by `REGION/NAME` (a router's name is unique
only within its region).

Terraform declares the router (`google_compute_router`) and each NAT (`google_compute_router_nat`) apart: a router
read from Terraform knows only the NATs the same state declares (`nats_complete` is false).

A service names no router: the routers that serve it are those on a network of its path in its region, which only
other resources say (kinds/network/path.py). So they are `references_in` (rules see them under
`refs.resources.router`), and the live read lists the routers of the region (one paged call per project and region),
keeping those on the paths' networks.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.path import networks_on_path
from driftcheck.kinds.registry import LIST, Kind, LiveRead, register
from driftcheck.kinds.shape import compile_shape
from driftcheck.model import Inventory, Service, Unknown

KIND = "Cloud Router (gcloud compute routers describe ROUTER --region R --format=json)"
WHAT = "Cloud Router"
ALL_RANGES = ("ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES")
LISTED = "LIST_OF_SUBNETWORKS"
_SHAPE = compile_shape(
    {
        "name": str,
        "selfLink": str,
        "network": str,
        "region": str,
        "nats": list,
        "nats[]": dict,
        "nats[].name": str,
        "nats[].sourceSubnetworkIpRangesToNat": str,
        "nats[].natIpAllocateOption": str,
        "nats[].natIps": list,
        "nats[].natIps[]": str,
        "nats[].subnetworks": list,
        "nats[].subnetworks[]": dict,
        "nats[].subnetworks[].name": str,
        "nats[].subnetworks[].sourceIpRangesToNat": list,
    }
)


@dataclass(frozen=True, slots=True)
class Nat:
    """One Cloud NAT gateway of a Cloud Router."""

    name: str
    # ALL_SUBNETWORKS_ALL_IP_RANGES | ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES | LIST_OF_SUBNETWORKS
    source_subnetwork_ip_ranges_to_nat: str | Unknown
    all_subnetworks: bool | Unknown  # it translates every subnet of the network in the router's region
    subnetworks: tuple[str, ...]  # with LIST_OF_SUBNETWORKS, the subnets it translates, as REGION/NAME
    nat_ip_allocate_option: str | Unknown  # AUTO_ONLY | MANUAL_ONLY (then nat_ips are its addresses)
    nat_ips: tuple[str, ...] = ()  # the reserved addresses of a MANUAL_ONLY NAT, by name


@dataclass(frozen=True, slots=True)
class Router:
    """A Cloud Router (gcloud compute routers describe), with its NATs."""

    name: str
    region: str | Unknown
    project: str | Unknown
    network: str | Unknown  # the network's name
    origin: str
    nats: dict[str, Nat]  # by NAT name
    nats_complete: bool = True  # False: only the NATs Terraform declares are known; absence proves none
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return compute.regional_key(self.region, self.name)


def matches(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "compute#router"


def load(doc: Document, inventory: Inventory) -> None:
    router = parse_router(doc.data, doc.label)
    inventory.of(ROUTER.name)[router.key] = router


def parse_router(data: Any, origin: str) -> Router:
    """The Compute API's JSON (and gcloud's); Terraform's attributes are rewritten to it first."""
    data = compute.checked(data, _SHAPE, WHAT, origin)
    name = compute.required(data, "name", WHAT, origin)
    region, network = data.get("region"), data.get("network")
    nats = [parse_nat(raw, region, origin, f"nats[{index}]") for index, raw in enumerate(data.get("nats") or ())]
    return Router(
        name=name,
        region=compute.region_of(region) if region else Unknown("no region field"),
        project=compute.project_of(str(data.get("selfLink") or network or "")) or Unknown("no selfLink field"),
        network=compute.name_of(network) if network else Unknown("no network field"),
        origin=origin,
        nats={nat.name: nat for nat in nats},  # the API omits an empty list: no field, no NAT
        provenance={"network": f"{origin}:network", "region": f"{origin}:region", "nats": f"{origin}:nats"},
    )


def parse_nat(raw: dict[str, Any], region: Any, origin: str, at: str) -> Nat:
    name = compute.required(raw, "name", "NAT", origin, at)
    which = raw.get("sourceSubnetworkIpRangesToNat")
    known = (*ALL_RANGES, LISTED)
    if which is not None and which not in known:
        raise InputError(
            f"{which!r:.40} is not one of: {', '.join(known)}", file=origin, where=f"{at}.sourceSubnetworkIpRangesToNat"
        )
    subnets = raw.get("subnetworks") or ()
    where = compute.region_of(str(region)) if region else Unknown("no region field")
    return Nat(
        name=name,
        source_subnetwork_ip_ranges_to_nat=str(which) if which else Unknown("no sourceSubnetworkIpRangesToNat field"),
        all_subnetworks=which in ALL_RANGES if which else Unknown("no sourceSubnetworkIpRangesToNat field"),
        subnetworks=tuple(
            sorted(
                compute.regional_key(
                    where, compute.name_of(compute.required(s, "name", "NAT subnet", origin, f"{at}.subnetworks[{i}]"))
                )
                for i, s in enumerate(subnets)
            )
        ),
        nat_ip_allocate_option=compute.text(raw, "natIpAllocateOption"),
        nat_ips=tuple(sorted(compute.name_of(ip) for ip in raw.get("natIps") or ())),
    )


def with_nat(inventory: Inventory, key: str, nat: Nat, origin: str, at: str) -> None:
    """Add a NAT Terraform declares apart from its router."""
    routers = inventory.of(ROUTER.name)
    region, _, name = key.partition("/")
    existing = routers.get(key) or terraform_router(name, region, Unknown("no google_compute_router in state"), origin)
    routers[key] = dataclasses.replace(
        existing, nats={**existing.nats, nat.name: nat}, provenance={**existing.provenance, "nats": at}
    )


def terraform_router(name: str, region: str, network: str | Unknown, origin: str) -> Router:
    return Router(
        name=name,
        region=region,
        project=Unknown("not in Terraform state"),
        network=network,
        origin=origin,
        nats={},
        nats_complete=False,
    )


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> Router | None:
    return None if "error" in stored else parse_router(stored, f"{origin}#router:{key}")


def _on_path(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The routers of the networks on its path (kinds/network/path.py), in its region: those that may NAT it."""
    names = {name for _, name in networks_on_path(service, inventory)}
    routers: dict[str, Router] = inventory.of(ROUTER.name)
    return tuple(
        sorted(key for key, r in routers.items() if r.network in names and r.region == service.region)
    )


def _listed_in(service: Service, inventory: Inventory) -> tuple[str, ...]:
    """The routers of its region in each project of a network on its path: `projects/P/regions/R`."""
    if not isinstance(service.region, str):
        return ()
    projects = {project for project, _ in networks_on_path(service, inventory) if project}
    return tuple(sorted(f"projects/{project}/regions/{service.region}" for project in projects))


def _on_paths(services: Sequence[Service], inventory: Inventory) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed router (the API's JSON) is on a network of a service's path, in that service's region."""
    wanted = {
        (project, name, service.region)
        for service in services
        for project, name in networks_on_path(service, inventory)
    }

    def kept(raw: dict[str, Any]) -> bool:
        network = str(raw.get("network") or "")
        region = compute.region_of(str(raw.get("region") or ""))
        return (compute.project_of(network) or "", compute.name_of(network), region) in wanted

    return kept


ROUTER = register(
    Kind(
        name="router",
        title="Cloud Router",
        model=Router,
        readers=(sys.modules[__name__],),
        key=lambda router: str(router.key),
        snapshot_key="routers",
        from_snapshot=_from_snapshot,
        # no references: see the module's docstring
        references_in=_on_path,
        live_reads=(LiveRead(LIST, "compute.routers.list", "roles/compute.networkViewer"),),
        listed_in=_listed_in,
        listed_for=_on_paths,
        terraform_types=("google_compute_router", "google_compute_router_nat"),
    )
)
