"""The network-path rules beyond their fixtures: redis-unreachable, firewall-blocks-dependency and
direct-vpc-subnet-exhausted fire only on what the evidence shows, stay silent (the path says "not known") when it
is missing, and make one finding of one cause."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXTURES, compare_rule_fixture, findings_of

from driftcheck.paths import BROKEN, UNKNOWN, VERIFIED, paths_of
from driftcheck.sources.evidence import load_evidence

RULES = FIXTURES / "rules"


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(RULES / name, tmp_path / name))


def _edit_json(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=2))


def _hops(path):  # type: ignore[no-untyped-def]
    return {hop.kind: hop for hop in path.hops}


# --- redis-unreachable -------------------------------------------------------------------------------------------


def test_a_connector_mismatch_that_the_redis_path_explains_is_one_finding() -> None:
    report = compare_rule_fixture(RULES / "redis-unreachable")
    (finding,) = findings_of(report, "redis-unreachable")
    assert "vpc-connector-mismatch" in finding["corroborated_by"]
    assert not findings_of(report, "vpc-connector-mismatch")
    assert (
        "--vpc-connector projects/123456789012/locations/us-central1/connectors/legacy-connector"
        in (finding["remediation"]["gcloud"])
    )


def test_private_services_access_mode_needs_the_servicenetworking_peering(tmp_path: Path) -> None:
    folder = _copy("redis-unreachable", tmp_path)
    # the instance authorized on the target's own network, through private services access, which it lacks
    network = json.loads((folder / "staging-vpc.json").read_text())
    _edit_json(folder / "staging-vpc.json", peerings=[])
    cache = folder / "staging-cache.redis.json"
    _edit_json(
        cache,
        authorizedNetwork=f"projects/netra-staging/global/networks/{network['name']}",
        connectMode="PRIVATE_SERVICE_ACCESS",
    )
    report = compare_rule_fixture(folder)
    (finding,) = findings_of(report, "redis-unreachable")
    assert "authorized on network staging-vpc" in finding["explanation"]
    assert "staging-vpc has no ACTIVE peering to servicenetworking" in finding["explanation"]
    assert "staging-vpc ✓ → PSA peering ✗" in finding["explanation"]
    # with the peering there, the same instance is reached: silent
    _edit_json(folder / "staging-vpc.json", peerings=network["peerings"])
    assert not findings_of(compare_rule_fixture(folder), "redis-unreachable")


def test_a_network_not_in_the_evidence_leaves_the_redis_path_unknown_and_the_rule_silent(tmp_path: Path) -> None:
    folder = _copy("redis-unreachable", tmp_path)
    (folder / "staging-vpc.json").unlink()
    inventory = load_evidence([folder])
    (path,) = paths_of(inventory.services["sessions"], inventory)
    assert (path.kind, _hops(path)["network"].state) == ("redis", UNKNOWN)
    assert _hops(path)["network"].export == "gcloud compute networks describe staging-vpc --format=json"
    assert not findings_of(compare_rule_fixture(folder), "redis-unreachable")


def test_a_connect_mode_the_export_does_not_state_is_unknown_never_verified(tmp_path: Path) -> None:
    folder = _copy("redis-unreachable", tmp_path)
    cache = json.loads((folder / "staging-cache.redis.json").read_text())
    del cache["connectMode"]
    (folder / "staging-cache.redis.json").write_text(json.dumps(cache))
    inventory = load_evidence([folder])
    (path,) = paths_of(inventory.services["carts"], inventory)
    assert _hops(path)["network"].state == VERIFIED
    mode = _hops(path)["peering"]
    assert mode.state == UNKNOWN and mode.export == (
        "gcloud redis instances describe staging-cache --region us-central1 --project netra-staging --format=json"
    )


def test_no_vpc_path_to_a_redis_host_is_one_finding(tmp_path: Path) -> None:
    folder = _copy("redis-unreachable", tmp_path)
    target = folder / "target.yaml"
    target.write_text("\n".join(line for line in target.read_text().splitlines() if "vpc-access-" not in line) + "\n")
    report = compare_rule_fixture(folder)
    rules = [f["rule"] for f in report["findings"]]
    assert "redis-unreachable" not in rules and "private-host-without-vpc-path" not in rules
    (host,) = findings_of(report, "vpc-access-missing")
    assert {"redis-unreachable", "private-host-without-vpc-path"} <= set(host["corroborated_by"])
    assert any("Memorystore staging-cache" in c and "no VPC access ✗" in c for c in host["confirmations"])


# --- firewall-blocks-dependency ----------------------------------------------------------------------------------


def test_the_fix_takes_the_peers_network_tags_that_the_egress_allow_targets() -> None:
    (finding,) = findings_of(compare_rule_fixture(RULES / "firewall-blocks-dependency"), "firewall-blocks-dependency")
    assert finding["remediation"]["gcloud"].endswith(
        "--network staging-vpc --subnet staging-us-central1 --network-tags db-clients"
    )
    assert 'subnetwork = "staging-us-central1", tags = ["db-clients"]' in finding["remediation"]["terraform"]


def test_an_explicit_higher_priority_allow_wins_over_the_deny_all_egress() -> None:
    inventory = load_evidence([RULES / "firewall-blocks-dependency"])
    (blocked,) = paths_of(inventory.services["payouts"], inventory)
    (allowed,) = paths_of(inventory.services["payouts-batch"], inventory)
    assert (blocked.state, blocked.breaks_at) == (BROKEN, "firewall-egress")
    egress = _hops(allowed)["firewall-egress"]
    assert egress.state == VERIFIED
    assert egress.detail.startswith("egress rule staging-allow-egress-sql (priority 1000) allows it")
    # a managed destination: no ingress hop is judged
    assert "firewall-ingress" not in _hops(allowed)


def test_without_an_egress_rule_the_implied_allow_lets_it_out(tmp_path: Path) -> None:
    folder = _copy("firewall-blocks-dependency", tmp_path)
    rules = json.loads((folder / "firewall-rules.json").read_text())
    (folder / "firewall-rules.json").write_text(json.dumps([r for r in rules if r["direction"] == "INGRESS"]))
    inventory = load_evidence([folder])
    (path,) = paths_of(inventory.services["payouts"], inventory)
    assert _hops(path)["firewall-egress"].detail.startswith("no egress rule denies it (the implied rule allows")
    assert not findings_of(compare_rule_fixture(folder), "firewall-blocks-dependency")


def test_without_the_firewall_export_the_hop_is_unknown_and_the_rule_silent(tmp_path: Path) -> None:
    folder = _copy("firewall-blocks-dependency", tmp_path)
    (folder / "firewall-rules.json").unlink()
    report = compare_rule_fixture(folder)
    assert not findings_of(report, "firewall-blocks-dependency")
    inventory = load_evidence([folder])
    (path,) = paths_of(inventory.services["payouts"], inventory)
    hop = _hops(path)["firewall-egress"]
    assert hop.state == UNKNOWN and hop.export == "gcloud compute firewall-rules list --format=json"


def _vm_world(tmp_path: Path, port: int) -> Path:
    """Both services reach a VM at 10.10.0.40 (in subnet staging-us-central1) on `port`, with egress allowed."""
    folder = _copy("firewall-blocks-dependency", tmp_path)
    for name in ("target.yaml", "baseline.yaml"):
        path = folder / name
        text = path.read_text().replace("postgresql://payouts@10.20.0.9:5432/payments", f"http://10.10.0.40:{port}")
        path.write_text(text)
    (folder / "payments-pg.json").unlink()
    rules = json.loads((folder / "firewall-rules.json").read_text())
    (folder / "firewall-rules.json").write_text(json.dumps([r for r in rules if r["direction"] == "INGRESS"]))
    return folder


def test_a_vm_no_ingress_rule_lets_in_is_blocked_by_the_implied_deny(tmp_path: Path) -> None:
    folder = _vm_world(tmp_path, 8443)
    (finding,) = findings_of(compare_rule_fixture(folder), "firewall-blocks-dependency")
    assert "reaches 10.10.0.40 at 10.10.0.40:8443 from 10.10.0.0/24" in finding["explanation"]
    assert "no ingress rule allows 10.10.0.0/24 in (the implied rule denies ingress)" in finding["explanation"]
    assert "Google's network" not in finding["explanation"]  # a VM: ingress rules do apply
    # the port staging-allow-redis-from-run opens: allowed
    assert not findings_of(compare_rule_fixture(_vm_world(tmp_path / "open", 6379)), "firewall-blocks-dependency")


def test_an_ingress_rule_for_tagged_vms_leaves_the_vm_hop_unknown(tmp_path: Path) -> None:
    folder = _vm_world(tmp_path, 8443)
    rules = json.loads((folder / "firewall-rules.json").read_text())
    rules[0] = {**rules[0], "allowed": [{"IPProtocol": "tcp", "ports": ["8443"]}], "targetTags": ["api-vm"]}
    (folder / "firewall-rules.json").write_text(json.dumps(rules))
    assert not findings_of(compare_rule_fixture(folder), "firewall-blocks-dependency")
    inventory = load_evidence([folder])
    (path,) = paths_of(inventory.services["payouts"], inventory)
    assert _hops(path)["firewall-ingress"].state == UNKNOWN


def test_a_connector_is_let_in_by_its_network_tag_as_a_source_tag() -> None:
    from driftcheck.kinds.network.firewall import parse_firewall
    from driftcheck.paths.firewall import ingress_verdict

    rule = parse_firewall(
        {
            "kind": "compute#firewall",
            "name": "allow-connectors",
            "network": "projects/netra-staging/global/networks/staging-vpc",
            "direction": "INGRESS",
            "priority": 900,
            "disabled": False,
            "allowed": [{"IPProtocol": "tcp", "ports": ["8443"]}],
            "sourceTags": ["vpc-connector"],
        },
        "rules.json",
    )
    tags = ("vpc-connector", "vpc-connector-us-central1-staging-connector")
    assert ingress_verdict([rule], ("10.8.0.0/28",), 8443, tags)[0] == VERIFIED
    # Direct VPC traffic is not matched by tags in ingress rules: the implied deny
    assert ingress_verdict([rule], ("10.10.0.0/24",), 8443)[0] == BROKEN


# --- direct-vpc-subnet-exhausted ---------------------------------------------------------------------------------


def test_a_subnet_with_room_for_every_instance_is_silent(tmp_path: Path) -> None:
    folder = _copy("direct-vpc-subnet-exhausted", tmp_path)
    target = folder / "target.yaml"
    target.write_text(target.read_text().replace("maxScale: '40'", "maxScale: '25'"))  # 2 x (25 + 5) = 60: fits
    assert not findings_of(compare_rule_fixture(folder), "direct-vpc-subnet-exhausted")


def test_a_subnet_below_a_26_is_too_small_whatever_the_instances(tmp_path: Path) -> None:
    folder = _copy("direct-vpc-subnet-exhausted", tmp_path)
    _edit_json(folder / "staging-run-small.json", ipCidrRange="10.10.8.0/27")
    target = folder / "target.yaml"
    target.write_text(target.read_text().replace("maxScale: '40'", "maxScale: '3'"))
    (folder / "imports.yaml").unlink()
    (finding,) = findings_of(compare_rule_fixture(folder), "direct-vpc-subnet-exhausted")
    assert finding["severity"] == "medium"
    assert "(10.10.8.0/27, 28 usable addresses), smaller than the /26 Cloud Run asks for:" in finding["explanation"]
    assert "may need" not in finding["explanation"]


def test_a_service_without_a_maximum_is_named_not_counted(tmp_path: Path) -> None:
    folder = _copy("direct-vpc-subnet-exhausted", tmp_path)
    imports = folder / "imports.yaml"
    imports.write_text(imports.read_text().replace("        autoscaling.knative.dev/maxScale: '5'\n", ""))
    (finding,) = findings_of(compare_rule_fixture(folder), "direct-vpc-subnet-exhausted")
    assert "may need 80 (exports 40 x 2), not counting imports (no maximum instances set)" in finding["explanation"]


def test_two_revisions_of_one_service_on_the_subnet_count_once() -> None:
    """A revision compare names `exports@latest` and `exports@last-ready`: one service's share, not two."""
    from dataclasses import replace

    from driftcheck.paths.subnets import subnet_uses

    inventory = load_evidence([RULES / "direct-vpc-subnet-exhausted"])
    exports = next(s for s in inventory.services.values() if s.name == "exports")
    for label in ("latest", "last-ready"):
        name = f"exports@{label}"
        metadata = replace(exports.metadata, revision_of="exports")
        inventory.services[name] = replace(exports, name=name, metadata=metadata)
    (use,) = subnet_uses(inventory.services["exports@latest"], inventory)
    assert sorted(share.service for share in use.others) == ["imports"]
