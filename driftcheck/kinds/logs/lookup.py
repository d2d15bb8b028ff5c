"""Which logs in the evidence are a service's: those of its own name, region and project (`logs_of`)."""

from __future__ import annotations

from driftcheck.kinds.logs.keys import service_key
from driftcheck.kinds.logs.model import ServiceLogs
from driftcheck.kinds.logs.reader import NAME, SNAPSHOT_KEY
from driftcheck.kinds.service.common import own_name
from driftcheck.model import Inventory, Service, Unknown, subject_of

EXPORT_HINT = (
    'gcloud logging read \'resource.type="cloud_run_revision" AND resource.labels.service_name="{service}" AND '
    "severity>=WARNING' --freshness=1h --limit=500 --format=json > {service}.logs.json"
)


def logs_of(service: Service, inventory: Inventory) -> ServiceLogs | Unknown:
    """The service's logs in the evidence; unknown (with why, and what to export) when there are none. Logs are
    keyed by the service's own name, region and project: entries of the same service name in another region (or
    project) are not its own, and when the evidence does not say which of several are (its region unknown, or
    entries that name none) they are unknown. A revision of a revision compare (`api@latest (api-00042-fix)`)
    reads its service's, those of its revision when the entries say which revision logged them."""
    name = own_name(service)
    found = _own_logs(service, name, inventory)
    if isinstance(found, ServiceLogs):
        revision = service.metadata.revision if service.metadata.revision_of else None
        own = found.of_revision(revision) if revision else None
        return found if own is None else own
    if found is not None:
        return found
    read = (inventory.errors.get(f"{SNAPSHOT_KEY}:{key}") for key in _keys_of(service, name, inventory))
    error = next((reason for reason in read if reason), None)
    if error:
        return Unknown(f"the logs of {name} could not be read ({error})")
    return Unknown(f"no logs of {name} in the evidence (export: {EXPORT_HINT.format(service=name)})")


def _own_logs(service: Service, name: str, inventory: Inventory) -> ServiceLogs | Unknown | None:
    """Those of the service's own name, region and project; unknown when several groups may be; None: none."""
    stored: dict[str, ServiceLogs] = inventory.of(NAME)
    project, region = _known(service.project), _known(service.region)
    if project and region and (exact := stored.get(service_key(project, region, name))) is not None:
        return exact
    aliases = inventory.project_aliases
    candidates = [logs for logs in stored.values() if logs.service == name and _belongs(logs, project, region, aliases)]
    if len(candidates) > 1:
        whose = ", ".join(sorted(f"{logs.project or '?'}/{logs.region or '?'}" for logs in candidates))
        which = f"and not which are those of {subject_of(service)}"
        return Unknown(f"the evidence holds the logs of several services named {name} ({whose}), {which}")
    return candidates[0] if candidates else None


def _belongs(logs: ServiceLogs, project: str | None, region: str | None, aliases: dict[str, str]) -> bool:
    """Whether the logs may be those of a service of their name in that project and region (None: not known)."""
    if region is not None:
        if logs.region is not None and logs.region != region:
            return False
        if logs.region is None and logs.locations and region not in logs.locations:
            return False
    if project is not None and logs.project is not None:
        mine, theirs = aliases.get(project, project), aliases.get(logs.project, logs.project)
        # a project number and an id the evidence does not relate: not known to differ
        return mine == theirs or mine.isdigit() != theirs.isdigit()
    return True


def _keys_of(service: Service, name: str, inventory: Inventory) -> list[str]:
    """The keys the service's logs (or the error of their read) may be stored under: its full name, with its project
    as the evidence names it or by id, and the short name of a snapshot of an earlier driftcheck."""
    project, region = _known(service.project), _known(service.region)
    projects = [project, inventory.project_aliases.get(project or "")] if project else []
    numbers = [number for number, id_ in inventory.project_aliases.items() if project and id_ == project]
    full = [service_key(p, region, name) for p in dict.fromkeys([*projects, *numbers]) if p] if region else []
    return [*full, name]


def _known(value: str | Unknown) -> str | None:
    return value if isinstance(value, str) and value else None


def own_key(service: Service) -> tuple[str, ...]:
    """The key of the service's own logs: its full name, as the snapshot and the exports' labels name it."""
    return (service_key(_known(service.project), _known(service.region), own_name(service)),)
