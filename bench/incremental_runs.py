"""Benchmark: `atlas run` as a user runs it, after the first build — what a run that has little or
nothing to do costs, as a fraction of the full build of the same estate.

1. full build: a fresh ATLAS_HOME, every month and telemetry day (the last telemetry day held back);
2. no-op: `atlas run` again, nothing delivered (the saved fingerprint answers: no Dagster load);
3. no-op, planned: the same with the fingerprint removed (Dagster's records and the stores decide);
4. restated month: the last billing month re-delivered by every provider (AWS/GCP rewrite the
   month's files, Azure writes a new run folder), as they do daily until the month closes; Azure's
   new run withdraws its last lines (`--withdrawn`), so the month's numbers really change and what
   is built from them (forecasts included) must be redone, not found unchanged;
5. new telemetry day: the held-back day's DCGM, Prometheus, nvidia-smi and sacct files arrive.

Each is a separate `atlas run` process (interpreter start-up included: what users wait for), timed
by wall clock; the stage lines it printed give the split. Results: a table on stdout and JSON in
$ATLAS_HOME/bench/incremental.json.

    make bench-incremental SCALE=1M MONTHS=12
    .venv/bin/python bench/incremental_runs.py --scale sample --months 3     # the sample estate's size

Scales are billing line items per month (as bench/billing_pipeline.py); telemetry covers the last
`--telemetry-days` days of the estate (the generator's DCGM volume grows with days, not line items).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SCALES = {"smoke": 3_000, "sample": 20_000, "1M": 1_000_000, "10M": 10_000_000}
# Sources partitioned by day, with their layout: the held-back day's files sit at these globs.
TELEMETRY_GLOBS = (
    "telemetry/dcgm/*/{day}/*", "telemetry/prometheus/*/{day}/*", "telemetry/nvidia_smi/*/{day}/*",
    "telemetry/slurm/*/{day}.sacct.txt",
)
_STAGE = re.compile(r"^[✓✗–] (\S+)\s.*\((\d+(?:\.\d+)?) s\)$")


@dataclass
class Measured:
    name: str
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    fraction_of_full: float | None = None
    said_nothing_new: bool = False


def _generate(exports: Path, scale: str, months: int, start: date, telemetry_days: int) -> None:
    from atlas_pipeline.sample_estate.estate import generate_estate
    from atlas_pipeline.sample_estate.spec import EstateSpec

    spec = EstateSpec(seed=7, start_month=start, months=months, line_items_per_month=SCALES[scale],
                      telemetry_days=telemetry_days)
    generate_estate(exports, spec)


def _last_telemetry_day(exports: Path) -> str | None:
    days = sorted({p.name for p in exports.glob("telemetry/dcgm/*/*") if p.is_dir()})
    return days[-1] if days else None


def _move_day(exports: Path, held: Path, day: str, back: bool) -> int:
    """Move the day's telemetry files out of the export folder into `held` (or back)."""
    moved = 0
    for pattern in TELEMETRY_GLOBS:
        source_root, target_root = (held, exports) if back else (exports, held)
        for path in sorted(source_root.glob(pattern.format(day=day))):
            target = target_root / path.relative_to(source_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


def _atlas_run(home: Path, exports: Path, name: str) -> Measured:
    env = {**os.environ, "ATLAS_HOME": str(home), "ATLAS_EXPORTS": str(exports), "DAGSTER_HOME": str(home / "dagster")}
    env.pop("ATLAS_WAREHOUSE", None)
    env.pop("ATLAS_ASSETS", None)
    started = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).parent / "atlas"), "run"], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"atlas run ({name}) failed:\n{(done.stdout + done.stderr)[-5000:]}")
    stages: dict[str, float] = {}
    for line in done.stdout.splitlines():
        if match := _STAGE.match(line.strip()):
            stages[match.group(1)] = stages.get(match.group(1), 0.0) + float(match.group(2))
    return Measured(name, round(seconds, 1), stages, said_nothing_new="Nothing new" in done.stdout)


def redeliver_month(exports: Path, period: str) -> None:
    """The month delivered again (bench/billing_pipeline.py's definition: the same re-delivery)."""
    from billing_pipeline import redeliver_month as redeliver

    redeliver(exports, period)


def restate_month(exports: Path, period: str, withdrawn: int) -> int:
    """`redeliver_month`, and each new Azure run folder withdraws the last `withdrawn` lines of its
    CSV (its manifest says so: a restatement that shrank), its files written now (the newest
    delivery is the one with the newest objects). Returns the lines withdrawn. Once per estate:
    `redeliver_month` copies every run folder of the month, so a second call would deliver several
    new runs at once."""
    folders = lambda: {p for p in exports.glob("azure/**/*-*/*") if p.is_dir()}  # noqa: E731
    before = folders()
    redeliver_month(exports, period)
    removed = 0
    for folder in sorted(folders() - before) if withdrawn else []:
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
        counts = {}
        for part in sorted(folder.glob("*.csv")):
            with open(part, newline="", encoding="utf-8-sig") as handle:
                header, *rows = list(csv.reader(handle))
            kept = rows[:-withdrawn] if len(rows) > withdrawn else rows
            removed += len(rows) - len(kept)
            with open(part, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows([header, *kept])
            counts[part.name] = (part.stat().st_size, len(kept))
        old_run = manifest.get("runInfo", {}).get("runId")
        manifest.setdefault("runInfo", {})["runId"] = folder.name
        for blob in manifest.get("blobs", []):
            name = blob["blobName"].rsplit("/", 1)[-1]
            if old_run:
                blob["blobName"] = blob["blobName"].replace(old_run, folder.name)
            if name in counts:
                blob["byteCount"], blob["dataRowCount"] = counts[name]
        manifest["byteCount"] = sum(b for b, _ in counts.values())
        manifest["dataRowCount"] = sum(r for _, r in counts.values())
        manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in folder.iterdir():
            os.utime(path)
    return removed


def run(scale: str, months: int, home: Path, telemetry_days: int, withdrawn: int = 3) -> dict:
    start = date(2026, 1, 1) if months > 3 else date(2026, 8, 1)
    if home.exists():
        shutil.rmtree(home)
    exports, held = home / "exports", home / "held-back"
    home.mkdir(parents=True)
    began = time.monotonic()
    _generate(exports, scale, months, start, telemetry_days)
    generated = time.monotonic() - began
    day = _last_telemetry_day(exports)
    held_files = _move_day(exports, held, day, back=False) if day else 0

    results = [_atlas_run(home, exports, "full build")]
    results.append(_atlas_run(home, exports, "no-op"))
    (home / "state" / "last_run.json").unlink(missing_ok=True)
    results.append(_atlas_run(home, exports, "no-op, planned from Dagster's records"))
    last_month = f"{start.year + (start.month - 1 + months - 1) // 12:04d}-{(start.month - 1 + months - 1) % 12 + 1:02d}"
    removed = restate_month(exports, last_month, withdrawn)
    results.append(_atlas_run(home, exports, f"restated month ({last_month}, {removed} lines withdrawn)"))
    if day:
        _move_day(exports, held, day, back=True)
        results.append(_atlas_run(home, exports, f"new telemetry day ({day}, {held_files} files)"))
    full = results[0].seconds
    for measured in results[1:]:
        measured.fraction_of_full = round(measured.seconds / full, 4)
    result = {
        "scale": scale, "line_items_per_month": SCALES[scale], "months": months, "telemetry_days": telemetry_days,
        "generated_seconds": round(generated, 1), "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(), "runs": [asdict(m) for m in results],
    }
    out = home / "bench" / "incremental.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def format_table(result: dict) -> str:
    lines = [f"atlas run at {result['scale']} ({result['line_items_per_month']:,} billing lines/month x "
             f"{result['months']} months, telemetry {result['telemetry_days']} days)",
             f"{'run':<44} {'seconds':>8} {'of full':>8}  stages (s)"]
    for run_ in result["runs"]:
        fraction = "" if run_["fraction_of_full"] is None else f"{100 * run_['fraction_of_full']:.1f} %"
        stages = ", ".join(f"{k} {v:.0f}" for k, v in run_["stages"].items())
        lines.append(f"{run_['name']:<44} {run_['seconds']:>8.1f} {fraction:>8}  {stages}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--telemetry-days", type=int, default=31, help="days of telemetry (the last N of the estate)")
    parser.add_argument("--withdrawn", type=int, default=3,
                        help="lines the restated month's Azure re-delivery withdraws (0: the same lines again)")
    parser.add_argument("--home", type=Path, default=None, help="work folder (default $ATLAS_HOME/bench-incremental-…)")
    args = parser.parse_args(argv)
    base = Path(os.environ.get("ATLAS_HOME", REPO / ".atlas"))
    home = args.home or base / f"bench-incremental-{args.scale}-{args.months}m"
    result = run(args.scale, args.months, home.resolve(), args.telemetry_days, args.withdrawn)
    print(format_table(result))
    print(f"JSON: {home / 'bench' / 'incremental.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
