"""Which files of sources_dir are read, and the skipped ones `validate` lists with the reason."""

from __future__ import annotations

from pathlib import Path

from warehouse_sources.config.discovery import ignored_files, source_paths


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name: x\n")
    return path


def test_only_lower_case_yaml_files_directly_in_the_folder_are_read(tmp_path: Path) -> None:
    read = [touch(tmp_path / "a.yaml"), touch(tmp_path / "b.yml")]
    for name in ("c.YAML", "d.Yml", "e.yaml.bak", "sub/f.yaml"):
        touch(tmp_path / name)
    (tmp_path / "dir.yaml").mkdir()
    assert source_paths(tmp_path) == read


def test_skipped_files_are_listed_with_the_reason(tmp_path: Path) -> None:
    touch(tmp_path / "good.yaml")
    expected = {
        touch(tmp_path / "billing.YAML"): "extension .YAML: only .yaml and .yml (lower case) are read; "
        "rename it to billing.yaml to load it",
        touch(tmp_path / "crm.Yml"): "extension .Yml: only .yaml and .yml (lower case) are read; "
        "rename it to crm.yml to load it",
        touch(tmp_path / "shop.yaml.bak"): "extension .bak: only files ending in .yaml or .yml are read "
        "(a backup or parked copy?)",
        touch(tmp_path / "README.md"): "extension .md: only .yaml and .yml (lower case) are read",
        touch(tmp_path / "Makefile"): "extension (none): only .yaml and .yml (lower case) are read",
        touch(tmp_path / "old" / "billing.yaml"): "in a subfolder: only files directly in sources_dir are read",
        touch(tmp_path / "old" / "deeper" / "x.YML"): "in a subfolder: only files directly in sources_dir are read",
    }
    assert dict(ignored_files(tmp_path)) == expected
    assert [p for p, _ in ignored_files(tmp_path)] == sorted(expected)


def test_hidden_entries_and_other_files_in_subfolders_are_not_listed(tmp_path: Path) -> None:
    touch(tmp_path / ".gitkeep")
    touch(tmp_path / ".git" / "config.yaml")
    touch(tmp_path / "docs" / "notes.txt")
    touch(tmp_path / "docs" / ".hidden.yaml")
    assert ignored_files(tmp_path) == []


def test_a_missing_folder_has_nothing_to_list(tmp_path: Path) -> None:
    assert ignored_files(tmp_path / "nope") == []
