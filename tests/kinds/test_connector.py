"""Serverless VPC Access connectors: one created on a network and range says its network; one created on a subnet
(`--subnet SUBNET [--subnet-project P]`) says only the subnet, and its network stays unknown until the subnet's
export says it, never the subnet's name taken for the network's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FIXTURES

from driftcheck.kinds.connector import parse_connector
from driftcheck.model import Unknown
from driftcheck.sources.evidence import load_evidence

NAME = "projects/netra-staging/locations/us-central1/connectors/staging-connector"


def _on_subnet(**subnet: str) -> dict[str, Any]:
    """The incident's connector as the API describes one created with --subnet: no network, no range."""
    data = json.loads((FIXTURES / "incident" / "staging-connector.json").read_text())
    del data["network"], data["ipCidrRange"]
    return {**data, "subnet": subnet}


def test_a_connector_on_a_subnet_keeps_the_subnet_and_leaves_the_network_unknown() -> None:
    connector = parse_connector(_on_subnet(name="run-connector-subnet"), "c.json")
    assert isinstance(connector.network, Unknown)
    assert "subnet run-connector-subnet" in connector.network.reason
    # the subnet is in the connector's region, and in its project unless projectId says another
    assert connector.subnet == "projects/netra-staging/regions/us-central1/subnetworks/run-connector-subnet"
    assert connector.provenance["subnet"] == "c.json:subnet"
    assert isinstance(connector.ip_cidr_range, Unknown)


def test_the_subnet_project_is_the_one_the_connector_names() -> None:
    connector = parse_connector(_on_subnet(name="run-connector-subnet", projectId="netra-host"), "c.json")
    assert connector.subnet == "projects/netra-host/regions/us-central1/subnetworks/run-connector-subnet"
    assert isinstance(connector.network, Unknown)


def test_a_connector_on_a_network_names_no_subnet() -> None:
    data = json.loads((FIXTURES / "incident" / "staging-connector.json").read_text())
    connector = parse_connector(data, "c.json")
    assert (connector.network, connector.subnet, connector.ip_cidr_range) == ("staging-vpc", None, "10.8.0.0/28")


def test_a_network_the_connector_does_say_is_kept_beside_its_subnet() -> None:
    connector = parse_connector({**_on_subnet(name="run-connector-subnet"), "network": "staging-vpc"}, "c.json")
    assert connector.network == "staging-vpc"
    assert connector.subnet == "projects/netra-staging/regions/us-central1/subnetworks/run-connector-subnet"


def _connector_state(tmp_path: Path, subnet: list[dict[str, Any]], network: str) -> Path:
    """The staging state with its connector declared on a subnet block (`subnet { name, project_id }`)."""
    state = json.loads((FIXTURES / "terraform" / "staging.tfstate").read_text())
    (resource,) = [r for r in state["resources"] if r["type"] == "google_vpc_access_connector"]
    attributes = resource["instances"][0]["attributes"]
    attributes.update(subnet=subnet, network=network, ip_cidr_range="")
    path = tmp_path / "staging.tfstate"
    path.write_text(json.dumps(state))
    return path


def test_terraform_reads_a_subnet_block_as_the_subnet_not_the_network(tmp_path: Path) -> None:
    subnet = [{"name": "run-connector-subnet", "project_id": "netra-host"}]
    inventory = load_evidence([_connector_state(tmp_path, subnet, network="")])
    connector = inventory.connectors[NAME]
    assert isinstance(connector.network, Unknown) and "run-connector-subnet" in connector.network.reason
    assert connector.subnet == "projects/netra-host/regions/us-central1/subnetworks/run-connector-subnet"
    assert connector.provenance["subnet"].endswith(".subnet")
    # an empty subnet block list (a connector on a network) is no subnet
    inventory = load_evidence([_connector_state(tmp_path, [], network="staging-vpc")])
    assert (inventory.connectors[NAME].network, inventory.connectors[NAME].subnet) == ("staging-vpc", None)
