"""Freshness: a source whose newest delivery is older than its declared lateness is flagged stale."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.ingest.assets import build_ingest_asset
from atlas_pipeline.defs.quality.freshness import build_source_freshness_checks, freshness
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.sources import DeclarationError, ExportSource, load_sources, parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

pytestmark = pytest.mark.dagster


def nodes_source(exports: Path, hours: float) -> ExportSource:
    return ExportSource(
        name="gpu_nodes", description="test", provider="telemetry", format="csv", location=str(exports),
        include="nodes.csv", partitioning="none", max_lateness_hours=hours,
    )


def run(tmp_path: Path, file_age_hours: float, lateness_hours: float):
    exports = tmp_path / "exports"
    exports.mkdir()
    nodes = exports / "nodes.csv"
    nodes.write_text("hostname,cluster,gpu_count\nh1,c1,8\n")
    then = time.time() - file_age_hours * 3600
    os.utime(nodes, (then, then))
    source = nodes_source(exports, lateness_hours)
    result = dg.materialize(
        [build_ingest_asset(source), *build_source_freshness_checks([source])],
        resources={"warehouse": Warehouse(atlas_home=str(tmp_path / "home"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    # The ingest asset reports its own checks too (store_reachable, landed_files_intact).
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == "freshness_check"]
    return evaluation


def test_fresh_delivery_passes(tmp_path):
    evaluation = run(tmp_path, file_age_hours=1, lateness_hours=6)
    assert evaluation.passed and evaluation.check_name == "freshness_check"


def test_old_delivery_is_stale_even_right_after_a_refresh_run(tmp_path):
    evaluation = run(tmp_path, file_age_hours=50, lateness_hours=48)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN  # warns, does not block


def test_every_source_declares_or_defaults_its_lateness():
    sources = {s.name: s for s in load_sources(DECLARATIONS_DIR / "sources")}
    assert sources["aws_cur2"].max_lateness == timedelta(hours=48)
    assert sources["dcgm_samples"].max_lateness == timedelta(hours=30)
    assert sources["gpu_nodes"].max_lateness == timedelta(days=7)  # default for unpartitioned sources
    keys = {k for c in freshness().asset_checks for k in c.check_keys}
    assert {k.asset_key.path[-1] for k in keys} == set(sources)


def test_bad_lateness_names_the_file(tmp_path):
    text = (DECLARATIONS_DIR / "sources" / "gpu_nodes.yaml").read_text() + "max_lateness_hours: soon\n"
    path = tmp_path / "gpu_nodes.yaml"
    path.write_text(text)
    with pytest.raises(DeclarationError, match="gpu_nodes.yaml: field 'max_lateness_hours'"):
        parse_source(path)
