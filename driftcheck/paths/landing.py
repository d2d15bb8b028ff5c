"""Where a service's VPC path lands: its connector or Direct VPC interface, and the network that tells."""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.compare.diff import source_of
from driftcheck.kinds.network import compute
from driftcheck.kinds.network.path import connector_subnet
from driftcheck.kinds.network.subnet import SUBNET, Subnet
from driftcheck.model import Connector, Inventory, Service, Unknown
from driftcheck.paths.hops import BROKEN, UNKNOWN, VERIFIED, Hop

_CONNECTOR_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)$")
# The network tags every Serverless VPC Access connector's instances carry (what an egress rule can target).
_CONNECTOR_TAG = "vpc-connector"


@dataclass(frozen=True)
class Landing:
    """Where the service's VPC path lands: the connector or Direct VPC hop, and what it tells of the network."""

    hop: Hop
    network: str | Unknown
    region: str | Unknown
    ranges: tuple[str, ...]
    subnet: str | None  # a Direct VPC subnet, REGION/NAME
    tags: tuple[str, ...]  # the network tags its traffic carries (firewall targets)
    evidence: tuple[str, ...]  # the fields that say which network
    export: str | None = None  # the gcloud command that exports what says the network, when it is not known


def landing_of(service: Service, inventory: Inventory) -> Landing:
    if service.vpc.path == "connector":
        return _connector_landing(service, inventory)
    name, interface = sorted(service.vpc.network_interfaces.items())[0]
    network_name = compute.name_of(interface.network) if interface.network else None
    subnet_name = compute.name_of(interface.subnetwork or interface.network or name)
    key = compute.regional_key(service.region, subnet_name)
    subnet: Subnet | None = inventory.of(SUBNET.name).get(key)
    where = source_of(service, "vpc.network_interfaces")
    tags = tuple(interface.tags)
    tagged = f", tags {' '.join(tags)}" if tags else ""
    if subnet is None:
        region = service.region if isinstance(service.region, str) else "REGION"
        return Landing(
            Hop(
                "direct-vpc",
                f"Direct VPC {network_name or 'network not known'}/{subnet_name}{tagged}",
                UNKNOWN,
                f"subnet {subnet_name} is not in the evidence: its range and network are not known",
                (where,),
                f"gcloud compute networks subnets describe {subnet_name} --region {region} --format=json",
            ),
            network=network_name or Unknown(f"subnet {subnet_name} is not in the evidence"),
            region=service.region,
            ranges=(),
            subnet=key,
            tags=tags,
            evidence=(where,),
        )
    network = network_name or subnet.network
    cidr = subnet.ip_cidr_range if isinstance(subnet.ip_cidr_range, str) else "range not known"
    label = f"Direct VPC {network}/{subnet.name} ({cidr}{tagged})"
    if network_name and isinstance(subnet.network, str) and subnet.network != network_name:
        hop = Hop(
            "direct-vpc",
            label,
            BROKEN,
            f"subnet {subnet.name} belongs to network {subnet.network}, not {network_name}",
            (where, subnet.provenance.get("network", subnet.origin)),
        )
    else:
        hop = Hop("direct-vpc", label, VERIFIED, f"instances take their IPs from subnet {subnet.name}", (where,))
    return Landing(
        hop,
        network=network,
        region=subnet.region,
        ranges=(cidr,) if isinstance(subnet.ip_cidr_range, str) else (),
        subnet=key,
        tags=tags,
        evidence=(where, subnet.provenance.get("network", subnet.origin)),
    )


def _connector_landing(service: Service, inventory: Inventory) -> Landing:
    path = service.vpc.connector
    where = source_of(service, "vpc")
    if not isinstance(path, str):
        reason = path.reason if isinstance(path, Unknown) else "no connector"
        return Landing(
            Hop("connector", "connector (not known)", UNKNOWN, f"its connector is not known ({reason})", (where,)),
            Unknown(reason),
            service.region,
            (),
            None,
            (_CONNECTOR_TAG,),
            (where,),
        )
    connector = _find_connector(path, inventory)
    match = _CONNECTOR_PATH.match(path)
    name = match["name"] if match else compute.name_of(path)
    region = match["region"] if match else service.region
    if connector is None:
        project = match["project"] if match else service.project
        return Landing(
            Hop(
                "connector",
                f"connector {name}",
                UNKNOWN,
                f"connector {name} is not in the evidence: its network and range are not known",
                (where,),
                f"gcloud compute networks vpc-access connectors describe {name} --region {region} "
                f"--project {project} --format=json",
            ),
            Unknown(f"connector {name} is not in the evidence"),
            region,
            (),
            None,
            (_CONNECTOR_TAG,),
            (where,),
        )
    network, export = connector.network, None
    evidence: tuple[str, ...] = (connector.provenance.get("network", connector.origin),)
    subnet: Subnet | None = connector_subnet(connector, inventory)
    cidr = connector.ip_cidr_range if isinstance(connector.ip_cidr_range, str) else None
    if not isinstance(network, str) and isinstance(connector.subnet, str):  # it names its subnet, not a network
        named = (connector.provenance.get("subnet", connector.origin),)
        if subnet is not None:  # the subnet says which network; its range is the connector's (a /28 of its own)
            network, evidence = subnet.network, (*named, subnet.provenance.get("network", subnet.origin))
            cidr = cidr or (subnet.ip_cidr_range if isinstance(subnet.ip_cidr_range, str) else None)
        else:
            subnet_name, owner = compute.name_of(connector.subnet), compute.project_of(connector.subnet)
            network, evidence = Unknown(f"subnet {subnet_name} of connector {name} is not in the evidence"), named
            export = (
                f"gcloud compute networks subnets describe {subnet_name} --region {connector.region} "
                f"--project {owner} --format=json"
            )
    inside = " ".join(
        part for part in (str(network) if isinstance(network, str) else "network not known", cidr) if part
    )
    label = f"connector {name} ({inside})"
    field = connector.provenance.get("state", connector.origin)
    if connector.state == "READY":
        hop = Hop("connector", label, VERIFIED, f"connector {name} is READY", (field,))
    elif isinstance(connector.state, Unknown):
        hop = Hop("connector", label, UNKNOWN, f"the state of connector {name} is not known", (field,))
    else:
        hop = Hop("connector", label, BROKEN, f"connector {name} is {connector.state}, not READY", (field,))
    tags = (_CONNECTOR_TAG, f"vpc-connector-{connector.region}-{name}")
    return Landing(hop, network, connector.region, (cidr,) if cidr else (), None, tags, evidence, export)


def _find_connector(path: str, inventory: Inventory) -> Connector | None:
    """As ruleset/context/network.py finds it: by its path, or (a v1 service names its project by number) the only
    one of that region and name."""
    found = inventory.connectors.get(path)
    if found is not None:
        return found
    match = _CONNECTOR_PATH.match(path)
    if match is None:
        same = [c for c in inventory.connectors.values() if compute.name_of(c.name) == path]
        return same[0] if len(same) == 1 else None
    if not match["project"].isdigit():
        return None
    same = [
        c
        for c in inventory.connectors.values()
        if (m := _CONNECTOR_PATH.match(c.name)) and (m["region"], m["name"]) == (match["region"], match["name"])
    ]
    return same[0] if len(same) == 1 else None
