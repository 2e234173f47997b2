"""The file store: every file the application keeps (uploads, import result files, exports,
pictures, attachments) goes through here, by kind and generated name.

Embedded default: folders under ``FILE_DIR`` (one per kind). Several hosts (``FILE_STORE=s3``):
an S3-compatible bucket (``S3FileStore``), scratch files still local. Code never builds paths
into the store itself: it writes into a scratch file and ``put``s it, reads through
``local_copy`` (a real path for parsers such as calamine or zipfile), and answers downloads with
``response``. Every write starts with a scratch file, which is refused while the local disk has
less than ``FILE_MIN_FREE_MB`` free.
"""
from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, send_file

from app.services.errors import DomainError

KINDS = ("uploads", "results", "exports", "images", "attachments")


@dataclass(frozen=True)
class StoredFile:
    kind: str
    name: str
    size: int
    modified: datetime  # aware UTC


class StorageFullError(DomainError):
    """The disk is nearly full: nothing new is written until space is freed."""

    code = "storage_full"


def new_name(suffix: str = ".xlsx") -> str:
    """Stored files are named by us, never by the upload."""
    return f"{uuid.uuid4().hex}{suffix}"


class FileStore:
    """Local folders: ``<root>/<kind>/<name>``; scratch files under ``<root>/tmp`` (same file
    system, so ``put`` is a rename and a crash never leaves a half-written stored file)."""

    def __init__(self, root: str | Path, *, min_free_bytes: int = 0):
        self.root = Path(root)
        self.min_free_bytes = min_free_bytes

    # --- writing ---------------------------------------------------------------------
    @contextmanager
    def scratch(self, suffix: str = ".xlsx") -> Iterator[Path]:
        """A temporary local path to write into; removed afterwards unless it was ``put``.

        Raises:
            StorageFullError: less than ``min_free_bytes`` left on the local disk.
        """
        self.ensure_space()
        with self._temporary(suffix) as path:
            yield path

    def ensure_space(self) -> None:
        """Refuse new files while the disk is nearly full (a full disk breaks every write).

        Raises:
            StorageFullError: less than ``min_free_bytes`` free.
        """
        if self.min_free_bytes and (free := self.free_bytes()) < self.min_free_bytes:
            raise StorageFullError(f"服务器存储空间不足（剩余约 {free // 1048576} MB），暂时不能保存新文件，"
                                   "请联系系统管理员清理空间后重试")

    @contextmanager
    def _temporary(self, suffix: str) -> Iterator[Path]:
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
        """Store ``data`` under a new name.

        Raises:
            StorageFullError: the disk is (nearly) full; nothing is kept.
        """
        with self.scratch(suffix) as path:
            try:
                path.write_bytes(data)
            except OSError as err:
                if err.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                raise StorageFullError("服务器存储空间不足，文件未能保存，请联系系统管理员清理空间后重试") from None
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

    def scratch_files(self) -> Iterator[StoredFile]:
        """Scratch files a killed process left behind (retention removes the old ones)."""
        folder = self.root / "tmp"
        if folder.is_dir():
            for entry in os.scandir(folder):
                if entry.is_file():
                    yield StoredFile("tmp", entry.name, entry.stat().st_size,
                                     datetime.fromtimestamp(entry.stat().st_mtime, timezone.utc))

    def delete_scratch(self, name: str) -> None:
        if name and "/" not in name and "\\" not in name and not name.startswith("."):
            (self.root / "tmp" / name).unlink(missing_ok=True)

    def _path(self, kind: str, name: str) -> Path:
        return self.root / kind / _checked(kind, name)


def _checked(kind: str, name: str | None) -> str:
    """A name we generated, in a kind we keep; anything else is simply not there."""
    if kind not in KINDS or not name or "/" in name or "\\" in name or name.startswith("."):
        raise FileNotFoundError(name)
    return name


class S3FileStore(FileStore):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, OSS, COS…): ``<prefix><kind>/<name>``.

    Scratch files stay on the local disk (``FILE_DIR/tmp``); ``put`` uploads and removes them,
    ``local_copy`` downloads into a scratch file for the duration of the block. Credentials come
    from the usual AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``) or the host's role.
    """

    def __init__(self, root: str | Path, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, min_free_bytes: int = 0):
        import boto3
        from botocore.config import Config

        super().__init__(root, min_free_bytes=min_free_bytes)
        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                   config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                 connect_timeout=5, read_timeout=60))

    def _key(self, kind: str, name: str | None) -> str:
        return f"{self.prefix}{kind}/{_checked(kind, name)}"

    def put(self, kind: str, path: Path, name: str | None = None) -> str:
        name = name or new_name(path.suffix)
        self.client.upload_file(str(path), self.bucket, self._key(kind, name))
        path.unlink(missing_ok=True)
        return name

    def exists(self, kind: str, name: str | None) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(kind, name))
        except FileNotFoundError:
            return False
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _get(self, kind: str, name: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(kind, name))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(name) from None
            raise

    @contextmanager
    def local_copy(self, kind: str, name: str) -> Iterator[Path]:
        body = self._get(kind, name)["Body"]
        with self._temporary(Path(name).suffix) as path:
            with path.open("wb") as out:
                for chunk in body.iter_chunks(1024 * 1024):
                    out.write(chunk)
            yield path

    def read_bytes(self, kind: str, name: str) -> bytes:
        return self._get(kind, name)["Body"].read()

    def response(self, kind: str, name: str, *, mimetype: str, download_name: str | None = None,
                 max_age: int | None = None):
        """Streamed from the bucket through this process (the bucket stays private)."""
        obj = self._get(kind, name)
        response = send_file(obj["Body"], mimetype=mimetype, as_attachment=download_name is not None,
                             download_name=download_name or name, max_age=max_age, conditional=False)
        response.headers["Content-Length"] = str(obj["ContentLength"])
        return response

    def delete(self, kind: str, name: str | None) -> None:
        if name:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(kind, name))

    def list(self, kind: str) -> Iterator[StoredFile]:
        if kind not in KINDS:
            return
        prefix = f"{self.prefix}{kind}/"
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix):]
                if name and "/" not in name:
                    yield StoredFile(kind, name, obj["Size"], obj["LastModified"].astimezone(timezone.utc))


def make_store(config) -> FileStore:
    """The store the configuration asks for (``FILE_STORE``: local or s3)."""
    min_free = config["FILE_MIN_FREE_MB"] * 1024 * 1024
    if config["FILE_STORE"] == "s3":
        return S3FileStore(config["FILE_DIR"], bucket=config["S3_BUCKET"], prefix=config["S3_PREFIX"],
                           endpoint_url=config["S3_ENDPOINT_URL"], region=config["S3_REGION"],
                           min_free_bytes=min_free)
    return FileStore(config["FILE_DIR"], min_free_bytes=min_free)


def store() -> FileStore:
    """The app's file store (one per app, made on first use)."""
    app = current_app._get_current_object()
    instance = app.extensions.get("file_store")
    if instance is None:
        instance = app.extensions["file_store"] = make_store(app.config)
    return instance
