"""Every built-in rule's CEL compiles and keeps to its scope.

`load_ruleset` checks only `--rules DIR` rules at load (ruleset/load.py): a built-in rule's expressions are compiled
when first evaluated, so a run does not compile the ~460 expressions of the library to use ~90 of them. This test is
what stands in for that check on the built-in ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from driftcheck.errors import RuleError
from driftcheck.ruleset.cel import check_rule
from driftcheck.ruleset.load import load_ruleset

BUILTIN = load_ruleset().rules


@pytest.mark.parametrize("rule", BUILTIN, ids=[rule.id for rule in BUILTIN])
def test_builtin_rule_compiles(rule: object) -> None:
    check_rule(rule)  # type: ignore[arg-type]  # raises RuleError naming the rule and the expression


def test_a_user_rule_is_still_checked_at_load(tmp_path: Path) -> None:
    """Guard against a vacuous pass: the same check, on a `--rules DIR` rule, fails the load."""
    builtin = next(rule for rule in BUILTIN if rule.when)
    raw = yaml.safe_load(Path(builtin.origin).read_text(encoding="utf-8"))
    raw.update(id="my-broken-rule", when="target.name == ")  # a CEL syntax error
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RuleError, match=r"my-broken-rule.*CEL expression"):
        load_ruleset([tmp_path])
