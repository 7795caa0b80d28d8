"""crm-audit: audit, de-duplicate and score CRM customer data before reporting KPIs.

Example:
    from audit import load_config, run
    result = run(load_config("configs/example.yaml"))
    result.verdict.passed, result.scorecard.overall
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.config import PipelineConfig, load_config
from audit.errors import AuditError, ConfigError, InputError
from audit.model import Ingest, Matches, RunResult, Scorecard, Verdict

if TYPE_CHECKING:
    from audit.pipeline import analyse, config_for_paths, run

__all__ = [
    "AuditError",
    "ConfigError",
    "Ingest",
    "InputError",
    "Matches",
    "PipelineConfig",
    "RunResult",
    "Scorecard",
    "Verdict",
    "analyse",
    "config_for_paths",
    "load_config",
    "run",
]


def __getattr__(name: str) -> Any:
    # the pipeline imports every stage; load it only when asked, so `crm-audit --help` is quick
    if name in ("run", "analyse", "config_for_paths"):
        from audit import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
