"""The terminal table at the widths people use, with values that look like rich markup."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from driftcheck.jobs.compare import compare
from driftcheck.report import document, table
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import load_ruleset

MARKUP_VALUE = "[run.googleapis.com/x] [bold]literal[/bold] :warning:"  # ROUTING_HINT in fixtures/redaction/orders.yaml


@pytest.fixture(scope="module")
def incident() -> Result:
    return compare("api", ["auth"], [FIXTURES / "incident"], load_ruleset(None))


@pytest.fixture(scope="module")
def redaction() -> Result:
    return compare("orders", ["catalog"], [FIXTURES / "redaction"], load_ruleset(None))


@pytest.mark.parametrize("width", [80, 160])
def test_boxes_fit_the_terminal(incident: Result, width: int) -> None:
    lines = table.render(incident, width=width).splitlines()
    boxed = [line for line in lines if not line.startswith(("  fix (", "  docs: "))]
    too_wide = [line for line in boxed if len(line) > width]
    assert not too_wide, f"{len(too_wide)} lines wider than {width}: {too_wide[0]!r}"
    assert len(boxed) < len(lines)  # the fix lines were there to leave out


@pytest.mark.parametrize("width", [80, 160])
def test_fix_commands_are_never_wrapped(incident: Result, width: int) -> None:
    """A command broken over two lines pastes into a shell as two commands."""
    lines = table.render(incident, width=width).splitlines()
    for finding in document.build(incident)["findings"]:
        for kind, command in finding["remediation"].items():
            assert f"  fix ({kind}): {command}" in lines


def test_sources_are_compact_in_the_table_only(incident: Result) -> None:
    text = table.render(incident, width=300)  # wide enough that no cell folds
    assert "auth.yaml ↔ api.yaml" in text
    assert "spec.template.metadata.annotations[run.googleapis.com/vpc-access-connector]" in text
    assert "fixtures/incident/" not in text  # folders are left to the JSON and Markdown reports
    sources = document.build(incident)["findings"][0]["evidence"][0]["source"]
    assert "/fixtures/incident/api.yaml:spec." in sources["target"]


def test_markup_in_values_is_shown_literally(redaction: Result) -> None:
    text = table.render(redaction, width=300)  # wide enough that no cell folds
    assert MARKUP_VALUE in text
    assert "⚠" not in text  # :warning: stays text, not an emoji


@pytest.mark.parametrize("width", [80, 160])
def test_every_rule_id_is_shown_whole(incident: Result, width: int) -> None:
    """`driftcheck rules show ID` needs the id: it must never be cut with a long title."""
    text = table.render(incident, width=width)
    for finding in document.build(incident)["findings"]:
        assert f"rule: {finding['rule']}" in text


def test_color_only_when_asked(incident: Result) -> None:
    assert "\x1b[" not in table.render(incident, color=False)
    assert "\x1b[" in table.render(incident, color=True)
