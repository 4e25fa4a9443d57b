"""The folder storage lists what it holds: every stored key, never a write under way."""

from __future__ import annotations

from pathlib import Path

from akta_service.core.storage import LocalStorage


def test_keys_are_every_stored_file_and_no_unfinished_write(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "files")
    assert list(store.keys()) == []  # a folder not made yet holds nothing
    store.put("documents/3274/ABC/one.pdf", b"%PDF-1.7")
    store.put("akta/3274/two.pdf", b"%PDF-1.7 signed")
    (tmp_path / "files" / "akta" / "3274" / ".three.pdf.0a1b2c.tmp").write_bytes(b"half")
    assert sorted(store.keys()) == ["akta/3274/two.pdf", "documents/3274/ABC/one.pdf"]
    store.delete("akta/3274/two.pdf")
    assert list(store.keys()) == ["documents/3274/ABC/one.pdf"]
