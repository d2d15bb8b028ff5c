"""Acceptance of the network-path rules on whole worlds, offline (the exports folder) and live (the same world
behind the fake API server): what ranks first is the path's broken hop, both ways.

- "connector on legacy, the instance's private services access on shared" (test_network_live's world, with `api`
  given `auth`'s connector): `sql-network-mismatch` first;
- "all-traffic Direct VPC egress, no NAT for the subnet, a public API called": `egress-no-nat` first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, run_cli
from fakegcp import FakeGcpServer, World
from test_network_live import SCOPE, world_folder

NETWORK = FIXTURES / "network"
SUBNET = "projects/netra-staging/regions/us-central1/subnetworks/staging-us-central1"


def _service(folder: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((folder / f"{name}.json").read_text()))


def _save(folder: Path, name: str, data: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2))


def _reports(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON report of `compare api auth`: offline from the folder, and live from the same world."""
    offline = run_cli("compare", "api", "auth", "--from", folder, "--format", "json")
    assert offline.code in (0, 1), offline.stderr
    with FakeGcpServer(World.from_folder(folder), page_size=2) as server:
        live = run_cli("compare", "api", "auth", *SCOPE, "--endpoint", server.address, "--format", "json")
    assert live.code in (0, 1), live.stderr
    return offline.json(), live.json()


def _ranked(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["severity"], f["explanation"]) for f in report["findings"]]


def test_a_connector_on_another_network_than_the_instance_ranks_sql_network_mismatch_first(tmp_path: Path) -> None:
    folder = world_folder(tmp_path)
    api, auth = _service(folder, "api"), _service(folder, "auth")
    _save(folder, "api", {**api, "template": {**api["template"], "vpcAccess": auth["template"]["vpcAccess"]}})
    offline, live = _reports(folder)
    assert _ranked(offline) == _ranked(live)
    first = offline["findings"][0]
    assert first["rule"] == "sql-network-mismatch", _ranked(offline)
    assert (
        "through its connector on network legacy, but the instance's private IP is on network shared"
        in (first["explanation"])
    )
    assert "legacy (≠ shared) ✗" in first["explanation"]


def _no_nat_world(tmp_path: Path) -> Path:
    """The incident's services on Direct VPC (staging-vpc, subnet staging-us-central1): `api` sends all traffic
    through it and calls api.stripe.com, `auth` only private ranges; the only router's NAT covers another subnet."""
    folder = Path(shutil.copytree(FIXTURES / "incident-live", tmp_path / "world"))
    interfaces = [{"network": "projects/netra-staging/global/networks/staging-vpc", "subnetwork": SUBNET}]
    for name, egress in (("api", "ALL_TRAFFIC"), ("auth", "PRIVATE_RANGES_ONLY")):
        service = _service(folder, name)
        template = {**service["template"], "vpcAccess": {"networkInterfaces": interfaces, "egress": egress}}
        if name == "api":
            container = template["containers"][0]
            env = [*container["env"], {"name": "STRIPE_API_BASE", "value": "https://api.stripe.com/v1"}]
            template["containers"] = [{**container, "env": env}, *template["containers"][1:]]
        _save(folder, name, {**service, "template": template})
    for export in ("staging-vpc.json", "staging-us-central1.json", "staging-router.json"):
        shutil.copy(NETWORK / export, folder / export)
    return folder


def test_all_traffic_egress_without_nat_calling_a_public_api_ranks_egress_no_nat_first(tmp_path: Path) -> None:
    folder = _no_nat_world(tmp_path)
    offline, live = _reports(folder)
    assert _ranked(offline) == _ranked(live)
    first = offline["findings"][0]
    assert first["rule"] == "egress-no-nat", _ranked(offline)
    assert "api sends all traffic through the VPC (staging-vpc, us-central1)" in first["explanation"]
    assert "it calls api.stripe.com (STRIPE_API_BASE)" in first["explanation"]
