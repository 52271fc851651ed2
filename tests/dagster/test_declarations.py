"""A user's own GPU prices (`ATLAS_ASSETS`) reach the warehouse when the `gpu_pricing` asset runs;
none there means no prices. The declarations' loading and `atlas check` without a Dagster run:
tests/unit/test_user_declarations.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster


def test_gpu_prices_come_from_the_users_folder_and_none_there_means_no_prices(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ATLAS_ASSETS", str(tmp_path))  # a user's own declarations folder, without prices
    from atlas_pipeline.defs.ingest.gpu_pricing import gpu_pricing
    from atlas_pipeline.defs.resources import Warehouse

    def materialized_prices() -> list[tuple]:
        result = dg.materialize([gpu_pricing], resources={"warehouse": Warehouse()})
        assert result.success
        with connect(AtlasPaths.from_env().warehouse, read_only=True) as con:
            return con.execute("select cluster, price_per_gpu_hour from raw.gpu_pricing").fetchall()

    assert materialized_prices() == []  # not the repository's sample cluster price
    (tmp_path / "gpu_pricing.yaml").write_text('clusters:\n  - cluster: our-dgx\n    price_per_gpu_hour: "2.40"\n')
    assert materialized_prices() == [("our-dgx", Decimal("2.400000000000"))]
