"""Fix actions on what a service depends on (a secret's IAM policy and versions, a Cloud SQL instance, the
project) and on who may invoke it, a look at the service, and Terraform's own commands. Each builds commands and
snippets of its own; the resource is named by the action's arguments, its project defaults to the service's."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from driftcheck.ruleset.fixparts import Args, Parts, ServiceRef, name_like, on_service
from driftcheck.ruleset.hcl import literal

ACCESSOR = "roles/secretmanager.secretAccessor"
INVOKER = "roles/run.invoker"
INVOKER_MEMBERS = ("allUsers", "allAuthenticatedUsers")  # the public ones: a named member is the peer's own caller
_FULL_SECRET = re.compile(r"projects/[^/]+/secrets/[^/]+")
_MEMBER = re.compile(r"(serviceAccount|user|group|domain|principal|principalSet):\S+")
_ROLE = re.compile(r"(roles|projects/[^/]+/roles|organizations/\d+/roles)/[\w.]+")


def _project(args: Args, ref: ServiceRef | None) -> str | None:
    return name_like(args.get("project")) or (ref.project if ref else None)


def _project_flag(project: str | None) -> tuple[str, ...]:
    return ("--project", project) if project else ()


def _label(*names: str) -> str:
    """A resource label from names: Terraform allows letters, digits, `_` and `-`, starting with a letter or `_`."""
    label = re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(_short(n) for n in names))
    return label if re.match(r"[A-Za-z_]", label) else f"_{label}"


def _short(name: str) -> str:
    """`roles/run.invoker` -> run.invoker, `serviceAccount:api@p.iam...` -> api, `projects/p/secrets/s` -> s."""
    return name.rsplit("/", 1)[-1].split(":")[-1].split("@")[0]


def _member(value: object) -> str | None:
    """An IAM member; a bare service account email gets its `serviceAccount:` prefix."""
    member = name_like(value)
    if member and not _MEMBER.fullmatch(member) and member.endswith(".gserviceaccount.com"):
        member = f"serviceAccount:{member}"
    return member if member and _MEMBER.fullmatch(member) else None


def _resource(kind: str, label: str, attrs: Sequence[tuple[str, str | None]]) -> str:
    body = ", ".join(f"{name} = {literal(value)}" for name, value in attrs if value)
    return f'resource "{kind}" "{label}" {{ {body} }}'


def grant_secret_access(args: Args, ref: ServiceRef | None) -> Parts | None:
    secret, member = name_like(args["secret"]), _member(args["member"])
    if secret is None or member is None:
        return None
    # A full name (another project's secret) carries its project; a short id is in the given or service's project.
    project = None if _FULL_SECRET.fullmatch(secret) else _project(args, ref)
    argv = ("gcloud", "secrets", "add-iam-policy-binding", secret, "--member", member, "--role", ACCESSOR)
    # secret_id takes the full name too, which also names the project (and reads as a name, never a value).
    full = f"projects/{project}/secrets/{secret}" if project else secret
    attrs = [("secret_id", full), ("role", ACCESSOR), ("member", member)]
    snippet = _resource("google_secret_manager_secret_iam_member", _label(secret, member), attrs)
    return Parts(commands=((*argv, *_project_flag(project)),), snippets=(snippet,))


def grant_role(args: Args, ref: ServiceRef | None) -> Parts | None:
    member, role = _member(args["member"]), name_like(args["role"])
    if member is None or role is None or not _ROLE.fullmatch(role):
        return None
    project = _project(args, ref) or "PROJECT"
    argv = ("gcloud", "projects", "add-iam-policy-binding", project, "--member", member, "--role", role)
    attrs = [("project", project), ("role", role), ("member", member)]
    return Parts(commands=(argv,), snippets=(_resource("google_project_iam_member", _label(role, member), attrs),))


def grant_invoker(args: Args, ref: ServiceRef | None) -> Parts | None:
    """Let everyone (or every signed-in account) invoke the service, as its peer does, or one service account (a
    push subscription's identity). Never another named member: a peer's named invokers are its own callers."""
    member = name_like(args["member"])
    member = member if member in INVOKER_MEMBERS else _member(member)
    name = name_like(args.get("service")) or (ref.name if ref else None)
    public_or_account = member in INVOKER_MEMBERS or (member or "").startswith("serviceAccount:")
    if member is None or not public_or_account or name is None:
        return None
    region = name_like(args.get("region")) or (ref.region if ref else None) or "REGION"
    project = _project(args, ref)
    argv = ("gcloud", "run", "services", "add-iam-policy-binding", name, "--region", region, "--member", member)
    attrs = [("project", project), ("location", region), ("name", name), ("role", INVOKER), ("member", member)]
    snippet = _resource("google_cloud_run_v2_service_iam_member", _label(name, member), attrs)
    return Parts(commands=((*argv, "--role", INVOKER, *_project_flag(project)),), snippets=(snippet,))


def enable_secret_version(args: Args, ref: ServiceRef | None) -> Parts | None:
    """A disabled version back to ENABLED. Terraform has no snippet: a version is rarely declared (its payload
    would sit in state), and one that is would be re-enabled by `terraform apply` anyway."""
    secret, version = name_like(args["secret"]), name_like(str(args["version"] or ""))
    if secret is None or version is None or not version.isdigit():
        return None
    if _FULL_SECRET.fullmatch(secret):  # the positional VERSION takes the full name; --secret does not
        return Parts(commands=(("gcloud", "secrets", "versions", "enable", f"{secret}/versions/{version}"),))
    argv = ("gcloud", "secrets", "versions", "enable", version, "--secret", secret)
    return Parts(commands=((*argv, *_project_flag(_project(args, ref))),))


def set_sql_activation_policy(args: Args, ref: ServiceRef | None) -> Parts | None:
    """Start (ALWAYS) or stop (NEVER) a Cloud SQL instance; gcloud 528 knows no ON_DEMAND."""
    instance, policy = name_like(args["instance"]), str(args["policy"] or "").upper()
    if instance is None or policy not in ("ALWAYS", "NEVER", "ON_DEMAND"):
        return None
    project = _project(args, ref)
    argv = ("gcloud", "sql", "instances", "patch", instance, "--activation-policy", policy.lower())
    commands = () if policy == "ON_DEMAND" else ((*argv, *_project_flag(project)),)
    snippet = f"google_sql_database_instance.{_label(instance)}: settings {{ activation_policy = {literal(policy)} }}"
    return Parts(commands=commands, snippets=(snippet,))


def enable_service_account(args: Args, ref: ServiceRef | None) -> Parts | None:
    """A disabled service account enabled again; its email names its project."""
    email = name_like(args["account"])
    if email is None or "@" not in email:
        return None
    snippet = f"google_service_account.{_label(email)}: disabled = false"
    return Parts(commands=(("gcloud", "iam", "service-accounts", "enable", email),), snippets=(snippet,))


def undelete_service_account(args: Args, ref: ServiceRef | None) -> Parts | None:
    """A deleted service account back, within 30 days of its deletion: only by its unique id. Terraform would
    create a new account of the same email, with another unique id, which no old grant names."""
    unique_id = name_like(str(args["unique_id"] or ""))
    if unique_id is None or not unique_id.isdigit():
        return None
    argv = ("gcloud", "iam", "service-accounts", "undelete", unique_id)
    return Parts(commands=((*argv, *_project_flag(_project(args, ref))),))


def describe_service(args: Args, ref: ServiceRef | None) -> Parts | None:
    """A look, not a change: for a difference with no right side to copy (two environments)."""
    name = name_like(args.get("name")) or (ref.name if ref else None)
    if name is None:
        return None
    region = name_like(args.get("region")) or (ref.region if ref else None) or "REGION"
    argv = ("gcloud", "run", "services", "describe", name, "--region", region)
    return Parts(commands=((*argv, *_project_flag(_project(args, ref)), "--format", "yaml"),))


def terraform_apply(args: Args, ref: ServiceRef | None) -> Parts | None:
    """Back to what Terraform declares, for one resource."""
    address = name_like(args.get("address")) or (ref.address if ref else None)
    return Parts(snippets=(f"terraform apply -target={shlex.quote(address)}",), restores=True) if address else None


@on_service
def terraform_import(args: Args, ref: ServiceRef) -> Parts | None:
    """A live service under Terraform's management (google_cloud_run_v2_service's import id)."""
    path = f"projects/{ref.project or 'PROJECT'}/locations/{ref.region or 'REGION'}/services/{ref.name}"
    return Parts(snippets=(f"terraform import {shlex.quote(ref.terraform_address)} {shlex.quote(path)}",))
