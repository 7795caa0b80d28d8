from __future__ import annotations

from pathlib import Path

import pytest

from audit.config import load_config
from audit.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_config_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "sources:\n  - name: crm\n    path: data/a.csv\n"))
    assert cfg.resolve(cfg.sources[0].path) == tmp_path / "data" / "a.csv"
    assert cfg.thresholds.overall == 0.8


@pytest.mark.parametrize(
    "text, fragment",
    [
        (
            "sources:\n  - name: crm\n    path: a.csv\n    sheeet: X\n",
            "line 4 (sources[0].sheeet): unknown key 'sheeet'",
        ),
        (
            "sources:\n  - name: crm\n    path: a.csv\nthresholds:\n  overall: 1.5\n",
            "line 5 (thresholds.overall)",
        ),
        (
            "sources:\n  - name: crm\n",
            "line 2 (sources[0]): give path (a file, folder or glob), or table",
        ),
        ("sources: []\n", "line 1 (sources)"),
        ("sources:\n  - name: a b\n    path: x.csv\n", "line 2 (sources[0].name)"),
        ("sources: [\n", "not valid YAML"),
        ("", "the config is empty"),
        ("- 1\n- 2\n", "must be a YAML mapping"),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert fragment in str(e.value)
    assert str(tmp_path / "cfg.yaml") in str(e.value)


def test_dimension_floors_default_merge_with_the_config_and_switch_off(tmp_path: Path) -> None:
    base = "sources:\n  - name: crm\n    path: a.csv\n"
    assert load_config(write(tmp_path, base)).thresholds.floors() == {
        "completeness": 0.8,
        "consistency": 0.9,
        "freshness": 0.8,
        "integrity": 0.95,
        "uniqueness": 0.9,
        "validity": 0.9,
    }
    cfg = load_config(
        write(
            tmp_path,
            base + "thresholds:\n  dimensions: {freshness: 0.6, integrity: null, validity: 0}\n",
        )
    )
    assert cfg.thresholds.floors() == {
        "completeness": 0.8,
        "consistency": 0.9,
        "freshness": 0.6,
        "uniqueness": 0.9,
    }
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, base + "thresholds:\n  dimensions: {validity: 90}\n"))
    assert "thresholds.dimensions" in str(e.value)


def test_run_help_states_the_default_floors() -> None:
    from click.testing import CliRunner

    from audit.cli import cli
    from audit.config import DEFAULT_FLOORS

    text = " ".join(CliRunner().invoke(cli, ["run", "--help"]).output.split())
    for dim, floor in DEFAULT_FLOORS.items():
        assert f"{dim.value} {floor:g}" in text


def test_example_config_documents_and_loads(repo: Path) -> None:
    cfg = load_config(repo / "configs" / "example.yaml")
    assert cfg.sources
