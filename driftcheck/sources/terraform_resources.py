"""Terraform resource instances (state, `terraform show -json`, plans) into the canonical model.

The provider's Cloud Run flatteners pass API values through snake_cased, with every nested block a list. So an
instance is rewritten into the API's own JSON shape (v2 Service JSON, or a Knative v1 Service for
`google_cloud_run_service`) and read by the very parsers the API and gcloud forms go through: one normalization
for every source, and a service in state compares equal to the same service live.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from driftcheck.errors import InputError
from driftcheck.kinds import cloudsql, project_iam, run_iam, service_account, shape, subscription
from driftcheck.kinds import connector as connector_kind
from driftcheck.kinds import secret as secret_kind
from driftcheck.kinds.service import cloudrun_v2, common, knative
from driftcheck.kinds.units import last_segment
from driftcheck.model import Connector, Inventory, Redacted, SecretVersion, Service, SqlInstance, Unknown
from driftcheck.sources import screening, terraform_ancestry, terraform_network

# A string value known only after apply travels through the parsers as this mark and becomes Unknown after.
UNKNOWN_MARK = shape.UNKNOWN_MARK
AFTER_APPLY = "known after apply"
NOTHING_MODELLED = "no Cloud Run, Secret Manager, Cloud SQL or VPC Access resources in this state"
# MaxItems-1 blocks: a one-element list in Terraform, an object in the API.
SINGLE_BLOCKS = frozenset(
    {
        "template", "metadata", "spec", "status", "vpc_access", "scaling", "resources", "startup_probe",
        "liveness_probe", "http_get", "tcp_socket", "grpc", "value_source", "value_from", "secret_key_ref",
        "cloud_sql_instance", "secret", "gcs", "nfs", "empty_dir", "csi", "node_selector", "terminal_condition",
        "binary_authorization", "settings", "ip_configuration", "subnet",
    }
)  # fmt: skip
LIST_BLOCKS = frozenset(
    {
        "containers", "env", "ports", "volumes", "volume_mounts", "items", "traffic", "conditions",
        "network_interfaces", "ip_address",
    }
)  # fmt: skip
# Maps whose keys are data (annotation names, resource names), never attribute names to rename.
_MAPS = frozenset(
    {"annotations", "labels", "limits", "requests", "effective_annotations", "effective_labels", "volume_attributes"}
)
_SEGMENT = re.compile(r"[^.\[]+(?:\[[^\]]*\])*|\[[^\]]*\]")
LOCATION_LABEL = "cloud.googleapis.com/location"


@dataclass(frozen=True)
class Instance:
    """One resource instance: its address, type and attribute values (tfstate `attributes`, or plan `values`)."""

    address: str
    type: str
    attributes: dict[str, Any]
    unknown: frozenset[str] = frozenset()  # attribute paths of non-string values known only after apply
    marked: bool = False  # whether any string carries UNKNOWN_MARK (plans only: state is all known)


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


def index_suffix(key: Any) -> str:
    """`[0]` for count, `["blue"]` for for_each: the spelling Terraform addresses use."""
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


# --- attribute shapes -------------------------------------------------------------------------------------------


def api_shape(value: Any, key: str = "") -> Any:
    """snake_case blocks-as-lists to camelCase API JSON; Terraform's unset values ("", [], null) dropped."""
    if isinstance(value, dict):
        if key in _MAPS:
            return {str(k): v for k, v in value.items() if v is not None}
        return {
            _camel(k): api_shape(v, k) for k, v in value.items() if v is not None and v != "" and v != [] and v != {}
        }
    if isinstance(value, list):
        items = [api_shape(v, key) for v in value]
        return (items[0] if items else None) if key in SINGLE_BLOCKS else items
    return value


@lru_cache(maxsize=4096)
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@lru_cache(maxsize=4096)  # the same few hundred fields recur in every service of a large state
def tf_field(api_field: str) -> str:
    """`template.vpcAccess.connector` -> `template[0].vpc_access[0].connector`: provenance in Terraform's terms."""
    parts = []
    for segment in _SEGMENT.findall(api_field):
        name, bracket, rest = segment.partition("[")
        snake = _snake(name)
        parts.append(f"{snake}[0]" if snake in SINGLE_BLOCKS and not bracket else f"{snake}{bracket}{rest}")
    return ".".join(parts)


def first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


# --- Cloud Run ----------------------------------------------------------------------------------------------------


def _service_v2(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    data = api_shape(attrs)
    data["name"] = f"projects/{attrs.get('project')}/locations/{attrs.get('location')}/services/{attrs.get('name')}"
    data.setdefault("template", {})
    # Terraform keeps only the configured keys in labels/annotations; effective_* holds what the API has.
    for key in ("annotations", "labels"):
        data[key] = attrs.get(f"effective_{key}") or attrs.get(key) or {}
    service = cloudrun_v2.parse_service(data, label)
    _add_service(instance, service, inventory, [str(u) for u in attrs.get("urls") or ()], spec_prefix=False)


def _service_v1(instance: Instance, inventory: Inventory, label: str) -> None:
    """`google_cloud_run_service`: the Knative v1 shape, annotations under metadata[0] and template[0].metadata[0]."""
    attrs = instance.attributes
    data = api_shape(attrs)
    meta = first(attrs.get("metadata"))
    template = data.get("template") or {}
    t_meta = first(first(attrs.get("template")).get("metadata"))
    template["metadata"] = {**(template.get("metadata") or {}), "annotations": _annotations(t_meta)}
    template.setdefault("spec", {})
    labels = meta.get("effective_labels") or meta.get("labels") or {}
    knative_data = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": attrs.get("name"),
            "namespace": attrs.get("project") or meta.get("namespace"),
            "labels": {**labels, LOCATION_LABEL: attrs.get("location")},
            "annotations": _annotations(meta),
            "uid": meta.get("uid") or None,
            "generation": meta.get("generation") or None,
        },
        "spec": {"template": template},
    }
    if data.get("status"):
        knative_data["status"] = data["status"]
    service = knative.parse_service(knative_data, label)
    namespace = str(meta.get("namespace") or "")
    if namespace.isdigit() and attrs.get("project"):  # the v1 namespace may be the project number
        inventory.project_aliases.setdefault(namespace, str(attrs["project"]))
    _add_service(instance, service, inventory, [], spec_prefix=True)


def _annotations(meta: dict[str, Any]) -> dict[str, Any]:
    return dict(meta.get("effective_annotations") or meta.get("annotations") or {})


def _add_service(
    instance: Instance, service: Service, inventory: Inventory, urls: list[str], *, spec_prefix: bool
) -> None:
    provenance = {
        path: f"{instance.address}.{tf_field(field.removeprefix('spec.') if spec_prefix else field)}"
        for path, field in service.provenance.items()
    }
    service = dataclasses.replace(
        service,
        metadata=dataclasses.replace(service.metadata, address=instance.address),
        provenance=provenance,
    )
    if instance.marked:
        service = resolve_marks(service)
    if instance.unknown:
        service = _unknown_fields(service, instance.unknown, provenance)
    common.add_service(inventory, service)
    for number, project_id in common.aliases_from_urls(service, urls).items():
        inventory.project_aliases.setdefault(number, project_id)


def _unknown_fields(service: Service, unknown: frozenset[str], provenance: dict[str, str]) -> Service:
    """Non-string values known after apply were left out before parsing; mark the fields they feed as unknown."""
    prefix = service.metadata.address or ""
    for path, field in provenance.items():
        relative = field.removeprefix(f"{prefix}.")
        if any(relative == u or relative.startswith((f"{u}.", f"{u}[")) for u in unknown):
            service = with_unknown(service, path.split("."))
    return service


def with_unknown(value: Any, keys: list[str]) -> Any:
    if not keys:
        return Unknown(AFTER_APPLY)
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: with_unknown(value[head], rest)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and head in _field_names(value):
        return dataclasses.replace(value, **{head: with_unknown(getattr(value, head), rest)})
    return value


def _field_names(value: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(value)}


def resolve_marks(value: Any) -> Any:
    """Every value that carries the after-apply mark becomes Unknown; a list with one unknown item is unknown."""
    if isinstance(value, str):
        return Unknown(AFTER_APPLY) if UNKNOWN_MARK in value else value
    if isinstance(value, Unknown | Redacted):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: resolve_marks(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {k: resolve_marks(v) for k, v in value.items()}
    if isinstance(value, tuple):
        items = tuple(resolve_marks(v) for v in value)
        return Unknown(AFTER_APPLY) if any(isinstance(i, Unknown) for i in items) else items
    return value


# --- Secret Manager ---------------------------------------------------------------------------------------------


def _secret_id(raw: Any) -> str:
    return last_segment(str(raw or ""))


def _secret(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    secret_id = str(attrs.get("secret_id") or _secret_id(attrs.get("name")))
    project = attrs.get("project") or Unknown("no project attribute in state")
    secret_kind.merge(inventory, secret_id, project, label, {"secret": f"{instance.address}.secret_id"})


def _secret_version(instance: Instance, inventory: Inventory, label: str) -> None:
    """Only metadata: `secret_data` (the payload, in plain text in state) is never read."""
    attrs = instance.attributes
    secret_id = _secret_id(attrs.get("secret"))
    number = str(attrs.get("version") or _secret_id(attrs.get("name")) or "unknown")
    state = "DESTROYED" if attrs.get("destroy_time") else ("DISABLED" if attrs.get("enabled") is False else "ENABLED")
    existing = inventory.secrets.get(secret_id)
    versions = dict(existing.versions) if existing and isinstance(existing.versions, dict) else {}
    versions[number] = SecretVersion(number, state, attrs.get("create_time") or None)
    project = Unknown("no project in a secret version's state")
    provenance = {"versions": f"{instance.address}.enabled"}
    secret_kind.merge(inventory, secret_id, project, label, provenance, versions=versions)


def _secret_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """_member adds one member, _binding one role's members, _policy (policy_data, a JSON string) every binding. A
    grant under a `condition` block (or a policy_data binding with a condition) is kept apart, as a project's is."""
    attrs = instance.attributes
    secret_id = _secret_id(attrs.get("secret_id"))
    existing = inventory.secrets.get(secret_id)
    bindings = dict(existing.bindings) if existing and isinstance(existing.bindings, dict) else {}
    conditional = dict(existing.conditional) if existing and isinstance(existing.bindings, dict) else {}
    plain, conditioned = _project_grants(instance, label)
    project = Unknown("no project in an IAM resource's state")
    provenance = {"bindings": f"{instance.address}.{_IAM_FIELD[instance.type]}"}
    secret_kind.merge(
        inventory,
        secret_id,
        project,
        label,
        provenance,
        bindings=project_iam.with_grants(bindings, plain),
        conditional=project_iam.with_grants(conditional, conditioned),
    )


_IAM_FIELD = {
    "google_secret_manager_secret_iam_member": "member",
    "google_secret_manager_secret_iam_binding": "members",
    "google_secret_manager_secret_iam_policy": "policy_data",
}


def _granted(instance: Instance, label: str) -> list[tuple[str, list[str]]]:
    attrs = instance.attributes
    if instance.type.endswith("_member"):
        return [(str(attrs.get("role")), [str(attrs.get("member"))])]
    if instance.type.endswith("_binding"):
        return [(str(attrs.get("role")), [str(m) for m in attrs.get("members") or ()])]
    policy = _policy_data(instance, label)
    return [(str(b.get("role")), [str(m) for m in b.get("members") or ()]) for b in policy.get("bindings") or ()]


def _policy_data(instance: Instance, label: str) -> dict[str, Any]:
    try:
        policy = json.loads(instance.attributes.get("policy_data") or "{}")
    except json.JSONDecodeError:
        raise InputError("policy_data is not JSON", file=label, where=f"{instance.address}.policy_data") from None
    if not isinstance(policy, dict):
        raise InputError("policy_data is not a JSON object", file=label, where=f"{instance.address}.policy_data")
    return policy


# --- Project IAM ------------------------------------------------------------------------------------------------


def _project_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """_member and _binding add to what is known of the project's policy (the rest of it is not in state); _policy
    is the whole of it. A grant under a `condition` block is kept apart: it holds only when its condition does."""
    attrs = instance.attributes
    project = str(attrs.get("project") or "")
    if not project:
        raise InputError("no project attribute", file=label, where=f"{instance.address}.project")
    policies = inventory.of(project_iam.PROJECT_IAM.name)
    existing = policies.get(project) or project_iam.ProjectIamPolicy(project, label, complete=False)
    policies[project] = _with_grants(existing, instance, label, _PROJECT_IAM_FIELD[instance.type])


_Policy = TypeVar("_Policy", "project_iam.ProjectIamPolicy", "run_iam.RunServiceIamPolicy")


def _with_grants(existing: _Policy, instance: Instance, label: str, field: str) -> _Policy:
    """The policy with one IAM resource's grants added: _member and _binding add to what is known of it (the rest
    is not in state), _policy is the whole of it."""
    plain, conditional = _project_grants(instance, label)
    return dataclasses.replace(
        existing,
        bindings=project_iam.with_grants(existing.bindings, plain),
        conditional=project_iam.with_grants(existing.conditional, conditional),
        complete=existing.complete or instance.type.endswith("_iam_policy"),
        provenance={**existing.provenance, "bindings": f"{label}:{instance.address}.{field}"},
    )


Granted = list[tuple[str, list[str]]]


def _project_grants(instance: Instance, label: str) -> tuple[Granted, Granted]:
    """(plain grants, conditional grants) of one project, Cloud Run service or secret IAM resource."""
    if instance.type.endswith("_iam_policy"):
        policy = project_iam.parse_policy(instance.address, _policy_data(instance, label), label)
        return list(map(_listed, policy.bindings.items())), list(map(_listed, policy.conditional.items()))
    grants = _granted(instance, label)
    return ([], grants) if first(instance.attributes.get("condition")) else (grants, [])


def _listed(grant: tuple[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    return grant[0], list(grant[1])


_PROJECT_IAM_FIELD = {
    "google_project_iam_member": "member",
    "google_project_iam_binding": "members",
    "google_project_iam_policy": "policy_data",
}


# --- Cloud Run service IAM ------------------------------------------------------------------------------------


def _run_iam(instance: Instance, inventory: Inventory, label: str) -> None:
    """Who may invoke a service, v2 (`name`) or v1 (`service`), either as a short name or a full path: as the
    project's policy, _member and _binding add to what is known, _policy is the whole of it."""
    attrs = instance.attributes
    service = str(attrs.get("name") or attrs.get("service") or "").rstrip("/").rsplit("/", 1)[-1]
    if not service:
        raise InputError("no service name", file=label, where=f"{instance.address}.name")
    policies = inventory.of(run_iam.RUN_IAM.name)
    existing = policies.get(service) or run_iam.RunServiceIamPolicy(service, label, complete=False)
    policies[service] = _with_grants(existing, instance, label, _RUN_IAM_FIELD[instance.type])


_RUN_IAM_FIELD = {
    f"google_cloud_run{version}_service_iam_{part}": field
    for version in ("_v2", "")
    for part, field in (("member", "member"), ("binding", "members"), ("policy", "policy_data"))
}


# --- Cloud SQL, VPC Access --------------------------------------------------------------------------------------


def _sql_instance(instance: Instance, inventory: Inventory, label: str) -> None:
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


def _connector(instance: Instance, inventory: Inventory, label: str) -> None:
    attrs = instance.attributes
    full = str(attrs.get("id") or "")
    if not connector_kind.matches({"name": full}):
        full = f"projects/{attrs.get('project')}/locations/{attrs.get('region')}/connectors/{attrs.get('name')}"
    subnet = first(attrs.get("subnet"))  # a subnet { name, project_id } block: the API's subnet {name, projectId}
    data: dict[str, Any] = {"name": full, "network": attrs.get("network") or None, "state": attrs.get("state") or None}
    data["subnet"] = {"name": subnet.get("name"), "projectId": subnet.get("project_id")} if subnet else None
    parsed: Connector = resolve_marks(connector_kind.parse_connector(data, label))
    at = f"{label}:{instance.address}"
    provenance = {"state": f"{at}.state", "network": f"{at}.network", "region": f"{at}.region"}
    provenance["subnet"] = f"{at}.subnet"
    inventory.connectors[parsed.name] = dataclasses.replace(parsed, provenance=provenance)


# --- Service accounts ---------------------------------------------------------------------------------------------


def _service_account(instance: Instance, inventory: Inventory, label: str) -> None:
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


def _subscription(instance: Instance, inventory: Inventory, label: str) -> None:
    """`name` is the short id (or the full name), `project` the rest of it; `push_config` and its `oidc_token`
    are one-element lists, rewritten to the API's pushConfig."""
    attrs = instance.attributes
    name, project = str(attrs.get("name") or ""), str(attrs.get("project") or "")
    if not name.startswith("projects/"):
        if not name or not project:
            raise InputError("no name and project", file=label, where=f"{instance.address}.name")
        name = f"projects/{project}/subscriptions/{name}"
    push = first(attrs.get("push_config"))
    oidc = first(push.get("oidc_token"))
    data: dict[str, Any] = {"name": name, "topic": attrs.get("topic")}
    data["pushConfig"] = {"pushEndpoint": push.get("push_endpoint")}
    data["pushConfig"]["oidcToken"] = {"serviceAccountEmail": oidc.get("service_account_email")}
    parsed: subscription.PubsubSubscription = resolve_marks(subscription.parse_subscription(data, label))
    at = f"{label}:{instance.address}"
    marked = UNKNOWN_MARK in str(push.get("push_endpoint") or "")
    inventory.of(subscription.SUBSCRIPTION.name)[parsed.name] = dataclasses.replace(
        parsed,
        push_endpoint=Unknown(AFTER_APPLY) if marked else parsed.push_endpoint,
        provenance={
            "push_endpoint": f"{at}.push_config[0].push_endpoint",
            "push_identity": f"{at}.push_config[0].oidc_token[0].service_account_email",
        },
    )


_LOADERS: dict[str, Callable[[Instance, Inventory, str], None]] = {
    "google_cloud_run_v2_service": _service_v2,
    "google_cloud_run_service": _service_v1,
    "google_secret_manager_secret": _secret,
    "google_secret_manager_secret_version": _secret_version,
    **{kind: _secret_iam for kind in _IAM_FIELD},
    "google_sql_database_instance": _sql_instance,
    "google_vpc_access_connector": _connector,
    **{kind: _project_iam for kind in _PROJECT_IAM_FIELD},
    **{kind: _run_iam for kind in _RUN_IAM_FIELD},
    "google_service_account": _service_account,
    "google_pubsub_subscription": _subscription,
    **terraform_network.LOADERS,  # VPC networks, subnets, routers and NAT, firewall rules, Memorystore
    **terraform_ancestry.LOADERS,  # folder and organization IAM members, bindings and policies
}
MODELLED = frozenset(_LOADERS)
