"""The thin root: load every definition under `defs/` and apply cross-cutting policy once."""

import os
from pathlib import Path

import dagster as dg


def run_executor() -> dg.ExecutorDefinition:
    """How a launched run executes its steps (UI, schedules, sensors; `atlas run` always runs in process).

    `ATLAS_EXECUTOR=in_process` (default): every step in the run's own process, one at a time.
    `ATLAS_EXECUTOR=multiprocess` (deploy/: compose and Kubernetes): each step in its own child process,
    so a step that crashes (out of memory in DuckDB, a segfault) fails that step, not the run worker;
    at most `ATLAS_MAX_CONCURRENT_STEPS` at once, default 1 — DuckDB allows one writer per file, and
    the warehouse run lock refuses a second writer. Each child re-imports the code location (seconds
    per step: see README, "Running in production")."""
    choice = os.environ.get("ATLAS_EXECUTOR", "in_process").strip() or "in_process"
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "multiprocess":
        steps = int(os.environ.get("ATLAS_MAX_CONCURRENT_STEPS", "1"))
        return dg.multiprocess_executor.configured({"max_concurrent": steps}, name="multiprocess")
    raise ValueError(f"ATLAS_EXECUTOR={choice!r}: expected 'in_process' or 'multiprocess'")


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent / "defs")
    # DuckDB allows one writer per file: steps of a run go one at a time (see run_executor).
    return dg.Definitions.merge(loaded, dg.Definitions(executor=run_executor()))
