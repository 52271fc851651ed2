# syntax=docker/dockerfile:1
# The Atlas code location: the Dagster definitions (atlas_pipeline), the dbt project with its parsed
# manifest, the bundled declarations and checks, installed from requirements.lock.txt. It serves the
# definitions over gRPC to the Dagster webserver and daemon, and is the image every run executes in
# (compose: DefaultRunLauncher, runs are processes of this container; Kubernetes: K8sRunLauncher,
# each run is a Job with this image). No secret is built in: credentials, the Postgres password and
# cloud keys come from the environment when a container starts. See README, "Running in production".
ARG PYTHON_VERSION=3.11

# ---- build: the locked virtualenv, the package, dbt's manifest -------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
RUN pip install uv==0.13.9
WORKDIR /opt/atlas
# The lock first: the dependency layer is rebuilt only when the lock changes.
COPY requirements.lock.txt ./
RUN uv venv --python /usr/local/bin/python3 /opt/venv && uv pip sync --no-cache --python /opt/venv/bin/python requirements.lock.txt
COPY pyproject.toml README.md workspace.yaml ./
COPY atlas_pipeline ./atlas_pipeline
COPY dbt_project ./dbt_project
COPY assets ./assets
COPY checks ./checks
# Editable on purpose: Atlas finds dbt_project/, assets/ and checks/ beside its package (lib/settings.py),
# and /opt/atlas is the same path in the runtime stage. The manifest is parsed once here, not at startup.
RUN uv pip install --no-cache --python /opt/venv/bin/python --no-deps -e . \
 && ATLAS_HOME=/tmp/atlas-build /opt/venv/bin/python -c \
      "from atlas_pipeline.lib.warehouse.dbt_project import prepare_manifest; prepare_manifest(force=True)" \
 && rm -rf /tmp/atlas-build dbt_project/logs

# ---- runtime: no build tools, a non-root user ------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 atlas \
 && useradd --system --uid 10001 --gid atlas --create-home --home-dir /home/atlas atlas \
 && mkdir -p /var/lib/atlas /opt/dagster/dagster_home \
 && chown atlas:atlas /var/lib/atlas /opt/dagster/dagster_home
COPY --from=build /opt/venv /opt/venv
# dbt writes its run artifacts under dbt_project/target: the runtime user owns the project folder.
COPY --from=build --chown=atlas:atlas /opt/atlas /opt/atlas
# The instance (Postgres storage, every detail from DAGSTER_PG_* variables). The Helm chart mounts
# its own instance config over DAGSTER_HOME; compose uses this one.
COPY deploy/dagster.yaml /opt/dagster/dagster_home/dagster.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    ATLAS_HOME=/var/lib/atlas \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    ATLAS_EXECUTOR=multiprocess
WORKDIR /opt/atlas
USER 10001:10001
# ATLAS_HOME (warehouse, landing, logs, published snapshot) must outlive the container: mount a volume.
VOLUME ["/var/lib/atlas"]
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
  CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
# The same module workspace.yaml loads (tests/unit/test_deploy_files.py checks they agree).
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "atlas_pipeline.definitions"]
