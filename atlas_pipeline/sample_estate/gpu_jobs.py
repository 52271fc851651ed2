"""The Slurm workload behind the sample estate's GPU telemetry: which job held which GPU, when.

One simulated schedule feeds both telemetry exports, so they agree: `slurm_sacct.py` prints the
jobs as `sacct` would, `dcgm.py` labels the samples of a held GPU with its job id (`hpc_job`).

Each host is scheduled on its own, first come first served: a job takes 1, 2, 4 or 8 GPUs of
one host once enough are free, after a random idle gap, so the fleet has idle GPU-hours too.
Times are integer UTC epoch seconds.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from atlas_pipeline.sample_estate.spec import TEAMS, EstateSpec, GpuHost

# Who uses GPUs. Training clusters are mostly ml-research; inference clusters mostly ml-platform.
_TRAINING_TEAM_WEIGHTS = {"ml-research": 0.58, "ml-platform": 0.2, "search": 0.12, "data-eng": 0.08, "web": 0.02}
_INFERENCE_TEAM_WEIGHTS = {"ml-platform": 0.62, "search": 0.18, "ml-research": 0.12, "data-eng": 0.05, "web": 0.03}
_TRAINING_SIZE_WEIGHTS = {1: 0.3, 2: 0.2, 4: 0.22, 8: 0.28}
_INFERENCE_SIZE_WEIGHTS = {1: 0.4, 2: 0.3, 4: 0.2, 8: 0.1}
# Median run time (hours) by GPUs held; run times are log-normal around it.
_MEDIAN_HOURS = {1: 1.5, 2: 3.0, 4: 6.0, 8: 10.0}

_USERS = {
    "ml-research": ("achen", "bkumar", "cdiaz", "dnovak"),
    "ml-platform": ("eokafor", "fmeyer", "gsato"),
    "data-eng": ("hlarsen", "iruiz"),
    "search": ("jpark", "kwolff"),
    "web": ("lmoreau",),
}
_JOB_NAMES = {
    "ml-research": ("llm-pretrain-7b", "llm-pretrain-13b", "sft-llama", "rlhf-ppo", "eval-harness"),
    "ml-platform": ("vllm-serve", "distill-student", "embed-refresh", "triton-bench"),
    "data-eng": ("feature-backfill", "rapids-etl"),
    "search": ("ranker-train", "ann-index-build"),
    "web": ("image-resize-gpu",),
}
_INTERACTIVE_NAMES = ("jupyter", "bash")

GPU_PARTITION = "gpu"
INTERACTIVE_PARTITION = "interactive"
TIME_LIMIT_SECONDS = {GPU_PARTITION: 48 * 3600, INTERACTIVE_PARTITION: 8 * 3600}

# CPUs and memory Slurm hands out per GPU, by instance type (the node's share per GPU).
_CPUS_PER_GPU = {"p5.48xlarge": 24, "a3-highgpu-8g": 26, "Standard_ND96isr_H100_v5": 12}
_MEM_GB_PER_GPU = {"p5.48xlarge": 240, "a3-highgpu-8g": 224, "Standard_ND96isr_H100_v5": 224}


@dataclass(frozen=True)
class SlurmJob:
    """One Slurm job and its final outcome (`end` may lie past the estate: still running then)."""

    cluster: str
    job_id: int
    name: str
    user: str
    uid: int
    team: str  # the Slurm account
    partition: str
    hostname: str
    gpu_indices: tuple[int, ...]  # GPUs of `hostname` it holds (empty if it never started)
    gpu_type: str  # typed gres name, e.g. "h100"
    cpus: int
    mem_gb: int
    submit: int
    start: int | None  # None: cancelled while pending, never ran
    end: int
    final_state: str  # COMPLETED | FAILED | CANCELLED | TIMEOUT
    exit_code: str  # as sacct prints it, "<exit status>:<signal>"
    cancelled_by: int | None  # uid in "CANCELLED by <uid>"
    activity: float  # mean DCGM_FI_PROF_GR_ENGINE_ACTIVE while it runs (0..1)
    memory_fraction: float  # share of framebuffer it uses
    srun_step: str | None  # name of its `.0` step, if it launched one

    @property
    def gpu_count(self) -> int:
        return len(self.gpu_indices)


def estate_window(spec: EstateSpec) -> tuple[int, int]:
    """[start, end) of the estate in epoch seconds (UTC midnights)."""
    start = datetime(spec.start_month.year, spec.start_month.month, spec.start_month.day, tzinfo=UTC)
    end = datetime(spec.end_exclusive.year, spec.end_exclusive.month, spec.end_exclusive.day, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def stable_int(*parts: object) -> int:
    """A 32-bit integer from the parts, the same on every run and platform."""
    return zlib.crc32(":".join(str(p) for p in parts).encode())


def gpu_uuid(seed: int, hostname: str, gpu_index: int) -> str:
    """A stable `GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` UUID for one GPU of the estate."""
    digest = hashlib.sha256(f"atlas-gpu:{seed}:{hostname}:{gpu_index}".encode()).hexdigest()
    return f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def gres_type(gpu_model: str) -> str:
    """Slurm's typed gres name for a GPU model (`NVIDIA H100 80GB HBM3` -> `h100`)."""
    match = re.search(r"\b(GB\d+|[ABHLTV]\d+[A-Z]?)\b", gpu_model.upper())
    return match.group(1).lower() if match else "gpu"


def is_inference_cluster(cluster: str) -> bool:
    return "infer" in cluster


def _weights(table: dict, keys: list) -> np.ndarray:
    raw = np.array([table.get(k, 0.01) for k in keys], dtype=float)
    return raw / raw.sum()


def _host_jobs(spec: EstateSpec, host: GpuHost, t0: int, t_end: int) -> list[dict]:
    """Schedule one host's GPUs from t0 until no job can start before t_end (no job ids yet)."""
    rng = np.random.default_rng([spec.seed, stable_int("slurm", host.hostname)])
    inference = is_inference_cluster(host.cluster)
    team_names = [t for t in TEAMS if t in _USERS] or list(TEAMS)
    team_p = _weights(_INFERENCE_TEAM_WEIGHTS if inference else _TRAINING_TEAM_WEIGHTS, team_names)
    sizes = [s for s in (1, 2, 4, 8) if s <= host.gpu_count] or [host.gpu_count]
    size_p = _weights(_INFERENCE_SIZE_WEIGHTS if inference else _TRAINING_SIZE_WEIGHTS, sizes)
    cpus_per_gpu = _CPUS_PER_GPU.get(host.instance_type, 16)
    mem_per_gpu = _MEM_GB_PER_GPU.get(host.instance_type, 128)

    free_at = np.full(host.gpu_count, t0, dtype=np.int64)
    last_start = t0
    jobs: list[dict] = []
    while True:
        size = int(rng.choice(sizes, p=size_p))
        team = team_names[int(rng.choice(len(team_names), p=team_p))]
        users = _USERS.get(team, ("svc-" + team,))
        user = users[int(rng.integers(len(users)))]
        uid = 10_001 + stable_int(user) % 5000
        interactive = size == 1 and rng.random() < 0.3
        # Idle gap before the job: often none (a queue is waiting), sometimes hours.
        gap = 0 if rng.random() < 0.35 else int(rng.exponential(2.5 * 3600))
        order = np.argsort(free_at, kind="stable")
        chosen = np.sort(order[:size])
        start = int(max(free_at[chosen].max(), last_start)) + gap
        start += int(rng.integers(0, 60))  # slurmctld starts jobs a few seconds apart
        if start >= t_end:
            break
        submit = start - int(rng.exponential(15 * 60))

        partition = INTERACTIVE_PARTITION if interactive else GPU_PARTITION
        limit = TIME_LIMIT_SECONDS[partition]
        median = 2.0 if interactive else _MEDIAN_HOURS.get(size, 6.0)
        wanted = int(median * 3600 * rng.lognormal(0.0, 0.8)) + 120
        outcome = rng.random()
        cancelled_by = None
        exit_code = "0:0"
        if wanted > limit:
            state, duration = "TIMEOUT", limit + int(rng.integers(1, 90))
        elif outcome < (0.3 if interactive else 0.07):
            state, duration = "CANCELLED", max(60, int(wanted * rng.uniform(0.1, 0.9)))
            cancelled_by = 0 if rng.random() < 0.1 else uid  # root (an admin) or the owner
            exit_code = "0:15"
        elif not interactive and outcome < 0.15:
            state, duration = "FAILED", max(30, int(wanted * rng.uniform(0.01, 0.5)))
            exit_code = f"{int(rng.choice([1, 1, 1, 2, 137]))}:0"
        else:
            state, duration = "COMPLETED", wanted

        if interactive:
            activity = float(rng.uniform(0.02, 0.15))
        elif rng.random() < 0.14:  # an inefficient job: data-loader bound, waiting on I/O, ...
            activity = float(rng.uniform(0.05, 0.3))
        else:
            activity = float(rng.uniform(0.55, 0.95))

        names = _INTERACTIVE_NAMES if interactive else _JOB_NAMES.get(team, (f"{team}-job",))
        job = {
            "cluster": host.cluster,
            "name": names[int(rng.integers(len(names)))],
            "user": user,
            "uid": uid,
            "team": team,
            "partition": partition,
            "hostname": host.hostname,
            "gpu_indices": tuple(int(i) for i in chosen),
            "gpu_type": gres_type(host.gpu_model),
            "cpus": size * cpus_per_gpu,
            "mem_gb": size * mem_per_gpu,
            "submit": submit,
            "start": start,
            "end": start + duration,
            "final_state": state,
            "exit_code": exit_code,
            "cancelled_by": cancelled_by,
            "activity": activity,
            "memory_fraction": float(rng.uniform(0.05, 0.2) if interactive else rng.uniform(0.35, 0.95)),
            "srun_step": None if interactive or rng.random() < 0.4 else str(rng.choice(["python", "torchrun"])),
        }
        jobs.append(job)
        free_at[chosen] = start + duration
        last_start = start

        # Now and then someone gives up on a queued job before it starts: it never holds a GPU.
        if rng.random() < 0.02:
            pending_submit = start + int(rng.integers(60, 3 * 3600))
            if pending_submit < t_end:
                jobs.append(
                    {
                        **job,
                        "gpu_indices": (),
                        "submit": pending_submit,
                        "start": None,
                        "end": pending_submit + int(rng.integers(30, 1800)),
                        "final_state": "CANCELLED",
                        "exit_code": "0:0",
                        "cancelled_by": job["uid"],
                        "srun_step": None,
                    }
                )
    return jobs


def simulate_jobs(spec: EstateSpec) -> list[SlurmJob]:
    """Every Slurm job of the estate, job ids given per cluster in submit order."""
    t0, t_end = estate_window(spec)
    by_cluster: dict[str, list[dict]] = {}
    for host in spec.gpu_hosts:
        by_cluster.setdefault(host.cluster, []).extend(_host_jobs(spec, host, t0, t_end))
    jobs: list[SlurmJob] = []
    for cluster in sorted(by_cluster):
        # Each cluster has its own slurmdbd, so job ids of different clusters can coincide.
        next_id = 1000 + stable_int(spec.seed, "jobid", cluster) % 4000
        for raw in sorted(by_cluster[cluster], key=lambda j: (j["submit"], j["hostname"])):
            jobs.append(SlurmJob(job_id=next_id, **raw))
            next_id += 1 + (1 if stable_int(cluster, next_id) % 7 == 0 else 0)  # ids of others' jobs
    return jobs
