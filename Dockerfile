# driftcheck in a container: the nightly `driftcheck audit` as a Cloud Run Job (see docs/scheduled-audits.md).
#
#   docker build -t driftcheck .
#   docker run --rm -v "$PWD/driftcheck.toml:/config/driftcheck.toml:ro" \
#     -v "$HOME/.config/gcloud:/home/driftcheck/.config/gcloud:ro" driftcheck
#
# Credentials are Application Default Credentials: on Cloud Run, the job's service account; locally, the mounted
# gcloud folder above. The image holds no credentials and no configuration.

# Build stage: install the package and its dependencies into a virtual environment that the runtime stage copies.
# The wheel ships the rule library (pyproject force-includes rules/ as driftcheck/_builtin_rules) and
# driftcheck/report/report-schema.json, so the runtime needs nothing from the checkout.
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/driftcheck
WORKDIR /src
# Only what the build needs (hatchling reads README.md as the long description, the version from __init__.py).
COPY pyproject.toml README.md ./
COPY driftcheck ./driftcheck
COPY rules ./rules
RUN /opt/driftcheck/bin/pip install --no-cache-dir . \
    && /opt/driftcheck/bin/driftcheck rules list >/dev/null

# Runtime stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/driftcheck/bin:$PATH

RUN groupadd --system --gid 10001 driftcheck \
    && useradd --system --uid 10001 --gid driftcheck --create-home --home-dir /home/driftcheck driftcheck
COPY --from=build /opt/driftcheck /opt/driftcheck

USER 10001:10001
WORKDIR /home/driftcheck

ENTRYPOINT ["driftcheck"]
CMD ["audit", "--config", "/config/driftcheck.toml"]
