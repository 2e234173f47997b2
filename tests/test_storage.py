"""The file store: scratch files vanish unless put; stored files are found by kind and name only."""
import pytest

from app.storage import FileStore


def test_scratch_file_is_removed_unless_put(tmp_path):
    files = FileStore(tmp_path)
    with files.scratch(".xlsx") as kept:
        kept.write_bytes(b"kept")
        name = files.put("results", kept)
    with pytest.raises(RuntimeError), files.scratch(".xlsx") as lost:
        lost.write_bytes(b"half written")
        raise RuntimeError("the writer died")
    assert not lost.exists() and not kept.exists()
    assert files.read_bytes("results", name) == b"kept"
    assert [f.name for f in files.list("results")] == [name]
    assert not any((tmp_path / "tmp").iterdir())


def test_names_cannot_leave_their_kind(tmp_path):
    files = FileStore(tmp_path)
    (tmp_path / "secret.txt").write_text("x")
    for name in ("../secret.txt", "..\\secret.txt", ".hidden", "", None):
        assert not files.exists("uploads", name)
        with pytest.raises(FileNotFoundError), files.local_copy("uploads", name or ""):
            pass
    with pytest.raises(FileNotFoundError):
        files.put_bytes("nowhere", b"x", ".bin")


def test_delete_is_idempotent(tmp_path):
    files = FileStore(tmp_path)
    name = files.put_bytes("exports", b"data", ".xlsx")
    files.delete("exports", name)
    files.delete("exports", name)
    assert not files.exists("exports", name)
