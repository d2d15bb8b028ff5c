"""The permission resolver's answers (kinds/access/) as rules see them: may this member do this, here."""

from __future__ import annotations

from driftcheck.kinds import access
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.ruleset.context.shapes import AccessAnswer, AgentGrant, PolicyLevel, SqlConnect
from driftcheck.ruleset.context.sql import CONNECTION_NAME_FORM


def access_answer(check: access.AccessCheck | None, inventory: Inventory, why: str = "") -> AccessAnswer:
    """The resolver's answer as rules see it; with no check to ask (an unknown account or project), unknown."""
    answer = access.may(check, inventory) if check else access.Answer("unknown", why_unknown=(why,))
    return _answer_plain(check, answer)


def _answer_plain(check: access.AccessCheck | None, answer: access.Answer) -> AccessAnswer:
    why = "; ".join(answer.why_unknown) or "not known"
    resource = check.resource if check else ""
    return {
        "member": check.member if check else "",
        "permission": check.permission if check else "",
        "resource": resource,
        "access": answer.access,
        "denied": Unknown(why) if answer.access == "unknown" else answer.access == "denied",
        "own_policy": _own_policy(resource, answer),
        "via": answer.via,
        "read": [_level(level) for level in answer.read],
        "unread": [_level(level) for level in answer.unread],
        "why_unknown": list(answer.why_unknown),
    }


def _own_policy(resource: str, answer: access.Answer) -> bool | Unknown:
    """Whether the resource's own policy was read: a grant is most often made there, so a rule may need it."""
    project_resource = "cloudresourcemanager.googleapis.com" in resource
    own = [
        level
        for level in answer.unread
        if level.level not in ("folder", "organization") and (level.level != "project" or project_resource)
    ]
    if own:
        return Unknown(own[0].reason or f"the {own[0].level} policy was not read")
    return True if answer.read else Unknown("; ".join(answer.why_unknown) or "no policy was read")


def _level(level: access.Level) -> PolicyLevel:
    return {"level": level.level, "name": level.name, "source": level.source, "reason": level.reason}


def secret_access(service: Service, secret_id: str, inventory: Inventory) -> AccessAnswer:
    member = access.runtime_member(service)
    check = access.secret_check(member, secret_id, service, inventory) if member else None
    return access_answer(check, inventory, "the service's runtime account or project is not known")


def sql_connect(service: Service, inventory: Inventory) -> list[SqlConnect]:
    """Each instance it attaches or names in env (a well-formed connection name), and may its account connect."""
    member = access.runtime_member(service)
    attached = set(service.cloudsql_instances)
    return [
        {
            "connection_name": name,
            "project": name.rsplit(":", 2)[0],
            "via": "attached" if name in attached else "env",
            "connect": access_answer(
                access.sql_check(member, name, inventory) if member else None,
                inventory,
                "the service's runtime account is not known",
            ),
        }
        for name in access.connection_names(service)
        if CONNECTION_NAME_FORM.fullmatch(name)
    ]


def service_agent(service: Service, inventory: Inventory) -> list[AgentGrant]:
    return [
        {
            "member": need.member,
            "role": need.role,
            "project": need.project,
            "purpose": need.purpose,
            "answer": _answer_plain(need.check, need.answer),
        }
        for need in access.agent_needs(service, inventory)
    ]
