"""An offline compare never loads the Google clients or gRPC: they are most of a live run's start-up time.

Each probe runs a real compare in a fresh interpreter (runpy, as `python -m driftcheck` would) and then lists the
modules loaded; timings are left to benchmarks/bench_compare.py, never asserted here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

FORBIDDEN = ("google", "grpc")
PROBE = """
import json, runpy, sys
sys.argv = ["driftcheck", *json.loads(sys.argv[1])]
try:
    {run}
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r})
sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")
"""


def _loaded(run: str, *args: str) -> tuple[list[str], str]:
    """The google/grpc modules loaded after `run`, and what it printed."""
    code = PROBE.format(run=run, forbidden=FORBIDDEN)
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    marker = done.stderr.rpartition("\nLOADED ")[2]
    assert marker, f"the probe did not finish: {done.stderr[-2000:]}"
    loaded: list[str] = json.loads(marker)
    return loaded, done.stdout


@pytest.mark.parametrize("output_format", ["table", "json", "markdown"])
def test_offline_compare_loads_no_google_or_grpc_module(output_format: str) -> None:
    args = ("compare", "api", "auth", "--from", "fixtures/incident", "--format", output_format, "--fail-on", "none")
    loaded, report = _loaded('runpy.run_module("driftcheck", run_name="__main__")', *args)
    assert "vpc-access-missing" in report  # the compare really ran
    assert loaded == [], f"an offline compare imported {loaded[:10]}"


def test_rules_list_loads_no_google_or_grpc_module() -> None:
    loaded, listing = _loaded('runpy.run_module("driftcheck", run_name="__main__")', "rules", "list")
    assert "vpc-access-missing" in listing
    assert loaded == []


def test_probe_sees_google_modules_when_they_are_loaded() -> None:
    """Guard against a vacuous pass: importing the live sources must show up in the same probe."""
    loaded, _ = _loaded("import driftcheck.jobs.compare_live")
    assert any(m.startswith("google.") for m in loaded) and any(m.startswith("grpc") for m in loaded)


def test_merge_of_local_partials_loads_no_google_or_grpc_module(tmp_path: Path) -> None:
    """The merge job reads files and analyses: it must not pay for (or need) the Google clients."""
    empty = {"driftcheck_audit_partial": 1, "shard": "0/1", "config": "x", "projects": [], "collected": []}
    (tmp_path / "part-0-of-1.json").write_text(json.dumps(empty))
    config = tmp_path / "driftcheck.toml"
    config.write_text('projects = []\nregions = ["us-central1"]\n')  # as the partial: merge checks they match
    args = ("merge", str(tmp_path), "--config", str(config), "--format", "json")
    loaded, report = _loaded('runpy.run_module("driftcheck", run_name="__main__")', *args)
    assert json.loads(report)["status"]["reason"] == "audit of 0 services in 0 projects"  # the merge really ran
    assert loaded == [], f"a local merge imported {loaded[:10]}"


# What an offline compare of gcloud exports does not use, and so must not import (benchmarks/bench_startup.py measures
# what that saves): the other commands' modules, the Terraform parsers, the field check of user rules (and its CEL
# parser), and rich unless the table is printed.
NOT_FOR_AN_EXPORT_COMPARE = (
    "driftcheck.cli.audit",
    "driftcheck.cli.drift",
    "driftcheck.cli.snapshot",
    "driftcheck.cli.rules",
    "driftcheck.jobs.audit",
    "driftcheck.jobs.drift",
    "driftcheck.jobs.compare_live",
    "driftcheck.sources.terraform_state",
    "driftcheck.sources.terraform_plan",
    "driftcheck.sources.terraform_resources",
    "driftcheck.sources.terraform_network",
    "driftcheck.sources.terraform_hcl",
    "driftcheck.ruleset.fieldcheck",
    "driftcheck.ruleset.celsyntax",
    "hcl2",
)
ALL_MODULES = """
import contextlib, io, json, runpy, sys
sys.argv = ["driftcheck", *json.loads(sys.argv[1])]
report = io.StringIO()
try:
    with contextlib.redirect_stdout(report):
        runpy.run_module("driftcheck", run_name="__main__")
except SystemExit:
    pass
print(json.dumps({"modules": sorted(sys.modules), "report": report.getvalue()}))
"""


def _modules_of(*args: str) -> tuple[set[str], str]:
    """Every module a `python -m driftcheck ARGS` run loaded, and its report."""
    done = subprocess.run(
        [sys.executable, "-c", ALL_MODULES, json.dumps(args)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    return set(seen["modules"]), seen["report"]


def _under(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_offline_compare_imports_neither_other_commands_nor_terraform_nor_rich(output_format: str) -> None:
    args = ("compare", "api", "auth", "--from", "fixtures/incident", "--format", output_format, "--fail-on", "none")
    modules, report = _modules_of(*args)
    assert "vpc-access-missing" in report  # the compare really ran
    assert "deepdiff" in modules  # and really diffed the two services
    assert _under(modules, NOT_FOR_AN_EXPORT_COMPARE) == []
    assert _under(modules, ("rich",)) == [], "only the table format needs rich"


def test_probe_sees_rich_and_terraform_when_they_are_used() -> None:
    """Guard against a vacuous pass: the table loads rich; a Terraform state in the evidence loads its parser."""
    modules, report = _modules_of("compare", "api", "auth", "--from", "fixtures/incident", "--fail-on", "none")
    assert "vpc-access-missing" in report and "rich.console" in modules
    state = ROOT / "fixtures" / "terraform" / "auth-v2.tfstate"
    with_state = ("compare", "api", "auth", "--from", "fixtures/incident", "--from", str(state), "-f", "json")
    modules, _ = _modules_of(*with_state)
    assert {"driftcheck.sources.terraform_state", "driftcheck.sources.terraform_resources"} <= modules


def test_version_and_rules_list_import_no_diff_engine() -> None:
    """deepdiff (with cachebox and asyncio) is imported at the first real difference, not at start-up."""
    modules, _ = _modules_of("--version")
    assert _under(modules, ("deepdiff", "cachebox", "driftcheck.ruleset.load", "driftcheck.cli.compare")) == []
    modules, listing = _modules_of("rules", "list")
    assert "vpc-access-missing" in listing
    assert _under(modules, ("deepdiff", "cachebox", "driftcheck.cli.compare", "driftcheck.cli.audit")) == []


def test_offline_compare_imports_no_pydantic() -> None:
    """typer 0.29 coerced every option through pydantic, and deepdiff imports `pydantic.main` when it can: ~60 ms
    each (benchmarks/README.md). A compare loads neither (cli/app.py's typer, compare/diff.py's `_deepdiff`)."""
    args = ("compare", "api", "auth", "--from", "fixtures/incident", "--format", "json", "--fail-on", "none")
    modules, report = _modules_of(*args)
    assert "vpc-access-missing" in report and "deepdiff" in modules  # the compare really ran and diffed
    assert _under(modules, ("pydantic", "pydantic_core")) == []


def test_pydantic_is_importable_after_deepdiff_was_imported_without_it() -> None:
    """compare/diff.py hides pydantic from deepdiff's import only while it runs: a later `import pydantic` works."""
    if importlib.util.find_spec("pydantic") is None:
        pytest.skip("pydantic is not installed")
    code = (
        "import sys\n"
        "from driftcheck.compare.diff import _deepdiff\n"
        "_deepdiff()\n"
        "assert 'deepdiff' in sys.modules and 'pydantic' not in sys.modules, sorted(sys.modules)\n"
        "import pydantic.main\n"
        "print(pydantic.main.BaseModel.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "BaseModel\n"
