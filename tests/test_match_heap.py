"""The match stage's temporaries reuse freed heap memory, and the stage gives it back after
(issue #12: at 300k contacts a third of the stage's CPU was the kernel faulting in fresh
pages for arrays over the pipeline's 128 KiB mmap threshold)."""

from __future__ import annotations

import platform
import resource

import numpy as np
import pytest

from audit.match.heap import heap_served

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the mmap threshold is glibc's"
)
MB = 1024 * 1024


def _faults_for_arrays(count: int, size: int) -> int:
    """Minor page faults for allocating, touching and freeing `count` arrays in turn."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(count):
        a = np.ones(size // 8)
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def _huge_pages_always() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


@pytest.mark.skipif(
    _huge_pages_always(), reason="transparent huge pages for every mapping: few faults anyway"
)
def test_freed_arrays_are_reused_inside_and_memory_is_returned_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    # 3 MB: over the 128 KiB threshold, under numpy's 4 MB from which it asks for huge pages
    # (madvise), which would fault a fresh mapping in by 2 MB and hide the difference
    size = 3 * MB
    pages = size // 4096
    with heap_served() as applied:
        assert applied
        _faults_for_arrays(1, size)  # the first one grows the heap
        inside = _faults_for_arrays(20, size)
    # outside the scope (the pipeline's fixed 128 KiB) every array is a fresh mapping whose
    # pages fault in one by one
    outside = _faults_for_arrays(20, size)
    assert outside >= 20 * pages // 4
    assert inside < 2 * pages
    assert inside * 10 < outside

    start = _rss_mb()
    with heap_served():
        held = [np.ones(MB // 8) for _ in range(200)]  # 200 MB in 1 MB blocks, all on the heap
        assert _rss_mb() > start + 150
        del held
    assert _rss_mb() < start + 50  # freed and trimmed when the stage ends


def test_the_users_malloc_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    with heap_served() as applied:
        assert not applied
