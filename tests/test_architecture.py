"""Layering rules from STYLE.md, checked on the source tree (an AST scan, no extra tool)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_only_the_pipeline_imports_every_stage() -> None:
    stages = {"sources", "normalize", "validate", "match", "score", "kpis", "report"}
    for path in sorted(PKG.rglob("*.py")):
        mod = _module(path)
        if mod in ("audit.pipeline",) or mod.startswith(("audit.cli", "audit.demo")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {
            n.module.split(".")[1]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom)
            and n.module
            and n.module.startswith("audit.")
            and len(n.module.split(".")) > 1
        } & stages
        own = mod.split(".")[1] if "." in mod else ""
        assert len(used - {own}) < 4, f"{mod} imports stages {sorted(used)}"


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
