"""A service account: `gcloud iam service-accounts describe EMAIL --format=json > EMAIL.json`.

A service runs as one (its runtime service account); a deleted or disabled one stops its revisions deploying or
starting. An API read that answers NOT_FOUND says the account does not exist: a fact (`exists=False`), unlike a
denied read, which leaves it unknown. The API omits `disabled` for an enabled account.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Inventory, Service, Unknown

KIND = "service account (gcloud iam service-accounts describe EMAIL --format=json)"
NOT_FOUND = "NOT_FOUND"  # the code of a read that found no account: what the snapshot stores, read back as absent
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/]+@[^/]+)$")


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    email: str
    project: str | Unknown
    origin: str
    unique_id: str | Unknown = field(default_factory=lambda: Unknown("no uniqueId field"))
    disabled: bool | Unknown = False
    display_name: str | None = None
    exists: bool = True  # False: the API answered NOT_FOUND (deleted, or never created)
    provenance: dict[str, str] = field(default_factory=dict)


def matches(data: Any) -> bool:
    """What only `service-accounts describe` writes: a `projects/P/serviceAccounts/EMAIL` name and its email."""
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return False
    return bool(_NAME.match(str(data.get("name", ""))))


def load(doc: Document, inventory: Inventory) -> None:
    account = parse_account(doc.data, doc.label)
    inventory.of(SERVICE_ACCOUNT.name)[account.email] = account


def parse_account(data: dict[str, Any], origin: str) -> ServiceAccount:
    """The API's (and gcloud's) JSON; `disabled` absent means enabled, as the API omits a false one."""
    match = _NAME.match(str(data.get("name", "")))
    project = data.get("projectId") or (match["project"] if match and match["project"] != "-" else None)
    return ServiceAccount(
        email=str(data["email"]),
        project=str(project) if project else Unknown("no projectId field"),
        origin=origin,
        unique_id=str(data["uniqueId"]) if data.get("uniqueId") else Unknown("no uniqueId field"),
        disabled=bool(data.get("disabled", False)),
        display_name=str(data["displayName"]) if data.get("displayName") else None,
        provenance={"disabled": f"{origin}:disabled", "exists": f"{origin}:name"},
    )


def absent(email: str, origin: str, reason: str) -> ServiceAccount:
    """An account the API says does not exist (NOT_FOUND): nothing else is known of it."""
    project = email.split("@", 1)[1].split(".", 1)[0] if email.endswith(".iam.gserviceaccount.com") else None
    return ServiceAccount(
        email=email,
        project=project or Unknown("a deleted account names no project"),
        origin=origin,
        unique_id=Unknown(reason),
        disabled=Unknown(reason),
        exists=False,
        provenance={"exists": f"{origin}:error"},
    )


def _from_snapshot(key: str, stored: Any, origin: str, scope: str | Unknown) -> ServiceAccount | None:
    """A stored NOT_FOUND is an absent account; any other stored error leaves it unknown (None)."""
    at = f"{origin}#service_account:{key}"
    if "error" not in stored:
        return parse_account(stored, at)
    return absent(key, at, str(stored["error"])) if str(stored["error"]).startswith(NOT_FOUND) else None


def _runs_as(service: Service) -> tuple[str, ...]:
    account = service.service_account
    return (account,) if isinstance(account, str) and "@" in account else ()


SERVICE_ACCOUNT = register(
    Kind(
        name="service_account",
        title="service account",
        model=ServiceAccount,
        readers=(sys.modules[__name__],),
        key=lambda account: str(account.email),
        snapshot_key="service_accounts",
        from_snapshot=_from_snapshot,
        references=_runs_as,
        # roles/iam.serviceAccountViewer: Google's least-privileged role with iam.serviceAccounts.get (the accounts
        # and their metadata, no keys' secrets, no way to act as them)
        live_reads=(LiveRead("get", "iam.serviceAccounts.get", "roles/iam.serviceAccountViewer"),),
        terraform_types=("google_service_account",),
        absent_on=(NOT_FOUND,),
    )
)
