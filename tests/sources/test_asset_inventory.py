"""`gcloud asset list --format=json` (resource and IAM-policy content) loads as evidence, each asset by its kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftcheck.errors import InputError
from driftcheck.sources.evidence import load_evidence

SERVICE = {
    "name": "//run.googleapis.com/projects/acme/locations/europe-west1/services/api",
    "assetType": "run.googleapis.com/Service",
    "ancestors": ["projects/123456789012", "organizations/900"],
    "updateTime": "2026-12-01T03:00:00Z",
    "resource": {
        "version": "v2",
        "data": {
            "template": {
                "containers": [
                    {
                        "image": "europe-docker.pkg.dev/acme/app/api:1",
                        "ports": [{"containerPort": 9090}],
                        "env": [
                            {
                                "name": "DB_PASSWORD",
                                "valueSource": {"secretKeyRef": {"secret": "db-password", "version": "3"}},
                            }
                        ],
                    }
                ],
                "vpcAccess": {"connector": "projects/acme/locations/europe-west1/connectors/acme-conn"},
            }
        },
    },
}
RESOURCES = [
    SERVICE,
    {
        "name": "//vpcaccess.googleapis.com/projects/acme/locations/europe-west1/connectors/acme-conn",
        "assetType": "vpcaccess.googleapis.com/Connector",
        "resource": {"version": "v1", "data": {"network": "acme-vpc", "state": "READY", "ipCidrRange": "10.8.0.0/28"}},
    },
    {
        "name": "//secretmanager.googleapis.com/projects/acme/secrets/db-password/versions/3",
        "assetType": "secretmanager.googleapis.com/SecretVersion",
        "resource": {"version": "v1", "data": {"state": "DISABLED", "payload": {"data": "c2VjcmV0"}}},
    },
]
POLICIES = [
    {"name": "//secretmanager.googleapis.com/projects/acme/secrets/db-password",
     "assetType": "secretmanager.googleapis.com/Secret",
     "iamPolicy": {"bindings": [{"role": "roles/secretmanager.secretAccessor",
                                 "members": ["serviceAccount:api@acme.iam.gserviceaccount.com"]}]}},
    {"name": "//run.googleapis.com/projects/acme/locations/europe-west1/services/api",
     "assetType": "run.googleapis.com/Service",
     "iamPolicy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}},
]  # fmt: skip


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def test_resource_and_iam_policy_listings_load_by_kind(tmp_path: Path) -> None:
    _write(tmp_path, "assets.json", RESOURCES)
    _write(tmp_path, "policies.json", POLICIES)
    inventory = load_evidence([tmp_path])
    api = inventory.services["api"]
    assert (api.project, api.region, api.containers["ingress"].port) == ("acme", "europe-west1", 9090)
    assert api.vpc.connector == "projects/acme/locations/europe-west1/connectors/acme-conn"
    connector = inventory.of("connector")["projects/acme/locations/europe-west1/connectors/acme-conn"]
    assert connector.network == "acme-vpc" and connector.state == "READY"
    secret = inventory.of("secret")["db-password"]
    assert secret.project == "acme"
    assert secret.versions["3"].state == "DISABLED"  # and never its payload: a version holds no data field
    assert "payload" not in repr(secret) and "c2VjcmV0" not in repr(inventory.of("secret"))
    assert secret.bindings == {
        "roles/secretmanager.secretAccessor": ("serviceAccount:api@acme.iam.gserviceaccount.com",)
    }
    policies = inventory.of("run_service_iam_policy")  # by the service's full name: a name is unique in a region only
    policy = policies["projects/acme/locations/europe-west1/services/api"]
    assert policy.bindings == {"roles/run.invoker": ("allUsers",)}


def test_a_placeholder_outside_the_project_is_a_template(tmp_path: Path) -> None:
    templated = json.loads(json.dumps(SERVICE).replace("api:1", "${TAG}"))
    with pytest.raises(InputError, match=r"looks like a template.*\$\{TAG\}"):
        load_evidence([_write(tmp_path, "a.json", [templated])])


def test_an_asset_type_it_does_not_read_is_said(tmp_path: Path) -> None:
    bucket = {"name": "//storage.googleapis.com/b", "assetType": "storage.googleapis.com/Bucket",
              "resource": {"version": "v1", "data": {"name": "b"}}}  # fmt: skip
    said = r"a\.json:\[1\]: a Cloud Asset Inventory record \(storage.googleapis.com/Bucket\) is not a type driftcheck"
    with pytest.raises(InputError, match=said + r" reads; list with `gcloud asset list"):
        load_evidence([_write(tmp_path, "a.json", [SERVICE, bucket])])


def test_service_accounts_and_compute_resources_load_by_kind(tmp_path: Path) -> None:
    link = "https://www.googleapis.com/compute/v1/projects/acme"
    records = [
        {"name": "//iam.googleapis.com/projects/acme/serviceAccounts/104857600000000000001",
         "assetType": "iam.googleapis.com/ServiceAccount",
         "resource": {"version": "v1", "data": {
             "name": "projects/acme/serviceAccounts/api@acme.iam.gserviceaccount.com",
                                                "email": "api@acme.iam.gserviceaccount.com", "projectId": "acme",
                                                "uniqueId": "104857600000000000001", "disabled": True}}},
        {"name": "//compute.googleapis.com/projects/acme/global/networks/acme-vpc",
         "assetType": "compute.googleapis.com/Network",
         "resource": {"version": "v1", "data": {"name": "acme-vpc", "autoCreateSubnetworks": False, "mtu": 1460,
                                                "selfLink": f"{link}/global/networks/acme-vpc"}}},
        {"name": "//compute.googleapis.com/projects/acme/regions/europe-west1/subnetworks/acme-sub",
         "assetType": "compute.googleapis.com/Subnetwork",
         "resource": {"version": "v1", "data": {"name": "acme-sub", "region": f"{link}/regions/europe-west1",
                                                "network": f"{link}/global/networks/acme-vpc",
                                                "ipCidrRange": "10.0.0.0/24", "privateIpGoogleAccess": True,
                                                "selfLink": f"{link}/regions/europe-west1/subnetworks/acme-sub"}}},
        {"name": "//compute.googleapis.com/projects/acme/regions/europe-west1/routers/acme-nat",
         "assetType": "compute.googleapis.com/Router",
         "resource": {"version": "v1", "data": {"name": "acme-nat", "region": f"{link}/regions/europe-west1",
                                                "network": f"{link}/global/networks/acme-vpc",
                                                "selfLink": f"{link}/regions/europe-west1/routers/acme-nat"}}},
        {"name": "//compute.googleapis.com/projects/acme/global/firewalls/deny-db",
         "assetType": "compute.googleapis.com/Firewall",
         "resource": {"version": "v1", "data": {"name": "deny-db", "network": f"{link}/global/networks/acme-vpc",
                                                "direction": "EGRESS", "priority": 900,
                                                "denied": [{"IPProtocol": "tcp", "ports": ["5432"]}],
                                                "destinationRanges": ["10.0.0.0/8"],
                                                "selfLink": f"{link}/global/firewalls/deny-db"}}},
    ]  # fmt: skip
    inventory = load_evidence([_write(tmp_path, "assets.json", records)])
    account = inventory.of("service_account")["api@acme.iam.gserviceaccount.com"]
    assert (account.project, account.disabled) == ("acme", True)
    assert inventory.of("network")["acme-vpc"].project == "acme"
    assert inventory.of("subnet")["europe-west1/acme-sub"].network == "acme-vpc"
    assert inventory.of("router")["europe-west1/acme-nat"].network == "acme-vpc"
    assert inventory.of("firewall")["deny-db"].network == "acme-vpc"


def test_a_connector_on_a_subnet_lands_on_the_subnets_network(tmp_path: Path) -> None:
    """The Connector asset's data is the API's: one created with --subnet has `subnet {name, projectId}` and no
    network; the Subnetwork asset listed beside it says the network."""
    from driftcheck.kinds.network.path import networks_on_path

    link = "https://www.googleapis.com/compute/v1/projects/acme"
    connector = {**RESOURCES[1], "resource": {"version": "v1", "data": {
        "state": "READY", "subnet": {"name": "acme-conn-subnet", "projectId": "acme"}}}}  # fmt: skip
    subnet = {"name": "//compute.googleapis.com/projects/acme/regions/europe-west1/subnetworks/acme-conn-subnet",
              "assetType": "compute.googleapis.com/Subnetwork",
              "resource": {"version": "v1", "data": {
                  "name": "acme-conn-subnet", "region": f"{link}/regions/europe-west1",
                  "network": f"{link}/global/networks/acme-vpc", "ipCidrRange": "10.8.0.0/28",
                  "selfLink": f"{link}/regions/europe-west1/subnetworks/acme-conn-subnet"}}}  # fmt: skip
    inventory = load_evidence([_write(tmp_path, "assets.json", [SERVICE, connector])])
    held = inventory.of("connector")["projects/acme/locations/europe-west1/connectors/acme-conn"]
    assert held.subnet == "projects/acme/regions/europe-west1/subnetworks/acme-conn-subnet"
    assert networks_on_path(inventory.services["api"], inventory) == frozenset()  # not a network acme-conn-subnet
    inventory = load_evidence([_write(tmp_path, "assets.json", [SERVICE, connector, subnet])])
    assert networks_on_path(inventory.services["api"], inventory) == {("acme", "acme-vpc")}
