"""What snapshots key per service by (its full name), and whose an earlier driftcheck's short key is."""

from __future__ import annotations

import re

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


def short_key_owners(
    keys: list[str], services: list[str], project: str | None, regions: list[str]
) -> dict[str, list[str]]:
    """For each key of a snapshot, the full names of the services it may be: itself when it is one; for a short name
    (an earlier driftcheck's key), the snapshot's services of that name (`services`, their full names), or, with
    none, that name in the snapshot's one region (`project`, `regions`: its scope). Several owners: the earlier
    version kept one value for services of one name in several regions."""
    by_name: dict[str, list[str]] = {}
    for name in services:
        by_name.setdefault(parse_key(name)[2], []).append(name)
    owners: dict[str, list[str]] = {}
    for key in keys:
        found = [key] if "/" in key else by_name.get(key, [])
        if not found and project and len(regions) == 1:
            found = [service_key(project, regions[0], key)]
        owners[key] = found
    return owners
