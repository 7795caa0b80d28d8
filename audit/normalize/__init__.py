"""Normalize stage (PLACEHOLDER, being built)."""

from __future__ import annotations

from collections.abc import Sequence

from audit import schema
from audit.config import NormalizeConfig, SourceConfig
from audit.model import Issues, Records


def normalize(
    records: Records, cfg: NormalizeConfig, sources: Sequence[SourceConfig] = ()
) -> tuple[Records, Issues]:
    return dict(records), schema.empty_issues()
