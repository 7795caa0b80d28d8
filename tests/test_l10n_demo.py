"""The demo audited with output.language ko / ja / zh: what a person reads is in that language.

The check is the one a reader makes: no English sentence is left. A sentence here is three or
more English words in a row that are not part of an id, a path or an address; what the user's
own files say (names, column headers, a mail server's bounce text, file names) is data and is
allowed, so phrases found verbatim in the demo's input files are not counted. The English run
of the same workspace is the control: the same check finds plenty there.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import cli

WORD = r"[A-Za-z][a-z]+"
SENTENCE = re.compile(rf"(?<![\w.@/\\-]){WORD}(?: {WORD}){{2,}}(?![\w.@/\\-])")


class _Text(HTMLParser):
    """The text a browser shows (no style or script), one text node per line."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._hidden += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(path: Path) -> str:
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return "\n".join(p.parts)


def english_sentences(text: str, data: str) -> list[str]:
    return sorted({s for s in SENTENCE.findall(text) if s not in data})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("l10n") / "ws"
    res = CliRunner().invoke(cli, ["demo", "--dir", str(root), "--size", "150", "--generate-only"])
    assert res.exit_code == 0, res.output
    data = []
    for f in sorted((root / "data").rglob("*")):
        data.append(str(f.relative_to(root)))
        if f.is_file() and f.suffix.lower() not in (".xlsx", ".zip"):
            data.append(f.read_bytes().decode("utf-8", errors="ignore"))
    return root, "\n".join(data)


def _run(root: Path, language: str) -> tuple[str, Path]:
    text = (root / "demo.yaml").read_text(encoding="utf-8")
    cfg = root / f"demo.{language}.yaml"
    cfg.write_text(text.replace("\noutput:\n", f"\noutput:\n  language: {language}\n"), "utf-8")
    res = CliRunner().invoke(cli, ["run", str(cfg), "--out", str(root / f"runs-{language}")])
    assert res.exit_code in (0, 1), res.output  # the raw demo fails its gate on purpose
    (run_dir,) = [p for p in (root / f"runs-{language}").iterdir() if (p / "run.json").is_file()]
    return res.stdout, run_dir


@pytest.fixture(scope="module")
def english(workspace: tuple[Path, str]) -> tuple[str, Path]:
    return _run(workspace[0], "en")


def test_the_check_finds_english_in_the_english_run(workspace, english) -> None:
    _, data = workspace
    terminal, run_dir = english
    assert len(english_sentences(terminal, data)) > 5
    assert len(english_sentences((run_dir / "summary.md").read_text("utf-8"), data)) > 5
    issues = pd.read_csv(run_dir / "issues.csv", dtype=str, encoding="utf-8-sig")
    assert "message_en" not in issues.columns and "message_ko" not in issues.columns


@pytest.mark.parametrize(
    ("language", "script", "words"),
    [
        ("ko", r"[\uac00-\ud7a3]", ["품질", "게이트", "중복"]),
        ("ja", r"[\u3040-\u30ff]", ["品質", "ゲート", "重複"]),
        ("zh", r"[\u4e00-\u9fff]", ["质量", "门禁", "重复"]),
    ],
)
def test_the_demo_speaks_the_configured_language(
    workspace, english, language: str, script: str, words: list[str]
) -> None:
    root, data = workspace
    terminal, run_dir = _run(root, language)

    # the terminal summary
    assert english_sentences(terminal, data) == []
    assert all(w in terminal for w in words), terminal
    # summary.md and summary.html
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert english_sentences(md, data) == []
    page = html_text(run_dir / "summary.html")
    assert english_sentences(page, data) == []
    assert f'<html lang="{language}">' in (run_dir / "summary.html").read_text("utf-8")

    # the issues: `message` and `suggestion` stay the English the English run wrote, and
    # message_<lang> and suggestion_<lang> sit beside them
    issues = pd.read_csv(run_dir / "issues.csv", dtype=str, encoding="utf-8-sig")
    en_issues = pd.read_csv(english[1] / "issues.csv", dtype=str, encoding="utf-8-sig")
    col = f"message_{language}"
    assert list(issues.columns).index(col) == list(issues.columns).index("message") + 1
    assert issues["message"].tolist() == en_issues["message"].tolist()
    assert issues["rule_id"].tolist() == en_issues["rule_id"].tolist()
    assert issues[col].notna().sum() == issues["message"].notna().sum() > 50
    fix = f"suggestion_{language}"
    assert list(issues.columns).index(fix) == list(issues.columns).index("suggestion") + 1
    assert issues["suggestion"].tolist() == en_issues["suggestion"].tolist()
    assert issues[fix].notna().sum() == issues["suggestion"].notna().sum() > 50
    left = []
    for column in (col, fix):
        for text, value in zip(issues[column].fillna(""), issues["value"].fillna(""), strict=True):
            if not text:
                continue
            if english_sentences(text.replace(value, ""), data) or not re.search(script, text):
                left.append(text)
    assert left == []
    # the JSON a machine reads stays English (run.json is the same document whatever the language)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    en_run = json.loads((english[1] / "run.json").read_text(encoding="utf-8"))
    assert run["verdict"] == en_run["verdict"]


def test_an_english_run_folder_re_renders_in_another_language(workspace, english) -> None:
    """`crm-audit report RUN --language ja --out DIR`: the same run, read back, in Japanese."""
    root, data = workspace
    run_dir = english[1]
    out = root / "ja-copy"
    res = CliRunner().invoke(cli, ["report", str(run_dir), "--language", "ja", "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert english_sentences(md, data) == [] and "品質" in md
    issues = pd.read_csv(out / "issues.csv", dtype=str, encoding="utf-8-sig")
    assert issues["message_ja"].notna().all() and issues["message_ja"].ne(issues["message"]).all()
