"""JSON exports: a list of objects, or an object holding one (`data`, `results`, ...)."""

from __future__ import annotations

import json
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
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


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
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                items.append(Rejected(0, i, "source.row.unparseable", str(e), line[:200]))
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: is not valid JSON (line {e.lineno}: {e.msg}).") from None
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
