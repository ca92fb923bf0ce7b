"""Source files written from REST: an edit keeps what it does not change, and problems keep their locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse_sources.web.source_files import NotWritable, render, validate, write_atomically

HAND_WRITTEN = """\
# top comment
name: s   # the name
kind: postgres
conn_id: c
tables:
  - name: public.a   # first
    sync: full_table
  - name: public.b   # second
    sync: incremental
    replication_key: "u"
    lookback: 10m
"""


def test_an_edit_keeps_comments_quoting_and_follows_the_new_order() -> None:
    new = {"name": "s", "kind": "postgres", "conn_id": "c", "schedule": "6h",
           "tables": [{"name": "public.b", "sync": "incremental", "replication_key": "u"},
                      {"name": "public.c", "sync": "full_table"},
                      {"name": "public.a", "sync": "full_table"}]}  # fmt: skip
    text = render(new, HAND_WRITTEN)
    assert text.splitlines()[:2] == ["# top comment", "name: s   # the name"]
    assert text.index("public.b   # second") < text.index("public.c") < text.index("public.a   # first")
    assert 'replication_key: "u"' in text and "lookback" not in text and "schedule: 6h" in text
    source, problems = validate(text, "s.yaml")
    assert problems == [] and source is not None and [t.name for t in source.tables] == ["public.b", "public.c",
                                                                                        "public.a"]  # fmt: skip


def test_an_unchanged_source_renders_to_the_same_text() -> None:
    source, _ = validate(HAND_WRITTEN, "s.yaml")
    assert source is not None
    second = {"name": "public.b", "sync": "incremental", "replication_key": "u", "lookback": "10m"}
    first = {"name": "public.a", "sync": "full_table"}
    same = {"name": "s", "kind": "postgres", "conn_id": "c", "tables": [first, second]}
    assert render(same, HAND_WRITTEN) == HAND_WRITTEN


def test_problems_carry_the_locations_the_loader_names() -> None:
    tables = [{"name": "public.a", "sync": "full_table"}, {"name": "public.b", "sync": "nope"}]
    text = render({"name": "s", "kind": "postgres", "conn_id": "c", "tables": tables})
    source, problems = validate(text, "s.yaml")
    assert source is None
    assert [p["loc"] for p in problems] == [["tables", 1, "sync"]] and "incremental" in problems[0]["msg"]


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("old\n")
    write_atomically(path, HAND_WRITTEN)
    assert path.read_text() == HAND_WRITTEN and [p.name for p in tmp_path.iterdir()] == ["s.yaml"]
    with pytest.raises(NotWritable):
        write_atomically(tmp_path / "missing" / "s.yaml", HAND_WRITTEN)
