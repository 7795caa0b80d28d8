"""Layering rules from STYLE.md, checked on the source tree: an AST scan, and the import-linter
contracts of pyproject.toml (which `make lint` runs as `lint-imports`)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "audit"

# module prefix that may import it  (heavy or optional dependencies live in one place each)
ALLOWED = {
    "great_expectations": ("audit.validate.gx",),
    # rapidfuzz: the matcher, plus edit distances for typo-domain detection (imported lazily)
    "rapidfuzz": ("audit.match", "audit.validate.checks.stale"),
    "click": ("audit.cli",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_heavy_dependencies_stay_in_their_module() -> None:
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        mod = _module(path)
        for lib in _imports(path) & ALLOWED.keys():
            if not mod.startswith(ALLOWED[lib]):
                bad.append(f"{mod} imports {lib}")
    assert not bad, bad


STAGES = ("sources", "normalize", "validate", "match", "score", "gate", "kpis")
ROOT = PKG.parent


def _audit_imports(path: Path, mod: str) -> set[str]:
    """Every audit module a file imports, at any depth (lazy imports in functions included),
    with relative imports resolved and `from audit import x` read as audit.x."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("audit."))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([base] if base else [])])
            if base == "audit":
                out.update(f"audit.{a.name}" for a in node.names)
            elif base.startswith("audit."):
                out.add(base)
    return out


def test_no_stage_imports_another_stage() -> None:
    """DESIGN.md: stages talk through plain data; a helper two stages need lives below them."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        mod = _module(path)
        own = mod.split(".")[1] if "." in mod else ""
        if own not in STAGES:
            continue
        for imported in sorted(_audit_imports(path, mod)):
            other = imported.split(".")[1]
            if other in STAGES and other != own:
                bad.append(f"{mod} imports {imported}")
    assert not bad, bad


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("importlinter")
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(exe), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_import_contracts_hold() -> None:
    """The layers contract in pyproject.toml, as `make lint` runs it."""
    out = _lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_import_contracts_catch_a_stage_importing_another(tmp_path: Path) -> None:
    """The contract bites: a copy of the package where validate imports match is refused,
    and so is a new top-level module that no layer declares."""
    shutil.copytree(PKG, tmp_path / "audit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    engine = tmp_path / "audit" / "validate" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8") + "\nfrom audit.match import match\n")
    (tmp_path / "audit" / "stray.py").write_text("")
    out = _lint_imports(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    text = " ".join(out.stdout.split())
    assert "audit.validate is not allowed to import audit.match" in text
    assert "audit.stray" in text


def test_import_audit_and_help_do_not_load_heavy_libraries() -> None:
    code = (
        "import sys, audit, audit.cli; "
        "print(sorted(m for m in ('great_expectations', 'rapidfuzz', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_print_in_the_package_outside_the_cli() -> None:
    for path in sorted(PKG.rglob("*.py")):
        if _module(path).startswith("audit.cli"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
        assert not calls, f"{_module(path)} prints; return data and let the CLI print it"
