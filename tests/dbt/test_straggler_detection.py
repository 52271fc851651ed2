"""Straggler detection (the `straggler_episodes` dbt macro the health marts use) against real
ground truth: Alibaba PAI's per-worker mini-batch times of 4 distributed jobs x 10 workers
(cluster-trace-gpu-v2020). Its README: job 1 has one straggler, worker 6, mid-training; jobs 3
and 4 have several. The macro is compiled by dbt and run on DuckDB, unchanged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.dbt

FIXTURES = Path(__file__).parents[1] / "fixtures" / "telemetry"
WINDOW = 25  # mini-batches per comparison window
TOLERANCE = 0.15  # slower than 1.15 x the job's median worker
MIN_WINDOWS = 3  # persistently: 75 mini-batches in a row


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory, dbt) -> list[tuple]:
    root = tmp_path_factory.mktemp("stragglers")
    db = root / "pai.duckdb"
    files = [str(FIXTURES / f"minibatch_job_{j}_norm.csv") for j in range(1, 5)]
    con = duckdb.connect(str(db))
    con.execute(
        "create table pai_minibatch as select cast(regexp_extract(filename, 'job_(\\d+)', 1) as integer) as job, "
        f"worker, time, batch_time_norm from read_csv({files}, header = true, union_by_name = true, filename = true)"
    )
    con.close()
    macro = (
        f"{{{{ straggler_episodes('pai_minibatch', 'job', 'worker', 'time', 'batch_time_norm', {WINDOW}, "
        f"{TOLERANCE}, {MIN_WINDOWS}, higher_is_better=false, min_peer_value=0, min_members=3) }}}}"
    )
    result = dbt(db, root, "compile", "--quiet", "--inline", macro)
    assert result.returncode == 0, result.stdout[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(result.stdout).fetchall()
    finally:
        con.close()


def stragglers(episodes: list[tuple], job: int) -> set[int]:
    return {member for group, member, *_ in episodes if group == job}


def test_job_1_has_exactly_worker_6_mid_training(episodes) -> None:
    assert stragglers(episodes, 1) == {6}
    (first, last), = [(e[2], e[3]) for e in episodes if e[0] == 1]
    # mid-training: the job runs 300 mini-batches (time 0..~3000 in its own units)
    assert 1000 < first < last < 2500


def test_jobs_3_and_4_have_several_stragglers(episodes) -> None:
    assert len(stragglers(episodes, 3)) >= 2
    # job 4: workers 0, 5, 6, 7, 8 run 1.5-2.5x slower than the others for the whole job
    assert stragglers(episodes, 4) == {0, 5, 6, 7, 8}


def test_job_2_has_no_straggler(episodes) -> None:
    assert stragglers(episodes, 2) == set()


def test_episodes_report_how_slow(episodes) -> None:
    assert all(e[6] < 1 - TOLERANCE and e[4] >= MIN_WINDOWS for e in episodes)
