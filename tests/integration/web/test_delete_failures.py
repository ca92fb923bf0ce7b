"""Delete when a table folder cannot be dropped: refused or resumable, never half-done and hidden.

A table folder that is a symbolic link is refused before anything changes (following it could
remove files outside the warehouse). Any other failure midway leaves the source marked as being
deleted, shown as such with the reason, and a second delete finishes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"


def _write_delta(path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(path), pa.table({"id": [1, 2]}))


def test_a_symlinked_table_folder_is_refused_before_anything_changes(
    client: Any, admin: dict[str, str], web_env: dict[str, Path], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "not-the-warehouse"
    _write_delta(elsewhere)
    _write_delta(web_env["warehouse"] / "billing_customers")
    link = web_env["warehouse"] / "billing_plans"
    link.symlink_to(elsewhere, target_is_directory=True)

    answer = client.delete(f"{P}/sources/billing", headers=admin)
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert "billing_plans" in detail and "symbolic link" in detail and str(elsewhere) not in detail
    assert (elsewhere / "_delta_log").is_dir(), "the link's target is untouched"
    assert (web_env["warehouse"] / "billing_customers" / "_delta_log").is_dir(), "no table was dropped"
    source = client.get(f"{P}/sources/billing", headers=admin).json()
    assert source["deleted"] is None and source["status"] != "Deleted"

    link.unlink()
    answer = client.delete(f"{P}/sources/billing", headers=admin)
    assert answer.status_code == 200, answer.text
    assert not (web_env["warehouse"] / "billing_customers").exists()


def test_a_delete_that_fails_midway_shows_and_a_second_delete_finishes_it(
    client: Any, admin: dict[str, str], web_env: dict[str, Path]
) -> None:
    _write_delta(web_env["warehouse"] / "crm_contacts")
    blocker = web_env["warehouse"] / "crm_deals"
    blocker.write_text("a file where the table folder should be")

    answer = client.delete(f"{P}/sources/crm", headers=admin)
    assert answer.status_code == 409, answer.text
    assert "crm_deals" in answer.json()["detail"] and "delete again" in answer.json()["detail"]
    source = client.get(f"{P}/sources/crm", headers=admin).json()
    assert source["status"] == "Deleted" and source["paused"] is True
    assert source["deleted"]["finished"] is False and "delete again" in source["deleted"]["note"]
    assert client.post(f"{P}/sources/crm/sync", json={}, headers=admin).status_code == 409

    blocker.unlink()
    answer = client.delete(f"{P}/sources/crm", headers=admin)
    assert answer.status_code == 200, answer.text
    assert not (web_env["warehouse"] / "crm_contacts").exists()
    assert client.get(f"{P}/sources/crm", headers=admin).status_code == 404
