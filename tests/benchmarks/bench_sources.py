"""The sources stage alone: wall, CPU seconds and memory of `read_sources` on a workspace.

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_sources.py /work/scale/ws100k/demo.yaml
    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_sources.py ws/demo.yaml --per-source

CPU seconds are this process's and its joined children's (the mailbox's worker processes),
which move less with the machine's load than wall time. The stage peak is this process's
high-water mark, reset just before the stage (Linux: /proc/self/clear_refs), so it is the
stage's own; the end RSS is what the stage leaves for normalize. `--per-source` reads each
source on its own, to see which files the time goes to.

Not collected by pytest: speed is measured here, not asserted.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from audit.config import load_config
from audit.sources import read_sources
from audit.sources.readers import Limits


def _status(field: str) -> float:
    """A /proc/self/status memory field in MB (0 where there is no /proc)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", type=Path)
    ap.add_argument("--per-source", action="store_true", help="read each source on its own")
    args = ap.parse_args()
    cfg = load_config(args.config)
    limits = Limits(**cfg.limits.model_dump())
    groups = [[s] for s in cfg.sources] if args.per_source else [list(cfg.sources)]
    start = _status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the high-water mark: the peak below is the stage's
    except OSError:
        pass
    held = []  # the stage's result is held to the end, as the pipeline holds it
    for group in groups:
        (s0, c0), t0 = _cpu(), time.perf_counter()
        ingest = read_sources(
            group, base_dir=Path(cfg.base_dir), limits=limits, not_read=cfg.not_read
        )
        wall = time.perf_counter() - t0
        s1, c1 = _cpu()
        name = group[0].name if args.per_source else "sources"
        rows = int(ingest.counts["rows_read"].sum()) if len(ingest.counts) else 0
        print(
            f"{name:24s} {rows:>10,} rows  wall {wall:7.1f} s  CPU {s1 - s0 + c1 - c0:7.1f} s "
            f"(workers {c1 - c0:.1f})"
        )
        held.append(ingest)
    print(
        f"RSS: start {start:,.0f} MB, end {_status('VmRSS'):,.0f} MB, "
        f"stage peak {_status('VmHWM'):,.0f} MB"
    )


if __name__ == "__main__":
    main()
