"""docs/pre-deploy.md cannot rot: every `driftcheck …` line of its code blocks runs, in the page's order, through
bash as a pipeline would run it, with the page's placeholder table as the environment, in a folder holding the
files the pipelines make before it (a Terraform plan's JSON, a rendered service.yaml), against the fake Google API
serving the audit world (netra-staging and netra-prod). Its GitHub Actions workflow runs the action's steps
(tests/test_action.py) with the inputs it gives, and its pre-commit config runs the hook it names.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import AUDIT, FIXTURES, INCIDENT, ROOT
from fakegcp import FakeGcpServer, World
from test_action import run_action

DOC = ROOT / "docs" / "pre-deploy.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_ROW = re.compile(r"^\| `\$(\w+)` \| [^|]+ \| `([^`]+)` \|$", re.MULTILINE)
_COMMAND = re.compile(r"^\s*(?:- )?(driftcheck\s.*?)(?:\s+#\s.*)?\s*$")  # a shell comment: " # ..."
_PINNED = re.compile(r"^\s*-? *uses: ([\w.-]+/[\w./-]+)@(\S+)(.*)$", re.MULTILINE)


def _text() -> str:
    return DOC.read_text()


def placeholders() -> dict[str, str]:
    """The page's one table of placeholders: variable -> the example value."""
    rows = dict(_ROW.findall(_text()))
    assert rows, "the placeholder table is gone"
    return rows


def blocks() -> list[tuple[str, str]]:
    return _BLOCK.findall(_text())


def commands() -> list[str]:
    """Every driftcheck line of every code block, in the page's order (a comment after it dropped)."""
    found = []
    for _, body in blocks():
        for line in body.splitlines():
            match = _COMMAND.match(line)
            if match:
                found.append(match.group(1))
    return found


def _yaml_block(containing: str) -> dict[str, Any]:
    (body,) = [body for kind, body in blocks() if kind == "yaml" and containing in body]
    loaded: dict[str, Any] = yaml.safe_load(body)
    return loaded


@pytest.fixture
def fake_api() -> Iterator[FakeGcpServer]:
    with FakeGcpServer(World.from_folder(AUDIT / "world")) as server:
        yield server


def _workspace(folder: Path) -> Path:
    """What a pipeline has made before driftcheck runs: plan.json (`terraform show -json`), a rendered service.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "terraform" / "plan.json", folder / "plan.json")
    shutil.copy(INCIDENT / "api.yaml", folder / "service.yaml")
    return folder


def _environment(server: FakeGcpServer) -> dict[str, str]:
    return {
        **placeholders(),
        "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DRIFTCHECK_ENDPOINT": server.address,
    }


def test_the_page_covers_each_check_and_names_each_placeholder_it_uses() -> None:
    found = commands()
    shown = " ".join(found)
    for needed in (
        'compare "plan.json#$ADDRESS" "$PEER"',
        "compare service.yaml",
        'compare "staging.json#$SERVICE" "prod.json#$SERVICE"',
        "--update-baseline",
        "--baseline-file .driftcheck-baseline.json",
        "check --files service.yaml",
        "snapshot --project",
    ):
        assert needed in shown, needed
    used = {name for command in found for name in re.findall(r"\$(\w+)", command)}
    assert used and used <= set(placeholders()), used - set(placeholders())


def test_every_driftcheck_command_of_the_page_runs(tmp_path: Path, fake_api: FakeGcpServer) -> None:
    work, env = _workspace(tmp_path / "repo"), _environment(fake_api)
    ran: list[tuple[str, int]] = []
    for command in commands():
        if command in dict(ran):  # a line the page gives twice (the adopted gate, Cloud Build's): run once
            ran.append((command, dict(ran)[command]))
            continue
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode in (0, 1), f"{command}\n{done.stderr}"  # a verdict, never a usage or input error
        assert "error:" not in done.stderr, f"{command}\n{done.stderr}"
        ran.append((command, done.returncode))
        if command.startswith("driftcheck snapshot"):  # no verdict to give: it only reads
            assert done.returncode == 0, f"{command}\n{done.stderr}"
        if "--update-baseline" in command:
            assert done.returncode == 0
            assert json.loads((work / ".driftcheck-baseline.json").read_text())["findings"]
    # what the page says of them: the adopted baseline passes the plan that wrote it; staging fails against prod
    gated = [code for command, code in ran if "--baseline-file" in command and "--update-baseline" not in command]
    assert gated and set(gated) == {0}
    promotion = [code for command, code in ran if "staging.json#" in command]
    assert promotion == [1]  # staging's api lost its VPC connector: critical
    assert (work / "driftcheck.xml").is_file() and (work / "driftcheck.md").is_file()  # GitLab's reports


def test_the_github_workflow_runs_the_action_with_its_inputs(tmp_path: Path, fake_api: FakeGcpServer) -> None:
    workflow = _yaml_block("uses: OWNER/driftcheck@")
    (job,) = workflow["jobs"].values()
    table = placeholders()
    assert {name: job["env"][name] for name in job["env"]} == {name: table[name] for name in job["env"]}
    assert workflow["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "security-events": "write",
        "pull-requests": "write",
    }
    body = next(body for kind, body in blocks() if "uses: OWNER/driftcheck@" in body)
    for action, ref, comment in _PINNED.findall(body):
        if action != "OWNER/driftcheck":
            assert re.fullmatch(r"[0-9a-f]{40}", ref) and re.fullmatch(r" # v\d+\.\d+\.\d+", comment), action

    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("OWNER/driftcheck@")]
    inputs = {
        name: re.sub(r"\$\{\{ env\.(\w+) \}\}", lambda m: str(job["env"][m.group(1)]), str(value))
        for name, value in step["with"].items()
    }
    repo = tmp_path / "repo"
    infra = _workspace(repo / "infra")  # the plan step writes infra/plan.json
    # (the page's `driftcheck snapshot` lines, which write nothing this adoption reads, exit 0 in the test above)
    adoption = [c for c in commands() if "--update-baseline" in c]
    for command in adoption:  # the reviewed baseline file the workflow names, adopted as the page says
        done = subprocess.run(
            ["bash", "-c", command], cwd=infra, env=_environment(fake_api), capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
    (infra / ".driftcheck-baseline.json").rename(repo / ".driftcheck-baseline.json")

    run = run_action(tmp_path, inputs, env={"DRIFTCHECK_ENDPOINT": fake_api.address}, workspace=repo)
    assert run.code == 0, run.log  # every finding known: the gate passes
    assert "Read the live project" in run.ran and run.ran[-1] == "driftcheck (gate)"
    assert run.summary.splitlines()[0].startswith("✅")
    assert [call["args"][:2] for call in run.gh_calls][-1] == ["api", "--method"]  # the pull request's comment


def test_the_pre_commit_config_runs_the_hook_it_names(tmp_path: Path) -> None:
    config = _yaml_block("driftcheck-check")
    (hook,) = config["repos"][0]["hooks"]
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hook["id"] in hooks
    work = _workspace(tmp_path / "repo")
    command = [*shlex.split(hooks[hook["id"]]["entry"]), *hook.get("args", []), "service.yaml"]
    done = subprocess.run(
        command,
        cwd=work,
        env={"PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), "/usr/bin", "/bin"]), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
