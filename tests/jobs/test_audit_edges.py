"""Edges of `driftcheck audit` / `merge` / `history`: unknown is not absent, bad input is one line and exit 2,
credentials never reach a stored file, and retention keeps every project's history."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from conftest import AUDIT, AUDIT_CONFIG, FIXTURES, Run, run_cli
from fakegcp import FakeGcpServer, World
from fakegcp.server import Fault
from google.cloud import run_v2

from driftcheck.errors import InputError
from driftcheck.jobs.config import load_config

CONFIG = AUDIT_CONFIG
LEDGER = "projects/netra-staging/locations/us-central1/services/ledger-eu"



def _audit(audit_server: FakeGcpServer, *extra: str | Path, config: Path = CONFIG, process: bool = False) -> Run:
    """`process`: in a process of its own, as the next nightly run is, with its own fingerprint key for credentials."""
    return run_cli("audit", "--config", config, "--endpoint", audit_server.address, *extra, process=process)


def _env_audit(fake: FakeGcpServer, env: dict[str, str], *extra: str | Path) -> Run:
    return run_cli("audit", "--config", CONFIG, "--endpoint", fake.address, *extra, env=env)


def _one_line_error(run: Run, *expected: str) -> None:
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for text in expected:
        assert text in run.stderr, run.stderr


# Unknown is not absent --------------------------------------------------------------------------------------


def test_a_project_that_cannot_be_listed_has_no_terraform_service_missing(audit_server: FakeGcpServer) -> None:
    audit_server.inject("ListServices", "*netra-staging*", "PERMISSION_DENIED")
    report = _audit(audit_server, "--no-history", "--format", "json").json()
    drift = [(f["rule"], f["subject"]) for f in report["findings"] if f["rule"].startswith("iac-")]
    assert drift == []  # its services were not read: none of the declared ones is known to be missing
    assert report["incomplete"] is True
    assert any(n.startswith("could not read netra-staging: services in us-central1") for n in report["notes"])


def test_a_snapshot_of_other_regions_is_not_a_disappearance(tmp_path: Path) -> None:
    world = World.from_folder(FIXTURES / "incident-live")
    europe = run_v2.Service(world.services["projects/netra-staging/locations/us-central1/services/auth"])
    europe.name = "projects/netra-staging/locations/europe-west1/services/eu-only"
    world.add_service(europe)
    with FakeGcpServer(world) as fake:
        for process, regions in ((True, ["us-central1", "europe-west1"]), (False, ["us-central1"]),
                                 (True, ["us-central1", "europe-west1"])):  # a fingerprint key unlike the last run's
            run = run_cli("audit", "--project", "netra-staging", *(a for r in regions for a in ("--region", r)),
                          "--endpoint", fake.address, "--history", tmp_path / "h", "--format", "json",
                          process=process)  # fmt: skip
            assert run.code == 1, run.stderr  # the incident's api is not ready: a finding, every time
            assert run.json()["changes"] == []
    timeline = run_cli("history", "eu-only", "--history", tmp_path / "h", "--format", "json")
    assert timeline.code == 0, timeline.stderr
    assert timeline.json() == []  # the us-central1-only audit never looked in europe-west1


# Credentials ------------------------------------------------------------------------------------------------

LEAKY = "denied for postgresql://admin:Hunter2-Leak@10.0.0.1/db"


def test_an_error_message_quoting_a_credential_is_redacted_in_history_and_partials(tmp_path: Path) -> None:
    faults = {("GetConnector", "*prod-connector"): Fault(grpc.StatusCode.PERMISSION_DENIED, LEAKY)}
    with FakeGcpServer(World.from_folder(AUDIT / "world"), faults=faults) as fake:
        run = _audit(fake, "--history", tmp_path / "h", "--shard", "1/3", "--partial", tmp_path / "p.json")
    assert run.code == 0, run.stderr
    written = [tmp_path / "p.json", *(tmp_path / "h").iterdir()]
    assert len(written) == 2
    for path in written:
        text = path.read_text()
        assert "admin:[REDACTED]@10.0.0.1" in text  # the error is kept, for what to grant
        assert "Hunter2-Leak" not in text, path


# Output locations -------------------------------------------------------------------------------------------


def test_a_partial_folder_that_does_not_exist_yet_is_created(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    run = _audit(audit_server, "--history", tmp_path / "h", "--shard", "2/3", "--partial", f"{tmp_path}/new/parts/")
    assert run.code == 0, run.stderr
    assert json.loads((tmp_path / "new" / "parts" / "part-2-of-3.json").read_text())["projects"] == ["netra-dev"]


def test_an_unwritable_report_fails_before_anything_is_fetched_or_stored(
    audit_server: FakeGcpServer, tmp_path: Path
) -> None:
    run = _audit(audit_server, "--history", tmp_path / "h", "-o", tmp_path / "missing" / "audit.json")
    _one_line_error(run, f"{tmp_path / 'missing' / 'audit.json'}: cannot write")
    assert not (tmp_path / "h").exists()  # else the next audit compares with it and this night's changes are lost
    assert audit_server.called("ListServices") == []


def test_partial_with_a_job_of_one_task_still_writes_the_partial(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    task = {"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "1"}
    run = _env_audit(audit_server, task, "--no-history", "--partial", f"{tmp_path}/")
    assert run.code == 0, run.stderr
    assert run.stdout == ""
    merged = run_cli("merge", tmp_path, "--config", CONFIG, "--format", "json")
    assert merged.code == 1, merged.stderr
    assert merged.json()["target"] == "audit of netra-staging, netra-prod, netra-dev (us-central1)"


# Bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "count"), [("²", "3"), ("0", "³")])
def test_a_task_index_that_is_no_number_is_exit_2(audit_server: FakeGcpServer, index: str, count: str) -> None:
    run = _env_audit(audit_server, {"CLOUD_RUN_TASK_INDEX": index, "CLOUD_RUN_TASK_COUNT": count}, "--no-history")
    _one_line_error(run, "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT: expected I/N")


@pytest.fixture
def partial(audit_server: FakeGcpServer, tmp_path: Path) -> dict[str, object]:
    run = _audit(audit_server, "--no-history", "--shard", "0/1", "--partial", tmp_path / "whole.json")
    assert run.code == 0, run.stderr
    loaded: dict[str, object] = json.loads((tmp_path / "whole.json").read_text())
    return loaded


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (lambda d: d["collected"][0].__setitem__("snapshot", "x"), "collected[0].snapshot"),
        (lambda d: d["collected"][0]["snapshot"].__setitem__("services", {}), "collected[0].snapshot.services"),
        (lambda d: d["collected"][0]["snapshot"].__setitem__("errors", []), "collected[0].snapshot.errors"),
        (lambda d: d["collected"][1]["snapshot"].__setitem__("scope", "x"), "collected[1].snapshot.scope"),
        (lambda d: d["collected"][0].__setitem__("project", 5), "collected[0].project"),
        (lambda d: d["collected"][2].__setitem__("taken", "2026-11-27T03:00:00"), "collected[2].taken"),
        (lambda d: d.__setitem__("shard", 0), "shard: expected I/N"),
    ],
)
def test_a_damaged_partial_is_one_line_naming_file_and_field(
    partial: dict[str, object], tmp_path: Path, damage: object, where: str
) -> None:
    damage(partial)  # type: ignore[operator]
    path = tmp_path / "part-0-of-1.json"
    path.write_text(json.dumps(partial))
    _one_line_error(run_cli("merge", path, "--config", CONFIG), f"{path}:", where)


def test_a_partial_of_another_configuration_is_refused(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    for index in range(3):
        assert _audit(audit_server, "--no-history", "--shard", f"{index}/3", "--partial", f"{tmp_path}/").code == 0
    other = tmp_path / "other.toml"
    other.write_text('projects = ["netra-dev", "netra-qa", "netra-prod"]\nregions = ["us-central1"]\n')
    run = run_cli("merge", tmp_path, "--config", other, "--format", "json")
    _one_line_error(run, "part-0-of-3.json: shard 0/3 of", "audits netra-dev, but this partial holds netra-staging")
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("extra", "where", "expected"),
    [
        ('[terraform_state]\nnetra-stagin = "s.tfstate"\n', "terraform_state.netra-stagin",
         "'netra-stagin' is not in projects, so the audit never reads it (did you mean 'netra-staging'?)"),
        ('[[environment_pairs]]\nleft = {project = "netra-staging", region = "us-central1", service = "api"}\n'
         'right = {project = "netra-prd", region = "us-central1", service = "api"}\n',
         "environment_pairs[0].right.project", "'netra-prd' is not in projects"),
        ('[[environment_pairs]]\nleft = {project = "netra-staging", region = "europe-west1", service = "api"}\n'
         'right = {project = "netra-prod", region = "us-central1", service = "api"}\n',
         "environment_pairs[0].left.region", "'europe-west1' is not in regions"),
    ],
)  # fmt: skip
def test_a_state_or_pair_outside_the_audited_scope_is_a_config_error(
    tmp_path: Path, extra: str, where: str, expected: str
) -> None:
    path = tmp_path / "driftcheck.toml"
    path.write_text('projects = ["netra-staging", "netra-prod"]\nregions = ["us-central1"]\n' + extra)
    with pytest.raises(InputError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:{where}: "), raised.value
    assert expected in str(raised.value)


def test_a_peer_group_matching_too_few_services_is_said(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    config = tmp_path / "driftcheck.toml"
    config.write_text(
        'projects = ["netra-staging"]\nregions = ["us-central1"]\n'
        '[[peer_groups]]\nname = "typo"\nmembers = ["ledgr-*"]\nfields = ["vpc.egress"]\n'
        '[[peer_groups]]\nname = "real"\nmembers = ["auth", "billing"]\nfields = ["vpc.egress"]\n'
    )
    report = _audit(audit_server, "--no-history", "--format", "json", config=config).json()
    assert "peer group typo matches 0 services: nothing to compare" in report["notes"]
    assert not any(n.startswith("peer group real") for n in report["notes"])


# Retention --------------------------------------------------------------------------------------------------


def test_keep_applies_per_project_so_every_project_still_has_its_previous_snapshot(
    audit_server: FakeGcpServer, tmp_path: Path
) -> None:
    first = _audit(audit_server, "--history", tmp_path / "h", "--keep", "1", "--format", "json", process=True)
    assert first.code == 1, first.stderr
    audit_server.world.services[LEDGER].template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY
    second = _audit(audit_server, "--history", tmp_path / "h", "--keep", "1", "--format", "json").json()
    assert [(c["service"], c["path"]) for c in second["changes"]] == [
        ("netra-staging/us-central1/ledger-eu", "vpc.egress")
    ]
    assert not any(n.startswith("first audit") for n in second["notes"])
    stored = sorted(p.name.split("--")[1] for p in (tmp_path / "h").iterdir())
    assert stored == ["netra-dev_us-central1.json", "netra-prod_us-central1.json", "netra-staging_us-central1.json"]


def test_a_report_that_cannot_be_written_stores_no_snapshot_so_a_retry_loses_no_change(
    audit_server: FakeGcpServer, tmp_path: Path
) -> None:
    history, report = tmp_path / "h", tmp_path / "audit.json"
    assert _audit(audit_server, "--history", history, "-o", report, "--format", "json", process=True).code == 1
    stored = sorted(p.name for p in history.iterdir())
    audit_server.world.services[LEDGER].template.vpc_access.egress = run_v2.VpcAccess.VpcEgress.PRIVATE_RANGES_ONLY
    report.unlink()
    report.mkdir()  # the folder exists, so the check before the fetch passes; the write itself fails
    failed = _audit(audit_server, "--history", history, "-o", report, "--format", "json")
    assert failed.code == 2 and "Traceback" not in failed.stderr
    assert sorted(p.name for p in history.iterdir()) == stored  # nothing stored: the change is still ahead
    retried = _audit(audit_server, "--history", history, "--format", "json")
    assert [(c["service"], c["path"]) for c in retried.json()["changes"]] == [
        ("netra-staging/us-central1/ledger-eu", "vpc.egress")
    ]


def test_a_one_off_audit_merges_without_a_configuration(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    """Its partials record the projects, regions and region-peer check; an older partial, without them, still asks
    for a configuration file."""
    one_off = ("audit", "--project", "netra-staging", "--project", "netra-dev", "--region", "us-central1",
               "--endpoint", audit_server.address, "--no-history", "--format", "json")  # fmt: skip
    whole = run_cli(*one_off)
    for index in range(2):
        assert run_cli(*one_off, "--shard", f"{index}/2", "--partial", f"{tmp_path}/").code == 0
    merged = run_cli("merge", tmp_path, "--format", "json")
    assert merged.code == whole.code == 1, merged.stderr
    assert merged.json() == whole.json()
    assert any(f["subject"] == "netra-staging/us-central1/api" for f in merged.json()["findings"])  # region peers
    for part in tmp_path.glob("part-*-of-2.json"):
        document = json.loads(part.read_text())
        assert document["scope"]["projects"] == ["netra-staging", "netra-dev"]  # the order given, not sorted
        del document["scope"]
        part.write_text(json.dumps(document))
    old = run_cli("merge", tmp_path)
    assert old.code == 2
    assert "the partials come from an audit without a configuration: pass --config FILE" in old.stderr


def test_a_damaged_scope_is_one_line_naming_file_and_field(audit_server: FakeGcpServer, tmp_path: Path) -> None:
    part = tmp_path / "part-0-of-1.json"
    one_off = run_cli("audit", "--project", "netra-dev", "--region", "us-central1", "--endpoint",
                      audit_server.address, "--no-history", "--partial", part)  # fmt: skip
    assert one_off.code == 0, one_off.stderr
    document = json.loads(part.read_text())
    document["scope"]["regions"] = "us-central1"
    part.write_text(json.dumps(document))
    _one_line_error(run_cli("merge", part), f"{part}:scope.regions: expected a list of non-empty strings")
