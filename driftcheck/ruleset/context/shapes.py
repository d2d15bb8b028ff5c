"""What a rule sees of a service, declared: each entry of `refs`, and what the package adds to the model's objects."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from driftcheck.model import Connector, Secret, SqlInstance, Unknown
from driftcheck.paths import NetworkPath, SubnetUse
from driftcheck.ruleset import sqlbudget, traits
from driftcheck.ruleset.logs import LogsSeen

# A model object as to_plain gives it, with what this package adds (ADDED): mypy sees the dict the package builds,
# the vocabulary reads the class from the annotation.
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
    """May a member do a permission on a resource, from the IAM policies in the evidence (kinds/access/)."""

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
    # its recent log entries as signatures (kinds/logs/, ruleset/logs.py); unknown when the evidence holds none
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
