"""Markdown for the README, generated from the code (cog runs these; CI runs `cog --check`).

Generated docs cannot drift: every command, config key, column, rule, profile and KPI that
exists in code shows up in the README, and tests/test_docs.py checks that they do.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from click.testing import CliRunner
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from audit import schema
from audit.config import PipelineConfig
from audit.errors import EXIT_CODES


def _cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def cli_help(*args: str) -> str:
    from audit.cli import cli

    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=100)
    return f"```\n$ crm-audit {' '.join(args)} --help\n{result.output.rstrip()}\n```"


def all_commands() -> list[list[str]]:
    from audit.cli import cli

    def walk(group: Any, prefix: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        for name, cmd in sorted(getattr(group, "commands", {}).items()):
            out.append([*prefix, name])
            out.extend(walk(cmd, [*prefix, name]))
        return out

    return walk(cli, [])


def cli_reference() -> str:
    return "\n\n".join(cli_help(*path) for path in [[], *all_commands()])


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *given = typing.get_args(tp)
        meta = [x for m in given for x in (getattr(m, "metadata", None) or [m])]
        lo = next(
            (getattr(m, "ge", None) for m in meta if getattr(m, "ge", None) is not None), None
        )
        hi = next(
            (getattr(m, "le", None) for m in meta if getattr(m, "le", None) is not None), None
        )
        bounds = f" ({lo:g}..{hi:g})" if lo is not None and hi is not None else ""
        return f"{_type_name(base)}{bounds}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return " / ".join(repr(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        k, v = typing.get_args(tp)
        return f"map {_type_name(k)} -> {_type_name(v)}"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        d = field.default
        return "" if d is None else repr(d.value if hasattr(d, "value") else d)
    if field.default_factory is not None:
        v = field.default_factory()
        if isinstance(v, dict):
            v = {getattr(k, "value", k): x for k, x in v.items()}
        return "" if isinstance(v, BaseModel) else repr(v)
    return "(required)"


def config_reference() -> str:
    rows: list[list[Any]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "base_dir":
                continue
            tp = field.annotation
            key = f"{prefix}{name}"
            inner: list[Any] = [a for a in typing.get_args(tp) if isinstance(a, type)] or [tp]
            sub = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
            if typing.get_origin(tp) is list and sub is not None:
                rows.append(
                    [
                        f"`{key}`",
                        "list",
                        "(required)" if field.is_required() else "",
                        field.description or "",
                    ]
                )
                walk(sub, f"{key}[].")
            elif sub is not None and typing.get_origin(tp) is None:
                walk(sub, f"{key}.")
            else:
                rows.append([f"`{key}`", _type_name(tp), _default(field), field.description or ""])

    walk(PipelineConfig, "")
    return table(["key", "type", "default", "meaning"], rows)


def gate_floors() -> str:
    """The default floor of each dimension, and why it is there."""
    from audit.config import DEFAULT_FLOORS, FLOOR_REASONS

    return table(
        ["dimension", "default floor", "why"],
        [[f"`{d.value}`", f"{f:.0%}", FLOOR_REASONS[d]] for d, f in DEFAULT_FLOORS.items()],
    )


def exit_codes() -> str:
    return table(["code", "meaning"], [[f"`{k}`", v] for k, v in sorted(EXIT_CODES.items())])


def schema_reference() -> str:
    parts = [
        "**Issues** (one row per finding, `issues.csv`)\n",
        table(["column", "meaning"], [[f"`{c.name}`", c.doc] for c in schema.ISSUES]),
    ]
    prov = ", ".join(f"`{c.name}`" for c in schema.PROVENANCE)
    parts.append(f"\nEvery entity starts with the provenance columns {prov}.\n")
    rows = []
    for entity, cols in schema.ENTITIES.items():
        names = ", ".join(f"`{c.name}`" + ("*" if c.derived else "") for c in cols)
        rows.append([f"`{entity}`", names])
    parts.append(table(["entity", "canonical columns (* = derived by normalize)"], rows))
    return "\n".join(parts)


def reader_catalogue() -> str:
    from audit.sources.readers import READERS

    rows = [
        [f"`{name}`", ", ".join(spec.suffixes) + (" (folder)" if spec.folder else ""), spec.doc]
        for name, spec in READERS.items()
    ]
    return table(["reader", "suffixes", "what it reads"], rows)


def profile_catalogue() -> str:
    from audit.sources.profiles import PROFILES

    rows = []
    for name, prof in PROFILES.items():
        signature = " + ".join(f"`{h}`" for h in prof.detect[0])
        rows.append([f"`{name}`", prof.entity, signature, prof.doc])
    return table(["profile", "entity", "header signature (one of)", "notes"], rows)


def inspect_keys() -> str:
    from audit.sources import INSPECT_KEYS

    return table(["key", "meaning"], [[f"`{k}`", v] for k, v in INSPECT_KEYS.items()])


def rule_catalogue() -> str:
    from audit.validate import catalogue_markdown

    return catalogue_markdown()


def kpi_catalogue() -> str:
    from audit.kpis.catalogue import catalogue_markdown

    return catalogue_markdown()


def run_json_schema() -> str:
    from audit.report import RUN_JSON_SCHEMA

    return RUN_JSON_SCHEMA.strip()
