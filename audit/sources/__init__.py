"""Sources stage: read every configured export into canonical frames (PLACEHOLDER, being built)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from audit import schema
from audit.config import SourceConfig
from audit.errors import InputError
from audit.model import Ingest


def read_sources(sources: Sequence[SourceConfig], *, base_dir: Path) -> Ingest:
    frames: dict[str, list[pd.DataFrame]] = {}
    counts = []
    for src in sources:
        path = Path(src.path) if Path(src.path).is_absolute() else base_dir / src.path
        if not path.exists():
            raise InputError(f"{path}: file not found (sources: {src.name}).")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        entity = src.entity or "contacts"
        df = df.rename(columns=src.columns)
        df = df[[c for c in df.columns if c in schema.mappable(entity)]]
        df.insert(0, "record_id", [f"{src.name}:{i + 1}" for i in range(len(df))])
        df["source"] = src.name
        df["source_file"] = str(path)
        df["source_row"] = range(1, len(df) + 1)
        frames.setdefault(entity, []).append(df)
        counts.append(
            {
                "source": src.name,
                "source_file": str(path),
                "entity": entity,
                "rows_read": len(df),
                "rows_ingested": len(df),
                "rows_rejected": 0,
            }
        )
    records = {e: schema.conform(pd.concat(fs, ignore_index=True), e) for e, fs in frames.items()}
    return Ingest(records=records, issues=schema.empty_issues(), counts=pd.DataFrame(counts))
