"""The access checks a service depends on: its account on its secrets and Cloud SQL, its pushers on itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.kinds.access.roles import RUN_INVOKE, SECRET_ACCESS, SQL_CONNECT
from driftcheck.kinds.service.common import own_hosts, own_name
from driftcheck.model import Inventory, Service, Unknown, secret_reference


@dataclass(frozen=True, slots=True)
class AccessCheck:
    member: str  # IAM member form, "serviceAccount:EMAIL"
    permission: str
    resource: str  # full resource name: //secretmanager.googleapis.com/projects/P/secrets/S, ...

    @property
    def key(self) -> str:
        """How the Inventory keys a Policy Troubleshooter answer for this check."""
        return f"{self.member} {self.permission} {self.resource}"


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
