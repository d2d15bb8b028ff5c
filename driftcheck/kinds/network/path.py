"""The VPC networks on a service's path, from the service and what the inventory holds of the resources it uses.

A service names a network only through Direct VPC; the others are named by the resources it uses: its connector's
network, the network of a Direct VPC subnet, the private network of a Cloud SQL instance it attaches (private
services access), the authorized network of a Memorystore instance whose host its env names. The network, router
and firewall kinds read them (their `references_in`): the live fetch reads the connector first, then, a round
later, its network and the routers and firewall rules of that network. A connector created on a subnet of its own
(`--subnet`) names that subnet, not a network: the subnet kind reads it a round after the connector, and its
network (the subnet's export says which) is on the path a round later; until then that network is not known.

Each network is `(project, name)`: the project of the path that names it (a Shared VPC host's), or the service's
own for a bare name.
"""

from __future__ import annotations

from typing import Any

from driftcheck.kinds.network import compute
from driftcheck.kinds.redis import reached_by as redis_hosts
from driftcheck.model import Connector, Inventory, Service, Unknown

Network = tuple[str, str]  # (project, name); project "" when neither the path nor the service says


def networks_on_path(service: Service, inventory: Inventory) -> frozenset[Network]:
    """Every network the service's traffic may go through, as far as the inventory knows."""
    own = service.project if isinstance(service.project, str) else ""
    found: set[Network] = set()

    def add(link: str | Unknown | None, project: str = own) -> None:
        if isinstance(link, str) and link.strip():
            found.add((compute.project_of(link) or project, compute.name_of(link)))

    subnets = inventory.of("subnet")
    for interface in service.vpc.network_interfaces.values():
        add(interface.network)
        if not interface.network and interface.subnetwork:  # the subnet says which network
            subnet = subnets.get(compute.regional_key(service.region, compute.name_of(interface.subnetwork)))
            add(getattr(subnet, "network", None), _project(getattr(subnet, "project", None), own))
    connector = connector_of(service, inventory)
    if connector is not None:
        subnet = connector_subnet(connector, inventory)
        if isinstance(connector.network, str) or subnet is None:
            add(connector.network, _project_of_connector(connector, own))
        else:  # it names only its subnet: the subnet's network, in the subnet's project
            held = subnet.project if subnet.project != "-" else None  # "-": a Terraform subnet without its project
            add(subnet.network, _project(held, compute.project_of(str(connector.subnet)) or own))
    instances = inventory.of("sql_instance")
    for name in service.cloudsql_instances:
        instance = instances.get(name)
        add(getattr(instance, "private_network", None), _project(getattr(instance, "project", None), own))
    instances = inventory.of("redis")
    for host in redis_hosts(service):
        add(getattr(instances.get(host), "authorized_network_path", None))
    return frozenset(found)


def _project(project: object, own: str) -> str:
    return project if isinstance(project, str) and project else own


def _project_of_connector(connector: Connector, own: str) -> str:
    return connector.name.split("/")[1] if connector.name.startswith("projects/") else own


def connector_of(service: Service, inventory: Inventory) -> Connector | None:
    """The service's connector, when the inventory holds it under the path the service names."""
    found = inventory.of("connector").get(service.vpc.connector) if isinstance(service.vpc.connector, str) else None
    return found if isinstance(found, Connector) else None


def connector_subnet_key(connector: Connector) -> str | None:
    """The subnet kind's key (`REGION/NAME`) of the subnet a connector names; None when it names none (or one not
    known: a Terraform plan's after apply). The subnet is in the connector's region."""
    subnet = connector.subnet
    return compute.regional_key(connector.region, compute.name_of(subnet)) if isinstance(subnet, str) else None


def connector_subnet(connector: Connector, inventory: Inventory) -> Any | None:
    """The subnet (kinds/network/subnet.py) the connector names, as the inventory holds it; None when it names none,
    the inventory does not hold it, or the one held under that key is another project's (a Shared VPC host's subnet
    and one of the same name in the connector's project are not one)."""
    key = connector_subnet_key(connector)
    subnet = inventory.of("subnet").get(key) if key else None
    if subnet is None:
        return None
    wanted = compute.project_of(str(connector.subnet))
    return subnet if same_project(wanted, getattr(subnet, "project", None), inventory) else None


def same_project(one: object, other: object, inventory: Inventory) -> bool:
    """Whether two projects may be one: False only when both are project ids the evidence knows (a number it holds
    no id for, "-" or unknown cannot be told apart from an id) and they differ."""
    ids = [inventory.project_aliases.get(p, p) if isinstance(p, str) else "" for p in (one, other)]
    if any(not p or p == "-" or p.isdigit() for p in ids):
        return True
    return ids[0] == ids[1]
