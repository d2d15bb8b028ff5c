"""The service's VPC connector, joined with the evidence, and the network it is on."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.kinds.network.path import connector_subnet
from driftcheck.kinds.network.subnet import Subnet
from driftcheck.model import Connector, Inventory, Service, Unknown, to_plain
from driftcheck.ruleset.context.resources import unread
from driftcheck.ruleset.context.shapes import ConnectorAdded, ConnectorPlain

_CONNECTOR_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)$")


def service_connector(service: Service, inventory: Inventory) -> ConnectorPlain | Unknown | None:
    path = service.vpc.connector
    if isinstance(path, Unknown):  # a .tf reference or a value known only after apply
        return path
    if not path:
        return None
    connector = inventory.connectors.get(path) or _connector_by_number(path, inventory)
    if connector is None:
        return unread(inventory, "connectors", path)
    plain: dict[str, Any] = to_plain(connector)
    network, network_source = _connector_network(connector, inventory)
    added: ConnectorAdded = {"origin": connector.origin, "network": network, "network_source": network_source}
    plain.update(added)
    return plain


def _connector_by_number(path: str, inventory: Inventory) -> Connector | None:
    """A v1 service names its project by number, a connector export by id, and often nothing in the evidence links
    the two: then the only exported connector with that region and name is taken to be the one meant."""
    match = _CONNECTOR_PATH.match(path)
    if match is None or not match["project"].isdigit():
        return None
    same = [
        c
        for c in inventory.connectors.values()
        if (m := _CONNECTOR_PATH.match(c.name)) and (m["region"], m["name"]) == (match["region"], match["name"])
    ]
    return same[0] if len(same) == 1 else None


def _connector_network(connector: Connector, inventory: Inventory) -> tuple[str | Unknown, str]:
    """The connector's network and where it was read. A connector created on a subnet (`--subnet`) names no
    network: its subnet's export says which, as on its network path (kinds/network/path.py)."""
    own = (connector.network, connector.provenance.get("network") or f"{connector.origin}:network")
    if isinstance(connector.network, str):
        return own
    subnet: Subnet | None = connector_subnet(connector, inventory)
    if subnet is None:
        return own
    source = subnet.provenance.get("network") or f"{subnet.origin}:network"
    if not isinstance(subnet.network, str) or not subnet.network:
        return Unknown(f"the export of its subnet {subnet.name} names no network"), source
    return subnet.network, source
