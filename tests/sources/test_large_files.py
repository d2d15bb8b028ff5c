"""Large evidence files: read without holding them twice, and a list of services read one service at a time.

Peak memory is what tracemalloc counts while `load_evidence` runs (Python's own allocations, the canonical model
included); a file read through its memory map is not an allocation of its own.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT, ROOT

from driftcheck.errors import InputError
from driftcheck.sources.evidence import load_evidence

API = yaml.safe_load((INCIDENT / "api.yaml").read_text())
STATE = json.loads((ROOT / "fixtures" / "terraform" / "staging.tfstate").read_text())


def services(count: int) -> list[dict[str, Any]]:
    """Renamed copies of the incident's `api`, as `gcloud run services list` lists a project's services."""
    listed = []
    for index in range(count):
        doc = copy.deepcopy(API)
        doc["metadata"]["name"] = f"svc-{index:05d}"
        listed.append(doc)
    return listed


def yaml_list(folder: Path, count: int) -> Path:
    path = folder / "services.yaml"
    path.write_text(yaml.dump_all(services(count), Dumper=yaml.CSafeDumper, sort_keys=False))
    return path


def json_list(folder: Path, count: int) -> Path:
    path = folder / "services.json"
    path.write_text(json.dumps(services(count), indent=2))
    return path


def large_state(folder: Path, count: int) -> Path:
    """A platform's state: a few Cloud Run services among many resources driftcheck does not model."""
    state = copy.deepcopy(STATE)
    for index in range(count):
        attributes = {f"attribute_{n}": f"value-{n}-{index}" * 4 for n in range(40)}
        state["resources"].append(
            {"mode": "managed", "type": "google_storage_bucket", "name": f"b{index}", "provider": "google",
             "instances": [{"attributes": {"name": f"bucket-{index}", **attributes}}]}
        )  # fmt: skip
    path = folder / "platform.tfstate"
    path.write_text(json.dumps(state, indent=2))
    return path


def peak_while_loading(path: Path) -> int:
    tracemalloc.start()
    try:
        load_evidence([path])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # files of thousands of services, loaded under tracemalloc
@pytest.mark.parametrize(
    ("write", "count"),
    [(yaml_list, 700), (json_list, 600), (large_state, 1500)],
    ids=["multi-document YAML", "JSON list", "Terraform state"],
)
def test_peak_memory_stays_under_twice_the_file(tmp_path: Path, write: Callable[[Path, int], Path], count: int) -> None:
    (tmp_path / "warm").mkdir()
    # First use compiles patterns, fills caches and imports the modules readers load lazily: not the file's cost.
    # A quarter of the file goes through the same paths (a JSON list past one read window), so what was imported
    # before this test in the same worker does not change what is measured.
    load_evidence([write(tmp_path / "warm", count // 4)])
    path = write(tmp_path, count)
    size = path.stat().st_size
    assert size > 2_000_000
    assert peak_while_loading(path) < 2 * size


def test_a_json_list_and_a_yaml_list_of_the_same_services_load_the_same(tmp_path: Path) -> None:
    """The JSON list is read in windows smaller than the file: services that straddle two windows load whole."""
    (tmp_path / "y").mkdir()
    (tmp_path / "j").mkdir()
    from_yaml = load_evidence([yaml_list(tmp_path / "y", 250)]).services
    from_json = load_evidence([json_list(tmp_path / "j", 250)]).services
    assert len(from_json) == 250
    assert json_list(tmp_path, 250).stat().st_size > 2 * 2**18  # several windows
    assert {n: s.containers for n, s in from_json.items()} == {n: s.containers for n, s in from_yaml.items()}


def test_a_malformed_service_deep_in_a_json_list_names_its_line(tmp_path: Path) -> None:
    path = json_list(tmp_path, 120)
    lines = path.read_text().splitlines()
    broken = max(i for i, line in enumerate(lines) if '"name": "svc-00110"' in line)
    lines[broken] = lines[broken].rstrip(",") + ",,"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        load_evidence([path])
    assert str(caught.value).startswith(f"{path}:line {broken + 1}: malformed JSON")


def test_data_after_a_json_list_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    path.write_text(json.dumps(services(2)) + "\n{}\n")
    with pytest.raises(InputError, match="malformed JSON: Extra data"):
        load_evidence([path])


def test_bytes_that_are_not_utf8_in_a_json_list_name_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    text = json.dumps(services(3)).encode()
    at = text.index(b"svc-00002")
    path.write_bytes(text[:at] + b"\xff" + text[at:])
    with pytest.raises(InputError, match=rf"not UTF-8 or UTF-16 text \(byte {at}\)"):
        load_evidence([path])


def test_a_list_that_is_one_resource_stays_one_document(tmp_path: Path) -> None:
    """A secret's versions are one list: its items are not resources on their own."""
    path = tmp_path / "db-password.versions.json"
    path.write_text((INCIDENT / "db-password.versions.json").read_text())
    versions = load_evidence([path]).secrets["db-password"].versions
    assert isinstance(versions, dict) and len(versions) >= 2
