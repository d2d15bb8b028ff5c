"""Load an evidence folder or a list of files into one Inventory, whatever mix of kinds it holds."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import Inventory, Service, Unknown, VpcAccess
from driftcheck.sources import KINDS
from driftcheck.sources.documents import Document, evidence_files, read_documents

_LIST_KEYS = ("items", "services", "instances", "connectors", "secrets")
_PROJECT_IN_PATH = re.compile(r"^projects/(?P<project>[^/]+)/")


def load_evidence(locations: Iterable[Path]) -> Inventory:
    inventory = Inventory()
    for location in locations:
        for path in evidence_files(location):
            for document in read_documents(path):
                load_document(document, inventory)
    resolve_project_numbers(inventory)
    return inventory


def load_document(document: Document, inventory: Inventory) -> None:
    for data in _resources(document.data, document.label):
        kind = next((k for k in KINDS if k.matches(data)), None)
        if kind is None:
            raise InputError(_unknown_kind_message(data), file=document.label)
        kind.load(dataclasses.replace(document, data=data), inventory)


def _resources(data: Any, label: str) -> Iterator[Any]:
    """Unwrap recorded API responses, completed operations and list outputs down to single resources."""
    if isinstance(data, dict) and isinstance(data.get("body"), dict) and "headers" in data:
        yield from _resources(data["body"], label)
    elif isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        raise InputError(
            f"a recorded API error ({error.get('code')} {error.get('status', '')}: "
            f"{error.get('message', '')}), not a resource",
            file=label,
        )
    elif isinstance(data, dict) and isinstance(data.get("response"), dict) and "done" in data:
        yield from _resources(data["response"], label)
    elif isinstance(data, dict) and not any(k.matches(data) for k in KINDS) and _list_key(data):
        for item in data[_list_key(data) or ""]:
            yield from _resources(item, label)
    elif isinstance(data, list) and not any(k.matches(data) for k in KINDS):
        for item in data:
            yield from _resources(item, label)
    else:
        yield data


def _list_key(data: dict[str, Any]) -> str | None:
    return next((k for k in _LIST_KEYS if isinstance(data.get(k), list)), None)


def _unknown_kind_message(data: Any) -> str:
    expected = "; ".join(k.KIND for k in KINDS)
    if isinstance(data, dict) and data.get("apiVersion", "").startswith("serving.knative.dev"):
        return f"a Knative {data.get('kind')!r}, not a Service; driftcheck reads Cloud Run services"
    shape = f"a mapping with keys {sorted(data)[:6]}" if isinstance(data, dict) else f"a {type(data).__name__}"
    return f"not a known kind of evidence ({shape}); expected one of: {expected}"


def resolve_project_numbers(inventory: Inventory) -> None:
    """v1 files name projects by number, v2 and gcloud JSON by id: rewrite numbers to ids where evidence links them."""
    aliases = inventory.project_aliases
    if not aliases:
        return
    for name, service in inventory.services.items():
        inventory.services[name] = _resolve_service(service, aliases)
    for secret_id, secret in inventory.secrets.items():
        if isinstance(secret.project, str) and secret.project in aliases:
            inventory.secrets[secret_id] = dataclasses.replace(secret, project=aliases[secret.project])


def _resolve_service(service: Service, aliases: dict[str, str]) -> Service:
    project = aliases.get(service.project, service.project) if isinstance(service.project, str) else service.project
    vpc = service.vpc
    if vpc.connector:
        vpc = dataclasses.replace(vpc, connector=resolve_path(vpc.connector, aliases))
    sa = service.service_account
    return dataclasses.replace(service, project=project, vpc=vpc, service_account=sa)


def resolve_path(path: str, aliases: dict[str, str]) -> str:
    match = _PROJECT_IN_PATH.match(path)
    if match and match["project"] in aliases:
        return f"projects/{aliases[match['project']]}/{path[match.end() :]}"
    return path


__all__ = ["Unknown", "VpcAccess", "load_document", "load_evidence", "resolve_path"]
