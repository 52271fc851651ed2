"""What `atlas run` shows while it works: one line per stage with its counts and elapsed time, a live
progress bar on long steps (rich), and never more than ~10 s of silence.

Code that does long work reports through `current()` — a no-op unless a terminal reporter is
installed (`atlas run` installs one; runs launched from the Dagster UI report nothing here, their
events are in the UI). Inside Dagster runs, `progress_logger` turns the run's events (step started,
asset materialized, check evaluated) into the same reports."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Protocol

# How long a step may run without a line in a non-interactive log (CI, a pipe) before a heartbeat.
HEARTBEAT_SECONDS = 10.0


class Task(Protocol):
    def advance(self, label: str = "") -> None: ...
    def close(self) -> None: ...


class Reporter(Protocol):
    def task(self, label: str, total: int | None = None) -> Task: ...
    def activity(self, text: str) -> None: ...
    def counted(self, kind: str) -> None: ...


class _NullTask:
    def advance(self, label: str = "") -> None:
        pass

    def close(self) -> None:
        pass


class _NullReporter:
    def task(self, label: str, total: int | None = None) -> Task:
        return _NullTask()

    def activity(self, text: str) -> None:
        pass

    def counted(self, kind: str) -> None:
        pass


_current: Reporter = _NullReporter()


def current() -> Reporter:
    """The installed reporter (a no-op one when nothing listens)."""
    return _current


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install `reporter` for the duration of the block."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = previous


# -- Dagster events -> reports ------------------------------------------------------------------


class _DagsterEventHandler(logging.Handler):
    """Each Dagster event of a run, as activity and counts for the installed reporter."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        reporter = current()
        kind = event.event_type_value
        if kind == "STEP_START":
            reporter.activity(_step_label(event.step_key or ""))
        elif kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "STEP_SUCCESS", "STEP_FAILURE"):
            if kind == "ASSET_CHECK_EVALUATION":
                passed = getattr(event.event_specific_data, "passed", True)
                reporter.counted("checks passed" if passed else "checks not passed")
            else:
                reporter.counted(kind.lower())


def _step_label(step_key: str) -> str:
    """A step key as people read it: `raw__aws_cur2` -> `raw/aws_cur2`, a GX check step -> its check."""
    if "_gx_" in step_key:
        return "check " + "gx_" + step_key.split("_gx_", 1)[1]
    if step_key.startswith("freshness_check"):
        return "freshness checks"
    return step_key.replace("__", "/")


def _progress_logger_fn(_init_context) -> logging.Logger:
    logger = logging.getLogger("atlas.progress")
    logger.handlers = [_DagsterEventHandler()]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def progress_logger():
    """A Dagster logger definition feeding the installed reporter (attach with job.with_logger_defs)."""
    import dagster as dg

    return dg.LoggerDefinition(_progress_logger_fn, description="Run events to `atlas run`'s progress display.")


# -- the terminal reporter ----------------------------------------------------------------------


@dataclass
class Stage:
    """One stage of `atlas run`: its name, then what it did (set by the caller before it ends)."""

    name: str
    summary: str = ""
    ok: bool = True
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class TerminalProgress:
    """Renders stages on a rich console: in a terminal a live spinner / bar under the finished stage
    lines; elsewhere plain lines plus a heartbeat when a step has been silent for HEARTBEAT_SECONDS.
    Each finished stage line is also handed to `record` (the run's log file)."""

    def __init__(self, stream: IO[str], record=None, heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 error_stream: IO[str] | None = None) -> None:
        from rich.console import Console

        # Lines are never wrapped (a log or a pipe keeps each stage on one line).
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self._errors = Console(file=error_stream, highlight=False, soft_wrap=True) if error_stream else self.console
        self._record = record or (lambda line: None)
        self._heartbeat = heartbeat_seconds
        self._lock = threading.RLock()
        self._stage: Stage | None = None
        self._activity = ""
        self._last_output = time.monotonic()
        self._live = None
        self._progress = None
        self._stage_task = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lines ----------------------------------------------------------------------------------

    def line(self, text: str, style: str | None = None) -> None:
        """A line above the live display (and in the log file)."""
        with self._lock:
            self.console.print(text, style=style, markup=False)
            self._record(text)
            self._last_output = time.monotonic()

    def error(self, text: str) -> None:
        """A line on the error stream (and in the log file): what the user must fix or read."""
        with self._lock:
            self._errors.print(text, style="red", markup=False)
            self._record(text)
            self._last_output = time.monotonic()

    # -- stages ---------------------------------------------------------------------------------

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        """A stage: live while it runs, one line when it ends (✓ / ✗ / – skipped)."""
        stage = Stage(name)
        with self._lock:
            self._stage, self._activity = stage, ""
            self._start_live(name)
        try:
            yield stage
        except BaseException:
            stage.ok = False
            raise
        finally:
            self._stop_heartbeat()  # not under the lock: a beat waiting for it would stall the join
            with self._lock:
                self._stop_live()
                self._stage = None
            mark = "–" if stage.skipped else ("✓" if stage.ok else "✗")
            style = "dim" if stage.skipped else (None if stage.ok else "bold red")
            self.line(f"{mark} {name:<12} {stage.summary}".rstrip() + f"  ({stage.elapsed:.1f} s)", style)

    def _start_live(self, name: str) -> None:
        if not self.console.is_terminal:
            self._start_heartbeat()
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
            TimeElapsedColumn(), console=self.console, transient=True, refresh_per_second=4,
        )
        self._stage_task = self._progress.add_task(name, total=None)
        self._progress.start()

    def _stop_live(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _start_heartbeat(self) -> None:
        self._stop = threading.Event()
        self._last_output = time.monotonic()

        def beat() -> None:
            while not self._stop.wait(1.0):
                with self._lock:
                    stage = self._stage
                    if stage and time.monotonic() - self._last_output >= self._heartbeat:
                        doing = f": {self._activity}" if self._activity else ""
                        self.line(f"  … {stage.name}{doing} ({stage.elapsed:.0f} s)")

        self._thread = threading.Thread(target=beat, name="atlas-heartbeat", daemon=True)
        self._thread.start()

    # -- Reporter -------------------------------------------------------------------------------

    def activity(self, text: str) -> None:
        with self._lock:
            self._activity = text
            if self._progress is not None and self._stage is not None and self._stage_task is not None:
                self._progress.update(self._stage_task, description=f"{self._stage.name}: {text}")

    def counted(self, kind: str) -> None:
        with self._lock:
            if self._stage is not None:
                self._stage.counts[kind] = self._stage.counts.get(kind, 0) + 1
            if self._progress is not None and self._stage_task is not None and kind == "step_success":
                self._progress.advance(self._stage_task)

    def task(self, label: str, total: int | None = None) -> Task:
        return _TerminalTask(self, label, total)


class _TerminalTask:
    """A bar for a long step (dbt nodes): live in a terminal; a heartbeat names it elsewhere."""

    def __init__(self, owner: TerminalProgress, label: str, total: int | None) -> None:
        self._owner, self._label, self._total, self._done = owner, label, total, 0
        self._id = None
        with owner._lock:
            if owner._progress is not None:
                self._id = owner._progress.add_task(label, total=total)
        owner.activity(label)

    def advance(self, label: str = "") -> None:
        self._done += 1
        owner = self._owner
        with owner._lock:
            text = f"{self._label} {self._done}" + (f"/{self._total}" if self._total else "")
            text += f" {label}" if label else ""
            owner._activity = text
            if owner._progress is not None and self._id is not None:
                owner._progress.update(self._id, advance=1, description=f"{self._label}: {label}" if label else self._label)

    def close(self) -> None:
        owner = self._owner
        with owner._lock:
            if owner._progress is not None and self._id is not None:
                owner._progress.remove_task(self._id)
                self._id = None
