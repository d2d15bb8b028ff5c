"""README's table of the least-privilege roles names every role a registered kind's live reads declare, each with
the permission it is declared for: a kind added with a live read cannot leave the table behind."""

from __future__ import annotations

from conftest import ROOT

from driftcheck.kinds.registry import kinds


def _roles_table() -> dict[str, str]:
    """role -> its row, from README's table of the roles live runs need."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| role | what driftcheck reads with it |") :]
    table = table[: table.index("\n\n")]
    rows = [line for line in table.splitlines()[2:] if line.startswith("| `roles/")]
    return {row.split("`")[1]: row for row in rows}


def test_every_live_read_role_is_in_the_readme_with_its_permission() -> None:
    table = _roles_table()
    declared = [(kind.name, read) for kind in kinds() for read in kind.live_reads]
    assert declared, "no kind declares a live read"
    missing = sorted({read.role for _, read in declared} - set(table))
    assert not missing, f"README's roles table lacks {missing}"
    for name, read in declared:
        row = table[read.role]
        # `run.services.get/list` in a row names run.services.list too: the permission, or its resource and verbs
        resource, verb = read.permission.rsplit(".", 1)
        named = read.permission in row or any(
            f"{resource}.{verbs}" in row for verbs in ("get/list", "list/get") if verb in verbs.split("/")
        )
        assert named, f"{name}: README's row for {read.role} does not name {read.permission}"


def test_the_project_policy_role_is_browser() -> None:
    """roles/browser holds resourcemanager.projects.getIamPolicy and none of the project's resources (Google's
    Browser role page); the README says so, as the kind declares it."""
    row = _roles_table()["roles/browser"]
    assert "resourcemanager.projects.getIamPolicy" in row and "none of the project's resources" in row
