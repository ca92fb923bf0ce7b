"""Loading a folder of source YAML files: every problem reported, one broken file never blocks the others."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from warehouse_sources.config.loader import (
    MAX_FILE_BYTES,
    format_location,
    load_source_file,
    load_sources,
)

GOOD = """\
name: billing_db
kind: postgres
conn_id: billing_pg
schedule: 6h
table_prefix: billing_
tables:
  - name: public.charges
    sync: incremental
    replication_key: updated_at
    primary_key: [id]
    lookback: 10m
  - name: public.audit_log
    sync: append_only
    replication_key: id
  - name: public.plans
    sync: full_table
    enabled: false
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def source_yaml(name: str, *tables: str, prefix: str = "") -> str:
    lines = [f"name: {name}", "kind: postgres", "conn_id: pg", f"table_prefix: '{prefix}'", "tables:"]
    lines += [f"  - name: {t}" for t in tables]
    return "\n".join(lines) + "\n"


def problems_of(path: Path) -> list[str]:
    source, problems = load_source_file(path)
    assert source is None
    assert problems
    return problems


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("tables", 2, "replication_key"), "tables[2].replication_key"),
        (("name",), "name"),
        (("tables", 0, "primary_key", 1), "tables[0].primary_key[1]"),
        ((), "(top level)"),
    ],
)
def test_format_location(loc: tuple[int | str, ...], text: str) -> None:
    assert format_location(loc) == text


def test_good_file_loads(tmp_path: Path) -> None:
    source, problems = load_source_file(write(tmp_path, "billing.yaml", GOOD))
    assert problems == []
    assert source is not None
    assert source.name == "billing_db"
    assert [t.name for t in source.tables] == ["public.charges", "public.audit_log", "public.plans"]
    assert source.tables[0].lookback == "10m"
    assert source.tables[2].enabled is False


def test_three_mistakes_give_three_problems_each_with_file_and_location(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
        name: billing_db
        kind: postgres
        conn_id: pg
        schedule: every day
        tables:
          - name: public.a
          - name: public.b
          - name: public.c
            sync: full_table
            replication_key: updated_at
            colour: red
        """,
    )
    problems = problems_of(path)
    assert len(problems) == 3
    assert all(p.startswith(f"{path}: ") for p in problems)
    by_location = {p.split(": ")[1]: p for p in problems}
    assert set(by_location) == {"schedule", "tables[2].replication_key", "tables[2].colour"}
    assert by_location["tables[2].replication_key"] == (
        f"{path}: tables[2].replication_key: not used by sync: full_table; remove it or pick another method"
    )
    assert "unknown key" in by_location["tables[2].colour"]
    assert "'every day'" in by_location["schedule"]


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "")
    assert problems_of(path) == [
        f"{path}: (top level): file is empty; expected a mapping with name, kind, conn_id, tables"
    ]


def test_binary_file_is_refused_as_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: a\n\xff\xfe\x00\x01")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: ")
    assert "not UTF-8" in problem
    assert "byte 8" in problem


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "name: a\nkind: postgres\ntables: [a, b\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: line ")
    assert "invalid YAML" in problem


def test_list_at_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- name: a\n- name: b\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: (top level): file is list; expected a mapping")


def test_scalar_at_top_level(tmp_path: Path) -> None:
    [problem] = problems_of(write(tmp_path, "scalar.yaml", "just text\n"))
    assert "file is str" in problem


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    [problem] = problems_of(path)
    assert f"at most {MAX_FILE_BYTES}" in problem


def test_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "t").replace("kind:", "tabels: []\nkind:"))
    assert problems_of(path) == [
        f"{path}: tabels: unknown key; check its spelling against the YAML reference in the README"
    ]


def test_wrong_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - name: t
            enabled: maybe
            primary_key: id
        """,
    )
    problems = problems_of(path)
    assert sorted(p.split(": ")[1] for p in problems) == ["tables[0].enabled", "tables[0].primary_key"]
    assert any("valid boolean" in p for p in problems)
    assert any("valid list" in p for p in problems)


def test_missing_required_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: s\n")
    locations = {p.split(": ")[1] for p in problems_of(path)}
    assert locations == {"kind", "conn_id", "tables"}


def test_bad_cron_schedule(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "t") + "schedule: '61 * * * *'\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: schedule: '61 * * * *' is neither a shorthand")


def test_valid_cron_schedule_loads(tmp_path: Path) -> None:
    source, problems = load_source_file(write(tmp_path, "s.yaml", source_yaml("s", "t") + "schedule: '*/10 * * * *'\n"))
    assert problems == [] and source is not None
    assert source.schedule == "*/10 * * * *"


def test_lookback_on_non_incremental_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - name: t
            sync: append_only
            replication_key: id
            lookback: 5
        """,
    )
    assert problems_of(path) == [f"{path}: tables[0].lookback: only applies to sync: incremental"]


def test_missing_replication_key_for_incremental(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - name: t
          - name: u
            sync: incremental
        """,
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: tables[1].replication_key: sync: incremental needs a replication_key")


def test_replication_key_on_full_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - name: t
            replication_key: id
        """,
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].replication_key: not used by sync: full_table")


def test_wrong_lookback_type_is_reported_at_the_field_the_user_wrote(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - name: t
            sync: incremental
            replication_key: id
            lookback: 1.5
        """,
    )
    assert {p.split(": ")[1] for p in problems_of(path)} == {"tables[0].lookback"}


def test_unsafe_table_name_is_refused_with_a_hint_to_set_synced_name(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "'x; drop table y'"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].name: synced table name 'x; drop table y'")
    assert "set synced_name" in problem


def test_unsafe_table_name_loads_with_a_synced_name(tmp_path: Path) -> None:
    text = source_yaml("s", "'x; drop table y'") + "    synced_name: x_drop\n"
    source, problems = load_source_file(write(tmp_path, "s.yaml", text))
    assert problems == [] and source is not None
    assert source.synced_name(source.tables[0]) == "x_drop"


def test_synced_name_clash_inside_one_file_is_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "public.Orders", "archive.orders"))
    assert problems_of(path) == [
        f"{path}: tables[1].name: synced table name 'orders' is also used by tables[0]; set synced_name on one of them"
    ]


def test_broken_file_does_not_stop_a_good_one(tmp_path: Path) -> None:
    bad = write(tmp_path, "a_bad.yaml", "name: [oops\n")
    write(tmp_path, "b_good.yaml", GOOD)
    result = load_sources(tmp_path)
    assert [s.config.name for s in result.sources] == ["billing_db"]
    assert result.sources[0].path == tmp_path / "b_good.yaml"
    assert list(result.problems) == [bad]


def test_only_yaml_files_are_read_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", source_yaml("b_src", "b"))
    write(tmp_path, "a.yaml", source_yaml("a_src", "a"))
    write(tmp_path, "notes.txt", "not yaml: [")
    write(tmp_path, "c.yaml.bak", "not yaml: [")
    (tmp_path / "dir.yaml").mkdir()
    result = load_sources(tmp_path)
    assert [s.config.name for s in result.sources] == ["a_src", "b_src"]
    assert result.problems == {}


def test_duplicate_source_name_is_reported_on_the_later_file(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", source_yaml("shop", "orders"))
    later = write(tmp_path, "b.yaml", source_yaml("shop", "customers"))
    result = load_sources(tmp_path)
    assert [s.path for s in result.sources] == [first]
    assert result.problems == {
        later: [f"{later}: name: source 'shop' is already defined in {first}; give each source a unique name"]
    }


def test_duplicate_synced_table_across_files_is_case_insensitive(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", source_yaml("shop", "public.orders"))
    later = write(tmp_path, "b.yaml", source_yaml("crm", "public.customers", "sales.Orders"))
    result = load_sources(tmp_path)
    assert [s.config.name for s in result.sources] == ["shop"]
    [problem] = result.problems[later]
    assert problem.startswith(f"{later}: tables[1].name: synced table name 'Orders' is already used by {first}")
    assert "table_prefix" in problem


def test_prefix_avoids_a_clash(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", source_yaml("shop", "orders"))
    write(tmp_path, "b.yaml", source_yaml("crm", "orders", prefix="crm_"))
    result = load_sources(tmp_path)
    assert result.problems == {}
    assert [s.config.name for s in result.sources] == ["shop", "crm"]


def test_a_rejected_file_does_not_claim_names(tmp_path: Path) -> None:
    # a.yaml is broken, so b.yaml (same source name and table) is the first valid definition.
    bad = write(tmp_path, "a.yaml", source_yaml("shop", "orders") + "colour: red\n")
    write(tmp_path, "b.yaml", source_yaml("shop", "orders"))
    result = load_sources(tmp_path)
    assert [s.path.name for s in result.sources] == ["b.yaml"]
    assert list(result.problems) == [bad]


def test_empty_directory(tmp_path: Path) -> None:
    result = load_sources(tmp_path)
    assert result.sources == [] and result.problems == {}


@pytest.mark.parametrize(
    ("prefix", "table", "synced"),
    [("", "_delta_log", "_delta_log"), ("_delta", "_x", "_delta_x"), ("", "_Change_Data", "_Change_Data")],
)
def test_synced_names_reserved_by_delta_are_refused_however_they_are_formed(
    tmp_path: Path, prefix: str, table: str, synced: str
) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", f"public.{table}", "public.fine", prefix=prefix))
    problem, *others = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].name: synced table name {synced!r} is reserved")
    assert "set synced_name (or table_prefix)" in problem
    # A reserved prefix makes every table's name reserved; each is reported.
    assert others == ([] if not prefix else [problem.replace("[0]", "[1]").replace(synced, f"{prefix}fine")])


def test_a_reserved_source_table_name_loads_under_another_synced_name(tmp_path: Path) -> None:
    text = source_yaml("s", "public._delta_log") + "    synced_name: delta_log_copy\n"
    source, problems = load_source_file(write(tmp_path, "s.yaml", text))
    assert problems == [] and source is not None
    assert source.synced_name(source.tables[0]) == "delta_log_copy"


def test_explicit_reserved_synced_name_is_reported_at_synced_name(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "public.events") + "    synced_name: _DELTA_LOG\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].synced_name: synced table name '_DELTA_LOG' is reserved")


def test_manual_and_null_schedules_load(tmp_path: Path) -> None:
    for schedule in ("manual", "null", "~", "'@quarterly'"):
        source, problems = load_source_file(
            write(tmp_path, "s.yaml", source_yaml("s", "t") + f"schedule: {schedule}\n")
        )
        assert problems == [] and source is not None, schedule
    assert source.schedule == "@quarterly"


def test_a_never_firing_cron_is_reported_with_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "t") + "schedule: '0 0 31 2 *'\n")
    assert problems_of(path) == [
        f"{path}: schedule: '0 0 31 2 *' never fires: no date matches it within 5 years (a day of the month "
        "that the month does not have, like 31 February); fix the day or month, or write 'manual'"
    ]


def test_huge_lookback_is_reported_with_file_and_field(tmp_path: Path) -> None:
    text = source_yaml("s", "t").replace("  - name: t\n", "  - {name: t, sync: incremental, replication_key: ts}\n")
    path = write(tmp_path, "s.yaml", text.replace("replication_key: ts}", "replication_key: ts, lookback: 999999d}"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].lookback: '999999d' is too long a lookback; at most 3650 days")


def test_a_snowflake_file_loads_with_its_names_kept(tmp_path: Path) -> None:
    text = source_yaml("dw", "ANALYTICS.ORDERS", '"ANALYTICS.Mixed Case"').replace("postgres", "snowflake")
    source, problems = load_source_file(write(tmp_path, "dw.yaml", text + "    synced_name: mixed_case\n"))
    assert problems == [] and source is not None
    assert source.kind == "snowflake"
    assert [source.synced_name(t) for t in source.tables] == ["ORDERS", "mixed_case"]


def test_problems_in_a_kinds_own_model_name_only_the_fields_the_user_wrote(tmp_path: Path) -> None:
    """Each kind validates with its own model: no model or union member names in locations."""
    text = source_yaml("dw", "A.B", "C.D").replace("postgres", "snowflake")
    text = text.replace("  - name: C.D\n", "  - name: C.D\n    sync: incremental\n    colour: red\n")
    path = write(tmp_path, "dw.yaml", text)
    assert problems_of(path) == [
        f"{path}: tables[1].replication_key: sync: incremental needs a replication_key "
        "(an integer, date or timestamp column)",
        f"{path}: tables[1].colour: unknown key; check its spelling against the YAML reference in the README",
    ]


def test_an_unknown_kind_is_one_problem_listing_the_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "t").replace("postgres", "oracle"))
    assert problems_of(path) == [
        f"{path}: kind: 'oracle' is not a source kind; write one of: 'postgres', 'mysql', 'snowflake', 's3', "
        "'stripe', 'hubspot'"
    ]


def test_merged_settings_load_and_explicit_keys_override_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - &incremental
            name: public.a
            sync: incremental
            replication_key: updated_at
          - <<: *incremental
            name: public.b
            replication_key: id
        """,
    )
    source, problems = load_source_file(path)
    assert problems == [] and source is not None
    assert [(t.name, t.sync, t.replication_key) for t in source.tables] == [
        ("public.a", "incremental", "updated_at"),
        ("public.b", "incremental", "id"),
    ]


def test_a_key_written_twice_beside_a_merge_is_still_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        name: s
        kind: postgres
        conn_id: pg
        tables:
          - &a {name: public.a, sync: full_table}
          - <<: *a
            name: public.b
            name: public.c
        """,
    )
    (problem,) = problems_of(path)
    assert "'name' is written twice in one mapping" in problem


@pytest.mark.parametrize(
    ("value", "read_as"),
    [("yes", "the boolean true"), ("off", "the boolean false"), ("null", "null (no value)"),
     ("0123", "the number 83"), ("2024-01-02", "a date"), ("1.5", "the number 1.5")],
)  # fmt: skip
def test_a_yaml_1_1_special_where_text_belongs_says_to_quote_it(tmp_path: Path, value: str, read_as: str) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "public.t").replace("conn_id: pg", f"conn_id: {value}"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: conn_id: ")
    assert f"YAML read {value} as {read_as}" in problem
    assert f'quote it: conn_id: "{value}"' in problem, problem


def test_the_quote_hint_names_a_list_item_by_its_value(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", source_yaml("s", "public.t") + "    primary_key: [id, on]\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: tables[0].primary_key[1]: ")
    assert 'YAML read on as the boolean true; to mean the text, quote it: "on"' in problem
