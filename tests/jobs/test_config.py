"""The audit configuration: the example loads as documented, and every mistake is one InputError that says where."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from driftcheck.errors import InputError
from driftcheck.jobs.config import Endpoint, Ignore, Output, PeerGroup, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "audit" / "driftcheck.toml"
MINIMAL = 'projects = ["p"]\n'


def write(tmp_path: Path, text: str, name: str = "driftcheck.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_loads_to_the_expected_dataclasses() -> None:
    config = load_config(EXAMPLE)
    assert config.projects == ("netra-staging", "netra-prod")
    assert config.regions == ("us-central1",)
    assert config.fail_on == "high"
    assert config.peer_groups == (
        PeerGroup(
            name="staging-backends",
            members=("auth", "billing", "worker", "ledger-*"),
            fields=("vpc.connector", "vpc.egress", "cloudsql_instances"),
            region="us-central1",
        ),
    )
    (pair,) = config.environment_pairs
    assert (pair.name, pair.left, pair.right) == (
        "api",
        Endpoint("netra-staging", "us-central1", "api"),
        Endpoint("netra-prod", "us-central1", "api"),
    )
    assert "containers.*.env.DB_HOST.*" in pair.expected
    assert config.terraform_state["netra-prod"] == "gs://acme-tfstate/prod/default.tfstate"
    assert config.ignores[0] == Ignore(
        fields=("vpc.*",), services=("worker",), reason="batch worker reaches no private range"
    )
    assert config.ignores[1].expires == date(2026, 1, 31)
    # Relative paths in the file are relative to the file, wherever the job runs from.
    here = EXAMPLE.parent
    assert config.outputs == (Output("json", str(here / "audit.json")), Output("sarif", str(here / "audit.sarif")))


def test_an_expired_ignore_no_longer_applies_and_is_reported() -> None:
    config = load_config(EXAMPLE)
    expired = config.expired_ignores(date(2026, 11, 29))
    assert [i.rules for i in expired] == [("service-account-mismatch",)]
    assert expired[0] not in config.active_ignores(date(2026, 11, 29))
    assert config.ignores[1] in config.active_ignores(date(2026, 1, 31))  # the expiry day itself still counts


def test_pyproject_tool_table_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[project]\nname = "x"\n\n[tool.driftcheck]\nprojects = ["p"]\nfail_on = "low"\n', "pyproject.toml"
    )
    config = load_config(path)
    assert (config.projects, config.fail_on) == (("p",), "low")


def test_pyproject_errors_name_the_tool_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.driftcheck]\nprojects = ["p"]\nfail_on = "urgent"\n', "pyproject.toml")
    with pytest.raises(InputError) as raised:
        load_config(path)
    assert f"{path}:tool.driftcheck.fail_on:" in str(raised.value)


CASES = [
    ("unknown top-level key", 'projets = ["p"]\n', "projets", "did you mean 'projects'"),
    ("missing required key", 'regions = ["r"]\n', "projects", "required"),
    ("wrong type", 'projects = "p"\n', "projects", "a list of strings"),
    ("wrong item type", "projects = [1]\n", "projects[0]", "a non-empty string"),
    ("bad severity", MINIMAL + 'fail_on = "urgent"\n', "fail_on", "'urgent' is not one of critical"),
    (
        "glob that matches no canonical root",
        MINIMAL + '[[peer_groups]]\nname = "a"\nmembers = ["x"]\nfields = ["vpc.connector"]\n'
        '[[peer_groups]]\nname = "b"\nmembers = ["y"]\nfields = ["vpc_access.connector"]\n',
        "peer_groups[1].fields[0]",
        "did you mean 'vpc'",
    ),
    (
        "unknown key in a peer group",
        MINIMAL + '[[peer_groups]]\nname = "a"\nmember = ["x"]\nfields = ["vpc.egress"]\n',
        "peer_groups[0].member",
        "did you mean 'members'",
    ),
    (
        "bad date",
        MINIMAL + '[[ignores]]\nrules = ["r"]\nexpires = "2026-13-01"\n',
        "ignores[0].expires",
        "not a date",
    ),
    ("ignore that ignores nothing", MINIMAL + '[[ignores]]\nreason = "x"\n', "ignores[0]", "at least one of"),
    (
        "environment side missing a service",
        MINIMAL + '[[environment_pairs]]\nleft = {project = "a", region = "r", service = "api"}\n'
        'right = {project = "b", region = "r"}\n',
        "environment_pairs[0].right.service",
        "required",
    ),
    ("bad output format", MINIMAL + '[[outputs]]\nformat = "pdf"\npath = "a.pdf"\n', "outputs[0].format", "one of"),
    ("malformed TOML", "projects = [\n", None, "malformed TOML"),
]


@pytest.mark.parametrize(("text", "where", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_is_one_input_error_naming_file_and_key(
    tmp_path: Path, text: str, where: str | None, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{where}: " if where else f"{path}: "), message
    assert expected in message, message
    assert raised.value.file == str(path)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "driftcheck.toml")
