"""One Stripe sync in its own process, for the API kill trials (test_kill_trials_api.py).

`python tests/reliability/kill_worker_api.py '<json>'` with keys url, key, warehouse, method, kill:
{"after_rows": N} (SIGKILL itself once N rows were read), {"before_commit": true}, or {"none": true}
(a normal run the parent may kill at any time). Prints "ready" once its imports are done.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]

from tests.integration.helpers import plan  # noqa: E402
from warehouse_sources.engine.progress import SyncHooks  # noqa: E402
from warehouse_sources.engine.sync import SyncRequest, sync_table  # noqa: E402
from warehouse_sources.sources.stripe import open_stripe  # noqa: E402

KEYS = {"incremental": "changed_at", "append_only": "created", "full_table": None}


def main() -> None:
    job = json.loads(sys.argv[1])
    kill = job["kill"]
    seen = [0]

    def after_batch(rows: int) -> None:
        seen[0] = rows
        if "after_rows" in kill and rows >= kill["after_rows"]:
            os.kill(os.getpid(), signal.SIGKILL)

    def before_commit() -> None:
        if kill.get("before_commit"):
            os.kill(os.getpid(), signal.SIGKILL)

    print("ready", flush=True)
    table = plan("customers", job["method"], schema="", synced_name="items", replication_key=KEYS[job["method"]])
    with open_stripe(job["url"], job["key"], source="kill", budget=10) as reader:
        request = SyncRequest(table=table, warehouse_uri=job["warehouse"], run_id="kill")
        sync_table(reader, request, logging.getLogger("kill"), SyncHooks(after_batch=after_batch,
                                                                          before_commit=before_commit))  # fmt: skip


if __name__ == "__main__":
    main()
