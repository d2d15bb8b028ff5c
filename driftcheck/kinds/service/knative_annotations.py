"""Knative v1 annotations whose values are structured data in a string: JSON lists, flow maps, alias lists."""

from __future__ import annotations

import json
from typing import Any

import yaml

from driftcheck.errors import InputError
from driftcheck.kinds.service import common
from driftcheck.model import NetworkInterface

A_CONNECTOR = "run.googleapis.com/vpc-access-connector"
A_EGRESS = "run.googleapis.com/vpc-access-egress"
A_INTERFACES = "run.googleapis.com/network-interfaces"
A_CLOUDSQL = "run.googleapis.com/cloudsql-instances"
A_SECRETS = "run.googleapis.com/secrets"
A_DEPENDENCIES = "run.googleapis.com/container-dependencies"
A_URLS = "run.googleapis.com/urls"
TEMPLATE_ANNOTATIONS = "spec.template.metadata.annotations"


def dependencies(raw: str | None, origin: str) -> dict[str, list[str]]:
    """gcloud writes JSON; hand-written files use YAML flow maps (`{app: [collector]}`), which YAML also reads."""
    if not raw:
        return {}
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, list) for v in parsed.values()):
        raise InputError(
            f"{A_DEPENDENCIES} is not a map of container name to the containers it waits for, e.g. "
            '{"app": ["collector"]}',
            file=origin,
            where=f"{TEMPLATE_ANNOTATIONS}[{A_DEPENDENCIES}]",
        )
    return {str(name): [str(d) for d in waits] for name, waits in parsed.items()}


def secret_aliases(annotation: str) -> dict[str, str]:
    """`alias:projects/N/secrets/S,…` lets a v1 service name another project's secret by a local alias."""
    aliases = {}
    for entry in filter(None, (part.strip() for part in annotation.split(","))):
        alias, _, target = entry.partition(":")
        aliases[alias] = target
    return aliases


def network_interfaces(raw: str | None, origin: str) -> dict[str, NetworkInterface]:
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise InputError(f"{A_INTERFACES} is not JSON", file=origin, where=TEMPLATE_ANNOTATIONS) from None
    return common.network_interfaces(parsed if isinstance(parsed, list) else [parsed])


def urls(data: dict[str, Any]) -> list[str]:
    raw = ((data.get("metadata") or {}).get("annotations") or {}).get(A_URLS)
    try:
        urls = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return [str(u) for u in urls] if isinstance(urls, list) else []
