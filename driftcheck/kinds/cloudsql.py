"""Cloud SQL instances: `gcloud sql instances describe --format=json` (`"kind": "sql#instance"`) and lists of them."""

from __future__ import annotations

import re
import sys
from typing import Any

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.model import Inventory, Service, SqlInstance, Unknown

KIND = "Cloud SQL instance (gcloud sql instances describe)"
_SERVICE_AGENT = re.compile(r"^p(?P<number>\d+)-")


def matches(data: Any) -> bool:
    return isinstance(data, dict) and (
        data.get("kind") == "sql#instance" or ("databaseVersion" in data and "connectionName" in data)
    )


def load(doc: Document, inventory: Inventory) -> None:
    instance = parse_instance(doc.data, doc.label)
    inventory.of(SQL_INSTANCE.name)[instance.connection_name] = instance
    agent = _SERVICE_AGENT.match(str(doc.data.get("serviceAccountEmailAddress", "")))
    if agent and isinstance(instance.project, str):  # the Cloud SQL service agent is named after the project number
        inventory.project_aliases.setdefault(agent["number"], instance.project)


def parse_instance(data: dict[str, Any], origin: str) -> SqlInstance:
    name = data.get("name")
    if not name:
        raise InputError("a Cloud SQL instance needs a name", file=origin, where="name")
    settings = data.get("settings") or {}
    ip_config = settings.get("ipConfiguration") or {}
    project = data.get("project") or Unknown("no project field")
    region = data.get("region") or Unknown("no region field")
    connection = data.get("connectionName") or f"{project}:{region}:{name}"
    addresses = {a.get("type"): a.get("ipAddress") for a in data.get("ipAddresses") or ()}
    ipv4 = ip_config.get("ipv4Enabled")
    return SqlInstance(
        name=str(name),
        project=project,
        region=region,
        origin=origin,
        connection_name=str(connection),
        database_version=data.get("databaseVersion") or Unknown("no databaseVersion field"),
        state=data.get("state") or Unknown("no state field"),
        activation_policy=settings.get("activationPolicy") or Unknown("no settings.activationPolicy field"),
        # BoolValue: absent is not false. Fall back on the addresses the instance actually has.
        public_ip=bool(ipv4)
        if ipv4 is not None
        else ("PRIMARY" in addresses if addresses else Unknown("no ipv4Enabled or ipAddresses")),
        private_ip=addresses.get("PRIVATE"),
        private_network=ip_config.get("privateNetwork") or None,
        tier=settings.get("tier") or Unknown("no settings.tier field"),
        max_connections=_max_connections(data, origin),
        provenance={
            "database_version": f"{origin}:databaseVersion",
            "state": f"{origin}:state",
            "activation_policy": f"{origin}:settings.activationPolicy",
            "public_ip": f"{origin}:settings.ipConfiguration.ipv4Enabled",
            "private_ip": f"{origin}:ipAddresses[type=PRIVATE]",
            "private_network": f"{origin}:settings.ipConfiguration.privateNetwork",
            "tier": f"{origin}:settings.tier",
            "max_connections": f"{origin}:settings.databaseFlags[name=max_connections]",
        },
    )


def _max_connections(data: dict[str, Any], origin: str) -> int | Unknown | None:
    """The max_connections database flag. An export without databaseFlags sets no flag (gcloud and the API leave
    the empty list out); without settings at all, nothing is known."""
    settings = data.get("settings")
    if not isinstance(settings, dict):
        return Unknown("no settings field")
    flags = settings.get("databaseFlags") or []
    if not isinstance(flags, list):  # a plan's flags known only after apply
        return Unknown(f"{origin}: its database flags are not a list")
    flag = next((f for f in flags if isinstance(f, dict) and f.get("name") == "max_connections"), None)
    if flag is None:
        return None
    try:
        return int(str(flag.get("value")))
    except ValueError:  # a plan's value known only after apply, or a malformed one: not a limit to count on
        return Unknown(f"{origin}: the max_connections flag is not a whole number")


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> SqlInstance | None:
    return None if "error" in stored else parse_instance(stored, f"{origin}#sql:{key}")


def _attached(service: Service) -> tuple[str, ...]:
    return service.cloudsql_instances


SQL_INSTANCE = register(
    Kind(
        name="sql_instance",
        title="Cloud SQL instance",
        model=SqlInstance,
        readers=(sys.modules[__name__],),
        key=lambda instance: str(instance.connection_name),
        snapshot_key="sql_instances",
        from_snapshot=_from_snapshot,
        references=_attached,
        live_reads=(LiveRead("get", "cloudsql.instances.get", "roles/cloudsql.viewer"),),
        terraform_types=("google_sql_database_instance",),
    )
)
