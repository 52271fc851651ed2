"""The production files agree with each other and with what they configure, checked offline (no
Docker engine, no helm, no cluster here): the Dockerfile serves the module workspace.yaml loads, as a
non-root user, from the lock, with no secret; the instance config points every storage at Postgres
through environment variables and passes Dagster's own schema; compose validates against the Compose
Specification's schema and gives each Dagster service what the instance config reads; the Helm values
use only keys the chart documents and say K8sRunLauncher, daemon, Postgres and Secret references."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from atlas_pipeline.lib.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
DOCKERFILE = REPO_ROOT / "Dockerfile"
PG_VARS = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
SECRET_WORDS = re.compile(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY|CONNECTION_STRING|CREDENTIALS)", re.I)


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _workspace_module() -> str:
    [entry] = _yaml(REPO_ROOT / "workspace.yaml")["load_from"]
    return entry["python_module"]["module_name"]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def _exec_form(arguments: str) -> list[str]:
    return json.loads(arguments)


# ---- Dockerfile -------------------------------------------------------------------------------------

def test_dockerfile_serves_the_module_workspace_yaml_loads():
    instructions = _dockerfile_instructions()
    [cmd] = [_exec_form(args) for op, args in instructions if op == "CMD"]
    assert cmd[:3] == ["dagster", "code-server", "start"]
    module = cmd[cmd.index("-m") + 1]
    assert module == _workspace_module() == "atlas_pipeline.definitions"
    assert importlib.util.find_spec(module) is not None
    port = cmd[cmd.index("-p") + 1]
    assert cmd[cmd.index("-h") + 1] == "0.0.0.0"  # reachable from the webserver/daemon containers
    assert ("EXPOSE", port) in instructions
    [health] = [args for op, args in instructions if op == "HEALTHCHECK"]
    assert _exec_form(health.split("CMD", 1)[1])[-2:] == ["-p", port]
    # the compose workspace and the Helm values reach that server on that port, with that module
    [grpc] = _yaml(DEPLOY / "workspace.yaml")["load_from"]
    assert grpc["grpc_server"]["port"] == int(port)
    assert grpc["grpc_server"]["host"] in _yaml(DEPLOY / "compose.yaml")["services"]
    [user] = _yaml(DEPLOY / "helm" / "values.yaml")["dagster-user-deployments"]["deployments"]
    assert user["codeServerArgs"] == ["-m", module] and user["port"] == int(port)


def test_dockerfile_is_multi_stage_installs_the_lock_and_runs_as_non_root():
    instructions = _dockerfile_instructions()
    stages = [args.split() for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2 and all(len(s) == 3 and s[1].upper() == "AS" for s in stages)
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "uv pip sync" in runs and "requirements.lock.txt" in runs
    assert any(op == "COPY" and "requirements.lock.txt" in args for op, args in instructions)
    # the runtime stage copies the built environment, not the build tools
    runtime = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM"):]
    assert any(op == "COPY" and args.startswith("--from=build") and "/opt/venv" in args for op, args in runtime)
    users = [args for op, args in runtime if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert [op for op, _ in runtime].index("USER") < [op for op, _ in runtime].index("CMD")
    # the dbt manifest is parsed at build time, so a container never starts by parsing it
    assert "prepare_manifest" in runs


def test_no_secret_is_baked_into_the_image():
    for op, args in _dockerfile_instructions():
        if op in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            assert not [n for n in names if SECRET_WORDS.search(n)], (op, args)
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".atlas", "*.duckdb", "deploy/.env", "**/.env"} <= ignored
    assert "deploy/.env" in (REPO_ROOT / ".gitignore").read_text().splitlines()


# ---- the instance: Postgres storage from the environment --------------------------------------------

def test_instance_config_reads_postgres_from_environment_variables(tmp_path, monkeypatch):
    config = _yaml(DEPLOY / "dagster.yaml")
    db = config["storage"]["postgres"]["postgres_db"]
    assert db.pop("scheme") == "postgresql+psycopg2"
    assert {field: value["env"] for field, value in db.items()} == {
        "hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "username": "DAGSTER_PG_USERNAME",
        "password": "DAGSTER_PG_PASSWORD", "db_name": "DAGSTER_PG_DB",
    }
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    # Dagster's own schema accepts it once the variables exist (and the value reaches the storage URL).
    from dagster._config import process_config, resolve_to_config_type
    from dagster._core.instance.config import dagster_instance_config
    from dagster_postgres import DagsterPostgresStorage
    from dagster_postgres.utils import pg_url_from_config

    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    for name in PG_VARS:
        monkeypatch.setenv(name, "5433" if name.endswith("PORT") else f"value-of-{name.lower()}")
    validated, _ = dagster_instance_config(str(tmp_path))
    storage = process_config(resolve_to_config_type(DagsterPostgresStorage.config_type()),
                             validated["storage"]["postgres"])
    assert storage.success, storage.errors
    url = pg_url_from_config(storage.value)
    assert url == ("postgresql+psycopg2://value-of-dagster_pg_username:value-of-dagster_pg_password"
                   "@value-of-dagster_pg_host:5433/value-of-dagster_pg_db")


# ---- compose -----------------------------------------------------------------------------------------

def test_compose_file_is_valid_and_wires_postgres_from_the_environment():
    import jsonschema

    compose = _yaml(DEPLOY / "compose.yaml")
    schema = json.loads((REPO_ROOT / "tests" / "fixtures" / "deploy" / "compose-spec.json").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert errors == []

    services = compose["services"]
    assert {"postgres", "atlas-code", "webserver", "daemon"} <= set(services)
    dockerfile_cmd = next(_exec_form(a) for op, a in _dockerfile_instructions() if op == "CMD")
    assert "command" not in services["atlas-code"]  # runs the image's CMD: the module workspace.yaml loads
    assert services["atlas-code"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert dockerfile_cmd[0] == "dagster"
    for name in ("atlas-code", "webserver", "daemon"):
        env = services[name]["environment"]
        assert PG_VARS <= set(env), name
        assert env["DAGSTER_PG_HOST"] == "postgres"
        # the password is interpolated from the operator's environment, never written down
        assert re.fullmatch(r"\$\{DAGSTER_PG_PASSWORD:\?[^}]+\}", env["DAGSTER_PG_PASSWORD"]), name
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == services["daemon"]["environment"][
        "DAGSTER_PG_PASSWORD"]
    for name in ("webserver", "daemon"):
        command = services[name]["command"]
        assert command[command.index("-w") + 1] == "/opt/dagster/workspace.yaml"
        assert "./workspace.yaml:/opt/dagster/workspace.yaml:ro" in services[name]["volumes"]
    # every secret-looking value is an interpolation (or empty), in every service
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_WORDS.search(key):
                assert value == "" or str(value).startswith("${"), (name, key)
    # host ports only on loopback: a reverse proxy with authentication goes in front
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert published and all(p.startswith("127.0.0.1:") for p in published)


def test_compose_env_example_holds_no_values_for_secrets():
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            if SECRET_WORDS.search(key):
                assert value == "", key


# ---- Helm values -------------------------------------------------------------------------------------

# The keys Dagster's chart documents, from its values schema (dagster-io/dagster,
# helm/dagster/schema/schema/charts/…: values.py @835892b, subschema/postgresql.py @3f2daa0,
# global_.py, webserver.py @288c611, daemon.py @835892b, run_launcher.py @969d726,
# dagster_user_deployments/subschema/user_deployments.py @58b0565). The chart rejects unknown keys
# (pydantic `extra = forbid` → JSON schema additionalProperties false) in most of these sections.
CHART_KEYS = {
    "": {"dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
         "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
         "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate",
         "telemetry", "serviceAccount", "global", "retention", "additionalInstanceConfig"},
    "global": {"postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName",
               "dagsterInstanceConfigMap"},
    "postgresql": {"image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
                   "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service"},
    "dagsterWebserver": {"replicaCount", "image", "nameOverride", "pathPrefix", "service", "workspace", "env",
                         "envConfigMaps", "envSecrets", "deploymentLabels", "labels", "nodeSelector", "affinity",
                         "tolerations", "podSecurityContext", "securityContext", "resources", "readinessProbe",
                         "livenessProbe", "startupProbe", "annotations", "enableReadOnly", "dbStatementTimeout",
                         "dbPoolRecycle", "logLevel", "schedulerName", "volumeMounts", "volumes"},
    "dagster-user-deployments": {"enabled", "enableSubchart", "imagePullSecrets", "deployments"},
    "dagster-user-deployments.deployments[]": {
        "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "port", "env",
        "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
        "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe",
        "labels", "volumeMounts", "volumes", "schedulerName"},
    "runLauncher": {"type", "config"},
    "runLauncher.config": {"celeryK8sRunLauncher", "k8sRunLauncher", "customRunLauncher"},
    "runLauncher.config.k8sRunLauncher": {
        "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
        "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
        "schedulerName", "securityContext", "runK8sConfig"},
    "runLauncher.config.k8sRunLauncher.runK8sConfig": {
        "containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"},
    "dagsterDaemon": {"enabled", "image", "runCoordinator", "heartbeatTolerance", "env", "envConfigMaps",
                      "envSecrets", "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations",
                      "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe",
                      "startupProbe", "annotations", "runMonitoring", "runRetries", "sensors", "schedules",
                      "schedulerName", "volumeMounts", "volumes"},
    "dagsterDaemon.runCoordinator": {"enabled", "type", "config"},
    "dagsterDaemon.runCoordinator.config.queuedRunCoordinator": {
        "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers",
        "dequeueUseThreads"},
}
# fields the chart requires once K8sRunLauncher is chosen (not Optional in K8sRunLauncherConfig)
K8S_LAUNCHER_REQUIRED = {"imagePullPolicy", "loadInclusterConfig", "envConfigMaps", "envSecrets", "envVars",
                         "volumeMounts", "volumes"}


def _section(values: dict, path: str):
    node = values
    for part in filter(None, path.split(".")):
        node = node[part[:-2]][0] if part.endswith("[]") else node[part]
    return node


@pytest.mark.parametrize("path", sorted(CHART_KEYS))
def test_helm_values_use_only_documented_chart_keys(path):
    values = _yaml(DEPLOY / "helm" / "values.yaml")
    try:
        section = _section(values, path)
    except KeyError:
        pytest.skip(f"{path or 'top level'} not set")
    unknown = set(section) - CHART_KEYS[path]
    assert not unknown, f"{path or 'top level'}: keys the chart does not document: {sorted(unknown)}"


def test_helm_values_run_atlas_with_k8s_launcher_daemon_and_postgres_secrets():
    values = _yaml(DEPLOY / "helm" / "values.yaml")
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert K8S_LAUNCHER_REQUIRED <= set(launcher["config"]["k8sRunLauncher"])
    daemon = values["dagsterDaemon"]
    assert daemon["enabled"] and daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert daemon["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] == 1
    pg = values["postgresql"]
    assert pg["postgresqlScheme"] == "postgresql+psycopg2"
    # the password comes from a Secret the operator creates, never from this file
    assert "postgresqlPassword" not in pg and values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    [user] = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] and user["includeConfigInLaunchedRuns"]["enabled"]
    assert user["podSecurityContext"]["runAsNonRoot"] and user["podSecurityContext"]["runAsUser"] != 0
    env = {e["name"]: e["value"] for e in user["env"]}
    assert not [k for k in env if SECRET_WORDS.search(k)]
    assert user["envSecrets"] == [{"name": "atlas-cloud-credentials"}]
    # the code location's ATLAS_HOME is a mounted volume (the image declares it as one)
    mounts = {m["mountPath"] for m in user["volumeMounts"]}
    assert env["ATLAS_HOME"] in mounts
    assert any(op == "VOLUME" and env["ATLAS_HOME"] in args for op, args in _dockerfile_instructions())
    # the image's user matches the pod's
    users = [args for op, args in _dockerfile_instructions() if op == "USER"]
    assert shlex.split(users[-1])[0].split(":")[0] == str(user["podSecurityContext"]["runAsUser"])


# ---- the executor deploy/ selects --------------------------------------------------------------------

def test_executor_is_chosen_from_the_environment(monkeypatch):
    import dagster as dg

    from atlas_pipeline.definitions import run_executor

    monkeypatch.delenv("ATLAS_EXECUTOR", raising=False)
    assert run_executor() is dg.in_process_executor
    monkeypatch.setenv("ATLAS_EXECUTOR", "multiprocess")
    executor = run_executor()
    # one step at a time unless asked: DuckDB has one writer per file
    assert executor.name == "multiprocess"
    assert executor.apply_config_mapping({}).value["config"]["max_concurrent"] == 1
    monkeypatch.setenv("ATLAS_MAX_CONCURRENT_STEPS", "3")
    assert run_executor().apply_config_mapping({}).value["config"]["max_concurrent"] == 3
    monkeypatch.setenv("ATLAS_EXECUTOR", "k8s")
    with pytest.raises(ValueError, match="ATLAS_EXECUTOR='k8s'"):
        run_executor()
    # the image and both deployments ask for the multiprocess executor
    assert any(op == "ENV" and "ATLAS_EXECUTOR=multiprocess" in args for op, args in _dockerfile_instructions())
    assert _yaml(DEPLOY / "compose.yaml")["services"]["atlas-code"]["environment"]["ATLAS_EXECUTOR"].endswith(
        ":-multiprocess}")
    [user] = _yaml(DEPLOY / "helm" / "values.yaml")["dagster-user-deployments"]["deployments"]
    assert {"name": "ATLAS_EXECUTOR", "value": "multiprocess"} in user["env"]
