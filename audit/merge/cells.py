"""Cell text for the merge files: the report's formula guard, and display text of values.

Neutralization is the run folder's own rule (audit.safe), so values read back from
`records/contacts.csv` and from the proposals round-trip through the same function.
"""

from __future__ import annotations

from typing import Any

from audit.safe import neutralize, unneutralize

__all__ = ["as_text", "neutralize", "unneutralize"]


def as_text(value: Any) -> str:
    """A cell value as display text: '' for missing, ISO for timestamps, no float noise."""
    if value is None:
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
