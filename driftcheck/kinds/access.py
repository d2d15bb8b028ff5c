"""May this member do this on that resource? One answer, from the IAM policies the evidence holds.

Rules used to each check role lists against one policy; here every such question is one `AccessCheck`
(member, permission, full resource name) and one `Answer`: granted, denied or unknown, with the grant that decides
it (`via`), the policy levels read (each with its file) and those not read. Pure functions over the Inventory.

A Policy Troubleshooter answer for exactly the check (kind "iam_troubleshooter", keyed
"MEMBER PERMISSION RESOURCE") wins: it evaluated every level, folders, groups and conditions included. Otherwise
the policies in the evidence are read, the resource's own first, then its project's:
- a role grants the permission only when `GRANTING` below lists it; a basic or service agent role not listed, a
  custom role, or a role granted under a condition is unknown, never a "no";
- the member itself, allUsers, and allAuthenticatedUsers (any signed-in principal, a service account included)
  grant; a group, domain or workforce/workload identity set may hold the member, which the evidence cannot say
  (unknown); a `deleted:` member never grants;
- the project's folders and organization are read when its ancestry is in the evidence (kinds/ancestry.py): a
  plain grant in one of their policies grants ("roles/... on folder 123"); a folder or organization whose policy is
  not in the evidence is in `unread`, by its id; without the ancestry (or above where it is known only in part),
  `unread` names "folder" and "organization" with no id, as which ones they are is not known;
- "denied" is no plain grant at the levels read and nothing there that cannot be evaluated; `unread` names what
  was not read, so a sentence can say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from driftcheck.kinds.ancestry import ANCESTOR_TYPES, ancestry_of, resource_name
from driftcheck.kinds.service.common import own_hosts, own_name
from driftcheck.model import Inventory, Service, Unknown, secret_reference

Access = Literal["granted", "denied", "unknown"]

SECRET_ACCESS = "secretmanager.versions.access"
SQL_CONNECT = "cloudsql.instances.connect"
RUN_INVOKE = "run.routes.invoke"
ACT_AS = "iam.serviceAccounts.actAs"
CONNECTOR_USE = "vpcaccess.connectors.use"
SUBNET_USE = "compute.subnetworks.use"
TROUBLESHOOTER = "iam_troubleshooter"  # another module's kind: looked up by name, so this one needs none of it

# Predefined roles Google documents as holding each permission. Sources: the IAM role reference pages
# https://cloud.google.com/iam/docs/roles-permissions/{secretmanager,cloudsql,run,iam,vpcaccess,compute}, the
# Cloud SQL role table (https://cloud.google.com/sql/docs/postgres/iam-roles: owner and editor hold cloudsql.*
# but IAM policy permissions, viewer only get/list/export) and Cloud Run's access page
# (https://cloud.google.com/run/docs/securing/managing-access: owners and editors may invoke). A predefined role
# listed nowhere here is taken not to grant: the lists are complete for these permissions, but for the roles in
# MAYBE, and for compute.subnetworks.use, which too many product roles carry to list (OPEN_ENDED).
GRANTING: dict[str, frozenset[str]] = {
    SECRET_ACCESS: frozenset({"roles/secretmanager.secretAccessor", "roles/secretmanager.admin"}),
    SQL_CONNECT: frozenset(
        {"roles/cloudsql.client", "roles/cloudsql.editor", "roles/cloudsql.admin", "roles/owner", "roles/editor"}
    ),
    RUN_INVOKE: frozenset({"roles/run.invoker", "roles/run.admin", "roles/owner", "roles/editor"}),
    ACT_AS: frozenset({"roles/iam.serviceAccountUser"}),
    CONNECTOR_USE: frozenset({"roles/vpcaccess.user", "roles/vpcaccess.admin"}),
    SUBNET_USE: frozenset(
        {
            "roles/compute.networkUser",
            "roles/compute.networkAdmin",
            "roles/compute.admin",
            "roles/compute.instanceAdmin.v1",
        }
    ),
}
BASIC = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
# Roles that may hold the permission, as far as the pages above let us be sure: a grant of one is unknown.
MAYBE: dict[str, frozenset[str]] = {
    SECRET_ACCESS: frozenset({"roles/secretmanager.editor"}),
    SQL_CONNECT: frozenset({"roles/cloudsql.studioUser", "roles/cloudsql.instanceUser"}),
    RUN_INVOKE: frozenset({"roles/run.developer", "roles/run.servicesInvoker", "roles/run.sourceDeveloper"}),
    ACT_AS: frozenset({"roles/iam.serviceAccountAdmin"}),
    CONNECTOR_USE: frozenset(),
    SUBNET_USE: frozenset(),
}
OPEN_ENDED = frozenset({SUBNET_USE})
_CUSTOM_ROLE = re.compile(r"^(projects|organizations)/[^/]+/roles/")
_UNRESOLVED_MEMBER = ("group:", "domain:", "principalSet:", "principal:")
_PROJECT = re.compile(r"^//cloudresourcemanager\.googleapis\.com/projects/(?P<project>[^/]+)$")
_SECRET = re.compile(r"^//secretmanager\.googleapis\.com/projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)$")
_RUN = re.compile(r"^//run\.googleapis\.com/projects/(?P<project>[^/]+)/locations/[^/]+/services/(?P<service>[^/]+)$")
_CONNECTOR = re.compile(r"^//vpcaccess\.googleapis\.com/projects/(?P<project>[^/]+)/locations/[^/]+/connectors/[^/]+$")
_SUBNET = re.compile(
    r"^//compute\.googleapis\.com/projects/(?P<project>[^/]+)/regions/[^/]+/subnetworks/(?P<subnet>[^/]+)$"
)
_ALWAYS_UNREAD = ANCESTOR_TYPES  # unread, with no id, when the project's ancestry is not known
_ANCESTOR_KINDS = {"folder": ("folder_iam_policy", "folder_iam_policies"),
                   "organization": ("organization_iam_policy", "organization_iam_policies")}  # fmt: skip
AGENT_DOMAIN = "serverless-robot-prod.iam.gserviceaccount.com"  # the Cloud Run service agent's


@dataclass(frozen=True, slots=True)
class AccessCheck:
    member: str  # IAM member form, "serviceAccount:EMAIL"
    permission: str
    resource: str  # full resource name: //secretmanager.googleapis.com/projects/P/secrets/S, ...

    @property
    def key(self) -> str:
        """How the Inventory keys a Policy Troubleshooter answer for this check."""
        return f"{self.member} {self.permission} {self.resource}"


@dataclass(frozen=True, slots=True)
class Level:
    """One policy level: `level` is secret, service, project, subnetwork, folder, organization or troubleshooter."""

    level: str
    name: str  # the resource at that level; a folder's or organization's id ("" when which one is not known)
    source: str | None = None  # where it was read; None when not read
    reason: str | None = None  # why it was not read


@dataclass(frozen=True, slots=True)
class Answer:
    access: Access
    via: str | None = None  # what grants it: "roles/secretmanager.secretAccessor on project netra-staging"
    read: tuple[Level, ...] = ()
    unread: tuple[Level, ...] = ()
    why_unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Policy:
    """One level's policy, in the shape every kind's policy has in common."""

    level: Level
    bindings: dict[str, tuple[str, ...]]
    conditional: dict[str, tuple[str, ...]]
    complete: bool


# --- which checks a service depends on ----------------------------------------------------------------------------


def checks_for(service: Service, inventory: Inventory) -> list[AccessCheck]:
    """Every check a rule depends on for the service: its runtime account on each secret it reads and on the project
    of each Cloud SQL instance it connects to; each push subscription's identity on the service itself."""
    checks: list[AccessCheck] = []
    member = runtime_member(service)
    if member is not None:
        checks += [c for secret in secret_ids(service) if (c := secret_check(member, secret, service, inventory))]
        checks += [sql_check(member, name, inventory) for name in connection_names(service)]
    hosts = set(own_hosts(service))
    pushers = sorted(
        (s for s in inventory.of("pubsub_subscription").values() if s.push_endpoint in hosts), key=lambda s: str(s.name)
    )
    for sub in pushers:
        pusher = push_member(sub.push_identity)
        if pusher is not None and (check := invoke_check(pusher, service)):
            checks.append(check)
    return list(dict.fromkeys(checks))


def push_member(identity: str | Unknown | None) -> str | None:
    """Who a push arrives as: its identity's account, or anyone at all (allUsers) when it sends no token; None
    when its identity is not known."""
    if isinstance(identity, Unknown):
        return None
    return f"serviceAccount:{identity}" if identity else "allUsers"


def runtime_member(service: Service) -> str | None:
    account = service.service_account
    return f"serviceAccount:{account}" if isinstance(account, str) and account else None


def secret_ids(service: Service) -> list[str]:
    """The secrets it reads, as references name them: env secretKeyRefs, `sm://` env values, secret volumes."""
    ids: list[str] = []
    for container in service.containers.values():
        for var in container.env.values():
            if var.secret:
                ids.append(var.secret.secret)
            elif isinstance(var.value, str) and (named := secret_reference(var.value)):
                ids.append(named.secret)
    ids += [v.secret for v in service.volumes.values() if v.kind == "secret" and v.secret]
    # a .tf reference not resolved (a secret_id = google_secret_manager_secret.x.id) is unknown: no check to ask
    return list(dict.fromkeys(i for i in ids if isinstance(i, str)))


_CONNECTION_NAME = re.compile(r"\b([a-z][a-z0-9.:-]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][a-z0-9-]*)\b")


def connection_names(service: Service) -> list[str]:
    """The instances it connects to: attached (annotation or v2 volume), or named in an env value (a language
    connector takes the connection name; a /cloudsql/NAME socket path names it too)."""
    values = [
        str(var.value)
        for container in service.containers.values()
        for var in container.env.values()
        if isinstance(var.value, str)
    ]
    named = [m for value in values for m in _CONNECTION_NAME.findall(value)]
    attached = [name for name in service.cloudsql_instances if isinstance(name, str)]
    return list(dict.fromkeys([*attached, *named]))


def secret_check(member: str, secret: str | Unknown, service: Service, inventory: Inventory) -> AccessCheck | None:
    """A secret of another project keeps its `projects/P/secrets/S`; a short id is in the service's project. An
    unresolved .tf reference names no secret: no check."""
    if not isinstance(secret, str):
        return None
    if secret.startswith("projects/"):
        return AccessCheck(member, SECRET_ACCESS, f"//secretmanager.googleapis.com/{secret}")
    known = inventory.secrets.get(secret)
    project = known.project if known and isinstance(known.project, str) else service.project
    if isinstance(project, Unknown):
        return None
    return AccessCheck(member, SECRET_ACCESS, f"//secretmanager.googleapis.com/projects/{project}/secrets/{secret}")


def sql_check(member: str, connection_name: str, inventory: Inventory) -> AccessCheck:
    """Cloud SQL has no policy of its own: connect is granted on the instance's project (PROJECT:REGION:NAME, a
    domain-scoped project keeping its `example.com:` prefix)."""
    project = connection_name.rsplit(":", 2)[0]
    return AccessCheck(member, SQL_CONNECT, f"//cloudresourcemanager.googleapis.com/projects/{project}")


def invoke_check(member: str, service: Service) -> AccessCheck | None:
    if isinstance(service.project, Unknown) or isinstance(service.region, Unknown):
        return None
    path = f"projects/{service.project}/locations/{service.region}/services/{own_name(service)}"
    return AccessCheck(member, RUN_INVOKE, f"//run.googleapis.com/{path}")


def project_resource(project: str) -> str:
    return f"//cloudresourcemanager.googleapis.com/projects/{project}"


# --- the answer ------------------------------------------------------------------------------------------------


def may(check: AccessCheck, inventory: Inventory) -> Answer:
    """Whether `check.member` holds `check.permission` on `check.resource`, as far as the evidence tells."""
    answered = inventory.of(TROUBLESHOOTER).get(check.key)
    if answered is not None and not getattr(answered, "blind", False):
        return _troubleshooter_answer(answered)
    policies, unread = _levels(check.resource, inventory)
    why = f"no IAM policy of {_short(check.resource)} or of its project is in the evidence"
    if not policies:
        return Answer("unknown", unread=tuple(unread), why_unknown=(why,))
    read = tuple(p.level for p in policies)
    doubts: list[str] = []
    for policy in policies:
        granted, doubt = _judge(policy, check)
        if granted:
            return Answer("granted", via=granted, read=read, unread=tuple(unread))
        doubts += doubt
    if all(p.level.level in ANCESTOR_TYPES for p in policies):  # a folder's "no" says nothing of the resource's
        return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(why, *dict.fromkeys(doubts)))
    if doubts:
        return Answer("unknown", read=read, unread=tuple(unread), why_unknown=tuple(dict.fromkeys(doubts)))
    return Answer("denied", read=read, unread=tuple(unread))


def holds_role(member: str, role: str, project: str, inventory: Inventory) -> Answer:
    """Whether `member` holds `role` itself (not a permission) in the project's policy: for a role Google grants
    its own service agents, which no other role stands in for."""
    policy, missing = _project_policy(project, inventory)
    above, not_read = _ancestor_policies(project, inventory)
    unread = [*([missing] if missing else []), *not_read]
    if policy is None:
        return Answer("unknown", unread=tuple(unread), why_unknown=(str(missing and missing.reason),))
    levels = (policy, *above)  # a role granted on a folder or the organization is inherited
    read = tuple(p.level for p in levels)
    for level in levels:
        if member in level.bindings.get(role, ()):
            where = f"{role} on {level.level.level} {level.level.name}"
            return Answer("granted", via=where, read=read, unread=tuple(unread))
    for level in levels:
        where = f"{role} on {level.level.level} {level.level.name}"
        if member in level.conditional.get(role, ()):
            return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(f"{where} only under a condition",))
        if not level.complete:
            return Answer("unknown", read=read, unread=tuple(unread), why_unknown=(_partial(level.level),))
    return Answer("denied", read=read, unread=tuple(unread))


def _troubleshooter_answer(answered: Any) -> Answer:
    """Policy Troubleshooter evaluated every level (folders, organization, groups, conditions): cited as read."""
    access = str(getattr(answered, "access", "unknown"))
    explanation = str(getattr(answered, "explanation", "") or "")
    origin = getattr(answered, "origin", None)
    level = Level("troubleshooter", "Policy Troubleshooter", source=str(origin) if origin else None)
    verdict: Access = access if access in ("granted", "denied") else "unknown"  # type: ignore[assignment]
    return Answer(
        verdict,
        via=(explanation or "Policy Troubleshooter") if verdict == "granted" else None,
        read=(level,),
        why_unknown=((explanation or "Policy Troubleshooter could not tell"),) if verdict == "unknown" else (),
    )


def _judge(policy: _Policy, check: AccessCheck) -> tuple[str | None, list[str]]:
    """(what grants it at this level, or None; why this level cannot settle it)."""
    where = f"{policy.level.level} {policy.level.name}"
    doubts: list[str] = []
    for role, members in sorted(policy.bindings.items()):
        grants, doubt = _role_grants(role, check.permission)
        if not grants and doubt is None:
            continue
        for member in members:
            if _is(member, check.member):
                if grants:
                    shown = "" if member == check.member else f" to {member}"
                    return f"{role}{shown} on {where}", []
                doubts.append(f"{role} on {where} is {doubt}")
            elif member.startswith(_UNRESOLVED_MEMBER):
                doubts.append(f"{role} on {where} is granted to {member}, whose members are not in the evidence")
    for role, members in sorted(policy.conditional.items()):
        grants, doubt = _role_grants(role, check.permission)
        if (grants or doubt) and any(_is(m, check.member) or m.startswith(_UNRESOLVED_MEMBER) for m in members):
            doubts.append(f"{role} on {where} is granted only under a condition")
    if not policy.complete:
        doubts.append(_partial(policy.level))
    return None, doubts


def _partial(level: Level) -> str:
    return f"the {level.level}'s policy is known only in part (Terraform member resources)"


def _is(member: str, wanted: str) -> bool:
    """Whether a policy's member names `wanted`: itself, everyone, or (for a signed-in principal) every signed-in
    one. A deleted member never does, even when it once named the same email."""
    if member.startswith("deleted:"):
        return False
    if member == wanted or member == "allUsers":
        return True
    return member == "allAuthenticatedUsers" and wanted != "allUsers"


def _role_grants(role: str, permission: str) -> tuple[bool, str | None]:
    """(it grants the permission; else why it may, or None when it does not)."""
    if role in GRANTING.get(permission, ()):
        return True, None
    if _CUSTOM_ROLE.match(role):
        return False, f"a custom role {role} whose permissions are not known"
    if role in BASIC or role in MAYBE.get(permission, ()):
        return False, f"a role that may hold {permission} (not confirmed here)"
    if role.endswith(("serviceAgent", "ServiceAgent")):
        return False, f"a service agent role that may hold {permission} (not listed here)"
    if permission in OPEN_ENDED or permission not in GRANTING:
        return False, f"a role whose permissions are not listed here for {permission}"
    return False, None


# --- the policies of each level -----------------------------------------------------------------------------------


def _levels(resource: str, inventory: Inventory) -> tuple[list[_Policy], list[Level]]:
    """The policies read for a resource (its own, then its project's, then its folders' and organization's) and the
    levels not in the evidence."""
    own, project = _own_policy(resource, inventory)
    policies: list[_Policy] = []
    unread: list[Level] = []
    if isinstance(own, _Policy):
        policies.append(own)
    elif isinstance(own, Level):
        unread.append(own)
    if project is None:
        return policies, [*unread, *(Level(level, "") for level in _ALWAYS_UNREAD)]
    policy, missing = _project_policy(project, inventory)
    policies += [policy] if policy else []
    unread += [missing] if missing else []
    above, not_read = _ancestor_policies(project, inventory)
    return [*policies, *above], [*unread, *not_read]


def _ancestor_policies(project: str, inventory: Inventory) -> tuple[list[_Policy], list[Level]]:
    """The policies of the project's folders (nearest first) and organization, when its ancestry is in the
    evidence, and those not read: by id when the ancestry names them, as "folder" and "organization" when it is not
    known (or known only up to a read that failed)."""
    known = ancestry_of(project, inventory)
    if known is None:
        shown = inventory.project_aliases.get(project, project)
        error = next(
            (e for n in _project_names(project, inventory) if (e := inventory.errors.get(f"project_ancestries:{n}"))),
            None,
        )
        why = error or f"the ancestry of project {shown} is not in the evidence (gcloud projects get-ancestors)"
        return [], [Level(level, "", reason=why) for level in _ALWAYS_UNREAD]
    policies: list[_Policy] = []
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
        policies.append(_Policy(read, dict(found.bindings), dict(found.conditional), found.complete))
    if not known.complete:
        last = f"{known.ancestors[-1][0]} {known.ancestors[-1][1]}" if known.ancestors else f"project {project}"
        why = f"what is above {last} is not known ({known.reason})"
        unread += [Level(level, "", reason=why) for level in _ALWAYS_UNREAD]
    return policies, unread


def _own_policy(resource: str, inventory: Inventory) -> tuple[_Policy | Level | None, str | None]:
    """The resource's own policy (or the Level saying it is not read) and its project; a project has none."""
    if match := _PROJECT.match(resource):
        return None, match["project"]
    if match := _SECRET.match(resource):
        return _secret_policy(match["project"], match["secret"], inventory), match["project"]
    if match := _RUN.match(resource):
        return _run_policy(match["service"], inventory), match["project"]
    if match := _SUBNET.match(resource):  # a Shared VPC subnet may be granted on itself: never in the evidence
        return Level("subnetwork", match["subnet"], reason="subnetwork policies are not read"), match["project"]
    if match := _CONNECTOR.match(resource):
        return None, match["project"]
    return None, None


def _secret_policy(project: str, secret_id: str, inventory: Inventory) -> _Policy | Level:
    full = f"projects/{project}/secrets/{secret_id}"
    secret = inventory.secrets.get(full) or inventory.secrets.get(secret_id)
    name = secret_id if inventory.secrets.get(secret_id) else full
    if secret is None:
        return Level("secret", name, reason=f"secret {secret_id} is not in the evidence")
    if isinstance(secret.bindings, Unknown):
        return Level("secret", name, reason=secret.bindings.reason)
    source = secret.provenance.get("bindings", secret.origin)
    # A grant under a condition is kept apart (kinds/secret.py): only under a condition, so unknown, as a project's.
    return _Policy(Level("secret", name, source=source), dict(secret.bindings), dict(secret.conditional), True)


def _run_policy(service: str, inventory: Inventory) -> _Policy | Level:
    policy = inventory.of("run_service_iam_policy").get(service)
    if policy is None:
        error = inventory.errors.get(f"run_service_iam_policies:{service}")
        return Level("service", service, reason=error or f"the IAM policy of service {service} is not in the evidence")
    level = Level("service", service, source=policy.provenance.get("bindings", policy.origin))
    return _Policy(level, dict(policy.bindings), dict(policy.conditional), policy.complete)


def _project_policy(project: str, inventory: Inventory) -> tuple[_Policy | None, Level | None]:
    """A project's policy under its id or its number, whichever the evidence links to it."""
    names = _project_names(project, inventory)
    found = inventory.of("project_iam_policy")
    for name in names:
        if name in found:
            policy = found[name]
            level = Level("project", name, source=policy.provenance.get("bindings", policy.origin))
            return _Policy(level, dict(policy.bindings), dict(policy.conditional), policy.complete), None
    error = next((e for n in names if (e := inventory.errors.get(f"project_iam_policies:{n}"))), None)
    shown = inventory.project_aliases.get(project, project)
    return None, Level("project", shown, reason=error or f"the IAM policy of project {shown} is not in the evidence")


def _project_names(project: str, inventory: Inventory) -> list[str]:
    aliases = inventory.project_aliases
    numbers = [number for number, pid in aliases.items() if pid == project]
    return list(dict.fromkeys([project, aliases.get(project, project), *numbers]))


def project_number(project: str | Unknown, inventory: Inventory) -> str | None:
    """The project's number, when the evidence names it (a v1 namespace, or an alias of its id); None otherwise."""
    if isinstance(project, Unknown):
        return None
    if project.isdigit():
        return project
    return next((number for number, pid in sorted(inventory.project_aliases.items()) if pid == project), None)


def service_agent(number: str) -> str:
    """The Cloud Run service agent of a project, as an IAM member."""
    return f"serviceAccount:service-{number}@{AGENT_DOMAIN}"


@dataclass(frozen=True, slots=True)
class AgentNeed:
    """A role the service's Cloud Run service agent must hold, where, for what, and whether it does."""

    member: str  # the agent, serviceAccount:service-NUMBER@serverless-robot-prod.iam.gserviceaccount.com
    role: str
    project: str  # where it must hold it
    purpose: str  # "to run the service", "to use connector C", "to use network N"
    check: AccessCheck  # its permission on the resource; for a role needed as such, the role on the project
    answer: Answer


_HOST_PATH = re.compile(r"^projects/(?P<project>[^/]+)/")
RUN_AGENT_ROLE = "roles/run.serviceAgent"
_Wanted = tuple[str, str, str, tuple[str, str] | None]  # role, project, purpose, (permission, resource) or None
CONNECTOR_ROLE = "roles/vpcaccess.user"
NETWORK_ROLE = "roles/compute.networkUser"


def agent_needs(service: Service, inventory: Inventory) -> list[AgentNeed]:
    """What the service agent must hold where the evidence holds the whole policy to tell: roles/run.serviceAgent
    in its own project, and in a Shared VPC host project the role to use its connector or network. Nothing when no
    such policy is in the evidence, nor when the project's number (the agent's name) is not: a live run reads
    every project's policy and seldom the number, and an unverified entry there would mark every report
    incomplete."""
    own = service.project
    if isinstance(own, Unknown):
        return []
    wanted: list[_Wanted] = [(RUN_AGENT_ROLE, own, "to run the service", None), *_vpc_needs(service, inventory)]
    wanted = [w for w in wanted if _whole_policy(w[1], inventory)]
    if not wanted:
        return []
    number = project_number(own, inventory)
    if number is None:  # the agent is named after it: no name to guess, so nothing to judge (said in the rule)
        return []
    agent = service_agent(number)
    found = []
    for role, project, purpose, permission in wanted:
        if permission is None:  # the role itself, which nothing else stands in for
            check = AccessCheck(agent, role, project_resource(project))
            found.append(AgentNeed(agent, role, project, purpose, check, holds_role(agent, role, project, inventory)))
        else:
            check = AccessCheck(agent, *permission)
            found.append(AgentNeed(agent, role, project, purpose, check, may(check, inventory)))
    return found


def _vpc_needs(service: Service, inventory: Inventory) -> list[_Wanted]:
    """(role, host project, purpose, (permission, resource)) for a connector or network of another project."""
    own = _project_names(str(service.project), inventory)
    connector = service.vpc.connector
    needs: list[_Wanted] = []
    if isinstance(connector, str) and (host := _HOST_PATH.match(connector)) and host["project"] not in own:
        resource = f"//vpcaccess.googleapis.com/{connector}"
        needs.append((CONNECTOR_ROLE, host["project"], f"to use connector {connector}", (CONNECTOR_USE, resource)))
    for interface in service.vpc.network_interfaces.values():
        path = next((p for p in (interface.subnetwork, interface.network) if isinstance(p, str) and p), "")
        if (host := _HOST_PATH.match(path)) and host["project"] not in own:
            resource = (
                f"//compute.googleapis.com/{path}" if "/subnetworks/" in path else project_resource(host["project"])
            )
            needs.append((NETWORK_ROLE, host["project"], f"to use network {path}", (SUBNET_USE, resource)))
    return needs


def _whole_policy(project: str, inventory: Inventory) -> bool:
    policy, _ = _project_policy(project, inventory)
    return policy is not None and policy.complete


def _short(resource: str) -> str:
    return resource.split("googleapis.com/", 1)[-1]
