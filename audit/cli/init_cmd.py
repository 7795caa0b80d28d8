"""`init`: write a starting config for the exports found in files and folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml

from audit.errors import AuditError, ConfigError


def draft_config(paths: tuple[Path, ...], config_path: Path) -> str:
    """YAML text of a config with one source per export found, annotated with what was detected."""
    from audit.sources import inspect_paths, sources_for_paths

    try:
        entries, not_read = sources_for_paths(list(paths))
    except AuditError as e:
        raise ConfigError(f"no readable exports found: {e}") from None
    lines = [
        "# crm-audit config written by `crm-audit init`; configs/example.yaml documents every key.",
        "version: 1",
        "sources:",
    ]
    base = config_path.resolve().parent
    for file, reason in not_read:
        lines.append(f"  # {os.path.relpath(file, base)}: not read ({reason})")
    for found in entries:
        f = Path(found["path"])
        rel = os.path.relpath(f, base)
        entry: dict[str, Any] = {"name": found["name"], "path": Path(rel).as_posix()}
        if not f.exists():  # loose messages of one folder: one source given as a pattern
            lines.append(f"  # {rel}: mail messages, read as one mailbox")
            lines += ["  " + ln for ln in yaml.safe_dump([entry], allow_unicode=True).splitlines()]
            continue
        try:
            tables = inspect_paths([f])
        except AuditError as e:
            lines.append(f"  # {rel}: could not be read ({e}); fix it or remove this source")
            tables = []
        first = tables[0] if tables else {}
        if first.get("profile"):
            entry["profile"] = first["profile"]
        elif first.get("entity"):
            entry["entity"] = first["entity"]
        if first.get("encoding") and first["encoding"] not in ("utf-8", "utf-8-sig", "ascii"):
            entry["encoding"] = first["encoding"]
        rows = sum(int(t.get("rows_read") or 0) for t in tables)
        what = ", ".join(
            sorted(
                {f"{t.get('entity')} via {t.get('profile') or 'generic mapping'}" for t in tables}
            )
        )
        lines.append(f"  # {rel}: {rows} rows; {what or 'nothing detected'}")
        dumped = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False).rstrip()
        lines += ["  " + ln for ln in dumped.splitlines()]
    lines += [
        "thresholds:",
        "  overall: 0.8            # minimum overall quality score for `crm-audit run`",
        "kpis:",
        "  include: all",
        "output:",
        "  dir: reports",
        "",
    ]
    return "\n".join(lines)


@click.command("init")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("crm-audit.yaml"),
    show_default=True,
    help="Config file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite the config file if it exists.")
def init_cmd(paths: tuple[Path, ...], output: Path, force: bool) -> None:
    """Write a config for the exports found in PATHS (files or folders).

    Each file becomes a source with its detected export profile or entity; review it, then
    run `crm-audit run` on it.

    \b
    Example:
        crm-audit init exports/ -o my.yaml && crm-audit run my.yaml
    """
    from audit.config import load_config

    if output.exists() and not force:
        raise ConfigError(f"{output} exists; use --force to overwrite it.")
    text = draft_config(paths, output)
    from audit.fsio import atomic_write, output_errors

    with output_errors(output, config_path=True):
        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(output, text)
    cfg = load_config(output)
    click.echo(f"Wrote {output} with {len(cfg.sources)} source(s). Next: crm-audit run {output}")


COMMANDS = [init_cmd]
