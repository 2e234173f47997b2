"""Run a generator in a forked child process under a memory limit and consume what it yields here.

Reading an uploaded sheet is the one place where a 2 KB file can ask for gigabytes (a cell at
``XFD1048576``; calamine aborts the whole process when an allocation fails). So the reading and
the pure row parsing run in a child: ``resource.setrlimit(RLIMIT_AS)`` caps its address space,
and whatever kills it (abort, MemoryError, a signal) ends in :class:`ChildFailed` here, with a
Chinese reason, while the parent (the Celery worker) lives on and writes the batches.

``os.fork`` + ``os.pipe`` rather than ``multiprocessing.Process``: Celery's prefork pool children
are daemonic, and multiprocessing refuses to start children from them. The child never touches
the database; it leaves with ``os._exit`` so no finalizer closes the parent's inherited
connections.
"""
from __future__ import annotations

import faulthandler
import fcntl
import os
import pickle
import resource
import signal
import struct
from collections.abc import Callable, Iterator

_HEADER = struct.Struct("!Q")
PIPE_BYTES = 1024 * 1024  # Linux's default pipe-max-size
_DONE = "__forked_done__"


class ChildFailed(RuntimeError):
    """The child died or failed; ``str(err)`` is a Chinese reason, ``memory`` tells an exhausted limit."""

    def __init__(self, message: str, *, memory: bool = False, original: BaseException | None = None):
        super().__init__(message)
        self.memory = memory
        self.original = original


def _address_space() -> int:
    """Bytes of virtual address space this process maps now (VmSize)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 4 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, item) -> None:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _HEADER.pack(len(data)) + data)


def _child(fd: int, produce, args, memory_limit: int | None) -> None:
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the worker's handlers are the parent's
        os.environ["RUST_BACKTRACE"] = "0"  # a failed allocation: one line on stderr, not a backtrace
        faulthandler.disable()  # an abort here is expected and reported by the parent
        if memory_limit:
            limit = _address_space() + memory_limit
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        for item in produce(*args):
            _send(fd, item)
        _send(fd, _DONE)
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        code = 1
        try:
            try:
                pickle.dumps(err)
                _send(fd, ("__forked_error__", err))
            except Exception:  # noqa: BLE001 - an exception that does not pickle goes as text
                _send(fd, ("__forked_error__", RuntimeError(f"{type(err).__name__}: {err}")))
        except BaseException:  # noqa: BLE001 - even sending failed (no memory left): the exit code tells
            code = 3 if isinstance(err, MemoryError) else 2
    finally:
        os._exit(code)


def _death_reason(status: int) -> ChildFailed:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        memory = sig in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL)
        return ChildFailed("读取文件时超出内存限制（文件结构异常或数据量过大），已停止读取" if memory
                           else f"读取文件的进程意外退出（信号 {sig}）", memory=memory)
    if os.WEXITSTATUS(status) == 3:
        return ChildFailed("读取文件时超出内存限制（文件结构异常或数据量过大），已停止读取", memory=True)
    return ChildFailed("读取文件的进程意外退出，未能读完文件")


def forked(produce: Callable[..., Iterator], *args, memory_limit: int | None = None) -> Iterator:
    """Yield what ``produce(*args)`` yields, computed in a forked child (send batches, not single rows).

    ``memory_limit``: bytes of address space the child may map beyond what it inherits.

    Raises:
        ChildFailed: the child died (abort on a failed allocation, a signal) or raised something
        that is not an ``Exception`` subclass worth re-raising as is; ``original`` keeps what it raised.
        Exception: what ``produce`` raised, as raised (a DomainError keeps its Chinese message).
    """
    read_fd, write_fd = os.pipe()
    try:  # a larger pipe: batches of megabytes cross in a few writes rather than thousands of 64 KB ones
        fcntl.fcntl(write_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        _child(write_fd, produce, args, memory_limit)
    os.close(write_fd)
    finished = False
    try:
        while True:
            header = _read_exact(read_fd, _HEADER.size)
            if header is None:
                break  # the child is gone without saying it was done
            body = _read_exact(read_fd, _HEADER.unpack(header)[0])
            if body is None:
                break
            item = pickle.loads(body)  # noqa: S301 - our own child, through our own pipe
            if isinstance(item, str) and item == _DONE:
                finished = True
                return
            if isinstance(item, tuple) and len(item) == 2 and item[0] == "__forked_error__":
                finished = True
                err = item[1]
                if isinstance(err, MemoryError):
                    raise ChildFailed("读取文件时超出内存限制（文件结构异常或数据量过大），已停止读取",
                                      memory=True, original=err)
                raise err
            yield item
        finished = True
        _pid, status = os.waitpid(pid, 0)
        pid = 0
        raise _death_reason(status)
    finally:
        os.close(read_fd)
        if pid:
            if not finished:  # the consumer stopped early (or failed): the child need not go on
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.waitpid(pid, 0)
