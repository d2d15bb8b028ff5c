"""docs/scheduled-audits.md and the Dockerfile stay true to the tools they drive.

- every `gcloud ...` command in the guide's bash blocks names a command the installed gcloud has, and every
  `--flag` it uses appears in that command's help (skipped when gcloud is not installed);
- every `driftcheck SUBCOMMAND` the guide runs (directly, or as a Cloud Run job's `--args`) is listed by
  `driftcheck --help`, and each of its `--options` by `driftcheck SUBCOMMAND --help`;
- the Dockerfile's ENTRYPOINT is driftcheck, its CMD a real subcommand, it runs as non-root, and `.dockerignore`
  keeps what the image build copies;
- the guide's driftcheck.toml is a valid audit configuration.
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
from conftest import ROOT, Run, run_cli

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
