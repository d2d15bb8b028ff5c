"""docs/rules.md stays true: its rules load, its walkthrough gives the findings and the error it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from conftest import INCIDENT, ROOT, run_cli

GUIDE = ROOT / "docs" / "rules.md"
EDIT = ("timeoutSeconds: 3600", "timeoutSeconds: 60")  # the guide's `sed` on evidence/api.yaml


def _blocks(language: str) -> list[str]:
    """The guide's fenced blocks of one language ("" for the plain ones that show output)."""
    fences = re.findall(r"^```(\w*)\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [text for found, text in fences if found == language]


def _walkthrough(tmp_path: Path) -> tuple[Path, Path]:
    """The guide's evidence and rules folders, built as it says."""
    assert f"sed -i 's/{EDIT[0]}/{EDIT[1]}/' evidence/api.yaml" in GUIDE.read_text(encoding="utf-8")
    evidence, rules = tmp_path / "evidence", tmp_path / "my-rules"
    shutil.copytree(INCIDENT, evidence)
    (evidence / "api.yaml").write_text((evidence / "api.yaml").read_text().replace(*EDIT))
    rules.mkdir()
    for block in _blocks("yaml"):
        (rules / f"{yaml.safe_load(block)['id']}.yaml").write_text(block)
    return evidence, rules


def test_the_guide_s_rules_fire_with_the_sentences_it_shows(tmp_path: Path) -> None:
    evidence, rules = _walkthrough(tmp_path)
    assert len(list(rules.iterdir())) == 2
    run = run_cli("compare", "api", "auth", "--from", evidence, "--rules", rules, "--format", "json")
    assert run.code == 1 and not run.stderr, run.stderr  # 1: the incident's critical finding, at --fail-on high
    said = {f["rule"]: f["explanation"] for f in run.json()["findings"]}
    shown = " ".join(" ".join(block.split()) for block in _blocks(""))
    for rule in ("request-timeout-shorter", "private-address-without-vpc"):
        assert said[rule] in shown, said[rule]


def test_the_guide_s_error_is_the_one_a_misspelt_field_gives(tmp_path: Path) -> None:
    evidence, rules = _walkthrough(tmp_path)
    rule = rules / "request-timeout-shorter.yaml"
    rule.write_text(rule.read_text().replace("{{ target.label }} ends", "{{ target.lable }} ends"))
    run = run_cli("compare", "api", "auth", "--from", evidence, "--rules", rules)
    assert run.code == 2
    shown = next(line for block in _blocks("") for line in block.splitlines() if line.startswith("driftcheck: error"))
    assert run.stderr.strip().replace(str(tmp_path) + "/", "") == shown
