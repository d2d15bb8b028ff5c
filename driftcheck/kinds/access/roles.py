"""The role table: which predefined roles grant each permission the resolver checks (GRANTING), which may (MAYBE)."""

from __future__ import annotations

import re

SECRET_ACCESS = "secretmanager.versions.access"
SQL_CONNECT = "cloudsql.instances.connect"
RUN_INVOKE = "run.routes.invoke"
ACT_AS = "iam.serviceAccounts.actAs"
CONNECTOR_USE = "vpcaccess.connectors.use"
SUBNET_USE = "compute.subnetworks.use"

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


def role_grants(role: str, permission: str) -> tuple[bool, str | None]:
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
