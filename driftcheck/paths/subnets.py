"""How many addresses the Direct VPC services in the evidence may take from one subnet, against its size.

Google's sizing rule (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc#direct-vpc-ip-allocation, and
"Monitor IP address usage" in https://cloud.google.com/run/docs/configuring/networking-best-practices): in steady
state Cloud Run uses about 2 IP addresses per instance, and a subnet's IPv4 range must be /26 or larger. Older
versions of the same pages said 4 per instance; the lower figure is used here, so a subnet is called too small
only when it is too small even by it. A subnet's primary range loses 4 addresses that Google reserves
(https://cloud.google.com/vpc/docs/subnets#unusable-ip-addresses-in-every-subnet). A service that leaves its maximum
instances unset is not counted (its cap is not stated), and a revision switch's extra headroom is not added.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from driftcheck.kinds.network import compute
from driftcheck.kinds.network.subnet import SUBNET, Subnet
from driftcheck.kinds.service.common import own_name
from driftcheck.model import Inventory, Service, Unknown

ADDRESSES_PER_INSTANCE = 2
RESERVED_PER_SUBNET = 4
SMALLEST_PREFIX = 26


@dataclass(frozen=True, slots=True)
class SubnetShare:
    """One Direct VPC service on the subnet and its stated maximum instances."""

    service: str
    max_instances: int


@dataclass(frozen=True, slots=True)
class SubnetUse:
    """A Direct VPC subnet of the service: the addresses the services on it may take at peak, against its size."""

    subnet: str  # REGION/NAME
    name: str  # the subnet's name
    ip_cidr_range: str  # its primary range
    source: str  # the field its range was read from
    usable: int  # the addresses of its primary range, less the 4 Google reserves
    below_minimum: bool  # its range is smaller than the /26 Cloud Run asks for
    own: SubnetShare | Unknown  # this service's share; unknown when it leaves its maximum instances unset
    others: tuple[SubnetShare, ...]  # every other Direct VPC service in the evidence on it, with a stated maximum
    uncounted: tuple[str, ...]  # the others on it whose maximum is not stated
    needed: int  # 2 x the stated maximum instances, added up (own, when stated, and others)


def _subnet_key(service: Service) -> list[str]:
    interfaces = service.vpc.network_interfaces.values()
    named = (i.subnetwork or i.network for i in interfaces)
    return [compute.regional_key(service.region, compute.name_of(n)) for n in named if n]


def subnet_uses(service: Service, inventory: Inventory) -> tuple[SubnetUse, ...]:
    subnets: dict[str, Subnet] = inventory.of(SUBNET.name)
    uses = []
    for key in sorted(set(_subnet_key(service))):
        subnet = subnets.get(key)
        if subnet is None or not isinstance(subnet.ip_cidr_range, str):
            continue
        network = ipaddress.ip_network(subnet.ip_cidr_range, strict=False)
        # Revisions of one service (a revision compare's `api@latest`, `api@last-ready`) are one service's share,
        # not two: counted once, under the service's own name.
        on_it = {
            own_name(s): s
            for s in inventory.services.values()
            if own_name(s) != own_name(service) and key in _subnet_key(s)
        }
        others = tuple(SubnetShare(s.name, s.max_instances) for s in on_it.values() if s.metadata.max_instances_set)
        own: SubnetShare | Unknown = (
            SubnetShare(service.name, service.max_instances)
            if service.metadata.max_instances_set
            else Unknown(f"{service.name} leaves its maximum instances unset")
        )
        stated = [*others, *((own,) if isinstance(own, SubnetShare) else ())]
        uses.append(
            SubnetUse(
                subnet=key,
                name=subnet.name,
                ip_cidr_range=subnet.ip_cidr_range,
                source=subnet.provenance.get("ip_cidr_range", subnet.origin),
                usable=max(network.num_addresses - RESERVED_PER_SUBNET, 0),
                below_minimum=network.prefixlen > SMALLEST_PREFIX,
                own=own,
                others=others,
                uncounted=tuple(sorted(s.name for s in on_it.values() if not s.metadata.max_instances_set)),
                needed=ADDRESSES_PER_INSTANCE * sum(share.max_instances for share in stated),
            )
        )
    return tuple(uses)
