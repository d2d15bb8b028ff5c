"""Network paths, hop by hop: broken only on evidence, unknown (with what to export) when the evidence is silent."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES

from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, paths_of
from driftcheck.sources.evidence import load_evidence


def _hops(path):  # type: ignore[no-untyped-def]
    return {hop.kind: hop for hop in path.hops}


def test_the_incident_path_breaks_where_api_has_no_vpc_access() -> None:
    inventory = load_evidence([FIXTURES / "incident"])
    (api,) = paths_of(inventory.services["api"], inventory)
    assert (api.kind, api.state, api.breaks_at) == ("sql", BROKEN, "vpc")
    assert api.line == "api → no VPC access ✗ → Cloud SQL staging-shared-postgres 10.20.0.3:5432"
    (auth,) = paths_of(inventory.services["auth"], inventory)
    hops = _hops(auth)
    assert hops["connector"].label == "connector staging-connector (staging-vpc 10.8.0.0/28)"
    assert (hops["network"].state, hops["peering"].state) == (VERIFIED, VERIFIED)
    # no firewall export: unknown with the command to run, never broken
    assert hops["firewall-egress"].state == UNKNOWN
    assert hops["firewall-egress"].export == "gcloud compute firewall-rules list --format=json"
    assert auth.state == UNKNOWN and auth.breaks_at is None


def test_without_the_network_export_the_peering_is_unknown(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURES / "incident", tmp_path / "evidence"))
    (folder / "staging-vpc.json").unlink()
    inventory = load_evidence([folder])
    (auth,) = paths_of(inventory.services["auth"], inventory)
    peering = _hops(auth)["peering"]
    assert peering.state == UNKNOWN and peering.export == "gcloud compute networks describe staging-vpc --format=json"


def test_an_egress_deny_in_the_firewall_export_breaks_the_path(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURES / "incident", tmp_path / "evidence"))
    shutil.copy(FIXTURES / "network" / "firewall-rules.json", folder)
    inventory = load_evidence([folder])
    (auth,) = paths_of(inventory.services["auth"], inventory)
    assert auth.breaks_at == "firewall-egress"
    assert "staging-deny-all-egress (priority 65000) denies it" in _hops(auth)["firewall-egress"].detail


def test_nat_is_unknown_without_a_router_and_broken_when_the_routers_do_not_cover_the_subnet(tmp_path: Path) -> None:
    source = FIXTURES / "rules" / "egress-no-nat"
    inventory = load_evidence([source])
    internet = [p for p in paths_of(inventory.services["notifications"], inventory) if p.kind == "internet"]
    assert [p.destination for p in internet] == ["api.stripe.com"]
    assert _hops(internet[0])["nat"].state == BROKEN
    folder = Path(shutil.copytree(source, tmp_path / "evidence"))
    (folder / "staging-router.json").unlink()
    inventory = load_evidence([folder])
    (internet_path,) = [p for p in paths_of(inventory.services["notifications"], inventory) if p.kind == "internet"]
    nat = _hops(internet_path)["nat"]
    assert nat.state == UNKNOWN and nat.export == "gcloud compute routers list --regions us-central1 --format=json"
