"""The fix actions a rule may name: each one's arguments, and what it changes in gcloud and in Terraform.

An action turns its evaluated arguments into `Parts`: flags for its service's one `gcloud run services update`,
settings for its service's one Terraform resource, or commands and snippets of its own (a grant on a secret).
ruleset/fixes.py merges the parts of many actions. An action whose argument is missing or malformed builds
nothing: no command beats a wrong one. Flags are gcloud 528's; tests/ruleset/test_fixes.py checks each against
`gcloud ... --help`. Actions on other resources live in ruleset/resource_actions.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from driftcheck.redact import is_credential_key
from driftcheck.ruleset.fixparts import (
    Action,
    Arg,
    Args,
    Build,
    Flag,
    Parts,
    ServiceRef,
    cpu_units,
    name_like,
    number,
    on_service,
    quantity,
)
from driftcheck.ruleset.hcl import Block, Setting, literal

INGRESS_KEY = "ingress"  # the serving container's canonical key (kinds/service/common.py)
_SECRET_PATH = re.compile(r"projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)")
_CONNECTION_NAME = re.compile(r"[^:\s,]+:[^:\s,]+:[^:\s,]+")
_EGRESS = {"all": "all-traffic", "all_traffic": "all-traffic", "private_ranges_only": "private-ranges-only"}
# canonical value -> (gcloud --ingress, Terraform v2 enum suffix); gcloud 528 has no `--ingress none`
_INGRESS = {
    "all": ("all", "ALL"),
    "internal": ("internal", "INTERNAL_ONLY"),
    "internal_and_cloud_lb": ("internal-and-cloud-load-balancing", "INTERNAL_LOAD_BALANCER"),
    "none": (None, "NONE"),
}
_PROBE_KINDS = {"http": ("httpGet", "http_get"), "tcp": ("tcpSocket", "tcp_socket"), "grpc": ("grpc", "grpc")}
# (model field, gcloud --startup-probe key, Terraform attribute)
_TIMINGS: tuple[tuple[str, str, str], ...] = (
    ("initial_delay_s", "initialDelaySeconds", "initial_delay_seconds"),
    ("timeout_s", "timeoutSeconds", "timeout_seconds"),
    ("period_s", "periodSeconds", "period_seconds"),
    ("failure_threshold", "failureThreshold", "failure_threshold"),
)
_DEFAULT_PROBE = {"kind": "tcp", "initial_delay_s": 0, "timeout_s": 240, "period_s": 240, "failure_threshold": 1}


def _template(ref: ServiceRef) -> tuple[Block, ...]:
    return (Block("template"), Block("spec")) if ref.v1 else (Block("template"),)


def _container(ref: ServiceRef, key: str) -> tuple[Block, ...]:
    """The container's block; `name = ...` tells containers apart only when there are several."""
    known = ref.container(key)
    ident = (("name", literal(known.name)),) if len(ref.containers) > 1 and known and known.name else ()
    return (*_template(ref), Block("containers", ident))


def _annotation(key: str, value: str, level: str = "template") -> Setting:
    base = (Block("template"), Block("metadata")) if level == "template" else (Block("metadata"),)
    return Setting((*base, Block("annotations", is_map=True)), literal(key), literal(value))


def _key(args: Args) -> str:
    return name_like(args.get("container")) or INGRESS_KEY


def _limit(args: Args, ref: ServiceRef, name: str, value: str | None) -> Parts | None:
    """--memory / --cpu; Terraform's `limits` map restates the other limit, which writing the map would drop."""
    if value is None:
        return None
    key, current = _key(args), ref.container(_key(args))
    limits = (*_container(ref, key), Block("resources"), Block("limits", is_map=True))
    other = "memory" if name == "cpu" else "cpu"
    kept = getattr(current, other) if current else None
    settings = [Setting(limits, name, literal(value))]
    settings += [Setting(limits, other, literal(kept), keep=True)] if kept else []
    return Parts((Flag(f"--{name}", value, key),), tuple(settings))


@on_service
def set_port(args: Args, ref: ServiceRef) -> Parts | None:
    port, key = number(args["port"], 1, 65535), _key(args)
    if port is None:
        return None
    setting = Setting((*_container(ref, key), Block("ports")), "container_port", str(port))
    return Parts((Flag("--port", str(port), key),), (setting,))


@on_service
def set_memory(args: Args, ref: ServiceRef) -> Parts | None:
    return _limit(args, ref, "memory", quantity(args["memory"]))


@on_service
def set_cpu(args: Args, ref: ServiceRef) -> Parts | None:
    return _limit(args, ref, "cpu", cpu_units(args["cpu"]))


@on_service
def set_env_vars(args: Args, ref: ServiceRef) -> Parts | None:
    name, key, value = name_like(args["name"]), _key(args), args.get("value")
    if name is None:
        return None
    # A credential never travels in a fix, and a masked value is none: then the user fills in VALUE.
    plain = isinstance(value, str | int | float) and not isinstance(value, bool) and "REDACTED" not in str(value)
    shown = str(value) if plain and str(value) and not is_credential_key(name) else "VALUE"
    env = (*_container(ref, key), Block("env", (("name", literal(name)),)))
    flag = Flag("--update-env-vars", f"{name}={shown}", key, multi=True)
    return Parts((flag,), (Setting(env, "value", literal(shown)),))


def secret_path(secret: str, project: Any, ref: ServiceRef | None) -> str:
    """SECRET in the service's own project; another project's is projects/PROJECT_NUMBER/secrets/SECRET (Cloud
    Run wants that project's number, so an id becomes the PROJECT_NUMBER placeholder)."""
    match = _SECRET_PATH.fullmatch(secret)
    owner, short = (match["project"], match["secret"]) if match else (name_like(project), secret)
    if not owner or (ref is not None and owner == ref.project):
        return short
    return f"projects/{owner if owner.isdigit() else 'PROJECT_NUMBER'}/secrets/{short}"


@on_service
def update_secrets(args: Args, ref: ServiceRef) -> Parts | None:
    name, secret, key = name_like(args["name"]), name_like(args["secret"]), _key(args)
    version = name_like(str(args.get("version") or "")) or "latest"
    if name is None or secret is None:
        return None
    path = secret_path(secret, args.get("project"), ref)
    env = (*_container(ref, key), Block("env", (("name", literal(name)),)))
    names = ("value_from", "name", "key") if ref.v1 else ("value_source", "secret", "version")
    source = (*env, Block(names[0]), Block("secret_key_ref"))
    settings = (Setting(source, names[1], literal(path)), Setting(source, names[2], literal(version)))
    return Parts((Flag("--update-secrets", f"{name}={path}:{version}", key, multi=True),), settings)


@on_service
def add_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--add-cloudsql-instances keeps what the service has (--set-… would drop it); Terraform lists them all."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    new = [n for n in dict.fromkeys(str(n).strip() for n in names) if _CONNECTION_NAME.fullmatch(n)]
    new = [n for n in new if n not in ref.cloudsql_instances]
    if not new:
        return None
    every, flags = (*ref.cloudsql_instances, *new), tuple(Flag("--add-cloudsql-instances", n, multi=True) for n in new)
    return Parts(flags, _instances_settings(every, ref))


@on_service
def remove_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--remove-cloudsql-instances keeps the others; Terraform lists those that stay. With none left, Terraform
    drops the whole Cloud SQL volume, which one setting cannot say: then gcloud alone."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    gone = [n for n in dict.fromkeys(str(n).strip() for n in names) if n in ref.cloudsql_instances]
    if not gone:
        return None
    kept = tuple(n for n in ref.cloudsql_instances if n not in gone)
    flags = tuple(Flag("--remove-cloudsql-instances", n, multi=True) for n in gone)
    if not kept:
        return Parts(flags)
    if ref.v1:
        path = (Block("template"), Block("metadata"), Block("annotations", is_map=True))
        return Parts(flags, (Setting(path, literal("run.googleapis.com/cloudsql-instances"), kept, joined=","),))
    volume = (Block("template"), Block("volumes", (("name", literal("cloudsql")),)), Block("cloud_sql_instance"))
    return Parts(flags, (Setting(volume, "instances", kept),))


@on_service
def set_cloudsql_instances(args: Args, ref: ServiceRef) -> Parts | None:
    """--set-cloudsql-instances replaces the whole list: the one way to drop a malformed name, which
    --remove-cloudsql-instances would first rewrite (gcloud reads a plain name as PROJECT:REGION:NAME). Every name
    given must be a connection name, and the list must change something."""
    given = args["instances"]
    names = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else []
    every = tuple(dict.fromkeys(str(n).strip() for n in names))
    if not every or not all(_CONNECTION_NAME.fullmatch(n) for n in every) or set(every) == set(ref.cloudsql_instances):
        return None
    return Parts((Flag("--set-cloudsql-instances", ",".join(every)),), _instances_settings(every, ref))


def _instances_settings(every: tuple[str, ...], ref: ServiceRef) -> tuple[Setting, ...]:
    """The whole list of attached instances, as Terraform declares it: an annotation (v1), or the Cloud SQL volume
    and its mount (v2)."""
    if ref.v1:
        path = (Block("template"), Block("metadata"), Block("annotations", is_map=True))
        return (Setting(path, literal("run.googleapis.com/cloudsql-instances"), every, joined=","),)
    volume = (Block("template"), Block("volumes", (("name", literal("cloudsql")),)), Block("cloud_sql_instance"))
    mount = (*_container(ref, INGRESS_KEY), Block("volume_mounts", (("name", literal("cloudsql")),)))
    return (Setting(volume, "instances", every), Setting(mount, "mount_path", literal("/cloudsql")))


def _vpc(ref: ServiceRef, attr: str, value: str, annotation: str) -> Setting:
    if ref.v1:
        return _annotation(annotation, value)
    return Setting((Block("template"), Block("vpc_access")), attr, literal(value))


@on_service
def set_vpc_connector(args: Args, ref: ServiceRef) -> Parts | None:
    connector = name_like(args["connector"])
    if connector is None:
        return None
    setting = _vpc(ref, "connector", connector, "run.googleapis.com/vpc-access-connector")
    # a service on Direct VPC egress takes a connector only once its network is cleared: one path at a time
    clear = (Flag("--clear-network"),) if args.get("instead_of_direct") is True else ()
    return Parts((Flag("--vpc-connector", connector), *clear), (setting,))


@on_service
def set_network(args: Args, ref: ServiceRef) -> Parts | None:
    """Direct VPC egress: --network and --subnet, and --network-tags when `tags` (a list) names some."""
    network, subnet = name_like(args["network"]), name_like(args.get("subnet"))
    given = args.get("tags")
    tags = [str(t) for t in given if name_like(t)] if isinstance(given, list) else []
    if network is None:
        return None
    flags = (Flag("--network", network), *((Flag("--subnet", subnet),) if subnet else ()))
    flags += (Flag("--network-tags", ",".join(tags)),) if tags else ()
    flags += (Flag("--clear-vpc-connector"),) if args.get("instead_of_connector") is True else ()
    if ref.v1:
        interface: dict[str, object] = {"network": network, **({"subnetwork": subnet} if subnet else {})}
        interface.update({"tags": tags} if tags else {})
        return Parts(flags, (_annotation("run.googleapis.com/network-interfaces", json.dumps([interface])),))
    path = (Block("template"), Block("vpc_access"), Block("network_interfaces"))
    listed = "[" + ", ".join(literal(tag) for tag in tags) + "]"
    settings = (
        Setting(path, "network", literal(network)),
        *((Setting(path, "subnetwork", literal(subnet)),) if subnet else ()),
        *((Setting(path, "tags", listed),) if tags else ()),
    )
    return Parts(flags, settings)


@on_service
def set_vpc_egress(args: Args, ref: ServiceRef) -> Parts | None:
    given = str(args["egress"]).lower()
    egress = _EGRESS.get(given) or (given if given in _EGRESS.values() else None)
    if egress is None:
        return None
    value = egress if ref.v1 else egress.replace("-", "_").upper()
    return Parts((Flag("--vpc-egress", egress),), (_vpc(ref, "egress", value, "run.googleapis.com/vpc-access-egress"),))


@on_service
def set_ingress(args: Args, ref: ServiceRef) -> Parts | None:
    given = str(args["ingress"]).lower().replace("-", "_").replace("_load_balancing", "_lb")
    if given not in _INGRESS:
        return None
    flag, enum = _INGRESS[given]
    setting = (
        _annotation("run.googleapis.com/ingress", (flag or "none"), level="service")
        if ref.v1
        else Setting((), "ingress", literal(f"INGRESS_TRAFFIC_{enum}"))
    )
    return Parts(((Flag("--ingress", flag),) if flag else ()), (setting,))


@on_service
def set_service_account(args: Args, ref: ServiceRef) -> Parts | None:
    account = name_like(args["account"])
    if account is None or "@" not in account:
        return None
    attr = "service_account_name" if ref.v1 else "service_account"
    return Parts((Flag("--service-account", account),), (Setting(_template(ref), attr, literal(account)),))


@on_service
def set_execution_environment(args: Args, ref: ServiceRef) -> Parts | None:
    """Unset is the platform default, not gen1, and no gcloud flag clears it: then only Terraform says it (null
    is an omitted attribute)."""
    environment = args["environment"]
    if environment is None:
        return None if ref.v1 else Parts((), (Setting((Block("template"),), "execution_environment", "null"),))
    if environment not in ("gen1", "gen2"):
        return None
    enum = literal(f"EXECUTION_ENVIRONMENT_{environment.upper()}")
    setting = (
        _annotation("run.googleapis.com/execution-environment", environment)
        if ref.v1
        else Setting((Block("template"),), "execution_environment", enum)
    )
    return Parts((Flag("--execution-environment", environment),), (setting,))


@on_service
def set_startup_probe(args: Args, ref: ServiceRef) -> Parts | None:
    """The peer's probe, every field of it. None is Cloud Run's default (TCP on the serving port, 240 s), which
    removing the probe (`--startup-probe ''`) gives back."""
    probe, key = args["probe"], _key(args)
    if probe is None:
        current = ref.container(key)
        return _probe({**_DEFAULT_PROBE, "port": current.port if current else None}, key, ref, "")
    return _probe(probe, key, ref, None) if isinstance(probe, dict) else None


def _probe(probe: dict[str, Any], key: str, ref: ServiceRef, flag: str | None) -> Parts | None:
    kinds, timings = _PROBE_KINDS.get(str(probe.get("kind"))), [number(probe.get(t[0])) for t in _TIMINGS]
    if kinds is None or None in timings:
        return None
    port, path = number(probe.get("port"), 1, 65535), name_like(probe.get("path"))
    where = [(f"{kinds[0]}.port", port), (f"{kinds[0]}.path", path)]
    pairs = [*((t[1], v) for t, v in zip(_TIMINGS, timings, strict=True)), *where]
    value = flag if flag is not None else ",".join(f"{k}={v}" for k, v in pairs if v is not None)
    block = (*_container(ref, key), Block("startup_probe"))
    settings = [Setting(block, t[2], str(v)) for t, v in zip(_TIMINGS, timings, strict=True)]
    check = (*block, Block(kinds[1]))
    settings.append(Setting(check, "port", str(port)) if port else Setting(check, None))
    settings += [Setting(check, "path", literal(path))] if path else []
    return Parts((Flag("--startup-probe", value, key),), tuple(settings))


@on_service
def set_cpu_throttling(args: Args, ref: ServiceRef) -> Parts | None:
    """CPU only during requests (throttled) or always allocated."""
    throttled = {True: True, False: False, "true": True, "false": False}.get(args["throttled"])
    if throttled is None:
        return None
    flag = Flag("--cpu-throttling" if throttled else "--no-cpu-throttling")
    if ref.v1:
        return Parts((flag,), (_annotation("run.googleapis.com/cpu-throttling", str(throttled).lower()),))
    path = (*_container(ref, _key(args)), Block("resources"))
    return Parts((flag,), (Setting(path, "cpu_idle", str(throttled).lower()),))


@on_service
def set_timeout(args: Args, ref: ServiceRef) -> Parts | None:
    """The request timeout in seconds: v1 Terraform's `timeout_seconds`, v2's duration string."""
    seconds = number(args["seconds"], 1, 3600)
    if seconds is None:
        return None
    if ref.v1:
        return Parts((Flag("--timeout", str(seconds)),), (Setting(_template(ref), "timeout_seconds", str(seconds)),))
    return Parts((Flag("--timeout", str(seconds)),), (Setting(_template(ref), "timeout", literal(f"{seconds}s")),))


@on_service
def set_concurrency(args: Args, ref: ServiceRef) -> Parts | None:
    count = number(args["count"], 1, 1000)
    if count is None:
        return None
    attr = "container_concurrency" if ref.v1 else "max_instance_request_concurrency"
    return Parts((Flag("--concurrency", str(count)),), (Setting(_template(ref), attr, str(count)),))


@on_service
def set_http2(args: Args, ref: ServiceRef) -> Parts | None:
    """End-to-end HTTP/2: the serving port named h2c, or http1. The port is restated: the block is written whole."""
    enabled = {True: True, False: False, "true": True, "false": False}.get(args["enabled"])
    if enabled is None:
        return None
    key, current = _key(args), ref.container(_key(args))
    ports = (*_container(ref, key), Block("ports"))
    settings = [Setting(ports, "name", literal("h2c" if enabled else "http1"))]
    settings += [Setting(ports, "container_port", str(current.port), keep=True)] if current and current.port else []
    return Parts((Flag("--use-http2" if enabled else "--no-use-http2", None, key),), tuple(settings))


def _scaling(bound: str) -> Build:
    @on_service
    def build(args: Args, ref: ServiceRef) -> Parts | None:
        count = number(args["count"], 0, 1000)
        if count is None:
            return None
        flag = Flag(f"--{bound}-instances", str(count))
        if ref.v1:
            return Parts((flag,), (_annotation(f"autoscaling.knative.dev/{bound}Scale", str(count)),))
        return Parts((flag,), (Setting((Block("template"), Block("scaling")), f"{bound}_instance_count", str(count)),))

    return build


def _service(args: tuple[Arg, ...], build: Build, flag: str, terraform: str) -> Action:
    return Action(args, build, f"gcloud run services update {flag}; Terraform {terraform}")


_CONTAINER = Arg("container")  # a container key (`ingress`, the default, or a sidecar's); see ContainerRef
SERVICE_ACTIONS: dict[str, Action] = {
    "set-port": _service((Arg("port", True), _CONTAINER), set_port, "--port", "ports.container_port"),
    "set-memory": _service((Arg("memory", True), _CONTAINER), set_memory, "--memory", "resources.limits.memory"),
    "set-cpu": _service((Arg("cpu", True), _CONTAINER), set_cpu, "--cpu", "resources.limits.cpu"),
    "set-env-vars": _service(
        (Arg("name", True), Arg("value"), _CONTAINER), set_env_vars, "--update-env-vars NAME=VALUE", "env.value"
    ),
    "update-secrets": _service(
        (Arg("name", True), Arg("secret", True), Arg("version"), Arg("project"), _CONTAINER),
        update_secrets,
        "--update-secrets NAME=SECRET:VERSION",
        "env.value_source.secret_key_ref",
    ),
    "add-cloudsql-instances": _service(
        (Arg("instances", True),), add_cloudsql_instances, "--add-cloudsql-instances", "volumes.cloud_sql_instance"
    ),
    "remove-cloudsql-instances": _service(
        (Arg("instances", True),),
        remove_cloudsql_instances,
        "--remove-cloudsql-instances",
        "volumes.cloud_sql_instance",
    ),
    "set-cloudsql-instances": _service(
        (Arg("instances", True),), set_cloudsql_instances, "--set-cloudsql-instances", "volumes.cloud_sql_instance"
    ),
    "set-vpc-connector": _service(
        (Arg("connector", True), Arg("instead_of_direct")), set_vpc_connector, "--vpc-connector", "vpc_access.connector"
    ),
    "set-network": _service(
        (Arg("network", True), Arg("subnet"), Arg("tags"), Arg("instead_of_connector")),
        set_network,
        "--network --subnet",
        "vpc_access.network_interfaces",
    ),
    "set-vpc-egress": _service((Arg("egress", True),), set_vpc_egress, "--vpc-egress", "vpc_access.egress"),
    "set-ingress": _service((Arg("ingress", True),), set_ingress, "--ingress (not none)", "ingress"),
    "set-service-account": _service(
        (Arg("account", True),), set_service_account, "--service-account", "template.service_account"
    ),
    "set-execution-environment": _service(
        (Arg("environment", True, nullable=True),),
        set_execution_environment,
        "--execution-environment (not when unset)",
        "template.execution_environment",
    ),
    "set-startup-probe": _service(
        (Arg("probe", True, nullable=True), _CONTAINER), set_startup_probe, "--startup-probe", "startup_probe"
    ),
    "set-cpu-throttling": _service(
        (Arg("throttled", True), _CONTAINER), set_cpu_throttling, "--[no-]cpu-throttling", "resources.cpu_idle"
    ),
    "set-timeout": _service((Arg("seconds", True),), set_timeout, "--timeout", "template.timeout"),
    "set-concurrency": _service(
        (Arg("count", True),), set_concurrency, "--concurrency", "template.max_instance_request_concurrency"
    ),
    "set-http2": _service((Arg("enabled", True), _CONTAINER), set_http2, "--[no-]use-http2", "ports.name = h2c"),
    "set-min-instances": _service(
        (Arg("count", True),), _scaling("min"), "--min-instances", "scaling.min_instance_count"
    ),
    "set-max-instances": _service(
        (Arg("count", True),), _scaling("max"), "--max-instances", "scaling.max_instance_count"
    ),
}
