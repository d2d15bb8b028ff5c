"""The layering is import-linter's contracts in pyproject.toml ([tool.importlinter]): kept here, and shown to bite.

`lint-imports` also runs in .ci/run; this test keeps the check in the README's test command, and proves each contract
is not vacuous by breaking it in a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Per contract id: a file of the package, the line appended to it in the copy, and the import the report must name.
BREAKS = {
    "stages": ("model.py", "import driftcheck.cli", "driftcheck.model -> driftcheck.cli"),
    "jobs": ("jobs/config.py", "import driftcheck.jobs.audit", "driftcheck.jobs.config -> driftcheck.jobs.audit"),
    "google-live-only": ("compare/diff.py", "import grpc", "driftcheck.compare.diff -> grpc"),
}


def _contracts() -> dict[str, str]:
    """Contract id -> name, as pyproject.toml declares them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract["name"] for contract in config["tool"]["importlinter"]["contracts"]}


def _lint_imports(cwd: Path) -> tuple[int, str]:
    """Run lint-imports on the pyproject.toml and the driftcheck package found in `cwd`; its exit code and report,
    whitespace collapsed (the report wraps long contract names)."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200"}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def test_the_import_contracts_are_kept() -> None:
    code, report = _lint_imports(ROOT)
    assert code == 0, report
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in report


def test_each_contract_fails_when_broken(tmp_path: Path) -> None:
    """An upward import, a job importing the job above it, grpc outside sources/live, and a stage not placed in the
    layers: each must break its contract (in a copy, so the package itself is untouched)."""
    contracts = _contracts()
    assert set(BREAKS) == set(contracts), "each contract needs a break in BREAKS that proves it is checked"
    package = tmp_path / "driftcheck"
    shutil.copytree(ROOT / "driftcheck", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for path, line, _ in BREAKS.values():
        with (package / path).open("a", encoding="utf-8") as module:
            module.write(f"\n{line}\n")
    (package / "unplaced.py").write_text('"""A new stage nobody placed in the layers."""\n')

    code, report = _lint_imports(tmp_path)
    assert code == 1, report
    assert f"Contracts: 0 kept, {len(contracts)} broken." in report
    for contract_id, (_, _, named) in BREAKS.items():
        assert f"{contracts[contract_id]} BROKEN" in report
        assert f"- {named} (l." in report, f"{contract_id}: {named} not reported"
    assert "not listed as layers: - driftcheck.unplaced" in report  # `exhaustive`: a new stage must be placed
