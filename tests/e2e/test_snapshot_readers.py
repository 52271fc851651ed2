"""Readers of the published snapshot, locked down, still read everything people query: every
`atlas sql` example in the README runs on the session's published estate and returns rows, and a raw view joined
with a mart reads its landed parquet files (issue 15, finding 3: "still able to read")."""

from __future__ import annotations

import re

import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

README_QUERIES = [
    q.replace('\\"', '"') for q in re.findall(r'atlas sql\s+"((?:[^"\\]|\\.)*)"', (REPO_ROOT / "README.md").read_text())
]


def test_the_readme_has_sql_examples():
    assert len(README_QUERIES) >= 5


@pytest.mark.parametrize("query", README_QUERIES, ids=lambda q: " ".join(q.split())[:60])
def test_every_readme_query_runs_on_the_published_snapshot(reported, monkeypatch, capsys, query):
    paths, report_run = reported
    assert report_run.success and paths.published_warehouse.exists()
    monkeypatch.setenv("ATLAS_HOME", str(paths.home))
    assert main(["sql", query, "--format", "csv"]) == 0, capsys.readouterr().err
    # A header and rows: an example copied from the README answers on the sample estate (it says
    # "the latest month", never "this month" of the wall clock).
    assert len(capsys.readouterr().out.splitlines()) >= 2, f"no rows: {query}"


def test_raw_views_join_marts_through_their_landed_files(reported, monkeypatch, capsys):
    paths, _ = reported
    monkeypatch.setenv("ATLAS_HOME", str(paths.home))
    query = (
        "select r.x_period, count(*) as landed, count(f.x_source_row) as in_focus "
        "from raw.gcp_billing as r left join focus_cost_and_usage as f "
        "on f.x_source_file = r.x_source_file and f.x_source_row = r.x_source_row group by 1 order by 1"
    )
    assert main(["sql", query, "--format", "csv"]) == 0, capsys.readouterr().err
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows and all(int(landed) > 0 for _, landed, _ in (r.split(",") for r in rows))
