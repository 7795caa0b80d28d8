"""What makes a phone number valid, and normalize's verdicts handed on to validate.

`e164_problem` is the one definition of phone validity (phonenumbers' `is_valid_number`).
normalize parses every raw number anyway and records, per E.164 string, what `e164_problem`
would answer (`PROBLEMS`); validate's phone check reads those answers instead of parsing each
number a second time (about 30 us a number). Both stages use it, so it lives below them.
"""

from __future__ import annotations

import phonenumbers

INVALID = "not a valid number for its country (wrong length or unassigned prefix)"


def e164_problem(value: str) -> str | None:
    """None when phonenumbers parses the E.164 value and says it is a valid number, else why.

    This is the definition of phone validity; module-level so a process pool can pickle it.
    """
    try:
        num = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as e:
        return str(e)
    if phonenumbers.is_valid_number(num):
        return None
    return INVALID


class ProblemCache:
    """E.164 value -> e164_problem(value), filled by normalize, read by validate.

    Keyed by the value itself, so a hit is always the library's answer for that exact string,
    whatever happened to the frame in between; misses are computed by the caller. Cleared at the
    start of each normalize run, so it holds one run's numbers at most.
    """

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {}

    def clear(self) -> None:
        self._known.clear()

    def update(self, pairs: dict[str, str | None]) -> None:
        self._known.update(pairs)

    def get(self, value: str) -> tuple[bool, str | None]:
        """(known, problem)."""
        if value in self._known:
            return True, self._known[value]
        return False, None

    def __len__(self) -> int:
        return len(self._known)


PROBLEMS = ProblemCache()
