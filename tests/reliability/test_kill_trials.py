"""SIGKILL a PostgreSQL sync at random points, per method, with the warehouse on disk: every kill
must leave a committed table, every next run the truth. The runner, its checks and the guarantees per
method are in kill_trials.py; PostgreSQL's source table is in kill_postgres.py; the same trials with
the warehouse on S3 are in test_kill_trials_s3.py, with deletes: hard in test_kill_trials_deletes.py.
WS_KILL_SEED=<seed> replays.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.kill_postgres import COUNTS, Source, postgres
from tests.reliability.kill_support import SEED, worker_env
from tests.reliability.kill_trials import Trials, run_and_report

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return worker_env(tmp_path_factory.mktemp("pycache"))


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_sigkill_at_random_points_never_loses_or_duplicates_rows(
    method: str, pg_db: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    print(f"kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(pg_db, method, random.Random(f"{SEED}-{method}")) as source:
        run_and_report(Trials(postgres(COUNTS), source, warehouse, tmp_path, env), reliability)
