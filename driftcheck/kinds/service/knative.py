"""Knative v1 Cloud Run services: `gcloud run services describe --format=export|yaml|json`."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import shape
from driftcheck.kinds.document import Document
from driftcheck.kinds.service import common
from driftcheck.kinds.service import knative_annotations as annotations_
from driftcheck.kinds.service.knative_annotations import (
    A_CLOUDSQL,
    A_CONNECTOR,
    A_DEPENDENCIES,
    A_EGRESS,
    A_INTERFACES,
    A_SECRETS,
    TEMPLATE_ANNOTATIONS,
)
from driftcheck.kinds.units import EGRESS, EXECUTION_ENVIRONMENT, INGRESS, last_segment, lookup, to_int, truthy
from driftcheck.model import (
    Container,
    EnvVar,
    Inventory,
    SecretRef,
    Service,
    ServiceMetadata,
    ServiceStatus,
    TrafficTarget,
    Unknown,
    Volume,
    VpcAccess,
)

KIND = "Knative v1 service (gcloud run services describe)"


def matches(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and str(data.get("apiVersion", "")).startswith("serving.knative.dev/")
        and data.get("kind") == "Service"
    )


def load(doc: Document, inventory: Inventory) -> None:
    # checked here, not in parse_service: a Terraform plan may leave the containers unknown until apply
    service = parse_service(doc.data, doc.label)
    shape.require_containers(doc.data, "spec.template.spec.containers", doc.label)
    common.add_service(inventory, service)
    for number, project_id in common.aliases_from_urls(service, annotations_.urls(doc.data)).items():
        inventory.project_aliases.setdefault(number, project_id)


_SHAPE = shape.compile_shape(
    {
        "metadata": dict,
        "metadata.annotations": dict,
        "metadata.labels": dict,
        "spec": dict,
        "spec.template": dict,
        "spec.template.metadata": dict,
        "spec.template.metadata.annotations": dict,
        "spec.template.metadata.labels": dict,
        "spec.template.spec": dict,
        **shape.container_shape("spec.template.spec.containers", v2=False),
        "spec.template.spec.volumes": list,
        "spec.template.spec.volumes[]": dict,
        "spec.template.spec.volumes[].secret": dict,
        "spec.template.spec.volumes[].secret.items": list,
        "spec.template.spec.volumes[].secret.items[]": dict,
        "spec.template.spec.nodeSelector": dict,
        "status": dict,
        "status.conditions": list,
        "status.traffic": list,
        "status.traffic[]": dict,
    }
)


def parse_service(data: dict[str, Any], origin: str) -> Service:
    shape.check(data, _SHAPE, origin)
    meta = _mapping(data, "metadata", origin)
    name = meta.get("name")
    if not name:
        raise InputError("a Knative service needs metadata.name", file=origin, where="metadata.name")
    spec = _mapping(data, "spec", origin)
    template = _mapping(spec, "template", origin, "spec.template")
    t_meta = template.get("metadata") or {}
    t_spec = _mapping(template, "spec", origin, "spec.template.spec")
    annotations = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}
    t_annotations = {str(k): str(v) for k, v in (t_meta.get("annotations") or {}).items()}
    project = str(meta["namespace"]) if meta.get("namespace") else Unknown("metadata.namespace not in file")
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    region = labels.get("cloud.googleapis.com/location") or Unknown("no cloud.googleapis.com/location label")
    secret_aliases = annotations_.secret_aliases(t_annotations.get(A_SECRETS, ""))
    containers = common.with_dependencies(
        _containers(t_spec.get("containers") or [], t_annotations, secret_aliases, origin),
        annotations_.dependencies(t_annotations.get(A_DEPENDENCIES), origin),
    )
    return Service(
        name=str(name),
        project=project,
        region=region,
        origin=origin,
        ingress=lookup(
            INGRESS,
            annotations.get("run.googleapis.com/ingress", "all"),
            what="ingress",
            file=origin,
            field="metadata.annotations[run.googleapis.com/ingress]",
        ),
        service_account=common.service_account(t_spec.get("serviceAccountName"), project),
        containers=containers,
        volumes=_volumes(t_spec.get("volumes") or [], secret_aliases, origin),
        cloudsql_instances=common.split_instances(t_annotations.get(A_CLOUDSQL, "")),
        vpc=_vpc(t_annotations, project, region, origin),
        execution_environment=_execution_environment(t_annotations, origin),
        timeout_s=to_int(t_spec.get("timeoutSeconds", 300), file=origin, field="spec.template.spec.timeoutSeconds"),
        concurrency=to_int(
            t_spec.get("containerConcurrency", 0), file=origin, field="spec.template.spec.containerConcurrency"
        )
        or None,
        min_instances=to_int(
            t_annotations.get("autoscaling.knative.dev/minScale", 0),
            file=origin,
            field=f"{TEMPLATE_ANNOTATIONS}[autoscaling.knative.dev/minScale]",
        ),
        max_instances=to_int(
            t_annotations.get("autoscaling.knative.dev/maxScale", 100),
            file=origin,
            field=f"{TEMPLATE_ANNOTATIONS}[autoscaling.knative.dev/maxScale]",
        ),
        session_affinity=truthy(t_annotations.get("run.googleapis.com/sessionAffinity", "false")),
        accelerator=(t_spec.get("nodeSelector") or {}).get("run.googleapis.com/accelerator") or None,
        status=_status(data.get("status")) if "status" in data else Unknown("export format carries no status"),
        metadata=ServiceMetadata(
            uid=meta.get("uid"),
            generation=meta.get("generation"),
            revision=t_meta.get("name"),
            labels=labels,
            annotations=annotations,
            template_annotations=t_annotations,
            template_labels={str(k): str(v) for k, v in (t_meta.get("labels") or {}).items()},
            # an unquoted timestamp parses as a datetime; the model holds text
            created=str(meta["creationTimestamp"]) if meta.get("creationTimestamp") else None,
            deployer=annotations.get("run.googleapis.com/client-name"),
            max_instances_set="autoscaling.knative.dev/maxScale" in t_annotations,
        ),
        provenance=_provenance(t_spec.get("containers") or []),
    )


def _mapping(parent: dict[str, Any], key: str, origin: str, field: str | None = None) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise InputError("missing or not a mapping", file=origin, where=field or key)
    return value


def _containers(
    raw: list[Any], annotations: dict[str, str], aliases: dict[str, str], origin: str
) -> dict[str, Container]:
    containers: dict[str, Container] = {}
    for index, item in enumerate(raw):
        field = f"spec.template.spec.containers[{index}]"
        if not isinstance(item, dict):
            raise InputError("container is not a mapping", file=origin, where=field)
        resources = item.get("resources") or {}
        container = Container(
            name=str(item.get("name", "")),
            image=str(item.get("image", "")),
            port=None,
            protocol=None,
            env=_env(item.get("env") or [], aliases, origin, field),
            command=tuple(str(c) for c in item.get("command") or ()),
            args=tuple(str(a) for a in item.get("args") or ()),
            cpu_always_allocated=annotations.get("run.googleapis.com/cpu-throttling", "").lower() == "false",
            startup_cpu_boost=truthy(annotations.get("run.googleapis.com/startup-cpu-boost", "false")),
            volume_mounts={str(m.get("name")): str(m.get("mountPath")) for m in item.get("volumeMounts") or ()},
        )
        container = common.with_resources(container, resources.get("limits") or {}, origin, f"{field}.resources")
        container = common.with_ports_and_probes(container, item, len(raw), origin, field)
        containers[common.container_key(container, len(raw), index)] = container
    return containers


def _env(raw: list[Any], aliases: dict[str, str], origin: str, field: str) -> dict[str, EnvVar]:
    env: dict[str, EnvVar] = {}
    for index, var in enumerate(raw):
        if not isinstance(var, dict) or "name" not in var:
            raise InputError("env entry needs a name", file=origin, where=f"{field}.env[{index}]")
        common.refuse_duplicate_env(env, str(var["name"]), origin, f"{field}.env[{index}].name")
        ref = (var.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            secret = str(ref.get("name", ""))
            env[str(var["name"])] = EnvVar(secret=SecretRef(aliases.get(secret, secret), str(ref.get("key", "latest"))))
        else:
            env[str(var["name"])] = EnvVar(value=common.env_value(str(var["name"]), var.get("value", "")))
    return env


def _volumes(raw: list[Any], aliases: dict[str, str], origin: str) -> dict[str, Volume]:
    volumes: dict[str, Volume] = {}
    for index, item in enumerate(raw):
        name = str(item.get("name", index))
        if "secret" in item:
            secret = item["secret"] or {}
            items = {str(i.get("path")): str(i.get("key", "latest")) for i in secret.get("items") or ()}
            # an alias resolves to `projects/N/secrets/S`; v2 volumes name the secret by id alone, and so do we
            secret_name = aliases.get(str(secret.get("secretName")), str(secret.get("secretName")))
            volumes[name] = Volume("secret", secret=last_segment(secret_name), items=items)
        elif "csi" in item:  # gcsfuse through CSI is v2's `gcs` volume
            attributes = (item["csi"] or {}).get("volumeAttributes") or {}
            volumes[name] = Volume("gcs", detail=attributes.get("bucketName"))
        elif "nfs" in item:
            nfs = item["nfs"] or {}
            volumes[name] = Volume("nfs", detail=f"{nfs.get('server')}:{nfs.get('path')}")
        elif "emptyDir" in item:
            volumes[name] = Volume("empty_dir", detail=(item["emptyDir"] or {}).get("medium") or None)
        else:
            raise InputError("unsupported volume kind", file=origin, where=f"spec.template.spec.volumes[{index}]")
    return volumes


def _vpc(annotations: dict[str, str], project: str | Unknown, region: str | Unknown, origin: str) -> VpcAccess:
    connector = annotations.get(A_CONNECTOR, "").strip()
    interfaces = annotations_.network_interfaces(annotations.get(A_INTERFACES), origin)
    if not connector and not interfaces:
        return VpcAccess()
    egress = lookup(
        EGRESS,
        annotations.get(A_EGRESS, "private-ranges-only"),
        what="VPC egress",
        file=origin,
        field=f"{TEMPLATE_ANNOTATIONS}[{A_EGRESS}]",
    )
    return VpcAccess(
        connector=common.connector_path(connector, project, region) if connector else None,
        network_interfaces=interfaces,
        egress=egress,
    )


def _execution_environment(annotations: dict[str, str], origin: str) -> str | None:
    raw = annotations.get("run.googleapis.com/execution-environment")
    if raw is None:
        return None
    return lookup(
        EXECUTION_ENVIRONMENT,
        raw,
        what="execution environment",
        file=origin,
        field=f"{TEMPLATE_ANNOTATIONS}[run.googleapis.com/execution-environment]",
    )


def _status(raw: Any) -> ServiceStatus:
    raw = raw or {}
    conditions = [c for c in raw.get("conditions") or () if isinstance(c, dict)]
    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    ready_state = {"True": True, "False": False}.get(str(ready.get("status")))
    # A Ready condition that only says "not ready" leaves the why to the condition that failed.
    failed = next((c for c in conditions if c.get("status") == "False" and c.get("message")), {})
    stated = ready if ready.get("message") else failed
    return ServiceStatus(
        ready=ready_state,
        latest_created_revision=raw.get("latestCreatedRevisionName"),
        latest_ready_revision=raw.get("latestReadyRevisionName"),
        reason=_upper_snake(stated.get("reason") or ready.get("reason")),
        message=stated.get("message"),
        url=raw.get("url"),
        traffic=tuple(
            TrafficTarget(
                revision=t.get("revisionName") or "LATEST", percent=int(t.get("percent", 0)), tag=t.get("tag")
            )
            for t in raw.get("traffic") or ()
        ),
    )


def _provenance(containers: list[Any]) -> dict[str, str]:
    prov = {
        "ingress": "metadata.annotations[run.googleapis.com/ingress]",
        "service_account": "spec.template.spec.serviceAccountName",
        "vpc": f"{TEMPLATE_ANNOTATIONS}[{A_CONNECTOR}]",
        "vpc.egress": f"{TEMPLATE_ANNOTATIONS}[{A_EGRESS}]",
        "vpc.network_interfaces": f"{TEMPLATE_ANNOTATIONS}[{A_INTERFACES}]",
        "cloudsql_instances": f"{TEMPLATE_ANNOTATIONS}[{A_CLOUDSQL}]",
        "execution_environment": f"{TEMPLATE_ANNOTATIONS}[run.googleapis.com/execution-environment]",
        "timeout_s": "spec.template.spec.timeoutSeconds",
        "accelerator": "spec.template.spec.nodeSelector[run.googleapis.com/accelerator]",
        "concurrency": "spec.template.spec.containerConcurrency",
        "min_instances": f"{TEMPLATE_ANNOTATIONS}[autoscaling.knative.dev/minScale]",
        "max_instances": f"{TEMPLATE_ANNOTATIONS}[autoscaling.knative.dev/maxScale]",
        "volumes": "spec.template.spec.volumes",
        "status": "status.conditions[Ready]",
        "metadata.template_annotations": TEMPLATE_ANNOTATIONS,
        "metadata.annotations": "metadata.annotations",
    }
    for index, item in enumerate(containers):
        key = common.container_key_raw(item, len(containers), index)
        base = f"spec.template.spec.containers[{index}]"
        prov.update(common.container_provenance(key, base, item, env_field="env", mounts_field="volumeMounts"))
        prov[f"containers.{key}.depends_on"] = f"{TEMPLATE_ANNOTATIONS}[{A_DEPENDENCIES}]"
    return common.interned(prov)


def _upper_snake(reason: str | None) -> str | None:
    """v1 says HealthCheckContainerError where v2 says HEALTH_CHECK_CONTAINER_ERROR: report one spelling."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", reason).upper() if reason else None
