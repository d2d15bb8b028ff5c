"""Cloud Run services in Terraform (`google_cloud_run_v2_service`, `google_cloud_run_service`) into the canonical model.

The provider's Cloud Run flatteners pass API values through snake_cased, with every nested block a list. So an
instance is rewritten into the API's own JSON shape (v2 Service JSON, or a Knative v1 Service for
`google_cloud_run_service`) and read by the very parsers the API and gcloud forms go through: one normalization
for every source, and a service in state compares equal to the same service live.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.kinds.service import cloudrun_v2, common, knative
from driftcheck.model import Inventory, Service
from driftcheck.sources.terraform_resources.instance import Instance, api_shape, first, tf_field
from driftcheck.sources.terraform_resources.marks import resolve_marks, with_unknown

LOCATION_LABEL = "cloud.googleapis.com/location"


def load_service_v2(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    data = api_shape(attrs)
    data["name"] = f"projects/{attrs.get('project')}/locations/{attrs.get('location')}/services/{attrs.get('name')}"
    data.setdefault("template", {})
    # Terraform keeps only the configured keys in labels/annotations; effective_* holds what the API has.
    for key in ("annotations", "labels"):
        data[key] = attrs.get(f"effective_{key}") or attrs.get(key) or {}
    service = cloudrun_v2.parse_service(data, label)
    _add_service(instance, service, inventory, [str(u) for u in attrs.get("urls") or ()], spec_prefix=False)


def load_service_v1(instance: Instance, inventory: Inventory, label: str) -> None:
    """`google_cloud_run_service`: the Knative v1 shape, annotations under metadata[0] and template[0].metadata[0]."""
    attrs = instance.attributes
    data = api_shape(attrs)
    meta = first(attrs.get("metadata"))
    template = data.get("template") or {}
    t_meta = first(first(attrs.get("template")).get("metadata"))
    template["metadata"] = {**(template.get("metadata") or {}), "annotations": _annotations(t_meta)}
    template.setdefault("spec", {})
    labels = meta.get("effective_labels") or meta.get("labels") or {}
    knative_data = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": attrs.get("name"),
            "namespace": attrs.get("project") or meta.get("namespace"),
            "labels": {**labels, LOCATION_LABEL: attrs.get("location")},
            "annotations": _annotations(meta),
            "uid": meta.get("uid") or None,
            "generation": meta.get("generation") or None,
        },
        "spec": {"template": template},
    }
    if data.get("status"):
        knative_data["status"] = data["status"]
    service = knative.parse_service(knative_data, label)
    namespace = str(meta.get("namespace") or "")
    if namespace.isdigit() and attrs.get("project"):  # the v1 namespace may be the project number
        inventory.project_aliases.setdefault(namespace, str(attrs["project"]))
    _add_service(instance, service, inventory, [], spec_prefix=True)


def _annotations(meta: dict[str, Any]) -> dict[str, Any]:
    return dict(meta.get("effective_annotations") or meta.get("annotations") or {})


def _add_service(
    instance: Instance, service: Service, inventory: Inventory, urls: list[str], *, spec_prefix: bool
) -> None:
    provenance = {
        path: f"{instance.address}.{tf_field(field.removeprefix('spec.') if spec_prefix else field)}"
        for path, field in service.provenance.items()
    }
    service = dataclasses.replace(
        service,
        metadata=dataclasses.replace(service.metadata, address=instance.address),
        provenance=provenance,
    )
    if instance.marked:
        service = resolve_marks(service)
    if instance.unknown:
        service = _unknown_fields(service, instance.unknown, provenance)
    common.add_service(inventory, service)
    for number, project_id in common.aliases_from_urls(service, urls).items():
        inventory.project_aliases.setdefault(number, project_id)


def _unknown_fields(service: Service, unknown: frozenset[str], provenance: dict[str, str]) -> Service:
    """Non-string values known after apply were left out before parsing; mark the fields they feed as unknown."""
    prefix = service.metadata.address or ""
    for path, field in provenance.items():
        relative = field.removeprefix(f"{prefix}.")
        if any(relative == u or relative.startswith((f"{u}.", f"{u}[")) for u in unknown):
            service = with_unknown(service, path.split("."))
    return service
