"""A connector created on a subnet (`--subnet`) names the subnet, not its network: the path lands on the network the
subnet's export says, and without that export the network is not known and no network rule fires. The scenario is
sql-network-mismatch's: `search` reaches Cloud SQL search-pg (on staging-vpc) through legacy-connector, its peer
`catalog` through staging-connector, which names staging-vpc directly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of

from driftcheck.kinds.network.path import networks_on_path
from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, paths_of
from driftcheck.sources.evidence import load_evidence

SCENARIO = FIXTURES / "rules" / "sql-network-mismatch"
# the rules that judge a network on the path (the connector's, or the hops beyond it); not vpc-connector-mismatch,
# which finds two connectors named differently whatever their networks (the network only confirms it)
NETWORK_RULES = (
    "sql-network-mismatch", "vpc-connector-unhealthy", "vpc-path-kind-mismatch", "egress-no-nat",
    "firewall-blocks-dependency", "private-google-access-off", "redis-unreachable",
)  # fmt: skip
COMPUTE = "https://www.googleapis.com/compute/v1/projects"


def _hops(path):  # type: ignore[no-untyped-def]
    return {hop.kind: hop for hop in path.hops}


def _subnet_export(name: str, network: str, cidr: str, project: str = "netra-staging") -> dict[str, Any]:
    """`gcloud compute networks subnets describe NAME --format=json`: the real export (fixtures/network), renamed."""
    data = json.loads((FIXTURES / "network" / "staging-us-central1.json").read_text())
    del data["secondaryIpRanges"]
    return {
        **data,
        "name": name,
        "network": f"{COMPUTE}/{project}/global/networks/{network}",
        "ipCidrRange": cidr,
        "selfLink": f"{COMPUTE}/{project}/regions/us-central1/subnetworks/{name}",
    }


def _scenario(tmp_path: Path, subnet: str, export: dict[str, Any] | None) -> Path:
    """The scenario with legacy-connector created on `subnet` (the API's Connector JSON: no network, no range)."""
    folder = Path(shutil.copytree(SCENARIO, tmp_path / "evidence"))
    connector = json.loads((folder / "legacy-connector.json").read_text())
    del connector["network"], connector["ipCidrRange"]
    connector["subnet"] = {"name": subnet, "projectId": "netra-staging"}
    (folder / "legacy-connector.json").write_text(json.dumps(connector, indent=2))
    if export is not None:
        (folder / f"{export['name']}.json").write_text(json.dumps(export, indent=2))
    return folder


def _network_findings(folder: Path) -> list[str]:
    report = compare_rule_fixture(folder)
    return [f["rule"] for f in report["findings"] if f["rule"] in NETWORK_RULES]


def test_the_scenario_fires_when_the_connector_names_its_network() -> None:
    """The control: the rule the next tests expect silent does fire on the scenario as exported."""
    assert findings_of(compare_rule_fixture(SCENARIO), "sql-network-mismatch")


def test_the_subnet_export_puts_its_network_on_the_path(tmp_path: Path) -> None:
    export = _subnet_export("legacy-connector-subnet", "legacy-vpc", "10.9.0.0/28")
    folder = _scenario(tmp_path, "legacy-connector-subnet", export)
    inventory = load_evidence([folder])
    search = inventory.services["search"]
    assert networks_on_path(search, inventory) == {("netra-staging", "legacy-vpc")}
    (path,) = paths_of(search, inventory)
    hops = _hops(path)
    # the subnet's network and range are the connector's
    assert hops["connector"].label == "connector legacy-connector (legacy-vpc 10.9.0.0/28)"
    network = hops["network"]
    assert (network.label, network.state) == ("legacy-vpc (≠ staging-vpc)", BROKEN)
    assert any(field.endswith("legacy-connector-subnet.json:network") for field in network.evidence)
    assert any(field.endswith("legacy-connector.json:subnet") for field in network.evidence)
    # so the finding the scenario shows is still found, on the network the subnet says
    (finding,) = findings_of(compare_rule_fixture(folder), "sql-network-mismatch")
    assert "through its connector on network legacy-vpc" in finding["explanation"]


def test_without_the_subnet_export_the_network_is_unknown_and_no_network_rule_fires(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, "legacy-connector-subnet", None)
    inventory = load_evidence([folder])
    search = inventory.services["search"]
    assert networks_on_path(search, inventory) == frozenset()  # not the subnet's name taken for a network
    (path,) = paths_of(search, inventory)
    network = _hops(path)["network"]
    assert (network.label, network.state) == ("network (not known)", UNKNOWN)
    assert "subnet legacy-connector-subnet of connector legacy-connector is not in the evidence" in network.detail
    assert network.export == (
        "gcloud compute networks subnets describe legacy-connector-subnet --region us-central1 "
        "--project netra-staging --format=json"
    )
    # the peer, whose connector names its network, lands on it as before
    (peer,) = paths_of(inventory.services["catalog"], inventory)
    assert (_hops(peer)["network"].label, _hops(peer)["network"].state) == ("staging-vpc", VERIFIED)
    assert _network_findings(folder) == []


def test_a_subnet_named_like_another_network_is_not_that_network(tmp_path: Path) -> None:
    """The subnet `legacy-vpc` of network staging-vpc: read as the network legacy-vpc (which does not peer with
    staging-vpc), the path broke and sql-network-mismatch fired, falsely."""
    export = _subnet_export("legacy-vpc", "staging-vpc", "10.9.0.0/28")
    without = _scenario(tmp_path / "without", "legacy-vpc", None)
    inventory = load_evidence([without])
    assert networks_on_path(inventory.services["search"], inventory) == frozenset()
    (path,) = paths_of(inventory.services["search"], inventory)
    assert _hops(path)["network"].state == UNKNOWN
    assert _network_findings(without) == []
    # the different connectors are still found, but not confirmed as on different networks
    (different,) = findings_of(compare_rule_fixture(without), "vpc-connector-mismatch")
    assert not [c for c in different["confirmations"] if "on network" in c]
    # with the subnet's export: staging-vpc, the peer's network and the instance's, verified
    folder = _scenario(tmp_path / "with", "legacy-vpc", export)
    inventory = load_evidence([folder])
    assert networks_on_path(inventory.services["search"], inventory) == {("netra-staging", "staging-vpc")}
    (path,) = paths_of(inventory.services["search"], inventory)
    (peer,) = paths_of(inventory.services["catalog"], inventory)
    assert _hops(path)["network"].label == _hops(peer)["network"].label == "staging-vpc"
    assert _hops(path)["network"].state == VERIFIED
    assert _network_findings(folder) == []


def test_another_projects_subnet_of_that_name_is_not_the_connectors(tmp_path: Path) -> None:
    """The connector names netra-staging's subnet; the export is a subnet of the same name in another project (a
    Shared VPC host's): its network is not the connector's, so the network stays unknown."""
    export = _subnet_export("legacy-connector-subnet", "legacy-vpc", "10.9.0.0/28", project="netra-host")
    folder = _scenario(tmp_path, "legacy-connector-subnet", export)
    inventory = load_evidence([folder])
    assert "us-central1/legacy-connector-subnet" in inventory.of("subnet")  # held, but not the connector's
    assert networks_on_path(inventory.services["search"], inventory) == frozenset()
    (path,) = paths_of(inventory.services["search"], inventory)
    assert _hops(path)["network"].state == UNKNOWN
    assert _network_findings(folder) == []
