"""Cloud Asset Inventory's ListAssets over the fake's World: google.cloud.asset.v1.AssetService, paged.

Resource content: Cloud Run services (v2 data, as `resource.version` "v2" says), Cloud SQL instances, VPC Access
connectors, Secret Manager secrets and their versions (never a payload: the world holds none), the projects
(`projectId`, `projectNumber`), service accounts (named by unique id, as the real inventory names them) and Compute
Engine networks, subnetworks, routers and firewall rules (the world's JSON as it is). IAM-policy content: the
policies of secrets, projects, Cloud Run services, folders and organizations the world holds (a resource with no
policy set has no IAM-policy asset, as in the real API).
`parent` is `organizations/ID` or `folders/ID` (the assets of every project under it, by World.parents) or
`projects/P`. Each asset carries its ancestors (project number where the world knows it, then folders and the
organization) and `update_time` (the fake's `asset_update_time`); each response its `read_time` (now).

An asset type the fake is told not to serve (`unsupported_asset_types`) answers INVALID_ARGUMENT, as the real API
answers a type it does not support.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.cloud import asset_v1
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from .world import SECRET_NAME, SERVICE_ACCOUNT_NAME, SERVICE_NAME, World

ASSET_SERVICE = "google.cloud.asset.v1.AssetService"
PERMISSION = "cloudasset.assets.listResource"
IAM_PERMISSION = "cloudasset.assets.listIamPolicy"
RUN, SQL, CONNECTOR = (
    "run.googleapis.com/Service",
    "sqladmin.googleapis.com/Instance",
    "vpcaccess.googleapis.com/Connector",
)
SECRET, VERSION = "secretmanager.googleapis.com/Secret", "secretmanager.googleapis.com/SecretVersion"
PROJECT = "cloudresourcemanager.googleapis.com/Project"
SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
NETWORK, SUBNETWORK = "compute.googleapis.com/Network", "compute.googleapis.com/Subnetwork"
ROUTER, FIREWALL = "compute.googleapis.com/Router", "compute.googleapis.com/Firewall"
COMPUTE = (NETWORK, SUBNETWORK, ROUTER, FIREWALL)
FOLDER, ORGANIZATION = "cloudresourcemanager.googleapis.com/Folder", "cloudresourcemanager.googleapis.com/Organization"
_PARENT = re.compile(r"^(?:organizations|folders)/\d+$|^projects/[^/]+$")


class AssetError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _rest(message: Any) -> dict[str, Any]:
    """A proto-plus message as its API's JSON: MessageToDict on the raw message (proto-plus's to_dict is slower)."""
    return json_format.MessageToDict(type(message).pb(message))


def projects_of(world: World) -> set[str]:
    """Every project id the world holds something of."""
    found = {SERVICE_NAME.match(name)["project"] for name in world.services if SERVICE_NAME.match(name)}
    found |= {project for project, _ in world.sql_instances}
    found |= {name.split("/")[1] for name in world.connectors}
    found |= {s.name.split("/")[1] for s in world.secrets.values()}
    found |= set(world.project_iam_policies)
    found |= {key[0] for held in (world.networks, world.subnetworks, world.routers, world.firewalls) for key in held}
    found |= {name.split("/", 1)[1] for name in world.parents if name.startswith("projects/")}
    return {world.project_id(project) for project in found}


def ancestors(world: World, project: str, numbers: dict[str, str] | None = None) -> list[str]:
    """`projects/NUMBER` (or the id), then each folder, then the organization. `numbers`: project id -> number, made
    once by a caller that asks for many projects."""
    if numbers is None:
        numbers = {pid: number for number, pid in world.project_numbers.items()}
    chain = [f"projects/{numbers.get(project, project)}"]
    parent = world.parents.get(f"projects/{project}")
    while parent and len(chain) < 12:
        chain.append(parent)
        parent = world.parents.get(parent)
    return chain


def in_scope(world: World, parent: str, project: str) -> bool:
    if parent.startswith("projects/"):
        return world.project_id(parent.split("/", 1)[1]) == project
    return parent in ancestors(world, project)


Made = Callable[[], Any]  # one asset, built when its page is asked for: a raw assets_pb2.Asset


def build(
    world: World, request: asset_v1.ListAssetsRequest, updated: datetime.datetime, held: Held | None = None
) -> list[Made]:
    """Every asset of the request's scope, types and content, in a stable order; each a call that builds the raw
    protobuf Asset when a page holds it (`page`), so a page costs its own assets' conversion, not the whole list's
    on the first page (20,000 services' JSON into Structs took the fake seconds before its first answer)."""
    if not _PARENT.match(request.parent):
        raise AssetError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid parent: {request.parent!r}.")
    content = asset_v1.ContentType(request.content_type)
    if content not in (asset_v1.ContentType.RESOURCE, asset_v1.ContentType.IAM_POLICY):
        raise AssetError(
            grpc.StatusCode.INVALID_ARGUMENT, f"The fake serves RESOURCE and IAM_POLICY, not {content.name}."
        )
    everyone, grouped = held or holdings(world)  # once per listing: 2,000 projects must not each scan 20,000 services
    if request.parent.startswith("projects/"):  # one project: not a scan of every project's ancestors
        own = world.project_id(request.parent.split("/", 1)[1])
        projects = [own] if own in everyone else []
    else:
        projects = sorted(p for p in everyone if in_scope(world, request.parent, p))
    wanted = list(request.asset_types) or [RUN, SQL, CONNECTOR, SECRET, VERSION, PROJECT, SERVICE_ACCOUNT, *COMPUTE]
    assets: list[Made] = []
    resource = content == asset_v1.ContentType.RESOURCE
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(updated)
    numbers = {pid: number for number, pid in world.project_numbers.items()}
    for asset_type in wanted:
        for project in projects:
            chain = ancestors(world, project, numbers)
            for name, body in _of_type(world, asset_type, project, content, grouped):
                assets.append(functools.partial(_asset, name, asset_type, chain, stamp, resource, body))
    if content == asset_v1.ContentType.IAM_POLICY and not request.parent.startswith("projects/"):
        for asset_type, held in ((FOLDER, world.folder_iam_policies), (ORGANIZATION, world.organization_iam_policies)):
            if asset_type in wanted:
                for name, policy in sorted(held.items()):
                    if name == request.parent or request.parent in _above(world, name):
                        full = f"//cloudresourcemanager.googleapis.com/{name}"
                        assets.append(functools.partial(_asset, full, asset_type, [], stamp, False, lambda p=policy: p))
    return assets


def page(made: list[Made], token: str) -> asset_v1.ListAssetsResponse:
    """A page of `build`'s assets, as the response (raw protobuf inside, wrapped without a copy)."""
    response = asset_v1.ListAssetsResponse.pb()(assets=[make() for make in made], next_page_token=token)
    return asset_v1.ListAssetsResponse.wrap(response)


def _asset(name: str, asset_type: str, chain: list[str], updated: Any, resource: bool, body: Made) -> Any:
    asset = _ASSET(name=name, asset_type=asset_type, ancestors=chain, update_time=updated)
    if resource:
        data = struct_pb2.Struct()
        data.update(body())
        asset.resource.CopyFrom(_RESOURCE(version="v2" if asset_type == RUN else "v1", data=data,
                                          parent=f"//cloudresourcemanager.googleapis.com/{chain[0]}"))  # fmt: skip
    else:
        asset.iam_policy.CopyFrom(body())
    return asset


_ASSET, _RESOURCE = asset_v1.Asset.pb(), asset_v1.Resource.pb()


def _above(world: World, name: str) -> list[str]:
    chain, parent = [], world.parents.get(name)
    while parent and len(chain) < 12:
        chain.append(parent)
        parent = world.parents.get(parent)
    return chain


Held = tuple[set[str], dict[str, dict[str, list[Any]]]]  # every project id, and what each holds by asset type


def holdings(world: World) -> Held:
    """What `build` reads of the world, computed once for many listings (FakeGcpServer.index_assets)."""
    return projects_of(world), _by_project(world)


def _by_project(world: World) -> dict[str, dict[str, list[Any]]]:
    """The world's services, connectors, Cloud SQL instances, service accounts, Compute resources and secrets by
    project id (sorted by name)."""
    grouped: dict[str, dict[str, list[Any]]] = {}
    for name, service in sorted(world.services.items()):
        grouped.setdefault(world.canonical(name).split("/")[1], {}).setdefault(RUN, []).append((name, service))
    for name, connector in sorted(world.connectors.items()):
        grouped.setdefault(world.canonical(name).split("/")[1], {}).setdefault(CONNECTOR, []).append((name, connector))
    for (owner, instance_name), instance in sorted(world.sql_instances.items()):
        grouped.setdefault(owner, {}).setdefault(SQL, []).append((instance_name, instance))
    for email, account in sorted(world.service_accounts.items()):
        match = SERVICE_ACCOUNT_NAME.match(account.name)
        owner = match["project"] if match and match["project"] != "-" else email.split("@", 1)[-1].split(".", 1)[0]
        grouped.setdefault(world.project_id(owner), {}).setdefault(SERVICE_ACCOUNT, []).append(account)
    compute = (
        (NETWORK, world.networks, "global/networks"),
        (SUBNETWORK, world.subnetworks, "subnetworks"),
        (ROUTER, world.routers, "routers"),
        (FIREWALL, world.firewalls, "global/firewalls"),
    )
    for asset_type, resources, collection in compute:
        for key, data in sorted(resources.items()):
            project, name = key[0], key[-1]
            path = f"regions/{key[1]}/{collection}/{name}" if len(key) == 3 else f"{collection}/{name}"
            grouped.setdefault(world.project_id(project), {}).setdefault(asset_type, []).append((path, data))
    for secret_id, secret in sorted(world.secrets.items()):
        match = SECRET_NAME.match(secret.name)
        if match:
            grouped.setdefault(world.project_id(match["project"]), {}).setdefault(SECRET, []).append(
                (secret_id, secret)
            )
    return grouped


def _of_type(
    world: World, asset_type: str, project: str, content: asset_v1.ContentType, grouped: dict[str, dict[str, list[Any]]]
) -> Iterator[tuple[str, Made]]:
    """Each asset's full name, and a call that makes its content (the API's JSON, or the IAM policy)."""
    resource = content == asset_v1.ContentType.RESOURCE
    held = grouped.get(project, {})
    if asset_type == RUN:
        for name, service in held.get(RUN, []):
            if resource:
                yield f"//run.googleapis.com/{name}", functools.partial(_rest, service)
            elif (policy := world.run_iam_policy(name)) is not None:
                yield f"//run.googleapis.com/{name}", given(policy)
    elif asset_type == SQL and resource:
        for instance_name, instance in held.get(SQL, []):
            yield (
                f"//cloudsql.googleapis.com/projects/{project}/instances/{instance_name}",
                functools.partial(_rest, instance),
            )
    elif asset_type == CONNECTOR and resource:
        for name, connector in held.get(CONNECTOR, []):
            yield f"//vpcaccess.googleapis.com/{name}", functools.partial(_rest, connector)
    elif asset_type in (SECRET, VERSION):
        for secret_id, secret in held.get(SECRET, []):
            if asset_type == SECRET and resource:
                yield f"//secretmanager.googleapis.com/{secret.name}", functools.partial(_rest, secret)
            elif asset_type == SECRET and (policy := world.iam_policies.get(secret_id)) is not None:
                yield f"//secretmanager.googleapis.com/{secret.name}", given(policy)
            elif asset_type == VERSION and resource:
                for version in world.versions_newest_first(secret_id):
                    yield f"//secretmanager.googleapis.com/{version.name}", functools.partial(_rest, version)
    elif asset_type == SERVICE_ACCOUNT and resource:
        # the real inventory names an account by its unique id (the data says its email)
        for account in held.get(SERVICE_ACCOUNT, []):
            ident = account.unique_id or account.email
            yield f"//iam.googleapis.com/projects/{project}/serviceAccounts/{ident}", functools.partial(_rest, account)
    elif asset_type in COMPUTE and resource:
        for path, data in held.get(asset_type, []):
            yield f"//compute.googleapis.com/projects/{project}/{path}", given(data)
    elif asset_type == PROJECT:
        number = ancestors(world, project)[0]
        if resource:
            digits = number.split("/", 1)[1]
            data = {"projectId": project, "name": number, "parent": world.parents.get(f"projects/{project}", "")}
            yield (
                f"//cloudresourcemanager.googleapis.com/{number}",
                given(data | ({"projectNumber": digits} if digits.isdigit() else {})),
            )
        elif (policy := world.project_iam_policies.get(project)) is not None:
            yield f"//cloudresourcemanager.googleapis.com/{number}", given(policy)


def given(value: Any) -> Made:
    """A value made already (an asset's content, or a whole asset built by FakeGcpServer.index_assets)."""
    return functools.partial(_same, value)


def _same(value: Any) -> Any:
    return value
