"""The inventory's assets indexed by project, and what they answer of each project's live reads."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from driftcheck.kinds.registry import LIST
from driftcheck.sources import asset_inventory as records
from driftcheck.sources.live.asset_listing import ABOVE, IAM_POLICY, RESOURCE, Listing
from driftcheck.sources.live.results import Failure

SERVICE = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$")
_PROJECT = re.compile(r"^projects/(?P<project>[^/]+)(?:/|$)")
_REGIONAL = re.compile(r"^projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/(?P<collection>[^/]+)/(?P<name>[^/]+)$")
_ANCESTOR = re.compile(r"^(?P<type>projects|folders|organizations)/(?P<id>[^/]+)$")


@dataclasses.dataclass
class Inventory:
    """The assets of every listing that succeeded, indexed as the per-project fetchers ask for them."""

    listings: list[Listing]
    numbers: dict[str, str] = dataclasses.field(default_factory=dict)  # project number -> id
    numbers_of: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # project id -> its numbers
    by_project: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = dataclasses.field(default_factory=dict)
    above: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # project id -> its ancestors
    ancestor_policies: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # folders/F -> policy
    # (content, asset type) -> the parents whose listing failed, and why
    failed: dict[tuple[str, str], dict[str, Failure]] = dataclasses.field(default_factory=dict)
    # (content, asset type) -> the parents it was listed under, failed or not
    listed: dict[tuple[str, str], set[str]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, listings: list[Listing]) -> Inventory:
        inventory = cls(listings)
        for listing in listings:
            for asset_type in listing.asset_types:
                inventory.listed.setdefault((listing.content, asset_type), set()).add(listing.parent)
            if isinstance(listing.assets, Failure):
                for asset_type in listing.asset_types:
                    inventory.failed.setdefault((listing.content, asset_type), {})[listing.parent] = listing.assets
            elif listing.content == RESOURCE and records.PROJECT in listing.asset_types:
                for asset in (a for a in listing.assets if a["assetType"] == records.PROJECT):
                    data = asset["resource"]["data"]
                    number, ident = str(data.get("projectNumber", "")), data.get("projectId")
                    if number and ident:
                        inventory.numbers[number] = str(ident)
                        inventory.numbers_of.setdefault(str(ident), []).append(number)
        for listing in listings:
            if isinstance(listing.assets, Failure):
                continue
            for asset in listing.assets:
                name = records.relative_name(asset)
                asset_type = asset["assetType"]
                if asset_type in ABOVE:
                    inventory.ancestor_policies[name] = asset["iamPolicy"]
                    continue
                match = _PROJECT.match(name)
                if match is None:
                    continue
                project = inventory.numbers.get(match["project"], match["project"])
                inventory.by_project.setdefault(project, defaultdict(list))[listing.content, asset_type].append(asset)
                if asset.get("ancestors"):
                    inventory.above.setdefault(project, asset["ancestors"])
        return inventory

    def served(self, content: str, asset_type: str, parent: str, project: str | None = None) -> bool:
        """Whether the type was listed under `parent` or under `projects/PROJECT` (a shard lists its projects one by
        one), and no such listing failed: only then does the inventory's silence mean there is none."""
        where = {parent, f"projects/{project}"}
        failed = self.failed.get((content, asset_type), {})
        return bool(where & self.listed.get((content, asset_type), set())) and not where & failed.keys()

    def assets(self, project: str, content: str, asset_type: str) -> list[dict[str, Any]]:
        return self.by_project.get(project, {}).get((content, asset_type), [])

    def read_times(self) -> tuple[str | None, str | None, str | None]:
        """The newest read time of the listings, the oldest and newest update time of their assets."""
        reads = [listing.read_time for listing in self.listings if listing.read_time]
        updates = [
            str(a["updateTime"])
            for listing in self.listings
            if not isinstance(listing.assets, Failure)
            for a in listing.assets
            if a.get("updateTime")
        ]
        return max(reads, default=None), min(updates, default=None), max(updates, default=None)


def services_of(inventory: Inventory, project: str, regions: Iterable[str]) -> list[dict[str, Any]] | None:
    """The project's Cloud Run services in `regions` as v2 REST JSON, or None when the inventory's data is not the
    v2 shape (the fetcher lists them then)."""
    wanted = set(regions)
    found = []
    for asset in inventory.assets(project, RESOURCE, records.RUN_SERVICE):
        match = SERVICE.match(records.relative_name(asset))
        if match is None or match["region"] not in wanted:
            continue
        if str(asset["resource"].get("version")) != "v2":
            return None
        found.append({**asset["resource"]["data"], "name": records.relative_name(asset)})
    return sorted(found, key=lambda raw: str(raw["name"]))


def answers_for(inventory: Inventory, project: str, parent: str, scoped: bool) -> dict[tuple[str, str, str], Any]:
    """What the inventory answers of one project's reads, keyed as LiveFetcher._calls names them. A resource the
    inventory does not hold is not answered (its own API says whether it exists). `scoped`: the parent is an
    organization or folder, whose folders' and organization's policies the listings hold."""
    answers: dict[tuple[str, str, str], Any] = {}

    def served(content: str, asset_type: str) -> bool:
        return inventory.served(content, asset_type, parent, project)

    for asset in inventory.assets(project, RESOURCE, records.SQL_INSTANCE):
        data = asset["resource"]["data"]
        if data.get("connectionName"):
            answers["sql_instance", "get", str(data["connectionName"])] = data
    for asset in inventory.assets(project, RESOURCE, records.CONNECTOR):
        name = records.relative_name(asset)
        for key in _project_spellings(name, project, inventory):
            answers["connector", "get", key] = {**asset["resource"]["data"], "name": name}
    secrets = [records.relative_name(a) for a in inventory.assets(project, RESOURCE, records.SECRET)]
    versions: dict[str, list[dict[str, Any]]] = {name: [] for name in secrets}
    for asset in inventory.assets(project, RESOURCE, records.SECRET_VERSION):
        name = records.relative_name(asset)
        owner = name.rsplit("/versions/", 1)[0]
        data = asset["resource"]["data"]
        version = {"name": name} | {k: data[k] for k in ("state", "createTime", "replicationStatus") if k in data}
        versions.setdefault(owner, []).append(version)
    policies = {records.relative_name(a): a["iamPolicy"] for a in inventory.assets(project, IAM_POLICY, records.SECRET)}
    for name in secrets:
        short = name.rsplit("/", 1)[1]
        keys = {short, *_project_spellings(name, project, inventory)}
        if served(RESOURCE, records.SECRET_VERSION):
            listed = sorted(versions.get(name, []), key=_version_order, reverse=True)
            answers.update({("secret", "versions", key): listed for key in keys})
        if served(IAM_POLICY, records.SECRET):  # a secret with no policy set has no IAM-policy asset
            answers.update({("secret", "iam", key): policies.get(name, {}) for key in keys})
    if served(IAM_POLICY, records.PROJECT) and served(RESOURCE, records.PROJECT):
        held = inventory.assets(project, IAM_POLICY, records.PROJECT)
        if inventory.assets(project, RESOURCE, records.PROJECT):
            answers["project_iam_policy", "get", project] = held[0]["iamPolicy"] if held else {}
    if served(IAM_POLICY, records.RUN_SERVICE):
        run_policies = {
            records.relative_name(a): a["iamPolicy"] for a in inventory.assets(project, IAM_POLICY, records.RUN_SERVICE)
        }
        for asset in inventory.assets(project, RESOURCE, records.RUN_SERVICE):
            name = records.relative_name(asset)
            if SERVICE.match(name):  # by the service's full name: the fetcher reads each in its own region
                for key in _project_spellings(name, project, inventory):
                    answers["run_service_iam_policy", "get", key] = run_policies.get(name, {})
    if served(RESOURCE, records.NETWORK):  # read by name, in the fetch's project
        for asset in inventory.assets(project, RESOURCE, records.NETWORK):
            data = asset["resource"]["data"]
            answers["network", "get", str(data.get("name") or records.relative_name(asset).rsplit("/", 1)[-1])] = data
    if served(RESOURCE, records.SUBNETWORK):  # by REGION/NAME
        for asset in inventory.assets(project, RESOURCE, records.SUBNETWORK):
            match = _REGIONAL.match(records.relative_name(asset))
            if match and match["collection"] == "subnetworks":
                answers["subnet", "get", f"{match['region']}/{match['name']}"] = asset["resource"]["data"]
    chain = inventory.above.get(project)
    if scoped and chain:
        walked = [_ancestor(entry, project) for entry in chain]
        if all(walked) and walked[0] == {"id": project, "type": "project"}:
            answers["project_ancestry", "get", project] = walked
            for entry in (e for e in walked[1:] if e is not None):
                name = f"{entry['type']}s/{entry['id']}"
                content_type = records.FOLDER if entry["type"] == "folder" else records.ORGANIZATION
                if served(IAM_POLICY, content_type):
                    kind = "folder_iam_policy" if entry["type"] == "folder" else "organization_iam_policy"
                    answers[kind, "get", name] = inventory.ancestor_policies.get(name, {})
    return answers


def shared_answers(
    inventory: Inventory, regions: Iterable[str], parent_of: Callable[[str], str]
) -> dict[tuple[str, str, str], Any]:
    """What the inventory answers of any project's fetch, whichever project asks: service accounts by email (the
    project of the services that run as one may not be its own), and the listings of routers (per region of the
    audit) and firewall rules of every project it holds (a Shared VPC host's too). A listing answers only where the
    inventory listed that type under the project's parent; an account it does not hold is read from the API."""
    answers: dict[tuple[str, str, str], Any] = {}
    for project, held in inventory.by_project.items():
        parent = parent_of(project)
        if inventory.served(RESOURCE, records.SERVICE_ACCOUNT, parent, project):
            for asset in held.get((RESOURCE, records.SERVICE_ACCOUNT), ()):
                data = asset["resource"]["data"]
                if data.get("email"):
                    answers["service_account", "get", str(data["email"])] = data
        if inventory.served(RESOURCE, records.FIREWALL, parent, project):
            rules = held.get((RESOURCE, records.FIREWALL), ())
            answers["firewall", LIST, f"projects/{project}"] = {
                str(a["resource"]["data"].get("name") or records.relative_name(a).rsplit("/", 1)[-1]):
                a["resource"]["data"] for a in rules
            }  # fmt: skip
        if inventory.served(RESOURCE, records.ROUTER, parent, project):
            listed: dict[str, dict[str, Any]] = {region: {} for region in regions}
            for asset in held.get((RESOURCE, records.ROUTER), ()):
                match = _REGIONAL.match(records.relative_name(asset))
                if match and match["collection"] == "routers":
                    listed.setdefault(match["region"], {})[f"{match['region']}/{match['name']}"] = asset["resource"][
                        "data"
                    ]
            answers.update({("router", LIST, f"projects/{project}/regions/{r}"): found for r, found in listed.items()})
    return answers


def _ancestor(entry: str, project: str) -> dict[str, str] | None:
    match = _ANCESTOR.match(entry)
    if match is None:
        return None
    if match["type"] == "projects":
        return {"id": project, "type": "project"}
    return {"id": match["id"], "type": match["type"][:-1]}


def _project_spellings(name: str, project: str, inventory: Inventory) -> set[str]:
    """`projects/ID/...` and `projects/NUMBER/...`: a service may name either."""
    rest = name.split("/", 2)[2] if name.count("/") >= 2 else ""
    numbers = inventory.numbers_of.get(project, ())  # not a scan of every project's number: 2,000 projects x 2,000
    return {name, f"projects/{project}/{rest}", *(f"projects/{n}/{rest}" for n in numbers)}


def _version_order(version: dict[str, Any]) -> tuple[int, str]:
    last = str(version["name"]).rsplit("/", 1)[-1]
    return (int(last), "") if last.isdigit() else (-1, last)


def fallback_notes(inventory: Inventory) -> list[str]:
    """One note per listing the inventory could not serve: what is read per resource instead, and why."""
    notes = []
    for (content, asset_type), parents in sorted(inventory.failed.items()):
        for parent, failure in sorted(parents.items()):
            what = "IAM policies" if content == IAM_POLICY else "resources"
            notes.append(
                f"Cloud Asset Inventory could not list the {what} of type {asset_type} in {parent} "
                f"({failure.reason()}): read per resource instead"
            )
    return notes
