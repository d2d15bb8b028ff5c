"""What a rule sees: a service in canonical form, joined with the resources it references.

The joins live here so rules stay judgments: `refs.secrets[].resource` is the secret's metadata, or an
unknown marker when the evidence does not hold it (never "missing").

`refs`: `secrets[]` (each reference with `version_state`, `resolved_version`, `enabled_versions`),
`sql_attached[]` (the instances the service attaches, known or not, as `{connection_name, project, environment,
resource}`), `sql_known_in_use[]` (the instances in the evidence that it attaches or reaches by a private IP in its
env, as their metadata), `sql_in_use[]` (every instance it uses: the attached ones, plus those its env reaches by IP,
as `sql_attached[]` entries), `sql_in_evidence` (the connection name of every instance the evidence holds, what
a malformed name can be matched against), `connector` (with `network_source`; the network of one created on a
subnet is its subnet's, when the evidence holds that subnet), `env[]` (`{container, name, value}`), `env_values`,
`cloudsql_mentioned` (connection names in env), `project_grants` (the roles its account holds in its project's IAM
policy, unknown without that policy), `runtime_account` (its service account as read: whether it exists and is
disabled; unknown when a read of it failed, null when the evidence holds no word of it), `pushed_by` (the Pub/Sub
push subscriptions in the evidence whose endpoint is one of its own hosts, `{name, identity, source, invoke}`),
`sql_connect[]` (each instance it attaches or names in env, with `connect`), `invokers[]` (each member any service's
IAM policy in the evidence grants roles/run.invoker, with `invoke` on this one), `service_agent[]` (the roles its Cloud
Run service agent needs where the evidence holds the policy). `secrets[].access`, `pushed_by[].invoke`,
`sql_connect[].connect`, `invokers[].invoke` and `service_agent[].answer` are the permission resolver's answers
(kinds/access/): `access` granted/denied/unknown, `denied` (unknown with why, for `needs`), `via`, `read[]` and
`unread[]` levels.
`member` is the service account as an IAM member. `sql_budget[]`: per known instance it uses, the connections
every service of the evidence that uses it may open at peak, against the instance's limit (ruleset/sqlbudget.py).
`paths[]`: how it reaches each dependency over the network, hop by hop (`hops[]`, each `verified`, `broken` with
the fields read, or `unknown` with the export that would decide it), and `subnet_use[]`: its Direct VPC subnets'
size against the addresses their services may take (driftcheck/paths/).
`secrets[].via` is `env` (a secretKeyRef), `env-value` (a value the app resolves itself: `sm://S`,
`projects/P/secrets/S/versions/V`) or `volume`; env ones name their `container`. Traits (ruleset/traits.py), so a
rule can tell an ordinary difference between applications or environments from a cause: `images` (container ->
`{repository, name}`), `app_keys`, `service_stem`, `environment` (`{stage, tier, source}`), `identity` (`{default,
name, own_project}`); and `cloudsql_socket` (an env value names /cloudsql), `private_addresses` (RFC 1918
addresses in env values).

For sentences (ruleset/naming.py): `label` names the service, each container's `display` names the container.

The TypedDicts of shapes.py declare each entry as the modules of this package build it; ruleset/vocabulary.py
publishes them (with the model's dataclasses) as the JSON Schema rules are checked against, so what is built and what
is described cannot part.
"""

from __future__ import annotations

from typing import Any

from driftcheck.kinds.registry import with_snapshot
from driftcheck.kinds.service.common import own_hosts
from driftcheck.model import Connector, Container, Inventory, Secret, Service, SqlInstance, Unknown, to_plain
from driftcheck.paths import paths_of, subnet_uses
from driftcheck.ruleset import sqlbudget, traits
from driftcheck.ruleset.context.access import service_agent, sql_connect
from driftcheck.ruleset.context.account import project_grants, runtime_account
from driftcheck.ruleset.context.callers import invokers, pushed_by
from driftcheck.ruleset.context.env import cloudsql_mentioned, env_refs, private_addresses
from driftcheck.ruleset.context.network import service_connector
from driftcheck.ruleset.context.resources import resource_uses
from driftcheck.ruleset.context.secrets import secret_refs
from driftcheck.ruleset.context.shapes import (
    ConnectorAdded,
    ContainerAdded,
    Refs,
    SecretAdded,
    ServiceAdded,
    SqlAdded,
)
from driftcheck.ruleset.context.sql import instances_used, sql_attached, sql_in_use, sql_known_in_use
from driftcheck.ruleset.logs import logs_seen
from driftcheck.ruleset.naming import container_display

__all__ = ["ADDED", "Refs", "service_context"]

# What this package adds to each model class's to_plain fields, wherever a rule sees one.
ADDED: dict[type, Any] = {
    Service: ServiceAdded,
    Container: ContainerAdded,
    Secret: SecretAdded,
    SqlInstance: SqlAdded,
    Connector: ConnectorAdded,
}


def service_context(service: Service, inventory: Inventory, plain: dict[str, Any] | None = None) -> dict[str, Any]:
    """`plain`: to_plain(service), when the caller has it already (it is not changed)."""
    plain = dict(plain if plain is not None else to_plain(service))
    plain["containers"] = {  # copies: the caller's tree is compared as it is
        key: {**tree, **_container_added(key, service)} for key, tree in plain["containers"].items()
    }
    env_values = [
        str(var.value)
        for container in service.containers.values()
        for var in container.env.values()
        if isinstance(var.value, str) and var.value
    ]
    added: ServiceAdded = {
        "label": service.name,  # with_labels qualifies a shared name
        "origin": service.origin,
        "refs": _refs(service, inventory, env_values),
        "member": (
            f"serviceAccount:{service.service_account}"
            if isinstance(service.service_account, str)
            else Unknown(service.service_account.reason)
        ),
    }
    plain.update(added)
    return plain


def _container_added(key: str, service: Service) -> ContainerAdded:
    return {"display": container_display(key, service.containers[key], len(service.containers))}


def _refs(service: Service, inventory: Inventory, env_values: list[str]) -> Refs:
    attached = sql_attached(service, inventory)
    known_in_use = sql_known_in_use(service, inventory, env_values)
    return {
        "secrets": secret_refs(service, inventory),
        "sql_attached": attached,
        "env": env_refs(service),
        "connector": service_connector(service, inventory),
        "env_values": env_values,
        "cloudsql_mentioned": cloudsql_mentioned(env_values),
        "cloudsql_socket": any("/cloudsql" in v for v in env_values),
        "private_addresses": private_addresses(env_values),
        "images": traits.images(service),
        "app_keys": traits.app_keys(service),
        "service_stem": traits.service_stem(service),
        "environment": traits.environment(service, inventory.project_aliases),
        "identity": traits.identity(service, inventory.project_aliases),
        "sql_known_in_use": known_in_use,
        "sql_in_use": sql_in_use(attached, known_in_use),
        "sql_in_evidence": sorted(inventory.sql_instances),
        "sql_budget": sqlbudget.budgets(service, inventory, instances_used),
        "resources": {kind.name: resource_uses(kind, service, inventory) for kind in with_snapshot()},
        "own_hosts": own_hosts(service),
        "project_grants": project_grants(service, inventory),
        "runtime_account": runtime_account(service, inventory),
        "pushed_by": pushed_by(service, inventory),
        "sql_connect": sql_connect(service, inventory),
        "invokers": invokers(service, inventory),
        "service_agent": service_agent(service, inventory),
        "paths": [to_plain(path) for path in paths_of(service, inventory)],
        "subnet_use": [to_plain(use) for use in subnet_uses(service, inventory)],
        "logs": logs_seen(service, inventory),
    }
