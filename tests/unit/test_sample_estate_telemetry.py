"""The sample estate's GPU telemetry: deterministic files, laid out like a telemetry bucket, in the
formats dcgm-exporter and sacct really write, and consistent with one another (a DCGM sample
carries `hpc_job` exactly while that Slurm job holds the GPU)."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from atlas_pipeline.sample_estate.dcgm import METRICS
from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob, simulate_jobs
from atlas_pipeline.sample_estate.slurm_sacct import SACCT_FIELDS, sacct_elapsed
from atlas_pipeline.sample_estate.spec import TEAMS, EstateSpec, default_fleet
from atlas_pipeline.sample_estate.telemetry import dcgm_days, generate_telemetry

SAMPLE_LINE = re.compile(
    r'^(?P<metric>DCGM_FI_[A-Z_]+)\{gpu="(?P<gpu>\d+)",UUID="(?P<uuid>GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
    r'[0-9a-f]{4}-[0-9a-f]{12})",pci_bus_id="(?P<bus>[0-9A-F]{8}:[0-9A-F]{2}:00\.0)",device="nvidia(?P<dev>\d+)",'
    r'modelName="(?P<model>[^"]+)",Hostname="(?P<host>[^"]+)"(?:,hpc_job="(?P<job>\d+)")?\} '
    r"(?P<value>-?\d+(?:\.\d{6})?) (?P<ts>\d{13})$"
)
HEADER = "JobID|JobName|User|Account|Partition|AllocTRES|Submit|Start|End|Elapsed|State|ExitCode|NodeList"
STATES = {"COMPLETED", "FAILED", "TIMEOUT", "RUNNING", "PENDING", "CANCELLED"}


def small_spec(**overrides) -> EstateSpec:
    fleet = default_fleet()
    spec = EstateSpec(
        seed=7,
        start_month=date(2026, 8, 1),
        months=1,
        fleet=(fleet[0], fleet[2]),  # one aws-train host, one gcp-infer host
        telemetry_interval_seconds=1800,
        telemetry_days=2,
        onprem_fleet=(),  # on-prem formats are tested in test_gpu_telemetry_formats.py
    )
    return replace(spec, **overrides)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EstateSpec, list[Path]]:
    out = tmp_path_factory.mktemp("estate")
    spec = small_spec()
    return out, spec, generate_telemetry(out, spec)


def read_sacct(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    rows = []
    for line in lines[1:]:
        fields = line.split("|")
        assert len(fields) == len(SACCT_FIELDS), line
        rows.append(dict(zip(SACCT_FIELDS, fields, strict=True)))
    return rows


def ts(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def test_same_spec_gives_byte_identical_files(tmp_path: Path, estate) -> None:
    out, spec, paths = estate
    again = generate_telemetry(tmp_path, spec)
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(out) for p in paths]
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first
    # A different seed changes the data.
    other = generate_telemetry(tmp_path / "other", replace(spec, seed=8))
    assert any(a.read_bytes() != b.read_bytes() for a, b in zip(paths, other, strict=True))


def test_file_layout(estate) -> None:
    out, spec, paths = estate
    days = [spec.start_month + timedelta(days=i) for i in range(31)]
    expected = {Path("telemetry/inventory/nodes.csv")}
    for cluster in ("aws-train", "gcp-infer"):
        expected |= {Path(f"telemetry/slurm/{cluster}/{d.isoformat()}.sacct.txt") for d in days}
    for host in spec.fleet:
        expected |= {
            Path(f"telemetry/dcgm/{host.cluster}/{d.isoformat()}/{host.hostname}.prom.gz") for d in days[-2:]
        }
    assert {p.relative_to(out) for p in paths} == expected
    assert dcgm_days(spec) == days[-2:]
    assert dcgm_days(replace(spec, telemetry_days=None)) == days
    # gzip with mtime 0 and no file name: reproducible bytes.
    raw = next(p for p in paths if p.suffix == ".gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\x00\x00\x00\x00" and raw[3] & 0x08 == 0


def test_inventory_lists_every_host(estate) -> None:
    out, spec, _ = estate
    with open(out / "telemetry/inventory/nodes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["hostname"] for r in rows] == [h.hostname for h in spec.fleet]
    assert rows[0] == {
        "hostname": "aws-p5-001",
        "cluster": "aws-train",
        "provider": "aws",
        "instance_type": "p5.48xlarge",
        "resource_id": "i-0a1b2c3d4e5f60001",
        "region": "us-east-1",
        "gpu_model": "NVIDIA H100 80GB HBM3",
        "gpu_count": "8",
    }


def test_dcgm_exposition_format(estate) -> None:
    out, spec, _ = estate
    host = spec.fleet[0]
    day = dcgm_days(spec)[-1]
    lines = gzip.decompress(
        (out / f"telemetry/dcgm/{host.cluster}/{day.isoformat()}/{host.hostname}.prom.gz").read_bytes()
    ).decode().splitlines()
    scrapes = 86_400 // spec.telemetry_interval_seconds
    assert len(lines) == scrapes * len(METRICS) * (host.gpu_count + 2)
    day_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    uuids: dict[str, str] = {}
    block = len(METRICS) * (host.gpu_count + 2)
    for i, line in enumerate(lines):
        metric = METRICS[(i % block) // (host.gpu_count + 2)]
        position = (i % block) % (host.gpu_count + 2)
        if position == 0:
            assert line == f"# HELP {metric.name} {metric.help}"
        elif position == 1:
            assert line == f"# TYPE {metric.name} gauge"
        else:
            match = SAMPLE_LINE.match(line)
            assert match, line
            assert match["metric"] == metric.name
            assert int(match["gpu"]) == position - 2 == int(match["dev"])
            assert match["host"] == host.hostname and match["model"] == host.gpu_model
            assert int(match["ts"]) == day_ms + (i // block) * spec.telemetry_interval_seconds * 1000
            # Go's %f for doubles, %d for integers.
            assert ("." in match["value"]) == (metric.kind == "double")
            assert uuids.setdefault(match["gpu"], match["uuid"]) == match["uuid"]
    assert len(set(uuids.values())) == host.gpu_count


def test_gpu_uuids_are_stable_across_days_and_hosts(estate) -> None:
    out, spec, _ = estate
    seen: dict[tuple[str, str], set[str]] = {}
    for path in sorted((out / "telemetry/dcgm").rglob("*.prom.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            if match := SAMPLE_LINE.match(line):
                seen.setdefault((match["host"], match["gpu"]), set()).add(match["uuid"])
    assert all(len(u) == 1 for u in seen.values())
    assert len({next(iter(u)) for u in seen.values()}) == sum(h.gpu_count for h in spec.fleet)


def test_hpc_job_label_only_while_a_job_holds_the_gpu(estate) -> None:
    out, spec, _ = estate
    jobs = {(j.cluster, j.job_id): j for j in simulate_jobs(spec)}
    by_host: dict[str, list[SlurmJob]] = {}
    for job in jobs.values():
        if job.start is not None:
            by_host.setdefault(job.hostname, []).append(job)
    busy_util, idle_util, labelled, unlabelled = [], [], 0, 0
    for host in spec.fleet:
        for path in sorted((out / "telemetry/dcgm" / host.cluster).rglob(f"{host.hostname}.prom.gz")):
            for line in gzip.decompress(path.read_bytes()).decode().splitlines():
                match = SAMPLE_LINE.match(line)
                if not match:
                    continue
                t, gpu = int(match["ts"]) // 1000, int(match["gpu"])
                holders = [j for j in by_host[host.hostname] if gpu in j.gpu_indices and j.start <= t < j.end]
                assert len(holders) <= 1
                if match["job"]:
                    labelled += 1
                    assert holders and holders[0].job_id == int(match["job"]), line
                    assert jobs[(host.cluster, int(match["job"]))].hostname == host.hostname
                else:
                    unlabelled += 1
                    assert not holders, line
                if match["metric"] == "DCGM_FI_DEV_GPU_UTIL":
                    (busy_util if match["job"] else idle_util).append(int(match["value"]))
    assert labelled and unlabelled  # both allocated and idle GPUs are in the sample
    assert max(idle_util) == 0 and sum(busy_util) / len(busy_util) > 30


def test_sacct_files_have_the_header_and_fields_sacct_prints(estate) -> None:
    out, spec, _ = estate
    states = Counter()
    for path in sorted((out / "telemetry/slurm").rglob("*.sacct.txt")):
        day = date.fromisoformat(path.name[:10])
        rows = read_sacct(path)
        current = None
        for row in rows:
            job_id, _, step = row["JobID"].partition(".")
            if not step:
                current = row
                assert row["Account"] in TEAMS and row["User"] and row["Partition"] in ("gpu", "interactive")
                states[row["State"].split(" ")[0]] += 1
                assert row["State"].split(" ")[0] in STATES
                if row["State"].startswith("CANCELLED by"):
                    assert re.fullmatch(r"CANCELLED by \d+", row["State"])
            else:
                # Step rows follow their job: no user or partition, the job's account.
                assert current is not None and job_id == current["JobID"]
                assert step in ("batch", "extern", "0") and row["User"] == "" and row["Partition"] == ""
                assert row["Account"] == current["Account"] and row["NodeList"] == current["NodeList"]
            assert re.fullmatch(r"\d+:\d+", row["ExitCode"])
            assert re.fullmatch(r"(\d+-)?\d{2}:\d{2}:\d{2}", row["Elapsed"])
            if row["Start"] not in ("None", "Unknown"):
                start = ts(row["Start"])
                end = ts(row["End"]) if row["End"] != "Unknown" else ts(f"{day + timedelta(days=1)}T00:00:00")
                assert sacct_elapsed(end - start) == row["Elapsed"]
                # The file lists jobs overlapping its day.
                assert start < ts(f"{day + timedelta(days=1)}T00:00:00") and end > ts(f"{day}T00:00:00")
    assert {"COMPLETED", "CANCELLED", "RUNNING"} <= set(states)


def test_gres_counts_gpus_once_and_matches_the_allocation(estate) -> None:
    out, spec, _ = estate
    jobs = {(j.cluster, j.job_id): j for j in simulate_jobs(spec)}
    checked = 0
    for path in sorted((out / "telemetry/slurm").rglob("*.sacct.txt")):
        cluster = path.parent.name
        for row in read_sacct(path):
            if "." in row["JobID"] or not row["AllocTRES"]:
                continue
            tres = dict(item.split("=", 1) for item in row["AllocTRES"].split(","))
            assert list(tres)[:3] == ["billing", "cpu", "gres/gpu"] and list(tres)[-1] == "node"
            typed = {k: v for k, v in tres.items() if k.startswith("gres/gpu:")}
            assert typed == {"gres/gpu:h100": tres["gres/gpu"]}  # typed gres repeats the count
            gpus = int(tres["gres/gpu"])
            assert gpus in (1, 2, 4, 8)
            assert gpus == jobs[(cluster, int(row["JobID"]))].gpu_count
            assert row["NodeList"] == jobs[(cluster, int(row["JobID"]))].hostname
            checked += 1
    assert checked > 50


def test_running_job_shows_unknown_end_until_its_last_day(estate) -> None:
    out, spec, _ = estate
    files = sorted((out / "telemetry/slurm/aws-train").glob("*.sacct.txt"))
    history: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for path in files:
        for row in read_sacct(path):
            if "." not in row["JobID"]:
                history.setdefault(row["JobID"], []).append((path.name[:10], row))
    spanning = {jid: rows for jid, rows in history.items() if len(rows) > 1}
    assert spanning, "some job runs past midnight"
    for rows in spanning.values():
        *earlier, (last_day, last) = rows
        for _day, row in earlier:
            assert row["State"] == "RUNNING" and row["End"] == "Unknown" and row["ExitCode"] == "0:0"
            assert row["Start"] == last["Start"]
        if last_day != files[-1].name[:10]:
            assert last["End"] != "Unknown" and last["State"] != "RUNNING"
    # A running job's steps run too.
    day, row = next(iter(spanning.values()))[0]
    steps = [r for r in read_sacct(files[0].parent / f"{day}.sacct.txt") if r["JobID"].startswith(row["JobID"] + ".")]
    assert {s["State"] for s in steps} == {"RUNNING"} and {s["End"] for s in steps} == {"Unknown"}


def test_default_fleet_workload_is_varied() -> None:
    jobs = simulate_jobs(EstateSpec())
    started = [j for j in jobs if j.start is not None]
    assert {j.final_state for j in jobs} == {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
    assert {j.gpu_count for j in started} == {1, 2, 4, 8}
    assert any(j.start is None for j in jobs)  # cancelled while pending
    teams = Counter(j.team for j in started)
    assert teams.most_common(2)[0][0] in ("ml-research", "ml-platform")
    assert set(teams) <= set(TEAMS)
    # Mostly efficient jobs, some clearly not.
    assert sum(j.activity < 0.3 for j in started) / len(started) > 0.05
    assert sum(j.activity > 0.5 for j in started) / len(started) > 0.6
    # No two jobs hold the same GPU at once.
    for host in EstateSpec().fleet:
        for gpu in range(host.gpu_count):
            spans = sorted((j.start, j.end) for j in started if j.hostname == host.hostname and gpu in j.gpu_indices)
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
