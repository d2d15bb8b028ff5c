"""Several baselines: a difference every peer agrees on weighs more, and the report says how many agree."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import INCIDENT, run_cli

ENV_ANCHOR = "        - name: SERVICE_NAME\n"


def _with_env(text: str, *names: str) -> str:
    extra = "".join(f"        - name: {name}\n          value: redis://10.20.0.9:6379\n" for name in names)
    return text.replace(ENV_ANCHOR, extra + ENV_ANCHOR, 1)


def _evidence(tmp_path: Path) -> Path:
    """api (failing) and two healthy peers: both peers set REDIS_URL, only auth sets FEATURE_CACHE_URL."""
    folder = tmp_path / "evidence"
    shutil.copytree(INCIDENT, folder)
    auth = (INCIDENT / "auth.yaml").read_text()
    (folder / "auth.yaml").write_text(_with_env(auth, "REDIS_URL", "FEATURE_CACHE_URL"))
    billing = _with_env(auth, "REDIS_URL").replace("name: auth\n", "name: billing\n")
    (folder / "billing.yaml").write_text(billing.replace("auth-123456789012", "billing-123456789012"))
    return folder


def test_every_peer_agreeing_is_said_and_ranks_first(tmp_path: Path) -> None:
    report = run_cli("compare", "api", "--from", _evidence(tmp_path), "--format", "json").json()
    assert report["baselines"] == ["auth", "billing"]
    missing = [f for f in report["findings"] if f["rule"] == "env-var-missing"]
    assert [f["peers"] for f in missing] == [
        "2/2 peers have REDIS_URL (only the target differs)",
        "1/2 peers have FEATURE_CACHE_URL",
    ]
    vpc = next(f for f in report["findings"] if f["rule"] == "vpc-access-missing")
    assert vpc["peers"] == "2/2 peers reach the VPC (connector) (only the target differs)"
