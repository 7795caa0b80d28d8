"""The only exceptions that reach the CLI, each carrying its exit code.

Findings about the *data* are never exceptions: they are rows of the Issues table. These
errors are for things that stop a run: a bad config (2), an input that cannot be read at all
(3). Anything else that escapes is a bug and the CLI maps it to 4.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error the CLI turns into a one-line message and an exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(AuditError):
    """A config, rule pack or profile is wrong: names file, line, key and what was expected."""

    exit_code = 2


class InputError(AuditError):
    """A source file cannot be read at all (missing, undecodable, corrupt, encrypted)."""

    exit_code = 3


EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok: the run finished and the quality gate passed (or no gate was asked for)",
    EXIT_GATE_FAILED: "gate failed: the data is below a configured quality threshold",
    EXIT_USAGE: "usage or config error: a bad option, config key, rule pack or profile",
    EXIT_INPUT: "unreadable input: a source file is missing, corrupt or cannot be decoded",
    EXIT_INTERNAL: "internal error: a bug; re-run with --debug and report it",
}
