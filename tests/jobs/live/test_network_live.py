"""The network kinds, live: Compute Engine's REST client over plain HTTP and Memorystore's gRPC client, against the
fake API server (one --endpoint reaches both: tests/fakegcp/compute.py).

The world is the incident's (fixtures/incident-live) with its connector on network `legacy`, its Cloud SQL instance's
private services access on `shared`, and `auth` naming a Memorystore instance (authorized on `legacy`) by host; it
also holds what is on no compared service's path: network `other` with its router, rules, subnet and cache, and
`legacy`'s router in another region. Every Compute resource is a real export (fixtures/network) renamed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, run_cli
from fakegcp import FakeGcpServer, World

INCIDENT = FIXTURES / "incident-live"
NETWORK = FIXTURES / "network"
PROJECT = "netra-staging"
SCOPE = ("--project", PROJECT, "--region", "us-central1")
COMPUTE = "https://www.googleapis.com/compute/v1/projects/netra-staging"
VIEWER = "needs compute.networks.get (roles/compute.networkViewer)"
# firewall rules by network: five in all, so a listing of two a page takes three pages
RULES = {"legacy": ("legacy-allow-redis", "legacy-deny-egress"), "shared": ("shared-allow-sql",),
         "other": ("other-allow-ssh", "other-allow-redis")}  # fmt: skip


def _export(name: str) -> Any:
    return json.loads((NETWORK / name).read_text())


def _renamed(data: Any, **names: str) -> Any:
    """An export with its names replaced (`staging-vpc="legacy"`), wherever they appear: links included."""
    text = json.dumps(data)
    for old, new in names.items():
        text = text.replace(old.replace("_", "-"), new)
    return json.loads(text)


def _write(folder: Path, name: str, data: Any) -> None:
    (folder / name).write_text(json.dumps(data, indent=2))


def world_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "world"
    shutil.copytree(INCIDENT, folder)
    connector = json.loads((folder / "staging-connector.json").read_text())
    _write(folder, "staging-connector.json", {**connector, "network": "legacy"})
    sql = json.loads((folder / "staging-shared-postgres.json").read_text())
    sql["settings"]["ipConfiguration"]["privateNetwork"] = f"projects/{PROJECT}/global/networks/shared"
    _write(folder, "staging-shared-postgres.json", sql)
    auth = json.loads((folder / "auth.json").read_text())
    auth["template"]["containers"][0]["env"].append({"name": "REDIS_URL", "value": "redis://10.0.0.3:6379/0"})
    _write(folder, "auth.json", auth)
    for network in ("legacy", "shared", "other"):
        _write(folder, f"{network}.json", _renamed(_export("staging-vpc.json"), staging_vpc=network))
    router = _export("staging-router.json")
    routers = (("legacy-router", "legacy", "us-central1"), ("shared-router", "shared", "us-central1"),
               ("other-router", "other", "us-central1"), ("legacy-eu", "legacy", "europe-west1"))  # fmt: skip
    for name, network, region in routers:
        _write(folder, f"{name}.json", _renamed(router, staging_router=name, staging_vpc=network, us_central1=region))
    template = _export("firewall-rules.json")[0]
    rules = [
        _renamed(template, staging_allow_redis_from_run=name, staging_vpc=network)
        for network, names in RULES.items()
        for name in names
    ]
    _write(folder, "firewall-rules.json", rules)
    _write(folder, "other-subnet.json", _renamed(_export("staging-us-central1.json"), staging_vpc="other"))
    cache = _export("staging-cache.redis.json")
    _write(folder, "staging-cache.redis.json", _renamed(cache, legacy_vpc="legacy"))
    unused = _renamed(cache, staging_cache="other-cache", legacy_vpc="other")
    _write(folder, "other-cache.redis.json", {**unused, "host": "10.0.0.9", "reservedIpRange": "10.0.0.8/29"})
    return folder


def _world(tmp_path: Path) -> World:
    world = World.from_folder(world_folder(tmp_path))
    assert len(world.networks) == 3 and len(world.routers) == 4 and len(world.firewalls) == 5
    assert len(world.redis_instances) == 2 and len(world.subnetworks) == 1
    return world


def _compare(server: FakeGcpServer) -> dict[str, Any]:
    run = run_cli("compare", "api", "auth", *SCOPE, "--endpoint", server.address, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return dict(run.json())


def _snapshot(server: FakeGcpServer, out: Path) -> dict[str, Any]:
    run = run_cli("snapshot", *SCOPE, "--endpoint", server.address, "-o", out)
    assert run.code == 0, run.stderr
    return dict(json.loads(out.read_text()))


def test_a_live_snapshot_holds_exactly_what_is_on_the_services_paths(tmp_path: Path) -> None:
    with FakeGcpServer(_world(tmp_path), page_size=2) as server:
        data = _snapshot(server, tmp_path / "snapshot.json")
        calls = list(server.calls)
    assert sorted(data["networks"]) == ["legacy", "shared"]
    assert data["networks"]["legacy"]["selfLink"] == f"{COMPUTE}/global/networks/legacy"
    assert sorted(data["routers"]) == ["us-central1/legacy-router", "us-central1/shared-router"]
    assert sorted(data["firewalls"]) == sorted([*RULES["legacy"], *RULES["shared"]])
    assert data["firewalls"]["legacy-allow-redis"]["allowed"] == [{"IPProtocol": "tcp", "ports": ["6379"]}]
    assert list(data["redis_instances"]) == ["10.0.0.3"]
    assert data["redis_instances"]["10.0.0.3"]["authorizedNetwork"] == f"projects/{PROJECT}/global/networks/legacy"
    assert data["subnets"] == {}  # no Direct VPC: no subnet is on a path
    assert data["errors"] == {}
    # read what the paths need, nothing else: one network get each, one listing per region and project, paged
    assert sorted(name for method, name in calls if method == "GetNetwork") == [
        f"projects/{PROJECT}/global/networks/legacy",
        f"projects/{PROJECT}/global/networks/shared",
    ]
    # three routers in us-central1, two a page
    assert [name for method, name in calls if method == "ListRouters"] == [
        f"projects/{PROJECT}/regions/us-central1"
    ] * 2
    assert [name for method, name in calls if method == "ListFirewalls"] == [f"projects/{PROJECT}"] * 3  # 3 pages
    assert [name for method, name in calls if method == "ListInstances"] == [
        f"projects/{PROJECT}/locations/us-central1"
    ]
    assert not [method for method, _ in calls if method in ("GetSubnetwork", "GetRouter", "UNIMPLEMENTED")]


def test_a_live_compare_reads_the_paths_and_equals_the_compare_from_its_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    with FakeGcpServer(_world(tmp_path), page_size=2) as server:
        online = _compare(server)
        compared = list(server.calls)
        _snapshot(server, out)
    offline = run_cli("compare", "api", "auth", "--from", out, "--format", "json")
    assert offline.code in (0, 1), offline.stderr
    assert online["findings"] and online["findings"][0]["rule"] == "vpc-access-missing"
    assert [(f["rule"], f["severity"], f["explanation"]) for f in online["findings"]] == [
        (f["rule"], f["severity"], f["explanation"]) for f in offline.json()["findings"]
    ]
    assert online["unverified"] == offline.json()["unverified"]
    assert online["incomplete"] is offline.json()["incomplete"] is False
    assert sorted(n for m, n in compared if m == "GetNetwork") == [
        f"projects/{PROJECT}/global/networks/legacy",
        f"projects/{PROJECT}/global/networks/shared",
    ]
    assert [n for m, n in compared if m == "ListFirewalls"] == [f"projects/{PROJECT}"] * 3


def test_a_denied_compute_read_is_unknown_with_the_role_to_grant(tmp_path: Path) -> None:
    denied = {("GetNetwork", "*/networks/shared"): "PERMISSION_DENIED", "ListRouters": "PERMISSION_DENIED"}
    with FakeGcpServer(_world(tmp_path), page_size=2, faults=denied) as server:
        report = _compare(server)
        data = _snapshot(server, tmp_path / "snapshot.json")
    notes = [note for note in report["notes"] if note.startswith("could not read ")]
    assert [note for note in notes if "networks:shared" in note] == [
        f"could not read networks:shared (PERMISSION_DENIED: Permission 'compute.networks.get' denied on resource "
        f"'projects/{PROJECT}/global/networks/shared' (or it may not exist).; {VIEWER})"
    ]
    (routers,) = [note for note in notes if "routers:" in note]
    assert routers.startswith(f"could not read routers:projects/{PROJECT}/regions/us-central1 (PERMISSION_DENIED")
    assert routers.endswith("needs compute.routers.list (roles/compute.networkViewer))")
    assert report["incomplete"] is True
    # unknown, not absent: stored as the error, the other network read as usual
    assert data["networks"]["shared"] == {"error": data["errors"]["networks:shared"]}
    assert data["errors"]["networks:shared"].endswith(VIEWER)
    assert "selfLink" in data["networks"]["legacy"]
    assert data["routers"] == {f"projects/{PROJECT}/regions/us-central1": {"error": data["errors"][
        f"routers:projects/{PROJECT}/regions/us-central1"]}}  # fmt: skip
    assert sorted(data["firewalls"]) == sorted([*RULES["legacy"], *RULES["shared"]])  # the path's networks are known


def test_the_rules_see_the_path_resources_and_a_denied_listing_as_unknown(tmp_path: Path) -> None:
    """refs.resources.<kind>: what is on the service's path (a later round's reads), and a failed listing as one
    unknown entry keyed by the parent listed, never an empty list."""
    from driftcheck.kinds.registry import kinds
    from driftcheck.model import Inventory, Unknown
    from driftcheck.ruleset.context.resources import resource_uses
    from driftcheck.sources.snapshot_file import load_references

    denied = {"ListRouters": "PERMISSION_DENIED"}
    with FakeGcpServer(_world(tmp_path), page_size=2, faults=denied) as server:
        data = _snapshot(server, tmp_path / "snapshot.json")
    inventory = Inventory()
    load_references(data, inventory, "snapshot")
    from driftcheck.kinds.service import cloudrun_v2

    auth = next(cloudrun_v2.parse_service(s, "live") for s in data["services"] if s["name"].endswith("/auth"))
    uses = {kind.name: resource_uses(kind, auth, inventory) for kind in kinds() if kind.snapshot_key}
    assert [use["key"] for use in uses["network"]] == ["legacy", "shared"]
    assert [use["key"] for use in uses["firewall"]] == sorted([*RULES["legacy"], *RULES["shared"]])
    assert [use["key"] for use in uses["redis"]] == ["10.0.0.3"]
    (router,) = uses["router"]
    assert router["key"] == f"projects/{PROJECT}/regions/us-central1"
    assert isinstance(router["resource"], Unknown) and "roles/compute.networkViewer" in router["resource"].reason


def test_a_connector_on_a_subnet_leads_the_fetch_to_that_subnet_and_its_network(tmp_path: Path) -> None:
    """A connector created with --subnet names no network: the fetch reads its subnet (a round after the connector),
    then the subnet's network, its routers and firewall rules; the path lands on that network."""
    from driftcheck.kinds.network.path import networks_on_path
    from driftcheck.kinds.service import cloudrun_v2
    from driftcheck.model import Inventory
    from driftcheck.paths import paths_of
    from driftcheck.sources.snapshot_file import load_references

    folder = world_folder(tmp_path)
    connector = json.loads((folder / "staging-connector.json").read_text())
    del connector["network"], connector["ipCidrRange"]
    _write(folder, "staging-connector.json", {**connector, "subnet": {"name": "run-connector", "projectId": PROJECT}})
    subnet = _renamed(_export("staging-us-central1.json"), staging_us_central1="run-connector", staging_vpc="legacy")
    _write(folder, "run-connector.json", {**subnet, "ipCidrRange": "10.8.0.0/28", "secondaryIpRanges": []})
    with FakeGcpServer(World.from_folder(folder), page_size=2) as server:
        data = _snapshot(server, tmp_path / "snapshot.json")
        calls = list(server.calls)
    assert [name for method, name in calls if method == "GetSubnetwork"] == [
        f"projects/{PROJECT}/regions/us-central1/subnetworks/run-connector"
    ]
    assert sorted(data["subnets"]) == ["us-central1/run-connector"]  # not other-subnet: on no path
    # the subnet's network is read, with its router and rules, as a connector's network is
    assert sorted(data["networks"]) == ["legacy", "shared"]
    assert sorted(data["routers"]) == ["us-central1/legacy-router", "us-central1/shared-router"]
    assert sorted(data["firewalls"]) == sorted([*RULES["legacy"], *RULES["shared"]])
    assert data["errors"] == {}
    inventory = Inventory()
    load_references(data, inventory, "snapshot")
    auth = next(cloudrun_v2.parse_service(s, "live") for s in data["services"] if s["name"].endswith("/auth"))
    assert ("netra-staging", "legacy") in networks_on_path(auth, inventory)
    connector_hops = {hop.label for path in paths_of(auth, inventory) for hop in path.hops if hop.kind == "connector"}
    assert connector_hops == {"connector staging-connector (legacy 10.8.0.0/28)"}
