"""The Cloud Run service kind: read from a Knative export (`knative.py`) or the v2 API shape (`cloudrun_v2.py`).

Services are the subject of every comparison: a snapshot lists them apart (no `snapshot_key`), and nothing
references them.
"""

from __future__ import annotations

from driftcheck.kinds.registry import Kind, LiveRead, register
from driftcheck.kinds.service import cloudrun_v2, knative
from driftcheck.model import Service

SERVICE = register(
    Kind(
        name="service",
        title="Cloud Run service",
        model=Service,
        readers=(knative, cloudrun_v2),  # Knative first: a v2 Service also has a `name`
        live_reads=(
            LiveRead("list", "run.services.list", "roles/run.viewer"),
            LiveRead("get", "run.services.get", "roles/run.viewer"),
            LiveRead("revision", "run.revisions.get", "roles/run.viewer"),
        ),
        terraform_types=("google_cloud_run_v2_service", "google_cloud_run_service"),
    )
)
