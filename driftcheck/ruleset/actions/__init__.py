"""The fix actions a rule may name, by name: the one place a new action plugs in, its arguments, what it renders.

An action turns its evaluated arguments into `Parts`: flags for its service's one `gcloud run services update`,
settings for its service's one Terraform resource, or commands and snippets of its own (a grant on a secret).
ruleset/fixes.py merges the parts of many actions. An action whose argument is missing or malformed builds
nothing: no command beats a wrong one. Flags are gcloud 528's; tests/ruleset/test_fixes.py checks each against
`gcloud ... --help`. Each module here holds the actions on one thing: `container`, `cloudsql`, `network` and
`revision` change the service itself (`blocks` says where in its Terraform resource), `resources` what it depends
on and who may invoke it.
"""

from __future__ import annotations

from driftcheck.ruleset.actions import cloudsql, container, network, resources, revision
from driftcheck.ruleset.actions.resources import ACCESSOR, INVOKER
from driftcheck.ruleset.fixparts import Action, Arg, Build


def _service(args: tuple[Arg, ...], build: Build, flag: str, terraform: str) -> Action:
    return Action(args, build, f"gcloud run services update {flag}; Terraform {terraform}")


_CONTAINER = Arg("container")  # a container key (`ingress`, the default, or a sidecar's); see ContainerRef
SERVICE_ACTIONS: dict[str, Action] = {
    "set-port": _service((Arg("port", True), _CONTAINER), container.set_port, "--port", "ports.container_port"),
    "set-memory": _service(
        (Arg("memory", True), _CONTAINER), container.set_memory, "--memory", "resources.limits.memory"
    ),
    "set-cpu": _service((Arg("cpu", True), _CONTAINER), container.set_cpu, "--cpu", "resources.limits.cpu"),
    "set-env-vars": _service(
        (Arg("name", True), Arg("value"), _CONTAINER),
        container.set_env_vars,
        "--update-env-vars NAME=VALUE",
        "env.value",
    ),
    "update-secrets": _service(
        (Arg("name", True), Arg("secret", True), Arg("version"), Arg("project"), _CONTAINER),
        container.update_secrets,
        "--update-secrets NAME=SECRET:VERSION",
        "env.value_source.secret_key_ref",
    ),
    "add-cloudsql-instances": _service(
        (Arg("instances", True),),
        cloudsql.add_cloudsql_instances,
        "--add-cloudsql-instances",
        "volumes.cloud_sql_instance",
    ),
    "remove-cloudsql-instances": _service(
        (Arg("instances", True),),
        cloudsql.remove_cloudsql_instances,
        "--remove-cloudsql-instances",
        "volumes.cloud_sql_instance",
    ),
    "set-cloudsql-instances": _service(
        (Arg("instances", True),),
        cloudsql.set_cloudsql_instances,
        "--set-cloudsql-instances",
        "volumes.cloud_sql_instance",
    ),
    "set-vpc-connector": _service(
        (Arg("connector", True), Arg("instead_of_direct")),
        network.set_vpc_connector,
        "--vpc-connector",
        "vpc_access.connector",
    ),
    "set-network": _service(
        (Arg("network", True), Arg("subnet"), Arg("tags"), Arg("instead_of_connector")),
        network.set_network,
        "--network --subnet",
        "vpc_access.network_interfaces",
    ),
    "set-vpc-egress": _service((Arg("egress", True),), network.set_vpc_egress, "--vpc-egress", "vpc_access.egress"),
    "set-ingress": _service((Arg("ingress", True),), network.set_ingress, "--ingress (not none)", "ingress"),
    "set-service-account": _service(
        (Arg("account", True),), revision.set_service_account, "--service-account", "template.service_account"
    ),
    "set-execution-environment": _service(
        (Arg("environment", True, nullable=True),),
        revision.set_execution_environment,
        "--execution-environment (not when unset)",
        "template.execution_environment",
    ),
    "set-startup-probe": _service(
        (Arg("probe", True, nullable=True), _CONTAINER), container.set_startup_probe, "--startup-probe", "startup_probe"
    ),
    "set-cpu-throttling": _service(
        (Arg("throttled", True), _CONTAINER),
        container.set_cpu_throttling,
        "--[no-]cpu-throttling",
        "resources.cpu_idle",
    ),
    "set-timeout": _service((Arg("seconds", True),), revision.set_timeout, "--timeout", "template.timeout"),
    "set-concurrency": _service(
        (Arg("count", True),), revision.set_concurrency, "--concurrency", "template.max_instance_request_concurrency"
    ),
    "set-http2": _service(
        (Arg("enabled", True), _CONTAINER), container.set_http2, "--[no-]use-http2", "ports.name = h2c"
    ),
    "set-min-instances": _service(
        (Arg("count", True),), revision.scaling("min"), "--min-instances", "scaling.min_instance_count"
    ),
    "set-max-instances": _service(
        (Arg("count", True),), revision.scaling("max"), "--max-instances", "scaling.max_instance_count"
    ),
}

RESOURCE_ACTIONS: dict[str, Action] = {
    "grant-secret-access": Action(
        (Arg("secret", True), Arg("member", True), Arg("project")),
        resources.grant_secret_access,
        f"gcloud secrets add-iam-policy-binding --role {ACCESSOR}; google_secret_manager_secret_iam_member",
    ),
    "grant-role": Action(
        (Arg("member", True), Arg("role", True), Arg("project")),
        resources.grant_role,
        "gcloud projects add-iam-policy-binding; google_project_iam_member",
    ),
    "grant-invoker": Action(
        (Arg("member", True), Arg("service"), Arg("region"), Arg("project")),
        resources.grant_invoker,
        f"gcloud run services add-iam-policy-binding --role {INVOKER}; google_cloud_run_v2_service_iam_member",
    ),
    "enable-secret-version": Action(
        (Arg("secret", True), Arg("version", True), Arg("project")),
        resources.enable_secret_version,
        "gcloud secrets versions enable",
    ),
    "set-sql-activation-policy": Action(
        (Arg("instance", True), Arg("policy", True), Arg("project")),
        resources.set_sql_activation_policy,
        "gcloud sql instances patch --activation-policy; settings.activation_policy",
    ),
    "enable-service-account": Action(
        (Arg("account", True),),
        resources.enable_service_account,
        "gcloud iam service-accounts enable; disabled = false",
    ),
    "undelete-service-account": Action(
        (Arg("unique_id", True), Arg("project")),
        resources.undelete_service_account,
        "gcloud iam service-accounts undelete UNIQUE_ID",
    ),
    "describe-service": Action(
        (Arg("name"), Arg("region"), Arg("project")),
        resources.describe_service,
        "gcloud run services describe --format yaml",
    ),
    "terraform-apply": Action((Arg("address"),), resources.terraform_apply, "terraform apply -target=ADDRESS"),
    "terraform-import": Action(
        (), resources.terraform_import, "terraform import ADDRESS projects/P/locations/R/services/S"
    ),
}

ACTIONS: dict[str, Action] = {**SERVICE_ACTIONS, **RESOURCE_ACTIONS}
