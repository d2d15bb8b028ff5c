"""The command table that lets `driftcheck compare` import cli/compare.py alone (cli/app.py: COMMAND_MODULES) names
exactly the commands the cli modules declare, in the order --help lists them. What a run imports is checked in
tests/test_offline_imports.py; --help's text in tests/test_cli_help.py."""

from __future__ import annotations

import importlib

from typer.main import get_command_name

from driftcheck.cli.app import COMMAND_MODULES, app


def test_the_table_names_every_declared_command_and_its_module() -> None:
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(f"driftcheck.cli.{module}")
    declared = {
        info.name or get_command_name(info.callback.__name__): info.callback.__module__
        for info in app.registered_commands
        if info.callback is not None
    }
    declared |= {str(group.name): "driftcheck.cli.rules" for group in app.registered_groups}
    assert {name: f"driftcheck.cli.{module}" for name, module in COMMAND_MODULES.items()} == declared


def test_help_lists_the_commands_in_the_table_order() -> None:
    from conftest import run_cli

    run = run_cli("--help", env={"COLUMNS": "80"})
    commands = run.stdout.split("─ Commands ─", 1)[1].splitlines()
    listed = [line.split()[1] for line in commands if line.startswith("│ ") and line[2] != " "]  # not a wrapped line
    assert listed == list(COMMAND_MODULES)
