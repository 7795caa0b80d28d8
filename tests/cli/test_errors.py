"""Errors are one line on stderr with the right exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import cli


def _write(p: Path, text: str, encoding: str = "utf-8") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding=encoding)
    return p


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    _write(tmp_path / "contacts.csv", "email,full_name\nkim@example.com,Kim Min-jun\n")
    return tmp_path


def test_missing_config_is_usage_error(runner: CliRunner, tmp: Path) -> None:
    result = runner.invoke(cli, ["audit", str(tmp / "nope.yaml")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_bad_config_key_names_file_line_and_key(runner: CliRunner, tmp: Path) -> None:
    cfg = _write(tmp / "c.yaml", "sources:\n  - name: a\n    path: contacts.csv\n    sheeet: 1\n")
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {cfg}, line 4 (sources[0].sheeet)")
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_missing_source_file_is_input_error(runner: CliRunner, tmp: Path) -> None:
    cfg = _write(tmp / "c.yaml", "sources:\n  - name: a\n    path: missing.csv\n")
    result = runner.invoke(cli, ["audit", str(cfg), "--out", str(tmp / "out")])
    assert result.exit_code == 3
    assert "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_internal_error_is_exit_4_with_hint(
    runner: CliRunner, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit import pipeline

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pipeline, "run", boom)
    result = runner.invoke(cli, ["audit", str(tmp / "contacts.csv")])
    assert result.exit_code == 4
    assert "internal error (RuntimeError: kaboom)" in result.stderr
    assert "--debug" in result.stderr
    debug = runner.invoke(cli, ["--debug", "audit", str(tmp / "contacts.csv")])
    assert isinstance(debug.exception, RuntimeError)


def test_config_and_paths_together_is_usage_error(runner: CliRunner, tmp: Path) -> None:
    cfg = _write(tmp / "c.yaml", "sources:\n  - name: a\n    path: contacts.csv\n")
    result = runner.invoke(cli, ["audit", str(cfg), str(tmp / "contacts.csv")])
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    def walk(group: object, prefix: list[str]) -> list[list[str]]:
        out = []
        for name, cmd in sorted(getattr(group, "commands", {}).items()):
            out.append([*prefix, name])
            out.extend(walk(cmd, [*prefix, name]))
        return out

    paths = walk(cli, [])
    assert {"audit", "run", "demo", "sources", "dedupe", "merge", "kpis", "report", "init"} <= {
        p[0] for p in paths
    }
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        if not getattr(cli.commands.get(path[0]), "commands", None) or len(path) > 1:
            assert "Example" in result.output, f"crm-audit {' '.join(path)} --help has no example"
