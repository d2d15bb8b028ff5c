"""The published rule vocabulary: generated from the code, true of the contexts built from real evidence, and what
a rule is checked against when it loads."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FIXTURES, INCIDENT

from driftcheck.compare.diff import compare_services
from driftcheck.errors import RuleError
from driftcheck.ruleset import cel, celsyntax, status
from driftcheck.ruleset.batch import change_plain
from driftcheck.ruleset.context import Refs, service_context
from driftcheck.ruleset.fieldcheck import SCHEMA_FILE, expressions
from driftcheck.ruleset.load import load_ruleset
from driftcheck.ruleset.vocabulary import context_schema, schema_text
from driftcheck.ruleset.vocabulary_docs import DOCS_FILE, markdown
from driftcheck.sources.evidence import load_evidence

REGENERATE = "stale: run `.venv/bin/python -m driftcheck.ruleset.vocabulary` and commit what it rewrites"
PAIRS = sorted((FIXTURES / "pairs").glob("*/v*.*"))
# Every evidence folder a rule fixture holds, and each v1/v2 spelling of the corpus pairs (one service per file).
EVIDENCE = [INCIDENT, *sorted(p for p in (FIXTURES / "rules").iterdir() if p.is_dir()), *PAIRS]
EVIDENCE += [FIXTURES / "terraform" / "plan.json"]  # values known only after apply: unknown markers


@functools.cache
def _schema() -> dict[str, Any]:
    """The generated schema, once per test process: generating it reads each declaring class's source (0.7 s)."""
    return context_schema()


@functools.cache
def _validator(definition: str) -> jsonschema.Draft202012Validator:
    """One validator per definition (it holds no state between `iter_errors` calls)."""
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": _schema()["$defs"]})


def _contexts(path: Path) -> list[dict[str, Any]]:
    inventory = load_evidence([path])
    return [cel.to_cel(service_context(s, inventory)) for s in inventory.services.values()]


def _errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(instance)]


def test_the_checked_in_schema_is_what_the_code_generates() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), f"{SCHEMA_FILE.name} is {REGENERATE}"


def test_the_vocabulary_page_is_what_the_code_generates() -> None:
    assert DOCS_FILE.read_text(encoding="utf-8") == markdown(_schema()), f"{DOCS_FILE.name} is {REGENERATE}"


@pytest.mark.parametrize("path", EVIDENCE, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_what_a_rule_sees_of_real_evidence_fits_the_schema(path: Path) -> None:
    contexts = _contexts(path)
    assert contexts, f"no service in {path}"
    validator = _validator("Service")
    for context in contexts:
        assert not _errors(validator, context), (context["name"], _errors(validator, context))


def test_the_builder_emits_exactly_the_declared_refs() -> None:
    """Both ways: a key built and not declared, or declared and never built, is a vocabulary that lies."""
    for context in _contexts(FIXTURES / "rules" / "sql-private-ip-unreachable"):
        assert set(context["refs"]) == set(Refs.__required_keys__)


def test_an_undeclared_key_fails_the_schema() -> None:
    """The validation above is not vacuous: a key the declarations do not have, at any depth, is an error."""
    context = _contexts(INCIDENT)[0]
    for where in ((), ("refs",), ("containers", next(iter(context["containers"])))):
        changed = copy.deepcopy(context)
        _at(changed, where)["sql"] = []
        assert _errors(_validator("Service"), changed), where


def _at(tree: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        tree = tree[key]
    return tree


def test_a_pair_and_a_status_rule_see_what_their_scopes_declare() -> None:
    inventory = load_evidence([INCIDENT])
    api, auth = inventory.services["api"], inventory.services["auth"]
    target, baseline = (cel.to_cel(service_context(s, inventory)) for s in (api, auth))
    changes = [change_plain(c) for c in compare_services(api, auth)]
    assert changes
    pair = {"target": target, "baseline": baseline, "baselines": [baseline], "vars": {}, "items": []}
    validator = _validator("scope.pair")
    for change in changes:
        assert not _errors(validator, cel.to_cel({**pair, "change": change}))
    rule = load_ruleset().get("container-start-failed")
    assert rule is not None
    stated = status.stated(rule, api)
    assert stated is not None
    variables = {"target": target, "baselines": [baseline], "vars": {}, "item": stated.item}
    assert not _errors(_validator("scope.status"), cel.to_cel(variables))


def test_every_built_in_expression_is_read_by_the_field_check() -> None:
    """The check skips what its parser cannot read (the CEL binding is the judge of syntax): none may be skipped."""
    read = 0
    for rule in load_ruleset().rules:
        for _, expression, _ in expressions(rule):
            if isinstance(expression, str):
                celsyntax.parse(expression)
                read += 1
    assert read > 300


RULE = "id: my-rule\ntitle: t\nseverity: low\ndocs: https://example.com\nexplanation: x\n"
# A rule that uses a field that is not there is refused: (what the rule says, the bad name, the name suggested).
MISNAMED = [
    ("when: target.containers.api.memry_bytes > 0", "target.containers.api.memry_bytes", "memory_bytes"),
    ("when: size(target.refs.secretz) > 0", "target.refs.secretz", "secrets"),
    ("when: size(target.refs.sql) > 0", "target.refs.sql", "sql_attached"),  # renamed: the new name, not the nearest
    ("when: size(target.refs.sql_used) > 0", "target.refs.sql_used", "sql_known_in_use"),
    ("when: size(target.refs.sql_all) > 0", "target.refs.sql_all", "sql_in_use"),
    ("when: target.refs.sql_attched == []", "target.refs.sql_attched", "sql_attached"),
    ("when: targt.name == ''", "targt", "target"),
    ('when: target.containers["api"].memry_bytes > 0', "target.containers.api.memry_bytes", "memory_bytes"),
    ("when: target.refs.secrets.exists(s, s.resource.verions != null)", "target.refs.secrets[].resource.verions",
     "versions"),
    ("when: target.refs.sql_in_use.map(i, i.resource).exists(r, r.engin == 'mysql')",
     "target.refs.sql_in_use.map(…)[].engin", "engine"),
    ("scope: target\nfor_each: target.refs.sql_attached\nwhen: item.resource.stat != 'RUNNABLE'",
     "item.resource.stat", "state"),
    ("when: 'true'\nsummary: '{{ target.lable }}'", "target.lable", "label"),
    ("when: 'true'\nneeds: ['target.refs.conector']", "target.refs.conector", "connector"),
    ("match: {path: ingress}\nfix:\n  - action: set-ingress\n    args: {ingress: change.baselin}",
     "change.baselin", "baseline"),
    ("scope: status\nstatus_match: ['pulling (?P<image>\\S+)']\nexplanation: '{{ item.imag }}'", "item.imag", "image"),
    ("when: vars.limits.memry > 0\nvars: {limits: {memory: 1}}", "vars.limits.memry", "memory"),
]  # fmt: skip
# What the vocabulary allows: map keys that are data, unknown markers, comprehension variables, the scope's own.
ALLOWED = [
    "when: target.containers.api.memory_bytes > 0",
    'when: target.containers["api"].env.DB_HOST.value != ""',
    "when: target.metadata.annotations['run.googleapis.com/ingress'] == 'all'",
    "when: target.refs.connector.__unknown__ != '' || is_unknown(target.status)",
    "when: target.containers.exists(c, target.containers[c].env.exists(n, n == 'PORT'))",
    "when: target.refs.sql_known_in_use.exists(i, i.private_only == true)",
    "when: target.refs.sql_in_use.exists(i, i.resource.engine == 'postgres')",
    "when: type(target.timeout_s) == int && has(target.containers.api)",
    "scope: target\nfor_each: 'target.refs.sql_attached.map(i, {\"n\": i.connection_name})'\nwhen: item.n != ''",
    "scope: status\nstatus_match: ['pulling (?P<image>\\S+)']\nexplanation: '{{ item.image }} {{ item.quote }}'",
]


def _load(tmp_path: Path, text: str) -> None:
    (tmp_path / "my-rule.yaml").write_text(RULE + text + "\n")
    load_ruleset([tmp_path])


@pytest.mark.parametrize(("text", "bad", "nearest"), MISNAMED, ids=[m[1] for m in MISNAMED])
def test_a_rule_naming_a_field_that_does_not_exist_is_refused(
    tmp_path: Path, text: str, bad: str, nearest: str
) -> None:
    with pytest.raises(RuleError) as refused:
        _load(tmp_path, text)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'my-rule.yaml'}: rule my-rule: ")
    assert f"{bad}: " in message and f"did you mean {nearest}?" in message, message
    assert "\n" not in message


@pytest.mark.parametrize("text", ALLOWED)
def test_a_rule_naming_what_there_is_loads(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text)


def test_every_built_in_rule_names_only_fields_that_exist() -> None:
    """Built-in rules skip the field check at load time (it costs every run ~25 ms); this is where they pass it."""
    from driftcheck.ruleset.fieldcheck import check_fields

    rules = load_ruleset().rules
    assert len(rules) > 30
    for rule in rules:
        check_fields(rule)  # raises RuleError naming the rule and the field
