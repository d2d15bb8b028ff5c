"""docs/scheduled-audits.md and the Dockerfile stay true to the tools they drive.

- every `gcloud ...` command in the guide's bash blocks names a command the installed gcloud has, and every
  `--flag` it uses appears in that command's help (skipped when gcloud is not installed);
- every `driftcheck SUBCOMMAND` the guide runs (directly, or as a Cloud Run job's `--args`) is listed by
  `driftcheck --help`, and each of its `--options` by `driftcheck SUBCOMMAND --help`;
- the Dockerfile's ENTRYPOINT is driftcheck, its CMD a real subcommand, it runs as non-root, and `.dockerignore`
  keeps what the image build copies;
- the guide's driftcheck.toml is a valid audit configuration;
- every Cloud Scheduler job runs in UTC, and no scheduled run can overlap the next one (task timeout x (retries + 1),
  and the Workflows connector timeouts);
- the Workflows, GitHub Actions and organization variants enable the APIs and grant the roles they need, and the
  organization audit and merge jobs run as written against the fake: the merge, without a configuration file,
  gives the unsharded audit's report.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest
from conftest import AUDIT, ROOT, Run, run_cli
from fakegcp import FakeGcpServer, World

GUIDE = ROOT / "docs" / "scheduled-audits.md"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A command substitution `$(gcloud ...)`, checked as a command of its own.
SUBSTITUTION = re.compile(r"\$\((gcloud\b[^()]*(?:\([^()]*\)[^()]*)*)\)")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), flags=re.M | re.S)


def _shell_commands() -> list[list[str]]:
    """Every simple command of the guide's bash blocks, as argv lists (comments dropped, continuations joined)."""
    commands: list[list[str]] = []
    for block in _blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            for inner in SUBSTITUTION.findall(line):
                commands.extend(_split(inner))
            commands.extend(_split(SUBSTITUTION.sub("SUBST", line)))
    return commands


def _split(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.commenters = "#"
    lexer.whitespace_split = True
    result: list[list[str]] = [[]]
    for token in lexer:
        if token in {"|", "||", "&&", ";", "&", "(", ")"}:
            result.append([])
        else:
            result[-1].append(token)
    commands = []
    for argv in result:
        # `for x in ...; do gcloud ...` and `export A=b`: the command is what follows the shell keyword.
        while argv and argv[0] in {"do", "then", "else", "done", "fi", "!"}:
            argv = argv[1:]
        if argv:
            commands.append(argv)
    return commands


def _gcloud_commands() -> list[list[str]]:
    return [argv[1:] for argv in _shell_commands() if argv[0] == "gcloud"]


def _command_words(args: list[str]) -> tuple[str, ...]:
    """The leading words of a gcloud invocation (the command path, plus any positional that looks like a word)."""
    words = []
    for token in args:
        if token.startswith("-") or not re.fullmatch(r"[a-z][a-z0-9-]*", token):
            break
        words.append(token)
    return tuple(words)


def _flags(args: list[str]) -> set[str]:
    return {token.split("=", 1)[0] for token in args if re.match(r"--[a-z]", token)}


@cache
def _gcloud_help(words: tuple[str, ...]) -> tuple[int, str]:
    env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1"}
    proc = subprocess.run(
        ["gcloud", *words, "--help"], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    return proc.returncode, ANSI.sub("", proc.stdout + proc.stderr)


def test_guide_has_commands_to_check() -> None:
    gcloud = _gcloud_commands()
    assert len(gcloud) >= 15, gcloud
    assert {"run", "scheduler", "iam", "secrets", "storage"} <= {args[0] for args in gcloud}


@pytest.mark.slow  # a gcloud --help per command path
@pytest.mark.skipif(shutil.which("gcloud") is None, reason="the gcloud CLI is not installed")
def test_every_gcloud_command_and_flag_exists() -> None:
    commands = _gcloud_commands()
    paths = sorted({_command_words(args) for args in commands})
    with ThreadPoolExecutor(max_workers=8) as pool:  # about a second per `gcloud ... --help`
        helps = dict(zip(paths, pool.map(_gcloud_help, paths), strict=True))
    problems = []
    for args in commands:
        words = _command_words(args)
        code, text = helps[words]
        if code != 0:
            problems.append(f"gcloud {' '.join(words)}: not a command ({text.strip().splitlines()[:1]})")
            continue
        name = re.search(r"^NAME\n\s+gcloud ([a-z0-9 -]+?) - ", text, flags=re.M)
        path = tuple(name.group(1).split()) if name else ()
        if name is None or words[: len(path)] != path:
            problems.append(f"gcloud {' '.join(words)}: help names another command ({name and name.group(1)})")
            continue
        for flag in sorted(_flags(args)):
            if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                problems.append(f"gcloud {name.group(1)}: no flag {flag}")
    assert not problems, "\n".join(problems)


def _driftcheck_invocations() -> list[list[str]]:
    """`driftcheck ...` in the bash blocks, and the argv that `gcloud run jobs create --args=` hands the image."""
    found = [argv[1:] for argv in _shell_commands() if argv[0] == "driftcheck"]
    for args in _gcloud_commands():
        if _command_words(args)[:3] == ("run", "jobs", "create"):
            for token in args:
                if token.startswith("--args="):
                    found.append(token.removeprefix("--args=").split(","))
    return found


def _driftcheck(*args: str) -> Run:
    return run_cli(*args, env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


@cache
def _subcommands() -> frozenset[str]:
    proc = _driftcheck("--help")
    assert proc.code == 0, proc.stderr
    section = proc.stdout.split("Commands", 1)[1]
    return frozenset(re.findall(r"^\W*([a-z][a-z-]*)\s{2,}\S", section, flags=re.M))


def _docker_instruction(name: str) -> str:
    lines = [line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines() if line.startswith(f"{name} ")]
    assert lines, f"no {name} in the Dockerfile"
    return lines[-1].removeprefix(f"{name} ").strip()


def test_driftcheck_subcommands_and_options_in_the_guide_exist() -> None:
    invocations = _driftcheck_invocations()
    used = {args[0] for args in invocations}
    assert {"audit", "merge", "history"} <= used, used
    cmd = json.loads(_docker_instruction("CMD"))
    used.add(cmd[0])
    missing = sorted(used - _subcommands())
    assert not missing, f"driftcheck --help lists {sorted(_subcommands())}; the guide and Dockerfile use {missing}"
    problems = []
    for sub in sorted(used):
        proc = _driftcheck(sub, "--help")
        options = {flag for args in invocations if args[0] == sub for flag in _flags(args)}
        options |= _flags(cmd) if cmd[0] == sub else set()
        problems += [f"driftcheck {sub}: no option {flag}" for flag in sorted(options) if flag not in proc.stdout]
    assert not problems, "\n".join(problems)


def test_dockerfile_runs_driftcheck_as_non_root() -> None:
    assert json.loads(_docker_instruction("ENTRYPOINT")) == ["driftcheck"]
    assert _docker_instruction("FROM").startswith("python:3.11-slim")
    user = _docker_instruction("USER").split(":")[0]
    assert user not in {"root", "0"}, user
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "pip install --no-cache-dir ." in text
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "PYTHONUNBUFFERED=1" in text


def test_dockerignore_keeps_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        word
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for word in line.split()[1:-1]
    ]
    assert {"pyproject.toml", "README.md", "driftcheck", "rules"} <= set(sources), sources
    for source in sources:
        assert (ROOT / source).exists(), source
        excluded = [p for p in patterns if not p.startswith("!") and fnmatch(source, p.removeprefix("/"))]
        assert not excluded, f".dockerignore drops {source} (by {excluded}) but the Dockerfile copies it"


def test_guide_configuration_is_valid(tmp_path: Path) -> None:
    from driftcheck.jobs.config import load_config

    (toml,) = _blocks("toml")
    path = tmp_path / "driftcheck.toml"
    path.write_text(toml, encoding="utf-8")
    config = load_config(path)
    assert list(config.projects) == ["netra-staging", "netra-prod", "netra-data"]


def _option(args: list[str], flag: str) -> str | None:
    """The value of `--flag VALUE` or `--flag=VALUE` in a gcloud argv (the last one given)."""
    found = None
    for i, token in enumerate(args):
        if token == flag and i + 1 < len(args):
            found = args[i + 1]
        elif token.startswith(f"{flag}="):
            found = token.split("=", 1)[1]
    return found


def _minutes(duration: str) -> int:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match and any(match.groups()), duration
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 60 + minutes + -(-seconds // 60)


def _run_jobs() -> dict[str, int]:
    """Each Cloud Run job the guide creates, and the longest its execution can take, in minutes: task timeout x
    (retries + 1), times the waves when fewer tasks run at once than there are (an unset parallelism counts as 1)."""
    worst = {}
    for args in _gcloud_commands():
        if _command_words(args)[:3] != ("run", "jobs", "create"):
            continue
        tasks = int(_option(args, "--tasks") or 1)
        waves = -(-tasks // int(_option(args, "--parallelism") or 1))
        timeout, retries = _option(args, "--task-timeout"), _option(args, "--max-retries")
        assert timeout and retries is not None, f"{args[3]}: state --task-timeout and --max-retries"
        worst[args[3]] = _minutes(timeout) * (int(retries) + 1) * waves
    return worst


def _scheduler_jobs() -> list[list[str]]:
    return [args for args in _gcloud_commands() if _command_words(args)[:4] == ("scheduler", "jobs", "create", "http")]


def _daily_start(schedule: str) -> int:
    minute, hour, *rest = schedule.split()
    assert rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit(), f"not a daily schedule: {schedule}"
    return int(hour) * 60 + int(minute)


def test_every_scheduler_job_runs_in_utc() -> None:
    """A daily 02:00 in a zone with daylight saving is skipped once a year and may run twice once (Cloud Scheduler
    runs on wall-clock time; Google recommends UTC)."""
    jobs = _scheduler_jobs()
    assert len(jobs) >= 5, jobs
    wrong = {
        args[4]: _option(args, "--time-zone") for args in jobs if _option(args, "--time-zone") not in {"Etc/UTC", "UTC"}
    }
    assert not wrong, f"Cloud Scheduler jobs not in UTC: {wrong}"


def test_no_scheduled_run_overlaps_the_next() -> None:
    """Each gap between two scheduled starts of the guide's Cloud Run jobs (around the clock) exceeds the longest the
    first execution can take: task timeout x (retries + 1). The workflow variant runs its two jobs one after the other,
    waiting at most its connector timeouts, which must cover each job's longest execution."""
    worst = _run_jobs()
    starts = []
    for args in _scheduler_jobs():
        uri = _option(args, "--uri") or ""
        target = re.search(r"/jobs/([a-z0-9-]+):run$", uri)
        if target:
            starts.append((_daily_start(_option(args, "--schedule") or ""), target.group(1)))
    assert {job for _, job in starts} == set(worst), (starts, worst)
    starts.sort()
    for (start, job), (following, other) in zip(starts, [*starts[1:], starts[0]], strict=True):
        gap = (following - start) % (24 * 60) or 24 * 60
        assert gap > worst[job], f"{job} may run {worst[job]} min, but {other} starts {gap} min after it"
    (workflow,) = _blocks("yaml")[:1]
    timeouts = re.findall(r'name: \$\{parent \+ "/([a-z0-9-]+)"\}.*?timeout: (\d+)', workflow, flags=re.S)
    assert [job for job, _ in timeouts] == ["driftcheck-audit", "driftcheck-merge"], timeouts
    assert all(int(seconds) > worst[job] * 60 for job, seconds in timeouts), (timeouts, worst)
    assert sum(worst[job] for job, _ in timeouts) < 24 * 60


def test_the_variants_name_the_apis_and_roles_they_need() -> None:
    """Workflows: its API and the invoker role for the scheduler's account; GitHub Actions: Workload Identity User on
    the service account for the pool's principal; the organization audit: the Cloud Asset API and Cloud Asset Viewer
    on the organization."""
    commands = _gcloud_commands()

    def granted(words: tuple[str, ...], role: str) -> list[list[str]]:
        return [a for a in commands if _command_words(a)[: len(words)] == words and _option(a, "--role") == role]

    enabled = {api for args in commands if _command_words(args)[:2] == ("services", "enable") for api in args[2:]}
    assert {"workflows.googleapis.com", "cloudasset.googleapis.com", "iamcredentials.googleapis.com"} <= enabled
    (invoker,) = granted(("projects", "add-iam-policy-binding"), "roles/workflows.invoker")
    assert _option(invoker, "--member") == "serviceAccount:${SCHEDULER_SA}"
    (federation,) = granted(("iam", "service-accounts", "add-iam-policy-binding"), "roles/iam.workloadIdentityUser")
    assert federation[3] == "$AUDIT_SA"
    assert (_option(federation, "--member") or "").startswith("principalSet://iam.googleapis.com/projects/")
    organization = [a for a in commands if _command_words(a)[:2] == ("organizations", "add-iam-policy-binding")]
    assert organization and _option(organization[0], "--role") == "$role"  # each role of the loop before it
    loops = [argv[3:] for argv in _shell_commands() if argv[:3] == ["for", "role", "in"]]
    assert any("roles/cloudasset.viewer" in roles for roles in loops), loops


def _job_args(job: str) -> list[str]:
    """The argv the guide's `gcloud run jobs create JOB ... --args=` hands the image."""
    (args,) = [a for a in _gcloud_commands() if _command_words(a)[:4] == ("run", "jobs", "create", job)]
    (given,) = [token.removeprefix("--args=").split(",") for token in args if token.startswith("--args=")]
    return given


def test_the_organization_merge_works_as_the_guide_says(tmp_path: Path) -> None:
    """The guide's organization audit job, its tasks run against the fake (the buckets as local folders), then its
    merge job as written, without a configuration file: the report an unsharded audit gives, region peers and all."""
    (tasks,) = [_option(a, "--tasks") for a in _gcloud_commands() if a[:4] == ["run", "jobs", "create",
                                                                                "driftcheck-org-audit"]]  # fmt: skip
    assert tasks is not None and int(tasks) > 1

    def local(args: list[str]) -> list[str]:
        return [a.replace("${ORG_ID}", "900").replace("gs://acme-audit/", f"{tmp_path}/acme-audit/")
                 .replace("/reports/", f"{tmp_path}/reports/") for a in args]  # fmt: skip

    audit, merge = local(_job_args("driftcheck-org-audit")), local(_job_args("driftcheck-org-merge"))
    assert audit[0] == "audit" and "--config" not in audit and merge[0] == "merge" and "--config" not in merge
    world = World.from_folder(AUDIT / "world")
    for project in ("netra-staging", "netra-prod", "netra-dev"):
        world.set_ancestry([{"id": project, "type": "project"}, {"id": "900", "type": "organization"}])
    with FakeGcpServer(world) as fake:
        whole = run_cli("audit", "--endpoint", fake.address, "--no-history", "--organization", "900", "--source",
                        "asset-inventory", "--format", "json", "--strict")  # fmt: skip
        for index in range(int(tasks)):  # more tasks than projects: the last one audits none
            run = run_cli(*audit, "--endpoint", fake.address,
                          env={"CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": tasks})  # fmt: skip
            assert run.code == 0, run.stderr
    parts = tmp_path / "acme-audit" / "partials" / "org"
    assert sorted(p.name for p in parts.iterdir()) == [f"part-{i}-of-{tasks}.json" for i in range(int(tasks))]
    last = json.loads((parts / f"part-{int(tasks) - 1}-of-{tasks}.json").read_text())
    assert last["projects"] == [] and last["scope"]["projects"] == ["netra-dev", "netra-prod", "netra-staging"]
    (tmp_path / "reports").mkdir()  # the job's mounted bucket
    merged = run_cli(*merge)
    assert merged.code == whole.code == 1, merged.stderr
    assert "<html" in (tmp_path / "reports" / "org.html").read_text()
    report = run_cli("merge", parts, "--format", "json").json()
    assert report["findings"] == whole.json()["findings"] and report["findings"]
    assert report["unverified"] == whole.json()["unverified"]
    assert any(f["subject"] == "netra-staging/us-central1/api" for f in report["findings"])  # a region-peer finding
