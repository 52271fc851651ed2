"""Landing: only new or changed objects are fetched, the newest delivery of a period wins, bad files
are quarantined with a reason, and object keys are never trusted as paths."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import LocalStore, StoredObject, glob_to_regex, safe_relative_key
from atlas_pipeline.lib.ingest.sources import ExportSource
from atlas_pipeline.lib.settings import REPO_ROOT

AZURE_SAMPLE = REPO_ROOT / "tests" / "fixtures" / "billing" / "azure_ea_actualcost_2023-09.csv"

AZURE = ExportSource(
    name="azure_actual",
    description="test",
    provider="azure",
    format="azure_cost_details_csv",
    location="unused",
    include="*/*/part_*.csv",
    partitioning="billing_period",
    period_pattern=r"^(?P<period>\d{8})-\d{8}/",
    delivery_pattern=r"^\d{8}-\d{8}/(?P<delivery>[^/]+)/",
)


def _deliver(root: Path, run: str, text: str, mtime: int, period: str = "20230901-20230930") -> Path:
    path = root / period / run / "part_1_0001.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def _rows(con, source: ExportSource) -> int:
    refresh_raw_view(con, source)
    return con.execute(f"select count(*) from raw.{source.name}").fetchone()[0]


def test_first_pull_then_nothing_new(landing_env):
    exports, landing, quarantine, con = landing_env
    sample = AZURE_SAMPLE.read_text(encoding="utf-8-sig")
    _deliver(exports, "run-a", sample, 1_700_000_000)

    first = land_source(con, AZURE, LocalStore(exports), landing, quarantine)
    assert first.downloaded == 1 and first.changed_periods == ["2023-09"]
    assert _rows(con, AZURE) == 11  # the sample's data rows (BOM and header excluded)

    second = land_source(con, AZURE, LocalStore(exports), landing, quarantine)
    assert second.downloaded == 0 and second.new_versions == []
    assert "nothing new" in second.summary()


def test_restated_month_replaces_the_old_delivery(landing_env):
    exports, landing, quarantine, con = landing_env
    lines = AZURE_SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    _deliver(exports, "run-a", "".join(lines), 1_700_000_000)
    land_source(con, AZURE, LocalStore(exports), landing, quarantine)

    # The provider re-runs the export: a new run folder with a restated (shorter) month. (Shorter
    # than half the month it replaces would be held back: tests/dbt/test_delivery_judgement.py.)
    _deliver(exports, "run-b", "".join(lines[:10]), 1_700_086_400)
    report = land_source(con, AZURE, LocalStore(exports), landing, quarantine)
    assert report.new_versions == ["2023-09@run-b"] and report.held_back == []
    assert _rows(con, AZURE) == 9  # replaced, not 11 + 9
    versions = con.execute("select distinct x_export_version from raw.azure_actual").fetchall()
    assert versions == [("run-b",)]
    # Landing stays immutable: the first delivery is still on disk.
    assert (landing / "azure_actual" / "x_period=2023-09" / "x_export_version=run-a").is_dir()


def test_new_month_appends(landing_env):
    exports, landing, quarantine, con = landing_env
    sample = AZURE_SAMPLE.read_text(encoding="utf-8-sig")
    _deliver(exports, "run-a", sample, 1_700_000_000)
    _deliver(exports, "run-c", sample, 1_702_000_000, period="20231001-20231031")
    report = land_source(con, AZURE, LocalStore(exports), landing, quarantine)
    assert report.changed_periods == ["2023-09", "2023-10"]
    assert _rows(con, AZURE) == 22


def test_unreadable_file_is_quarantined_and_the_rest_proceeds(landing_env):
    exports, landing, quarantine, con = landing_env
    source = ExportSource(
        name="cur", description="t", provider="aws", format="aws_cur2_parquet", location="unused",
        include="data/BILLING_PERIOD=*/*.parquet", partitioning="billing_period",
        period_pattern=r"BILLING_PERIOD=(?P<period>\d{4}-\d{2})",
    )
    good = exports / "data" / "BILLING_PERIOD=2026-08" / "a.parquet"
    bad = exports / "data" / "BILLING_PERIOD=2026-09" / "b.parquet"
    good.parent.mkdir(parents=True)
    bad.parent.mkdir(parents=True)
    con.execute(f"copy (select 1 as line_item_unblended_cost) to '{good}' (format parquet)")
    bad.write_bytes(b"PAR1 this is not parquet")

    report = land_source(con, source, LocalStore(exports), landing, quarantine)
    assert [q["file"] for q in report.quarantined] == ["data/BILLING_PERIOD=2026-09/b.parquet"]
    reason_files = list((quarantine / "cur").rglob("*.reason.json"))
    assert len(reason_files) == 1
    reason = json.loads(reason_files[0].read_text())
    assert reason["file"] == "data/BILLING_PERIOD=2026-09/b.parquet" and "unreadable" in reason["problem"]
    assert _rows(con, source) == 1  # the good file still arrives


def test_header_only_file_is_recorded_as_empty_not_zero_cost(landing_env):
    exports, landing, quarantine, con = landing_env
    header = AZURE_SAMPLE.read_text(encoding="utf-8-sig").splitlines()[0] + "\n"
    _deliver(exports, "run-a", header, 1_700_000_000)
    report = land_source(con, AZURE, LocalStore(exports), landing, quarantine)
    assert report.empty == ["20230901-20230930/run-a/part_1_0001.csv"]
    status = con.execute("select status, row_count from landing.manifest").fetchall()
    assert status == [("empty", 0)]


class _TruncatingStore(LocalStore):
    """A store whose transfer loses the last bytes (what a dropped connection leaves behind)."""

    def fetch(self, key: str, destination: Path) -> None:
        data = (self.root / key).read_bytes()
        destination.write_bytes(data[:-10])


def test_truncated_download_is_quarantined_with_size_reason(landing_env):
    exports, landing, quarantine, con = landing_env
    _deliver(exports, "run-a", AZURE_SAMPLE.read_text(encoding="utf-8-sig"), 1_700_000_000)
    report = land_source(con, AZURE, _TruncatingStore(exports), landing, quarantine)
    assert len(report.quarantined) == 1
    assert report.quarantined[0]["problem"].startswith("size mismatch")


class _HostileStore:
    def list(self) -> list[StoredObject]:
        now = datetime.now(UTC)
        return [StoredObject("20230901-20230930/../../../etc/part_1_0001.csv", 3, "x", now)]

    def fetch(self, key: str, destination: Path) -> None:  # pragma: no cover - must never be called
        raise AssertionError("a refused key was fetched")


def test_key_that_escapes_landing_is_refused(landing_env):
    _, landing, quarantine, con = landing_env
    source = ExportSource(**{**AZURE.__dict__, "include": "**/part_*.csv"})
    report = land_source(con, source, _HostileStore(), landing, quarantine)
    assert report.refused and "escape" in report.refused[0]
    assert not landing.exists() or not any(landing.rglob("*.csv"))


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", "", "a\\..\\b"])
def test_safe_relative_key_refuses(key):
    with pytest.raises(ValueError):
        safe_relative_key(key)


def test_glob_segments():
    rx = glob_to_regex("data/BILLING_PERIOD=*/*.parquet")
    assert rx.match("data/BILLING_PERIOD=2026-08/x.parquet")
    assert not rx.match("data/BILLING_PERIOD=2026-08/sub/x.parquet")
    assert glob_to_regex("**/*.csv").match("a/b/c.csv")


