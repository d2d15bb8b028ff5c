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
from driftcheck.model import Unknown
from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, paths_of
from driftcheck.ruleset.context import service_context
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


# What the rules reading `refs.connector.network` say, folded into the scenario's sql-network-mismatch finding: the
# explanation of vpc-connector-unhealthy, and the confirmation of vpc-connector-mismatch.
UNHEALTHY_SAYS = "which is on network legacy-vpc, not the network of Cloud SQL search-pg"
MISMATCH_CONFIRMS = "the target's connector is on network legacy-vpc, the peer's on staging-vpc"


def _connector_network_row(finding: dict[str, Any]) -> dict[str, Any]:
    """vpc-connector-unhealthy's evidence row for the connector's network."""
    (row,) = [e for e in finding["evidence"] if e["path"] == "connector network"]
    return row


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


def test_the_rule_context_gives_a_subnet_connector_its_subnets_network(tmp_path: Path) -> None:
    """`refs.connector.network` is the subnet's network (a name, as a connector's own is), read from the subnet's
    export; the model's connector still names none."""
    export = _subnet_export("legacy-connector-subnet", "legacy-vpc", "10.9.0.0/28")
    folder = _scenario(tmp_path, "legacy-connector-subnet", export)
    inventory = load_evidence([folder])
    search = inventory.services["search"]
    connector = service_context(search, inventory)["refs"]["connector"]
    assert connector["network"] == "legacy-vpc"
    assert connector["network_source"] == f"{folder / 'legacy-connector-subnet.json'}:network"
    assert connector["origin"] == str(folder / "legacy-connector.json")  # the connector's own, as before
    assert isinstance(inventory.connectors[str(search.vpc.connector)].network, Unknown)
    # a connector that names its network: that one, read from the connector's file
    catalog = service_context(inventory.services["catalog"], inventory)["refs"]["connector"]
    assert (catalog["network"], catalog["network_source"]) == (
        "staging-vpc",
        f"{folder / 'staging-connector.json'}:network",
    )


def test_without_its_subnet_a_subnet_connectors_network_stays_unknown_in_the_rule_context(tmp_path: Path) -> None:
    """Unknown, not absent: the rules that need it are unverified, never told "no network"; nor is another project's
    subnet of that name taken for the connector's."""
    other = _subnet_export("legacy-connector-subnet", "legacy-vpc", "10.9.0.0/28", project="netra-host")
    for folder in (
        _scenario(tmp_path / "without", "legacy-connector-subnet", None),
        _scenario(tmp_path / "other", "legacy-connector-subnet", other),
    ):
        inventory = load_evidence([folder])
        connector = service_context(inventory.services["search"], inventory)["refs"]["connector"]
        assert isinstance(connector["network"], Unknown), folder
        assert "it names subnet legacy-connector-subnet" in connector["network"].reason
        assert connector["network_source"] == f"{folder / 'legacy-connector.json'}:network"


def test_with_the_subnet_export_the_connector_network_rules_fire_as_for_a_named_network(tmp_path: Path) -> None:
    """vpc-connector-unhealthy (the connector is on legacy-vpc, the instance on staging-vpc) and the confirmation of
    vpc-connector-mismatch read `target.refs.connector.network`: for a connector on a subnet of legacy-vpc they say
    what they say of one created on legacy-vpc itself, and the network's evidence names the subnet's export."""
    control = compare_rule_fixture(SCENARIO)
    (named,) = findings_of(control, "sql-network-mismatch")
    assert any(UNHEALTHY_SAYS in c for c in named["confirmations"])
    assert MISMATCH_CONFIRMS in named["confirmations"]
    row = _connector_network_row(named)
    assert row["target"] == "legacy-vpc"
    assert row["source"]["target"].endswith("sql-network-mismatch/legacy-connector.json:network")

    export = _subnet_export("legacy-connector-subnet", "legacy-vpc", "10.9.0.0/28")
    folder = _scenario(tmp_path, "legacy-connector-subnet", export)
    report = compare_rule_fixture(folder)
    (finding,) = findings_of(report, "sql-network-mismatch")
    assert finding["confirmations"] == named["confirmations"]  # word for word
    shown = [(e["path"], e["target"]) for e in finding["evidence"]]
    assert shown == [(e["path"], e["target"]) for e in named["evidence"]]
    row = _connector_network_row(finding)
    assert row["target"] == "legacy-vpc"
    assert row["source"]["target"] == f"{folder / 'legacy-connector-subnet.json'}:network"  # not the connector's
    assert "vpc-connector-unhealthy" not in [u["rule"] for u in report["unverified"]]


def test_without_the_subnet_export_the_connector_network_rules_stay_silent(tmp_path: Path) -> None:
    """The network unknown: vpc-connector-unhealthy is unverified for it (not fired, not passed), and
    vpc-connector-mismatch fires on the two connectors without confirming their networks differ."""
    folder = _scenario(tmp_path, "legacy-connector-subnet", None)
    report = compare_rule_fixture(folder)
    said = [c for f in report["findings"] for c in (f["explanation"], *f["confirmations"])]
    assert not [c for c in said if UNHEALTHY_SAYS in c or MISMATCH_CONFIRMS in c]
    assert not [e for f in report["findings"] for e in f["evidence"] if e["path"] == "connector network"]
    (unverified,) = [u for u in report["unverified"] if u["rule"] == "vpc-connector-unhealthy"]
    assert unverified["reason"].startswith("target.refs.connector.network: it names subnet legacy-connector-subnet")
    assert findings_of(report, "vpc-connector-mismatch")
