"""Match stage (PLACEHOLDER, being built)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from audit.config import MatchConfig, SourceConfig
from audit.model import Matches


def match(
    contacts: pd.DataFrame | None,
    cfg: MatchConfig,
    sources: Sequence[SourceConfig] = (),
) -> Matches:
    pairs = pd.DataFrame(columns=["record_id_l", "record_id_r", "score", "band", "rule_id"])
    clusters = pd.DataFrame(columns=["cluster_id", "record_id", "is_survivor"])
    return Matches(pairs=pairs, clusters=clusters)
