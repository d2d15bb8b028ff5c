"""The IAM policies a check reads: the resource's own, then its project's, folders' and organization's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.kinds import run_iam
from driftcheck.kinds.ancestry import ANCESTOR_TYPES, ancestry_of, resource_name
from driftcheck.model import Inventory, Unknown

_PROJECT = re.compile(r"^//cloudresourcemanager\.googleapis\.com/projects/(?P<project>[^/]+)$")
_SECRET = re.compile(r"^//secretmanager\.googleapis\.com/projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
_RUN = re.compile(
    r"^//run\.googleapis\.com/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<service>[^/]+)$"
)
_CONNECTOR = re.compile(r"^//vpcaccess\.googleapis\.com/projects/(?P<project>[^/]+)/locations/[^/]+/connectors/[^/]+$")
_SUBNET = re.compile(
    r"^//compute\.googleapis\.com/projects/(?P<project>[^/]+)/regions/[^/]+/subnetworks/(?P<subnet>[^/]+)$"
)
_ALWAYS_UNREAD = ANCESTOR_TYPES  # unread, with no id, when the project's ancestry is not known
_ANCESTOR_KINDS = {"folder": ("folder_iam_policy", "folder_iam_policies"),
                   "organization": ("organization_iam_policy", "organization_iam_policies")}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Level:
    """One policy level: `level` is secret, service, project, subnetwork, folder, organization or troubleshooter."""

    level: str
    name: str  # the resource at that level; a folder's or organization's id ("" when which one is not known)
    source: str | None = None  # where it was read; None when not read
    reason: str | None = None  # why it was not read


@dataclass(frozen=True, slots=True)
class Policy:
    """One level's policy, in the shape every kind's policy has in common."""

    level: Level
    bindings: dict[str, tuple[str, ...]]
    conditional: dict[str, tuple[str, ...]]
    complete: bool


def levels(resource: str, inventory: Inventory) -> tuple[list[Policy], list[Level]]:
    """The policies read for a resource (its own, then its project's, then its folders' and organization's) and the
    levels not in the evidence."""
    own, project = _own_policy(resource, inventory)
    policies: list[Policy] = []
    unread: list[Level] = []
    if isinstance(own, Policy):
        policies.append(own)
    elif isinstance(own, Level):
        unread.append(own)
    if project is None:
        return policies, [*unread, *(Level(level, "") for level in _ALWAYS_UNREAD)]
    policy, missing = project_policy(project, inventory)
    policies += [policy] if policy else []
    unread += [missing] if missing else []
    above, not_read = ancestor_policies(project, inventory)
    return [*policies, *above], [*unread, *not_read]


def ancestor_policies(project: str, inventory: Inventory) -> tuple[list[Policy], list[Level]]:
    """The policies of the project's folders (nearest first) and organization, when its ancestry is in the
    evidence, and those not read: by id when the ancestry names them, as "folder" and "organization" when it is not
    known (or known only up to a read that failed)."""
    known = ancestry_of(project, inventory)
    if known is None:
        shown = inventory.project_aliases.get(project, project)
        error = next(
            (e for n in project_names(project, inventory) if (e := inventory.errors.get(f"project_ancestries:{n}"))),
            None,
        )
        why = error or f"the ancestry of project {shown} is not in the evidence (gcloud projects get-ancestors)"
        return [], [Level(level, "", reason=why) for level in _ALWAYS_UNREAD]
    policies: list[Policy] = []
    unread: list[Level] = []
    for level, ident in known.ancestors:
        kind, snapshot_key = _ANCESTOR_KINDS[level]
        name = resource_name(level, ident)
        found = inventory.of(kind).get(name)
        if found is None:
            error = inventory.errors.get(f"{snapshot_key}:{name}")
            unread.append(
                Level(level, ident, reason=error or f"the IAM policy of {level} {ident} is not in the evidence")
            )
            continue
        read = Level(level, ident, source=found.provenance.get("bindings", found.origin))
        policies.append(Policy(read, dict(found.bindings), dict(found.conditional), found.complete))
    if not known.complete:
        last = f"{known.ancestors[-1][0]} {known.ancestors[-1][1]}" if known.ancestors else f"project {project}"
        why = f"what is above {last} is not known ({known.reason})"
        unread += [Level(level, "", reason=why) for level in _ALWAYS_UNREAD]
    return policies, unread


def _own_policy(resource: str, inventory: Inventory) -> tuple[Policy | Level | None, str | None]:
    """The resource's own policy (or the Level saying it is not read) and its project; a project has none."""
    if match := _PROJECT.match(resource):
        return None, match["project"]
    if match := _SECRET.match(resource):
        return _secret_policy(match["project"], match["secret"], inventory), match["project"]
    if match := _RUN.match(resource):
        return _run_policy(match["project"], match["region"], match["service"], inventory), match["project"]
    if match := _SUBNET.match(resource):  # a Shared VPC subnet may be granted on itself: never in the evidence
        return Level("subnetwork", match["subnet"], reason="subnetwork policies are not read"), match["project"]
    if match := _CONNECTOR.match(resource):
        return None, match["project"]
    return None, None


def _secret_policy(project: str, secret_id: str, inventory: Inventory) -> Policy | Level:
    full = f"projects/{project}/secrets/{secret_id}"
    secret = inventory.secrets.get(full) or inventory.secrets.get(secret_id)
    name = secret_id if inventory.secrets.get(secret_id) else full
    if secret is None:
        return Level("secret", name, reason=f"secret {secret_id} is not in the evidence")
    if isinstance(secret.bindings, Unknown):
        return Level("secret", name, reason=secret.bindings.reason)
    source = secret.provenance.get("bindings", secret.origin)
    # A grant under a condition is kept apart (kinds/secret.py): only under a condition, so unknown, as a project's.
    return Policy(Level("secret", name, source=source), dict(secret.bindings), dict(secret.conditional), True)


def _run_policy(project: str, region: str, service: str, inventory: Inventory) -> Policy | Level:
    """The policy of the service of that full name: its own region's, never that of its name in another."""
    key = run_iam.key_of(project, region, service, inventory)
    policy = inventory.of(run_iam.RUN_IAM.name).get(key)
    if policy is None:
        error = inventory.errors.get(f"{run_iam.SNAPSHOT_KEY}:{key}")
        return Level("service", service, reason=error or f"the IAM policy of service {service} is not in the evidence")
    level = Level("service", service, source=policy.provenance.get("bindings", policy.origin))
    return Policy(level, dict(policy.bindings), dict(policy.conditional), policy.complete)


def project_policy(project: str, inventory: Inventory) -> tuple[Policy | None, Level | None]:
    """A project's policy under its id or its number, whichever the evidence links to it."""
    names = project_names(project, inventory)
    found = inventory.of("project_iam_policy")
    for name in names:
        if name in found:
            policy = found[name]
            level = Level("project", name, source=policy.provenance.get("bindings", policy.origin))
            return Policy(level, dict(policy.bindings), dict(policy.conditional), policy.complete), None
    error = next((e for n in names if (e := inventory.errors.get(f"project_iam_policies:{n}"))), None)
    shown = inventory.project_aliases.get(project, project)
    return None, Level("project", shown, reason=error or f"the IAM policy of project {shown} is not in the evidence")


def project_names(project: str, inventory: Inventory) -> list[str]:
    aliases = inventory.project_aliases
    numbers = [number for number, pid in aliases.items() if pid == project]
    return list(dict.fromkeys([project, aliases.get(project, project), *numbers]))
