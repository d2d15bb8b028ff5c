"""`driftcheck rules list|show|schema`: the rule library, as the engine loads it, and what a rule sees."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from driftcheck.cli.app import Command, RulesOption, help_text, rules_app
from driftcheck.errors import DriftcheckError

if TYPE_CHECKING:
    from driftcheck.ruleset.schema import FixSpec

RULES_LIST_HELP = """List every rule: id, severity and title.

The built-in rules, and with --rules DIR your own too (one with a built-in id replaces it).

[bold]Examples[/bold]

  driftcheck rules list

  driftcheck rules list --rules ./my-rules
"""

RULES_SHOW_HELP = """Show one rule: what it checks, why it matters, how it is fixed.

Its scope, condition, what it needs to know, each fix action with its arguments, its docs and its file.

[bold]Examples[/bold]

  driftcheck rules show vpc-access-missing

  driftcheck rules show my-rule --rules ./my-rules
"""

RULES_SCHEMA_HELP = """Print what a rule's CEL expressions see: a JSON Schema, or a Markdown page.

The variables of each scope (target, baseline, baselines, vars, item, change...) and every field they hold, refs
included: the vocabulary each rule is checked against when it loads. A rule that names anything else is refused.

[bold]Examples[/bold]

  driftcheck rules schema > rule-context.schema.json

  driftcheck rules schema --markdown
"""


_SCOPE_WORDS = {"pair": "target and each baseline", "across": "target and each other service, as caller or callee"}


@rules_app.command("list", cls=Command, help=help_text(RULES_LIST_HELP))
def rules_list(rules: RulesOption = None) -> None:
    from driftcheck.ruleset.load import load_ruleset

    for rule in load_ruleset(rules).rules:
        typer.echo(f"{rule.id:32} {rule.severity:9} {rule.scope:9} {rule.title}")


@rules_app.command("show", cls=Command, help=help_text(RULES_SHOW_HELP))
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id, as `rules list` prints it.")],
    rules: RulesOption = None,
) -> None:
    from driftcheck.ruleset.load import load_ruleset

    ruleset = load_ruleset(rules)
    rule = ruleset.get(rule_id)
    if rule is None:
        raise DriftcheckError(f"no rule {rule_id!r}; `driftcheck rules list` shows them all")
    typer.echo(f"{rule.id} ({rule.severity})\n{rule.title}\n")
    if rule.description:
        typer.echo(f"{rule.description}\n")
    typer.echo(f"scope: {rule.scope} ({_SCOPE_WORDS.get(rule.scope, 'the target alone')})")
    if rule.match:
        typer.echo(f"matches: {rule.match.path} ({', '.join(rule.match.kinds)})")
    for label, expression in (("for each", rule.for_each), ("keyed by", rule.item_key), ("when", rule.when)):
        if expression:
            typer.echo(f"{label}: {' '.join(expression.split())}")
    if rule.needs:
        typer.echo(f"needs (else 'could not verify'): {', '.join(rule.needs)}")
    if rule.status_match:  # the platform's words: a status rule's condition, another rule's corroboration
        typer.echo("status says (any of):")
        typer.echo("\n".join(f"  {pattern}" for pattern in rule.status_match))
    if rule.log_match:  # a log signature: a logs rule's condition, another rule's corroboration (ruleset/logs.py)
        typer.echo("logs say (any of):")
        typer.echo("\n".join(f"  {pattern}" for pattern in rule.log_match))
    if rule.explained_by:
        typer.echo(f"folds into a finding of: {', '.join(rule.explained_by)}")
    if rule.summary:
        typer.echo(f"several hits: {_one_line(rule.summary)}")
    for kind, template in rule.remediation.items():
        typer.echo(f"fix ({kind}): {_one_line(template)}")
    if rule.fix:
        typer.echo("fix:")
    for spec in rule.fix:
        typer.echo("\n".join(_fix_lines(spec)))
    typer.echo(f"docs: {rule.docs}\nfile: {rule.origin}")


@rules_app.command("schema", cls=Command, help=help_text(RULES_SCHEMA_HELP))
def rules_schema(
    as_markdown: Annotated[bool, typer.Option("--markdown", help="The page docs/rule-context.md, not JSON.")] = False,
) -> None:
    from driftcheck.ruleset.fieldcheck import published
    from driftcheck.ruleset.vocabulary_docs import markdown

    schema = published()
    typer.echo(markdown(schema).rstrip("\n") if as_markdown else json.dumps(schema, indent=2))


def _fix_lines(spec: FixSpec) -> list[str]:
    """One action: its name and what it renders to, then when it applies and each argument's expression."""
    from driftcheck.ruleset.fixes import ACTIONS

    action = ACTIONS.get(spec.action)
    lines = [f"  {spec.action}" + (f" ({action.renders})" if action else "")]
    for label, expression in (("for each", spec.for_each), ("when", spec.when)):
        if expression:
            lines.append(f"    {label}: {_one_line(expression)}")
    lines += [f"    {name} = {_one_line(expression)}" for name, expression in spec.args.items()]
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())
