"""Delta writes on a local table: every write mode commits data and sync state together."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.errors import ConcurrentSyncError, SyncFatalError
from warehouse_sources.warehouse import changeset, delta, spool, upsert
from warehouse_sources.warehouse.state import STATE_KEY, SyncState, load_state


def reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


def rows(ids: list[int], values: list[str], key: str = "id") -> pa.Table:
    return pa.table({key: pa.array(ids, pa.int64()), "v": pa.array(values, pa.string())})


def state(cursor: int, method: str = "incremental", **extra: object) -> SyncState:
    return SyncState(method=method, replication_key="id", key_kind="int", cursor=cursor, **extra)  # type: ignore[arg-type]


def contents(uri: str, key: str = "id") -> dict[str, list[object]]:
    return DeltaTable(uri).to_pyarrow_table().sort_by(key).to_pydict()


def committed_states(uri: str) -> list[SyncState | None]:
    """The state each commit carries, newest first."""
    return [load_state(c[STATE_KEY]) if c.get(STATE_KEY) else None for c in DeltaTable(uri).history()]


def append(uri: str, data: pa.RecordBatchReader, sync_state: SyncState) -> None:
    """Append, creating the table on the first call as the engine's first (overwrite) sync would."""
    table = delta.open_table(uri)
    if table is None:
        delta.overwrite(uri, None, data, sync_state)
    else:
        delta.append(uri, table, data, sync_state)


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse" / "orders")


@pytest.fixture(autouse=True)
def spooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Merges here take the spooled path (any change set is over the limit) unless a test asks
    for `in_memory`: most of these tables are a few rows, which would otherwise merge from memory."""
    monkeypatch.setattr(changeset, "IN_MEMORY_ROWS", 0)


@pytest.fixture
def in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changeset, "IN_MEMORY_ROWS", 100_000)


def test_table_uri() -> None:
    assert delta.table_uri("s3://bucket/wh/", "billing_Charges") == "s3://bucket/wh/billing_Charges"
    assert delta.table_uri("/srv/wh", "t") == "/srv/wh/t"


def test_open_table_is_none_before_the_first_commit(uri: str) -> None:
    assert delta.open_table(uri) is None


def test_overwrite_commits_data_and_state(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2], ["a", "b"])), state(2, "full_table"))
    table = delta.open_table(uri)
    assert table is not None
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"]}
    assert delta.read_state(table) == state(2, "full_table")


def test_overwrite_replaces_rows_and_schema_in_one_commit(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2, 3], ["a", "b", "c"])), state(3, "full_table"))
    replacement = pa.table({"id": pa.array([7], pa.int64()), "w": pa.array([1.5], pa.float64())})
    delta.overwrite(uri, delta.open_table(uri), reader(replacement), state(7, "full_table"))
    table = DeltaTable(uri)
    assert table.version() == 1
    assert table.to_pyarrow_table().to_pydict() == {"id": [7], "w": [1.5]}
    assert committed_states(uri) == [state(7, "full_table"), state(3, "full_table")]


def test_append_commits_data_and_state(uri: str) -> None:
    append(uri, reader(rows([1, 2], ["a", "b"])), state(2, "append_only", identity_columns=("x",)))
    append(uri, reader(rows([3], ["c"])), state(3, "append_only", identity_columns=("y",)))
    assert contents(uri) == {"id": [1, 2, 3], "v": ["a", "b", "c"]}
    assert committed_states(uri) == [
        state(3, "append_only", identity_columns=("y",)),
        state(2, "append_only", identity_columns=("x",)),
    ]
    table = delta.open_table(uri)
    assert table is not None
    assert delta.read_state(table) == state(3, "append_only", identity_columns=("y",))


def test_append_adds_new_source_columns(uri: str) -> None:
    append(uri, reader(rows([1], ["a"])), state(1, "append_only"))
    wider = pa.table({"id": pa.array([2], pa.int64()), "v": ["b"], "extra": pa.array([True])})
    append(uri, reader(wider), state(2, "append_only"))
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"], "extra": [None, True]}


def test_merge_upserts_by_key_and_commits_state(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2, 3], ["a", "b", "c"])), state(3))
    table = DeltaTable(uri)
    metrics = delta.merge(uri, table, reader(rows([2, 4], ["B", "d"])), ("id",), state(4))
    assert metrics["num_target_rows_updated"] == 1
    assert metrics["num_target_rows_inserted"] == 1
    assert contents(uri) == {"id": [1, 2, 3, 4], "v": ["a", "B", "c", "d"]}
    assert committed_states(uri)[0] == state(4)
    assert delta.read_state(DeltaTable(uri)) == state(4)


def test_merge_on_a_mixed_case_reserved_word_key(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2], ["a", "b"], key="Order")), state(2))
    delta.merge(uri, DeltaTable(uri), reader(rows([2, 3], ["B", "c"], key="Order")), ("Order",), state(3))
    assert contents(uri, key="Order") == {"Order": [1, 2, 3], "v": ["a", "B", "c"]}


def test_merge_on_a_composite_key(uri: str) -> None:
    initial = pa.table({"region": ["eu", "us", "eu"], "id": pa.array([1, 1, 2], pa.int64()), "v": ["a", "b", "c"]})
    delta.overwrite(uri, delta.open_table(uri), reader(initial), state(2))
    change = pa.table({"region": ["us", "us"], "id": pa.array([1, 2], pa.int64()), "v": ["B", "new"]})
    delta.merge(uri, DeltaTable(uri), reader(change), ("region", "id"), state(3))
    result = DeltaTable(uri).to_pyarrow_table().sort_by([("region", "ascending"), ("id", "ascending")]).to_pydict()
    assert result == {"region": ["eu", "eu", "us", "us"], "id": [1, 2, 1, 2], "v": ["a", "c", "B", "new"]}


def test_merge_adds_new_source_columns(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1], ["a"])), state(1))
    wider = pa.table({"id": pa.array([2], pa.int64()), "v": ["b"], "n": pa.array([5], pa.int32())})
    delta.merge(uri, DeltaTable(uri), reader(wider), ("id",), state(2))
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"], "n": [None, 5]}


def test_read_state_skips_commits_without_state(uri: str) -> None:
    append(uri, reader(rows([1], ["a"])), state(1, "append_only"))
    append(uri, reader(rows([2], ["b"])), state(2, "append_only"))
    write_deltalake(uri, rows([3], ["c"]), mode="append")  # e.g. a maintenance or manual commit
    DeltaTable(uri).optimize.compact()
    states = committed_states(uri)
    assert states[0] is None and states[1] is None
    assert delta.read_state(DeltaTable(uri)) == state(2, "append_only")


def test_read_state_is_none_when_no_commit_has_one(uri: str) -> None:
    write_deltalake(uri, rows([1], ["a"]))
    assert delta.read_state(DeltaTable(uri)) is None


def test_timestamp_cursor_survives_the_commit(uri: str) -> None:
    at = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    sync_state = SyncState(method="incremental", replication_key="at", key_kind="timestamp", cursor=at)
    data = pa.table({"at": pa.array([at], pa.timestamp("us", tz="UTC"))})
    delta.overwrite(uri, delta.open_table(uri), reader(data), sync_state)
    assert delta.read_state(DeltaTable(uri)) == sync_state


def test_widen_rewrites_types_and_keeps_the_state(uri: str) -> None:
    initial = pa.table({"id": pa.array([1, 2], pa.int32()), "amount": pa.array([1.5, 2.5], pa.float32())})
    append(uri, reader(initial), state(2, "append_only", identity_columns=("keep-me",)))
    delta.widen(uri, DeltaTable(uri), {"id": pa.int64(), "amount": pa.float64()})
    table = DeltaTable(uri)
    data = table.to_pyarrow_table()
    assert data.schema.field("id").type == pa.int64()
    assert data.schema.field("amount").type == pa.float64()
    assert data.sort_by("id").to_pydict() == {"id": [1, 2], "amount": [1.5, 2.5]}
    assert delta.read_state(table) == state(2, "append_only", identity_columns=("keep-me",))
    assert committed_states(uri)[0] == state(2, "append_only", identity_columns=("keep-me",))


def test_widen_refuses_a_table_without_state(uri: str) -> None:
    write_deltalake(uri, pa.table({"id": pa.array([1], pa.int32())}))
    with pytest.raises(ValueError, match="no sync state"):
        delta.widen(uri, DeltaTable(uri), {"id": pa.int64()})
    assert DeltaTable(uri).version() == 0


@pytest.mark.parametrize("mode", ["append", "merge", "overwrite"])
def test_a_commit_based_on_a_stale_version_conflicts_instead_of_adding_rows_twice(uri: str, mode: str) -> None:
    delta.overwrite(uri, None, reader(rows([1, 2], ["a", "b"])), state(2))
    first, second = DeltaTable(uri), DeltaTable(uri)  # two syncs that read the same version
    delta.append(uri, first, reader(rows([3], ["c"])), state(3))
    with pytest.raises(ConcurrentSyncError, match="another sync of this table committed"):
        if mode == "append":
            delta.append(uri, second, reader(rows([3], ["c"])), state(3))
        elif mode == "merge":
            delta.merge(uri, second, reader(rows([3], ["c"])), ("id",), state(3))
        else:
            delta.overwrite(uri, second, reader(rows([1, 2, 3], ["a", "b", "c"])), state(3))
    assert contents(uri) == {"id": [1, 2, 3], "v": ["a", "b", "c"]}


# MERGE in bounded memory (warehouse/upsert.py): the change set is spooled to the system temp
# dir and the commit replaces the rows of the changed keys' spans; MERGE stays where only it
# gives the result. Either way the table must hold exactly what an upsert gives.


def numbered(ids: range | list[int], tag: str) -> pa.Table:
    return rows(list(ids), [f"{tag}{i}" for i in ids])


def expected_upsert(before: pa.Table, change: pa.Table, key: str = "id") -> dict[str, list[object]]:
    merged = {k: v for k, v in zip(before[key].to_pylist(), before["v"].to_pylist(), strict=True)}
    merged.update(zip(change[key].to_pylist(), change["v"].to_pylist(), strict=True))
    ordered = sorted(merged)
    return {key: ordered, "v": [merged[k] for k in ordered]}


def last_commit(uri: str) -> dict[str, object]:
    return DeltaTable(uri).history(1)[0]


def test_merge_replaces_the_changed_keys_spans_in_one_commit(uri: str) -> None:
    before = numbered(range(1, 1001), "old")
    delta.overwrite(uri, None, reader(before), state(1000))
    # Updates spread over the table (more keys than spans, so spans hold unchanged rows too) and inserts.
    change = numbered([*range(3, 1001, 7), *range(1001, 1051)], "new")
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(1050))
    assert contents(uri) == expected_upsert(before, change)
    assert DeltaTable(uri).version() == 1
    commit = last_commit(uri)
    assert commit["operation"] == "WRITE" and "predicate" in commit["operationParameters"]  # type: ignore[operator]
    assert load_state(commit[STATE_KEY]) == state(1050)  # type: ignore[arg-type]
    assert metrics["method"] == "replace"
    assert (metrics["num_target_rows_updated"], metrics["num_target_rows_inserted"]) == (143, 50)
    assert metrics["num_target_rows_kept"] > 0 and metrics["spans"] <= upsert.MAX_SPANS


def test_merge_rewrites_only_the_files_its_spans_reach(uri: str) -> None:
    files: list[set[str]] = []
    for n, tag in enumerate("abc"):
        data = reader(numbered(range(100 * n + 1, 100 * n + 101), tag))
        table = delta.open_table(uri)
        if table is None:
            delta.overwrite(uri, None, data, state(100))
        else:
            delta.append(uri, table, data, state(100 * n + 100))
        files.append(set(DeltaTable(uri).file_uris()) - set().union(*files))
    delta.merge(uri, DeltaTable(uri), reader(numbered([150, 160], "new")), ("id",), state(300))
    after = set(DeltaTable(uri).file_uris())
    assert files[0] <= after and files[2] <= after  # ids 1-100 and 201-300: no span reaches them
    assert not files[1] & after  # the file of ids 101-200 was rewritten
    assert contents(uri)["v"][148:161] == ["b149", "new150", *(f"b{i}" for i in range(151, 160)), "new160", "b161"]


def test_merge_passes_the_bounded_write_settings_and_commits_the_right_rows(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    import deltalake

    delta.overwrite(uri, None, reader(numbered(range(1, 5001), "old")), state(5000))
    spool_root = tmp_path / "system-temp"
    spool_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_root))
    seen: dict[str, object] = {}
    real_write = deltalake.write_deltalake

    def spy(table: object, data: pa.RecordBatchReader, **kwargs: object) -> object:
        seen.update(kwargs)
        seen["spool"] = [p.name for p in spool_root.iterdir()]
        batches = list(data)
        seen["batch_bytes"] = max(b.nbytes for b in batches)
        return real_write(table, pa.RecordBatchReader.from_batches(data.schema, batches), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deltalake, "write_deltalake", spy)
    wide = pa.table({"id": pa.array(range(2001, 7001), pa.int64()), "v": ["x" * 2000] * 5000})
    delta.merge(uri, DeltaTable(uri), reader(wide), ("id",), state(7000))
    assert seen["mode"] == "overwrite" and seen["schema_mode"] == "merge"
    assert seen["predicate"] == '("id" >= 2001 AND "id" <= 7000)'
    assert seen["target_file_size"] == delta.TARGET_FILE_SIZE
    assert str(seen["writer_properties"]) == str(delta.writer_properties())
    assert [n for n in seen["spool"] if n.startswith("ws-merge-")]  # type: ignore[attr-defined]
    assert list(spool_root.iterdir()) == []  # removed after the commit
    assert seen["batch_bytes"] <= 2 * spool.BATCH_BYTES  # type: ignore[operator]
    result = contents(uri)
    assert result["id"] == list(range(1, 7001))
    assert result["v"] == [f"old{i}" for i in range(1, 2001)] + ["x" * 2000] * 5000


def test_merge_on_string_keys_replaces_spans_and_quotes_them(uri: str) -> None:
    names = [f"user-{i:04d}" for i in range(200)] + ["o'brien"]
    delta.overwrite(uri, None, reader(rows_by(names, "old")), state(1))
    change = rows_by([*names[::3], "o'brien", "zed"], "new")
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("name",), state(2))
    assert metrics["method"] == "replace"
    assert contents(uri, key="name") == expected_upsert(rows_by(names, "old"), change, key="name")


def rows_by(names: list[str], tag: str) -> pa.Table:
    return pa.table({"name": pa.array(names, pa.string()), "v": [f"{tag}:{n}" for n in names]})


@pytest.mark.parametrize(
    "case",
    ["timestamp key", "source lost a column", "backslash in a key", "NULL key", "repeated key", "no rows"],
)
def test_merge_keeps_delta_merge_where_only_it_gives_the_result(uri: str, case: str) -> None:
    at = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    if case == "timestamp key":
        before = pa.table({"id": pa.array(at, pa.timestamp("us", tz="UTC")), "v": ["a", "b", "c"]})
        change = pa.table({"id": pa.array(at[1:], pa.timestamp("us", tz="UTC")), "v": ["B", "C"]})
    elif case == "backslash in a key":
        before, change = rows_by(["a\\1", "b"], "old"), rows_by(["a\\1"], "new")
        before, change = before.rename_columns(["id", "v"]), change.rename_columns(["id", "v"])
    else:
        before = numbered(range(1, 4), "old")
        change = {
            "source lost a column": numbered([2, 9], "new"),
            "NULL key": pa.table({"id": pa.array([2, None], pa.int64()), "v": ["new2", "newnull"]}),
            "repeated key": numbered([5, 5], "new"),
            "no rows": numbered([], "new"),
        }[case]
    if case == "source lost a column":
        before = before.append_column("extra", pa.array(["e1", "e2", "e3"]))
    delta.overwrite(uri, None, reader(before), state(3))
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(9))
    assert metrics["method"] == "merge"
    table = DeltaTable(uri).to_pyarrow_table()
    if case == "source lost a column":  # MERGE keeps what the source no longer has for matched rows
        got = table.sort_by("id").to_pydict()
        assert got == {"id": [1, 2, 3, 9], "v": ["old1", "new2", "old3", "new9"], "extra": ["e1", "e2", "e3", None]}
    elif case == "repeated key":  # neither side matched: MERGE inserts both, as before
        assert table.num_rows == 5
    elif case == "NULL key":  # NULL never matches: the row is inserted
        assert sorted(table["v"].to_pylist()) == ["new2", "newnull", "old1", "old3"]
    elif case == "no rows":  # delta-rs commits nothing for an empty MERGE (as before)
        assert table.num_rows == 3
        return
    else:
        assert table.num_rows == (3 if case == "timestamp key" else 2)
    assert delta.read_state(DeltaTable(uri)) == state(9)


def test_merge_on_a_composite_key_keeps_the_rows_its_span_holds(uri: str) -> None:
    regions, ids = ["eu"] * 50 + ["us"] * 50, [*range(1, 51), *range(1, 51)]
    initial = pa.table(
        {
            "region": regions,
            "id": pa.array(ids, pa.int64()),
            "v": [f"{r}{i}" for r, i in zip(regions, ids, strict=True)],
        }
    )
    delta.overwrite(uri, None, reader(initial), state(50))
    change = pa.table({"region": ["us", "us", "us"], "id": pa.array([3, 7, 51], pa.int64()), "v": ["A", "B", "C"]})
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("region", "id"), state(51))
    assert metrics["method"] == "replace" and metrics["num_target_rows_kept"] == 48
    result = DeltaTable(uri).to_pyarrow_table().sort_by([("region", "ascending"), ("id", "ascending")]).to_pydict()
    expected = dict(zip(zip(regions, ids, strict=True), initial["v"].to_pylist(), strict=True))
    expected.update({("us", 3): "A", ("us", 7): "B", ("us", 51): "C"})
    assert list(zip(result["region"], result["id"], result["v"], strict=True)) == [
        (r, i, v) for (r, i), v in sorted(expected.items())
    ]


def test_a_spool_that_cannot_be_written_says_where_and_commits_nothing(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    delta.overwrite(uri, None, reader(numbered(range(1, 11), "old")), state(10))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
    with pytest.raises(OSError, match="MERGE spool .*no-such-dir.* point TMPDIR at a larger disk"):
        delta.merge(uri, DeltaTable(uri), reader(numbered([5], "new")), ("id",), state(11))
    assert DeltaTable(uri).version() == 0


@pytest.mark.parametrize("keys", [("region", "id"), ("id", "region")])
def test_merge_keeps_target_rows_whose_key_is_null_or_missing_from_older_files(uri: str, keys: tuple[str, ...]) -> None:
    # Rows a MERGE inserted with a NULL key part, and rows of files written before a key column
    # existed, match no changed key: whether or not the delete takes them, they must stay, once.
    old = pa.table({"region": ["eu", "eu"], "v": ["old-a", "old-b"]})
    delta.overwrite(uri, None, reader(old), state(1))
    with_id = pa.table({"region": ["eu", "eu", None], "id": pa.array([1, 2, 3], pa.int64()), "v": ["a", "b", "c"]})
    delta.append(uri, DeltaTable(uri), reader(with_id), state(2))
    change = pa.table({"region": ["eu", "eu"], "id": pa.array([2, 9], pa.int64()), "v": ["B", "I"]})
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), keys, state(3))
    assert metrics["method"] == "replace"
    got = sorted(DeltaTable(uri).to_pyarrow_table().to_pylist(), key=lambda r: r["v"])
    assert [(r["region"], r["id"], r["v"]) for r in got] == [
        ("eu", 2, "B"), ("eu", 9, "I"), ("eu", 1, "a"), (None, 3, "c"), ("eu", None, "old-a"), ("eu", None, "old-b")
    ]  # fmt: skip


def test_a_string_key_table_rewritten_by_delta_merge_still_takes_bounded_updates(uri: str) -> None:
    # delta-rs's MERGE (taken for a key SQL would need escaped) writes string_view and binary_view
    # files; the bounded path read them as they were and failed on every later run (issue 13, case 8).
    names = [f"user-{i:04d}" for i in range(60)] + ["back\\slash"]
    before = rows_by(names, "old").append_column("raw", pa.array([n.encode() for n in names], pa.binary()))
    delta.overwrite(uri, None, reader(before), state(1))
    escaped = rows_by(["back\\slash", "user-0007"], "merged").append_column("raw", pa.array([b"m1", b"m2"]))
    assert delta.merge(uri, DeltaTable(uri), reader(escaped), ("name",), state(2))["method"] == "merge"
    view_files = [
        f for f in DeltaTable(uri).file_uris() if pa.types.is_string_view(pq.read_schema(f).field("name").type)
    ]
    assert view_files, "delta-rs no longer writes string_view: the case this test guards is gone"
    change = rows_by(["user-0003", "user-0007", "user-0100"], "new").append_column(
        "raw", pa.array([b"n3", b"n7", b"n100"])
    )
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("name",), state(3))
    assert metrics["method"] == "replace" and metrics["num_target_rows_updated"] == 2
    got = DeltaTable(uri).to_pyarrow_table().sort_by("name").to_pydict()
    expected = {n: (f"old:{n}", n.encode()) for n in names}
    expected.update({"back\\slash": ("merged:back\\slash", b"m1"), "user-0007": ("new:user-0007", b"n7")})
    expected.update({"user-0003": ("new:user-0003", b"n3"), "user-0100": ("new:user-0100", b"n100")})
    assert list(zip(got["name"], got["v"], got["raw"], strict=True)) == [(n, *expected[n]) for n in sorted(expected)]


def test_a_table_file_the_bounded_merge_cannot_read_is_reported_as_the_warehouse_s_fault(uri: str) -> None:
    # An Arrow error reading the table's own files was reported as "a source value cannot be
    # stored" with advice to cast the source column (issue 13, case 8): name the table instead.
    delta.overwrite(uri, None, reader(numbered(range(1, 101), "old")), state(100))
    (data_file,) = DeltaTable(uri).file_uris()
    Path(data_file).write_bytes(b"not a parquet file" * 64)
    with pytest.raises(SyncFatalError, match=r"reading the synced table's own files .* not in a source value"):
        delta.merge(uri, DeltaTable(uri), reader(numbered([5, 101], "new")), ("id",), state(101))
    assert DeltaTable(uri).version() == 0


def test_a_small_change_set_merges_from_memory_without_a_spool(
    uri: str, in_memory: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    before = numbered(range(1, 1001), "old")
    delta.overwrite(uri, None, reader(before), state(1000))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))  # a spool would fail here
    change = numbered([*range(3, 1001, 7), *range(1001, 1051)], "new")
    metrics = delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(1050))
    assert metrics["method"] == "merge" and metrics["num_target_rows_updated"] == 143
    assert contents(uri) == expected_upsert(before, change)
    assert load_state(last_commit(uri)[STATE_KEY]) == state(1050)  # type: ignore[arg-type]


def test_a_change_set_over_the_limit_is_spooled(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changeset, "IN_MEMORY_ROWS", 100)
    delta.overwrite(uri, None, reader(numbered(range(1, 1001), "old")), state(1000))
    assert (
        delta.merge(uri, DeltaTable(uri), reader(numbered(range(1, 100), "a")), ("id",), state(1))["method"] == "merge"
    )
    big = numbered(range(1, 102), "b")
    assert delta.merge(uri, DeltaTable(uri), reader(big), ("id",), state(2))["method"] == "replace"
    assert contents(uri)["v"][:102] == [*(f"b{i}" for i in range(1, 102)), "old102"]


@pytest.mark.parametrize("keys", [("id",), ("region", "id")])
def test_rows_all_stored_as_they_are_commit_nothing_when_asked(
    uri: str, in_memory: None, keys: tuple[str, ...]
) -> None:
    table = numbered(range(1, 101), "old").append_column("region", pa.array(["eu"] * 100))
    synced = table.append_column("_ws_synced_at", pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 100))
    delta.overwrite(uri, None, reader(synced), state(100))
    reread = table.slice(95).append_column("_ws_synced_at", pa.array([datetime(2025, 1, 1, tzinfo=UTC)] * 5))
    metrics = delta.merge(uri, DeltaTable(uri), reader(reread), keys, state(100), skip_if_stored=True)
    assert metrics["method"] == "none" and DeltaTable(uri).version() == 0
    # Not asked (the cursor moved), or one value differs: merged as always.
    assert delta.merge(uri, DeltaTable(uri), reader(reread), keys, state(100))["method"] == "merge"
    changed = reread.set_column(1, "v", pa.array(["old96", "old97", "NEW", "old99", "old100"]))
    metrics = delta.merge(uri, DeltaTable(uri), reader(changed), keys, state(100), skip_if_stored=True)
    assert metrics["method"] == "merge" and DeltaTable(uri).version() == 2
    assert contents(uri)["v"][97] == "NEW"


def test_text_keys_in_files_delta_rs_merged_are_found_stored(uri: str, in_memory: None) -> None:
    # delta-rs's MERGE writes text as string_view, which a scan filter on the table's string type
    # cannot compare: such a re-read counted as changed and every run committed a version of its own.
    ids = pa.table({"id": ["cus_a", "cus_b", "cus_c"], "v": ["a", "b", "c"]})
    delta.overwrite(uri, None, reader(ids), state(3))
    change = pa.table({"id": ["cus_b", "cus_d"], "v": ["B", "d"]})
    assert delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(4))["method"] == "merge"
    assert delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(4), skip_if_stored=True)["method"] == "none"
    assert DeltaTable(uri).version() == 1
    changed = pa.table({"id": ["cus_b", "cus_d"], "v": ["B", "D"]})
    assert (
        delta.merge(uri, DeltaTable(uri), reader(changed), ("id",), state(4), skip_if_stored=True)["method"] == "merge"
    )
    assert contents(uri) == {"id": ["cus_a", "cus_b", "cus_c", "cus_d"], "v": ["a", "B", "c", "D"]}


def test_a_new_key_or_a_nan_counts_as_a_change(uri: str, in_memory: None) -> None:
    floats = pa.table({"id": pa.array([1, 2], pa.int64()), "f": pa.array([1.5, float("nan")])})
    delta.overwrite(uri, None, reader(floats), state(2))
    assert (
        delta.merge(uri, DeltaTable(uri), reader(floats), ("id",), state(2), skip_if_stored=True)["method"] == "merge"
    )
    same_and_new = pa.table({"id": pa.array([1, 3], pa.int64()), "f": pa.array([1.5, 2.5])})
    metrics = delta.merge(uri, DeltaTable(uri), reader(same_and_new), ("id",), state(3), skip_if_stored=True)
    assert metrics["method"] == "merge" and contents(uri)["id"] == [1, 2, 3]


def test_keys_above_int64_merge_from_memory_in_place(uri: str, in_memory: None) -> None:
    # decimal(20, 0) statistics are clamped to int64: a MERGE bounded by them (not streamed)
    # missed the stored rows and inserted the updates a second time.
    ids = [Decimal(2**63 + n) for n in range(3)]
    before = pa.table({"id": pa.array(ids, pa.decimal128(20, 0)), "v": ["a", "b", "c"]})
    delta.overwrite(uri, None, reader(before), state(3))
    change = pa.table({"id": pa.array(ids[1:], pa.decimal128(20, 0)), "v": ["B", "C"]})
    assert delta.merge(uri, DeltaTable(uri), reader(change), ("id",), state(4))["method"] == "merge"
    assert contents(uri) == {"id": ids, "v": ["a", "B", "C"]}
