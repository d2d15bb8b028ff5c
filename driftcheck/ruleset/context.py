"""What a rule sees: a service in canonical form, joined with the resources it references.

The joins live here so rules stay judgments: `refs.secrets[].resource` is the secret's metadata, or an
unknown marker when the evidence does not hold it (never "missing").

`refs`: `secrets[]` (each reference with `version_state`, `resolved_version`, `enabled_versions`),
`sql_attached[]` (the instances the service attaches, known or not, as `{connection_name, project, environment,
resource}`), `sql_known_in_use[]` (the instances in the evidence that it attaches or reaches by a private IP in its
env, as their metadata), `sql_in_use[]` (every instance it uses: the attached ones, plus those its env reaches by IP,
as `sql_attached[]` entries), `sql_in_evidence` (the connection name of every instance the evidence holds, what
a malformed name can be matched against), `connector` (with `network_source`; the network of one created on a
subnet is its subnet's, when the evidence holds that subnet), `env[]` (`{container, name, value}`), `env_values`,
`cloudsql_mentioned` (connection names in env), `project_grants` (the roles its account holds in its project's IAM
policy, unknown without that policy), `runtime_account` (its service account as read: whether it exists and is
disabled; unknown when a read of it failed, null when the evidence holds no word of it), `pushed_by` (the Pub/Sub
push subscriptions in the evidence whose endpoint is one of its own hosts, `{name, identity, source, invoke}`),
`sql_connect[]` (each instance it attaches or names in env, with `connect`), `invokers[]` (each member any service's
IAM policy in the evidence grants roles/run.invoker, with `invoke` on this one), `service_agent[]` (the roles its Cloud
Run service agent needs where the evidence holds the policy). `secrets[].access`, `pushed_by[].invoke`,
`sql_connect[].connect`, `invokers[].invoke` and `service_agent[].answer` are the permission resolver's answers
(kinds/access.py): `access` granted/denied/unknown, `denied` (unknown with why, for `needs`), `via`, `read[]` and
`unread[]` levels.
`member` is the service account as an IAM member. `sql_budget[]`: per known instance it uses, the connections
every service of the evidence that uses it may open at peak, against the instance's limit (ruleset/sqlbudget.py).
`paths[]`: how it reaches each dependency over the network, hop by hop (`hops[]`, each `verified`, `broken` with
the fields read, or `unknown` with the export that would decide it), and `subnet_use[]`: its Direct VPC subnets'
size against the addresses their services may take (driftcheck/paths/).
`secrets[].via` is `env` (a secretKeyRef), `env-value` (a value the app resolves itself: `sm://S`,
`projects/P/secrets/S/versions/V`) or `volume`; env ones name their `container`. Traits (ruleset/traits.py), so a
rule can tell an ordinary difference between applications or environments from a cause: `images` (container ->
`{repository, name}`), `app_keys`, `service_stem`, `environment` (`{stage, tier, source}`), `identity` (`{default,
name, own_project}`); and `cloudsql_socket` (an env value names /cloudsql), `private_addresses` (RFC 1918
addresses in env values).

For sentences (ruleset/naming.py): `label` names the service, each container's `display` names the container.

The TypedDicts below declare each entry as it is built here; ruleset/vocabulary.py publishes them (with the model's
dataclasses) as the JSON Schema rules are checked against, so what is built and what is described cannot part.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypedDict

from driftcheck.kinds import access
from driftcheck.kinds.network.path import connector_subnet
from driftcheck.kinds.network.subnet import Subnet
from driftcheck.kinds.project_iam import PROJECT_IAM, ProjectIamPolicy
from driftcheck.kinds.registry import Kind, with_snapshot
from driftcheck.kinds.run_iam import INVOKER, RUN_IAM, RunServiceIamPolicy
from driftcheck.kinds.service.common import own_hosts
from driftcheck.kinds.service_account import SERVICE_ACCOUNT, ServiceAccount
from driftcheck.kinds.subscription import SUBSCRIPTION, PubsubSubscription
from driftcheck.model import (
    Connector,
    Container,
    Inventory,
    Secret,
    Service,
    SqlInstance,
    Unknown,
    secret_reference,
    to_plain,
)
from driftcheck.paths import NetworkPath, SubnetUse, paths_of, subnet_uses
from driftcheck.ruleset import sqlbudget, traits
from driftcheck.ruleset.logs import LogsSeen, logs_seen
from driftcheck.ruleset.naming import container_display

_CONNECTOR_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)$")
_CONNECTION_NAME = re.compile(r"\b([a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*)\b")
# What an attached name must be to name an instance: PROJECT:REGION:INSTANCE (a domain-scoped project keeps its
# `example.com:` prefix). Any other (a plain instance name, a path, whitespace) names none: rule
# cloudsql-instance-name-malformed reports it, and it is no instance to look up. Letter case is not judged.
_CONNECTION_NAME_FORM = re.compile(
    r"(?i)(?:[a-z0-9-]+(?:\.[a-z0-9-]+)+:)?[a-z0-9][a-z0-9-]*:[a-z]+-[a-z]+\d+:[a-z0-9][a-z0-9-]*"
)
_SECRET_PATH = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
# RFC 1918 addresses in env values (REDIS_HOST=10.0.0.3): something reached only through the VPC. A range
# (TRUSTED_PROXIES=10.0.0.0/8) is not an address anything connects to.
_PRIVATE_ADDRESS = re.compile(
    r"(?<![\d.])(?:10(?:\.\d{1,3}){3}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|192\.168(?:\.\d{1,3}){2})(?![\d./])"
)

# A model object as to_plain gives it, with what this module adds (ADDED): mypy sees the dict built here, the
# vocabulary reads the class from the annotation.
SecretPlain = Annotated[dict[str, Any], Secret]
SqlPlain = Annotated[dict[str, Any], SqlInstance]
ConnectorPlain = Annotated[dict[str, Any], Connector]


class SecretUse(TypedDict):
    """A secret the service reads, and how it reads it."""

    via: Literal["env", "env-value", "volume"]  # a secretKeyRef, a value the app resolves itself, a secret volume
    name: str  # the env var, or the volume
    container: str | None  # the container key of an env one; None for a volume
    secret: str  # the secret id; another project's as projects/P/secrets/S
    version: str  # as referenced: a number, latest, or an alias
    resource: SecretPlain | Unknown  # the secret's metadata; unknown when the evidence does not hold it
    resolved_version: str  # the number `latest` names (the newest version, whatever its state), else `version`
    enabled_versions: list[str]  # enabled version numbers a reference could be pinned to instead, oldest first
    version_state: str | Unknown  # ENABLED, DISABLED, DESTROYED or ABSENT: the version it resolves to
    source: str | None  # the file (or API) the secret's metadata came from
    access: AccessAnswer  # may its runtime account access the secret's versions (secretmanager.versions.access)


class SqlUse(TypedDict):
    """A Cloud SQL instance as its connection name tells it, with the instance's metadata."""

    connection_name: str  # project:region:instance
    project: str  # the connection name's project
    environment: traits.Environment  # the stage its project id, else its instance name, names
    resource: SqlPlain | Unknown  # the instance's metadata; unknown when not in the evidence or unreadable


class EnvSetting(TypedDict):
    """A plain env value (not a secret, not empty), with the variable that holds it."""

    container: str  # the container key
    name: str
    value: str


class ProjectGrants(TypedDict):
    """The roles the service account holds in the IAM policy of the service's own project."""

    project: str
    roles: list[str]  # granted without a condition
    conditional_roles: list[str]  # granted under a condition: they hold only when it does
    complete: bool  # False: only some of the policy is known (Terraform member/binding resources), absence proves none
    source: str | None  # where the policy was read


class RuntimeAccount(TypedDict):
    """The service's runtime service account, as the evidence holds it."""

    email: str
    exists: bool  # False: the API answered NOT_FOUND (deleted, or never created)
    disabled: bool | Unknown
    unique_id: str | Unknown  # what `gcloud iam service-accounts undelete` takes
    project: str | Unknown
    source: str | None  # where it was read


class PolicyLevel(TypedDict):
    """One IAM policy level an access answer read, or did not."""

    level: str  # secret, service, project, subnetwork, folder, organization, or troubleshooter (Policy Troubleshooter)
    name: str  # the resource at that level; "" for folder and organization (which ones is not known)
    source: str | None  # the file (or API) it was read from; None when not read
    reason: str | None  # why it was not read


class AccessAnswer(TypedDict):
    """May a member do a permission on a resource, from the IAM policies in the evidence (kinds/access.py)."""

    member: str  # IAM member form: serviceAccount:EMAIL, or allUsers for a caller with no token
    permission: str  # secretmanager.versions.access, cloudsql.instances.connect, run.routes.invoke...
    resource: str  # full resource name: //secretmanager.googleapis.com/projects/P/secrets/S
    access: Literal["granted", "denied", "unknown"]
    # true: denied, false: granted; unknown (with why) when the policies read cannot tell: what `needs` lists
    denied: bool | Unknown
    # the resource's own policy (a secret's, a service's; a project's for a project) was read: true; else unknown
    own_policy: bool | Unknown
    via: str | None  # what grants it: "roles/secretmanager.secretAccessor on project P"
    read: list[PolicyLevel]  # the levels consulted, each with its source
    unread: list[PolicyLevel]  # the levels not read: folder and organization always
    why_unknown: list[str]  # what could not be evaluated: a group, a condition, a custom role, a partial policy


class PushedBy(TypedDict):
    """A Pub/Sub push subscription in the evidence that pushes to one of the service's own hosts."""

    name: str  # projects/P/subscriptions/S
    identity: str | Unknown | None  # the service account whose OIDC token it sends; None: it sends none
    source: str | None  # where its push identity was read
    # may its pushes (as that identity, or as anyone when it sends no token) invoke the service; unknown identity
    invoke: AccessAnswer | Unknown


class Invoker(TypedDict):
    """A member a Cloud Run service IAM policy in the evidence grants roles/run.invoker without a condition, and
    whether it may invoke this service."""

    member: str  # IAM member form: serviceAccount:EMAIL, user:EMAIL, group:NAME, allUsers, allAuthenticatedUsers
    invoke: AccessAnswer  # run.routes.invoke on this service: its own policy, then its project's


class SqlConnect(TypedDict):
    """A Cloud SQL instance the service connects to, and whether its runtime account may."""

    connection_name: str  # project:region:instance
    project: str  # the connection name's project, where connect is granted (an instance has no policy of its own)
    via: Literal["attached", "env"]  # attached (annotation, v2 volume), or named by an env value (a connector library)
    connect: AccessAnswer  # cloudsql.instances.connect on that project


class AgentGrant(TypedDict):
    """A role the Cloud Run service agent needs, where the evidence holds that project's whole policy."""

    member: str  # serviceAccount:service-NUMBER@serverless-robot-prod.iam.gserviceaccount.com
    role: str  # roles/run.serviceAgent; roles/vpcaccess.user or roles/compute.networkUser in a Shared VPC host
    project: str  # where it needs it
    purpose: str  # "to run the service", "to use connector C", "to use network N"
    answer: AccessAnswer


class ResourceUse(TypedDict):
    key: str  # the resource as the service names it
    resource: Any  # the resource as its kind's model has it; unknown when the evidence does not hold it
    source: str | None  # the file (or API) it was read from; None when the evidence does not hold it


class Refs(TypedDict):
    """What the service references, joined with the evidence, and its traits (ruleset/traits.py)."""

    secrets: list[SecretUse]  # every secret it reads: env secretKeyRefs, env reference values, secret volumes
    sql_attached: list[SqlUse]  # the instances it attaches (cloudsql_instances), known or not; a malformed name is none
    env: list[EnvSetting]  # its plain env values, with their variables
    connector: ConnectorPlain | Unknown | None  # its VPC connector; None without one
    env_values: list[str]  # its plain env values alone
    cloudsql_mentioned: list[str]  # Cloud SQL connection names its env values name
    cloudsql_socket: bool  # an env value names /cloudsql
    private_addresses: list[str]  # RFC 1918 addresses in its env values: something reached only through the VPC
    images: dict[str, traits.Image]  # container key -> its image; placeholders left out
    app_keys: list[str]  # image:NAME and service:STEM: two services sharing one are one application
    service_stem: str  # its name without environment and variant words
    environment: traits.Environment  # its stage, from the first signal that names exactly one
    identity: traits.Identity | None  # its runtime account as a choice; None when the account is not known
    sql_known_in_use: list[SqlPlain]  # the instances in the evidence it attaches or reaches by a private IP in env
    sql_in_use: list[SqlUse]  # every instance it uses: sql_attached, plus those its env reaches by private IP
    sql_in_evidence: list[str]  # the connection names of every Cloud SQL instance the evidence holds
    # per instance in the evidence it uses: the connections every service using it may open at peak, and its limit
    sql_budget: list[sqlbudget.SqlBudget]
    resources: dict[str, list[ResourceUse]]  # kind name -> each resource of the kind it references (kinds/)
    own_hosts: list[str]  # the hosts it is called at: its run.app URLs (status, the urls annotation)
    project_grants: ProjectGrants | Unknown  # its account's roles at project level; unknown without the policy
    # its service account; unknown when its read failed, null when the evidence has no word of it (not exported)
    runtime_account: RuntimeAccount | Unknown | None
    # the push subscriptions in the evidence whose endpoint is one of its own hosts; unknown when the listing of its
    # project's subscriptions failed (a live run, or its snapshot): what it would have held is not known
    pushed_by: list[PushedBy] | Unknown
    sql_connect: list[SqlConnect]  # each instance it attaches or names in env, and may its account connect
    # each member any Cloud Run service IAM policy in the evidence grants roles/run.invoker (without a condition;
    # `deleted:` ones left out), and may it invoke this service: what a peer's callers are checked against
    invokers: list[Invoker]
    # what its Cloud Run service agent needs where the evidence holds the policy and the project number
    service_agent: list[AgentGrant]
    # how it reaches each dependency over the network (a private address, a public host with all-traffic egress),
    # hop by hop, each hop verified, broken or unknown (driftcheck/paths/)
    paths: list[NetworkPath]
    # per Direct VPC subnet in the evidence it uses: the addresses the services on it may take, against its size
    subnet_use: list[SubnetUse]
    # its recent log entries as signatures (kinds/logs.py, ruleset/logs.py); unknown when the evidence holds none
    logs: LogsSeen | Unknown


class ServiceAdded(TypedDict):
    """What a rule sees of a service beyond its model fields."""

    label: str  # how a sentence names it: the name, or `name (project P)` when compared services share a name
    origin: str  # the file (or API) it came from
    refs: Refs
    member: str | Unknown  # the service account as an IAM member: serviceAccount:EMAIL


class ContainerAdded(TypedDict):
    display: str  # how a sentence names it: `container api`, `container`, `serving container`


class SecretAdded(TypedDict):
    origin: str  # the file (or API) it came from
    iam_source: str | None  # where its IAM policy was read
    versions_source: str | None  # where its versions were read


class SqlAdded(TypedDict):
    origin: str  # the file (or API) it came from
    private_only: bool | Unknown  # a private IP and no public one: reached only through the VPC


class ConnectorAdded(TypedDict):
    origin: str  # the file (or API) it came from
    # the VPC network it is on (a name): the one it names, or, for a connector created on a subnet (--subnet), that
    # subnet's network when the evidence holds the subnet's export (unknown when it does not)
    network: str | Unknown
    network_source: str  # where `network` was read: the connector's file:network, or its subnet's file:network


# What this module adds to each model class's to_plain fields, wherever a rule sees one.
ADDED: dict[type, Any] = {
    Service: ServiceAdded,
    Container: ContainerAdded,
    Secret: SecretAdded,
    SqlInstance: SqlAdded,
    Connector: ConnectorAdded,
}


def service_context(service: Service, inventory: Inventory, plain: dict[str, Any] | None = None) -> dict[str, Any]:
    """`plain`: to_plain(service), when the caller has it already (it is not changed)."""
    plain = dict(plain if plain is not None else to_plain(service))
    plain["containers"] = {  # copies: the caller's tree is compared as it is
        key: {**tree, **_container_added(key, service)} for key, tree in plain["containers"].items()
    }
    env_values = [
        str(var.value)
        for container in service.containers.values()
        for var in container.env.values()
        if isinstance(var.value, str) and var.value
    ]
    added: ServiceAdded = {
        "label": service.name,  # with_labels qualifies a shared name
        "origin": service.origin,
        "refs": _refs(service, inventory, env_values),
        "member": (
            f"serviceAccount:{service.service_account}"
            if isinstance(service.service_account, str)
            else Unknown(service.service_account.reason)
        ),
    }
    plain.update(added)
    return plain


def _container_added(key: str, service: Service) -> ContainerAdded:
    return {"display": container_display(key, service.containers[key], len(service.containers))}


def _refs(service: Service, inventory: Inventory, env_values: list[str]) -> Refs:
    attached = [_sql(name, inventory) for name in service.cloudsql_instances if _CONNECTION_NAME_FORM.fullmatch(name)]
    known_in_use = _sql_known_in_use(service, inventory, env_values)
    return {
        "secrets": _secret_refs(service, inventory),
        "sql_attached": attached,
        "env": _env_refs(service),
        "connector": _connector(service, inventory),
        "env_values": env_values,
        "cloudsql_mentioned": sorted({m for v in env_values for m in _CONNECTION_NAME.findall(v)}),
        "cloudsql_socket": any("/cloudsql" in v for v in env_values),
        "private_addresses": sorted({a for v in env_values for a in _PRIVATE_ADDRESS.findall(v)}),
        "images": traits.images(service),
        "app_keys": traits.app_keys(service),
        "service_stem": traits.service_stem(service),
        "environment": traits.environment(service, inventory.project_aliases),
        "identity": traits.identity(service, inventory.project_aliases),
        "sql_known_in_use": known_in_use,
        "sql_in_use": _sql_in_use(attached, known_in_use),
        "sql_in_evidence": sorted(inventory.sql_instances),
        "sql_budget": sqlbudget.budgets(service, inventory, _instances_used),
        "resources": {kind.name: _resource_uses(kind, service, inventory) for kind in with_snapshot()},
        "own_hosts": own_hosts(service),
        "project_grants": _project_grants(service, inventory),
        "runtime_account": _runtime_account(service, inventory),
        "pushed_by": _pushed_by(service, inventory),
        "sql_connect": _sql_connect(service, inventory),
        "invokers": _invokers(service, inventory),
        "service_agent": _service_agent(service, inventory),
        "paths": [to_plain(path) for path in paths_of(service, inventory)],
        "subnet_use": [to_plain(use) for use in subnet_uses(service, inventory)],
        "logs": logs_seen(service, inventory),
    }


def _pushed_by(service: Service, inventory: Inventory) -> list[PushedBy] | Unknown:
    """A subscription names the service only by the URL it pushes to: matched on the service's own hosts. When the
    listing of the service's project failed, those it would have held are unknown, never "none"."""
    unlisted = _subscriptions_unlisted(service, inventory)
    if unlisted is not None:
        return unlisted
    hosts = set(own_hosts(service))
    found: dict[str, PubsubSubscription] = inventory.of(SUBSCRIPTION.name)
    return [
        {
            "name": sub.name,
            "identity": sub.push_identity,
            "source": sub.provenance.get("push_identity"),
            "invoke": _invoke(sub.push_identity, service, inventory),
        }
        for _, sub in sorted(found.items())
        if sub.push_endpoint in hosts
    ]


def _subscriptions_unlisted(service: Service, inventory: Inventory) -> Unknown | None:
    """Why the subscriptions of the service's project are not known: the listing's error, stored under `projects/P`
    (by its id or its number), with what to grant when it was denied."""
    if isinstance(service.project, Unknown):
        return None
    numbers = [number for number, project in sorted(inventory.project_aliases.items()) if project == service.project]
    for name in (service.project, *numbers):
        error = inventory.errors.get(f"{SUBSCRIPTION.snapshot_key}:projects/{name}")
        if error:
            return Unknown(f"the Pub/Sub subscriptions of project {name} could not be listed ({error})")
    return None


def _runtime_account(service: Service, inventory: Inventory) -> RuntimeAccount | Unknown | None:
    """A read that failed is unknown; an account no export names and nobody read is no evidence at all (null):
    offline evidence seldom holds one, and a report is not incomplete for lack of it."""
    email = service.service_account
    if not isinstance(email, str) or not email:
        return None
    account: ServiceAccount | None = inventory.of(SERVICE_ACCOUNT.name).get(email)
    if account is None:
        error = inventory.errors.get(f"{SERVICE_ACCOUNT.snapshot_key}:{email}")
        return Unknown(error) if error else None
    return {
        "email": account.email,
        "exists": account.exists,
        "disabled": account.disabled,
        "unique_id": account.unique_id,
        "project": account.project,
        "source": account.provenance.get("disabled" if account.exists else "exists", account.origin),
    }


def _project_grants(service: Service, inventory: Inventory) -> ProjectGrants | Unknown:
    """What the service account holds in its project's policy, when the evidence holds the policy."""
    if isinstance(service.project, Unknown) or isinstance(service.service_account, Unknown):
        return Unknown("the service's project or account is not known")
    project = inventory.project_aliases.get(service.project, service.project)  # a v1 service names a number
    policy: ProjectIamPolicy | None = inventory.of(PROJECT_IAM.name).get(project)
    if policy is None:
        error = inventory.errors.get(f"{PROJECT_IAM.snapshot_key}:{project}")
        return Unknown(error or f"the IAM policy of project {project} is not in the evidence")
    member = f"serviceAccount:{service.service_account}"
    return {
        "project": policy.project,
        "roles": policy.roles_of(member),
        "conditional_roles": policy.conditional_roles_of(member),
        "complete": policy.complete,
        "source": policy.provenance.get("bindings"),
    }


def _resource_uses(kind: Kind, service: Service, inventory: Inventory) -> list[ResourceUse]:
    """Every kind's references, the same way: a kind added to the registry is seen by rules with no change here.
    Those the service names and those on its path that other resources name (`referenced`); a read that failed is
    unknown with why, and so is a listing that failed (keyed by the parent listed): what it held is not absent."""
    found = inventory.of(kind.name)
    uses: list[ResourceUse] = [
        {
            "key": key,
            "resource": to_plain(found[key])
            if key in found
            else Unknown(
                inventory.errors.get(f"{kind.snapshot_key}:{key}") or f"{kind.title} {key} is not in the evidence"
            ),
            "source": getattr(found[key], "origin", None) if key in found else None,
        }
        for key in kind.referenced(service, inventory)
    ]
    failed = (
        (parent, inventory.errors.get(f"{kind.snapshot_key}:{parent}")) for parent in kind.listed_in(service, inventory)
    )
    return uses + [{"key": parent, "resource": Unknown(error), "source": None} for parent, error in failed if error]


def _env_refs(service: Service) -> list[EnvSetting]:
    """Plain env vars with their names, so a rule can say which variable holds a suspicious value."""
    return [
        {"container": key, "name": name, "value": str(var.value)}
        for key, container in service.containers.items()
        for name, var in container.env.items()
        if isinstance(var.value, str) and var.value
    ]


def _secret_refs(service: Service, inventory: Inventory) -> list[SecretUse]:
    """Every secret the service reads: env secretKeyRefs (`env`), env values the app resolves itself (`env-value`:
    `sm://S`, `projects/P/secrets/S/versions/V`) and secret volumes (`volume`)."""
    refs = []
    for key, container in service.containers.items():
        for name, var in container.env.items():
            if var.secret:
                secret_id = var.secret.secret
                refs.append(_secret_ref("env", name, secret_id, var.secret.version, inventory, key, service))
            elif isinstance(var.value, str) and (named := secret_reference(var.value)):
                secret_id = _own_secret_id(named.secret, service.project, inventory.project_aliases)
                refs.append(_secret_ref("env-value", name, secret_id, named.version, inventory, key, service))
    for name, volume in service.volumes.items():
        if volume.kind == "secret" and volume.secret:
            for version in sorted(set(volume.items.values())) or ["latest"]:
                refs.append(_secret_ref("volume", name, volume.secret, version, inventory, None, service))
    return refs


def _own_secret_id(secret: str, project: str | Unknown, aliases: dict[str, str]) -> str:
    """`projects/P/secrets/S` of the service's own project is plain `S`, as the sources name a secretKeyRef's."""
    match = _SECRET_PATH.match(secret)
    if match is None or isinstance(project, Unknown):
        return secret
    own = aliases.get(project, project)
    return match["secret"] if aliases.get(match["project"], match["project"]) == own else secret


def _secret_ref(
    via: Literal["env", "env-value", "volume"],
    name: str,
    secret_id: str,
    version: str,
    inventory: Inventory,
    container: str | None,
    service: Service,
) -> SecretUse:
    secret = inventory.secrets.get(secret_id)
    return {
        "via": via,
        "name": name,
        "container": container,
        "secret": secret_id,
        "version": version,
        "resource": _secret_plain(secret) if secret else Unknown(f"secret {secret_id} is not in the evidence"),
        "resolved_version": _resolved_version(secret, version),
        "enabled_versions": _enabled_versions(secret),
        "version_state": _version_state(secret, version, secret_id),
        "source": secret.origin if secret else None,
        "access": _secret_access(service, secret_id, inventory),
    }


def _secret_plain(secret: Secret) -> SecretPlain:
    plain: dict[str, Any] = to_plain(secret)
    added: SecretAdded = {
        "origin": secret.origin,
        "iam_source": secret.provenance.get("bindings"),
        "versions_source": secret.provenance.get("versions"),
    }
    plain.update(added)
    return plain


def _version_state(secret: Secret | None, version: str, secret_id: str) -> str | Unknown:
    """The state of the version a reference resolves to; `latest` is the newest version, whatever its state."""
    if secret is None:
        return Unknown(f"secret {secret_id} is not in the evidence")
    if isinstance(secret.versions, Unknown):
        return secret.versions
    resolved = _resolved_version(secret, version)
    if not resolved.isdigit() and resolved != "latest":  # an alias: the versions list does not say what it names
        return Unknown(f"version alias {version!r} of secret {secret_id}: aliases are not in the versions list")
    found = secret.versions.get(resolved)
    return found.state if found else "ABSENT"


def _enabled_versions(secret: Secret | None) -> list[str]:
    """Version numbers a reference could be pinned to instead, oldest first."""
    if secret is None or isinstance(secret.versions, Unknown):
        return []
    return sorted((n for n, v in secret.versions.items() if n.isdigit() and v.state == "ENABLED"), key=int)


def _resolved_version(secret: Secret | None, version: str) -> str:
    """`latest` names the newest version whatever its state; anything else names itself."""
    if version != "latest" or secret is None or isinstance(secret.versions, Unknown):
        return version
    numbers = sorted((v for v in secret.versions if v.isdigit()), key=int)
    return numbers[-1] if numbers else version


def _sql_known_in_use(service: Service, inventory: Inventory, env_values: list[str]) -> list[SqlPlain]:
    return [_sql_plain(i) for i in _instances_used(service, inventory, env_values).values()]


def _instances_used(
    service: Service, inventory: Inventory, env_values: list[str] | None = None
) -> dict[str, SqlInstance]:
    """Known instances the service attaches, or reaches by putting an instance's IP address in its env (its plain
    env values, read here when not given): what every rule, and the connection budget, counts as using one."""
    if env_values is None:
        env_values = [e["value"] for e in _env_refs(service)]
    used = {
        name: inventory.sql_instances[name] for name in service.cloudsql_instances if name in inventory.sql_instances
    }
    for instance in inventory.sql_instances.values():
        addresses = [a for a in (instance.private_ip,) if a]
        if any(a in value for a in addresses for value in env_values):
            used.setdefault(instance.connection_name, instance)
    return used


def _sql_in_use(attached: list[SqlUse], known_in_use: list[SqlPlain]) -> list[SqlUse]:
    """Every instance the service uses: attached ones (known or not), plus those its env reaches by IP."""
    names = {entry["connection_name"] for entry in attached}
    reached = [i for i in known_in_use if i["connection_name"] not in names]
    return [*attached, *(_sql_use(i["connection_name"], i) for i in reached)]


def _sql_use(connection_name: str, resource: SqlPlain | Unknown) -> SqlUse:
    """An instance as its connection name tells it: `project`, and the `environment` its project or name names."""
    return {
        "connection_name": connection_name,
        "project": connection_name.partition(":")[0],
        "environment": traits.instance_environment(connection_name),
        "resource": resource,
    }


def _sql(connection_name: str, inventory: Inventory) -> SqlUse:
    instance = inventory.sql_instances.get(connection_name)
    return _sql_use(
        connection_name, _sql_plain(instance) if instance else _unread(inventory, "sql_instances", connection_name)
    )


def _unread(inventory: Inventory, kind: str, name: str) -> Unknown:
    """Why a referenced resource is not here: the API's own error when a live read failed, else absent evidence."""
    error = inventory.errors.get(f"{kind}:{name}")
    return Unknown(f"{name}: {error}" if error else f"{name} is not in the evidence")


def _sql_plain(instance: SqlInstance) -> SqlPlain:
    plain: dict[str, Any] = to_plain(instance)
    added: SqlAdded = {
        "origin": instance.origin,
        "private_only": (
            instance.public_ip
            if isinstance(instance.public_ip, Unknown)
            else (not instance.public_ip and bool(instance.private_ip))
        ),
    }
    plain.update(added)
    return plain


def _connector_by_number(path: str, inventory: Inventory) -> Connector | None:
    """A v1 service names its project by number, a connector export by id, and often nothing in the evidence links
    the two: then the only exported connector with that region and name is taken to be the one meant."""
    match = _CONNECTOR_PATH.match(path)
    if match is None or not match["project"].isdigit():
        return None
    same = [
        c
        for c in inventory.connectors.values()
        if (m := _CONNECTOR_PATH.match(c.name)) and (m["region"], m["name"]) == (match["region"], match["name"])
    ]
    return same[0] if len(same) == 1 else None


def _connector(service: Service, inventory: Inventory) -> ConnectorPlain | Unknown | None:
    path = service.vpc.connector
    if isinstance(path, Unknown):  # a .tf reference or a value known only after apply
        return path
    if not path:
        return None
    connector = inventory.connectors.get(path) or _connector_by_number(path, inventory)
    if connector is None:
        return _unread(inventory, "connectors", path)
    plain: dict[str, Any] = to_plain(connector)
    network, network_source = _connector_network(connector, inventory)
    added: ConnectorAdded = {"origin": connector.origin, "network": network, "network_source": network_source}
    plain.update(added)
    return plain


def _connector_network(connector: Connector, inventory: Inventory) -> tuple[str | Unknown, str]:
    """The connector's network and where it was read. A connector created on a subnet (`--subnet`) names no
    network: its subnet's export says which, as on its network path (kinds/network/path.py)."""
    own = (connector.network, connector.provenance.get("network") or f"{connector.origin}:network")
    if isinstance(connector.network, str):
        return own
    subnet: Subnet | None = connector_subnet(connector, inventory)
    if subnet is None:
        return own
    source = subnet.provenance.get("network") or f"{subnet.origin}:network"
    if not isinstance(subnet.network, str) or not subnet.network:
        return Unknown(f"the export of its subnet {subnet.name} names no network"), source
    return subnet.network, source


# --- access answers (kinds/access.py): may this member do this, here ---------------------------------------------


def _answer(check: access.AccessCheck | None, inventory: Inventory, why: str = "") -> AccessAnswer:
    """The resolver's answer as rules see it; with no check to ask (an unknown account or project), unknown."""
    answer = access.may(check, inventory) if check else access.Answer("unknown", why_unknown=(why,))
    return _answer_plain(check, answer)


def _answer_plain(check: access.AccessCheck | None, answer: access.Answer) -> AccessAnswer:
    why = "; ".join(answer.why_unknown) or "not known"
    resource = check.resource if check else ""
    return {
        "member": check.member if check else "",
        "permission": check.permission if check else "",
        "resource": resource,
        "access": answer.access,
        "denied": Unknown(why) if answer.access == "unknown" else answer.access == "denied",
        "own_policy": _own_policy(resource, answer),
        "via": answer.via,
        "read": [_level(level) for level in answer.read],
        "unread": [_level(level) for level in answer.unread],
        "why_unknown": list(answer.why_unknown),
    }


def _own_policy(resource: str, answer: access.Answer) -> bool | Unknown:
    """Whether the resource's own policy was read: a grant is most often made there, so a rule may need it."""
    project_resource = "cloudresourcemanager.googleapis.com" in resource
    own = [
        level
        for level in answer.unread
        if level.level not in ("folder", "organization") and (level.level != "project" or project_resource)
    ]
    if own:
        return Unknown(own[0].reason or f"the {own[0].level} policy was not read")
    return True if answer.read else Unknown("; ".join(answer.why_unknown) or "no policy was read")


def _level(level: access.Level) -> PolicyLevel:
    return {"level": level.level, "name": level.name, "source": level.source, "reason": level.reason}


def _secret_access(service: Service, secret_id: str, inventory: Inventory) -> AccessAnswer:
    member = access.runtime_member(service)
    check = access.secret_check(member, secret_id, service, inventory) if member else None
    return _answer(check, inventory, "the service's runtime account or project is not known")


def _invoke(identity: str | Unknown | None, service: Service, inventory: Inventory) -> AccessAnswer | Unknown:
    member = access.push_member(identity)
    if member is None:
        return Unknown(identity.reason if isinstance(identity, Unknown) else "its push identity is not known")
    return _answer(access.invoke_check(member, service), inventory, "the service's project or region is not known")


def _invokers(service: Service, inventory: Inventory) -> list[Invoker]:
    """Every member some service's policy names as an invoker, asked of this service through the resolver (so a
    project-level grant, allUsers or allAuthenticatedUsers counts): a rule compares a peer's callers with it."""
    policies: dict[str, RunServiceIamPolicy] = inventory.of(RUN_IAM.name)
    members = sorted(
        {m for p in policies.values() for m in p.bindings.get(INVOKER, ()) if not m.startswith("deleted:")}
    )
    why = "the service's project or region is not known"
    return [{"member": m, "invoke": _answer(access.invoke_check(m, service), inventory, why)} for m in members]


def _sql_connect(service: Service, inventory: Inventory) -> list[SqlConnect]:
    """Each instance it attaches or names in env (a well-formed connection name), and may its account connect."""
    member = access.runtime_member(service)
    attached = set(service.cloudsql_instances)
    return [
        {
            "connection_name": name,
            "project": name.rsplit(":", 2)[0],
            "via": "attached" if name in attached else "env",
            "connect": _answer(
                access.sql_check(member, name, inventory) if member else None,
                inventory,
                "the service's runtime account is not known",
            ),
        }
        for name in access.connection_names(service)
        if _CONNECTION_NAME_FORM.fullmatch(name)
    ]


def _service_agent(service: Service, inventory: Inventory) -> list[AgentGrant]:
    return [
        {
            "member": need.member,
            "role": need.role,
            "project": need.project,
            "purpose": need.purpose,
            "answer": _answer_plain(need.check, need.answer),
        }
        for need in access.agent_needs(service, inventory)
    ]
