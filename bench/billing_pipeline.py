"""Benchmark: the billing path at a stated scale — landing, staging + intermediate, the FOCUS mart
and the daily mart — each as rows/s, wall time, peak memory, and a multiple of DuckDB's bare
scan-and-sum of the same landed files (the machine-independent floor). Two more references:
a plain rename-and-cast pass (every billing staging model written to a table: same files, same
exact money casts, no FOCUS logic) that the FOCUS mart is compared with, and — with --months > 1 —
the daily run: the last month re-delivered (as providers do every day until the month closes),
landed, and the incremental marts rebuilt, as a fraction of the full build.

With --engine spark the same models (billing staging + intermediate, the FOCUS mart, the daily mart)
are built once more on Apache Spark (PySpark local mode, lib/warehouse/spark_engine.py) from the same landed
parquet, in the same run, and reported beside DuckDB's build and the floor.

    make bench SCALE=1M          # or smoke | 10M | 30M  (billing line items per month)
    make bench SCALE=1M ENGINE=spark
    .venv/bin/python bench/billing_pipeline.py --scale 1M --months 12

Writes the table to stdout and JSON to $ATLAS_HOME/bench/latest.json (compare across commits).
Generation, the floor, dbt and Spark run as child processes: each peak is that child's high-water
mark (VmHWM, polled from /proc; summed over the child and what it starts, e.g. Spark's JVM); landing
runs in this process, and its peak is this process's. GPU rollups: bench/gpu_rollup.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from atlas_pipeline.lib.ingest.contracts import contract_for  # noqa: E402
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view  # noqa: E402
from atlas_pipeline.lib.ingest.object_store import open_store  # noqa: E402
from atlas_pipeline.lib.ingest.raw_relations import json_read_columns  # noqa: E402
from atlas_pipeline.lib.ingest.sources import load_sources  # noqa: E402
from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, DECLARATIONS_DIR, AtlasPaths  # noqa: E402
from atlas_pipeline.lib.warehouse.connections import connect  # noqa: E402
from atlas_pipeline.sample_estate.estate import generate_billing  # noqa: E402
from atlas_pipeline.sample_estate.spec import EstateSpec  # noqa: E402

SCALES = {"smoke": 3_000, "1M": 1_000_000, "10M": 10_000_000, "30M": 30_000_000}
START_MONTH = date(2026, 8, 1)
# The cost column the floor sums, per billing source that the estate delivers.
COST_COLUMNS = {
    "aws_cur2": "line_item_unblended_cost",
    "gcp_billing": "cost",
    "azure_cost_details_actual": "CostInBillingCurrency",
    "azure_cost_details_amortized": "CostInBillingCurrency",
}
DBT_STAGES = [
    # Every billing staging and intermediate model (optional inputs included); rows = raw rows read.
    ("staging + intermediate", ["+focus_cost_and_usage", "--exclude", "focus_cost_and_usage"], None),
    ("FOCUS mart", ["focus_cost_and_usage"], "main.focus_cost_and_usage"),
    ("daily mart", ["fct_cost_daily"], "main.fct_cost_daily"),
]


@dataclass
class Stage:
    name: str
    rows: int
    seconds: float
    peak_mib: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _self_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Runs one of this module's functions in a fresh interpreter, so that its peak memory is its own.
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import billing_pipeline as b; getattr(b, sys.argv[2])(*sys.argv[3:])"


def _in_child(function: str, *args: str, env: dict[str, str] | None = None, usage: dict | None = None) -> float:
    """Call `function(*args)` of this module in a child process; returns its peak MiB."""
    command = [sys.executable, "-c", _CHILD, str(Path(__file__).parent), function, *args]
    return _run_child(command, env or dict(os.environ), usage)


def generate_estate(exports: str, scale: str, months: str) -> None:
    """The sample estate's billing exports at `scale` (child process: generation peaks high)."""
    spec = EstateSpec(seed=7, start_month=START_MONTH, months=int(months), line_items_per_month=SCALES[scale])
    generate_billing(Path(exports), spec)


def _bare_scan_sql(fmt: str, files: list[str]) -> str:
    """DuckDB's own reader over the files as delivered, with no contract, typing or lineage."""
    paths = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    if fmt in ("aws_cur2_parquet", "parquet"):
        return f"read_parquet({paths}, union_by_name = true)"
    if fmt == "gcp_billing_jsonl":
        columns = json_read_columns(contract_for("gcp_billing"))
        return f"read_json({paths}, format = 'newline_delimited', columns = {columns})"
    return f"read_csv({paths}, header = true, all_varchar = true, union_by_name = true)"


def scan_and_sum(warehouse: str) -> None:
    """The floor: DuckDB reading the delivered files and summing one cost column, nothing else."""
    formats = {s.name: s.format for s in load_sources(DECLARATIONS_DIR / "sources")}
    with connect(Path(warehouse)) as con:
        for name, column in COST_COLUMNS.items():
            files = [
                r[0]
                for r in con.execute(
                    "select original_path from landing.current_files where source = ? and status = 'landed'", [name]
                ).fetchall()
            ]
            con.execute(f'select count(*), sum(try_cast("{column}" as double)) from {_bare_scan_sql(formats[name], files)}')


def _process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (PySpark's JVM is a grandchild of the Python child)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return found


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` itself has used (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by `pid` and its live descendants (Spark's JVM included). On this
    shared machine CPU time, not wall time, is what compares engines fairly."""
    return sum(_cpu_seconds(p) for p in _process_tree(pid))


def _run_child(cmd: list[str], env: dict[str, str], usage: dict | None = None) -> float:
    """Run `cmd`; returns its peak resident memory in MiB: the sum of the high-water marks (VmHWM,
    polled until it exits) of it and its descendants (an upper bound when they peak apart). With
    `usage`, its "cpu_seconds" is set: the tree's CPU time, as last polled (≤ 50 ms missed)."""
    # Output goes to a file, not a pipe: a chatty child (DuckDB's progress bar) would fill a pipe
    # nobody reads while we poll, and block.
    with tempfile.TemporaryFile(mode="w+") as output:
        proc = subprocess.Popen(cmd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
        peak_kib, tree_hwm, polls, cpu = 0, {}, {}, {}
        while proc.poll() is None:
            for pid in _process_tree(proc.pid):
                tree_hwm[pid] = max(tree_hwm.get(pid, 0), _hwm_kib(pid))
                polls[pid] = polls.get(pid, 0) + 1
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_seconds(pid))
            # Only processes alive for ~0.5 s: a JVM forking to run `chmod` shows, for a moment, a
            # child with the JVM's own high-water mark.
            peak_kib = max(peak_kib, sum(h for pid, h in tree_hwm.items() if pid == proc.pid or polls[pid] >= 10))
            time.sleep(0.05)
        if proc.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{output.read()[-4000:]}")
    if usage is not None:
        usage["cpu_seconds"] = sum(cpu.values())
    return peak_kib / 1024


def redeliver_month(exports: Path, period: str) -> None:
    """Deliver `period` again, as each provider does daily until the month closes: AWS and GCP
    rewrite the month's files in place (new ETag/generation; here a new mtime), Azure writes a new
    run folder next to the old one."""
    for path in [*exports.glob(f"aws/*/data/BILLING_PERIOD={period}/*"), *exports.glob(f"gcp/*/{period}/*")]:
        os.utime(path)
    month = period.replace("-", "")
    for folder in exports.glob(f"azure/**/{month}01-{month}*/*"):
        if folder.is_dir() and not folder.name.startswith("."):
            shutil.copytree(folder, folder.parent / str(uuid.uuid4()))


def _land(paths: AtlasPaths, sources: list) -> None:
    """Land every billing source and point the raw views at the current files."""
    with connect(paths.warehouse) as con:
        con.execute("create schema if not exists raw")
        for source in sources:
            store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(paths.exports)}))
            land_source(con, source, store, paths.landing, paths.quarantine)
            refresh_raw_view(con, source)


def _raw_rows(paths: AtlasPaths, period: str | None = None) -> int:
    """Raw rows served by the billing raw views (one billing period's, when given). Counted outside
    the timed stages: counting CSV and JSON rows means parsing them all again."""
    where = "" if period is None else f" where x_period = '{period}'"
    with connect(paths.warehouse, read_only=True) as con:
        return sum(con.execute(f"select count(*) from raw.{s}{where}").fetchone()[0] for s in COST_COLUMNS)


def rename_and_cast(warehouse: str) -> None:
    """Every billing staging model (read, rename, exact casts; no FOCUS logic) written to a table
    with the warehouse's DuckDB settings: what a bare conversion costs."""
    with connect(Path(warehouse)) as con:
        con.execute("create schema if not exists bench")
        models = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'staging' "
                "and regexp_matches(table_name, '^stg_(aws|gcp|azure|saas)__')"
            ).fetchall()
        ]
        for model in models:
            con.execute(f"create or replace table bench.{model} as select * from staging.{model}")
        con.execute("drop schema bench cascade")


def _rename_and_cast(paths: AtlasPaths, raw_rows: int, env: dict[str, str]) -> Stage:
    """The rename-and-cast reference, timed in a child process (its peak is its own)."""
    started = time.perf_counter()
    peak = _in_child("rename_and_cast", str(paths.warehouse), env=env)
    return Stage("rename-and-cast (reference)", raw_rows, time.perf_counter() - started, peak)


# The billing models the DuckDB stages build, in one dbt invocation.
BILLING_MODELS = ["+focus_cost_and_usage", "fct_cost_daily"]


def spark_build(warehouse: str, spark_dir: str) -> None:
    """The DuckDB stages' models on Spark (child process): Spark session + `raw.*` over the landed
    parquet, `dbt seed`, then `dbt run` of the billing models — each timed; times and the
    per-model execution times (dbt's run_results.json) written to `spark_dir/bench.json`."""
    from atlas_pipeline.lib.warehouse.spark_engine import run_dbt_on_spark, start_spark

    folder = Path(spark_dir)
    times: dict[str, float] = {}
    started, cpu = time.perf_counter(), tree_cpu_seconds(os.getpid())
    start_spark(Path(warehouse), folder)
    times["session_and_raw_seconds"] = time.perf_counter() - started
    times["session_and_raw_cpu_seconds"] = tree_cpu_seconds(os.getpid()) - cpu
    for step, args in (("seed", ["seed"]), ("build", ["run", "--select", *BILLING_MODELS])):
        started, cpu = time.perf_counter(), tree_cpu_seconds(os.getpid())
        if not run_dbt_on_spark(folder, args):
            raise RuntimeError(f"dbt {' '.join(args)} failed on Spark (log: {folder / 'logs'})")
        times[f"{step}_seconds"] = time.perf_counter() - started
        times[f"{step}_cpu_seconds"] = tree_cpu_seconds(os.getpid()) - cpu
    times["model_seconds"] = _model_seconds(folder / "target" / "run_results.json")
    (folder / "bench.json").write_text(json.dumps(times))


def _model_seconds(run_results: Path) -> float:
    """Wall time dbt spent running its nodes (run_results.json's elapsed time; not the nodes' sum:
    they overlap on dbt's threads), without its start-up, parse and exit."""
    return json.loads(run_results.read_text())["elapsed_time"]


def _spark_stage(paths: AtlasPaths, home: Path, env: dict[str, str]) -> dict:
    """Spark's build of the billing models, timed in a child process, and its marts' row counts
    (read from the parquet Spark wrote)."""
    spark_dir = home / "bench" / "spark"
    if spark_dir.exists():
        shutil.rmtree(spark_dir)
    started = time.perf_counter()
    peak = _in_child("spark_build", str(paths.warehouse), str(spark_dir), env={**env, "SPARK_LOCAL_IP": "127.0.0.1"})
    wall = time.perf_counter() - started
    times = json.loads((spark_dir / "bench.json").read_text())
    rows = {}
    with duckdb_memory() as con:
        for mart in ("focus_cost_and_usage", "fct_cost_daily"):
            folder = spark_dir / "warehouse" / "main.db" / mart
            rows[mart] = con.execute(
                f"select count(*) from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
            ).fetchone()[0]
    return {**times, "child_wall_seconds": wall, "peak_mib": peak, "rows": rows}


def duckdb_memory():
    import duckdb

    return duckdb.connect()


def definitions_load_seconds(env: dict[str, str]) -> float:
    """Wall time of a fresh interpreter importing and building the Dagster definitions (what the
    UI and every run pay first), dbt manifest already prepared."""
    code = "from atlas_pipeline.definitions import defs; defs()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=REPO, capture_output=True)  # warm caches
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=REPO, capture_output=True)
    return time.perf_counter() - started


def run(scale: str, home: Path, months: int = 1, engine: str = "duckdb") -> dict:
    # Always from an empty home: a warehouse left by an earlier run would turn the FOCUS mart's
    # build into the incremental replacement of its period (delete + insert, ~1.7x the build at 10M).
    if home.exists():
        shutil.rmtree(home)
    paths = AtlasPaths(home=home, exports=home / "exports").ensure()
    started = time.perf_counter()
    generation_peak = _in_child("generate_estate", str(paths.exports), scale, str(months))
    generation_seconds = time.perf_counter() - started

    env = {
        **os.environ,
        "ATLAS_HOME": str(home),
        "ATLAS_EXPORTS": str(paths.exports),
        "ATLAS_WAREHOUSE": str(paths.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    sources = [s for s in load_sources(DECLARATIONS_DIR / "sources") if s.provider in ("aws", "gcp", "azure", "saas")]
    stages: list[Stage] = []

    # Landing runs in this process (generation ran in a child), so this process's peak is landing's.
    started, cpu = time.perf_counter(), time.process_time()
    _land(paths, sources)
    landing_seconds = time.perf_counter() - started
    landing_cpu_seconds = time.process_time() - cpu
    landing_peak = _self_peak_mib()
    raw_rows = _raw_rows(paths)
    stages.append(Stage("landing", raw_rows, landing_seconds, landing_peak))

    started, floor_usage = time.perf_counter(), {}
    floor_peak = _in_child("scan_and_sum", str(paths.warehouse), env=env, usage=floor_usage)
    floor = Stage("DuckDB scan-and-sum (floor)", raw_rows, time.perf_counter() - started, floor_peak)

    dbt = [
        str(Path(sys.executable).parent / "dbt"),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    work = ["--target-path", str(home / "bench" / "target"), "--log-path", str(home / "bench" / "logs")]
    _run_child([*dbt[:1], "seed", *dbt[1:], *work], env)

    duckdb_model_seconds: list[float] = []
    duckdb_cpu_seconds: list[float] = []

    def dbt_stage(name: str, models: list[str], relation: str | None, rows: int) -> Stage:
        started, usage = time.perf_counter(), {}
        peak = _run_child([*dbt[:1], "run", *dbt[1:], "--select", *models, *work], env, usage)
        seconds = time.perf_counter() - started
        duckdb_cpu_seconds.append(usage["cpu_seconds"])
        duckdb_model_seconds.append(_model_seconds(home / "bench" / "target" / "run_results.json"))
        if relation:
            with connect(paths.warehouse, read_only=True) as con:
                rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
        return Stage(name, rows, seconds, peak)

    for name, models, relation in DBT_STAGES:
        stages.append(dbt_stage(name, models, relation, raw_rows))
        if name == "staging + intermediate":
            stages.append(_rename_and_cast(paths, raw_rows, env))

    # Spark builds the same models from the same landed files before the daily run re-delivers one.
    spark = _spark_stage(paths, home, env) if engine == "spark" else None
    duckdb_build = {"build_seconds": sum(s.seconds for s in stages[1:] if "reference" not in s.name),
                    "model_seconds": sum(duckdb_model_seconds), "build_cpu_seconds": sum(duckdb_cpu_seconds[:3])}

    daily: list[Stage] = []
    daily_models: dict[str, float] = {}
    if months > 1:
        # The daily run on a warehouse of `months` months: one month re-delivered, landed, and the
        # incremental marts rebuilt (only that billing period).
        last = START_MONTH.replace(
            year=START_MONTH.year + (START_MONTH.month + months - 2) // 12,
            month=(START_MONTH.month + months - 2) % 12 + 1,
        )
        redeliver_month(paths.exports, last.strftime("%Y-%m"))
        started = time.perf_counter()
        _land(paths, sources)
        landing_seconds = time.perf_counter() - started
        month_rows = _raw_rows(paths, last.strftime("%Y-%m"))
        daily.append(Stage("daily run: landing", month_rows, landing_seconds, _self_peak_mib()))
        # Both marts in one dbt invocation, as the refresh job runs them (dbt's start-up paid once);
        # rows: the re-delivered month's raw rows. Per-model times come from dbt's run_results.json.
        models = [m for _, stage_models, _ in DBT_STAGES[1:] for m in stage_models]
        daily.append(dbt_stage("daily run: FOCUS + daily marts", models, None, month_rows))
        run_results = json.loads((home / "bench" / "target" / "run_results.json").read_text())
        daily_models = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3) for r in run_results["results"]}

    result = {
        "scale": scale,
        "engine": engine,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "line_items_per_month": SCALES[scale],
        "months": months,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "generation_seconds": round(generation_seconds, 3),
        "generation_peak_mib": round(generation_peak, 1),
        "definitions_load_seconds": round(definitions_load_seconds(env), 3),
        "floor": {**asdict(floor), "rows_per_second": floor.rows_per_second, "cpu_seconds": floor_usage["cpu_seconds"]},
        "landing_cpu_seconds": landing_cpu_seconds,
        "stages": [
            {**asdict(s), "rows_per_second": s.rows_per_second, "x_floor": s.seconds / floor.seconds} for s in stages
        ],
    }
    result["duckdb_build"] = {
        **duckdb_build, "x_floor": duckdb_build["build_seconds"] / floor.seconds,
        "model_seconds_x_floor": duckdb_build["model_seconds"] / floor.seconds,
        "cpu_x_floor": duckdb_build["build_cpu_seconds"] / floor_usage["cpu_seconds"],
    }
    if spark:
        with connect(paths.warehouse, read_only=True) as con:
            duck_rows = {m: con.execute(f"select count(*) from main.{m}").fetchone()[0] for m in spark["rows"]}
        result["spark_build"] = {
            **spark,
            "duckdb_rows": duck_rows,
            "x_floor": spark["build_seconds"] / floor.seconds,
            "model_seconds_x_floor": spark["model_seconds"] / floor.seconds,
            "x_duckdb_build": spark["build_seconds"] / duckdb_build["build_seconds"],
            "model_seconds_x_duckdb": spark["model_seconds"] / duckdb_build["model_seconds"],
            "with_session_x_duckdb_build": (spark["session_and_raw_seconds"] + spark["build_seconds"])
            / duckdb_build["build_seconds"],
            "cpu_x_floor": spark["build_cpu_seconds"] / floor_usage["cpu_seconds"],
            "cpu_x_duckdb_build": spark["build_cpu_seconds"] / duckdb_build["build_cpu_seconds"],
        }
    full = {s.name: s.seconds for s in stages}
    result["focus_mart_x_rename_and_cast"] = full["FOCUS mart"] / full["rename-and-cast (reference)"]
    if daily:
        full_build = sum(full[n] for n in ("landing", "FOCUS mart", "daily mart"))
        daily_build = sum(s.seconds for s in daily if s.name != "daily run: staging + intermediate")
        result["daily_run"] = [{**asdict(s), "rows_per_second": s.rows_per_second} for s in daily]
        result["daily_run_model_seconds"] = daily_models
        result["daily_run_fraction_of_full_build"] = daily_build / full_build
    out = home / "bench" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def format_table(result: dict) -> str:
    lines = [
        f"Atlas billing benchmark, scale {result['scale']} ({result['line_items_per_month']:,} line items/month, "
        f"{result['months']} month(s)); generation {result['generation_seconds']:.1f} s, "
        f"{result['generation_peak_mib']:.0f} MiB",
        f"{'stage':<30} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak MiB':>9} {'x floor':>8}",
    ]
    floor = result["floor"]
    lines.append(
        f"{floor['name']:<30} {floor['rows']:>12,} {floor['seconds']:>9.2f} {floor['rows_per_second']:>12,.0f} "
        f"{floor['peak_mib']:>9.0f} {1:>8.1f}"
    )
    for s in result["stages"]:
        lines.append(
            f"{s['name']:<30} {s['rows']:>12,} {s['seconds']:>9.2f} {s['rows_per_second']:>12,.0f} "
            f"{s['peak_mib']:>9.0f} {s['x_floor']:>8.1f}"
        )
    lines.append(f"FOCUS mart / rename-and-cast: {result['focus_mart_x_rename_and_cast']:.2f}x")
    lines.append(f"Dagster definitions load: {result['definitions_load_seconds']:.2f} s")
    for s in result.get("daily_run", []):
        lines.append(
            f"{s['name']:<30} {s['rows']:>12,} {s['seconds']:>9.2f} {s['rows_per_second']:>12,.0f} {s['peak_mib']:>9.0f}"
        )
    if result.get("daily_run_model_seconds"):
        inside = ", ".join(f"{m} {t:.2f} s" for m, t in result["daily_run_model_seconds"].items())
        lines.append(f"  (inside dbt: {inside}; the rest is dbt start-up and exit)")
    build = result["duckdb_build"]
    lines.append(f"CPU: floor {floor['cpu_seconds']:.2f} CPU-s (child process, interpreter start included), "
                 f"landing {result['landing_cpu_seconds']:.1f} CPU-s (this process, DuckDB's threads included)")
    lines.append(
        f"DuckDB build (3 dbt runs above): {build['build_seconds']:.2f} s = {build['x_floor']:.1f}x floor; "
        f"inside dbt (model execution) {build['model_seconds']:.2f} s = {build['model_seconds_x_floor']:.1f}x floor; "
        f"{build['build_cpu_seconds']:.1f} CPU-s = {build['cpu_x_floor']:.1f}x floor's"
    )
    spark = result.get("spark_build")
    if spark:
        lines.append(
            f"Spark build (1 dbt run, local[2]): {spark['build_seconds']:.2f} s = {spark['x_floor']:.1f}x floor, "
            f"{spark['x_duckdb_build']:.2f}x DuckDB's build; inside dbt {spark['model_seconds']:.2f} s = "
            f"{spark['model_seconds_x_floor']:.1f}x floor, {spark['model_seconds_x_duckdb']:.2f}x DuckDB's; "
            f"{spark['build_cpu_seconds']:.1f} CPU-s = {spark['cpu_x_floor']:.1f}x floor's, "
            f"{spark['cpu_x_duckdb_build']:.2f}x DuckDB's"
        )
        lines.append(
            f"  Spark session + raw tables {spark['session_and_raw_seconds']:.2f} s, seeds {spark['seed_seconds']:.2f} s "
            f"(not in the build); with the session {spark['with_session_x_duckdb_build']:.2f}x DuckDB's build; "
            f"peak {spark['peak_mib']:.0f} MiB (Python + JVM)"
        )
        counts = ", ".join(f"{m} {spark['rows'][m]:,} / {spark['duckdb_rows'][m]:,}" for m in spark["rows"])
        lines.append(f"  rows Spark / DuckDB: {counts}")
    if "daily_run_fraction_of_full_build" in result:
        lines.append(
            f"daily run (landing + FOCUS mart + daily mart) / full build: {result['daily_run_fraction_of_full_build']:.1%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="smoke")
    parser.add_argument("--months", type=int, default=1, help="billing months (>1 adds the incremental daily run)")
    parser.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb",
        help="spark: also build the same models on a local Spark, in this run, beside DuckDB's build",
    )
    parser.add_argument(
        "--home", type=Path, default=None, help="working ATLAS_HOME (default: $ATLAS_HOME/bench-run-<scale>)"
    )
    args = parser.parse_args(argv)
    home = args.home or Path(os.environ.get("ATLAS_HOME", REPO / ".atlas")) / f"bench-run-{args.scale}"
    result = run(args.scale, home.resolve(), args.months, args.engine)
    print(format_table(result))
    print(f"JSON: {home / 'bench' / 'latest.json'}  (load average at the end: {result['load_average']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
