"""The failure Cloud Run states in a service's status is evidence, and often the cause.

Each wording below is one Cloud Run has written (new and old forms); the target is the healthy `auth` of the bundled
incident with only its name and its Ready condition changed, so nothing but the status can explain the finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT, run_cli

REVISION = "Revision 'auth-canary-00018-abc' is not ready and cannot serve traffic."
# (rule the status names, reason, message, words the finding must quote)
WORDINGS = [
    ("image-not-found", "RevisionFailed",
     f"{REVISION} Image 'us-central1-docker.pkg.dev/netra-staging/apps/auth:v2' not found.",
     "us-central1-docker.pkg.dev/netra-staging/apps/auth:v2"),
    ("image-not-found", "RevisionFailed", f"{REVISION} Image gcr.io/netra-staging/auth:latest not found.",
     "gcr.io/netra-staging/auth:latest"),
    ("image-access-denied", "ContainerPermissionDenied",
     f"{REVISION} Google Cloud Run Service Agent service-123456789012@serverless-robot-prod.iam.gserviceaccount.com "
     "must have permission to read the image, europe-docker.pkg.dev/shared-images/apps/auth:v2. Ensure that the "
     "provided container image URL is correct and that the above account has permission to access the image.",
     "service-123456789012@serverless-robot-prod.iam.gserviceaccount.com"),
    ("image-access-denied", "RevisionFailed",
     f"{REVISION} Permission \"artifactregistry.repositories.downloadArtifacts\" denied on resource "
     "\"projects/shared-images/locations/europe/repositories/apps\"",
     "artifactregistry.repositories.downloadArtifacts"),
    ("container-start-failed", "HealthCheckContainerError",
     f"{REVISION} The user-provided container failed to start and listen on the port defined provided by the "
     "PORT=8080 environment variable within the allocated timeout.", "probed on port 8080"),
    ("container-start-failed", "ContainerFailedToStart",
     "Cloud Run error: Container failed to start. Failed to start and then listen on the port defined by the PORT "
     "environment variable. Logs for this revision might contain more information.",
     "Failed to start and then listen on the port defined by the PORT environment variable"),
    ("container-start-failed", "HealthCheckContainerError",
     f"{REVISION} Default STARTUP TCP probe failed 1 time consecutively for container \"auth-1\" on port 8080.",
     "Default STARTUP TCP probe failed"),
    ("container-start-failed", "ContainerFailedToStart", f"{REVISION} Container called exit(1).", "exit(1)"),
    ("memory-limit-exceeded", "RevisionFailed",
     f"{REVISION} Memory limit of 512 MiB exceeded with 540 MiB used. Consider increasing the memory limit.",
     "at least 540 MiB against a limit of 512 MiB"),
    ("memory-limit-exceeded", "RevisionFailed", "Memory limit of 256M exceeded with 258M used.",
     "at least 258M against a limit of 256M"),
    ("secret-access-failed", "SecretsAccessCheckFailed",
     f"{REVISION} spec.template.spec.containers[0].env[1].value_from.secret_key_ref.name: Permission denied on "
     "secret: projects/123456789012/secrets/db-password/versions/latest for Revision service account "
     "auth@netra-staging.iam.gserviceaccount.com. The service account used must be granted the 'Secret Manager "
     "Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level.",
     "projects/123456789012/secrets/db-password"),
    ("secret-access-failed", "RevisionFailed",
     f"{REVISION} Permission 'secretmanager.versions.access' denied for resource "
     "'projects/netra-staging/secrets/db-password/versions/latest' (or it may not exist).",
     "projects/netra-staging/secrets/db-password"),
    ("quota-exceeded", "RevisionFailed", f"{REVISION} Quota exceeded for total allowable CPU per project per region.",
     "Quota exceeded for total allowable CPU per project per region"),
    ("revision-failed", "RevisionFailed", f"{REVISION} The revision could not be scheduled.",
     "could not be scheduled"),
]  # fmt: skip


def _failing(folder: Path, reason: str, message: str, *, ever_ready: bool = True, port: int = 8080) -> Path:
    """auth, renamed auth-canary, whose latest revision failed with the given Ready condition."""
    service = yaml.safe_load((INCIDENT / "auth.yaml").read_text())
    service["metadata"]["name"] = "auth-canary"
    service["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = port
    status = service["status"]
    status["conditions"][0].update({"status": "False", "reason": reason, "message": message})
    status["latestCreatedRevisionName"] = "auth-canary-00018-abc"
    status["latestReadyRevisionName"] = "auth-canary-00017-wuj" if ever_ready else None
    if not ever_ready:
        del status["latestReadyRevisionName"]
    folder.mkdir(exist_ok=True)
    (folder / "auth-canary.yaml").write_text(yaml.safe_dump(service, sort_keys=False))
    (folder / "auth.yaml").write_text((INCIDENT / "auth.yaml").read_text())
    return folder


def _compare(folder: Path) -> dict[str, Any]:
    run = run_cli("compare", "auth-canary", "auth", "--from", folder, "--format", "json", "--fail-on", "none")
    assert run.code == 0, run.stderr
    report: dict[str, Any] = run.json()
    return report


@pytest.mark.parametrize(
    ("rule", "reason", "message", "quoted"), WORDINGS, ids=[f"{w[0]}-{i}" for i, w in enumerate(WORDINGS)]
)
def test_each_wording_names_its_cause_first(tmp_path: Path, rule: str, reason: str, message: str, quoted: str) -> None:
    report = _compare(_failing(tmp_path / "evidence", reason, message))
    first = report["findings"][0]
    assert first["rule"] == rule, [f["rule"] for f in report["findings"]]
    assert quoted in first["explanation"], first["explanation"]
    assert first["status_quote"]
    # One stated failure is one finding: the catch-all folds into the specific rule that names it.
    stated = [f for f in report["findings"] if f["status_quote"]]
    assert len(stated) == 1, [f["rule"] for f in stated]
    assert (rule == "revision-failed") == ("revision-failed" not in first["corroborated_by"])


def test_a_ready_service_states_no_failure(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "auth.yaml").write_text((INCIDENT / "auth.yaml").read_text())
    (folder / "api.yaml").write_text((INCIDENT / "api.yaml").read_text())
    report = run_cli("compare", "auth", "api", "--from", folder, "--format", "json", "--fail-on", "none").json()
    assert not [f for f in report["findings"] if f["status_quote"]]


def test_a_rule_that_explains_the_status_is_the_one_finding_with_the_status_as_corroboration(tmp_path: Path) -> None:
    """A port mismatch explains "failed to start and listen": one critical finding, the port's, quoting the status."""
    message = WORDINGS[4][2]
    report = _compare(_failing(tmp_path / "evidence", "HealthCheckContainerError", message, port=9000))
    first = report["findings"][0]
    assert first["rule"] == "container-port-mismatch"
    assert first["severity"] == "critical"  # the status it explains is critical
    assert {"container-start-failed", "revision-failed"} <= set(first["corroborated_by"])
    assert "failed to start and listen on the port" in first["status_quote"]
    assert not [f for f in report["findings"] if f["rule"] in ("container-start-failed", "revision-failed")]


def test_a_first_revision_that_never_became_ready_has_nothing_to_fall_back_on(tmp_path: Path) -> None:
    folder = _failing(tmp_path / "evidence", "RevisionFailed", WORDINGS[0][2], ever_ready=False)
    report = _compare(folder)
    assert report["status"]["deploy_note"].startswith("no revision has ever become ready")
    assert "no earlier revision is ready to serve instead" in report["findings"][0]["explanation"]
    markdown = run_cli("compare", "auth-canary", "auth", "--from", folder, "--format", "markdown", "--fail-on", "none")
    assert "there is no older revision to fall back on" in markdown.stdout
    assert "older revision" not in markdown.stdout.replace("no older revision", "")
    assert "latest ready `None`" not in markdown.stdout and "no ready revision" in markdown.stdout
