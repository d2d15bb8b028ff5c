"""gen2-required, cloudsql-instance-name-malformed, port-env-mismatch and cloudsql-connection-budget (its fixture
cases are in test_connection_budget_rule.py): rules that need no peer, run in every compare, so they must be right
when they speak and silent otherwise.

Silent on the real public configurations of ../shared/corpus (every valid single service judged alone, every
same-service pair; skipped when the corpus is not beside this checkout), and on each rule's own fixture changed
just past the line; the set-cloudsql-instances action their fix uses.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, FIXTURES, run_cli
from test_corpus_pairs import SAME_PAIRS

from driftcheck.ruleset.fixes import ContainerRef, FixAction, ServiceRef, render

RULES = FIXTURES / "rules"
NO_PEER_RULES = (
    "gen2-required",
    "cloudsql-instance-name-malformed",
    "port-env-mismatch",
    "cloudsql-connection-budget",
)
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")
Edit = Callable[[dict[str, Any]], None]


def said(findings: list[Any], rule: str) -> list[Any]:
    """The rule's findings, its own or folded into another's as corroboration (objects or report dicts)."""

    def of(f: Any, key: str) -> Any:
        return f[key] if isinstance(f, dict) else getattr(f, key)

    return [f for f in findings if rule == of(f, "rule") or rule in of(f, "corroborated_by")]


@pytest.fixture(scope="module")
def ruleset() -> Any:
    from driftcheck.ruleset.load import load_ruleset

    return load_ruleset()


@needs_corpus
def test_silent_on_every_valid_single_service_of_the_corpus(ruleset: Any) -> None:
    from driftcheck.errors import DriftcheckError
    from driftcheck.jobs.compare import compare

    files = sorted(p for folder in ("knative", "knative_json", "v2") for p in (CORPUS / folder).iterdir())
    loud, checked = [], 0
    for path in files:
        try:
            result = compare(str(path), [], [], ruleset, alone=True)
        except DriftcheckError:  # a template, a list, a Job, an error body: not one valid service
            continue
        checked += 1
        loud += [(path.name, rule, f.explanation) for rule in NO_PEER_RULES for f in said(list(result.findings), rule)]
    assert checked >= 60, checked
    assert not loud


PAIR_IDS = [f"{Path(t).stem}<-{Path(b).stem}" for t, b in SAME_PAIRS]


@needs_corpus
@pytest.mark.parametrize(("target", "baseline"), SAME_PAIRS, ids=PAIR_IDS)
def test_silent_on_every_same_service_pair_of_the_corpus(target: str, baseline: str, ruleset: Any) -> None:
    from driftcheck.jobs.compare import compare

    result = compare(str(CORPUS / target), [str(CORPUS / baseline)], [], ruleset)
    assert not [(rule, f.explanation) for rule in NO_PEER_RULES for f in said(list(result.findings), rule)]


def check(rule: str, tmp_path: Path, edit: Edit | None = None, *, complete: bool = True) -> dict[str, Any]:
    """`driftcheck check` on the rule's fixture target alone, its YAML edited first; by default every fact the
    rules ask for is in the evidence."""
    folder = shutil.copytree(RULES / rule, tmp_path / rule)
    target = yaml.safe_load((folder / "target.yaml").read_text())
    if edit:
        edit(target)
    (folder / "target.yaml").write_text(yaml.safe_dump(target, sort_keys=False))
    run = run_cli("check", target["metadata"]["name"], "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    report: dict[str, Any] = run.json()
    if complete:
        assert report["incomplete"] is False, report["unverified"]
    return report


def annotations(target: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = target["spec"]["template"]["metadata"]["annotations"]
    return found


def container(target: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = target["spec"]["template"]["spec"]["containers"][0]
    return found


def ready(target: dict[str, Any]) -> None:
    """The status of a service whose latest revision is ready and serving."""
    status = target["status"]
    status["conditions"] = [{"status": "True", "type": t} for t in ("Ready", "ConfigurationsReady", "RoutesReady")]
    status["latestReadyRevisionName"] = status["latestCreatedRevisionName"]


def both(*edits: Edit) -> Edit:
    def edit(target: dict[str, Any]) -> None:
        for one in edits:
            one(target)

    return edit


# gen2-required ------------------------------------------------------------------------------------------------------


def environment(value: str | None) -> Edit:
    def edit(target: dict[str, Any]) -> None:
        if value is None:
            annotations(target).pop("run.googleapis.com/execution-environment")
        else:
            annotations(target)["run.googleapis.com/execution-environment"] = value

    return edit


def nfs_instead(target: dict[str, Any]) -> None:
    volume = {"name": "catalog", "nfs": {"server": "10.60.0.2", "path": "/catalog"}}
    target["spec"]["template"]["spec"]["volumes"] = [volume]


def no_network_volume(target: dict[str, Any]) -> None:
    target["spec"]["template"]["spec"]["volumes"] = [{"name": "catalog", "emptyDir": {"medium": "Memory"}}]


def test_gen2_required_fires_on_explicit_gen1_and_fixes_environment_and_memory(tmp_path: Path) -> None:
    (finding,) = said(check("gen2-required", tmp_path)["findings"], "gen2-required")
    assert "mounts Cloud Storage volume catalog (netra-staging-catalog)" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith("--execution-environment gen2 --memory 512Mi")


def test_gen2_required_fires_on_an_nfs_volume(tmp_path: Path) -> None:
    (finding,) = said(check("gen2-required", tmp_path, nfs_instead)["findings"], "gen2-required")
    assert "NFS volume catalog (10.60.0.2:/catalog)" in finding["explanation"]


@pytest.mark.parametrize(
    "edit",
    [environment("gen2"), environment(None), no_network_volume, ready],
    ids=["gen2", "unset: the platform picks gen2 for the volume", "an in-memory volume", "ready and serving"],
)
def test_gen2_required_is_silent(edit: Edit, tmp_path: Path) -> None:
    assert not said(check("gen2-required", tmp_path, edit)["findings"], "gen2-required")


# cloudsql-instance-name-malformed -----------------------------------------------------------------------------------

SQL = "cloudsql-instance-name-malformed"
RIGHT = "netra-staging:us-central1:receipts-pg"


def attached(value: str) -> Edit:
    def edit(target: dict[str, Any]) -> None:
        annotations(target)["run.googleapis.com/cloudsql-instances"] = value

    return edit


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("receipts-pg", "only the instance name"),
        ("netra-staging:receipts-pg", "two parts, not three"),
        ("us-central1:receipts-pg", "two parts, not three"),
        ("/cloudsql/netra-staging:us-central1:receipts-pg", "the socket path"),
        ("projects/netra-staging/locations/us-central1/instances/receipts-pg", "a resource path"),
        ("projects/netra-staging/instances/receipts-pg", "a resource path"),
        ("netra-staging: us-central1:receipts-pg", "it holds whitespace"),
    ],
)
def test_malformed_name_is_found_and_its_right_form_set(value: str, why: str, tmp_path: Path) -> None:
    (finding,) = said(check(SQL, tmp_path, attached(value))["findings"], SQL)
    assert f'"{value}" ({why}' in finding["explanation"] and f"; meant: {RIGHT})" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith(f"--set-cloudsql-instances {RIGHT}")


def test_the_fix_keeps_the_right_names_beside_the_malformed_one(tmp_path: Path) -> None:
    report = check(SQL, tmp_path, attached("receipts-pg,netra-staging:us-central1:refunds-pg"))
    (finding,) = said(report["findings"], SQL)
    fixed = f"--set-cloudsql-instances netra-staging:us-central1:refunds-pg,{RIGHT}"  # the model keeps them sorted
    assert finding["remediation"]["gcloud"].endswith(fixed)


def test_an_unknown_instance_is_said_without_a_fix(tmp_path: Path) -> None:
    (finding,) = said(check(SQL, tmp_path, attached("ledger-pg"))["findings"], SQL)
    assert "no instance in the evidence is named ledger-pg" in finding["explanation"]
    assert finding["remediation"] == {}  # which project and region is not known: no command beats a wrong one


def test_another_projects_instance_of_that_name_is_no_fix(tmp_path: Path) -> None:
    (finding,) = said(check(SQL, tmp_path, attached("netra-prod:receipts-pg"))["findings"], SQL)
    assert finding["remediation"] == {}


@pytest.mark.parametrize(
    "value",
    [RIGHT, "example.com:netra-staging:us-central1:receipts-pg", f"{RIGHT},netra-staging:us-central1:refunds-pg"],
    ids=["project:region:instance", "a domain-scoped project", "two right names"],
)
def test_a_connection_name_is_silent(value: str, tmp_path: Path) -> None:
    report = check(SQL, tmp_path, attached(value), complete=False)  # example.com's instance is not exported
    assert not said(report["findings"], SQL)


def test_a_malformed_name_is_no_instance_to_look_up(tmp_path: Path) -> None:
    """Reported once, by this rule: not also "could not verify" by every rule that looks instances up."""
    report = check(SQL, tmp_path, attached("ledger-pg"))
    assert report["unverified"] == []


# port-env-mismatch --------------------------------------------------------------------------------------------------

PORT = "port-env-mismatch"


def env(name: str, value: str) -> Edit:
    def edit(target: dict[str, Any]) -> None:
        variables = [v for v in container(target)["env"] if v["name"] not in ("SERVER_PORT", name)]
        container(target)["env"] = [*variables, {"name": name, "value": value}]

    return edit


def probe(kind: str, port: int) -> Edit:
    def edit(target: dict[str, Any]) -> None:
        container(target)[kind] = {"failureThreshold": 3, "periodSeconds": 10, "timeoutSeconds": 1,
                                   "httpGet": {"path": "/healthz", "port": port}}  # fmt: skip

    return edit


def sidecar(target: dict[str, Any]) -> None:
    target["spec"]["template"]["spec"]["containers"].append(
        {"name": "otel-collector", "image": "otel/opentelemetry-collector-contrib:0.98.0"}
    )


def test_an_app_port_env_var_fires_and_follows_the_container_port(tmp_path: Path) -> None:
    (finding,) = said(check(PORT, tmp_path)["findings"], PORT)
    assert "its env sets SERVER_PORT=8081" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith("--update-env-vars SERVER_PORT=8080")


def test_an_env_var_its_probe_follows_moves_the_container_port(tmp_path: Path) -> None:
    (finding,) = said(check(PORT, tmp_path, probe("startupProbe", 8081))["findings"], PORT)
    assert "its probe checks 8081 too" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith("--port 8081")


def test_a_probe_on_a_port_nothing_names_fires(tmp_path: Path) -> None:
    edit = both(env("DB_PORT", "5432"), probe("startupProbe", 9090))
    (finding,) = said(check(PORT, tmp_path, edit)["findings"], PORT)
    assert "its startup probe checks port 9090, which no env value or argument names" in finding["explanation"]
    assert "httpGet.port=8080" in finding["remediation"]["gcloud"]


def test_a_liveness_probe_on_a_port_nothing_names_fires_with_no_fix(tmp_path: Path) -> None:
    edit = both(env("DB_PORT", "5432"), probe("livenessProbe", 9090))
    (finding,) = said(check(PORT, tmp_path, edit)["findings"], PORT)
    assert "Cloud Run restarts the instance" in finding["explanation"]
    assert finding["remediation"] == {}  # gcloud has no flag for a liveness probe


@pytest.mark.parametrize(
    "edit",
    [
        env("DB_PORT", "6543"),
        env("REDIS_PORT", "6380"),
        env("SMTP_PORT", "587"),
        env("POSTGRES_PORT", "5433"),
        env("SERVER_PORT", "8080"),
        env("PORT", "8081"),
        both(env("HEALTH_PORT", "8081"), probe("startupProbe", 8081)),
        both(env("DB_PORT", "5432"), probe("livenessProbe", 8080)),
        both(env("SERVER_PORT", "8080"), sidecar),
        ready,
    ],
    ids=[
        "DB_PORT",
        "REDIS_PORT",
        "SMTP_PORT",
        "POSTGRES_PORT",
        "SERVER_PORT equal to the container port",
        "PORT: reserved, set by Cloud Run",
        "a probe on a health port the env names",
        "a probe on the container port",
        "several containers",
        "ready and serving",
    ],
)
def test_port_env_mismatch_is_silent(edit: Edit, tmp_path: Path) -> None:
    assert not said(check(PORT, tmp_path, edit)["findings"], PORT)


def test_several_containers_are_not_judged(tmp_path: Path) -> None:
    assert not said(check(PORT, tmp_path, sidecar)["findings"], PORT)  # SERVER_PORT=8081 may be a proxy's upstream


# set-cloudsql-instances ---------------------------------------------------------------------------------------------

RECEIPTS = ServiceRef(
    "receipts", "us-central1", "netra-staging", containers=(ContainerRef("ingress", "receipts", 8080),),
    cloudsql_instances=("receipts-pg",),
)  # fmt: skip


def test_set_cloudsql_instances_replaces_the_list() -> None:
    fix = render([FixAction("set-cloudsql-instances", {"instances": [RIGHT, RIGHT]}, RECEIPTS)])
    update = "gcloud run services update receipts --region us-central1 --project netra-staging"
    assert fix["gcloud"] == f"{update} --set-cloudsql-instances {RIGHT}"
    assert f'cloud_sql_instance {{ instances = ["{RIGHT}"] }}' in fix["terraform"]


@pytest.mark.parametrize("instances", [["receipts-pg"], [RIGHT, "receipts-pg"], [], None])
def test_set_cloudsql_instances_writes_nothing_it_cannot_stand_by(instances: Any) -> None:
    assert render([FixAction("set-cloudsql-instances", {"instances": instances}, RECEIPTS)]) == {}


def test_set_cloudsql_instances_that_change_nothing_write_nothing() -> None:
    fixed = ServiceRef("receipts", "us-central1", "netra-staging", cloudsql_instances=(RIGHT,))
    assert render([FixAction("set-cloudsql-instances", {"instances": [RIGHT]}, fixed)]) == {}
