"""Fix actions on how each revision runs: service account, execution environment, timeout, concurrency, instances."""

from __future__ import annotations

from driftcheck.ruleset.actions import blocks
from driftcheck.ruleset.fixparts import Args, Build, Flag, Parts, ServiceRef, name_like, number, on_service
from driftcheck.ruleset.hcl import Block, Setting, literal


@on_service
def set_service_account(args: Args, ref: ServiceRef) -> Parts | None:
    account = name_like(args["account"])
    if account is None or "@" not in account:
        return None
    attr = "service_account_name" if ref.v1 else "service_account"
    return Parts((Flag("--service-account", account),), (Setting(blocks.template(ref), attr, literal(account)),))


@on_service
def set_execution_environment(args: Args, ref: ServiceRef) -> Parts | None:
    """Unset is the platform default, not gen1, and no gcloud flag clears it: then only Terraform says it (null
    is an omitted attribute)."""
    environment = args["environment"]
    if environment is None:
        return None if ref.v1 else Parts((), (Setting((Block("template"),), "execution_environment", "null"),))
    if environment not in ("gen1", "gen2"):
        return None
    enum = literal(f"EXECUTION_ENVIRONMENT_{environment.upper()}")
    setting = (
        blocks.annotation("run.googleapis.com/execution-environment", environment)
        if ref.v1
        else Setting((Block("template"),), "execution_environment", enum)
    )
    return Parts((Flag("--execution-environment", environment),), (setting,))


@on_service
def set_timeout(args: Args, ref: ServiceRef) -> Parts | None:
    """The request timeout in seconds: v1 Terraform's `timeout_seconds`, v2's duration string."""
    seconds = number(args["seconds"], 1, 3600)
    if seconds is None:
        return None
    if ref.v1:
        return Parts(
            (Flag("--timeout", str(seconds)),), (Setting(blocks.template(ref), "timeout_seconds", str(seconds)),)
        )
    return Parts(
        (Flag("--timeout", str(seconds)),), (Setting(blocks.template(ref), "timeout", literal(f"{seconds}s")),)
    )


@on_service
def set_concurrency(args: Args, ref: ServiceRef) -> Parts | None:
    count = number(args["count"], 1, 1000)
    if count is None:
        return None
    attr = "container_concurrency" if ref.v1 else "max_instance_request_concurrency"
    return Parts((Flag("--concurrency", str(count)),), (Setting(blocks.template(ref), attr, str(count)),))


def scaling(bound: str) -> Build:
    @on_service
    def build(args: Args, ref: ServiceRef) -> Parts | None:
        count = number(args["count"], 0, 1000)
        if count is None:
            return None
        flag = Flag(f"--{bound}-instances", str(count))
        if ref.v1:
            return Parts((flag,), (blocks.annotation(f"autoscaling.knative.dev/{bound}Scale", str(count)),))
        return Parts((flag,), (Setting((Block("template"), Block("scaling")), f"{bound}_instance_count", str(count)),))

    return build
