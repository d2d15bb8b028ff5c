"""cloudsql-connection-budget: the connections every service on one Cloud SQL instance may open at peak, against
the instance's limit. Through the command line on its fixture (orders and reports on MySQL orders-mysql, limit 300
by its max_connections flag), changed in a copy to show where the line runs; and the parsing it rests on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli

from driftcheck.kinds import cloudsql
from driftcheck.kinds.service import cloudrun_v2
from driftcheck.model import Container, EnvVar, Unknown
from driftcheck.ruleset import sqlbudget

RULE = "cloudsql-connection-budget"
FIXTURE = FIXTURES / "rules" / RULE
INSTANCE = "orders-mysql.json"


def _evidence(tmp_path: Path, instance: dict[str, Any] | None = None, **edits: dict[str, str]) -> Path:
    """The fixture, copied, with `old -> new` text edits per service file (`target`, `baseline`) and the instance
    export's settings updated with `instance`."""
    folder = Path(shutil.copytree(FIXTURE, tmp_path / RULE))
    for name, replacements in edits.items():
        path = folder / f"{name}.yaml"
        text = path.read_text()
        for old, new in replacements.items():
            assert old in text, (name, old)
            text = text.replace(old, new)
        path.write_text(text)
    if instance is not None:
        data = json.loads((folder / INSTANCE).read_text())
        data["settings"].update(instance)
        data["settings"] = {k: v for k, v in data["settings"].items() if v is not None}
        (folder / INSTANCE).write_text(json.dumps(data, indent=2))
    return folder


def _report(folder: Path, *services: str) -> dict[str, Any]:
    run = run_cli("compare", *services, "--from", folder, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


def _budget(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == RULE]


def test_fires_on_the_fixture_and_proposes_the_largest_max_instances_that_fits(tmp_path: Path) -> None:
    (finding,) = _budget(_report(_evidence(tmp_path), "orders", "reports"))
    assert finding["severity"] == "medium"
    # (300 - reports' 20) // 10 per instance
    assert finding["fix"] == [{"action": "set-max-instances", "args": {"count": 28}}]
    assert finding["remediation"]["gcloud"].endswith("--max-instances 28")


def test_runs_with_no_peer(tmp_path: Path) -> None:
    run = run_cli("check", "orders", "--from", _evidence(tmp_path), "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    (finding,) = _budget(run.json())
    assert "reports 20" in finding["explanation"]  # every service of the evidence on the instance counts, peer or not


def test_unset_max_instances_is_silent_not_the_platform_default(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, target={"        autoscaling.knative.dev/maxScale: '50'\n": ""})
    report = _report(folder, "orders", "reports")
    assert _budget(report) == []
    assert report["incomplete"] is False  # an unset maximum is a choice the file leaves to the platform, not unread


def test_another_service_without_max_instances_is_named_as_not_counted(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, baseline={"        autoscaling.knative.dev/maxScale: '2'\n": ""})
    (finding,) = _budget(_report(folder, "orders", "reports"))
    assert "up to 500 connections" in finding["explanation"]
    assert "not counted, their peak unknown: reports (its maximum instances are not set)" in finding["explanation"]
    assert finding["fix"] == [{"action": "set-max-instances", "args": {"count": 30}}]


def test_peak_within_the_limit_is_silent(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, {"databaseFlags": [{"name": "max_connections", "value": "520"}]})
    assert _budget(_report(folder, "orders", "reports")) == []
    over = _evidence(tmp_path / "over", {"databaseFlags": [{"name": "max_connections", "value": "519"}]})
    assert len(_budget(_report(over, "orders", "reports"))) == 1


def test_two_services_that_only_together_exceed_it_are_both_named(tmp_path: Path) -> None:
    folder = _evidence(
        tmp_path,
        target={"maxScale: '50'": "maxScale: '20'"},  # 200 of 300
        baseline={"maxScale: '2'": "maxScale: '15'"},  # 150 of 300
    )
    (finding,) = _budget(_report(folder, "orders", "reports"))
    assert "up to 350 connections at peak, and it accepts at most 300" in finding["explanation"]
    assert "orders 200 (20 instances x 10 connections: DB_POOL_SIZE=10)" in finding["explanation"]
    assert "reports 150 (15 instances x 10 connections: DB_POOL_SIZE=10)" in finding["explanation"]
    assert finding["fix"] == [{"action": "set-max-instances", "args": {"count": 15}}]


def test_without_a_pool_size_one_connection_per_concurrent_request(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, target={"- name: DB_POOL_SIZE\n": "- name: APP_POOL_SIZE\n"})
    (finding,) = _budget(_report(folder, "orders", "reports"))
    assert "orders 4000 (50 instances x 80 connections: concurrency 80, one connection per request)" in (
        finding["explanation"]
    )


def test_postgres_db_f1_micro_uses_its_verified_default_and_no_fix_when_nothing_fits(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, {"tier": "db-f1-micro", "databaseFlags": None})
    data = json.loads((folder / INSTANCE).read_text())
    (folder / INSTANCE).write_text(json.dumps({**data, "databaseVersion": "POSTGRES_15"}))
    (finding,) = _budget(_report(folder, "orders", "reports"))
    assert "accepts at most 25 (Cloud SQL's default for PostgreSQL tier db-f1-micro)" in finding["explanation"]
    assert "FATAL: sorry, too many clients already" in finding["explanation"]
    assert finding["fix"] == [] and finding["remediation"] == {}  # reports' 20 leave room for no instance of 10


def test_postgres_custom_tier_without_the_flag_is_silent_and_claims_no_number(tmp_path: Path) -> None:
    folder = _evidence(tmp_path, {"databaseFlags": None})
    data = json.loads((folder / INSTANCE).read_text())
    (folder / INSTANCE).write_text(json.dumps({**data, "databaseVersion": "POSTGRES_15"}))
    report = _report(folder, "orders", "reports")
    assert _budget(report) == []
    assert [u for u in report["unverified"] if u["rule"] == RULE] == []
    assert report["incomplete"] is False


@pytest.mark.parametrize(("tier", "limit"), [("db-f1-micro", 250), ("db-g1-small", 1000), ("db-custom-2-7680", 4000)])
def test_mysql_tier_defaults_without_the_flag(tier: str, limit: int) -> None:
    data = json.loads((FIXTURE / INSTANCE).read_text())
    data["settings"] = {**data["settings"], "tier": tier}
    del data["settings"]["databaseFlags"]
    instance = cloudsql.parse_instance(data, "x.json")
    assert instance.max_connections is None
    assert sqlbudget.limit_of(instance)[0] == limit


def test_the_max_connections_flag_is_read_with_its_source() -> None:
    instance = cloudsql.parse_instance(json.loads((FIXTURE / INSTANCE).read_text()), "orders-mysql.json")
    assert (instance.max_connections, instance.tier) == (300, "db-custom-2-7680")
    assert sqlbudget.limit_of(instance) == (
        300,
        "its max_connections flag",
        "orders-mysql.json:settings.databaseFlags[name=max_connections]",
    )
    malformed = json.loads((FIXTURE / INSTANCE).read_text())
    malformed["settings"]["databaseFlags"] = [{"name": "max_connections", "value": "lots"}]
    assert isinstance(cloudsql.parse_instance(malformed, "x.json").max_connections, Unknown)
    no_settings = {k: v for k, v in malformed.items() if k != "settings"}
    assert isinstance(cloudsql.parse_instance(no_settings, "x.json").max_connections, Unknown)


def test_v2_json_without_a_maximum_leaves_it_unset() -> None:
    base = {"name": "projects/netra-staging/locations/us-central1/services/orders", "template": {"containers": []}}
    assert cloudrun_v2.parse_service(base, "o.json").metadata.max_instances_set is False
    scaled = {**base, "template": {"containers": [], "scaling": {"maxInstanceCount": 7}}}
    service = cloudrun_v2.parse_service(scaled, "o.json")
    assert (service.metadata.max_instances_set, service.max_instances) == (True, 7)


def _container(**env: str | Unknown) -> Container:
    return Container(name="app", image="i", port=8080, protocol=None, env={k: EnvVar(v) for k, v in env.items()})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DB_POOL_SIZE": "10"}, (10, "DB_POOL_SIZE=10")),
        (
            {"SQLALCHEMY_POOL_SIZE": "5", "SQLALCHEMY_MAX_OVERFLOW": "10"},
            (15, "SQLALCHEMY_POOL_SIZE=5 + SQLALCHEMY_MAX_OVERFLOW=10"),
        ),
        ({"PG_POOL_MAX": "20"}, (20, "PG_POOL_MAX=20")),
        ({"DB_MAX_CONNECTIONS": "8"}, (8, "DB_MAX_CONNECTIONS=8")),
        ({"DATABASE_POOL_SIZE": "4", "MAX_POOL_SIZE": "6"}, (6, "MAX_POOL_SIZE=6")),  # aliases: the largest
        ({"POOL_SIZE": "3"}, (3, "POOL_SIZE=3")),
        ({"REDIS_POOL_SIZE": "50", "MAX_CONNECTIONS": "1000", "HTTP_POOL_SIZE": "9"}, None),  # not a database's
        ({"DB_POOL_SIZE": "ten"}, None),  # not a number: concurrency decides
        ({"DB_POOL_SIZE": "0"}, None),  # SQLAlchemy's "no limit", no size
    ],
)
def test_pool_size_names(env: dict[str, str], expected: tuple[int, str] | None) -> None:
    assert sqlbudget.pool_size(_container(**env)) == expected


def test_a_pool_size_that_could_not_be_read_is_unknown_not_absent() -> None:
    assert isinstance(sqlbudget.pool_size(_container(DB_POOL_SIZE=Unknown("known after apply"))), Unknown)
