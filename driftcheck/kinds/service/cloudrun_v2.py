"""Cloud Run Admin API v2 Service JSON (REST shape, camelCase), as the API or `Service.to_json` writes it."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import shape
from driftcheck.kinds.document import Document
from driftcheck.kinds.service import common
from driftcheck.kinds.units import EGRESS, EXECUTION_ENVIRONMENT, INGRESS, last_segment, lookup, seconds, to_int
from driftcheck.model import (
    Container,
    EnvVar,
    Inventory,
    Redacted,
    SecretRef,
    Service,
    ServiceMetadata,
    ServiceStatus,
    TrafficTarget,
    Unknown,
    Volume,
    VpcAccess,
)
from driftcheck.redact import fingerprint, redact_args, redact_env_value

KIND = "Cloud Run Admin API v2 Service JSON"
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$")
_SECRET_PATH = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")


def matches(data: Any) -> bool:
    return isinstance(data, dict) and bool(_NAME.match(str(data.get("name", "")))) and "template" in data


def load(doc: Document, inventory: Inventory) -> None:
    # checked here, not in parse_service: a Terraform plan may leave the containers unknown until apply
    service = parse_service(doc.data, doc.label)
    shape.require_containers(doc.data, "template.containers", doc.label)
    common.add_service(inventory, service)
    learn_project_number(doc.data, service, inventory)


def learn_project_number(data: dict[str, Any], service: Service, inventory: Inventory) -> None:
    """The project number that the service's deterministic URL in `urls` holds
    (`https://api-123456789012.us-central1.run.app`), as an alias of its project id: its Cloud Run service agent is
    named after it. An export, a snapshot and a live run learn it alike (the API lists that URL unless the service's
    default URL is disabled); without it a rule on the agent says nothing rather than guess its name."""
    urls = [str(u) for u in data.get("urls") or ()]
    for number, project_id in common.aliases_from_urls(service, urls).items():
        inventory.project_aliases.setdefault(number, project_id)


_SHAPE = shape.compile_shape(
    {
        "labels": dict,
        "annotations": dict,
        "urls": list,
        "template": dict,
        "template.labels": dict,
        "template.annotations": dict,
        **shape.container_shape("template.containers", v2=True),
        "template.scaling": dict,
        "template.vpcAccess": dict,
        "template.vpcAccess.networkInterfaces": list,
        "template.vpcAccess.networkInterfaces[]": dict,
        "template.volumes": list,
        "template.volumes[]": dict,
        "template.volumes[].cloudSqlInstance": dict,
        "template.volumes[].cloudSqlInstance.instances": list,
        "template.volumes[].secret": dict,
        "template.volumes[].secret.items": list,
        "template.volumes[].secret.items[]": dict,
        "template.nodeSelector": dict,
        "terminalCondition": dict,
        "conditions": list,
        "conditions[]": dict,
        "trafficStatuses": list,
        "trafficStatuses[]": dict,
    }
)


def parse_service(data: dict[str, Any], origin: str) -> Service:
    shape.check(data, _SHAPE, origin)
    match = _NAME.match(str(data["name"]))
    assert match  # matches() guarantees it
    template = data.get("template") or {}
    project, region = match["project"], match["region"]
    scaling = template.get("scaling") or {}
    raw_containers = template.get("containers") or []
    raw_volumes = template.get("volumes") or []
    return Service(
        name=match["service"],
        project=project,
        region=region,
        origin=origin,
        ingress=lookup(INGRESS, data.get("ingress", ""), what="ingress", file=origin, field="ingress"),
        service_account=common.service_account(template.get("serviceAccount"), project),
        containers=common.with_dependencies(
            _without_cloudsql_mounts(_containers(raw_containers, project, origin), raw_volumes),
            {str(c.get("name")): list(c.get("dependsOn") or ()) for c in raw_containers if c.get("name")},
        ),
        volumes=_volumes(raw_volumes, origin),
        cloudsql_instances=common.split_instances(
            [i for v in raw_volumes for i in (v.get("cloudSqlInstance") or {}).get("instances") or ()]
        ),
        vpc=_vpc(template.get("vpcAccess") or {}, origin),
        execution_environment=_execution_environment(template.get("executionEnvironment"), origin),
        timeout_s=seconds(template.get("timeout", "300s"), file=origin, field="template.timeout"),
        concurrency=to_int(
            template.get("maxInstanceRequestConcurrency", 0),
            file=origin,
            field="template.maxInstanceRequestConcurrency",
        )
        or None,
        min_instances=to_int(
            scaling.get("minInstanceCount", 0), file=origin, field="template.scaling.minInstanceCount"
        ),
        max_instances=to_int(
            scaling.get("maxInstanceCount", 100), file=origin, field="template.scaling.maxInstanceCount"
        ),
        session_affinity=bool(template.get("sessionAffinity", False)),
        accelerator=(template.get("nodeSelector") or {}).get("accelerator") or None,
        status=_status(data)
        if "terminalCondition" in data or "latestCreatedRevision" in data
        else Unknown("no status fields in this Service JSON"),
        metadata=ServiceMetadata(
            uid=data.get("uid"),
            generation=int(data["generation"]) if data.get("generation") else None,
            revision=template.get("revision") or None,
            labels=dict(data.get("labels") or {}),
            annotations=dict(data.get("annotations") or {}),
            template_annotations=dict(template.get("annotations") or {}),
            template_labels=dict(template.get("labels") or {}),
            created=data.get("createTime"),
            updated=data.get("updateTime"),
            deployer=data.get("client"),
            max_instances_set=scaling.get("maxInstanceCount") is not None,
        ),
        provenance=_provenance(raw_containers),
    )


def _containers(raw: list[Any], project: str, origin: str) -> dict[str, Container]:
    containers: dict[str, Container] = {}
    for index, item in enumerate(raw):
        field = f"template.containers[{index}]"
        resources = item.get("resources")
        container = Container(
            name=str(item.get("name", "")),
            image=str(item.get("image", "")),
            port=None,
            protocol=None,
            env=_env(item.get("env") or [], project, origin, field),
            command=tuple(str(c) for c in item.get("command") or ()),
            args=tuple(str(a) for a in item.get("args") or ()),
            # cpuIdle has no presence in the proto: absent inside `resources` means false (CPU always allocated).
            cpu_always_allocated=resources is not None and not resources.get("cpuIdle", False),
            startup_cpu_boost=bool((resources or {}).get("startupCpuBoost", False)),
            volume_mounts={str(m.get("name")): str(m.get("mountPath")) for m in item.get("volumeMounts") or ()},
        )
        container = common.with_resources(
            container, (resources or {}).get("limits") or {}, origin, f"{field}.resources"
        )
        container = common.with_ports_and_probes(container, item, len(raw), origin, field)
        containers[common.container_key(container, len(raw), index)] = container
    return containers


def _without_cloudsql_mounts(containers: dict[str, Container], volumes: list[Any]) -> dict[str, Container]:
    """The v1 form attaches Cloud SQL by annotation with no mount; the v2 mount is implied, so drop it."""
    cloudsql = {str(v.get("name")) for v in volumes if "cloudSqlInstance" in v}
    return {
        key: dataclasses.replace(c, volume_mounts={n: p for n, p in c.volume_mounts.items() if n not in cloudsql})
        for key, c in containers.items()
    }


def _env(raw: list[Any], project: str, origin: str, field: str) -> dict[str, EnvVar]:
    env: dict[str, EnvVar] = {}
    for index, var in enumerate(raw):
        if not isinstance(var, dict) or "name" not in var:
            raise InputError("env entry needs a name", file=origin, where=f"{field}.env[{index}]")
        common.refuse_duplicate_env(env, str(var["name"]), origin, f"{field}.env[{index}].name")
        ref = (var.get("valueSource") or {}).get("secretKeyRef")
        if ref:
            env[str(var["name"])] = EnvVar(
                secret=SecretRef(_secret_id(str(ref.get("secret", "")), project), str(ref.get("version", "latest")))
            )
        else:
            env[str(var["name"])] = EnvVar(value=common.env_value(str(var["name"]), var.get("value", "")))
    return env


def _secret_id(raw: str, project: str) -> str:
    """Same-project secrets are named by id, so `projects/P/secrets/S` and `S` compare equal."""
    match = _SECRET_PATH.match(raw)
    return match["secret"] if match and match["project"] == project else raw


def _volumes(raw: list[Any], origin: str) -> dict[str, Volume]:
    volumes: dict[str, Volume] = {}
    for index, item in enumerate(raw):
        name = str(item.get("name", index))
        if "cloudSqlInstance" in item:
            continue  # modelled as Service.cloudsql_instances
        if "secret" in item:
            secret = item["secret"] or {}
            items = {str(i.get("path")): str(i.get("version", "latest")) for i in secret.get("items") or ()}
            volumes[name] = Volume("secret", secret=last_segment(str(secret.get("secret"))), items=items)
        elif "gcs" in item:
            volumes[name] = Volume("gcs", detail=(item["gcs"] or {}).get("bucket"))
        elif "nfs" in item:
            nfs = item["nfs"] or {}
            volumes[name] = Volume("nfs", detail=f"{nfs.get('server')}:{nfs.get('path')}")
        elif "emptyDir" in item:
            medium = (item["emptyDir"] or {}).get("medium")
            volumes[name] = Volume("empty_dir", detail=None if medium in (None, "MEDIUM_UNSPECIFIED") else medium)
        else:
            raise InputError("unsupported volume kind", file=origin, where=f"template.volumes[{index}]")
    return volumes


def _vpc(raw: dict[str, Any], origin: str) -> VpcAccess:
    connector = raw.get("connector") or None
    interfaces = common.network_interfaces(raw.get("networkInterfaces") or [])
    if not connector and not interfaces:
        return VpcAccess()
    egress = raw.get("egress") or "PRIVATE_RANGES_ONLY"
    if egress == "VPC_EGRESS_UNSPECIFIED":
        egress = "PRIVATE_RANGES_ONLY"
    return VpcAccess(
        connector=connector,
        network_interfaces=interfaces,
        egress=lookup(EGRESS, egress, what="VPC egress", file=origin, field="template.vpcAccess.egress"),
    )


def _execution_environment(raw: str | None, origin: str) -> str | None:
    if not raw or raw == "EXECUTION_ENVIRONMENT_UNSPECIFIED":
        return None
    return lookup(
        EXECUTION_ENVIRONMENT, raw, what="execution environment", file=origin, field="template.executionEnvironment"
    )


def _status(data: dict[str, Any]) -> ServiceStatus:
    condition = data.get("terminalCondition") or {}
    state = condition.get("state")
    # A terminal condition without a message leaves the why to the condition that failed.
    failed: dict[str, Any] = next(
        (c for c in data.get("conditions") or () if c.get("state") == "CONDITION_FAILED" and c.get("message")), {}
    )
    stated = condition if condition.get("message") else failed
    return ServiceStatus(
        ready={"CONDITION_SUCCEEDED": True, "CONDITION_FAILED": False}.get(str(state)),
        latest_created_revision=_short(data.get("latestCreatedRevision")),
        latest_ready_revision=_short(data.get("latestReadyRevision")),
        reason=stated.get("reason") or stated.get("revisionReason") or condition.get("reason"),
        message=stated.get("message"),
        url=data.get("uri"),
        traffic=tuple(
            TrafficTarget(
                revision=_short(t.get("revision")) or "LATEST", percent=int(t.get("percent", 0)), tag=t.get("tag")
            )
            for t in data.get("trafficStatuses") or ()
        ),
    )


def _short(name: str | None) -> str | None:
    return last_segment(name) if name else None


def _provenance(containers: list[Any]) -> dict[str, str]:
    prov = {
        "ingress": "ingress",
        "service_account": "template.serviceAccount",
        "vpc": "template.vpcAccess.connector",
        "vpc.egress": "template.vpcAccess.egress",
        "vpc.network_interfaces": "template.vpcAccess.networkInterfaces",
        "cloudsql_instances": "template.volumes[].cloudSqlInstance.instances",
        "execution_environment": "template.executionEnvironment",
        "timeout_s": "template.timeout",
        "accelerator": "template.nodeSelector.accelerator",
        "concurrency": "template.maxInstanceRequestConcurrency",
        "min_instances": "template.scaling.minInstanceCount",
        "max_instances": "template.scaling.maxInstanceCount",
        "volumes": "template.volumes",
        "status": "terminalCondition",
        "metadata.template_annotations": "template.annotations",
        "metadata.annotations": "annotations",
    }
    for index, item in enumerate(containers):
        key = common.container_key_raw(item, len(containers), index)
        base = f"template.containers[{index}]"
        prov.update(common.container_provenance(key, base, item, env_field="env", mounts_field="volumeMounts"))
        prov[f"containers.{key}.depends_on"] = f"{base}.dependsOn"
    return common.interned(prov)


def scrubbed(data: dict[str, Any]) -> dict[str, Any]:
    """The Service JSON with every credential-looking env value and argument replaced by a fingerprint marker.

    For files driftcheck writes (snapshots): they keep telling changed passwords apart within the file, and
    never hold one.
    """
    template = dict(data.get("template") or {})
    template["containers"] = [_scrubbed_container(c) for c in template.get("containers") or ()]
    return {**data, "template": template}


def _scrubbed_container(container: dict[str, Any]) -> dict[str, Any]:
    env = [
        {**var, "value": _marker(redact_env_value(str(var.get("name", "")), str(var["value"])))}
        if "value" in var
        else var
        for var in container.get("env") or ()
    ]
    # The value after `--password` (two list items) says nothing by its own shape: mask it by its place first.
    scrubbed_args = {
        key: [
            _marker(redact_env_value("", str(a)))
            for a in redact_args(container[key], lambda value: _marker(fingerprint(value)))
        ]
        for key in ("args", "command")
        if container.get(key)
    }
    return {**container, "env": env, **scrubbed_args}


def _marker(value: str | Redacted) -> str:
    return f"[REDACTED:{value.fingerprint}]" if isinstance(value, Redacted) else value
