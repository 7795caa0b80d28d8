"""Print the hostile-case table by class, from a real pytest run: tried / handled / failing.

    python tests/hostile/table.py              # run every hostile case, then print the table
    python tests/hostile/table.py --xml r.xml  # print the table of an earlier run's junit xml
    python tests/hostile/table.py -- -k kill_9 # only some cases (arguments after -- go to pytest)

A case is one collected test (each parametrized instance counts once) that the registry
(`tests/hostile/registry.py`) gives a class. Handled = passed; failing = failed or errored;
a skipped case (no tmpfs mount allowed here, no browser) is not tried and is listed with its
reason. Exits 1 when any case fails or fewer than `--min` were tried.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.hostile.registry import CLASSES, NEW_SUITE, REUSED, class_of  # noqa: E402


def files() -> list[str]:
    return sorted({f for f, *_ in REUSED} | {NEW_SUITE})


def run_pytest(xml: Path, extra: list[str]) -> int:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"]
    cmd += ["-o", "junit_logging=system-out"]  # the kill -9 trials print their counts
    return subprocess.call([*cmd, *files(), *extra], cwd=REPO, env=env)


def _file_of(classname: str) -> str:
    parts = classname.split(".")
    while parts:  # "tests.cli.test_errors" or "tests.test_x.TestClass"
        cand = "/".join(parts) + ".py"
        if (REPO / cand).is_file():
            return cand
        parts.pop()
    return classname


def cases(xml: Path) -> list[tuple[str, str, str, str]]:
    """(class, case id, outcome, detail) for every hostile case in a junit xml."""
    out = []
    for tc in ET.parse(xml).getroot().iter("testcase"):
        name = tc.get("name", "")
        test, _, param = name.partition("[")
        file = _file_of(tc.get("classname", ""))
        cls = class_of(file, test, param.rstrip("]"))
        if cls is None:
            continue
        outcome, detail = "handled", ""
        for tag in ("failure", "error", "skipped"):
            el = tc.find(tag)
            if el is not None:
                outcome = "not tried" if tag == "skipped" else "failing"
                detail = (
                    (el.get("message") or "").splitlines()[0][:120] if el.get("message") else ""
                )
                break
        out.append((cls, f"{file}::{name}", outcome, detail))
    return out


def kill_counts(xml: Path) -> list[str]:
    """The kill -9 trial counts the fault tests print (run with junit_logging=system-out)."""
    out = []
    for el in ET.parse(xml).getroot().iter("system-out"):
        out += [ln.strip() for ln in (el.text or "").splitlines() if "kill trials:" in ln]
    return out


def table(rows: list[tuple[str, str, str, str]]) -> str:
    by: dict[str, Counter[str]] = {c: Counter() for c in CLASSES}
    for cls, _, outcome, _ in rows:
        by[cls][outcome] += 1
    lines = [
        f"{'class':<12} {'tried':>6} {'handled':>8} {'failing':>8} {'not tried':>10}  what",
        "-" * 100,
    ]
    total: Counter[str] = Counter()
    for cls, what in CLASSES.items():
        c = by[cls]
        tried = c["handled"] + c["failing"]
        total.update(c)
        lines.append(
            f"{cls:<12} {tried:>6} {c['handled']:>8} {c['failing']:>8} {c['not tried']:>10}  {what}"
        )
    tried = total["handled"] + total["failing"]
    lines += [
        "-" * 100,
        f"{'total':<12} {tried:>6} {total['handled']:>8} {total['failing']:>8} "
        f"{total['not tried']:>10}",
    ]
    for cls, cid, outcome, detail in rows:
        if outcome != "handled":
            lines.append(f"  {outcome}: [{cls}] {cid}  {detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xml", type=Path, help="read this junit xml instead of running pytest")
    ap.add_argument("--min", type=int, default=230, help="fewest cases that must be tried")
    ap.add_argument("pytest_args", nargs="*", help="after --, passed to pytest (-- -k kill_9)")
    args = ap.parse_args(argv)
    if args.xml is None:
        with tempfile.TemporaryDirectory() as d:
            xml = Path(d) / "hostile.xml"
            code = run_pytest(xml, args.pytest_args)
            if not xml.is_file():
                print(f"pytest wrote no results (exit {code})", file=sys.stderr)
                return 2
            rows = cases(xml)
            kills = kill_counts(xml)
    else:
        rows = cases(args.xml)
        kills = kill_counts(args.xml)
    print(table(rows))
    for line in kills:
        print(line)
    tried = sum(o != "not tried" for _, _, o, _ in rows)
    failing = sum(o == "failing" for _, _, o, _ in rows)
    return 1 if failing or tried < args.min else 0


if __name__ == "__main__":
    raise SystemExit(main())
