"""Benchmark: our MySQL/MariaDB -> Delta syncs against the server's own client and dlt, side by side.

    .venv/bin/python bench/mysql_run.py [--rows 2000000] [--quick] [--keep] [--no-dlt]

See bench/README.md ("MySQL / MariaDB"). Each contender runs in its own process (bench/mysql_child.py,
through run.py's harness); the raw baseline is the `mariadb` (or `mysql`) command-line client itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mysql_datagen as datagen  # noqa: E402
import run  # noqa: E402
from run import Row, fmt, render_markdown, render_text, run_child, run_repeated, versions  # noqa: E402

run.CHILD = HERE / "mysql_child.py"  # run_child starts this script: child.py's harness with the MySQL contenders
DEFAULT_SERVER = os.environ.get("WS_BENCH_MYSQL", "mysql://root@127.0.0.1:3306")
UPDATES = INSERTS = 20_000
FULL_VS_RAW = 1.5
RSS_LIMIT_MB, RSS_FLAT = run.RSS_LIMIT_MB, run.RSS_FLAT
HEADER = ["contender", "rows", "seconds", "rows/s", "peak RSS MB", "vs raw", "CPU s"]  # CPU: the process's own


def raw_client(uri: str, table: str, rows: int, logs: Path) -> Row:
    """`mariadb --quick --batch -e 'SELECT * FROM t' > /dev/null`: the server's fastest plain export."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    label = f"raw {Path(client).name if client else 'mariadb'} --quick --batch > /dev/null (baseline)"
    if client is None:
        return Row("raw_client", label, ok=False, error="no mariadb or mysql client on PATH")
    parts = urlsplit(uri)
    cmd = [client, "--quick", "--batch", "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306),
           "-u", parts.username or "root", parts.path.lstrip("/"), "-e", f"SELECT * FROM {table}"]  # fmt: skip
    env = {**os.environ, "MYSQL_PWD": parts.password or ""}
    print(f"  running {label} ...", end="", flush=True)
    with open(logs / "raw_client.log", "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
    row = Row("raw_client", label, rows=rows, seconds=seconds, process_seconds=seconds,
              peak_rss_mb=usage.ru_maxrss / 1024, cpu_seconds=usage.ru_utime + usage.ru_stime)  # fmt: skip
    if os.waitstatus_to_exitcode(status) != 0:
        row.ok, row.error = False, (logs / "raw_client.log").read_text(errors="replace")[-300:]
    print(f" {seconds:.2f} s, peak RSS {row.peak_rss_mb:.0f} MB")
    return row


def raw_repeated(times: int, uri: str, table: str, rows: int, logs: Path) -> Row:
    runs = sorted((raw_client(uri, table, rows, logs) for _ in range(times)), key=lambda r: r.seconds or 0.0)
    median = runs[(len(runs) - 1) // 2]
    median.runs = [round(r.seconds or 0.0, 3) for r in runs]
    median.peak_rss_mb = max(r.peak_rss_mb or 0.0 for r in runs)
    return median


def targets(by_key: dict[str, Row], quick: bool) -> list[dict[str, str]]:
    """The issue's MySQL targets, each PASS, FAIL or SKIP with the figures behind it."""
    raw, full, full2 = (by_key.get(k) for k in ("raw_client", "ours_full", "ours_full_x2"))
    checks = []

    def add(name: str, verdict: bool | None, detail: str) -> None:
        checks.append({"target": name, "result": "SKIP" if verdict is None else ("PASS" if verdict else "FAIL"),
                       "detail": detail})  # fmt: skip

    name = f"full-table sync within {FULL_VS_RAW:g}x the raw client"
    if raw and raw.ok and full and full.ok and raw.seconds and full.seconds:
        ratio = full.seconds / raw.seconds
        add(name, ratio <= FULL_VS_RAW, f"{full.seconds:.2f} s vs raw {raw.seconds:.2f} s = {ratio:.2f}x")
    else:
        add(name, None, "a contender failed")
    peaks = [r for r in (full, full2) if r and r.ok]
    worst = max((r.peak_rss_mb or 0.0 for r in peaks), default=None)
    add(f"full-table sync peak RSS under {RSS_LIMIT_MB:.0f} MB", None if worst is None else worst < RSS_LIMIT_MB,
        ", ".join(f"{r.rows:,} rows: {r.peak_rss_mb:.0f} MB" for r in peaks) or "full-table sync failed")  # fmt: skip
    name = f"peak RSS flat when the table doubles (within {RSS_FLAT:.0%})"
    if len(peaks) == 2 and full and full2 and full.peak_rss_mb and full2.peak_rss_mb:
        growth = full2.peak_rss_mb / full.peak_rss_mb - 1
        add(name, growth <= RSS_FLAT, f"{full.peak_rss_mb:.0f} MB -> {full2.peak_rss_mb:.0f} MB ({growth:+.1%})")
    else:
        add(name, None, "skipped (--quick)" if quick else "a full-table sync failed")
    pair, deletes = by_key.get("ours_incremental_pair"), by_key.get("ours_incremental_deletes_none")
    run.deletes_target(*(r if r and r.ok else None for r in (full, pair, deletes)), add)
    return checks


def lines_for(rows: list[Row], raw_seconds: float | None) -> list[list[str]]:
    out = []
    for r in rows:
        ratio = r.seconds / raw_seconds if r.seconds is not None and raw_seconds else None
        out.append([r.label, fmt(r.rows, ","), fmt(r.seconds, ".2f"), fmt(r.rate, ",.0f"), fmt(r.peak_rss_mb, ".0f"),
                    fmt(ratio, ".2f") + ("x" if ratio is not None else ""), fmt(r.cpu_seconds, ".1f")])  # fmt: skip
    return out


def contenders(opts: argparse.Namespace, uri: str, work: Path, logs: Path, setup: dict[str, Any]) -> list[Row]:
    rows, rep = opts.rows, max(1, opts.repeat)
    warehouse = work / "warehouse"
    common = {"uri": uri, "verbose": opts.verbose}
    results: list[Row] = []

    def ours(key: str, label: str, table: str, synced: str, method: str, expected: int | None,
             replication_key: str | None = None, primary_key: list[str] | None = None) -> None:  # fmt: skip
        args = {**common, "table": table, "synced_name": synced, "method": method, "warehouse": str(warehouse),
                "replication_key": replication_key, "primary_key": primary_key}  # fmt: skip
        results.append(run_child(key, label, "mysql_ours", args, logs, expected))

    print("full reads")
    results.append(raw_repeated(rep, uri, "charges", rows, logs))
    results.append(run_repeated(rep, "asyncmy_raw", "raw asyncmy unbuffered, text values (driver floor)",
                                "mysql_asyncmy_raw", {**common, "table": "charges"}, logs, rows))  # fmt: skip
    results.append(run_child("pymysql_raw", "raw PyMySQL unbuffered, text values (the driver before)",
                             "mysql_pymysql_raw", {**common, "table": "charges"}, logs, rows))  # fmt: skip
    for backend in [] if opts.no_dlt else opts.dlt_backends.split(","):
        results.append(run_child(
            f"dlt_{backend}", f"dlt sql_table {backend} -> delta", "mysql_dlt",
            {**common, "table": "charges", "backend": backend, "pipelines_dir": str(work / f"dlt_{backend}"),
             "bucket_url": (work / f"dlt_warehouse_{backend}").as_uri()}, logs, rows))  # fmt: skip
    results.append(run_repeated(
        rep, "ours_full", "ours full_table", "mysql_ours",
        {**common, "table": "charges", "synced_name": "charges_full", "method": "full_table",
         "warehouse": str(warehouse)}, logs, rows))  # fmt: skip
    results.append(run_child("ours_read_only", "ours reader only (no write)", "mysql_ours_read_only",
                             {**common, "table": "charges"}, logs, rows))  # fmt: skip
    results.append(run_child("imports_only", "ours imports only (RSS floor)", "mysql_imports_only", common, logs))
    if not opts.quick:
        ours("ours_full_x2", f"ours full_table ({2 * rows:,} rows)", "charges_x2", "charges_x2_full", "full_table",
             2 * rows)  # fmt: skip

    print("initial loads (cursor syncs)")
    ours("ours_incremental_initial", "ours incremental: initial load", "charges", "charges_incremental",
         "incremental", rows, "updated_at", ["id"])  # fmt: skip
    ours("ours_append_initial", "ours append_only: initial load", "charges", "charges_append", "append_only",
         rows, "id")  # fmt: skip
    shutil.copytree(warehouse / "charges_incremental", warehouse / "charges_incremental_initial")
    print(f"changes: {UPDATES:,} updates in the newest 10% of rows + {INSERTS:,} inserts")
    setup["changes"] = changes = datagen.apply_changes(uri, "charges", rows, UPDATES, INSERTS)
    print(f"  applied {changes}")

    def pair_args(name: str, deletes: str | None) -> dict[str, Any]:
        return {**common, "table": "charges", "synced_name": name, "method": "incremental", "deletes": deletes,
                "warehouse": str(warehouse), "replication_key": "updated_at", "primary_key": ["id"]}  # fmt: skip

    print(f"the deletion check alone: incremental syncs without and with deletes: hard, {rep} pairs")
    results.extend(run.deletion_pairs(rep, "mysql_ours", pair_args, warehouse / "charges_incremental_initial", logs,
                                      changes["updated"] + changes["inserted"], "ours incremental"))  # fmt: skip
    done = f"{changes['updated'] // 1000}k upd + {changes['inserted'] // 1000}k ins"
    ours("ours_incremental", f"ours incremental: {done}",
         "charges", "charges_incremental", "incremental", changes["updated"] + changes["inserted"], "updated_at",
         ["id"])  # fmt: skip
    ours("ours_append", f"ours append_only: {changes['inserted'] // 1000}k ins", "charges", "charges_append",
         "append_only", changes["inserted"], "id")  # fmt: skip
    return results


def report(opts: argparse.Namespace, results: list[Row], setup: dict[str, Any]) -> None:
    by_key = {r.key: r for r in results}
    raw = by_key.get("raw_client")
    lines = lines_for(results, raw.seconds if raw and raw.ok else None)
    checks = targets(by_key, opts.quick)
    machine = {"nproc": len(os.sched_getaffinity(0)), "platform": platform.platform(),
               "python": platform.python_version(), "server": setup.get("server_version")}  # fmt: skip
    run.HEADER[:] = HEADER  # the render helpers read run.HEADER
    print(f"\n{opts.rows:,} rows, {machine['nproc']} CPUs, {machine['server']}")
    print(render_text(lines) + "\n")
    for c in checks:
        print(f"{c['result']:<4}  {c['target']}: {c['detail']}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    data = {"when": stamp, "rows": opts.rows, "machine": machine, "setup": setup,
            "versions": {**versions(), "asyncmy": metadata.version("asyncmy"), "PyMySQL": metadata.version("PyMySQL")},
            "contenders": [{**asdict(r), "rows_per_second": r.rate} for r in results], "targets": checks}  # fmt: skip
    markdown = "\n".join([
        f"# warehouse-sources MySQL benchmark, {stamp}", "",
        f"{opts.rows:,} rows; {machine['nproc']} CPUs; {machine['server']}; Python {machine['python']}", "",
        render_markdown(lines), "", "| target | result | detail |", "|---|---|---|",
        *[f"| {c['target']} | {c['result']} | {c['detail']} |" for c in checks], "",
    ])  # fmt: skip
    run.write_results(f"mysql-{stamp}", "mysql-latest", data, markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows in the charges table (default 2,000,000)")
    parser.add_argument("--quick", action="store_true", help="skip the 2x table (memory flatness)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the work directory")
    parser.add_argument("--no-dlt", action="store_true", help="skip the dlt contenders")
    parser.add_argument("--dlt-backends", default="connectorx,pyarrow", help="dlt sql_table backends to run")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="MySQL/MariaDB server URI (env WS_BENCH_MYSQL)")
    parser.add_argument("--database", default="ws_bench", help="database to create (dropped at the end)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the raw reads and ours full; median shown")
    parser.add_argument("--verbose", action="store_true", help="INFO logging in the children's logs")
    opts = parser.parse_args(argv)

    uri = datagen.server_uri(opts.server, opts.database)
    work = Path(tempfile.mkdtemp(prefix="ws-bench-mysql-"))
    logs = work / "logs"
    logs.mkdir()
    setup: dict[str, Any] = {}
    results: list[Row] = []
    try:
        print(f"setting up database {opts.database}: charges with {opts.rows:,} rows"
              + ("" if opts.quick else f", charges_x2 with {2 * opts.rows:,} rows"))  # fmt: skip
        datagen.create_database(opts.server, opts.database)
        setup["server_version"] = datagen.server_version(uri)
        setup["generate_seconds"] = {"charges": round(datagen.create_table(uri, "charges", opts.rows), 2)}
        if not opts.quick:
            setup["generate_seconds"]["charges_x2"] = round(datagen.create_table(uri, "charges_x2", 2 * opts.rows), 2)
        setup["charges_bytes"] = datagen.table_bytes(uri, "charges")
        print(f"  generated in {setup['generate_seconds']} s; charges is {setup['charges_bytes'] / 2**20:,.0f} MB")
        results = contenders(opts, uri, work, logs, setup)
    finally:
        if opts.keep:
            print(f"kept: database {opts.database}, work directory {work}")
        else:
            try:
                datagen.drop_database(opts.server, opts.database)
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
                print(f"could not drop database {opts.database}: {exc}")
            shutil.rmtree(work, ignore_errors=True)
    report(opts, results, setup)
    return 1 if any(not r.ok for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
