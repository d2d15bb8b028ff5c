"""The Terraform resource types driftcheck models, each to its loader, and the one entry point that loads instances.

Every Terraform source (state, `terraform show -json` of a state or a plan, a .tf folder) turns its resources into
Instances and hands them to `load_instances`. A loader rewrites an instance into its API's JSON and reads it with
the very parser the API and gcloud forms go through, so a resource in state compares equal to the same one live.

A new Terraform type plugs in here: its loader in the module of its API, and one line in _LOADERS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from driftcheck.errors import InputError
from driftcheck.model import Inventory
from driftcheck.sources import screening, terraform_ancestry, terraform_network
from driftcheck.sources.terraform_resources import (
    cloud_run,
    cloud_sql,
    iam,
    pubsub,
    secret_manager,
    service_accounts,
    vpc_access,
)
from driftcheck.sources.terraform_resources.iam import project_grants
from driftcheck.sources.terraform_resources.instance import LIST_BLOCKS, SINGLE_BLOCKS, Instance, index_suffix
from driftcheck.sources.terraform_resources.marks import UNKNOWN_MARK, resolve_marks

__all__ = [
    "LIST_BLOCKS",
    "MODELLED",
    "NOTHING_MODELLED",
    "SINGLE_BLOCKS",
    "UNKNOWN_MARK",
    "Instance",
    "index_suffix",
    "load_instances",
    "project_grants",
    "resolve_marks",
]

NOTHING_MODELLED = "no Cloud Run, Secret Manager, Cloud SQL or VPC Access resources in this state"

_LOADERS: dict[str, Callable[[Instance, Inventory, str], None]] = {
    "google_cloud_run_v2_service": cloud_run.load_service_v2,
    "google_cloud_run_service": cloud_run.load_service_v1,
    "google_secret_manager_secret": secret_manager.load_secret,
    "google_secret_manager_secret_version": secret_manager.load_secret_version,
    **{kind: secret_manager.load_secret_iam for kind in secret_manager.IAM_FIELD},
    "google_sql_database_instance": cloud_sql.load_sql_instance,
    "google_vpc_access_connector": vpc_access.load_connector,
    **{kind: iam.load_project_iam for kind in iam.PROJECT_IAM_FIELD},
    **{kind: iam.load_run_iam for kind in iam.RUN_IAM_FIELD},
    "google_service_account": service_accounts.load_service_account,
    "google_pubsub_subscription": pubsub.load_subscription,
    **terraform_network.LOADERS,  # VPC networks, subnets, routers and NAT, firewall rules, Memorystore
    **terraform_ancestry.LOADERS,  # folder and organization IAM members, bindings and policies
}
MODELLED = frozenset(_LOADERS)


def load_instances(instances: Iterable[Instance], inventory: Inventory, label: str) -> int:
    """Load every instance driftcheck models; returns how many there were."""
    count = 0
    for instance in instances:
        loader = _LOADERS.get(instance.type)
        if loader is not None:
            _refuse_template(instance, label)
            loader(instance, inventory, label)
            count += 1
    return count


def _refuse_template(instance: Instance, label: str) -> None:
    """Only modelled resources are screened for placeholders: the rest of a state is none of driftcheck's business.
    One C-speed search over the serialized attributes spares the field-by-field walk when there is nothing."""
    if not screening.PLACEHOLDER.search(json.dumps(instance.attributes, default=str)):
        return
    found = screening.placeholder_in(instance.attributes)
    if found:
        field, placeholder = found
        raise InputError(screening.template_message(placeholder), file=label, where=f"{instance.address}.{field}")
