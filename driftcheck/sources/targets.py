"""A TARGET or BASELINE of the command line that names a file, not a service to look up: a single-service file
(service.yaml, an API JSON), a Terraform locator (`plan.json#ADDRESS`, `gs://bucket/key#ADDRESS`, `DIR/#ADDRESS`
for a .tf folder) or a snapshot's service (`staging.json#api`). Read offline, for an offline compare and for a live
one alike (jobs/compare.py, jobs/compare_live.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.model import Inventory, Service
from driftcheck.sources import locator as locators
from driftcheck.sources.documents import read_documents
from driftcheck.sources.evidence import documents_at, load_document, resolve_project_numbers

# A Cloud Run service or revision name is lowercase letters, digits and hyphens: a slash, a dot or a `#` names a file.
_FILE_MARK = re.compile(r"[/\\.#]")


def is_local(spec: str) -> bool:
    """A TARGET/BASELINE that names a file, a .tf folder or a Terraform locator, not a service to look up."""
    location = spec.partition("#")[0]
    return location.startswith("gs://") or Path(location).exists()


def names_a_file(spec: str) -> bool:
    """One that cannot be a service name (`plan.json#ADDRESS`, `service.yaml`, `infra/#ADDRESS`), or a file of that
    name: a file whether it exists or not, never a service to look up in a live project (a folder named like a
    service is not one)."""
    return bool(_FILE_MARK.search(spec)) or Path(spec).is_file()


def check_exists(spec: str) -> None:
    """A file TARGET/BASELINE that is not there is an input error naming it (a live run never looks it up)."""
    if not is_local(spec):
        location = spec.partition("#")[0] or spec
        raise InputError(
            "no such file or folder (a TARGET or BASELINE with '/', '.' or '#' names a file, not a service)",
            file=location,
        )


def pick(name_or_path: str, inventory: Inventory) -> Service:
    """A service by name from the evidence, the one service in a file given by path, or a Terraform locator
    (`FILE#ADDRESS`, `gs://bucket/key#ADDRESS`, `DIR/#ADDRESS` for a .tf folder)."""
    path = Path(name_or_path)
    location, _, address = name_or_path.partition("#")
    if address and Path(location).is_dir():  # a .tf folder: the pre-deploy check, where no plan exists
        return _service_from_tf(Path(location), address, inventory)
    locator = None if name_or_path in inventory.services else locators.parse(name_or_path)
    if locator is not None:
        own = _read_on_its_own(documents_at(locator.location), inventory)
        return locators.select(locator, list(own.services.values()))
    if name_or_path not in inventory.services and path.is_file():
        return _service_from_file(path, inventory)
    if name_or_path in inventory.services:
        return inventory.services[name_or_path]
    known = ", ".join(sorted(inventory.services)) or "none"
    raise InputError(f"no service named {name_or_path!r} in the evidence (services found: {known})")


def _service_from_tf(folder: Path, address: str, inventory: Inventory) -> Service:
    from driftcheck.sources import terraform_hcl  # python-hcl2 is loaded only for .tf folders

    declared = terraform_hcl.load_tf_dir(folder)
    inventory.adopt(declared)
    return terraform_hcl.service_at(declared, address)


def _service_from_file(path: Path, inventory: Inventory) -> Service:
    own = _read_on_its_own(read_documents(path), inventory)
    if len(own.services) != 1:
        raise InputError(f"expected exactly one Cloud Run service, found {len(own.services)}", file=str(path))
    return next(iter(own.services.values()))


def _read_on_its_own(documents: Iterable[Document], inventory: Inventory) -> Inventory:
    """A file named on the command line is read on its own, so it may describe a service the folder also has.
    The resources it references join the evidence (the evidence's own copies win)."""
    own = Inventory(project_aliases=dict(inventory.project_aliases))
    for document in documents:
        load_document(document, own)
    resolve_project_numbers(own)
    inventory.adopt(own)
    return own
