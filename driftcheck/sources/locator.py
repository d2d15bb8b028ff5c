"""`LOCATION#ADDRESS`: one Terraform resource instance of a state or plan file, as TARGET or BASELINE.

ADDRESS is Terraform's own, e.g. `module.app.google_cloud_run_v2_service.api["blue"]`; LOCATION a local file or
`gs://bucket/key`. A `.tf` folder (`DIR/#ADDRESS`) is for the HCL source, not read here. In a file of services
with no Terraform address (a `driftcheck snapshot`, a `gcloud run services list` export), ADDRESS is a service's
name: `staging.json#api` against `prod.json#api` compares one service across two projects' snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftcheck.errors import InputError
from driftcheck.model import Service
from driftcheck.sources import gcs


@dataclass(frozen=True)
class Locator:
    location: str
    address: str | None  # None: the one service the location holds


def parse(text: str) -> Locator | None:
    """A locator when the text names a readable file or object, with or without #ADDRESS; else None."""
    location, _, address = text.partition("#")
    if gcs.is_gcs(location):
        return Locator(gcs.normalized(location), address or None)
    if address and Path(location).is_file():
        return Locator(location, address)
    return None


def select(locator: Locator, services: list[Service]) -> Service:
    if locator.address is None:
        if len(services) != 1:
            raise InputError(f"expected exactly one Cloud Run service, found {len(services)}", file=locator.location)
        return services[0]
    found = [s for s in services if s.metadata.address == locator.address]
    if not found and not any(s.metadata.address for s in services):  # a snapshot: the address is a service's name
        found = [s for s in services if s.name == locator.address]
        if len(found) > 1:
            raise InputError(
                f"{len(found)} services named {locator.address} (one per region): snapshot one region",
                file=locator.location,
            )
    if not found:
        known = ", ".join(sorted(str(s.metadata.address or s.name) for s in services)) or "none"
        raise InputError(
            f"no Cloud Run service at address {locator.address} (services in this file: {known})",
            file=locator.location,
        )
    return found[0]
