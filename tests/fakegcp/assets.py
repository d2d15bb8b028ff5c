"""Cloud Asset Inventory's ListAssets over the fake's World: google.cloud.asset.v1.AssetService, paged.

Resource content: Cloud Run services (v2 data, as `resource.version` "v2" says), Cloud SQL instances, VPC Access
connectors, Secret Manager secrets and their versions (never a payload: the world holds none), and the projects
(`projectId`, `projectNumber`). IAM-policy content: the policies of secrets, projects, Cloud Run services, folders
and organizations the world holds (a resource with no policy set has no IAM-policy asset, as in the real API).
`parent` is `organizations/ID` or `folders/ID` (the assets of every project under it, by World.parents) or
`projects/P`. Each asset carries its ancestors (project number where the world knows it, then folders and the
organization) and `update_time` (the fake's `asset_update_time`); each response its `read_time` (now).

An asset type the fake is told not to serve (`unsupported_asset_types`) answers INVALID_ARGUMENT, as the real API
answers a type it does not support.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import grpc
from google.cloud import asset_v1

from .world import SECRET_NAME, SERVICE_NAME, World

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
FOLDER, ORGANIZATION = "cloudresourcemanager.googleapis.com/Folder", "cloudresourcemanager.googleapis.com/Organization"
_PARENT = re.compile(r"^(?:organizations|folders)/\d+$|^projects/[^/]+$")


class AssetError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _rest(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = type(message).to_dict(
        message, use_integers_for_enums=False, preserving_proto_field_name=False
    )
    return result


def projects_of(world: World) -> set[str]:
    """Every project id the world holds something of."""
    found = {SERVICE_NAME.match(name)["project"] for name in world.services if SERVICE_NAME.match(name)}
    found |= {project for project, _ in world.sql_instances}
    found |= {name.split("/")[1] for name in world.connectors}
    found |= {s.name.split("/")[1] for s in world.secrets.values()}
    found |= set(world.project_iam_policies)
    found |= {name.split("/", 1)[1] for name in world.parents if name.startswith("projects/")}
    return {world.project_id(project) for project in found}


def ancestors(world: World, project: str) -> list[str]:
    """`projects/NUMBER` (or the id), then each folder, then the organization."""
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


def build(world: World, request: asset_v1.ListAssetsRequest, updated: datetime.datetime) -> list[asset_v1.Asset]:
    """Every asset of the request's scope, types and content, in a stable order."""
    if not _PARENT.match(request.parent):
        raise AssetError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid parent: {request.parent!r}.")
    content = asset_v1.ContentType(request.content_type)
    if content not in (asset_v1.ContentType.RESOURCE, asset_v1.ContentType.IAM_POLICY):
        raise AssetError(
            grpc.StatusCode.INVALID_ARGUMENT, f"The fake serves RESOURCE and IAM_POLICY, not {content.name}."
        )
    projects = sorted(p for p in projects_of(world) if in_scope(world, request.parent, p))
    wanted = list(request.asset_types) or [RUN, SQL, CONNECTOR, SECRET, VERSION, PROJECT]
    assets = []
    grouped = _by_project(world)  # once: 2,000 projects must not each scan 20,000 services
    for asset_type in wanted:
        for project in projects:
            chain = ancestors(world, project)
            for name, body in _of_type(world, asset_type, project, content, grouped):
                asset = asset_v1.Asset(name=name, asset_type=asset_type, ancestors=chain)
                asset.update_time = updated
                if content == asset_v1.ContentType.RESOURCE:
                    asset.resource = asset_v1.Resource(
                        version="v2" if asset_type == RUN else "v1",
                        data=body,
                        parent=f"//cloudresourcemanager.googleapis.com/{chain[0]}",
                    )
                else:
                    asset.iam_policy = body
                assets.append(asset)
    if content == asset_v1.ContentType.IAM_POLICY and not request.parent.startswith("projects/"):
        for asset_type, held in ((FOLDER, world.folder_iam_policies), (ORGANIZATION, world.organization_iam_policies)):
            if asset_type in wanted:
                for name, policy in sorted(held.items()):
                    if name == request.parent or request.parent in _above(world, name):
                        asset = asset_v1.Asset(name=f"//cloudresourcemanager.googleapis.com/{name}",
                                               asset_type=asset_type, iam_policy=policy)  # fmt: skip
                        asset.update_time = updated
                        assets.append(asset)
    return assets


def _above(world: World, name: str) -> list[str]:
    chain, parent = [], world.parents.get(name)
    while parent and len(chain) < 12:
        chain.append(parent)
        parent = world.parents.get(parent)
    return chain


def _by_project(world: World) -> dict[str, dict[str, list[Any]]]:
    """The world's services, connectors and secrets by project id (sorted by name)."""
    grouped: dict[str, dict[str, list[Any]]] = {}
    for name, service in sorted(world.services.items()):
        grouped.setdefault(world.canonical(name).split("/")[1], {}).setdefault(RUN, []).append((name, service))
    for name, connector in sorted(world.connectors.items()):
        grouped.setdefault(world.canonical(name).split("/")[1], {}).setdefault(CONNECTOR, []).append((name, connector))
    for secret_id, secret in sorted(world.secrets.items()):
        match = SECRET_NAME.match(secret.name)
        if match:
            grouped.setdefault(world.project_id(match["project"]), {}).setdefault(SECRET, []).append(
                (secret_id, secret)
            )
    return grouped


def _of_type(
    world: World, asset_type: str, project: str, content: asset_v1.ContentType, grouped: dict[str, dict[str, list[Any]]]
) -> Iterator[tuple[str, Any]]:
    resource = content == asset_v1.ContentType.RESOURCE
    held = grouped.get(project, {})
    if asset_type == RUN:
        for name, service in held.get(RUN, []):
            if resource:
                yield f"//run.googleapis.com/{name}", _rest(service)
            elif (policy := world.run_iam_policies.get(name.rsplit("/", 1)[1])) is not None:
                yield f"//run.googleapis.com/{name}", policy
    elif asset_type == SQL and resource:
        for (owner, instance_name), instance in sorted(world.sql_instances.items()):
            if owner == project:
                yield f"//cloudsql.googleapis.com/projects/{project}/instances/{instance_name}", _rest(instance)
    elif asset_type == CONNECTOR and resource:
        for name, connector in held.get(CONNECTOR, []):
            yield f"//vpcaccess.googleapis.com/{name}", _rest(connector)
    elif asset_type in (SECRET, VERSION):
        for secret_id, secret in held.get(SECRET, []):
            if asset_type == SECRET and resource:
                yield f"//secretmanager.googleapis.com/{secret.name}", _rest(secret)
            elif asset_type == SECRET and (policy := world.iam_policies.get(secret_id)) is not None:
                yield f"//secretmanager.googleapis.com/{secret.name}", policy
            elif asset_type == VERSION and resource:
                for version in world.versions_newest_first(secret_id):
                    yield f"//secretmanager.googleapis.com/{version.name}", _rest(version)
    elif asset_type == PROJECT:
        number = ancestors(world, project)[0]
        if resource:
            digits = number.split("/", 1)[1]
            data = {"projectId": project, "name": number, "parent": world.parents.get(f"projects/{project}", "")}
            yield (
                f"//cloudresourcemanager.googleapis.com/{number}",
                data | ({"projectNumber": digits} if digits.isdigit() else {}),
            )
        elif (policy := world.project_iam_policies.get(project)) is not None:
            yield f"//cloudresourcemanager.googleapis.com/{number}", policy
