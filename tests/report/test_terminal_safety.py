"""Evidence cannot drive the terminal, nor a Markdown viewer: control characters and markup that come from an env
value, a status message, a service name or a file name are shown escaped, never interpreted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import INCIDENT, run_cli

NAME = "api\x1b]0;pwned\x07[bold]x[/bold]"  # OSC 0 (window title) and rich markup in a service name
ENV_VALUE = "prod\x1b]52;c;cm0gLXJmIC8=\x07\x1b[2J<script>alert(1)</script>|![x](http://evil.example/p.png)"
STATUS_PREFIX = "\x1b[1Afake line\rReady\n"  # cursor up, carriage return, a forged line
FILE_NAME = "api\x1b[8m.yaml"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # anything but the newlines that end lines


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The incident, with hostile bytes in the target's name, an env value, its status message and its file name."""
    folder = tmp_path_factory.mktemp("hostile")
    api = yaml.safe_load((INCIDENT / "api.yaml").read_text())
    api["metadata"]["name"] = NAME
    api["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = ENV_VALUE  # APP_ENV
    condition = api["status"]["conditions"][0]
    condition["message"] = STATUS_PREFIX + condition["message"]
    (folder / FILE_NAME).write_text(yaml.safe_dump(api))  # YAML writes the bytes as escapes; the loader reads them
    for other in INCIDENT.iterdir():
        if other.name != "api.yaml":
            (folder / other.name).write_text(other.read_text())
    return folder


def _compare(evidence: Path, *args: str, columns: int = 80) -> str:
    env = {"COLUMNS": str(columns)}
    run = run_cli("compare", NAME, "auth", "--from", evidence, "--fail-on", "none", *args, env=env)
    assert run.code == 0, run.stderr
    return run.stdout


def test_table_shows_control_characters_escaped(evidence: Path) -> None:
    narrow = _compare(evidence)
    assert not CONTROL.search(narrow), repr(CONTROL.search(narrow))
    wide = _compare(evidence, columns=160)
    assert not CONTROL.search(wide)
    # the name, escaped and not read as rich markup ([bold] stays text)
    assert wide.splitlines()[0] == "driftcheck: api\\x1b]0;pwned\\x07[bold]x[/bold] compared with auth"
    assert "HEALTH_CHECK_CONTAINER_ERROR: \\x1b[1Afake line\\rReady\\nRevision" in wide  # one line, not three
    assert "prod\\x1b]52;c;cm0gLXJmIC8=\\x07\\x1b[2J" in wide  # OSC 52 would write the clipboard
    assert "api\\x1b[8m.yaml" in wide  # the file name, as a source


def test_markdown_escapes_control_characters_and_markup(evidence: Path) -> None:
    text = _compare(evidence, "--format", "markdown")
    assert not CONTROL.search(text)
    assert "<script>" not in text and "\\<script\\>" in text
    assert "![x](http" not in text  # no remote image a viewer would fetch
    assert "# driftcheck: `api\\x1b]0;pwned\\x07[bold]x[/bold]` compared with `auth`" in text
    assert r"\\x1b[1Afake line\\rReady\\nRevision" in text  # renders as \x1b[1Afake line\rReady\nRevision
    for table in re.findall(r"(?:^\|.*\n)+", text, re.MULTILINE):  # every row as many cells as its header
        rows = table.splitlines()
        cells = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert cells == {len(re.findall(r"\|", rows[0]))}, table


def test_stderr_error_lines_show_control_characters_escaped(evidence: Path, tmp_path: Path) -> None:
    run = run_cli("compare", NAME, "nope\x1b[2J", "--from", evidence)
    assert run.code == 2
    assert not CONTROL.search(run.stderr) and run.stderr.count("\n") == 1
    assert "nope\\x1b[2J" in run.stderr
    (tmp_path / "bad\x1b]8;;x\x07.yaml").write_text("apiVersion: serving.knative.dev/v1\nmetadata: [\n")
    run = run_cli("compare", "a", "b", "--from", tmp_path)
    assert run.code == 2
    assert not CONTROL.search(run.stderr) and run.stderr.count("\n") == 1
    assert "bad\\x1b]8;;x\\x07.yaml" in run.stderr
