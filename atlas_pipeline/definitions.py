"""The thin root: load every definition under `defs/` and apply cross-cutting policy once."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent / "defs")
    # DuckDB allows one writer per file: every step of a run goes through one process,
    # one step at a time, so assets never fight over the warehouse lock.
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))
