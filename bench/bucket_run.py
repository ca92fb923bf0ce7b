"""Benchmark: our bucket-source syncs (Parquet and CSV files -> Delta) against DuckDB's own copy and dlt.

    .venv/bin/python bench/bucket_run.py [--rows 2000000] [--files 16] [--quick] [--keep] [--no-dlt] [--no-s3]

See bench/README.md ("Bucket sources"). Each contender runs in its own process (bench/bucket_child.py,
through run.py's harness); moto's S3 server runs in a process of its own, so its memory is nobody's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bucket_datagen as datagen  # noqa: E402
import run  # noqa: E402
from run import Row, fmt, render_markdown, render_text, run_child, run_repeated, versions  # noqa: E402

run.CHILD = HERE / "bucket_child.py"  # run_child starts this script: child.py's harness with the bucket contenders
FORMATS = datagen.FORMATS
APPEND_FILES, APPEND_ROWS = 2, 10_000
DLT_BATCH_ROWS = 100_000
SOURCE_BUCKET = "ws-source"
FULL_VS_DUCKDB = 1.5
RSS_LIMIT_MB, RSS_FLAT = 350.0, run.RSS_FLAT  # issue 15: under 350 MB for local files
HEADER = ["contender", "rows", "seconds", "rows/s", "peak RSS MB", "vs DuckDB", "CPU s", "timed CPU s"]


def baseline_key(key: str) -> str:
    return "duckdb_csv" if "csv" in key else "duckdb_parquet"


class Bench:
    """The contenders of one run, in order, with what they share (work dir, files, options)."""

    def __init__(self, opts: argparse.Namespace, work: Path) -> None:
        self.opts, self.work = opts, work
        self.data, self.logs, self.warehouse = work / "data", work / "logs", work / "warehouse"
        self.logs.mkdir(parents=True)
        self.results: list[Row] = []
        self.setup: dict[str, Any] = {}

    def add(self, row: Row) -> Row:
        self.results.append(row)
        return row

    def ours(self, key: str, label: str, fmt_: str, *, table: str = "charges", url: str | None = None,
             method: str = "full_table", synced: str | None = None, expected: int | None = None,
             repeat: int = 1, contender: str = "bucket_ours", **extra: Any) -> Row:  # fmt: skip
        args = {"url": url or self.data.as_uri() + "/", "table": table, "pattern": f"{table}/*.{fmt_}",
                "format": fmt_, "method": method, "synced_name": synced or key, "warehouse": str(self.warehouse),
                "verbose": self.opts.verbose, **extra}  # fmt: skip
        expected = self.opts.rows if expected is None else expected
        return self.add(run_repeated(repeat, key, label, contender, args, self.logs, expected))

    def full_reads(self) -> None:
        rows, rep = self.opts.rows, max(1, self.opts.repeat)
        for f in FORMATS:
            files = [str(p) for p in sorted((self.data / "charges").glob(f"*.{f}"))]
            self.add(run_repeated(rep, f"duckdb_{f}", f"DuckDB COPY {f} -> parquet (baseline)", "bucket_duckdb_copy",
                                  {"files": files, "format": f, "out": str(self.work / f"duckdb_{f}.parquet")},
                                  self.logs, rows))  # fmt: skip
        for f in [] if self.opts.no_dlt else FORMATS:
            reader = "read_parquet" if f == "parquet" else "read_csv_duckdb"
            args = {"source_url": (self.data / "charges").as_uri(), "glob": f"*.{f}", "format": f,
                    "batch_rows": DLT_BATCH_ROWS, "pipelines_dir": str(self.work / f"dlt_{f}"),
                    "bucket_url": (self.work / f"dlt_warehouse_{f}").as_uri()}  # fmt: skip
            label = f"dlt filesystem {reader} -> delta ({f})"
            self.add(run_child(f"dlt_{f}", label, "bucket_dlt", args, self.logs, rows))
        for f in FORMATS:
            self.ours(f"ours_{f}", f"ours full_table {f}, folder -> local", f, repeat=rep)
        for f in FORMATS:
            self.ours(f"read_{f}", f"ours reader only {f} (no write)", f, contender="bucket_ours_read_only")
        for f in FORMATS:
            self.ours(f"deltars_{f}", f"delta-rs alone, the reader's {f} batches from memory", f, repeat=rep,
                      contender="bucket_deltars_only")  # fmt: skip
        self.add(run_child("imports_only", "ours imports only (RSS floor)", "bucket_imports_only", {}, self.logs))

    def s3_rows(self) -> None:
        """Files on moto's S3 server into the local warehouse, and the folder into an S3 warehouse."""
        sys.path.insert(0, str(HERE.parent))
        from tests.integration import s3_support

        server = s3_support.start()
        try:
            client = server.client()
            client.create_bucket(Bucket=SOURCE_BUCKET)
            folder = self.data / "charges"
            self.setup["uploaded_bytes"] = {f: datagen.upload(client, SOURCE_BUCKET, "bench/charges", folder, f)
                                            for f in FORMATS}  # fmt: skip
            options = server.options()
            for f in FORMATS:
                self.ours(f"ours_s3src_{f}", f"ours full_table {f}, moto -> local", f,
                          url=f"s3://{SOURCE_BUCKET}/bench/", source_options=options)  # fmt: skip
            self.ours("ours_s3wh_parquet", "ours full_table parquet, folder -> S3 warehouse (moto)", "parquet",
                      warehouse=server.fresh_prefix(), warehouse_options=options)  # fmt: skip
        finally:
            s3_support.stop_process(server.process)

    def doubled(self) -> None:
        for f in FORMATS:
            self.ours(f"ours_{f}_x2", f"ours full_table {f} ({2 * self.opts.rows:,} rows)", f, table="charges_x2",
                      expected=2 * self.opts.rows)  # fmt: skip

    def append(self) -> None:
        """append_only on the Parquet files, then again after APPEND_FILES new files land beside them."""
        self.ours("ours_append_initial", "ours append_only parquet: initial load", "parquet", method="append_only",
                  synced="charges_append")  # fmt: skip
        first = self.opts.rows + 1
        datagen.write_files(self.data / "charges", "parquet", first, APPEND_FILES * APPEND_ROWS, APPEND_ROWS, "new")
        self.ours("ours_append", f"ours append_only parquet: {APPEND_FILES} new files", "parquet",
                  method="append_only", synced="charges_append", expected=APPEND_FILES * APPEND_ROWS)  # fmt: skip


def targets(by_key: dict[str, Row], quick: bool) -> list[dict[str, str]]:
    """The issue's targets, each PASS, FAIL or SKIP with the figures behind it."""
    checks: list[dict[str, str]] = []

    def add(name: str, verdict: bool | None, detail: str) -> None:
        checks.append({"target": name, "result": "SKIP" if verdict is None else ("PASS" if verdict else "FAIL"),
                       "detail": detail})  # fmt: skip

    def get(key: str) -> Row | None:
        row = by_key.get(key)
        return row if row is not None and row.ok and row.seconds else None

    for f in FORMATS:
        base, ours = get(f"duckdb_{f}"), get(f"ours_{f}")
        name = f"{f}: folder -> local warehouse within {FULL_VS_DUCKDB}x DuckDB's copy"
        if base and ours:
            ratio, cpu = ours.seconds / base.seconds, (ours.sync_cpu_seconds or 0) / (base.sync_cpu_seconds or 1)
            add(name, ratio <= FULL_VS_DUCKDB, f"{ours.seconds:.2f} s vs {base.seconds:.2f} s = {ratio:.2f}x "
                f"(timed CPU {ours.sync_cpu_seconds:.2f} s vs {base.sync_cpu_seconds:.2f} s = {cpu:.2f}x)")  # fmt: skip
        else:
            add(name, None, "a contender failed")
    syncs = [r for k, r in by_key.items() if k.startswith("ours_") and "append" not in k and "s3" not in k and r.ok]
    worst = max(syncs, key=lambda r: r.peak_rss_mb or 0.0, default=None)
    add(f"full-table syncs of local files peak RSS under {RSS_LIMIT_MB:.0f} MB",
        None if worst is None else (worst.peak_rss_mb or 0.0) < RSS_LIMIT_MB,
        "; ".join(f"{r.key} {r.peak_rss_mb:.0f}" for r in syncs) + " MB" if syncs else "no sync ran")  # fmt: skip
    for f in FORMATS:
        one, two = get(f"ours_{f}"), get(f"ours_{f}_x2")
        name = f"{f}: peak RSS flat when the data doubles (within {RSS_FLAT:.0%})"
        if one and two and one.peak_rss_mb and two.peak_rss_mb:
            growth = two.peak_rss_mb / one.peak_rss_mb - 1
            add(name, growth <= RSS_FLAT, f"{one.peak_rss_mb:.0f} MB -> {two.peak_rss_mb:.0f} MB ({growth:+.1%})")
        else:
            add(name, None, "skipped (--quick)" if quick else "a sync failed")
    return checks


def lines_for(rows: list[Row], by_key: dict[str, Row]) -> list[list[str]]:
    out = []
    for r in rows:
        base = by_key.get(baseline_key(r.key))
        ratio = r.seconds / base.seconds if r.seconds is not None and base and base.ok and base.seconds else None
        out.append([r.label, fmt(r.rows, ","), fmt(r.seconds, ".2f"), fmt(r.rate, ",.0f"), fmt(r.peak_rss_mb, ".0f"),
                    fmt(ratio, ".2f") + ("x" if ratio is not None else ""), fmt(r.cpu_seconds, ".1f"),
                    fmt(r.sync_cpu_seconds, ".2f")])  # fmt: skip
    return out


def report(opts: argparse.Namespace, bench: Bench) -> None:
    by_key = {r.key: r for r in bench.results}
    lines = lines_for(bench.results, by_key)
    checks = targets(by_key, opts.quick)
    machine = {"nproc": len(os.sched_getaffinity(0)), "platform": platform.platform(),
               "python": platform.python_version(), "loadavg": os.getloadavg()}  # fmt: skip
    run.HEADER[:] = HEADER  # the render helpers read run.HEADER
    title = f"{opts.rows:,} rows in {opts.files} files per format, {machine['nproc']} CPUs"
    print(f"\n{title}, load average {machine['loadavg'][0]:.1f}")
    print(render_text(lines) + "\n")
    for c in checks:
        print(f"{c['result']:<4}  {c['target']}: {c['detail']}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    found = {**versions(), **{p: _version(p) for p in ("duckdb", "moto", "fsspec")}}
    data = {"when": stamp, "rows": opts.rows, "files": opts.files, "machine": machine, "setup": bench.setup,
            "versions": found, "contenders": [{**asdict(r), "rows_per_second": r.rate} for r in bench.results],
            "targets": checks}  # fmt: skip
    markdown = "\n".join([
        f"# warehouse-sources bucket benchmark, {stamp}", "", f"{title}; Python {machine['python']}", "",
        render_markdown(lines), "", "| target | result | detail |", "|---|---|---|",
        *[f"| {c['target']} | {c['result']} | {c['detail']} |" for c in checks], "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in found.items()), "",
    ])  # fmt: skip
    run.write_results(f"bucket-{stamp}", "bucket-latest", data, markdown)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per format (default 2,000,000)")
    parser.add_argument("--files", type=int, default=16, help="files the rows are split into (default 16)")
    parser.add_argument("--quick", action="store_true", help="skip the 2x data (memory flatness)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (files, warehouses, logs)")
    parser.add_argument("--no-dlt", action="store_true", help="skip the dlt contenders")
    parser.add_argument("--no-s3", action="store_true", help="skip the rows on moto's S3 server")
    parser.add_argument("--repeat", type=int, default=3, help="runs of DuckDB's copy and ours full; median shown")
    parser.add_argument("--verbose", action="store_true", help="INFO logging in the children's logs")
    opts = parser.parse_args(argv)

    bench = Bench(opts, Path(tempfile.mkdtemp(prefix="ws-bench-bucket-")))
    try:
        print(f"writing {opts.rows:,} rows as {opts.files} Parquet and {opts.files} CSV files"
              + ("" if opts.quick else f", and {2 * opts.rows:,} rows in twice as many"))  # fmt: skip
        bench.setup["files"] = datagen.write_tables(bench.data, opts.rows, opts.files, doubled=not opts.quick)
        print(f"  {bench.setup['files']}")
        print("full reads")
        bench.full_reads()
        if not opts.no_s3:
            print("moto S3")
            bench.s3_rows()
        if not opts.quick:
            print("doubled data")
            bench.doubled()
        print("append_only")
        bench.append()
    finally:
        if opts.keep:
            print(f"kept: work directory {bench.work}")
        else:
            shutil.rmtree(bench.work, ignore_errors=True)
    report(opts, bench)
    return 1 if any(not r.ok for r in bench.results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
