"""glibc's malloc settings, in one place: the pipeline fixes its mmap threshold for the whole
run and the match stage raises it for its own temporaries, through the same library handle and
the same parameter numbers (malloc.h). Off glibc every call here does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from functools import cache
from typing import Any

MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, the one the pipeline fixes
TRIM_THRESHOLD = 128 * 1024  # glibc's default: free space at the heap's top beyond it is returned
M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3


@cache
def glibc() -> Any | None:
    """The C library when it is glibc (None elsewhere, or when it cannot be loaded)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:  # pragma: no cover - glibc without a loadable libc.so
        return None


def user_chose_threshold() -> bool:
    """MALLOC_MMAP_THRESHOLD_ in the environment: the user's choice wins over ours."""
    return "MALLOC_MMAP_THRESHOLD_" in os.environ


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at 128 KiB (True when glibc took it)."""
    libc = None if user_chose_threshold() else glibc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim() -> None:
    """Return the heap's whole free pages to the system now."""
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
