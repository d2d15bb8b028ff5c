"""The service's runtime account as the evidence holds it, and the roles it holds in its project's IAM policy."""

from __future__ import annotations

from driftcheck.kinds.project_iam import PROJECT_IAM, ProjectIamPolicy
from driftcheck.kinds.service_account import SERVICE_ACCOUNT, ServiceAccount
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.ruleset.context.shapes import ProjectGrants, RuntimeAccount


def runtime_account(service: Service, inventory: Inventory) -> RuntimeAccount | Unknown | None:
    """A read that failed is unknown; an account no export names and nobody read is no evidence at all (null):
    offline evidence seldom holds one, and a report is not incomplete for lack of it."""
    email = service.service_account
    if not isinstance(email, str) or not email:
        return None
    account: ServiceAccount | None = inventory.of(SERVICE_ACCOUNT.name).get(email)
    if account is None:
        error = inventory.errors.get(f"{SERVICE_ACCOUNT.snapshot_key}:{email}")
        return Unknown(error) if error else None
    return {
        "email": account.email,
        "exists": account.exists,
        "disabled": account.disabled,
        "unique_id": account.unique_id,
        "project": account.project,
        "source": account.provenance.get("disabled" if account.exists else "exists", account.origin),
    }


def project_grants(service: Service, inventory: Inventory) -> ProjectGrants | Unknown:
    """What the service account holds in its project's policy, when the evidence holds the policy."""
    if isinstance(service.project, Unknown) or isinstance(service.service_account, Unknown):
        return Unknown("the service's project or account is not known")
    project = inventory.project_aliases.get(service.project, service.project)  # a v1 service names a number
    policy: ProjectIamPolicy | None = inventory.of(PROJECT_IAM.name).get(project)
    if policy is None:
        error = inventory.errors.get(f"{PROJECT_IAM.snapshot_key}:{project}")
        return Unknown(error or f"the IAM policy of project {project} is not in the evidence")
    member = f"serviceAccount:{service.service_account}"
    return {
        "project": policy.project,
        "roles": policy.roles_of(member),
        "conditional_roles": policy.conditional_roles_of(member),
        "complete": policy.complete,
        "source": policy.provenance.get("bindings"),
    }
