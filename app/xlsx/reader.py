"""Reading the first sheet of a checked xlsx: calamine when it fits, streaming when huge."""
from __future__ import annotations

import multiprocessing
import os
import re
import zipfile
from collections.abc import Iterator

from python_calamine import CalamineWorkbook

from .stream import first_sheet_path, stream_rows

# calamine keeps the whole sheet in memory (~1.2 GB for 1M × 13 cells); above this
# much sheet XML the constant-memory streaming reader takes over
STREAM_ABOVE_BYTES = 150 * 1024 * 1024
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def sheet_info(path) -> tuple[int, int | None]:
    """(uncompressed size of the first sheet's XML, row count from its dimension or None)."""
    with zipfile.ZipFile(path) as archive:
        name = first_sheet_path(archive)
        size = archive.getinfo(name).file_size
        with archive.open(name) as part:
            head = part.read(8192)
    match = _DIMENSION.search(head)
    return size, int(match.group(1)) if match else None


def _read_in_child(path, conn) -> None:
    try:
        batch = []
        for row in stream_rows(path):
            batch.append(row)
            if len(batch) == 5000:
                conn.send(batch)
                batch = []
        conn.send(batch)
        conn.send(None)
    except BaseException as err:  # noqa: BLE001 - hand any failure to the parent
        conn.send(RuntimeError(f"{type(err).__name__}: {err}"))
    finally:
        conn.close()
        os._exit(0)  # no finalizers: they would close the parent's inherited DB sockets


def stream_rows_parallel(path) -> Iterator[list]:
    """``stream_rows`` in a forked reader process: parsing the XML and validating and
    writing the rows then run on two cores at once."""
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_read_in_child, args=(str(path), sender))
    child.start()
    sender.close()
    try:
        while True:
            batch = receiver.recv()
            if batch is None:
                return
            if isinstance(batch, Exception):
                raise batch
            yield from batch
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()


def read_rows(path) -> Iterator[list]:
    """Every row of the first sheet as a list of cell values (None for empty)."""
    size, _rows = sheet_info(path)
    if size > STREAM_ABOVE_BYTES:
        yield from stream_rows_parallel(path)
        return
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    for row in sheet.iter_rows():
        if "" in row:
            row = [None if cell == "" else cell for cell in row]
        yield row
