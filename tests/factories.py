"""Small conformed frames for unit tests (datasette make_app_client style)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from audit import schema


def make_frame(
    entity: str, n: int | None = None, *, source: str = "t", **columns: list[Any]
) -> pd.DataFrame:
    """A conformed `entity` frame; record ids are '<source>:1', '<source>:2', ..."""
    if n is None:
        n = max((len(v) for v in columns.values()), default=1)
    data: dict[str, list[Any]] = {k: list(v) for k, v in columns.items()}
    for k, v in data.items():
        if len(v) != n:
            raise ValueError(f"column {k} has {len(v)} values, expected {n}")
    frame = pd.DataFrame(data, index=range(n))
    frame["record_id"] = [f"{source}:{i + 1}" for i in range(n)]
    frame["source"] = source
    frame["source_file"] = f"{source}.csv"
    frame["source_row"] = list(range(1, n + 1))
    return schema.conform(frame, entity)


def make_contacts(n: int | None = None, **columns: list[Any]) -> pd.DataFrame:
    return make_frame("contacts", n, **columns)
