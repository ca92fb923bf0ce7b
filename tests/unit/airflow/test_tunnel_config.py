"""`ssh_tunnel` in a source file: accepted for database kinds, carried from the YAML to every task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from warehouse_sources.airflow.factory import build_dags
from warehouse_sources.config.loader import load_sources
from warehouse_sources.plan import plan_source

TABLES = {"postgres": "  - name: public.orders\n", "mysql": "  - name: shop.orders\n"}


def load(tmp_path: Path, body: str) -> Any:
    (tmp_path / "s.yaml").write_text(body)
    return load_sources(tmp_path)


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_a_database_source_names_its_bastion_and_every_task_gets_it(tmp_path: Path, kind: str) -> None:
    body = f"name: s\nkind: {kind}\nconn_id: db\nssh_tunnel:\n  conn_id: bastion_ssh\ntables:\n{TABLES[kind]}"
    (loaded,) = load(tmp_path, body).sources
    assert plan_source(loaded.config).ssh_conn_id == "bastion_ssh"
    dag = build_dags(tmp_path)["sync_s"]
    assert [t.source_plan.ssh_conn_id for t in dag.tasks] == ["bastion_ssh"]
    assert "through the SSH connection `bastion_ssh`" in dag.doc_md


def test_without_the_block_there_is_no_tunnel(tmp_path: Path) -> None:
    (loaded,) = load(tmp_path, f"name: s\nkind: postgres\nconn_id: db\ntables:\n{TABLES['postgres']}").sources
    assert plan_source(loaded.config).ssh_conn_id is None
    assert [t.source_plan.ssh_conn_id for t in build_dags(tmp_path)["sync_s"].tasks] == [None]


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ("ssh_tunnel: {}", "ssh_tunnel.conn_id: Field required"),
        ("ssh_tunnel: {conn_id: ''}", "ssh_tunnel.conn_id: String should have at least 1 character"),
        ("ssh_tunnel: {conn_id: b, host: bastion.example.com}", "ssh_tunnel.host: unknown key"),
        ("ssh_tunnel: bastion_ssh", "ssh_tunnel: Input should be a valid dictionary"),
    ],
)
def test_a_malformed_block_is_one_problem_naming_the_field(tmp_path: Path, block: str, problem: str) -> None:
    result = load(tmp_path, f"name: s\nkind: postgres\nconn_id: db\n{block}\ntables:\n{TABLES['postgres']}")
    assert not result.sources
    (problems,) = result.problems.values()
    assert [p for p in problems if problem in p], problems


def test_a_snowflake_source_has_no_tunnel(tmp_path: Path) -> None:
    result = load(tmp_path, "name: s\nkind: snowflake\nconn_id: sf\nssh_tunnel: {conn_id: b}\ntables:\n  - name: A.B\n")
    (problems,) = result.problems.values()
    assert [p for p in problems if "ssh_tunnel: unknown key" in p], problems
