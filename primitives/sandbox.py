"""Decoders of untrusted bytes run in a short-lived child process with hard limits.

A hostile upload can make a decoder allocate gigabytes (a decompression bomb) or spin
for minutes; in-process guards cannot stop C code (pdfium, libjpeg, zlib) once it has
started. So intake's checking decode and the PDF page loading run in a forked child that
caps its own address space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``), while the
parent kills it at a wall-clock deadline. The call is not pickled (fork shares it); only
the result travels back through a pipe. Overhead is a fork, about 15 ms for a 500 MB
parent, plus the pickled result.

    ProcessingError
    └── DecoderError            the decoder did not finish within its limits
        ├── DecoderTimeout      ran past the wall-clock limit
        ├── DecoderOutOfMemory  raised MemoryError at the address-space cap
        └── DecoderFailed       raised something unexpected, or died (signal, abort)

Every ``DecoderError`` ends the document as ``review`` with PROCESSING_ERROR.
"""

from __future__ import annotations

import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts.config import Settings
from contracts.errors import ProcessingError

T = TypeVar("T")
_READ_CHUNK = 1 << 20


class DecoderError(ProcessingError):
    """A decoder of untrusted bytes did not finish within its limits."""


class DecoderTimeout(DecoderError):
    pass


class DecoderOutOfMemory(DecoderError):
    pass


class DecoderFailed(DecoderError):
    pass


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_bytes: int  # address space the child may add to what it inherits
    enabled: bool = True  # False runs the call in this process (debugging, no fork)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.decoder_timeout_seconds, settings.decoder_memory_mb * 2**20,
                   settings.decoder_sandbox)


def run_limited(func: Callable[..., T], *args: Any, limits: Limits) -> T:
    """``func(*args)`` in a child process under ``limits``; its result or a DecoderError."""
    if not limits.enabled:
        return func(*args)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns from here
        os.close(read_fd)
        _child(write_fd, func, args, limits)
    os.close(write_fd)
    try:
        payload = _read_until(read_fd, time.monotonic() + limits.seconds, limits.seconds)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    return _outcome(payload, status, usage.ru_maxrss)


def _child(write_fd: int, func: Callable[..., Any], args: tuple, limits: Limits) -> None:
    code = 0
    try:
        # The parent's handlers (Airflow's SIGTERM, pytest's SIGINT) must not run here, and
        # a decoder's crash is the parent's to report, not a traceback dump in the logs.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()
        _cap_resources(limits)
        try:
            reply: tuple = (True, func(*args))
        except MemoryError:
            reply = (False, "MemoryError", "address-space cap reached")
        except BaseException as exc:  # reported to the parent, never raised here
            reply = (False, type(exc).__name__, str(exc)[:300])
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps((False, "MemoryError", "cap reached while sending the result"))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _cap_resources(limits: Limits) -> None:
    try:
        with open("/proc/self/statm") as statm:
            inherited = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: no address-space size to build the cap on
        inherited = None
    if inherited is not None:
        _lower(resource.RLIMIT_AS, inherited + limits.memory_bytes)
    # A backstop if the parent dies before its deadline: the kernel stops the child.
    seconds = math.ceil(limits.seconds) + 1
    _lower(resource.RLIMIT_CPU, seconds, seconds + 1)


def _lower(kind: int, soft: int, hard: int | None = None) -> None:
    _, current_hard = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(kind, (soft, hard))


def _read_until(fd: int, deadline: float, seconds: float) -> bytes:
    poller = select.poll()  # not select(): fds above 1024 are common in Airflow workers
    poller.register(fd, select.POLLIN)
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise DecoderTimeout(f"decoder ran past {seconds:g} s")
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _outcome(payload: bytes, status: int, peak_kib: int) -> Any:
    if not payload:
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            if name == "SIGXCPU":
                raise DecoderTimeout("decoder ran past its CPU-time limit")
            raise DecoderFailed(f"decoder died with {name}, peak {peak_kib // 1024} MB")
        raise DecoderFailed(f"decoder exited with status {os.WEXITSTATUS(status)}")
    reply = pickle.loads(payload)
    if reply[0]:
        return reply[1]
    kind, message = reply[1], reply[2]
    if kind == "MemoryError":
        raise DecoderOutOfMemory(f"decoder ran out of memory ({message}), "
                                 f"peak {peak_kib // 1024} MB")
    raise DecoderFailed(f"{kind}: {message}")
