"""The dbt CLI resource Atlas runs dbt through: dagster-dbt's, minus two per-invocation costs, and
every dbt call after a warehouse's first skips re-parsing the project (lib/warehouse/dbt_project.py warm_parse).
The checks that run no dbt: tests/unit/test_dbt_resource_setup.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging import version

from atlas_pipeline.defs import resources
from atlas_pipeline.defs.resources import AtlasDbtCli
from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, AtlasPaths
from atlas_pipeline.lib.warehouse.dbt_project import DBT_TARGET, PARTIAL_PARSE_FILE, dbt_env, prepare_manifest, warm_parse

pytestmark = pytest.mark.dbt


def test_no_in_process_adapter_and_dbt_version_asked_once_per_process(monkeypatch, tmp_path: Path) -> None:
    """The `dbt` beside this interpreter is dbt-core's script: its version is dbt-core's, read
    without a subprocess. Any other dbt is asked once per process (`dbt --version`, ≈1.5 s), and
    says the same version as the metadata does for the same dbt."""
    calls: list[list[str]] = []
    real = subprocess.check_output

    def counting(args, *a, **k):
        calls.append(list(args))
        return real(args, *a, **k)

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", counting)
    monkeypatch.setattr(resources, "_DBT_VERSIONS", {})
    from importlib.metadata import version as installed

    def resource(exe: str) -> AtlasDbtCli:
        return AtlasDbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=exe)

    local = str(Path(sys.executable).parent / "dbt")
    first = resource(local)
    assert first._initialize_dbt_core_adapter(["build"]) is None
    assert first._cli_version == resource(local)._cli_version == version.parse(installed("dbt-core"))
    assert calls == []
    elsewhere = tmp_path / "dbt"  # the same dbt, somewhere else on PATH
    elsewhere.symlink_to(local)
    assert resource(str(elsewhere))._cli_version == resource(str(elsewhere))._cli_version == first._cli_version
    assert [c[-1] for c in calls] == ["--version"]  # one subprocess for two resources (two runs)


def _dbt_ls(paths: AtlasPaths, target: Path) -> str:
    """`dbt ls` the way dagster-dbt runs dbt (target and logs in `target`); returns its log."""
    env = {**os.environ, **dbt_env(paths), "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target)}
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "ls", "--quiet", "--target", DBT_TARGET, "--select", "fct_cost_daily",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, check=True, capture_output=True, timeout=300,
    )
    return (target / "dbt.log").read_text()


def test_a_warehouse_parses_the_project_once_then_each_dbt_call_reuses_it(_isolated_homes: Path) -> None:
    paths = AtlasPaths.from_env().ensure()
    with warm_parse(paths) as target:
        first = _dbt_ls(paths, target)
    kept = paths.home / "dbt" / PARTIAL_PARSE_FILE
    assert kept.exists()
    # The repository's parse state (another warehouse path) would not do: dbt re-parses everything.
    assert "skipping parsing" not in first
    with warm_parse(paths) as target:
        assert (target / PARTIAL_PARSE_FILE).read_bytes() == kept.read_bytes()
        second = _dbt_ls(paths, target)
    assert "Partial parsing enabled, no changes found, skipping parsing" in second
    assert not target.exists()  # a successful call leaves nothing in dbt_project/target


def test_the_first_dbt_call_after_dbt_parse_starts_from_its_parse_state(_isolated_homes: Path, tmp_path: Path,
                                                                        monkeypatch) -> None:
    """`atlas run` parses a changed project first (`dbt parse`, lib/warehouse/dbt_project.py); its first
    dbt call, on a warehouse with no parse state of its own, starts from that one (dagster-dbt copies
    it): the same profile target, so dbt skips parsing (it parsed the whole project again when the
    parse named no target)."""
    paths = AtlasPaths.from_env().ensure()
    parsed = tmp_path / "parsed"  # not the repository's target/: other test workers read it
    monkeypatch.setenv("DBT_TARGET_PATH", str(parsed))
    monkeypatch.setenv("DBT_LOG_PATH", str(parsed))
    prepare_manifest(force=True)
    first = tmp_path / "first"
    first.mkdir()
    (first / PARTIAL_PARSE_FILE).write_bytes((parsed / PARTIAL_PARSE_FILE).read_bytes())
    assert "Partial parsing enabled, no changes found, skipping parsing" in _dbt_ls(paths, first)
