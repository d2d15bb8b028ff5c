"""The GitHub Action (action.yml): its metadata against the documented schema, and its steps run as a runner runs
them, with the same inputs.

GitHub is not reachable from here, so the composite action is executed step by step: each `run:` step's shell
through `bash --noprofile --norc -eo pipefail` (what `shell: bash` runs), its `${{ … }}` expressions rendered by
the small renderer below (which refuses any expression it does not know, so it cannot misread one), its env as
written, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and RUNNER_TEMP in a temporary folder, and a step that fails ending the
action with its code, as on a runner. `uses:` steps are recorded, not run: setup-python's output is a recording
interpreter (so the install step's pip command is checked, not run), upload-sarif's inputs are checked against
the file the SARIF step wrote. `gh` is a fake on PATH that records its calls and lists canned comments.
driftcheck itself is the real one (.venv/bin), offline on the fixtures and live against the fake Google API.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import FIXTURES, ROOT, run_cli
from fakegcp import FakeGcpServer, World

ACTION = ROOT / "action.yml"
SCHEMA = Path(__file__).parent / "action-metadata.schema.json"
SCRIPTS = ROOT / ".github" / "actions" / "driftcheck"
MARKER = "<!-- driftcheck -->"
INCIDENT_INPUTS = {"target": "api", "baselines": "auth", "from": "fixtures/incident"}
PLAN_API = "fixtures/terraform/plan.json#google_cloud_run_v2_service.api"
PR = 7
REPO = "acme/app"


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return loaded


# The expression renderer -------------------------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_OPERAND = r"[A-Za-z_][\w.-]*|'[^']*'"
_COMPARISON = re.compile(rf"^({_OPERAND})\s*(==|!=)\s*({_OPERAND})$")
_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$")


def _lookup(path: str, context: dict[str, Any]) -> Any:
    if not _PATH.match(path):
        raise AssertionError(f"the test's renderer does not read {path!r}")
    root, *rest = path.split(".")
    if root not in context:
        raise AssertionError(f"unknown context {root!r} in {path!r}")
    if root == "inputs" and rest and rest[0] not in context["inputs"]:
        raise AssertionError(f"{path!r}: no such input")  # a typo would be '' on a runner: caught here
    value: Any = context[root]
    for part in rest:
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def _operand(text: str, context: dict[str, Any]) -> str:
    return text[1:-1] if text.startswith("'") else str(_lookup(text, context))


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """`a.b`, `a.b == 'x'`, `a.b != ''`, and those joined by `&&`: what action.yml uses, and nothing else."""
    if "&&" in expression:
        return all(evaluate(part.strip(), context) for part in expression.split("&&"))
    comparison = _COMPARISON.match(expression)
    if comparison:
        left, operator, right = comparison.groups()
        equal = _operand(left, context) == _operand(right, context)
        return equal if operator == "==" else not equal
    return _lookup(expression, context)


def render(text: str, context: dict[str, Any]) -> str:
    return _EXPRESSION.sub(lambda match: str(evaluate(match.group(1), context)), text)


def _holds(condition: Any, context: dict[str, Any]) -> bool:
    if condition is None:
        return True
    match = _EXPRESSION.fullmatch(str(condition).strip())
    return bool(evaluate(match.group(1) if match else str(condition), context))


# Running the action ------------------------------------------------------------------------------------------------


@dataclass
class ActionRun:
    code: int  # the action's: the first failing step's exit code, else 0
    ran: list[str]  # the names of the steps that ran, in order
    outputs: dict[str, dict[str, str]]  # step id -> what it wrote to GITHUB_OUTPUT
    uses: dict[str, dict[str, str]]  # action (without its ref) -> its rendered `with`
    summary: str
    log: str  # every run step's stdout and stderr
    workspace: Path
    gh_calls: list[dict[str, Any]] = field(default_factory=list)
    pip_calls: list[list[str]] = field(default_factory=list)
    # step id -> what the step was given (its rendered env, the caller's env) and what it did (exit code, log,
    # GITHUB_OUTPUT, what it appended to the job summary): what `run_action(replay=...)` takes instead of rerunning it
    steps: dict[str, tuple[dict[str, str], dict[str, str], int, str, dict[str, str], str]] = field(default_factory=dict)


_FAKE_GH = """#!{python}
# A fake `gh`: records each call (and the body file a -F body=@FILE names), lists the canned comments.
import json, os, sys
args = sys.argv[1:]
call = {{"args": args}}
for arg in args:
    if arg.startswith("body=@"):
        call["body"] = open(arg[len("body=@"):], encoding="utf-8").read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(call) + "\\n")
if args[:1] != ["api"]:
    sys.exit("fake gh: only `gh api` is expected")
if "--method" not in args:  # a GET: the comments, as --paginate prints them (one JSON array per page)
    sys.stdout.write(open(os.environ["FAKE_GH_COMMENTS"], encoding="utf-8").read())
"""

_RECORDING_PYTHON = """#!{python}
# setup-python's interpreter, as the install step runs it: records its arguments, installs nothing.
import json, os, sys
with open(os.environ["FAKE_PIP_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def _tool(path: Path, text: str) -> Path:
    path.write_text(text.format(python=sys.executable))
    path.chmod(0o755)
    return path


def run_action(
    tmp_path: Path,
    inputs: dict[str, str],
    *,
    event: str = "pull_request",
    comments: list[list[dict[str, Any]]] | None = None,
    env: dict[str, str] | None = None,
    workspace: Path = ROOT,
    replay: tuple[ActionRun, set[str]] | None = None,
) -> ActionRun:
    """The action's steps in order, as a runner runs a composite action: a step whose `if` does not hold is skipped,
    a failing step ends the action with its exit code (no step here says `always()`). `workspace`: the checkout of
    the repository the workflow runs in, the steps' working directory.

    `replay=(earlier, {step ids})`: those run steps are not run again but take the earlier run's result (exit code,
    log, outputs, job summary lines), which the test asserts is a run with the very same inputs (the step's rendered
    env and the caller's `env` are equal, the workspace too): a test of what differs after an expensive step that
    does not (the live project read once more) pays for it once."""
    action = _action()
    work = tmp_path / f"runner-{len(list(tmp_path.glob('runner-*')))}"
    shims, temp = work / "bin", work / "temp"
    shims.mkdir(parents=True)
    temp.mkdir()
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"not inputs of action.yml: {unknown}"
    github: dict[str, Any] = {"action_path": str(ROOT), "event_name": event, "token": "fake-token", "event": {}}
    if event == "pull_request":
        github["event"] = {"pull_request": {"number": PR}}
    context: dict[str, Any] = {"github": github, "steps": {}, "inputs": {}}
    for name, spec in action["inputs"].items():  # a default may itself be an expression (github.token)
        context["inputs"][name] = inputs.get(name, render(str(spec.get("default", "")), context))

    gh_log, pip_log, listed = work / "gh.log", work / "pip.log", work / "comments.json"
    listed.write_text("\n".join(json.dumps(page) for page in (comments or [[]])) + "\n")
    _tool(shims / "gh", _FAKE_GH)
    python = _tool(shims / "setup-python-python", _RECORDING_PYTHON)
    summary = work / "summary.md"
    summary.touch()
    base_env = {
        "PATH": os.pathsep.join([str(shims), str(ROOT / ".venv" / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "RUNNER_TEMP": str(temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_WORKSPACE": str(workspace),
        "FAKE_GH_LOG": str(gh_log),
        "FAKE_GH_COMMENTS": str(listed),
        "FAKE_PIP_LOG": str(pip_log),
        **(env or {}),
    }
    run = ActionRun(code=0, ran=[], outputs={}, uses={}, summary="", log="", workspace=workspace)
    for index, step in enumerate(action["runs"]["steps"]):
        if not _holds(step.get("if"), context):
            continue
        run.ran.append(step["name"])
        outputs: dict[str, str] = {}
        if "uses" in step:
            rendered = {key: render(str(value), context) for key, value in step.get("with", {}).items()}
            run.uses[step["uses"].split("@")[0]] = rendered
            if step["uses"].startswith("actions/setup-python@"):
                outputs = {"python-path": str(python)}
        else:
            assert step["shell"] == "bash"
            script, output = work / f"step-{index}.sh", work / f"output-{index}"
            script.write_text(render(step["run"], context))
            output.touch()
            step_env = {key: render(str(value), context) for key, value in step.get("env", {}).items()}
            if replay is not None and step.get("id") in replay[1]:
                given, given_env, code, log, outputs, appended = replay[0].steps[step["id"]]
                assert (given, given_env, replay[0].workspace) == (step_env, env or {}, workspace), step["name"]
                run.log += log
                with summary.open("a") as appending:
                    appending.write(appended)
                if code != 0:
                    run.code = code
                run.steps[step["id"]] = (step_env, env or {}, code, log, outputs, appended)
                context["steps"][step["id"]] = {"outputs": outputs}
                run.outputs[step["id"]] = outputs
                if run.code:
                    break
                continue
            before = summary.read_text()
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workspace,
                env={**base_env, **step_env, "GITHUB_OUTPUT": str(output)},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            run.log += done.stdout + done.stderr
            outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            if done.returncode != 0:
                run.code = done.returncode
            if "id" in step:
                appended = summary.read_text()[len(before) :]
                log = done.stdout + done.stderr
                run.steps[step["id"]] = (step_env, env or {}, done.returncode, log, outputs, appended)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
            run.outputs[step["id"]] = outputs
        if run.code:
            break
    run.summary = summary.read_text()
    run.gh_calls = [json.loads(line) for line in gh_log.read_text().splitlines()] if gh_log.exists() else []
    run.pip_calls = [json.loads(line) for line in pip_log.read_text().splitlines()] if pip_log.exists() else []
    return run


def _sarif(run: ActionRun) -> dict[str, Any]:
    path = Path(run.outputs["sarif"]["file"])
    assert path.is_file(), run.log
    sarif: dict[str, Any] = json.loads(path.read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "driftcheck"
    return sarif


def _methods(run: ActionRun) -> list[tuple[str, str]]:
    """Each `gh api` call as (method, endpoint)."""
    calls = []
    for call in run.gh_calls:
        args = call["args"]
        method = args[args.index("--method") + 1] if "--method" in args else "GET"
        endpoint = next(a for a in args[1:] if a.startswith("repos/"))
        calls.append((method, endpoint))
    return calls


# The metadata ------------------------------------------------------------------------------------------------------


def test_action_yml_is_valid_composite_metadata() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    action = _action()
    assert list(validator.iter_errors(action)) == []

    broken = copy.deepcopy(action)  # the schema is not a rubber stamp: a run step without its shell fails
    del next(s for s in broken["runs"]["steps"] if "run" in s)["shell"]
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(action)
    broken["inputs"]["target"]["required"] = "yes"
    assert list(validator.iter_errors(broken))


def test_every_action_is_pinned_by_commit_and_driftcheck_comes_from_the_action_s_checkout() -> None:
    text = ACTION.read_text()
    uses = re.findall(r"^\s*uses:\s*(\S+)(.*)$", text, flags=re.MULTILINE)
    assert {ref.split("@")[0] for ref, _ in uses} == {"actions/setup-python", "github/codeql-action/upload-sarif"}
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref  # a full commit SHA, never a tag
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), (ref, comment)  # with the version it is
    steps = {s["name"]: s for s in _action()["runs"]["steps"]}
    install = steps["Install driftcheck"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert "-m pip install" in install["run"] and '"$ACTION_PATH"' in install["run"]
    assert steps["Set up Python"]["with"]["python-version"] == "${{ inputs.python-version }}"
    assert re.fullmatch(r"3\.\d+", _action()["inputs"]["python-version"]["default"])  # a pinned minor version
    for step in steps.values():  # inputs reach a script through env only: no `${{ }}` pasted into shell
        assert "${{" not in step.get("run", ""), step["name"]


# The steps, run ----------------------------------------------------------------------------------------------------

PREVIOUS = [[{"id": 11, "body": "LGTM"}], [{"id": 42, "body": f"{MARKER}\n❌ 3 findings (stale)"}]]  # two pages


def test_a_failing_gate_fails_the_action_after_every_report_and_updates_its_comment(tmp_path: Path) -> None:
    run = run_action(tmp_path, INCIDENT_INPUTS, comments=PREVIOUS)

    assert run.code == 1, run.log  # the incident has a critical finding; fail-on defaults to high
    assert run.ran[-1] == "driftcheck (gate)" and run.outputs["gate"]["exit-code"] == "1"
    assert "Read the live project" not in run.ran  # evidence files: nothing live
    assert run.pip_calls == [["-m", "pip", "install", "--disable-pip-version-check", "--quiet", str(ROOT)]]

    sarif = _sarif(run)
    assert "vpc-access-missing" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    upload = run.uses["github/codeql-action/upload-sarif"]
    assert upload == {"sarif_file": run.outputs["sarif"]["file"], "category": "driftcheck"}

    markdown = Path(run.outputs["markdown"]["file"]).read_text()
    assert run.summary == markdown
    assert run.summary.splitlines()[0] == "❌ 2 findings (1 critical, 1 low)"  # the verdict line first

    assert _methods(run) == [
        ("GET", f"repos/{REPO}/issues/{PR}/comments"),
        ("PATCH", f"repos/{REPO}/issues/comments/42"),
    ]
    assert run.gh_calls[1]["body"] == f"{MARKER}\n{markdown}"  # the marker, then the report, in place of the old
    assert "--paginate" in run.gh_calls[0]["args"]


def test_without_a_comment_of_its_own_it_posts_one_then_updates_that_one(tmp_path: Path) -> None:
    first = run_action(tmp_path, {**INCIDENT_INPUTS, "fail-on": "none"}, comments=[[{"id": 11, "body": "LGTM"}]])
    assert first.code == 0, first.log
    assert _methods(first) == [
        ("GET", f"repos/{REPO}/issues/{PR}/comments"),
        ("POST", f"repos/{REPO}/issues/{PR}/comments"),
    ]
    posted = first.gh_calls[1]["body"]
    assert posted.startswith(f"{MARKER}\n")

    # the reports and the gate are as the first run made them (the same inputs): replayed, the comment step reruns
    again = run_action(
        tmp_path,
        {**INCIDENT_INPUTS, "fail-on": "none"},
        comments=[[{"id": 99, "body": posted}]],
        replay=(first, {"sarif", "markdown", "gate"}),
    )
    assert _methods(again)[1:] == [("PATCH", f"repos/{REPO}/issues/comments/99")]  # never a second comment


@pytest.mark.parametrize("fail_on", ["critical", "low", "none"])
def test_the_action_fails_exactly_when_driftcheck_s_gate_does(tmp_path: Path, fail_on: str) -> None:
    gate = run_cli("compare", "api", "auth", "--from", FIXTURES / "incident", "--fail-on", fail_on)
    assert gate.code in (0, 1)
    run = run_action(tmp_path, {**INCIDENT_INPUTS, "fail-on": fail_on}, event="push")

    assert run.code == gate.code == (0 if fail_on == "none" else 1), run.log
    assert run.outputs["gate"]["exit-code"] == str(gate.code)
    assert run.ran[-1] == "driftcheck (gate)"  # every report was written first, whatever the verdict
    assert "Comment on the pull request" not in run.ran and run.gh_calls == []  # a push: no pull request
    verdict = "✅" if gate.code == 0 else "❌"
    assert run.summary.startswith(verdict)
    _sarif(run)


def test_with_a_reviewed_baseline_file_known_findings_pass(tmp_path: Path) -> None:
    known = tmp_path / ".driftcheck-baseline.json"
    written = run_cli(
        "compare", "api", "auth", "--from", FIXTURES / "incident", "--baseline-file", known, "--update-baseline"
    )
    assert written.code == 0, written.stderr

    run = run_action(tmp_path, {**INCIDENT_INPUTS, "baseline-file": str(known)}, event="push")
    assert run.code == 0, run.log
    assert run.summary.splitlines()[0].startswith("✅") and "2 known" in run.summary.splitlines()[0]
    results = _sarif(run)["runs"][0]["results"]
    assert results and {r["baselineState"] for r in results} == {"unchanged"}


def test_bad_input_stops_the_action_at_the_first_report(tmp_path: Path) -> None:
    run = run_action(tmp_path, {**INCIDENT_INPUTS, "target": "no-such-service"}, comments=PREVIOUS)
    assert run.code == 2, run.log
    assert run.ran[-1] == "driftcheck (SARIF)"
    assert run.gh_calls == [] and run.summary == ""
    assert "no-such-service" in run.log


@pytest.fixture
def fake_api() -> Iterator[FakeGcpServer]:
    with FakeGcpServer(World.from_folder(FIXTURES / "incident-live")) as server:
        yield server


def test_live_the_project_is_read_once_and_a_plan_is_the_target(tmp_path: Path, fake_api: FakeGcpServer) -> None:
    live = {"project": "netra-staging", "region": "us-central1"}
    env = {"DRIFTCHECK_ENDPOINT": fake_api.address}

    plan = run_action(tmp_path, {"target": PLAN_API, "baselines": "auth", **live}, env=env, event="push")
    assert plan.code == 0, plan.log  # what the plan deploys differs from auth only by its account (low)
    assert plan.ran[:3] == ["Set up Python", "Install driftcheck", "Read the live project"]
    assert fake_api.counts["ListServices"] == 1  # one snapshot, three reports from it
    results = _sarif(plan)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["service-account-mismatch"]

    # the same project read with the same inputs: the snapshot step's result is the plan run's, not read again
    once = (plan, {"live"})
    strict = run_action(
        tmp_path,
        {"target": PLAN_API, "baselines": "auth", **live, "fail-on": "low"},
        env=env,
        event="push",
        replay=once,
    )
    assert strict.code == 1, strict.log

    failing = run_action(tmp_path, {"target": "api", "baselines": "auth", **live}, env=env, event="push", replay=once)
    assert failing.code == 1 and failing.summary.startswith("❌"), failing.log
