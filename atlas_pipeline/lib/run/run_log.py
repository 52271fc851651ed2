"""The log file of one `atlas run`, under `$ATLAS_HOME/logs/`: everything the run printed (Dagster's
console log, dbt's output, warnings) and, after each job, that job's full Dagster event log — every
level, with the stack of each failure — so the terminal can stay short and nothing is lost."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Tee:
    """A text stream writing to the log file (without colour codes) and, when echoing, to the
    terminal's stream too."""

    def __init__(self, stream: IO[str], log: IO[str], echo: bool = True) -> None:
        self._stream = stream
        self._log = log
        self._echo = echo

    def write(self, text: str) -> int:
        self._log.write(_ANSI.sub("", text))
        return self._stream.write(text) if self._echo else len(text)

    def flush(self) -> None:
        self._log.flush()
        if self._echo:
            self._stream.flush()

    def isatty(self) -> bool:
        return self._echo and self._stream.isatty()

    def __getattr__(self, name: str):  # encoding, fileno …: the terminal's
        return getattr(self._stream, name)


class RunLog:
    """`with RunLog(paths.logs) as log:` copies stdout and stderr to `log.path` until the block ends;
    `log.append_event_log(instance, run_id, job)` adds a finished job's event log.

    With `echo=False` what the run prints (Dagster's console log, dbt's per-node lines, warnings)
    goes to the log file only, and the terminal shows what is written to `log.terminal` (the
    progress display)."""

    def __init__(self, folder: Path, echo: bool = True) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.path = Path(folder) / f"atlas-run-{stamp}-{os.getpid()}.log"
        self.echo = echo
        self.terminal: IO[str] = sys.stdout
        self.terminal_err: IO[str] = sys.stderr
        self._file: IO[str] | None = None
        self._saved: tuple[IO[str], IO[str]] | None = None

    def __enter__(self) -> RunLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # closed in __exit__
        self._saved = (sys.stdout, sys.stderr)
        self.terminal, self.terminal_err = sys.stdout, sys.stderr
        sys.stdout = _Tee(sys.stdout, self._file, self.echo)  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, self._file, self.echo)  # type: ignore[assignment]
        return self

    def write_line(self, line: str) -> None:
        """A line in the log file only (e.g. the progress display's stage lines)."""
        if self._file is not None:
            self._file.write(_ANSI.sub("", line) + "\n")
            self._file.flush()

    def __exit__(self, *exc_info: object) -> None:
        if self._saved:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = self._saved
            self._saved = None
        if self._file:
            self._file.close()
            self._file = None

    def append_exception(self, title: str) -> None:
        """The traceback of the exception being handled, under a title."""
        import traceback

        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"\n===== {title} =====\n{traceback.format_exc()}")

    def append_event_log(self, instance: dg.DagsterInstance, run_id: str, job_name: str) -> None:
        """Every event of the run, oldest first: time (UTC), level, step, message; failures with
        their full error (stack and causes)."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"\n===== Dagster event log of {job_name}, run {run_id} =====\n")
            for line in event_log_lines(instance, run_id):
                handle.write(line + "\n")


def event_log_lines(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run's event log as text lines (see RunLog.append_event_log)."""
    import logging

    lines = []
    for entry in instance.all_logs(run_id):
        stamp = datetime.fromtimestamp(entry.timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        level = logging.getLevelName(entry.level)
        event = entry.dagster_event
        kind = f" {event.event_type_value}" if event else ""
        lines.append(f"{stamp} {level:<7} {entry.step_key or '-'}{kind}: {entry.message}")
        error = getattr(event.event_specific_data, "error", None) if event else None
        if error is not None:
            lines.extend("    " + line for line in error.to_string().rstrip().splitlines())
    return lines
