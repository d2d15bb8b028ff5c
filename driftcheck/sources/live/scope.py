"""Which project and region a live run reads: flags first, then the usual environment, then gcloud's config."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from driftcheck.errors import InputError

PROJECT_VARIABLES = ("CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT")
REGION_VARIABLES = ("CLOUDSDK_RUN_REGION",)


@dataclass(frozen=True)
class Scope:
    project: str
    regions: tuple[str, ...]

    @property
    def region(self) -> str:
        return self.regions[0]


def resolve_scope(project: str | None, regions: list[str] | None) -> Scope:
    project = project or _first_env(PROJECT_VARIABLES) or _gcloud_config("core/project")
    if not project:
        raise InputError("no project: pass --project, set CLOUDSDK_CORE_PROJECT, or `gcloud config set project P`")
    regions = regions or [r for r in (_first_env(REGION_VARIABLES) or _gcloud_config("run/region"),) if r]
    if not regions:
        raise InputError("no region: pass --region, set CLOUDSDK_RUN_REGION, or `gcloud config set run/region R`")
    return Scope(project, tuple(regions))


def _first_env(names: tuple[str, ...]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _gcloud_config(key: str) -> str | None:
    """The active gcloud configuration, when gcloud is installed; a slow call, so asked only as a last resort."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    try:
        done = subprocess.run(
            [gcloud, "config", "get-value", key], capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value and value != "(unset)" else None
