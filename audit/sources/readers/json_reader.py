"""JSON exports: a list of objects, or an object holding one (`data`, `results`, ...)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from audit.errors import InputError
from audit.sources.decoding import decode
from audit.sources.readers import RawTable, ReaderOptions, Rejected, reader


def _text(v: object) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    try:
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    except RecursionError:  # pragma: no cover - the parser refuses such depth first
        return "(nested too deeply to show)"


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _split_top_array(text: str, max_depth: int) -> list[tuple[int, str, bool]] | None:
    """The items of a top-level JSON array as (line, text, too_deep), without recursion.

    Used only when the whole document is nested too deeply for the parser: the valid records
    beside one hostile item are still read, and that item alone is rejected.
    """
    start = text.find("[")
    if start < 0 or text[:start].strip():
        return None
    items: list[tuple[int, str, bool]] = []
    depth, item_start, deepest = 0, start + 1, 0
    for m in _TOKENS.finditer(text, start):
        tok = m.group(0)
        if tok in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif tok in "]}":
            depth -= 1
            if depth == 0:  # the end of the top array
                piece = text[item_start : m.start()]
                if piece.strip():
                    line = text.count("\n", 0, item_start) + 1
                    items.append((line, piece, deepest - 1 > max_depth))
                return items
        elif tok == "," and depth == 1:
            line = text.count("\n", 0, item_start) + 1
            items.append((line, text[item_start : m.start()], deepest - 1 > max_depth))
            item_start, deepest = m.end(), 1
    return None


def _int(digits: str) -> int | str:
    """An integer as a number, or as its text when longer than Python converts (4,300 digits):
    a 5,000-digit "id" is kept, never an internal error."""
    return int(digits) if len(digits) <= 4000 else digits


def _loads(text: str) -> object:
    return json.loads(text, parse_int=_int)


def _loads_item(piece: str, line: int, too_deep: bool, max_depth: int) -> object:
    if too_deep:
        return Rejected(
            0, line, "source.row.too_deep", f"nested deeper than {max_depth} levels", piece[:200]
        )
    try:
        return _loads(piece)
    except (json.JSONDecodeError, RecursionError) as e:
        return Rejected(0, line, "source.row.unparseable", str(e)[:200], piece[:200])


@reader("json", suffixes=(".json", ".jsonl", ".ndjson"))
def read_json(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Records as rows; nested values kept as JSON text; non-object items rejected."""
    data = path.read_bytes()
    if not data.strip():
        yield RawTable(frame=pd.DataFrame(), reader="json", warnings=["file is empty"])
        return
    text = decode(data, encoding=opts.encoding, file=str(path), where=opts.where).text
    items: list[object]
    rejected: list[Rejected] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        items = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(_loads(line))
            except json.JSONDecodeError as e:
                items.append(Rejected(0, i, "source.row.unparseable", str(e), line[:200]))
            except RecursionError:
                depth = opts.limits.max_nesting
                items.append(_loads_item(line, i, True, depth))
    else:
        try:
            doc = _loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: is not valid JSON (line {e.lineno}: {e.msg}).") from None
        except RecursionError:
            depth = opts.limits.max_nesting
            parts = _split_top_array(text, depth)
            if parts is None:
                raise InputError(
                    f"{path}: is nested too deeply to read (more than {depth} levels, "
                    "limits.max_nesting) and is not a list of records."
                ) from None
            doc = [_loads_item(piece, line, deep, depth) for line, piece, deep in parts]
        if isinstance(doc, dict):
            lists = [v for v in doc.values() if isinstance(v, list)]
            doc = lists[0] if len(lists) == 1 else [doc]
        if not isinstance(doc, list):
            raise InputError(f"{path}: holds no list of records.")
        items = doc
    rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    header: dict[str, None] = {}
    for n, item in enumerate(items, start=1):
        if isinstance(item, Rejected):
            rejected.append(Rejected(n, item.line, item.rule, item.reason, item.value))
        elif isinstance(item, dict):
            row = {str(k): _text(v) for k, v in item.items()}
            header.update(dict.fromkeys(row))
            rows.append(row)
            numbers.append(n)
        else:
            rejected.append(
                Rejected(
                    n, None, "source.row.not_object", "item is not an object", _text(item) or ""
                )
            )
    frame = pd.DataFrame(rows, columns=list(header), dtype=object)
    frame = frame.where(frame.notna(), None)
    yield RawTable(
        frame=frame, source_row=numbers, rejected=rejected, reader="json", encoding="utf-8"
    )
