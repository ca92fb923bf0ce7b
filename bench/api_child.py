"""One contender of the API bench in its own process: `python bench/api_child.py MODE URL KEY OUT`.

MODE `ours`: a full_table sync of Stripe charges through the REST reader into a Delta table.
MODE `baseline`: one HTTP client paging the same endpoint into a Parquet file, no checks (nested
objects as JSON text, the same columns). Prints one JSON line: rows, seconds, CPU s, peak RSS MB.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM), not inherited from the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(url: str, key: str, out: str) -> int:
    from tests.integration.helpers import plan
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.sources.stripe import open_stripe

    with open_stripe(url, key, source="bench") as reader:
        request = SyncRequest(table=plan("charges", schema=""), warehouse_uri=out, run_id="bench")
        return sync_table(reader, request, logging.getLogger("bench")).rows


def baseline(url: str, key: str, out: str) -> int:
    import httpx
    import pyarrow as pa
    import pyarrow.parquet as pq

    nested = ("billing_details", "payment_method_details", "metadata")
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    writer: Any = None
    rows, after = 0, None
    while True:
        params = [("limit", "100")] + ([("starting_after", after)] if after else [])
        body = client.get("/v1/charges", params=params).json()
        data = body["data"]
        for record in data:
            for name in nested:
                record[name] = json.dumps(record[name])
        table = pa.Table.from_pylist(data)
        if writer is None:
            writer = pq.ParquetWriter(f"{out}.parquet", table.schema)
        writer.write_table(table.cast(writer.schema))
        rows += len(data)
        if not body["has_more"]:
            break
        after = data[-1]["id"]
    writer.close()
    return rows


if __name__ == "__main__":
    mode, url, key, out = sys.argv[1:5]
    started, cpu = time.perf_counter(), time.process_time()
    rows = (ours if mode == "ours" else baseline)(url, key, out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"mode": mode, "rows": rows, "seconds": time.perf_counter() - started,
                      "cpu": usage.ru_utime + usage.ru_stime, "timed_cpu": time.process_time() - cpu,
                      "rss_mb": peak_rss_mb()}))  # fmt: skip
