"""The file store: every file the application keeps (uploads, import result files, exports,
pictures, attachments) goes through here, by kind and generated name.

Embedded default: folders under ``FILE_DIR`` (one per kind). Code never builds paths into the
store itself: it writes into a scratch file and ``put``s it, reads through ``local_copy`` (a real
path for parsers such as calamine or zipfile), and answers downloads with ``response``. Another
backend (an S3-compatible bucket for several hosts) then only has to implement ``FileStore``.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, send_file

KINDS = ("uploads", "results", "exports", "images", "attachments")


@dataclass(frozen=True)
class StoredFile:
    kind: str
    name: str
    size: int
    modified: datetime  # aware UTC


def new_name(suffix: str = ".xlsx") -> str:
    """Stored files are named by us, never by the upload."""
    return f"{uuid.uuid4().hex}{suffix}"


class FileStore:
    """Local folders: ``<root>/<kind>/<name>``; scratch files under ``<root>/tmp`` (same file
    system, so ``put`` is a rename and a crash never leaves a half-written stored file)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # --- writing ---------------------------------------------------------------------
    @contextmanager
    def scratch(self, suffix: str = ".xlsx") -> Iterator[Path]:
        """A temporary local path to write into; removed afterwards unless it was ``put``."""
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / new_name(suffix)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def put(self, kind: str, path: Path, name: str | None = None) -> str:
        """Move a finished scratch file into the store; returns its stored name."""
        name = name or new_name(path.suffix)
        target = self._path(kind, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return name

    def put_bytes(self, kind: str, data: bytes, suffix: str) -> str:
        with self.scratch(suffix) as path:
            path.write_bytes(data)
            return self.put(kind, path)

    # --- reading ---------------------------------------------------------------------
    def exists(self, kind: str, name: str | None) -> bool:
        try:
            return self._path(kind, name).is_file()
        except FileNotFoundError:
            return False

    @contextmanager
    def local_copy(self, kind: str, name: str) -> Iterator[Path]:
        """A local path holding the stored file, for the duration of the block.

        Raises:
            FileNotFoundError: nothing stored under that name.
        """
        path = self._path(kind, name)
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path

    def read_bytes(self, kind: str, name: str) -> bytes:
        with self.local_copy(kind, name) as path:
            return path.read_bytes()

    def response(self, kind: str, name: str, *, mimetype: str, download_name: str | None = None,
                 max_age: int | None = None):
        """The stored file as a download (``download_name``) or inline (pictures)."""
        return send_file(self._path(kind, name), mimetype=mimetype, as_attachment=download_name is not None,
                         download_name=download_name, max_age=max_age)

    # --- housekeeping ---------------------------------------------------------------------
    def delete(self, kind: str, name: str | None) -> None:
        if name:
            self._path(kind, name).unlink(missing_ok=True)

    def list(self, kind: str) -> Iterator[StoredFile]:
        folder = self.root / kind
        if not folder.is_dir():
            return
        for entry in os.scandir(folder):
            if entry.is_file():
                stat = entry.stat()
                yield StoredFile(kind, entry.name, stat.st_size,
                                 datetime.fromtimestamp(stat.st_mtime, timezone.utc))

    def free_bytes(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free

    def _path(self, kind: str, name: str) -> Path:
        if kind not in KINDS or not name or "/" in name or "\\" in name or name.startswith("."):
            raise FileNotFoundError(name)
        return self.root / kind / name


def store() -> FileStore:
    """The app's file store (one per app, made on first use)."""
    app = current_app._get_current_object()
    instance = app.extensions.get("file_store")
    if instance is None:
        instance = app.extensions["file_store"] = FileStore(app.config["FILE_DIR"])
    return instance
