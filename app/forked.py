"""Run a generator in a forked child process and consume what it yields here.

Used where pure CPU work (parsing a huge sheet) can run beside the database
writes on a second core. The child never touches the database; it leaves with
``os._exit`` so no finalizer closes the parent's inherited connections.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator


def _child(produce, args, conn) -> None:
    try:
        for item in produce(*args):
            conn.send(item)
        conn.send(StopIteration())
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        conn.send(RuntimeError(f"{type(err).__name__}: {err}"))
    finally:
        conn.close()
        os._exit(0)


def forked(produce: Callable[..., Iterator], *args) -> Iterator:
    """Yield what ``produce(*args)`` yields, computed in a forked child (send small batches)."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(produce, args, sender))
    child.start()
    sender.close()
    try:
        while True:
            item = receiver.recv()
            if isinstance(item, StopIteration):
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
