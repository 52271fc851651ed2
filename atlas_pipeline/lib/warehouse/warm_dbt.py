"""dbt already imported: each `dbt` call forked from a process that has loaded it.

Every dbt call is a new interpreter that spends ≈ 1.2 s importing dbt-core and the DuckDB adapter
before it reads a file (measured: a one-view build takes 2.3 s as a subprocess, 1.1 s forked) — and
an `atlas run` makes five calls, the test suite hundreds. A warm server imports them once and
forks a child per call; `atlas-dbt` (the executable dagster-dbt and the tests run) hands the child
its arguments, environment, working directory and its own stdin/stdout/stderr, so the child is
the `dbt` process in all but its start: dagster-dbt reads its JSON log lines from the same pipe and
gets its exit status back. Nothing is shared between calls (each child is a fresh fork of a
process that never ran dbt).

With no server (`ATLAS_DBT_SERVER` unset, or nothing listening) `atlas-dbt` runs the real `dbt`
instead, so a call never depends on the server: the Dagster UI's runs, a server that died.

This module imports only the standard library at the top: `atlas-dbt` starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_ENV = "ATLAS_DBT_SERVER"
_MAX_MESSAGE = 1 << 20  # arguments and environment of one call, as JSON


_BESIDE_DBT = Path(sys.executable).parent / "dbt"  # dbt-core's script in this environment
_BESIDE_ATLAS_DBT = Path(sys.executable).parent / "atlas-dbt"


def real_dbt() -> str:
    """dbt-core's `dbt` installed beside this interpreter (else the one on PATH)."""
    return str(_BESIDE_DBT) if _BESIDE_DBT.exists() else (shutil.which("dbt") or "dbt")


def dbt_executable() -> str:
    """The `dbt` to run: `atlas-dbt` beside this interpreter (started warm when a server runs, else
    it execs dbt-core's), or dbt-core's own where Atlas is not installed as a package."""
    return str(_BESIDE_ATLAS_DBT) if _BESIDE_ATLAS_DBT.exists() else real_dbt()


def runs_this_dbt_core(executable: str) -> bool:
    """Whether `executable` runs the dbt-core installed in this environment (whose version its
    package metadata says), as `dbt` and `atlas-dbt` beside this interpreter do."""
    return executable in (str(_BESIDE_DBT), str(_BESIDE_ATLAS_DBT))


# -- the client: `atlas-dbt` ------------------------------------------------------------------------


def client() -> None:
    """`atlas-dbt <dbt arguments>`: run dbt in a child of the warm server, else exec the real dbt."""
    args = sys.argv[1:]
    conn = _connect(os.environ.get(SERVER_ENV, ""))
    if conn is None:
        os.execv(real_dbt(), [real_dbt(), *args])
    request = json.dumps({"args": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    try:
        socket.send_fds(conn, [request], [0, 1, 2])
    except OSError:  # e.g. a request larger than the socket takes: this call runs cold
        conn.close()
        os.execv(real_dbt(), [real_dbt(), *args])
    started = conn.recv(4096)
    if not started:
        sys.exit("atlas-dbt: the warm dbt server closed the connection before starting dbt")
    child = json.loads(started)["pid"]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    ended = conn.recv(4096)
    if not ended:
        sys.exit(f"atlas-dbt: the warm dbt server went away while dbt (process {child}) ran")
    code = json.loads(ended)["exit"]
    if code < 0:  # dbt died of a signal: so does this process, as the caller would see of a real dbt
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP take no handler
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def _connect(path: str) -> socket.socket | None:
    if not path:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


# -- the server -------------------------------------------------------------------------------------


def _preload() -> None:
    """What every dbt build imports: the CLI, the build task, the parser, the DuckDB adapter."""
    import dbt.adapters.duckdb  # noqa: F401
    import dbt.adapters.duckdb.impl  # noqa: F401
    import dbt.adapters.factory  # noqa: F401
    import dbt.cli.main  # noqa: F401
    import dbt.compilation  # noqa: F401
    import dbt.parser.manifest  # noqa: F401
    import dbt.task.build  # noqa: F401


def serve(path: str) -> None:
    """Listen on the Unix socket `path` until stdin closes (the owner exited or stopped us)."""
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    children: dict[int, socket.socket] = {}
    owner = sys.stdin.fileno()
    # One thread only: a fork copies just the calling thread, so no lock can be held by another.
    abandoned: set[int] = set()
    while True:
        calls = {conn: pid for pid, conn in children.items() if pid not in abandoned}
        ready, _, _ = select.select([listener, owner, *calls], [], [], 0.05)
        _reap(children)
        abandoned &= set(children)
        if owner in ready and not os.read(owner, 1):
            break
        for conn in ready:
            # A caller never writes after its request: readable means it went away (killed, even
            # with SIGKILL, which it cannot forward). Its dbt stops too, as the real one would have.
            if conn in calls and calls[conn] in children:
                abandoned.add(calls[conn])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(calls[conn], signal.SIGTERM)
        if listener in ready:
            conn, _ = listener.accept()
            try:
                pid = _start(conn, listener)
            except (OSError, ValueError) as exc:
                print(f"warm dbt: a request failed: {exc}", file=sys.stderr, flush=True)
                pid = None
            if pid is None:  # failed, or a probe that only connected (wait_until_listening)
                conn.close()
                continue
            children[pid] = conn
    for pid in children:  # the owner is gone: its calls are orphans
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    listener.close()


def _start(conn: socket.socket, listener: socket.socket) -> int | None:
    message, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 3)
    if not message and not fds:
        return None
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError("expected stdin, stdout and stderr")
    request = json.loads(message)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the dbt process
        listener.close()
        conn.close()
        os._exit(_run_child(request, fds))
    for fd in fds:
        os.close(fd)
    conn.send(json.dumps({"pid": pid}).encode())
    return pid


def _run_child(request: dict, fds: list[int]) -> int:
    code = 1
    try:
        os.setsid()  # its own session: a signal to the server's group is not one to dbt
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["ATLAS_DBT_WARM"] = str(os.getppid())  # which server started it (tests, debugging)
        sys.argv = ["dbt", *request["args"]]
        from dbt.cli.main import cli

        try:
            cli.main(args=request["args"], prog_name="dbt")
            code = 0
        except SystemExit as exc:  # click exits with dbt's status
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child must always end with a status, never return into the server
        import traceback

        traceback.print_exc()
        code = 2
    finally:
        import atexit

        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()  # what a normal exit runs (multiprocessing's finalizers, dbt's log flush)
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
    return code


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
            conn.close()


@dataclass(frozen=True)
class WarmServer:
    """A running warm dbt server: its socket and its process (each dbt call is a child of it)."""

    path: str
    pid: int


@contextlib.contextmanager
def warm_dbt_server(log: Path | None = None) -> Iterator[WarmServer]:
    """Start a warm dbt server for the duration of the block and point `atlas-dbt` at it
    (`ATLAS_DBT_SERVER` in this process's environment, inherited by its subprocesses). The server
    imports dbt in the background: calls made before it listens run the real dbt."""
    folder = tempfile.mkdtemp(prefix="atlas-dbt-")
    path = os.path.join(folder, "server.sock")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "atlas_pipeline.lib.warehouse.warm_dbt", path],
        stdin=subprocess.PIPE, stdout=out, stderr=out, start_new_session=True,
    )
    previous = os.environ.get(SERVER_ENV)
    os.environ[SERVER_ENV] = path
    try:
        yield WarmServer(path, server.pid)
    finally:
        if previous is None:
            os.environ.pop(SERVER_ENV, None)
        else:
            os.environ[SERVER_ENV] = previous
        server.stdin.close()  # the server's signal to stop
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if out is not subprocess.DEVNULL:
            out.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(folder)


def wait_until_listening(path: str, timeout: float = 30.0) -> bool:
    """True once the server at `path` accepts connections (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = _connect(path)
        if conn is not None:
            conn.close()
            return True
        time.sleep(0.05)
    return False


if __name__ == "__main__":
    serve(sys.argv[1])
