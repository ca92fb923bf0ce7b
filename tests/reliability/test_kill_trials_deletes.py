"""SIGKILL a PostgreSQL incremental sync with deletes: hard (issue 20) at random points: each trial
also deletes source rows; after every kill and the next run the table equals the source exactly (the
key-set check and the MERGE commit once). The runner is kill_trials.py, the source table
kill_postgres.py. WS_KILL_SEED=<seed> replays.
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


def test_sigkill_with_deletes_hard_never_deletes_a_live_row_or_keeps_a_gone_one(
    pg_db: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    print(f"kill trials incremental, deletes: hard: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with Source(pg_db, "incremental", random.Random(f"{SEED}-deletes")) as source:
        trials = Trials(postgres(COUNTS, ", deletes: hard", "hard"), source, warehouse, tmp_path, env)
        run_and_report(trials, reliability)
