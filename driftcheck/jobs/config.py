"""The audit configuration: `driftcheck.toml`, or `[tool.driftcheck]` in pyproject.toml, as frozen dataclasses.

Paths in the file are relative to the file. Validation is strict because a nightly job with a typo in its config
would silently audit less than intended:
every error is one InputError naming the file, the key path (`peer_groups[1].fields[0]`) and what was expected.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from driftcheck.errors import InputError
from driftcheck.model import Service, to_plain
from driftcheck.ruleset.findings import SEVERITIES

# The report formats; listed here, not imported, because config sits before report in the import chain.
FORMATS = ("table", "json", "markdown", "sarif", "junit", "html")
FAIL_ON = (*SEVERITIES, "none")
CANONICAL_ROOTS: tuple[str, ...] = tuple(to_plain(Service(name="", project="", region="", origin="")))


@dataclass(frozen=True)
class PeerGroup:
    name: str
    members: tuple[str, ...]  # service names or globs
    fields: tuple[str, ...]  # canonical path globs that must agree across the group
    project: str | None = None
    region: str | None = None

    def includes(self, service: Service) -> bool:
        return (
            any(fnmatchcase(service.name, m) for m in self.members)
            and self.project in (None, service.project)
            and self.region in (None, service.region)
        )


@dataclass(frozen=True)
class Endpoint:
    project: str
    region: str
    service: str

    def __str__(self) -> str:
        return f"{self.project}/{self.region}/{self.service}"


@dataclass(frozen=True)
class EnvironmentPair:
    name: str
    left: Endpoint
    right: Endpoint
    expected: tuple[str, ...] = ()  # canonical path globs expected to differ between the two environments


@dataclass(frozen=True)
class Ignore:
    fields: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # empty: every service
    reason: str | None = None
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today


@dataclass(frozen=True)
class Output:
    format: str
    path: str


@dataclass(frozen=True)
class Config:
    source: str
    projects: tuple[str, ...]
    regions: tuple[str, ...]
    peer_groups: tuple[PeerGroup, ...] = ()
    environment_pairs: tuple[EnvironmentPair, ...] = ()
    terraform_state: dict[str, str] = field(default_factory=dict)  # project -> state location (path or gs://)
    ignores: tuple[Ignore, ...] = ()
    fail_on: str = "high"
    outputs: tuple[Output, ...] = ()
    history: str | None = None  # the snapshot history store: a folder or gs://bucket/prefix
    keep: int | None = None  # retention: the newest N snapshots of each project (scope) in the store
    webhook: str | None = None  # POST a summary here after each audit
    # No configuration (a one-off audit): each region's services are peers, and one that is not ready is reported
    # with its stated failure and its likely causes, as `compare` without a baseline would.
    region_peers: bool = False

    def active_ignores(self, today: date) -> tuple[Ignore, ...]:
        return tuple(i for i in self.ignores if not i.expired(today))

    def expired_ignores(self, today: date) -> tuple[Ignore, ...]:
        """An expired ignore applies no more and is reported, so a temporary waiver cannot outlive its reason."""
        return tuple(i for i in self.ignores if i.expired(today))


def load_config(path: Path | str) -> Config:
    """Read driftcheck.toml, or the `[tool.driftcheck]` table when the file is a pyproject.toml."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("configuration file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML ({exc})", file=str(path)) from None
    prefix = ""
    if path.name == "pyproject.toml":
        raw = raw.get("tool", {}).get("driftcheck")
        prefix = "tool.driftcheck"
        if not isinstance(raw, dict):
            raise InputError("no [tool.driftcheck] table", file=str(path), where=prefix)
    return _Reader(str(path), prefix).config(raw)


class _Reader:
    """Walks the raw TOML with the key path in hand, so each error can say exactly where it is."""

    def __init__(self, file: str, prefix: str) -> None:
        self.file = file
        self.prefix = prefix

    def fail(self, where: str, expected: str) -> InputError:
        full = ".".join(p for p in (self.prefix, where) if p)
        return InputError(expected, file=self.file, where=full or None)

    def config(self, raw: dict[str, Any]) -> Config:
        self.keys(raw, "", required=("projects",), optional=_TOP_KEYS)
        config = self.read(raw)
        self.in_scope(config)
        return config

    def in_scope(self, config: Config) -> None:
        """A state or an environment pair outside `projects`/`regions` is never audited: a typo, said as one."""
        for project, location in config.terraform_state.items():
            if project not in config.projects:
                raise self.fail(f"terraform_state.{project}", self.outside(project, config.projects, "projects"))
            # A local state that is not there is a typo or a missing checkout: an error now, not a night's
            # incomplete report. Only a gs:// object is read when the audit runs (it may be out of reach a while).
            if not location.startswith("gs://") and not Path(location).is_file():
                raise self.fail(f"terraform_state.{project}", f"no such file: {location}")
        for i, pair in enumerate(config.environment_pairs):
            for side, endpoint in (("left", pair.left), ("right", pair.right)):
                where = f"environment_pairs[{i}].{side}"
                if endpoint.project not in config.projects:
                    raise self.fail(f"{where}.project", self.outside(endpoint.project, config.projects, "projects"))
                if config.regions and endpoint.region not in config.regions:
                    raise self.fail(f"{where}.region", self.outside(endpoint.region, config.regions, "regions"))

    @staticmethod
    def outside(value: str, allowed: tuple[str, ...], key: str) -> str:
        close = difflib.get_close_matches(value, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{value!r} is not in {key}, so the audit never reads it{hint}"

    def read(self, raw: dict[str, Any]) -> Config:
        return Config(
            source=self.file,
            projects=self.strings(raw, "projects", "projects"),
            regions=self.strings(raw, "regions", "regions"),
            peer_groups=tuple(self.peer_group(g, f"peer_groups[{i}]") for i, g in self.items(raw, "peer_groups")),
            environment_pairs=tuple(
                self.pair(p, f"environment_pairs[{i}]") for i, p in self.items(raw, "environment_pairs")
            ),
            terraform_state={k: self.located(v) for k, v in self.state(raw.get("terraform_state", {})).items()},
            ignores=tuple(self.ignore(g, f"ignores[{i}]") for i, g in self.items(raw, "ignores")),
            fail_on=self.choice(raw.get("fail_on", "high"), "fail_on", FAIL_ON),
            outputs=tuple(self.output(o, f"outputs[{i}]") for i, o in self.items(raw, "outputs")),
            history=self.located(self.string(raw, "history", "", required=False)),
            keep=self.positive(raw.get("keep"), "keep"),
            webhook=self.url(raw.get("webhook"), "webhook"),
        )

    def keys(self, raw: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        if not isinstance(raw, dict):
            raise self.fail(where, "a table")
        allowed = (*required, *optional)
        for key in raw:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
                raise self.fail(_join(where, key), f"unknown key{hint}")
        for key in required:
            if key not in raw:
                raise self.fail(_join(where, key), "required key is missing")

    def items(self, raw: dict[str, Any], key: str) -> list[tuple[int, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"an array of tables ([[{key}]])")
        return list(enumerate(value))

    def strings(self, raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise self.fail(where, "a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.fail(f"{where}[{i}]", "a non-empty string")
        return tuple(value)

    def string(self, raw: dict[str, Any], key: str, where: str, required: bool = True) -> Any:
        value = raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(_join(where, key), "a non-empty string")
        return value

    def globs(self, raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        """Path globs must be able to match a canonical path: a misspelt root would silently match nothing."""
        globs = self.strings(raw, key, _join(where, key))
        for i, glob in enumerate(globs):
            root = glob.split(".", 1)[0]
            if not any(fnmatchcase(candidate, root) for candidate in CANONICAL_ROOTS):
                close = _closest_root(root)
                hint = f" (did you mean {close!r}?)" if close else ""
                raise self.fail(
                    f"{_join(where, key)}[{i}]",
                    f"{glob!r} cannot match any canonical path{hint}; roots: {', '.join(CANONICAL_ROOTS)}",
                )
        return globs

    def positive(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, f"{value!r} is not a positive whole number")
        return value

    def url(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise self.fail(where, f"{value!r} is not an http(s) URL")
        return value

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(where, f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)

    def peer_group(self, raw: Any, where: str) -> PeerGroup:
        self.keys(raw, where, required=("name", "members", "fields"), optional=("project", "region"))
        return PeerGroup(
            name=self.string(raw, "name", where),
            members=self.strings(raw, "members", _join(where, "members")),
            fields=self.globs(raw, "fields", where),
            project=self.string(raw, "project", where, required=False),
            region=self.string(raw, "region", where, required=False),
        )

    def endpoint(self, raw: Any, where: str) -> Endpoint:
        self.keys(raw, where, required=("project", "region", "service"), optional=())
        return Endpoint(*(self.string(raw, k, where) for k in ("project", "region", "service")))

    def pair(self, raw: Any, where: str) -> EnvironmentPair:
        self.keys(raw, where, required=("left", "right"), optional=("name", "expected"))
        left, right = self.endpoint(raw["left"], f"{where}.left"), self.endpoint(raw["right"], f"{where}.right")
        return EnvironmentPair(
            name=self.string(raw, "name", where, required=False) or f"{left} <-> {right}",
            left=left,
            right=right,
            expected=self.globs(raw, "expected", where),
        )

    def state(self, raw: Any) -> dict[str, str]:
        self.keys(raw, "terraform_state", required=(), optional=tuple(raw) if isinstance(raw, dict) else ())
        return {project: self.string(raw, project, "terraform_state") for project in raw}

    def ignore(self, raw: Any, where: str) -> Ignore:
        self.keys(raw, where, required=(), optional=("fields", "rules", "services", "reason", "expires"))
        if not any(raw.get(k) for k in ("fields", "rules", "services")):
            raise self.fail(where, "an ignore needs at least one of fields, rules, services")
        return Ignore(
            fields=self.globs(raw, "fields", where),
            rules=self.strings(raw, "rules", _join(where, "rules")),
            services=self.strings(raw, "services", _join(where, "services")),
            reason=self.string(raw, "reason", where, required=False),
            expires=self.date(raw.get("expires"), _join(where, "expires")),
        )

    def date(self, value: Any, where: str) -> date | None:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        try:
            return date.fromisoformat(value) if isinstance(value, str) else _not_a_date()
        except ValueError:
            raise self.fail(where, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def output(self, raw: Any, where: str) -> Output:
        self.keys(raw, where, required=("format", "path"), optional=())
        return Output(
            self.choice(raw["format"], _join(where, "format"), FORMATS), self.located(self.string(raw, "path", where))
        )

    def located(self, location: str | None) -> Any:
        """A relative path in the file is relative to the file, wherever the job runs from; gs:// stays as it is."""
        if location is None or location.startswith("gs://") or Path(location).is_absolute():
            return location
        return str(Path(self.file).parent / location)


_TOP_KEYS = (
    *("regions", "peer_groups", "environment_pairs", "terraform_state", "ignores", "fail_on", "outputs"),
    *("history", "keep", "webhook"),
)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _closest_root(root: str) -> str | None:
    """An old spelling usually extends a root (vpc_access -> vpc), which difflib ranks below look-alikes."""
    prefixed = [r for r in CANONICAL_ROOTS if root.startswith(r) or r.startswith(root)]
    if prefixed:
        return max(prefixed, key=len)
    close = difflib.get_close_matches(root, CANONICAL_ROOTS, n=1)
    return close[0] if close else None


def _not_a_date() -> date:
    raise ValueError("not a date")
