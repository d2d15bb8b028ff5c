"""The kind registry: every registered kind is handled by every stage, and a new kind needs one module.

A toy kind (a Filestore instance, which driftcheck does not model), declared in this module alone, flows through
evidence loading and a snapshot round trip without any other module naming it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import INCIDENT

from driftcheck.jobs.compare import compare
from driftcheck.kinds.document import Document
from driftcheck.kinds.registry import Kind, kinds, register, unregister, with_snapshot
from driftcheck.model import Inventory, Service, Unknown
from driftcheck.report import reporter
from driftcheck.ruleset.load import load_ruleset
from driftcheck.sources import readers
from driftcheck.sources.evidence import load_evidence
from driftcheck.sources.terraform_resources import MODELLED


def test_every_kind_with_a_snapshot_key_reads_it_back_and_names_its_references() -> None:
    for kind in with_snapshot():
        assert kind.from_snapshot is not None, kind.name
        assert kind.readers, f"{kind.name} reads no evidence file"


def test_every_live_read_a_kind_declares_is_made_by_the_live_fetcher() -> None:
    from driftcheck.sources.live.reads import READS

    declared = {(kind.name, read.part) for kind in with_snapshot() for read in kind.live_reads}
    assert declared == set(READS), "a kind declares a read the fetcher does not make (or the reverse)"
    for kind in kinds():
        for read in kind.live_reads:
            assert re.fullmatch(r"[a-z]+(\.[a-zA-Z]+){2}", read.permission), read
            assert read.role.startswith("roles/"), read


def test_every_terraform_type_belongs_to_one_kind_and_has_a_loader() -> None:
    declared = [t for kind in kinds() for t in kind.terraform_types]
    assert len(declared) == len(set(declared)), "a Terraform type is declared by two kinds"
    assert set(declared) == set(MODELLED)


def test_the_evidence_readers_are_the_kinds_readers_after_the_whole_file_formats() -> None:
    kind_readers = [reader for kind in kinds() for reader in kind.readers]
    assert list(readers())[-len(kind_readers) :] == kind_readers
    assert [kind.name for kind in kinds()][:4] == ["service", "sql_instance", "connector", "secret"]


def test_registering_a_name_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(kinds()[1])


# --- a toy kind, declared here and nowhere else -----------------------------------------------------------------

_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/instances/(?P<instance>[^/]+)$")


@dataclass(frozen=True)
class FilestoreInstance:
    name: str
    host: str | Unknown
    state: str | Unknown
    origin: str


def _parse(data: dict[str, Any], origin: str) -> FilestoreInstance:
    state = data.get("state") or Unknown("no state field")
    return FilestoreInstance(str(data["name"]), data.get("host") or Unknown("no host field"), state, origin)


class _FilestoreReader:
    KIND = "Filestore instance (gcloud filestore instances describe)"

    def matches(self, data: Any) -> bool:
        return isinstance(data, dict) and bool(_NAME.match(str(data.get("name", "")))) and "fileShares" in data

    def load(self, doc: Document, inventory: Inventory) -> None:
        instance = _parse(doc.data, doc.label)
        inventory.of("filestore_instance")[instance.name] = instance


def _from_snapshot(key: str, stored: Any, origin: str, project: str | Unknown) -> FilestoreInstance | None:
    return None if "error" in stored else _parse(stored, f"{origin}#filestore:{key}")


def _reached_by(service: Service) -> list[str]:
    """A service reaches an instance whose path it names in an env value (FILESTORE_INSTANCE=projects/...)."""
    values = (v.value for c in service.containers.values() for v in c.env.values())
    return [value for value in values if isinstance(value, str) and _NAME.match(value)]


TOY = Kind(
    name="filestore_instance",
    title="Filestore instance",
    model=FilestoreInstance,
    readers=(_FilestoreReader(),),
    snapshot_key="filestore_instances",
    from_snapshot=_from_snapshot,
    references=_reached_by,
)
FILESTORE = "projects/acme-staging/locations/us-central1-a/instances/shared-files"
EXPORT = {
    "name": FILESTORE,
    "host": "10.20.0.5",
    "fileShares": [{"name": "share1", "capacityGb": "1024"}],
    "state": "READY",
}


@pytest.fixture
def toy_kind() -> Iterator[Kind]:
    register(TOY)
    yield TOY
    unregister(TOY.name)


def test_a_toy_kind_is_read_from_an_evidence_folder(toy_kind: Kind, tmp_path: Path) -> None:
    folder = shutil.copytree(INCIDENT, tmp_path / "evidence")
    (folder / "shared-files.filestore.json").write_text(json.dumps(EXPORT))
    inventory = load_evidence([folder])
    (instance,) = inventory.of("filestore_instance").values()
    assert instance == FilestoreInstance(FILESTORE, "10.20.0.5", "READY", str(folder / "shared-files.filestore.json"))
    assert len(inventory.services) == 2  # the other kinds load as before


def test_a_toy_kind_without_registration_is_not_evidence(tmp_path: Path) -> None:
    (tmp_path / "shared-files.filestore.json").write_text(json.dumps(EXPORT))
    with pytest.raises(Exception, match="not a known kind of evidence"):
        load_evidence([tmp_path])


def test_a_toy_kind_round_trips_through_a_snapshot(toy_kind: Kind, tmp_path: Path) -> None:
    snapshot = {
        "driftcheck_snapshot": 1,
        "scope": {"project": "acme-staging", "regions": ["us-central1"]},
        "services": [],
        "filestore_instances": {
            FILESTORE: EXPORT,
            f"{FILESTORE}-b": {"error": "PERMISSION_DENIED: file.instances.get"},
        },
    }
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    inventory = load_evidence([path])
    expected = FilestoreInstance(FILESTORE, "10.20.0.5", "READY", f"{path}#filestore:{FILESTORE}")
    assert inventory.of("filestore_instance") == {FILESTORE: expected}
    # unknown, never absent: the instance that could not be read is named with the API's words
    assert inventory.errors == {f"filestore_instances:{FILESTORE}-b": "PERMISSION_DENIED: file.instances.get"}


RULE = """\
id: filestore-not-ready
title: The target's Filestore instance is not ready
severity: high
description: The Filestore instance the target names is not READY.
scope: target
when: >-
  target.refs.resources.filestore_instance.exists(r, !is_unknown(r.resource) && r.resource.state != "READY")
explanation: >-
  {{ target.label }} reaches {{ join(target.refs.resources.filestore_instance.map(r, r.key), ", ") }}, which is
  {{ join(target.refs.resources.filestore_instance.map(r, r.resource.state), ", ") }}.
docs: https://cloud.google.com/filestore/docs
"""


def test_a_toy_kind_reaches_a_users_rule_and_the_report(toy_kind: Kind, tmp_path: Path) -> None:
    """The service names the instance in an env value; the rule sees it under refs.resources, as any kind."""
    folder = shutil.copytree(INCIDENT, tmp_path / "evidence")
    api = yaml.safe_load((folder / "api.yaml").read_text())
    api["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "FILESTORE_INSTANCE", "value": FILESTORE})
    (folder / "api.yaml").write_text(yaml.safe_dump(api))
    (folder / "shared-files.filestore.json").write_text(json.dumps({**EXPORT, "state": "MAINTENANCE"}))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "filestore-not-ready.yaml").write_text(RULE)
    result = compare("api", ["auth"], [folder], load_ruleset([rules]))
    report = json.loads(reporter("json")(result))
    (finding,) = [f for f in report["findings"] if f["rule"] == "filestore-not-ready"]
    assert f"reaches {FILESTORE}, which is MAINTENANCE" in finding["explanation"]
    assert finding["severity"] == "high"


def test_a_service_that_names_no_instance_sees_an_empty_list(toy_kind: Kind, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "filestore-not-ready.yaml").write_text(RULE)
    result = compare("api", ["auth"], [INCIDENT], load_ruleset([rules]))
    assert not [f for f in result.findings if f.rule == "filestore-not-ready"]


def test_only_the_kinds_that_follow_paths_are_asked_again_after_a_round() -> None:
    # the live fetch asks these again with what a round read (sources/live/fetch.py); a kind wrongly left out would
    # miss a connector's network or a router, one wrongly put in costs an audit of thousands of projects CPU.
    # subnet: a connector created with --subnet names its subnet, not its network: the subnet (read once the connector
    # is) is what says the network
    # run_service_iam_policy: its key is the service's full name, or the short one an exported file names (by what
    # the inventory holds); a later round names no new read of it
    following = {kind.name for kind in with_snapshot() if kind.follows_paths}
    assert following == {"network", "subnet", "router", "firewall", "folder_iam_policy", "organization_iam_policy",
                         "pubsub_subscription", "redis", "run_service_iam_policy"}  # fmt: skip
