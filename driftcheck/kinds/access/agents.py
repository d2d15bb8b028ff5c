"""The roles a service's Cloud Run service agent needs: in its own project, and in a Shared VPC host project."""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.kinds.access.checks import AccessCheck, project_resource
from driftcheck.kinds.access.policies import project_names, project_policy
from driftcheck.kinds.access.resolver import Answer, holds_role, may
from driftcheck.kinds.access.roles import CONNECTOR_USE, SUBNET_USE
from driftcheck.model import Inventory, Service, Unknown

AGENT_DOMAIN = "serverless-robot-prod.iam.gserviceaccount.com"  # the Cloud Run service agent's


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
    own = project_names(str(service.project), inventory)
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
    policy, _ = project_policy(project, inventory)
    return policy is not None and policy.complete
