"""Merge stage: review proposals, apply reviewed merges, undo them from the merge log."""

from __future__ import annotations

from audit.merge.apply import MergeResult, UndoResult, apply_merge, undo_merge
from audit.merge.decisions import Decision, read_decisions
from audit.merge.review import write_review

__all__ = [
    "Decision",
    "MergeResult",
    "UndoResult",
    "apply_merge",
    "read_decisions",
    "undo_merge",
    "write_review",
]
