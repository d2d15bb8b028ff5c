"""`driftcheck audit --source asset-inventory`: the same findings as per-resource calls, through far fewer calls.

The fake serves fixtures/audit-live/world (three projects) under folders/100, organization 900; Cloud Asset
Inventory's ListAssets is served from the same world (tests/fakegcp/assets.py), so both sources read one truth.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AUDIT, Run, run_cli
from fakegcp import FakeGcpServer, World

PROJECTS = ("netra-staging", "netra-prod", "netra-dev")
# Cloud SQL, connectors, the hierarchy, service accounts, routers and firewall rules: all in the inventory
HELD = ("Get", "GetConnector", "GetProject", "GetFolder", "GetServiceAccount", "ListRouters", "ListFirewalls")
LINK = "https://www.googleapis.com/compute/v1/projects"
# prod's and staging's networks, a NAT router and firewall rules (dev's network is in no inventory: its connector
# names one that does not exist, which the API's NOT_FOUND says, in both audits)
COMPUTE = (
    {"kind": "compute#network", "name": "prod-vpc", "autoCreateSubnetworks": False, "mtu": 1460,
     "routingConfig": {"routingMode": "REGIONAL"}, "selfLink": f"{LINK}/netra-prod/global/networks/prod-vpc"},
    {"kind": "compute#network", "name": "staging-vpc", "autoCreateSubnetworks": False,
     "selfLink": f"{LINK}/netra-staging/global/networks/staging-vpc"},
    {"kind": "compute#router", "name": "prod-nat", "region": f"{LINK}/netra-prod/regions/us-central1",
     "network": f"{LINK}/netra-prod/global/networks/prod-vpc",
     "nats": [{"name": "nat", "natIpAllocateOption": "AUTO_ONLY",
               "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES"}],
     "selfLink": f"{LINK}/netra-prod/regions/us-central1/routers/prod-nat"},
    {"kind": "compute#firewall", "name": "deny-postgres",
     "network": f"{LINK}/netra-staging/global/networks/staging-vpc", "direction": "EGRESS", "priority": 900,
     "denied": [{"IPProtocol": "tcp", "ports": ["5432"]}],
     "destinationRanges": ["10.0.0.0/8"], "selfLink": f"{LINK}/netra-staging/global/firewalls/deny-postgres"},
    {"kind": "compute#firewall", "name": "allow-internal", "network": f"{LINK}/netra-prod/global/networks/prod-vpc",
     "direction": "INGRESS", "priority": 65534, "allowed": [{"IPProtocol": "all"}], "sourceRanges": ["10.0.0.0/8"],
     "selfLink": f"{LINK}/netra-prod/global/firewalls/allow-internal"},
)  # fmt: skip


@pytest.fixture
def org() -> Iterator[FakeGcpServer]:
    world = World.from_folder(AUDIT / "world")
    world.set_ancestry([{"id": "netra-staging", "type": "project"}, {"id": "100", "type": "folder"},
                        {"id": "900", "type": "organization"}])  # fmt: skip
    for project in PROJECTS[1:]:
        world.set_ancestry([{"id": project, "type": "project"}, {"id": "900", "type": "organization"}])
    world.set_ancestor_iam_policy("organizations/900", {"bindings": [
        {"role": "roles/secretmanager.secretAccessor", "members": ["group:platform@example.com"]}]})  # fmt: skip
    for resource in COMPUTE:
        world.add_compute(resource)
    world.service_accounts["worker@netra-staging.iam.gserviceaccount.com"].disabled = True  # read from either source
    with FakeGcpServer(world, page_size=2) as fake:
        yield fake


def _audit(fake: FakeGcpServer, tmp: Path, *extra: str) -> Run:
    return run_cli("audit", "--endpoint", fake.address, "--no-history", "--format", "json", "--region",
                   "us-central1", *extra)  # fmt: skip


def _findings(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["subject"], f["explanation"]) for f in report["findings"]]


def _calls(fake: FakeGcpServer, run: Any) -> tuple[Run, list[tuple[str, str]], dict[str, int]]:
    before, counts = fake.call_count, dict(fake.counts)
    result = run()
    return result, fake.calls[before:], {m: n - counts.get(m, 0) for m, n in fake.counts.items()}


def test_an_organization_audit_finds_the_same_through_far_fewer_calls(org: FakeGcpServer, tmp_path: Path) -> None:
    api, api_calls, api_by = _calls(org, lambda: _audit(org, tmp_path, "--organization", "900"))
    bulk, bulk_calls, bulk_by = _calls(
        org, lambda: _audit(org, tmp_path, "--organization", "900", "--source", "asset-inventory")
    )
    assert api.code == bulk.code == 1, bulk.stderr
    assert _findings(bulk.json()) and _findings(bulk.json()) == _findings(api.json())
    assert bulk.json()["unverified"] == api.json()["unverified"]
    assert bulk.json()["status"]["reason"] == "audit of 7 services in 3 projects"
    # the per-resource reads the inventory answers are not made at all; what it does not hold still is: dev's network
    # (deleted: NOT_FOUND), and the world's one secret, which lives in project 123456789012 (netra-dev) while staging
    # and prod name a `db-password` of their own (the fake's Secret Manager ignores the project: ids are unique)
    assert {m: bulk_by.get(m, 0) for m in HELD} == dict.fromkeys(HELD, 0)
    assert all(api_by.get(m, 0) > 0 for m in HELD if m != "GetFolder"), api_by
    # a network is read in the project of the fetch: one the inventory does not hold there is asked of the API
    held = {"projects/netra-prod/global/networks/prod-vpc", "projects/netra-staging/global/networks/staging-vpc"}
    networks = {name for method, name in api_calls if method == "GetNetwork"}
    assert held < networks and sorted(name for method, name in bulk_calls if method == "GetNetwork") == sorted(
        networks - held
    )
    assert {name for method, name in bulk_calls if method == "GetIamPolicy"} <= {
        f"projects/{p}/secrets/db-password" for p in PROJECTS
    }
    assert api_by["GetIamPolicy"] > bulk_by["GetIamPolicy"]  # project, folder, organization and service policies
    assert bulk_by.get("ListServices", 0) == 0
    assert bulk_by["ListAssets"] > 0 and len(bulk_calls) * 3 < len(api_calls) * 2, (len(bulk_calls), len(api_calls))
    notes = bulk.json()["notes"]
    assert any(n.startswith("read through Cloud Asset Inventory, as of ") and "2026-12-01T03:00:00Z" in n
               for n in notes), notes  # fmt: skip
    assert not any("Cloud Asset Inventory" in n for n in api.json()["notes"])


def test_an_asset_type_the_inventory_does_not_serve_is_read_per_resource(org: FakeGcpServer, tmp_path: Path) -> None:
    api = _audit(org, tmp_path, "--organization", "900")
    org.unsupported_asset_types = {"secretmanager.googleapis.com/SecretVersion"}
    bulk, _, by = _calls(org, lambda: _audit(org, tmp_path, "--organization", "900", "--source", "asset-inventory"))
    assert _findings(bulk.json()) == _findings(api.json())
    assert by["ListSecretVersions"] >= 1  # the fallback: the versions read per secret
    (note,) = [n for n in bulk.json()["notes"] if "could not list" in n]
    assert "secretmanager.googleapis.com/SecretVersion in organizations/900 (INVALID_ARGUMENT" in note
    assert note.endswith("read per resource instead")


def test_a_project_whose_inventory_is_denied_falls_back_with_a_note(org: FakeGcpServer, tmp_path: Path) -> None:
    projects = [arg for p in PROJECTS for arg in ("--project", p)]
    api = _audit(org, tmp_path, *projects)
    org.inject("ListAssets", "projects/netra-prod", "PERMISSION_DENIED")
    bulk, calls, _ = _calls(org, lambda: _audit(org, tmp_path, *projects, "--source", "asset-inventory"))
    assert bulk.code == api.code == 1
    assert _findings(bulk.json()) == _findings(api.json())
    assert bulk.json()["incomplete"] == api.json()["incomplete"]
    listed = [name for method, name in calls if method == "ListServices"]
    assert listed == ["projects/netra-prod/locations/us-central1"]  # only the denied project is listed per region
    denied = [n for n in bulk.json()["notes"] if "projects/netra-prod (PERMISSION_DENIED" in n]
    assert denied and all("roles/cloudasset.viewer" in n and "read per resource instead" in n for n in denied)


def test_a_shard_reads_only_its_share_of_the_organization(org: FakeGcpServer, tmp_path: Path) -> None:
    part = tmp_path / "part.json"
    run, calls, _ = _calls(org, lambda: _audit(org, tmp_path, "--organization", "900", "--source", "asset-inventory",
                                               "--shard", "1/3", "--partial", str(part)))  # fmt: skip
    assert run.code == 0, run.stderr
    partial = json.loads(part.read_text())
    assert partial["projects"] == ["netra-prod"]  # sorted: netra-dev, netra-prod, netra-staging; every 3rd from 1
    assert [c["project"] for c in partial["collected"]] == ["netra-prod"]
    # the organization only for what every task needs (the project list) and what is above the projects; the rest
    # of the inventory is its own project's: two listings, every type at once
    listed = sorted(name for method, name in calls if method == "ListAssets")
    assert sorted(set(listed)) == ["organizations/900", "projects/netra-prod"], listed
    assert listed.count("projects/netra-prod") == 2
    others = {name for method, name in calls if "netra-dev" in name or "netra-staging" in name}
    assert not others, others


def test_each_shard_takes_the_snapshot_the_whole_audit_takes(org: FakeGcpServer, tmp_path: Path) -> None:
    whole = tmp_path / "whole.json"
    scope = ("--organization", "900", "--source", "asset-inventory")
    run, calls, _ = _calls(org, lambda: _audit(org, tmp_path, *scope, "--partial", str(whole)))
    assert run.code == 0, run.stderr
    expected = {c["project"]: _stable(c["snapshot"]) for c in json.loads(whole.read_text())["collected"]}
    shards, shard_calls = {}, []
    for index in range(2):
        part = tmp_path / f"part-{index}.json"
        shard = ("--shard", f"{index}/2", "--partial", str(part))
        run, made, _ = _calls(org, functools.partial(_audit, org, tmp_path, *scope, *shard))
        assert run.code == 0, run.stderr
        shards.update({c["project"]: _stable(c["snapshot"]) for c in json.loads(part.read_text())["collected"]})
        shard_calls += [call for call in made if call[0] != "ListAssets"]
    assert sorted(expected) == sorted(PROJECTS)
    assert shards == expected
    # read per resource only where the whole audit is too (what no inventory holds): nothing of a share fell back
    assert sorted(shard_calls) == sorted(call for call in calls if call[0] != "ListAssets")


def _stable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without what differs from one run to the next: when it was taken, the inventory's read time."""
    return {key: value for key, value in snapshot.items() if key not in ("created", "asset_inventory")}


# Sharded: the merge needs no configuration file ----------------------------------------------------------------


@pytest.mark.parametrize("source", ["api", "asset-inventory"])
def test_an_organization_audit_sharded_and_merged_without_a_config_is_the_unsharded_one(
    org: FakeGcpServer, tmp_path: Path, source: str
) -> None:
    whole = _audit(org, tmp_path, "--organization", "900", "--source", source)
    parts = tmp_path / "parts"
    for index in range(2):
        shard = _audit(org, tmp_path, "--organization", "900", "--source", source, "--shard", f"{index}/2",
                       "--partial", f"{parts}/")  # fmt: skip
        assert shard.code == 0 and shard.stdout == "", shard.stderr
    written = [json.loads((parts / f"part-{i}-of-2.json").read_text()) for i in range(2)]
    assert [p["projects"] for p in written] == [["netra-dev", "netra-staging"], ["netra-prod"]]
    assert [p["scope"] for p in written] == [{
        "projects": ["netra-dev", "netra-prod", "netra-staging"], "regions": ["us-central1"],
        "parents": ["organizations/900"], "source": source, "region_peers": True,
    }] * 2  # fmt: skip
    merged = run_cli("merge", parts, "--format", "json")
    assert merged.code == whole.code == 1, merged.stderr
    assert _findings(merged.json()) == _findings(whole.json())
    # the region-peer check an unsharded one-off audit makes: a service that is not ready, with its stated failure
    assert [f for f in _findings(whole.json()) if f[1] == "netra-staging/us-central1/api"]
    assert merged.json()["unverified"] == whole.json()["unverified"]
    # target, status, incomplete too; the notes but for when each task read the inventory (one note each)
    as_of = re.compile(r"as of [0-9T:.+-]+;")
    assert {**merged.json(), "notes": None} == {**whole.json(), "notes": None}
    assert {as_of.sub("as of …;", n) for n in merged.json()["notes"]} == {
        as_of.sub("as of …;", n) for n in whole.json()["notes"]
    }
    strict = run_cli("merge", parts / "part-0-of-2.json", "--format", "json", "--strict")
    assert strict.code == 3 and "shard 1/2: no partial report found" in strict.json()["notes"]


@pytest.mark.parametrize(
    ("second", "differs"),
    [
        (("--organization", "900", "--source", "asset-inventory"), "in source"),
        (("--organization", "900", "--region", "europe-west1"), "in regions"),
        (("--folder", "100"), "in projects, parents"),
    ],
)
def test_partials_of_audits_of_another_scope_are_refused(
    org: FakeGcpServer, tmp_path: Path, second: tuple[str, ...], differs: str
) -> None:
    parts = tmp_path / "parts"
    first = _audit(org, tmp_path, "--organization", "900", "--shard", "0/2", "--partial", f"{parts}/")
    other = _audit(org, tmp_path, *second, "--shard", "1/2", "--partial", f"{parts}/")
    assert first.code == other.code == 0, other.stderr
    merged = run_cli("merge", parts, "--format", "json")
    assert merged.code == 2 and merged.stdout == "", merged.stderr
    (line,) = merged.stderr.strip().splitlines()
    assert f"{parts / 'part-1-of-2.json'}: its scope differs from {parts / 'part-0-of-2.json'}'s {differs}:" in line
    assert line.endswith("the partials come from different audits; merge the partials of one run"), line


def test_a_partial_without_a_scope_among_ones_with_is_refused(org: FakeGcpServer, tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    for index in range(2):
        shard = _audit(org, tmp_path, "--organization", "900", "--shard", f"{index}/2", "--partial", f"{parts}/")
        assert shard.code == 0, shard.stderr
    old = parts / "part-1-of-2.json"
    document = json.loads(old.read_text())
    del document["scope"]  # as a partial of an earlier version, or of an audit with a configuration file
    old.write_text(json.dumps(document))
    merged = run_cli("merge", parts)
    assert merged.code == 2 and len(merged.stderr.strip().splitlines()) == 1, merged.stderr
    assert f"{old}: it does not record the scope of an audit without a configuration" in merged.stderr
