"""The README documents everything that exists in code (sqlite-utils test_docs.py style)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.cli import docs

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", docs.all_commands(), ids=" ".join)
def test_every_command_is_documented(path: list[str]) -> None:
    assert f"$ crm-audit {' '.join(path)} --help" in README


def test_every_config_key_is_documented() -> None:
    for line in docs.config_reference().splitlines()[2:]:
        key = line.split("|")[1].strip()
        assert key in README, key


def test_every_exit_code_is_documented() -> None:
    from audit.errors import EXIT_CODES

    for meaning in EXIT_CODES.values():
        assert meaning in README
