"""Terraform state, format version 4 (`terraform.tfstate`, Terraform 0.12 and later): managed resources only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.model import Inventory
from driftcheck.sources import limits, terraform_formats, terraform_resources
from driftcheck.sources.terraform_resources import MODELLED, NOTHING_MODELLED, Instance, index_suffix
from driftcheck.sources.tfstate_stream import StreamedState

# What the format is called and whether a document is one live in terraform_formats, which sources/__init__.py
# lists without importing this module.
KIND = terraform_formats.STATE_KIND
matches = terraform_formats.state_matches
FORMAT_VERSION = 4


def load(doc: Document, inventory: Inventory) -> None:
    """A state read the ordinary way (a dict) or streamed (most of them: sources/tfstate_stream.py)."""
    # errors found while streaming name the document as the user gave it (a gs:// URL, say), not the parsed path
    streamed = dataclasses.replace(doc.data, label=doc.label) if isinstance(doc.data, StreamedState) else None
    check_version(streamed.header if streamed else doc.data, doc.label)
    resources = streamed.resources() if streamed else doc.data.get("resources") or ()
    if not terraform_resources.load_instances(instances(resources, doc.label), inventory, doc.label):
        raise InputError(NOTHING_MODELLED, file=doc.label)


def check_version(data: dict[str, Any], label: str) -> None:
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"Terraform state format version {version!r} is not supported (driftcheck reads version {FORMAT_VERSION}, "
            "written by Terraform 0.12 and later; `terraform state pull` with a newer Terraform upgrades it)",
            file=label,
            where="version",
        )


def instances(resources: Iterable[dict[str, Any]], label: str) -> Iterator[Instance]:
    """Every instance of a modelled managed resource, addressed as Terraform does (modules, count, for_each)."""
    for resource in resources:
        if resource.get("mode") != "managed" or resource.get("type") not in MODELLED:
            continue
        limits.check_depth(resource, label)  # only what is modelled is walked (recursively) later
        module = f"{resource['module']}." if resource.get("module") else ""
        base = f"{module}{resource['type']}.{resource['name']}"
        for item in resource.get("instances") or ():
            if item.get("deposed"):  # an object waiting to be destroyed, not what the address names
                continue
            address = base + index_suffix(item.get("index_key"))
            yield Instance(address, resource["type"], item.get("attributes") or {})
