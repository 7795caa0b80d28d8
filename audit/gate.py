"""Gate (PLACEHOLDER, being built)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from audit.config import Thresholds
from audit.model import Scorecard, Verdict


def gate(
    scorecard: Scorecard,
    thresholds: Thresholds,
    kpi_needs: Mapping[str, Sequence[str]] | None = None,
) -> Verdict:
    reasons = []
    if scorecard.overall < thresholds.overall:
        reasons.append(f"overall {scorecard.overall:.2f} < {thresholds.overall:.2f}")
    return Verdict(passed=not reasons, reasons=tuple(reasons))
