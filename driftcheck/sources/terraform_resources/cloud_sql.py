"""Cloud SQL instances in Terraform (`google_sql_database_instance`) into the canonical model."""

from __future__ import annotations

import dataclasses

from driftcheck.kinds import cloudsql
from driftcheck.model import Inventory, SqlInstance, Unknown
from driftcheck.sources.terraform_resources.instance import Instance, first
from driftcheck.sources.terraform_resources.marks import AFTER_APPLY, UNKNOWN_MARK, resolve_marks


def load_sql_instance(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    settings = first(attrs.get("settings"))
    ip_config = first(settings.get("ip_configuration"))
    data = {
        "name": attrs.get("name"),
        "project": attrs.get("project") or None,
        "region": attrs.get("region") or None,
        "connectionName": attrs.get("connection_name") or None,
        "databaseVersion": attrs.get("database_version") or None,
        "settings": {
            "activationPolicy": settings.get("activation_policy") or None,
            "tier": settings.get("tier") or None,
            "databaseFlags": settings.get("database_flags") or None,  # a plan's may be known only after apply
            "ipConfiguration": {
                "ipv4Enabled": ip_config.get("ipv4_enabled"),
                "privateNetwork": ip_config.get("private_network") or None,
            },
        },
        "ipAddresses": [
            {"type": a.get("type"), "ipAddress": a.get("ip_address")}
            for a in attrs.get("ip_address") or ()
            if isinstance(a, dict)
        ],
    }
    parsed: SqlInstance = resolve_marks(cloudsql.parse_instance(data, label))
    # The inventory is keyed by connection name, which a plan may not know yet: key it by a readable stand-in.
    connection = cloudsql.parse_instance(data, label).connection_name.replace(UNKNOWN_MARK, f"({AFTER_APPLY})")
    at = f"{label}:{instance.address}"
    parsed = dataclasses.replace(
        parsed,
        connection_name=connection,
        state=Unknown("Terraform state does not record the instance state; export it with gcloud"),
        provenance={
            "database_version": f"{at}.database_version",
            "activation_policy": f"{at}.settings[0].activation_policy",
            "public_ip": f"{at}.settings[0].ip_configuration[0].ipv4_enabled",
            "private_ip": f"{at}.private_ip_address",
            "private_network": f"{at}.settings[0].ip_configuration[0].private_network",
            "tier": f"{at}.settings[0].tier",
            "max_connections": f"{at}.settings[0].database_flags[name=max_connections]",
        },
    )
    inventory.sql_instances[parsed.connection_name] = parsed
