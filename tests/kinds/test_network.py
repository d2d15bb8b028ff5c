"""The network kinds (VPC network, subnet, Cloud Router with NAT, firewall rules) and Memorystore Redis: evidence,
hostile fields, snapshots, Terraform, and what a rule sees under refs.resources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, INCIDENT, write_snapshot, write_state

from driftcheck.errors import InputError
from driftcheck.jobs.compare import compare
from driftcheck.model import Inventory, Unknown
from driftcheck.report import reporter
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources.evidence import load_evidence

NETWORK = FIXTURES / "network"
PROJECT = "netra-staging"
REDIS = f"projects/{PROJECT}/locations/us-central1/instances/staging-cache"
SUBNET = "us-central1/staging-us-central1"


@pytest.fixture(scope="module")
def loaded() -> Inventory:
    return load_evidence([NETWORK])


def _raw(name: str) -> Any:
    return json.loads((NETWORK / name).read_text())


def test_the_network_loads_with_private_services_access(loaded: Inventory) -> None:
    network = loaded.of("network")["staging-vpc"]
    assert (network.project, network.routing_mode, network.mtu) == (PROJECT, "REGIONAL", 1460)
    assert network.subnetworks == (SUBNET, "us-central1/staging-us-central1-jobs")
    (peering,) = network.peerings.values()
    assert peering.private_services_access and peering.state == "ACTIVE"
    assert peering.peer_network.endswith("/global/networks/servicenetworking")
    assert network.private_services_access is True
    assert network.provenance["private_services_access"].endswith("staging-vpc.json:peerings")


def test_an_inactive_or_missing_servicenetworking_peering_is_no_private_services_access(tmp_path: Path) -> None:
    raw = _raw("staging-vpc.json")
    raw["peerings"][0]["state"] = "INACTIVE"
    (tmp_path / "inactive.json").write_text(json.dumps(raw))
    assert load_evidence([tmp_path]).of("network")["staging-vpc"].private_services_access is False
    del raw["peerings"]  # the API omits an empty list
    (tmp_path / "inactive.json").write_text(json.dumps(raw))
    assert load_evidence([tmp_path]).of("network")["staging-vpc"].peerings == {}


def test_the_subnet_loads_keyed_by_region_and_name(loaded: Inventory) -> None:
    subnet = loaded.of("subnet")[SUBNET]
    assert (subnet.network, subnet.region, subnet.ip_cidr_range) == ("staging-vpc", "us-central1", "10.10.0.0/24")
    assert subnet.private_google_access is False and subnet.purpose == "PRIVATE"
    assert subnet.secondary_ranges == {"run-direct-vpc": "10.12.0.0/20"}


def test_a_subnet_without_private_google_access_field_is_unknown_not_off(tmp_path: Path) -> None:
    raw = _raw("staging-us-central1.json")
    del raw["privateIpGoogleAccess"]
    (tmp_path / "subnet.json").write_text(json.dumps(raw))
    assert isinstance(load_evidence([tmp_path]).of("subnet")[SUBNET].private_google_access, Unknown)


def test_the_router_loads_its_nat_and_the_subnets_it_covers(loaded: Inventory) -> None:
    router = loaded.of("router")["us-central1/staging-router"]
    assert (router.network, router.region, router.nats_complete) == ("staging-vpc", "us-central1", True)
    nat = router.nats["staging-nat"]
    assert nat.all_subnetworks is False and nat.subnetworks == ("us-central1/staging-us-central1-jobs",)
    assert nat.nat_ip_allocate_option == "AUTO_ONLY"


def test_one_firewall_list_loads_as_many_rules(loaded: Inventory) -> None:
    rules = loaded.of("firewall")
    assert sorted(rules) == ["staging-allow-iap-ssh", "staging-allow-redis-from-run", "staging-deny-all-egress"]
    deny = rules["staging-deny-all-egress"]
    assert (deny.direction, deny.priority, deny.action, deny.destination_ranges) == (
        "EGRESS",
        65000,
        "deny",
        ("0.0.0.0/0",),
    )
    assert deny.protocols[0].protocol == "all" and deny.protocols[0].ports == ()
    redis_rule = rules["staging-allow-redis-from-run"]
    assert redis_rule.protocols[0].ports == ("6379",) and redis_rule.source_ranges == ("10.10.0.0/24", "10.8.0.0/28")
    assert deny.origin.endswith("firewall-rules.json[2]")  # each rule names its place in the list


def test_the_redis_instance_loads_keyed_by_host(loaded: Inventory) -> None:
    instance = loaded.of("redis")["10.0.0.3"]
    assert (instance.name, instance.port, instance.state) == (REDIS, 6379, "READY")
    assert (instance.authorized_network, instance.connect_mode) == ("legacy-vpc", "DIRECT_PEERING")
    assert instance.auth_enabled is False  # the API omits a false authEnabled


# --- hostile input: one input error naming the file and the field ------------------------------------------


@pytest.mark.parametrize(
    ("file", "change", "field"),
    [
        ("staging-vpc.json", {"peerings": [{"name": "p", "state": "ACTIVE"}]}, "peerings[0].network"),
        ("staging-vpc.json", {"mtu": "jumbo"}, "mtu"),
        ("staging-vpc.json", {"subnetworks": "all"}, "subnetworks"),
        ("staging-us-central1.json", {"ipCidrRange": "10.10.0.0/33"}, "ipCidrRange"),
        ("staging-us-central1.json", {"privateIpGoogleAccess": "no"}, "privateIpGoogleAccess"),
        ("staging-us-central1.json", {"name": ""}, "name"),
        (
            "staging-router.json",
            {"nats": [{"name": "n", "sourceSubnetworkIpRangesToNat": "SOME"}]},
            "nats[0].sourceSubnetworkIpRangesToNat",
        ),
        ("staging-router.json", {"nats": {"name": "n"}}, "nats"),
        ("staging-cache.redis.json", {"port": 70000}, "port"),
        ("staging-cache.redis.json", {"host": "cache.internal"}, "host"),
        ("staging-cache.redis.json", {"connectMode": "VPN"}, "connectMode"),
    ],
)
def test_a_bad_field_is_an_input_error_naming_file_and_field(
    tmp_path: Path, file: str, change: dict[str, Any], field: str
) -> None:
    (tmp_path / file).write_text(json.dumps({**_raw(file), **change}))
    with pytest.raises(InputError) as raised:
        load_evidence([tmp_path])
    assert (raised.value.file, raised.value.where) == (str(tmp_path / file), field)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("index", "change", "field"),
    [
        (2, {"priority": 70000}, "priority"),
        (0, {"sourceRanges": ["10.10.0.0/24", "everywhere"]}, "sourceRanges[1]"),
        (1, {"direction": "INBOUND"}, "direction"),
        (1, {"allowed": [{"ports": ["22"]}]}, "allowed[0].IPProtocol"),
        (2, {"allowed": [{"IPProtocol": "tcp"}]}, "denied"),
    ],
)
def test_a_bad_firewall_in_a_list_names_its_place(
    tmp_path: Path, index: int, change: dict[str, Any], field: str
) -> None:
    rules = _raw("firewall-rules.json")
    rules[index] = {**rules[index], **change}
    path = tmp_path / "firewall-rules.json"
    path.write_text(json.dumps(rules))
    with pytest.raises(InputError) as raised:
        load_evidence([tmp_path])
    assert raised.value.file == (f"{path}[{index}]" if index else str(path)) and raised.value.where == field


# --- snapshots ------------------------------------------------------------------------------------------------


def test_every_kind_round_trips_through_a_snapshot(loaded: Inventory, tmp_path: Path) -> None:
    rules = {rule["name"]: rule for rule in _raw("firewall-rules.json")}
    denied = "PERMISSION_DENIED: Required 'compute.networks.get' permission"
    snap = write_snapshot(
        tmp_path,
        PROJECT,
        networks={"staging-vpc": _raw("staging-vpc.json"), "legacy-vpc": {"error": denied}},
        subnets={SUBNET: _raw("staging-us-central1.json")},
        routers={"us-central1/staging-router": _raw("staging-router.json")},
        firewalls=rules,
        redis_instances={"10.0.0.3": _raw("staging-cache.redis.json")},
    )
    again = load_evidence([snap])
    for kind in ("network", "subnet", "router", "firewall", "redis"):
        assert sorted(again.of(kind)) == sorted(loaded.of(kind)), kind
        for key, resource in again.of(kind).items():
            exported = loaded.of(kind)[key]
            assert resource == type(exported)(
                **{**_fields(exported), "origin": resource.origin, "provenance": resource.provenance}
            )
    assert "legacy-vpc" not in again.of("network")  # unknown, never absent: the error says why
    assert again.errors == {"networks:legacy-vpc": denied}


def _fields(resource: Any) -> dict[str, Any]:
    return {name: getattr(resource, name) for name in resource.__dataclass_fields__}


# --- Terraform ------------------------------------------------------------------------------------------------

TF_NETWORK = {
    "name": "staging-vpc",
    "project": PROJECT,
    "auto_create_subnetworks": False,
    "routing_mode": "REGIONAL",
    "mtu": 1460,
    "id": f"projects/{PROJECT}/global/networks/staging-vpc",
    "self_link": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/staging-vpc",
}
TF_PSA = {
    "network": f"projects/{PROJECT}/global/networks/staging-vpc",
    "service": "servicenetworking.googleapis.com",
    "peering": "servicenetworking-googleapis-com",
    "reserved_peering_ranges": ["staging-psa-range"],
}
TF_SUBNET = {
    "name": "staging-us-central1",
    "project": PROJECT,
    "region": "us-central1",
    "network": TF_NETWORK["self_link"],
    "ip_cidr_range": "10.10.0.0/24",
    "private_ip_google_access": False,
    "purpose": "PRIVATE",
    "secondary_ip_range": [{"range_name": "run-direct-vpc", "ip_cidr_range": "10.12.0.0/20"}],
}
TF_REDIS = {
    "name": "staging-cache",
    "project": PROJECT,
    "region": "us-central1",
    "id": REDIS,
    "host": "10.0.0.3",
    "port": 6379,
    "tier": "BASIC",
    "memory_size_gb": 1,
    "redis_version": "REDIS_7_0",
    "authorized_network": f"projects/{PROJECT}/global/networks/legacy-vpc",
    "connect_mode": "DIRECT_PEERING",
    "auth_enabled": False,
    "transit_encryption_mode": "DISABLED",
}


def test_terraform_state_maps_network_subnet_and_redis_as_the_exports(loaded: Inventory, tmp_path: Path) -> None:
    state = write_state(
        tmp_path,
        ("google_service_networking_connection", TF_PSA),  # before its network: merged whichever comes first
        ("google_compute_network", TF_NETWORK),
        ("google_compute_subnetwork", TF_SUBNET),
        ("google_redis_instance", TF_REDIS),
    )
    inventory = load_evidence([state])
    network = inventory.of("network")["staging-vpc"]
    assert (network.project, network.routing_mode, network.peerings_complete) == (PROJECT, "REGIONAL", False)
    assert network.peerings["servicenetworking-googleapis-com"].private_services_access
    assert isinstance(network.private_services_access, Unknown)  # declared, but state records no ACTIVE
    assert network.provenance["routing_mode"] == f"{state}:google_compute_network.r1.routing_mode"
    subnet = inventory.of("subnet")[SUBNET]
    exported = loaded.of("subnet")[SUBNET]
    assert _fields(subnet) | {"origin": "", "provenance": {}} == _fields(exported) | {"origin": "", "provenance": {}}
    redis = inventory.of("redis")["10.0.0.3"]
    assert (redis.name, redis.authorized_network, redis.port) == (REDIS, "legacy-vpc", 6379)
    assert isinstance(redis.state, Unknown)  # Terraform records no instance state


def test_terraform_router_nat_and_firewall(tmp_path: Path) -> None:
    nat = {
        "name": "staging-nat",
        "router": "staging-router",
        "region": "us-central1",
        "project": PROJECT,
        "nat_ip_allocate_option": "AUTO_ONLY",
        "source_subnetwork_ip_ranges_to_nat": "LIST_OF_SUBNETWORKS",
        "subnetwork": [
            {
                "name": TF_SUBNET["network"].replace(
                    "global/networks/staging-vpc", "regions/us-central1/subnetworks/jobs"
                ),
                "source_ip_ranges_to_nat": ["ALL_IP_RANGES"],
            }
        ],
    }
    router = {"name": "staging-router", "region": "us-central1", "project": PROJECT, "network": "staging-vpc"}
    deny = {
        "name": "deny-egress",
        "project": PROJECT,
        "network": "staging-vpc",
        "direction": "EGRESS",
        "priority": 65000,
        "destination_ranges": ["0.0.0.0/0"],
        "deny": [{"protocol": "all", "ports": []}],
        "allow": [],
        "disabled": False,
    }
    state = write_state(
        tmp_path,
        ("google_compute_router_nat", nat),
        ("google_compute_router", router),
        ("google_compute_firewall", deny),
    )
    inventory = load_evidence([state])
    loaded_router = inventory.of("router")["us-central1/staging-router"]
    assert loaded_router.network == "staging-vpc" and not loaded_router.nats_complete
    assert loaded_router.nats["staging-nat"].subnetworks == ("us-central1/jobs",)
    rule = inventory.of("firewall")["deny-egress"]
    assert (rule.action, rule.direction, rule.priority, rule.destination_ranges) == (
        "deny",
        "EGRESS",
        65000,
        ("0.0.0.0/0",),
    )


def test_a_tf_folder_declares_network_subnet_and_redis(tmp_path: Path) -> None:
    from driftcheck.sources.terraform_hcl import load_tf_dir

    (tmp_path / "main.tf").write_text(TF_FOLDER)
    inventory = load_tf_dir(tmp_path)
    network = inventory.of("network")["staging-vpc"]
    assert network.routing_mode == "REGIONAL" and network.project == PROJECT
    subnet = inventory.of("subnet")[SUBNET]
    assert subnet.network == "staging-vpc" and subnet.private_google_access is False
    assert isinstance(subnet.ip_cidr_range, Unknown)  # var.subnet_range has no value: never compared
    line = TF_FOLDER.splitlines().index('resource "google_compute_subnetwork" "run" {') + 1
    assert subnet.provenance["network"] == f"{tmp_path / 'main.tf'}:{line}"
    # a declared instance has no host yet: keyed by its name
    redis = inventory.of("redis")[REDIS]
    assert redis.authorized_network == "staging-vpc" and isinstance(redis.host, Unknown)


TF_FOLDER = """\
provider "google" {
  project = "netra-staging"
  region  = "us-central1"
}

variable "subnet_range" {}

resource "google_cloud_run_v2_service" "api" {
  name = "api"
  template {
    containers { image = "us-docker.pkg.dev/cloudrun/container/hello" }
  }
}

resource "google_compute_network" "vpc" {
  name                    = "staging-vpc"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "run" {
  name                     = "staging-us-central1"
  network                  = "staging-vpc"
  ip_cidr_range            = var.subnet_range
  private_ip_google_access = false
}

resource "google_redis_instance" "cache" {
  name               = "staging-cache"
  tier               = "BASIC"
  memory_size_gb     = 1
  authorized_network = "staging-vpc"
  connect_mode       = "DIRECT_PEERING"
}
"""


# --- a compare with every kind, and what a rule sees ----------------------------------------------------------

RULE = """\
id: network-kinds-seen
title: The target's network resources reach the rules
severity: low
description: Lists what refs.resources holds of the network kinds.
scope: target
when: >-
  size(target.refs.resources.network) > 0 && size(target.refs.resources.subnet) > 0
  && size(target.refs.resources.redis) > 0
explanation: >-
  network {{ join(target.refs.resources.network.map(r, r.key), ",") }}
  psa={{ join(target.refs.resources.network.map(r, r.resource.private_services_access == true ? "on" : "off"), ",") }};
  subnet {{ join(target.refs.resources.subnet.map(r, r.key), ",") }}
  pga={{ join(target.refs.resources.subnet.map(r, r.resource.private_google_access == true ? "on" : "off"), ",") }};
  redis {{ join(target.refs.resources.redis.map(r, r.key), ",") }} on
  {{ join(target.refs.resources.redis.map(r, r.resource.authorized_network), ",") }};
  routers {{ size(target.refs.resources.router) }}, firewalls {{ size(target.refs.resources.firewall) }}
docs: https://cloud.google.com/run/docs/configuring/vpc-direct-vpc
"""


def test_a_folder_with_the_network_kinds_compares_and_a_rule_sees_them(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(INCIDENT, tmp_path / "evidence"))
    for path in NETWORK.iterdir():
        shutil.copy(path, folder / path.name)
    api = yaml.safe_load((folder / "api.yaml").read_text())
    template = api["spec"]["template"]
    template["metadata"]["annotations"]["run.googleapis.com/network-interfaces"] = json.dumps(
        [{"network": f"projects/{PROJECT}/global/networks/staging-vpc", "subnetwork": "staging-us-central1"}]
    )
    template["spec"]["containers"][0]["env"] += [
        {"name": "REDIS_URL", "value": "redis://10.0.0.3:6379/0"},
        {"name": "CACHE_TTL", "value": "10.0.0.9"},  # an IP under a name that says nothing of Redis: no reference
    ]
    (folder / "api.yaml").write_text(yaml.safe_dump(api))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "network-kinds-seen.yaml").write_text(RULE)
    result = compare("api", ["auth"], [folder], load_ruleset([rules]))
    report = json.loads(reporter("json")(result))
    (finding,) = [f for f in report["findings"] if f["rule"] == "network-kinds-seen"]
    text = " ".join(finding["explanation"].split())
    # legacy-vpc is on the path as the Redis instance's authorized network; it is not in the evidence, so its
    # private services access is unknown and the whole join renders "?"
    assert "network legacy-vpc,staging-vpc psa=?;" in text
    assert f"subnet {SUBNET} pga=off;" in text
    assert "redis 10.0.0.3 on legacy-vpc;" in text
    assert "routers 1, firewalls 3" in text  # on the path through their network (Kind.references_in)


def test_redis_hosts_named_by_env_values() -> None:
    from driftcheck.kinds.redis import host_in

    assert host_in("REDIS_HOST", "10.0.0.3") == "10.0.0.3"
    assert host_in("REDIS_ADDR", "10.0.0.3:6379") == "10.0.0.3"
    assert host_in("CACHE_URL", "rediss://:****@10.0.0.3:6378/0") == "10.0.0.3"
    assert host_in("DB_HOST", "10.0.0.3") is None  # not a Redis name, not a redis:// URL
    assert host_in("REDIS_HOST", "redis.internal") is None  # a Memorystore host is an IP
    assert host_in("CACHE_URL", "https://10.0.0.3/") is None
    assert host_in("DATABASE_URL", "postgres://app:[REDACTED:4a5e4c8f2aaa]@10.20.0.9/orders") is None
