"""Keys of a service's logs: its full name, and the samples of an older snapshot keyed by the short name, upgraded."""

from __future__ import annotations

import re
from typing import Any

from driftcheck.kinds.logs.entries import resource_label

_KEY = re.compile(r"^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$")


def service_key(project: str | None, region: str | None, service: str) -> str:
    """A service's full name (`projects/P/locations/R/services/S`), `-` for a project or region not known."""
    return f"projects/{project or '-'}/locations/{region or '-'}/services/{service}"


def parse_key(key: str) -> tuple[str | None, str | None, str]:
    """(project, region, service) of a key; a snapshot of an earlier driftcheck's short name names neither."""
    match = _KEY.match(key)
    if match is None:
        return None, None, key
    project, region, service = match.groups()
    return (None if project == "-" else project), (None if region == "-" else region), service


def upgraded(stored: dict[str, Any], services: list[str], project: str | None, regions: list[str]) -> dict[str, Any]:
    """The samples of a snapshot by the full names of their services. A snapshot of an earlier driftcheck keyed a
    sample by the service's short name: it is the sample of the snapshot's one service of that name (`services`,
    their full names), or, with no such service, of that name in the snapshot's one region (`project`, `regions`:
    its scope). Of a name with a service in several regions one sample was kept, written over the others: it is
    that of the region its entries name, and the others' logs are unknown; when its entries name no region (none
    matched), every one of them is unknown: quiet in one region is not quiet in the other."""
    if all("/" in key for key in stored):  # the current shape: nothing to do
        return stored
    by_name: dict[str, list[str]] = {}
    for name in services:
        by_name.setdefault(parse_key(name)[2], []).append(name)
    result: dict[str, Any] = {}
    for key, sample in stored.items():
        owners = [key] if "/" in key else by_name.get(key, [])
        if not owners and project and len(regions) == 1:
            owners = [service_key(project, regions[0], key)]
        if len(owners) <= 1:
            result[owners[0] if owners else key] = sample
            continue
        named = _regions_named(sample)
        kept = [owner for owner in owners if len(named) == 1 and parse_key(owner)[1] in named]
        where = ", ".join(sorted(str(parse_key(owner)[1]) for owner in owners))
        lost = {
            "error": f"a snapshot of an earlier driftcheck kept one log sample of the services named {key} "
            f"({where}), not whose: those of this one are not known"
        }
        result.update({owner: sample if owner in kept else lost for owner in owners})
    return result


def _regions_named(sample: Any) -> set[str]:
    entries = sample.get("entries") if isinstance(sample, dict) else sample
    if not isinstance(entries, list) or (isinstance(sample, dict) and "error" in sample):
        return set()
    return {
        location
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(location := resource_label((entry.get("resource") or {}).get("labels"), "location"), str)
    }
