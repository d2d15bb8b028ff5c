"""Rules fire only where a difference can explain a failure: an ordinary difference between two applications,
projects or environments (their own ports, databases, accounts, settings) is no finding.

Each case runs through the command line: on real public configurations from ../shared/corpus (skipped when the
corpus is not beside this checkout), and on the real-format fixtures in fixtures/rules/, changed in a copy to show
where the line runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, run_cli

RULES = FIXTURES / "rules"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout")

KSEF = "knative/appunite__appunite-ksef-ex__cloud-run__service.yaml"
LOBBYIST = "knative/ianaswanson__lobbyist-registration__cloudrun.yaml"
SERVFIX = {
    env: f"knative/Tom-Erik600__servfix-dev__{env}-config.yaml" for env in ("current", "prod", "test", "service")
}
TRUEFI_YAML = "knative/devintruefi__91825truefi__cloud-run-config.yaml"
TRUEFI_JSON = "knative_json/devintruefi__91825truefi__service-config.json"
STAGEWELL = "tfstate/nickysada__stagewell__cloud_run__terraform.tfstate"
# Rules about an application's own settings: between two different applications, never a finding.
APP_SETTINGS = {
    "container-port-mismatch",
    "execution-environment-mismatch",
    "startup-probe-mismatch",
    "resource-limits-lower",
    "env-var-missing",
    "ingress-mismatch",
    "vpc-egress-mismatch",
}


def _compare(target: str | Path, baseline: str | Path, *evidence: Path) -> dict[str, Any]:
    sources = [arg for folder in evidence for arg in ("--from", str(folder))]
    run = run_cli("compare", target, baseline, *sources, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


def _corpus(target: str, baseline: str) -> dict[str, Any]:
    return _compare(CORPUS / target, CORPUS / baseline)


def _fixture(rule: str, tmp_path: Path, extra: dict[str, str] | None = None, **edits: dict[str, str]) -> dict[str, Any]:
    """The rule's fixture folder, copied, with `old -> new` text edits per file (`target`, `baseline`) and `extra`
    files (name -> text) beside them."""
    folder = tmp_path / rule
    shutil.copytree(RULES / rule, folder)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    for name, replacements in edits.items():
        path = folder / f"{name}.yaml"
        text = path.read_text()
        for old, new in replacements.items():
            assert old in text, (name, old)
            text = text.replace(old, new)
        path.write_text(text)
    return _compare(folder / "target.yaml", folder / "baseline.yaml", folder)


def _rules(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in report["findings"]}


def _unverified(report: dict[str, Any], rule: str) -> list[str]:
    return [u["reason"] for u in report["unverified"] if u["rule"] == rule]


# -- real configurations ------------------------------------------------------------------------------------------


@needs_corpus
def test_two_applications_on_their_own_ports_and_settings_raise_no_app_setting_finding() -> None:
    """ksef-hub (port 4000, gen2) and lobbyist-registration (8080, unset): two images, each on its own port."""
    for target, baseline in ((KSEF, LOBBYIST), (LOBBYIST, KSEF)):
        fired = set(_rules(_corpus(target, baseline)))
        assert not fired & APP_SETTINGS, fired


@needs_corpus
def test_test_and_prod_of_one_app_attach_their_own_databases_and_run_as_their_own_default_accounts() -> None:
    """servfix test (project 561535995501) against prod (471345128928): own instance, own default account."""
    for env in ("current", "test", "service"):
        report = _corpus(SERVFIX[env], SERVFIX["prod"])
        fired = _rules(report)
        assert "cloudsql-instance-mismatch" not in fired and "service-account-mismatch" not in fired, sorted(fired)
        assert "cloudsql-connection-missing" not in fired and "cloudsql-cross-environment" not in fired
        # Not a finding, still a difference: shown among the other differences, never hidden.
        assert {"cloudsql_instances", "service_account"} <= {d["path"] for d in report["other_differences"]}


@needs_corpus
def test_prod_attaching_the_test_database_is_a_finding_of_its_own() -> None:
    report = _corpus(SERVFIX["prod"], SERVFIX["current"])
    cross = _rules(report)["cloudsql-cross-environment"]
    assert cross["severity"] == "high"
    assert "servfix-test:europe-north1:servfix-test-db, a test instance" in cross["explanation"]
    assert "runs in prod (env GOOGLE_CLOUD_PROJECT_ID=servfix-production)" in cross["explanation"]
    assert "servfix-production:europe-north1:servfix-db" not in cross["explanation"]  # its own instance is fine
    assert "cloudsql-instance-mismatch" not in _rules(report)


@needs_corpus
def test_credentials_emptied_where_the_peer_reads_them_from_secret_manager() -> None:
    """The checked-in cloud-run-config.yaml lists DB_PASSWORD, OPENAI_API_KEY and JWT_SECRET with no value; the
    exported service reads each from Secret Manager."""
    report = _corpus(TRUEFI_YAML, TRUEFI_JSON)
    hits = [f for f in report["findings"] if f["rule"] == "env-secret-replaced"]
    assert hits and {f["severity"] for f in hits} == {"high"}
    said = " ".join(f["explanation"] for f in hits)
    for name, secret in (
        ("DB_PASSWORD", "db-password"),
        ("JWT_SECRET", "jwt-secret"),
        ("OPENAI_API_KEY", "openai-api-key"),
    ):
        assert f"{name} (secret {secret})" in said or f"reads {name} from Secret Manager (secret {secret}," in said
    assert "empty value" in said
    paths = {e["path"] for f in hits for e in f["evidence"]}
    assert {f"containers.ingress.env.{n}" for n in ("DB_PASSWORD", "JWT_SECRET", "OPENAI_API_KEY")} <= paths
    # The other way round the peer works with the empty values: the variables are not what it needs.
    assert "env-secret-replaced" not in _rules(_corpus(TRUEFI_JSON, TRUEFI_YAML))


@needs_corpus
def test_sibling_services_on_a_placeholder_image_keep_their_own_ports_and_ingress() -> None:
    """Five services of one Terraform state deploy the same hello-world placeholder, each on its own port, the
    internal ones beside a load-balanced UI."""
    state = CORPUS / STAGEWELL
    run = run_cli("compare", "admin-service", "ui-service", "--from", state, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    fired = set(_rules(run.json()))
    assert not fired & {"container-port-mismatch", "ingress-mismatch"}, fired
    paths = {d["path"] for d in run.json()["other_differences"]}
    assert {"containers.ingress.port", "ingress"} <= paths


@needs_corpus
def test_revision_scaling_targets_are_known_in_the_revision_template(tmp_path: Path) -> None:
    """A real export with run.googleapis.com/scaling-cpu-target and scaling-concurrency-target added: known in
    spec.template.metadata.annotations, and at service level said to work only there."""
    text = (CORPUS / LOBBYIST).read_text()
    anchor = "        autoscaling.knative.dev/maxScale:"
    assert text.count(anchor) == 1
    targets = (
        "        run.googleapis.com/scaling-cpu-target: '0.7'\n"
        "        run.googleapis.com/scaling-concurrency-target: '0.8'\n"
    )
    in_template = tmp_path / "template.yaml"
    in_template.write_text(text.replace(anchor, targets + anchor))
    flagged = [f for f in _corpus_file(in_template)["findings"] if f["rule"] == "unknown-annotation"]
    assert not [f for f in flagged if "scaling-" in f["explanation"]], flagged
    at_service = tmp_path / "service.yaml"
    service_anchor = "metadata:\n  name: lobbyist-registration\n"
    assert text.count(service_anchor) == 1
    at_service.write_text(
        text.replace(service_anchor, service_anchor + "  annotations:\n" + targets[4:].replace("\n    ", "\n"))
    )
    said = " ".join(f["explanation"] for f in _corpus_file(at_service)["findings"] if f["rule"] == "unknown-annotation")
    assert "metadata.annotations[run.googleapis.com/scaling-cpu-target]" in said
    assert "only works as spec.template.metadata.annotations[run.googleapis.com/scaling-concurrency-target]" in said


def _corpus_file(target: Path) -> dict[str, Any]:
    return _compare(target, CORPUS / KSEF)


# -- the fixtures, and where the line runs ------------------------------------------------------------------------

OTHER_IMAGE = {"backend/media@sha256:cb730c4e": "backend/thumbnails@sha256:cb730c4e"}


def test_port_differs_between_two_images_listening_on_their_own_ports(tmp_path: Path) -> None:
    report = _fixture("container-port-mismatch", tmp_path, baseline=OTHER_IMAGE)
    assert "container-port-mismatch" not in _rules(report)


def test_port_differs_where_the_target_probes_another_port_than_it_listens_on(tmp_path: Path) -> None:
    """Another image than the peer's, but the target's own startup probe checks the peer's port."""
    probe = {"          tcpSocket:\n            port: 8081": "          tcpSocket:\n            port: 8080"}
    report = _fixture("container-port-mismatch", tmp_path, baseline=OTHER_IMAGE, target=probe)
    finding = _rules(report)["container-port-mismatch"]
    assert "configured for port 8081" in finding["explanation"]
    assert "its own probe checks port 8080" in finding["explanation"]


# billing and invoices built from one image, billing's env naming no instance: only what they attach speaks.
SAME_APP = {"backend/invoices@": "backend/billing@"}
SILENT = {"        - name: INSTANCE_CONNECTION_NAME\n          value: netra-staging:us-central1:billing-pg\n": ""}


def test_a_peer_in_another_project_attaches_its_own_instance(tmp_path: Path) -> None:
    """In one project, invoices attaching billing-pg tells billing what it lacks; in another project, invoices
    attaches that project's own billing-pg, which is never billing's to attach."""
    report = _fixture("cloudsql-instance-mismatch", tmp_path / "one", target=SILENT, baseline=SAME_APP)
    finding = _rules(report)["cloudsql-instance-mismatch"]
    assert (
        "netra-staging:us-central1:billing-pg is not attached to billing, and both run the same application"
        in (finding["explanation"])
    )
    prod = {
        **SAME_APP,
        "123456789012": "210987654321",
        "netra-staging:us-central1:billing-pg": "netra-prod:us-central1:billing-pg",
    }
    instance = (RULES / "cloudsql-instance-mismatch" / "billing-pg.json").read_text()
    in_prod = instance.replace("netra-staging", "netra-prod").replace("p123456789012", "p210987654321")
    report = _fixture(
        "cloudsql-instance-mismatch", tmp_path / "two", {"prod-billing-pg.json": in_prod}, target=SILENT, baseline=prod
    )
    assert report["baselines"] == ["invoices"] and "cloudsql-instance-mismatch" not in _rules(report)


def test_an_env_naming_the_instance_it_attaches_is_consistent(tmp_path: Path) -> None:
    """The same application, its env naming the instance it attaches: nothing to attach."""
    own = {"value: netra-staging:us-central1:billing-pg\n": "value: netra-staging:us-central1:billing-pg-old\n"}
    report = _fixture("cloudsql-instance-mismatch", tmp_path, target=own, baseline=SAME_APP)
    assert "cloudsql-instance-mismatch" not in _rules(report)


def test_another_environments_instance_is_never_proposed(tmp_path: Path) -> None:
    """The peer attaches the prod project's instance: never the one for billing, which runs in staging."""
    prod_instance = {**SAME_APP, "netra-staging:us-central1:billing-pg": "netra-prod:us-central1:billing-pg"}
    report = _fixture("cloudsql-instance-mismatch", tmp_path, target=SILENT, baseline=prod_instance)
    assert "cloudsql-instance-mismatch" not in _rules(report)


def test_each_projects_own_default_account_is_the_same_choice(tmp_path: Path) -> None:
    """search runs as its project's default account; so does catalog, in another project."""
    other = {
        "namespace: '123456789012'": "namespace: '210987654321'",
        "serviceAccountName: catalog@netra-staging.iam.gserviceaccount.com": "serviceAccountName: "
        "210987654321-compute@developer.gserviceaccount.com",
    }
    report = _fixture("service-account-mismatch", tmp_path, baseline=other)
    assert "service-account-mismatch" not in _rules(report)
    # Another project's default account in the same project is a difference all the same.
    same_project = {other_key: value for other_key, value in other.items() if "serviceAccountName" in other_key}
    report = _fixture("service-account-mismatch", tmp_path / "same", baseline=same_project)
    assert "service-account-mismatch" in _rules(report)


def test_unset_execution_environment_is_the_platform_default_not_gen1(tmp_path: Path) -> None:
    gen2_target = {"run.googleapis.com/execution-environment: gen1": "run.googleapis.com/execution-environment: gen2"}
    unset_peer = {"        run.googleapis.com/execution-environment: gen2\n": ""}
    report = _fixture("execution-environment-mismatch", tmp_path, target=gen2_target, baseline=unset_peer)
    assert "execution-environment-mismatch" not in _rules(report)
    # gen1 against an unset peer that mounts nothing gen2 needs: the platform may well run the peer on gen1 too.
    report = _fixture("execution-environment-mismatch", tmp_path / "unset", baseline=unset_peer)
    assert "execution-environment-mismatch" not in _rules(report)


def test_gen1_with_an_nfs_volume_needs_gen2_whatever_the_peer(tmp_path: Path) -> None:
    """transcoder pinned to gen1 mounts an NFS share, which only gen2 mounts; the peer leaves it unset."""
    unset_peer = {"        run.googleapis.com/execution-environment: gen2\n": ""}
    nfs = {"      timeoutSeconds: 300\n": "      timeoutSeconds: 300\n      volumes:\n      - name: media\n"
           "        nfs:\n          path: /exports/media\n          server: 10.80.0.2\n"}  # fmt: skip
    report = _fixture("execution-environment-mismatch", tmp_path, target=nfs, baseline=unset_peer)
    finding = _rules(report)["execution-environment-mismatch"]
    assert "thumbnailer in the platform default (unset)" in finding["explanation"]
    assert (
        "transcoder itself uses NFS volume media, which the first generation does not support"
        in (finding["explanation"])
    )


def test_gen1_against_gen2_of_another_application_is_no_finding(tmp_path: Path) -> None:
    other = {"backend/media@sha256:398c3c22": "backend/thumbnailer@sha256:398c3c22"}
    report = _fixture("execution-environment-mismatch", tmp_path, baseline=other)
    assert "execution-environment-mismatch" not in _rules(report)


SECRET_KEY_REF = (
    "          valueFrom:\n            secretKeyRef:\n              key: latest\n              name: smtp-password\n"
)


def test_a_secret_named_by_an_env_value_is_read_like_a_secret_reference(tmp_path: Path) -> None:
    """SMTP_PASSWORD=sm://smtp-password: the app reads the secret itself, whose newest version is disabled."""
    by_value = {SECRET_KEY_REF: "          value: sm://smtp-password\n"}
    report = _fixture("secret-version-unusable", tmp_path, target=by_value)
    finding = _rules(report)["secret-version-unusable"]
    assert "The value of env var SMTP_PASSWORD of notifier names secret smtp-password" in finding["explanation"]
    assert "DISABLED" in finding["explanation"]


def test_a_secret_named_by_an_env_value_but_not_exported_is_unverified_not_absent(tmp_path: Path) -> None:
    by_path = {SECRET_KEY_REF: "          value: projects/123456789012/secrets/smtp-password/versions/2\n"}
    folder = tmp_path / "evidence"
    shutil.copytree(RULES / "secret-version-unusable", folder, ignore=shutil.ignore_patterns("smtp-password*.json"))
    target = folder / "target.yaml"
    text = target.read_text()
    for old, new in by_path.items():
        text = text.replace(old, new)
    target.write_text(text)
    report = _compare(target, folder / "baseline.yaml", folder)
    assert not {"secret-version-unusable", "secret-access-denied"} & set(_rules(report))
    assert _unverified(report, "secret-version-unusable") == [
        "item.version_state: secret smtp-password is not in the evidence"
    ]
    assert report["incomplete"] is True


def test_a_credential_value_that_could_not_be_read_is_unverified(tmp_path: Path) -> None:
    """A snapshot scrubs credentials ([REDACTED:fingerprint]): whether DB_PASSWORD was empty cannot be told."""
    scrubbed = {
        "        - name: DB_PASSWORD\n": "        - name: DB_PASSWORD\n          value: '[REDACTED:0f1e2d3c4b5a]'\n"
    }
    report = _fixture("env-secret-replaced", tmp_path, target=scrubbed)
    finding = _rules(report).get("env-secret-replaced")
    assert finding is not None and "DB_PASSWORD" not in finding["explanation"]  # STRIPE_API_KEY still is one
    assert [r for r in _unverified(report, "env-secret-replaced") if r.startswith("item.value:")]


def test_a_literal_credential_in_another_application_is_its_own_choice(tmp_path: Path) -> None:
    """payments against another application: its empty DB_PASSWORD still counts, its literal STRIPE_API_KEY not."""
    other_app = {"name: payments-canary\n": "name: ledger\n", "backend/payments@": "backend/ledger@"}
    finding = _rules(_fixture("env-secret-replaced", tmp_path, baseline=other_app))["env-secret-replaced"]
    assert "DB_PASSWORD" in finding["explanation"] and "STRIPE_API_KEY" not in finding["explanation"]


def test_cross_environment_fixture(tmp_path: Path) -> None:
    folder = RULES / "cloudsql-cross-environment"
    report = _compare(folder / "target.yaml", folder / "baseline.yaml", folder)
    finding = _rules(report)["cloudsql-cross-environment"]
    assert finding["severity"] == "high"
    assert "orders runs in prod (project netra-prod)" in finding["explanation"]
    assert "netra-staging:us-central1:orders-pg, a staging instance (project netra-staging)" in finding["explanation"]
    assert report["incomplete"] is False
    # The same service attaching its own environment's instance: nothing to say.
    own = {"netra-staging:us-central1:orders-pg": "netra-prod:us-central1:orders-pg"}
    assert "cloudsql-cross-environment" not in _rules(_fixture("cloudsql-cross-environment", tmp_path, target=own))


def test_ingress_of_another_role_or_a_failed_revision_is_no_finding(tmp_path: Path) -> None:
    """public-api against a partner-api built from the same image: two roles, two ingress choices."""
    other_role = {"public-api-canary": "partner-api"}
    assert "ingress-mismatch" not in _rules(_fixture("ingress-mismatch", tmp_path / "role", baseline=other_role))
    assert "ingress-mismatch" in _rules(_fixture("ingress-mismatch", tmp_path / "same"))


def test_no_vpc_path_matters_only_where_the_target_needs_one(tmp_path: Path) -> None:
    """orders reaches orders-pg (private IP only) and 10.20.0.9: a finding. Without either, another
    application's VPC path is the other application's."""
    assert "vpc-access-missing" in _rules(_fixture("vpc-access-missing", tmp_path / "needs"))
    public = {
        "          value: 10.20.0.9\n": "          value: orders-db.example.com\n",
        "run.googleapis.com/cloudsql-instances: netra-staging:us-central1:orders-pg": "run.googleapis.com/"
        "cloudsql-instances: netra-staging:us-central1:orders-public",
    }
    report = _fixture("vpc-access-missing", tmp_path / "public", target=public)
    assert "vpc-access-missing" not in _rules(report)


def test_connectors_of_two_projects_are_each_their_own(tmp_path: Path) -> None:
    moved = {"vpc-access-connector: staging-connector":
             "vpc-access-connector: projects/netra-prod/locations/us-central1/connectors/prod-connector"}  # fmt: skip
    report = _fixture("vpc-connector-mismatch", tmp_path, baseline=moved)
    assert "vpc-connector-mismatch" not in _rules(report)
