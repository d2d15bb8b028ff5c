"""Load an evidence folder or a list of files into one Inventory, whatever mix of kinds it holds."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import EvidenceReader
from driftcheck.model import EnvVar, Inventory, SecretRef, Service, Unknown, VpcAccess
from driftcheck.sources import asset_inventory, gcs, readers, screening
from driftcheck.sources.documents import evidence_files, read_documents
from driftcheck.sources.terraform_formats import PLAN, STATE
from driftcheck.sources.unwrap import resources

_PROJECT_IN_PATH = re.compile(r"^projects/(?P<project>[^/]+)/")
_SECRET_PATH = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
# A Terraform file screens only the resources it models for placeholders (sources/terraform_resources/__init__.py).
# A Cloud Asset Inventory record too: a placeholder where it names its project is that project unknown.
_SCREENS_ITS_OWN = (STATE, PLAN, asset_inventory)


def load_evidence(locations: Iterable[Path | str]) -> Inventory:
    inventory = Inventory()
    for location in locations:
        for document in documents_at(location):
            load_document(document, inventory)
    resolve_project_numbers(inventory)
    return inventory


def documents_at(location: Path | str) -> Iterator[Document]:
    """Every document of a local file or folder, or of one Cloud Storage object."""
    if gcs.is_gcs(str(location)):
        yield from gcs.read_documents(str(location))
        return
    for path in evidence_files(Path(location)):
        yield from read_documents(path, stand_alone=_is_known)


def load_document(document: Document, inventory: Inventory) -> None:
    _refuse_unsupported(document.data, document.label)
    for data in resources(document.data, document.label, _is_known):
        _refuse_unsupported(data, document.label)
        kind = reader_for(data, document.path.name)
        if kind not in _SCREENS_ITS_OWN:
            _refuse_template(data, document.label)
        if kind is None:
            raise InputError(_unknown_kind_message(data), file=document.label)
        _load(kind, dataclasses.replace(document, data=data), inventory)


def reader_for(data: Any, file_name: str) -> EvidenceReader | None:
    """The reader the file name names (`NAMED_BY`), when its content fits; else the first that matches and names
    no file ending of its own."""
    fitting = [k for k in readers() if k.matches(data)]
    named = [k for k in fitting if (ending := getattr(k, "NAMED_BY", None)) and file_name.endswith(ending)]
    return next(iter(named), None) or next((k for k in fitting if not getattr(k, "NAMED_BY", None)), None)


def _is_known(data: Any) -> bool:
    return any(k.matches(data) for k in readers())


def _refuse_unsupported(data: Any, label: str) -> None:
    reason = screening.why_unsupported(data)
    if reason:
        raise InputError(reason, file=label)


def _refuse_template(data: Any, label: str) -> None:
    found = screening.placeholder_in(data)
    if found:
        field, placeholder = found
        raise InputError(screening.template_message(placeholder), file=label, where=field)


def _load(kind: EvidenceReader, document: Document, inventory: Inventory) -> None:
    """The kind matched on a few keys; anything deeper that has the wrong type is still the user's file to fix."""
    try:
        kind.load(document, inventory)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise InputError(f"does not fit the shape of a {kind.KIND}: {exc!r}", file=document.label) from None


def _unknown_kind_message(data: Any) -> str:
    expected = "; ".join(k.KIND for k in readers())
    near = screening.near_miss(data)
    if near:
        return near
    if isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("serving.knative.dev"):
        return f"a Knative {data.get('kind')!r}, not a Service; driftcheck reads Cloud Run services"
    shape = f"a {type(data).__name__}"
    if isinstance(data, dict):
        shape = f"a mapping with keys {sorted(map(str, data))[:6]}"
    return f"not a known kind of evidence ({shape}); expected one of: {expected}"


def resolve_project_numbers(inventory: Inventory) -> None:
    """v1 files name projects by number, v2 and gcloud JSON by id: rewrite numbers to ids where evidence links them."""
    aliases = inventory.project_aliases
    for name, service in inventory.services.items():
        inventory.services[name] = resolve_service(service, aliases)
    for secret_id, secret in inventory.secrets.items():
        if isinstance(secret.project, str) and secret.project in aliases:
            inventory.secrets[secret_id] = dataclasses.replace(secret, project=aliases[secret.project])


def resolve_service(service: Service, aliases: dict[str, str]) -> Service:
    project = aliases.get(service.project, service.project) if isinstance(service.project, str) else service.project
    vpc = service.vpc
    if isinstance(vpc.connector, str) and vpc.connector:  # a plan's connector may be Unknown until apply
        vpc = dataclasses.replace(vpc, connector=resolve_path(vpc.connector, aliases))
    containers = {
        key: c
        if isinstance(c.env, Unknown)  # an unresolved env stays unknown, never an empty map
        else dataclasses.replace(c, env={n: _resolve_env(v, project, aliases) for n, v in c.env.items()})
        for key, c in service.containers.items()
    }
    return dataclasses.replace(service, project=project, vpc=vpc, containers=containers)


def _resolve_env(var: EnvVar, project: str | Unknown, aliases: dict[str, str]) -> EnvVar:
    """`projects/NUMBER/secrets/S` of the service's own project is the same secret as plain `S`."""
    match = _SECRET_PATH.match(var.secret.secret) if var.secret and isinstance(var.secret.secret, str) else None
    if var.secret is None or match is None or aliases.get(match["project"], match["project"]) != project:
        return var
    return dataclasses.replace(var, secret=SecretRef(match["secret"], var.secret.version))


def resolve_path(path: str, aliases: dict[str, str]) -> str:
    match = _PROJECT_IN_PATH.match(path)
    if match and match["project"] in aliases:
        return f"projects/{aliases[match['project']]}/{path[match.end() :]}"
    return path


__all__ = ["Unknown", "VpcAccess", "load_document", "load_evidence", "resolve_path", "resolve_service"]
