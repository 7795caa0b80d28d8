"""The match stage's temporaries served from the C heap, and its freed pages returned after.

The pipeline fixes glibc's mmap threshold at 128 KiB (`pipeline.lean_memory`), so that freed
frames go back to the system between stages. Inside matching that costs time: every array
over 128 KiB (a code column, one field's levels over a chunk of pairs) is a fresh mapping
whose pages fault in one by one, and the stage makes thousands of them. At 300k contacts the
stage faulted 2.3M pages (9 GB) for a peak 0.5 GB above its start, and a third of its CPU was
the kernel's. With the threshold at 32 MiB (glibc's largest) the same arrays reuse freed heap
blocks: 0.3M faults, about 4 CPU-s less. When the stage ends the threshold is set back and
`malloc_trim` hands every whole free page of the heap back, so what the stage leaves resident
is what it returns, as before.

Nothing happens off glibc, nor when MALLOC_MMAP_THRESHOLD_ is set (the user's choice wins).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from audit.heapmem import (
    M_MMAP_THRESHOLD,
    M_TRIM_THRESHOLD,
    MMAP_THRESHOLD,
    TRIM_THRESHOLD,
    glibc,
    trim,
    user_chose_threshold,
)

STAGE_THRESHOLD = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit systems


@contextlib.contextmanager
def heap_served() -> Iterator[bool]:
    """Within the block large temporaries reuse freed heap memory (True when it applies).

    On leaving, the pipeline's threshold is restored and the heap trimmed: a caller that never
    fixed the threshold (the Python API without `run`) keeps a fixed 128 KiB from then on,
    glibc's own starting value.
    """
    libc = None if user_chose_threshold() else glibc()
    if libc is None or not libc.mallopt(M_MMAP_THRESHOLD, STAGE_THRESHOLD):
        yield False
        return
    # the heap's top is kept too, or each large free there would shrink it and the next
    # allocation fault its pages in again
    libc.mallopt(M_TRIM_THRESHOLD, STAGE_THRESHOLD)
    try:
        yield True
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        trim()


def give_back() -> None:
    """Return the heap's free pages now (between two parts of the stage whose temporaries
    differ in shape: the next part's need not fit in the holes the last one left)."""
    trim()
