"""Score stage (PLACEHOLDER, being built)."""

from __future__ import annotations

import pandas as pd

from audit.config import Thresholds
from audit.model import Issues, Matches, Records, Scorecard


def score(records: Records, issues: Issues, matches: Matches, cfg: Thresholds) -> Scorecard:
    empty = pd.DataFrame()
    return Scorecard(
        overall=1.0,
        by_dimension=empty,
        by_source=empty,
        by_owner=empty,
        by_record=empty,
    )
