"""`driftcheck rules list|show`: the rule library, as the engine loads it."""

from __future__ import annotations

from typing import Annotated

import typer

from driftcheck.cli.app import RulesOption, rules_app
from driftcheck.errors import DriftcheckError
from driftcheck.ruleset.load import load_ruleset


@rules_app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """List every rule: id, severity and title."""
    for rule in load_ruleset(rules).rules:
        typer.echo(f"{rule.id:32} {rule.severity:9} {rule.title}")


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id, as `rules list` prints it.")],
    rules: RulesOption = None,
) -> None:
    """Show one rule: what it checks, why it matters, how it is fixed."""
    ruleset = load_ruleset(rules)
    rule = ruleset.get(rule_id)
    if rule is None:
        raise DriftcheckError(f"no rule {rule_id!r}; `driftcheck rules list` shows them all")
    typer.echo(f"{rule.id} ({rule.severity})\n{rule.title}\n")
    if rule.description:
        typer.echo(f"{rule.description}\n")
    typer.echo(f"scope: {rule.scope} ({'target and each baseline' if rule.scope == 'pair' else 'the target alone'})")
    if rule.match:
        typer.echo(f"matches: {rule.match.path} ({', '.join(rule.match.kinds)})")
    for label, expression in (("for each", rule.for_each), ("keyed by", rule.item_key), ("when", rule.when)):
        if expression:
            typer.echo(f"{label}: {' '.join(expression.split())}")
    if rule.needs:
        typer.echo(f"needs (else 'could not verify'): {', '.join(rule.needs)}")
    for kind, template in rule.remediation.items():
        typer.echo(f"fix ({kind}): {' '.join(template.split())}")
    typer.echo(f"docs: {rule.docs}\nfile: {rule.origin}")
