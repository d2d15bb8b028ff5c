"""The fake's Logging filter (logs.py): the language's precedence, severities, times, numbers, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from .logs import FilterError, parse_filter, selected


def entry(severity: str | None = "ERROR", when: str = "2026-05-01T12:00:00Z", **more: Any) -> dict[str, Any]:
    resource = {"type": "cloud_run_revision", "labels": {"service_name": "api"}}
    found = {"logName": "projects/p/logs/run.googleapis.com%2Fstderr", "timestamp": when, "resource": resource, **more}
    if severity is not None:
        found["severity"] = severity
    return found


def test_or_binds_tighter_than_and_as_in_the_logging_language() -> None:
    # a AND b OR c is a AND (b OR c): false when a is false, whatever c
    matches = parse_filter('resource.labels.service_name="auth" AND severity>=ERROR OR severity=INFO')
    assert not matches(entry("INFO"))
    matches = parse_filter('resource.labels.service_name="api" severity>=ERROR OR severity=INFO')  # implicit AND
    assert matches(entry("INFO")) and not matches(entry("WARNING"))


def test_severity_compares_by_rank_and_a_missing_one_is_default() -> None:
    at_least_warning = parse_filter("severity>=WARNING")
    assert [at_least_warning(entry(s)) for s in ("INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")] == [
        False, False, True, True, True,
    ]  # fmt: skip
    assert not at_least_warning(entry(None))
    assert parse_filter("severity=DEFAULT")(entry(None))


def test_timestamps_compare_as_times_whatever_their_precision() -> None:
    since = parse_filter('timestamp>="2026-05-01T11:59:59Z"')
    assert since(entry(when="2026-05-01T11:59:59.500000Z"))
    assert not since(entry(when="2026-05-01T11:59:58.999999Z"))
    assert parse_filter('timestamp<"2026-05-01T13:00:00+01:00"')(entry(when="2026-05-01T11:30:00Z"))


def test_numbers_compare_as_numbers_and_a_missing_field_matches_nothing() -> None:
    failed = parse_filter("httpRequest.status>=500")
    assert failed(entry(httpRequest={"status": 503}))
    assert not failed(entry(httpRequest={"status": 404}))
    assert not failed(entry())  # no httpRequest at all
    assert parse_filter("NOT httpRequest.status>=500")(entry())
    assert parse_filter('(logName="projects/p/logs/run.googleapis.com%2Fstderr" AND -severity<ERROR)')(entry())


def test_quoted_values_keep_their_escapes_and_has_is_a_substring() -> None:
    assert parse_filter(r'textPayload="say \"hi\""')(entry(textPayload='say "hi"'))
    assert parse_filter('textPayload:"memory limit"')(entry(textPayload="Memory limit of 512 MiB exceeded"))


@pytest.mark.parametrize(
    "text", ["severity>=", "(severity>=ERROR", "severity>=LOUD", 'timestamp>="yesterday"', "AND severity=ERROR", ")"]
)
def test_what_it_cannot_parse_is_refused(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)


def test_selected_keeps_the_projects_entries_in_the_order_asked() -> None:
    entries = [entry(when=f"2026-05-01T12:00:0{second}Z") for second in (1, 3, 2)]
    other = entry(when="2026-05-01T12:00:04Z")
    other["logName"] = "projects/q/logs/x"
    entries.append(other)
    assert selected(entries, ["projects/p"], "", "timestamp desc") == [1, 2, 0]
    assert selected(entries, ["projects/p"], "", "") == [0, 2, 1]
    with pytest.raises(FilterError):
        selected(entries, ["projects/p"], "", "severity desc")
