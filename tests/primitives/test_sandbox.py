"""The decoder sandbox: results come back, and time, memory and crashes stay in the child."""

from __future__ import annotations

import os
import resource
import signal
import time

import psutil
import pytest

from contracts.config import Settings
from contracts.errors import ProcessingError
from primitives.sandbox import (
    DecoderFailed,
    DecoderOutOfMemory,
    DecoderTimeout,
    Limits,
    run_limited,
)

LIMITS = Limits(seconds=2.0, memory_bytes=128 << 20)


def _double(value: int) -> int:
    return value * 2


def _raise() -> None:
    raise ValueError("broken stream")


def _allocate(n_bytes: int) -> int:
    return len(bytearray(n_bytes))


def _spin() -> None:
    while True:
        pass


def _die() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _pid() -> int:
    return os.getpid()


def test_result_comes_back_from_a_child() -> None:
    assert run_limited(_double, 21, limits=LIMITS) == 42
    assert run_limited(_pid, limits=LIMITS) != os.getpid()


def test_disabled_sandbox_runs_in_process() -> None:
    assert run_limited(_pid, limits=Limits(1.0, 1 << 20, enabled=False)) == os.getpid()
    assert Limits.from_settings(Settings(decoder_sandbox=False)).enabled is False


def test_exception_in_the_decoder_is_reported() -> None:
    with pytest.raises(DecoderFailed, match="ValueError: broken stream"):
        run_limited(_raise, limits=LIMITS)


def _children_peak() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10


def test_memory_beyond_the_cap_fails_in_the_child_only() -> None:
    before = _children_peak()  # earlier tests' subprocesses count here too
    assert run_limited(_allocate, 64 << 20, limits=LIMITS) == 64 << 20
    with pytest.raises(DecoderOutOfMemory):
        run_limited(_allocate, 1 << 30, limits=LIMITS)
    # A child holds at most what it inherited (our resident pages) plus its cap.
    bound = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10) + LIMITS.memory_bytes
    assert _children_peak() <= max(before, bound + (64 << 20))


def test_timeout_kills_the_child_and_leaves_no_zombie() -> None:
    # Earlier tests of this worker may have left processes of their own (servers).
    before = {child.pid for child in psutil.Process().children()}
    started = time.monotonic()
    with pytest.raises(DecoderTimeout, match="ran past 2 s"):
        run_limited(_spin, limits=LIMITS)
    assert time.monotonic() - started < 4
    left = {child.pid for child in psutil.Process().children()} - before
    assert not left, f"the killed child is still there (alive or unreaped): {left}"


def test_a_crashing_decoder_does_not_take_the_worker_down() -> None:
    with pytest.raises(DecoderFailed, match="SIGSEGV"):
        run_limited(_die, limits=LIMITS)


def test_decoder_errors_are_processing_errors() -> None:
    # verify_document turns ProcessingError into review with PROCESSING_ERROR.
    assert issubclass(DecoderTimeout, ProcessingError)
    assert issubclass(DecoderFailed, ProcessingError)


def test_overhead_for_a_small_call_is_small() -> None:
    calls = 20
    started = time.perf_counter()
    for _ in range(calls):
        run_limited(_double, 1, limits=LIMITS)
    per_call = (time.perf_counter() - started) / calls
    assert per_call < 0.25, f"{per_call * 1000:.0f} ms per sandboxed call"
