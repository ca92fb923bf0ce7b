"""asyncmy, a MySQL/MariaDB driver that parses rows in C, driven from the calling thread.

PyMySQL parses every row in Python, which was 85% of a read; asyncmy (a Cython port of it) reads
the same protocol about ten times faster. Its API is asyncio while a task runs on one plain
thread, so each `Connection` owns a private event loop, runs each call to completion on it, and
closes the loop (and the executor a host name lookup starts) when the connection closes: no
loop or thread outlives a reader. Values come as the server's text, as with PyMySQL before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from warehouse_sources.sources.mysql.params import MySQLParams

T = TypeVar("T")


def _text_only() -> dict[Any, Any]:
    """Encoders only: no per-value decoder, so every value stays the server's text (or bytes)."""
    from asyncmy.converters import conversions

    return {k: v for k, v in conversions.items() if not isinstance(k, int)}


def _ssl(params: MySQLParams) -> dict[str, Any] | None:
    """TLS as PyMySQL set it up from the same parameters: the CA verifies, the host name is not checked."""
    if not (params.ssl_ca or params.ssl_cert or params.ssl_key):
        return None
    given = {"ca": params.ssl_ca, "cert": params.ssl_cert, "key": params.ssl_key}
    return {"check_hostname": False, **{k: v for k, v in given.items() if v}}


class Connection:
    """One asyncmy connection (autocommit, utf8mb4, text values) and the event loop it lives on."""

    def __init__(self, params: MySQLParams) -> None:
        self._loop = asyncio.new_event_loop()
        self._conn: Any = None
        try:
            self._conn = self._run(self._open(params))
        except BaseException:
            self._close_loop()
            raise

    async def _open(self, p: MySQLParams) -> Any:
        import asyncmy

        return await asyncmy.connect(
            host=p.host, port=p.port, user=p.user, password=p.password, database=p.database,
            connect_timeout=p.connect_timeout, ssl=_ssl(p), charset="utf8mb4", autocommit=True, conv=_text_only(),
        )  # fmt: skip

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(self._reading(coro))

    async def _reading(self, coro: Coroutine[Any, Any, T]) -> T:
        """`coro` with the socket read only while it runs. Left reading, the loop's last turn in
        each call reads the socket into asyncmy's buffer without parsing it, and while Arrow
        casts a batch the server refills the socket: the buffer doubled call after call (128 MB,
        800 MB of RSS for 1M rows). Paused, the server waits on TCP instead."""
        transport = None if self._conn is None else self._conn._transport
        if transport is not None:
            transport.resume_reading()
        try:
            return await coro
        finally:
            transport = None if self._conn is None else self._conn._transport
            if transport is not None and not transport.is_closing():
                transport.pause_reading()

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows."""
        self._run(self._execute(sql))

    async def _execute(self, sql: str) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql)

    def fetch_all(self, sql: str) -> tuple[list[tuple[Any, ...]], list[int]]:
        """A small query's rows (as text) and its columns' field type codes."""
        return self._run(self._fetch_all(sql))

    async def _fetch_all(self, sql: str) -> tuple[list[tuple[Any, ...]], list[int]]:
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql)
            types = [d[1] for d in cursor.description or ()]
            return list(await cursor.fetchall()), types

    def stream(self, sql: str) -> Any:
        """An unbuffered cursor on `sql`: rows come off the socket as `fetchmany` asks for them."""
        from asyncmy.cursors import SSCursor

        cursor = self._conn.cursor(SSCursor)
        self._run(cursor.execute(sql))
        return cursor

    def fetchmany(self, cursor: Any, size: int) -> list[tuple[Any, ...]]:
        return list(self._run(cursor.fetchmany(size)))

    def finish(self, cursor: Any) -> None:
        """Release a stream read to its end (reads the end-of-result packets)."""
        self._run(cursor.close())

    def close(self, *, quit_first: bool = True) -> None:
        """Say goodbye to the server (unless a stream is unfinished: its rows are not drained),
        drop the socket and close the loop. Never raises: the socket is gone either way."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if quit_first:
                    self._run(conn.ensure_closed())
            except Exception:  # already gone; nothing left to release
                pass
            finally:
                conn.close()
        self._close_loop()

    def _close_loop(self) -> None:
        loop = self._loop
        if loop.is_closed():
            return
        try:
            loop.run_until_complete(asyncio.sleep(0))  # the transport's close callbacks run
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())  # its name-lookup thread, if any
        finally:
            loop.close()
