"""Fixes as data (ruleset/fixes.py): typed actions rendered into one gcloud command and one Terraform snippet per
service; and every built-in rule's fix, rendered on its fixture through the command line, checked flag by flag
against the installed gcloud's own `--help`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, INCIDENT, run_cli

from driftcheck.errors import RuleError
from driftcheck.ruleset import cel
from driftcheck.ruleset.context import service_context
from driftcheck.ruleset.fixes import ContainerRef, FixAction, ServiceRef, context_ref, problem, render, service_ref
from driftcheck.ruleset.load import load_ruleset
from driftcheck.ruleset.schema import parse_rule
from driftcheck.sources.evidence import load_evidence

API = ServiceRef("api", "us-central1", "netra-staging", containers=(ContainerRef("ingress", "api-1", 8080, "1"),))
SIDECARS = ServiceRef(
    "api",
    "us-central1",
    "netra-staging",
    containers=(ContainerRef("ingress", "api", 8080), ContainerRef("proxy", "proxy")),
)
UPDATE_API = "gcloud run services update api --region us-central1 --project netra-staging"
# What no rendered fix may hold: a failed placeholder, an unknown marker, Python's None, a raw template.
BROKEN = re.compile(r"(^|\s)\?($|\s)|\bunknown\b|\bNone\b|\{\{")


def act(action: str, service: ServiceRef | None = API, **args: Any) -> FixAction:
    return FixAction(action, args, service)


def test_actions_on_one_service_are_one_command_and_one_snippet() -> None:
    fix = render(
        [
            act("update-secrets", name="A", secret="a", version="1"),
            act("update-secrets", name="B", secret="b"),  # no version: latest
            act("set-env-vars", name="C"),
            act("set-vpc-connector", connector="X"),
        ]
    )
    # Service flags first: gcloud applies what follows `--container` to that container alone.
    assert (
        fix["gcloud"] == f"{UPDATE_API} --vpc-connector X --update-secrets A=a:1,B=b:latest --update-env-vars C=VALUE"
    )
    assert fix["terraform"] == (
        'google_cloud_run_v2_service.api: template { containers { env { name = "A", value_source { secret_key_ref { '
        'secret = "a", version = "1" } } }, env { name = "B", value_source { secret_key_ref { secret = "b", version = '
        '"latest" } } }, env { name = "C", value = "VALUE" } }, vpc_access { connector = "X" } }'
    )


def test_several_findings_merge_grants_first_each_service_once() -> None:
    """What the grouping step hands over: the actions of several findings, some the same."""
    worker = ServiceRef("worker", "europe-west1", "netra-staging")
    grant = act("grant-secret-access", secret="db-password", member="serviceAccount:api@p.iam.gserviceaccount.com")
    fix = render(
        [
            act("update-secrets", name="DB_PASSWORD", secret="db-password", version="2"),
            grant,
            act("set-port", worker, port=8080),
            grant,  # the same action twice is one command
            act("set-memory", memory=1 << 30),
        ]
    )
    commands = fix["gcloud"].split(" && ")
    assert commands == [
        "gcloud secrets add-iam-policy-binding db-password --member serviceAccount:api@p.iam.gserviceaccount.com "
        "--role roles/secretmanager.secretAccessor --project netra-staging",
        f"{UPDATE_API} --update-secrets DB_PASSWORD=db-password:2 --memory 1Gi",
        "gcloud run services update worker --region europe-west1 --project netra-staging --port 8080",
    ]
    snippets = fix["terraform"].split("; ")
    assert snippets[0].startswith('resource "google_secret_manager_secret_iam_member" "db-password_api" { secret_id = ')
    assert [s.split(":")[0] for s in snippets[1:]] == [
        "google_cloud_run_v2_service.api",
        "google_cloud_run_v2_service.worker",
    ]
    assert 'limits = { memory = "1Gi", cpu = "1" }' in snippets[1]  # the map is written whole: cpu is restated


def test_unknown_region_is_a_placeholder_and_unknown_project_left_out() -> None:
    fix = render([act("set-port", ServiceRef("api"), port=8080)])
    assert fix["gcloud"] == "gcloud run services update api --region REGION --port 8080"


@pytest.mark.parametrize(
    ("secret", "project", "written"),
    [
        ("db-password", None, "db-password"),  # the service's own project
        ("db-password", "netra-staging", "db-password"),
        ("projects/netra-staging/secrets/db-password", None, "db-password"),
        ("db-password", "netra-shared", "projects/PROJECT_NUMBER/secrets/db-password"),  # an id is no number
        ("projects/netra-shared/secrets/db-password", None, "projects/PROJECT_NUMBER/secrets/db-password"),
        ("projects/210987654321/secrets/db-password", None, "projects/210987654321/secrets/db-password"),
        ("db-password", "210987654321", "projects/210987654321/secrets/db-password"),
    ],
)
def test_a_secret_of_another_project_is_named_by_its_project_number(
    secret: str, project: str | None, written: str
) -> None:
    fix = render([act("update-secrets", name="DB_PASSWORD", secret=secret, version="3", project=project)])
    assert fix["gcloud"] == f"{UPDATE_API} --update-secrets DB_PASSWORD={written}:3"
    assert f'secret = "{written}", version = "3"' in fix["terraform"]


def test_a_key_with_no_runnable_command_is_left_out() -> None:
    # Unset is the platform default, not gen1, and no gcloud flag clears it: Terraform alone (null = omitted).
    assert render([act("set-execution-environment", environment=None)]) == {
        "terraform": "google_cloud_run_v2_service.api: template { execution_environment = null }"
    }
    assert render([act("set-ingress", ingress="none")]) == {
        "terraform": 'google_cloud_run_v2_service.api: ingress = "INGRESS_TRAFFIC_NONE"'
    }
    assert render([act("enable-secret-version", secret="smtp-password", version="3")]) == {
        "gcloud": "gcloud secrets versions enable 3 --secret smtp-password --project netra-staging"
    }
    # Nothing to write without the argument, without the service, or for an action that does not exist.
    assert render([act("set-port", port=None), act("set-vpc-connector", None, connector="X"), act("no-such")]) == {}
    assert render([act("set-memory", memory="a lot"), act("set-service-account", account="not an account")]) == {}


def test_cloud_sql_instances_are_added_never_replaced() -> None:
    attached = ServiceRef("api", "us-central1", "netra-staging", cloudsql_instances=("p:us-central1:old",))
    fix = render([act("add-cloudsql-instances", attached, instances=["p:us-central1:old", "p:us-central1:new"])])
    assert fix["gcloud"] == f"{UPDATE_API} --add-cloudsql-instances p:us-central1:new"
    assert 'instances = ["p:us-central1:old", "p:us-central1:new"]' in fix["terraform"]  # Terraform lists them all
    assert render([act("add-cloudsql-instances", attached, instances="p:us-central1:old")]) == {}  # nothing to add


def test_flags_of_a_sidecar_follow_its_name_after_the_service_flags() -> None:
    fix = render(
        [
            act("set-memory", SIDECARS, memory="1Gi", container="proxy"),
            act("set-port", SIDECARS, port=9090),
            act("set-vpc-egress", SIDECARS, egress="all_traffic"),
        ]
    )
    assert (
        fix["gcloud"]
        == f"{UPDATE_API} --vpc-egress all-traffic --container proxy --memory 1Gi --container api --port 9090"
    )
    assert 'containers { name = "proxy", resources { limits = { memory = "1Gi" } } }' in fix["terraform"]


def test_a_flag_given_twice_keeps_the_first_value_and_lists_join() -> None:
    fix = render(
        [
            act("set-vpc-connector", connector="first"),
            act("set-vpc-connector", connector="second"),  # a less likely cause's: first wins
            act("set-env-vars", name="A", value="1,2"),  # a comma inside a value: gcloud's alternate delimiter
            act("set-env-vars", name="B", value="3"),
        ]
    )
    assert fix["gcloud"] == f"{UPDATE_API} --vpc-connector first --update-env-vars '^@^A=1,2@B=3'"
    assert shlex.split(fix["gcloud"])[-1] == "^@^A=1,2@B=3"
    assert 'connector = "first"' in fix["terraform"] and "second" not in fix["terraform"]


def test_a_credential_never_travels_in_a_fix() -> None:
    fix = render(
        [act("set-env-vars", name="DB_PASSWORD", value="hunter2"), act("set-env-vars", name="MODE", value="fast")]
    )
    assert fix["gcloud"] == f"{UPDATE_API} --update-env-vars DB_PASSWORD=VALUE,MODE=fast"
    assert "hunter2" not in fix["terraform"]


def test_startup_probe_copies_every_field_and_none_is_the_default() -> None:
    probe = {"kind": "http", "port": 8080, "path": "/healthz", "initial_delay_s": 0, "timeout_s": 1, "period_s": 10}
    fix = render([act("set-startup-probe", probe={**probe, "failure_threshold": 3})])
    assert fix["gcloud"] == (
        f"{UPDATE_API} --startup-probe initialDelaySeconds=0,timeoutSeconds=1,periodSeconds=10,failureThreshold=3,"
        "httpGet.port=8080,httpGet.path=/healthz"
    )
    default = render([act("set-startup-probe", probe=None)])
    assert default["gcloud"] == f"{UPDATE_API} --startup-probe ''"  # removing the probe restores the default
    assert (
        "timeout_seconds = 240, period_seconds = 240, failure_threshold = 1, tcp_socket { port = 8080 }"
        in (default["terraform"])
    )


def test_a_service_from_state_is_fixed_at_its_address_in_its_resource_type() -> None:
    v1 = service_ref(load_evidence([FIXTURES / "terraform" / "auth-v1.tfstate"]).services["auth"])
    fix = render([act("set-vpc-egress", v1, egress="all-traffic"), act("set-service-account", v1, account="a@p.com")])
    assert fix["terraform"] == (
        "google_cloud_run_service.auth[0]: template { metadata { annotations = { "
        '"run.googleapis.com/vpc-access-egress" = "all-traffic" } }, spec { service_account_name = "a@p.com" } }'
    )
    v2 = service_ref(load_evidence([FIXTURES / "terraform" / "auth-v2.tfstate"]).services["auth"])
    assert render([act("terraform-apply", v2), act("set-port", v2, port=8080)]) == {
        "gcloud": "gcloud run services update auth --region us-central1 --project netra-staging --port 8080",
        # apply restores what the configuration declares: no snippet restating it
        "terraform": "terraform apply -target='module.identity.google_cloud_run_v2_service.svc[\"auth\"]'",
    }
    assert render([act("terraform-import", ServiceRef("web", "us-east1"))]) == {
        "terraform": "terraform import google_cloud_run_v2_service.web projects/PROJECT/locations/us-east1/services/web"
    }


def test_the_service_of_a_rule_context_is_the_service_itself() -> None:
    """rendered_finding (drift, inventory) finds its service in the CEL context; compare has the model."""
    inventory = load_evidence([INCIDENT])
    service = inventory.services["api"]
    context = cel.new_context({"target": service_context(service, inventory)})
    assert context_ref(cel.evaluate("target", context)) == service_ref(service)
    assert context_ref({"__unknown__": "not in the evidence"}) is None


@pytest.mark.parametrize(
    ("action", "args", "field"),
    [
        ("set-prot", {"port": "8080"}, "action"),
        ("set-port", {}, "args.port"),
        ("set-port", {"port": "8080", "colour": "x"}, "args.colour"),
    ],
)
def test_problem_names_the_field(action: str, args: dict[str, str], field: str) -> None:
    found = problem(action, args)
    assert found is not None and found[0] == field


def test_a_rule_with_a_bad_fix_fails_at_load_naming_file_rule_and_field() -> None:
    raw = {"id": "r", "title": "t", "severity": "low", "explanation": "e", "docs": "d", "when": "true"}
    with pytest.raises(RuleError, match=r"^x\.yaml: rule r: fix\[1\]\.args\.connector: required by set-vpc-connector"):
        parse_rule(
            {**raw, "fix": [{"action": "set-port", "args": {"port": 8080}}, {"action": "set-vpc-connector"}]}, "x.yaml"
        )
    with pytest.raises(RuleError, match=r"rule r: remediation: .*not both"):
        parse_rule({**raw, "fix": [{"action": "terraform-apply"}], "remediation": {"gcloud": "x"}}, "x.yaml")
    assert parse_rule({**raw, "fix": [{"action": "set-port", "args": {"port": 8080}}]}, "x.yaml").fix[0].args == {
        "port": "8080"  # YAML's number is the same CEL literal
    }


def test_built_in_rules_give_typed_fixes_not_text_templates() -> None:
    """`remediation` templates are for user rules written before `fix`: a built-in fix is right by construction."""
    templated = [rule.id for rule in load_ruleset().rules if rule.remediation]
    assert templated == []
    assert {"vpc-access-missing", "iac-missing", "peer-group-outlier"} <= {r.id for r in load_ruleset().rules if r.fix}


def test_a_user_rule_fix_renders_through_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "min.yaml").write_text(
        "id: min-instances-differ\ntitle: t\nseverity: medium\nmatch: {path: min_instances, kind: changed}\n"
        "explanation: e\ndocs: https://example.com\nfix:\n  - action: set-min-instances\n"
        "    args: {count: change.baseline}\n"
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(INCIDENT / "auth.yaml", evidence)
    api = (INCIDENT / "api.yaml").read_text()
    (evidence / "api.yaml").write_text(api.replace("minScale: '1'", "minScale: '0'"))
    run = run_cli(
        "compare", "api", "auth", "--from", evidence, "--rules", rules, "--format", "json", "--fail-on", "none"
    )
    finding = next(f for f in run.json()["findings"] if f["rule"] == "min-instances-differ")
    assert finding["remediation"] == {
        # the incident's exports name their project by number, as gcloud's own v1 exports do
        "gcloud": "gcloud run services update api --region us-central1 --project 123456789012 --min-instances 1",
        "terraform": "google_cloud_run_v2_service.api: template { scaling { min_instance_count = 1 } }",
    }
    assert finding["fix"] == [{"action": "set-min-instances", "args": {"count": 1}}]


# --- every built-in rule's fix on its fixture, checked against the installed gcloud ---------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HELP: dict[tuple[str, ...], str] = {}
RULE_FIXTURES = sorted(p for p in (FIXTURES / "rules").iterdir() if (p / "target.yaml").is_file())
# Fixtures whose rule has no command to paste there, and why: a fix line is a command a user can paste, or absent.
WITHOUT_FIX = {
    "healthy-pair": "nothing is wrong",
    "private-host-without-vpc-path": "no peer has a VPC path, so which network to join is not known",
    "secret-mount-items": "which of the two names is the right one (the item or the env value) is the user's call",
}


@pytest.fixture(scope="module")
def gcloud() -> str:
    found = shutil.which("gcloud")
    if found is None:
        pytest.skip("gcloud is not on PATH: the flags of a fix cannot be checked against its help")
    return found


def _help(words: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """The command a gcloud command line's words name (before its first flag), and its `--help` as plain text: one
    `gcloud WORDS --help` per command (gcloud shows the help of the command the words name, a positional after it
    ignored, and says which in its NAME section), shared by every line of that command whatever its positionals."""
    for path, text in _HELP.items():  # a command already asked for: the words start with it, and go no deeper
        if words[: len(path)] == path and (len(words) == len(path) or words[len(path)] not in _subcommands(text)):
            return path, text
    env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "PAGER": "cat", "CLOUDSDK_CORE_PAGER": ""}
    program = shutil.which(words[0]) or words[0]
    run = subprocess.run(
        [program, *words[1:], "--help"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    text = _ANSI.sub("", run.stdout) if run.returncode == 0 else ""
    named = re.search(r"^NAME\n +(gcloud(?: [a-z][a-z0-9-]*)*) - ", text, re.MULTILINE)
    path = (words[0], *named[1].split()[1:]) if named else (words[0],)
    if named and words[: len(path)] == path:
        _HELP[path] = text
    return path, text


def _subcommands(help_text: str) -> set[str]:
    """The groups and commands a group's help lists under GROUPS and COMMANDS."""
    names, section = set(), ""
    for line in help_text.splitlines():
        if re.fullmatch(r"[A-Z][A-Z ]+", line):
            section = line
        elif section in ("GROUPS", "COMMANDS") and (match := re.fullmatch(r" {5}([a-z][a-z0-9-]*)", line)):
            names.add(match[1])
    return names


def _flags(help_text: str) -> set[str]:
    flags = set()
    for negatable, name in re.findall(r"--(\[no-\])?([a-z][a-z0-9-]*)", help_text):
        flags |= {f"--{name}", f"--no-{name}"} if negatable else {f"--{name}"}
    return flags


def _words(argv: list[str]) -> tuple[str, ...]:
    """`gcloud` and the words before the first flag; the program by its name (`/usr/bin/gcloud` is `gcloud`)."""
    words = [os.path.basename(argv[0])]
    for word in argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    return tuple(words)


def command_path(argv: list[str]) -> tuple[str, ...]:
    """`gcloud run services update api --region r` -> (gcloud, run, services, update): the command its help names;
    the words after it are positionals (the service's name)."""
    path, _ = _help(_words(argv))
    return (argv[0], *path[1:])


def unknown_flags(command: str) -> list[str]:
    """The `--flags` of a gcloud command line that its command's help does not list."""
    argv = shlex.split(command)
    path, text = _help(_words(argv))
    assert len(path) > 2, f"no gcloud command in {command!r}"
    known = _flags(text)
    return [word.split("=")[0] for word in argv if word.startswith("--") and word.split("=")[0] not in known]


def _gcloud_lines(report: dict[str, Any]) -> list[str]:
    fixes = [f["remediation"].get("gcloud") for f in report["findings"]]
    return [command for line in fixes if line for command in line.split(" && ")]


@pytest.mark.slow  # the tests on this gcloud: a `gcloud ... --help` per command path, about a second each
def test_the_flag_check_tells_real_flags_from_made_up_ones(gcloud: str) -> None:
    assert (
        unknown_flags(f"{gcloud} run services update api --region r --add-cloudsql-instances a --no-cpu-throttling")
        == []
    )
    assert unknown_flags(f"{gcloud} run services update api --region r --set-cloudsql-instance a") == [
        "--set-cloudsql-instance"
    ]
    assert unknown_flags(f"{gcloud} sql instances patch db --activation-policy always --vpc-connector x") == [
        "--vpc-connector"
    ]
    assert command_path(shlex.split(f"{gcloud} secrets versions enable 3 --secret s")) == (
        gcloud,
        "secrets",
        "versions",
        "enable",
    )


def _report(*args: str | Path) -> dict[str, Any]:
    run = run_cli(*args, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


@pytest.mark.slow
@pytest.mark.parametrize("folder", RULE_FIXTURES, ids=lambda p: p.name)
def test_every_fix_on_a_rule_fixture_is_complete_and_runs_on_this_gcloud(folder: Path, gcloud: str) -> None:
    report = _report("compare", folder / "target.yaml", folder / "baseline.yaml", "--from", folder)
    for finding in report["findings"]:
        for kind, text in finding["remediation"].items():
            assert not BROKEN.search(text) and "[REDACTED]" not in text and "\n" not in text, (
                finding["rule"],
                kind,
                text,
            )
    # the rule's finding, or the one it was folded into as corroboration (ruleset/group.py)
    own = [f for f in report["findings"] if folder.name in (f["rule"], *f["corroborated_by"])]
    if folder.name in WITHOUT_FIX:
        assert not any(f["remediation"] for f in own), own
    else:
        assert own and set(own[0]["remediation"]) == {"gcloud", "terraform"}, own
    for command in _gcloud_lines(report):
        assert command.startswith("gcloud "), command
        assert unknown_flags(command) == [], command


@pytest.mark.slow
def test_every_fix_of_the_drift_job_runs_on_this_gcloud(gcloud: str) -> None:
    report = _report("drift", "--state", FIXTURES / "terraform" / "staging.tfstate", "--from", INCIDENT)
    fixes = {f["rule"]: f["remediation"] for f in report["findings"]}
    assert fixes["iac-missing"] == {
        "terraform": "terraform apply -target='module.identity.google_cloud_run_v2_service.svc[\"legacy-worker\"]'"
    }
    assert fixes["iac-drift"]["terraform"].startswith("terraform apply -target=")
    for command in _gcloud_lines(report):
        assert unknown_flags(command) == [], command


DENIED = (
    "Permission denied on secret: projects/123456789012/secrets/db-password/versions/latest for Revision service "
    "account auth@netra-staging.iam.gserviceaccount.com."
)
UNREADABLE_IMAGE = (
    "Google Cloud Run Service Agent service-123456789012@serverless-robot-prod.iam.gserviceaccount.com must have "
    "permission to read the image, europe-docker.pkg.dev/shared-images/apps/auth:v2. Ensure that the provided "
    "container image URL is correct."
)


@pytest.mark.parametrize(
    ("message", "gcloud"),
    [
        (
            DENIED,
            "gcloud secrets add-iam-policy-binding projects/123456789012/secrets/db-password --member "
            "serviceAccount:auth@netra-staging.iam.gserviceaccount.com --role roles/secretmanager.secretAccessor",
        ),
        (
            UNREADABLE_IMAGE,
            "gcloud projects add-iam-policy-binding shared-images --member "
            "serviceAccount:service-123456789012@serverless-robot-prod.iam.gserviceaccount.com "
            "--role roles/artifactregistry.reader",
        ),
        ("Secret version projects/123456789012/secrets/db-password/versions/9 not found.", None),  # no grant fixes it
    ],
)
def test_a_stated_denial_is_fixed_by_the_grant_it_names(tmp_path: Path, message: str, gcloud: str | None) -> None:
    service = yaml.safe_load((INCIDENT / "auth.yaml").read_text())
    service["metadata"]["name"] = "auth-canary"
    service["status"]["conditions"][0].update({"status": "False", "reason": "RevisionFailed", "message": message})
    (tmp_path / "auth-canary.yaml").write_text(yaml.safe_dump(service))
    shutil.copy(INCIDENT / "auth.yaml", tmp_path)
    stated = [f for f in _report("compare", "auth-canary", "auth", "--from", tmp_path)["findings"] if f["status_quote"]]
    assert len(stated) == 1
    assert stated[0]["remediation"].get("gcloud") == gcloud
    if gcloud is not None and shutil.which("gcloud"):
        assert unknown_flags(gcloud) == []
