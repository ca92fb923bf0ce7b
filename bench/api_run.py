"""Benchmark: Stripe objects through the REST reader (kind stripe, full_table) against a plain client.

    .venv/bin/python bench/api_run.py [--objects 1000000] [--doubling] [--repeat 1]

A generated Stripe list endpoint (bench/api_server.py) runs in its own process; each contender
(bench/api_child.py) runs in a process of its own against it, in the same run: ours (pages ->
Arrow batches -> one Delta commit) and the baseline (one HTTP client paging into a Parquet file,
no checks). `--doubling` also runs ours at half the objects, to show memory flat as they double.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
KEY = "sk_test_bench_0000000000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child(mode: str, url: str, out: str) -> dict[str, Any]:
    done = subprocess.run([PY, str(HERE / "api_child.py"), mode, url, KEY, out], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(objects: int, repeat: int, modes: tuple[str, ...]) -> list[dict[str, Any]]:
    port = free_port()
    server = subprocess.Popen([PY, str(HERE / "api_server.py"), str(objects), str(port), KEY],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        results = []
        for _ in range(repeat):
            for mode in modes:
                with tempfile.TemporaryDirectory(prefix="ws-api-bench-") as tmp:
                    results.append({"objects": objects, **child(mode, url, os.path.join(tmp, "out"))})
        return results
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--doubling", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = measure(args.objects, args.repeat, ("baseline", "ours"))
    if args.doubling:
        rows += measure(args.objects // 2, args.repeat, ("ours",))
    print(f"load average before: {os.getloadavg()}")
    print("| contender | objects | seconds | objects/s | CPU s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | "
              f"{r['cpu']:.1f} | {r['rss_mb']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
