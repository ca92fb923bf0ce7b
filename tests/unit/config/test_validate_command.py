"""`python -m warehouse_sources validate DIR`: problems fail it, skipped files are listed and do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse_sources.__main__ import main

SOURCE = "name: {name}\nkind: postgres\nconn_id: pg\ntables:\n  - name: public.{name}\n"


def test_skipped_files_are_listed_without_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(SOURCE.format(name="good"))
    (tmp_path / "billing.YAML").write_text(SOURCE.format(name="billing"))
    (tmp_path / "crm.yaml.bak").write_text(SOURCE.format(name="crm"))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "shop.yml").write_text(SOURCE.format(name="shop"))

    assert main(["validate", str(tmp_path)]) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"ok   {tmp_path / 'good.yaml'}: source 'good', 1 tables",
        f"skip {tmp_path / 'billing.YAML'}: extension .YAML: only .yaml and .yml (lower case) are read; "
        "rename it to billing.yaml to load it",
        f"skip {tmp_path / 'crm.yaml.bak'}: extension .bak: only files ending in .yaml or .yml are read "
        "(a backup or parked copy?)",
        f"skip {tmp_path / 'old' / 'shop.yml'}: in a subfolder: only files directly in sources_dir are read",
    ]


def test_problems_still_fail_and_skipped_files_are_still_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(SOURCE.format(name="bad") + "schedule: '0 0 30 2 *'\n")
    (tmp_path / "bad.Yml").write_text(SOURCE.format(name="other"))

    assert main(["validate", str(tmp_path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"FAIL {tmp_path / 'bad.yaml'}: schedule: '0 0 30 2 *' never fires")
    assert out[1].startswith(f"skip {tmp_path / 'bad.Yml'}: extension .Yml")
    assert len(out) == 2


def test_validate_says_to_quote_a_yaml_boolean_and_reads_merge_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "yes.yaml").write_text(SOURCE.format(name="t").replace("name: t\n", "name: yes\n", 1))
    (tmp_path / "merged.yaml").write_text(
        "name: merged\nkind: postgres\nconn_id: pg\ntables:\n"
        "  - &base {name: public.a, sync: incremental, replication_key: id}\n"
        "  - {<<: *base, name: public.b}\n"
    )

    assert main(["validate", str(tmp_path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert f"ok   {tmp_path / 'merged.yaml'}: source 'merged', 2 tables" in out
    assert (
        f"FAIL {tmp_path / 'yes.yaml'}: name: Input should be a valid string; YAML read yes as the boolean true; "
        'to mean the text, quote it: name: "yes"' in out
    ), out
