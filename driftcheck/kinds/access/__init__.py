"""May this member do this on that resource? One answer, from the IAM policies the evidence holds.

Rules used to each check role lists against one policy; here every such question is one `AccessCheck`
(member, permission, full resource name) and one `Answer`: granted, denied or unknown, with the grant that decides
it (`via`), the policy levels read (each with its file) and those not read. Pure functions over the Inventory.

A Policy Troubleshooter answer for exactly the check (kind "iam_troubleshooter", keyed
"MEMBER PERMISSION RESOURCE") wins: it evaluated every level, folders, groups and conditions included. Otherwise
the policies in the evidence are read, the resource's own first, then its project's:
- a role grants the permission only when `GRANTING` (roles.py) lists it; a basic or service agent role not listed, a
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

One job per module: `roles` is the role table (GRANTING, MAYBE), `checks` the checks a service depends on
(`checks_for`), `policies` the policy of each level a check reads, `resolver` the answer (`may`, `holds_role`), and
`agents` the roles the Cloud Run service agent needs (`agent_needs`).
"""

from __future__ import annotations

from driftcheck.kinds.access.agents import RUN_AGENT_ROLE, agent_needs, project_number, service_agent
from driftcheck.kinds.access.checks import (
    AccessCheck,
    checks_for,
    connection_names,
    invoke_check,
    project_resource,
    push_member,
    runtime_member,
    secret_check,
    sql_check,
)
from driftcheck.kinds.access.policies import Level
from driftcheck.kinds.access.resolver import TROUBLESHOOTER, Answer, holds_role, may
from driftcheck.kinds.access.roles import RUN_INVOKE, SECRET_ACCESS, SQL_CONNECT

__all__ = [
    "RUN_AGENT_ROLE",
    "RUN_INVOKE",
    "SECRET_ACCESS",
    "SQL_CONNECT",
    "TROUBLESHOOTER",
    "AccessCheck",
    "Answer",
    "Level",
    "agent_needs",
    "checks_for",
    "connection_names",
    "holds_role",
    "invoke_check",
    "may",
    "project_number",
    "project_resource",
    "push_member",
    "runtime_member",
    "secret_check",
    "service_agent",
    "sql_check",
]
