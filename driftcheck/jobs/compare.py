"""The compare job end to end, for the CLI (and anyone scripting driftcheck): evidence in, ranked Result out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from driftcheck.model import Inventory, Service
from driftcheck.ruleset.evaluate import NO_PEER_NOTE, evaluate
from driftcheck.ruleset.findings import Result
from driftcheck.ruleset.load import RuleSet
from driftcheck.ruleset.naming import labels
from driftcheck.sources.documents import read_documents
from driftcheck.sources.evidence import load_document, load_evidence, reader_for, resolve_service
from driftcheck.sources.targets import is_local, pick
from driftcheck.sources.unwrap import resources

__all__ = ["check_files", "compare", "is_local", "pick"]


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
