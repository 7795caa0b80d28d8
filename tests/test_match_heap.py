"""The match stage's temporaries reuse freed heap memory, and the stage gives it back after
(issue #12: at 300k contacts a third of the stage's CPU was the kernel faulting in fresh
pages for arrays over the pipeline's 128 KiB mmap threshold)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from audit.match.heap import heap_served

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the mmap threshold is glibc's"
)
MB = 1024 * 1024


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


# Faults are counted in a fresh interpreter: in a long process (the test suite) the heap
# already holds freed chunks of every size, which serve a large array before any mapping does,
# whatever the threshold; the pipeline's first stage starts from such a fresh heap.
_FAULTS = """
import json, resource, sys
import numpy as np
from audit.match.heap import heap_served
from audit.pipeline import lean_memory

def faults(count, size):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(count):
        a = np.ones(size // 8)
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

size = int(sys.argv[1])
lean_memory()  # the pipeline's fixed 128 KiB threshold
outside = faults(20, size)
with heap_served() as applied:
    faults(1, size)  # the first one grows the heap
    inside = faults(20, size)
print(json.dumps({"applied": applied, "outside": outside, "inside": inside}))
"""


@pytest.mark.skipif(
    _huge_pages_always(), reason="transparent huge pages for every mapping: few faults anyway"
)
def test_freed_arrays_are_reused_inside_the_stage_not_outside() -> None:
    # 3 MB: over the 128 KiB threshold, under numpy's 4 MB from which it asks for huge pages
    # (madvise), which would fault a fresh mapping in by 2 MB and hide the difference
    size = 3 * MB
    pages = size // 4096
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS, str(size)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(done.stdout)
    assert got["applied"]
    # outside the stage every array is a fresh mapping whose pages fault in one by one
    assert got["outside"] >= 20 * pages // 2
    assert got["inside"] < 2 * pages
    assert got["inside"] * 10 < got["outside"]


def test_memory_is_returned_when_the_stage_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    start = _rss_mb()
    with heap_served() as applied:
        assert applied
        held = [np.ones(MB // 8) for _ in range(200)]  # 200 MB in 1 MB blocks, all on the heap
        assert _rss_mb() > start + 150
        del held
    assert _rss_mb() < start + 50  # freed and trimmed when the stage ends


def test_the_users_malloc_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    with heap_served() as applied:
        assert not applied
