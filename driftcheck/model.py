"""Canonical model: one normalized form of a Cloud Run service and the resources it references.

Every source (Knative v1 YAML, the v2 API, gcloud JSON, Terraform state and plans) produces these dataclasses, so two
spellings of the same service compare equal. A value that could not be read is an `Unknown` carrying the
reason; it is never the same thing as "absent" (None). A credential-looking value is a `Redacted` carrying only
a fingerprint, so a change is still visible while the value never is.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that could not be read: permission denied, not in the evidence, unresolved reference..."""

    reason: str

    def __str__(self) -> str:
        return f"unknown ({self.reason})"


@dataclass(frozen=True, slots=True)
class Redacted:
    """A credential-looking value: only a keyed fingerprint survives, enough to tell two values apart."""

    fingerprint: str

    def __str__(self) -> str:
        return "[REDACTED]"


Scalar = str | int | float | bool | None | Unknown | Redacted


@dataclass(frozen=True, slots=True)
class SecretRef:
    secret: str  # secret id (last path segment); other-project secrets keep "projects/P/secrets/S"
    version: str  # a number, "latest", or an alias


# A secret named by an env value that the app resolves itself: `sm://S`, `sm://S/V`, `sm://P/S/V` (Spring Cloud GCP,
# also `sm@`), `[sm://]projects/P/secrets/S[/versions/V]`, each possibly as `${...}`. The whole value, nothing else.
_WRAPPED = re.compile(r"^\$\{(.+)\}$")
_SM_SCHEME = re.compile(r"^sm(?:://|@)")
_SECRET_PATH = re.compile(r"^projects/(?P<project>[\w.:-]+)/secrets/(?P<secret>[\w-]+)(?:/versions/(?P<version>\w+))?$")
_SHORT_PART = re.compile(r"^[\w.:-]+$")


def secret_reference(value: str) -> SecretRef | None:
    """The secret an env value names (`sm://db-password`, `projects/p/secrets/s/versions/2`), or None; another
    project's secret keeps its `projects/P/secrets/S` path, like a secretKeyRef's."""
    text = value.strip()
    wrapped = _WRAPPED.match(text)
    text = wrapped[1] if wrapped else text
    scheme = _SM_SCHEME.match(text)
    body = text[scheme.end() :] if scheme else text
    path = _SECRET_PATH.match(body)
    if path:
        return SecretRef(f"projects/{path['project']}/secrets/{path['secret']}", path["version"] or "latest")
    parts = body.split("/")
    if not scheme or not 1 <= len(parts) <= 3 or not all(_SHORT_PART.match(p) for p in parts):
        return None
    if len(parts) == 3:  # sm://PROJECT/SECRET/VERSION
        return SecretRef(f"projects/{parts[0]}/secrets/{parts[1]}", parts[2])
    return SecretRef(parts[0], parts[1] if len(parts) == 2 else "latest")  # sm://SECRET[/VERSION]


@dataclass(frozen=True, slots=True)
class EnvVar:
    value: Scalar = None  # a plain value; None when it comes from a secret
    secret: SecretRef | None = None  # the secretKeyRef it reads, if any


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str  # http | tcp | grpc
    port: int | None
    path: str | None
    initial_delay_s: int
    period_s: int
    timeout_s: int
    failure_threshold: int


@dataclass(frozen=True, slots=True)
class Container:
    name: str  # as the source names it; '' when unnamed
    image: str  # the image reference, with its tag or digest
    port: int | None  # the serving port; None for a sidecar
    protocol: str | None  # http1 | h2c
    env: dict[str, EnvVar] = field(default_factory=dict)  # by variable name
    command: tuple[str, ...] = ()  # the entrypoint override; () for the image's own
    args: tuple[str, ...] = ()
    cpu: float | Unknown | None = None  # cores
    memory_bytes: int | Unknown | None = None  # the memory limit, in bytes
    cpu_always_allocated: bool = False  # CPU outside requests too (no throttling)
    startup_cpu_boost: bool = False
    startup_probe: Probe | None = None
    liveness_probe: Probe | None = None
    volume_mounts: dict[str, str] = field(default_factory=dict)  # volume name -> mount path
    depends_on: tuple[str, ...] = ()  # keys of the containers this one waits for at start-up (sorted)
    gpus: int | None = None  # the nvidia.com/gpu limit


@dataclass(frozen=True, slots=True)
class Volume:
    kind: str  # secret | empty_dir | gcs | nfs
    secret: str | None = None  # the secret id of a secret volume
    items: dict[str, str] = field(default_factory=dict)  # path -> version (secret volumes)
    detail: str | None = None  # bucket, nfs server:path, medium


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    network: str | None  # the VPC network of a Direct VPC interface
    subnetwork: str | None
    tags: tuple[str, ...] = ()  # network tags


@dataclass(frozen=True, slots=True)
class VpcAccess:
    connector: str | Unknown | None = None  # projects/P/locations/R/connectors/N; unknown in a plan or .tf
    network_interfaces: dict[str, NetworkInterface] = field(default_factory=dict)  # keyed by network
    egress: str | None = None  # all_traffic | private_ranges_only; None without a VPC path

    @property
    def path(self) -> str:
        """connector, direct (Direct VPC) or none."""
        if self.connector:  # an unknown connector (known after apply) is still a connector
            return "connector"
        return "direct" if self.network_interfaces else "none"


@dataclass(frozen=True, slots=True)
class TrafficTarget:
    revision: str  # short revision name, or "LATEST"
    percent: int
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    ready: bool | None  # None: reconciling / Unknown condition
    latest_created_revision: str | None
    latest_ready_revision: str | None
    reason: str | None  # the Ready condition's reason, when it is not ready
    message: str | None  # the Ready condition's message: what the platform says failed
    url: str | None
    traffic: tuple[TrafficTarget, ...] = ()

    @property
    def last_deploy_failed(self) -> bool:
        """The latest created revision is not the latest ready one."""
        created, ready = self.latest_created_revision, self.latest_ready_revision
        return bool(created) and created != ready

    @property
    def deploy_note(self) -> str | None:
        """What a failed deploy leaves serving: an older revision, or nothing at all when none was ever ready."""
        if not self.last_deploy_failed:
            return None
        if not self.latest_ready_revision:
            return "no revision has ever become ready: there is no older revision to fall back on, nothing serves"
        return f"the last deploy failed: traffic stays on {self.latest_ready_revision}, the last ready revision"

    @property
    def failure(self) -> str | None:
        """The failure the platform states (reason and message), or None when the status states none."""
        if self.ready is not False and not self.last_deploy_failed:
            return None
        text = " ".join(part for part in (self.reason, self.message) if part)
        return text or None


@dataclass(frozen=True, slots=True)
class ServiceMetadata:
    """Fields that always differ between two services; the rule library declares them expected."""

    uid: str | None = None
    generation: int | None = None
    revision: str | None = None  # template revision name, if pinned
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)  # service level
    template_annotations: dict[str, str] = field(default_factory=dict)
    template_labels: dict[str, str] = field(default_factory=dict)
    created: str | None = None
    updated: str | None = None
    deployer: str | None = None
    address: str | None = None  # the Terraform resource address, for a service read from state or a plan
    # The service one revision of which this is, where `name` labels the revision (`api@latest (api-00042-fix)`, a
    # revision compare): its name in Cloud Run and in its logs. `revision` is then that revision.
    revision_of: str | None = None
    # Canonical path globs a .tf resource's lifecycle.ignore_changes covers: drift there is intended.
    ignore_changes: tuple[str, ...] = ()
    # The source states the maximum instances; False: it leaves them unset, and `max_instances` holds Cloud Run's
    # default, which a rule that needs the real cap must not take as stated.
    max_instances_set: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    project: str | Unknown  # the project id, or its number where the source names only that
    region: str | Unknown
    origin: str  # the file (or API) it came from
    ingress: str = "all"  # all | internal | internal_and_cloud_lb | none
    service_account: str | Unknown = field(default_factory=lambda: Unknown("not in evidence"))  # its email
    containers: dict[str, Container] = field(default_factory=dict)  # by key: `ingress` for the serving one
    volumes: dict[str, Volume] = field(default_factory=dict)  # by volume name
    cloudsql_instances: tuple[str, ...] = ()  # connection names project:region:instance
    vpc: VpcAccess = field(default_factory=VpcAccess)  # how it reaches a VPC: connector, Direct VPC, or none
    execution_environment: str | None = None  # gen1 | gen2 | None (platform default)
    timeout_s: int = 300  # the request timeout, in seconds
    concurrency: int | None = None  # None: platform default (80 when cpu >= 1)
    min_instances: int = 0  # instances kept warm
    max_instances: int = 100
    session_affinity: bool = False
    accelerator: str | None = None  # GPU type from the node selector, e.g. nvidia-l4
    status: ServiceStatus | Unknown = field(default_factory=lambda: Unknown("status not in evidence"))  # as deployed
    metadata: ServiceMetadata = field(default_factory=ServiceMetadata)
    provenance: dict[str, str] = field(default_factory=dict)  # canonical path -> source field

    @property
    def ingress_container(self) -> Container | None:
        serving = [c for c in self.containers.values() if c.port is not None]
        return serving[0] if serving else next(iter(self.containers.values()), None)


@dataclass(frozen=True, slots=True)
class SecretVersion:
    number: str
    state: str  # ENABLED | DISABLED | DESTROYED
    created: str | None = None


@dataclass(frozen=True, slots=True)
class Secret:
    id: str
    project: str | Unknown
    origin: str
    versions: dict[str, SecretVersion] | Unknown = field(
        default_factory=lambda: Unknown("no `gcloud secrets versions list` output in evidence")
    )
    bindings: dict[str, tuple[str, ...]] | Unknown = field(  # role -> members, plain grants
        default_factory=lambda: Unknown("no `gcloud secrets get-iam-policy` output in evidence")
    )
    provenance: dict[str, str] = field(default_factory=dict)
    # role -> members granted only under a condition (they hold only when it does); read with `bindings`: when that
    # is unknown, the whole policy is
    conditional: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SqlInstance:
    name: str
    project: str | Unknown
    region: str | Unknown
    origin: str
    connection_name: str
    database_version: str | Unknown  # POSTGRES_14, MYSQL_8_0, SQLSERVER_...
    state: str | Unknown  # RUNNABLE, SUSPENDED, MAINTENANCE, FAILED...
    activation_policy: str | Unknown  # ALWAYS | NEVER | ON_DEMAND
    public_ip: bool | Unknown  # it has a public IP address
    private_ip: str | None  # its private IP address, if any
    private_network: str | None  # projects/P/global/networks/N
    # its machine tier: db-f1-micro, db-custom-2-7680
    tier: str | Unknown = field(default_factory=lambda: Unknown("no settings.tier field"))
    # its max_connections database flag; None: the flag is not set (the tier's default applies)
    max_connections: int | Unknown | None = field(default_factory=lambda: Unknown("its database flags were not read"))
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> str | Unknown:
        """postgres, mysql or sqlserver: the database version's engine."""
        if isinstance(self.database_version, Unknown):
            return self.database_version
        return self.database_version.split("_", 1)[0].lower()  # postgres | mysql | sqlserver


@dataclass(frozen=True, slots=True)
class Connector:
    name: str  # projects/P/locations/R/connectors/N
    region: str
    # the VPC network it names (a name); unknown when it names only its subnet (the subnet's export says which)
    network: str | Unknown
    state: str | Unknown  # READY, ERROR...
    origin: str
    provenance: dict[str, str] = field(default_factory=dict)
    # its /28 range in the network (what its traffic leaves from); unknown when the export holds none (a subnet)
    ip_cidr_range: str | Unknown = field(default_factory=lambda: Unknown("no ipCidrRange field"))
    # the subnet it takes its IPs from, when it names one (--subnet): projects/P/regions/R/subnetworks/NAME, P the
    # subnet's project (--subnet-project), else the connector's; None when it names a network and range instead
    subnet: str | Unknown | None = None


@dataclass
class Inventory:
    """Everything the evidence holds: the services, and the resources of every other kind (kinds/registry.py) by
    kind name, each keyed the way references point at it."""

    services: dict[str, Service] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind name -> key -> resource
    project_aliases: dict[str, str] = field(default_factory=dict)  # project number -> project id
    errors: dict[str, str] = field(default_factory=dict)  # resource -> why it could not be read

    def of(self, kind: str) -> dict[str, Any]:
        """The resources of one kind (an empty map, kept, for a kind the evidence holds none of)."""
        return self.resources.setdefault(kind, {})

    def copy(self) -> Inventory:
        """A copy whose maps can change without changing this one's; the resources themselves are immutable."""
        return Inventory(
            services=dict(self.services),
            resources={kind: dict(found) for kind, found in self.resources.items()},
            project_aliases=dict(self.project_aliases),
            errors=dict(self.errors),
        )

    def adopt(self, other: Inventory) -> None:
        """Take the other inventory's resources this one does not have: its own copies win."""
        for kind, found in other.resources.items():
            mine = self.of(kind)
            for key, resource in found.items():
                mine.setdefault(key, resource)

    # The kinds whose meaning the rule engine and the parsers own, by name, typed.
    @property
    def secrets(self) -> dict[str, Secret]:  # by secret id
        return self.of("secret")

    @property
    def sql_instances(self) -> dict[str, SqlInstance]:  # by connection name
        return self.of("sql_instance")

    @property
    def connectors(self) -> dict[str, Connector]:  # by full path
        return self.of("connector")


def subject_of(service: Service) -> str:
    """project/region/service: which service, when one report (or one peer group) spans regions and projects,
    where a name alone is unique only within one region of one project."""
    return f"{service.project}/{service.region}/{service.name}"


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts (keeping Unknown and Redacted as they are), tuples to lists, properties included."""
    if value is None or isinstance(value, str | bool | int | float | Unknown | Redacted):
        return value  # the leaves, most of any tree: first, because an audit converts thousands of services
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    names = _field_names(type(value))
    if names is None:
        return value
    plain = {name: to_plain(getattr(value, name)) for name in names}
    for name in PLAIN_PROPERTIES.get(type(value), ()):
        plain[name] = to_plain(getattr(value, name))
    return plain


# Properties to_plain adds to a class's fields: rules and reports read them as fields (the rule vocabulary too).
PLAIN_PROPERTIES: dict[type, tuple[str, ...]] = {
    VpcAccess: ("path",),
    SqlInstance: ("engine",),
    ServiceStatus: ("last_deploy_failed", "deploy_note"),
}


def plain_fields(cls: type) -> tuple[str, ...]:
    """The fields to_plain keeps of a model class, then the properties it adds; () for anything else."""
    return (*(_field_names(cls) or ()), *PLAIN_PROPERTIES.get(cls, ()))


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """A model class's fields, without the bookkeeping no comparison should see; None for anything else."""
    if cls not in _FIELD_NAMES:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = tuple(f.name for f in fields if f.name not in ("provenance", "origin")) if fields else None
    return _FIELD_NAMES[cls]
