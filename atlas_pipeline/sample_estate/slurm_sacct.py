"""Slurm job accounting as `sacct -P` prints it: one file per cluster per UTC day.

Each file is the output of

    sacct -P -a -S <day>T00:00:00 -E <day+1>T00:00:00 \
        --format=JobID,JobName,User,Account,Partition,AllocTRES,Submit,Start,End,Elapsed,State,ExitCode,NodeList

run at the end of the day: every job that overlaps the day, each followed by its `.batch`,
`.extern` and (if it used srun) `.0` step rows. A job still running when the day ends shows
State RUNNING, End `Unknown` and the Elapsed time so far, so a job spanning days appears in every
day's file and only the latest file has its final state. Times are the cluster's local time,
which is UTC on these clusters.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, timedelta

from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob

SACCT_FIELDS = (
    "JobID",
    "JobName",
    "User",
    "Account",
    "Partition",
    "AllocTRES",
    "Submit",
    "Start",
    "End",
    "Elapsed",
    "State",
    "ExitCode",
    "NodeList",
)
SACCT_COMMAND = (
    "sacct -P -a -S {day}T00:00:00 -E {next_day}T00:00:00 --format=" + ",".join(SACCT_FIELDS)
)


def sacct_time(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds))


def sacct_elapsed(seconds: int) -> str:
    """Slurm's `[days-]hours:minutes:seconds`."""
    days, rest = divmod(max(0, seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def _memory(gb: int) -> str:
    return f"{gb // 1024}T" if gb % 1024 == 0 else f"{gb}G"


def alloc_tres(job: SlurmJob, billing: bool = True) -> str:
    """AllocTRES as sacct prints it; typed gres repeats the GPU count (`gres/gpu:h100=4`)."""
    parts = [f"billing={job.cpus}"] if billing else []
    parts += [
        f"cpu={job.cpus}",
        f"gres/gpu={job.gpu_count}",
        f"gres/gpu:{job.gpu_type}={job.gpu_count}",
        f"mem={_memory(job.mem_gb)}",
        "node=1",
    ]
    return ",".join(parts)


def _job_state(job: SlurmJob) -> str:
    if job.final_state == "CANCELLED" and job.cancelled_by is not None:
        return f"CANCELLED by {job.cancelled_by}"
    return job.final_state


def _step_state(job: SlurmJob) -> tuple[str, str]:
    """(State, ExitCode) of the batch script and srun steps once the job has ended."""
    if job.final_state == "COMPLETED":
        return "COMPLETED", "0:0"
    if job.final_state == "FAILED":
        return "FAILED", job.exit_code
    return "CANCELLED", "0:15"  # CANCELLED, and TIMEOUT (Slurm signals the steps when time is up)


def job_rows(job: SlurmJob, as_of: int) -> list[tuple[str, ...]]:
    """The job's rows in a `sacct` run at `as_of` (epoch seconds)."""
    jid = str(job.job_id)
    if job.start is None:  # cancelled while pending: no allocation, no steps
        if job.end <= as_of:
            state, end = _job_state(job), sacct_time(job.end)
        else:
            state, end = "PENDING", "Unknown"
        return [
            (jid, job.name, job.user, job.team, job.partition, "", sacct_time(job.submit),
             "None" if state != "PENDING" else "Unknown", end, "00:00:00", state, "0:0", "None assigned")
        ]

    running = job.end > as_of
    end_text = "Unknown" if running else sacct_time(job.end)
    until = min(job.end, as_of)
    start = sacct_time(job.start)
    rows = [
        (jid, job.name, job.user, job.team, job.partition, alloc_tres(job), sacct_time(job.submit), start,
         end_text, sacct_elapsed(until - job.start), "RUNNING" if running else _job_state(job),
         "0:0" if running else job.exit_code, job.hostname)
    ]
    step_state, step_exit = ("RUNNING", "0:0") if running else _step_state(job)
    rows.append(
        (f"{jid}.batch", "batch", "", job.team, "", alloc_tres(job, billing=False), start, start, end_text,
         sacct_elapsed(until - job.start), step_state, step_exit, job.hostname)
    )
    rows.append(
        (f"{jid}.extern", "extern", "", job.team, "", alloc_tres(job), start, start, end_text,
         sacct_elapsed(until - job.start), "RUNNING" if running else "COMPLETED", "0:0", job.hostname)
    )
    if job.srun_step:
        step_start = job.start + 5 + job.job_id % 30
        if step_start < min(job.end, as_of):
            rows.append(
                (f"{jid}.0", job.srun_step, "", job.team, "", alloc_tres(job, billing=False),
                 sacct_time(step_start), sacct_time(step_start), end_text, sacct_elapsed(until - step_start),
                 step_state, step_exit, job.hostname)
            )
    return rows


def overlaps(job: SlurmJob, day_start: int, day_end: int) -> bool:
    """Whether `sacct -S day_start -E day_end` lists the job."""
    if job.start is None:
        return job.submit < day_end and job.end >= day_start
    return job.start < day_end and job.end > day_start


def render_day(jobs: Iterable[SlurmJob], day_start: int) -> str:
    """The text of one day's sacct file: header, then each overlapping job and its steps."""
    day_end = day_start + 86_400
    lines = ["|".join(SACCT_FIELDS)]
    for job in sorted((j for j in jobs if overlaps(j, day_start, day_end)), key=lambda j: j.job_id):
        lines.extend("|".join(row) for row in job_rows(job, as_of=day_end))
    return "\n".join(lines) + "\n"


def day_file_name(day: date) -> str:
    return f"{day.isoformat()}.sacct.txt"


def days(first: date, end_exclusive: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((end_exclusive - first).days)]
