"""Reference lists of values that are not real data: placeholders, junk words, role mailboxes,
disposable, common and typo'd email domains.

The validate stage flags these values and the match stage keeps them out of blocking and
scoring ('test@test.com' is not evidence that two records are one person), so both read them
from here, below the stages. The lists themselves stay in audit/validate/data/ (the README and
the held-out evaluation point there); this module reads them as package files, without
importing the validate stage.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from audit.text import fold

_DATA = resources.files("audit").joinpath("validate", "data")


def _lines(name: str) -> list[str]:
    text = _DATA.joinpath(name).read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def domain_list(name: str) -> frozenset[str]:
    return frozenset(ln.lower() for ln in _lines(f"{name}.txt"))


@cache
def typo_map() -> dict[str, str]:
    return dict(ln.split()[:2] for ln in _lines("typo_domains.txt"))


@cache
def placeholder_lists() -> dict[str, frozenset[str]]:
    text = _DATA.joinpath("placeholders.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {k: frozenset(fold(str(v)).casefold() for v in vs) for k, vs in data.items()}


# Words that are junk even inside a longer value (a real name never contains them).
JUNK_TOKENS = frozenset(
    {"nolastname", "nofirstname", "noname", "lastname", "firstname", "asdf", "qwerty", "xxx"}
    | {"xxxx", "test", "dummy", "n/a", "unknown", "tbd", "null", "none"}
)

_PRINTABLE = [chr(c) for c in range(33, 127)]
REPEAT_ASCII = "(?:" + "|".join(re.escape(c) + "{3,}" for c in _PRINTABLE) + ")"
