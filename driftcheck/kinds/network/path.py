"""The VPC networks on a service's path, from the service and what the inventory holds of the resources it uses.

A service names a network only through Direct VPC; the others are named by the resources it uses: its connector's
network, the network of a Direct VPC subnet, the private network of a Cloud SQL instance it attaches (private
services access), the authorized network of a Memorystore instance whose host its env names. The network, router
and firewall kinds read them (their `references_in`): the live fetch reads the connector first, then, a round
later, its network and the routers and firewall rules of that network.

Each network is `(project, name)`: the project of the path that names it (a Shared VPC host's), or the service's
own for a bare name.
"""

from __future__ import annotations

from driftcheck.kinds.network import compute
from driftcheck.kinds.redis import reached_by as redis_hosts
from driftcheck.model import Inventory, Service, Unknown

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
    connector = inventory.of("connector").get(service.vpc.connector) if isinstance(service.vpc.connector, str) else None
    if connector is not None:
        add(connector.network, connector.name.split("/")[1] if connector.name.startswith("projects/") else own)
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
