"""The MySQL reader's asyncio driver seen from a task's thread: no event loop or thread outlives a
reader, and a slow consumer does not make the driver buffer the table."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from dataclasses import replace

import pytest

from tests.integration.test_mysql_sync import FILL_ORDERS, ORDERS, database, run
from warehouse_sources.sources.mysql import MySQLParams, MySQLReader

pytestmark = pytest.mark.integration


def open_loops() -> list[asyncio.AbstractEventLoop]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()]


def by_host_name(uri: str) -> MySQLParams:
    """The same server by name: the lookup runs in the loop's executor, a thread to shut down."""
    params = MySQLParams.from_uri(uri)
    return replace(params, host="localhost") if params.host == "127.0.0.1" else params


@pytest.mark.parametrize("finish", ["read to the end", "read left unfinished", "snapshot ended mid-read"])
def test_a_reader_leaves_no_event_loop_or_thread_behind(mysql_db: str, finish: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    threads, loops = set(threading.enumerate()), open_loops()
    p = by_host_name(mysql_db)
    with MySQLReader(host=p.host, port=p.port, user=p.user, password=p.password, database=p.database,
                     batch_rows=100) as reader:  # fmt: skip
        desc = reader.describe(database(mysql_db), "orders")
        assert desc is not None
        reader.begin_snapshot()
        stream = reader.read(desc)
        if finish == "read to the end":
            assert stream.read_all().num_rows == 500
        else:
            assert stream.read_next_batch().num_rows == 100
        if finish == "snapshot ended mid-read":
            reader.end_snapshot()  # closes the connection (and its loop) and opens another
            assert reader.rows("SELECT count(*) FROM orders") == [(500,)]
        assert len(open_loops()) == len(loops) + 1  # the reader's own, one at a time
    assert open_loops() == loops
    assert set(threading.enumerate()) == threads


def test_a_failed_connect_leaves_no_event_loop_behind(mysql_db: str) -> None:
    loops = open_loops()
    p = MySQLParams.from_uri(mysql_db)
    with pytest.raises(Exception, match="Access denied"):
        MySQLReader(host=p.host, port=p.port, user="nobody_h8", password="wrong", database=p.database).__enter__()
    assert open_loops() == loops


def test_a_slow_consumer_does_not_make_the_driver_buffer_the_table(mysql_db: str) -> None:
    """The socket is read only while a fetch waits: left reading, every fetch's last loop turn
    read the socket into asyncmy's buffer unparsed, and it doubled while each batch was being
    cast (128 MB for a 1M-row table; an 800 MB process)."""
    run(
        mysql_db,
        "CREATE TABLE wide (id INT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB",
        "INSERT INTO wide WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 40000) "
        "SELECT n, REPEAT('x', 1000) FROM g",
    )
    with MySQLReader(mysql_db, batch_rows=500) as reader:
        desc = reader.describe(database(mysql_db), "wide")
        assert desc is not None
        largest, rows = 0, 0
        for batch in reader.read(desc):
            rows += batch.num_rows
            time.sleep(0.002)  # the warehouse writing: the server keeps sending meanwhile
            largest = max(largest, len(reader._connection._conn._proto.buffer))
    assert rows == 40_000
    assert largest <= 4 * 2**20, f"the driver's read buffer grew to {largest / 2**20:.0f} MB"
