"""Terraform state in a GCS backend (`gs://bucket/key`), read through google-cloud-storage from a local emulator.

The client honours STORAGE_EMULATOR_HOST (anonymous credentials), so nothing here needs a Google account.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXTURES, INCIDENT

from driftcheck.errors import InputError
from driftcheck.jobs.compare import pick
from driftcheck.sources.evidence import load_evidence

STATE = FIXTURES / "terraform" / "auth-v2.tfstate"
BUCKET = "acme-tfstate"
KEY = "staging/default.tfstate"
ADDRESS = 'module.identity.google_cloud_run_v2_service.svc["auth"]'


@pytest.fixture
def bucket(gcs_emulator: Any) -> str:
    """The state at gs://acme-tfstate/staging/default.tfstate."""
    gcs_emulator.create_bucket(BUCKET).blob(KEY).upload_from_string(STATE.read_bytes())
    return f"gs://{BUCKET}/{KEY}"


def test_state_loads_from_gcs(bucket: str) -> None:
    service = load_evidence([bucket]).services["auth"]
    assert service.metadata.address == ADDRESS
    assert service.origin == bucket
    assert service.provenance["vpc"] == f"{ADDRESS}.template[0].vpc_access[0].connector"


def test_gcs_locator_as_target(bucket: str) -> None:
    service = pick(f"{bucket}#{ADDRESS}", load_evidence([INCIDENT]))
    assert (service.name, service.vpc.path) == ("auth", "connector")


def test_missing_object_is_an_input_error(bucket: str) -> None:
    missing = f"gs://{BUCKET}/nothing-here.tfstate"
    with pytest.raises(InputError) as caught:
        load_evidence([missing])
    assert str(caught.value).startswith(f"{missing}: no such object")


def test_from_option_accepts_gs_through_the_cli(bucket: str, cli: Any) -> None:
    """The CLI turns --from into a Path, which collapses gs:// to gs:/; the source restores it. The run sees
    STORAGE_EMULATOR_HOST from this process's environment."""
    run = cli(
        "compare", "auth", "fixtures/incident/auth.yaml", "--from", bucket, "--format", "json", "--fail-on", "none"
    )
    assert run.code == 0, run.stderr
    assert run.json()["target"] == "auth"


def test_truncated_object_names_the_url_and_line(bucket: str) -> None:
    from google.cloud import storage

    cut = f"gs://{BUCKET}/cut.tfstate"
    storage.Client(project="test").bucket(BUCKET).blob("cut.tfstate").upload_from_string(STATE.read_bytes()[:900])
    with pytest.raises(InputError) as caught:
        load_evidence([cut])
    assert str(caught.value).startswith(f"{cut}:line ")
    assert "malformed JSON" in str(caught.value)


def test_object_above_the_size_limit_is_refused_before_download(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCHECK_MAX_FILE_MB", "0.001")  # ~1 KB: the fixture state is larger
    with pytest.raises(InputError, match=rf"^{bucket}: file is \d+ KB, above the 1 KB limit"):
        load_evidence([bucket])
