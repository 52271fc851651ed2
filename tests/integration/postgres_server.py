"""A throwaway PostgreSQL server on 127.0.0.1 for tests: Debian's binaries (initdb, pg_ctl), a fresh
cluster in a temporary folder, password authentication over TCP, stopped and removed afterwards.

PostgreSQL refuses to run as root: under root the server runs as the `postgres` system user (or
`nobody`) through `runuser`, in a folder that user owns; under any other user it runs as that user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    log: Path

    def connect(self, database: str | None = None):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                dbname=database or self.database)


def postgres_bin_dir() -> Path | None:
    """Where initdb/pg_ctl live: $ATLAS_PG_BIN, else Debian's newest /usr/lib/postgresql/<v>/bin,
    else the folder of `initdb` on PATH. None when PostgreSQL is not installed."""
    candidates = [os.environ.get("ATLAS_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    on_path = shutil.which("initdb")
    candidates += [str(Path(on_path).parent)] if on_path else []
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _server_user() -> str | None:
    """Under root, the unprivileged user the server runs as: Debian's `postgres`, else `nobody`."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    return None


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None."""
    if postgres_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql, or set ATLAS_PG_BIN"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _server_user() is None):
        return "running as root without `runuser` or an unprivileged user: PostgreSQL refuses to run as root"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server(database: str = "dagster", password: str = "atlas-test-pg-password") -> Iterator[PostgresServer]:
    """Start a fresh cluster, create `database`, yield how to reach it; stop and delete on exit."""
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None, unavailable_reason()
    as_root = os.geteuid() == 0
    user = _server_user() if as_root else None
    prefix = ["runuser", "-u", user, "--"] if user else []
    # Not under pytest's tmp (/tmp/pytest-of-root is 0700 root): the server's user must reach it.
    base = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
    data, pwfile, log = base / "data", base / "pwfile", base / "server.log"
    pwfile.write_text(password + "\n")
    if as_root:
        entry = pwd.getpwnam(user)
        for path in (base, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    base.chmod(0o700)
    port = _free_port()

    def run(*argv: str) -> None:
        result = subprocess.run([*prefix, *argv], cwd=base, capture_output=True, text=True, timeout=120)
        if result.returncode:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}", "-E", "UTF8",
            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        # fsync off: a test cluster that is thrown away need not survive a power cut.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start")
        try:
            server = PostgresServer("127.0.0.1", port, "postgres", password, database, log)
            admin = server.connect("postgres")
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'create database "{database}"')
            admin.close()
            yield server
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
