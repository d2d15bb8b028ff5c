"""Service accounts in Terraform (`google_service_account`) into the service account kind."""

from __future__ import annotations

import dataclasses
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds import service_account
from driftcheck.model import Inventory, Unknown
from driftcheck.sources.terraform_resources.instance import Instance
from driftcheck.sources.terraform_resources.marks import AFTER_APPLY, UNKNOWN_MARK, resolve_marks


def load_service_account(instance: Instance, inventory: Inventory, label: str) -> None:
    """The email is computed (unknown in a plan that creates the account), but always ACCOUNT_ID@PROJECT.iam...;
    `disabled` defaults to false."""
    attrs = instance.attributes
    account_id, project = str(attrs.get("account_id") or ""), str(attrs.get("project") or "")
    email = str(attrs.get("email") or "")
    if not email or UNKNOWN_MARK in email:
        if not account_id or not project or UNKNOWN_MARK in account_id + project:
            raise InputError("no email, nor account_id and project", file=label, where=f"{instance.address}.email")
        email = f"{account_id}@{project}.iam.gserviceaccount.com"
    disabled = attrs.get("disabled")
    data: dict[str, Any] = {"name": f"projects/{project or '-'}/serviceAccounts/{email}", "email": email}
    data |= {"projectId": project}
    data |= {"uniqueId": attrs.get("unique_id"), "displayName": attrs.get("display_name")}
    parsed: service_account.ServiceAccount = resolve_marks(service_account.parse_account(data, label))
    at = f"{label}:{instance.address}"
    inventory.of(service_account.SERVICE_ACCOUNT.name)[email] = dataclasses.replace(
        parsed,
        disabled=Unknown(AFTER_APPLY) if isinstance(disabled, str) and UNKNOWN_MARK in disabled else disabled is True,
        provenance={"disabled": f"{at}.disabled", "exists": at},
    )
