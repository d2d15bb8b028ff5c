"""The fake project's contents: Cloud Run services and revisions, secrets, Cloud SQL instances, VPC connectors, Pub/Sub
subscriptions, Memorystore Redis instances, Compute Engine networks, subnets, routers and firewall rules, and Cloud
Logging entries (`*.logs.json`, recognized by content).

Everything is held as the official client types (proto-plus messages; the IAM policy is a raw `policy_pb2.Policy`),
so what the fake server returns is exactly what the real API would serialize; Compute Engine's resources, served
over REST (compute.py), are held as the API's JSON (what `gcloud compute ... --format=json` exports, as is).
`World.from_folder` reads a folder of
exported files and recognizes each by its content, never by its name (except `SECRET.iam.json`,
`PROJECT.project-iam.json` and `SERVICE.run-iam.json`, whose content carries no resource name).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google import pubsub_v1
from google.cloud import (
    iam_admin_v1,
    policytroubleshooter_iam_v3,
    redis_v1,
    run_v2,
    secretmanager_v1,
    sqladmin_v1,
    vpcaccess_v1,
)
from google.cloud.logging_v2.types import LogEntry
from google.iam.v1 import policy_pb2
from google.protobuf import json_format

SERVICE_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$")
REVISION_NAME = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)/revisions/(?P<revision>[^/]+)$"
)
SECRET_NAME = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
VERSION_NAME = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$")
CONNECTOR_NAME = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<connector>[^/]+)$"
)
SERVICE_ACCOUNT_NAME = re.compile(r"^projects/(?P<project>[^/]+)/serviceAccounts/(?P<account>[^/]+)$")
SUBSCRIPTION_NAME = re.compile(r"^projects/(?P<project>[^/]+)/subscriptions/(?P<subscription>[^/]+)$")
REDIS_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/instances/(?P<instance>[^/]+)$")
# A Compute Engine selfLink: https://www.googleapis.com/compute/v1/projects/P/(global|regions/R)/COLLECTION/NAME
COMPUTE_LINK = re.compile(
    r"/projects/(?P<project>[^/]+)/(?:global|regions/(?P<region>[^/]+))/(?P<collection>[a-zA-Z]+)/(?P<name>[^/]+)$"
)
_COMPUTE_KINDS = {"compute#network": "network", "compute#subnetwork": "subnetwork", "compute#router": "router",
                  "compute#firewall": "firewall"}  # fmt: skip
IAM_SUFFIX = ".iam.json"
PROJECT_IAM_SUFFIX = ".project-iam.json"  # `gcloud projects get-iam-policy PROJECT --format=json`
RUN_IAM_SUFFIX = ".run-iam.json"  # `gcloud run services get-iam-policy SERVICE --format=json`
FOLDER_IAM_SUFFIX = ".folder-iam.json"  # `gcloud resource-manager folders get-iam-policy FOLDER_ID --format=json`
ORG_IAM_SUFFIX = ".org-iam.json"  # `gcloud organizations get-iam-policy ORG_ID --format=json`
_URL_NUMBER = re.compile(r"^https://[^/]+-(?P<number>\d{6,})\.[a-z0-9-]+\.run\.app")
_SQL_AGENT_NUMBER = re.compile(r"^p(?P<number>\d+)-")

# RevisionTemplate fields that a Revision carries at its top level under the same name.
_TEMPLATE_TO_REVISION = (
    "labels",
    "annotations",
    "scaling",
    "vpc_access",
    "timeout",
    "service_account",
    "containers",
    "volumes",
    "execution_environment",
    "encryption_key",
    "max_instance_request_concurrency",
    "service_mesh",
    "encryption_key_revocation_action",
    "encryption_key_shutdown_duration",
    "session_affinity",
    "node_selector",
    "gpu_zonal_redundancy_disabled",
)
_LIST_KEYS = ("services", "revisions", "secrets", "versions", "items", "connectors", "subscriptions")


class WorldFileError(ValueError):
    """A world file that is not one of the recognized kinds, or is malformed."""


def _json(message_type: Any, data: Any) -> Any:
    return message_type.from_json(json.dumps(data), ignore_unknown_fields=True)


@dataclass
class World:
    """Resources keyed the way the fake server looks them up.

    - services: full name `projects/P/locations/R/services/S` → run_v2.Service
    - revisions: full name `.../services/S/revisions/REV` → run_v2.Revision
    - secrets: secret id → secretmanager_v1.Secret (the project in a request is ignored: ids are unique here)
    - secret_versions: secret id → [secretmanager_v1.SecretVersion] (any order; listed newest first)
    - iam_policies: secret id → google.iam.v1 policy_pb2.Policy
    - project_iam_policies: project id → policy_pb2.Policy (`PROJECT.project-iam.json`)
    - run_iam_policies: service → policy_pb2.Policy (`SERVICE.run-iam.json`): by full name
      `projects/P/locations/R/services/S` (that region's service only), or by short name (the service of that name
      in any region that has none of its own by full name)
    - service_accounts: email → iam_admin_v1.ServiceAccount (`gcloud iam service-accounts describe --format=json`);
      an email it does not hold answers NOT_FOUND, as a deleted account does
    - sql_instances: (project id, instance name) → sqladmin_v1.DatabaseInstance
    - connectors: full name `projects/P/locations/R/connectors/C` → vpcaccess_v1.Connector
    - subscriptions: full name `projects/P/subscriptions/S` → pubsub_v1.Subscription (`gcloud pubsub subscriptions
      describe S --format=json`), listed per project
    - redis_instances: full name `projects/P/locations/R/instances/I` → redis_v1.Instance (`gcloud redis instances
      describe --format=json`), listed per region
    - networks: (project, name) → the API's JSON (`gcloud compute networks describe --format=json`); subnetworks,
      routers: (project, region, name) → JSON; firewalls: (project, name) → JSON (`firewall-rules list`, a list).
      The project and region come from each resource's selfLink
    - project_numbers: project number → project id, so a request may name a project either way
    """

    services: dict[str, run_v2.Service] = field(default_factory=dict)
    revisions: dict[str, run_v2.Revision] = field(default_factory=dict)
    secrets: dict[str, secretmanager_v1.Secret] = field(default_factory=dict)
    secret_versions: dict[str, list[secretmanager_v1.SecretVersion]] = field(default_factory=dict)
    iam_policies: dict[str, policy_pb2.Policy] = field(default_factory=dict)
    project_iam_policies: dict[str, policy_pb2.Policy] = field(default_factory=dict)
    run_iam_policies: dict[str, policy_pb2.Policy] = field(default_factory=dict)
    service_accounts: dict[str, iam_admin_v1.ServiceAccount] = field(default_factory=dict)
    sql_instances: dict[tuple[str, str], sqladmin_v1.DatabaseInstance] = field(default_factory=dict)
    connectors: dict[str, vpcaccess_v1.Connector] = field(default_factory=dict)
    subscriptions: dict[str, pubsub_v1.Subscription] = field(default_factory=dict)
    redis_instances: dict[str, redis_v1.Instance] = field(default_factory=dict)
    networks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    subnetworks: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    routers: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    firewalls: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    project_numbers: dict[str, str] = field(default_factory=dict)
    # The resource hierarchy (`PROJECT.ancestors.json`, `gcloud projects get-ancestors --format=json`): each project's
    # and folder's parent ("folders/ID" or "organizations/ID"); a project it does not hold has none (no organization).
    # Folder and organization IAM policies by "folders/ID" / "organizations/ID" (`ID.folder-iam.json`,
    # `ID.org-iam.json`); one it does not hold has no bindings.
    parents: dict[str, str] = field(default_factory=dict)
    folder_iam_policies: dict[str, policy_pb2.Policy] = field(default_factory=dict)
    organization_iam_policies: dict[str, policy_pb2.Policy] = field(default_factory=dict)
    # (principal email, permission, full resource name) → Policy Troubleshooter's canned answer; an access tuple it
    # does not hold is answered UNKNOWN_INFO (what the real API says when the caller may not read every policy)
    troubleshooter_answers: dict[tuple[str, str, str], policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse] = (
        field(default_factory=dict)
    )
    # Cloud Logging entries (`gcloud logging read ... --format=json > api.logs.json`: a list of LogEntry JSON), any
    # order: ListLogEntries filters, orders and pages them (logs.py)
    log_entries: list[LogEntry] = field(default_factory=list)

    # Building ---------------------------------------------------------------------------------------------
    def add_service(self, service: run_v2.Service, *, synthesize_revisions: bool = True) -> run_v2.Service:
        """Add (or replace) a service. Its latest created and last ready revisions are synthesized unless a
        revision of that name is already in the world (explicit revisions win, whichever is added first)."""
        match = SERVICE_NAME.match(service.name)
        if not match:
            raise WorldFileError(f"not a Cloud Run v2 service name: {service.name!r}")
        self.services[service.name] = service
        for url in [service.uri, *service.urls]:
            number = _URL_NUMBER.match(url)
            if number:
                self.project_numbers.setdefault(number["number"], match["project"])
        if synthesize_revisions:
            for revision in synthesized_revisions(service):
                self.revisions.setdefault(revision.name, revision)
        return service

    def add_revision(self, revision: run_v2.Revision) -> run_v2.Revision:
        """Add a revision; it replaces a synthesized one of the same name."""
        match = REVISION_NAME.match(revision.name)
        if not match:
            raise WorldFileError(f"not a Cloud Run v2 revision name: {revision.name!r}")
        if not revision.service:
            revision.service = revision.name.rsplit("/revisions/", 1)[0]
        self.revisions[revision.name] = revision
        return revision

    def add_secret(self, secret: secretmanager_v1.Secret) -> secretmanager_v1.Secret:
        match = SECRET_NAME.match(secret.name)
        if not match:
            raise WorldFileError(f"not a Secret Manager secret name: {secret.name!r}")
        self.secrets[match["secret"]] = secret
        return secret

    def add_secret_versions(self, versions: Iterable[secretmanager_v1.SecretVersion]) -> None:
        """Add versions (merged by name). A secret known only from its versions gets a minimal Secret."""
        for version in versions:
            match = VERSION_NAME.match(version.name)
            if not match:
                raise WorldFileError(f"not a Secret Manager version name: {version.name!r}")
            secret_id = match["secret"]
            if secret_id not in self.secrets:
                self.secrets[secret_id] = secretmanager_v1.Secret(
                    name=f"projects/{match['project']}/secrets/{secret_id}"
                )
            known = [v for v in self.secret_versions.get(secret_id, []) if v.name != version.name]
            self.secret_versions[secret_id] = [*known, version]

    def set_iam_policy(self, secret_id: str, policy: policy_pb2.Policy | dict[str, Any]) -> policy_pb2.Policy:
        if isinstance(policy, dict):
            policy = json_format.ParseDict(policy, policy_pb2.Policy(), ignore_unknown_fields=True)
        self.iam_policies[secret_id] = policy
        return policy

    def set_project_iam_policy(self, project: str, policy: policy_pb2.Policy | dict[str, Any]) -> policy_pb2.Policy:
        if isinstance(policy, dict):
            policy = json_format.ParseDict(policy, policy_pb2.Policy(), ignore_unknown_fields=True)
        self.project_iam_policies[project] = policy
        return policy

    def set_ancestry(self, ancestors: list[dict[str, str]]) -> None:
        """`gcloud projects get-ancestors PROJECT --format=json`: [{id, type}] from the project up."""
        names = [f"{a['type']}s/{a['id']}" if a["type"] != "project" else f"projects/{a['id']}" for a in ancestors]
        if not names or not names[0].startswith("projects/"):
            raise WorldFileError(f"an ancestry starts with its project: {ancestors!r}")
        for child, parent in itertools.pairwise(names):
            self.parents[child] = parent

    def set_ancestor_iam_policy(self, name: str, policy: policy_pb2.Policy | dict[str, Any]) -> policy_pb2.Policy:
        """A folder's ("folders/ID") or an organization's ("organizations/ID") IAM policy."""
        if isinstance(policy, dict):
            policy = json_format.ParseDict(policy, policy_pb2.Policy(), ignore_unknown_fields=True)
        held = self.folder_iam_policies if name.startswith("folders/") else self.organization_iam_policies
        held[name] = policy
        return policy

    def set_run_iam_policy(self, service: str, policy: policy_pb2.Policy | dict[str, Any]) -> policy_pb2.Policy:
        if isinstance(policy, dict):
            policy = json_format.ParseDict(policy, policy_pb2.Policy(), ignore_unknown_fields=True)
        self.run_iam_policies[service] = policy
        return policy

    def run_iam_policy(self, service: str) -> policy_pb2.Policy | None:
        """The policy of the service of that full name: its own (by full name, its project by id or number), else
        one set by its short name; None: it has none."""
        canonical = self.canonical(service)
        own = next((p for name, p in self.run_iam_policies.items() if self.canonical(name) == canonical), None)
        return own if own is not None else self.run_iam_policies.get(service.rsplit("/", 1)[-1])

    def add_service_account(self, account: iam_admin_v1.ServiceAccount) -> iam_admin_v1.ServiceAccount:
        if not account.email or not SERVICE_ACCOUNT_NAME.match(account.name):
            raise WorldFileError(f"not a service account: {account.name!r} ({account.email!r})")
        self.service_accounts[account.email] = account
        return account

    def add_sql_instance(self, instance: sqladmin_v1.DatabaseInstance) -> sqladmin_v1.DatabaseInstance:
        project = instance.project or instance.connection_name.split(":", 1)[0]
        if not project or not instance.name:
            raise WorldFileError("a Cloud SQL instance needs `project` (or `connectionName`) and `name`")
        self.sql_instances[(project, instance.name)] = instance
        number = _SQL_AGENT_NUMBER.match(instance.service_account_email_address)
        if number:
            self.project_numbers.setdefault(number["number"], project)
        return instance

    def add_connector(self, connector: vpcaccess_v1.Connector) -> vpcaccess_v1.Connector:
        if not CONNECTOR_NAME.match(connector.name):
            raise WorldFileError(f"not a VPC Access connector name: {connector.name!r}")
        self.connectors[connector.name] = connector
        return connector

    def add_subscription(self, subscription: pubsub_v1.Subscription) -> pubsub_v1.Subscription:
        if not SUBSCRIPTION_NAME.match(subscription.name):
            raise WorldFileError(f"not a Pub/Sub subscription name: {subscription.name!r}")
        self.subscriptions[subscription.name] = subscription
        return subscription

    def add_redis_instance(self, instance: redis_v1.Instance) -> redis_v1.Instance:
        if not REDIS_NAME.match(instance.name):
            raise WorldFileError(f"not a Memorystore instance name: {instance.name!r}")
        self.redis_instances[instance.name] = instance
        return instance

    def add_compute(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A network, subnetwork, router or firewall rule as the Compute API's JSON, placed by its selfLink."""
        kind = _COMPUTE_KINDS.get(str(resource.get("kind")))
        link = COMPUTE_LINK.search(str(resource.get("selfLink", "")))
        if kind is None or link is None or link["name"] != resource.get("name"):
            raise WorldFileError(f"not a Compute Engine resource with its selfLink: {resource.get('name')!r}")
        if kind in ("subnetwork", "router") and not link["region"]:
            raise WorldFileError(f"a {kind}'s selfLink names its region: {resource['selfLink']!r}")
        project, region, name = link["project"], link["region"], link["name"]
        if kind == "network":
            self.networks[(project, name)] = resource
        elif kind == "firewall":
            self.firewalls[(project, name)] = resource
        else:
            (self.subnetworks if kind == "subnetwork" else self.routers)[(project, region, name)] = resource
        return resource

    def add_log_entry(self, entry: LogEntry) -> LogEntry:
        if not entry.log_name.startswith("projects/") or "/logs/" not in entry.log_name:
            raise WorldFileError(f"not a log entry of a project's log: {entry.log_name!r}")
        self.log_entries.append(entry)
        return entry

    def add_troubleshooter_answer(
        self, answer: policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse
    ) -> policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse:
        """A canned answer, for the access tuple it carries (a v3 TroubleshootIamPolicyResponse)."""
        asked = answer.access_tuple
        if not (asked.principal and asked.permission and asked.full_resource_name):
            raise WorldFileError("a troubleshooter answer needs its accessTuple: principal, permission, resource")
        self.troubleshooter_answers[(asked.principal, asked.permission, asked.full_resource_name)] = answer
        return answer

    # Lookups used by the server -----------------------------------------------------------------------------
    def project_id(self, project: str) -> str:
        """The project id for an id or a number the world knows."""
        return self.project_numbers.get(project, project)

    def canonical(self, name: str) -> str:
        """`projects/NUMBER/...` → `projects/ID/...` where the number is known."""
        if name.startswith("projects/"):
            head, _, rest = name[len("projects/") :].partition("/")
            return f"projects/{self.project_id(head)}" + (f"/{rest}" if rest else "")
        return name

    def versions_newest_first(self, secret_id: str) -> list[secretmanager_v1.SecretVersion]:
        return sorted(self.secret_versions.get(secret_id, []), key=_version_sort_key, reverse=True)

    # Reading exported files -------------------------------------------------------------------------------
    @classmethod
    def from_folder(cls, path: str | Path) -> World:
        """Every *.json / *.yaml / *.yml file under `path` (recursively, hidden folders included), by content:

        Cloud Run v2 Service JSON (REST shape), Cloud Run v2 Revision JSON, `gcloud sql instances describe
        --format=json`, a VPC Access connector, `gcloud pubsub subscriptions describe --format=json`, `gcloud
        secrets describe --format=json`, `gcloud secrets versions list --format=json` (a list), `SECRET.iam.json`
        (a secret's IAM policy) `PROJECT.project-iam.json` (a project's) and `SERVICE.run-iam.json` (a service's);
        `PROJECT.ancestors.json` (`gcloud projects get-ancestors --format=json`: the hierarchy GetProject and
        GetFolder answer with), `FOLDER_ID.folder-iam.json` and `ORG_ID.org-iam.json` (their IAM policies).
        `gcloud redis instances describe --format=json`, and Compute Engine's `networks describe`, `networks subnets
        describe`, `routers describe` and `firewall-rules list` (`--format=json`, recognized by their `kind`).
        API list responses (`{"services": [...]}`) and plain lists of resources are unwrapped. Any other file raises
        WorldFileError naming it. Explicit revision files win over the revisions synthesized from their service.
        """
        world = cls()
        root = Path(path)
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".yaml", ".yml"))
        if not files:
            raise WorldFileError(f"{root}: no .json/.yaml files")
        services: list[run_v2.Service] = []
        for file in files:
            for kind, data in _classified(file):
                if kind == "service":
                    services.append(_json(run_v2.Service, data))
                elif kind == "revision":
                    world.add_revision(_json(run_v2.Revision, data))
                elif kind == "sql":
                    world.add_sql_instance(_json(sqladmin_v1.DatabaseInstance, data))
                elif kind == "connector":
                    world.add_connector(_json(vpcaccess_v1.Connector, data))
                elif kind == "subscription":
                    world.add_subscription(_json(pubsub_v1.Subscription, data))
                elif kind == "redis":
                    world.add_redis_instance(_json(redis_v1.Instance, data))
                elif kind == "compute":
                    world.add_compute(data)
                elif kind == "secret":
                    world.add_secret(_json(secretmanager_v1.Secret, data))
                elif kind == "versions":
                    world.add_secret_versions(_json(secretmanager_v1.SecretVersion, v) for v in data)
                elif kind == "versions_item":
                    world.add_secret_versions([_json(secretmanager_v1.SecretVersion, data)])
                elif kind == "log_entry":
                    world.add_log_entry(_json(LogEntry, data))
                elif kind == "troubleshooter":
                    answer = _json(policytroubleshooter_iam_v3.TroubleshootIamPolicyResponse, data)
                    world.add_troubleshooter_answer(answer)
                elif kind == "service_account":
                    world.add_service_account(_json(iam_admin_v1.ServiceAccount, data))
                elif kind == "run_policy":
                    world.set_run_iam_policy(file.name[: -len(RUN_IAM_SUFFIX)], data)
                elif kind == "ancestors":
                    world.set_ancestry(data)
                elif kind == "folder_policy":
                    world.set_ancestor_iam_policy(f"folders/{file.name[: -len(FOLDER_IAM_SUFFIX)]}", data)
                elif kind == "org_policy":
                    world.set_ancestor_iam_policy(f"organizations/{file.name[: -len(ORG_IAM_SUFFIX)]}", data)
                elif kind == "project_policy":
                    world.set_project_iam_policy(file.name[: -len(PROJECT_IAM_SUFFIX)], data)
                elif kind == "policy":
                    world.set_iam_policy(file.name[: -len(IAM_SUFFIX)], data)
        for service in services:  # after the revision files, so that explicit revisions win
            world.add_service(service)
        return world


def synthesized_revisions(service: run_v2.Service) -> list[run_v2.Revision]:
    """The latest created revision and, when it differs, the last ready one, built from the service template.

    The latest created revision's Ready condition is the service's terminal condition when that failed (the
    deploy failed), else succeeded; the last ready revision is Ready. Both carry the service's *current*
    template: the fake cannot know what an older revision held (give an explicit revision file for that).
    """
    created, ready = service.latest_created_revision, service.latest_ready_revision
    revisions = []
    if created:
        failed = created != ready and service.terminal_condition.state == run_v2.Condition.State.CONDITION_FAILED
        revisions.append(_revision(service, created, ready=not failed))
    if ready and ready != created:
        revisions.append(_revision(service, ready, ready=True))
    return revisions


def _revision(service: run_v2.Service, name: str, *, ready: bool) -> run_v2.Revision:
    template = service.template
    revision = run_v2.Revision(name=name, service=service.name, launch_stage=service.launch_stage)
    for key in _TEMPLATE_TO_REVISION:
        if key in template:  # presence, so unset sub-messages stay unset (vpc_access absent stays absent)
            setattr(revision, key, getattr(template, key))
    number = re.search(r"-(\d+)-[^-]+$", name)
    if number:
        revision.generation = int(number[1])
    if ready:
        condition = run_v2.Condition(type_="Ready", state=run_v2.Condition.State.CONDITION_SUCCEEDED)
    else:
        condition = run_v2.Condition(service.terminal_condition)
        condition.type_ = "Ready"
    revision.conditions = [condition]
    revision.observed_generation = revision.generation
    return revision


def _version_sort_key(version: secretmanager_v1.SecretVersion) -> tuple[int, str]:
    last = version.name.rsplit("/", 1)[-1]
    return (int(last), "") if last.isdigit() else (-1, last)


# Recognizing files ---------------------------------------------------------------------------------------
def _classified(file: Path) -> Iterator[tuple[str, Any]]:
    text = file.read_text(encoding="utf-8-sig")
    try:
        docs = [json.loads(text)] if text.lstrip()[:1] in "{[" else [d for d in yaml.safe_load_all(text) if d]
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise WorldFileError(f"{file}: malformed: {exc}") from None
    for doc in docs:
        for data in _unwrapped(doc):
            kind = _kind(data, file)
            if kind is None and isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("serving."):
                raise WorldFileError(f"{file}: a Knative v1 export; the fake serves the v2 API (give v2 Service JSON)")
            if kind is None:
                shape = f"keys {sorted(data)[:6]}" if isinstance(data, dict) else type(data).__name__
                raise WorldFileError(f"{file}: not a recognized world file ({shape})")
            yield kind, data


def _unwrapped(data: Any) -> Iterator[Any]:
    if _kind(data, None) is not None:
        yield data
    elif isinstance(data, dict) and any(isinstance(data.get(k), list) for k in _LIST_KEYS):
        key = next(k for k in _LIST_KEYS if isinstance(data.get(k), list))
        for item in data[key]:
            yield from _unwrapped(item)
    elif isinstance(data, list):
        for item in data:
            yield from _unwrapped(item)
    else:
        yield data


def _kind(data: Any, file: Path | None) -> str | None:
    if isinstance(data, list):
        names = [v.get("name", "") if isinstance(v, dict) else "" for v in data]
        if data and all(isinstance(a, dict) and set(a) == {"id", "type"} for a in data):
            return "ancestors"  # `gcloud projects get-ancestors --format=json`
        return "versions" if names and all(VERSION_NAME.match(str(n)) for n in names) else None
    if not isinstance(data, dict):
        return None
    name = str(data.get("name", ""))
    if SERVICE_NAME.match(name) and "template" in data:
        return "service"
    if REVISION_NAME.match(name):
        return "revision"
    if data.get("kind") == "sql#instance" or ("databaseVersion" in data and "connectionName" in data):
        return "sql"
    if CONNECTOR_NAME.match(name):
        return "connector"
    if SUBSCRIPTION_NAME.match(name) and "topic" in data:
        return "subscription"
    if REDIS_NAME.match(name) and "redisVersion" in data:
        return "redis"
    if data.get("kind") in _COMPUTE_KINDS:
        return "compute"
    if SECRET_NAME.match(name):
        return "secret"
    if VERSION_NAME.match(name):
        return "versions_item"
    if SERVICE_ACCOUNT_NAME.match(name) and "email" in data:
        return "service_account"
    if isinstance(data.get("logName"), str) and isinstance(data.get("resource"), dict):
        return "log_entry"  # one entry of `gcloud logging read --format=json` (a list of them)
    if "overallAccessState" in data and isinstance(data.get("accessTuple"), dict):
        return "troubleshooter"  # a Policy Troubleshooter v3 answer (TroubleshootIamPolicyResponse)
    is_policy = "etag" in data and set(data) <= {"bindings", "etag", "version", "auditConfigs"}
    if is_policy and file is not None and file.name.endswith(RUN_IAM_SUFFIX):
        return "run_policy"
    if is_policy and file is not None and file.name.endswith(FOLDER_IAM_SUFFIX):
        return "folder_policy"
    if is_policy and file is not None and file.name.endswith(ORG_IAM_SUFFIX):
        return "org_policy"
    if is_policy and file is not None and file.name.endswith(PROJECT_IAM_SUFFIX):
        return "project_policy"
    if is_policy and file is not None and file.name.endswith(IAM_SUFFIX):
        return "policy"
    return None
