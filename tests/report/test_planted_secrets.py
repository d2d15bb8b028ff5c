"""One corpus of planted credentials, of every shape driftcheck.redact knows, none of which may reach any output.

Each is planted into real-format evidence (fixtures/names/, a Knative export of `billing` as gcloud writes it):
env values under names that say nothing of a credential (so only its shape can give it away), args and command
lists (the two-token `--password VALUE` forms too), the status message and a service label. The compare runs in
all six formats, to stdout and to an `-o` file; stdout, stderr and the file are searched for every value, whole
and in part, after undoing each format's escaping and a table's folding. What must stay readable is checked in
the same reports: a secret's name, a flag word, an image digest, a revision name, a connector path, ids and SHAs.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, run_cli

from driftcheck.compare.diff import compare_services
from driftcheck.model import Redacted
from driftcheck.redact import redact_text
from driftcheck.sources.evidence import load_evidence

FORMATS = ("table", "json", "markdown", "sarif", "junit", "html")
WIDE = {"COLUMNS": "400"}

# Planted as env values, by shape alone: name -> value. Fake credentials, each in its real format.
PEM_RSA = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAz5PlantedRsaBodyLine1q8Zt3NwPd7LmX2vRk9\n"
    "Jq4Lm8Nx2PlantedRsaBodyLine2Vb7Hc3Df5Gh1Kj6Mn9Pq2Rs4Tu\n"
    "-----END RSA PRIVATE KEY-----\n"
)
PEM_PKCS8_JSON = json.dumps(
    {
        "type": "service_account",
        "client_email": "svc@netra-test.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANPlantedPkcs8BodyW3xZ9\n-----END PRIVATE KEY-----\n",
    }
)
PEM_OPENSSH = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEPlantedOpensshBody7Q\n-----END OPENSSH PRIVATE KEY-----"
)
PEM_EC_CUT = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPlantedEcBodyCutShortNoEndLine4kZ"  # cut: masked to the end
ENV = {
    "CFG_PEM_RSA": PEM_RSA,
    "CFG_PEM_PKCS8": PEM_PKCS8_JSON,
    "CFG_PEM_OPENSSH": PEM_OPENSSH,
    "CFG_PEM_EC": PEM_EC_CUT,
    "CFG_STRIPE_LIVE": "sk_live_51HqLyjWDarjtT1zdp7dcPlantedStripeLive00",
    "CFG_STRIPE_TEST": "sk_test_4eC39HqLyjWDarjtT1zdp7dcPlantedTest",
    "CFG_STRIPE_RESTRICTED": "rk_live_51HqLyjWDarjtPlantedRestricted9x",
    "CFG_STRIPE_WEBHOOK": "whsec_PlantedWebhookSigning7Kp2Qx9Vn4",
    "CFG_GH_PERSONAL": "ghp_PlantedGithubPersonalu8jzPde0IgxLd6Gnc",
    "CFG_GH_OAUTH": "gho_PlantedGithubOauthocJ2isAjIhKtJ0Rlg",
    "CFG_GH_SERVER": "ghs_PlantedGithubServerFRIBXuDL7DxtpYlS",
    "CFG_GH_FINE": "github_pat_11APLANTED0hGAkWvj7FAc9_PlantedFineGrainedQeWJKY40uvSwMFLZDe",
    "CFG_SLACK_BOT": "xoxb-123456789012-1234567890123-PlantedSlackBot7x",
    "CFG_SLACK_USER": "xoxp-123456789012-1234567890123-PlantedSlackUser8y",
    "CFG_SLACK_HOOK": "https://hooks.slack.com/services/T0PLANTED1/B0PLANTED2/PlantedSlackWebhook9z",
    "CFG_GOOGLE": "AIzaSyPlantedGoogleApiKey1f8rESQedUStPKR",
    "CFG_AWS_PAIR": "AKIAPLANTEDAWSPAIR01 Plan7edAwsSecretBesideTheKeyId0123456789",
    "CFG_AWS_SECRET": "wJalrXUtnFEMI/K7MDENG/bPlantedAwsAlone0Q",
    "CFG_AWS_SESSION": "ASIAPLANTEDSESSION02",
    "CFG_GITLAB": "glpat-PlantedGitlabToken0123xyz",
    "CFG_NPM": "npm_PlantedNpmTokenFdnXsiVpzz63FfkCzJr4i",
    "CFG_JWT": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGFudGVkIn0.PlantedJwtSignature_0123456789abc",
    "CFG_DB_URL": "postgresql://billing:PlantedUrlPass77@10.30.0.5:5432/billing",
    "CFG_GIT_URL": "https://deploy:PlantedGitUrlPass88@git.netra.example/billing.git",
    "CFG_OAUTH_CLIENT": "GOCSPX-PlantedOauthClientSecret01",
    "CFG_OAUTH_ACCESS": "ya29.a0PlantedGoogleAccessTokenoaF1LlqsajAIxNKu8iS2",
    "CFG_PYPI": "pypi-AgEIcHlwaS5vcmcPlantedPypiTokenQx7Lw2Rt9Vb4Nm6Kp1Hs8Dj3Fg5Za0CeYt",
    "CFG_OPENAI": "sk-proj-PlantedOpenAiKeyR4tY7uI1oP3aS6dF9gH2jK5lZ8xC",
    "CFG_ANTHROPIC": "sk-ant-api03-PlantedAnthropicKeyM3nB6vC9xZ2lK5jH8gF1dS",
    "CFG_SENDGRID": "SG.PlantedSendgridW7eQ2.PlantedSendgridSecretT4rQ9pL2mN5b",
    "CFG_TWILIO": "SK1ecccc3fc1626e53a13043b026c48bbf",
    "CFG_TELEGRAM": "123456789:AAPlantedTelegramBotTokenV8cX3zQ6wE1rT",
    "CFG_HUGGINGFACE": "hf_PlantedHuggingFaceTokenJ7kL2mN9pQ4",
    "CFG_CONNECT": "connect with --password PlantedInlineFlag41 and -p PlantedInlineShort42",
}  # fmt: skip
# Two tokens as two list items, and `--password=VALUE` as one.
ARGS = [
    "--password", "PlantedArgPassword51", "-p", "PlantedArgShort52", "--token", "PlantedArgToken53",
    "--api-key", "PlantedArgApiKey54", "--password=PlantedArgEquals55", "--log-level", "debug",
    "AKIAPLANTEDARGSKEY03", "Plan7edArgsAwsSecretBesideKeyId987654321",
]  # fmt: skip
BASELINE_ARGS = ["--password", "PlantedBaselinePass61", "--log-level", "info"]
COMMAND = ["sh", "-c", "mysql -u root -p PlantedMysqlPass71 billing --token=PlantedCmdToken72"]
STATUS = (
    "Revision 'billing-00007-mon' is not ready and cannot serve traffic. The user-provided container failed to "
    "start: login with ghs_PlantedStatusGithubY5uI8oP2aS6dF1gH rejected; retry --api-key PlantedStatusFlag81 "
    "at https://svc:PlantedStatusUrl82@api.netra.example"
)
LABEL = ("owner-ref", "xoxb-1234567890-0987654321-plantedlabeltoken91")
# Values whose secret is only a part (a PEM body, a URL's password, an inline flag's value): listed by that part.
NOT_WHOLE = ("CFG_PEM", "CFG_DB_URL", "CFG_GIT_URL", "CFG_CONNECT", "CFG_SLACK_HOOK", "CFG_AWS_PAIR")
# Every secret value planted, as it must never be seen, whole or by its first or last 14 characters.
PLANTED = [
    "PlantedRsaBodyLine1", "PlantedRsaBodyLine2", "PlantedPkcs8Body", "PlantedOpensshBody", "PlantedEcBodyCutShort",
    *(v for k, v in ENV.items() if not k.startswith(NOT_WHOLE)),
    "services/T0PLANTED1/B0PLANTED2/PlantedSlackWebhook9z", *ENV["CFG_AWS_PAIR"].split(),
    "PlantedUrlPass77", "PlantedGitUrlPass88", "PlantedInlineFlag41", "PlantedInlineShort42",
    *(a for a in ARGS if a.startswith(("Planted", "Plan7ed"))), "PlantedArgEquals55", "PlantedBaselinePass61",
    "PlantedMysqlPass71", "PlantedCmdToken72", "ghs_PlantedStatusGithubY5uI8oP2aS6dF1gH", "PlantedStatusFlag81",
    "PlantedStatusUrl82", LABEL[1],
]  # fmt: skip
READABLE_ENV = {
    "API_TOKEN_REQUIRED": "true",  # a flag word under a credential name
    "BUILD_DIGEST": "sha256:4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "GIT_SHA": "9f8e7d6c5b4a39f8e7d6c5b4a39f8e7d6c5b4a3f",
    "OPERATION_ID": "3c1f9e2a-5b7d-4e80-a1c2-9f6d8b4e2a71",
    "PREVIOUS_REVISION": "billing-00006-kiv",
    "CONNECTOR": "projects/netra-test/locations/europe-north1/connectors/billing-conn",
    "JWT_SECRET_NAME": "billing-jwt-signing",
}


def _plant(path: Path, target: bool) -> None:
    service: dict[str, Any] = yaml.safe_load(path.read_text())
    container = service["spec"]["template"]["spec"]["containers"][0]
    if target:
        container["env"] += [{"name": k, "value": v} for k, v in {**ENV, **READABLE_ENV}.items()]
        container["args"], container["command"] = ARGS, COMMAND
        service["metadata"]["labels"][LABEL[0]] = LABEL[1]
        ready = {"type": "Ready", "status": "False", "reason": "ContainerMissing", "message": STATUS}
        service["status"] = {"conditions": [ready], "latestCreatedRevisionName": "billing-00007-mon"}
    else:
        container["args"] = BASELINE_ARGS
    path.write_text(yaml.safe_dump(service, sort_keys=False))


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("planted")
    target, baseline = folder / "current.yaml", folder / "prod.yaml"
    for name, is_target in ((target, True), (baseline, False)):
        name.write_text((FIXTURES / "names" / name.name).read_text())
        _plant(name, is_target)
    return target, baseline


@pytest.fixture(scope="module")
def outputs(evidence: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """format -> {stdout, stderr, file, file_stdout, file_stderr} of one compare each way."""
    folder, found = tmp_path_factory.mktemp("reports"), {}
    for output_format in FORMATS:
        args = ("compare", *evidence, "--format", output_format, "--fail-on", "none")
        shown = run_cli(*args, env=WIDE)
        written = run_cli(*args, "-o", folder / f"report.{output_format}", env=WIDE)
        assert shown.code == written.code == 0, shown.stderr + written.stderr
        file = (folder / f"report.{output_format}").read_text()
        found[output_format] = {"stdout": shown.stdout, "stderr": shown.stderr, "file": file,
                                "file_stdout": written.stdout, "file_stderr": written.stderr}  # fmt: skip
    return found


def _searchable(text: str) -> str:
    """A report as plain characters: escapes undone (JSON, Markdown, HTML/XML) and every fold and space dropped."""
    text = html.unescape(text).replace("\\n", "").replace("\\", "")
    return re.sub(r"[\s│|]+", "", text)


def _leaks(text: str) -> list[str]:
    plain = _searchable(text)
    return [s for s in PLANTED if any(part in plain for part in {s, s[:14], s[-14:]})]


def test_the_corpus_is_large_and_every_value_is_masked_by_redact_text() -> None:
    assert len(ENV) + 5 >= 30 and len(set(PLANTED)) == len(PLANTED) >= 40
    for value in (*ENV.values(), STATUS, *COMMAND, LABEL[1]):
        assert not _leaks(redact_text(value)), value


@pytest.mark.parametrize("output_format", FORMATS)
def test_no_planted_secret_reaches_any_output(output_format: str, outputs: dict[str, dict[str, str]]) -> None:
    for stream, text in outputs[output_format].items():
        assert not _leaks(text), f"{output_format} {stream} shows {_leaks(text)}"
    assert outputs[output_format]["file_stdout"] == ""
    assert "[REDACTED]" in outputs[output_format]["file"].replace("\\[", "[").replace("\\]", "]")


def test_every_planted_setting_is_in_the_report(outputs: dict[str, dict[str, str]]) -> None:
    """The search above means something only if each planted place reached the report: its name is there."""
    report = json.loads(outputs["json"]["stdout"])
    paths = {c["path"] for c in report["other_differences"]} | {
        e["path"] for f in report["findings"] for e in f["evidence"]
    }
    missing = [name for name in ENV if not any(name in path for path in paths)]
    assert not missing
    assert {"containers.ingress.args", "containers.ingress.command"} <= paths  # labels: expected to differ, unshown
    assert "failed to start" in report["status"]["message"] and "https://svc:[REDACTED]@" in report["status"]["message"]


def test_what_names_or_describes_a_credential_stays_readable(outputs: dict[str, dict[str, str]]) -> None:
    report = outputs["json"]["stdout"]
    kept = [value for value in READABLE_ENV.values() if json.dumps(value) not in report]
    assert not kept, f"over-redacted {kept}"
    for readable in ("billing-db-password", "--log-level", '"debug"', "billing-00007-mon", "hooks.slack.com/"):
        assert readable in report


def test_a_changed_two_token_password_is_still_a_difference(evidence: tuple[Path, Path]) -> None:
    """`--password A` against `--password B`: the compare sees the item differ, and holds only fingerprints."""
    current, prod = (load_evidence([path]).services["billing"] for path in evidence)  # one name: a file each
    changed = {c.path: c for c in compare_services(current, prod)}["containers.ingress.args.1"]
    assert isinstance(changed.baseline, Redacted) and isinstance(changed.target, Redacted)
    assert changed.baseline != changed.target and str(changed.target) == "[REDACTED]"


def test_args_keep_their_flags_and_lose_their_values(outputs: dict[str, dict[str, str]]) -> None:
    report = json.loads(outputs["json"]["stdout"])
    args = next(e for f in report["findings"] for e in f["evidence"] if e["path"] == "containers.ingress.args")
    mask = "[REDACTED]"
    assert args["target"] == [
        "--password", mask, "-p", mask, "--token", mask, "--api-key", mask, f"--password={mask}", "--log-level",
        "debug", mask, mask,
    ]  # fmt: skip
