"""Where the runtime-setting rules (timeout, scaling, concurrency, CPU allocation, HTTP/2) draw the line: each rule's
fixture, copied and changed, shows an unset value read as Cloud Run's default, environments or roles that differ by
design, and the other direction of a protocol mismatch. Their silence on real same-service pairs is in
test_corpus_pairs.py."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_cli

RULES = FIXTURES / "rules"


def _findings(rule: str, tmp_path: Path, swap: bool = False, **edits: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """The rule's fixture in a copy, with one `old -> new` text edit per file (`target`, `baseline`)."""
    folder = tmp_path / rule
    shutil.copytree(RULES / rule, folder)
    for name, (old, new) in edits.items():
        path = folder / f"{name}.yaml"
        assert old in path.read_text(), (name, old)
        path.write_text(path.read_text().replace(old, new))
    first, second = ("baseline", "target") if swap else ("target", "baseline")
    run = run_cli(
        "compare", folder / f"{first}.yaml", folder / f"{second}.yaml", "--from", folder, "--format", "json",
        "--fail-on", "none",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    return {f["rule"]: f for f in run.json()["findings"]}


@pytest.mark.parametrize(
    ("rule", "edits"),
    [
        # unset is the platform default: 80 concurrent requests, 100 instances
        ("concurrency-mismatch", {"baseline": ("      containerConcurrency: 4\n", "")}),
        ("max-instances-lower", {"baseline": ("maxScale: '40'", "maxScale: '100'")}),
        ("max-instances-lower", {"baseline": ("        autoscaling.knative.dev/maxScale: '40'\n", "")}),
        # the same capacity: 4 instances of 800 concurrent requests against 40 of 80
        ("max-instances-lower", {"target": ("containerConcurrency: 80", "containerConcurrency: 800")}),
        # environments sized apart by design
        ("max-instances-lower", {"baseline": ("    env: prod\n", "    env: staging\n")}),
        ("min-instances-lower", {"target": ("    env: prod\n", "    env: staging\n")}),
        # one image in another role: a worker's long jobs are no measure of an API's requests
        ("request-timeout-lower", {"baseline": ("  name: exports\n", "  name: exports-worker\n")}),
        # two applications speak their own protocols
        ("http2-mismatch", {"baseline": ("backend/quote-engine", "backend/pricing")}),
    ],
)
def test_an_ordinary_difference_is_no_finding(rule: str, edits: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    assert rule not in _findings(rule, tmp_path, **edits)


def test_a_revision_that_failed_to_start_is_not_explained_by_a_timeout(tmp_path: Path) -> None:
    failed = "  - lastTransitionTime: '2026-11-26T09:12:03.551208Z'\n    status: 'False'\n    type: Ready\n"
    edit = ("  - lastTransitionTime: '2026-11-26T09:12:03.551208Z'\n    status: 'True'\n    type: Ready\n", failed)
    assert "request-timeout-lower" not in _findings("request-timeout-lower", tmp_path, target=edit)


def test_h2c_on_a_server_the_peer_serves_over_http1_fails_every_request(tmp_path: Path) -> None:
    finding = _findings("http2-mismatch", tmp_path, swap=True)["http2-mismatch"]
    assert finding["severity"] == "high"
    assert "quotes-batch's container quotes-batch-1 gets requests as end-to-end HTTP/2 (h2c)" in finding["explanation"]
    assert "(502, 503)" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith("--no-use-http2")
    assert 'ports { name = "http1", container_port = 8080 }' in finding["remediation"]["terraform"]


def test_one_request_per_instance_is_said_with_the_instances_it_needs(tmp_path: Path) -> None:
    edits = {"target": ("containerConcurrency: 80", "containerConcurrency: 1"), "baseline": ("ncy: 4\n", "ncy: 80\n")}
    finding = _findings("concurrency-mismatch", tmp_path, **edits)["concurrency-mismatch"]
    assert "ocr-v3 serves one request at a time per instance, ocr-v2 up to 80" in finding["explanation"]
    assert "maximum of 30 instances at 30 concurrent requests (then 429)" in finding["explanation"]
    assert finding["remediation"]["gcloud"].endswith("--concurrency 80")
