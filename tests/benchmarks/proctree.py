"""The memory and CPU of a process and everything it started, read from /proc (Linux).

A benchmark's own `ru_maxrss` sees one process. A run also forks workers (the mailbox reader's,
the GX contract's, the KPI child, the merge review's) and the Spark engine starts a JVM and
Python workers; what a machine must hold is the sum over that tree. RSS counts a page a forked
worker shares with its parent once per process, so the tree's figure is the sum of PSS (a page
shared by k processes counts 1/k in each). Shared by bench_run.py and bench_spark.py.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(stat[1]), []).append(int(entry))
    return kids


def _rss(pid: int) -> tuple[int, bool]:
    try:
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
        with open(f"/proc/{pid}/comm") as f:
            java = f.read().strip() == "java"
    except OSError:
        return 0, False
    return pages * PAGE, java


def _pss(pid: int) -> int:
    """The process's proportional set size: a page shared by k processes counts 1/k here.
    A sum of RSS counts the pages a forked Python worker shares with its parent once per
    worker; a sum of PSS is what the tree holds."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _kind(pid: int, root: int, parent: int | None, is_java: bool, java: set[int]) -> str:
    """driver (the run's process), jvm, daemon (pyspark's, the JVM's child), worker (a
    Python worker the daemon forked), fork (a child the driver forked: mailbox, review)."""
    if pid == root:
        return "driver"
    if is_java:
        return "jvm"
    if parent in java:
        return "daemon"
    return "fork" if parent == root else "worker"


def _cpu(pid: int) -> float:
    """User plus system CPU seconds of one process so far."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / TICK


def tree_rss(
    root: int, cpu: dict[int, float] | None = None, kinds: dict[str, list[int]] | None = None
) -> tuple[int, int]:
    """(bytes, of which java) summed over `root` and every descendant; `cpu` gets each
    process's CPU seconds so far (a process that ended between two samples loses its last
    0.2 s); `kinds` (when given) gets [processes, RSS, PSS] per kind of process (`_kind`)."""
    kids = _children()
    total = java = 0
    todo: list[tuple[int, int | None]] = [(root, None)]
    javas: set[int] = set()
    while todo:
        pid, parent = todo.pop()
        rss, is_java = _rss(pid)
        total += rss
        java += rss if is_java else 0
        if is_java:
            javas.add(pid)
        if kinds is not None:
            got = kinds.setdefault(_kind(pid, root, parent, is_java, javas), [0, 0, 0])
            got[0] += 1
            got[1] += rss
            got[2] += _pss(pid)
        if cpu is not None:
            cpu[pid] = max(cpu.get(pid, 0.0), _cpu(pid))
        todo.extend((kid, pid) for kid in kids.get(pid, ()))
    return total, java


def kinds_text(kinds: dict[str, list[int]]) -> str:
    """Per kind of process: how many, RSS and PSS (GB)."""
    return ", ".join(
        f"{k} {n}x RSS {r / 2**30:.2f} PSS {p / 2**30:.2f}"
        for k, (n, r, p) in sorted(kinds.items())
    )


class Sampler:
    """Samples a process tree every `every` seconds in a thread, from start() to stop().

    peak / java: the largest RSS sum and its JVM part; pss: the largest PSS sum ("peak"), the
    kinds of process at that moment ("at") and at the RSS peak ("at_rss"), the most Python
    workers at once ("workers"); cpu: CPU seconds per process; series: (epoch seconds, PSS
    sum) per sample, so that a caller who knows when each stage began can say where the
    tree peaked."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        self.root = root
        self.every = every
        self.peak = 0
        self.java = 0
        self.pss: dict[str, Any] = {"peak": 0, "at": {}, "at_rss": {}, "workers": 0}
        self.cpu: dict[int, float] = {}
        self.series: list[tuple[float, int]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.is_set():
            kinds: dict[str, list[int]] = {}
            total, java = tree_rss(self.root, self.cpu, kinds)
            if total > self.peak:
                self.peak, self.java = total, java
                self.pss["at_rss"] = kinds
            summed = sum(k[2] for k in kinds.values())
            self.series.append((time.time(), summed))
            if summed > self.pss["peak"]:
                self.pss["peak"], self.pss["at"] = summed, kinds
            self.pss["workers"] = max(self.pss["workers"], kinds.get("worker", [0])[0])
            self._done.wait(self.every)
