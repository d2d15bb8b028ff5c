"""secret-mount-items: a file the service reads under a secret volume that the volume's items do not provide."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, FIXTURES, run_cli

RULE = "secret-mount-items"
FOLDER = FIXTURES / "rules" / RULE  # exporter reads /secrets/sa/key.json; its volume provides credentials.json


def fired(folder: Path = FOLDER) -> list[dict[str, Any]]:
    run = run_cli("check", "exporter", "--from", folder, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return [f for f in run.json()["findings"] if f["rule"] == RULE]


def with_item(tmp_path: Path, path: str) -> Path:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    target = yaml.safe_load((folder / "target.yaml").read_text())
    target["spec"]["template"]["spec"]["volumes"][0]["secret"]["items"][0]["path"] = path
    (folder / "target.yaml").write_text(yaml.safe_dump(target))
    return folder


def test_fires_names_both_paths_and_explains_the_start_failure() -> None:
    (finding,) = fired()
    said = finding["explanation"]
    assert "exporter reads /secrets/sa/key.json (GOOGLE_APPLICATION_CREDENTIALS)" in said  # a path: not masked
    assert "provides only /secrets/sa/credentials.json" in said
    assert finding["severity"] == "critical" and "container-start-failed" in finding["corroborated_by"]


def test_silent_when_the_item_provides_the_file(tmp_path: Path) -> None:
    assert not fired(with_item(tmp_path, "key.json"))


def test_silent_when_the_env_value_is_outside_the_mount(tmp_path: Path) -> None:
    folder = shutil.copytree(FOLDER, tmp_path / "evidence")
    target = yaml.safe_load((folder / "target.yaml").read_text())
    for var in target["spec"]["template"]["spec"]["containers"][0]["env"]:
        if var["name"] == "GOOGLE_APPLICATION_CREDENTIALS":
            var["value"] = "/etc/keys/key.json"
    (folder / "target.yaml").write_text(yaml.safe_dump(target))
    assert not fired(folder)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")
def test_silent_on_every_service_of_the_shared_corpus() -> None:
    from driftcheck.errors import DriftcheckError
    from driftcheck.jobs.compare import compare
    from driftcheck.ruleset.load import load_ruleset

    ruleset = load_ruleset()
    loud, checked = [], 0
    for path in sorted((CORPUS / "knative").glob("*.y*ml")):
        try:
            result = compare(str(path), [], [], ruleset, alone=True)
        except DriftcheckError:  # not one valid service: not this rule's case
            continue
        checked += 1
        loud += [(path.name, f.explanation) for f in result.findings if f.rule == RULE]
    assert checked > 30 and not loud
