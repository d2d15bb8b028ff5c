"""README's table of what the built-in rules catch names every built-in rule, and only those."""

from __future__ import annotations

import re

from conftest import ROOT

from driftcheck.ruleset.load import load_ruleset


def test_the_readme_table_lists_every_built_in_rule() -> None:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| what goes wrong | rules |") :]
    table = table[: table.index("\n\n")]
    listed = set(re.findall(r"`([a-z0-9-]+)`", table))
    assert listed == {rule.id for rule in load_ruleset().rules}
