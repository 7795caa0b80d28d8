"""The hostile-case table cannot shrink silently: every test the registry names exists."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.hostile.registry import CLASSES, REUSED

REPO = Path(__file__).resolve().parents[2]


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_registered_test_exists_and_has_a_known_class() -> None:
    missing = []
    for file, test, cls, handled in REUSED:
        assert cls in CLASSES, (file, test, cls)
        assert handled.strip(), (file, test)
        path = REPO / file
        if not path.is_file() or test not in _functions(path):
            missing.append(f"{file}::{test}")
    assert missing == [], "renamed or removed hostile tests: update tests/hostile/registry.py"


def test_no_test_is_registered_twice() -> None:
    keys = [(f, t) for f, t, _, _ in REUSED]
    assert len(keys) == len(set(keys))
