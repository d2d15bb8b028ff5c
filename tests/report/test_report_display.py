"""How a report value reads in a table or Markdown cell: absent, empty, unknown and masked all look different."""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck.report.document import change_cells, display, display_path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        ([], "—"),
        ({}, "—"),  # an empty map (no network interfaces) is as absent as None
        ({"a": None}, "—"),
        ("", '""'),  # set but empty: DB_PASSWORD="" is a clue, not an absence
        ({"unknown": "no IAM policy exported"}, "unknown (no IAM policy exported)"),
        (True, "true"),
        (["a", 1], "a, 1"),
        ({"value": "x", "secret": None}, "x"),  # an env var reads as its value, or its secret
        ({"value": None, "secret": {"secret": "db-password", "version": "3"}}, "secret db-password:3"),
        ({"secret": "db-password", "version": "latest"}, "secret db-password:latest"),  # gcloud's SECRET:VERSION
        ({"value": "[REDACTED]", "secret": None}, "[REDACTED]"),
    ],
)
def test_display(value: Any, expected: str) -> None:
    assert display(value) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("containers.ingress", "container"),  # the serving container: `ingress` would read as the ingress setting
        ("containers.ingress.env.DB_HOST.value", "container.env.DB_HOST.value"),
        ("containers.proxy.port", "containers.proxy.port"),  # a sidecar keeps its name
        ("containers.ingress-proxy.port", "containers.ingress-proxy.port"),  # a name that merely starts alike
        ("ingress", "ingress"),  # the service's ingress setting itself
    ],
)
def test_display_path(path: str, expected: str) -> None:
    assert display_path(path) == expected


def test_masked_changes_say_they_differ() -> None:
    assert change_cells("[REDACTED]", "[REDACTED]") == ("[REDACTED]", "[REDACTED] (differs)")
    assert change_cells("u:[REDACTED]@h", "u:[REDACTED]@h") == ("u:[REDACTED]@h", "u:[REDACTED]@h (differs)")


def test_plain_changes_are_shown_as_they_are() -> None:
    assert change_cells("10.0.0.6", "10.0.0.5") == ("10.0.0.6", "10.0.0.5")
    assert change_cells("[REDACTED]", None) == ("[REDACTED]", "—")
