"""Keys of a service's logs: its full name, and the samples of an older snapshot keyed by the short name, upgraded."""

from __future__ import annotations

from typing import Any

from driftcheck.kinds.logs.entries import resource_label
from driftcheck.kinds.service_keys import parse_key, service_key, short_key_owners

__all__ = ["parse_key", "service_key", "upgraded"]


def upgraded(stored: dict[str, Any], services: list[str], project: str | None, regions: list[str]) -> dict[str, Any]:
    """The samples of a snapshot by the full names of their services. A snapshot of an earlier driftcheck keyed a
    sample by the service's short name: it is the sample of the snapshot's one service of that name (`services`,
    their full names), or, with no such service, of that name in the snapshot's one region (`project`, `regions`:
    its scope). Of a name with a service in several regions one sample was kept, written over the others: it is
    that of the region its entries name, and the others' logs are unknown; when its entries name no region (none
    matched), every one of them is unknown: quiet in one region is not quiet in the other."""
    if all("/" in key for key in stored):  # the current shape: nothing to do
        return stored
    owned = short_key_owners(list(stored), services, project, regions)
    result: dict[str, Any] = {}
    for key, sample in stored.items():
        owners = owned[key]
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
