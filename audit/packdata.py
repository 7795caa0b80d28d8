"""Find the declarative files shipped in rules/ (rule packs, match rules, survivorship rules).

In an installed wheel they live at `audit/_rules` (hatch force-include); in a checkout they are
the repository's `rules/`. A name may also be a path to a user's own YAML file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from audit.errors import ConfigError


def rules_dirs() -> list[Path]:
    """Folders searched for shipped rule files, wheel location first."""
    out: list[Path] = []
    try:
        shipped = Path(str(resources.files("audit") / "_rules"))
        if shipped.is_dir():
            out.append(shipped)
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - namespace edge cases
        pass
    repo = Path(__file__).resolve().parent.parent / "rules"
    if repo.is_dir() and repo not in out:
        out.append(repo)
    return out


def find_rule_file(name: str, *, base_dir: Path | None = None, what: str = "rule pack") -> Path:
    """Resolve a pack name ('contacts.core', 'match/contacts.default') or a path to a YAML file."""
    candidate = Path(name).expanduser()
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_absolute() and base_dir is not None:
            candidate = base_dir / candidate
        if candidate.is_file():
            return candidate
        raise ConfigError(f"{what} file {candidate} not found.")
    for d in rules_dirs():
        for suffix in (".yaml", ".yml"):
            p = d / f"{name}{suffix}"
            if p.is_file():
                return p
    known = sorted(
        {str(p.relative_to(d).with_suffix("")) for d in rules_dirs() for p in d.rglob("*.yaml")}
    )
    raise ConfigError(f"unknown {what} {name!r}. Shipped: {', '.join(known) or 'none'}.")
