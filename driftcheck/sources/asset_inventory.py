"""Cloud Asset Inventory records: `gcloud asset list --content-type=resource|iam-policy --format=json`, one asset each.

A record is {name, assetType, resource {version, data, ...}, updateTime} (resource content) or {name, assetType,
iamPolicy {bindings}} (IAM-policy content); gcloud writes camelCase keys, protobuf JSON writers (tfplan2cai) write
snake_case (`asset_type`, `iam_policy`): both are read. Each record's `resource.data` is the API's own JSON and goes
to the kind that reads that API's exports, with what the asset's full name says filled in where the data leaves it
out (a v2 Service's `name`, a Knative Service's namespace and region label, a Cloud SQL instance's connection
name). Service accounts (`iam.googleapis.com/ServiceAccount`: the IAM API's JSON, by email) and Compute Engine
networks, subnetworks, routers and firewall rules (`compute.googleapis.com/...`: the Compute API's JSON) go to
their kinds as they are. A Cloud Run Service is the v1 Knative or the v2 shape, as the record's `resource.version`
says. IAM policies go to the project, secret, Cloud Run service, folder and organization policy kinds. The live
audit reads the same records through the Asset API (sources/live/assets.py) and hands them over through `api_json`
below.

A record whose project is an unfilled template placeholder (`{{.Provider.project}}`: tfplan2cai's test templates)
is read with its project unknown, never as a project of that name; a placeholder anywhere else is refused as a
template. A secret version's payload is never read: only its name, state and creation time.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import cloudsql, connector, project_iam, run_iam, secret, service_account
from driftcheck.kinds.ancestry import parse_policy as ancestor_policy
from driftcheck.kinds.document import Document
from driftcheck.kinds.network import firewall, router, subnet, vpc
from driftcheck.kinds.service import cloudrun_v2, knative
from driftcheck.model import Inventory, SecretVersion, Unknown
from driftcheck.sources.screening import PLACEHOLDER, placeholder_in, template_message

KIND = "Cloud Asset Inventory record (gcloud asset list --content-type=resource|iam-policy --format=json)"

RUN_SERVICE = "run.googleapis.com/Service"
SQL_INSTANCE = "sqladmin.googleapis.com/Instance"
CONNECTOR = "vpcaccess.googleapis.com/Connector"
SECRET = "secretmanager.googleapis.com/Secret"
SECRET_VERSION = "secretmanager.googleapis.com/SecretVersion"
PROJECT = "cloudresourcemanager.googleapis.com/Project"
FOLDER = "cloudresourcemanager.googleapis.com/Folder"
ORGANIZATION = "cloudresourcemanager.googleapis.com/Organization"
SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
NETWORK = "compute.googleapis.com/Network"
SUBNETWORK = "compute.googleapis.com/Subnetwork"
ROUTER = "compute.googleapis.com/Router"
FIREWALL = "compute.googleapis.com/Firewall"
COMPUTE_TYPES = (NETWORK, SUBNETWORK, ROUTER, FIREWALL)
RESOURCE_TYPES = (
    RUN_SERVICE, SQL_INSTANCE, CONNECTOR, SECRET, SECRET_VERSION, PROJECT, SERVICE_ACCOUNT, *COMPUTE_TYPES
)  # fmt: skip
IAM_TYPES = (RUN_SERVICE, SECRET, PROJECT, FOLDER, ORGANIZATION)
LIST_COMMAND = "gcloud asset list --content-type=resource --asset-types=" + ",".join(RESOURCE_TYPES) + " --format=json"

# An asset's full name: //SERVICE.googleapis.com/RELATIVE-NAME
_FULL_NAME = re.compile(r"^//(?P<host>[a-z0-9.-]+)/(?P<relative>.+)$")
_PROJECT_IN = re.compile(r"^projects/(?P<project>[^/]+)(?:/|$)")
_SERVICE = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$")
_SQL = re.compile(r"^projects/(?P<project>[^/]+)/instances/(?P<instance>[^/]+)$")
_SECRET = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
_VERSION = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$")


def field(asset: dict[str, Any], camel: str, snake: str) -> Any:
    """gcloud's camelCase key, or the snake_case one protobuf JSON writers use."""
    return asset[camel] if camel in asset else asset.get(snake)


def matches(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(field(data, "assetType", "asset_type"), str)
        and isinstance(data.get("name"), str)
    )


def relative_name(asset: dict[str, Any]) -> str:
    """`projects/P/locations/R/services/S` of `//run.googleapis.com/projects/P/locations/R/services/S`."""
    match = _FULL_NAME.match(str(asset.get("name", "")))
    return match["relative"] if match else str(asset.get("name", ""))


def placeholder_project(asset: dict[str, Any]) -> str | None:
    """The template placeholder the record has for a project (tfplan2cai's `{{.Provider.project}}`), or None."""
    match = _PROJECT_IN.match(relative_name(asset))
    return match["project"] if match and PLACEHOLDER.fullmatch(match["project"]) else None


def api_json(asset: dict[str, Any], origin: str, where: str | None = None) -> tuple[str, dict[str, Any]]:
    """The resource content of a record as the API's own JSON, with what the asset's name says filled in:
    ("v2" | "v1" | "sql" | "connector" | "secret" | "version" | "project" | "service_account" | "network" |
    "subnetwork" | "router" | "firewall", data). An InputError for a record that
    cannot be read as its kind."""
    asset_type = str(field(asset, "assetType", "asset_type"))
    resource = asset.get("resource")
    data = resource.get("data") if isinstance(resource, dict) else None
    if not isinstance(data, dict):
        raise _refused(asset_type, "holds no resource.data (list with --content-type=resource)", origin, where)
    name = relative_name(asset)
    if asset_type == RUN_SERVICE:
        match = _SERVICE.match(name)
        if match is None:
            raise _refused(asset_type, f"names no Cloud Run service ({asset.get('name')!r})", origin, where)
        if str((resource or {}).get("version", "")) == "v1" or knative.matches(data):
            metadata = dict(data.get("metadata") or {})
            metadata.setdefault("name", match["service"])
            metadata.setdefault("namespace", match["project"])
            labels = dict(metadata.get("labels") or {})
            labels.setdefault("cloud.googleapis.com/location", match["region"])
            return "v1", {**data, "metadata": {**metadata, "labels": labels}}
        return "v2", {**data, "name": data.get("name") or name}
    if asset_type == SQL_INSTANCE:
        match = _SQL.match(name)
        if match is None:
            raise _refused(asset_type, f"names no Cloud SQL instance ({asset.get('name')!r})", origin, where)
        filled = {"name": match["instance"], "project": match["project"], **data}
        if "connectionName" not in filled and filled.get("region"):
            filled["connectionName"] = f"{filled['project']}:{filled['region']}:{filled['name']}"
        if not cloudsql.matches(filled):
            why = "has neither databaseVersion and a region nor a connection name: not an instance as the API reads it"
            raise _refused(asset_type, why, origin, where)
        return "sql", filled
    if asset_type == CONNECTOR:
        return "connector", {**data, "name": data.get("name") or name}
    if asset_type == SECRET:
        return "secret", {**data, "name": data.get("name") or name}
    if asset_type == SECRET_VERSION:
        version = {"name": str(data.get("name") or name)}  # never the payload: name, state and creation time only
        version |= {key: data[key] for key in ("state", "createTime") if key in data}
        if not _VERSION.match(version["name"]):
            raise _refused(asset_type, f"names no secret version ({asset.get('name')!r})", origin, where)
        return "version", version
    if asset_type == PROJECT:
        return "project", data
    if asset_type == SERVICE_ACCOUNT:  # named by unique id in the asset; the data names it by email, as the API does
        return "service_account", data
    if asset_type in COMPUTE_TYPES:  # the Compute API's JSON, selfLink included
        return asset_type.rsplit("/", 1)[1].lower(), data
    raise _refused(asset_type, f"is not a type driftcheck reads; list with `{LIST_COMMAND}`", origin, where)


def _refused(asset_type: str, what: str, origin: str, where: str | None) -> InputError:
    return InputError(f"a Cloud Asset Inventory record ({asset_type}) {what}", file=origin, where=where)


def load(doc: Document, inventory: Inventory) -> None:
    asset = doc.data
    asset_type = str(field(asset, "assetType", "asset_type"))
    origin, where = _located(doc)
    _refuse_template(asset, origin, where)
    unknown = _unknown_project(asset)
    policy = field(asset, "iamPolicy", "iam_policy")
    if isinstance(policy, dict):
        _load_policy(asset, asset_type, policy, unknown, doc, inventory)
    if not isinstance(asset.get("resource"), dict):
        if not isinstance(policy, dict):
            why = "holds neither resource nor iamPolicy (list with --content-type=resource or iam-policy)"
            raise _refused(asset_type, why, origin, where)
        return
    if unknown is not None and asset_type == SQL_INSTANCE:
        why = "comes from a template: its project is not filled in, and an instance is known by project:region:name"
        raise _refused(asset_type, why, origin, where)
    shape, data = api_json(asset, origin, where)
    inner = dataclasses.replace(doc, data=data)
    if shape in ("v1", "v2"):
        reader = knative if shape == "v1" else cloudrun_v2
        if shape == "v2" and not cloudrun_v2.matches(data):
            raise _refused(asset_type, "holds no v2 Service template", origin, where)
        before = set(inventory.services)
        reader.load(inner, inventory)
        if unknown is not None:
            for added in set(inventory.services) - before:
                inventory.services[added] = dataclasses.replace(inventory.services[added], project=unknown)
    elif shape == "sql":
        cloudsql.load(inner, inventory)
    elif shape == "connector":
        connector.load(inner, inventory)
    elif shape == "secret":
        match = _SECRET.match(str(data["name"]))
        if match is None:
            raise _refused(asset_type, f"names no secret ({data['name']!r})", origin, where)
        project = unknown if unknown is not None else match["project"]
        secret.merge(inventory, match["secret"], project, doc.label, {"secret": "name"})
    elif shape == "version":
        match = _VERSION.match(data["name"])
        assert match
        found = SecretVersion(match["version"], str(data.get("state", "")), data.get("createTime"))
        project = unknown if unknown is not None else match["project"]
        existing = inventory.of(secret.SECRET.name).get(match["secret"])
        versions = dict(existing.versions) if existing is not None and isinstance(existing.versions, dict) else {}
        secret.merge(inventory, match["secret"], project, doc.label, {"versions": "resource.data.state"},
                     versions={**versions, match["version"]: found})  # fmt: skip
    elif shape in _LOADERS:
        _LOADERS[shape].load(inner, inventory)
    elif shape == "project":
        number, ident = str(data.get("projectNumber", "")), data.get("projectId")
        if number and isinstance(ident, str) and ident:
            inventory.project_aliases.setdefault(number, ident)


_LOADERS = {"service_account": service_account, "network": vpc, "subnetwork": subnet, "router": router,
            "firewall": firewall}  # fmt: skip


def _load_policy(
    asset: dict[str, Any],
    asset_type: str,
    policy: dict[str, Any],
    unknown: Unknown | None,
    doc: Document,
    inventory: Inventory,
) -> None:
    name = relative_name(asset)
    at = f"{doc.label}#iamPolicy"
    origin, where = _located(doc)
    if asset_type == SECRET and (match := _SECRET.match(name)):
        parsed = project_iam.parse_policy(match["secret"], policy, at)
        project = unknown if unknown is not None else match["project"]
        secret.merge(inventory, match["secret"], project, doc.label, {"bindings": "iamPolicy.bindings"},
                     bindings=parsed.bindings, conditional=parsed.conditional)  # fmt: skip
    elif asset_type == PROJECT and (match := _PROJECT_IN.match(name)) and unknown is None:
        project = inventory.project_aliases.get(match["project"], match["project"])
        inventory.of(project_iam.PROJECT_IAM.name)[project] = project_iam.parse_policy(project, policy, at)
    elif asset_type == RUN_SERVICE and (match := _SERVICE.match(name)):
        inventory.of(run_iam.RUN_IAM.name)[name] = run_iam.parse_policy(name, policy, at)  # by its full name
    elif asset_type in (FOLDER, ORGANIZATION) and re.fullmatch(r"(folders|organizations)/\d+", name):
        kind = "folder_iam_policy" if asset_type == FOLDER else "organization_iam_policy"
        inventory.of(kind)[name] = ancestor_policy(name, policy, at)
    else:
        why = f"has an IAM policy driftcheck does not read ({asset.get('name')!r}); it reads those of {IAM_TYPES}"
        raise _refused(asset_type, why, origin, where)


def _unknown_project(asset: dict[str, Any]) -> Unknown | None:
    placeholder = placeholder_project(asset)
    if placeholder is None:
        return None
    return Unknown(f"the Cloud Asset Inventory record's project is a template placeholder ({placeholder})")


def _located(doc: Document) -> tuple[str, str | None]:
    """The file, and the record's place in its list: `FILE:[3]`."""
    return (doc.url or str(doc.path), f"[{doc.index}]") if doc.index else (doc.label, None)


def _refuse_template(asset: dict[str, Any], origin: str, where: str | None) -> None:
    """A placeholder where the record names its project is the project unknown; anywhere else, a template."""
    placeholder = placeholder_project(asset)
    resource: dict[str, Any] = asset["resource"] if isinstance(asset.get("resource"), dict) else {}
    data = dict(resource["data"]) if isinstance(resource.get("data"), dict) else {}
    if placeholder is not None:  # the project positions of the API's JSON, as api_json fills them in
        data.pop("project", None)
        data.pop("name", None)
        if isinstance(data.get("metadata"), dict):
            data["metadata"] = {k: v for k, v in data["metadata"].items() if k != "namespace"}
    policy = field(asset, "iamPolicy", "iam_policy")
    found = placeholder_in({"name": "" if placeholder else asset.get("name"), "data": data, "iamPolicy": policy})
    if found:
        at, text = found
        raise InputError(template_message(text), file=origin, where=f"{where or ''}{at}")


def inventory_notes(data: dict[str, Any]) -> list[str]:
    """What a snapshot read through Cloud Asset Inventory says in the report: as of when, and what fell back."""
    read = data.get("asset_inventory")
    if not isinstance(read, dict):
        return []
    oldest, newest = read.get("oldest_update"), read.get("newest_update")
    span = f"; its assets were updated from {oldest} to {newest}" if oldest and newest else ""
    return [
        f"read through Cloud Asset Inventory, as of {read.get('read_time') or 'an unknown time'}{span}: the "
        "inventory lags changes by minutes",
        *(str(note) for note in read.get("notes") or ()),
    ]
