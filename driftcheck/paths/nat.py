"""Hops out with all-traffic egress: Cloud NAT to public hosts, Private Google Access (or that NAT) to Google APIs."""

from __future__ import annotations

from collections.abc import Iterable

from driftcheck.kinds.network.router import ROUTER, Router
from driftcheck.kinds.network.subnet import SUBNET, Subnet
from driftcheck.model import Inventory, Unknown
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop
from driftcheck.paths.landing import Landing


def nat_hop(inventory: Inventory, landing: Landing) -> Hop:
    network, region = str(landing.network), landing.region
    routers = _routers(inventory, network, region)
    what = f"subnet {landing.subnet.split('/', 1)[1]}" if landing.subnet else "the connector's range"
    if not routers:
        return Hop(
            "nat",
            "Cloud NAT",
            UNKNOWN,
            f"no Cloud Router of {network} in {region} is in the evidence: whether a NAT serves it is not known",
            (),
            f"gcloud compute routers list --regions {region} --format=json",
        )
    nat, partial = _nat_covers(routers, landing.subnet)
    fields = tuple(r.provenance.get("nats", r.origin) for r in routers)
    if nat:
        return Hop("nat", f"Cloud NAT {nat}", VERIFIED, f"NAT {nat} translates {what}", fields)
    if partial:
        return Hop(
            "nat",
            "Cloud NAT",
            UNKNOWN,
            f"no NAT in the evidence is known to translate {what}",
            fields,
            f"gcloud compute routers list --regions {region} --format=json",
        )
    names = ", ".join(r.name for r in routers)
    return Hop(
        "nat",
        "no Cloud NAT",
        BROKEN,
        f"no NAT on router {names} ({network}, {region}) translates {what}: public endpoints are unreachable",
        fields,
    )


def google_access_hop(inventory: Inventory, landing: Landing) -> Hop:
    subnets: dict[str, Subnet] = inventory.of(SUBNET.name)
    subnet = subnets.get(landing.subnet or "")
    if subnet is None:
        return Hop("google-access", "Private Google Access", UNKNOWN, "its subnet is not in the evidence")
    field = subnet.provenance.get("private_google_access", subnet.origin)
    access = subnet.private_google_access
    if access is True:
        return Hop("google-access", "Private Google Access", VERIFIED, f"on for subnet {subnet.name}", (field,))
    nat = nat_hop(inventory, landing)
    if isinstance(access, Unknown):
        return Hop("google-access", "Private Google Access", UNKNOWN, access.reason, (field,))
    if nat.state == VERIFIED:
        return Hop(
            "google-access", nat.label, VERIFIED, f"Private Google Access is off; {nat.detail}", (field, *nat.evidence)
        )
    state = BROKEN if nat.state == BROKEN else UNKNOWN
    return Hop(
        "google-access",
        "no Private Google Access",
        state,
        f"Private Google Access is off on subnet {subnet.name}, and {nat.detail}",
        (field, *nat.evidence),
        nat.export,
    )


def _routers(inventory: Inventory, network: str, region: str | Unknown) -> list[Router]:
    found: dict[str, Router] = inventory.of(ROUTER.name)
    return [r for r in found.values() if r.network == network and r.region == region]


def _nat_covers(routers: Iterable[Router], subnet: str | None) -> tuple[str | None, bool]:
    """The first NAT that translates the subnet (or, for a connector, every subnet), and whether the answer may
    be incomplete (a router read from Terraform, a NAT whose coverage is not known)."""
    partial = False
    for router in routers:
        partial = partial or not router.nats_complete
        for nat in router.nats.values():
            if nat.all_subnetworks is True or (subnet and subnet in nat.subnetworks):
                return f"{router.name}/{nat.name}", partial
            if isinstance(nat.all_subnetworks, Unknown) or (subnet is None and nat.subnetworks):
                partial = True  # a listed NAT may hold the connector's own subnet, which no export names
    return None, partial
