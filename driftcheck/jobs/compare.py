"""The compare job end to end, for the CLI (and anyone scripting driftcheck): evidence in, ranked Result out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from driftcheck.errors import InputError
from driftcheck.kinds.document import Document
from driftcheck.model import Inventory, Service
from driftcheck.ruleset.evaluate import NO_PEER_NOTE, evaluate
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.naming import labels
from driftcheck.sources import locator as locators
from driftcheck.sources.documents import read_documents
from driftcheck.sources.evidence import (
    documents_at,
    load_document,
    load_evidence,
    reader_for,
    resolve_project_numbers,
    resolve_service,
)
from driftcheck.sources.unwrap import resources


def compare(
    target: str, baselines: list[str], evidence: list[Path], ruleset: RuleSet, *, alone: bool = False
) -> Result:
    """TARGET and BASELINE are service names found in the evidence, or paths to single-service files. With no
    BASELINE, every other service in the evidence is a peer; with none there, or `alone`, the target is judged
    on its own (the rules that need no peer, and its stated failure)."""
    inventory = load_evidence(evidence) if evidence else Inventory()
    target_service = pick(target, inventory)
    if alone:
        baseline_services = []
    elif baselines:
        baseline_services = [pick(b, inventory) for b in baselines]
    else:
        baseline_services = [s for name, s in sorted(inventory.services.items()) if s is not target_service]
    aliases = _assumed_project_link([target_service, *baseline_services], inventory)
    if aliases:
        target_service = resolve_service(target_service, aliases)
        baseline_services = [resolve_service(s, aliases) for s in baseline_services]
    result = evaluate(target_service, baseline_services, inventory, ruleset)
    notes = [
        f"assumed project {number} is {project}: the compared files name one project by number and by id, "
        "and nothing in the evidence links the two"
        for number, project in aliases.items()
    ]
    notes += _shared_names(target_service, baseline_services)
    notes += [] if baseline_services else [NO_PEER_NOTE]
    return dataclasses.replace(result, notes=(*result.notes, *notes))


def check_files(paths: list[Path], evidence: list[Path], ruleset: RuleSet) -> tuple[list[Result], list[Path]]:
    """Pre-commit (`check --files`): every Cloud Run service each file declares, judged on its own, with the rest of
    `evidence`; and the files that declare none (any other YAML or .tf file a hook passes), skipped. A YAML or JSON
    file is read alone; a .tf file with its folder (its variables and tfvars), for the services it declares."""
    results, skipped = [], []
    for path in paths:
        specs = _tf_services(path) if path.suffix == ".tf" else _file_services(path)
        if not specs:
            skipped.append(path)
        for spec, more_evidence in specs:
            results.append(compare(spec, [], [*more_evidence, *evidence], ruleset, alone=True))
    return results, skipped


def _file_services(path: Path) -> list[tuple[str, list[Path]]]:
    """The one service of a file by its path; several by name, with the file as evidence; none: not a service file
    (a document of no known kind is another tool's YAML, not a mistake)."""

    def known(data: object) -> bool:
        return reader_for(data, path.name) is not None

    own = Inventory()
    for document in read_documents(path, stand_alone=known):
        if any(map(known, resources(document.data, document.label, known))):
            load_document(document, own)
    if len(own.services) == 1:
        return [(str(path), [])]
    return [(name, [path]) for name in sorted(own.services)]


def _tf_services(path: Path) -> list[tuple[str, list[Path]]]:
    if "google_cloud_run" not in path.read_text(encoding="utf-8", errors="replace"):
        return []  # variables.tf, a network module: nothing to judge, and no need to parse the folder
    from driftcheck.sources import terraform_hcl

    declared = terraform_hcl.load_tf_dir(path.parent)
    mine = [s for s in declared.services.values() if Path(s.origin).resolve() == path.resolve()]
    return [(f"{path.parent}/#{s.metadata.address}", []) for s in mine]


def _shared_names(target: Service, baselines: list[Service]) -> list[str]:
    """Services of one name (one per project, or per file) are told apart in every finding: say how."""
    services = [target, *baselines]
    shown = labels([(s.name, s.project, s.origin) for s in services])
    roles = ["the target", *(["the baseline"] if len(baselines) == 1 else ["a baseline"] * len(baselines))]
    named = [f"{role} {label}" for s, role, label in zip(services, roles, shown, strict=True) if label != s.name]
    return [f"compared services share a name; the findings call {' and '.join(named)}"] if named else []


def _assumed_project_link(services: list[Service], inventory: Inventory) -> dict[str, str]:
    """One project number and one project id among the compared services, unlinked: take them to be the same
    project (said in the report), or every connector path would differ by its project segment alone."""
    projects = {s.project for s in services if isinstance(s.project, str)} - set(inventory.project_aliases)
    numbers = {p for p in projects if p.isdigit()}
    ids = projects - numbers
    return {numbers.pop(): ids.pop()} if len(numbers) == 1 and len(ids) == 1 else {}


def is_local(spec: str) -> bool:
    """A TARGET/BASELINE that names a file, a .tf folder or a Terraform locator, not a service to look up."""
    location = spec.partition("#")[0]
    return location.startswith("gs://") or Path(location).exists()


def pick(name_or_path: str, inventory: Inventory) -> Service:
    """A service by name from the evidence, the one service in a file given by path, or a Terraform locator
    (`FILE#ADDRESS`, `gs://bucket/key#ADDRESS`, `DIR/#ADDRESS` for a .tf folder)."""
    path = Path(name_or_path)
    location, _, address = name_or_path.partition("#")
    if address and Path(location).is_dir():  # a .tf folder: the pre-deploy check, where no plan exists
        return _service_from_tf(Path(location), address, inventory)
    locator = None if name_or_path in inventory.services else locators.parse(name_or_path)
    if locator is not None:
        own = _read_on_its_own(documents_at(locator.location), inventory)
        return locators.select(locator, list(own.services.values()))
    if name_or_path not in inventory.services and path.is_file():
        return _service_from_file(path, inventory)
    if name_or_path in inventory.services:
        return inventory.services[name_or_path]
    known = ", ".join(sorted(inventory.services)) or "none"
    raise InputError(f"no service named {name_or_path!r} in the evidence (services found: {known})")


def _service_from_tf(folder: Path, address: str, inventory: Inventory) -> Service:
    from driftcheck.sources import terraform_hcl  # python-hcl2 is loaded only for .tf folders

    declared = terraform_hcl.load_tf_dir(folder)
    inventory.adopt(declared)
    return terraform_hcl.service_at(declared, address)


def _service_from_file(path: Path, inventory: Inventory) -> Service:
    own = _read_on_its_own(read_documents(path), inventory)
    if len(own.services) != 1:
        raise InputError(f"expected exactly one Cloud Run service, found {len(own.services)}", file=str(path))
    return next(iter(own.services.values()))


def _read_on_its_own(documents: Iterable[Document], inventory: Inventory) -> Inventory:
    """A file named on the command line is read on its own, so it may describe a service the folder also has.
    The resources it references join the evidence (the evidence's own copies win)."""
    own = Inventory(project_aliases=dict(inventory.project_aliases))
    for document in documents:
        load_document(document, own)
    resolve_project_numbers(own)
    inventory.adopt(own)
    return own
