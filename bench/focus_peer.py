"""Benchmark: Atlas beside the FinOps Foundation's focus-converter and DuckDB itself, on one legacy
CUR CSV (resampled from the real anonymized rows: bench/legacy_cur_sample.py), in one run.

Stages, each in its own child process (wall time, CPU time, peak resident memory), run round-robin
(peer, floor, plain, landing, build; then again) so that a machine whose speed drifts — other work on
a shared machine — touches every stage alike; the table shows medians:

- focus-converter 1.0.0 (Polars), as its CLI runs by default (FOCUS columns + the source columns),
  in its own virtual environment (bench/.focus-converter-venv, created with uv: `focus-converter==1.0.0`, pinned
  `multimethod<1.11` and `click<8.2`, without which 1.0.0 does not start). Skipped, with the reason,
  when that environment cannot be built (no network) or `--no-peer`.
- DuckDB scan and sum (the floor): read the CSV, sum one cost column.
- DuckDB text copy: the CSV copied to parquet, every column as the text delivered, nothing checked
  or typed — the least any landing that keeps every column can cost (Atlas's landing is that copy
  plus types, the contract and the checksum).
- DuckDB plain conversion: read the CSV with DuckDB's own type detection (money as DOUBLE, not
  exact), rename, cast and CASE to 34 FOCUS columns, written as a table in the storage format of
  Atlas's warehouse — what a bare conversion costs.
- Atlas landing: the file copied into landing, checksummed, read once, typed (exact DECIMAL), every
  contract rule checked, written as parquet (lib/ingest/landing.py, a fresh warehouse each round).
- Atlas FOCUS build: `dbt run` of focus_cost_and_usage and its parents from the landed parquet
  (seeds loaded beforehand, untimed), called as Atlas's Dagster assets call dbt (profile target
  named, no manifest.json / run_results.json written, dbt forked from a warm server started
  before the landing — as `atlas run` starts it before its stages; `--cold-dbt`: a new dbt
  process); the time inside dbt (running its nodes, from dbt's JSON log) is shown apart
  from dbt's start-up.
- Atlas end to end = landing + FOCUS build of the same round.

    .venv/bin/python bench/focus_peer.py --rows 1M            # or smoke, 100k
    make bench-peer ROWS=1M

Peak memory is the process tree's: the sum of each process's high-water mark (VmHWM, polled from
/proc) — focus-converter writes through worker processes, DuckDB and dbt run in one. JSON goes to
<work>/focus_peer.json. The input CSV is kept under --work and reused; the peer's environment is
bench/.focus-converter-venv (git-ignored), built on first use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from legacy_cur_sample import PERIOD, write_legacy_cur  # noqa: E402

ROWS = {"smoke": 2_000, "100k": 100_000, "1M": 1_000_000}
PEER = ("focus-converter==1.0.0", "multimethod<1.11", "click<8.2")
# Beside this script, kept across runs (git-ignored): the peer never shares Atlas's environment.
PEER_VENV = Path(__file__).resolve().parent / ".focus-converter-venv"
EXPORT_FOLDER = "aws/atlas-cur-legacy/20231101-20231201"
ASSEMBLY = "5d2c6a9e-bench-assembly"
STAGES = ("focus-converter", "floor", "copy", "plain", "landing", "build")
LABELS = {
    "focus-converter": "focus-converter 1.0.0 (Polars)",
    "floor": "DuckDB scan and sum (floor)",
    "copy": "DuckDB CSV -> parquet, as text",
    "plain": "DuckDB plain rename/cast/CASE",
    "landing": "Atlas landing",
    "build": "Atlas FOCUS build",
    "end_to_end": "Atlas end to end",
}


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_mib: float
    inside_seconds: float | None = None  # the FOCUS build: time inside dbt (running its nodes)


@dataclass
class Stage:
    name: str
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.runs if getattr(r, attribute) is not None]
        return statistics.median(values) if values else None


# --- child processes -----------------------------------------------------------------------------

_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import focus_peer as b; getattr(b, sys.argv[2])(*sys.argv[3:])"


def _tree(pid: int) -> set[int]:
    """`pid` and its live descendants."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(status.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        found.add(p)
        todo += children.get(p, [])
    return found


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def run_child(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
              server: int | None = None) -> Run:
    """Run `cmd` to completion: wall seconds, CPU seconds (its own and its reaped children's) and the
    peak memory of its process tree (sum of every member's VmHWM, polled every 50 ms). With
    `server` (a warm dbt server's pid), the processes it forks meanwhile are the command's too:
    `atlas-dbt` hands its work to such a child (their CPU polled from /proc, to ≤ 50 ms of the end)."""
    with tempfile.TemporaryFile(mode="w+") as output:  # a file, not a pipe: a chatty child must not block
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, text=True)
        peaks: dict[int, int] = {}
        forked_ticks: dict[int, int] = {}
        while True:
            forked = _tree(server) - {server} if server else set()
            for pid in _tree(proc.pid) | forked:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
                    if pid in forked:
                        forked_ticks[pid] = max(forked_ticks.get(pid, 0), _cpu_ticks(pid))
                except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
                    pass
            waited, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if waited:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{output.read()[-4000:]}")
    forked_cpu = sum(forked_ticks.values()) / os.sysconf("SC_CLK_TCK")
    return Run(seconds, usage.ru_utime + usage.ru_stime + forked_cpu, sum(peaks.values()) / 1024)


def _in_child(function: str, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_child([sys.executable, "-c", _CHILD, str(Path(__file__).parent), function, *args], env)


# --- the input -------------------------------------------------------------------------------------

def prepare_input(work: Path, rows: int) -> Path:
    """The resampled legacy CUR CSV of `rows` line items (written once, reused)."""
    path = work / "input" / f"aws_legacy_cur_{PERIOD}_{rows}.csv"
    done = path.with_suffix(".done")
    if not done.exists():
        write_legacy_cur(path.with_suffix(".partial"), rows)
        path.with_suffix(".partial").rename(path)
        done.touch()
    return path


def lay_out_exports(exports: Path, csv_path: Path) -> None:
    """The CSV where AWS delivers a legacy CUR: an assembly folder of the month, and the month's
    manifest naming it (a hard link: no second copy of the file)."""
    folder = exports / EXPORT_FOLDER
    (folder / ASSEMBLY).mkdir(parents=True, exist_ok=True)
    target = folder / ASSEMBLY / "atlas-cur-legacy-00001.csv"
    if not target.exists():
        try:
            os.link(csv_path, target)
        except OSError:
            shutil.copyfile(csv_path, target)
    key = f"cur/atlas-cur-legacy/20231101-20231201/{ASSEMBLY}/atlas-cur-legacy-00001.csv"
    manifest = {"assemblyId": ASSEMBLY, "reportKeys": [key], "billingPeriod": {"start": "20231101T000000.000Z"}}
    (folder / "atlas-cur-legacy-Manifest.json").write_text(json.dumps(manifest))


def peer_environment(venv: Path = PEER_VENV) -> tuple[Path | None, str]:
    """focus-converter's own virtual environment (built once with uv); (None, why) when it cannot be."""
    binary = venv / "bin" / "focus-converter"
    if binary.exists():
        return binary, "focus-converter 1.0.0 in " + str(venv)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        return None, "uv not found (make install provides it)"
    try:
        subprocess.run([uv, "venv", "--quiet", "-p", "3.11", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *PEER],
                       check=True, capture_output=True, timeout=600, text=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        detail = (getattr(exc, "stderr", "") or "").strip().splitlines()
        return None, "its environment could not be built (offline?): " + (detail[-1] if detail else str(exc))
    return binary, "focus-converter 1.0.0 in " + str(venv)


# --- the stages (children) -------------------------------------------------------------------------

def scan_and_sum(csv_path: str) -> None:
    """The floor: DuckDB reading the CSV and summing one cost column, nothing else."""
    import duckdb

    duckdb.connect().execute(
        "select count(*), sum(try_cast(\"lineItem/UnblendedCost\" as double)) "
        f"from read_csv('{csv_path}', header = true, all_varchar = true)"
    ).fetchall()


def text_copy(csv_path: str, parquet: str) -> None:
    """Landing's floor: every column of the CSV copied to parquet as the text delivered (zstd, as
    Atlas lands), no types, no checks, no checksum."""
    import duckdb

    duckdb.connect().execute(f"copy (select * from read_csv('{csv_path}', header = true, all_varchar = true)) "
                             f"to '{parquet}' (format parquet, compression zstd)")
    Path(parquet).unlink(missing_ok=True)


PLAIN_CONVERSION = """
create table focus as
select
    try_cast("lineItem/UnblendedCost" as double) as BilledCost,
    coalesce(try_cast("savingsPlan/SavingsPlanEffectiveCost" as double),
             try_cast("reservation/EffectiveCost" as double),
             try_cast("lineItem/UnblendedCost" as double)) as EffectiveCost,
    try_cast("pricing/publicOnDemandCost" as double) as ListCost,
    try_cast("pricing/publicOnDemandRate" as double) as ListUnitPrice,
    try_cast("lineItem/UnblendedRate" as double) as ContractedUnitPrice,
    "lineItem/CurrencyCode" as BillingCurrency,
    "bill/PayerAccountId" as BillingAccountId,
    "lineItem/UsageAccountId" as SubAccountId,
    try_cast("bill/BillingPeriodStartDate" as timestamptz) as BillingPeriodStart,
    try_cast("bill/BillingPeriodEndDate" as timestamptz) as BillingPeriodEnd,
    try_cast("lineItem/UsageStartDate" as timestamptz) as ChargePeriodStart,
    try_cast("lineItem/UsageEndDate" as timestamptz) as ChargePeriodEnd,
    case "lineItem/LineItemType"
        when 'Usage' then 'Usage' when 'DiscountedUsage' then 'Usage' when 'SavingsPlanCoveredUsage' then 'Usage'
        when 'SavingsPlanNegation' then 'Usage' when 'Tax' then 'Tax' when 'Fee' then 'Purchase'
        when 'RIFee' then 'Purchase' when 'SavingsPlanRecurringFee' then 'Purchase'
        when 'SavingsPlanUpfrontFee' then 'Purchase' when 'Credit' then 'Credit' when 'Refund' then 'Credit'
        else 'Adjustment' end as ChargeCategory,
    case when "lineItem/LineItemType" in ('RIFee', 'SavingsPlanRecurringFee', 'Tax') then 'Recurring'
         when "lineItem/LineItemType" in ('Fee', 'SavingsPlanUpfrontFee') then 'One-Time'
         else 'Usage-Based' end as ChargeFrequency,
    "lineItem/LineItemDescription" as ChargeDescription,
    case when "pricing/term" = 'Spot' then 'Dynamic'
         when "lineItem/LineItemType" in ('DiscountedUsage', 'SavingsPlanCoveredUsage') then 'Committed'
         else 'Standard' end as PricingCategory,
    try_cast("lineItem/UsageAmount" as double) as PricingQuantity,
    nullif(cast("pricing/unit" as varchar), '') as PricingUnit,
    try_cast("lineItem/UsageAmount" as double) as ConsumedQuantity,
    nullif(cast("pricing/unit" as varchar), '') as ConsumedUnit,
    coalesce(nullif(cast("product/ProductName" as varchar), ''), "lineItem/ProductCode") as ServiceName,
    case when "lineItem/ProductCode" in ('AmazonEC2', 'AWSLambda', 'AmazonECS') then 'Compute'
         when "lineItem/ProductCode" in ('AmazonS3', 'AmazonEFS', 'AmazonGlacier') then 'Storage'
         when "lineItem/ProductCode" in ('AmazonRDS', 'AmazonDynamoDB') then 'Databases'
         when "lineItem/ProductCode" in ('AmazonCloudWatch', 'AWSCloudTrail', 'AWSConfig') then 'Management and Governance'
         when "lineItem/ProductCode" in ('AmazonSNS', 'AWSQueueService', 'AWSEvents') then 'Integration'
         when "lineItem/ProductCode" in ('awskms', 'AWSSecretsManager') then 'Security'
         when "lineItem/ProductCode" in ('AWSGlue', 'AmazonAthena') then 'Analytics'
         else 'Other' end as ServiceCategory,
    'Amazon Web Services' as ProviderName,
    'Amazon Web Services' as PublisherName,
    coalesce(nullif(cast("bill/InvoicingEntity" as varchar), ''), 'Amazon Web Services') as InvoiceIssuerName,
    nullif(cast("product/regionCode" as varchar), '') as RegionId,
    nullif(cast("product/region" as varchar), '') as RegionName,
    nullif(cast("lineItem/AvailabilityZone" as varchar), '') as AvailabilityZone,
    nullif(cast("product/sku" as varchar), '') as SkuId,
    nullif(cast("pricing/RateId" as varchar), '') as SkuPriceId,
    nullif(coalesce(nullif(cast("savingsPlan/SavingsPlanARN" as varchar), ''),
                    cast("reservation/SubscriptionId" as varchar)), '') as CommitmentDiscountId,
    case when nullif(cast("savingsPlan/SavingsPlanARN" as varchar), '') is not null then 'Savings Plan'
         when nullif(cast("reservation/SubscriptionId" as varchar), '') is not null then 'Reserved Instance'
    end as CommitmentDiscountType,
    "identity/LineItemId" as x_line_item_id
from read_csv('{csv}', header = true)
"""


def plain_conversion(csv_path: str, database: str) -> None:
    """A bare DuckDB conversion: auto-detected CSV types, rename, cast and CASE to 34 FOCUS
    columns, written as a table — in the storage format Atlas writes its warehouse in, so that the
    two write strings alike (DuckDB's default format writes them ≈ 15 % slower here)."""
    import duckdb

    from atlas_pipeline.lib.warehouse.connections import STORAGE_VERSION

    Path(database).unlink(missing_ok=True)
    with duckdb.connect(database, config={"storage_compatibility_version": STORAGE_VERSION}) as con:
        con.execute(PLAIN_CONVERSION.format(csv=csv_path))
    Path(database).unlink(missing_ok=True)


def land(home: str) -> None:
    """Atlas's landing of every declared billing source into `home` (a fresh warehouse)."""
    from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
    from atlas_pipeline.lib.ingest.object_store import open_store
    from atlas_pipeline.lib.ingest.sources import load_sources
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths
    from atlas_pipeline.lib.warehouse.connections import connect

    paths = AtlasPaths(home=Path(home), exports=Path(home) / "exports").ensure()
    sources = [s for s in load_sources(DECLARATIONS_DIR / "sources") if s.provider in ("aws", "gcp", "azure", "saas")]
    with connect(paths.warehouse) as con:
        con.execute("create schema if not exists raw")
        for source in sources:
            store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(paths.exports)}))
            report = land_source(con, source, store, paths.landing, paths.quarantine)
            if report.quarantined:
                raise RuntimeError(f"{source.name}: quarantined {report.quarantined[0]['problem']}")
            refresh_raw_view(con, source)


# --- the run ---------------------------------------------------------------------------------------

def _dbt(home: Path) -> tuple[list[str], dict[str, str]]:
    from atlas_pipeline.lib.settings import DBT_PROJECT_DIR
    from atlas_pipeline.lib.warehouse.dbt_project import DBT_TARGET

    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", DBT_TARGET]
    work = ["--target-path", str(home / "dbt-target"), "--log-path", str(home / "dbt-logs")]
    env = {
        **os.environ,
        "ATLAS_HOME": str(home),
        "ATLAS_EXPORTS": str(home / "exports"),
        "ATLAS_WAREHOUSE": str(home / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return [*project, *work], env


def _inside_dbt(log: Path) -> float:
    """The wall time dbt spent running the nodes of the last invocation that wrote `log` as JSON
    lines (its run result's elapsed time: nodes overlap on dbt's threads, so not their sum; the
    seed call before it wrote text lines, skipped)."""
    elapsed = 0.0
    for line in log.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event["info"]["name"] == "EndRunResult":
            elapsed = event["data"]["elapsed_time"]
    return elapsed


def _atlas_round(home: Path, csv_path: Path, cold_dbt: bool = False) -> tuple[Run, Run, int]:
    """Landing then the FOCUS build in a fresh Atlas home; returns both runs and the mart's rows.
    dbt starts as in `atlas run`: forked from a warm server started before landing (its import of
    dbt overlaps the run's earlier stages there, here the landing); `cold_dbt`: a new dbt process."""
    import duckdb

    from atlas_pipeline.lib.warehouse.warm_dbt import dbt_executable, real_dbt, wait_until_listening, warm_dbt_server

    shutil.rmtree(home, ignore_errors=True)
    lay_out_exports(home / "exports", csv_path)
    args, env = _dbt(home)
    with contextlib.ExitStack() as stack:
        server = None if cold_dbt else stack.enter_context(warm_dbt_server())
        dbt = [real_dbt()] if cold_dbt else [dbt_executable()]
        env = {**env, **({} if server is None else {"ATLAS_DBT_SERVER": server.path})}
        landing = _in_child("land", str(home), env=env)
        if server is not None and not wait_until_listening(server.path):
            raise RuntimeError("the warm dbt server did not start")
        run_child([*dbt, "seed", *args], env)
        build = run_child([*dbt, "run", "--no-write-json", "--log-format-file", "json", "--select",
                           "+focus_cost_and_usage", *args], env, server=server.pid if server else None)
    build.inside_seconds = _inside_dbt(home / "dbt-logs" / "dbt.log")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select count(*) from main.focus_cost_and_usage").fetchone()[0]
    return landing, build, rows


def run(rows_label: str, work: Path, rounds: int, peer: bool, cold_dbt: bool = False) -> dict:
    rows = ROWS[rows_label]
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    csv_path = prepare_input(work, rows)
    generation_seconds = time.perf_counter() - started
    binary, peer_note = peer_environment() if peer else (None, "skipped (--no-peer)")
    stages = {name: Stage(LABELS[name]) for name in (*STAGES, "end_to_end")}
    mart_rows = 0
    for n in range(rounds):
        if binary is not None:
            out = work / f"peer-out-{n}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            stages["focus-converter"].runs.append(run_child(
                [str(binary), "convert", "--provider", "aws-cur", "--data-format", "csv", "--data-path", str(csv_path),
                 "--export-path", f"{out}/", "--export-format", "parquet"], cwd=work))
            shutil.rmtree(out, ignore_errors=True)
        stages["floor"].runs.append(_in_child("scan_and_sum", str(csv_path)))
        stages["copy"].runs.append(_in_child("text_copy", str(csv_path), str(work / "copy.parquet")))
        stages["plain"].runs.append(_in_child("plain_conversion", str(csv_path), str(work / "plain.duckdb")))
        landing, build, mart_rows = _atlas_round(work / "atlas-home", csv_path, cold_dbt)
        stages["landing"].runs.append(landing)
        stages["build"].runs.append(build)
        stages["end_to_end"].runs.append(Run(landing.seconds + build.seconds, landing.cpu_seconds + build.cpu_seconds,
                                             max(landing.peak_mib, build.peak_mib)))
    result = {
        "rows": rows,
        "input_bytes": csv_path.stat().st_size,
        "input_columns": len(csv_path.open().readline().split(",")),
        "rounds": rounds,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "generation_seconds": round(generation_seconds, 1),
        "peer": peer_note,
        "dbt_start": ("cold (a new dbt process)" if cold_dbt
                      else "warm (forked from a server that imported dbt, as in atlas run)"),
        "focus_rows": mart_rows,
        "stages": {
            name: {"label": s.name, "runs": [asdict(r) for r in s.runs],
                   "seconds": s.median("seconds"), "cpu_seconds": s.median("cpu_seconds"),
                   "peak_mib": s.median("peak_mib"), "inside_seconds": s.median("inside_seconds")}
            for name, s in stages.items() if s.runs
        },
    }
    result["ratios"] = ratios(result["stages"])
    out = work / "focus_peer.json"
    out.write_text(json.dumps(result, indent=2))
    return result


def ratios(stages: dict) -> dict:
    """The issue's targets as ratios of medians measured in the same run."""
    def seconds(name: str) -> float | None:
        return stages.get(name, {}).get("seconds")

    out = {}
    plain, e2e, build, peer = seconds("plain"), seconds("end_to_end"), seconds("build"), seconds("focus-converter")
    copy, landing = seconds("copy"), seconds("landing")
    if copy:
        out["landing_x_text_copy"] = landing / copy
        if plain:
            out["text_copy_x_plain"] = copy / plain
    if plain:
        out["end_to_end_x_plain"] = e2e / plain
        out["build_x_plain"] = build / plain
        inside = stages["build"].get("inside_seconds")
        out["build_inside_dbt_x_plain"] = inside / plain if inside else None
    if peer:
        out["peer_x_end_to_end"] = peer / e2e  # > 1: Atlas is that many times faster
        out["end_to_end_peak_x_peer_peak"] = stages["end_to_end"]["peak_mib"] / stages["focus-converter"]["peak_mib"]
    floor = seconds("floor")
    if floor:
        out["x_floor"] = {name: s["seconds"] / floor for name, s in stages.items()}
    return out


def format_table(result: dict) -> str:
    lines = [
        f"Legacy CUR {result['rows']:,} line items × {result['input_columns']} columns "
        f"({result['input_bytes'] / 1e6:.0f} MB), medians of {result['rounds']} round-robin runs, "
        f"{result['cpu_count']} cores, load average at the end {result['load_average'][0]:.1f}",
        f"peer: {result['peer']}; the build's dbt started {result['dbt_start']}",
        f"{'':34} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'x floor':>8}",
    ]
    floor = result["stages"]["floor"]["seconds"]
    for stage in result["stages"].values():
        extra = ""
        if stage.get("inside_seconds"):
            extra = f"  (inside dbt {stage['inside_seconds']:.2f} s; the rest is dbt start-up)"
        lines.append(f"{stage['label']:34} {stage['seconds']:>8.2f} {stage['cpu_seconds']:>8.2f} "
                     f"{stage['peak_mib']:>9.0f} {stage['seconds'] / floor:>8.2f}{extra}")
    r = result["ratios"]
    if "end_to_end_x_plain" in r:
        lines.append(f"end to end / plain conversion: {r['end_to_end_x_plain']:.2f}x (target <= 3)")
        lines.append(f"FOCUS build from landed parquet / plain conversion: {r['build_x_plain']:.2f}x (target <= 2)"
                     + (f"; inside dbt {r['build_inside_dbt_x_plain']:.2f}x" if r.get("build_inside_dbt_x_plain") else ""))
    if "peer_x_end_to_end" in r:
        lines.append(f"focus-converter / Atlas end to end: {r['peer_x_end_to_end']:.2f}x faster (target >= 2); "
                     f"Atlas peak / its peak: {r['end_to_end_peak_x_peer_peak']:.2f} (target <= 0.2)")
    if "landing_x_text_copy" in r:
        line = f"landing / DuckDB's text copy of the same file: {r['landing_x_text_copy']:.2f}x"
        if "text_copy_x_plain" in r:
            line += f"; the text copy alone / plain conversion: {r['text_copy_x_plain']:.2f}x"
        peer = result["stages"].get("focus-converter", {}).get("seconds")
        if peer:
            line += (f"; half the peer's time ({peer / 2:.2f} s) is "
                     f"{peer / 2 / result['stages']['copy']['seconds']:.2f}x the text copy")
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", choices=list(ROWS), default="smoke")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="do not build or run focus-converter")
    parser.add_argument("--cold-dbt", action="store_true",
                        help="start dbt as a new process for the build (default: warm, as atlas run starts it)")
    parser.add_argument("--work", type=Path, default=None,
                        help="working folder (default: $ATLAS_HOME/bench-peer-<rows>); the input is reused")
    args = parser.parse_args(argv)
    work = args.work or Path(os.environ.get("ATLAS_HOME", REPO / ".atlas")) / f"bench-peer-{args.rows}"
    result = run(args.rows, work.resolve(), args.rounds, args.peer, args.cold_dbt)
    print(format_table(result))
    print(f"JSON: {work / 'focus_peer.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
