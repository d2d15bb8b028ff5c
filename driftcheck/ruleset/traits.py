"""What a service is, beyond its fields: which application, which environment, which identity choice.

Rules ask these before calling a difference a cause. Two environments of one application (staging and prod, two
projects) attach their own databases and run as their own projects' accounts; two applications listen on their own
ports. Those are ordinary differences, not causes, and a rule tells them apart with these traits:

- `app_keys`: the image names (repository without registry host, project, tag or digest) and the service name
  without environment words. Two services sharing a key are taken to be one application. `service_stem` alone
  tells roles apart: one image deployed as a worker and as an API is one application in two roles.
- `environment`: `{stage, tier, source}` from the first signal that names exactly one stage (labels,
  ENVIRONMENT-like env vars, project-id env vars, the project id when the service's own references repeat it,
  service name, image registry project); all None when none does. NODE_ENV and RAILS_ENV are left out: they are
  build modes (`production` in a test project is common).
- `identity`: the runtime service account as a choice: `{default, name, own_project}`. Each project's own Compute
  Engine default account is the same choice whatever its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypedDict

from driftcheck.compare.likeness import STAGE_OF_WORD, image_repository
from driftcheck.model import Service, Unknown

_NOT_PROD = {"pre": "preprod", "non": "nonprod"}  # pre-prod, non-prod: two words, one non-production stage
_STAGE_LABELS = ("env", "environment", "stage")
_STAGE_VARS = ("ENVIRONMENT", "ENV", "APP_ENVIRONMENT", "DEPLOY_ENV", "DEPLOYMENT_ENV", "STAGE", "ENV_NAME",
               "ENVIRONMENT_NAME")  # fmt: skip
_PROJECT_VARS = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID", "GCP_PROJECT", "GCP_PROJECT_ID", "GCLOUD_PROJECT",
                 "PROJECT_ID", "SPRING_CLOUD_GCP_PROJECT_ID")  # fmt: skip
_REGISTRY_PROJECT = re.compile(r"^(?:[a-z0-9-]+-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io)/(?P<project>[a-z][a-z0-9-]+)/")
# Placeholder images (Terraform deploys them and CI replaces them) say nothing about which application runs.
_PLACEHOLDERS = frozenset({"us-docker.pkg.dev/cloudrun/container/hello", "gcr.io/cloudrun/hello",
                           "gcr.io/cloudrun/placeholder"})  # fmt: skip
# A hello-world image in one's own registry is a placeholder too (Terraform deploys it, CI replaces it).
_HELLO = re.compile(r"(?:^|/)(?:hello|hello-?world|placeholder)(?:[-_][a-z]+)?(?:/|$)")
_IMAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9._/:-]*$")  # as a registry spells one: lower case, no placeholders
_VARIANT = re.compile(r"^(?:v\d+|canary|blue|green)$")  # api-v2, api-canary: the same application
_DEFAULT_COMPUTE = re.compile(r"^(?P<number>\d+)-compute@developer\.gserviceaccount\.com$")
_USER_MANAGED = re.compile(r"^(?P<name>[^@]+)@(?P<project>[^.@]+)\.iam\.gserviceaccount\.com$")


class Image(TypedDict):
    repository: str  # the image without tag or digest
    name: str  # the repository without registry host and project: one application's image in any registry


class Environment(TypedDict):
    stage: str | None  # prod, staging, test, dev, qa, uat, preprod, nonprod...; None when no signal names one
    tier: str | None  # prod or nonprod
    source: str | None  # the signal that named it: `label env=prod`, `env ENVIRONMENT=staging`, `project P`...


class Identity(TypedDict):
    default: bool  # the project's Compute Engine default account
    name: str  # the account's name (`compute-default` for the default one)
    own_project: bool | None  # the account belongs to the service's own project; None: cannot tell


NO_ENVIRONMENT: Environment = {"stage": None, "tier": None, "source": None}


def images(service: Service) -> dict[str, Image]:
    """Container key -> `{repository, name}` of its image: the repository without tag or digest, and its name
    without registry host and project (`cloud-run-source-deploy/api` in any project's Artifact Registry, `api` in
    any project's gcr.io), the same for one application built into a test and a prod registry. Placeholders
    (IMAGE_URL, `${IMAGE}`, Cloud Run's hello image) are left out: they say nothing about what runs."""
    found: dict[str, Image] = {}
    for key, container in service.containers.items():
        # A .tf reference or a plan's value known only after apply is unknown, however the model types it.
        repository = image_repository(container.image) if isinstance(container.image, str) else ""
        if _IMAGE_NAME.match(repository) and repository not in _PLACEHOLDERS and not _HELLO.search(repository):
            registry = _REGISTRY_PROJECT.match(repository)
            found[key] = {"repository": repository, "name": repository[registry.end() :] if registry else repository}
    return found


def app_keys(service: Service) -> list[str]:
    """What makes two services one application: a shared image name, or the same name without environment words."""
    keys = {f"image:{i['name']}" for i in images(service).values()}
    return sorted(keys | {"service:" + service_stem(service)})


def service_stem(service: Service) -> str:
    """The service's name without environment and variant words: `api-staging`, `api-canary` -> `api`. One image
    deployed as two services (a worker and an API) shares an image, not a stem: the stem tells roles apart."""
    words = [w for w in re.split(r"[^a-z0-9]+", service.name.lower()) if w]
    return "-".join([w for w in words if not stages_in(w) and w not in _NOT_PROD and not _VARIANT.match(w)] or words)


def environment(service: Service, aliases: dict[str, str]) -> Environment:
    """The service's stage, from the first signal that names exactly one."""
    for source, text in _environment_signals(service, aliases):
        found = stages_in(text)
        if len(found) == 1:
            return _environment_of(found.pop(), source)
    return NO_ENVIRONMENT.copy()


def instance_environment(connection_name: str) -> Environment:
    """A Cloud SQL instance's stage, from its project id, else its name (`project:region:name`)."""
    project, _, rest = connection_name.partition(":")
    name = rest.rpartition(":")[2]
    signals = [] if project.isdigit() else [(f"project {project}", project)]
    for source, text in [*signals, (f"instance name {name}", name)]:
        found = stages_in(text)
        if len(found) == 1:
            return _environment_of(found.pop(), source)
    return NO_ENVIRONMENT.copy()


def identity(service: Service, aliases: dict[str, str]) -> Identity | None:
    """The runtime account as a choice: Compute Engine default or a named account, and whether it is the
    service's own project's (None: cannot tell)."""
    account = service.service_account
    if not isinstance(account, str) or not account:
        return None
    default = _DEFAULT_COMPUTE.match(account)
    managed = _USER_MANAGED.match(account)
    if default:
        name, project = "compute-default", default["number"]
    else:
        name, project = (managed["name"], managed["project"]) if managed else (account.split("@")[0], None)
    return {"default": bool(default), "name": name, "own_project": _same_project(project, service.project, aliases)}


def stages_in(text: str) -> set[str]:
    """The stages a name or value names, by whole words: `servfix-test` -> test, `api-pre-prod` -> preprod."""
    words = [w.rstrip("0123456789") for w in re.split(r"[^a-z0-9]+", text.lower())]
    found = set()
    for index, word in enumerate(words):
        stage = _stage_of(word)
        previous = words[index - 1] if index else ""
        if stage == "prod" and previous in _NOT_PROD:
            stage = _NOT_PROD[previous]
        if stage:
            found.add(stage)
    return found


def _stage_of(word: str) -> str | None:
    return STAGE_OF_WORD.get(word)


def _environment_of(stage: str, source: str) -> Environment:
    return {"stage": stage, "tier": "prod" if stage == "prod" else "nonprod", "source": source}


def _environment_signals(service: Service, aliases: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Each signal as (where it was read, its text), most telling first."""
    meta = service.metadata
    for labels in (meta.labels, meta.template_labels):
        for key in _STAGE_LABELS:
            if labels.get(key):
                yield f"label {key}={labels[key]}", labels[key]
    for names in (_STAGE_VARS, _PROJECT_VARS):
        for container in service.containers.values():
            for name in names:
                value = container.env[name].value if name in container.env else None
                if isinstance(value, str) and value:
                    yield f"env {name}={value}", value
    project = service.project if isinstance(service.project, str) else ""
    project = aliases.get(project, project)
    if project and not project.isdigit() and _mentions(service, project):
        yield f"project {project}", project
    yield f"service name {service.name}", service.name
    for container in service.containers.values():
        registry = _REGISTRY_PROJECT.match(container.image) if isinstance(container.image, str) else None
        if registry:
            yield f"image registry project {registry['project']}", registry["project"]


def _mentions(service: Service, project: str) -> bool:
    """Whether the service's own references name its project id (account, image, instances, connector, env). A v1
    export names its project by number, and a compare may take it to be the peer's project for want of a link:
    a project id nothing in the service repeats may be the peer's, so it says nothing of the environment."""
    texts: list[object] = [service.service_account, service.vpc.connector, *service.cloudsql_instances]
    texts += [c.image for c in service.containers.values()]
    texts += [v.value for c in service.containers.values() for v in c.env.values()]
    texts += [v.secret.secret for c in service.containers.values() for v in c.env.values() if v.secret]
    return any(isinstance(t, str) and re.search(rf"(?<![a-z0-9-]){re.escape(project)}(?![a-z0-9-])", t) for t in texts)


def _same_project(project: str | None, own: str | Unknown, aliases: dict[str, str]) -> bool | None:
    """Whether an account's project is the service's own; None when one is unknown or they are spelled as a number
    and an id that nothing links."""
    if project is None or isinstance(own, Unknown):
        return None
    first, second = aliases.get(project, project), aliases.get(own, own)
    if first.isdigit() != second.isdigit():
        return None
    return first == second
