"""SIGKILL a PostgreSQL sync at random points, per method, with the warehouse on S3 (moto's server,
tests/integration/s3_support.py): a kill can land between object writes, in a multipart upload or in
the log entry's conditional put. The runner and its checks are in kill_trials.py, the source table in
kill_postgres.py. On S3 a trial costs several times as much (every file and log entry is an HTTP
request), so it runs fewer than test_kill_trials.py (S3_COUNTS). WS_KILL_SEED=<seed> replays.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.kill_postgres import S3_COUNTS, Source, postgres
from tests.reliability.kill_support import SEED, worker_env
from tests.reliability.kill_trials import Trials, run_and_report

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return worker_env(tmp_path_factory.mktemp("pycache"))


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_sigkill_on_the_s3_warehouse_never_loses_or_duplicates_rows(
    method: str, pg_db: str, s3_warehouse: tuple[str, dict[str, str]], tmp_path: Path, env: dict[str, str],
    reliability: Any,
) -> None:  # fmt: skip
    warehouse, options = s3_warehouse
    print(f"kill trials {method} on S3: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(pg_db, method, random.Random(f"{SEED}-{method}-s3")) as source:
        trials = Trials(postgres(S3_COUNTS, " (S3, moto)"), source, warehouse, tmp_path, env, options)
        run_and_report(trials, reliability)
