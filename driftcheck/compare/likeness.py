"""Is the baseline really a peer? How alike two services are, before any of their differences is called a cause.

A peer explains a failure only when it is the same application (another environment, another generation, the
declared form of a live service). Two unrelated applications differ everywhere, and every difference would read
as a cause. The score weighs what an SRE would look at first: the image repository, the env var names, the name
(without environment words), the dependencies, and where it runs. Each feature scores 0..1; features that neither
side has (no env at all, no dependency) are left out rather than counted as agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.model import Service

# Below this a baseline is "clearly a different application": its pair findings are capped at medium.
UNLIKE_BELOW = 0.35
_WEIGHTS = {"image": 3.0, "env": 3.0, "name": 2.0, "dependencies": 1.0, "place": 0.5}
# Words that name an environment, and the stage each names; ruleset/traits.py tells environments apart with them.
STAGE_OF_WORD = {
    **dict.fromkeys(("prod", "production", "prd"), "prod"),
    **dict.fromkeys(("staging", "stage", "stg"), "staging"),
    **dict.fromkeys(("test", "testing"), "test"),
    **dict.fromkeys(("dev", "develop", "development"), "dev"),
    "qa": "qa",
    "uat": "uat",
    "preprod": "preprod",
    "nonprod": "nonprod",
}
# What a service name may add around the application's name in one environment or another.
_ENVIRONMENT_WORDS = frozenset(STAGE_OF_WORD) | {"live", "sandbox", "canary", "blue", "green", "v1", "v2", "service",
                                                 "svc"}  # fmt: skip
_PLATFORM_ENV = frozenset({"K_SERVICE", "K_REVISION", "K_CONFIGURATION", "PORT", "SERVICE_NAME"})


@dataclass(frozen=True)
class Likeness:
    score: float  # 0 (nothing in common) .. 1 (the same application)
    reasons: tuple[str, ...]  # what differs most, for the report's note

    @property
    def unlike(self) -> bool:
        return self.score < UNLIKE_BELOW

    def note(self, target: str, baseline: str) -> str:
        """What the report says at its top about a baseline that looks like another application."""
        why = f" ({', '.join(self.reasons)})" if self.reasons else ""
        return (
            f"{target} and {baseline} share little{why}, likeness {self.score:.2f}: they look like different "
            "applications, so differences are expected and findings are weaker (capped at medium)"
        )


def likeness(target: Service, baseline: Service) -> Likeness:
    scores: dict[str, float] = {}
    reasons: list[str] = []
    images = _image_score(target, baseline)
    scores["image"] = images
    if images == 0:
        reasons.append("different images")
    env = _jaccard(_env_names(target), _env_names(baseline))
    if env is not None:
        scores["env"] = env
        common = len(_env_names(target) & _env_names(baseline))
        if env < 0.5:
            reasons.append(f"{common} of {len(_env_names(target) | _env_names(baseline))} env var names in common")
    scores["name"] = _jaccard(_name_words(target.name), _name_words(baseline.name)) or 0.0
    dependencies = _jaccard(_dependencies(target), _dependencies(baseline))
    if dependencies is not None:
        scores["dependencies"] = dependencies
    scores["place"] = _place_score(target, baseline)
    total = sum(_WEIGHTS[k] for k in scores)
    score = sum(_WEIGHTS[k] * v for k, v in scores.items()) / total
    return Likeness(round(score, 2), tuple(reasons))


def image_repository(image: str) -> str:
    """`europe-docker.pkg.dev/p/r/api:1.2@sha256:...` -> `europe-docker.pkg.dev/p/r/api`: what the tag and digest
    leave, the same for two builds of one application."""
    without_digest = image.split("@", 1)[0]
    head, _, last = without_digest.rpartition("/")
    name = last.split(":", 1)[0]
    return f"{head}/{name}" if head else name


def _image_score(target: Service, baseline: Service) -> float:
    ours, theirs = _repositories(target), _repositories(baseline)
    if ours & theirs:
        return 1.0
    # The same image name in another registry or project (test and prod registries): most likely the same app.
    if {r.rsplit("/", 1)[-1] for r in ours} & {r.rsplit("/", 1)[-1] for r in theirs}:
        return 0.7
    return 0.0


def _repositories(service: Service) -> set[str]:
    # An image known only after apply (an unresolved .tf reference) tells nothing either way.
    return {image_repository(c.image) for c in service.containers.values() if isinstance(c.image, str) and c.image}


def _env_names(service: Service) -> set[str]:
    return {name for c in service.containers.values() for name in c.env if name not in _PLATFORM_ENV}


def _name_words(name: str) -> set[str]:
    words = {w for w in re.split(r"[-_.]+", name.lower()) if w and not w.isdigit()}
    return (words - _ENVIRONMENT_WORDS) or words


def _dependencies(service: Service) -> set[str]:
    secrets = {
        f"secret:{var.secret.secret}" for c in service.containers.values() for var in c.env.values() if var.secret
    }
    # An instance's environment word differs between test and prod (app-test-db, app-db): compare what remains.
    instances = {"sql:" + "-".join(sorted(_name_words(n.rsplit(":", 1)[-1]))) for n in service.cloudsql_instances}
    return secrets | instances


def _place_score(target: Service, baseline: Service) -> float:
    if target.project == baseline.project:
        return 1.0
    return 0.5 if target.region == baseline.region else 0.25


def _jaccard(left: set[str], right: set[str]) -> float | None:
    if not left and not right:
        return None
    return len(left & right) / len(left | right)
